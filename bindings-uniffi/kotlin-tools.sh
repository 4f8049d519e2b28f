# shellcheck shell=bash
# The tools that compile and run roster-ffi's Kotlin bindings, installed
# idempotently. Sourced by bindings-uniffi/jar.sh, tests/bindings/kotlin/run.sh
# and tests/run; defines functions and paths only. `kotlin_tools_ensure`
# installs, when missing, and sets KOTLINC and JNA_JAR:
#   - a JDK (apt default-jdk-headless) when there is no `java`/`jar`;
#   - JNA (apt libjna-java, /usr/share/java/jna.jar);
#   - kotlinc $KOTLIN_VERSION from npm (kotlin-compiler) into
#     $ROSTER_TOOLS/kotlin (default ~/.cache/roster-tools/kotlin). Debian's
#     own `kotlin` package (1.3) is too old for uniffi's Kotlin.
# `kotlin_coroutines_ensure` installs kotlinx-coroutines (apt
# libkotlinx-coroutines-java) and the atomicfu it needs at run time but does
# not declare (libkotlinx-atomicfu-java); COROUTINES_CP is both jars.

KOTLIN_VERSION=2.4.20
ROSTER_TOOLS="${ROSTER_TOOLS:-$HOME/.cache/roster-tools}"
KOTLIN_PREFIX="$ROSTER_TOOLS/kotlin"
KOTLINC="$KOTLIN_PREFIX/node_modules/kotlin-compiler/bin/kotlinc"
JNA_JAR=/usr/share/java/jna.jar
COROUTINES_JAR=/usr/share/java/kotlinx-coroutines-core.jar
ATOMICFU_JAR=/usr/share/java/atomicfu.jar
COROUTINES_CP="$COROUTINES_JAR:$ATOMICFU_JAR"

kotlin_tools_ensure() {
    if ! command -v java >/dev/null 2>&1 || ! command -v jar >/dev/null 2>&1; then
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
}

kotlin_coroutines_ensure() {
    if [[ ! -f "$COROUTINES_JAR" || ! -f "$ATOMICFU_JAR" ]]; then
        echo "installing: libkotlinx-coroutines-java libkotlinx-atomicfu-java (apt)"
        apt-get update -qq &&
            apt-get install -y -qq libkotlinx-coroutines-java libkotlinx-atomicfu-java
    fi
}
