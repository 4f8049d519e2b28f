// Drives the benchmark: Node (in memory, pkg/node) and headless Chromium
// (dedicated worker, OPFS, pkg/web) through chromedriver's WebDriver HTTP
// API with fetch (no npm packages), then prints a table beside SQLite-WASM's
// and Dexie's published figures.
//
//   node bindings-wasm/bench/run.mjs [N]       (N users, default 100000)
//
// Environment: CHROMEDRIVER (default /usr/bin/chromedriver), CHROMIUM
// (default /usr/bin/chromium), ROSTER_BENCH_GZ (gzipped bytes of pkg/web's
// .wasm; measured here when unset), ROSTER_BENCH_SKIP_NODE=1.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebDriver, freePort, serveRepository, sleep } from '../../tests/js/browser/webdriver.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const CHROMEDRIVER = process.env.CHROMEDRIVER || '/usr/bin/chromedriver';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const N = Number(process.argv[2] || 100_000);
const BROWSER_TIMEOUT_MS = 240_000;

function runNode() {
  const stdout = execFileSync(process.execPath, [path.join(HERE, 'node.mjs'), String(N)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 180_000,
  });
  return JSON.parse(stdout.toString().trim().split('\n').pop());
}

async function runBrowser() {
  // Cross-origin isolation: performance.now() then has 5 µs steps instead of
  // 100 µs, which the per-lookup timings need.
  const server = await serveRepository(ROOT, {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  });
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
      await sleep(250);
    }
  } finally {
    await driver.stop();
    chromedriver.kill();
    await new Promise((resolve) => server.close(resolve));
    rmSync(profile, { recursive: true, force: true });
  }
}

const fmt = {
  s: (ms) => `${(ms / 1000).toFixed(2)} s`,
  us: (s) => `${s.mean.toFixed(0)} µs (p50 ${s.p50.toFixed(0)}, p99 ${s.p99.toFixed(0)})`,
  ms: (s) => `${s.p50.toFixed(2)} ms`,
};

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => r.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)].join('\n');
}

const wasm = path.join(ROOT, 'bindings-wasm/pkg/web/roster_wasm_bg.wasm');
const gzBytes = Number(process.env.ROSTER_BENCH_GZ) || gzipSync(readFileSync(wasm), { level: 9 }).length;

const node = process.env.ROSTER_BENCH_SKIP_NODE ? null : runNode();
const web = await runBrowser();

const label = N === 100_000 ? '100k' : `${N / 1000}k`;
const rows = [
  ['', 'roster, Chromium worker, OPFS', 'roster, Node, in memory', 'SQLite-WASM (opfs-sahpool)', 'Dexie (IndexedDB)'],
  [`insert ${label} users (importUsers, 10k/call)`, fmt.s(web.insertMs), node ? fmt.s(node.insertMs) : '-', '≈3.1 s (100k)', '~10 s (100k)'],
  ['lookup by email, listUsers({email}) x1000', fmt.us(web.email), node ? fmt.us(node.email) : '-', '28-40 µs', '230-270 µs'],
  ['  (findUser(email): id only, x1000)', fmt.us(web.find), node ? fmt.us(node.find) : '-', '', ''],
  [`first 20 substring matches, q '${'mar'}' (p50 of 20)`, fmt.ms(web.search), node ? fmt.ms(node.search) : '-', '0.27 ms (FTS5 trigram)', '~1 s'],
  ["  (no match, q 'zqx': a full scan, p50 of 20)", fmt.ms(web.rare), node ? fmt.ms(node.rare) : '-', '', ''],
  ['.wasm gzipped (-9)', `${(gzBytes / 1024).toFixed(0)} KB`, '(same module)', '≈473 KB', '(JS only)'],
];
console.log(`\nroster benchmark: ${N} users of ${web.rowBytes.toFixed(0)} bytes per JSON line (password_hash included), release pkg (wasm-opt -Oz)`);
console.log(table(rows));
console.log(`\nbrowser: ${web.userAgent}; crossOriginIsolated ${web.isolated} (timer steps ${web.isolated ? '5 µs' : '100 µs'})`);
console.log(`per-chunk insert ms, browser: ${web.chunkMs.map((m) => m.toFixed(0)).join(' ')}`);
if (node) console.log(`per-chunk insert ms, node:    ${node.chunkMs.map((m) => m.toFixed(0)).join(' ')}`);
console.log(`browser: init ${web.initMs.toFixed(0)} ms, open ${web.openMs.toFixed(0)} ms, OPFS file ${(web.fileBytes / 1048576).toFixed(1)} MiB, ` +
  `reopen of the filled store ${web.reopenMs.toFixed(0)} ms (then ${web.reopenCount} users counted in ${web.firstQueryMs.toFixed(0)} ms)`);
console.log(`matches of 'mar': ${web.search.count} (20 returned); one argon2id hash at the default cost: browser ${web.hashMs.toFixed(0)} ms`);
if (N !== 100_000) console.log(`NOTE: measured with ${N} users, not 100k; insert time x${(100_000 / N).toFixed(1)} would be a linear extrapolation only.`);
