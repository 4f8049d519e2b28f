// The page side of roster in a browser: starts roster-worker.js and offers
// every Institute and Admin operation as a Promise. Plain ES module, no
// bundler; types in roster-client.d.ts.
//
//   import { RosterClient } from './roster-client.js';
//   const roster = await RosterClient.start({ name: 'school' });
//   if (!roster.persistent) console.warn('in memory only:', roster.storageError.message);
//   const { token } = await roster.login('admin', password);
//   const admin = roster.session(token);
//   const { user } = await admin.createUser({ username: 'ravi', password: '...' });
//   await roster.call('listUsers', [{ withBatches: true }], { token });   // the same, by name
//   const child = admin.actingFor(managedToken);    // as a managed user (Sunbird), like session
//   await roster.handle('GET', '/api/v2.5/admin/users/', { Authorization: `JWT ${token}` });
//
// Errors reject as `Error`s named "RosterError" with `code` and `fields`,
// rebuilt from the worker's answer; `isRosterError(e)` tests for one.

/**
 * Whether `e` is a roster error as the client rejects with: an `Error`
 * named "RosterError" with a string `code` (the worker's errors are rebuilt
 * here, so they are not instances of the module's `RosterError` class).
 */
export function isRosterError(e) {
  return e instanceof Error && e.name === 'RosterError' && typeof e.code === 'string';
}

/** An Error with roster's `code` and `fields`. */
function rebuild(plain) {
  const e = new Error(plain?.message ?? 'roster worker error');
  if (typeof plain?.name === 'string' && plain.name !== 'Error') e.name = plain.name;
  e.code = plain?.code ?? 'internal_error';
  e.fields = plain?.fields ?? {};
  return e;
}

/**
 * An Admin-like object whose every method is a call to the worker.
 * `actingFor(managedToken)` is another such object, whose calls run as the
 * managed user (checked on every call, as the session is): an Admin handle
 * never crosses from the worker.
 */
function remoteAdmin(client, target) {
  return new Proxy(Object.freeze({}), {
    get(_, method) {
      if (typeof method !== 'string' || method === 'then') return undefined; // not a thenable
      if (method === 'actingFor') {
        return (managedToken) => remoteAdmin(client, { ...target, actingFor: [...(target.actingFor ?? []), managedToken] });
      }
      return (...args) => client.call(method, args, target);
    },
  });
}

export class RosterClient {
  /** @type {Worker} */
  #worker;
  #pending = new Map();
  #nextId = 1;
  #failure = null;
  #info;

  constructor(worker) {
    this.#worker = worker;
    const fail = (message) => {
      this.#failure = { name: 'RosterError', message, code: 'internal_error', fields: {} };
      for (const waiter of this.#pending.values()) waiter.reject(rebuild(this.#failure));
      this.#pending.clear();
    };
    worker.addEventListener('message', (event) => {
      const { id, ok, value, error, fatal } = event.data ?? {};
      const waiter = this.#pending.get(id);
      if (!waiter) return;
      this.#pending.delete(id);
      if (ok) waiter.resolve(value);
      else waiter.reject(rebuild(error));
      if (fatal === true) {
        // The module trapped: the worker answers every later request with
        // this error. Ending it releases the OPFS file for a new client.
        fail(error?.message ?? 'the roster worker stopped on an internal fault');
        worker.terminate();
      }
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      fail(`the roster worker failed: ${event.message || 'it could not be loaded (check workerUrl and the pkg/web build)'}`);
    });
    worker.addEventListener('messageerror', () => fail('a message from the roster worker could not be read'));
  }

  /**
   * Starts the worker and opens the store.
   * @param {import('./roster-client.js').StartOptions} options
   */
  static async start(options = {}) {
    const {
      name = 'roster',
      persistent = true,
      fallback = true,
      lockWaitMs = 5000,
      config,
      workerUrl = new URL('./roster-worker.js', import.meta.url),
      moduleUrl,
      wasmUrl,
    } = options;
    const worker = new Worker(workerUrl, { type: 'module', name: `roster:${name}` });
    const client = new RosterClient(worker);
    try {
      client.#info = await client.#send({
        type: 'open',
        name,
        persistent,
        fallback,
        lockWaitMs,
        config,
        moduleUrl: moduleUrl === undefined ? undefined : String(new URL(moduleUrl, globalThis.location?.href)),
        wasmUrl: wasmUrl === undefined ? undefined : String(new URL(wasmUrl, globalThis.location?.href)),
      });
    } catch (e) {
      worker.terminate();
      throw e;
    }
    client.#info.name = name;
    return client;
  }

  /** Whether the store lives in OPFS (false: in memory, lost with the worker). */
  get persistent() {
    return this.#info.persistent;
  }

  /** Why OPFS could not be used when the client fell back to memory, else null. */
  get storageError() {
    return this.#info.storageError ? rebuild(this.#info.storageError) : null;
  }

  /** The store's name. */
  get name() {
    return this.#info.name;
  }

  #send(request) {
    if (this.#failure) return Promise.reject(rebuild(this.#failure));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#worker.postMessage({ ...request, id });
      } catch (e) {
        // Arguments that cannot be cloned (functions, class instances).
        this.#pending.delete(id);
        reject(rebuild({ name: 'RosterError', message: e?.message ?? String(e), code: 'validation_failed', fields: {} }));
      }
    });
  }

  /**
   * Any operation by its JS name: an Institute method (createSuperuser,
   * login, logout, handle, checkIntegrity, schemaVersion) or an Admin method
   * run as the session of `token` (or as the operator with `{operator: true}`),
   * and with `actingFor` (a managed token, or a list of them) as that managed
   * user. `actingFor` itself is not a method here: it would answer a handle.
   */
  call(method, args = [], { token, operator = false, actingFor } = {}) {
    return this.#send({ type: 'call', method, args, token, operator, actingFor });
  }

  /** The Admin API as the signed-in user of `token`: `roster.session(t).listUsers()`. */
  session(token) {
    return remoteAdmin(this, { token });
  }

  /**
   * The Admin API as the operator: every permission. For the host's own
   * code (setup, imports), never for acting on a page user's behalf.
   */
  operator() {
    return remoteAdmin(this, { operator: true });
  }

  /** Serves one request of the documented HTTP surface: `{status, headers, body}`. */
  handle(method, path, headers = {}, body = undefined) {
    return this.call('handle', [method, path, headers ?? {}, body ?? undefined]);
  }

  /** Creates (or resets) a superuser. A trusted host operation. */
  createSuperuser(username, password) {
    return this.call('createSuperuser', [username, password]);
  }

  /** Signs in: `{token, expires, user}`; every failure is `unauthenticated`. */
  login(usernameOrEmail, password) {
    return this.call('login', [usernameOrEmail, password]);
  }

  /** Ends the session of `token`. */
  logout(token) {
    return this.call('logout', [token]);
  }

  /** Every inconsistency of the store (none for a sound one). */
  checkIntegrity() {
    return this.call('checkIntegrity', []);
  }

  /** The store format version of the loaded build. */
  schemaVersion() {
    return this.call('schemaVersion', []);
  }

  /** Closes the store (releasing the OPFS file) and ends the worker. */
  async close() {
    // Already ended (closed, or the worker failed or trapped): nothing to close.
    if (this.#failure) {
      this.#worker.terminate();
      return;
    }
    try {
      await this.#send({ type: 'close' });
    } finally {
      this.#worker.terminate();
      this.#failure ??= { name: 'RosterError', message: 'the roster client is closed', code: 'internal_error', fields: {} };
    }
  }
}
