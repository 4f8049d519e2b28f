//! Tests of `roster serve`: the real binary on a free port, driven by a
//! hand-written HTTP/1.1 client over `std::net::TcpStream` (so the tests
//! control every byte). The HTTP client samples run in `samples.rs`.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use roster::{Config, FixedClock, Institute};
use serde_json::Value;
use tempfile::TempDir;

mod common;

/// The superuser every signed-in test uses.
const ADMIN: &str = "admin";
const ADMIN_PASSWORD: &str = "secret-pass-1";
/// Seed 002's create example expires on 2023-01-13: the server's clock is
/// fixed the day before, as in the documents.
const NOW: &str = "2023-01-12T11:06:19+05:30";
const USERS: &str = "/api/v2.5/admin/users/";
const BATCHES: &str = "/api/v2.5/admin/batches/";

// ---------------------------------------------------------------------------
// The server under test

/// A running `roster serve` on a store of its own.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Lines the server wrote on stderr so far.
    log: Arc<Mutex<Vec<String>>>,
    db: PathBuf,
    /// Kept so the store's folder lives as long as the server.
    _dir: TempDir,
}

impl Server {
    /// A server on a new, empty store.
    fn start() -> Server {
        Server::start_with(TempDir::new().expect("temporary folder"), &[])
    }

    /// A server on a new store that holds the superuser [`ADMIN`], created
    /// through the library before the server opens the file.
    fn with_admin() -> Server {
        Server::with_admin_and(&[])
    }

    fn with_admin_and(env: &[(&str, &str)]) -> Server {
        let dir = TempDir::new().expect("temporary folder");
        // On the server's clock: a session started before the password was
        // set is not valid.
        let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
        let config = Config::default().with_clock(Arc::new(FixedClock::new(now)));
        let institute = Institute::open(dir.path().join("x.redb"), config).expect("open the store");
        institute
            .create_superuser(ADMIN, ADMIN_PASSWORD)
            .expect("create the superuser");
        // The file can be open once: the server opens it next.
        drop(institute);
        Server::start_with(dir, env)
    }

    /// Starts `roster --db DIR/x.redb --now NOW serve --port 0 --bind
    /// 127.0.0.1` with `env`, and reads the address from its first line.
    fn start_with(dir: TempDir, env: &[(&str, &str)]) -> Server {
        let db = dir.path().join("x.redb");
        let common::Spawned { child, addr, log } = common::spawn_serve(&db, NOW, env);
        Server {
            child,
            addr,
            log,
            db,
            _dir: dir,
        }
    }

    /// The `host:port` the server listens on.
    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// One request on a new connection.
    fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut client = self.connect();
        client.send(method, target, headers, body);
        client.reply()
    }

    /// Signs [`ADMIN`] in over HTTP and returns the token.
    fn sign_in(&self) -> String {
        let reply = self.request(
            "POST",
            "/api/v2.5/auth-token/",
            &[("Content-Type", "application/json")],
            Some(&format!(
                r#"{{"username": "{ADMIN}", "password": "{ADMIN_PASSWORD}"}}"#
            )),
        );
        assert_eq!(reply.status, 200, "sign-in: {}", reply.text());
        let token = reply.json()["token"].as_str().expect("a token").to_string();
        assert!(reply.json()["expires"].is_string(), "{}", reply.text());
        token
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to 5 s for a log line containing `needle`.
    fn await_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.log().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?}: {:#?}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (INT, TERM) to the server.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits up to `within` for the server to exit.
    fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for roster serve") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "roster serve did not exit within {within:?}; log: {:#?}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT and asserts a clean exit (0) within a few seconds.
    fn stop(&mut self) -> Vec<String> {
        self.signal("INT");
        let status = self.wait(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "log: {:#?}", self.log());
        // Let the stderr reader take the last lines.
        std::thread::sleep(Duration::from_millis(50));
        let log = self.log();
        assert_eq!(
            log.last().map(String::as_str),
            Some("roster serve: stopped"),
            "{log:#?}"
        );
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// A small HTTP/1.1 client

/// One connection, read through a buffer so that several responses can be
/// read from it.
struct Client {
    reader: BufReader<TcpStream>,
}

/// One response.
#[derive(Debug)]
struct Reply {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} {}", self.status, self.text()))
    }
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        Client::connect_waiting(addr, Duration::from_secs(10))
    }

    /// A client that waits up to `wait` for each answer before failing.
    fn connect_waiting(addr: SocketAddr, wait: Duration) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(wait)).expect("read timeout");
        Client {
            reader: BufReader::new(stream),
        }
    }

    /// A client connecting from loopback address `source` (127.0.0.2, say:
    /// another client than the tests' usual 127.0.0.1).
    fn connect_from(source: &str, addr: SocketAddr) -> Client {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let from = SocketAddr::new(source.parse().expect("an address"), 0);
        socket.bind(&from.into()).expect("bind the source address");
        socket.connect(&addr.into()).expect("connect");
        let stream: TcpStream = socket.into();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        Client {
            reader: BufReader::new(stream),
        }
    }

    fn stream(&mut self) -> &mut TcpStream {
        self.reader.get_mut()
    }

    fn write(&mut self, bytes: &[u8]) {
        self.stream().write_all(bytes).expect("send");
    }

    /// Sends a request with `Host` and, for a body, `Content-Length`.
    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: Option<&str>) {
        let host = self.stream().peer_addr().expect("peer").to_string();
        let mut text = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        } else {
            text.push_str("\r\n");
        }
        self.write(text.as_bytes());
    }

    /// Reads one response (a `100 Continue` too). The body is framed by
    /// `Content-Length`, which the server always sends, except for 1xx,
    /// 204 and answers to HEAD (`head`).
    fn read_reply(&mut self, head: bool) -> Reply {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .expect("read the status line");
        assert!(
            n > 0,
            "the server closed the connection instead of answering"
        );
        let mut parts = line.trim_end().splitn(3, ' ');
        // hyper answers an HTTP/1.0 request in HTTP/1.0.
        assert!(
            matches!(parts.next(), Some("HTTP/1.1" | "HTTP/1.0")),
            "status line {line:?}"
        );
        let status: u16 = parts.next().and_then(|s| s.parse().ok()).expect("a status");
        let reason = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("read a header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("name: value");
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let mut reply = Reply {
            status,
            reason,
            headers,
            body: Vec::new(),
        };
        if !head && status >= 200 && status != 204 {
            let len: usize = reply
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .expect("Content-Length");
            reply.body = vec![0; len];
            self.reader
                .read_exact(&mut reply.body)
                .expect("read the body");
        }
        reply
    }

    fn reply(&mut self) -> Reply {
        self.read_reply(false)
    }

    /// Asserts that the server closed the connection (EOF, or a reset once
    /// it stopped reading).
    fn assert_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(
                rest.is_empty(),
                "unexpected bytes: {:?}",
                String::from_utf8_lossy(&rest)
            ),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
    }
}

