#!/usr/bin/env bash
# Runs every test (installs the system packages they need first). The end-to-end test builds a real
# GPT workspace in release mode and runs a few experiments of a few seconds on the Shakespeare data.
# The Slurm tests need a running cluster: slurm-cluster.sh installs and starts a single-node one (root).
# The local-model test needs llama.cpp's server and a small model: llama-server.sh installs both from PyPI.
# The MLflow export test needs MLflow's tracking server: mlflow-server.sh installs it from PyPI.
# The dashboard's browser test needs headless Chromium: browser.sh installs Debian's chromium and Selenium.
# The Optuna researcher's tests need its environment: optuna-env.sh installs it from PyPI (the harness would on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
./scripts/slurm-cluster.sh   # the single-node Slurm cluster the Slurm tests submit to
eval "$(./scripts/llama-server.sh)"   # llama.cpp's server and a small model, for the local-model researcher test
eval "$(./scripts/mlflow-server.sh)"  # MLflow's tracking server (PyPI), which the MLflow export test starts and stops
eval "$(./scripts/browser.sh)"        # headless Chromium and chromedriver (Debian) with Selenium (PyPI), for the dashboard's browser test
./scripts/optuna-env.sh               # the Optuna researcher's environment (PyPI), which its tests use
swift build --build-tests
# The tests that build and train the real subjects, run a local LLM or install packages (pip, in the install sandbox)
# keep both cores busy for minutes; the swarm
# and timeout tests measure slot use and time limits (the Optuna researcher's real-sidecar suite takes about a minute). Run the heavy ones after the others, not beside them. Two suites
# run alone: the PyTorch subject's (torch's two OpenMP threads crawl when other suites hold the cores: once its 40
# steps ran past 120 s) and, last, the attack suite, whose runs must finish within 3 s of grace.
heavy='GPTEndToEndTests|AdoptTests|LlamaCppServerTests|TensorCoreTemplateTests|OptunaResearcherTests|InstallSandboxTests'
torch='PyTorchSubjectTests'
alone='TrustedEvaluationTests'
# The dashboard's suites run together, apart from the rest: the browser test runs headless Chromium (a few seconds of
# both cores), so it neither slows the timing-sensitive suites nor waits on them; the API suite's live-update test waits
# on the server's poller, which a full parallel suite on two cores once starved past its 20 s (CI, a loaded machine).
browser='DashboardBrowserTests|DashboardAPITests'
swift test --skip-build --skip "$heavy|$torch|$alone|$browser" "$@"
swift test --skip-build --filter "$browser" "$@"
swift test --skip-build --filter "$heavy" "$@"
swift test --skip-build --filter "$torch" "$@"
swift test --skip-build --filter "$alone" "$@"
# Run as root (CI, containers), the sandbox and attack suites run once more as an unprivileged user.
./scripts/unprivileged-tests.sh
