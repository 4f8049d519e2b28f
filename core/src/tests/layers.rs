//! Imports point down only (ARCHITECTURE.md's picture), checked by reading
//! the sources of `core/src`. Which module may use which:
//!
//! ```text
//! rest/          HTTP surfaces        may use everything below
//! json, transfer, ffi (root)          may use api/, domain/, auth/, base; never rest/
//! api/           Institute            may use domain/, auth/, store/, base; no surface
//! domain/        records, rules       may use auth/ and base; no api/, store/ or surface
//! auth/          argon2id, gate, permissions, password policy: base only
//! store/         entity reads/writes  domain/'s records and base; no rule, no auth/
//! base           config, error, clock, random, text, private_file: base only
//! ```
//!
//! `domain/` uses `auth/` (a group holds `Permission`s; the password rule is
//! `auth::password::check_policy`), never the reverse. Only `rest/` names
//! `rest/`: the JSON reading and shaping that `rest/`, the bindings'
//! `json` and `transfer` share lives in `json` (`json::body`,
//! `json::inputs`, `json::views`).
//!
//! The check reads paths, not types: `crate::x`, `$crate::x`, grouped
//! `crate::{x, y}`, `super::` chains long enough to leave the file's module
//! (counted as if at the file's top level, so a `super::` inside an inline
//! module is judged conservatively), and the names `lib.rs` re-exports
//! (`crate::Institute` is `api`). Comments are skipped; strings are read,
//! since `#[serde(with = "crate::...")]` is a real use. `lib.rs` (it
//! declares everything) and this test directory (tests that cross layers)
//! are not checked.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One use of a top-level module by a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Use {
    /// The file, relative to `src/`.
    file: String,
    /// Its 1-based line.
    line: usize,
    /// The top-level module used (`auth`, `rest`, ...).
    target: String,
    /// The path as written after `crate::` (or the `super::` chain).
    path: String,
}

impl fmt::Display for Use {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.path)
    }
}

/// `source` with every comment replaced by spaces (newlines kept, so lines
/// still count). Strings, raw strings and char literals are kept as they
/// are but never mistaken for comments.
fn strip_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !is_ident(chars[i - 1]))
        {
            // A raw string r"..." or r#"..."#: copied to its closing quote.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(&chars[i..j.min(chars.len())]);
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        } else if c == '\'' {
            // A char literal ('"', '\'', '\u{1F600}') or a lifetime ('a).
            let end = if next == Some('\\') {
                (i + 3..chars.len())
                    .find(|&j| chars[j] == '\'')
                    .map(|j| j + 1)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            let end = end.unwrap_or(i + 1).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifier starting at `at`, if any.
fn ident_at(chars: &[char], at: usize) -> String {
    chars[at.min(chars.len())..]
        .iter()
        .take_while(|c| is_ident(**c))
        .collect()
}

/// The path written at `at` (after `crate::`): identifiers, `::` and
/// brace groups, whitespace inside groups included.
fn path_at(chars: &[char], at: usize) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut i = at;
    while i < chars.len() {
        let c = chars[i];
        let take = is_ident(c)
            || c == ':'
            || c == '{'
            || (c == '}' && depth > 0)
            || (depth > 0 && (c == ',' || c.is_whitespace() || c == '*'));
        if !take {
            break;
        }
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        out.push(c);
        i += 1;
        if depth == 0 && c == '}' {
            break;
        }
    }
    out.trim_end_matches(':').to_string()
}

/// The first segment of each path in `path` (`a::b` -> `a`;
/// `{a::b, c}` -> `a`, `c`).
fn heads(path: &str) -> Vec<String> {
    let path = path.trim();
    let Some(group) = path.strip_prefix('{') else {
        return vec![path.split("::").next().unwrap_or("").trim().to_string()];
    };
    let group = group.strip_suffix('}').unwrap_or(group);
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
        .into_iter()
        .map(|item| {
            item.trim()
                .split("::")
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|h| !h.is_empty() && h != "self")
        .collect()
}

/// The crate's top-level modules and the names `lib.rs` re-exports from
/// them (`Institute` -> `api`), read from `lib.rs`.
struct Crate {
    modules: Vec<String>,
    reexports: BTreeMap<String, String>,
}

impl Crate {
    fn read(lib: &str) -> Crate {
        let code = strip_comments(lib);
        let mut modules = Vec::new();
        for line in code.lines() {
            let line = line.trim();
            if let Some(i) = line.find("mod ")
                && line.ends_with(';')
                && (i == 0 || line[..i].ends_with(' ') || line[..i].ends_with(')'))
            {
                modules.push(line[i + 4..line.len() - 1].trim().to_string());
            }
        }
        let mut reexports = BTreeMap::new();
        for statement in code.split(';') {
            let Some(i) = statement.find("pub use ") else {
                continue;
            };
            let path = statement[i + 8..].trim();
            let module = path.split("::").next().unwrap_or("").trim();
            if !modules.iter().any(|m| m == module) {
                continue;
            }
            let names: Vec<&str> = match path.find('{') {
                Some(open) => path[open + 1..].trim_end_matches('}').split(',').collect(),
                None => vec![path],
            };
            for name in names {
                let name = name.rsplit("::").next().unwrap_or("").trim();
                if !name.is_empty() && name != "self" {
                    reexports.insert(name.to_string(), module.to_string());
                }
            }
        }
        Crate { modules, reexports }
    }

    /// The top-level module a root-relative name belongs to.
    fn module_of(&self, head: &str) -> Option<String> {
        if self.modules.iter().any(|m| m == head) {
            Some(head.to_string())
        } else {
            self.reexports.get(head).cloned()
        }
    }
}

/// Every use of a top-level module in `source`, the file `file` (relative
/// to `src/`, `/`-separated).
fn uses(krate: &Crate, file: &str, source: &str) -> Vec<Use> {
    // How many `super::` leave the file's module for the crate root:
    // `json.rs` and `domain/mod.rs` 1, `domain/user.rs` 2.
    let depth = file.split('/').count() - usize::from(file.ends_with("/mod.rs"));
    let code = strip_comments(source);
    let chars: Vec<char> = code.chars().collect();
    let line_of = |at: usize| 1 + chars[..at].iter().filter(|c| **c == '\n').count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':');
        let word = ident_at(&chars, i);
        if !starts_word || (word != "crate" && word != "super") {
            i += word.len().max(1);
            continue;
        }
        let start = i;
        let mut at = i;
        let mut supers = 0;
        let mut rooted = false;
        loop {
            let w = ident_at(&chars, at);
            let colons =
                chars.get(at + w.len()) == Some(&':') && chars.get(at + w.len() + 1) == Some(&':');
            if !colons {
                break;
            }
            match w.as_str() {
                "crate" if at == start => {
                    rooted = true;
                    at += w.len() + 2;
                    break;
                }
                "super" => {
                    supers += 1;
                    at += w.len() + 2;
                }
                _ => break,
            }
        }
        rooted |= supers > 0 && supers >= depth;
        if rooted {
            let path = path_at(&chars, at);
            for head in heads(&path) {
                if let Some(target) = krate.module_of(&head) {
                    out.push(Use {
                        file: file.to_string(),
                        line: line_of(start),
                        target,
                        path: format!("{}{}", chars[start..at].iter().collect::<String>(), path)
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" "),
                    });
                }
            }
        }
        i = at.max(i + 1);
    }
    out
}

