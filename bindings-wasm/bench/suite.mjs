// The measurements, the same in the browser worker (worker.mjs) and in Node
// (node.mjs): two stores behind one small interface (rosterStore over the
// package's public JS API, sqliteStore over SQLite-WASM's oo1 API) get the
// same rows and the same queries, timed by the same loops (compare), each
// store's turn right after the other's.

import { chunks, emails, picks, stats } from './data.mjs';

const now = () => performance.now();
export const PER_PAGE = 20;

/** What every run uses unless told otherwise. */
export const DEFAULTS = {
  n: 100_000,
  chunk: 10_000, // rows per import call = per transaction, on both sides
  lookups: 1000, // email lookups timed (after 20 warm-up lookups)
  warmup: 3, // untimed runs before each timed query series
  runs: 20, // timed runs of each query
  // 3-4 character `q` fragments: common, middling, digits, none at all.
  fragments: ['mar', 'nair', 'ish', '0042', 'zqx'],
};

/**
 * ONE argon2id PHC string at the library's default cost, made once by an
 * in-memory roster and stored in every row of both stores (importing a
 * password_hash skips hashing). Returns {hash, ms}.
 */
export function premadeHash(Institute) {
  const t = now();
  const scratch = Institute.inMemory();
  const op = scratch.operator();
  op.createUser({ username: 'seed', password: 'seed-pass-word-1' });
  const hash = op.exportText().match(/"(\$argon2id\$[^"]+)"/)[1];
  op.free();
  scratch.free();
  return { hash, ms: now() - t };
}

/** roster through its public JS API: importUsers and listUsers. */
export function rosterStore(institute) {
  const admin = institute.operator();
  const list = (query) => {
    const page = admin.listUsers(query);
    return { count: page.count, results: page.results };
  };
  return {
    // `rows` per transaction: importUsers commits every 1,000 rows unless
    // told otherwise, and SQLite commits each chunk once.
    insert(text, rows) {
      const report = admin.importUsers(text, { chunkSize: rows });
      if (report.rejected.length) {
        throw new Error(`roster: ${report.rejected.length} rows rejected, first: ${JSON.stringify(report.rejected[0])}`);
      }
      return report.created;
    },
    byEmail: (email) => list({ email }),
    search: (q) => list({ q, perPage: PER_PAGE }),
    page: (page) => list({ page, perPage: PER_PAGE }),
    count: () => admin.listUsers({ perPage: 1 }).count,
    close: () => admin.free(),
  };
}

/**
 * The SQLite schema doing roster's work: the same fields stored (and the
 * random UUID roster gives every user), UNIQUE indexes on the keys roster
 * keeps unique (the UUID among them), and an FTS5 trigram index
 * (external content, kept by a trigger in the row's transaction) over the
 * fields roster indexes for search.
 */
export const SQLITE_SCHEMA = `
PRAGMA synchronous = FULL;
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL,
  username TEXT NOT NULL,
  email TEXT NOT NULL,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  phone TEXT,
  city TEXT,
  birth_date TEXT,
  password_hash TEXT NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 1,
  date_joined TEXT NOT NULL
);
CREATE UNIQUE INDEX users_uuid ON users (uuid);
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_phone ON users (phone);
CREATE VIRTUAL TABLE users_fts USING fts5 (
  username, email, first_name, last_name, phone,
  content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
  INSERT INTO users_fts (rowid, username, email, first_name, last_name, phone)
  VALUES (new.id, new.username, new.email, new.first_name, new.last_name, new.phone);
END;
`;

