#!/usr/bin/env bash
# mpirun end to end (issue 15): the same command on 1, 2 and 3 ranks (3 oversubscribed on
# 2 cores) writes byte-identical outputs to a run without mpirun; a run killed and resumed from
# its checkpoint writes the same bytes; a failing rank ends the job non-zero with its message.
#   mpi_runs_test.sh ATTNCERT MPIRUN WORKDIR CASE      CASE: verify | prove | check-kernel |
#                                                 sweep | report | resume | failing-rank
set -uo pipefail
exe="$1" mpirun="$2" work="$3" case="$4"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"
attncert_mpi_environment  # as root in CI and containers
export OMPI_MCA_rmaps_base_oversubscribe=1  # -np 3 on 2 cores
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# run NAME RANKS ARGS… — RANKS 0: without mpirun. Records the exit code in $work/NAME.rc.
run() {
  local name="$1" ranks="$2"
  shift 2
  local rc=0
  if ((ranks == 0)); then
    "$exe" "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" || rc=$?
  else
    "$mpirun" -np "$ranks" "$exe" "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" || rc=$?
  fi
  echo "$rc" >"$work/$name.rc"
  echo "$name: exit $rc"
}

# same_outputs A B — the output directories (or files) and stdout of two runs are identical.
same_outputs() {
  diff -r "$work/$1.out" "$work/$2.out" >/dev/null || fail "$2 differs from $1: $(diff -rq "$work/$1.out" "$work/$2.out" | head -5)"
  # stdout names each run's own output path: compared with the path as OUT
  diff <(sed "s|$work/$1.out|OUT|g" "$work/$1.stdout") <(sed "s|$work/$2.out|OUT|g" "$work/$2.stdout") >/dev/null \
    || fail "$2's stdout differs from $1's: $(diff "$work/$1.stdout" "$work/$2.stdout" | head -5)"
  cmp -s "$work/$1.rc" "$work/$2.rc" || fail "$2 exited $(cat "$work/$2.rc"), $1 $(cat "$work/$1.rc")"
}

# across_ranks ARGS… (with OUT where the output path goes) — plain, -np 1, 2 and 3 agree.
across_ranks() {
  for ranks in 0 1 2 3; do
    run "np$ranks" "$ranks" "${@//OUT/$work/np$ranks.out}"
    grep -q "^attncert: " "$work/np$ranks.stderr" && fail "np$ranks: $(head -3 "$work/np$ranks.stderr")"
  done
  [[ -e "$work/np0.out" ]] || fail "no output written: $(head -3 "$work/np0.stderr")"
  for ranks in 1 2 3; do same_outputs np0 "np$ranks"; done
  echo "identical on 1, 2 and 3 ranks and without mpirun"
}

