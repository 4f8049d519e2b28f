//! `roster serve [--port 8000] [--bind 127.0.0.1]`: the REST facade over
//! HTTP/1.1, for local development and for testing HTTP clients written
//! against the documents.
//!
//! Every request goes through [`roster::rest::handle`], which authenticates
//! the `Authorization` header: there is no operator shortcut over the network.
//!
//! The HTTP/1.1 server is written here on `std::net`, with `httparse` (the
//! parser hyper uses) for the request line and headers, because the limits
//! below need control over every read:
//!
//! - request line and headers at most 64 KiB (else 431) and 100 headers
//!   (else 431); a malformed request is 400 and the connection is closed;
//! - bodies framed by `Content-Length` or `Transfer-Encoding: chunked`, at
//!   most 1 MiB (else 413, decided before the body is read); `Expect:
//!   100-continue` is answered with `100 Continue` before the body is read;
//! - keep-alive (HTTP/1.1 by default, HTTP/1.0 with `Connection:
//!   keep-alive`), pipelined requests are answered in order;
//! - an idle connection is closed after `ROSTER_SERVE_IDLE_SECS` seconds
//!   (default 30); a request must arrive whole within that time (else 408);
//! - one thread per connection, at most `ROSTER_SERVE_MAX_CONNECTIONS`
//!   (default 64) at once; beyond that a new connection waits up to 5 s for
//!   a slot in the accept loop, then gets 503;
//! - Ctrl-C (SIGINT), SIGTERM or SIGHUP stops accepting, closes idle
//!   connections, lets requests in flight finish (at most 10 s), drops the
//!   institute (closing the store file) and exits 0. A second signal exits
//!   at once with 130.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use clap::Args;
use roster::rest::{Request, Response};
use roster::{Config, Institute};

use crate::EXIT_FAILURE;

/// At most this many bytes of request line and headers.
const MAX_HEAD: usize = 64 * 1024;
/// At most this many header fields.
const MAX_HEADERS: usize = 100;
/// At most this many bytes of request body (the facade's own limit too).
const MAX_BODY: usize = 1 << 20;
/// At most this many bytes in one chunk-size or trailer line.
const MAX_CHUNK_LINE: usize = 4096;
/// How many bytes one `read` asks for.
const READ_SIZE: usize = 16 * 1024;
/// How long the accept loop waits for a free connection slot before it
/// answers a new connection with 503.
const SLOT_WAIT: Duration = Duration::from_secs(5);
/// How long requests in flight may take to finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// After an error response, how long unread input is drained (and
/// discarded) before the socket is closed, so that the client reads the
/// response instead of a connection reset.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// ... and at most this many bytes of it.
const LINGER_BYTES: usize = 4 << 20;

/// Arguments of `roster serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP port to listen on; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,

    /// Address to listen on. 127.0.0.1 serves this machine only; 0.0.0.0
    /// serves the network.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: IpAddr,

    /// Seconds an idle connection is kept open, and that a request may take
    /// to arrive whole.
    #[arg(
        long,
        hide = true,
        env = "ROSTER_SERVE_IDLE_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub idle_secs: u64,

    /// Connections served at once.
    #[arg(
        long,
        hide = true,
        env = "ROSTER_SERVE_MAX_CONNECTIONS",
        default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..=10_000)
    )]
    pub max_connections: u64,
}

