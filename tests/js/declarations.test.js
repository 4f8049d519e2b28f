// The TypeScript declarations wasm-bindgen writes beside each build
// (pkg/{node,web}/roster_wasm.d.ts): the documented classes and methods, no
// `any` in a public signature, and the documented signatures exactly.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, roster } = require('./support.js');

const TARGETS = ['node', 'web'];

/** The public part of a declaration file, without comments. */
function declarations(target) {
  const file = path.join(ROOT, 'bindings-wasm', 'pkg', target, 'roster_wasm.d.ts');
  let text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  // The web build adds the loader's types (InitInput, InitOutput, ...).
  const loader = text.indexOf('export type InitInput');
  if (loader >= 0) text = text.slice(0, loader);
  return text.replace(/\s+/g, ' ');
}

/** `{method: signature}` of `export class name`. */
function methods(text, name) {
  const start = text.indexOf(`export class ${name} `);
  assert.ok(start >= 0, `no class ${name}`);
  const body = text.slice(text.indexOf('{', start) + 1, text.indexOf(' }', start));
  const out = {};
  for (const m of body.matchAll(/(?:static )?(\w+)\(([^)]*)\): ([^;]+);/g)) out[m[1]] = m[0];
  return out;
}

test('the classes and every documented method are declared, with no `any`', () => {
  for (const target of TARGETS) {
    const text = declarations(target);
    const institute = methods(text, 'Institute');
    const admin = methods(text, 'Admin');
    for (const m of ['inMemory', 'openPersistent', 'createSuperuser', 'login', 'logout', 'operator', 'session', 'handle', 'checkIntegrity', 'free']) {
      assert.ok(m in institute, `${target}: Institute.${m}`);
    }
    for (const m of ['createUser', 'listUsers', 'getUser', 'updateUser', 'deleteUser', 'createBatch', 'listBatches', 'takeOutbox', 'permissions', 'free']) {
      assert.ok(m in admin, `${target}: Admin.${m}`);
    }
    // Every method the JS classes have is declared, and the other way round.
    const own = (cls) => Object.getOwnPropertyNames(cls.prototype).concat(Object.getOwnPropertyNames(cls))
      .filter((n) => !['constructor', 'length', 'name', 'prototype', '__destroy_into_raw', '__wrap'].includes(n) && !n.startsWith('Symbol'));
    assert.deepEqual(own(roster.Institute).sort(), Object.keys(institute).sort(), `${target}: Institute`);
    assert.deepEqual(own(roster.Admin).sort(), Object.keys(admin).sort(), `${target}: Admin`);
    for (const [name, signature] of Object.entries({ ...institute, ...admin })) {
      assert.doesNotMatch(signature, /\bany\b/, `${target}: ${name} is typed`);
    }
    for (const type of ['Config', 'Login', 'HttpResponse', 'User', 'NewUser', 'Page<T>', 'Batch']) {
      assert.ok(text.includes(`export interface ${type} `) || text.includes(`export type ${type} `), `${target}: ${type}`);
    }
    // The error is a class a `catch` can test with `instanceof`.
    assert.ok(text.includes('export class RosterError extends Error { private constructor();'), `${target}: class RosterError`);
    assert.equal(typeof roster.RosterError, 'function', 'RosterError is exported');
  }
});

// The signatures of the brief: optional trailing arguments are optional in
// TypeScript (`config?: Config`, not `config_object: Config | undefined`,
// which TypeScript makes callers pass), and parameter names are camelCase.
// wasm-bindgen 0.2.130 writes them with
// `#[wasm_bindgen(js_name = config, unchecked_optional_param_type = "Config")] config: JsValue`.
const DOCUMENTED = {
  Institute: [
    'static inMemory(config?: Config): Institute;',
    'static openPersistent(name: string, config?: Config): Promise<Institute>;',
    'createSuperuser(username: string, password: string): number;',
    'login(usernameOrEmail: string, password: string): Login;',
    'logout(token: string): void;',
    'operator(): Admin;',
    'session(token: string): Admin;',
    'handle(method: string, pathWithQuery: string, headers?: Record<string, string> | null, body?: string | null): HttpResponse;',
    'checkIntegrity(): string[];',
    'free(): void;',
  ],
  Admin: [
    'createUser(input: NewUser, options?: CreateOptions): Created;',
    'listUsers(query?: UserQuery): Page<User>;',
    'getUser(id: number): User;',
    'updateUser(id: number, patch: UserPatch): User;',
    'deleteUser(id: number): void;',
    'createBatch(input: BatchInput): Batch;',
    'takeOutbox(): OutboxMessage[];',
    'permissions(): Permission[];',
  ],
};

