#!/usr/bin/env bash
# Benchmark oddhunt's dense-network core against TensorFlow/Keras on CPU: same data files, same
# architectures, same batch size (256), same optimiser (Adam, Keras defaults), shuffled.
#
#   bench/nn.sh                       # cmdline (200k rows, max_length 100) and proccount (1M rows)
#   LENGTHS="100 531" bench/nn.sh     # also the mean+std length of the real command lines
#
# Prints per network: seconds per epoch (epoch 2, as ../shared/STACK.md §4 reported; wall and
# process CPU), scoring throughput (rows/s) and peak RSS while training, for oddhunt with one
# shard (one thread) and with two shards (both cores), and for Keras; then the speed-ups.
# Figures, not tests: nothing is asserted. Raw JSON lines go to $OUT/results.jsonl.
#
# Environment: OUT (default bench/out/nn), EPOCHS (2), CMDLINE_ROWS (200000), PROCCOUNT_ROWS
# (1000000), LENGTHS (100), REPEAT (1), KERAS_PYTHON (a python with tensorflow-cpu + keras;
# default: bench/venv, created on first use with tensorflow-cpu 2.21 and keras 3.15),
# NN_BENCH_BIN (a prebuilt nn_bench; default: built here with cargo --release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${OUT:-$root/bench/out/nn}"
epochs="${EPOCHS:-2}"
cmdline_rows="${CMDLINE_ROWS:-200000}"
proccount_rows="${PROCCOUNT_ROWS:-1000000}"
lengths="${LENGTHS:-100}"
repeat="${REPEAT:-1}"
mkdir -p "$out"

if [ -z "${KERAS_PYTHON:-}" ]; then
    # bench/venv is shared by the bench scripts: each installs what it imports.
    if ! "$root/bench/venv/bin/python" -c "import keras, tensorflow, numpy" 2>/dev/null; then
        echo "installing tensorflow-cpu and keras into bench/venv (once)" >&2
        [ -x "$root/bench/venv/bin/python" ] || python3 -m venv "$root/bench/venv"
        "$root/bench/venv/bin/pip" install --quiet "tensorflow-cpu==2.21.*" "keras==3.15.*" numpy
    fi
    KERAS_PYTHON="$root/bench/venv/bin/python"
fi

if [ -z "${NN_BENCH_BIN:-}" ]; then
    (cd "$root" && cargo build --quiet --release -p oddhunt-models --example nn_bench)
    NN_BENCH_BIN="${CARGO_TARGET_DIR:-$root/target}/release/examples/nn_bench"
fi

for length in $lengths; do
    if [ ! -f "$out/cmdline_L$length.u8" ] || [ ! -f "$out/proccount.f32" ]; then
        "$NN_BENCH_BIN" generate "$out" --cmdline-rows "$cmdline_rows" --max-length "$length" \
            --proccount-rows "$proccount_rows"
    fi
done

results="$out/results.jsonl"
: > "$results"
run() { # label, command...
    local label="$1"; shift
    echo "running $label" >&2
    "$@" | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); d["label"]=sys.argv[1]; print(json.dumps(d))' "$label" >> "$results"
}
for _ in $(seq "$repeat"); do
    for length in $lengths; do
        run "oddhunt-1" "$NN_BENCH_BIN" train "$out" cmdline --max-length "$length" --epochs "$epochs" --shards 1
        run "oddhunt-2" "$NN_BENCH_BIN" train "$out" cmdline --max-length "$length" --epochs "$epochs" --shards 2
        run "keras" "$KERAS_PYTHON" "$root/bench/nn_keras.py" "$out" cmdline --max-length "$length" --epochs "$epochs" 2>/dev/null
    done
    run "oddhunt-1" "$NN_BENCH_BIN" train "$out" proccount --epochs "$epochs" --shards 1
    run "oddhunt-2" "$NN_BENCH_BIN" train "$out" proccount --epochs "$epochs" --shards 2
    run "keras" "$KERAS_PYTHON" "$root/bench/nn_keras.py" "$out" proccount --epochs "$epochs" 2>/dev/null
done

python3 - "$results" <<'PY'
import json, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    d = json.loads(line)
    key = (d["network"], d.get("max_length"), d["rows"])
    runs[key].append(d)
def best(items, label):
    mine = [d for d in items if d["label"] == label]
    # With REPEAT > 1 take the run with the fastest epoch 2 (least disturbed by neighbours).
    return min(mine, key=lambda d: d["epoch_wall_seconds"][-1]) if mine else None
print(f"{'network':<22}{'impl':<12}{'epoch wall s':>13}{'epoch CPU s':>12}{'score rows/s':>14}{'train peak RSS MiB':>20}")
for (network, length, rows), items in runs.items():
    name = f"{network} L={length}" if length else network
    name += f" ({rows // 1000}k)"
    rows_out = {label: best(items, label) for label in ("oddhunt-1", "oddhunt-2", "keras")}
    for label, d in rows_out.items():
        if d is None:
            continue
        peak = d.get("peak_rss_mib_training")
        print(f"{name:<22}{label:<12}{d['epoch_wall_seconds'][-1]:>13.2f}{d['epoch_cpu_seconds'][-1]:>12.2f}"
              f"{d['score_rows_per_second']:>14,.0f}{(peak if peak is not None else float('nan')):>20.0f}")
    k = rows_out["keras"]
    for label in ("oddhunt-1", "oddhunt-2"):
        o = rows_out[label]
        if o and k:
            print(f"{'':<22}{label} vs keras: epoch wall {k['epoch_wall_seconds'][-1] / o['epoch_wall_seconds'][-1]:.2f}x faster, "
                  f"epoch CPU {k['epoch_cpu_seconds'][-1] / o['epoch_cpu_seconds'][-1]:.2f}x less, "
                  f"scoring {o['score_rows_per_second'] / k['score_rows_per_second']:.2f}x, "
                  f"final loss {o['epoch_loss'][-1]:.4f} vs {k['epoch_loss'][-1]:.4f}")
PY
