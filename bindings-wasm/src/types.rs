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

/** The error roster throws: a JS Error with a stable code. */
export interface RosterError extends Error {
  code: "validation_failed" | "not_found" | "conflict" | "unauthenticated" | "forbidden"
      | "schema_too_new" | "corrupt_store" | "storage_error" | "internal_error"
      | "storage_unavailable" | "store_locked" | "busy";
  /** For validation: field -> messages (custom fields nested by name). */
  fields: Record<string, string[] | Record<string, string[]>>;
}

export interface HttpResponse { status: number; headers: Record<string, string>; body: string | null }




"#;
