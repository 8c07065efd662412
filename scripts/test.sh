#!/usr/bin/env bash
# The whole test suite on a fresh machine: setup, type check, lint, unit and integration tests
# (integration tests run against a real etcd + kube-apiserver on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=lib/node.sh
source scripts/lib/node.sh
require_project_node "$PWD"

export PATH="$PWD/node_modules/.bin:$PATH"
echo "== typecheck" >&2
npx tsc --noEmit -p .
echo "== lint" >&2
npx eslint .
mkdir -p .tmp
echo "== jest" >&2
status=0
NODE_OPTIONS=--experimental-vm-modules npx jest --runInBand --forceExit --json --outputFile=.tmp/jest-results.json "$@" || status=$?
node -e '
const r = require("./.tmp/jest-results.json");
const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
console.log(`jest: ${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
if (failed > 0 || !r.success) process.exit(1);
' || status=1
# A real single-node cluster (kubelet + containerd) running anvil's image and chart as pods: issue 20.
echo "== cluster" >&2
npm run test:cluster || status=1
exit $status
