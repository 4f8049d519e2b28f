// The benchmark in a dedicated Web Worker, store on OPFS
// (Institute.openPersistent), pkg/web. Started by index.html; posts
// {log} messages, then {result} or {error}.
import init, { Institute } from '../pkg/web/roster_wasm.js';
import { runSuite } from './suite.mjs';

const log = (m) => postMessage({ log: m });

onmessage = async ({ data: opts }) => {
  const name = `bench-${Date.now().toString(36)}`;
  const root = await navigator.storage.getDirectory();
  try {
    let t = performance.now();
    await init();
    const initMs = performance.now() - t;
    log(`init (fetch + compile + instantiate pkg/web): ${initMs.toFixed(0)} ms`);
    const { out, institute } = await runSuite(Institute, () => Institute.openPersistent(name), { ...opts, log });
    out.initMs = initMs;
    institute.free(); // releases the OPFS sync handle
    const file = await (await root.getFileHandle(`${name}.redb`)).getFile();
    out.fileBytes = file.size;
    // Reopening the filled store.
    t = performance.now();
    const again = await Institute.openPersistent(name);
    out.reopenMs = performance.now() - t;
    const op = again.operator();
    t = performance.now();
    out.reopenCount = op.listUsers({ perPage: 1 }).count;
    out.firstQueryMs = performance.now() - t;
    op.free();
    again.free();
    out.userAgent = navigator.userAgent;
    out.isolated = self.crossOriginIsolated;
    postMessage({ result: out });
  } catch (e) {
    postMessage({ error: String((e && e.stack) || e) + (e && e.code ? ` (code ${e.code})` : '') });
  } finally {
    await root.removeEntry(`${name}.redb`).catch(() => {});
  }
};
