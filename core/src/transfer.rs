//! Import and export files (X1, X2).
//!
//! **Import** reads users from CSV (a header row of field names) or JSON
//! Lines (one object per line, the bodies of the create-user endpoint), plus
//! `password_hash`, `batches` (names) and `expires`. Rows are applied whole or
//! not at all, a chunk of rows per transaction; refused rows are reported
//! with their line and reasons and the good ones kept. A UTF-8 byte-order
//! mark at the start is skipped; CRLF line ends are accepted.
//!
//! In CSV, `batches` is a `;`-separated list of names, a column
//! `custom_fields.<Name>` holds that custom field (a cell that reads as a
//! number is a number: CSV has no types), and an empty cell is an absent
//! field. A column roster does not know (a misspelt `emial`) refuses the
//! whole file before anything is imported.
//!
//! **Export** writes JSON Lines of the whole institute: a header line, the id
//! counters, then every record with its ids, UUIDs, timestamps and **password
//! hashes**, so that importing the file into an empty store restores the same
//! state (sessions and the outbox are not exported: they are short-lived
//! secrets), and last a trailer. An export is a host-level operation
//! (SPEC A6).
//!
//! The export format (version 3):
//!
//! - line 1, the header: `{"type":"roster-export","format":3,"schema":S}`
//!   (`S`: the store format of the roster that wrote it);
//! - one line per record: `{"type":KIND,"record":{...}}`, `KIND` one of
//!   `counters`, `setting` (`{"id":..., "value":...}`: a system setting),
//!   `custom_field`, `group`, `organisation`, `batch`, `course`,
//!   `course_batch`, `user`, `sunbird_user` (`{"user":ID, "fields":{...}}`:
//!   a user's Sunbird-only fields), `membership`;
//! - the last line, the trailer:
//!   `{"type":"roster-export-end","lines":N,"counts":{KIND:n,...},"sha256":HEX}`
//!   where `N` is the number of lines before the trailer (header included),
//!   `counts` the number of record lines of each kind, and `sha256` the
//!   SHA-256 of those `N` lines, each followed by one `\n` (a line's `\r`
//!   before its `\n` is not part of it).
//!
//! A file is an export when its first line is such a header, never because
//! of a field of some later row. A restore refuses, with nothing written, a
//! file whose trailer is missing (a cut file), whose counts or checksum do
//! not match, or any of whose records breaks a rule a create would apply.
//! Exports of format 2 (before the Sunbird records) restore as they are;
//! those of format 1 (written before the trailer existed) only with
//! [`ImportOptions::legacy_export`], with a warning that a cut file cannot
//! be detected.

use crate::Admin;
pub use crate::api::REJECTED_LISTED;
use crate::api::{Dump, Dumped, ImportReport, ImportRow, Rejected};
use crate::config::{ImportSettings, MAX_IMPORT_CHUNK};
use crate::error::{Error, ErrorCode, FieldErrors, Result};
use crate::json::body::MAX_BODY;
use crate::json::request;
// Below api/ (which clips its messages too); their names here stay.
pub use crate::text::{ECHO_MAX, clip};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// The `type` of an export's first line.
pub const EXPORT_TYPE: &str = "roster-export";
/// The `type` of an export's last line.
pub const TRAILER_TYPE: &str = "roster-export-end";
/// The version of the export format written.
pub const EXPORT_FORMAT: u64 = 3;
/// The format written before the Sunbird records existed.
const FORMAT_2: u64 = 2;
/// The format written before the trailer existed.
const LEGACY_FORMAT: u64 = 1;
/// The oldest store format whose export records this roster reads (format 1
/// users lack the access fields).
const OLDEST_SCHEMA: u64 = 2;
/// The longest line of an export (a user with many long custom values).
const MAX_EXPORT_LINE: usize = 16 << 20;
/// The longest row of a JSON Lines import: the largest create-user body.
const MAX_ROW_LINE: usize = MAX_BODY;
/// A chunk of an import also ends once its rows' text passes this many
/// bytes, whatever `chunk_size` says: a row is held parsed until its
/// chunk is written, and a parsed row of many short names takes some
/// thirty times its text (a thousand rows of a megabyte each would be
/// tens of gigabytes).
const CHUNK_TEXT: usize = 4 << 20;
/// The record kinds of an export, in the order they are written.
const KINDS: [&str; 11] = [
    "counters",
    "setting",
    "custom_field",
    "group",
    "organisation",
    "batch",
    "course",
    "course_batch",
    "user",
    "sunbird_user",
    "membership",
];
/// The record kinds of format 2 (and 1): no Sunbird records.
const SUNBIRD_KINDS: [&str; 3] = ["setting", "organisation", "sunbird_user"];
/// The CSV columns an import reads (besides `custom_fields.<Name>`).
pub const CSV_COLUMNS: [&str; 21] = [
    "username",
    "password",
    "password_hash",
    "email",
    "phone",
    "first_name",
    "last_name",
    "display_name",
    "photo",
    "birth_date",
    "address1",
    "address2",
    "city",
    "zip",
    "state",
    "state_code",
    "gender_code",
    "is_active",
    "is_blocked",
    "batches",
    "expires",
];

/// How to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Batch names every row joins besides its own.
    pub batches: Vec<String>,
    /// Expiry of those memberships, `yyyy-mm-dd`; also of a row's own
    /// batches when the row gives no `expires` (a row's `expires` is that
    /// of the batches it names, or of these when it names none).
    pub expires: Option<String>,
    /// Rows per transaction.
    pub chunk_size: usize,
    /// Restore an export of format 1, which has no trailer: a file cut short
    /// cannot be told from a whole one (the report warns so). Exports of the
    /// current format are checked whether or not this is set.
    pub legacy_export: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            batches: Vec::new(),
            expires: None,
            chunk_size: 1000,
            legacy_export: false,
        }
    }
}

/// The checked constructor of import options.
impl TryFrom<ImportSettings> for ImportOptions {
    type Error = Error;

    fn try_from(s: ImportSettings) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let mut options = ImportOptions {
            batches: s.batches,
            legacy_export: s.legacy_export,
            ..Default::default()
        };
        if let Some(e) = s.expires {
            match chrono::NaiveDate::parse_from_str(&e, "%Y-%m-%d") {
                Ok(_) => options.expires = Some(e),
                Err(_) => errors.add("expires", "The expiry must be a date, yyyy-mm-dd."),
            }
        }
        if let Some(n) = s.chunk_size {
            if (1..=MAX_IMPORT_CHUNK).contains(&n) {
                options.chunk_size = n as usize;
            } else {
                errors.add(
                    "chunk_size",
                    format!("The chunk size must be from 1 to {MAX_IMPORT_CHUNK}."),
                );
            }
        }
        errors.into_result().map(|()| options)
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("reading or writing the file failed: {e}"),
    )
}

