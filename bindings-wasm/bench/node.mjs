// The benchmark in Node, store in memory (Institute.inMemory), pkg/node.
//   node bindings-wasm/bench/node.mjs [N]     prints one JSON line on stdout
import { createRequire } from 'node:module';
import { runSuite } from './suite.mjs';

const { Institute } = createRequire(import.meta.url)('../pkg/node/roster_wasm.js');
const n = Number(process.argv[2] || 100_000);
const { out, institute } = await runSuite(Institute, async () => Institute.inMemory(), {
  n, chunk: 10_000, lookups: 1000, searchRuns: 20, fragment: 'mar', rareFragment: 'zqx',
  log: (m) => console.error(`[node] ${m}`),
});
institute.free();
console.log(JSON.stringify(out));
