#!/usr/bin/env bash
# Builds the Kubernetes binaries anvil's tests run (kube-apiserver, kube-controller-manager, and for the single-node
# cluster of `npm run test:cluster` also kubelet, kube-scheduler, kube-proxy and kubectl) from Debian's `kubernetes`
# source package, following ../shared/reference/kube-apiserver/README.md, in one `make`, and caches them outside the
# checkout. Installs Debian's etcd-server too.
# Prints the directory holding the binaries on its last line.
set -euo pipefail

K8S_VERSION="1.20.2"
# Bump when the local patches or the set of binaries below change, so cached builds are rebuilt.
# Must match K8S_PATCH_LEVEL in test/harness/control-plane.ts.
PATCH_LEVEL="p3"
BINARIES=(kube-apiserver kube-controller-manager kubelet kube-scheduler kube-proxy kubectl)
CACHE_ROOT="${ANVIL_CACHE_DIR:-$HOME/.cache/anvil}"
OUT="$CACHE_ROOT/k8s-$K8S_VERSION-$PATCH_LEVEL"

log() { echo "[build-kube-apiserver] $*" >&2; }

cached() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$OUT/$b" ]] || return 1; done
  command -v etcd >/dev/null
}

if cached; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

# Two checkouts (or setup.sh and test:cluster) may ask at once: one builds, the other waits and finds the cache.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/k8s-build.lock"
flock 9
if cached; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if [[ ! -f /etc/apt/sources.list.d/anvil-debsrc.sources ]]; then
  cat > /etc/apt/sources.list.d/anvil-debsrc.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
log "apt-get update"
apt-get update -qq >&2
log "installing build dependencies"
apt-get install -y -qq --no-install-recommends golang-1.19-go make rsync etcd-server \
  golang-github-modern-go-reflect2-dev dpkg-dev >&2

WORK="$CACHE_ROOT/build-$K8S_VERSION"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
log "fetching the kubernetes source package"
apt-get source --download-only kubernetes >&2
tarball=$(ls kubernetes_*.orig.tar.* | head -1)
tar xf "$tarball"
SRC_DIR=$(ls -d kubernetes-*/ | head -1)
cd "$SRC_DIR"

# The vendored reflect2 1.0.1 segfaults when built with Go >= 1.18; use Debian's 1.0.2.
R2=vendor/github.com/modern-go/reflect2
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$R2/"
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.s "$R2/" 2>/dev/null || true
rm -f "$R2/go_above_17.go" "$R2/go_below_17.go" "$R2/go_below_19.go"

# Built with Go >= 1.16, the vendored OpenAPI type validator treats "", 0 and false as null and rejects them
# ("must be of type string: null"): kubernetes/kubernetes#99804, fixed upstream by kube-openapi#230. Apply that fix.
for f in vendor/github.com/go-openapi/validate/type.go vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go; do
  sed -i 's/if data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data)) {/if data == nil {/' "$f"
  grep -q 'if data == nil {' "$f" || { log "patch for $f did not apply"; exit 1; }
done

mkdir -p .go/src/k8s.io
ln -sfn ../../.. .go/src/k8s.io/kubernetes
mkdir -p "$WORK/home"
what=()
for b in "${BINARIES[@]}"; do what+=("cmd/$b"); done
log "building ${BINARIES[*]} (about 7-12 minutes on 2 cores)"
started=$SECONDS
GOPATH="$PWD/.go" PATH="/usr/lib/go-1.19/bin:$PATH" CGO_ENABLED=0 HOME="$WORK/home" GOFLAGS= \
  make WHAT="${what[*]}" >&2
log "make took $((SECONDS - started)) s"

# Copied to a temporary directory and renamed, so an interrupted copy never looks like a complete cache.
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
for b in "${BINARIES[@]}"; do cp "_output/bin/$b" "$OUT.tmp/"; done
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
cd "$CACHE_ROOT"
rm -rf "$WORK"
log "built: $OUT"
echo "$OUT"
