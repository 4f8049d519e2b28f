// The benchmark in ONE dedicated Web Worker, both stores on OPFS: roster
// (pkg/web, Institute.openPersistent: the file <name>.redb) and SQLite-WASM
// (its opfs-sahpool VFS, in a pool directory of its own). Started by
// index.html with the options of suite.mjs's DEFAULTS to override; posts
// {log} messages, then {result} or {error}. Both stores are removed at the end.
import init, { Institute } from '../pkg/web/roster_wasm.js';
// Served by run.mjs from the npm package (bindings-wasm/tools.sh: sqlite_wasm_ensure).
import sqlite3InitModule from '/_vendor/sqlite-wasm/index.mjs';
import { compare, premadeHash, rosterStore, sqliteStore } from './suite.mjs';

const log = (m) => postMessage({ log: m });

onmessage = async ({ data: opts }) => {
  const name = `bench-${Date.now().toString(36)}`;
  const poolDir = `.${name}-sahpool`;
  const root = await navigator.storage.getDirectory();
  let institute = null;
  let pool = null;
  let db = null;
  let stores = null;
  try {
    let t = performance.now();
    await init();
    const initMs = performance.now() - t;
    // Only opfs-sahpool: the "opfs" VFSes (installed by default where
    // SharedArrayBuffer exists, as under COOP/COEP) would start a second
    // worker, their async proxy.
    globalThis.sqlite3ApiConfig = { disable: { vfs: { opfs: true, 'opfs-wl': true } } };
    t = performance.now();
    const sqlite3 = await sqlite3InitModule({ print: log, printErr: log });
    const sqliteInitMs = performance.now() - t;
    log(`init: roster ${initMs.toFixed(0)} ms, SQLite-WASM ${sqlite3.version.libVersion} ${sqliteInitMs.toFixed(0)} ms`);
    pool = await sqlite3.installOpfsSAHPoolVfs({ name: `sahpool-${name}`, directory: poolDir, clearOnInit: true });
    const vfs = ['opfs', 'opfs-wl', pool.vfsName].filter((v) => sqlite3.capi.sqlite3_vfs_find(v));
    log(`SQLite OPFS VFSes registered: ${vfs.join(', ')}`);

    const { hash, ms: hashMs } = premadeHash(Institute);
    log(`one argon2id hash (default cost): ${hashMs.toFixed(0)} ms`);
    institute = await Institute.openPersistent(name);
    db = new pool.OpfsSAHPoolDb('/bench.sqlite3');
    stores = { roster: rosterStore(institute), sqlite: sqliteStore(db) };
    const out = compare(stores, hash, opts, log);
    out.sqlite.fileBytes = stores.sqlite.bytes();
    out.sqlite.journalMode = db.selectValue('PRAGMA journal_mode');
    out.sqlite.synchronous = db.selectValue('PRAGMA synchronous');
    stores.roster.close();
    stores.sqlite.close();
    stores = null;
    institute.free(); // releases the OPFS sync handle
    institute = null;
    const file = await (await root.getFileHandle(`${name}.redb`)).getFile();
    out.roster.fileBytes = file.size;
    Object.assign(out, {
      hashMs, initMs, sqliteInitMs,
      sqliteVersion: sqlite3.version.libVersion,
      userAgent: navigator.userAgent,
      isolated: self.crossOriginIsolated,
    });
    postMessage({ result: out });
  } catch (e) {
    postMessage({ error: String((e && e.stack) || e) + (e && e.code ? ` (code ${e.code})` : '') });
  } finally {
    try {
      if (stores) { stores.roster.close(); stores.sqlite.close(); }
      if (db) db.close();
      if (institute) institute.free();
      if (pool) await pool.removeVfs();
    } catch { /* the step that failed has been reported */ }
    await root.removeEntry(`${name}.redb`).catch(() => {});
    await root.removeEntry(poolDir, { recursive: true }).catch(() => {});
  }
};
