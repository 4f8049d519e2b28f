// The typed API of the WebAssembly package in Node: Institute and Admin
// methods taking and returning plain objects in the documented JSON shapes,
// and failures thrown as JS Errors with `code` (and `fields` for validation).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { roster, CHEAP, client, thrown } = require('./support.js');

const { Institute, Admin } = roster;

/** Keys every user object has (the REST answer's, plus the admin fields). */
const USER_KEYS = [
  'id', 'url', 'username', 'first_name', 'last_name', 'display_name', 'email', 'photo',
  'birth_date', 'gender_code', 'gender', 'address1', 'address2', 'city', 'zip', 'state',
  'state_code', 'phone', 'batches_url', 'custom_fields', 'is_active', 'is_blocked',
  'created', 'modified', 'is_superuser', 'is_staff', 'groups', 'user_permissions',
  'last_login', 'date_joined',
];

function setUp() {
  const institute = Institute.inMemory(CHEAP);
  const adminId = institute.createSuperuser('admin', 'Adm1n-Pass!');
  const login = institute.login('admin', 'Adm1n-Pass!');
  return { institute, adminId, login, admin: institute.session(login.token) };
}

/** Asserts `e` is a roster error: a JS Error with this code. */
function assertRosterError(e, code) {
  assert.ok(e instanceof Error, `not an Error: ${e}`);
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  return e;
}

test('Institute: inMemory with and without a config, createSuperuser, login', () => {
  const plain = Institute.inMemory();
  assert.ok(plain instanceof Institute);
  plain.free();
  const { institute, adminId, login, admin } = setUp();
  assert.equal(typeof adminId, 'number');
  assert.equal(adminId, 1);
  assert.match(login.token, /^[0-9a-f]{64}$/);
  assert.equal(login.user, adminId);
  assert.ok(Date.parse(login.expires) > Date.now(), login.expires);
  assert.ok(admin instanceof Admin);
  assert.equal(admin.me().username, 'admin');
  assert.equal(typeof Institute.schemaVersion(), 'number');
  assert.deepEqual(institute.checkIntegrity(), []);
  institute.free();
});

test('config: a fixed clock, page size and session lifetime apply', () => {
  const institute = Institute.inMemory({
    ...CHEAP,
    now: '2023-01-12T11:06:19+05:30',
    pageSize: 2,
    sessionLifetimeSeconds: 3600,
    baseUrl: 'https://school.example',
  });
  institute.createSuperuser('admin', 'Adm1n-Pass!');
  const login = institute.login('admin', 'Adm1n-Pass!');
  assert.equal(Date.parse(login.expires), Date.parse('2023-01-12T06:36:19Z'));
  const op = institute.operator();
  for (const name of ['A', 'B', 'C']) op.createBatch({ name });
  const page = op.listBatches(undefined, undefined);
  assert.equal(page.count, 3);
  assert.equal(page.results.length, 2);
  assert.equal(page.per_page, 2);
  assert.equal(page.results[0].created, '2023-01-12T05:36:19Z'.replace('Z', '.000000Z'));
  // Typed views carry paths (core json::urls); the REST answers carry baseUrl.
  assert.equal(page.results[0].url, `/api/v2.5/admin/batches/${page.results[0].id}/`);
  const rest = institute.handle('GET', '/api/v2.5/admin/batches/', { Authorization: `JWT ${login.token}` }, null);
  assert.match(JSON.parse(rest.body).results[0].url, /^https:\/\/school\.example\/api\/v2\.5\/admin\/batches\/\d+\/$/);
  assertRosterError(thrown(() => Institute.inMemory({ argon2: { mKib: 64 } })), 'validation_failed');
  assertRosterError(thrown(() => Institute.inMemory({ now: 'yesterday' })), 'validation_failed');
  assertRosterError(thrown(() => Institute.inMemory({ pageSize: 'ten' })), 'validation_failed');
  institute.free();
});

// JsConfig says deny_unknown_fields, but serde-wasm-bindgen reads only the
// declared keys of a struct, so a misspelt key is silently ignored.
test('config: a misspelt key is refused', () => {
  assertRosterError(thrown(() => Institute.inMemory({ sessionLifeTimeSeconds: 60 })), 'validation_failed');
  assertRosterError(thrown(() => Institute.inMemory({ argon2: { mKib: 64, t: 1, p: 1, m: 2 } })), 'validation_failed');
});