fn auth(token: &str) -> (&'static str, String) {
    ("Authorization", format!("JWT {token}"))
}

/// Creates a batch over HTTP.
fn create_batch(server: &Server, token: &str, name: &str) -> Value {
    let (k, v) = auth(token);
    let reply = server.request(
        "POST",
        BATCHES,
        &[(k, &v), ("Content-Type", "application/json")],
        Some(&serde_json::json!({ "name": name }).to_string()),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

// ---------------------------------------------------------------------------
// Start, stop, arguments

#[test]
fn prints_the_address_and_stops_cleanly_on_sigint_and_sigterm() {
    let mut server = Server::start();
    assert!(server.addr.ip().is_loopback());
    assert_ne!(server.addr.port(), 0);
    let reply = server.request("GET", "/no/such/path/", &[], None);
    assert_eq!(reply.status, 404);
    assert_eq!(reply.reason, "Not Found");
    assert_eq!(reply.json(), serde_json::json!({"detail": "Not found."}));
    let db = server.db.clone();
    let log = server.stop();
    assert!(
        log.iter().any(|l| l == "roster serve: stopping"),
        "{log:#?}"
    );
    // The store was closed: it opens again at once.
    Institute::open(&db, Config::default()).expect("reopen the store");

    let mut server = Server::start();
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn a_busy_port_or_a_bad_store_is_exit_1() {
    let mut server = Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(server.db.with_file_name("other.redb"))
        .args(["serve", "--port", &server.addr.port().to_string()])
        .output()
        .expect("run roster");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));

    // A file that is not a store.
    let bad = server.db.with_file_name("bad.redb");
    std::fs::write(&bad, vec![0x5a; 8192]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(&bad)
        .args(["serve", "--port", "0"])
        .output()
        .expect("run roster");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open the store"));
    server.stop();
}

#[test]
fn a_request_in_flight_finishes_after_the_stop_signal() {
    let mut server = Server::with_admin();
    let token = server.sign_in();
    // An idle keep-alive connection is closed at the signal...
    let mut idle = server.connect();
    idle.send("GET", USERS, &[(auth(&token).0, &auth(&token).1)], None);
    assert_eq!(idle.reply().status, 200);
    // ...one with half a request is answered first.
    let mut busy = server.connect();
    let body = r#"{"name": "Late Batch"}"#;
    let head = format!(
        "POST {BATCHES} HTTP/1.1\r\nHost: {}\r\nAuthorization: JWT {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.host(),
        body.len()
    );
    busy.write(head.as_bytes());
    busy.write(&body.as_bytes()[..5]);
    std::thread::sleep(Duration::from_millis(200));
    server.signal("INT");
    server.await_log("roster serve: stopping");
    idle.assert_closed();
    std::thread::sleep(Duration::from_millis(200));
    busy.write(&body.as_bytes()[5..]);
    let reply = busy.reply();
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("connection"), Some("close"));
    busy.assert_closed();
    assert_eq!(server.wait(Duration::from_secs(5)).code(), Some(0));
}

// ---------------------------------------------------------------------------
// HTTP/1.1 details

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let mut server = Server::with_admin();
    let token = server.sign_in();
    let (k, v) = auth(&token);
    let mut client = server.connect();
    for _ in 0..3 {
        client.send("GET", USERS, &[(k, &v)], None);
        let reply = client.reply();
        assert_eq!(reply.status, 200, "{}", reply.text());
        // HTTP/1.1 keeps alive by default: hyper sends no Connection
        // header then, only the idle timeout.
        assert_eq!(reply.header("connection"), None);
        assert_eq!(reply.header("keep-alive"), Some("timeout=30"));
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(reply.header("date").is_some());
        assert_eq!(reply.json()["count"], 1);
    }
    // Two requests in one write (pipelining) are answered in order.
    let host = server.host();
    client.write(
        format!(
            "GET {BATCHES} HTTP/1.1\r\nHost: {host}\r\nAuthorization: JWT {token}\r\n\r\n\
             GET {USERS}?q=admin HTTP/1.1\r\nHost: {host}\r\nAuthorization: JWT {token}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(client.reply().json()["count"], 0);
    assert_eq!(client.reply().json()["results"][0]["username"], ADMIN);
    // `Connection: close` is honoured.
    client.send("GET", USERS, &[(k, &v), ("Connection", "close")], None);
    let reply = client.reply();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), Some("close"));
    client.assert_closed();
    // HTTP/1.0 closes unless asked to keep alive.
    let mut client = server.connect();
    client.write(format!("GET {USERS} HTTP/1.0\r\nAuthorization: JWT {token}\r\n\r\n").as_bytes());
    assert_eq!(client.reply().header("connection"), Some("close"));
    client.assert_closed();
    // ...and keeps it open when asked.
    let mut client = server.connect();
    for _ in 0..2 {
        client.write(
            format!("GET {USERS} HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: JWT {token}\r\n\r\n")
                .as_bytes(),
        );
        let reply = client.reply();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("connection"), Some("keep-alive"));
    }
    let log = server.stop();
    assert!(
        log.iter()
            .any(|l| l.starts_with("GET /api/v2.5/admin/users/ 200 ") && l.ends_with("ms")),
        "{log:#?}"
    );
}

