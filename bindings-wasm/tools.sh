# shellcheck shell=bash
# The tools that build and test roster-wasm, installed idempotently into a
# cache folder outside the repository (default ~/.cache/roster-tools, or
# $ROSTER_TOOLS). Sourced by build.sh and tests/run; defines functions only.
#
#   wasm_tools_ensure      target wasm32-unknown-unknown, wasm-bindgen-cli, binaryen
#   wasm_browser_ensure    chromium + chromium-driver (apt), for the browser tests
#   sqlite_wasm_ensure     @sqlite.org/sqlite-wasm (npm), for the browser benchmark
#   typescript_ensure      typescript (npm), to compile a program against the .d.ts
#   types_node_ensure      @types/node (npm), for a Node-only program (`--types node`)
#
# After `wasm_tools_ensure`, $WASM_BINDGEN, $WASM_BINDGEN_TEST_RUNNER and
# $WASM_OPT name the binaries to run; after `sqlite_wasm_ensure`,
# $SQLITE_WASM_DIR is the folder of its ES modules and sqlite3.wasm; after
# `typescript_ensure`, $TSC is the compiler; after `types_node_ensure`,
# $TYPES_ROOT is a `typeRoots` folder that holds `node`.

ROSTER_TOOLS="${ROSTER_TOOLS:-$HOME/.cache/roster-tools}"
# wasm-bindgen-cli must match the `wasm-bindgen` crate version exactly
# (bindings-wasm/Cargo.toml pins it with `=`).
WASM_BINDGEN_VERSION=0.2.130
# binaryen from npm: Debian's binaryen 108 silently corrupts the modules the
# current Rust emits; never fall back to a wasm-opt found on PATH.
BINARYEN_VERSION=132
# SQLite-WASM, the browser benchmark's yardstick (bindings-wasm/bench): an
# exact build, so that its figures compare across runs. Its build has FTS5
# and the trigram tokenizer, and the opfs-sahpool VFS.
SQLITE_WASM_VERSION=3.53.4-build2
# The TypeScript compiler that checks the generated declarations.
TYPESCRIPT_VERSION=5.9.3
# Node's own declarations, for the npm package's Node-only typecheck: the
# line of the Node the tests run on (20).
TYPES_NODE_VERSION=20.19.43

WASM_BINDGEN="$ROSTER_TOOLS/bin/wasm-bindgen"
WASM_BINDGEN_TEST_RUNNER="$ROSTER_TOOLS/bin/wasm-bindgen-test-runner"
WASM_OPT="$ROSTER_TOOLS/npm/node_modules/.bin/wasm-opt"
SQLITE_WASM_DIR="$ROSTER_TOOLS/npm/node_modules/@sqlite.org/sqlite-wasm/dist"
TSC="$ROSTER_TOOLS/npm/node_modules/.bin/tsc"
TYPES_ROOT="$ROSTER_TOOLS/npm/node_modules/@types"

wasm_target_ensure() {
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
        echo "installing: rust target wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown
    fi
}

wasm_bindgen_ensure() {
    if [[ -x "$WASM_BINDGEN" && -x "$WASM_BINDGEN_TEST_RUNNER" ]] \
        && [[ "$("$WASM_BINDGEN" --version 2>/dev/null)" == "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
        return 0
    fi
    echo "installing: wasm-bindgen-cli $WASM_BINDGEN_VERSION into $ROSTER_TOOLS (a few minutes, once)"
    mkdir -p "$ROSTER_TOOLS"
    # Not --locked: the crate's own lock file no longer builds on current Rust.
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" \
        --root "$ROSTER_TOOLS" --force
    [[ "$("$WASM_BINDGEN" --version)" == "wasm-bindgen $WASM_BINDGEN_VERSION" ]]
}

binaryen_ensure() {
    if [[ -x "$WASM_OPT" ]] \
        && "$WASM_OPT" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION\b"; then
        return 0
    fi
    echo "installing: binaryen@$BINARYEN_VERSION (npm) into $ROSTER_TOOLS/npm"
    mkdir -p "$ROSTER_TOOLS/npm"
    npm install --prefix "$ROSTER_TOOLS/npm" --no-audit --no-fund --loglevel=error \
        "binaryen@$BINARYEN_VERSION"
    "$WASM_OPT" --version | grep -q "version $BINARYEN_VERSION\b"
}

sqlite_wasm_ensure() {
    local manifest="$ROSTER_TOOLS/npm/node_modules/@sqlite.org/sqlite-wasm/package.json"
    if [[ -f "$SQLITE_WASM_DIR/index.mjs" && -f "$SQLITE_WASM_DIR/sqlite3.wasm" ]] \
        && grep -q "\"version\": *\"$SQLITE_WASM_VERSION\"" "$manifest" 2>/dev/null; then
        return 0
    fi
    echo "installing: @sqlite.org/sqlite-wasm@$SQLITE_WASM_VERSION (npm) into $ROSTER_TOOLS/npm"
    mkdir -p "$ROSTER_TOOLS/npm"
    npm install --prefix "$ROSTER_TOOLS/npm" --no-audit --no-fund --loglevel=error --save-exact \
        "@sqlite.org/sqlite-wasm@$SQLITE_WASM_VERSION"
    grep -q "\"version\": *\"$SQLITE_WASM_VERSION\"" "$manifest"
}

wasm_tools_ensure() {
    wasm_target_ensure
    wasm_bindgen_ensure
    binaryen_ensure
}

wasm_browser_ensure() {
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        return 0
    fi
    echo "installing: chromium chromium-driver (apt)"
    local sudo=()
    if ((EUID != 0)); then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium chromium-driver
    [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]
}

typescript_ensure() {
    if [[ -x "$TSC" ]] && [[ "$("$TSC" --version 2>/dev/null)" == "Version $TYPESCRIPT_VERSION" ]]; then
        return 0
    fi
    echo "installing: typescript@$TYPESCRIPT_VERSION (npm) into $ROSTER_TOOLS/npm"
    mkdir -p "$ROSTER_TOOLS/npm"
    npm install --prefix "$ROSTER_TOOLS/npm" --no-audit --no-fund --loglevel=error --save-exact \
        "typescript@$TYPESCRIPT_VERSION"
    [[ "$("$TSC" --version)" == "Version $TYPESCRIPT_VERSION" ]]
}

types_node_ensure() {
    local manifest="$TYPES_ROOT/node/package.json"
    if grep -q "\"version\": *\"$TYPES_NODE_VERSION\"" "$manifest" 2>/dev/null; then
        return 0
    fi
    echo "installing: @types/node@$TYPES_NODE_VERSION (npm) into $ROSTER_TOOLS/npm"
    mkdir -p "$ROSTER_TOOLS/npm"
    npm install --prefix "$ROSTER_TOOLS/npm" --no-audit --no-fund --loglevel=error --save-exact \
        "@types/node@$TYPES_NODE_VERSION"
    grep -q "\"version\": *\"$TYPES_NODE_VERSION\"" "$manifest"
}
