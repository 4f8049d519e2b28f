#!/usr/bin/env bash
# Builds roster-ffi and generates its Kotlin, Swift and Python bindings:
#
#   bindings-uniffi/generate.sh [--release]
#
# into target/bindings/{kotlin,swift,python}, with the shared library
# (libroster_ffi.so, .dylib on macOS) copied beside the Python modules, so
# `import roster_ffi` works with target/bindings/python on sys.path. The
# static library (libroster_ffi.a, for iOS) stays in target/<profile>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=debug
cargo_flags=()
if [[ "${1:-}" == "--release" ]]; then
    profile=release
    cargo_flags+=(--release)
fi

case "$(uname -s)" in
    Darwin) lib="target/$profile/libroster_ffi.dylib" ;;
    *) lib="target/$profile/libroster_ffi.so" ;;
esac

cargo build -p roster-ffi ${cargo_flags[@]+"${cargo_flags[@]}"}

out=target/bindings
rm -rf "$out"
for language in kotlin swift python; do
    # --no-format: ktlint and swift-format are optional and rarely present.
    "target/$profile/uniffi-bindgen" generate --library "$lib" \
        --language "$language" --out-dir "$out/$language" --no-format
done
cp "$lib" "$out/python/"
echo "bindings: $out/{kotlin,swift,python} (library: $lib)"
