//! `uniffi-bindgen` for roster-ffi: uniffi's own generator, then one touch to
//! the generated exception classes.
//!
//! ```sh
//! cargo run -p roster-ffi --bin uniffi-bindgen -- generate \
//!     --library target/debug/libroster_ffi.so --language python --out-dir out
//! ```
//!
//! uniffi 0.32 gives an error enum with fields a message that lists every
//! field (`code=..., message=..., fields=...`): Kotlin's `e.message`,
//! Python's `str(e)` and Swift's `localizedDescription` all read that way,
//! and Kotlin cannot carry a field named `message` at all (uniffi-rs issues
//! 1434 and 2065). After generating, this binary makes `RosterError`'s
//! message the human one (its exported `Display`): in `roster_ffi.kt` each
//! variant's `message` returns its `detail` field; `roster_ffi.py` gets a
//! `__str__` returning the `message` field; `roster_ffi.swift` declares the
//! `CustomStringConvertible` conformance its generated `description` lacks,
//! which `localizedDescription` then uses. If a later uniffi generates other
//! text, this fails loudly rather than leaving the dump in place.

use std::path::{Path, PathBuf};

/// The start of the generated Kotlin getter of a `RosterException`
/// variant's `message` (its fields always begin with `code`, `detail`).
const KOTLIN_DUMP: &str = "get() = \"code=${ `code` }, detail=${ `detail` }";
/// What the getter returns instead.
const KOTLIN_HUMAN: &str = "get() = `detail`";
/// Marks the Python addition, so running twice adds it once.
const PYTHON_MARK: &str = "# roster-ffi: an exception reads as its human message";
const PYTHON_STR: &str = "

# roster-ffi: an exception reads as its human message (uniffi's own text lists
# every field); the fields stay attributes: e.code, e.message, e.fields.
def _roster_error_str(self):
    return self.message


RosterError.__str__ = _roster_error_str  # type: ignore
";
/// The Swift addition: `description` is generated, its conformance is not.
const SWIFT_CONFORMANCE: &str = "extension RosterError: CustomStringConvertible {}";

fn main() {
    let out_dir = generate_out_dir(std::env::args().skip(1));
    uniffi::uniffi_bindgen_main();
    if let Some(dir) = out_dir
        && let Err(problem) = polish(&dir)
    {
        eprintln!("error: {problem}");
        std::process::exit(1);
    }
}

/// The `--out-dir` of a `generate` command line.
fn generate_out_dir(mut args: impl Iterator<Item = String>) -> Option<PathBuf> {
    if args.next().as_deref() != Some("generate") {
        return None;
    }
    while let Some(arg) = args.next() {
        if arg == "--out-dir" || arg == "-o" {
            return args.next().map(PathBuf::from);
        }
        if let Some(dir) = arg.strip_prefix("--out-dir=") {
            return Some(PathBuf::from(dir));
        }
    }
    None
}

/// Touches every generated `roster_ffi.{kt,py,swift}` under `dir`.
fn polish(dir: &Path) -> Result<(), String> {
    for file in files(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let touch: fn(&str) -> Result<Option<String>, String> =
            match file.file_name().and_then(|n| n.to_str()) {
                Some("roster_ffi.kt") => kotlin,
                Some("roster_ffi.py") => python,
                Some("roster_ffi.swift") => swift,
                _ => continue,
            };
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        if let Some(new) = touch(&text).map_err(|e| format!("{}: {e}", file.display()))? {
            std::fs::write(&file, new).map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    Ok(())
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// Kotlin: each `RosterException` variant's `message` returns `detail`.
fn kotlin(text: &str) -> Result<Option<String>, String> {
    let mut replaced = 0;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.trim_start().starts_with(KOTLIN_DUMP) {
            true => {
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push_str(indent);
                out.push_str(KOTLIN_HUMAN);
                out.push('\n');
                replaced += 1;
            }
            false => out.push_str(line),
        }
    }
    match (replaced, text.contains(KOTLIN_HUMAN)) {
        (0, true) => Ok(None),
        (0, false) => Err("no RosterException message getter found to make human".into()),
        _ => Ok(Some(out)),
    }
}

/// Python: `str(e)` of a `RosterError` is its `message`.
fn python(text: &str) -> Result<Option<String>, String> {
    if text.contains(PYTHON_MARK) {
        return Ok(None);
    }
    if !text.contains("\nclass RosterError(Exception):") {
        return Err("no RosterError exception class found".into());
    }
    Ok(Some(format!("{}{PYTHON_STR}", text.trim_end())))
}

/// Swift: `RosterError` is `CustomStringConvertible` through its exported
/// `Display`, so `String(reflecting:)` (its `errorDescription`) is human.
fn swift(text: &str) -> Result<Option<String>, String> {
    if text.contains(SWIFT_CONFORMANCE) {
        return Ok(None);
    }
    let declared = text
        .lines()
        .find(|l| l.starts_with("enum RosterError:"))
        .ok_or("no RosterError enum found")?;
    if declared.contains("CustomStringConvertible") {
        return Ok(None);
    }
    if !text.contains("uniffi_trait_display") || !text.contains("public var description: String {")
    {
        return Err("RosterError has no generated description to conform with".into());
    }
    Ok(Some(format!(
        "{}\n\n// roster-ffi: the human message (Display) is the error's description.\n{SWIFT_CONFORMANCE}\n",
        text.trim_end()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_out_dir_of_generate_only() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let dir = |s| generate_out_dir(args(s).into_iter());
        assert_eq!(
            dir("generate --library x.so -l python --out-dir out"),
            Some("out".into())
        );
        assert_eq!(dir("generate -o out --library x.so"), Some("out".into()));
        assert_eq!(dir("generate --out-dir=out"), Some("out".into()));
        assert_eq!(dir("scaffolding -o out"), None);
    }

    #[test]
    fn kotlin_getters_become_the_detail_once() {
        let generated = "    ) : RosterException() {\n        override val message\n            get() = \"code=${ `code` }, detail=${ `detail` }, fields=${ `fields` }\"\n    }\n";
        let once = kotlin(generated).unwrap().unwrap();
        assert!(once.contains("            get() = `detail`\n"), "{once}");
        assert!(!once.contains("code=$"));
        assert_eq!(kotlin(&once).unwrap(), None);
        assert!(kotlin("class Other").is_err());
    }

    #[test]
    fn swift_gets_the_conformance_once() {
        let generated = "public\nenum RosterError: Swift.Error, Foundation.LocalizedError {\n// uniffi_trait_display\npublic var description: String {\n}\n}\n";
        let once = swift(generated).unwrap().unwrap();
        assert!(once.ends_with("extension RosterError: CustomStringConvertible {}\n"));
        assert_eq!(swift(&once).unwrap(), None);
        assert!(swift("enum Other {}").is_err());
    }

    #[test]
    fn python_gets_str_once() {
        let generated = "x = 1\nclass RosterError(Exception):\n    pass\n";
        let once = python(generated).unwrap().unwrap();
        assert!(once.ends_with("RosterError.__str__ = _roster_error_str  # type: ignore\n"));
        assert_eq!(python(&once).unwrap(), None);
        assert!(python("class Other(Exception): pass").is_err());
    }
}
