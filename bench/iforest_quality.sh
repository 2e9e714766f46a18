#!/usr/bin/env bash
# Detection quality of the forest detectors (dns, web, exeprev) on `oddhunt demo`'s generated
# organisation: trains on days 1..N-1, scores day N with every subject (--all), and prints
# ROC-AUC and precision@k (k = injected attacks) against the demo's labels, plus the findings
# at the default threshold. Figures, not a test: nothing is asserted.
#
#   bench/iforest_quality.sh [DEMO FLAGS]     e.g. --hosts 12 --users 30 --days 5
#
# Needs only python3 (no packages).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p oddhunt
BIN=$TARGET/release/oddhunt
OUT=${OUT:-bench/out/iforest_quality}
rm -rf "$OUT"
"$BIN" demo -q --out "$OUT" "$@" > "$OUT.demo.txt"
for spec in dns:today-dns.log web:today-access.log exeprev:today-security-4688.jsonl; do
  det=${spec%%:*}
  log=${spec#*:}
  "$BIN" score -q -m "$OUT/models/$det.oddhunt" -i "$OUT/logs/$log" --all --format jsonl \
    -o "$OUT/$det-all.jsonl"
done
python3 - "$OUT" <<'PY'
import csv, json, sys
out = sys.argv[1]
labels = list(csv.reader(open(f"{out}/labels.csv")))
quality = {q["detector"]: q for q in json.load(open(f"{out}/quality.json"))}
print(f"{'detector':<8} {'subjects':>8} {'injected':>8} {'ROC-AUC':>8} {'P@k':>6} {'findings':>8} {'found':>6}")
for det in ["dns", "web", "exeprev"]:
    positive = {r[1] for r in labels if r and r[0] == det}
    rows = [json.loads(l) for l in open(f"{out}/{det}-all.jsonl")]
    scored = [(r["oddhunt.score"], r["oddhunt.subject"] in positive) for r in rows if "oddhunt.score" in r]
    scored.sort(key=lambda x: -x[0])
    pos = sum(p for _, p in scored)
    neg = len(scored) - pos
    # ROC-AUC by the rank-sum (ties count half), as scikit-learn's roc_auc_score.
    ranks, i = {}, 0
    ordered = sorted(scored, key=lambda x: x[0])
    rank_sum = 0.0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][0] == ordered[i][0]:
            j += 1
        mid = (i + 1 + j) / 2
        rank_sum += mid * sum(p for _, p in ordered[i:j])
        i = j
    auc = (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")
    k = len(positive)
    pak = sum(p for _, p in scored[:k]) / k if k else float("nan")
    q = quality[det]
    print(f"{det:<8} {len(scored):>8} {k:>8} {auc:>8.3f} {pak:>6.3f} {q['findings']:>8} {q['found']:>6}")
PY
