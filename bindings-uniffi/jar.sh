#!/usr/bin/env bash
# Builds the JVM package of roster-ffi: one JAR with the compiled Kotlin
# bindings (packages uniffi.roster_ffi and uniffi.roster) and this host's
# shared library, optimised and stripped, where JNA looks for it on the
# class path (<os>-<arch>/lib<name>, e.g. linux-x86-64/libroster_ffi.so):
#
#   bindings-uniffi/jar.sh      # -> target/jvm/roster-ffi-<version>.jar
#
# Use it with JNA and the Kotlin standard library on the class path; no
# -Djna.library.path is needed. Installs kotlinc (npm), JNA (apt) and a JDK
# when missing (bindings-uniffi/kotlin-tools.sh). One host's library only:
# Android (an AAR) and iOS (an xcframework) are described in the README.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source-path=SCRIPTDIR source=kotlin-tools.sh
source bindings-uniffi/kotlin-tools.sh
kotlin_tools_ensure

# JNA's resource prefix of this host (com.sun.jna.Platform.RESOURCE_PREFIX).
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-x86-64 lib=libroster_ffi.so ;;
    Linux-aarch64) platform=linux-aarch64 lib=libroster_ffi.so ;;
    Darwin-x86_64) platform=darwin-x86-64 lib=libroster_ffi.dylib ;;
    Darwin-arm64) platform=darwin-aarch64 lib=libroster_ffi.dylib ;;
    *)
        echo "error: no JNA resource prefix known for $(uname -s) $(uname -m)" >&2
        exit 1
        ;;
esac

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
out=target/jvm
build="$out/build"
jar_file="$out/roster-ffi-$version.jar"

# The library optimised (the lib target only: the generator below is the
# debug one, which reads any build's metadata).
cargo build --release -p roster-ffi --lib
cargo build -p roster-ffi --bin uniffi-bindgen

rm -rf "$build" "$jar_file"
mkdir -p "$build/classes" "$build/native/$platform"
cp "target/release/$lib" "$build/native/$platform/$lib"
case "$(uname -s)" in
    Darwin) strip -x "$build/native/$platform/$lib" ;;
    *) strip --strip-unneeded "$build/native/$platform/$lib" ;;
esac

target/debug/uniffi-bindgen generate --library "target/release/$lib" \
    --language kotlin --out-dir "$build/src" --no-format

echo "kotlinc: the generated bindings -> $build/classes"
mapfile -t sources < <(find "$build/src" -name '*.kt' | sort)
"$KOTLINC" -nowarn -module-name roster_ffi -cp "$JNA_JAR" "${sources[@]}" -d "$build/classes"

jar --create --file "$jar_file" -C "$build/classes" . -C "$build/native" .
echo "jar: $jar_file ($(du -h "$jar_file" | cut -f1); $platform/$lib inside)"
