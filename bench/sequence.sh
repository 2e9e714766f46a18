#!/usr/bin/env bash
# The sequence detector end to end through the CLI, on generated Exchange admin audit logs
# (bench/sequence_data.py), and against msticpy 3.0.2's notebook pipeline on a sample.
#
# Prints figures, asserts nothing about speed; exits non-zero if oddhunt and msticpy differ.
#   hunt/train/score: EVENTS records (default 1M), CPU seconds (user+sys), wall seconds and
#       peak RSS of `oddhunt hunt|train|score sequence`, with the default lateness (`auto`: the
#       generated file is within minutes of time order, so it streams with 60 minutes) and
#       with `--allowed-lateness all` (the whole input held and sorted).
#   msticpy: sessionize_data + score_sessions on the first SAMPLE records (default 20k), CPU
#       time, and every session's rarest-window likelihood compared bit for bit with
#       `oddhunt hunt sequence --all` on the same file (cmds_only and cmds_params_values).
# msticpy lives in a venv: $VENV, default bench/venv-msticpy in this repository (gitignored),
# created with msticpy 3.0.2 on first use (python3.11, or $PYTHON).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-$PWD/bench/venv-msticpy}
EVENTS=${EVENTS:-1000000}
SAMPLE=${SAMPLE:-20000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sequence-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if ! "$VENV/bin/python" -c 'import msticpy' 2>/dev/null; then
    echo "installing msticpy 3.0.2 into $VENV (large; a few minutes)" >&2
    "${PYTHON:-$(command -v python3.11 || command -v python3)}" -m venv "$VENV"
    "$VENV/bin/pip" install -q msticpy==3.0.2
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p oddhunt
BIN="$CARGO_TARGET_DIR/release/oddhunt"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

python3 bench/sequence_data.py "$EVENTS" "$WORK/events.jsonl"
echo "input: $EVENTS records, $(du -m "$WORK/events.jsonl" | cut -f1) MB"

# run LABEL ARGS...: one oddhunt run, its CPU, wall time and peak memory.
run() {
    local label=$1
    shift
    /usr/bin/time -f "%U %S %e %M" -o "$WORK/time" "$BIN" -q "$@" > /dev/null
    read -r user sys wall rss < "$WORK/time"
    awk -v l="$label" -v u="$user" -v s="$sys" -v w="$wall" -v r="$rss" -v n="$EVENTS" 'BEGIN {
        cpu = u + s
        printf "%-44s CPU %6.2f s  wall %6.2f s  peak RSS %6.0f MB  %7.0f events per CPU-second\n",
            l, cpu, w, r / 1024, n / cpu }'
}

echo; echo "== oddhunt, $EVENTS records"
run "hunt (params, lateness auto)" hunt sequence -i "$WORK/events.jsonl" --format jsonl -o "$WORK/hunt.jsonl"
run "hunt (params, lateness all)" hunt sequence -i "$WORK/events.jsonl" --allowed-lateness all --format jsonl -o "$WORK/hunt.jsonl"
run "hunt (values, lateness auto)" hunt sequence -i "$WORK/events.jsonl" --session-type values --format jsonl -o "$WORK/hunt.jsonl"
run "train (params, lateness auto)" train sequence -i "$WORK/events.jsonl" -o "$WORK/model.oddhunt"
run "train (params, lateness all)" train sequence -i "$WORK/events.jsonl" --allowed-lateness all -o "$WORK/model_all.oddhunt"
run "score (params, model from train)" score -m "$WORK/model.oddhunt" -i "$WORK/events.jsonl" --format jsonl -o "$WORK/score.jsonl"
echo "model file: $(du -k "$WORK/model.oddhunt" | cut -f1) kB"

echo; echo "== msticpy 3.0.2 vs oddhunt, first $SAMPLE records"
head -n "$SAMPLE" "$WORK/events.jsonl" > "$WORK/sample.jsonl"
status=0
for type in cmds_only cmds_params_values; do
    case $type in cmds_only) flag=cmds ;; *) flag=values ;; esac
    /usr/bin/time -f "%U %S" -o "$WORK/time" "$BIN" -q hunt sequence -i "$WORK/sample.jsonl" \
        --session-type "$flag" --short-sessions skip --all \
        --format jsonl -o "$WORK/sample_$type.jsonl"
    echo "oddhunt $type: CPU $(awk '{print $1 + $2}' "$WORK/time") s (hunt, whole process)"
    "$VENV/bin/python" bench/sequence_msticpy.py "$WORK/sample.jsonl" "$type" "$WORK/sample_$type.jsonl" || status=1
done
exit $status
