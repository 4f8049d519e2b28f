#!/usr/bin/env bash
# The roster-vs-SQLite-WASM benchmark: builds the release web and node
# packages (bindings-wasm/build.sh, wasm-opt -Oz), installs SQLite-WASM
# (npm, tools.sh), then runs run.mjs: in ONE dedicated worker of headless
# Chromium, N users (default 100000) go into roster (OPFS) and SQLite-WASM
# (opfs-sahpool), then both answer email lookups, `q` searches and a deep
# page; prints one table with the ratios (SQLite cost / roster cost) and bars.
#
#   bindings-wasm/bench/run.sh [N]
#   tests/run wasm_bench
#   ROSTER_BENCH_NODE=1 bindings-wasm/bench/run.sh    also both in memory in Node
#
# A benchmark, not a test: it fails only when a step breaks, never on a
# missed bar.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$(dirname "$here")")"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=../tools.sh
source bindings-wasm/tools.sh
wasm_browser_ensure
sqlite_wasm_ensure

build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
bindings-wasm/build.sh | tee "$build_log"
# build.sh's own figure: "... NNN bytes (x KB) gzipped -9 ..."
gz="$(sed -n 's/.* \([0-9]\+\) bytes ([0-9.]\+ KB) gzipped.*/\1/p' "$build_log" | tail -1)"

SQLITE_WASM_DIR="$SQLITE_WASM_DIR" ROSTER_BENCH_GZ="${gz:-}" node bindings-wasm/bench/run.mjs "${1:-100000}"
