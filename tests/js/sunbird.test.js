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
