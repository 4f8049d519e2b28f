// Arguments that would be changed before roster sees them: non-finite
// numbers inside objects (JSON.stringify writes them as null, and null
// clears a field), and the messages of refused records, which must not
// echo the value (it may be a password).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { roster, CHEAP, thrown } = require('./support.js');

const { Institute } = roster;

/** Asserts `e` is a roster error with this code; returns it. */
function refused(e, code = 'validation_failed') {
  assert.ok(e instanceof Error, `not an Error: ${e}`);
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  return e;
}

function setUp() {
  const institute = Institute.inMemory(CHEAP);
  institute.createSuperuser('admin', 'Adm1n-Pass!');
  const admin = institute.operator();
  const user = admin.createUser({
    username: 'ravi', password: 'ravi-pass-1', email: 'ravi@example.com', phone: '9876543210', first_name: 'Ravi',
  }).user;
  return { institute, admin, user };
}

test('a NaN or an Infinity anywhere in an input object is refused, naming where, and nothing is written', () => {
  const { institute, admin, user } = setUp();
  const before = admin.getUser(user.id);
  for (const [patch, where] of [
    [{ email: NaN, phone: Infinity }, 'email'],
    [{ phone: -Infinity }, 'phone'],
    [{ first_name: 'R', custom_fields: { Stream: NaN } }, 'custom_fields.Stream'],
    [{ batches: ['X', Infinity] }, 'batches[1]'],
    [{ email: new Number(NaN) }, 'email'],
  ]) {
    const e = refused(thrown(() => admin.updateUser(user.id, patch)));
    assert.ok(e.message.includes(where), `${where} not named: ${e.message}`);
    assert.match(e.message, /NaN|Infinity|finite/, e.message);
  }
  assert.deepEqual(admin.getUser(user.id), before, 'nothing changed');
  // The config and options objects too: no silent default for a NaN.
  const e = refused(thrown(() => Institute.inMemory({ ...CHEAP, lockoutMaxFailures: NaN })));
  assert.ok(e.message.includes('lockoutMaxFailures'), e.message);
  refused(thrown(() => Institute.inMemory({ argon2: { mKib: 64, t: Infinity, p: 1 } })));
  refused(thrown(() => admin.listUsers({ page: NaN })));
  refused(thrown(() => admin.createUser({ username: 'meena', password: 'meena-pass-1', phone: NaN })));
  refused(thrown(() => admin.sunbirdSearch({ filters: { all: [] }, limit: Infinity })));
  refused(thrown(() => institute.handle('GET', '/api/v2.5/me/', { Authorization: NaN }, null)));
  assert.equal(admin.listUsers().count, 2);
  // Finite numbers still pass, and a phone may still be a number.
  assert.equal(admin.updateUser(user.id, { phone: 9787231006 }).phone, '9787231006');
  institute.free();
});

test('a refused record or option names the field, never its value', () => {
  const { institute, admin } = setUp();
  for (const [f, field] of [
    [() => admin.sunbirdCreate({ firstName: 'x', password: 12345678 }, 'create'), 'password'],
    [() => admin.sunbirdCreate({ firstName: 'x', password: ['secret-pass-word'] }, 'create'), 'password'],
    [() => admin.sunbirdCreate({ firstName: 'x', email: { secret: 'secret-pass-word' } }, 'create'), 'email'],
    [() => admin.sunbirdUpdate('abc', { phone: 87654321 }), 'phone'],
    [() => admin.changeRoles('abc', [{ role: 'ORG_ADMIN', operation: 87654321, scope: [1] }]), '[0]'],
    [() => admin.listUsers({ q: 12345678 }), 'q'],
    [() => admin.createUser({ username: 'x', password: 'x-pass-word-1' }, { notifyCredential: 'secret-pass-word' }), 'notifyCredential'],
    [() => Institute.inMemory({ now: 12345678 }), 'now'],
  ]) {
    const e = refused(thrown(f));
    assert.ok(e.message.includes(field), `${field} not named: ${e.message}`);
    assert.doesNotMatch(e.message, /12345678|87654321|secret/, e.message);
    assert.doesNotMatch(JSON.stringify(e.fields), /12345678|87654321|secret/, JSON.stringify(e.fields));
  }
  // An unknown key is named (it is the caller's key, not a value).
  assert.throws(() => admin.sunbirdCreate({ firstName: 'x', shoeSize: 9 }, 'create'), /shoeSize/);
  institute.free();
});
