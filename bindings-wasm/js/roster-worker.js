// The roster Web Worker: owns one Institute and answers the page's requests.
//
// Started by roster-client.js as a module worker (`new Worker(url, {type:
// 'module'})`). It loads the `pkg/web` build of roster-wasm, opens the store
// in the Origin Private File System (the synchronous OPFS handle that redb
// needs exists only in a dedicated worker), and then runs every call the page
// posts. argon2 and every other bit of roster's work happen here, never on
// the page's thread.
//
// Protocol (one message each way per request, answered in order):
//   page -> worker  {id, type: 'open', name, persistent, config, moduleUrl, wasmUrl, fallback, lockWaitMs}
//                   {id, type: 'call', method, args, token, operator, actingFor}
//                   {id, type: 'close'}
//   worker -> page  {id, ok: true, value} | {id, ok: false, error: {name, message, code, fields}, fatal?: true}
//
// A call runs as the session of `token` (or the operator), and, when
// `actingFor` lists managed tokens, as the managed user of each in turn
// (`Admin.actingFor`, checked on every call like the session). Handles
// (Admin, Institute) never cross to the page: `actingFor` by name is refused.
//
// A WebAssembly.RuntimeError is a trap: a panic aborts on wasm32, and the
// call it stopped leaves the module's state (a borrowed object, a held
// lock) as it was. The worker then drops the store without touching it
// again and answers `fatal: true`; every later request gets the same
// error (the store must be reopened, by a new worker), and the client ends
// this one, which releases the OPFS file.
//
// Opening: `Institute.openPersistent(name)`. When another tab or worker holds
// the store (`store_locked`), the worker retries every 100 ms for
// `lockWaitMs` (default 5000): a reloading page's old worker may still be
// shutting down. When OPFS is unavailable (`storage_unavailable`: no
// dedicated-worker sync handles, private browsing, an opaque origin) and
// `fallback` is true (the default), it opens `Institute.inMemory` instead and
// reports `{persistent: false, storageError}`; nothing is kept then.

/** @type {any} the roster_wasm module */
let wasm = null;
/** @type {any} the open Institute */
let institute = null;
/** The error every request gets after a trap (a plain error object), else null. */
let broken = null;

// Methods of the Institute object itself; everything else is an Admin method.
const INSTITUTE_METHODS = new Set(['createSuperuser', 'login', 'logout', 'handle', 'checkIntegrity']);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An error as a plain object that survives postMessage. */
function plainError(e) {
  if (e !== null && typeof e === 'object') {
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : String(e),
      code: typeof e.code === 'string' ? e.code : 'internal_error',
      fields: e.fields && typeof e.fields === 'object' ? e.fields : {},
    };
  }
  return { name: 'Error', message: String(e), code: 'internal_error', fields: {} };
}

/** An error of the worker's own, shaped like roster's. */
function coded(code, message) {
  const e = new Error(message);
  e.name = 'RosterError';
  e.code = code;
  e.fields = {};
  return e;
}

async function open(request) {
  if (institute !== null) throw coded('validation_failed', 'the worker has already opened a store');
  const moduleUrl = request.moduleUrl ?? new URL('../pkg/web/roster_wasm.js', import.meta.url).href;
  wasm = await import(moduleUrl);
  await wasm.default(request.wasmUrl ? { module_or_path: request.wasmUrl } : undefined);
  const config = request.config ?? undefined;
  if (!request.persistent) {
    institute = wasm.Institute.inMemory(config);
    return { persistent: false, storageError: null };
  }
  const deadline = Date.now() + (request.lockWaitMs ?? 5000);
  for (;;) {
    try {
      institute = await wasm.Institute.openPersistent(request.name, config);
      return { persistent: true, storageError: null };
    } catch (e) {
      if (e?.code === 'store_locked' && Date.now() < deadline) {
        await sleep(100);
        continue;
      }
      if (e?.code === 'storage_unavailable' && request.fallback !== false) {
        institute = wasm.Institute.inMemory(config);
        return { persistent: false, storageError: plainError(e) };
      }
      throw e;
    }
  }
}

