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
rm -f .tmp/jest-results.json
# jest must exit by itself (no open handles, no --forceExit): once it has written its results it gets a minute, then it
# is stopped and the run fails with a message, instead of hanging until CI's time limit.
NODE_OPTIONS=--experimental-vm-modules jest --runInBand --json --outputFile=.tmp/jest-results.json "$@" &
jest_pid=$!
hung=
while kill -0 "$jest_pid" 2>/dev/null; do
  if [[ -f .tmp/jest-results.json ]] && (($(date +%s) - $(stat -c %Y .tmp/jest-results.json) > 60)); then
    echo "jest did not exit within 60 s of finishing: a test left something open (run the suspects with --detectOpenHandles)" >&2
    kill -TERM "$jest_pid" 2>/dev/null || true
    hung=1
    break
  fi
  sleep 2
done
wait "$jest_pid" || status=$?
[[ -z $hung ]] || status=1
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
