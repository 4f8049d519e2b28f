// Arguments the JS glue would coerce before roster sees them: non-finite
// numbers inside objects (JSON.stringify writes them as null, and null
// clears a field), ids that are not numbers (ToNumber and Float64Array.set
// turn `true`, "7" and "12" into ids), strings with lone surrogates
// (TextEncoder turns them into U+FFFD), and the messages of refused
// records, which must not echo the value (it may be a password).
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
  // Anything else that crosses as null: an invalid Date, a toJSON of null.
  for (const [patch, where, what] of [
    [{ birth_date: new Date('not a date') }, 'birth_date', 'an invalid Date'],
    [{ first_name: 'R', custom_fields: { Stream: { toJSON: () => null } } }, 'custom_fields.Stream', 'JSON form is null'],
    [{ batches: ['X', new Date(NaN)] }, 'batches[1]', 'an invalid Date'],
    // Inside what a toJSON answers (an Immutable.Map, a class of the host's).
    [{ first_name: 'R', custom_fields: { toJSON: () => ({ Stream: NaN }) } }, 'custom_fields.Stream', 'NaN'],
    [{ toJSON: () => ({ email: Infinity }) }, 'email', 'Infinity'],
  ]) {
    const e = refused(thrown(() => admin.updateUser(user.id, patch)));
    assert.ok(e.message.includes(where), `${where} not named: ${e.message}`);
    assert.ok(e.message.includes(what), e.message);
  }
  // null, undefined and holes still mean what they meant.
  assert.equal(admin.updateUser(user.id, { birth_date: null, city: undefined }).birth_date, null);
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

test('ids must be numbers, and lists of ids arrays of numbers', () => {
  const { institute, admin, user } = setUp();
  const a = admin.createBatch({ name: 'A' });
  const b = admin.createBatch({ name: 'B' });
  admin.addUserBatches(user.id, [a.id, b.id]);
  // "12" was the array-like ['1', '2']; 12 was [].
  for (const bad of ['12', 12, { length: 2, 0: 1, 1: 2 }, new Float64Array([1, 2]), [1, '2'], [1, null], [1.5], [-1], null, undefined]) {
    refused(thrown(() => admin.removeUserBatches(user.id, bad)));
  }
  assert.equal(admin.userBatches(user.id).count, 2, 'no batch was removed');
  for (const bad of [true, false, '7', `${user.id}`, null, undefined, [user.id], { valueOf: () => user.id }, 10n, NaN, -1, 1.5]) {
    const e = refused(thrown(() => admin.getUser(bad)));
    assert.ok(!e.message.includes('memory'), e.message);
    refused(thrown(() => admin.deleteUser(bad)));
  }
  assert.equal(admin.getUser(user.id).username, 'ravi', 'not deleted');
  assert.equal(admin.getUser(1).username, 'admin', 'not deleted');
  // Every kind of id parameter: scalars (users, batches, courses, groups,
  // fields, organisations, the change feed's position) and lists.
  refused(thrown(() => admin.getBatch('1')));
  refused(thrown(() => admin.getCourse('1')));
  refused(thrown(() => admin.getGroup('1')));
  refused(thrown(() => admin.getCustomField('1')));
  refused(thrown(() => admin.hasPerm('1', 'roster.view_user')));
  refused(thrown(() => admin.logoutEverywhere('1')));
  refused(thrown(() => admin.unlockUser(true)));
  refused(thrown(() => admin.organisation('1')));
  refused(thrown(() => admin.assignRoles('x', '1', ['PUBLIC'])));
  refused(thrown(() => admin.changesSince('0')));
  refused(thrown(() => admin.changesSince(0, '5')));
  refused(thrown(() => admin.addUserBatches(user.id, '1')));
  refused(thrown(() => admin.addUserCourses(user.id, '1')));
  refused(thrown(() => admin.removeUserCourses(user.id, '1')));
  refused(thrown(() => admin.addUserSubscriptions(user.id, '1', '2099-01-01')));
  refused(thrown(() => admin.addCourseBatches(1, '1')));
  refused(thrown(() => admin.removeCourseBatches(1, '1')));
  refused(thrown(() => admin.userBatches('2')));
  refused(thrown(() => admin.userCourses('2')));
  refused(thrown(() => admin.userSubscriptions('2')));
  // Numbers and arrays of numbers still work; an absent limit is the default.
  admin.removeUserBatches(user.id, [a.id]);
  assert.deepEqual(admin.userBatches(user.id).results.map((x) => x.name), ['B']);
  assert.equal(admin.addUserBatches(user.id, []).length, 1);
  assert.ok(admin.changesSince(0).results.length > 0);
  assert.ok(admin.changesSince(0, null).results.length > 0);
  institute.free();
});

