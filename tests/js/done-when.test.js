// The Step 3 "done when" command, run exactly as written from the repository
// root, and the cost of one sign-in with the default argon2 parameters.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { ROOT, roster } = require('./support.js');

const DONE_WHEN =
  "const {Institute}=require('./bindings-wasm/pkg/node/roster_wasm.js'); const i=Institute.inMemory(); i.createSuperuser('admin','Adm1n-Pass!'); console.log(i.handle('POST','/api/v2.5/auth-token/',{'content-type':'application/json'},JSON.stringify({username:'admin',password:'Adm1n-Pass!'})).status)";

test('node -e "<done when>" prints 200', () => {
  const out = execFileSync(process.execPath, ['-e', DONE_WHEN], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(out, '200\n');
});

test('sign-in time with the default argon2 parameters (measured, not asserted)', () => {
  const institute = roster.Institute.inMemory();
  institute.createSuperuser('admin', 'Adm1n-Pass!');
  const body = JSON.stringify({ username: 'admin', password: 'Adm1n-Pass!' });
  const times = [];
  for (let n = 0; n < 3; n++) {
    const start = performance.now();
    const r = institute.handle('POST', '/api/v2.5/auth-token/', { 'content-type': 'application/json' }, body);
    times.push(performance.now() - start);
    assert.equal(r.status, 200, r.body);
  }
  const unknown = [];
  for (let n = 0; n < 3; n++) {
    const start = performance.now();
    const r = institute.handle('POST', '/api/v2.5/auth-token/', { 'content-type': 'application/json' }, JSON.stringify({ username: 'nobody', password: 'x-pass-1' }));
    unknown.push(performance.now() - start);
    assert.equal(r.status, 400, r.body);
  }
  const ms = (list) => `average ${(list.reduce((a, b) => a + b, 0) / list.length).toFixed(1)} ms of 3 (${list.map((t) => t.toFixed(1)).join(', ')})`;
  console.log(`sign-in (argon2id m=19456 KiB, t=2, p=1) in Node ${process.version}: ${ms(times)}`);
  // The first one also makes the decoy hash (once per institute).
  console.log(`unknown-user sign-in (decoy hash): ${ms(unknown)}`);
  institute.free();
});
