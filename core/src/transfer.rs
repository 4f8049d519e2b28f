//! Import and export files (X1, X2).
//!
//! **Import** reads users from CSV (a header row of field names) or JSON
//! Lines (one object per line, the bodies of the create-user endpoint), plus
//! `password_hash`, `batches` (names) and `expires`. Rows are applied whole or
//! not at all, a chunk of rows per transaction; refused rows are reported
//! with their line and reasons and the good ones kept.
//!
//! In CSV, `batches` is a `;`-separated list of names, a column
//! `custom_fields.<Name>` holds that custom field (a cell that reads as a
//! number is a number: CSV has no types), and an empty cell is an absent
//! field.
//!
//! **Export** writes JSON Lines of the whole institute: a header line, the id
//! counters, then every record with its ids, UUIDs, timestamps and **password
//! hashes**, so that importing the file into an empty store restores the same
//! state (sessions and the outbox are not exported: they are short-lived
//! secrets). An export is a host-level operation (SPEC A6).

use crate::Admin;
use crate::api::{Dump, ImportReport, ImportRow, Rejected};
use crate::error::{Error, ErrorCode, Result};
use crate::rest::inputs::new_user;
use crate::rest::json::Body;
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Read, Write};

/// The first line of an export.
const EXPORT_TYPE: &str = "roster-export";
/// The version of the export format.
const EXPORT_FORMAT: u64 = 1;

/// How to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Batch names every row joins besides its own.
    pub batches: Vec<String>,
    /// Expiry of those memberships (and of rows that name none), `yyyy-mm-dd`.
    pub expires: Option<String>,
    /// Rows per transaction.
    pub chunk_size: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            batches: Vec::new(),
            expires: None,
            chunk_size: 1000,
        }
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("reading or writing the file failed: {e}"),
    )
}

/// A row from a JSON object.
fn row_from(line: u64, map: Map<String, Value>, options: &ImportOptions) -> ImportRow {
    let mut body = Body::from_map(map);
    let password_hash = body.string("password_hash").filter(|h| !h.is_empty());
    let mut user = new_user(&mut body);
    for name in &options.batches {
        if !user.batches.iter().any(|b| b.eq_ignore_ascii_case(name)) {
            user.batches.push(name.clone());
        }
    }
    if user.expires.is_none() && !user.batches.is_empty() {
        user.expires = options.expires.clone();
    }
    ImportRow {
        line,
        user,
        password_hash,
        errors: body.errors().clone(),
    }
}

