#!/bin/sh
# End-to-end: `attncert report --quick` builds report.pdf and its first page is not blank.
# Usage: report_quick_pdf.sh ATTNCERT_EXE WORK_DIR
# Needs pdflatex (texlive-latex-base texlive-latex-recommended texlive-pictures) and pdftoppm
# (poppler-utils): without them the test FAILS, unless ATTNCERT_ALLOW_NO_TEX=1, when it is
# skipped (exit 77, ctest SKIP_RETURN_CODE).
set -eu
exe=$1
work=$2

missing=""
command -v pdflatex >/dev/null 2>&1 || missing="$missing pdflatex(texlive-latex-base texlive-latex-recommended texlive-pictures)"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing pdftoppm(poppler-utils)"
if [ -n "$missing" ]; then
  if [ "${ATTNCERT_ALLOW_NO_TEX:-0}" = 1 ]; then
    echo "SKIP: not installed:$missing (ATTNCERT_ALLOW_NO_TEX=1)"
    exit 77
  fi
  echo "FAIL: not installed:$missing; install them (Debian) or set ATTNCERT_ALLOW_NO_TEX=1 to skip"
  exit 1
fi

rm -rf "$work"
mkdir -p "$work"
out="$work/report"
"$exe" report --quick --out "$out" -j2 >"$work/stdout" 2>"$work/stderr" || {
  echo "FAIL: attncert report --quick exited $?"; cat "$work/stdout" "$work/stderr"; exit 1; }
grep -q "^report: $out/report.pdf" "$work/stdout" || { echo "FAIL: stdout does not name the PDF:"; cat "$work/stdout"; exit 1; }
for f in report.pdf report.tex run.json results.jsonl; do
  [ -s "$out/$f" ] || { echo "FAIL: $out/$f missing or empty"; exit 1; }
done

# Page 1 at 50 dpi as a binary PGM ("P5\n<w> <h>\n255\n" then w*h bytes): count dark pixels.
pdftoppm -gray -r 50 -f 1 -l 1 "$out/report.pdf" "$work/page"
pgm=$(ls "$work"/page*.pgm | head -n 1)
set -- $(head -c 64 "$pgm" | tr '\n' ' ')
[ "$1" = P5 ] || { echo "FAIL: $pgm is not a binary PGM"; exit 1; }
pixels=$(($2 * $3))
dark=$(tail -c "$pixels" "$pgm" | od -An -v -tu1 | tr -s ' ' '\n' | awk '$1 != "" && $1 < 160 { n++ } END { print n + 0 }')
# A page of text at 50 dpi has thousands of dark pixels; a blank page has none.
echo "page 1: $2x$3 pixels, $dark dark"
[ "$dark" -gt 500 ] || { echo "FAIL: page 1 of report.pdf looks blank ($dark dark pixels)"; exit 1; }
echo "ok: $out/report.pdf"
