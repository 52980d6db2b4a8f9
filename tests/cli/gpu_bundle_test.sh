#!/usr/bin/env bash
# scripts/gpu-bundle + the bundle's gpu-check end to end, on the no-device path (CI has no GPU;
# CUDA_VISIBLE_DEVICES=-1 hides any device, so a GPU machine takes the same path).
# Usage: gpu_bundle_test.sh SOURCE_DIR BUILD_DIR HAVE_CUDA(ON|OFF) WORK_DIR
#   ON:  the bundle is made and is <= 64 MiB; gpu-check exits 6 (attncert's kNoDevice) printing
#        the probe's reason, and summary.json / summary.txt say so with the same reason.
#   OFF: gpu-bundle refuses a build without CUDA device code, with one line, and makes nothing.
set -euo pipefail
src="$1" build="$2" have_cuda="$3" work="$4"
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
bundle="$work/bundle" results="$work/results"

if [[ "$have_cuda" != ON ]]; then
  rc=0
  "$src/scripts/gpu-bundle" "$build" "$bundle" 2>"$work/stderr" || rc=$?
  ((rc == 1)) || fail "gpu-bundle on a CPU-only build exited $rc, expected 1"
  [[ "$(wc -l <"$work/stderr")" == 1 ]] || fail "expected one line, got: $(cat "$work/stderr")"
  grep -q "has no CUDA device code" "$work/stderr" || fail "unexpected refusal: $(cat "$work/stderr")"
  [[ ! -e "$bundle" ]] || fail "gpu-bundle refused but left $bundle"
  echo "PASS: gpu-bundle refuses a build without CUDA device code"
  exit 0
fi

"$src/scripts/gpu-bundle" "$build" "$bundle" || fail "gpu-bundle failed"
bytes="$(du -sb "$bundle" | cut -f1)"
((bytes <= 64 * 1024 * 1024)) || fail "bundle is $bytes bytes, over 64 MiB"
for f in bin/attncert gpu-check gpu-tests.tsv MANIFEST.sha256; do
  [[ -e "$bundle/$f" ]] || fail "bundle lacks $f"
done
(cd "$bundle" && sha256sum --quiet -c MANIFEST.sha256) || fail "bundle does not match its manifest"

# As on the target: no compiler or ctest on PATH needed, only the bundle's own libraries.
rc=0
env -i PATH=/usr/bin:/bin CUDA_VISIBLE_DEVICES=-1 "$bundle/gpu-check" "$results" \
  >"$work/stdout" 2>"$work/stderr" || rc=$?
((rc == 6)) || fail "gpu-check exited $rc without a device, expected 6; stderr: $(cat "$work/stderr")"
line="$(grep '^gpu-check: no CUDA device runs kernels here: ' "$work/stderr")" \
  || fail "gpu-check did not print the probe's reason: $(cat "$work/stderr")"
reason="${line#gpu-check: no CUDA device runs kernels here: }"
[[ "$reason" =~ no\ CUDA\ device ]] || fail "reason does not read like the probe's: $reason"
[[ -f "$results/summary.txt" ]] || fail "no summary.txt"
grep -qF "$reason" "$results/summary.txt" || fail "summary.txt lacks the reason"
python3 - "$results/summary.json" "$reason" <<'PY' || fail "summary.json is wrong (above)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "no_device", s["status"]
assert s["exit_code"] == 6, s["exit_code"]
assert s["reason"] == sys.argv[2], (s["reason"], sys.argv[2])
assert [st["name"] for st in s["steps"]] == ["probe"] and not s["steps"][0]["passed"], s["steps"]
PY
leftovers="$(find "$results" -maxdepth 1 -name '.summary.*')"
[[ -z "$leftovers" ]] || fail "temporary summary files left: $leftovers"
echo "PASS: bundle $bytes bytes; gpu-check without a device exits 6: $reason"