#[test]
fn a_chunked_body_is_decoded() {
    let mut server = Server::with_admin();
    let token = server.sign_in();
    let mut client = server.connect();
    let body = r#"{"name": "Chunked Batch"}"#;
    let (a, b) = body.split_at(10);
    client.write(
        format!(
            "POST {BATCHES} HTTP/1.1\r\nHost: {}\r\nAuthorization: JWT {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
             {:x}\r\n{a}\r\n{:X};ext=1\r\n{b}\r\n0\r\nX-Trailer: yes\r\n\r\n",
            server.host(),
            a.len(),
            b.len()
        )
        .as_bytes(),
    );
    let reply = client.reply();
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["name"], "Chunked Batch");
    // The body was consumed exactly: the connection goes on.
    client.send("GET", BATCHES, &[(auth(&token).0, &auth(&token).1)], None);
    assert_eq!(client.reply().json()["count"], 1);

    // A malformed chunk size is 400 and the connection closes.
    let mut client = server.connect();
    client.write(
        format!(
            "POST {BATCHES} HTTP/1.1\r\nHost: x\r\nAuthorization: JWT {token}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(client.reply().status, 400);
    client.assert_closed();
    // A coding other than chunked is not supported.
    let mut client = server.connect();
    client.write(b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    assert_eq!(client.reply().status, 501);
    server.stop();
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let mut server = Server::with_admin();
    let token = server.sign_in();
    let body = r#"{"name": "Expected Batch"}"#;
    let mut client = server.connect();
    client.write(
        format!(
            "POST {BATCHES} HTTP/1.1\r\nHost: {}\r\nAuthorization: JWT {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            server.host(),
            body.len()
        )
        .as_bytes(),
    );
    let interim = client.reply();
    assert_eq!((interim.status, interim.reason.as_str()), (100, "Continue"));
    client.write(body.as_bytes());
    let reply = client.reply();
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["name"], "Expected Batch");

    // Too large a body is refused at once, without 100 Continue.
    let mut client = server.connect();
    client.write(
        format!(
            "POST {BATCHES} HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(client.reply().status, 413);
    // An unknown expectation is 417.
    let mut client = server.connect();
    client.write(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n");
    assert_eq!(client.reply().status, 417);
    server.stop();
}

#[test]
fn paths_and_queries_pass_through_raw() {
    let mut server = Server::with_admin();
    let token = server.sign_in();
    let (k, v) = auth(&token);
    // Repeated slashes are the facade's to collapse; a percent-encoded
    // query is the facade's to decode.
    let reply = server.request(
        "GET",
        "//api/v2.5/admin/users/?username=adm%69n&q=a+d",
        &[(k, &v)],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    // HEAD is answered like GET, without the body.
    let mut client = server.connect();
    client.send("HEAD", USERS, &[(k, &v)], None);
    let head = client.read_reply(true);
    assert_eq!(head.status, 200);
    assert!(
        head.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            > 0
    );
    client.send("GET", "/api/v2.5/admin/nothing-here/", &[(k, &v)], None);
    assert_eq!(client.reply().status, 404);
    // A method the route does not have is 405 with Allow.
    client.send("DELETE", USERS, &[(k, &v)], None);
    let reply = client.reply();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.reason, "Method Not Allowed");
    assert!(reply.header("allow").unwrap().contains("GET"));
    // The method goes to the facade as it came (names are case-sensitive;
    // the facade decides what `get` is).
    client.send("get", USERS, &[(k, &v)], None);
    client.reply();
    server.await_log("get /api/v2.5/admin/users/ ");
    // DELETE answers 204 without a body; the connection goes on.
    let batch = create_batch(&server, &token, "Short Lived");
    client.send(
        "DELETE",
        &format!("{BATCHES}{}/", batch["id"]),
        &[(k, &v)],
        None,
    );
    let reply = client.reply();
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("content-length"), None);
    client.send("GET", BATCHES, &[(k, &v)], None);
    assert_eq!(client.reply().json()["count"], 0);
    server.stop();
}

#[test]
fn url_fields_point_back_at_the_host_the_client_addressed() {
    let mut server = Server::with_admin();
    let token = server.sign_in();
    let batch = create_batch(&server, &token, "Test Batch");
    let url = batch["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("http://{}{BATCHES}{}/", server.host(), batch["id"])
    );

    let (k, v) = auth(&token);
    let mut client = server.connect();
    client.write(
        format!("GET {BATCHES} HTTP/1.1\r\nHost: roster.test:8123\r\n{k}: {v}\r\n\r\n").as_bytes(),
    );
    let reply = client.reply();
    let url = reply.json()["results"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.starts_with("http://roster.test:8123/api/v2.5/admin/batches/"),
        "{url}"
    );
    // Without Host (HTTP/1.0), the address the connection came in on.
    let mut client = server.connect();
    client.write(format!("GET {BATCHES} HTTP/1.0\r\n{k}: {v}\r\n\r\n").as_bytes());
    let url = client.reply().json()["results"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.starts_with(&format!("http://{}/", server.host())),
        "{url}"
    );
    // A Host that would break out of the URL is refused.
    let mut client = server.connect();
    client.write(
        format!("GET {BATCHES} HTTP/1.1\r\nHost: evil.test/x?\r\n{k}: {v}\r\n\r\n").as_bytes(),
    );
    assert_eq!(client.reply().status, 400);
    client.assert_closed();
    server.stop();
}

// ---------------------------------------------------------------------------
// Limits and bad input

#[test]
fn a_body_over_1_mib_is_413_without_reading_it() {
    let mut server = Server::start();
    // Refused on its Content-Length alone: the body is never sent.
    let mut client = server.connect();
    client.write(
        b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
    );
    let reply = client.reply();
    assert_eq!(reply.status, 413);
    assert_eq!(reply.header("connection"), Some("close"));
    assert_eq!(reply.json()["detail"], "Request body is too large.");
    client.assert_closed();

    // A client that sends 2 MB anyway still reads the 413.
    let mut client = server.connect();
    let mut writer = client.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(
            b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
        );
        let _ = writer.write_all(&vec![b'x'; 2_000_000]);
    });
    assert_eq!(client.reply().status, 413);
    sender.join().unwrap();

    // A chunked body is counted as it arrives.
    let mut client = server.connect();
    let mut writer = client.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for _ in 0..40 {
            let mut chunk = b"10000\r\n".to_vec();
            chunk.extend(vec![b'x'; 0x10000]);
            chunk.extend(b"\r\n");
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    assert_eq!(client.reply().status, 413);
    sender.join().unwrap();
    // The server is still well.
    assert_eq!(server.request("GET", "/nope", &[], None).status, 404);
    server.stop();
}

#[test]
fn too_many_or_too_large_headers_are_431() {
    let mut server = Server::start();
    let mut client = server.connect();
    let mut head = String::from("GET /api/v2.5/admin/users/ HTTP/1.1\r\nHost: x\r\n");
    for i in 0..200 {
        head.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    head.push_str("\r\n");
    client.write(head.as_bytes());
    let reply = client.reply();
    assert_eq!(reply.status, 431);
    assert_eq!(reply.reason, "Request Header Fields Too Large");
    client.assert_closed();

    let mut client = server.connect();
    let big = format!(
        "GET /api/v2.5/admin/users/ HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    client.write(big.as_bytes());
    assert_eq!(client.reply().status, 431);
    client.assert_closed();

    // 100 headers are fine.
    let mut client = server.connect();
    let mut head = String::from("GET /nope HTTP/1.1\r\nHost: x\r\n");
    for i in 0..99 {
        head.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    head.push_str("\r\n");
    client.write(head.as_bytes());
    assert_eq!(client.reply().status, 404);
    server.stop();
}

#[test]
fn malformed_requests_are_400_and_close_the_connection() {
    let mut server = Server::start();
    let bad: &[&[u8]] = &[
        b"GARBAGE\r\n\r\n",
        b"this is not http at all\r\n\r\n",
        b"\x00\x01\x02\xff\r\n\r\n",
        b"GET /x HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /x\r\n\r\n",
        b"GET nothing HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
    ];
    for request in bad {
        let mut client = server.connect();
        client.write(request);
        let reply = client.reply();
        assert_eq!(
            reply.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(request),
            reply.text()
        );
        assert_eq!(reply.header("connection"), Some("close"));
        // What hyper cannot parse it answers itself, without a body; what
        // parses but cannot be served gets roster's `{"detail": ...}`.
        if !reply.body.is_empty() {
            assert!(reply.json()["detail"].is_string());
        }
        client.assert_closed();
    }
    // Both Content-Length and Transfer-Encoding: hyper frames the body by
    // the latter (RFC 9112 6.3) and closes the connection after answering,
    // so nothing after it can be smuggled in.
    let mut client = server.connect();
    client.write(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    let reply = client.reply();
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("connection"), Some("close"));
    client.assert_closed();
    assert!(!server.log().iter().any(|l| l.contains("/smuggled")));
    // A client that goes away mid-request is no trouble either.
    let mut client = server.connect();
    client.write(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    client.stream().shutdown(Shutdown::Both).unwrap();
    // Blank lines before a request are ignored.
    let mut client = server.connect();
    client.write(b"\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.reply().status, 404);
    assert!(
        server.log().iter().any(|l| l.starts_with("- - 400 ")),
        "{:#?}",
        server.log()
    );
    server.stop();
}

#[test]
fn idle_and_slow_connections_are_closed_after_the_timeout() {
    let mut server =
        Server::start_with(TempDir::new().unwrap(), &[("ROSTER_SERVE_IDLE_SECS", "1")]);
    // Idle: closed without a word.
    let started = Instant::now();
    let mut idle = server.connect();
    idle.assert_closed();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    // Idle after a first request, likewise.
    let mut client = server.connect();
    client.send("GET", "/nope", &[], None);
    assert_eq!(client.reply().header("keep-alive"), Some("timeout=1"));
    client.assert_closed();
    // Half a head: closed without a word (hyper's header read timeout).
    let started = Instant::now();
    let mut slow = server.connect();
    slow.write(b"GET /api/v2.5/admin/users/ HTTP/1.1\r\nHost: x\r\n");
    slow.assert_closed();
    assert!(started.elapsed() < Duration::from_secs(4));
    // Half a body: 408, and the connection closes.
    let mut slow = server.connect();
    slow.write(
        b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    );
    let reply = slow.reply();
    assert_eq!(reply.status, 408);
    assert_eq!(reply.header("connection"), Some("close"));
    slow.assert_closed();
    // Trickling a body byte by byte does not stretch the time either.
    let started = Instant::now();
    let mut slow = server.connect();
    slow.write(b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    let mut answered = None;
    for _ in 0..40 {
        if slow.stream().write_all(b"a").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        slow.stream().set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let peeked = slow.stream().peek(&mut byte);
        slow.stream().set_nonblocking(false).unwrap();
        if matches!(peeked, Ok(n) if n > 0) {
            answered = Some(started.elapsed());
            break;
        }
    }
    let answered = answered.expect("no answer to a trickled body");
    assert!(answered < Duration::from_secs(3), "{answered:?}");
    assert_eq!(slow.reply().status, 408);
    server.stop();
}

#[test]
fn a_new_connection_beyond_the_limit_closes_the_longest_idle() {
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[("ROSTER_SERVE_MAX_CONNECTIONS", "2")],
    );
    let mut oldest = server.connect();
    oldest.send("GET", "/nope", &[], None);
    assert_eq!(oldest.reply().status, 404);
    std::thread::sleep(Duration::from_millis(50));
    let mut younger = server.connect();
    younger.send("GET", "/nope", &[], None);
    assert_eq!(younger.reply().status, 404);
    // A third connection is served, and the one idle the longest is closed.
    let mut third = server.connect();
    third.send("GET", "/nope", &[], None);
    assert_eq!(third.reply().status, 404);
    oldest.assert_closed();
    younger.send("GET", "/nope", &[], None);
    assert_eq!(younger.reply().status, 404);

    // A connection waiting for the rest of its body waits on its client,
    // as an idle one does: the one that has waited longest is closed for a
    // new one, which is served.
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let mut client = server.connect();
        client.write(
            b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab",
        );
        waiting.push(client);
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut served = server.connect();
    served.send("GET", "/nope", &[], None);
    assert_eq!(served.reply().status, 404);
    waiting[0].assert_closed();
    waiting[1].write(b"cdefghij");
    assert_eq!(waiting[1].reply().status, 401);
    server.stop();
}

/// A process may open fewer files than `--max-connections` asks for
/// (here 96, of which 64 are kept for the store and the rest): the limit
/// is fitted under it, so idle connections that would use up the
/// descriptors are closed for new ones, and the server keeps serving.
#[test]
fn the_connection_limit_fits_under_the_open_file_limit() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("x.redb");
    let common::Spawned {
        mut child,
        addr,
        log,
    } = common::spawn_serve_limited(&db, NOW, &[], Some(96));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("at most 32 connections"))
    {
        assert!(Instant::now() < deadline, "{:#?}", log.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    // Twice as many idle connections as the process has descriptors left.
    let idle: Vec<Client> = (0..64).map(|_| Client::connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fresh = Client::connect(addr);
    fresh.send("GET", "/nope", &[], None);
    assert_eq!(fresh.reply().status, 404);
    assert!(
        !log.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("accept failed")),
        "{:#?}",
        log.lock().unwrap()
    );
    drop(idle);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_client_opening_connections_closes_its_own_not_another_clients() {
    // Room for four connections, two a client. Before the per-client
    // limit, a client opening connections in a loop closed the other
    // client's idle connection, the longest idle of all.
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[
            ("ROSTER_SERVE_MAX_CONNECTIONS", "4"),
            ("ROSTER_SERVE_CLIENT_CONNECTIONS", "2"),
        ],
    );
    let mut other = Client::connect_from("127.0.0.2", server.addr);
    other.send("GET", "/nope", &[], None);
    assert_eq!(other.reply().status, 404);
    std::thread::sleep(Duration::from_millis(50));
    let mut mine = Vec::new();
    for _ in 0..6 {
        let mut client = server.connect();
        client.send("GET", "/nope", &[], None);
        assert_eq!(client.reply().status, 404);
        mine.push(client);
        std::thread::sleep(Duration::from_millis(20));
    }
    // Each new one closed the client's own longest idle: two remain.
    for client in &mut mine[..4] {
        client.assert_closed();
    }
    for client in &mut mine[4..] {
        client.send("GET", "/nope", &[], None);
        assert_eq!(client.reply().status, 404);
    }
    other.send("GET", "/nope", &[], None);
    assert_eq!(other.reply().status, 404);
    server.stop();
}

#[test]
fn a_client_with_many_requests_under_way_waits_behind_its_own() {
    // One blocking thread, one turn a client. Sixteen sign-ins (each an
    // argon2 hash, tens of milliseconds) of one client queue behind its
    // own turn; another client's request, sent once they are all under
    // way, waits for the sign-in in the core at most, not for all of them
    // (before the per-client turns it was served last).
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[
            ("ROSTER_SERVE_BLOCKING_THREADS", "1"),
            ("ROSTER_SERVE_CLIENT_CALLS", "1"),
        ],
    );
    let body = r#"{"username": "nobody", "password": "not-the-password"}"#;
    let (flood, other) = std::thread::scope(|scope| {
        let flood: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let reply = server.request(
                        "POST",
                        "/api/v2.5/auth-token/",
                        &[("Content-Type", "application/json")],
                        Some(body),
                    );
                    assert_eq!(reply.status, 400, "{}", reply.text());
                    Instant::now()
                })
            })
            .collect();
        let other = scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(150));
            let mut client = Client::connect_from("127.0.0.2", server.addr);
            client.send("GET", "/nope", &[], None);
            assert_eq!(client.reply().status, 404);
            Instant::now()
        });
        let flood: Vec<Instant> = flood.into_iter().map(|t| t.join().unwrap()).collect();
        (flood, other.join().unwrap())
    });
    let after = flood.iter().filter(|&&done| done > other).count();
    assert!(
        after >= 4,
        "the other client was answered after {} of the 16 sign-ins",
        16 - after
    );
    server.stop();
}

