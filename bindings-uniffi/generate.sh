#!/usr/bin/env bash
# Builds roster-ffi and generates its Kotlin, Swift and Python bindings:
#
#   bindings-uniffi/generate.sh [--release]
#
# into target/bindings/{kotlin,swift,python}. Python gets the layout of the
# installed package (bindings-uniffi/pyproject.toml): the package
# `roster_ffi` (bindings-uniffi/python/roster_ffi) with the generated modules
# and the shared library (libroster_ffi.so, .dylib on macOS) in its
# subpackage `_native`, so `import roster_ffi` works with
# target/bindings/python on sys.path as it does after `pip install`. The
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
python="$out/python/roster_ffi/_native"
for language in kotlin swift python; do
    case "$language" in
        python) dir="$python" ;;
        *) dir="$out/$language" ;;
    esac
    # --no-format: ktlint and swift-format are optional and rarely present.
    "target/$profile/uniffi-bindgen" generate --library "$lib" \
        --language "$language" --out-dir "$dir" --no-format
done
# What maturin adds to the wheel: the package's own files, the subpackage's
# __init__ (a star import of each generated module) and the library.
cp bindings-uniffi/python/roster_ffi/* "$out/python/roster_ffi/"
printf 'from .%s import *  # NOQA\n' roster roster_ffi >"$python/__init__.py"
cp "$lib" "$python/"
echo "bindings: $out/{kotlin,swift,python} (library: $lib)"