test('Admin: batches and users as documented objects', () => {
  const { institute, admin } = setUp();
  const batch = admin.createBatch({ name: 'X' });
  assert.equal(batch.name, 'X');
  assert.equal(typeof batch.id, 'number');
  admin.createBatch({ name: 'Y' });

  const created = admin.createUser({ username: 'ravi', password: 'ravi-pass-1', batches: ['X'], first_name: 'Ravi', state: 'Tamil Nadu' });
  assert.deepEqual(Object.keys(created).sort(), ['generatedPassword', 'user']);
  assert.equal(created.generatedPassword, null);
  const user = created.user;
  for (const key of USER_KEYS) assert.ok(key in user, `user.${key} missing: ${Object.keys(user)}`);
  assert.equal(user.username, 'ravi');
  assert.equal(user.display_name, 'Ravi');
  assert.equal(user.state, 'Tamil Nadu');
  assert.equal(typeof user.state_code, 'string');
  assert.equal(user.is_active, true);
  assert.equal('password' in user, false);

  // The typed object is the REST answer plus the admin fields.
  const rest = client(institute, institute.login('admin', 'Adm1n-Pass!').token).get(`/api/v2.5/admin/users/${user.id}/`).json;
  for (const [key, value] of Object.entries(rest)) assert.deepEqual(user[key], value, key);

  assert.deepEqual(admin.userBatches(user.id).results.map((b) => b.name), ['X']);
  assert.deepEqual(admin.getUser(user.id), user);
  assert.equal(admin.findUser('ravi'), user.id);

  const list = admin.listUsers({ q: 'rav' });
  for (const key of ['count', 'next', 'previous', 'per_page', 'results']) assert.ok(key in list, `page.${key} missing`);
  assert.equal(list.count, 1);
  assert.equal(list.results[0].id, user.id);
  assert.equal(admin.listUsers().count, 2);
  assert.equal(admin.listUsers({ perPage: 1, page: 2 }).results.length, 1);

  const updated = admin.updateUser(user.id, { city: 'Chennai' });
  assert.equal(updated.city, 'Chennai');
  assert.equal(updated.first_name, 'Ravi');

  const generated = admin.createUser({ username: 'meena', email: 'meena@example.com' }, { autoGeneratePassword: true });
  assert.equal(typeof generated.generatedPassword, 'string');
  assert.ok(generated.generatedPassword.length >= 6);
  const outbox = institute.operator().takeOutbox();
  assert.ok(outbox.some((m) => m.user === generated.user.id && m.body.includes(generated.generatedPassword)));
  assert.deepEqual(institute.operator().takeOutbox(), [], 'taken once');
  assert.equal(institute.login('meena', generated.generatedPassword).user, generated.user.id);

  admin.deleteUser(user.id);
  assertRosterError(thrown(() => admin.getUser(user.id)), 'not_found');
  assert.equal(admin.permissions().length, 29);
  // The change feed saw every step, the deletion last, with no secret.
  const feed = institute.operator().changesSince(0, 1000);
  assert.equal(feed.more, false);
  const last = feed.results[feed.results.length - 1];
  assert.deepEqual([last.entity, last.op, last.record], ['user', 'delete', null]);
  assert.ok(feed.results.some((e) => e.entity === 'user' && e.op === 'update' && e.record.profile.first_name === 'Ravi'));
  assert.ok(!JSON.stringify(feed).includes('argon2'));
  assert.equal(institute.operator().changesSince(feed.next, 10).results.length, 0);
  assert.deepEqual(institute.checkIntegrity(), []);
  institute.free();
});