/// A row from a JSON object.
fn row_from(line: u64, map: Map<String, Value>) -> ImportRow {
    let (row, errors) = request::read::<request::ImportRow>(map);
    let password_hash = row.password_hash.into_value().filter(|h| !h.is_empty());
    let mut user = row.user.into_input();
    // Each name once (exactly; names that match ignoring case are one
    // batch, and joining it twice is joining it once).
    let mut seen = std::collections::HashSet::with_capacity(user.batches.len());
    user.batches.retain(|name| seen.insert(name.clone()));
    // The options' batches and expiry are applied where the row is checked
    // (`Joining`): a row's own expiry is that of the batches it names.
    ImportRow {
        line,
        user,
        password_hash,
        errors,
    }
}

/// Refuses a CSV header with a column roster does not read, a repeated
/// column, or an unnamed one: every such column is named, with the known
/// ones.
fn check_csv_header(headers: &csv::StringRecord) -> Result<()> {
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in headers.iter().enumerate() {
        let name = name.trim();
        let known = CSV_COLUMNS.contains(&name)
            || name
                .strip_prefix("custom_fields.")
                .is_some_and(|f| !f.trim().is_empty());
        if name.is_empty() {
            problems.push(format!("column {} has no name", i + 1));
        } else if !known {
            problems.push(format!("unknown column \"{}\"", clip(name)));
        } else if !seen.insert(name) {
            problems.push(format!("column \"{name}\" appears twice"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::field(
        "file",
        format!(
            "{}; nothing was imported. The columns are: {}, and custom_fields.<Name> for a custom field.",
            problems.join("; "),
            CSV_COLUMNS.join(", ")
        ),
    ))
}

/// Which columns of `headers` (`custom_fields.<Name>`) name a number
/// field: a CSV cell is text, and only a number field's cells are read as
/// numbers (a roll number `2020` in a text or choice field stays text).
fn number_columns(admin: &Admin, headers: &csv::StringRecord) -> Result<Vec<bool>> {
    let numbers = admin.number_field_keys()?;
    let max = crate::domain::rules::NAME_MAX;
    Ok(headers
        .iter()
        .map(|h| {
            h.trim()
                .strip_prefix("custom_fields.")
                .and_then(|name| crate::text::fold_lookup(name.trim(), max))
                .is_some_and(|key| numbers.contains(&key))
        })
        .collect())
}

/// A CSV record as the JSON object a create-user body would be; the cells
/// of `numbers`' columns as numbers where they are.
fn csv_object(
    headers: &csv::StringRecord,
    numbers: &[bool],
    record: &csv::StringRecord,
) -> Map<String, Value> {
    let mut map = Map::new();
    let mut custom = Map::new();
    for ((name, cell), number) in headers.iter().zip(record.iter()).zip(numbers) {
        let name = name.trim();
        if cell.is_empty() {
            continue;
        }
        if let Some(field) = name.strip_prefix("custom_fields.") {
            let value = number
                .then(|| serde_json::from_str::<serde_json::Number>(cell.trim()).ok())
                .flatten()
                .map_or_else(|| Value::String(cell.to_string()), Value::Number);
            custom.insert(field.to_string(), value);
        } else if name == "batches" {
            let names = cell.split(';').map(str::trim).filter(|n| !n.is_empty());
            map.insert(
                name.into(),
                names.map(|n| Value::String(n.into())).collect(),
            );
        } else {
            map.insert(name.to_string(), Value::String(cell.to_string()));
        }
    }
    if !custom.is_empty() {
        map.insert("custom_fields".into(), Value::Object(custom));
    }
    map
}

/// One line of a file, read with a bound on its length.
enum Line {
    /// The text, without its `\n` or `\r\n`.
    Text(String),
    /// Longer than the bound (its bytes were skipped).
    TooLong,
    /// Not UTF-8.
    NotUtf8,
}

/// A CSV reader over `reader` whose records are at most [`MAX_ROW_LINE`]
/// bytes: the `csv` crate holds a whole record in memory, so one quoted
/// cell of 300 MB took 1.4 GB before its row was rejected.
fn csv_reader<R: Read>(reader: R) -> csv::Reader<RecordCap<R>> {
    csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(RecordCap {
            inner: reader,
            records: csv_core::Reader::new(),
            since_end: 0,
        })
}

/// A reader that fails (`InvalidData`) once a CSV record passes
/// [`MAX_ROW_LINE`] bytes. Where a record ends is told by the parser the
/// `csv` crate reads with, in the same (default) dialect, run beside it
/// over the same bytes: a quote inside an unquoted cell (`O"Brien`), a
/// doubled quote, a line break inside quotes are each read as `csv` reads
/// them. (Counting quotes alone took `a"b` for an opening quote, and the
/// next quoted cell then for a closing one: the cap stopped counting.)
struct RecordCap<R> {
    inner: R,
    records: csv_core::Reader,
    /// Bytes of the record under way.
    since_end: usize,
}

impl<R: Read> Read for RecordCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since_end > MAX_ROW_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a CSV row is longer than {MAX_ROW_LINE} bytes"),
            ));
        }
        let n = self.inner.read(buf)?;
        // The cells' bytes are not kept: only where records end.
        let (mut cells, mut ends) = ([0u8; 1024], [0usize; 64]);
        let mut input = &buf[..n];
        while !input.is_empty() {
            let (result, read, ..) = self.records.read_record(input, &mut cells, &mut ends);
            input = &input[read..];
            self.since_end += read;
            if result == csv_core::ReadRecordResult::Record {
                self.since_end = 0;
            }
        }
        Ok(n)
    }
}

