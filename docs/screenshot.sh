#!/usr/bin/env bash
# Regenerates docs/report.png, the README's picture of the HTML report: runs the demo (release
# build) and photographs its report.html in headless Chromium (Debian package `chromium`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo run --release -q -- demo --out "$out/demo" -q >/dev/null
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$out/profile" --hide-scrollbars --window-size=1400,1800 \
  --virtual-time-budget=8000 --screenshot="$out/report.png" "file://$out/demo/report.html" 2>/dev/null
mv "$out/report.png" docs/report.png
echo "docs/report.png updated"
