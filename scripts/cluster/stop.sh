#!/usr/bin/env bash
# Stops a cluster started by scripts/cluster/start.sh RUN_DIR: its components by recorded pid, its pods (the processes
# in its own cgroup root), the containerd shims and anything else in its namespaces; removes its cgroups; and, when it
# is the last running cluster on the machine, puts back the sysctls the kubelet changed. Safe to run more than once
# and on a half-started cluster. Never touches processes of another cluster.
# Usage: stop.sh RUN_DIR [--purge]   (--purge also deletes RUN_DIR)
set -uo pipefail

D=$(realpath -m "${1:?usage: stop.sh RUN_DIR [--purge]}")
PURGE=${2:-}
ID=$(basename "$D" | tr -c 'a-zA-Z0-9_\n-' '-')
CGROUP_ROOT="/anvil-$ID"
REGISTRY=/run/anvil-clusters

log() { echo "[cluster/stop $(date +%T)] $*" >&2; }
# the recorded pid of NAME if that process is still ours: a pid file can outlive its process and the pid be reused
pid_of() {
  local p
  [[ -s $D/pids/$1 ]] || return 1
  p=$(cat "$D/pids/$1")
  if [[ $1 == holder ]]; then
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == sleep && $(readlink "/proc/$p/ns/net") != "$(readlink /proc/self/ns/net)" ]]
  else
    # every other process started for the cluster names its run directory on its command line
    tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$D"
  fi || return 1
  echo "$p"
}
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
# stop_pids SECONDS NAME...: TERM to all at once, KILL to those still there after SECONDS
stop_pids() {
  local secs=$1 name p i pids=() left
  shift
  for name in "$@"; do
    p=$(pid_of "$name") && alive "$p" && kill -TERM "$p" 2>/dev/null && pids+=("$p:$name")
    rm -f "$D/pids/$name"
  done
  for ((i = 0; i < secs * 5; i++)); do
    left=()
    for p in "${pids[@]}"; do alive "${p%%:*}" && left+=("$p"); done
    ((${#left[@]})) || return 0
    sleep 0.2
  done
  for p in "${left[@]}"; do
    log "${p#*:} (${p%%:*}) ignored TERM for $secs s, killing it"
    kill -KILL "${p%%:*}" 2>/dev/null
  done
}
# the processes of this cluster's pods: everything in its cgroup root (any v1 hierarchy holds them all)
pod_pids() {
  local ctl
  for ctl in /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup/cpu; do
    [[ -d $ctl$CGROUP_ROOT ]] || continue
    find "$ctl$CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null
    return
  done
}
# PIDs (but the holder's) in the namespace of KIND (mnt, net) that the holder is in; one stat for all processes
pids_in_ns() {
  local ino
  ino=$(stat -L -c %i "/proc/$H/ns/$1") || return 0
  stat -L -c '%i %n' /proc/[0-9]*/ns/"$1" 2>/dev/null |
    awk -v ino="$ino" -v holder="$H" -v self=$$ '$1 == ino { split($2, a, "/"); if (a[3] != holder && a[3] != self) print a[3] }'
}

[[ -d $D ]] || { log "$D does not exist"; exit 0; }
# the watchdog runs this script itself when its owner dies: stop it only when someone else is stopping the cluster
# (a process group of its own: its `sleep` goes with it)
wd=$(pid_of watchdog) && [[ $wd != $$ ]] && alive "$wd" && kill -- "-$wd" 2>/dev/null
rm -f "$D/pids/watchdog"

H=$(pid_of holder || true)
alive "$H" || H=""

# kubelet first, so it does not restart what is being stopped
stop_pids 10 kubelet
for sig in TERM KILL; do
  p=$(pod_pids)
  [[ -z $p ]] && break
  log "sending $sig to $(echo $p | wc -w) pod processes"
  kill -$sig $p 2>/dev/null
  for _ in $(seq 20); do [[ -z $(pod_pids) ]] && break; sleep 0.25; done
done
stop_pids 15 kube-proxy kube-scheduler kube-controller-manager containerd kube-apiserver etcd apiserver-forward
# containerd shims outlive containerd, and socat's per-connection nsenter/socat live in the namespaces too
if [[ -n $H ]]; then
  left=$( (pids_in_ns mnt; pids_in_ns net) | sort -u)
  if [[ -n $left ]]; then
    log "killing what is left in the cluster's namespaces: $(for p in $left; do cat /proc/$p/comm 2>/dev/null; done | sort | uniq -c | xargs)"
    kill -KILL $left 2>/dev/null
  fi
fi
# the namespaces (cni0, iptables rules, the tmpfs over /run, pod netns files) go away with their last process
stop_pids 5 holder

# cgroups, deepest first (a cgroup can only be removed once its processes have gone)
for ctl in /sys/fs/cgroup/*/; do
  [[ -d $ctl$CGROUP_ROOT ]] || continue
  for _ in $(seq 20); do
    find "$ctl$CGROUP_ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null
    [[ -d $ctl$CGROUP_ROOT ]] || break
    sleep 0.25
  done
  [[ -d $ctl$CGROUP_ROOT ]] && log "could not remove $ctl$CGROUP_ROOT"
done

# the kubelet's machine-wide sysctls: restored when no other cluster is running (the registry's lock is /run itself,
# so the registry directory can go with the last cluster)
(
  flock 8
  [[ -d $REGISTRY ]] || exit 0
  rm -f "$REGISTRY/$ID.cluster"
  for f in "$REGISTRY"/*.cluster; do
    [[ -e $f ]] || continue
    [[ $(cat "/proc/$(cat "$f")/comm" 2>/dev/null) == sleep ]] || rm -f "$f"
  done
  compgen -G "$REGISTRY/*.cluster" >/dev/null && exit 0
  if [[ -s $REGISTRY/sysctl-before.txt ]]; then
    while IFS='=' read -r k v; do
      [[ $(sysctl -n "$k") == "$v" ]] || { sysctl -qw "$k=$v" && log "restored $k=$v"; }
    done < "$REGISTRY/sysctl-before.txt"
  fi
  rm -rf "$REGISTRY"
) 8</run

if [[ $PURGE == --purge ]]; then
  rm -rf "$D" || log "could not remove $D"
fi
log "stopped $D"
