// The benchmark in Node, both stores in memory: roster (pkg/node,
// Institute.inMemory) and SQLite-WASM (its node build, ':memory:').
//   SQLITE_WASM_DIR=... node bindings-wasm/bench/node.mjs [N]
// prints one JSON line on stdout (run.mjs runs it when ROSTER_BENCH_NODE=1).
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, premadeHash, rosterStore, sqliteStore } from './suite.mjs';

const { Institute } = createRequire(import.meta.url)('../pkg/node/roster_wasm.js');
const dir = process.env.SQLITE_WASM_DIR;
if (!dir) throw new Error('SQLITE_WASM_DIR is not set (bindings-wasm/tools.sh: sqlite_wasm_ensure)');
const { default: sqlite3InitModule } = await import(pathToFileURL(path.join(dir, 'node.mjs')).href);
const log = (m) => console.error(`[node] ${m}`);

const n = Number(process.argv[2] || 100_000);
const sqlite3 = await sqlite3InitModule({ print: log, printErr: log });
const { hash, ms: hashMs } = premadeHash(Institute);
const institute = Institute.inMemory();
const db = new sqlite3.oo1.DB(':memory:');
const stores = { roster: rosterStore(institute), sqlite: sqliteStore(db) };
const out = compare(stores, hash, { n }, log);
out.hashMs = hashMs;
out.sqliteVersion = sqlite3.version.libVersion;
stores.roster.close();
stores.sqlite.close();
db.close();
institute.free();
console.log(JSON.stringify(out));