/// Runs `roster serve` until a stop signal; exit 0 after a clean stop, 1 when
/// the store cannot be opened or the address cannot be bound.
pub fn run(db: &Path, config: Config, args: &ServeArgs) -> ExitCode {
    let institute = match Institute::open(db, config) {
        Ok(institute) => institute,
        Err(err) => {
            log(&format!(
                "error: cannot open the store '{}': {err} ({})",
                db.display(),
                err.code().as_str()
            ));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let listener = match TcpListener::bind((args.bind, args.port)) {
        Ok(listener) => listener,
        Err(err) => {
            log(&format!(
                "error: cannot listen on {}: {err}",
                SocketAddr::new(args.bind, args.port)
            ));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            log(&format!("error: cannot read the listening address: {err}"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let shared = Arc::new(Shared {
        idle: Duration::from_secs(args.idle_secs),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        stopping: AtomicBool::new(false),
        connections: Mutex::new(Connections::default()),
        changed: Condvar::new(),
    });

    // The handler is installed before the address is announced, so a signal
    // sent as soon as the address is known stops the server cleanly. It
    // holds the shared state only, never the institute, so the store is
    // closed when the server stops.
    let signalled = Arc::clone(&shared);
    if let Err(err) = ctrlc::set_handler(move || signalled.signal(addr)) {
        log(&format!("warning: cannot handle Ctrl-C ({err})"));
    }

    {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "roster serve: listening on http://{addr}");
        let _ = out.flush();
    }
    log(&format!(
        "roster serve: store {}; Ctrl-C stops",
        db.display()
    ));

    accept_loop(&listener, &shared, &institute);
    drop(listener);

    let unfinished = shared.drain();
    if unfinished > 0 {
        log(&format!(
            "roster serve: {unfinished} connection(s) still busy after {}s; closing them",
            SHUTDOWN_GRACE.as_secs()
        ));
    }
    // Connection threads that finished have dropped their clones; this
    // closes the store file.
    drop(institute);
    log("roster serve: stopped");
    ExitCode::SUCCESS
}

/// Accepts connections until a stop signal, one thread each.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, institute: &Institute) {
    for incoming in listener.incoming() {
        if shared.is_stopping() {
            break;
        }
        let stream = match incoming {
            Ok(stream) => stream,
            Err(err) => {
                // Out of file descriptors and the like: do not spin.
                log(&format!("roster serve: accept failed: {err}"));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let Some(id) = shared.admit(&stream) else {
            if !shared.is_stopping() {
                reject_busy(stream);
            }
            continue;
        };
        let shared_for_thread = Arc::clone(shared);
        let institute = institute.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("roster-conn-{id}"))
            .spawn(move || {
                let _slot = Slot {
                    shared: &shared_for_thread,
                    id,
                };
                serve_connection(&shared_for_thread, &institute, id, stream);
            });
        if let Err(err) = spawned {
            log(&format!("roster serve: cannot start a thread: {err}"));
            shared.release(id);
        }
    }
}

/// Answers a connection that found no free slot: 503, then close. This runs
/// on the accept loop, so it never waits: what the client sent so far is
/// discarded, and there is no lingering close.
fn reject_busy(stream: TcpStream) {
    let mut wire = Wire::new(stream);
    if wire.stream.set_nonblocking(true).is_ok() {
        let mut scratch = [0u8; READ_SIZE];
        for _ in 0..4 {
            if !matches!(wire.stream.read(&mut scratch), Ok(n) if n > 0) {
                break;
            }
        }
        let _ = wire.stream.set_nonblocking(false);
    }
    let _ = wire
        .stream
        .set_write_timeout(Some(Duration::from_millis(200)));
    let mut headers = vec![("Retry-After".to_string(), "1".to_string())];
    headers.extend(json_headers());
    let body = detail_body("The server is busy; try again.");
    let _ = wire.write_response(503, &headers, Some(body.as_bytes()), false, false, None);
    log("- - 503 0.0ms");
    wire.close(false);
}

/// State shared by the accept loop, the connection threads and the signal
/// handler.
struct Shared {
    /// Idle timeout, and the time a request may take to arrive.
    idle: Duration,
    /// Connections served at once.
    max_connections: usize,
    /// Set by the first stop signal.
    stopping: AtomicBool,
    /// Open connections.
    connections: Mutex<Connections>,
    /// Notified when a connection closes or a stop signal arrives.
    changed: Condvar,
}

/// The open connections.
#[derive(Default)]
struct Connections {
    next_id: u64,
    open: HashMap<u64, Open>,
}

/// One open connection, as the server sees it from outside its thread.
struct Open {
    /// A handle to shut the socket down at stop.
    stream: Option<TcpStream>,
    /// Waiting for the first byte of a request (safe to close at stop).
    idle: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Connections> {
        // A panic while holding the lock leaves plain data behind; go on.
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The signal handler: the first signal starts a clean stop and wakes
    /// the accept loop; a second one exits at once.
    fn signal(&self, addr: SocketAddr) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            log("roster serve: second stop signal; exiting now");
            std::process::exit(130);
        }
        log("roster serve: stopping");
        self.changed.notify_all();
        // `accept` has no timeout: a connection of our own wakes it.
        let ip = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let wake = SocketAddr::new(ip, addr.port());
        if let Err(err) = TcpStream::connect_timeout(&wake, Duration::from_secs(2)) {
            log(&format!(
                "roster serve: cannot wake the accept loop ({err}); send the signal again to exit"
            ));
        }
    }

    /// Takes a slot for a new connection, waiting up to [`SLOT_WAIT`] for
    /// one; `None` when none freed up or the server is stopping.
    fn admit(&self, stream: &TcpStream) -> Option<u64> {
        let deadline = Instant::now() + SLOT_WAIT;
        let mut connections = self.lock();
        while connections.open.len() >= self.max_connections && !self.is_stopping() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            connections = self
                .changed
                .wait_timeout(connections, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        if self.is_stopping() {
            return None;
        }
        connections.next_id += 1;
        let id = connections.next_id;
        connections.open.insert(
            id,
            Open {
                stream: stream.try_clone().ok(),
                idle: true,
            },
        );
        Some(id)
    }

    /// Frees the slot of connection `id`.
    fn release(&self, id: u64) {
        self.lock().open.remove(&id);
        self.changed.notify_all();
    }

    /// Marks connection `id` idle (waiting for a request) or busy. Marking it
    /// idle fails once the server is stopping: the connection should close.
    fn set_idle(&self, id: u64, idle: bool) -> bool {
        let mut connections = self.lock();
        if idle && self.is_stopping() {
            return false;
        }
        if let Some(open) = connections.open.get_mut(&id) {
            open.idle = idle;
        }
        true
    }

    /// After the accept loop: closes idle connections, waits up to
    /// [`SHUTDOWN_GRACE`] for the busy ones, then shuts down what is left.
    /// Returns how many were still open.
    fn drain(&self) -> usize {
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        let mut connections = self.lock();
        for open in connections.open.values().filter(|o| o.idle) {
            if let Some(stream) = &open.stream {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        while !connections.open.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            connections = self
                .changed
                .wait_timeout(connections, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        let unfinished = connections.open.len();
        for open in connections.open.values() {
            if let Some(stream) = &open.stream {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        unfinished
    }
}

/// Frees a connection's slot when its thread ends, panic or not.
struct Slot<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.shared.release(self.id);
    }
}

/// Why a request could not be served.
enum Fail {
    /// The client went away, or a connection was idle too long: close
    /// without an answer.
    Closed,
    /// Answer with this status and message, then close the connection.
    Reply(u16, &'static str),
}

impl From<io::Error> for Fail {
    fn from(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                Fail::Reply(408, "The request did not arrive in time.")
            }
            _ => Fail::Closed,
        }
    }
}

/// The request line and headers of one request.
struct Head {
    method: String,
    target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    minor: u8,
    headers: Vec<(String, String)>,
    /// When the first byte of the request arrived.
    began: Instant,
}

/// A request whose head could not be read.
struct HeadError {
    fail: Fail,
    /// When the first byte of the request arrived, if one did.
    began: Option<Instant>,
}

impl Head {
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The comma-separated tokens of every `name` header, lower-cased.
    fn tokens(&self, name: &str) -> Vec<String> {
        self.values(name)
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The path of the target, for the log: no query, nothing unprintable.
    fn log_path(&self) -> String {
        let path = self.target.split('?').next().unwrap_or("");
        path.chars()
            .flat_map(char::escape_default)
            .take(512)
            .collect()
    }
}

/// How the body of a request is framed.
enum Framing {
    None,
    Length(usize),
    Chunked,
}

/// One connection's socket and the bytes read from it but not yet used.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    fn new(stream: TcpStream) -> Self {
        Wire {
            stream,
            buf: Vec::with_capacity(READ_SIZE),
        }
    }

    /// Reads more bytes into the buffer, waiting until `deadline`; `Ok(0)`
    /// when the client closed its side.
    fn fill(&mut self, deadline: Instant) -> io::Result<usize> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        let start = self.buf.len();
        self.buf.resize(start + READ_SIZE, 0);
        loop {
            match self.stream.read(&mut self.buf[start..]) {
                Ok(n) => {
                    self.buf.truncate(start + n);
                    return Ok(n);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.buf.truncate(start);
                    return Err(err);
                }
            }
        }
    }

    /// Like [`Wire::fill`], but the client closing its side is an error.
    fn fill_some(&mut self, deadline: Instant) -> Result<(), Fail> {
        match self.fill(deadline)? {
            0 => Err(Fail::Closed),
            _ => Ok(()),
        }
    }

    /// Reads the next request's line and headers. `Ok(None)` when the
    /// connection closed, or stayed idle for the idle timeout, before a
    /// request began.
    fn read_head(&mut self, shared: &Shared, id: u64) -> Result<Option<Head>, HeadError> {
        let idle_deadline = Instant::now() + shared.idle;
        // When the first byte of the request arrived.
        let mut began: Option<Instant> = None;
        // Whether a byte of the request line arrived (blank lines before
        // it are ignored, RFC 9112 section 2.2).
        let mut started = false;
        let mut blank_seen = false;
        // Bytes already searched for line ends, and line ends seen.
        let mut scanned = 0;
        let mut lines = 0;
        loop {
            if !started {
                let blank = self
                    .buf
                    .iter()
                    .take_while(|b| **b == b'\r' || **b == b'\n')
                    .count();
                self.buf.drain(..blank);
                blank_seen |= blank > 0;
                started = !self.buf.is_empty();
            }
            if began.is_none() && (started || blank_seen) {
                began = Some(Instant::now());
                shared.set_idle(id, false);
            }
            let fail = |fail: Fail| HeadError { fail, began };
            if started {
                let mut complete = false;
                let mut new_line = false;
                while let Some(offset) = self.buf[scanned..].iter().position(|b| *b == b'\n') {
                    let end = scanned + offset;
                    lines += 1;
                    new_line = true;
                    scanned = end + 1;
                    // The head ends at an empty line: "\n\n" or "\n\r\n".
                    if (end >= 1 && self.buf[end - 1] == b'\n')
                        || (end >= 2 && self.buf[end - 1] == b'\r' && self.buf[end - 2] == b'\n')
                    {
                        complete = true;
                        break;
                    }
                }
                if !complete {
                    scanned = self.buf.len();
                }
                // Parse once the head is whole, and at each new line while
                // there are few, so that a bad request line is refused early.
                if complete || (new_line && lines <= MAX_HEADERS + 2) {
                    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    let mut request = httparse::Request::new(&mut fields);
                    match request.parse(&self.buf) {
                        Ok(httparse::Status::Complete(len)) => {
                            if len > MAX_HEAD {
                                return Err(fail(Fail::Reply(
                                    431,
                                    "Request header fields too large.",
                                )));
                            }
                            let head = Head {
                                method: request.method.unwrap_or("").to_string(),
                                target: request.path.unwrap_or("").to_string(),
                                minor: request.version.unwrap_or(1),
                                headers: request
                                    .headers
                                    .iter()
                                    .map(|h| {
                                        (
                                            h.name.to_string(),
                                            String::from_utf8_lossy(h.value).trim().to_string(),
                                        )
                                    })
                                    .collect(),
                                began: began.unwrap_or_else(Instant::now),
                            };
                            self.buf.drain(..len);
                            return Ok(Some(head));
                        }
                        // A whole head that httparse still finds partial
                        // cannot happen; refuse rather than wait.
                        Ok(httparse::Status::Partial) if complete => {
                            return Err(fail(Fail::Reply(400, "Malformed request.")));
                        }
                        Ok(httparse::Status::Partial) => {}
                        Err(httparse::Error::TooManyHeaders) => {
                            return Err(fail(Fail::Reply(431, "Too many header fields.")));
                        }
                        Err(_) => return Err(fail(Fail::Reply(400, "Malformed request."))),
                    }
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(fail(Fail::Reply(431, "Request header fields too large.")));
                }
            }
            let deadline = began.map_or(idle_deadline, |at| at + shared.idle);
            match self.fill(deadline) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                // Idle between requests: close quietly.
                Err(_) if began.is_none() => return Ok(None),
                Err(err) => return Err(fail(Fail::from(err))),
            }
        }
    }

    /// Reads a body of exactly `len` bytes.
    fn read_fixed(&mut self, len: usize, deadline: Instant) -> Result<Vec<u8>, Fail> {
        while self.buf.len() < len {
            self.fill_some(deadline)?;
        }
        Ok(self.buf.drain(..len).collect())
    }

    /// Reads one line (without its line end) of at most [`MAX_CHUNK_LINE`]
    /// bytes.
    fn read_line(&mut self, deadline: Instant) -> Result<Vec<u8>, Fail> {
        let mut scanned = 0;
        loop {
            if let Some(offset) = self.buf[scanned..].iter().position(|b| *b == b'\n') {
                let end = scanned + offset;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            scanned = self.buf.len();
            if scanned > MAX_CHUNK_LINE {
                return Err(Fail::Reply(400, "Malformed chunked body."));
            }
            self.fill_some(deadline)?;
        }
    }

    /// Reads a `Transfer-Encoding: chunked` body of at most [`MAX_BODY`]
    /// bytes, and its trailers (which are dropped).
    fn read_chunked(&mut self, deadline: Instant) -> Result<Vec<u8>, Fail> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let size = chunk_size(&line).ok_or(Fail::Reply(400, "Malformed chunked body."))?;
            if size == 0 {
                break;
            }
            if size > MAX_BODY.saturating_sub(body.len()) {
                return Err(Fail::Reply(413, "Request body is too large."));
            }
            while self.buf.len() < size + 2 {
                self.fill_some(deadline)?;
            }
            body.extend(self.buf.drain(..size));
            if self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
            } else {
                return Err(Fail::Reply(400, "Malformed chunked body."));
            }
        }
        for _ in 0..=MAX_HEADERS {
            if self.read_line(deadline)?.is_empty() {
                return Ok(body);
            }
        }
        Err(Fail::Reply(431, "Too many trailer fields."))
    }

    /// Writes one response. `head_only` leaves the body out (HEAD) but keeps
    /// its `Content-Length`.
    fn write_response(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        keep_alive: bool,
        head_only: bool,
        keep_alive_secs: Option<u64>,
    ) -> io::Result<()> {
        let mut out = Vec::with_capacity(256 + body.map_or(0, <[u8]>::len));
        let _ = write!(out, "HTTP/1.1 {status} {}\r\n", reason(status));
        let _ = write!(
            out,
            "Date: {}\r\n",
            chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT")
        );
        for (name, value) in headers {
            let framing = [
                "content-length",
                "transfer-encoding",
                "connection",
                "keep-alive",
                "date",
            ]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h));
            let unsafe_text = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n');
            if framing || name.is_empty() || unsafe_text(name) || unsafe_text(value) {
                continue;
            }
            let _ = write!(out, "{name}: {value}\r\n");
        }
        let bodiless = status == 204 || status == 304 || (100..200).contains(&status);
        let body = if bodiless {
            None
        } else {
            Some(body.unwrap_or_default())
        };
        if let Some(body) = body {
            let _ = write!(out, "Content-Length: {}\r\n", body.len());
        }
        if keep_alive {
            let _ = write!(out, "Connection: keep-alive\r\n");
            if let Some(secs) = keep_alive_secs {
                let _ = write!(out, "Keep-Alive: timeout={secs}\r\n");
            }
        } else {
            let _ = write!(out, "Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if let Some(body) = body.filter(|_| !head_only) {
            out.extend_from_slice(body);
        }
        self.stream.write_all(&out)?;
        self.stream.flush()
    }

    /// Closes the connection. With `linger`, first stops writing and drains
    /// (discards) what the client still sends for a moment, so that it reads
    /// the response rather than a reset.
    fn close(mut self, linger: bool) {
        if linger {
            let _ = self.stream.shutdown(Shutdown::Write);
            let deadline = Instant::now() + LINGER_TIME;
            let mut drained = 0;
            let mut scratch = [0u8; READ_SIZE];
            while drained < LINGER_BYTES {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                    break;
                }
                match self.stream.read(&mut scratch) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// Serves requests on one connection until it closes.
fn serve_connection(shared: &Shared, institute: &Institute, id: u64, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(shared.idle));
    let local = stream.local_addr().ok();
    let mut wire = Wire::new(stream);
    loop {
        if !shared.set_idle(id, true) {
            wire.close(false);
            return;
        }
        let head = match wire.read_head(shared, id) {
            Ok(Some(head)) => head,
            Ok(None) => {
                wire.close(false);
                return;
            }
            Err(HeadError { fail, began }) => {
                fail_connection(wire, shared, id, fail, ("-", "-", began));
                return;
            }
        };
        let began = head.began;
        let method = head.method.clone();
        let path = head.log_path();
        match exchange(shared, institute, &mut wire, head, local) {
            Ok((status, keep_alive)) => {
                log_request(&method, &path, status, began);
                if !keep_alive || shared.is_stopping() {
                    close_answered(wire, shared, id);
                    return;
                }
            }
            Err(fail) => {
                fail_connection(wire, shared, id, fail, (&method, &path, Some(began)));
                return;
            }
        }
    }
}

/// Answers a request that cannot be served (if there is anyone to answer)
/// and closes the connection. `request` is the method, path and start of
/// the request, for the log.
fn fail_connection(
    mut wire: Wire,
    shared: &Shared,
    id: u64,
    fail: Fail,
    request: (&str, &str, Option<Instant>),
) {
    match fail {
        Fail::Closed => wire.close(false),
        Fail::Reply(status, message) => {
            let body = detail_body(message);
            let _ = wire.write_response(
                status,
                &json_headers(),
                Some(body.as_bytes()),
                false,
                false,
                None,
            );
            let (method, path, began) = request;
            log_request(method, path, status, began.unwrap_or_else(Instant::now));
            close_answered(wire, shared, id);
        }
    }
}

/// Closes a connection whose last answer said `Connection: close`,
/// lingering so that the client reads it, unless the server is stopping. A
/// lingering connection counts as idle, so a stop signal cuts it short.
fn close_answered(wire: Wire, shared: &Shared, id: u64) {
    let linger = shared.set_idle(id, true);
    wire.close(linger);
}

/// Reads the body of the request `head`, serves it through the facade and
/// writes the response. Returns the status and whether the connection stays
/// open.
fn exchange(
    shared: &Shared,
    institute: &Institute,
    wire: &mut Wire,
    head: Head,
    local: Option<SocketAddr>,
) -> Result<(u16, bool), Fail> {
    let deadline = Instant::now() + shared.idle;
    let connection = head.tokens("connection");
    let mut keep_alive = if head.minor == 0 {
        connection.iter().any(|t| t == "keep-alive")
    } else {
        !connection.iter().any(|t| t == "close")
    };

    let (path_with_query, authority) =
        split_target(&head.target).ok_or(Fail::Reply(400, "Malformed request target."))?;
    let hosts: Vec<&str> = head.values("host").collect();
    if hosts.len() > 1 {
        return Err(Fail::Reply(400, "More than one Host header."));
    }
    let host = match authority
        .or(hosts.first().copied())
        .filter(|h| !h.is_empty())
    {
        Some(host) if valid_host(host) => host.to_string(),
        Some(_) => return Err(Fail::Reply(400, "Invalid Host header.")),
        None => local.map_or_else(|| "localhost".to_string(), |a| a.to_string()),
    };

    let framing = framing(&head)?;
    let expects: Vec<String> = head.tokens("expect");
    if !expects.is_empty() {
        if expects.iter().any(|e| e != "100-continue") {
            return Err(Fail::Reply(
                417,
                "Only the expectation 100-continue is supported.",
            ));
        }
        let has_body = match framing {
            Framing::None => false,
            Framing::Length(len) => len > 0,
            Framing::Chunked => true,
        };
        if has_body && head.minor >= 1 {
            wire.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
    }
    let body = match framing {
        Framing::None => None,
        Framing::Length(len) => Some(wire.read_fixed(len, deadline)?),
        Framing::Chunked => Some(wire.read_chunked(deadline)?),
    };

    let head_only = head.method == "HEAD";
    let facade_method = if head_only {
        "GET"
    } else {
        head.method.as_str()
    };
    let mut request = Request::new(facade_method, path_with_query);
    request.headers = head.headers;
    request.body = body;
    request.base_url = Some(format!("http://{host}"));

    let response = catch_unwind(AssertUnwindSafe(|| {
        roster::rest::handle(institute, request)
    }))
    .unwrap_or_else(|_| Response {
        status: 500,
        headers: json_headers(),
        body: Some(detail_body("Internal server error.")),
    });

    if shared.is_stopping() {
        keep_alive = false;
    }
    let keep_alive_secs = (keep_alive && head.minor >= 1).then_some(shared.idle.as_secs());
    // A response that cannot be written was served all the same: it is
    // logged, and the connection closes.
    let written = wire
        .write_response(
            response.status,
            &response.headers,
            response.body.as_deref().map(str::as_bytes),
            keep_alive,
            head_only,
            keep_alive_secs,
        )
        .is_ok();
    Ok((response.status, keep_alive && written))
}

/// The body framing of a request: `Transfer-Encoding: chunked`,
/// `Content-Length`, or none. Anything ambiguous is refused.
fn framing(head: &Head) -> Result<Framing, Fail> {
    let has_te = head.values("transfer-encoding").next().is_some();
    let lengths: Vec<&str> = head
        .values("content-length")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    if has_te {
        if !lengths.is_empty() {
            return Err(Fail::Reply(
                400,
                "Both Transfer-Encoding and Content-Length.",
            ));
        }
        return match head.tokens("transfer-encoding").as_slice() {
            [only] if only == "chunked" => Ok(Framing::Chunked),
            [] => Err(Fail::Reply(400, "Empty Transfer-Encoding.")),
            _ => Err(Fail::Reply(
                501,
                "Only the chunked transfer coding is supported.",
            )),
        };
    }
    let Some(first) = lengths.first() else {
        return Ok(Framing::None);
    };
    if lengths.iter().any(|l| l != first) {
        return Err(Fail::Reply(400, "Conflicting Content-Length headers."));
    }
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fail::Reply(400, "Invalid Content-Length."));
    }
    match first.parse::<usize>() {
        Ok(len) if len <= MAX_BODY => Ok(Framing::Length(len)),
        // Too large, or too long a number to parse: too large either way.
        _ => Err(Fail::Reply(413, "Request body is too large.")),
    }
}

/// The size of a chunk from its size line (`1a;ext=1`).
fn chunk_size(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let digits = text.split(';').next()?.trim();
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    usize::from_str_radix(digits, 16).ok()
}

/// Splits a request target into the path with query for the facade and the
/// authority of an absolute-form target (`http://host:8000/api/...`).
/// Origin-form paths, `//api/...` included, pass through unchanged.
fn split_target(target: &str) -> Option<(&str, Option<&str>)> {
    if target.starts_with('/') || target == "*" {
        return Some((target, None));
    }
    let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &target[7..]
    } else if lower.starts_with("https://") {
        &target[8..]
    } else {
        return None;
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = if path.is_empty() { "/" } else { path };
    // "?q" without a path: the facade wants a path first.
    if path.starts_with('?') {
        return None;
    }
    Some((path, Some(authority)))
}

/// A `Host` value that can go into the `url` fields as it is: a host name or
/// address and an optional port, nothing else.
fn valid_host(host: &str) -> bool {
    host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

/// The reason phrase of a status.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        423 => "Locked",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            _ => "Server Error",
        },
    }
}