/// Every `.rs` file under `dir`, relative to it, sorted.
fn sources(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(dir).expect("under src");
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((rel.join("/"), path));
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to: `domain/user.rs` -> `domain`,
/// `json.rs` and `json/body.rs` -> `json`.
fn home(file: &str) -> &str {
    let first = file.split('/').next().unwrap_or(file);
    first.strip_suffix(".rs").unwrap_or(first)
}

/// Every use by every checked file of `core/src`.
fn all_uses() -> Vec<Use> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("read lib.rs");
    let krate = Crate::read(&lib);
    assert!(
        ["api", "auth", "domain", "rest", "store", "json"]
            .iter()
            .all(|m| krate.modules.iter().any(|k| k == m)),
        "lib.rs's modules not found: {:?}",
        krate.modules
    );
    let files = sources(&src);
    assert!(files.len() > 30, "only {} source files found", files.len());
    let mut out = Vec::new();
    for (file, path) in files {
        if file == "lib.rs" || home(&file) == "tests" {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("read source");
        out.extend(uses(&krate, &file, &source));
    }
    out
}

/// The uses of a module in `homes` of a module in `forbidden`.
fn violations(all: &[Use], homes: &[&str], forbidden: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = all
        .iter()
        .filter(|u| homes.contains(&home(&u.file)) && forbidden.contains(&u.target.as_str()))
        .map(Use::to_string)
        .collect();
    found.dedup();
    found
}

/// The checked layers (directories); every other top-level module is at
/// the root.
const LAYERS: [&str; 5] = ["rest", "api", "domain", "auth", "store"];

#[test]
fn auth_uses_nothing_above_it() {
    let found = violations(
        &all_uses(),
        &["auth"],
        &["domain", "api", "store", "rest", "json", "transfer", "ffi"],
    );
    assert!(found.is_empty(), "auth/ reaches up:\n{}", found.join("\n"));
}

#[test]
fn domain_uses_no_api_store_or_surface() {
    let found = violations(
        &all_uses(),
        &["domain"],
        &["api", "store", "rest", "json", "transfer", "ffi"],
    );
    assert!(
        found.is_empty(),
        "domain/ reaches up:\n{}",
        found.join("\n")
    );
}

#[test]
fn nothing_but_rest_uses_rest() {
    let found: Vec<String> = all_uses()
        .iter()
        .filter(|u| home(&u.file) != "rest" && u.target == "rest")
        .map(Use::to_string)
        .collect();
    assert!(
        found.is_empty(),
        "rest/ is used from below:\n{}",
        found.join("\n")
    );
}

#[test]
fn api_uses_no_surface() {
    let found = violations(&all_uses(), &["api"], &["rest", "json", "transfer", "ffi"]);
    assert!(found.is_empty(), "api/ reaches up:\n{}", found.join("\n"));
}

/// The modules below every layer.
const BASE: [&str; 6] = ["config", "error", "clock", "random", "text", "private_file"];

#[test]
fn the_base_uses_only_the_base() {
    let mut found: Vec<String> = all_uses()
        .iter()
        .filter(|u| BASE.contains(&home(&u.file)) && !BASE.contains(&u.target.as_str()))
        .map(Use::to_string)
        .collect();
    found.dedup();
    assert!(
        found.is_empty(),
        "the base reaches up:\n{}",
        found.join("\n")
    );
}

/// store/ keeps records and indexes: it uses domain's records (and their
/// own methods) but no rule of `domain::rules`, and nothing of auth/ or
/// above.
#[test]
fn store_uses_records_but_no_rule_and_no_auth() {
    let all = all_uses();
    let mut found = violations(
        &all,
        &["store"],
        &["auth", "api", "rest", "json", "transfer", "ffi"],
    );
    // A rule is anything of `domain::rules` (`fold` and `nfkc` are in
    // `text`, which store/ may use).
    found.extend(
        all.iter()
            .filter(|u| home(&u.file) == "store" && u.target == "domain")
            .filter(|u| u.path.split(|c: char| !is_ident(c)).any(|s| s == "rules"))
            .map(Use::to_string),
    );
    found.dedup();
    assert!(found.is_empty(), "store/ uses:\n{}", found.join("\n"));
}

#[test]
fn the_scan_sees_the_known_uses() {
    // If the scanner went blind every check above would pass; these uses
    // are meant to exist.
    let all = all_uses();
    let has = |file: &str, target: &str| all.iter().any(|u| u.file == file && u.target == target);
    assert!(has("domain/group.rs", "auth"), "group.rs uses Permission");
    assert!(has("rest/router.rs", "json"));
    assert!(
        has("rest/router.rs", "api"),
        "via `crate::{{Admin, Institute}}`"
    );
    assert!(has("transfer.rs", "json"));
    assert!(
        has("auth/password.rs", "text"),
        "via `crate::{{random, text}}`"
    );
    assert!(has("config.rs", "error"), "via `crate::Result`");
    assert!(
        has("domain/course.rs", "domain"),
        "serde `with` strings count"
    );
    for layer in LAYERS.into_iter().chain(["config", "random"]) {
        assert!(all.iter().any(|u| home(&u.file) == layer), "{layer}");
    }
}

#[test]
fn the_scanner_reads_paths_not_comments() {
    let krate = Crate::read(
        "pub mod api;\npub(crate) mod rest;\nmod text;\n#[cfg(test)]\nmod tests;\n\
         pub use api::{Admin, Institute};\npub use api::users::{\n    UserQuery,\n};\n",
    );
    assert_eq!(krate.modules, ["api", "rest", "text", "tests"]);
    assert_eq!(krate.module_of("Institute").as_deref(), Some("api"));
    assert_eq!(krate.module_of("UserQuery").as_deref(), Some("api"));
    let source = r##"
        //! See [`crate::rest`]: a comment.
        use crate::{Institute, text::{self, fold}};
        use super::super::rest::Request;
        use super::sibling;
        /* crate::rest in /* a nested */ comment */
        let url = "http://host/"; let q = '"'; fn f<'a>(x: &'a str) {}
        let raw = r#"a "quoted" // not a comment"#; crate::rest::handle(x);
        #[serde(with = "crate::api::x")]
        x::crate::rest; notcrate::rest;
    "##;
    let found: Vec<(usize, String)> = uses(&krate, "domain/user.rs", source)
        .into_iter()
        .map(|u| (u.line, u.target))
        .collect();
    assert_eq!(
        found,
        [
            (3, "api".to_string()),
            (3, "text".to_string()),
            (4, "rest".to_string()),
            (8, "rest".to_string()),
            (9, "api".to_string()),
        ]
    );
    // One `super::` leaves `json.rs` and `domain/mod.rs` but not `domain/user.rs`.
    assert_eq!(uses(&krate, "json.rs", "use super::rest;").len(), 1);
    assert_eq!(uses(&krate, "domain/mod.rs", "use super::rest;").len(), 1);
    assert!(uses(&krate, "domain/user.rs", "use super::rest;").is_empty());
}
