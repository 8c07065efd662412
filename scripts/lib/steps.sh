# shellcheck shell=bash
# Steps of anvil's setup scripts: one line per step on stderr, the step's whole output in a log file.
# On a terminal a running step is one updating line (spinner, elapsed time, the usual duration); without one (CI) a
# long step prints plain "still running" lines. A failed step ends the script with its name, the log's path and the
# log's last lines.
#
#   source scripts/lib/steps.sh
#   steps_begin setup                         # log: ${ANVIL_CACHE_DIR:-~/.cache/anvil}/logs/setup-<time>.log
#   step npm "npm packages (npm ci)" --estimate 120 -- npm ci
#   step kube "Kubernetes binaries" --cached-when '^\[build\] cached:' -- bash build.sh
#   step_done apt "Debian packages" "already installed"     # a step with nothing to do
#   steps_end                                 # "setup complete in 3s: everything was already in place"
#
# A step's command runs in a subshell with `set -e`, stdin from /dev/null, stdout and stderr to the log.
# Environment: ANVIL_SETUP_FAIL=<step id> makes that step fail (to see what a failure looks like);
# ANVIL_STEPS_TTY=1|0 forces the terminal or the plain form; ANVIL_STEPS_LOG_DIR moves the logs.

STEPS_NAME=""
STEPS_LOG=""
STEPS_STARTED=0
STEPS_WORKED=0
STEPS_PROGRESS_PID=""
STEPS_CURRENT=""
STEPS_TAIL_LINES=30
# Plain form: the first "still running" line after this many seconds, then one every STEPS_HEARTBEAT_EVERY.
STEPS_HEARTBEAT_FIRST=${STEPS_HEARTBEAT_FIRST:-10}
STEPS_HEARTBEAT_EVERY=${STEPS_HEARTBEAT_EVERY:-60}

if [[ ${LC_ALL:-${LC_CTYPE:-${LANG:-}}} =~ [Uu][Tt][Ff]-?8 ]]; then
  STEPS_OK="✓" STEPS_FAILED="✗" STEPS_SPIN=(⠋ ⠙ ⠹ ⠸ ⠼ ⠴ ⠦ ⠧ ⠇ ⠏)
else
  STEPS_OK="ok" STEPS_FAILED="FAILED" STEPS_SPIN=('-' '\' '|' '/')
fi

steps_tty() {
  case ${ANVIL_STEPS_TTY:-} in
    1) return 0 ;;
    0) return 1 ;;
  esac
  [[ -t 2 ]]
}

steps_now() { printf '%(%s)T' -1; }

