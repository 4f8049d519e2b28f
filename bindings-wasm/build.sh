#!/usr/bin/env bash
# Builds the WebAssembly package of roster:
#
#   bindings-wasm/pkg/node/roster_wasm.js   CommonJS for Node (`require`)
#   bindings-wasm/pkg/web/roster_wasm.js    ES module for browsers and workers
#
# each with its TypeScript declarations (roster_wasm.d.ts), and one
# roster_wasm_bg.wasm (optimized by wasm-opt -Oz) in pkg/web that both load.
# With js/ (the Worker client) they make the npm package that
# bindings-wasm/package.json describes (`npm pack` in bindings-wasm/ after
# this script; tests/npm/package.sh does it and installs the tarball).
# Installs its tools on first use (tools.sh), then prints the raw and
# gzipped size of the web module.
#
#   bindings-wasm/build.sh                  build, or only check when up to date
#   ROSTER_WASM_FORCE=1 bindings-wasm/build.sh   redo wasm-bindgen and wasm-opt
#   ROSTER_WASM_NO_OPT=1 bindings-wasm/build.sh  skip wasm-opt (quicker, larger)
#
# The Rust build uses the profile `wasm-release`, defined below on cargo's
# command line (release, optimized for size; argon2 and blake2 for speed),
# so that it neither touches nor is touched by the workspace's release
# builds. Output: target/wasm32-unknown-unknown/wasm-release/roster_wasm.wasm.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=tools.sh
source "$here/tools.sh"

# Size budget of the gzipped web module (reported, not enforced).
BUDGET_GZ_KB=250

PROFILE=wasm-release
# A [profile.wasm-release] in the workspace Cargo.toml would be overridden
# key by key by these (cargo's --config wins over the manifest).
# opt-level "z" gives the smaller module after wasm-opt (648 KB gzipped
# against 714 KB for "s", step 7); panic is abort on this target already,
# and `strip` must stay off: it drops the target_features custom section,
# from which wasm-bindgen learns that it may use reference types.
PROFILE_CONFIG=(
    --config "profile.$PROFILE.inherits=\"release\""
    --config "profile.$PROFILE.opt-level=\"z\""
    --config "profile.$PROFILE.lto=true"
    --config "profile.$PROFILE.codegen-units=1"
    --config "profile.$PROFILE.package.argon2.opt-level=3"
    --config "profile.$PROFILE.package.blake2.opt-level=3"
)

# wasm-opt must be told every feature the module uses: current Rust emits
# bulk memory, non-trapping float-to-int, sign extension, mutable globals,
# multi-value and reference types by default, and wasm-bindgen uses
# reference types (externref) when the module allows them.
WASM_OPT_FLAGS=(
    -Oz
    --enable-bulk-memory
    --enable-nontrapping-float-to-int
    --enable-sign-ext
    --enable-mutable-globals
    --enable-multivalue
    --enable-reference-types
    # Custom sections no runtime reads (toolchain names, the feature list
    # wasm-bindgen has already used).
    --strip-producers
    --strip-target-features
    # Lets wasm-opt fold `load/store (p + C)` (C < 1024) into the access's
    # offset field. The add wraps modulo 2^32 and the offset does not, so
    # the two differ only for p >= 2^32 - C, an address no Rust pointer
    # holds (the memory is far below 4 GB; the stack starts at 1 MB and grows
    # down, so a wrapped address would be a stack overflow either way).
    # 2306786 -> 2291485 bytes raw, 859322 -> 852794 gzipped -9 (-6.4 KB).
    --low-memory-unused
    # No inlining of a function into its only caller just because it has
    # one (binaryen's default inlines such functions at any size): merging
    # large bodies into larger ones (the router, the store's write closures)
    # makes the module 52 KB larger raw but compresses far worse. Small
    # functions are still inlined as usual; inlining never changes behaviour.
    # Cost: fewer std BTreeMap helpers inlined; 1500 createUser calls on an
    # in-memory Institute in Node take about 15% longer (size 100: -42 KB
    # gzipped, about 6% slower; 200: -24 KB, no measurable cost).
    # 2291485 -> 2343526 bytes raw, 852794 -> 779148 gzipped -9 (-71.9 KB).
    --one-caller-inline-max-function-size=0
)

step() {
    printf -- '--- %s\n' "$*"
}

wasm_tools_ensure

step "cargo build -p roster-wasm --lib --target wasm32-unknown-unknown --profile $PROFILE"
cargo build -p roster-wasm --lib --target wasm32-unknown-unknown \
    --profile "$PROFILE" "${PROFILE_CONFIG[@]}"

target_dir="$(cargo metadata --format-version 1 --no-deps \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
raw_wasm="$target_dir/wasm32-unknown-unknown/$PROFILE/roster_wasm.wasm"
[[ -f "$raw_wasm" ]] || {
    echo "error: $raw_wasm was not built" >&2
    exit 1
}

pkg="$here/pkg"
stamp="$pkg/.build-stamp"
# Everything the package is made from: the module, the tools, the flags,
# this script.
fingerprint="$(
    {
        sha256sum <"$raw_wasm"
        sha256sum <"$here/build.sh"
        "$WASM_BINDGEN" --version
        "$WASM_OPT" --version
        echo "${ROSTER_WASM_NO_OPT:-opt} ${WASM_OPT_FLAGS[*]}"
    } | sha256sum | cut -d' ' -f1
)"

