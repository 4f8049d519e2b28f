// The REST facade of the WebAssembly package in Node, as an app uses it:
// `institute.handle(method, pathWithQuery, headers, body)` answering
// `{status, headers, body}` with the Testpress documents' paths and bodies.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { roster, CHEAP, JSON_TYPE, client, header } = require('./support.js');

const { Institute } = roster;
const USERS = '/api/v2.5/admin/users/';
const BATCHES = '/api/v2.5/admin/batches/';

/** A new institute with a signed-in administrator. */
function signedIn() {
  const institute = Institute.inMemory(CHEAP);
  institute.createSuperuser('admin', 'Adm1n-Pass!');
  const r = institute.handle(
    'POST',
    '/api/v2.5/auth-token/',
    { 'content-type': 'application/json' },
    JSON.stringify({ username: 'admin', password: 'Adm1n-Pass!' }),
  );
  assert.equal(r.status, 200, r.body);
  const { token, expires } = JSON.parse(r.body);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.ok(!Number.isNaN(Date.parse(expires)), `expires ${expires}`);
  return { institute, token, api: client(institute, token) };
}

test('handle answers a plain object: numeric status, string headers, string body', () => {
  const { institute, token } = signedIn();
  const r = institute.handle('GET', USERS, { Authorization: `JWT ${token}` }, null);
  assert.deepEqual(Object.keys(r).sort(), ['body', 'headers', 'status']);
  assert.equal(typeof r.status, 'number');
  assert.equal(Object.getPrototypeOf(r.headers), Object.prototype);
  for (const [k, v] of Object.entries(r.headers)) {
    assert.equal(typeof k, 'string');
    assert.equal(typeof v, 'string');
  }
  assert.match(header(r, 'content-type'), /^application\/json/);
  assert.equal(typeof r.body, 'string');
  // Headers and body are optional arguments.
  assert.equal(institute.handle('GET', USERS).status, 401);
  assert.equal(institute.handle('GET', USERS, undefined, undefined).status, 401);
  institute.free();
});

test('an app-like flow: batches, users, search, view, update, delete', () => {
  const { institute, api } = signedIn();

  for (const name of ['UPSC Morning Batch', 'UPSC Evening Batch']) {
    const r = api.post(BATCHES, { name });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.name, name);
    assert.equal(typeof r.json.id, 'number');
  }
  const batches = api.get(BATCHES);
  assert.equal(batches.status, 200);
  assert.equal(batches.json.count, 2);

  const people = [
    { username: 'ravi', password: 'ravi-pass-1', email: 'ravi@example.com', first_name: 'Ravi', last_name: 'Kumar', batches: ['UPSC Morning Batch'] },
    { username: 'meena', password: 'meena-pass-1', email: 'meena@example.com', first_name: 'Meena', batches: ['UPSC Evening Batch'] },
    { username: 'ravindra', password: 'ravindra-pass-1', email: 'ravindra@example.com', batches: ['UPSC Morning Batch', 'UPSC Evening Batch'], city: 'Chennai' },
  ];
  const ids = {};
  for (const person of people) {
    const r = api.post(USERS, person);
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.username, person.username);
    assert.equal(r.json.email, person.email);
    assert.equal(r.json.password, undefined, 'no password in the answer');
    ids[person.username] = r.json.id;
  }
  assert.equal(ids.ravi !== ids.meena, true);

  // Search with ?q= (username, names, email) and paging.
  const found = api.get(`${USERS}?q=ravi`);
  assert.equal(found.status, 200, found.body);
  assert.equal(found.json.count, 2);
  assert.deepEqual(found.json.results.map((u) => u.username).sort(), ['ravi', 'ravindra']);
  const paged = api.get(`${USERS}?per_page=1&page=2`);
  assert.equal(paged.status, 200, paged.body);
  assert.equal(paged.json.count, 4, 'admin and three users');
  assert.equal(paged.json.results.length, 1);
  assert.equal(paged.json.per_page, 1);
  assert.notEqual(paged.json.next, null);
  assert.notEqual(paged.json.previous, null);
  const byEmail = api.get(`${USERS}?email=${encodeURIComponent('meena@example.com')}`);
  assert.equal(byEmail.status, 200, byEmail.body);
  assert.deepEqual(byEmail.json.results.map((u) => u.id), [ids.meena]);

  // View, a user's batches, update, delete.
  const ravi = api.get(`${USERS}${ids.ravi}/`);
  assert.equal(ravi.status, 200);
  assert.equal(ravi.json.display_name, 'Ravi Kumar');
  const raviBatches = api.get(`${USERS}${ids.ravindra}/batches/`);
  assert.equal(raviBatches.status, 200, raviBatches.body);
  assert.equal(raviBatches.json.count, 2);
  const updated = api.put(`${USERS}${ids.ravi}/`, { city: 'Madurai' });
  assert.equal(updated.status, 200, updated.body);
  assert.equal(updated.json.city, 'Madurai');
  assert.equal(updated.json.email, 'ravi@example.com', 'absent fields stay');
  const deleted = api.delete(`${USERS}${ids.meena}/`);
  assert.equal(deleted.status, 204);
  assert.equal(api.get(`${USERS}${ids.meena}/`).status, 404);
  assert.equal(api.get(USERS).json.count, 3);

  // The new users sign in through the same path.
  const login = institute.handle('POST', '/api/v2.5/auth-token/', JSON_TYPE, JSON.stringify({ username: 'ravi@example.com', password: 'ravi-pass-1' }));
  assert.equal(login.status, 200, login.body);
  const me = client(institute, JSON.parse(login.body).token).get('/api/v2.5/me/');
  assert.equal(me.status, 200, me.body);
  assert.equal(me.json.username, 'ravi');
  assert.deepEqual(institute.checkIntegrity(), []);
  institute.free();
});