/// Reads lines of at most `max` bytes, numbering them from 1.
struct Lines<R> {
    reader: R,
    number: u64,
    max: usize,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R, max: usize) -> Self {
        Lines {
            reader,
            number: 0,
            max,
        }
    }

    fn next_line(&mut self) -> Result<Option<(u64, Line)>> {
        let mut buf = Vec::new();
        let limit = self.max as u64 + 2;
        let n = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(io_error)?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        } else if buf.len() as u64 >= limit {
            // Skip the rest of the line without holding it.
            loop {
                let mut skipped = Vec::new();
                let m = (&mut self.reader)
                    .take(1 << 16)
                    .read_until(b'\n', &mut skipped)
                    .map_err(io_error)?;
                if m == 0 || skipped.last() == Some(&b'\n') {
                    break;
                }
            }
            return Ok(Some((self.number, Line::TooLong)));
        } else if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if buf.len() > self.max {
            return Ok(Some((self.number, Line::TooLong)));
        }
        Ok(Some((
            self.number,
            String::from_utf8(buf).map_or(Line::NotUtf8, Line::Text),
        )))
    }
}

/// Skips a UTF-8 byte-order mark; refuses UTF-16 (whose mark is told).
fn skip_bom(reader: &mut impl BufRead) -> Result<()> {
    let mut head = Vec::with_capacity(3);
    while head.len() < 3 {
        let buf = reader.fill_buf().map_err(io_error)?;
        if buf.is_empty() {
            break;
        }
        let take = (3 - head.len()).min(buf.len());
        head.extend_from_slice(&buf[..take]);
        if head.len() < 3 && buf.len() == take {
            // The buffer holds fewer than 3 bytes: look no further than it
            // (a short file); the bytes stay unread.
            break;
        }
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::field(
            "file",
            "The file is UTF-16 text: save it as UTF-8 (CSV UTF-8 in a spreadsheet) and import it again.",
        ));
    }
    Ok(())
}

/// The first non-space byte of `reader`, leaving it unread, and the number
/// of line ends skipped before it (so reported line numbers stay true).
fn first_byte(reader: &mut impl BufRead) -> Result<(Option<u8>, u64)> {
    let mut newlines = 0u64;
    loop {
        let buf = reader.fill_buf().map_err(io_error)?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                newlines += buf[..i].iter().filter(|&&c| c == b'\n').count() as u64;
                reader.consume(i);
                return Ok((Some(b), newlines));
            }
            None if buf.is_empty() => return Ok((None, newlines)),
            None => {
                let n = buf.len();
                newlines += buf.iter().filter(|&&c| c == b'\n').count() as u64;
                reader.consume(n);
            }
        }
    }
}

/// Keys of JSON Lines rows that are no field: ignored, as in a request
/// body, but reported once per file so a misspelt key is not lost silently.
#[derive(Default)]
struct UnknownKeys(BTreeMap<String, (u64, u64)>);

impl UnknownKeys {
    /// At most this many distinct keys are named.
    const MAX: usize = 20;

    fn note(&mut self, key: &str, line: u64) {
        if let Some((count, _)) = self.0.get_mut(key) {
            *count += 1;
        } else if self.0.len() < Self::MAX {
            self.0.insert(clip(key), (1, line));
        }
    }

    fn warning(self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let named: Vec<String> = self
            .0
            .iter()
            .map(|(key, (count, line))| format!("\"{key}\" ({count} rows, first on line {line})"))
            .collect();
        Some(format!(
            "keys that are no field were ignored: {}; the fields are: {}, custom_fields",
            named.join(", "),
            CSV_COLUMNS.join(", ")
        ))
    }
}

