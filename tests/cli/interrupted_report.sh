#!/bin/sh
# `attncert report` stopped by SIGTERM mid-run removes its DIR.tmp-<pid>-* staging directory and
# ends by that signal (status 143 in a shell), leaving no report and no temporary; a staging
# directory a killed run could not remove (SIGKILL) goes with the next run.
#   interrupted_report.sh ATTNCERT WORKDIR
set -u
exe=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

fail() { echo "FAIL: $*" >&2; exit 1; }
staging() { ls -d rep.tmp-* 2>/dev/null; }
wait_for_staging() {  # up to 60 s for the run to get going
  i=0
  while [ -z "$(staging)" ]; do
    i=$((i + 1))
    [ "$i" -le 600 ] || fail "no rep.tmp-* appeared"
    sleep 0.1
  done
}

"$exe" report --quick --no-pdf --out rep >out.log 2>&1 &
pid=$!
wait_for_staging
sleep 1  # into the sweeps: files are being written
kill -TERM "$pid"
wait "$pid"
status=$?
[ "$status" -eq 143 ] || fail "exit status $status after SIGTERM, expected 143 (128 + SIGTERM)"
[ -z "$(staging)" ] || fail "left behind: $(staging)"
[ ! -e rep ] || fail "a report appeared although the run was interrupted"

# SIGKILL cannot be caught: the staging directory stays, and the next run removes it.
"$exe" report --quick --no-pdf --out rep >out.log 2>&1 &
pid=$!
wait_for_staging
left=$(staging)
kill -KILL "$pid"
wait "$pid"
[ -d "$left" ] || fail "expected $left to survive SIGKILL"
"$exe" report --quick --no-pdf --no-verify --out rep >out.log 2>&1 || fail "report --out rep failed: $(cat out.log)"
[ ! -e "$left" ] || fail "the stale $left of the killed run is still there"
[ -f rep/report.tex ] || fail "no report written"
[ -z "$(staging)" ] || fail "left behind: $(staging)"
echo "ok: interrupted report cleaned up, stale staging removed"