test('the documented signatures, exactly', () => {
  for (const target of TARGETS) {
    const text = declarations(target);
    const wrong = [];
    for (const [cls, signatures] of Object.entries(DOCUMENTED)) {
      const declared = methods(text, cls);
      for (const expected of signatures) {
        const name = expected.match(/(\w+)\(/)[1];
        if (declared[name] !== expected) wrong.push(`${target} ${cls}: want ${expected}\n${' '.repeat(target.length + cls.length + 3)}got  ${declared[name]}`);
      }
    }
    assert.deepEqual(wrong, []);
  }
});

/** `{key: type}` of `export interface name`, one level deep. */
function keys(text, name) {
  const start = text.search(new RegExp(`export interface ${name} (extends [\\w, ]+ )?\\{`));
  assert.ok(start >= 0, `no interface ${name}`);
  const body = text.slice(text.indexOf('{', start) + 1, text.indexOf(' }', start));
  return [...body.matchAll(/(\w+)\??: /g)].map((m) => m[1]);
}

// The naming rule (README, "Names"): what a host passes to steer a call
// (options, queries, the config, parameter names) is camelCase; data keep
// the field names of the documents they come from: snake_case on the
// Testpress and Django shapes, camelCase on the Sunbird ones.
test('naming: options and parameters camelCase, data as in their documents', () => {
  const camel = /^[a-z][a-zA-Z0-9]*$/;
  for (const target of TARGETS) {
    const text = declarations(target);
    for (const options of ['Settings', 'Argon2Params', 'ImportSettings', 'UserQuery', 'ReadParts', 'CreateOptions', 'PageArg']) {
      for (const key of keys(text, options)) assert.match(key, camel, `${target}: ${options}.${key}`);
    }
    for (const cls of ['Institute', 'Admin']) {
      for (const [name, signature] of Object.entries(methods(text, cls))) {
        const params = signature.slice(signature.indexOf('(') + 1, signature.indexOf(')'));
        for (const param of params.matchAll(/(\w+)\??: /g)) assert.match(param[1], camel, `${target}: ${cls}.${name}(${param[1]})`);
      }
    }
    // Testpress shapes: snake_case keys (date_joined, first_name, ...).
    const user = [...keys(text, 'TestpressUser'), ...keys(text, 'Access')]; // User extends both
    for (const key of ['date_joined', 'first_name', 'is_staff', 'custom_fields', 'birth_date']) {
      assert.ok(user.includes(key), `${target}: User.${key}`);
    }
    assert.ok(keys(text, 'ProfileFields').includes('first_name'), `${target}: NewUser.first_name (ProfileFields)`);
    // Sunbird shapes: camelCase keys (userId, firstName, ...).
    for (const type of ['SunbirdView', 'SunbirdInput']) {
      for (const key of keys(text, type)) assert.match(key, camel, `${target}: ${type}.${key}`);
    }
    assert.ok(keys(text, 'SunbirdView').includes('firstName'), `${target}: SunbirdView.firstName`);
  }
});

/** The `pub fn` names of the `#[uniffi::export] impl name` blocks of bindings-uniffi/src. */
function uniffiMethods(name) {
  const dir = path.join(ROOT, 'bindings-uniffi', 'src');
  const out = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.rs'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const block of text.matchAll(new RegExp(`#\\[uniffi::export\\]\\nimpl ${name} \\{\\n([\\s\\S]*?)\\n\\}`, 'g'))) {
      for (const m of block[1].matchAll(/^ {4}pub fn (\w+)/gm)) out.push(m[1]);
    }
  }
  return out;
}

const camel = (snake) => snake.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

// SPEC B1: the browser has the same operations as the native bindings.
// What only one side has, and why, is listed here; anything else the
// Kotlin/Swift/Python API gains and the JS API lacks fails this test.
const ONLY_NATIVE = {
  // Files: a path on disk. The browser opens a named OPFS store instead
  // (`openPersistent`), Node builds in memory.
  open: 'a store file by path', openShared: 'a store file by path, shared between processes',
};

test('SPEC B1: every operation of the native bindings is a JS method too', () => {
  const text = declarations('node');
  for (const cls of ['Institute', 'Admin']) {
    const js = methods(text, cls);
    const missing = uniffiMethods(cls).map(camel).filter((m) => !(m in js) && !(m in ONLY_NATIVE));
    assert.ok(uniffiMethods(cls).length > (cls === 'Admin' ? 40 : 5), `${cls}: the uniffi methods were read`);
    assert.deepEqual(missing, [], `${cls}: operations the JS API lacks`);
  }
});
