#!/usr/bin/env bash
# Starts the anvil demo: installs what is needed (scripts/setup.sh, one line per step), then runs scripts/demo.ts
# with the project's Node 24 (Ctrl-C stops everything).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
bash scripts/setup.sh
require_project_node "$PWD"
exec node_modules/.bin/node --conditions=anvil-source --import tsx scripts/demo.ts "$@"
