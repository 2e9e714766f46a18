#!/usr/bin/env bash
# Masquerade benchmark: the Sentinel notebook's method in pandas + rapidfuzz vs oddhunt on the same
# file (10M process creations over ~20k distinct names), side by side in one run; then oddhunt's
# pruned join vs its own naive join. Prints figures; asserts nothing.
#
#   bench/masquerade.sh [EVENTS]      (default 10000000)
#
# Needs: a release build (built here), Python 3 with a venv at bench/venv (created here:
# pandas, numpy, rapidfuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
OUT=bench/out/masquerade
mkdir -p "$OUT"
VENV=${VENV:-bench/venv}
# bench/venv is shared by the bench scripts: each installs what it imports.
if ! "$VENV/bin/python" -c "import pandas, numpy, rapidfuzz" 2>/dev/null; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q pandas numpy rapidfuzz
fi
cargo build --release -q -p oddhunt
BIN=${CARGO_TARGET_DIR:-target}/release/oddhunt
DATA=${DATA:-$OUT/process-$N.csv}
[ -f "$DATA" ] || "$VENV/bin/python" bench/masquerade_data.py "$DATA" "$N"
ls -l "$DATA"

cpu_of() { # user+sys seconds of a finished command, from /usr/bin/time -f
  awk '{print $1 + $2}' "$1"
}

echo "== Python (pandas + rapidfuzz), the notebook's method"
"$VENV/bin/python" bench/masquerade_seed.py "$DATA" "$OUT/python-findings.csv" | tee "$OUT/python.json"

echo "== oddhunt hunt masquerade --seed-compatible (same method, same quirks)"
/usr/bin/time -f "%U %S %e %M" -o "$OUT/oddhunt.time" \
  "$BIN" hunt masquerade --seed-compatible -q -i "$DATA" --format jsonl -o "$OUT/oddhunt-findings.jsonl"
read -r U S E M < "$OUT/oddhunt.time"
echo "oddhunt: wall ${E}s, cpu $(echo "$U + $S" | bc)s, peak RSS $((M / 1024)) MB"

echo "== same findings?"
"$VENV/bin/python" - "$OUT/python-findings.csv" "$OUT/oddhunt-findings.jsonl" "$OUT/python.json" "$OUT/oddhunt.time" <<'PY'
import csv, json, sys
py = {(r["name_rare"], r["name_normal"]) for r in csv.DictReader(open(sys.argv[1]))}
odd = set()
for line in open(sys.argv[2]):
    f = json.loads(line)
    if f.get("event.kind") != "alert":
        continue  # the run record at the end
    for m in f["oddhunt.explanation"]["matches"]:
        odd.add((f["oddhunt.subject"], m["normal_process"]))
print(f"python pairs {len(py)}, oddhunt pairs {len(odd)}, identical: {py == odd}")
if py != odd:
    print("only python:", sorted(py - odd)[:10]); print("only oddhunt:", sorted(odd - py)[:10])
p = json.load(open(sys.argv[3]))
u, s, e, m = open(sys.argv[4]).read().split()
ocpu, owall = float(u) + float(s), float(e)
print(f"end to end (read + method): python {p['total_wall']:.1f}s wall / {p['total_cpu']:.1f}s cpu; "
      f"oddhunt {owall:.2f}s wall / {ocpu:.2f}s cpu; ratio wall {p['total_wall'] / owall:.0f}x, cpu {p['total_cpu'] / ocpu:.0f}x")
print(f"method only (python after read_csv): {p['method_wall']:.1f}s wall for {p['pairs']:,} pairs")
print(f"peak RSS: python {p['peak_rss_mb']:.0f} MB, oddhunt {int(m) / 1024:.0f} MB")
PY

echo "== oddhunt pruned join vs naive join (same names)"
cargo run --release -q -p oddhunt-detect --example masquerade_join -- "$DATA"
