// The Sunbird user lifecycle through the WebAssembly package's typed API
// (plain objects in the core's camelCase records), and one Sunbird path
// through `handle`: the same record behind both.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { roster, CHEAP } = require('./support.js');

const { Institute } = roster;

test('a Sunbird flow: organisation, terms, a user, a managed user, roles, search, block', () => {
  const institute = Institute.inMemory(CHEAP);
  institute.createSuperuser('admin', 'Adm1n-Pass!');
  const admin = institute.session(institute.login('admin', 'Adm1n-Pass!').token);

  const org = admin.createOrganisation({ name: 'Springfield', orgType: 'board', channel: 'springfield', isTenant: true });
  assert.equal(typeof org, 'number');
  assert.equal(admin.organisation(org).channel, 'springfield');
  // S13: organisations are listed, filtered and paged.
  const school = admin.createOrganisation({ name: 'School', orgType: 'school', channel: 'springfield', isTenant: false });
  assert.deepEqual(admin.searchOrganisations().content.map((o) => o.id), [org, school]);
  const schools = admin.searchOrganisations({ filters: { all: [{ key: 'rootOrgId', condition: { anyOf: [String(org)] } }], any: [] }, offset: 1, limit: 5 });
  assert.equal(schools.count, 2);
  assert.deepEqual(schools.content.map((o) => o.name), ['School']);
  assert.throws(() => admin.searchOrganisations({ filter: {} }), (e) => e.code === 'validation_failed' && /filter/.test(e.message));
  admin.setSystemSetting('tncConfig', JSON.stringify({ latestVersion: 'v1', v1: { url: 'https://example.com/t1' } }));

  const asha = admin.sunbirdCreate(
    { firstName: 'Asha', lastName: 'Nair', email: 'asha.nair@example.com', phone: '9876543210', password: 'asha-pass-123', channel: 'springfield' },
    'create',
  );
  assert.match(asha, /^[0-9a-f-]{36}$/);
  let view = admin.sunbirdRead(asha, { completeness: true });
  assert.equal(view.email, 'as*******@example.com');
  assert.equal(view.phone, '******3210');
  assert.equal(view.promptTnc, true);
  assert.equal(view.rootOrg.id, org);
  assert.equal(typeof view.completeness, 'number');

  // The user itself accepts the terms and creates a managed user.
  const me = institute.session(institute.login('asha.nair@example.com', 'asha-pass-123').token);
  me.acceptTerms('V1');
  assert.equal(admin.sunbirdRead(asha).promptTnc, false);
  const kid = me.sunbirdCreate({ firstName: 'Kiran', managedBy: asha }, 'managed');
  const managed = me.managedUsers(asha, true);
  assert.equal(managed.length, 1);
  // withTokens is a boolean: a truthy string is refused, not taken for true.
  assert.throws(() => me.managedUsers(asha, 'no'), (e) => e.code === 'validation_failed');
  assert.equal(me.managedUsers(asha).length, 1);
  assert.ok(!me.managedUsers(asha)[0].token);
  assert.equal(managed[0].view.userId, kid);
  assert.match(managed[0].token, /^[0-9a-f]{64}$/);
  // The manager acts as the managed user; nobody else may.
  const child = me.actingFor(managed[0].token);
  assert.equal(child.sunbirdRead(kid).userId, kid);
  assert.throws(() => admin.actingFor(managed[0].token), (e) => e.code === 'unauthenticated');
  // A token for one managed user (withTokens on a read): its manager only.
  assert.match(me.sunbirdManagedToken(kid), /^[0-9a-f]{64}$/);
  assert.equal(admin.sunbirdManagedToken(kid), undefined);

  // Roles with scope, then a search on the indexes.
  admin.changeRoles(asha, [{ role: 'ORG_ADMIN', operation: 'add', scope: [org] }]);
  const found = admin.sunbirdSearch({
    filters: { all: [{ key: 'roles.role', condition: { anyOf: ['org_admin'] } }] },
    query: 'nair',
  });
  assert.equal(found.count, 1);
  assert.equal(found.content[0].userId, asha);
  assert.deepEqual(found.content[0].side.roles.map((r) => r.role), ['ORG_ADMIN']);
  assert.deepEqual(admin.sunbirdExists('email', 'ASHA.NAIR@example.com'), { userId: asha, name: 'Asha Nair' });
  assert.equal(admin.sunbirdExists('phone', '9000000000'), null);

  // A typed failure carries the code and the reference's number in its message.
  assert.throws(() => admin.sunbirdCreate({ email: 'x@example.com' }, 'create'), (e) => {
    assert.equal(e.code, 'validation_failed');
    assert.equal(e.message, 'Mandatory parameter firstName is missing.');
    return true;
  });
  assert.throws(() => admin.sunbirdCreate({ firstName: 'x', shoeSize: 9 }, 'create'), /shoeSize/);

  // Block ends the user's session; the REST path sees the same record.
  admin.sunbirdBlock(asha);
  assert.throws(() => me.sunbirdRead(asha), (e) => e.code === 'unauthenticated');
  const r = institute.handle('GET', `/api/user/v1/read/${asha}`, { 'x-authenticated-user-token': institute.login('admin', 'Adm1n-Pass!').token }, null);
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.body).params.err, 'UOS_USRRED0006');
  admin.sunbirdUnblock(asha);
  assert.equal(admin.sunbirdRead(asha).status, 1);
  assert.deepEqual(institute.checkIntegrity(), []);
});

