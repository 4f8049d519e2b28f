// Drives the benchmark: headless Chromium (one dedicated worker, OPFS,
// pkg/web beside SQLite-WASM's opfs-sahpool) through chromedriver's
// WebDriver HTTP API with fetch (no npm packages for the driver), then prints
// one table: roster, SQLite-WASM, ratio (SQLite cost / roster cost), bar.
//
//   node bindings-wasm/bench/run.mjs [N]       (N users, default 100000)
//
// Environment: SQLITE_WASM_DIR (the npm package's dist folder; set by run.sh
// from bindings-wasm/tools.sh), CHROMEDRIVER (default /usr/bin/chromedriver),
// CHROMIUM (default /usr/bin/chromium), ROSTER_BENCH_GZ (gzipped bytes of
// pkg/web's .wasm; measured here when unset), ROSTER_BENCH_NODE=1 (also run
// both stores in memory in Node, pkg/node), ROSTER_BENCH_NO_ISOLATION=1
// (serve without COOP/COEP: coarser timers, shows opfs-sahpool needs none).
//
// A benchmark, not a test: it fails when a step breaks (or the two stores
// count different matches), never on a missed bar.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebDriver, freePort, serveRepository, sleep } from '../../tests/js/browser/webdriver.mjs';
import { DEFAULTS, PER_PAGE } from './suite.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const CHROMEDRIVER = process.env.CHROMEDRIVER || '/usr/bin/chromedriver';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SQLITE_WASM_DIR = process.env.SQLITE_WASM_DIR;
const N = Number(process.argv[2] || DEFAULTS.n);
const BROWSER_TIMEOUT_MS = 1_200_000;
const BAR_GZ_KB = 250;

if (!SQLITE_WASM_DIR) throw new Error('SQLITE_WASM_DIR is not set: run bindings-wasm/bench/run.sh');

function runNode() {
  const stdout = execFileSync(process.execPath, [path.join(HERE, 'node.mjs'), String(N)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: BROWSER_TIMEOUT_MS,
  });
  return JSON.parse(stdout.toString().trim().split('\n').pop());
}

