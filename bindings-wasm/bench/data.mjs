// Synthetic users for the benchmark: deterministic (a seeded PRNG), about
// 300 bytes per JSON Lines row, every username, email and phone unique.
// Shared by the Node run (node.mjs) and the browser worker (worker.mjs), and
// by both stores under test (roster and SQLite-WASM get the same rows).

const FIRST = ['Aarav', 'Vivaan', 'Aditya', 'Vihaan', 'Arjun', 'Sai', 'Reyansh', 'Ayaan', 'Krishna', 'Ishaan',
  'Ananya', 'Diya', 'Aadhya', 'Saanvi', 'Pari', 'Anika', 'Navya', 'Myra', 'Sara', 'Kiara',
  'Maria', 'Mariam', 'Omar', 'Lucas', 'Sofia', 'Emma', 'Olivia', 'Liam', 'Noah', 'Mateo'];
const LAST = ['Sharma', 'Verma', 'Iyer', 'Nair', 'Reddy', 'Kumar', 'Singh', 'Gupta', 'Mehta', 'Joshi',
  'Kapoor', 'Menon', 'Pillai', 'Rao', 'Das', 'Marquez', 'Fernandes', 'Dsouza', 'Khan', 'Bose'];
const CITY = ['Bengaluru', 'Mumbai', 'Chennai', 'Hyderabad', 'Kolkata', 'Pune', 'Ahmedabad', 'Jaipur',
  'Lucknow', 'Thiruvananthapuram', 'Bhubaneswar', 'Chandigarh', 'Visakhapatnam', 'Coimbatore'];
const DOMAIN = ['example.com', 'mail.example.org', 'students.example.edu', 'inbox.example.net'];

/** mulberry32: a small seeded PRNG, so every run gets the same users. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (rnd, list) => list[Math.floor(rnd() * list.length)];
const pad = (n, w) => String(n).padStart(w, '0');

/** User number `k` (0-based) as the object of one import row (without the hash). */
export function user(k, rnd) {
  const first = pick(rnd, FIRST);
  const last = pick(rnd, LAST);
  const tag = pad(k, 6);
  return {
    username: `${first.toLowerCase()}.${last.toLowerCase()}.${tag}`,
    email: `${first.toLowerCase()}.${last.toLowerCase()}.${tag}@${pick(rnd, DOMAIN)}`,
    first_name: first,
    last_name: last,
    phone: `+9198${pad(k, 8)}`,
    city: pick(rnd, CITY),
    birth_date: `${pad(1 + Math.floor(rnd() * 28), 2)}/${pad(1 + Math.floor(rnd() * 12), 2)}/${1960 + Math.floor(rnd() * 45)}`,
  };
}

/** The email of user `k` (the same PRNG walk as `user`). */
export function emails(n, seed = 1) {
  const rnd = prng(seed);
  const out = new Array(n);
  for (let k = 0; k < n; k++) out[k] = user(k, rnd).email;
  return out;
}

/**
 * JSON Lines chunks of `chunk` rows each for users 0..n, every row with the
 * same pre-made argon2id PHC `password_hash`. Returns {chunks, rowBytes}:
 * rowBytes is the mean length of a row (the hash included).
 */
export function chunks(n, chunk, hash, seed = 1) {
  const rnd = prng(seed);
  const out = [];
  let bytes = 0;
  for (let start = 0; start < n; start += chunk) {
    const lines = [];
    for (let k = start; k < Math.min(n, start + chunk); k++) {
      const line = JSON.stringify({ ...user(k, rnd), password_hash: hash });
      bytes += line.length + 1;
      lines.push(line);
    }
    out.push(lines.join('\n'));
  }
  return { chunks: out, rowBytes: bytes / n };
}

/** `count` user numbers in 0..n, drawn with a seeded PRNG (the same for every store). */
export function picks(n, count, seed = 7) {
  const rnd = prng(seed);
  return Array.from({ length: count }, () => Math.floor(rnd() * n));
}

/** Mean, p50 and p99 of a list of durations. */
export function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, p50: at(0.5), p99: at(0.99) };
}
