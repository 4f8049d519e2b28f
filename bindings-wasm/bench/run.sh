#!/usr/bin/env bash
# The roster-vs-SQLite-WASM benchmark: builds the release web and node
# packages (bindings-wasm/build.sh, wasm-opt -Oz), then runs run.mjs:
# N users (default 100000) imported, looked up by email and searched by
# substring, in Node (in memory) and in headless Chromium (dedicated worker,
# OPFS); prints a table beside SQLite-WASM's and Dexie's published figures.
#
#   bindings-wasm/bench/run.sh [N]
#   tests/run wasm_bench
#
# A benchmark, not a test: it fails only when a step breaks. Takes about a
# minute for 100k users once the package is built.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$(dirname "$here")")"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=../tools.sh
source bindings-wasm/tools.sh
wasm_browser_ensure

build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
bindings-wasm/build.sh | tee "$build_log"
# build.sh's own figure: "... NNN bytes (x KB) gzipped -9 ..."
gz="$(sed -n 's/.* \([0-9]\+\) bytes ([0-9.]\+ KB) gzipped.*/\1/p' "$build_log" | tail -1)"

ROSTER_BENCH_GZ="${gz:-}" node bindings-wasm/bench/run.mjs "${1:-100000}"
