//! TypeScript declarations of the options, errors and answers that only
//! this crate has. The documented bodies (`NewUser`, `BatchInput`, ...),
//! representations (`User`, `Batch`, `Page<T>`, ...), the configuration
//! (`Settings`, `ImportSettings`) and the import report are declared by
//! their Rust types in the core (tsify, core feature `tsify`), so the
//! generated `.d.ts` types every input and output instead of `any`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Configuration of an institute: the core's `Settings`, every key optional. Out-of-range values throw `validation_failed`. */
export type Config = Settings;

/** Options of `importUsers`: the core's `ImportSettings`, every key optional. */
export type ImportOptions = ImportSettings;

/** Messages by field (custom fields nested by name), as Django REST Framework's 400 bodies give them; `{}` when there are none. */
export type FieldMessages = Record<string, string[] | Record<string, string[]>>;

/** The stable codes of `RosterError`. */
export type RosterErrorCode =
  | "validation_failed" | "not_found" | "conflict" | "unauthenticated" | "forbidden"
  | "schema_too_new" | "corrupt_store" | "storage_error" | "internal_error"
  | "storage_unavailable" | "store_locked" | "busy";

/**
 * The error roster throws: a JS `Error` with a stable code, made by roster
 * only. Test it with `e instanceof RosterError`, then read `e.code`.
 */
export class RosterError extends Error {
  private constructor();
  readonly name: "RosterError";
  code: RosterErrorCode;
  /** For validation: field -> messages (custom fields nested by name); `{}` otherwise. */
  fields: FieldMessages;
}

// wasm-bindgen declares `[Symbol.dispose](): void` on every class
// (`using institute = ...`). `Symbol.dispose` is in TypeScript's lib from
// `esnext.disposable` on; declared here for programs on an older `lib`
// (es2022, dom), as @types/node does. It merges with the lib's own.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export interface HttpResponse { status: number; headers: Record<string, string>; body: string | null }




"#;
