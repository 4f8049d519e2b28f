// Shared by the Node tests of the roster WebAssembly package (not a test
// file itself: node --test runs only *.test.js).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const PKG_NODE = path.join(ROOT, 'bindings-wasm', 'pkg', 'node', 'roster_wasm.js');

if (!fs.existsSync(PKG_NODE)) {
  throw new Error(`${PKG_NODE} is missing: run bindings-wasm/build.sh first (or tests/run wasm_build)`);
}

/** The package, loaded as a user loads it. */
const roster = require(PKG_NODE);

/** argon2 parameters that make a hash take about a millisecond. */
const CHEAP = Object.freeze({ argon2: Object.freeze({ mKib: 64, t: 1, p: 1 }) });

const JSON_TYPE = Object.freeze({ 'content-type': 'application/json' });

/** A REST client over `institute.handle` that parses JSON answers. */
function client(institute, token) {
  const headers = (extra) => ({ ...(token ? { Authorization: `JWT ${token}` } : {}), ...extra });
  const send = (method, pathWithQuery, body) => {
    const r =
      body === undefined
        ? institute.handle(method, pathWithQuery, headers({}), null)
        : institute.handle(method, pathWithQuery, headers(JSON_TYPE), JSON.stringify(body));
    return { ...r, json: r.body === null || r.body === '' ? null : JSON.parse(r.body) };
  };
  return {
    get: (p) => send('GET', p),
    post: (p, body) => send('POST', p, body ?? {}),
    put: (p, body) => send('PUT', p, body ?? {}),
    delete: (p) => send('DELETE', p),
  };
}

/** Calls `f` and returns what it throws (failing when it does not throw). */
function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

/** A header of a `handle` answer, whatever the case of its name. */
function header(response, name) {
  const key = Object.keys(response.headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : response.headers[key];
}

module.exports = { ROOT, PKG_NODE, roster, CHEAP, JSON_TYPE, client, thrown, header };
