#!/usr/bin/env bash
# Starts the anvil demo: installs what is needed, then runs scripts/demo.ts (Ctrl-C stops everything).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/node --import tsx scripts/demo.ts "$@"