test('reads by login id and by id type, a shadow claim, and form checks that write nothing', () => {
  const institute = Institute.inMemory(CHEAP);
  institute.createSuperuser('admin', 'Adm1n-Pass!');
  const admin = institute.session(institute.login('admin', 'Adm1n-Pass!').token);
  admin.createOrganisation({ name: 'State', orgType: 'school', channel: 'state1', isTenant: true });

  // A shadow account made by single sign-on, and a user who claims it.
  const shadow = admin.sunbirdCreate(
    { firstName: 'Shadow', phone: '9876500001', channel: 'state1', externalIds: [{ id: 'H-9', provider: 'state1', idType: 'state1' }] },
    'sso',
  );
  const claimant = admin.sunbirdCreate(
    { firstName: 'Claimant', userName: 'claimant', email: 'claimant@example.in', password: 'Pass@1word' },
    'create',
  );

  // S9: by user name, email or phone; S7: by the id type named.
  assert.equal(admin.sunbirdReadLogin('CLAIMANT').userId, claimant);
  assert.equal(admin.sunbirdReadLogin('claimant@example.in').userId, claimant);
  assert.equal(admin.sunbirdReadLogin('9876500001').userId, shadow);
  assert.equal(admin.sunbirdReadLogin('claimant', { completeness: true }).completeness > 0, true);
  assert.throws(() => admin.sunbirdReadLogin('nobody'), (e) => e.code === 'not_found');
  assert.throws(() => admin.sunbirdReadLogin(42), (e) => e.code === 'validation_failed' && 'loginId' in e.fields);
  const got = admin.sunbirdGet('phone', '9876500001');
  assert.equal(got.userId, shadow);
  assert.equal(got.phone, '******0001');
  assert.equal(admin.sunbirdGet('userName', 'claimant').userId, claimant);
  assert.throws(() => admin.sunbirdGet('email', 'nobody@example.in'), (e) => e.code === 'not_found');
  assert.throws(() => admin.sunbirdGet('shoe', 'x'), (e) => e.code === 'validation_failed');

  // S11: a wrong id counts an attempt; the right one merges the shadow in.
  const me = institute.session(institute.login('claimant', 'Pass@1word').token);
  assert.deepEqual(me.migrate(claimant, 'state1', true, 'wrong-id'), { wrongId: { remaining: 1, given: 'wrong-id' } });
  assert.throws(() => me.migrate(claimant, 'state1', 'yes', 'H-9'), (e) => e.code === 'validation_failed' && 'accept' in e.fields);
  assert.throws(() => me.migrate(claimant, 'state1', undefined, 'H-9'), (e) => e.code === 'validation_failed');
  assert.throws(() => admin.migrate(claimant, 'state1', true, 'H-9'), (e) => e.code === 'forbidden');
  assert.equal(me.migrate(claimant, 'state1', true, 'h-9'), 'accepted');
  // The shadow is merged away; its external id is the claimant's now.
  assert.throws(() => admin.sunbirdRead(shadow), (e) => e.code === 'not_found');
  assert.deepEqual(admin.sunbirdRead(claimant).side.externalIds.map((e) => e.id), ['h-9']);

  // Form checks: the messages a create or an update would give, nothing written.
  const before = admin.listUsers().count;
  const problems = admin.checkNewUser({ username: 'Claimant', password: 'x' });
  assert.deepEqual(Object.keys(problems).sort(), ['password', 'username']);
  assert.deepEqual(problems.username, ['A user with that username already exists.']);
  assert.deepEqual(admin.checkNewUser({ username: 'fresh', password: 'a-long-Pass-1' }), {});
  assert.deepEqual(admin.checkNewUser({ username: 'fresh' }, { autoGeneratePassword: true }), {});
  assert.deepEqual(Object.keys(admin.checkNewUser({ username: 'fresh' })), ['password']);
  assert.throws(() => admin.checkNewUser({ username: 'fresh' }, { shoeSize: 9 }), (e) => e.code === 'validation_failed');
  const id = admin.findUser('claimant');
  assert.ok(admin.checkUserPatch(id, { zip: '12345' }).zip);
  assert.deepEqual(admin.checkUserPatch(id, { first_name: 'Clara' }), {});
  assert.throws(() => admin.checkUserPatch(999999, {}), (e) => e.code === 'not_found');
  assert.equal(admin.listUsers().count, before);
  assert.equal(admin.getUser(id).first_name, 'Claimant');
  const user = institute.session(institute.login('claimant', 'Pass@1word').token);
  assert.throws(() => user.checkNewUser({ username: 'x', password: 'y' }), (e) => e.code === 'forbidden');
  assert.deepEqual(institute.checkIntegrity(), []);
});
