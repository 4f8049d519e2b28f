#!/usr/bin/env bash
# Smoke run of the fuzz targets: installs cargo-fuzz (once) into
# ${ROSTER_TOOLS:-$HOME/.cache/roster-tools} and runs each target for
# ${FUZZ_SECONDS:-5} seconds on the stable toolchain (RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass its -Z flags). Sanitizer: ${FUZZ_SANITIZER:-none} (address
# works too but triples the first build); --dev (unoptimised) keeps the
# first build near 45 s. Any crash fails the run; libFuzzer
# leaves the input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

tools="${ROSTER_TOOLS:-$HOME/.cache/roster-tools}"
export PATH="$tools/bin:$PATH"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz into $tools"
    cargo install --locked cargo-fuzz --root "$tools"
fi

seconds="${FUZZ_SECONDS:-5}"
sanitizer="${FUZZ_SANITIZER:-none}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in rest_handle validators model; do
    echo "-- cargo fuzz run --dev --sanitizer $sanitizer $target -- -max_total_time=$seconds"
    if ! RUSTC_BOOTSTRAP=1 cargo fuzz run --dev --sanitizer "$sanitizer" "$target" -- \
        -max_total_time="$seconds" >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz target $target failed (input saved under fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    grep -E 'DONE|^Done' "$log"
done
