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
# The corpus root prepared (pip would be refused Debian's system Python for this user): a copy the user owns.
cache="$home/.cache/autoresearch"
mkdir -p "$cache"
cp -a "${AUTORESEARCH_CACHE:-$HOME/.cache/autoresearch}/." "$cache/"
chown -R "$user:$user" "$home"
git config --system --get user.email >/dev/null 2>&1 || { git config --system user.email "autoresearch@localhost"; git config --system user.name "autoresearch"; }
run() {
  su -s /bin/sh "$user" -c "cd '$PWD' && HOME='$home' PATH='$PATH' OPENBLAS_CORETYPE='${OPENBLAS_CORETYPE:-}' OPENBLAS_L2_SIZE='${OPENBLAS_L2_SIZE:-}' \
    '$bin' --testing-library swift-testing --filter '$1'"
}
echo "unprivileged-tests: the sandbox suite as $user (uid $(id -u "$user"))"
run 'SandboxTests|SplitLeakIndexTests'
echo "unprivileged-tests: the attack suite as $user"
run 'TrustedEvaluationTests'
