//! A store file (roster `HostFile`) over the Origin Private File System.
//!
//! The store of `name` is the OPFS file `<name>.redb` at the root of the
//! origin's private directory, accessed through a
//! `FileSystemSyncAccessHandle`: synchronous reads and writes at offsets,
//! which is what roster's `HostFile` needs. Browsers expose that handle
//! only inside a dedicated Web Worker, so [`OpfsBackend::open`] fails with
//! code `storage_unavailable` anywhere else (a page's main thread, a shared or
//! service worker, Node), and where OPFS itself is missing or refused
//! (private browsing in some browsers, opaque origins).
//!
//! Locking: a sync access handle is exclusive. While one is open on a file,
//! `createSyncAccessHandle()` on the same file from any tab or worker of the
//! origin rejects with `NoModificationAllowedError`, and `open` turns that
//! into code `store_locked` at once, without waiting. Whoever wants to wait
//! (a page reloading while its old worker is still shutting down) retries;
//! `js/roster-worker.js` does, for a bounded time. The handle is released by
//! `close()`, which redb calls when the `Database` is dropped (the JS
//! `Institute.free()`), and by the browser when the worker ends.

use crate::convert::JsResult;
use std::io;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetFileOptions,
    FileSystemReadWriteOptions, FileSystemSyncAccessHandle, StorageManager,
};

// The `unsafe impl Send/Sync` below is sound only because, without the
// `atomics` target feature, a wasm32 module runs on one thread: no other
// thread exists to which the JS handle could move. With threads (shared
// memory), a JS object is bound to the worker that made it and the wrapper
// would be unsound, so such a build must not compile.
#[cfg(target_feature = "atomics")]
compile_error!(
    "roster-wasm's OPFS backend assumes a single-threaded wasm32 build: \
     JS handles are not Send/Sync with the `atomics` target feature"
);

/// The store's bytes in one OPFS file, through its exclusive sync handle.
#[derive(Debug)]
pub(crate) struct OpfsBackend {
    handle: FileSystemSyncAccessHandle,
}

// SAFETY: see the `compile_error!` above. Without the `atomics` target
// feature, wasm32-unknown-unknown has exactly one thread, so the handle is
// never sent to, nor shared with, another thread; redb's `Send + Sync`
// bound is satisfied vacuously.
unsafe impl Send for OpfsBackend {}
// SAFETY: as for `Send`.
unsafe impl Sync for OpfsBackend {}

#[wasm_bindgen]
extern "C" {
    /// A `FileSystemSyncAccessHandle` seen for its `getSize()` alone.
    type SizedHandle;

    /// `handle.getSize()` as the JS value it returns: web-sys declares it
    /// `f64`, and the glue would convert whatever came back with
    /// `ToNumber` (`undefined` to `NaN`, `"12"` to 12), which `as u64`
    /// would then make 0 or a wrong size.
    #[wasm_bindgen(method, catch, js_name = getSize)]
    fn get_size(this: &SizedHandle) -> Result<JsValue, JsValue>;
}

/// The size `getSize()` answered, refused (an I/O error) unless it is a
/// whole number from 0 to 2^53 - 1. Converted with `as u64`, a NaN, negative
/// or fractional size was 0 and an infinite one `u64::MAX`, so a sound
/// store read as damaged (`corrupt_store`, "run roster check") or as a
/// length it does not have; a string was taken for the number it spells.
fn file_size(size: &JsValue) -> Result<u64, io::Error> {
    match size.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&n) => Ok(n as u64),
        Some(n) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("OPFS: getSize() answered {n}, which is not a file size"),
        )),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "OPFS: getSize() answered a value of type {}, not a number",
                size.js_typeof().as_string().unwrap_or_default()
            ),
        )),
    }
}

/// A `RosterError` with `code` (a code the core's `ErrorCode` does not have).
fn coded_error(code: &str, message: &str) -> JsValue {
    crate::error::roster_error(code, message, &js_sys::Object::new())
}

fn unavailable(message: &str) -> JsValue {
    coded_error("storage_unavailable", message)
}

/// `name: message` of a thrown JS value (a `DOMException`, an `Error`, or
/// anything else).
fn describe(e: &JsValue) -> (String, String) {
    let get = |key: &str| {
        js_sys::Reflect::get(e, &key.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let name = get("name");
    let message = get("message");
    if name.is_empty() && message.is_empty() {
        (
            String::new(),
            e.as_string().unwrap_or_else(|| format!("{e:?}")),
        )
    } else {
        (name, message)
    }
}

/// A thrown JS value as an I/O error, keeping the `DOMException` name.
fn io_error(e: JsValue) -> io::Error {
    let (name, message) = describe(&e);
    let kind = match name.as_str() {
        "QuotaExceededError" => io::ErrorKind::StorageFull,
        "NotFoundError" => io::ErrorKind::NotFound,
        "NoModificationAllowedError" | "NotAllowedError" | "SecurityError" => {
            io::ErrorKind::PermissionDenied
        }
        "InvalidStateError" => io::ErrorKind::BrokenPipe,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("OPFS: {name}: {message}"))
}

/// A store name usable as an OPFS file name: 1-200 characters, none of them
/// `/`, `\` or control characters.
fn check_name(name: &str) -> JsResult<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 200
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(crate::convert::usage(&format!(
            "{name:?} is not a store name: use 1-200 characters, without '/', '\\' or control characters"
        )))
    }
}

