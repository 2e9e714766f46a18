#!/usr/bin/env bash
# Markov model and sessionizer: oddhunt vs msticpy 3.0.2 on the same generated input.
#
# Prints figures, asserts nothing about speed; exits non-zero if the outputs differ.
#   sessionize: EVENTS events (default 1M) with oddhunt (batch and streaming); msticpy on the
#               first SAMPLE events (default 20k, ~0.3-1.5 ms per event) and extrapolated
#               linearly to EVENTS; boundaries compared exactly on the sample.
#   memory:     the streaming sessionizer's peak RSS for 1M and 4M events generated on the fly.
#   train+score: SESSIONS sessions (default 100k) per session type, msticpy's Model
#               (train, rarest windows L=3 with tokens, session likelihoods) vs oddhunt;
#               likelihoods compared bit for bit, rarest windows exactly.
# msticpy lives in a venv: $VENV, default bench/venv-msticpy in this repository (gitignored),
# created with msticpy 3.0.2 on first use (python3.11, or $PYTHON).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-$PWD/bench/venv-msticpy}
EVENTS=${EVENTS:-1000000}
SAMPLE=${SAMPLE:-20000}
SESSIONS=${SESSIONS:-100000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/markov-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if ! "$VENV/bin/python" -c 'import msticpy' 2>/dev/null; then
    echo "installing msticpy 3.0.2 into $VENV (large; a few minutes)" >&2
    "${PYTHON:-$(command -v python3.11 || command -v python3)}" -m venv "$VENV"
    "$VENV/bin/pip" install -q msticpy==3.0.2
fi
"$VENV/bin/python" -c 'import msticpy, pandas; print("msticpy", msticpy.__version__, "pandas", pandas.__version__)'

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p oddhunt-models --example markov_bench
BENCH="$CARGO_TARGET_DIR/release/examples/markov_bench"
MSTICPY=(env PYTHONHASHSEED=0 "$VENV/bin/python" bench/markov_msticpy.py)
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo; echo "== sessionize"
"$BENCH" gen-events "$EVENTS" "$WORK/events.jsonl"
"$BENCH" sessionize "$WORK/events.jsonl" "$WORK/oddhunt_full.json"
head -n "$SAMPLE" "$WORK/events.jsonl" > "$WORK/sample.jsonl"
"$BENCH" sessionize "$WORK/sample.jsonl" "$WORK/oddhunt_sample.json" > /dev/null
"${MSTICPY[@]}" sessionize "$WORK/sample.jsonl" "$SAMPLE" "$WORK/oddhunt_sample.json" "$WORK/oddhunt_full.json"

echo; echo "== streaming memory"
"$BENCH" stream 1000000
"$BENCH" stream 4000000

echo; echo "== train + score, $SESSIONS sessions per session type"
for type in cmds_only cmds_params_only cmds_params_values; do
    "$BENCH" gen-sessions "$type" "$SESSIONS" "$WORK/raw_$type.json"
    # Param sets in msticpy's iteration order (see markov_msticpy.py), then both sides.
    "${MSTICPY[@]}" canon "$WORK/raw_$type.json" "$WORK/sessions_$type.json"
    "$BENCH" score "$WORK/sessions_$type.json" "$WORK/oddhunt_$type.json"
    "${MSTICPY[@]}" score "$WORK/raw_$type.json" "$WORK/oddhunt_$type.json"
done