/// A sign-in that fails (an argon2 hash in the core all the same).
const WRONG_SIGN_IN: &str = r#"{"username": "nobody", "password": "not-the-password"}"#;
const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

/// Times one wrong sign-in, then sends `n` more, each on a new connection
/// hung up a `fraction`th of that time after it was sent (while its hash
/// runs); the time one took.
fn abandon_sign_ins(server: &Server, n: usize, fraction: u32) -> Duration {
    let started = Instant::now();
    let mut alone = server.connect();
    alone.send("POST", "/api/v2.5/auth-token/", &JSON, Some(WRONG_SIGN_IN));
    assert_eq!(alone.reply().status, 400);
    let one = started.elapsed();
    // Closed: the client has no connection open but the one hung up.
    drop(alone);
    for _ in 0..n {
        let mut client = server.connect();
        client.send("POST", "/api/v2.5/auth-token/", &JSON, Some(WRONG_SIGN_IN));
        std::thread::sleep(one / fraction);
    }
    one
}

#[test]
fn a_client_that_hangs_up_keeps_its_turn_until_the_core_is_done() {
    // One blocking thread, one turn a client. A client that sends a
    // sign-in (an argon2 hash in the core) and hangs up while it runs, again
    // and again, freed its turn and its place in the threads' queue as it
    // hung up, while the hash went on: its abandoned sign-ins piled up, and
    // another client's request waited behind all of them. Now the turn goes
    // with the work: the next sign-ins wait for it and end with their
    // connections.
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[
            ("ROSTER_SERVE_BLOCKING_THREADS", "1"),
            ("ROSTER_SERVE_CLIENT_CALLS", "1"),
        ],
    );
    let one = abandon_sign_ins(&server, 40, 4);
    let started = Instant::now();
    let mut other = Client::connect_from("127.0.0.2", server.addr);
    other.send("GET", "/nope", &[], None);
    assert_eq!(other.reply().status, 404);
    let waited = started.elapsed();
    // Behind the abandoned sign-ins it would wait about ten of them (40
    // hung up a quarter of one in); six leaves room for a machine busy
    // with the other tests (a fresh-clone CI run took 3.6).
    assert!(
        waited < one * 6,
        "the other client waited {waited:?}; one sign-in takes {one:?}"
    );
    server.stop();
}