# 42s, 3m05s, 10m, 1h02m.
steps_duration() {
  local s=$1
  if ((s < 60)); then
    printf '%ds' "$s"
  elif ((s < 3600)); then
    if ((s % 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%dm' $((s / 60)); fi
  else
    printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
  fi
}

# A log path shown to people: ~ for $HOME.
steps_show_path() {
  local p=$1
  [[ -n ${HOME:-} && $p == "$HOME"/* ]] && p="~${p#"$HOME"}"
  printf '%s' "$p"
}

steps_say() { printf '%s\n' "$*" >&2; }

# Opens the log (keeping the 20 newest of this name) and arranges for the progress line to stop on any exit.
steps_begin() {
  STEPS_NAME=$1
  local dir=${ANVIL_STEPS_LOG_DIR:-${ANVIL_CACHE_DIR:-$HOME/.cache/anvil}/logs}
  mkdir -p "$dir"
  STEPS_LOG="$dir/$STEPS_NAME-$(printf '%(%Y%m%d-%H%M%S)T' -1)-$$.log"
  : >"$STEPS_LOG"
  ln -sfn "$(basename "$STEPS_LOG")" "$dir/$STEPS_NAME-latest.log"
  local old
  while read -r old; do rm -f -- "$old"; done < <(ls -1t "$dir/$STEPS_NAME"-2*.log 2>/dev/null | tail -n +21)
  STEPS_STARTED=$(steps_now)
  STEPS_WORKED=0
  trap '_steps_progress_stop' EXIT
  trap '_steps_interrupted INT 130' INT
  trap '_steps_interrupted TERM 143' TERM
}

# Runs one step: step ID TITLE [--estimate SECONDS] [--cached-when REGEX] -- COMMAND...
# --estimate: the usual duration of a cold run, shown while it runs. --cached-when: when the step's output matches
# (grep -E), the step found everything in place and its line says "cached".
step() {
  local id=$1 title=$2 estimate="" cached_when=""
  shift 2
  while (($#)) && [[ $1 != -- ]]; do
    case $1 in
      --estimate) estimate=$2; shift 2 ;;
      --cached-when) cached_when=$2; shift 2 ;;
      *) echo "step: unknown option $1" >&2; return 2 ;;
    esac
  done
  [[ ${1:-} == -- ]] && shift
  (($#)) || { echo "step $id: no command" >&2; return 2; }

  local offset started rc had_e=0
  echo >>"$STEPS_LOG"
  offset=$(stat -c %s "$STEPS_LOG")
  started=$(steps_now)
  printf '=== step %s: %s (%s) $ %s\n' "$id" "$title" "$(printf '%(%F %T)T' -1)" "$*" >>"$STEPS_LOG"
  STEPS_CURRENT=$title
  _steps_progress_start "$title" "$estimate" "$started"
  # Not `"$@" || rc=$?`: inside a || list bash ignores `set -e`, even in a subshell that sets it again.
  [[ $- == *e* ]] && had_e=1
  set +e
  if [[ ${ANVIL_SETUP_FAIL:-} == "$id" ]]; then
    (echo "simulated failure of step '$id' (ANVIL_SETUP_FAIL=$id)" >&2; exit 1) </dev/null >>"$STEPS_LOG" 2>&1
  else
    (set -e; "$@") </dev/null >>"$STEPS_LOG" 2>&1
  fi
  rc=$?
  ((had_e)) && set -e
  _steps_progress_stop
  STEPS_CURRENT=""
  local elapsed=$(($(steps_now) - started))
  printf '=== step %s: exit %d after %ds\n' "$id" "$rc" "$elapsed" >>"$STEPS_LOG"
  if ((rc != 0)); then
    _steps_fail "$id" "$title" "$elapsed" "$rc" "$offset"
  fi
  if [[ -n $cached_when ]] && tail -c +$((offset + 1)) "$STEPS_LOG" | grep -Eq -- "$cached_when"; then
    # Slow and still cached: it waited (for another run building the same cache, say).
    _steps_line "$STEPS_OK" "$title" "cached$( ((elapsed < 5)) || echo " ($(steps_duration "$elapsed"))")"
  else
    STEPS_WORKED=$((STEPS_WORKED + 1))
    _steps_line "$STEPS_OK" "$title" "$(steps_duration "$elapsed")"
  fi
  _steps_print_notes "$offset"
}

# A step with nothing to do (or done without a command): step_done ID TITLE DETAIL
step_done() {
  if [[ ${ANVIL_SETUP_FAIL:-} == "$1" ]]; then
    step "$1" "$2" -- true
    return
  fi
  printf '\n=== step %s: %s: %s\n' "$1" "$2" "$3" >>"$STEPS_LOG"
  _steps_line "$STEPS_OK" "$2" "$3"
}

# Fails like a step does, for a check that is not a command: step_fail ID TITLE MESSAGE...
step_fail() {
  local id=$1 title=$2
  shift 2
  printf '\n=== step %s: %s: failed\n%s\n' "$id" "$title" "$*" >>"$STEPS_LOG"
  _steps_line "$STEPS_FAILED" "$title" "failed"
  printf '%s\n' "$@" | sed 's/^/    /' >&2
  steps_say "    (log: $(steps_show_path "$STEPS_LOG"))"
  exit 1
}

# Written by a step's command (into the log): a line the person running the script should see under the step's line.
step_note() { printf '[note] %s\n' "$*" >&2; }

steps_end() {
  local total=$(($(steps_now) - STEPS_STARTED))
  printf '\n=== %s complete after %ds, %d step(s) did work\n' "$STEPS_NAME" "$total" "$STEPS_WORKED" >>"$STEPS_LOG"
  if ((STEPS_WORKED == 0)); then
    steps_say "$STEPS_NAME complete in $(steps_duration "$total"): everything was already in place"
  else
    steps_say "$STEPS_NAME complete in $(steps_duration "$total") (log: $(steps_show_path "$STEPS_LOG"))"
  fi
}

_steps_line() {
  local mark=$1 title=$2 detail=$3
  if steps_tty; then
    printf '\r\033[K %s %-34s %s\n' "$mark" "$title" "$detail" >&2
  else
    printf '[%s] %s %s: %s\n' "$STEPS_NAME" "$mark" "$title" "$detail" >&2
  fi
}

_steps_print_notes() {
  local note
  while IFS= read -r note; do
    steps_say "     - ${note#\[note\] }"
  done < <(tail -c +$(($1 + 1)) "$STEPS_LOG" | grep -a '^\[note\] ' || true)
}

_steps_fail() {
  local id=$1 title=$2 elapsed=$3 rc=$4 offset=$5
  _steps_line "$STEPS_FAILED" "$title" "failed after $(steps_duration "$elapsed") (exit $rc)"
  steps_say "    step '$id' failed; its full output is in $(steps_show_path "$STEPS_LOG"). The last lines:"
  tail -c +$((offset + 1)) "$STEPS_LOG" | grep -av '^=== step ' | tail -n "$STEPS_TAIL_LINES" | sed 's/^/    | /' >&2
  [[ ${ANVIL_SETUP_FAIL:-} == "$id" ]] && steps_say "    (this failure was simulated: ANVIL_SETUP_FAIL=$id)"
  exit "$rc"
}

# The progress of a running step, drawn by a background process: a spinner line on a terminal, a plain line now and
# then otherwise. It ends with the step, and by itself if this shell goes away.
_steps_progress_start() {
  local title=$1 estimate=$2 started=$3 parent=$$
  local usual=""
  [[ -n $estimate ]] && usual="usually ~$(steps_duration "$estimate") the first time"
  if steps_tty; then
    # The first frame is drawn before the step starts, so even a quick step shows what it is doing.
    _steps_frame "${STEPS_SPIN[0]}" "$title" 0 "$usual"
    (
      trap 'exit 0' TERM
      i=1
      while kill -0 "$parent" 2>/dev/null; do
        sleep 0.2
        now=$(steps_now)
        _steps_frame "${STEPS_SPIN[i % ${#STEPS_SPIN[@]}]}" "$title" $((now - started)) "$usual"
        i=$((i + 1))
      done
    ) &
  else
    (
      trap 'exit 0' TERM
      next=$STEPS_HEARTBEAT_FIRST
      while kill -0 "$parent" 2>/dev/null; do
        sleep 1
        now=$(steps_now)
        if ((now - started >= next)); then
          printf '[%s]   ... %s: still running after %s%s\n' "$STEPS_NAME" "$title" "$(steps_duration $((now - started)))" "${usual:+ ($usual)}" >&2
          next=$((next + STEPS_HEARTBEAT_EVERY))
        fi
      done
    ) &
  fi
  STEPS_PROGRESS_PID=$!
}

# One frame of the spinner line, cut to the terminal's width: a line that wraps could not be redrawn in place.
_steps_frame() {
  local spin=$1 title=$2 elapsed=$3 usual=$4 line cols
  printf -v line ' %s %-34s %s%s' "$spin" "$title" "$(steps_duration "$elapsed")" "${usual:+ ($usual)}"
  cols=$(tput cols 2>/dev/null) || cols=80
  [[ $cols =~ ^[0-9]+$ ]] && ((cols > 1)) || cols=80
  printf '\r\033[K%s' "${line:0:cols-1}" >&2
}

_steps_progress_stop() {
  [[ -n $STEPS_PROGRESS_PID ]] || return 0
  kill -TERM "$STEPS_PROGRESS_PID" 2>/dev/null || true
  wait "$STEPS_PROGRESS_PID" 2>/dev/null || true
  STEPS_PROGRESS_PID=""
  if steps_tty; then printf '\r\033[K' >&2; fi
}

_steps_interrupted() {
  _steps_progress_stop
  trap - EXIT
  if [[ -n $STEPS_CURRENT ]]; then
    steps_say "$STEPS_NAME interrupted ($1) during: $STEPS_CURRENT (log: $(steps_show_path "$STEPS_LOG"))"
  fi
  exit "$2"
}