test('a 400 names every invalid field with its messages', () => {
  const { institute, api } = signedIn();
  api.post(BATCHES, { name: 'Morning' });
  const r = api.post(USERS, { username: 'ravi', password: '123', email: 'not-an-email', batches: ['No Such Batch'] });
  assert.equal(r.status, 400, r.body);
  assert.deepEqual(Object.keys(r.json).sort(), ['batches', 'email', 'password']);
  for (const messages of Object.values(r.json)) {
    assert.ok(Array.isArray(messages) && messages.length > 0);
    for (const m of messages) assert.equal(typeof m, 'string');
  }
  assert.deepEqual(r.json.email, ['Enter a valid email address.']);
  assert.ok(r.json.password.includes('This password is entirely numeric.'), r.body);
  assert.match(r.json.batches[0], /No Such Batch/);
  // Nothing was created.
  assert.equal(api.get(`${USERS}?q=ravi`).json.count, 0);

  const missing = api.post(USERS, {});
  assert.equal(missing.status, 400);
  assert.ok(Array.isArray(missing.json.username), missing.body);

  const garbled = institute.handle('POST', BATCHES, { 'content-type': 'application/json', Authorization: `JWT ${signedInToken(institute)}` }, '{"name": ');
  assert.equal(garbled.status, 400);
  assert.match(JSON.parse(garbled.body).detail, /JSON parse error/);
  institute.free();
});

/** Another token of the administrator. */
function signedInToken(institute) {
  return institute.login('admin', 'Adm1n-Pass!').token;
}

test('401 without a token, with a bad token, and after logout; failed sign-in is 400', () => {
  const { institute, token } = signedIn();
  const anonymous = institute.handle('GET', USERS, {}, null);
  assert.equal(anonymous.status, 401);
  assert.deepEqual(JSON.parse(anonymous.body), { detail: 'Authentication credentials were not provided.' });
  assert.equal(header(anonymous, 'www-authenticate'), 'JWT realm="api"');

  const forged = institute.handle('GET', USERS, { Authorization: `JWT ${'0'.repeat(64)}` }, null);
  assert.equal(forged.status, 401);
  assert.deepEqual(JSON.parse(forged.body), { detail: 'Invalid token.' });

  // Bearer works as well as JWT, and the header name is case-insensitive.
  assert.equal(institute.handle('GET', USERS, { authorization: `Bearer ${token}` }, null).status, 200);

  institute.logout(token);
  assert.equal(institute.handle('GET', USERS, { Authorization: `JWT ${token}` }, null).status, 401);

  const wrong = institute.handle('POST', '/api/v2.5/auth-token/', JSON_TYPE, JSON.stringify({ username: 'admin', password: 'wrong-pass' }));
  assert.equal(wrong.status, 400);
  assert.deepEqual(JSON.parse(wrong.body), { non_field_errors: ['Unable to log in with provided credentials.'] });
  institute.free();
});

test('403 for a signed-in staff user without the permission', () => {
  const { institute, api } = signedIn();
  const staff = api.post(USERS, { username: 'clerk', password: 'clerk-pass-1', is_staff: true });
  assert.equal(staff.status, 201, staff.body);
  const clerk = client(institute, institute.login('clerk', 'clerk-pass-1').token);
  const r = clerk.get(USERS);
  assert.equal(r.status, 403, r.body);
  assert.deepEqual(r.json, { detail: 'You do not have permission to perform this action.' });
  assert.equal(clerk.get('/api/v2.5/me/').status, 200, 'self-service needs only a session');
  institute.free();
});

test('the operator needs no token: handle is for signed-in callers only', () => {
  const institute = Institute.inMemory(CHEAP);
  assert.equal(institute.handle('POST', BATCHES, JSON_TYPE, '{"name": "X"}').status, 401);
  const batch = institute.operator().createBatch({ name: 'X' });
  assert.equal(batch.name, 'X');
  institute.free();
});
