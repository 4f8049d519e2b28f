#!/usr/bin/env bash
# Compiles the Kotlin program of this folder with the generated bindings
# (target/bindings/kotlin, from bindings-uniffi/generate.sh) and runs it on
# the JVM against target/debug/libroster_ffi.so. Installs what it needs when
# missing (bindings-uniffi/kotlin-tools.sh): kotlinc from npm
# (kotlin-compiler, into $ROSTER_TOOLS/kotlin, default
# ~/.cache/roster-tools/kotlin) and JNA from apt (libjna-java).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

# shellcheck source-path=SCRIPTDIR source=../../../bindings-uniffi/kotlin-tools.sh
source bindings-uniffi/kotlin-tools.sh
kotlin_tools_ensure

bindings=target/bindings/kotlin
build=target/bindings-tests/kotlin
if [[ ! -d "$bindings/uniffi/roster_ffi" ]]; then
    echo "error: no Kotlin bindings in $bindings; run bindings-uniffi/generate.sh first" >&2
    exit 1
fi
rm -rf "$build"
mkdir -p "$build"

echo "kotlinc: the generated bindings and tests/bindings/kotlin/*.kt"
mapfile -t sources < <(find "$bindings" tests/bindings/kotlin -name '*.kt' | sort)
"$KOTLINC" -nowarn -cp "$JNA_JAR" "${sources[@]}" -include-runtime -d "$build/app.jar"

echo "java: the app flow against target/debug/libroster_ffi.so"
java -Djna.library.path="$PWD/target/debug" -cp "$build/app.jar:$JNA_JAR" AppKt
