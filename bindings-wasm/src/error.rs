//! The class of every error roster throws: `RosterError`, a subclass of
//! JS `Error`, exported so that a host can write
//! `catch (e) { if (e instanceof RosterError) e.code ... }`.
//!
//! wasm-bindgen has no way to export a JS class that extends `Error` (its
//! exported structs extend only each other, and a JS snippet, which could
//! declare one, is not supported by `--target nodejs`). So the class is an
//! exported struct that is never instantiated for its Rust half: the first
//! time an error is made, its prototype is stripped of the struct methods
//! (`free`, `Symbol.dispose`, ...) and re-parented onto `Error.prototype`,
//! and from then on every error is `Reflect.construct(Error, [message],
//! RosterError)`: a genuine `Error` (stack trace included) whose prototype
//! is `RosterError.prototype`. Its declaration is written by hand in
//! `types.rs` (`skip_typescript` here), as `class RosterError extends Error`.

use wasm_bindgen::prelude::*;

/// The exported class `RosterError` (see the module documentation).
#[wasm_bindgen(skip_typescript)]
pub struct RosterError {
    _marker: u8,
}

/// `Error` and `RosterError`, the constructors every error is made from.
struct Classes {
    error: js_sys::Function,
    roster_error: js_sys::Function,
}

thread_local! {
    static CLASSES: Classes = classes();
}

/// Makes `RosterError` a subclass of `Error`, once.
fn classes() -> Classes {
    let error_prototype = js_sys::Object::get_prototype_of(&js_sys::Error::new(""));
    let error = error_prototype.constructor();
    // One instance, to reach the class from Rust; its Rust half is freed at
    // once through the class's own `free`, before that method goes.
    let marker = JsValue::from(RosterError { _marker: 0 });
    let prototype = js_sys::Object::get_prototype_of(&marker);
    let roster_error = prototype.constructor();
    if let Ok(free) = js_sys::Reflect::get(&prototype, &"free".into())
        && let Some(free) = free.dyn_ref::<js_sys::Function>()
    {
        let _ = free.call0(&marker);
    }
    // Nothing of the struct's is left on an error: a `free()` or
    // `[Symbol.dispose]()` called on one would free a pointer it has not.
    if let Ok(keys) = js_sys::Reflect::own_keys(&prototype) {
        for key in keys.iter() {
            if key.as_string().as_deref() != Some("constructor") {
                let _ = js_sys::Reflect::delete_property(&prototype, &key);
            }
        }
    }
    js_sys::Object::set_prototype_of(&prototype, &error_prototype);
    // `RosterError.captureStackTrace` and the like, as for a JS subclass.
    js_sys::Object::set_prototype_of(&roster_error, &error);
    let name = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&name, &"value".into(), &"RosterError".into());
    let _ = js_sys::Reflect::set(&name, &"writable".into(), &true.into());
    let _ = js_sys::Reflect::set(&name, &"configurable".into(), &true.into());
    js_sys::Object::define_property(&prototype, &"name".into(), &name);
    Classes {
        error,
        roster_error,
    }
}

/// A `RosterError` with `code`, `message` and `fields`
/// (`{field: [messages]}`, nested for custom fields; `{}` when none).
pub(crate) fn roster_error(code: &str, message: &str, fields: &JsValue) -> JsValue {
    let err = CLASSES
        .with(|c| {
            js_sys::Reflect::construct_with_new_target(
                &c.error,
                &js_sys::Array::of1(&message.into()),
                &c.roster_error,
            )
        })
        // Not expected: Reflect.construct of Error does not throw. A plain
        // Error with the same properties is the next best thing.
        .unwrap_or_else(|_| js_sys::Error::new(message).into());
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.into());
    let _ = js_sys::Reflect::set(&err, &"fields".into(), fields);
    err
}