test('a lone surrogate in a string argument is refused, naming the field', () => {
  const institute = Institute.inMemory(CHEAP);
  let e = refused(thrown(() => institute.createSuperuser('admin', 'pa\uD800ss-word')));
  assert.ok('password' in e.fields, JSON.stringify(e.fields));
  assert.ok(!e.message.includes('ss-word'), `the message echoes the password: ${e.message}`);
  refused(thrown(() => institute.createSuperuser('adm\uDC00in', 'a-long-passphrase')));
  assert.throws(() => institute.login('admin', 'x'), (x) => x.code === 'unauthenticated', 'no superuser was made');

  institute.createSuperuser('admin', 'pa\uFFFDss-word');
  // Was U+FFFD after TextEncoder: the right password.
  e = refused(thrown(() => institute.login('admin', 'pa\uDFFFss-word')));
  assert.ok('password' in e.fields, JSON.stringify(e.fields));
  refused(thrown(() => institute.login('adm\uD800', 'pa\uFFFDss-word')));
  const { token } = institute.login('admin', 'pa\uFFFDss-word');
  // A paired surrogate is text like any other.
  const me = institute.session(token);
  me.changeMyPassword('pa\uFFFDss-word', 'new-\uD83D\uDE00-word');
  e = refused(thrown(() => me.changeMyPassword('new-\uD83D\uDE00-word', 'new-\uD83D-word')));
  assert.ok('newPassword' in e.fields, JSON.stringify(e.fields));
  e = refused(thrown(() => me.changeMyPassword('new-\uDE00-word', 'another-word-1')));
  assert.ok('oldPassword' in e.fields, JSON.stringify(e.fields));
  assert.equal(institute.login('admin', 'new-\uD83D\uDE00-word').user, 1);
  refused(thrown(() => institute.session(`${token}\uD800`)));
  refused(thrown(() => institute.logout(`${token}\uD800`)));

  // The other string parameters: the import text, the REST body, names, ids.
  const op = institute.operator();
  e = refused(thrown(() => op.importUsers('username,password\nravi,pa\uD800ss-word\n')));
  assert.ok('text' in e.fields, JSON.stringify(e.fields));
  assert.equal(op.listUsers().count, 1, 'nothing imported');
  const body = '{"username": "ravi", "password": "pa\uD800ss-word"}';
  e = refused(thrown(() => institute.handle('POST', '/api/v2.5/admin/users/', { Authorization: `JWT ${token}`, 'content-type': 'application/json' }, body)));
  assert.ok('body' in e.fields, JSON.stringify(e.fields));
  refused(thrown(() => institute.handle('GET', '/api/v2.5/me/\uD800', {}, null)));
  refused(thrown(() => op.findUser('adm\uD800')));
  refused(thrown(() => op.hasPerm(1, 'roster.view_user\uD800')));
  refused(thrown(() => op.listBatches('\uD800')));
  refused(thrown(() => op.sunbirdRead('\uD800')));
  refused(thrown(() => op.sunbirdCreate({ firstName: 'x' }, 'create\uD800')));
  refused(thrown(() => op.assignRoles('x', 1, ['PUBLIC\uD800'])));
  refused(thrown(() => op.setSystemSetting('tncConfig', '{"a": "\uD800"}')));
  refused(thrown(() => op.acceptTerms('v1', undefined, '\uD800')));
  assert.equal(op.listUsers().count, 1);

  // Not a string at all: refused, never a trap of the module.
  for (const bad of [123, null, undefined, {}, ['admin'], true]) {
    e = refused(thrown(() => institute.login(bad, 'a-long-passphrase')));
    assert.ok('usernameOrEmail' in e.fields, JSON.stringify(e.fields));
  }
  refused(thrown(() => institute.createSuperuser('root', 12345678)));
  refused(thrown(() => op.assignRoles('x', 1, 'PUBLIC')));
  // Still whole.
  assert.equal(institute.login('admin', 'new-\uD83D\uDE00-word').user, 1);
  assert.deepEqual(institute.checkIntegrity(), []);
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