if [[ -z "${ROSTER_WASM_FORCE:-}" && -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" \
    && -f "$pkg/node/roster_wasm.js" && -f "$pkg/node/package.json" && -f "$pkg/web/roster_wasm.js" ]]; then
    step "pkg/node and pkg/web are up to date"
else
    rm -f "$stamp"
    for target in nodejs web; do
        case "$target" in
            nodejs) out="$pkg/node" ;;
            web) out="$pkg/web" ;;
        esac
        step "wasm-bindgen --target $target --out-dir ${out#"$root"/}"
        rm -rf "$out"
        "$WASM_BINDGEN" --target "$target" --typescript --out-dir "$out" \
            --out-name roster_wasm "$raw_wasm"
    done
    # bindings-wasm/package.json (the npm package) says "type": "module",
    # true of pkg/web and js/; pkg/node is CommonJS and says so here.
    printf '{\n  "type": "commonjs"\n}\n' >"$pkg/node/package.json"
    if [[ -z "${ROSTER_WASM_NO_OPT:-}" ]]; then
        # Both targets get the same module from wasm-bindgen; optimize once
        # when they are identical (wasm-opt -Oz takes about a minute).
        step "wasm-opt ${WASM_OPT_FLAGS[*]} pkg/web/roster_wasm_bg.wasm"
        "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$pkg/web/roster_wasm_bg.wasm" \
            -o "$pkg/web/roster_wasm_bg.wasm.opt"
        if cmp -s "$pkg/web/roster_wasm_bg.wasm" "$pkg/node/roster_wasm_bg.wasm"; then
            cp "$pkg/web/roster_wasm_bg.wasm.opt" "$pkg/node/roster_wasm_bg.wasm"
        else
            step "wasm-opt ${WASM_OPT_FLAGS[*]} pkg/node/roster_wasm_bg.wasm"
            "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$pkg/node/roster_wasm_bg.wasm" \
                -o "$pkg/node/roster_wasm_bg.wasm.opt"
            mv "$pkg/node/roster_wasm_bg.wasm.opt" "$pkg/node/roster_wasm_bg.wasm"
        fi
        mv "$pkg/web/roster_wasm_bg.wasm.opt" "$pkg/web/roster_wasm_bg.wasm"
    fi
    # One module for both when they are the same (they are, from this
    # crate): pkg/node's glue loads pkg/web's, and the npm package carries
    # the 2 MB once. The glue's line is checked, so that a wasm-bindgen
    # that writes it otherwise fails here rather than at `require`.
    if cmp -s "$pkg/web/roster_wasm_bg.wasm" "$pkg/node/roster_wasm_bg.wasm"; then
        glue="$pkg/node/roster_wasm.js"
        # shellcheck disable=SC2016 # ${__dirname} is JavaScript, not shell
        load='const wasmPath = `${__dirname}/roster_wasm_bg.wasm`;'
        if [[ "$(grep -cxF -- "$load" "$glue")" != 1 ]]; then
            echo "error: $glue does not load its module with: $load" >&2
            exit 1
        fi
        step "pkg/node/roster_wasm.js loads pkg/web/roster_wasm_bg.wasm (the same module)"
        # shellcheck disable=SC2016
        sed -i 's|^const wasmPath = `${__dirname}/roster_wasm_bg.wasm`;$|const wasmPath = `${__dirname}/../web/roster_wasm_bg.wasm`;|' "$glue"
        rm "$pkg/node/roster_wasm_bg.wasm"
    fi

    # The optimized module must still load and answer: wasm-opt given the
    # wrong features, or a broken wasm-opt, can emit a module that
    # validates and then misbehaves.
    step "smoke test: require('pkg/node/roster_wasm.js') signs in"
    node -e '
const { Institute } = require(process.argv[1]);
const i = Institute.inMemory({ argon2: { mKib: 64, t: 1, p: 1 } });
i.createSuperuser("admin", "Adm1n-Pass!");
const r = i.handle("POST", "/api/v2.5/auth-token/", { "content-type": "application/json" },
                   JSON.stringify({ username: "admin", password: "Adm1n-Pass!" }));
if (r.status !== 200 || !/^[0-9a-f]{64}$/.test(JSON.parse(r.body).token)) {
  console.error("unexpected answer", r);
  process.exit(1);
}
i.free();
' "$pkg/node/roster_wasm.js"
    echo "$fingerprint" >"$stamp"
fi

web_wasm="$pkg/web/roster_wasm_bg.wasm"
raw_bytes=$(wc -c <"$web_wasm")
gz_bytes=$(gzip -9 -c "$web_wasm" | wc -c)
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
over=""
((gz_bytes <= BUDGET_GZ_KB * 1024)) || over=" (OVER BUDGET)"
echo "--- size of pkg/web/roster_wasm_bg.wasm: $raw_bytes bytes ($(kb "$raw_bytes") KB) raw," \
    "$gz_bytes bytes ($(kb "$gz_bytes") KB) gzipped -9; budget $BUDGET_GZ_KB KB gzipped$over"
