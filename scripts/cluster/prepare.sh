#!/usr/bin/env bash
# What `npm run test:cluster` needs before jest starts, each piece cached under ~/.cache/anvil: the Debian packages,
# the six Kubernetes binaries (skipped when ANVIL_K8S_BIN points at another release), the base images and the
# project's image localhost/anvil:$ANVIL_CLUSTER_IMAGE_TAG (default: test) from the checkout's Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/../.."

timed() { # WHAT CMD...
  local what=$1 s=$SECONDS; shift
  "$@" >/dev/null
  echo "[cluster/prepare] $what: $((SECONDS - s)) s" >&2
}
timed "Debian packages" bash scripts/cluster/install-packages.sh
if [[ -n ${ANVIL_K8S_BIN:-} ]]; then
  echo "[cluster/prepare] Kubernetes binaries from ANVIL_K8S_BIN=$ANVIL_K8S_BIN" >&2
else
  timed "Kubernetes binaries" bash scripts/build-kube-apiserver.sh
fi
timed "images" bash scripts/cluster/build-images.sh --anvil "${ANVIL_CLUSTER_IMAGE_TAG:-test}"