function isAdminMethod(method) {
  if (typeof method !== 'string' || method === 'constructor' || method === 'free' || method.startsWith('_')) {
    return false;
  }
  const proto = wasm.Admin.prototype;
  return Object.prototype.hasOwnProperty.call(proto, method) && typeof proto[method] === 'function';
}

/** A value a call answers, refused when it is a handle (which postMessage would send as `{__wbg_ptr}`). */
function answer(value) {
  if (value instanceof wasm.Admin || value instanceof wasm.Institute) {
    value.free();
    throw coded('validation_failed', 'a roster handle cannot cross to the page');
  }
  return value;
}

/** The managed tokens of a call's `actingFor`: none, one, or a list, in order. */
function managedTokens(actingFor) {
  const tokens = actingFor === undefined || actingFor === null ? [] : Array.isArray(actingFor) ? actingFor : [actingFor];
  if (!tokens.every((t) => typeof t === 'string')) {
    throw coded('validation_failed', 'actingFor must be a managed token (a string) or a list of them');
  }
  return tokens;
}

function call({ method, args = [], token, operator, actingFor }) {
  if (institute === null) throw coded('validation_failed', 'no store is open');
  if (!Array.isArray(args)) throw coded('validation_failed', 'args must be an array');
  if (method === 'schemaVersion') return wasm.Institute.schemaVersion();
  if (INSTITUTE_METHODS.has(method)) return answer(institute[method](...args));
  if (method === 'actingFor') {
    throw coded('validation_failed',
      'actingFor returns a handle, which cannot cross to the page: use session(token).actingFor(managedToken) '
      + 'of the client, or call with {token, actingFor: managedToken}');
  }
  if (!isAdminMethod(method)) throw coded('validation_failed', `roster has no method ${JSON.stringify(method)}`);
  const managed = managedTokens(actingFor);
  // A handle per call: the session (and each managed token) is checked
  // again every time, as in Rust.
  const handles = [];
  let trapped = false;
  try {
    handles.push(operator === true ? institute.operator() : institute.session(typeof token === 'string' ? token : ''));
    for (const t of managed) handles.push(handles[handles.length - 1].actingFor(t));
    return answer(handles[handles.length - 1][method](...args));
  } catch (e) {
    trapped = e instanceof WebAssembly.RuntimeError;
    throw e;
  } finally {
    // Not after a trap: the module's state is what the trap left.
    if (!trapped) for (const handle of handles.reverse()) handle.free();
  }
}

function close() {
  if (institute !== null) {
    institute.free(); // drops the store: redb closes the OPFS handle
    institute = null;
  }
  return null;
}

/**
 * After a trap: the store is dropped without another call into the module
 * (freeing it would run the code that trapped, on the state it left), and
 * every later request gets this error.
 */
function breakDown(e) {
  institute = null;
  broken = {
    name: 'RosterError',
    message: `roster stopped on an internal fault (WebAssembly.RuntimeError: ${e.message}); `
      + 'the store must be reopened: close this client and start a new one',
    code: 'internal_error',
    fields: {},
  };
  return broken;
}

async function run(request) {
  if (broken !== null) {
    if (request.type === 'close') return null;
    throw broken;
  }
  switch (request.type) {
    case 'open':
      return open(request);
    case 'call':
      return call(request);
    case 'close':
      return close();
    default:
      throw coded('validation_failed', `unknown request type ${JSON.stringify(request.type)}`);
  }
}

// Requests run one at a time, in the order they came.
let queue = Promise.resolve();
self.onmessage = (event) => {
  const request = event.data ?? {};
  queue = queue.then(async () => {
    let reply;
    try {
      const value = await run(request);
      reply = { id: request.id, ok: true, value: value === undefined ? null : value };
    } catch (e) {
      reply = e instanceof WebAssembly.RuntimeError
        ? { id: request.id, ok: false, error: breakDown(e), fatal: true }
        : { id: request.id, ok: false, error: plainError(e) };
    }
    try {
      self.postMessage(reply);
    } catch (e) {
      // A value that cannot be cloned: report it rather than leave the page waiting.
      self.postMessage({ id: request.id, ok: false, error: plainError(e) });
    }
  });
};
