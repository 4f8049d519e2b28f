// Types of roster-client.js. The object shapes (User, Batch, Page, ...) and
// the Admin methods come from the wasm-bindgen declarations of the `pkg/web`
// build, so the remote API is typed exactly like the in-process one, with
// every result wrapped in a Promise.

import type { Admin, Config, HttpResponse, Login, RosterError } from '../pkg/web/roster_wasm.js';

export type { Admin, Config, HttpResponse, Login, RosterError };
export type * from '../pkg/web/roster_wasm.js';

/**
 * The names of the Admin methods a call may name (everything but `free`,
 * symbols, and `actingFor`, which answers a handle: see `RemoteAdmin`).
 */
export type AdminMethodName = Exclude<
  { [K in Extract<keyof Admin, string>]: Admin[K] extends (...args: any[]) => any ? K : never }[Extract<keyof Admin, string>],
  'free' | 'actingFor'
>;

/** The Admin API across the worker: each method resolves to the in-process result. */
export type RemoteAdmin = {
  [K in AdminMethodName]: Admin[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;
} & {
  /**
   * The Admin API as the managed user of `managedToken` (from
   * `managedUsers(.., true)`), for its manager only, like `session`: the
   * token is checked on every call.
   */
  actingFor(managedToken: string): RemoteAdmin;
};

/** The Institute methods reachable through `call`. */
export interface InstituteMethods {
  createSuperuser(username: string, password: string): number;
  login(usernameOrEmail: string, password: string): Login;
  logout(token: string): void;
  handle(method: string, pathWithQuery: string, headers?: Record<string, string> | null, body?: string | null): HttpResponse;
  checkIntegrity(): string[];
  schemaVersion(): number;
}

export interface StartOptions {
  /** The store's name: the OPFS file `<name>.redb`. Default "roster". */
  name?: string;
  /** Open the OPFS store (default true); false opens an in-memory one. */
  persistent?: boolean;
  /**
   * When OPFS is unavailable (`storage_unavailable`), open in memory instead
   * and report it through `persistent` and `storageError` (default true);
   * false rejects `start` instead.
   */
  fallback?: boolean;
  /** How long to retry while another tab or worker holds the store (default 5000 ms); then `store_locked`. */
  lockWaitMs?: number;
  /** The institute's configuration. */
  config?: Config;
  /** URL of roster-worker.js. Default: next to roster-client.js. */
  workerUrl?: string | URL;
  /** URL of the pkg/web roster_wasm.js. Default: ../pkg/web/roster_wasm.js from the worker. */
  moduleUrl?: string | URL;
  /** URL of roster_wasm_bg.wasm. Default: next to roster_wasm.js. */
  wasmUrl?: string | URL;
}

export interface CallOptions {
  /** The session to run an Admin method as. */
  token?: string;
  /** Run an Admin method as the operator (every permission): host code only. */
  operator?: boolean;
  /**
   * Run an Admin method as the managed user of this token (or of each
   * token in turn), as `Admin.actingFor` does, for its manager only.
   */
  actingFor?: string | readonly string[];
}

/**
 * Whether `e` is an error the client rejected with: the worker's
 * `RosterError`, rebuilt on the page from its message (an `Error` named
 * "RosterError" with `code` and `fields`, but not an instance of the
 * module's class, which the page never loads).
 */
export declare function isRosterError(e: unknown): e is RosterError;

/** Errors reject as `RosterError`s rebuilt on the page: test them with `isRosterError`. */
export declare class RosterClient {
  private constructor();
  /** Starts the worker and opens the store. */
  static start(options?: StartOptions): Promise<RosterClient>;
  /** Whether the store lives in OPFS (false: in memory, lost with the worker). */
  readonly persistent: boolean;
  /** Why OPFS could not be used when the client fell back to memory, else null. */
  readonly storageError: RosterError | null;
  /** The store's name. */
  readonly name: string;

  call<M extends keyof InstituteMethods>(method: M, args: Parameters<InstituteMethods[M]>, options?: CallOptions): Promise<ReturnType<InstituteMethods[M]>>;
  call<M extends AdminMethodName>(method: M, args: Parameters<Admin[M]>, options: CallOptions): Promise<ReturnType<Admin[M]>>;

  /** The Admin API as the signed-in user of `token`. */
  session(token: string): RemoteAdmin;
  /** The Admin API as the operator (every permission): the host's own code only. */
  operator(): RemoteAdmin;

  handle(method: string, pathWithQuery: string, headers?: Record<string, string> | null, body?: string | null): Promise<HttpResponse>;
  createSuperuser(username: string, password: string): Promise<number>;
  login(usernameOrEmail: string, password: string): Promise<Login>;
  logout(token: string): Promise<void>;
  checkIntegrity(): Promise<string[]>;
  schemaVersion(): Promise<number>;
  /** Closes the store (releasing the OPFS file) and ends the worker. */
  close(): Promise<void>;
}