test('errors: validation_failed with fields, not_found, forbidden, unauthenticated', () => {
  const { institute, admin, login } = setUp();
  admin.createBatch({ name: 'X' });

  const invalid = assertRosterError(
    thrown(() => admin.createUser({ username: 'ravi', password: '123', email: 'nope', batches: ['Missing'] })),
    'validation_failed',
  );
  assert.deepEqual(Object.keys(invalid.fields).sort(), ['batches', 'email', 'password']);
  assert.deepEqual(invalid.fields.email, ['Enter a valid email address.']);
  assert.ok(invalid.fields.password.includes('This password is entirely numeric.'));
  assertRosterError(thrown(() => admin.createBatch({ name: 'X' })), 'validation_failed');

  assertRosterError(thrown(() => admin.getUser(999)), 'not_found');
  assertRosterError(thrown(() => admin.updateUser(999, { city: 'X' })), 'not_found');
  assertRosterError(thrown(() => admin.getUser(1.5)), 'validation_failed');

  admin.createUser({ username: 'clerk', password: 'clerk-pass-1', is_staff: true });
  const clerk = institute.session(institute.login('clerk', 'clerk-pass-1').token);
  assertRosterError(thrown(() => clerk.listUsers()), 'forbidden');
  assertRosterError(thrown(() => clerk.createBatch({ name: 'Z' })), 'forbidden');
  assert.equal(clerk.me().username, 'clerk');

  assertRosterError(thrown(() => institute.login('admin', 'wrong-pass')), 'unauthenticated');
  assertRosterError(thrown(() => institute.login('nobody', 'wrong-pass')), 'unauthenticated');
  assertRosterError(thrown(() => institute.session('0'.repeat(64))), 'unauthenticated');
  institute.logout(login.token);
  // The session is checked on every call: a handle outlives its token.
  assertRosterError(thrown(() => admin.listUsers()), 'unauthenticated');
  institute.free();
});

test('lock-out after repeated failures (config.lockoutMaxFailures, lockoutSeconds)', () => {
  const institute = Institute.inMemory({ ...CHEAP, lockoutMaxFailures: 2, lockoutSeconds: 60 });
  institute.createSuperuser('admin', 'Adm1n-Pass!');
  for (let n = 0; n < 2; n++) thrown(() => institute.login('admin', 'wrong-pass'));
  assertRosterError(thrown(() => institute.login('admin', 'Adm1n-Pass!')), 'unauthenticated');
  institute.operator().unlockUser(1);
  assert.equal(institute.login('admin', 'Adm1n-Pass!').user, 1);
  institute.free();
});

test('export and import through the typed API', () => {
  const { institute, admin } = setUp();
  admin.createBatch({ name: 'X' });
  admin.createUser({ username: 'ravi', password: 'ravi-pass-1', batches: ['X'] });
  const text = institute.operator().exportText();
  assert.ok(text.split('\n').filter(Boolean).length >= 3);
  const copy = Institute.inMemory(CHEAP);
  const report = copy.operator().importUsers(text);
  assert.deepEqual(report.rejected, []);
  assert.equal(copy.login('ravi', 'ravi-pass-1').user, admin.findUser('ravi'));
  assert.deepEqual(copy.checkIntegrity(), []);
  copy.free();
  institute.free();
});

// The config is the core's Settings, checked by the core: huge, negative and
// overflowing values are validation errors naming the field, never a panic
// (minutes * 60 once overflowed; chrono's Duration::seconds panicked).
test('config: out-of-range values are validation errors, not panics', () => {
  for (const [config, field] of [
    [{ sessionLifetimeSeconds: 2 ** 53 - 1 }, 'session_lifetime_seconds'],
    [{ sessionLifetimeSeconds: -1 }, 'session_lifetime_seconds'],
    [{ sessionLifetimeSeconds: 0 }, 'session_lifetime_seconds'],
    [{ lockoutSeconds: 2 ** 53 - 1 }, 'lockout_seconds'],
    [{ lockoutSeconds: -(2 ** 53 - 1) }, 'lockout_seconds'],
    [{ timeZoneOffsetMinutes: 2 ** 31 - 1 }, 'time_zone_offset_minutes'],
    [{ timeZoneOffsetMinutes: 1440 }, 'time_zone_offset_minutes'],
    [{ passwordMaxLength: 2 ** 32 - 1 }, 'password_max_length'],
    [{ maxPageSize: 2 ** 32 - 1, pageSize: 2 ** 32 - 1 }, 'max_page_size'],
    [{ argon2: { mKib: 2 ** 32 - 1, t: 1, p: 1 } }, 'argon2'],
  ]) {
    const e = assertRosterError(thrown(() => Institute.inMemory({ ...CHEAP, ...config })), 'validation_failed');
    assert.ok(field in e.fields, `${JSON.stringify(config)}: ${JSON.stringify(e.fields)}`);
  }
  // Beyond what the number type holds: still a validation error.
  assertRosterError(thrown(() => Institute.inMemory({ sessionLifetimeSeconds: 1e300 })), 'validation_failed');
  assertRosterError(thrown(() => Institute.inMemory({ lockoutSeconds: 1.5 })), 'validation_failed');
});