/// Imports users (or restores an export) from `reader`, CSV or JSON Lines
/// (told apart by the first character: `{` is JSON Lines). A JSON Lines file
/// whose first line is an export header is restored whole (see the module
/// docs). `progress` hears the number of rows done, rising one at a time
/// as each row's password is hashed (the slow part); the last row of a
/// chunk is heard only once the chunk is committed.
///
/// The report lists the first [`REJECTED_LISTED`] refused rows and counts
/// them all; [`import_hearing`] also hands each one over as it goes.
///
/// When a storage error stops an import, the users of the chunks committed
/// before it stay, and the error's message says how many they were.
pub fn import(
    admin: &Admin,
    reader: impl Read,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport> {
    import_hearing(admin, reader, options, progress, &mut |_| {})
}

/// [`import`], handing `rejected` every refused row, in file order, once
/// the chunk it belongs to is done (a row the file's reader refuses waits
/// for the rows before it): a caller that prints or stores them as they
/// come holds none of them, however many there are.
pub fn import_hearing(
    admin: &Admin,
    reader: impl Read,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
    rejected: &mut dyn FnMut(&Rejected),
) -> Result<ImportReport> {
    let mut reader = BufReader::new(reader);
    skip_bom(&mut reader)?;
    let (first, skipped) = first_byte(&mut reader)?;
    let chunk = options.chunk_size.max(1);
    let joining = crate::api::users::Joining {
        batches: options.batches.clone(),
        expires: options.expires.clone(),
    };
    let mut report = ImportReport::default();
    let mut rows = Vec::with_capacity(chunk);
    // Rows refused before they reach the chunk (unreadable lines), in file
    // order: they are heard with the chunk's own, merged by line, and count
    // towards the chunk's length so that none waits long.
    let mut pending: Vec<Rejected> = Vec::new();
    // The text of the rows held for the chunk: a chunk also ends past
    // `CHUNK_TEXT` of it.
    let mut chunk_text = 0usize;
    let mut done = 0u64;
    let mut flush = |rows: &mut Vec<ImportRow>,
                     pending: &mut Vec<Rejected>,
                     report: &mut ImportReport|
     -> Result<()> {
        let mut refused = Vec::new();
        if !rows.is_empty() {
            let count = rows.len() as u64;
            let first_line = rows.first().map_or(0, |r| r.line);
            // While the chunk is hashed the count moves row by row,
            // stopping one short of the chunk's end, which is heard once
            // committed.
            let mut shown = done;
            let mut heard = || {
                let at = (shown + 1).min(done + count - 1);
                if at > shown {
                    shown = at;
                    progress(at);
                }
            };
            match admin.import_rows_hearing(std::mem::take(rows), &joining, &mut heard) {
                Ok(chunk) => {
                    report.created += chunk.created;
                    report.warnings.extend(chunk.warnings);
                    refused = chunk.rejected;
                }
                Err(e) => {
                    // The rows refused before the chunk's first line are
                    // reported as done; those within it, as the chunk, not.
                    for row in std::mem::take(pending) {
                        if row.line < first_line {
                            rejected(&row);
                            report.refuse(row);
                        }
                    }
                    return Err(Error::new(
                        e.code(),
                        format!(
                            "{e}. The import stopped at the chunk starting on line {first_line}: \
                             {} users were created and committed before it ({} rows rejected), \
                             the rows from that line on were not imported",
                            report.created, report.rejected_count
                        ),
                    ));
                }
            }
            done += count;
            progress(done);
        }
        // Both lists are in file order: merged by line, they stay so.
        let mut unread = std::mem::take(pending).into_iter().peekable();
        let mut refused = refused.into_iter().peekable();
        loop {
            let take_unread = match (unread.peek(), refused.peek()) {
                (None, None) => break,
                (Some(a), Some(b)) => a.line <= b.line,
                (a, _) => a.is_some(),
            };
            let row = if take_unread {
                unread.next()
            } else {
                refused.next()
            };
            if let Some(row) = row {
                rejected(&row);
                report.refuse(row);
            }
        }
        Ok(())
    };
    match first {
        None | Some(b'[') => return Err(not_importable(first)),
        Some(b'{') => {
            let mut lines = Lines::new(reader, MAX_EXPORT_LINE);
            lines.number = skipped;
            let mut first_row = true;
            let mut rows_seen = 0u64;
            let mut unknown_keys = UnknownKeys::default();
            loop {
                // A full chunk is written before the next line is read (a
                // read that fails leaves it imported).
                if rows.len() + pending.len() >= chunk || chunk_text >= CHUNK_TEXT {
                    flush(&mut rows, &mut pending, &mut report)?;
                    chunk_text = 0;
                }
                let (line_no, line) = match lines.next_line() {
                    Ok(Some(next)) => next,
                    Ok(None) => break,
                    // The file cannot be read on: as in a CSV, the rows
                    // before it are imported, and the error says so.
                    Err(e) => {
                        flush(&mut rows, &mut pending, &mut report)?;
                        return Err(Error::new(
                            e.code(),
                            format!(
                                "{}. The import stopped at line {}: {} users were created \
                                 before it ({} rows rejected), the rows from there on were \
                                 not imported",
                                e.message(),
                                lines.number + 1,
                                report.created,
                                report.rejected_count
                            ),
                        ));
                    }
                };
                let text = match line {
                    Line::Text(t) if t.trim().is_empty() => continue,
                    Line::Text(t) if t.len() <= MAX_ROW_LINE => t,
                    // A row's length is checked before it is parsed:
                    // parsing a 16 MiB line of numbers costs 40 times its
                    // size in memory. (An export's header, the only longer
                    // first line's reason to be read, is a few hundred
                    // bytes.)
                    Line::Text(_) | Line::TooLong => {
                        first_row = false;
                        rows_seen += 1;
                        pending.push(Rejected {
                            line: line_no,
                            username: String::new(),
                            reason: format!("the line is longer than {MAX_ROW_LINE} bytes"),
                        });
                        continue;
                    }
                    Line::NotUtf8 => {
                        first_row = false;
                        rows_seen += 1;
                        pending.push(Rejected {
                            line: line_no,
                            username: String::new(),
                            reason: "the line is not UTF-8 text".into(),
                        });
                        continue;
                    }
                };
                let value: std::result::Result<Value, _> = serde_json::from_str(&text);
                if first_row {
                    first_row = false;
                    if let Ok(Value::Object(header)) = &value
                        && header.get("type").and_then(Value::as_str) == Some(EXPORT_TYPE)
                    {
                        // Only the operator restores: asked before the
                        // file is read, which holds every record at once.
                        admin.allow_operator()?;
                        let dump = read_export(&text, header, &mut lines, options, &mut report)?;
                        report.created = dump.users.len() as u64;
                        admin.restore(dump)?;
                        report.restored = true;
                        return Ok(report);
                    }
                }
                rows_seen += 1;
                match value {
                    Ok(Value::Object(map)) => {
                        for key in map.keys() {
                            if !CSV_COLUMNS.contains(&key.as_str()) && key != "custom_fields" {
                                unknown_keys.note(key, line_no);
                            }
                        }
                        chunk_text += text.len();
                        rows.push(row_from(line_no, map));
                    }
                    Ok(other) => pending.push(Rejected {
                        line: line_no,
                        username: String::new(),
                        reason: format!(
                            "a row must be a JSON object, not {}",
                            match other {
                                Value::Array(_) => "an array",
                                Value::Number(_) => "a number",
                                Value::String(_) => "a string",
                                Value::Bool(_) => "a boolean",
                                _ => "null",
                            }
                        ),
                    }),
                    Err(e) => pending.push(Rejected {
                        line: line_no,
                        username: String::new(),
                        reason: clip(&format!("not JSON: {e}")),
                    }),
                }
            }
            if rows_seen == 0 {
                return Err(Error::field(
                    "file",
                    "The file holds no rows: there is nothing to import.",
                ));
            }
            report.warnings.extend(unknown_keys.warning());
        }
        Some(_) => {
            let mut csv = csv_reader(reader);
            let headers = csv
                .headers()
                .map_err(|e| {
                    Error::field(
                        "file",
                        clip(&format!("the CSV header row is unreadable: {e}")),
                    )
                })?
                .clone();
            check_csv_header(&headers)?;
            let numbers = number_columns(admin, &headers)?;
            let mut rows_seen = 0u64;
            for record in csv.records() {
                rows_seen += 1;
                match record {
                    Ok(record) => {
                        let line = skipped + record.position().map_or(0, |p| p.line());
                        chunk_text += record.as_slice().len();
                        rows.push(row_from(line, csv_object(&headers, &numbers, &record)));
                    }
                    // The file cannot be read on (a row past the length
                    // cap, a read error): the rows before it were imported.
                    Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                        flush(&mut rows, &mut pending, &mut report)?;
                        return Err(Error::field(
                            "file",
                            format!(
                                "{}. The import stopped at row {}: {} users were created \
                                 before it ({} rows rejected), the rows from there on were \
                                 not imported",
                                clip(&e.to_string()),
                                rows_seen,
                                report.created,
                                report.rejected_count
                            ),
                        ));
                    }
                    Err(e) => {
                        let line = skipped + e.position().map_or(0, |p| p.line());
                        pending.push(Rejected {
                            line,
                            username: String::new(),
                            reason: clip(&format!("unreadable CSV row: {e}")),
                        });
                    }
                }
                if rows.len() + pending.len() >= chunk || chunk_text >= CHUNK_TEXT {
                    flush(&mut rows, &mut pending, &mut report)?;
                    chunk_text = 0;
                }
            }
            if rows_seen == 0 {
                return Err(Error::field(
                    "file",
                    "The file has a header row but no rows: there is nothing to import.",
                ));
            }
        }
    }
    flush(&mut rows, &mut pending, &mut report)?;
    Ok(report)
}