async function runBrowser() {
  // Cross-origin isolation: performance.now() then has 5 µs steps instead of
  // 100 µs, which the per-lookup timings need. opfs-sahpool itself does not
  // need it (ROSTER_BENCH_NO_ISOLATION=1 shows it).
  const headers = process.env.ROSTER_BENCH_NO_ISOLATION
    ? {}
    : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  const server = await serveRepository(ROOT, headers, { '/_vendor/sqlite-wasm/': SQLITE_WASM_DIR });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const port = await freePort();
  const chromedriver = spawn(CHROMEDRIVER, [`--port=${port}`, '--allowed-ips=127.0.0.1'], { stdio: 'ignore' });
  const driver = new WebDriver(`http://127.0.0.1:${port}`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'roster-bench-chromium-'));
  try {
    const deadline = Date.now() + 15_000;
    while (!(await driver.send('GET', '/status').then((s) => s.ready, () => false))) {
      if (Date.now() > deadline) throw new Error('chromedriver did not start');
      await sleep(100);
    }
    const args = [
      '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`,
    ];
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    await driver.start({ browserName: 'chrome', 'goog:chromeOptions': { binary: CHROMIUM, args } });
    await driver.cmd('POST', '/url', { url: `${origin}/bindings-wasm/bench/index.html?n=${N}` });
    const end = Date.now() + BROWSER_TIMEOUT_MS;
    let shown = 0;
    for (;;) {
      const state = await driver.exec('return window.bench ? { logs: window.bench.logs, result: window.bench.result, error: window.bench.error } : null;');
      if (state) {
        for (; shown < state.logs.length; shown++) console.error(`[chromium] ${state.logs[shown]}`);
        if (state.error) throw new Error(`the benchmark failed in the browser: ${state.error}`);
        if (state.result) return state.result;
      }
      if (Date.now() > end) throw new Error(`the browser run took over ${BROWSER_TIMEOUT_MS / 1000} s`);
      await sleep(500);
    }
  } finally {
    await driver.stop();
    chromedriver.kill();
    await new Promise((resolve) => server.close(resolve));
    rmSync(profile, { recursive: true, force: true });
  }
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => `| ${r.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const label = N % 1000 === 0 ? `${N / 1000}k` : String(N);
const fmtS = (ms) => `${(ms / 1000).toFixed(2)} s (${Math.round(N / (ms / 1000))}/s)`;
const fmtUs = (s) => `${(s.p50 * 1000).toFixed(0)} µs (mean ${(s.mean * 1000).toFixed(1)})`;
const fmtMs = (s) => `${s.p50.toFixed(2)} ms`;
const verdict = (ratio) => (Number.isFinite(ratio) && ratio > 0 ? (ratio >= 1 ? 'meets' : 'misses') : 'timer too coarse');

/** The table of one run: rows of [operation, roster, SQLite, ratio, bar, verdict]. */
function comparison(r, extra = []) {
  const row = (name, fmt, a, b, ratio) => [name, fmt(a), fmt(b), ratio.toFixed(2), '≥ 1', verdict(ratio)];
  const last = r.roster.deep.page;
  return [
    ['operation', 'roster', 'SQLite-WASM', 'ratio (SQLite/roster)', 'bar', 'roster'],
    row(`insert ${label} users, ${Math.min(DEFAULTS.chunk, N)} per transaction`, fmtS, r.roster.insertMs, r.sqlite.insertMs, r.sqlite.insertMs / r.roster.insertMs),
    row('email lookup, p50', fmtUs, r.roster.email, r.sqlite.email, r.sqlite.email.p50 / r.roster.email.p50),
    row(`first ${PER_PAGE} q matches + count, 3-4 chars, p50`, fmtMs, r.roster.q, r.sqlite.q, r.sqlite.q.p50 / r.roster.q.p50),
    row(`last page (${last}) of ${PER_PAGE} by id + count, p50`, fmtMs, r.roster.deep, r.sqlite.deep, r.sqlite.deep.p50 / r.roster.deep.p50),
    ...extra,
  ];
}

function details(r, who) {
  const lines = [];
  for (const q of DEFAULTS.fragments) {
    const a = r.roster.q.fragments[q];
    const b = r.sqlite.q.fragments[q];
    lines.push(`  q '${q}': ${a.count} matches; roster p50 ${a.p50.toFixed(2)} ms, SQLite ${b.p50.toFixed(2)} ms, ratio ${(b.p50 / a.p50).toFixed(2)}`);
  }
  console.log(`${who}: q per fragment (first ${PER_PAGE} by id + exact count, p50 of ${DEFAULTS.runs} runs after ${DEFAULTS.warmup} warm-up):`);
  console.log(lines.join('\n'));
  for (const m of r.mismatches) console.log(`${who}: NOTE: ${m}`);
}

const gzBytes = Number(process.env.ROSTER_BENCH_GZ) ||
  gzipSync(readFileSync(path.join(ROOT, 'bindings-wasm/pkg/web/roster_wasm_bg.wasm')), { level: 9 }).length;
const sqliteGz = gzipSync(readFileSync(path.join(SQLITE_WASM_DIR, 'sqlite3.wasm')), { level: 9 }).length;
const gzKB = gzBytes / 1024;

const web = await runBrowser();
const node = process.env.ROSTER_BENCH_NODE ? runNode() : null;

const perUser = (b) => `${(b / N).toFixed(0)} B`;
const extra = [
  ['optimised web .wasm, gzipped -9', `${gzKB.toFixed(0)} KB`, `${(sqliteGz / 1024).toFixed(0)} KB`, '—', `≤ ${BAR_GZ_KB} KB`, gzKB <= BAR_GZ_KB ? 'meets' : 'misses'],
  ['OPFS file per user (no bar)', perUser(web.roster.fileBytes), perUser(web.sqlite.fileBytes),
    (web.sqlite.fileBytes / web.roster.fileBytes).toFixed(2), '', ''],
];
console.log(`\nBrowser (${label} users): one dedicated worker in headless Chromium, both stores on OPFS, the same rows`);
console.log(`(${web.rowBytes.toFixed(0)} bytes per JSON line, one pre-made argon2id hash) and the same queries; p50 of ${DEFAULTS.runs} runs after ${DEFAULTS.warmup} warm-up, ${DEFAULTS.lookups} email lookups.`);
console.log(table(comparison(web, extra)));
console.log(`\nroster: pkg/web (wasm-opt -Oz), Institute.openPersistent, importUsers / listUsers. SQLite-WASM ${web.sqliteVersion}` +
  ` (npm @sqlite.org/sqlite-wasm), opfs-sahpool, journal_mode ${web.sqlite.journalMode}, synchronous ${web.sqlite.synchronous === 2 ? 'FULL' : web.sqlite.synchronous},` +
  ' UNIQUE uuid, lower(username), lower(email), phone; FTS5 trigram over username, email, first_name, last_name, phone (q: username and email only).');
console.log(`browser: ${web.userAgent}; crossOriginIsolated ${web.isolated} (timer steps ${web.isolated ? '5 µs' : '100 µs'}); ` +
  `init roster ${web.initMs.toFixed(0)} ms, SQLite ${web.sqliteInitMs.toFixed(0)} ms`);
details(web, 'browser');
console.log(`per-chunk insert ms, roster: ${web.roster.chunkMs.map((m) => m.toFixed(0)).join(' ')}`);
console.log(`per-chunk insert ms, SQLite: ${web.sqlite.chunkMs.map((m) => m.toFixed(0)).join(' ')}`);
if (node) {
  console.log(`\nNode (${label} users), both in memory (roster Institute.inMemory, SQLite ':memory:'), for reference; the bars are the browser's:`);
  console.log(table(comparison(node)));
  details(node, 'node');
}
if (N !== DEFAULTS.n) console.log(`\nNOTE: measured with ${N} users, not ${DEFAULTS.n}.`);
