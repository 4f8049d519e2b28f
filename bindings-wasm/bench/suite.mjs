// The measurements, the same in Node (node.mjs) and in the browser worker
// (worker.mjs): given the package's `Institute` and a function that opens
// the store under test, inserts N users through admin.importUsers in chunks,
// then times email lookups and substring searches.

import { chunks, emails, stats } from './data.mjs';

const now = () => performance.now();

/**
 * opts: {n, chunk, lookups, searchRuns, fragment, rareFragment, log}
 * open(): Promise<Institute> — the store to fill (empty).
 */
export async function runSuite(Institute, open, opts) {
  const { n, chunk, lookups, searchRuns, fragment, rareFragment, log = () => {} } = opts;
  const out = { n, chunk };

  // ONE argon2id hash (the library's default cost), made once and reused
  // for every row: importing a password_hash skips hashing.
  let t = now();
  const scratch = Institute.inMemory();
  const op0 = scratch.operator();
  op0.createUser({ username: 'seed', password: 'seed-pass-word-1' });
  const hash = op0.exportText().match(/"(\$argon2id\$[^"]+)"/)[1];
  op0.free();
  scratch.free();
  out.hashMs = now() - t;
  log(`one argon2id hash (default cost): ${out.hashMs.toFixed(0)} ms: ${hash.slice(0, 31)}...`);

  t = now();
  const { chunks: texts, rowBytes } = chunks(n, chunk, hash);
  out.generateMs = now() - t;
  out.rowBytes = rowBytes;
  log(`generated ${n} rows (${rowBytes.toFixed(0)} bytes per JSON line, hash included) in ${out.generateMs.toFixed(0)} ms`);

  t = now();
  const institute = await open();
  out.openMs = now() - t;
  const admin = institute.operator();

  out.chunkMs = [];
  const t0 = now();
  for (const [i, text] of texts.entries()) {
    t = now();
    const report = admin.importUsers(text);
    const ms = now() - t;
    out.chunkMs.push(ms);
    if (report.rejected.length) {
      throw new Error(`chunk ${i}: ${report.rejected.length} rows rejected, first: ${JSON.stringify(report.rejected[0])}`);
    }
    log(`chunk ${i + 1}/${texts.length}: ${report.created} users in ${ms.toFixed(0)} ms`);
  }
  out.insertMs = now() - t0;
  out.count = admin.listUsers({ perPage: 1 }).count;
  log(`inserted ${out.count} users in ${out.insertMs.toFixed(0)} ms`);

  // Email lookups: 1000 random users, each timed alone.
  const all = emails(n);
  const samples = [];
  for (let i = 0; i < 20; i++) admin.listUsers({ email: all[i] }); // warm-up
  const picked = Array.from({ length: lookups }, () => all[Math.floor(Math.random() * n)]);
  let tl = now();
  for (const email of picked) {
    t = now();
    const page = admin.listUsers({ email });
    samples.push((now() - t) * 1000);
    if (page.count !== 1 || page.results[0].email !== email) throw new Error(`lookup of ${email}: ${page.count}`);
  }
  // The mean from the loop's total (finer than one coarse timer step).
  out.email = { ...stats(samples), mean: ((now() - tl) * 1000) / lookups };
  log(`listUsers({email}) x${lookups}: mean ${out.email.mean.toFixed(1)} µs, p50 ${out.email.p50.toFixed(1)}, p99 ${out.email.p99.toFixed(1)}`);

  // findUser(email): the id only (no page, no JSON of the user), for comparison.
  const fsamples = [];
  tl = now();
  for (const email of picked) {
    t = now();
    admin.findUser(email);
    fsamples.push((now() - t) * 1000);
  }
  out.find = { ...stats(fsamples), mean: ((now() - tl) * 1000) / lookups };

  // First 20 substring matches.
  const search = (q) => {
    const times = [];
    let page;
    for (let i = 0; i < searchRuns; i++) {
      t = now();
      page = admin.listUsers({ q, perPage: 20 });
      times.push(now() - t);
    }
    return { ...stats(times), count: page.count, returned: page.results.length };
  };
  out.search = search(fragment);
  log(`listUsers({q: '${fragment}', perPage: 20}) x${searchRuns}: p50 ${out.search.p50.toFixed(2)} ms, ${out.search.returned} returned of ${out.search.count}`);
  out.rare = search(rareFragment);
  log(`listUsers({q: '${rareFragment}', perPage: 20}) x${searchRuns}: p50 ${out.rare.p50.toFixed(2)} ms, ${out.rare.returned} returned of ${out.rare.count}`);

  admin.free();
  return { out, institute };
}