/// What a file to import holds, read before anything is imported
/// ([`survey`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    /// The file is an export (its first line is an export header): it is
    /// restored whole, and the rest of this survey is empty.
    pub export: bool,
    /// The rows of users (CSV records or JSON Lines lines, blank lines not
    /// counted): a progress bar's length.
    pub rows: u64,
    /// The batch names the rows join (CSV `batches` cells, JSON Lines
    /// `batches` arrays), each once ignoring case, in the order first seen.
    pub batches: Vec<String>,
}

/// Reads the file an [`import`] would, without importing: whether it is an
/// export, how many rows it has, and which batches they name, so a host can
/// check the batches exist (or create them) before any row is imported
/// (`roster import` does). The file errors of an import (empty, a JSON
/// array, UTF-16, an unknown CSV column) are the same here; rows that
/// cannot be read are counted, and left to the import to reject.
pub fn survey(reader: impl Read) -> Result<Survey> {
    let mut reader = BufReader::new(reader);
    skip_bom(&mut reader)?;
    let (first, _) = first_byte(&mut reader)?;
    let mut survey = Survey::default();
    let mut seen = std::collections::HashSet::new();
    let mut note = |survey: &mut Survey, name: &str| {
        let name = name.trim();
        if !name.is_empty() && seen.insert(crate::text::fold(name)) {
            survey.batches.push(name.to_string());
        }
    };
    match first {
        None | Some(b'[') => return Err(not_importable(first)),
        Some(b'{') => {
            let mut lines = Lines::new(reader, MAX_EXPORT_LINE);
            let mut first_row = true;
            while let Some((_, line)) = lines.next_line()? {
                let text = match line {
                    Line::Text(t) if t.trim().is_empty() => continue,
                    Line::Text(t) if t.len() <= MAX_ROW_LINE => t,
                    // Too long to be a row, or not text: left to the import
                    // to reject, unparsed (as there).
                    Line::Text(_) | Line::TooLong | Line::NotUtf8 => {
                        first_row = false;
                        survey.rows += 1;
                        continue;
                    }
                };
                let value = serde_json::from_str::<Value>(&text).ok();
                if std::mem::take(&mut first_row)
                    && let Some(Value::Object(header)) = &value
                    && header.get("type").and_then(Value::as_str) == Some(EXPORT_TYPE)
                {
                    return Ok(Survey {
                        export: true,
                        ..Survey::default()
                    });
                }
                survey.rows += 1;
                if let Some(Value::Array(names)) = value.as_ref().and_then(|v| v.get("batches")) {
                    for name in names.iter().filter_map(Value::as_str) {
                        note(&mut survey, name);
                    }
                }
            }
        }
        Some(_) => {
            let mut csv = csv_reader(reader);
            let headers = csv
                .headers()
                .map_err(|e| {
                    Error::field(
                        "file",
                        clip(&format!("the CSV header row is unreadable: {e}")),
                    )
                })?
                .clone();
            check_csv_header(&headers)?;
            let column = headers.iter().position(|h| h.trim() == "batches");
            for record in csv.records() {
                if let Err(e) = &record
                    && matches!(e.kind(), csv::ErrorKind::Io(_))
                {
                    return Err(Error::field(
                        "file",
                        format!("{} (row {})", clip(&e.to_string()), survey.rows + 1),
                    ));
                }
                survey.rows += 1;
                if let (Ok(record), Some(column)) = (record, column)
                    && let Some(cell) = record.get(column)
                {
                    for name in cell.split(';') {
                        note(&mut survey, name);
                    }
                }
            }
        }
    }
    Ok(survey)
}

/// The hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes lines, keeping their checksum and counts for the trailer.
struct ExportWriter<W: Write> {
    writer: W,
    hasher: Sha256,
    lines: u64,
    counts: BTreeMap<&'static str, u64>,
}

impl<W: Write> ExportWriter<W> {
    fn put(&mut self, line: &str) -> Result<()> {
        self.hasher.update(line.as_bytes());
        self.hasher.update(b"\n");
        self.lines += 1;
        self.writer.write_all(line.as_bytes()).map_err(io_error)?;
        self.writer.write_all(b"\n").map_err(io_error)
    }

    fn record(&mut self, kind: &'static str, record: impl serde::Serialize) -> Result<()> {
        let record = serde_json::to_value(record)
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
        *self.counts.entry(kind).or_default() += 1;
        self.put(&json!({"type": kind, "record": record}).to_string())
    }
}

/// The trailer's counts: every kind, zero or not.
fn counts_value(counts: &BTreeMap<&str, u64>) -> Map<String, Value> {
    KINDS
        .iter()
        .map(|k| (k.to_string(), json!(counts.get(k).copied().unwrap_or(0))))
        .collect()
}

/// Writes the whole institute as JSON Lines (see the module docs); returns
/// the number of lines, trailer included. The operator only: the file holds
/// password hashes.
///
/// Each record is written as it is read. An export that fails part-way
/// (a read error, a full disk) leaves what it wrote in `writer`, without
/// the trailer, which a restore refuses; [`export_file`] replaces its file
/// only with a whole export.
pub fn export(admin: &Admin, writer: impl Write) -> Result<u64> {
    let mut out = ExportWriter {
        writer: std::io::BufWriter::new(writer),
        hasher: Sha256::new(),
        lines: 0,
        counts: BTreeMap::new(),
    };
    // Each record is written as it is read: an export holds one record,
    // not the store (a dump of 100,000 users took 166 MB).
    admin.dump_each(&mut |record| match record {
        Dumped::Counters(counters) => {
            // The header goes with the first record, so an export refused
            // (not the operator) writes nothing.
            out.put(
                &json!({"type": EXPORT_TYPE, "format": EXPORT_FORMAT, "schema": crate::Institute::schema_version()})
                    .to_string(),
            )?;
            let counters: Map<String, Value> = counters
                .into_iter()
                .map(|(k, v)| (k, json!(v)))
                .collect();
            out.record("counters", counters)
        }
        Dumped::Setting(id, value) => out.record("setting", json!({"id": id, "value": value})),
        Dumped::CustomField(f) => out.record("custom_field", f),
        Dumped::Group(g) => out.record("group", g),
        Dumped::Organisation(o) => out.record("organisation", o),
        Dumped::Batch(b) => out.record("batch", b),
        Dumped::Course(c) => out.record("course", c),
        Dumped::CourseBatch(course, batch) => {
            out.record("course_batch", json!({"course": course, "batch": batch}))
        }
        Dumped::User(u) => out.record("user", u),
        Dumped::SunbirdUser(user, fields) => {
            out.record("sunbird_user", json!({"user": user, "fields": fields}))
        }
        Dumped::Membership(user, batch, sub) => out.record(
            "membership",
            json!({"user": user, "batch": batch, "subscription": sub}),
        ),
    })?;
    let digest = std::mem::take(&mut out.hasher).finalize();
    let trailer = json!({
        "type": TRAILER_TYPE,
        "lines": out.lines,
        "counts": counts_value(&out.counts),
        "sha256": hex(&digest),
    });
    let trailer = trailer.to_string();
    out.writer
        .write_all(trailer.as_bytes())
        .and_then(|()| out.writer.write_all(b"\n"))
        .and_then(|()| out.writer.flush())
        .map_err(io_error)?;
    Ok(out.lines + 1)
}

