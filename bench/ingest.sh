#!/usr/bin/env bash
# Ingestion benchmark: events/s, MB/s and peak RSS per format on generated inputs of at least
# 200 MB each, on one core (taskset), and for EVTX the ratio to the evtx crate alone iterating
# records_json_bytes() over the same files. Prints figures; asserts nothing.
#
# usage: bench/ingest.sh [MB per format (default 220)] [work dir (default /tmp/oddhunt-ingest-bench)]
# env:   CORE=0 (the core to pin to), CARGO_TARGET_DIR as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-220}
WORK=${2:-/tmp/oddhunt-ingest-bench}
CORE=${CORE:-0}
DATA=../shared/data
TARGET=${CARGO_TARGET_DIR:-target}

cargo build --release -p oddhunt-ingest --example ingest_bench >&2
BIN="$TARGET/release/examples/ingest_bench"
PIN="taskset -c $CORE"
command -v taskset >/dev/null || PIN=""

if [ ! -f "$WORK/.done-v2-$MB" ]; then
    rm -rf "$WORK"
    "$BIN" generate "$DATA" "$WORK" "$MB"
    touch "$WORK/.done-v2-$MB"
fi

echo "== one core ($PIN), release build, inputs in $WORK (page cache warm after the first pass)"
for format in jsonl jsonl-small zeek access csv; do
    dir=$format
    fmt=$format
    case "$format" in jsonl*) fmt=json ;; esac
    cat "$WORK/$dir"/* > /dev/null
    $PIN "$BIN" run "$fmt" "$WORK/$dir"
    $PIN "$BIN" run "$fmt" "$WORK/$dir" --extra
done

cat "$WORK/evtx"/* > /dev/null
raw=$($PIN "$BIN" evtx-raw "$WORK/evtx")
ours=$($PIN "$BIN" run evtx "$WORK/evtx")
ours_extra=$($PIN "$BIN" run evtx "$WORK/evtx" --extra)
echo "$raw"
echo "$ours"
echo "$ours_extra"
wall() { sed -n 's/.* wall= *\([0-9.]*\)s.*/\1/p' <<<"$1"; }
cpu() { sed -n 's/.* cpu= *\([0-9.]*\)s.*/\1/p' <<<"$1"; }
awk -v r="$(wall "$raw")" -v o="$(wall "$ours")" -v e="$(wall "$ours_extra")" \
    -v rc="$(cpu "$raw")" -v oc="$(cpu "$ours")" -v ec="$(cpu "$ours_extra")" 'BEGIN {
    printf "EVTX ratio to the raw evtx crate (wall): %.2fx without extras, %.2fx with extras\n", o / r, e / r
    printf "EVTX ratio to the raw evtx crate (cpu):  %.2fx without extras, %.2fx with extras\n", oc / rc, ec / rc
}'
