#!/usr/bin/env bash
# The README's first command: set up what is missing, then run the story end to end on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
HINDSIGHT_SKIP_BROWSER=1 bash scripts/setup.sh
exec node packages/cli/dist/bin.js demo "$@"