/// Writes the export (see [`export`]) to the file `path`, replacing it
/// atomically: the lines go to a new file beside it (mode 0600 on Unix, as
/// they hold password hashes), which is synced to disk, then renamed over
/// `path`, and the folder is synced. If anything fails, a file already at
/// `path` is left as it was and the new file is removed. Returns the
/// number of lines.
pub fn export_file(admin: &Admin, path: &Path) -> Result<u64> {
    replace_file(path, |file| export(admin, file))
}

/// Replaces `path` with what `write` writes, atomically (see
/// [`export_file`]).
pub(crate) fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<u64>,
) -> Result<u64> {
    let file_error = |what: &str, e: std::io::Error| {
        Error::new(
            ErrorCode::Storage,
            format!("cannot {what} '{}': {e}", path.display()),
        )
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::field("file", "The export path names no file."))?;
    // The rename below replaces whatever entry the path names: never one
    // that is not a regular file. `roster export /dev/null` run as root
    // replaced the device with a file of password hashes, and a link
    // (`/dev/stdout`) would be replaced, not written through.
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(Error::field(
            "file",
            format!(
                "'{}' is not a regular file (a link, a device, a pipe or a folder): an \
                 export replaces its target whole, so it goes only to a regular file or a \
                 new path",
                path.display()
            ),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tag: [u8; 6] = crate::random::bytes()?;
    let temp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), hex(&tag)));
    let file = crate::private_file::create_new(&temp)
        .map_err(|e| file_error("create a temporary file beside", e))?;
    // The file is closed at the end of this closure, before the rename.
    let synced = move || {
        let mut file = file;
        let lines = write(&mut file)?;
        file.sync_all()
            .map_err(|e| file_error("sync the export to disk for", e))?;
        Ok(lines)
    };
    let written = synced().and_then(|lines| {
        std::fs::rename(&temp, path).map_err(|e| file_error("replace", e))?;
        Ok(lines)
    });
    match written {
        Ok(lines) => {
            sync_dir(dir).map_err(|e| file_error("sync the folder of", e))?;
            Ok(lines)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Makes a rename in `dir` durable (Unix: fsync the folder).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Reads an export after its header line `header_text` into a [`Dump`],
/// checking the trailer (format 2) or warning that it cannot (format 1,
/// with [`ImportOptions::legacy_export`]). Nothing is written here.
fn read_export<R: BufRead>(
    header_text: &str,
    header: &Map<String, Value>,
    lines: &mut Lines<R>,
    options: &ImportOptions,
    report: &mut ImportReport,
) -> Result<Dump> {
    let refuse = |what: String| {
        Error::new(
            ErrorCode::Corrupt,
            format!("the export cannot be restored: {what}; nothing was restored"),
        )
    };
    let header_line = lines.number;
    let bad = |line: u64, what: String| refuse(format!("line {line}: {what}"));
    let format = header.get("format").and_then(Value::as_u64);
    let legacy = match format {
        Some(EXPORT_FORMAT | FORMAT_2) => false,
        Some(LEGACY_FORMAT) if options.legacy_export => {
            report.warnings.push(
                "this export is of format 1, which has no trailer: a file cut short or edited \
                 cannot be detected; check the restored users against the source"
                    .into(),
            );
            true
        }
        Some(LEGACY_FORMAT) => {
            return Err(Error::new(
                ErrorCode::Validation,
                "this export was written by an older roster (format 1): it has no trailer, so \
                 a file cut short cannot be detected. Restore it only if you know it is whole, \
                 with the legacy_export option (roster import --legacy-export)",
            ));
        }
        _ => {
            return Err(bad(
                header_line,
                format!(
                    "unknown export format {} (this roster reads formats 1 to 3)",
                    clip(
                        &header
                            .get("format")
                            .cloned()
                            .unwrap_or(Value::Null)
                            .to_string()
                    )
                ),
            ));
        }
    };
    let schema = header.get("schema").and_then(Value::as_u64);
    match schema {
        Some(s) if (OLDEST_SCHEMA..=crate::Institute::schema_version()).contains(&s) => {}
        _ => {
            return Err(bad(
                header_line,
                format!(
                    "an export of store format {} cannot be restored by this roster (it reads {OLDEST_SCHEMA} to {})",
                    clip(
                        &header
                            .get("schema")
                            .cloned()
                            .unwrap_or(Value::Null)
                            .to_string()
                    ),
                    crate::Institute::schema_version()
                ),
            ));
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(header_text.as_bytes());
    hasher.update(b"\n");
    let mut hashed = 1u64;
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut trailer: Option<(u64, Counts)> = None;
    let mut dump = Dump::default();
    while let Some((line_no, line)) = lines.next_line()? {
        let text = match line {
            Line::Text(t) => t,
            Line::TooLong => {
                return Err(bad(line_no, format!("longer than {MAX_EXPORT_LINE} bytes")));
            }
            Line::NotUtf8 => return Err(bad(line_no, "not UTF-8 text".into())),
        };
        if let Some((at, _)) = &trailer {
            if text.trim().is_empty() {
                continue;
            }
            return Err(bad(line_no, format!("text after the trailer (line {at})")));
        }
        if text.trim().is_empty() {
            if legacy {
                continue;
            }
            return Err(bad(
                line_no,
                "a blank line inside the export: the file was edited".into(),
            ));
        }
        // Parsed into its parts, the record's text borrowed, not into a
        // `Value` tree: a 16 MiB line of small values would take some
        // twenty times its size as one.
        if !text.trim_start_matches(JSON_SPACE).starts_with('{') {
            return Err(bad(line_no, "not a JSON object".into()));
        }
        let parts: RecordLine<'_> =
            serde_json::from_str(&text).map_err(|e| bad(line_no, clip(&e.to_string())))?;
        let kind = text_of(parts.kind).unwrap_or_default();
        if kind == TRAILER_TYPE && !legacy {
            let counted: Trailer<'_> =
                serde_json::from_str(&text).map_err(|e| bad(line_no, clip(&e.to_string())))?;
            trailer = Some((line_no, counted.into_counts()));
            continue;
        }
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
        hashed += 1;
        let known = format == Some(EXPORT_FORMAT) || !SUNBIRD_KINDS.contains(&kind.as_str());
        let Some(kind) = KINDS.iter().copied().find(|k| *k == kind && known) else {
            return Err(bad(
                line_no,
                format!("unknown record type \"{}\"", clip(&kind)),
            ));
        };
        *counts.entry(kind).or_default() += 1;
        read_record(&mut dump, kind, parts.record).map_err(|e| bad(line_no, clip(&e)))?;
    }
    if legacy {
        return Ok(dump);
    }
    let Some((at, trailer)) = trailer else {
        return Err(refuse(format!(
            "it ends after line {} without its trailer line: the file is incomplete (cut short?)",
            lines.number
        )));
    };
    let mut differences = Vec::new();
    for kind in KINDS {
        if format != Some(EXPORT_FORMAT) && SUNBIRD_KINDS.contains(&kind) {
            continue;
        }
        let found = counts.get(kind).copied().unwrap_or(0);
        match trailer.counts.get(kind).copied().flatten() {
            Some(n) if n == found => {}
            Some(n) => differences.push(format!("{n} {kind} records listed, {found} found")),
            None => differences.push(format!("no count of {kind} records")),
        }
    }
    if !differences.is_empty() {
        return Err(bad(
            at,
            format!(
                "the trailer's counts do not match the file ({}): records are missing or were added",
                differences.join(", ")
            ),
        ));
    }
    if trailer.lines != Some(hashed) {
        return Err(bad(
            at,
            format!(
                "the trailer lists {} lines before it, the file has {hashed}",
                trailer.lines.map_or("no".to_string(), |n| n.to_string())
            ),
        ));
    }
    let digest = hex(&hasher.finalize());
    if trailer.sha256.as_deref() != Some(digest.as_str()) {
        return Err(bad(
            at,
            "the checksum (sha256) does not match the content: the file was changed after it was written".into(),
        ));
    }
    Ok(dump)
}

/// The blank space JSON allows between tokens.
const JSON_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// A record line of an export: its `type`, and its `record` as text, parsed
/// once the type is known ([`read_record`]). Other keys are skipped
/// unparsed.
#[derive(serde::Deserialize)]
struct RecordLine<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<&'a RawValue>,
    #[serde(default, borrow)]
    record: Option<&'a RawValue>,
}

/// The trailer line of an export, each part as text until it is checked.
#[derive(serde::Deserialize)]
struct Trailer<'a> {
    #[serde(default, borrow)]
    lines: Option<&'a RawValue>,
    #[serde(default, borrow)]
    counts: Option<&'a RawValue>,
    #[serde(default, borrow)]
    sha256: Option<&'a RawValue>,
}

/// What a trailer states: the lines before it, the records of each kind
/// (a count that is missing or not a whole number: `None`), the checksum.
struct Counts {
    lines: Option<u64>,
    counts: BTreeMap<&'static str, Option<u64>>,
    sha256: Option<String>,
}

impl Trailer<'_> {
    fn into_counts(self) -> Counts {
        // Only the known kinds' counts are kept; other keys are skipped
        // unparsed.
        let stated: BTreeMap<String, &RawValue> = self
            .counts
            .and_then(|c| serde_json::from_str::<Option<KnownCounts<'_>>>(c.get()).ok())
            .flatten()
            .map(|c| c.0)
            .unwrap_or_default();
        Counts {
            lines: number_of(self.lines),
            counts: KINDS
                .iter()
                .map(|kind| (*kind, number_of(stated.get(*kind).copied())))
                .collect(),
            sha256: text_of(self.sha256),
        }
    }
}

/// A trailer's `counts`: the values of the keys that name a record kind,
/// as text; the other keys' values skipped unparsed.
struct KnownCounts<'a>(BTreeMap<String, &'a RawValue>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for KnownCounts<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = KnownCounts<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of counts")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Self::Value, M::Error> {
                let mut known = BTreeMap::new();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if KINDS.contains(&key.as_ref()) {
                        known.insert(key.into_owned(), map.next_value::<&'de RawValue>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(KnownCounts(known))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// `raw` as a string, when it is one.
fn text_of(raw: Option<&RawValue>) -> Option<String> {
    serde_json::from_str(raw?.get()).ok()
}

/// `raw` as a whole number from 0 to 2^64 - 1, when it is one.
fn number_of(raw: Option<&RawValue>) -> Option<u64> {
    serde_json::from_str(raw?.get()).ok()
}

/// `e`'s message without the position serde_json appends (`at line 1
/// column 20`): a record is parsed from its own text, so the position is
/// not the file's (the caller names the file's line).
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&position) {
        Some(message) => message.to_string(),
        None => text,
    }
}

/// Adds one record line's `record` (missing: `null`) to `dump`.
fn read_record(
    dump: &mut Dump,
    kind: &str,
    record: Option<&RawValue>,
) -> std::result::Result<(), String> {
    fn parse<'a, T: serde::Deserialize<'a>>(
        raw: Option<&'a RawValue>,
    ) -> std::result::Result<T, String> {
        serde_json::from_str(raw.map_or("null", RawValue::get)).map_err(|e| message_of(&e))
    }
    /// A record of a few parts, each kept as text until it is read.
    type Parts<'a> = BTreeMap<String, &'a RawValue>;
    fn part<'a>(parts: &Parts<'a>, key: &str) -> Option<&'a RawValue> {
        parts.get(key).copied()
    }
    match kind {
        "counters" => parse::<Parts<'_>>(record).and_then(|m| {
            for (k, v) in m {
                let n = number_of(Some(v))
                    .ok_or_else(|| format!("counter {} is not a whole number", clip(&k)))?;
                dump.counters.push((k, n));
            }
            Ok(())
        }),
        "custom_field" => parse(record).map(|r| dump.custom_fields.push(r)),
        "group" => parse(record).map(|r| dump.groups.push(r)),
        "organisation" => parse(record).map(|r| dump.organisations.push(r)),
        "setting" => parse::<Parts<'_>>(record).and_then(|m| {
            match (text_of(part(&m, "id")), text_of(part(&m, "value"))) {
                (Some(id), Some(value)) => {
                    dump.settings.push((id, value));
                    Ok(())
                }
                _ => Err("a setting needs an id and a value (strings)".into()),
            }
        }),
        "sunbird_user" => parse::<Parts<'_>>(record).and_then(|m| {
            let user = number_of(part(&m, "user")).ok_or("a sunbird_user needs a user id")?;
            let fields = parse(part(&m, "fields"))?;
            dump.sunbird_users.push((user, fields));
            Ok(())
        }),
        "batch" => parse(record).map(|r| dump.batches.push(r)),
        "course" => parse(record).map(|r| dump.courses.push(r)),
        "course_batch" => parse::<Parts<'_>>(record).and_then(|m| {
            match (number_of(part(&m, "course")), number_of(part(&m, "batch"))) {
                (Some(c), Some(b)) => {
                    dump.course_batches.push((c, b));
                    Ok(())
                }
                _ => Err("a course_batch needs course and batch ids".into()),
            }
        }),
        "user" => parse(record).map(|r| dump.users.push(r)),
        "membership" => parse::<Parts<'_>>(record).and_then(|m| {
            let user = number_of(part(&m, "user")).ok_or("a membership needs a user id")?;
            let batch = number_of(part(&m, "batch")).ok_or("a membership needs a batch id")?;
            let sub = parse(part(&m, "subscription"))?;
            dump.memberships.push((user, batch, sub));
            Ok(())
        }),
        other => Err(format!("unknown record type {other:?}")),
    }
}

