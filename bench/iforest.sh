#!/usr/bin/env bash
# Isolation Forest and k-means: oddhunt vs scikit-learn on the same data in the same run.
#
#   bench/iforest.sh [ROWS] [KMEANS_ROWS]      (defaults 1000000 and 100000)
#
# Generates ROWS x 8 rows with 1 % injected outliers (bench/iforest_sklearn.py generate), then
# times Isolation Forest fit + score_samples on all rows (100 trees, 256 rows per tree) with
# scikit-learn (n_jobs=1; n_jobs=-1; n_jobs=-1 with joblib-parallel scoring) and with oddhunt
# (crates/models/examples/iforest_bench.rs, rayon on 2 threads), and k-means (k = 8, n_init 1 and
# 10) on the first KMEANS_ROWS rows. Prints CPU and wall seconds (median of REPEATS runs, env,
# default 3), speed-up ratios and ROC-AUCs. Figures, not a test: nothing is asserted.
#
# Python tools live in a venv (VENV, default bench/venv, gitignored), created
# here with scikit-learn when missing.
set -euo pipefail

ROWS=${1:-1000000}
KMEANS_ROWS=${2:-100000}
THREADS=${THREADS:-2}
export REPEATS=${REPEATS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/bench/venv}
DATA=${DATA:-$(mktemp -d)}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn" 2>/dev/null; then
    echo "creating $VENV with scikit-learn" >&2
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "scikit-learn==1.9.1" scipy numpy
fi
PY="$VENV/bin/python"

echo "building the oddhunt benchmark (release)" >&2
(cd "$ROOT" && cargo build --quiet --release -p oddhunt-models --example iforest_bench)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/iforest_bench

echo "generating $ROWS x 8 rows in $DATA" >&2
"$PY" "$ROOT/bench/iforest_sklearn.py" generate "$DATA" "$ROWS"

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
echo "timing oddhunt ($THREADS threads, $REPEATS repeats)" >&2
"$BIN" "$DATA" "$KMEANS_ROWS" --threads "$THREADS" --repeats "$REPEATS" > "$DATA/oddhunt.json"
echo "timing scikit-learn ($REPEATS repeats)" >&2
"$PY" "$ROOT/bench/iforest_sklearn.py" run "$DATA" "$KMEANS_ROWS" > "$DATA/sklearn.json"

"$PY" - "$DATA/oddhunt.json" "$DATA/sklearn.json" "$LOAD_BEFORE" <<'EOF'
import json, os, sys
ours = json.load(open(sys.argv[1]))
sk = json.load(open(sys.argv[2]))
print(f"machine: {os.cpu_count()} cores, load average {sys.argv[3]} before, "
      f"{os.getloadavg()[0]:.1f} after (wall times inflate with load; CPU seconds are steadier); "
      f"scikit-learn {sk['sklearn']}; median of {ours['repeats']} runs")
print(f"\nIsolation Forest, fit + score_samples, {ours['rows']:,} x 8, 100 trees x 256 rows")
print(f"{'implementation':52} {'CPU s':>7} {'wall s':>7} {'fit wall':>8} {'ROC-AUC':>8}")
rows = [
    (f"oddhunt, rayon {ours['threads']} threads", ours["iforest"]),
    (f"oddhunt extended (level 7), {ours['threads']} threads", ours["eif_full"]),
    ("scikit-learn n_jobs=1", sk["iforest_n_jobs_1"]),
    ("scikit-learn n_jobs=-1", sk["iforest_n_jobs_all"]),
    ("scikit-learn n_jobs=-1, joblib-parallel scoring", sk["iforest_n_jobs_all_parallel_scoring"]),
]
for name, r in rows:
    print(f"{name:52} {r['cpu']:7.2f} {r['wall']:7.2f} {r['fit_wall']:8.3f} {r['auc']:8.4f}")
o = ours["iforest"]
print("\noddhunt speed-up (scikit-learn / oddhunt):")
for name, key in [("n_jobs=1", "iforest_n_jobs_1"), ("n_jobs=-1", "iforest_n_jobs_all"),
                  ("n_jobs=-1, parallel scoring", "iforest_n_jobs_all_parallel_scoring")]:
    r = sk[key]
    print(f"  vs {name:30} wall {r['wall'] / o['wall']:5.1f}x   CPU {r['cpu'] / o['cpu']:5.1f}x")

print(f"\nk-means, k = 8, {ours['kmeans_n_init_1']['rows']:,} x 8")
print(f"{'implementation':52} {'CPU s':>7} {'wall s':>7} {'inertia':>12} {'iter':>5}")
for n_init in (1, 10):
    k = f"kmeans_n_init_{n_init}"
    for name, r in [(f"oddhunt n_init={n_init}", ours[k]), (f"scikit-learn n_init={n_init}", sk[k])]:
        print(f"{name:52} {r['cpu']:7.2f} {r['wall']:7.2f} {r['inertia']:12.1f} {r['n_iter']:5d}")
    print(f"  scikit-learn / oddhunt: wall {sk[k]['wall'] / ours[k]['wall']:.2f}x, "
          f"CPU {sk[k]['cpu'] / ours[k]['cpu']:.2f}x")
EOF