test('config: the password policy is configurable', () => {
  const institute = Institute.inMemory({ ...CHEAP, passwordMinLength: 12, passwordForbidAllDigits: false });
  const admin = institute.operator();
  assertRosterError(thrown(() => admin.createUser({ username: 'ravi', password: 'short-pass' })), 'validation_failed');
  admin.createUser({ username: 'ravi', password: '123456789012' });
  assert.equal(institute.login('ravi', '123456789012').user, admin.findUser('ravi'));
  institute.free();
});

test('importUsers honours batches and expires, and checks them', () => {
  const institute = Institute.inMemory(CHEAP);
  const admin = institute.operator();
  admin.createBatch({ name: 'X' });
  const text = 'username,password\nravi,ravi-pass-1\nbad name,pass-word-2\n';
  const report = admin.importUsers(text, { batches: ['X'], expires: '2099-01-31' });
  assert.equal(report.created, 1, JSON.stringify(report));
  assert.deepEqual(report.rejected.map((r) => r.line), [3]);
  assert.equal(report.rejected_count, 1);
  assert.equal(report.restored, false);
  const subscriptions = admin.userSubscriptions(admin.findUser('ravi'));
  assert.equal(subscriptions.results.length, 1);
  assert.equal(subscriptions.results[0].batch.name, 'X');
  assert.equal(subscriptions.results[0].expires, '2099-01-31');
  const bad = assertRosterError(thrown(() => admin.importUsers(text, { expires: 'soon' })), 'validation_failed');
  assert.ok('expires' in bad.fields, JSON.stringify(bad.fields));
  assertRosterError(thrown(() => admin.importUsers(text, { batch: ['X'] })), 'validation_failed');
  institute.free();
});

test('hostile arguments: deep, cyclic and BigInt objects are errors, and the instance goes on', () => {
  const institute = Institute.inMemory(CHEAP);
  const admin = institute.operator();
  // JSON.parse builds objects this deep without complaint; an app may pass
  // one on from a remote body.
  const deep = (depth) => {
    let inner = 'x';
    for (let i = 0; i < depth; i += 1) inner = { a: inner };
    return inner;
  };
  const cyclic = { username: 'loop' };
  cyclic.self = cyclic;
  const hostile = [
    { username: 'ravi', custom_fields: deep(100000) },
    { username: 'ravi', custom_fields: deep(3000) },
    { username: 'ravi', custom_fields: deep(200) },
    cyclic,
    { username: 'ravi', phone: 10n },
  ];
  for (const input of hostile) {
    assertRosterError(thrown(() => admin.createUser(input)), 'validation_failed');
    assertRosterError(thrown(() => admin.sunbirdSearch(input)), 'validation_failed');
    assertRosterError(thrown(() => admin.listUsers(input)), 'validation_failed');
  }
  assertRosterError(thrown(() => Institute.inMemory({ ...CHEAP, now: deep(10000) })), 'validation_failed');
  // Still whole: every later call works.
  admin.createUser({ username: 'ravi', password: 'ravi-pass-1' });
  assert.equal(admin.listUsers().count, 1);
  // A property that is undefined is absent, as in JSON.stringify.
  admin.updateUser(admin.findUser('ravi'), { first_name: 'Ravi', last_name: undefined });
  assert.equal(admin.getUser(admin.findUser('ravi')).first_name, 'Ravi');
  assert.deepEqual(institute.checkIntegrity(), []);
  institute.free();
});

test('changesSince: the limit is a whole number, or absent for the default', () => {
  const institute = Institute.inMemory(CHEAP);
  const admin = institute.operator();
  for (let i = 0; i < 120; i += 1) admin.createBatch({ name: `B${i}` });
  assert.equal(admin.changesSince(0).results.length, 100);
  assert.equal(admin.changesSince(0, 0).results.length, 100);
  assert.equal(admin.changesSince(0, 5).results.length, 5);
  assert.equal(admin.changesSince(0, 2 ** 40).results.length, 120);
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assertRosterError(thrown(() => admin.changesSince(0, bad)), 'validation_failed');
  }
  institute.free();
});
