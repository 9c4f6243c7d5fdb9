#!/usr/bin/env bash
# Runs e2e test files while every core is kept busy, to prove the tests hold on a loaded machine
# (issue 17.17): a CI runner or a laptop compiling something must not turn a test red.
#
#   scripts/stress-test.sh [--times N] [--hogs N] [--keep-going] [FILE...]
#
# FILEs default to every test/*.e2e.test.ts. One busy-loop process per core (nproc, or --hogs)
# runs at normal priority for the whole run and is killed on exit, on Ctrl-C and on SIGTERM; a
# hog also ends by itself once this script is gone (even after a SIGKILL). Each file runs alone
# (one vitest each), so a failure names its file. The run stops at the first failing file unless
# --keep-going; --times N repeats the whole list N times. Exit 0 only if every file passed every time.
set -euo pipefail
cd "$(dirname "$0")/.."

times=1
hogs=$(nproc)
keep_going=0
files=()
while (($# > 0)); do
  case "$1" in
    --times) times=$2; shift 2 ;;
    --hogs) hogs=$2; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "stress-test: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
[[ $times =~ ^[1-9][0-9]*$ ]] || { echo "stress-test: --times takes a whole number >= 1" >&2; exit 2; }
[[ $hogs =~ ^[0-9]+$ ]] || { echo "stress-test: --hogs takes a whole number" >&2; exit 2; }
((${#files[@]} > 0)) || mapfile -t files < <(ls test/*.e2e.test.ts)

hog_pids=()
stop_hogs() {
  if ((${#hog_pids[@]} > 0)); then
    kill "${hog_pids[@]}" 2>/dev/null || true
    wait "${hog_pids[@]}" 2>/dev/null || true
  fi
  hog_pids=()
}
# vitest runs in the background so that a signal reaches this script at once (bash defers traps
# while a foreground child runs); the signal is passed on to vitest, which ends its workers.
vitest_pid=
stop() {
  if [[ -n $vitest_pid ]]; then
    kill "-$1" "$vitest_pid" 2>/dev/null || true
    wait "$vitest_pid" 2>/dev/null || true
  fi
  exit "$2"
}
trap stop_hogs EXIT
trap 'stop INT 130' INT
trap 'stop TERM 143' TERM
trap 'stop HUP 129' HUP

# A pure user-space loop; every 100k turns it checks that this script still lives.
owner=$$
for ((n = 0; n < hogs; n++)); do
  (
    trap - EXIT INT TERM HUP
    while kill -0 "$owner" 2>/dev/null; do for ((i = 0; i < 100000; i++)); do :; done; done
  ) &
  hog_pids+=("$!")
done
echo "stress-test: ${#files[@]} file(s), ${times} time(s), ${hogs} busy-loop process(es) on $(nproc) core(s)"

failures=()
summary=()
for ((run = 1; run <= times; run++)); do
  for file in "${files[@]}"; do
    echo "=== stress-test run ${run}/${times}: ${file}"
    started=$SECONDS
    node_modules/.bin/vitest run "$file" &
    vitest_pid=$!
    if wait "$vitest_pid"; then
      summary+=("run ${run}: pass $((SECONDS - started))s ${file}")
    else
      summary+=("run ${run}: FAIL $((SECONDS - started))s ${file}")
      failures+=("run ${run}: ${file}")
      if ((keep_going == 0)); then
        printf '%s\n' "${summary[@]}"
        echo "stress-test: FAILED in run ${run}/${times}: ${file}" >&2
        exit 1
      fi
    fi
    vitest_pid=
  done
done
printf '%s\n' "${summary[@]}"
if ((${#failures[@]} > 0)); then
  printf 'stress-test: FAILED %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "stress-test: all ${#files[@]} file(s) passed ${times} time(s) under load"
