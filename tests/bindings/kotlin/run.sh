#!/usr/bin/env bash
# Compiles the Kotlin program of this folder with the generated bindings
# (target/bindings/kotlin, from bindings-uniffi/generate.sh) and runs it on
# the JVM against target/debug/libroster_ffi.so. Installs what it needs when
# missing: kotlinc from npm (kotlin-compiler, into $ROSTER_TOOLS/kotlin,
# default ~/.cache/roster-tools/kotlin) and JNA from apt (libjna-java).
# Debian's own `kotlin` package (1.3) is too old for uniffi's Kotlin.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

KOTLIN_VERSION=2.4.20
ROSTER_TOOLS="${ROSTER_TOOLS:-$HOME/.cache/roster-tools}"
KOTLIN_PREFIX="$ROSTER_TOOLS/kotlin"
KOTLINC="$KOTLIN_PREFIX/node_modules/kotlin-compiler/bin/kotlinc"
JNA_JAR=/usr/share/java/jna.jar

if ! command -v java >/dev/null 2>&1; then
    echo "installing: a JDK (apt)"
    apt-get update -qq && apt-get install -y -qq default-jdk-headless
fi
if [[ ! -f "$JNA_JAR" ]]; then
    echo "installing: libjna-java (apt)"
    apt-get update -qq && apt-get install -y -qq libjna-java
fi
if [[ ! -x "$KOTLINC" ]] ||
    ! grep -q "\"version\": \"$KOTLIN_VERSION\"" "$KOTLIN_PREFIX/node_modules/kotlin-compiler/package.json"; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "installing: npm (apt)"
        apt-get update -qq && apt-get install -y -qq npm
    fi
    echo "installing: kotlin-compiler@$KOTLIN_VERSION (npm) into $KOTLIN_PREFIX"
    mkdir -p "$KOTLIN_PREFIX"
    npm install --prefix "$KOTLIN_PREFIX" --no-audit --no-fund --loglevel=error \
        "kotlin-compiler@$KOTLIN_VERSION"
fi

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
