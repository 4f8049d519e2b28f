#!/usr/bin/env bash
# The WebAssembly package as npm users get it: build it, `npm pack` it
# (bindings-wasm/package.json), install the tarball into a scratch project
# in a temporary folder outside the repository, and use it from there only:
#
#   1. the manifest agrees with the crate (version, license) and the tarball
#      holds what its `exports` name, and nothing of the build's own;
#   2. `npm install --offline <tarball>`: the package has no dependencies;
#   3. tsc --strict (TypeScript 5, skipLibCheck off, so the shipped .d.ts are
#      checked too) on a Node program, `lib: es2022` + `types: node`
#      (the `node` condition), which then runs: an in-memory institute, a
#      user, a REST path, RosterError codes (tests/npm/node-app.ts);
#   4. `require()` of the package from CommonJS;
#   5. tsc --strict on a page's program, `lib: es2022, dom` (the default and
#      `./client` exports; tests/npm/browser-app.ts);
#   6. the example page in headless Chromium on the installed package's
#      files (tests/js/browser/ with ROSTER_PACKAGE_DIR).
#
# TypeScript and @types/node come from npm into ~/.cache/roster-tools
# (bindings-wasm/tools.sh); Chromium from apt. Keeps the scratch folder
# when ROSTER_KEEP_SCRATCH is set.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=../../bindings-wasm/tools.sh
source bindings-wasm/tools.sh

step() {
    printf -- '--- %s\n' "$*"
}

started=$SECONDS
typescript_ensure
types_node_ensure
wasm_browser_ensure
bindings-wasm/build.sh

scratch="$(mktemp -d "${TMPDIR:-/tmp}/roster-npm.XXXXXX")"
cleanup() {
    if [[ -n "${ROSTER_KEEP_SCRATCH:-}" ]]; then
        echo "scratch project kept: $scratch"
    else
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

step "manifest: bindings-wasm/package.json agrees with crate roster-wasm"
cargo metadata --format-version 1 --no-deps | node -e '
let s = "";
process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const crate = JSON.parse(s).packages.find((p) => p.name === "roster-wasm");
  const pkg = require(process.argv[1]);
  const wrong = [];
  if (pkg.version !== crate.version) wrong.push(`version ${pkg.version}, the crate ${crate.version}`);
  if (pkg.license !== crate.license) wrong.push(`license ${pkg.license}, the crate ${crate.license}`);
  if (wrong.length) { console.error("bindings-wasm/package.json:", wrong.join("; ")); process.exit(1); }
});' "$root/bindings-wasm/package.json"

step "npm pack (bindings-wasm)"
tarball="$(cd bindings-wasm && npm pack --silent --pack-destination "$scratch")"
tarball="$scratch/$tarball"
bytes=$(wc -c <"$tarball")
echo "$(basename "$tarball"): $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1024 }') KB)"
# The files of the tarball are those `files` lists, each present.
tar -tzf "$tarball" | sed 's|^package/||' | sort >"$scratch/contents"
node -e '
const fs = require("fs");
const pkg = require(process.argv[1]);
const have = fs.readFileSync(process.argv[2], "utf8").trim().split("\n");
const want = ["package.json", ...pkg.files].sort();
const missing = want.filter((f) => !have.includes(f));
const extra = have.filter((f) => !want.includes(f));
if (missing.length || extra.length) {
  console.error("tarball contents: missing", missing, "unexpected", extra);
  process.exit(1);
}' "$root/bindings-wasm/package.json" "$scratch/contents"

step "a scratch project outside the repository: npm install --offline the tarball"
app="$scratch/app"
mkdir -p "$app"
cp tests/npm/node-app.ts tests/npm/browser-app.ts "$app/"
cat >"$app/package.json" <<'JSON'
{
  "name": "roster-npm-scratch",
  "private": true,
  "type": "module"
}
JSON
(cd "$app" && npm install --offline --no-audit --no-fund --loglevel=error "$tarball")
installed="$app/node_modules/@roster-admin/roster"
[[ -f "$installed/pkg/web/roster_wasm_bg.wasm" ]]

step "tsc --strict, lib es2022 + types node: node-app.ts (the node condition)"
cat >"$app/tsconfig.node.json" <<JSON
{
  "compilerOptions": {
    "strict": true,
    "skipLibCheck": false,
    "target": "es2022",
    "lib": ["es2022"],
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "typeRoots": ["$TYPES_ROOT"],
    "types": ["node"],
    "outDir": "dist"
  },
  "files": ["node-app.ts"]
}
JSON
(cd "$app" && "$TSC" -p tsconfig.node.json)

step "node dist/node-app.js"
(cd "$app" && node dist/node-app.js)

step "require('@roster-admin/roster') from CommonJS"
(cd "$app" && node -e '
const { Institute, RosterError } = require("@roster-admin/roster");
const i = Institute.inMemory({ argon2: { mKib: 64, t: 1, p: 1 } });
try { i.login("nobody", "x"); process.exit(1); } catch (e) {
  if (!(e instanceof RosterError) || e.code !== "unauthenticated") throw e;
}
i.free();
console.log("require: ok");')

step "tsc --strict, lib es2022 + dom: browser-app.ts (the default and ./client exports)"
cat >"$app/tsconfig.dom.json" <<'JSON'
{
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "skipLibCheck": false,
    "target": "es2022",
    "lib": ["es2022", "dom"],
    "module": "es2022",
    "moduleResolution": "bundler",
    "types": []
  },
  "files": ["browser-app.ts"]
}
JSON
(cd "$app" && "$TSC" -p tsconfig.dom.json)

step "the example page in headless Chromium, on the installed package's js/ and pkg/"
ROSTER_PACKAGE_DIR="$installed" node --test tests/js/browser/

echo "--- npm package: $(basename "$tarball") $bytes bytes; $((SECONDS - started)) s"
