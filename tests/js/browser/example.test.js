// The example page (bindings-wasm/example/) in headless Chromium: roster in a
// Web Worker on OPFS, driven like a user would. No npm dependencies: the
// browser is driven through chromedriver's WebDriver HTTP API with fetch.
//
//   bindings-wasm/build.sh                   # builds bindings-wasm/pkg/web first
//   node --test tests/js/browser/
//
// Environment: CHROMEDRIVER (default /usr/bin/chromedriver), CHROMIUM
// (default /usr/bin/chromium). Leaves a screenshot in target/example-page.png.
// ROSTER_PACKAGE_DIR, an installed npm package (node_modules/@roster-admin/
// roster, tests/npm/package.sh): the page's `../js/` and `../pkg/` are then
// served from it instead of the repository, so the page runs the package.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebDriver, freePort, serveRepository, sleep } from './webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CHROMEDRIVER = process.env.CHROMEDRIVER || '/usr/bin/chromedriver';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PAGE = '/bindings-wasm/example/index.html';
const PACKAGE = process.env.ROSTER_PACKAGE_DIR ? path.resolve(process.env.ROSTER_PACKAGE_DIR) : null;
const SCREENSHOT = path.join(ROOT, 'target', 'example-page.png');
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** The shared client, plus what driving the example page needs. */
class Driver extends WebDriver {
  async find(css) {
    const found = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return found[ELEMENT];
  }

  async type(css, text) {
    const element = await this.find(css);
    await this.cmd('POST', `/element/${element}/clear`, {});
    await this.cmd('POST', `/element/${element}/value`, { text });
  }

  async click(css) {
    await this.cmd('POST', `/element/${await this.find(css)}/click`, {});
  }

  /** Runs `body` (the source of an async function) in the page and returns its result. */
  run(body, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      (async (...args) => { ${body} })(...Array.from(arguments).slice(0, -1))
        .then(done, (e) => done({ thrown: String(e && e.stack || e) }));`;
    return this.cmd('POST', '/execute/async', { script, args });
  }

  text(css) {
    return this.exec('const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;', css);
  }

  /** What the page shows when something goes wrong, for failure messages. */
  async diagnostics() {
    const page = await this.exec(`return JSON.stringify({
      state: document.body.dataset.state, storage: document.querySelector('#storage-status')?.textContent,
      fatal: document.querySelector('#fatal')?.textContent,
      errors: [...document.querySelectorAll('.error')].map((e) => e.textContent).filter(Boolean) });`)
      .catch((e) => String(e));
    const logs = await this.cmd('POST', '/se/log', { type: 'browser' })
      .then((entries) => entries.map((e) => `${e.level} ${e.message}`).join('\n'))
      .catch(() => '(no browser log)');
    return `page: ${page}\nbrowser log:\n${logs}`;
  }

  /** Polls `script` in the page until it returns something truthy. */
  async waitFor(what, script, ...args) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await this.exec(script, ...args);
      if (value) return value;
      const state = await this.exec('return document.body.dataset.state;');
      if (state === 'error' || Date.now() > deadline) {
        assert.fail(`waiting for ${what}: ${state === 'error' ? 'the page failed' : 'timed out'}\n${await this.diagnostics()}`);
      }
      await sleep(50);
    }
  }

  async waitForState(state) {
    await this.waitFor(`page state ${state}`, 'return document.body.dataset.state === arguments[0];', state);
  }
}

let server;
let chromedriver;
let driver;
let profile;
let origin;

before(async () => {
  const pkg = path.join(PACKAGE ?? path.join(ROOT, 'bindings-wasm'), 'pkg/web/roster_wasm.js');
  assert.ok(existsSync(pkg), `${pkg} is missing: run bindings-wasm/build.sh first`);
  assert.ok(existsSync(CHROMEDRIVER), `${CHROMEDRIVER} is missing: apt-get install chromium chromium-driver`);

  // With a package, everything under /bindings-wasm/js/ and /bindings-wasm/pkg/
  // comes from it (a file it lacks is a 404, never the repository's copy).
  const mounts = PACKAGE
    ? { '/bindings-wasm/js/': path.join(PACKAGE, 'js'), '/bindings-wasm/pkg/': path.join(PACKAGE, 'pkg') }
    : {};
  server = await serveRepository(ROOT, {}, mounts);
  origin = `http://127.0.0.1:${server.address().port}`;

  const port = await freePort();
  chromedriver = spawn(CHROMEDRIVER, [`--port=${port}`, '--allowed-ips=127.0.0.1'], { stdio: 'ignore' });
  driver = new Driver(`http://127.0.0.1:${port}`);
  const deadline = Date.now() + 15_000;
  while (!(await driver.send('GET', '/status').then((s) => s.ready, () => false))) {
    assert.ok(Date.now() < deadline, 'chromedriver did not start');
    await sleep(100);
  }

  profile = mkdtempSync(path.join(os.tmpdir(), 'roster-chromium-'));
  const args = [
    '--headless=new',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--window-size=1100,1500',
    `--user-data-dir=${profile}`,
  ];
  // Chromium's sandbox refuses to run as root.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  await driver.start({
    browserName: 'chrome',
    'goog:chromeOptions': { binary: CHROMIUM, args },
    'goog:loggingPrefs': { browser: 'ALL' },
  });
});

