#!/usr/bin/env bash
# Installs the Debian packages the single-node test cluster and its image builds need (npm run test:cluster).
# Nothing is enabled or started system-wide: packages like containerd ship systemd units, and any "wants" link the
# installation adds is removed again (the cluster starts its own containerd inside a private namespace).
set -euo pipefail

# runtime: containerd + runc, the CNI bridge/host-local/portmap plugins, iptables (kube-proxy, CNI masquerade),
# conntrack (kube-proxy), socat (the apiserver forwarder on the host's loopback), nsenter/unshare (util-linux)
# images: Go 1.19 (the pause program), buildah, debootstrap (the local node:24-slim stand-in), busybox-static (the busybox image)
PACKAGES=(golang-1.19-go containerd runc containernetworking-plugins iptables conntrack socat util-linux iproute2 openssl
  buildah debootstrap busybox-static ca-certificates)

log() { echo "[cluster/install-packages] $*" >&2; }

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

wants_before=$(find /etc/systemd/system -name '*.wants' -type d -exec find {} -mindepth 1 -maxdepth 1 \; 2>/dev/null | sort)
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# waits for another apt (an engineer's, unattended-upgrades) instead of failing on its lock
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
wants_after=$(find /etc/systemd/system -name '*.wants' -type d -exec find {} -mindepth 1 -maxdepth 1 \; 2>/dev/null | sort)
comm -13 <(echo "$wants_before") <(echo "$wants_after") | while read -r link; do
  [[ -n $link ]] || continue
  log "removing $link (created by the installation; nothing runs system-wide)"
  rm -f "$link"
done