case "$case" in
  verify)
    across_ranks verify --all --budget 300 --seed 5 -j 1 --out OUT
    ;;
  prove)
    # Claims with proof plans, each its own unit; certificates must come out the same.
    # No clock (under mpirun there is none): the same command with and without mpirun.
    across_ranks verify A.lemma1-exp A.cor1 A.lemma1-softplus --prove --prove-seconds 0 --budget 200 --seed 2 \
      -j 1 --out OUT
    ls "$work/np0.out/proofs/"*.json >/dev/null 2>&1 || fail "no proof certificate written"
    # One conjecture: the claim runs on every rank and its proof's subtrees (84,503 boxes,
    # 189 subtree units, 68 checker units) are what the ranks share.
    across_ranks verify --expr "lse <= logit_max + log(L) + 0.001" --over "L = 4, T = 1, logits in [-1, 1]^L" \
      --prove --prove-seconds 0 --budget 200 --seed 2 -j 1 --out OUT
    grep -q "PROVED" "$work/np0.stdout" || fail "not proved: $(head -3 "$work/np0.stdout")"
    ;;
  check-kernel)
    across_ranks check-kernel all --quick --twin -j 1 --out OUT
    ;;
  sweep)
    # Grid points are the units: a Monte Carlo experiment, and one that certifies a matrix at
    # some points (uneven units).
    va=(sweep vanishing-attention --grid 'L={2,8,32}, Delta_over_T={0.5,2}, d=4, trials=50' --seed 3 -j 1)
    across_ranks "${va[@]}" --out OUT
    across_ranks sweep rank-spectra --grid 'n={4,8,16}, d={2,3}, certify_max_n=8' --seed 3 -j 1 --out OUT
    # A checkpoint written on 2 ranks hands every point to the next run, which writes the same bytes.
    run first 2 "${va[@]}" --out "$work/ckpt.out" --checkpoint "$work/ckpt"
    run again 2 "${va[@]}" --out "$work/ckpt.out" --checkpoint "$work/ckpt"
    grep -q "resuming from --checkpoint .*: 6 finished units" "$work/again.stderr" \
      || fail "no resuming line: $(head -3 "$work/again.stderr")"
    cmp -s "$work/np0.out/vanishing-attention.csv" "$work/ckpt.out/vanishing-attention.csv" \
      || fail "the CSV from the checkpoint differs from the plain run's"
    diff "$work/first.stdout" "$work/again.stdout" >/dev/null || fail "stdout differs after resuming"
    [[ "$(cat "$work/again.rc")" == 0 ]] || fail "resumed: exit $(cat "$work/again.rc")"
    echo "sweep: identical on 1, 2 and 3 ranks, and from its checkpoint"
    ;;
  report)
    # Everything the report computes (sweeps, the catalog, kernel cases) is shared by the ranks;
    # rank 0 alone writes. run.json and the printed total hold wall times, so they are left out.
    export TMPDIR="$work/tmp"  # where the other ranks' scratch reports go, to see them removed
    mkdir -p "$TMPDIR"
    for ranks in 0 1 2 3; do
      run "np$ranks" "$ranks" report --quick --no-pdf --seed 3 -j 1 --out "$work/np$ranks.out"
      grep -q "^attncert: " "$work/np$ranks.stderr" && fail "np$ranks: $(head -3 "$work/np$ranks.stderr")"
      [[ "$(cat "$work/np$ranks.rc")" == 0 ]] || fail "np$ranks: exit $(cat "$work/np$ranks.rc")"
    done
    [[ -e "$work/np0.out/report.tex" ]] || fail "no report written: $(head -3 "$work/np0.stderr")"
    for ranks in 1 2 3; do
      diff -r -x run.json "$work/np0.out" "$work/np$ranks.out" >/dev/null \
        || fail "np$ranks differs: $(diff -rq -x run.json "$work/np0.out" "$work/np$ranks.out" | head -5)"
      diff <(sed -e "s|$work/np0.out|OUT|g" -e 's/([0-9.]* s)$//' "$work/np0.stdout") \
           <(sed -e "s|$work/np$ranks.out|OUT|g" -e 's/([0-9.]* s)$//' "$work/np$ranks.stdout") >/dev/null \
        || fail "np$ranks's stdout differs: $(diff "$work/np0.stdout" "$work/np$ranks.stdout" | head -5)"
    done
    # --checkpoint: a second run on 2 ranks (the same arguments, --out included) takes every
    # unit from it and writes the same report again.
    for name in ck1 ck2; do
      run "$name" 2 report --quick --no-pdf --seed 3 -j 1 --out "$work/ck.out" --checkpoint "$work/report-ckpt"
      [[ "$(cat "$work/$name.rc")" == 0 ]] || fail "$name: exit $(cat "$work/$name.rc"): $(head -3 "$work/$name.stderr")"
      diff -r -x run.json "$work/np0.out" "$work/ck.out" >/dev/null || fail "$name's report differs from np0's"
    done
    grep -q "resuming from --checkpoint .*: [0-9]* finished unit" "$work/ck2.stderr" \
      || fail "the second run did not resume: $(head -3 "$work/ck2.stderr")"
    leftover=$(find "$TMPDIR" -mindepth 1 -name 'attncert-rank-report*' | head -1)
    [[ -z "$leftover" ]] || fail "a rank left something in its scratch space: $leftover"
    echo "report: identical on 1, 2 and 3 ranks, without mpirun and from its checkpoint"
    ;;
  resume)
    # Uninterrupted, then killed after its first units are saved and started again.
    args=(verify --all --budget 2000 --seed 9 -j 1)
    run whole 2 "${args[@]}" --out "$work/whole.out"
    "$mpirun" -np 2 "$exe" "${args[@]}" --out "$work/resumed.out" --checkpoint "$work/ckpt" \
      >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
      (($(find "$work/ckpt/units" -name '*.unit' 2>/dev/null | wc -l) >= 3)) && break
      sleep 0.1
    done
    pkill -KILL -f -- "--checkpoint $work/ckpt" ; kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    saved=$(find "$work/ckpt/units" -name '*.unit' | wc -l)
    ((saved >= 3)) || fail "only $saved units were saved before the kill"
    [[ -e "$work/resumed.out/results.jsonl" ]] && fail "the killed run wrote results.jsonl"
    run resumed 2 "${args[@]}" --out "$work/resumed.out" --checkpoint "$work/ckpt"
    grep -q "resuming from --checkpoint .*: [0-9]* finished unit" "$work/resumed.stderr" \
      || fail "no resuming line: $(head -3 "$work/resumed.stderr")"
    same_outputs whole resumed
    echo "killed after $saved units, resumed: identical"
    # The checkpoint belongs to these arguments: another seed is refused in one line.
    run other 2 verify --all --budget 2000 --seed 10 -j 1 --out "$work/other.out" --checkpoint "$work/ckpt"
    [[ "$(cat "$work/other.rc")" == 4 ]] || fail "other arguments: exit $(cat "$work/other.rc")"
    grep -q "written by a run with other arguments" "$work/other.stderr" || fail "$(head -3 "$work/other.stderr")"
    ;;
  failing-rank)
    ATTNCERT_TEST_FAIL_RANK=1 run failing 2 verify --all --budget 300 -j 1 --out "$work/failing.out"
    rc=$(cat "$work/failing.rc")
    ((rc != 0)) || fail "a failed rank, yet exit 0"
    grep -q "^attncert: rank 1: injected failure (ATTNCERT_TEST_FAIL_RANK)" "$work/failing.stderr" \
      || fail "the failing rank's message is missing: $(head -5 "$work/failing.stderr")"
    [[ -e "$work/failing.out/results.jsonl" ]] && fail "results written despite a failed rank"
    echo "failing rank: exit $rc with its message, no results"
    # A command that does not share its work is refused in one line (exit 3), never run N times;
    # --help does no work and is not refused.
    run refused 2 model --quick
    [[ "$(cat "$work/refused.rc")" == 3 ]] || fail "model under mpirun: exit $(cat "$work/refused.rc")"
    grep -q "does not spread its work over MPI ranks yet" "$work/refused.stderr" || fail "$(head -3 "$work/refused.stderr")"
    # Under mpirun proofs have no clock: an explicit wall-clock limit is refused, not half-kept.
    run clock 2 verify A.cor1 --prove --prove-seconds 5 --budget 100 -j 1 --out "$work/clock.out"
    [[ "$(cat "$work/clock.rc")" == 3 ]] || fail "--prove-seconds under mpirun: exit $(cat "$work/clock.rc")"
    grep -q "under mpirun bound proofs by --prove-boxes" "$work/clock.stderr" || fail "$(head -3 "$work/clock.stderr")"
    run help 2 --help
    [[ "$(cat "$work/help.rc")" == 0 ]] || fail "--help under mpirun: exit $(cat "$work/help.rc"): $(head -3 "$work/help.stderr")"
    ;;
  *) fail "unknown case $case" ;;
esac
exit 0