/** SQLite-WASM (an oo1.DB, empty) doing the same work with prepared statements. */
export function sqliteStore(db) {
  db.exec(SQLITE_SCHEMA);
  const insert = db.prepare(
    'INSERT INTO users (uuid, username, email, first_name, last_name, phone, city, birth_date, password_hash, date_joined) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const byEmail = db.prepare('SELECT * FROM users WHERE lower(email) = lower(?)');
  // `q`: username or email contains the fragment (trigram: 3+ characters,
  // ASCII case folded); the first page by id, and the exact count.
  const search = db.prepare(
    'SELECT * FROM users WHERE id IN ' +
      '(SELECT rowid FROM users_fts WHERE users_fts MATCH ? ORDER BY rowid LIMIT ?) ORDER BY id',
  );
  const searchCount = db.prepare('SELECT count(*) FROM users_fts WHERE users_fts MATCH ?');
  const page = db.prepare('SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?');
  const count = db.prepare('SELECT count(*) FROM users');
  // A page and its count from one read transaction, as roster's list reads
  // one snapshot.
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  const snapshot = (read) => {
    begin.stepReset();
    try {
      return read();
    } finally {
      commit.stepReset();
    }
  };
  const rows = (stmt, bind) => {
    stmt.bind(bind);
    const out = [];
    while (stmt.step()) out.push(stmt.get({}));
    stmt.reset();
    return out;
  };
  const value = (stmt, bind) => {
    if (bind) stmt.bind(bind);
    stmt.step();
    const v = stmt.get(0);
    stmt.reset();
    return v;
  };
  const match = (q) => `{username email} : "${q.replaceAll('"', '""')}"`;
  return {
    insert(text) {
      // The same JSON Lines text as roster's import, parsed here.
      const joined = new Date().toISOString();
      let created = 0;
      db.exec('BEGIN');
      try {
        for (const line of text.split('\n')) {
          const u = JSON.parse(line);
          insert
            .bind([crypto.randomUUID(), u.username, u.email, u.first_name, u.last_name, u.phone, u.city, u.birth_date, u.password_hash, joined])
            .stepReset();
          created++;
        }
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
      return created;
    },
    byEmail(email) {
      const results = rows(byEmail, [email]);
      return { count: results.length, results };
    },
    search(q) {
      const m = match(q);
      return snapshot(() => ({ count: value(searchCount, [m]), results: rows(search, [m, PER_PAGE]) }));
    },
    page(p) {
      return snapshot(() => ({ count: value(count), results: rows(page, [PER_PAGE, (p - 1) * PER_PAGE]) }));
    },
    count: () => value(count),
    bytes: () => db.selectValue('PRAGMA page_count') * db.selectValue('PRAGMA page_size'),
    close() {
      for (const stmt of [insert, byEmail, search, searchCount, page, count, begin, commit]) stmt.finalize();
    },
  };
}

/** The usernames of a page, to check both stores answered the same. */
const names = (page) => page.results.map((u) => u.username).join(',');

/**
 * Fills both stores with the same n users (chunk rows per transaction) and
 * times the same operations on each, the stores taking turns. stores: {roster, sqlite}
 * (see rosterStore/sqliteStore). Returns {roster, sqlite, rowBytes,
 * mismatches}: per store insertMs, chunkMs, email, q, deep (stats in ms).
 * Throws when a step fails or the two stores count different matches.
 */
export function compare(stores, hash, options, log = () => {}) {
  const o = { ...DEFAULTS, ...options };
  const sides = Object.keys(stores);
  const out = Object.fromEntries(sides.map((s) => [s, {}]));
  out.mismatches = [];

  let t = now();
  const { chunks: texts, rowBytes } = chunks(o.n, o.chunk, hash);
  out.rowBytes = rowBytes;
  log(`generated ${o.n} rows (${rowBytes.toFixed(0)} bytes per JSON line, hash included) in ${(now() - t).toFixed(0)} ms`);

  // 1. Insert: every chunk one transaction (one importUsers call for
  // roster). The stores take turns chunk by chunk, so that a change in the
  // machine's load weighs on both alike.
  for (const side of sides) Object.assign(out[side], { chunkMs: [], insertMs: 0 });
  for (const [i, text] of texts.entries()) {
    for (const side of sides) {
      t = now();
      const created = stores[side].insert(text, o.chunk);
      const ms = now() - t;
      out[side].chunkMs.push(ms);
      out[side].insertMs += ms;
      if (i === 0 || i === texts.length - 1) log(`${side}: chunk ${i + 1}/${texts.length}: ${created} users in ${ms.toFixed(0)} ms`);
    }
  }
  for (const side of sides) {
    const r = out[side];
    r.count = stores[side].count();
    log(`${side}: inserted ${r.count} users in ${r.insertMs.toFixed(0)} ms`);
    if (r.count !== o.n) throw new Error(`${side}: ${r.count} users after inserting ${o.n}`);
  }

  // Times `run` on every store: `warmup` untimed calls each, then `runs`
  // timed ones, the stores taking turns call by call; keeps the last answer
  // of each store to compare them.
  const series = (label, run, warmup, runs) => {
    const answers = {};
    const samples = Object.fromEntries(sides.map((side) => [side, []]));
    for (const side of sides) for (let i = 0; i < warmup; i++) run(stores[side], i);
    for (let i = 0; i < runs; i++) {
      for (const side of sides) {
        t = now();
        answers[side] = run(stores[side], i);
        samples[side].push(now() - t);
      }
    }
    for (const side of sides) {
      answers[side].stats = stats(samples[side]);
      answers[side].samples = samples[side];
    }
    const [a, b] = sides.map((s) => answers[s]);
    if (a.count !== b.count) {
      throw new Error(`${label}: ${sides[0]} counts ${a.count}, ${sides[1]} ${b.count}: not the same work`);
    }
    if (names(a) !== names(b)) out.mismatches.push(`${label}: the stores returned different users or order`);
    return answers;
  };

  // 2. Email lookups: the same `lookups` users on both sides, each timed alone.
  const all = emails(o.n);
  const picked = picks(o.n, o.lookups).map((k) => all[k]);
  const email = series(
    'email lookup',
    (store, i) => {
      const page = store.byEmail(picked[i % picked.length]);
      if (page.count !== 1 || page.results[0].email !== picked[i % picked.length]) {
        throw new Error(`lookup of ${picked[i % picked.length]}: ${page.count} users`);
      }
      return page;
    },
    20,
    o.lookups,
  );
  for (const side of sides) {
    out[side].email = email[side].stats;
    log(`${side}: email lookup x${o.lookups}: p50 ${(out[side].email.p50 * 1000).toFixed(0)} µs, mean ${(out[side].email.mean * 1000).toFixed(1)} µs`);
  }

  // 3. `q`: the first page of 20 by id with the exact count, per fragment;
  // the figure is the p50 of all runs of all fragments.
  for (const side of sides) out[side].q = { samples: [], fragments: {} };
  for (const q of o.fragments) {
    const answers = series(`q '${q}'`, (store) => store.search(q), o.warmup, o.runs);
    for (const side of sides) {
      const a = answers[side];
      out[side].q.fragments[q] = { ...a.stats, count: a.count, returned: a.results.length };
      out[side].q.samples.push(...a.samples);
      log(`${side}: q '${q}': p50 ${a.stats.p50.toFixed(2)} ms, ${a.results.length} returned of ${a.count}`);
    }
  }
  for (const side of sides) {
    const q = out[side].q;
    Object.assign(q, stats(q.samples));
    delete q.samples;
  }

  // 4. A deep page: the last page of 20 by id, with the total count.
  const last = Math.ceil(o.n / PER_PAGE);
  const deep = series(`page ${last}`, (store) => store.page(last), o.warmup, o.runs);
  for (const side of sides) {
    out[side].deep = { ...deep[side].stats, page: last, returned: deep[side].results.length };
    log(`${side}: page ${last} of ${PER_PAGE}: p50 ${out[side].deep.p50.toFixed(2)} ms, ${out[side].deep.returned} returned`);
  }
  return out;
}