#[test]
fn a_client_that_hangs_up_on_each_connection_keeps_its_turn_too() {
    // Blocking threads to spare, one turn a client. A client that opens a
    // connection, sends a sign-in and hangs up, again and again, was
    // forgotten with its last connection, turn and all: each new
    // connection came with a new turn, and the abandoned hashes filled the
    // sign-in queue, so another client's sign-in was refused as busy.
    // Now a client is kept while work it left runs.
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[("ROSTER_SERVE_CLIENT_CALLS", "1")],
    );
    let one = abandon_sign_ins(&server, 60, 8);
    let started = Instant::now();
    let mut other = Client::connect_from("127.0.0.2", server.addr);
    other.send("POST", "/api/v2.5/auth-token/", &JSON, Some(WRONG_SIGN_IN));
    let reply = other.reply();
    let waited = started.elapsed();
    let said = format!(
        "{} after {waited:?}; one sign-in takes {one:?}",
        reply.text()
    );
    assert_eq!(reply.status, 400, "{said}");
    assert!(waited < one * 4, "{said}");
    server.stop();
}

#[test]
fn bodies_beyond_the_memory_budget_do_not_wait_for_each_other() {
    // One blocking thread: a budget of 1 MiB. Two bodies of 700,000 bytes
    // each send 500,000, then the rest: together they pass the budget. One
    // is refused at once (503) and the other served, instead of both
    // waiting on each other until the body's time (20 s) runs out.
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[
            ("ROSTER_SERVE_BLOCKING_THREADS", "1"),
            ("ROSTER_SERVE_IDLE_SECS", "20"),
        ],
    );
    let head = b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 700000\r\n\r\n";
    let half = vec![b'a'; 500_000];
    let rest = vec![b'a'; 200_000];
    let mut clients: Vec<Client> = (0..2).map(|_| server.connect()).collect();
    for client in &mut clients {
        client.write(head);
        client.write(&half);
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let mut statuses = Vec::new();
    for client in &mut clients {
        // A refused body's connection may close before the rest is sent.
        let _ = client.stream().write_all(&rest);
    }
    for client in &mut clients {
        statuses.push(client.reply().status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [404, 503]);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    server.stop();
}

#[test]
fn one_client_trickling_bodies_fills_no_more_than_its_share_of_the_budget() {
    // Four blocking threads: a budget of 4 MiB for bodies, a client's share
    // a quarter of it. One client sends four bodies of a megabyte but a
    // byte, and waits: before the shares, they held nearly all the budget
    // until their time ran out, and another client's body was refused
    // (503). Now they hold their client's share (the bodies that find it
    // spent are refused), and the other client is served.
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[
            ("ROSTER_SERVE_BLOCKING_THREADS", "4"),
            ("ROSTER_SERVE_IDLE_SECS", "20"),
        ],
    );
    let head = b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
    let most = vec![b'a'; 999_999];
    let mut trickling: Vec<Client> = (0..4).map(|_| server.connect()).collect();
    for client in &mut trickling {
        client.write(head);
        // A refused body's connection may close before all of it is sent.
        let _ = client.stream().write_all(&most);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut other = Client::connect_from("127.0.0.2", server.addr);
    let body = "b".repeat(600_000);
    other.send("POST", "/nope", &[], Some(&body));
    assert_eq!(other.reply().status, 404);
    drop(trickling);
    server.stop();
}

#[test]
fn heads_without_their_bodies_hold_no_thread_and_keep_no_one_out() {
    // One blocking thread, room for many connections: clients that send a
    // head announcing a body and then nothing once kept every thread (and
    // so every client) waiting for as long as the body's time.
    let mut server = Server::start_with(
        TempDir::new().unwrap(),
        &[
            ("ROSTER_SERVE_BLOCKING_THREADS", "1"),
            ("ROSTER_SERVE_IDLE_SECS", "20"),
        ],
    );
    let mut stalled = Vec::new();
    for _ in 0..16 {
        let mut client = server.connect();
        client.write(
            b"POST /api/v2.5/admin/batches/ HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n",
        );
        stalled.push(client);
    }
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let reply = server.request("GET", "/nope", &[], None);
    assert_eq!(reply.status, 404);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    // A whole request among them is served too.
    let body = r#"{"name": "x"}"#;
    let reply = server.request(
        "POST",
        "/api/v2.5/admin/batches/",
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(reply.status, 401);
    drop(stalled);
    server.stop();
}

// ---------------------------------------------------------------------------
// Abuse: idle connections and sign-in floods

/// The peak resident memory of process `pid` (VmHWM), in KiB.
#[cfg(target_os = "linux")]
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn a_thousand_idle_connections_do_not_keep_a_client_out() {
    let mut server = Server::with_admin();
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(server.addr).expect("connect an idle one"))
        .collect();
    // Give the server time to take them all in.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let reply = server.request("GET", "/nope", &[], None);
    let waited = started.elapsed();
    assert_eq!(reply.status, 404);
    eprintln!("served beside 1000 idle connections in {waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    // Sign-in works too. The idle ones are one client's (127.0.0.1): far
    // below the server's cap, but beyond the 256 a client keeps, so its
    // oldest were closed for its newer ones, which are still open.
    server.sign_in();
    let mut byte = [0u8; 1];
    let mut first = &idle[0];
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let closed = first.read(&mut byte);
    assert!(
        matches!(&closed, Ok(0))
            || matches!(&closed, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "{closed:?}"
    );
    let mut last = &idle[999];
    last.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let still_open = last.read(&mut byte);
    assert!(
        matches!(&still_open, Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut),
        "{still_open:?}"
    );
    drop(idle);
    server.stop();
}

#[test]
fn a_sign_in_flood_is_served_in_bounded_memory() {
    const FLOODERS: usize = 64;
    const ROUNDS: usize = 3;
    // A queued sign-in waits for the hashes before it (32 queued, as many
    // at once as the machine has cores): on a busy 2-core machine that is
    // seconds, so the clients wait longer than the usual 10 s. A hang still
    // fails.
    const WAIT: Duration = Duration::from_secs(60);
    let mut server = Server::with_admin();
    let addr = server.addr;
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let barrier = Arc::new(std::sync::Barrier::new(FLOODERS + 1));
    let flooders: Vec<_> = (0..FLOODERS)
        .map(|i| {
            let (statuses, barrier) = (Arc::clone(&statuses), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut client = Client::connect_waiting(addr, WAIT);
                barrier.wait();
                for round in 0..ROUNDS {
                    let body = format!(
                        r#"{{"username": "nobody-{i}-{round}", "password": "guess-{round}"}}"#
                    );
                    client.send(
                        "POST",
                        "/api/v2.5/auth-token/",
                        &[("Content-Type", "application/json")],
                        Some(&body),
                    );
                    let reply = client.reply();
                    let retry = reply.header("retry-after").map(str::to_string);
                    statuses.lock().unwrap().push((reply.status, retry));
                    if reply.header("connection") == Some("close") {
                        client = Client::connect_waiting(addr, WAIT);
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    // In the middle of the flood, a normal sign-in is answered: signed in,
    // or told to come back (never a hang: the client gives up after WAIT).
    std::thread::sleep(Duration::from_millis(100));
    let mut admin = Client::connect_waiting(addr, WAIT);
    admin.send(
        "POST",
        "/api/v2.5/auth-token/",
        &[("Content-Type", "application/json")],
        Some(&format!(
            r#"{{"username": "{ADMIN}", "password": "{ADMIN_PASSWORD}"}}"#
        )),
    );
    let reply = admin.reply();
    assert!(
        matches!(reply.status, 200 | 503),
        "{} {}",
        reply.status,
        reply.text()
    );
    for flooder in flooders {
        flooder.join().expect("a flooder failed");
    }
    let statuses = statuses.lock().unwrap().clone();
    assert_eq!(statuses.len(), FLOODERS * ROUNDS);
    for (status, retry) in &statuses {
        match status {
            400 => {}
            503 => assert_eq!(retry.as_deref(), Some("1")),
            other => panic!("unexpected {other}"),
        }
    }
    let busy = statuses.iter().filter(|(s, _)| *s == 503).count();
    #[cfg(target_os = "linux")]
    {
        let peak = peak_kib(server.child.id());
        eprintln!(
            "sign-in flood: {} requests, {busy} busy; serve VmHWM {} MiB",
            statuses.len(),
            peak / 1024
        );
        assert!(peak <= 512 * 1024, "VmHWM {peak} KiB");
    }
    // After the flood, sign-in works as ever: no lock-out was counted.
    server.sign_in();
    server.stop();
}

// ---------------------------------------------------------------------------
// Other processes beside a running server (redb's multi-process mode)

/// Runs `roster --db DB --now NOW ARGS...` to its end.
fn roster_beside(server: &Server, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(&server.db)
        .args(["--now", NOW])
        .args(args)
        .env_remove("ROSTER_DB")
        .stdin(Stdio::null())
        .output()
        .expect("run roster")
}

#[test]
fn unlock_api_and_export_work_beside_a_running_server() {
    let mut server = Server::with_admin();
    let sign_in = |password: &str| {
        server
            .request(
                "POST",
                "/api/v2.5/auth-token/",
                &[("Content-Type", "application/json")],
                Some(&format!(
                    r#"{{"username": "{ADMIN}", "password": "{password}"}}"#
                )),
            )
            .status
    };
    // Five wrong guesses lock the administrator, through the server.
    for _ in 0..5 {
        assert_eq!(sign_in("wrong-guess"), 400);
    }
    assert_eq!(sign_in(ADMIN_PASSWORD), 400, "locked");
    // Another process unlocks it while the server holds the store...
    let out = roster_beside(&server, &["unlock", ADMIN]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ...and the server sees that commit at once.
    assert_eq!(sign_in(ADMIN_PASSWORD), 200);

    // A write by another process is seen by the server, and the other way.
    let out = roster_beside(
        &server,
        &[
            "api",
            "POST",
            BATCHES,
            "--data",
            r#"{"name": "From The CLI"}"#,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = server.sign_in();
    create_batch(&server, &token, "From HTTP");
    let (k, v) = auth(&token);
    let listed = server.request("GET", BATCHES, &[(k, &v)], None).json();
    assert_eq!(listed["count"], 2, "{listed}");
    let out = roster_beside(&server, &["api", "GET", BATCHES]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("From The CLI") && text.contains("From HTTP"),
        "{text}"
    );
    // An export reads the store while the server runs.
    let file = server.db.with_file_name("backup.jsonl");
    let out = roster_beside(&server, &["export", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backup = std::fs::read_to_string(&file).unwrap();
    assert!(backup.contains("From HTTP"), "{backup}");
    server.stop();
}

// ---------------------------------------------------------------------------
// Sign-in over HTTP

#[test]
fn admin_paths_need_a_token() {
    let mut server = Server::with_admin();
    let reply = server.request("GET", USERS, &[], None);
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(reply.reason, "Unauthorized");
    assert!(reply.header("www-authenticate").is_some(), "{reply:?}");
    assert_eq!(
        reply.json()["detail"],
        "Authentication credentials were not provided."
    );

    let bad = "0".repeat(64);
    for header in [
        format!("JWT {bad}"),
        format!("Bearer {bad}"),
        "JWT nonsense".to_string(),
    ] {
        let reply = server.request("GET", USERS, &[("Authorization", &header)], None);
        assert_eq!(reply.status, 401, "{header}: {}", reply.text());
        assert!(reply.header("www-authenticate").is_some());
    }
    // A wrong password is refused with the documented words.
    let reply = server.request(
        "POST",
        "/api/v2.5/auth-token/",
        &[("Content-Type", "application/json")],
        Some(r#"{"username": "admin", "password": "wrong"}"#),
    );
    assert_eq!(reply.status, 400, "{}", reply.text());
    // The token works with either scheme.
    let token = server.sign_in();
    for scheme in ["JWT", "Bearer"] {
        let header = format!("{scheme} {token}");
        let reply = server.request("GET", USERS, &[("Authorization", &header)], None);
        assert_eq!(reply.status, 200, "{scheme}: {}", reply.text());
    }
    server.stop();
}

#[test]
fn the_openapi_document_is_served_without_a_token() {
    let mut server = Server::start();
    let reply = server.request("GET", "/api/openapi.json", &[], None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json()["openapi"], "3.1.0");
    // The same document as `roster openapi` prints.
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("openapi")
        .output()
        .unwrap();
    let printed: Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(reply.json(), printed);
    // Everything else still needs one.
    let reply = server.request("GET", USERS, &[], None);
    assert_eq!(reply.status, 401);
    server.stop();
}