/// Why a file that starts with `first` (its first byte past any BOM and
/// blank space; `None`: nothing) cannot be imported: empty, or a JSON
/// array. Shared by [`import`] and [`survey`], so both refuse alike.
fn not_importable(first: Option<u8>) -> Error {
    match first {
        None => Error::field("file", "The file is empty: there is nothing to import."),
        _ => Error::field(
            "file",
            "The file is a JSON array: write one JSON object per line (JSON Lines), or CSV.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_replace_leaves_the_old_file_and_no_temporary_one() {
        let dir = std::env::temp_dir().join(format!("roster-replace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("backup.jsonl");
        std::fs::write(&target, b"the old backup\n").unwrap();
        // A failure half-way through writing.
        let err = replace_file(&target, |f| {
            f.write_all(b"half of a new one").unwrap();
            Err(Error::new(ErrorCode::Storage, "injected: the disk is full"))
        })
        .unwrap_err();
        assert!(err.message().contains("injected"));
        assert_eq!(std::fs::read(&target).unwrap(), b"the old backup\n");
        let names = |dir: &Path| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names(&dir), ["backup.jsonl"], "the temporary file is gone");
        // A failure of the rename itself: the target is a folder.
        let folder = dir.join("folder");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("inside"), b"kept").unwrap();
        assert!(
            replace_file(&folder, |f| f
                .write_all(b"new")
                .map(|_| 1)
                .map_err(io_error))
            .is_err()
        );
        assert_eq!(std::fs::read(folder.join("inside")).unwrap(), b"kept");
        assert_eq!(names(&dir), ["backup.jsonl", "folder"]);
        // Success replaces the content, and the new file is the owner's only.
        replace_file(&target, |f| {
            f.write_all(b"new\n").map(|_| 1).map_err(io_error)
        })
        .unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(names(&dir), ["backup.jsonl", "folder"]);
        // Only a regular file is replaced: not a link (its target is left
        // as it was too), nor a device.
        #[cfg(unix)]
        {
            let link = dir.join("link");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            let write_new = |f: &mut std::fs::File| f.write_all(b"x").map(|_| 1).map_err(io_error);
            let e = replace_file(&link, write_new).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(std::fs::read(&target).unwrap(), b"new\n");
            let e = replace_file(Path::new("/dev/null"), write_new).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
            std::fs::remove_file(&link).unwrap();
        }
        assert_eq!(names(&dir), ["backup.jsonl", "folder"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lines_are_bounded_and_crlf_is_stripped() {
        let text = b"ab\r\ncd\n0123456789abcdef\nlast";
        let mut lines = Lines::new(&text[..], 8);
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line().unwrap() {
            out.push((
                n,
                match line {
                    Line::Text(t) => t,
                    Line::TooLong => "<long>".into(),
                    Line::NotUtf8 => "<bytes>".into(),
                },
            ));
        }
        let want: Vec<(u64, String)> = vec![
            (1, "ab".into()),
            (2, "cd".into()),
            (3, "<long>".into()),
            (4, "last".into()),
        ];
        assert_eq!(out, want);
    }

    #[test]
    fn import_settings_are_checked() {
        let options = ImportOptions::try_from(ImportSettings {
            batches: vec!["X".into()],
            expires: Some("2030-01-31".into()),
            chunk_size: Some(10),
            legacy_export: true,
        })
        .unwrap();
        assert!(options.legacy_export);
        assert_eq!(options.batches, vec!["X".to_string()]);
        assert_eq!(options.expires.as_deref(), Some("2030-01-31"));
        assert_eq!(options.chunk_size, 10);
        for (settings, field) in [
            (
                ImportSettings {
                    expires: Some("31/01/2030".into()),
                    ..Default::default()
                },
                "expires",
            ),
            (
                ImportSettings {
                    chunk_size: Some(0),
                    ..Default::default()
                },
                "chunk_size",
            ),
            (
                ImportSettings {
                    chunk_size: Some(u32::MAX),
                    ..Default::default()
                },
                "chunk_size",
            ),
        ] {
            let e = ImportOptions::try_from(settings).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Validation);
            assert!(e.fields().has(field), "{e}");
        }
    }
}