/// Whether this global scope has `FileSystemFileHandle.prototype
/// .createSyncAccessHandle` (only dedicated workers do).
fn sync_handles_exposed(global: &js_sys::Object) -> bool {
    let Ok(class) = js_sys::Reflect::get(global, &"FileSystemFileHandle".into()) else {
        return false;
    };
    if class.is_undefined() {
        return false;
    }
    js_sys::Reflect::get(&class, &"prototype".into())
        .and_then(|proto| js_sys::Reflect::get(&proto, &"createSyncAccessHandle".into()))
        .map(|f| f.is_function())
        .unwrap_or(false)
}

/// `navigator.storage` of this global scope (window or worker), if any.
fn storage_manager(global: &js_sys::Object) -> Option<StorageManager> {
    let navigator = js_sys::Reflect::get(global, &"navigator".into())
        .ok()
        .filter(|n| n.is_object())?;
    let storage = js_sys::Reflect::get(&navigator, &"storage".into())
        .ok()
        .filter(|s| s.is_object())?;
    let has_directory = js_sys::Reflect::get(&storage, &"getDirectory".into())
        .map(|f| f.is_function())
        .unwrap_or(false);
    has_directory.then(|| storage.unchecked_into())
}

impl OpfsBackend {
    /// Opens (or creates) the OPFS file of store `name`: `<name>.redb`.
    ///
    /// Rejects with code `storage_unavailable` where there is no OPFS or no
    /// sync access handle, and `store_locked` when another tab or worker has
    /// the file open; a bad name is a `validation_failed` error.
    pub(crate) async fn open(name: &str) -> JsResult<OpfsBackend> {
        check_name(name)?;
        let global = js_sys::global();
        // Checked before touching OPFS, so a main-thread attempt creates no file.
        if !sync_handles_exposed(&global) {
            return Err(unavailable(
                "persistent storage needs the Origin Private File System's synchronous access handles, \
                 which exist only inside a dedicated Web Worker; use Institute.inMemory here",
            ));
        }
        let storage = storage_manager(&global)
            .ok_or_else(|| unavailable("navigator.storage.getDirectory is not available"))?;
        let root: FileSystemDirectoryHandle = JsFuture::from(storage.get_directory())
            .await
            .map_err(|e| {
                let (n, m) = describe(&e);
                unavailable(&format!(
                    "the Origin Private File System is not available ({n}: {m})"
                ))
            })?
            .unchecked_into();
        let options = FileSystemGetFileOptions::new();
        options.set_create(true);
        let file_name = format!("{name}.redb");
        let file: FileSystemFileHandle =
            JsFuture::from(root.get_file_handle_with_options(&file_name, &options))
                .await
                .map_err(|e| {
                    let (n, m) = describe(&e);
                    unavailable(&format!(
                        "cannot open {file_name} in the Origin Private File System ({n}: {m})"
                    ))
                })?
                .unchecked_into();
        let handle: FileSystemSyncAccessHandle = JsFuture::from(file.create_sync_access_handle())
            .await
            .map_err(|e| match describe(&e) {
                (n, _) if n == "NoModificationAllowedError" => coded_error(
                    "store_locked",
                    &format!("the store {name:?} is open in another tab or worker of this site"),
                ),
                (n, m) => unavailable(&format!(
                    "cannot get a sync access handle on {file_name} ({n}: {m})"
                )),
            })?
            .unchecked_into();
        Ok(OpfsBackend { handle })
    }
}

impl roster::HostFile for OpfsBackend {
    fn len(&self) -> Result<u64, io::Error> {
        let handle: &SizedHandle = self.handle.unchecked_ref();
        file_size(&handle.get_size().map_err(io_error)?)
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let options = FileSystemReadWriteOptions::new();
        let mut done = 0;
        while done < out.len() {
            options.set_at((offset + done as u64) as f64);
            let n = self
                .handle
                .read_with_u8_array_and_options(&mut out[done..], &options)
                .map_err(io_error)? as usize;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "OPFS: read of {} bytes at {offset} past the end of the file",
                        out.len()
                    ),
                ));
            }
            done += n;
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        // `truncate` both shrinks and grows; new bytes are zeros.
        self.handle.truncate_with_f64(len as f64).map_err(io_error)
    }

    fn sync(&self) -> Result<(), io::Error> {
        self.handle.flush().map_err(io_error)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let options = FileSystemReadWriteOptions::new();
        let mut done = 0;
        while done < data.len() {
            options.set_at((offset + done as u64) as f64);
            let n = self
                .handle
                .write_with_u8_array_and_options(&data[done..], &options)
                .map_err(io_error)? as usize;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("OPFS: write at {offset} wrote nothing"),
                ));
            }
            done += n;
        }
        Ok(())
    }
}

impl Drop for OpfsBackend {
    fn drop(&mut self) {
        // Releases the exclusive handle when the store is dropped: the store
        // can be opened again. Closing a closed handle does nothing.
        self.handle.close();
    }
}