/// A CSV record as the JSON object a create-user body would be.
fn csv_object(headers: &csv::StringRecord, record: &csv::StringRecord) -> Map<String, Value> {
    let mut map = Map::new();
    let mut custom = Map::new();
    for (name, cell) in headers.iter().zip(record.iter()) {
        let name = name.trim();
        if cell.is_empty() {
            continue;
        }
        if let Some(field) = name.strip_prefix("custom_fields.") {
            let value = serde_json::from_str::<serde_json::Number>(cell.trim())
                .map(Value::Number)
                .unwrap_or_else(|_| Value::String(cell.to_string()));
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

/// Imports users (or restores an export) from `reader`, CSV or JSON Lines
/// (told apart by the first character: `{` is JSON Lines). `progress` hears
/// the number of rows done after each chunk.
pub fn import(
    admin: &Admin,
    reader: impl Read,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport> {
    let mut reader = BufReader::new(reader);
    let first = loop {
        let buf = reader.fill_buf().map_err(io_error)?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    let chunk = options.chunk_size.max(1);
    let mut report = ImportReport::default();
    let mut rows = Vec::with_capacity(chunk);
    let mut done = 0u64;
    let mut flush = |rows: &mut Vec<ImportRow>, report: &mut ImportReport| -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        done += rows.len() as u64;
        report.absorb(admin.import_rows(std::mem::take(rows))?);
        progress(done);
        Ok(())
    };
    match first {
        None => return Ok(report),
        Some(b'{') => {
            let mut lines = reader.lines().enumerate();
            while let Some((i, line)) = lines.next() {
                let line_no = i as u64 + 1;
                let text = line.map_err(io_error)?;
                if text.trim().is_empty() {
                    continue;
                }
                let value: Value = match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(e) => {
                        report.rejected.push(Rejected {
                            line: line_no,
                            username: String::new(),
                            reason: format!("not JSON: {e}"),
                        });
                        continue;
                    }
                };
                if report.created == 0 && rows.is_empty() && value["type"] == EXPORT_TYPE {
                    let rest: Vec<String> = lines
                        .map(|(_, l)| l)
                        .collect::<std::io::Result<_>>()
                        .map_err(io_error)?;
                    admin.restore(read_export(&value, &rest)?)?;
                    report.restored = true;
                    return Ok(report);
                }
                match value {
                    Value::Object(map) => rows.push(row_from(line_no, map, options)),
                    _ => report.rejected.push(Rejected {
                        line: line_no,
                        username: String::new(),
                        reason: "a row must be a JSON object".into(),
                    }),
                }
                if rows.len() >= chunk {
                    flush(&mut rows, &mut report)?;
                }
            }
        }
        Some(_) => {
            let mut csv = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(reader);
            let headers = csv
                .headers()
                .map_err(|e| {
                    Error::field("file", format!("the CSV header row is unreadable: {e}"))
                })?
                .clone();
            for record in csv.records() {
                match record {
                    Ok(record) => {
                        let line = record.position().map_or(0, |p| p.line());
                        rows.push(row_from(line, csv_object(&headers, &record), options));
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        report.rejected.push(Rejected {
                            line,
                            username: String::new(),
                            reason: format!("unreadable CSV row: {e}"),
                        });
                    }
                }
                if rows.len() >= chunk {
                    flush(&mut rows, &mut report)?;
                }
            }
        }
    }
    flush(&mut rows, &mut report)?;
    report.rejected.sort_by_key(|r| r.line);
    Ok(report)
}

fn line(kind: &str, record: impl serde::Serialize) -> Result<String> {
    let record =
        serde_json::to_value(record).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
    Ok(json!({"type": kind, "record": record}).to_string())
}

/// Writes the whole institute as JSON Lines (see the module docs); returns
/// the number of lines. The operator only: the file holds password hashes.
pub fn export(admin: &Admin, mut writer: impl Write) -> Result<u64> {
    let dump = admin.dump()?;
    let mut lines = vec![json!({"type": EXPORT_TYPE, "format": EXPORT_FORMAT, "schema": crate::Institute::schema_version()}).to_string()];
    let counters: Map<String, Value> = dump
        .counters
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    lines.push(json!({"type": "counters", "record": counters}).to_string());
    for f in &dump.custom_fields {
        lines.push(line("custom_field", f)?);
    }
    for g in &dump.groups {
        lines.push(line("group", g)?);
    }
    for b in &dump.batches {
        lines.push(line("batch", b)?);
    }
    for c in &dump.courses {
        lines.push(line("course", c)?);
    }
    for (course, batch) in &dump.course_batches {
        lines.push(
            json!({"type": "course_batch", "record": {"course": course, "batch": batch}})
                .to_string(),
        );
    }
    for u in &dump.users {
        lines.push(line("user", u)?);
    }
    for (user, batch, sub) in &dump.memberships {
        lines.push(line(
            "membership",
            json!({"user": user, "batch": batch, "subscription": sub}),
        )?);
    }
    for l in &lines {
        writer.write_all(l.as_bytes()).map_err(io_error)?;
        writer.write_all(b"\n").map_err(io_error)?;
    }
    writer.flush().map_err(io_error)?;
    Ok(lines.len() as u64)
}

/// Reads the lines after an export's header back into a [`Dump`].
fn read_export(header: &Value, lines: &[String]) -> Result<Dump> {
    let bad = |line: usize, what: String| {
        Error::new(
            ErrorCode::Corrupt,
            format!("export line {}: {what}", line + 2),
        )
    };
    if header["format"] != EXPORT_FORMAT {
        return Err(bad(
            0,
            format!("unknown export format {}", header["format"]),
        ));
    }
    if header["schema"] != crate::Institute::schema_version() {
        return Err(bad(
            0,
            format!(
                "an export of store format {} cannot be restored by this roster",
                header["schema"]
            ),
        ));
    }
    let mut dump = Dump::default();
    for (i, text) in lines.iter().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(text).map_err(|e| bad(i, e.to_string()))?;
        let record = value["record"].clone();
        fn parse<T: serde::de::DeserializeOwned>(v: Value) -> std::result::Result<T, String> {
            serde_json::from_value(v).map_err(|e| e.to_string())
        }
        let kind = value["type"].as_str().unwrap_or_default();
        let result = match kind {
            "counters" => parse::<Map<String, Value>>(record).map(|m| {
                dump.counters = m
                    .into_iter()
                    .filter_map(|(k, v)| v.as_u64().map(|n| (k, n)))
                    .collect();
            }),
            "custom_field" => parse(record).map(|r| dump.custom_fields.push(r)),
            "group" => parse(record).map(|r| dump.groups.push(r)),
            "batch" => parse(record).map(|r| dump.batches.push(r)),
            "course" => parse(record).map(|r| dump.courses.push(r)),
            "course_batch" => parse::<Map<String, Value>>(record).and_then(|m| {
                match (
                    m.get("course").and_then(Value::as_u64),
                    m.get("batch").and_then(Value::as_u64),
                ) {
                    (Some(c), Some(b)) => {
                        dump.course_batches.push((c, b));
                        Ok(())
                    }
                    _ => Err("a course_batch needs course and batch ids".into()),
                }
            }),
            "user" => parse(record).map(|r| dump.users.push(r)),
            "membership" => parse::<Map<String, Value>>(record).and_then(|mut m| {
                let user = m
                    .get("user")
                    .and_then(Value::as_u64)
                    .ok_or("a membership needs a user id")?;
                let batch = m
                    .get("batch")
                    .and_then(Value::as_u64)
                    .ok_or("a membership needs a batch id")?;
                let sub = parse(m.remove("subscription").unwrap_or_default())?;
                dump.memberships.push((user, batch, sub));
                Ok(())
            }),
            other => Err(format!("unknown record type {other:?}")),
        };
        result.map_err(|e| bad(i, e))?;
    }
    Ok(dump)
}