after(async () => {
  await driver?.stop();
  chromedriver?.kill();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the example page adds users to batches on OPFS and keeps them across a reload', { timeout: 120_000 }, async (t) => {
  if (PACKAGE) t.diagnostic(`js/ and pkg/ served from the installed package ${PACKAGE}`);
  await t.test('first run: the host creates the administrator, who is signed in', async () => {
    await driver.cmd('POST', '/url', { url: origin + PAGE });
    await driver.waitFor('the page to start', 'return ["setup", "signin", "app", "error"].includes(document.body.dataset.state);');
    await driver.waitForState('setup');
    const storage = await driver.exec('return document.querySelector("#storage-status").dataset.storage;');
    assert.equal(storage, 'opfs', await driver.diagnostics());
    assert.match(await driver.text('#setup .note'), /host operation/);

    await driver.type('#setup-form input[name="username"]', 'admin');
    await driver.type('#setup-form input[name="password"]', 'a-long-passphrase');
    await driver.click('#setup-form button[type="submit"]');
    await driver.waitForState('app');
    assert.equal(await driver.text('#whoami'), 'admin');
  });

  await t.test('a batch is created and offered in the select', async () => {
    await driver.type('#batch-form input[name="name"]', 'Morning Batch');
    await driver.click('#batch-form button[type="submit"]');
    await driver.waitFor('the new batch to be selected',
      'return document.querySelector("#user-form select[name=batch]").value === "Morning Batch";');
  });

  await t.test('a user added through the form is listed with the batch', async () => {
    await driver.type('#user-form input[name="username"]', 'ravi');
    await driver.type('#user-form input[name="password"]', 'ravi-pass-1');
    await driver.type('#user-form input[name="first_name"]', 'Ravi');
    await driver.type('#user-form input[name="last_name"]', 'Kumar');
    await driver.type('#user-form input[name="email"]', 'ravi@example.com');
    await driver.type('#user-form input[name="birth_date"]', '03/07/2001');
    await driver.click('#user-form select[name="batch"] option[value="Morning Batch"]');
    await driver.click('#user-form button[type="submit"]');
    await driver.waitFor('ravi in the list', 'return document.querySelector("#users tr[data-username=ravi]");');
    const row = await driver.text('#users tr[data-username="ravi"]');
    for (const part of ['Ravi Kumar', 'ravi@example.com', '03/07/2001', 'Morning Batch']) {
      assert.ok(row.includes(part), `"${part}" missing from the row: ${row}`);
    }
  });

  await t.test('an impossible birth date is shown next to its field', async () => {
    await driver.type('#user-form input[name="username"]', 'asha');
    await driver.type('#user-form input[name="password"]', 'asha-pass-1');
    await driver.type('#user-form input[name="birth_date"]', '31/02/2000');
    await driver.click('#user-form button[type="submit"]');
    const message = await driver.waitFor('the birth date error',
      'return document.querySelector("[data-error-for=birth_date]").textContent;');
    assert.ok(message.length > 0);
    assert.equal(await driver.text('[data-error-for="username"]'), '');
    assert.equal(await driver.exec('return document.querySelector("#user-form [name=birth_date]").getAttribute("aria-invalid");'), 'true');
    assert.equal(await driver.exec('return document.querySelector("#users tr[data-username=asha]");'), null);
  });

  await t.test('after a reload the user is still there (OPFS)', async () => {
    await driver.cmd('POST', '/refresh', {});
    await driver.waitFor('the page to start again', 'return ["setup", "signin", "app", "error"].includes(document.body.dataset.state);');
    await driver.waitForState('app');
    const storage = await driver.exec('return document.querySelector("#storage-status").dataset.storage;');
    assert.equal(storage, 'opfs');
    await driver.waitFor('ravi in the list after the reload', 'return document.querySelector("#users tr[data-username=ravi]");');
    assert.match(await driver.text('#users tr[data-username="ravi"]'), /Morning Batch/);
    assert.equal(await driver.exec('return document.querySelectorAll("#users tbody tr").length;'), 2); // admin, ravi
  });

  await t.test('the client: a held store, the fallback to memory, calls and errors', async (st) => {
    await driver.cmd('POST', '/timeouts', { script: 30_000 });
    const result = await driver.run(`
      const { RosterClient, isRosterError } = await import('/bindings-wasm/js/roster-client.js');
      const out = {};
      // The page's worker holds "school": a second client waits lockWaitMs, then gets store_locked.
      const started = performance.now();
      out.locked = await RosterClient.start({ name: 'school', lockWaitMs: 300 })
        .then((c) => { c.close(); return 'opened'; }, (e) => e.code);
      out.lockWaitMs = Math.round(performance.now() - started);

      // A worker without OPFS sync handles (as in a browser that lacks them): the client
      // falls back to memory and says why.
      const worker = new URL('/bindings-wasm/js/roster-worker.js', location.href).href;
      const source = 'import ' + JSON.stringify(worker) + ';'
        + ' delete FileSystemFileHandle.prototype.createSyncAccessHandle;';
      const workerUrl = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const roster = await RosterClient.start({
        name: 'fallback', workerUrl, config: { argon2: { mKib: 64, t: 1, p: 1 } },
      });
      out.persistent = roster.persistent;
      out.storageError = roster.storageError?.code;

      await roster.createSuperuser('root', 'a-long-passphrase');
      const { token } = await roster.login('root', 'a-long-passphrase');
      const admin = roster.session(token);
      out.batch = (await admin.createBatch({ name: 'Evening' })).name;
      out.created = (await roster.call('createUser', [{ username: 'meena', password: 'meena-pass-1',
        batches: ['Evening'] }], { token })).user.username;
      const bad = await admin.createUser({ username: 'meena', password: '123456', birth_date: '31/02/2000' })
        .catch((e) => ({ isError: e instanceof Error, isRosterError: isRosterError(e), name: e.name, code: e.code, fields: Object.keys(e.fields).sort() }));
      out.bad = bad;
      out.unauthenticated = await roster.session('nope').listUsers().catch((e) => e.code);
      out.unknown = await roster.call('free', [], { token }).catch((e) => e.code);
      out.operatorCount = (await roster.operator().listUsers({ withBatches: true })).count;
      const me = await roster.handle('GET', '/api/v2.5/me/', { Authorization: 'JWT ' + token });
      out.me = [me.status, JSON.parse(me.body).username];
      out.integrity = await roster.checkIntegrity();
      await roster.close();
      out.afterClose = await roster.login('root', 'a-long-passphrase').then(() => 'answered', (e) => e.code);

      // One sign-in at the default argon2 cost (m=19456 KiB, t=2, p=1), round trip included.
      const timed = await RosterClient.start({ name: 'timing', persistent: false });
      await timed.createSuperuser('root', 'a-long-passphrase');
      const before = performance.now();
      await timed.login('root', 'a-long-passphrase');
      out.signInMs = Math.round(performance.now() - before);
      await timed.close();
      return out;
    `);
    assert.equal(result.thrown, undefined, result.thrown);
    assert.equal(result.locked, 'store_locked');
    assert.ok(result.lockWaitMs >= 300, `gave up after ${result.lockWaitMs} ms`);
    assert.equal(result.persistent, false);
    assert.equal(result.storageError, 'storage_unavailable');
    assert.equal(result.batch, 'Evening');
    assert.equal(result.created, 'meena');
    assert.deepEqual(result.bad, { isError: true, isRosterError: true, name: 'RosterError', code: 'validation_failed', fields: ['birth_date', 'password', 'username'] });
    assert.equal(result.unauthenticated, 'unauthenticated');
    assert.equal(result.unknown, 'validation_failed');
    assert.equal(result.operatorCount, 2);
    assert.deepEqual(result.me, [200, 'root']);
    assert.deepEqual(result.integrity, []);
    assert.equal(result.afterClose, 'internal_error');
    st.diagnostic(`one sign-in through the worker, default argon2id (pkg/web build): ${result.signInMs} ms`);
  });

  await t.test('the client: acting for a managed user, and a trap of the module', async () => {
    await driver.cmd('POST', '/timeouts', { script: 30_000 });
    const result = await driver.run(`
      const { RosterClient } = await import('/bindings-wasm/js/roster-client.js');
      const config = { argon2: { mKib: 64, t: 1, p: 1 } };
      const out = {};
      const fail = (e) => ({ code: e.code, message: e.message });

      // actingFor goes through the client like session: a handle never crosses.
      const roster = await RosterClient.start({ name: 'acting', persistent: false, config });
      await roster.createSuperuser('root', 'a-long-passphrase');
      const asha = await roster.operator().sunbirdCreate(
        { firstName: 'Asha', email: 'asha@example.com', password: 'asha-pass-123' }, 'create');
      const { token } = await roster.login('asha@example.com', 'asha-pass-123');
      const me = roster.session(token);
      const kid = await me.sunbirdCreate({ firstName: 'Kiran', managedBy: asha }, 'managed');
      const [entry] = await me.managedUsers(asha, true);
      const child = me.actingFor(entry.token);
      out.acting = (await child.sunbirdRead(kid)).userId === kid;
      out.actingMe = (await child.me()).id !== (await me.me()).id;
      out.byName = (await roster.call('sunbirdRead', [kid], { token, actingFor: entry.token })).userId === kid;
      out.handleRefused = await roster.call('actingFor', [entry.token], { token }).then(() => 'answered', fail);
      out.notTheManager = await roster.operator().actingFor(entry.token).sunbirdRead(kid).then(() => 'answered', (e) => e.code);
      await roster.close();

      // A trap (WebAssembly.RuntimeError, what a panic is on wasm32), made
      // here by a method replaced in the worker's copy of the module.
      const pkg = new URL('/bindings-wasm/pkg/web/roster_wasm.js', location.href).href;
      const worker = new URL('/bindings-wasm/js/roster-worker.js', location.href).href;
      const source = 'import * as roster from ' + JSON.stringify(pkg) + '; import ' + JSON.stringify(worker) + ';'
        + ' roster.Admin.prototype.purgeExpired = function () { throw new WebAssembly.RuntimeError("unreachable"); };';
      const workerUrl = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const name = 'trap-' + Date.now();
      const trapped = await RosterClient.start({ name, workerUrl, config });
      out.trappedPersistent = trapped.persistent;
      await trapped.createSuperuser('root', 'a-long-passphrase');
      out.trap = await trapped.operator().purgeExpired().then(() => 'answered', fail);
      out.afterTrap = await trapped.login('root', 'a-long-passphrase').then(() => 'answered', fail);
      out.closed = await trapped.close().then(() => 'closed', fail);
      // The trapped worker is gone and the OPFS file with it: a new client opens the store.
      const again = await RosterClient.start({ name, config, lockWaitMs: 3000 });
      out.reopened = await again.login('root', 'a-long-passphrase').then((l) => l.user, fail);
      await again.close();
      const root = await navigator.storage.getDirectory();
      await root.removeEntry(name + '.redb').catch(() => {});
      return out;
    `);
    assert.equal(result.thrown, undefined, result.thrown);
    assert.equal(result.acting, true);
    assert.equal(result.actingMe, true);
    assert.equal(result.byName, true);
    assert.equal(result.handleRefused.code, 'validation_failed', result.handleRefused.message);
    assert.match(result.handleRefused.message, /actingFor/);
    assert.equal(result.notTheManager, 'unauthenticated');
    assert.equal(result.trappedPersistent, true);
    assert.equal(result.trap.code, 'internal_error');
    assert.match(result.trap.message, /RuntimeError.*reopened/);
    assert.equal(result.afterTrap.code, 'internal_error');
    assert.match(result.afterTrap.message, /reopened/);
    assert.equal(result.closed, 'closed');
    assert.equal(result.reopened, 1);
  });

  await t.test('screenshot', async () => {
    // The error once more, so the picture shows a list and a field error.
    await driver.type('#user-form input[name="username"]', 'asha');
    await driver.type('#user-form input[name="password"]', 'asha-pass-1');
    await driver.type('#user-form input[name="birth_date"]', '31/02/2000');
    await driver.click('#user-form button[type="submit"]');
    await driver.waitFor('the birth date error', 'return document.querySelector("[data-error-for=birth_date]").textContent;');
    const png = Buffer.from(await driver.cmd('GET', '/screenshot'), 'base64');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    writeFileSync(SCREENSHOT, png);
    assert.ok(png.length > 1000);
  });
});
