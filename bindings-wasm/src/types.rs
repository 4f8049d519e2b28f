//! TypeScript declarations of the options, errors and answers that only
//! this crate has. The documented bodies (`NewUser`, `BatchInput`, ...) and
//! representations (`User`, `Batch`, `Page<T>`, ...) are declared by their
//! Rust types in [`roster::json`] (tsify, core feature `tsify`), so the
//! generated `.d.ts` types every input and output instead of `any`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Configuration of an institute; every key is optional (the core's Settings, as the uniffi `Config`). Out-of-range values throw `validation_failed`. */
export interface Config {
  /** Prefix of `url` fields in `handle()` answers, e.g. "https://school.example". Default: paths. Typed results always carry paths. */
  baseUrl?: string;
  /** The institute's time zone as minutes east of UTC, -1439..1439. Default 330 (+05:30). */
  timeZoneOffsetMinutes?: number;
  /** Default 20; 1..maxPageSize. */
  pageSize?: number;
  /** Default 100; at most 10000. */
  maxPageSize?: number;
  /** argon2id cost of new password hashes. Default: OWASP's m=19456 KiB, t=2, p=1; at most m=262144, t=10, p=16. */
  argon2?: { mKib: number; t: number; p: number };
  /** Fewest characters of a password. Default 6. */
  passwordMinLength?: number;
  /** Most characters of a password. Default 1024; at most 4096. */
  passwordMaxLength?: number;
  /** Refuse passwords made only of digits. Default true. */
  passwordForbidAllDigits?: boolean;
  /** Refuse a password equal to the username, ignoring case. Default true. */
  passwordForbidUsername?: boolean;
  /** Seconds, 1..31622400 (366 days). Default 86400 (24 hours). */
  sessionLifetimeSeconds?: number;
  /** Failed sign-ins in a row that lock an account (0: never). Default 5. */
  lockoutMaxFailures?: number;
  /** How long a lock lasts, seconds, 1..31622400. Default 900. */
  lockoutSeconds?: number;
  /** Password hashes and checks run at once, 1..1024. Default: one per core (1 here). */
  hashConcurrency?: number;
  /** Hashes or checks that may wait for a turn; one more throws `busy`. Default 32. */
  hashQueue?: number;
  /** RFC 3339: a fixed clock (tests, demos). */
  now?: string;
}

/** Options of `importUsers`; every key is optional (the core's ImportSettings, as the uniffi `ImportOptions`). */
export interface ImportOptions {
  /** Batch names every row joins besides its own. */
  batches?: string[];
  /** Expiry of those memberships (and of rows that name none), yyyy-mm-dd. */
  expires?: string;
  /** Rows per transaction, 1..100000. Default 1000. */
  chunkSize?: number;
  /** Restore an export of format 1 (no trailer): a cut file cannot be detected; the report warns. Default false. */
  legacyExport?: boolean;
}

/** The error roster throws: a JS Error with a stable code. */
export interface RosterError extends Error {
  code: "validation_failed" | "not_found" | "conflict" | "unauthenticated" | "forbidden"
      | "schema_too_new" | "corrupt_store" | "storage_error" | "internal_error"
      | "storage_unavailable" | "store_locked" | "busy";
  /** For validation: field -> messages (custom fields nested by name). */
  fields: Record<string, string[] | Record<string, string[]>>;
}

export interface HttpResponse { status: number; headers: Record<string, string>; body: string | null }

export interface PageArg { page?: number; perPage?: number }
export interface UserQuery { q?: string; email?: string; page?: number; perPage?: number; withBatches?: boolean }

export interface CreateOptions { autoGeneratePassword?: boolean; notifyCredential?: boolean }

export interface Created { user: User; generatedPassword: string | null }

export interface ImportReport { created: number; rejected: { line: number; username: string; reason: string }[]; restored: boolean; warnings: string[] }
"#;
