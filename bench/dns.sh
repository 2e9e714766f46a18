#!/usr/bin/env bash
# DNS benchmark: the BSides "DCO and Data Science" DNS hunt as a notebook runs it (ZAT's
# LogToDataFrame + pandas features + scikit-learn IsolationForest and KMeans,
# bench/dns_notebook.py) vs `oddhunt hunt dns`, on the same generated Zeek dns.log (about 5M
# look-ups of 1,000 hosts over five weekdays, with an iodine tunnel, a dnscat2 tunnel and a DGA
# burst on the last day), in one run: wall and CPU time, peak RSS, ratios, and where each
# ranks the tunnels. Prints figures; asserts nothing.
#
#   bench/dns.sh [QUERIES]      (default 5000000)
#
# Needs: Python 3 with a venv (VENV, default bench/venv; created here with pandas,
# scikit-learn, zat, tldextract). Builds oddhunt and the data generator in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000000}
OUT=bench/out/dns
mkdir -p "$OUT"
VENV=${VENV:-bench/venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import pandas, sklearn, zat, tldextract" 2>/dev/null ||
  "$VENV/bin/pip" install -q pandas scikit-learn zat tldextract
cargo build --release -q -p oddhunt
cargo build --release -q -p oddhunt-detect --example dns_log
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/oddhunt
DATA=${DATA:-$OUT/dns-$N.log}
[ -f "$DATA" ] || "$TARGET/release/examples/dns_log" "$DATA" "$N"
ls -l "$DATA"
echo "machine: $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== Python: ZAT LogToDataFrame + pandas features + sklearn IsolationForest/KMeans"
"$VENV/bin/python" bench/dns_notebook.py "$DATA" > "$OUT/python.json" 2> "$OUT/python-top.txt"
cat "$OUT/python-top.txt"

echo "== oddhunt hunt dns (read, features, forest, clusters, explanations, findings as JSON lines)"
/usr/bin/time -f "%U %S %e %M" -o "$OUT/oddhunt.time" \
  "$BIN" hunt dns -q -i "$DATA" --format jsonl -o "$OUT/oddhunt-findings.jsonl"
head -5 "$OUT/oddhunt-findings.jsonl" | "$VENV/bin/python" -c '
import json, sys
for line in sys.stdin:
    f = json.loads(line)
    if "oddhunt.score" in f:
        print("%.3f %s" % (f["oddhunt.score"], f["oddhunt.subject"]))'

echo "== figures"
"$VENV/bin/python" - "$OUT/python.json" "$OUT/oddhunt.time" "$OUT/oddhunt-findings.jsonl" "$DATA.labels.csv" <<'PY'
import csv, json, sys
p = json.loads(open(sys.argv[1]).read())
u, s, e, m = open(sys.argv[2]).read().split()
ocpu, owall, orss = float(u) + float(s), float(e), int(m) / 1024
ranked = [json.loads(l) for l in open(sys.argv[3])]
ranked = [f["oddhunt.subject"] for f in ranked if "oddhunt.subject" in f]
tunnels = [r["subject"] for r in csv.DictReader(open(sys.argv[4])) if "tunnel" in r["description"]]
print(f"rows {p['rows']:,}, registered domains {p['domains']:,}")
print(f"python : {p['total_wall']:.1f} s wall, {p['total_cpu']:.1f} s cpu, peak RSS {p['peak_rss_mb']:.0f} MB "
      f"(read {p['read_wall']:.1f} s, features {p['features_wall']:.1f} s, model {p['model_wall']:.1f} s)")
print(f"oddhunt: {owall:.2f} s wall, {ocpu:.2f} s cpu, peak RSS {orss:.0f} MB")
print(f"ratio  : wall {p['total_wall'] / owall:.1f}x faster, cpu {p['total_cpu'] / ocpu:.1f}x less, "
      f"memory {orss / p['peak_rss_mb']:.3f} of python's (1/{p['peak_rss_mb'] / orss:.0f})")
for t in tunnels:
    r = ranked.index(t) + 1 if t in ranked else None
    print(f"tunnel {t}: oddhunt rank {r}; python top 5 {p['top']}")
PY