/// The headers of a JSON error answered by the server itself.
fn json_headers() -> Vec<(String, String)> {
    vec![("Content-Type".to_string(), "application/json".to_string())]
}

/// `{"detail": message}`, as Django REST Framework words its errors.
fn detail_body(message: &str) -> String {
    serde_json::json!({ "detail": message }).to_string()
}

/// Logs one request: `METHOD path status duration`.
fn log_request(method: &str, path: &str, status: u16, began: Instant) {
    let method: String = method
        .chars()
        .flat_map(char::escape_default)
        .take(32)
        .collect();
    let millis = began.elapsed().as_secs_f64() * 1000.0;
    log(&format!("{method} {path} {status} {millis:.1}ms"));
}

/// One line on stderr; a closed stderr is not worth a panic.
fn log(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"0"), Some(0));
        assert_eq!(chunk_size(b"10;name=value"), Some(16));
        assert_eq!(chunk_size(b" 5 "), Some(5));
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"-1"), None);
        assert_eq!(chunk_size(b"0x10"), None);
        assert_eq!(chunk_size(b"ffffffffffffffffffff"), None);
    }

    #[test]
    fn targets() {
        assert_eq!(
            split_target("//api/v2.5/admin/users/?email=a%40b.c"),
            Some(("//api/v2.5/admin/users/?email=a%40b.c", None))
        );
        assert_eq!(
            split_target("http://example.com:8000/api/?q=1"),
            Some(("/api/?q=1", Some("example.com:8000")))
        );
        assert_eq!(split_target("HTTP://h"), Some(("/", Some("h"))));
        assert_eq!(split_target("api/"), None);
        assert_eq!(split_target("http://h?q"), None);
    }

    #[test]
    fn hosts() {
        assert!(valid_host("127.0.0.1:8000"));
        assert!(valid_host("[::1]:8000"));
        assert!(valid_host("demo.testpress.in"));
        assert!(!valid_host("evil.com/path"));
        assert!(!valid_host("a b"));
        assert!(!valid_host("user@host"));
    }
}
