#!/usr/bin/env bash
# Builds a real kube-apiserver (and kube-controller-manager) from Debian's `kubernetes` source package,
# following ../shared/reference/kube-apiserver/README.md, and caches the binaries outside the checkout.
# Prints the directory holding the binaries on its last line.
set -euo pipefail

K8S_VERSION="1.20.2"
# Bump when the local patches below change, so cached builds are rebuilt.
PATCH_LEVEL="p2"
CACHE_ROOT="${ANVIL_CACHE_DIR:-$HOME/.cache/anvil}"
OUT="$CACHE_ROOT/k8s-$K8S_VERSION-$PATCH_LEVEL"

log() { echo "[build-kube-apiserver] $*" >&2; }

if [[ -x "$OUT/kube-apiserver" && -x "$OUT/kube-controller-manager" ]] && command -v etcd >/dev/null; then
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
log "building kube-apiserver and kube-controller-manager (a few minutes)"
GOPATH="$PWD/.go" PATH="/usr/lib/go-1.19/bin:$PATH" CGO_ENABLED=0 HOME="$WORK/home" GOFLAGS= \
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >&2

mkdir -p "$OUT"
cp _output/bin/kube-apiserver _output/bin/kube-controller-manager "$OUT/"
cd "$CACHE_ROOT"
rm -rf "$WORK"
log "built: $OUT"
echo "$OUT"
