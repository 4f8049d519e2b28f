//! `roster api METHOD PATH [--data JSON|@FILE] [--token TOKEN] [-H 'Name:
//! value']...`: one request through the in-process REST facade.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use roster::Config;
use roster::rest::{Request, Response};

use crate::db::Missing;
use crate::{EXIT_FAILURE, usage_error};

/// Arguments of `roster api`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// HTTP method: GET, POST, PUT, PATCH or DELETE (any case).
    #[arg(value_parser = parse_method)]
    pub method: String,

    /// Path, with an optional query string, e.g. '/api/v2.5/admin/users/?q=john'.
    #[arg(value_parser = parse_path)]
    pub path: String,

    /// Request body: JSON text, or @FILE to read it from a file (@- reads
    /// standard input). Sent with `Content-Type: application/json`.
    #[arg(long, short = 'd', value_name = "JSON|@FILE")]
    pub data: Option<String>,

    /// Session token: sends `Authorization: JWT TOKEN` and applies the normal
    /// permission checks instead of running as the local operator. Prefer
    /// the environment variable ROSTER_TOKEN: a command line is visible to
    /// every user of the machine (`ps`), the environment is not. Its value
    /// is never shown.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "ROSTER_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// A request header, 'Name: value' (repeatable), e.g. -H 'X-msgid: 42'.
    /// A credential header (`Authorization`, `x-authenticated-user-token`)
    /// authenticates the request as `--token` does; a `Content-Type` given
    /// here replaces the JSON one `--data` sends.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", value_parser = HeaderParser)]
    pub headers: Vec<(String, String)>,
}

/// The headers that carry a caller's credentials: a request with one is
/// authenticated instead of run as the local operator.
const CREDENTIAL_HEADERS: [&str; 2] = ["authorization", "x-authenticated-user-token"];

impl ApiArgs {
    /// Whether the request names a caller (then its permissions apply).
    fn authenticates(&self) -> bool {
        self.token.is_some()
            || self
                .headers
                .iter()
                .any(|(name, _)| CREDENTIAL_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// `-H`'s parser: [`parse_header`], its refusal said without the value
/// (clap's own message for a refused value quotes it, and the value of a
/// credential header is a token).
#[derive(Clone)]
struct HeaderParser;

impl clap::builder::TypedValueParser for HeaderParser {
    type Value = (String, String);

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let refused = |why: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("-H/--header: {why}\n"),
            )
        };
        let text = value
            .to_str()
            .ok_or_else(|| refused("a header is UTF-8 text"))?;
        parse_header(text).map_err(|why| refused(&why))
    }
}

/// At most 40 characters of a header's name, for a message.
fn clip(name: &str) -> String {
    name.chars().take(40).collect()
}

/// Splits `Name: value` (RFC 9110: a token, a colon, the value without the
/// spaces around it).
fn parse_header(text: &str) -> Result<(String, String), String> {
    // The text is not repeated: a mistyped credential header would print
    // its token into a terminal's or a CI job's log. What is wrong with it
    // is enough to find it.
    let bad = || {
        let what = match text.split_once(':') {
            None => "one without ':'".to_string(),
            Some((name, _)) => format!("one whose name is not a token: {:?}", clip(name)),
        };
        format!("a header is 'Name: value', e.g. 'X-msgid: 42' (got {what})")
    };
    let (name, value) = text.split_once(':').ok_or_else(bad)?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(bad());
    }
    let value = value.trim_matches([' ', '\t']);
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(format!(
            "the value of header '{name}' has a line break or NUL"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Checks and upper-cases an HTTP method name.
fn parse_method(text: &str) -> Result<String, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err("an HTTP method is letters only, e.g. GET or POST".to_string())
    }
}

/// Checks that a request path is absolute.
fn parse_path(text: &str) -> Result<String, String> {
    if text.starts_with('/') {
        Ok(text.to_string())
    } else {
        Err(format!(
            "the path must start with '/', e.g. /api/v2.5/admin/users/ (got '{text}')"
        ))
    }
}

/// The body named by `--data`: the text itself, or the contents of `@FILE`.
fn read_body(data: &str) -> Result<Vec<u8>, String> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| format!("cannot read the body from standard input: {e}"))?;
            Ok(body)
        }
        Some(file) => std::fs::read(file).map_err(|e| format!("cannot read '{file}': {e}")),
        None => Ok(data.as_bytes().to_vec()),
    }
}

/// Builds the facade request of these arguments.
fn build_request(args: &ApiArgs) -> Result<Request, String> {
    let mut request = Request::new(&args.method, &args.path);
    if let Some(token) = &args.token {
        request = request.with_header("Authorization", &format!("JWT {token}"));
    }
    for (name, value) in &args.headers {
        request = request.with_header(name, value);
    }
    if let Some(data) = &args.data {
        let body = read_body(data)?;
        if !args.has_header("content-type") {
            request = request.with_header("Content-Type", "application/json");
        }
        request = request.with_body(body);
    }
    Ok(request)
}

/// Prints a response: `HTTP <status>` first on stderr, the body on stdout.
/// A body that could not be written is an error, but for a reader that
/// stopped reading (`roster api ... | head`): a full disk or a closed
/// descriptor must not pass for a whole answer.
fn print_response(response: &Response) -> std::io::Result<()> {
    eprintln!("HTTP {}", response.status);
    let Some(body) = response.body.as_deref().filter(|b| !b.is_empty()) else {
        return Ok(());
    };
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(body.as_bytes())
        .and_then(|()| match body.ends_with('\n') {
            true => Ok(()),
            false => out.write_all(b"\n"),
        })
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// What `roster api` does with a missing store file: a GET or HEAD reads
/// (HTTP's safe methods: no route of the facade writes on them), so it
/// creates no store; any other method may write, so it creates one. A
/// Sunbird read sent as POST (`/api/user/v1/search`) creates the store:
/// the method, not the route, decides, as a proxy would.
fn missing(method: &str) -> Missing {
    if matches!(method, "GET" | "HEAD") {
        Missing::Refuse
    } else {
        Missing::Create
    }
}

/// Runs `roster api`: opens the store at `db`, sends one request, prints the
/// response, and returns 0 for a status below 400, else 1 (2 for a usage
/// error found here, such as an unreadable `@FILE`).
pub fn run(db: &Path, config: Config, args: &ApiArgs) -> ExitCode {
    let request = match build_request(args) {
        Ok(request) => request,
        Err(message) => return usage_error(&message),
    };
    let (institute, created) = match crate::db::open_for(db, config, missing(&args.method)) {
        Ok(opened) => opened,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let response = if args.authenticates() {
        roster::rest::handle(&institute, request)
    } else {
        roster::rest::handle_as(&institute.operator(), request)
    };
    let printed = print_response(&response);
    if let Some(note) = created {
        eprintln!("{note}");
    }
    if let Err(e) = printed {
        eprintln!("error: the response could not be written to standard output: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    if response.status < 400 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value() {
        assert_eq!(
            parse_header("X-msgid:  42 "),
            Ok(("X-msgid".to_string(), "42".to_string()))
        );
        assert_eq!(
            parse_header("Authorization: JWT a:b"),
            Ok(("Authorization".to_string(), "JWT a:b".to_string()))
        );
        assert_eq!(
            parse_header("x-empty:"),
            Ok(("x-empty".to_string(), String::new()))
        );
        for bad in [
            "NoColon",
            ": value",
            "Bad Name: v",
            "X-a\u{7f}: v",
            "X: a\rb",
        ] {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }
}
