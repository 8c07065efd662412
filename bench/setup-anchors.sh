#!/usr/bin/env bash
# Unpacks the servers the benchmarks compare anvil with (the "anchors") into a cache outside the checkout, without
# installing them: tftpd-hpa and atftpd conflict as Debian packages, and an installed package would start a system
# service on port 69/80. `apt-get download` + `dpkg -x` gives the binaries only. Idempotent, keyed by the candidate
# versions; prints the anchor directory on stdout. dnsmasq (dnsmasq-base), wrk and the TFTP clients come from
# scripts/setup.sh, which runs this script too. `--check` only says whether the anchors are there (exit 1 if not),
# without the network.
#
# Packages: tftpd-hpa (in.tftpd), atftpd, nginx (Debian 12's nginx-light is a transitional package for it), and
# libwrap0, which both TFTP servers link against (found through LD_LIBRARY_PATH, not installed).
set -euo pipefail

log() { echo "[bench-anchors] $*" >&2; }
pkgs=(tftpd-hpa atftpd nginx libwrap0)
cache="${ANVIL_CACHE_DIR:-$HOME/.cache/anvil}/bench-anchors"

# One apt-cache call (each takes a second here): "pkg=candidate;" per package, "(none)" or empty when unknown.
versions() {
  local policy key=""
  policy="$(apt-cache policy "${pkgs[@]}" 2>/dev/null)"
  for p in "${pkgs[@]}"; do
    key+="$p=$(awk -v p="$p:" '$1 == p { found = 1; next } /^[^ ]/ { found = 0 } found && /Candidate:/ { print $2; exit }' <<<"$policy");"
  done
  echo "$key"
}

missing() { [[ "$1" == *"=;"* || "$1" == *"=(none);"* ]]; }
check_bins() {
  for bin in usr/sbin/in.tftpd usr/sbin/atftpd usr/sbin/nginx; do
    [[ -x "$1/root/$bin" ]] || { log "missing $bin in $1"; return 1; }
  done
}

key="$(versions)"
if [[ "${1:-}" == --check ]]; then
  dir="$cache/$(echo "$key" | sha256sum | cut -c1-12)"
  if missing "$key" || [[ ! -f "$dir/.complete" ]] || ! check_bins "$dir"; then
    log "anchors not unpacked: run 'bash bench/setup-anchors.sh' (or 'bash scripts/setup.sh')"
    exit 1
  fi
  echo "$dir"
  exit 0
fi
if missing "$key"; then
  log "refreshing the package lists"
  apt-get update -qq >&2
  key="$(versions)"
fi
if missing "$key"; then
  log "cannot find every anchor package in the apt sources: $key"
  exit 1
fi
dir="$cache/$(echo "$key" | sha256sum | cut -c1-12)"

if [[ ! -f "$dir/.complete" ]]; then
  log "unpacking ${pkgs[*]} into $dir"
  tmp="$dir.tmp-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/debs" "$tmp/root"
  (cd "$tmp/debs" && apt-get download -qq "${pkgs[@]}" >/dev/null)
  for deb in "$tmp"/debs/*.deb; do dpkg -x "$deb" "$tmp/root"; done
  rm -rf "$tmp/debs"
  echo "$key" >"$tmp/versions"
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
fi

check_bins "$dir"
echo "$dir"
