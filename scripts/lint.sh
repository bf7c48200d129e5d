#!/usr/bin/env bash
# Lint tier: yamllint, ansible-lint (production profile), ruff, and the built collection artifact
# (scripts/check-artifact.sh). Runs them all, fails if any fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="${VENV:-$PWD/.venv}/bin:$PATH"
rc=0
echo "--- yamllint"; yamllint -s . || rc=1
echo "--- ansible-lint"; ansible-lint --profile production --offline || rc=1
echo "--- ruff check"; ruff check . || rc=1
echo "--- ruff format --check"; ruff format --check . || rc=1
echo "--- artifact"; scripts/check-artifact.sh || rc=1
exit $rc
