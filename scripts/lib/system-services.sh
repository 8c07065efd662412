# shellcheck shell=bash
# Installing Debian packages must not enable or start anything system-wide: etcd-server, containerd and friends ship
# systemd units that their postinst enables (a link under /etc/systemd/system/*.wants/) and starts. anvil runs its own
# etcd, containerd, dnsmasq... in its tests and demo, and stops them.
#
#   without_system_services COMMAND...
#
# runs COMMAND with a policy-rc.d that denies every service start (invoke-rc.d and deb-systemd-invoke ask it), then
# removes the "wants"/"requires" links that appeared meanwhile: what `systemctl disable` does, without needing a running
# systemd. Links that were there before are left alone, and so is a policy-rc.d that is not ours (a container's own
# usually denies starts already). The dpkg state is untouched: an upgrade sees the unit disabled and keeps it so.
# ANVIL_SYSTEMD_DIR and ANVIL_POLICY_RC_D move the two paths (tests).

SYSTEM_SERVICES_MARKER="anvil: temporary policy-rc.d"

# Links that make a unit start at boot.
system_unit_links() {
  local dir=$1
  [[ -d $dir ]] || return 0
  find "$dir" -mindepth 2 -maxdepth 2 -type l \( -path '*.wants/*' -o -path '*.requires/*' \) 2>/dev/null | sort
}

without_system_services() (
  dir=${ANVIL_SYSTEMD_DIR:-/etc/systemd/system}
  policy=${ANVIL_POLICY_RC_D:-/usr/sbin/policy-rc.d}
  before=$(system_unit_links "$dir")
  ours=0
  # A policy-rc.d left by an interrupted run of ours is replaced (and removed) like a missing one. Without the right
  # to write it (not root) there is nothing this run could install either.
  if [[ -w $(dirname "$policy") ]] && { [[ ! -e $policy ]] || grep -qF "$SYSTEM_SERVICES_MARKER" "$policy" 2>/dev/null; }; then
    printf '#!/bin/sh\n# %s: no service starts while anvil installs packages. Removed when the install ends.\nexit 101\n' \
      "$SYSTEM_SERVICES_MARKER" >"$policy.anvil-$$"
    chmod 755 "$policy.anvil-$$"
    mv -f "$policy.anvil-$$" "$policy"
    ours=1
  fi
  restore() {
    ((ours)) && rm -f "$policy"
    local link unit
    while IFS= read -r link; do
      [[ -n $link ]] || continue
      unit=$(basename "$link")
      rm -f -- "$link"
      echo "removed $link (the package enabled $unit at boot; anvil starts what it needs itself)" >&2
      if declare -F step_note >/dev/null; then
        step_note "$unit left disabled: the package enabled it at boot, anvil starts its own when it needs one"
      fi
    done < <(comm -13 <(printf '%s\n' "$before") <(system_unit_links "$dir"))
  }
  trap restore EXIT
  "$@"
)
