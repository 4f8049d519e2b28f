//! `roster serve [--port 8000] [--bind 127.0.0.1]`: the REST facade over
//! HTTP/1.1, for local development and for testing HTTP clients written
//! against the documents.
//!
//! Every request goes through [`roster::rest::handle`], which authenticates
//! the `Authorization` header: there is no operator shortcut over the network.
//!
//! HTTP/1.1 is hyper's (on tokio); this module sets its limits and carries
//! requests to the synchronous core:
//!
//! - request line and headers at most 64 KiB and 100 header fields (else
//!   431); a request hyper cannot parse is 400, and the connection closes;
//! - bodies framed by `Content-Length` or `Transfer-Encoding: chunked`, at
//!   most 1 MiB (else 413, decided on `Content-Length` before the body is
//!   read, and counted as a chunked body arrives); `Expect: 100-continue`
//!   is answered when the body is first read;
//! - keep-alive (HTTP/1.1 by default, HTTP/1.0 with `Connection:
//!   keep-alive`), pipelined requests answered in order;
//! - a request's head must arrive whole within `ROSTER_SERVE_IDLE_SECS`
//!   seconds (default 30) of the connection's last answer or opening, else
//!   the connection closes: this is the idle timeout too; a body must arrive
//!   within as long again (else 408, and the connection closes);
//! - at most `ROSTER_SERVE_MAX_CONNECTIONS` (default 4,096) connections,
//!   fewer when the process may not open that many files (its open-file
//!   limit is raised to the hard limit, and 64 descriptors are kept for
//!   the rest; out of descriptors all the same, `accept` closes the longest
//!   idle connection); a new one beyond that closes the connection that has waited on its
//!   client the longest, for a request head or for the rest of a body (one
//!   whose request is with the core, or queued for it, is never closed;
//!   when all are, the new one gets 503);
//! - one client (an IPv4 address, or an IPv6 address's /64) keeps at most
//!   `ROSTER_SERVE_CLIENT_CONNECTIONS` (default 256) connections open; a
//!   new one beyond closes that client's own longest idle (503 when all of
//!   its connections are busy), so a client opening connections in a loop
//!   closes its own, not other clients' idle ones;
//! - at most `ROSTER_SERVE_CLIENT_CALLS` (default 16) requests of one
//!   client wait for or run on the blocking threads at once; its others
//!   wait behind them, so a client sending many requests at once delays
//!   its own, and every other client's request waits behind at most that
//!   many of its;
//! - every call into the core runs on a bounded pool of blocking threads
//!   (`ROSTER_SERVE_BLOCKING_THREADS`, default 64), never on the few async
//!   workers that move bytes; a request takes its turn once its body has
//!   arrived, so a client slow to send (or sending a head and no body)
//!   holds no thread; bodies held in memory at once are bounded by as many
//!   bytes as that many largest bodies, one client's by a quarter of that
//!   (beyond: the bytes wait a second, then 503); what a request holds
//!   (its turns, its body's bytes) goes with its call into the core, and
//!   stays held until the call ends, though its client hang up;
//! - Ctrl-C (SIGINT), SIGTERM or SIGHUP stops accepting, closes idle
//!   connections, lets requests in flight finish (at most 10 s), drops the
//!   institute (closing the store file) and exits 0. A second signal exits
//!   at once with 130.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use roster::rest::{Request, Response};
use roster::{Config, Institute};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, watch};

use crate::EXIT_FAILURE;

/// At most this many bytes of request line and headers (hyper's read
/// buffer, which holds the head whole).
const MAX_HEAD: usize = 64 * 1024;
/// At most this many header fields.
const MAX_HEADERS: usize = 100;
/// At most this many bytes of request body (the facade's own limit too).
const MAX_BODY: usize = 1 << 20;
/// How long a body under way waits for the memory budget before it is
/// refused with 503.
const BUDGET_WAIT: Duration = Duration::from_secs(1);
/// How much longer than the body that began to wait before it a body
/// waits for the budget at least: bodies queue for it in turn, so the
/// first one refused frees its bytes while the next still waits, and two
/// bodies that wait for each other are never both refused.
const BUDGET_STAGGER: Duration = Duration::from_millis(250);
/// How long requests in flight may take to finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// After refusing a body, how long what the client still sends is read
/// (and discarded) so that it reads the answer rather than a reset...
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

    /// Seconds an idle connection is kept open, that a request head may take
    /// to arrive, and that a body may take to arrive.
    #[arg(
        long,
        hide = true,
        env = "ROSTER_SERVE_IDLE_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub idle_secs: u64,

    /// Connections open at once (fewer when the open-file limit is lower);
    /// a new one beyond closes the longest idle.
    #[arg(
        long,
        hide = true,
        env = "ROSTER_SERVE_MAX_CONNECTIONS",
        default_value_t = 4096,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000)
    )]
    pub max_connections: u64,

    /// Threads that call into the core at once (requests beyond wait).
    #[arg(
        long,
        hide = true,
        env = "ROSTER_SERVE_BLOCKING_THREADS",
        default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..=4096)
    )]
    pub blocking_threads: u64,

    /// Connections one client keeps open at once; a new one beyond closes
    /// that client's own longest idle.
    #[arg(
        long,
        hide = true,
        env = "ROSTER_SERVE_CLIENT_CONNECTIONS",
        default_value_t = 256,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000)
    )]
    pub client_connections: u64,

    /// Requests of one client waiting for or in the core at once; its
    /// others wait behind them, out of the other clients' way.
    #[arg(
        long,
        hide = true,
        env = "ROSTER_SERVE_CLIENT_CALLS",
        default_value_t = 16,
        value_parser = clap::value_parser!(u64).range(1..=4096)
    )]
    pub client_calls: u64,
}

/// Runs `roster serve` until a stop signal; exit 0 after a clean stop, 1 when
/// the store cannot be opened or the address cannot be bound.
pub fn run(db: &Path, config: Config, args: &ServeArgs) -> ExitCode {
    let institute = match crate::db::open_for(db, config, crate::db::Missing::Create) {
        Ok((institute, note)) => {
            if let Some(note) = note {
                log(&note);
            }
            institute
        }
        Err(message) => {
            log(&message);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let blocking = usize::try_from(args.blocking_threads).unwrap_or(64);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(blocking)
        .thread_name("roster-serve")
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            log(&format!("error: cannot start the server's threads: {err}"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let shared = Arc::new(Shared {
        institute: Mutex::new(Some(institute)),
        idle: Duration::from_secs(args.idle_secs),
        max_connections: fit_open_files(
            usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        ),
        client_connections: usize::try_from(args.client_connections).unwrap_or(usize::MAX),
        client_calls: usize::try_from(args.client_calls).unwrap_or(usize::MAX),
        calls: Arc::new(Semaphore::new(blocking)),
        body_bytes: Arc::new(Semaphore::new(blocking.saturating_mul(MAX_BODY))),
        client_body_bytes: (blocking.saturating_mul(MAX_BODY) / 4).max(MAX_BODY),
        budget_waits: Mutex::new(None),
        connections: Mutex::new(Connections::default()),
        closed: Notify::new(),
        next_id: AtomicU64::new(0),
        stopping: watch::channel(false).0,
    });
    let code = runtime.block_on(serve(db, args, Arc::clone(&shared)));
    // Requests still running on blocking threads after the grace period
    // hold clones of the institute; do not wait for them.
    runtime.shutdown_background();
    // This closes the store file (unless a request still runs).
    drop(shared.take_institute());
    if code == ExitCode::SUCCESS {
        log("roster serve: stopped");
    }
    code
}

/// `accept`'s errors for a process (`EMFILE`) or a system (`ENFILE`) out of
/// file descriptors (the same numbers on Linux and the BSDs).
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

/// File descriptors kept for what is not a connection: the store and its
/// journal, PostgreSQL's pool, the listener, logs, the blocking threads'
/// files.
const RESERVED_FILES: u64 = 64;

/// `wanted` connections, or fewer when this process may not open that many
/// files: its soft open-file limit is first raised to the hard one (often
/// 1,024 soft, far more hard), then the connection limit fitted under it,
/// so that a full table evicts an idle connection before `accept` runs out
/// of descriptors.
fn fit_open_files(wanted: usize) -> usize {
    #[cfg(unix)]
    {
        // Raised where the process may; else the soft limit as it is (a
        // sandbox may refuse `setrlimit` and still answer `getrlimit`).
        let limit = rlimit::increase_nofile_limit(u64::MAX)
            .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _hard)| soft));
        match limit {
            Ok(limit) => {
                let room = usize::try_from(limit.saturating_sub(RESERVED_FILES).max(1))
                    .unwrap_or(usize::MAX);
                if room < wanted {
                    log(&format!(
                        "roster serve: at most {room} connections (the open-file limit is \
                         {limit}; --max-connections asked for {wanted})"
                    ));
                    return room;
                }
            }
            Err(err) => log(&format!(
                "roster serve: the open-file limit could not be read ({err}); \
                 --max-connections is kept"
            )),
        }
    }
    wanted
}

/// How often the server trims the change feed of entries older than the
/// retention window.
const FEED_TRIM_EVERY: Duration = Duration::from_secs(3600);

/// Trims the change feed every [`FEED_TRIM_EVERY`] (the first time at
/// start), on the blocking pool, until the server stops: a store file trims
/// as it writes, a PostgreSQL institute only so. A failure is logged and
/// tried again next time.
async fn trim_the_feed(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(FEED_TRIM_EVERY);
    loop {
        every.tick().await;
        let Some(institute) = shared.institute() else {
            return;
        };
        let trimmed =
            tokio::task::spawn_blocking(move || institute.operator().purge_changes()).await;
        match trimmed {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => log(&format!(
                "roster serve: {n} old entries of the change feed trimmed"
            )),
            Ok(Err(err)) => log(&format!(
                "roster serve: trimming the change feed failed: {err}"
            )),
            Err(_) => log("roster serve: trimming the change feed failed"),
        }
    }
}

/// Binds, announces the address, accepts until a stop signal, drains.
async fn serve(db: &Path, args: &ServeArgs, shared: Arc<Shared>) -> ExitCode {
    let listener = match TcpListener::bind((args.bind, args.port)).await {
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
    // Signals are watched before the address is announced, so one sent as
    // soon as the address is known stops the server cleanly.
    let stop = match stop_signals() {
        Ok(stop) => stop,
        Err(err) => {
            log(&format!("error: cannot handle stop signals: {err}"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "roster serve: listening on http://{addr}");
        let _ = out.flush();
    }
    let pool = match crate::db::postgres_url(db) {
        Some(_) => format!(
            " (pool of {} connections)",
            crate::db::options(true).pool_size
        ),
        None => String::new(),
    };
    log(&format!(
        "roster serve: store {}{pool}; Ctrl-C stops",
        crate::db::shown(db)
    ));

    tokio::spawn(trim_the_feed(shared.clone()));
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => admit(&shared, stream, client_of(peer.ip())),
                Err(err) => {
                    // Out of file descriptors (the process's or the
                    // system's): the longest idle connection gives its up,
                    // as a full table's does, or none could ever be taken
                    // again while idle ones hold them. Do not spin.
                    if matches!(err.raw_os_error(), Some(EMFILE | ENFILE)) {
                        shared.evict_longest_idle();
                    }
                    log(&format!("roster serve: accept failed: {err}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    log("roster serve: stopping");
    // A second signal exits at once.
    tokio::spawn(async {
        if let Ok(again) = stop_signals() {
            again.await;
            log("roster serve: second stop signal; exiting now");
            std::process::exit(130);
        }
    });
    shared.stopping.send_replace(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, shared.all_closed()).await;
    if drained.is_err() {
        log(&format!(
            "roster serve: {} connection(s) still busy after {}s; closing them",
            shared.lock().open.len(),
            SHUTDOWN_GRACE.as_secs()
        ));
    }
    ExitCode::SUCCESS
}

/// Resolves at the first SIGINT, SIGTERM or SIGHUP (Ctrl-C elsewhere).
#[cfg(unix)]
fn stop_signals() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
            _ = hup.recv() => {},
        }
    })
}

/// Resolves at the first Ctrl-C.
#[cfg(not(unix))]
fn stop_signals() -> io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// State shared by the accept loop and the connections.
struct Shared {
    /// Taken out at the end, so the store closes before the process exits.
    institute: Mutex<Option<Institute>>,
    /// Idle timeout, and the time a request head or body may take.
    idle: Duration,
    /// Connections open at once.
    max_connections: usize,
    /// Connections one client keeps open at once.
    client_connections: usize,
    /// Turns (permits of `calls`, and waits for them) one client holds at
    /// once.
    client_calls: usize,
    /// One permit per blocking thread: a request takes one once its body
    /// has arrived (and its client's turn) and keeps it until the core has
    /// answered, so a client that is slow to send holds no thread.
    calls: Arc<Semaphore>,
    /// One permit per byte of request body held in memory, taken as the
    /// bytes arrive and kept until the core has answered: as much as one
    /// largest body per blocking thread.
    body_bytes: Arc<Semaphore>,
    /// A client's share of `body_bytes` ([`Own::bodies`]): a quarter, and
    /// at least one largest body.
    client_body_bytes: usize,
    /// When the body that last began to wait for `body_bytes` gives up
    /// ([`BUDGET_STAGGER`]).
    budget_waits: Mutex<Option<tokio::time::Instant>>,
    /// Open connections.
    connections: Mutex<Connections>,
    /// Notified when a connection closes.
    closed: Notify,
    next_id: AtomicU64,
    /// Set at the stop signal.
    stopping: watch::Sender<bool>,
}

/// The open connections, and the clients they belong to.
#[derive(Default)]
struct Connections {
    open: HashMap<u64, Open>,
    clients: HashMap<IpAddr, Client>,
}

/// One open connection, as the accept loop sees it.
struct Open {
    /// Since when it waits for a request; `None` while one is served.
    idle_since: Option<Instant>,
    /// Closes it.
    evict: Arc<Notify>,
    /// Its client ([`client_of`]).
    client: IpAddr,
}

impl Client {
    /// Whether the client holds nothing: no connection, and no permit of
    /// a request whose connection closed while the core works on it (each
    /// permit holds its semaphore). A client forgotten with work under way
    /// would come back with all its turns, so hanging up after each request
    /// would take a turn each time.
    fn is_gone(&self) -> bool {
        self.connections == 0
            && Arc::strong_count(&self.own.turns) == 1
            && Arc::strong_count(&self.own.bodies) == 1
    }
}

/// What one client holds.
struct Client {
    /// Its open connections.
    connections: usize,
    /// Its share of the server's turns and memory.
    own: Own,
}

/// A client's share of what the server has, which its requests take from.
#[derive(Clone)]
struct Own {
    /// Its turns: a request takes one before it waits for a blocking
    /// thread, so the client's other requests wait here, behind at most
    /// this many of its own, not in every other client's way.
    turns: Arc<Semaphore>,
    /// Its share of the memory budget of request bodies (`body_bytes`), a
    /// permit a byte, taken before the server's: bodies of one client
    /// trickling in fill a quarter of the budget at most, not all of it.
    bodies: Arc<Semaphore>,
}

/// The client a peer address stands for, as the per-client limits count
/// them: an IPv4 address (one mapped into IPv6 too), or the /64 network of
/// an IPv6 address (a host is commonly given a whole /64). Behind a proxy
/// every client is the proxy.
fn client_of(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

impl Connections {
    /// The connection `id` of the idle ones of `client` (every client's
    /// when `None`) that has waited the longest.
    fn longest_idle(&self, client: Option<IpAddr>) -> Option<u64> {
        self.open
            .iter()
            .filter(|(_, open)| client.is_none_or(|c| open.client == c))
            .filter_map(|(id, open)| open.idle_since.map(|since| (since, *id)))
            .min()
            .map(|(_, id)| id)
    }

    /// Forgets connection `id` (and its client, with its last connection,
    /// unless work it left is still under way); the connection, if it was
    /// open.
    fn remove(&mut self, id: u64) -> Option<Open> {
        let open = self.open.remove(&id)?;
        if let Some(client) = self.clients.get_mut(&open.client) {
            client.connections -= 1;
            if client.is_gone() {
                self.clients.remove(&open.client);
            }
        }
        Some(open)
    }

    /// Forgets the clients that have gone since their last connection
    /// closed: their work has ended since.
    fn forget_gone(&mut self) {
        if self.clients.len() > self.open.len() {
            self.clients.retain(|_, client| !client.is_gone());
        }
    }
}

impl Shared {
    /// Closes the connection idle longest, of any client (none idle: none).
    fn evict_longest_idle(&self) {
        let mut connections = self.lock();
        if let Some(victim) = connections.longest_idle(None)
            && let Some(open) = connections.remove(victim)
        {
            open.evict.notify_one();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connections> {
        // A panic while holding the lock leaves plain data behind; go on.
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn institute(&self) -> Option<Institute> {
        self.institute
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn take_institute(&self) -> Option<Institute> {
        self.institute
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Marks connection `id` busy (serving a request) or idle.
    fn set_idle(&self, id: u64, idle: bool) {
        if let Some(open) = self.lock().open.get_mut(&id) {
            open.idle_since = idle.then(Instant::now);
        }
    }

    /// Forgets connection `id`.
    fn release(&self, id: u64) {
        self.lock().remove(id);
        self.closed.notify_waiters();
    }

    /// Resolves when no connection is open.
    async fn all_closed(&self) {
        loop {
            let notified = self.closed.notified();
            if self.lock().open.is_empty() {
                return;
            }
            notified.await;
        }
    }
}

/// Takes a new connection of `client` in. When the client has all the
/// connections it may have, its own longest idle one is closed; else, when
/// the table is full, the longest idle of all. When every connection that
/// could go is busy, answers 503 and closes.
fn admit(shared: &Arc<Shared>, stream: TcpStream, client: IpAddr) {
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let evict = Arc::new(Notify::new());

    let own = {
        let mut connections = shared.lock();
        let own = connections
            .clients
            .get(&client)
            .map_or(0, |c| c.connections);
        // A client at its own limit gives up one of its own; else, a full
        // table gives up the longest idle of all.
        let client_full = own >= shared.client_connections;
        if client_full || connections.open.len() >= shared.max_connections {
            match connections.longest_idle(client_full.then_some(client)) {
                Some(victim) => {
                    if let Some(open) = connections.remove(victim) {
                        // A stored permit: it fires even before it is awaited.
                        open.evict.notify_one();
                    }
                }
                None => {
                    drop(connections);
                    tokio::spawn(reject_busy(stream));
                    return;
                }
            }
        }
        connections.open.insert(
            id,
            Open {
                idle_since: Some(Instant::now()),
                evict: Arc::clone(&evict),
                client,
            },
        );
        if !connections.clients.contains_key(&client) {
            connections.forget_gone();
        }
        let entry = connections.clients.entry(client).or_insert_with(|| Client {
            connections: 0,
            own: Own {
                turns: Arc::new(Semaphore::new(shared.client_calls)),
                bodies: Arc::new(Semaphore::new(shared.client_body_bytes)),
            },
        });
        entry.connections += 1;
        entry.own.clone()
    };
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        connection(&shared, id, stream, &evict, &own).await;
        // This connection's hold on its client's share goes first: what
        // is left is the permits of work its client left under way.
        drop(own);
        shared.release(id);
    });
}

/// Answers a connection that found every slot busy: 503, then close.
async fn reject_busy(stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    let body = detail_body("The server is busy; try again.");
    let text = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Retry-After: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = stream;
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        let _ = stream.write_all(text.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
    log("- - 503 0.0ms");
}

/// Serves one connection until it closes, is evicted, or the server stops;
/// its requests take from its client's share ([`Own`]).
async fn connection(shared: &Arc<Shared>, id: u64, stream: TcpStream, evict: &Notify, own: &Own) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().ok();
    let service = {
        let shared = Arc::clone(shared);
        let own = own.clone();
        service_fn(move |request| {
            let shared = Arc::clone(&shared);
            let own = own.clone();
            async move { Ok::<_, Infallible>(exchange(&shared, id, local, &own, request).await) }
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.idle)
        .max_buf_size(MAX_HEAD)
        .max_header_size(MAX_HEAD)
        .max_headers(MAX_HEADERS)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = shared.stopping.subscribe();
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = evict.notified() => return,
        () = async { drop(stopping.wait_for(|stop| *stop).await) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = result {
        if err.is_parse_too_large() {
            log("- - 431 0.0ms");
        } else if err.is_parse() || err.is_parse_status() {
            log("- - 400 0.0ms");
        }
    }
}

/// Serves one request: reads its body, calls the core on a blocking
/// thread, and shapes the answer.
async fn exchange(
    shared: &Arc<Shared>,
    id: u64,
    local: Option<SocketAddr>,
    own: &Own,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    shared.set_idle(id, false);
    let began = Instant::now();
    let method = request.method().as_str().to_string();
    let path = log_path(request.uri());
    let keep_alive = wants_keep_alive(&request);
    let http10 = request.version() == Version::HTTP_10;
    let (status, mut response, keep) = match serve_request(shared, id, local, own, request).await {
        Ok((status, response)) => (status, response, keep_alive && !shared.is_stopping()),
        // Our own refusals (bad framing, too large, too slow) close.
        Err((status, message)) => (
            status,
            plain(status, &json_headers(), Some(detail_body(message)), false),
            false,
        ),
    };
    let headers = response.headers_mut();
    if keep {
        // HTTP/1.1 keeps alive unless told otherwise, and hyper adds
        // `Connection: close` where it will close (after a body framed two
        // ways, say); HTTP/1.0 needs the word.
        if http10 {
            headers.insert(
                hyper::header::CONNECTION,
                HeaderValue::from_static("keep-alive"),
            );
        }
        if let Ok(value) = HeaderValue::from_str(&format!("timeout={}", shared.idle.as_secs())) {
            headers.insert(HeaderName::from_static("keep-alive"), value);
        }
    } else {
        headers.insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    }
    log_request(&method, &path, status, began);
    shared.set_idle(id, true);
    response
}

/// Whether the client asked to keep the connection open: HTTP/1.1 unless
/// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
fn wants_keep_alive<B>(request: &hyper::Request<B>) -> bool {
    let tokens = tokens(request.headers(), "connection");
    if request.version() == Version::HTTP_10 {
        tokens.iter().any(|t| t == "keep-alive")
    } else {
        !tokens.iter().any(|t| t == "close")
    }
}

/// A refusal: status and message.
type Refusal = (u16, &'static str);

/// Checks the request, reads its body and calls the core.
async fn serve_request(
    shared: &Arc<Shared>,
    id: u64,
    local: Option<SocketAddr>,
    own: &Own,
    request: hyper::Request<Incoming>,
) -> Result<(u16, hyper::Response<Full<Bytes>>), Refusal> {
    let (parts, body) = request.into_parts();
    let (path_with_query, authority) =
        split_target(&parts.uri).ok_or((400, "Malformed request target."))?;
    let hosts: Vec<_> = parts.headers.get_all(hyper::header::HOST).iter().collect();
    if hosts.len() > 1 {
        return Err((400, "More than one Host header."));
    }
    let host = match authority.or_else(|| {
        hosts
            .first()
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
    }) {
        Some(host) if host.is_empty() => None,
        other => other,
    };
    let host = match host {
        Some(host) if valid_host(&host) => host,
        Some(_) => return Err((400, "Invalid Host header.")),
        None if !hosts.is_empty() => return Err((400, "Invalid Host header.")),
        None => local.map_or_else(|| "localhost".to_string(), |a| a.to_string()),
    };
    let has_te = parts.headers.contains_key(hyper::header::TRANSFER_ENCODING);
    if has_te {
        if parts.headers.contains_key(hyper::header::CONTENT_LENGTH) {
            return Err((400, "Both Transfer-Encoding and Content-Length."));
        }
        if tokens(&parts.headers, "transfer-encoding") != ["chunked"] {
            return Err((501, "Only the chunked transfer coding is supported."));
        }
    }
    let expects = tokens(&parts.headers, "expect");
    if expects.iter().any(|e| e != "100-continue") {
        return Err((417, "Only the expectation 100-continue is supported."));
    }
    // Too large by its Content-Length: refused before a byte of it is read
    // (and before 100 Continue).
    let declared = hyper::body::Body::size_hint(&body).exact();
    if declared.is_some_and(|len| len > MAX_BODY as u64) {
        tokio::spawn(linger(body));
        return Err((413, "Request body is too large."));
    }
    // The body first, while the connection waits on its client: it may be
    // closed for a new connection meanwhile, as an idle one is, and holds
    // no blocking thread (a client trickling its body, or sending none
    // after its head, keeps no one else out). Its bytes hold the memory
    // budget until the core has answered.
    let has_body = has_te || declared.is_some_and(|len| len > 0);
    let (body, budget) = if has_body {
        shared.set_idle(id, true);
        let budgets = [&own.bodies, &shared.body_bytes];
        let read = read_body(body, shared.idle, budgets, &shared.budget_waits).await;
        shared.set_idle(id, false);
        let (bytes, budget) = read?;
        (Some(bytes), budget)
    } else {
        (None, Vec::new())
    };
    // The client's turn, then a blocking thread, held only while the core
    // works: a client with many requests under way queues them behind its
    // own, and takes at most `client_calls` places in the threads' queue.
    let Ok(client_turn) = Arc::clone(&own.turns).acquire_owned().await else {
        return Err((503, "The server is stopping."));
    };
    let Ok(turn) = Arc::clone(&shared.calls).acquire_owned().await else {
        return Err((503, "The server is stopping."));
    };
    let head_only = parts.method == hyper::Method::HEAD;
    let facade_method = if head_only {
        "GET"
    } else {
        parts.method.as_str()
    };
    let mut facade = Request::new(facade_method, &path_with_query);
    facade.headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    facade.body = body;
    facade.base_url = Some(format!("http://{host}"));

    let Some(institute) = shared.institute() else {
        return Err((503, "The server is stopping."));
    };
    // The turns and the body's budget go with the work: a client that
    // hangs up while the core works (which drops this future, and detaches
    // the task) keeps them until the core is done, as one that waits does.
    let held = (client_turn, turn, budget);
    let answer = tokio::task::spawn_blocking(move || {
        let _held = held;
        roster::rest::handle(&institute, facade)
    })
    .await
    .unwrap_or_else(|_| Response {
        status: 500,
        headers: json_headers(),
        body: Some(detail_body("Internal server error.")),
    });
    let status = answer.status;
    Ok((
        status,
        plain(status, &answer.headers, answer.body, head_only),
    ))
}

/// Reads a body of at most [`MAX_BODY`] bytes within `within`, taking a
/// permit of each of `budgets` (the client's share, then the server's)
/// for each byte as it arrives (503 when one stays spent until then); the
/// bytes and their permits. `waits`: when the last body to wait for a
/// budget gives up.
async fn read_body(
    mut body: Incoming,
    within: Duration,
    budgets: [&Arc<Semaphore>; 2],
    waits: &Mutex<Option<tokio::time::Instant>>,
) -> Result<(Vec<u8>, Vec<OwnedSemaphorePermit>), Refusal> {
    let deadline = tokio::time::Instant::now() + within;
    let mut bytes = Vec::new();
    let mut held: Vec<OwnedSemaphorePermit> = Vec::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err((408, "The request body did not arrive in time.")),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err((400, "Malformed request body.")),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_BODY {
                tokio::spawn(linger(body));
                return Err((413, "Request body is too large."));
            }
            // At most MAX_BODY: fits in a u32.
            let wanted = u32::try_from(data.len()).unwrap_or(u32::MAX);
            for (n, budget) in budgets.into_iter().enumerate() {
                let permit = take(budget, wanted, deadline, waits).await?;
                match held.get_mut(n) {
                    Some(all) => all.merge(permit),
                    None => held.push(permit),
                }
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok((bytes, held))
}

/// `wanted` permits of `budget`, by `deadline`. Bodies under way hold
/// what they have read while they wait for more, so two could wait for
/// each other: a body waits for the budget a moment only, then is refused
/// (503) and lets the others go on.
async fn take(
    budget: &Arc<Semaphore>,
    wanted: u32,
    deadline: tokio::time::Instant,
    waits: &Mutex<Option<tokio::time::Instant>>,
) -> Result<OwnedSemaphorePermit, Refusal> {
    match Arc::clone(budget).try_acquire_many_owned(wanted) {
        Ok(permit) => Ok(permit),
        Err(TryAcquireError::Closed) => Err((503, "The server is stopping.")),
        Err(TryAcquireError::NoPermits) => {
            // In turn: a body that began to wait later gives up later (the
            // semaphore serves waiters in order).
            let mine = {
                let mut last = waits.lock().unwrap_or_else(|e| e.into_inner());
                let now = tokio::time::Instant::now();
                let mine = match *last {
                    Some(t) if t + BUDGET_STAGGER > now + BUDGET_WAIT => t + BUDGET_STAGGER,
                    _ => now + BUDGET_WAIT,
                };
                *last = Some(mine);
                mine
            };
            let waited = Arc::clone(budget).acquire_many_owned(wanted);
            match tokio::time::timeout_at(deadline.min(mine), waited).await {
                Ok(Ok(permit)) => Ok(permit),
                Ok(Err(_)) => Err((503, "The server is stopping.")),
                Err(_) => Err((503, "The server is busy; try again.")),
            }
        }
    }
}

/// Reads and discards what is left of a refused body for a moment, so that
/// the client reads the answer rather than a connection reset.
async fn linger(mut body: Incoming) {
    let _ = tokio::time::timeout(LINGER_TIME, async {
        let mut drained = 0;
        while drained < LINGER_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => drained += frame.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
    })
    .await;
}

/// A response with `status`, the core's `headers` (framing headers left to
/// hyper) and `body` (not sent for HEAD, whose length is still announced).
fn plain(
    status: u16,
    headers: &[(String, String)],
    body: Option<String>,
    head_only: bool,
) -> hyper::Response<Full<Bytes>> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = body.unwrap_or_default();
    let length = body.len();
    let mut response = hyper::Response::new(Full::new(if head_only {
        Bytes::new()
    } else {
        Bytes::from(body)
    }));
    *response.status_mut() = status;
    let map = response.headers_mut();
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
        if framing {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    if status == StatusCode::SERVICE_UNAVAILABLE && !map.contains_key(hyper::header::RETRY_AFTER) {
        map.insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if head_only {
        map.insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

/// The comma-separated tokens of every `name` header, lower-cased.
fn tokens(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Splits a request target into the path with query for the facade and the
/// authority of an absolute-form target (`http://host:8000/api/...`).
/// Origin-form paths, `//api/...` included, pass through unchanged; an
/// authority-form target (`CONNECT`'s) is refused.
fn split_target(uri: &hyper::Uri) -> Option<(String, Option<String>)> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match (uri.scheme(), uri.authority()) {
        (None, None) if path.starts_with('/') || path == "*" => Some((path.to_string(), None)),
        (Some(scheme), Some(authority)) if matches!(scheme.as_str(), "http" | "https") => {
            let path = if path.is_empty() { "/" } else { path };
            path.starts_with('/')
                .then(|| (path.to_string(), Some(authority.as_str().to_string())))
        }
        _ => None,
    }
}

/// A `Host` value that can go into the `url` fields as it is: a host name or
/// address and an optional port, nothing else.
fn valid_host(host: &str) -> bool {
    host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

/// The headers of a JSON error answered by the server itself.
fn json_headers() -> Vec<(String, String)> {
    vec![("Content-Type".to_string(), "application/json".to_string())]
}

/// `{"detail": message}`, as Django REST Framework words its errors.
fn detail_body(message: &str) -> String {
    serde_json::json!({ "detail": message }).to_string()
}

/// The path of a target, for the log: no query, nothing unprintable.
fn log_path(uri: &hyper::Uri) -> String {
    uri.path()
        .chars()
        .flat_map(char::escape_default)
        .take(512)
        .collect()
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

    fn target(text: &str) -> Option<(String, Option<String>)> {
        split_target(&text.parse().ok()?)
    }

    #[test]
    fn targets() {
        assert_eq!(
            target("/api/v2.5/admin/users/?email=a%40b.c"),
            Some(("/api/v2.5/admin/users/?email=a%40b.c".into(), None))
        );
        assert_eq!(
            target("http://example.com:8000/api/?q=1"),
            Some(("/api/?q=1".into(), Some("example.com:8000".into())))
        );
        assert_eq!(target("http://h"), Some(("/".into(), Some("h".into()))));
        assert_eq!(target("example.com:443"), None);
        assert_eq!(target("ftp://h/x"), None);
    }

    /// A client is forgotten with its last connection when nothing of its
    /// share is held; while work it left holds a permit, it is kept (else
    /// it would come back with all its turns), and forgotten by the next
    /// new client's arrival once the work has ended.
    #[test]
    fn a_client_is_kept_while_work_it_left_holds_its_share() {
        let mut connections = Connections::default();
        let open = |connections: &mut Connections, id: u64, client: IpAddr| {
            let own = Own {
                turns: Arc::new(Semaphore::new(1)),
                bodies: Arc::new(Semaphore::new(MAX_BODY)),
            };
            let evict = Arc::new(Notify::new());
            let idle_since = None;
            connections.open.insert(
                id,
                Open {
                    idle_since,
                    evict,
                    client,
                },
            );
            let entry = connections.clients.entry(client).or_insert(Client {
                connections: 0,
                own,
            });
            entry.connections += 1;
            entry.own.clone()
        };
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let own = open(&mut connections, 1, a);
        drop(own);
        connections.remove(1);
        assert!(connections.clients.is_empty(), "nothing held: forgotten");

        let own = open(&mut connections, 2, a);
        let turn = Arc::clone(&own.turns).try_acquire_owned().unwrap();
        drop(own);
        connections.remove(2);
        assert!(connections.clients.contains_key(&a), "a turn held: kept");
        connections.forget_gone();
        assert!(connections.clients.contains_key(&a), "still held: kept");
        drop(turn);
        let _own = open(&mut connections, 3, b);
        connections.forget_gone();
        assert!(!connections.clients.contains_key(&a), "ended: forgotten");
        assert!(connections.clients.contains_key(&b));
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

    #[test]
    fn a_client_is_an_ipv4_address_or_an_ipv6_addresss_64() {
        let client = |a: &str| client_of(a.parse().unwrap()).to_string();
        assert_eq!(client("203.0.113.7"), "203.0.113.7");
        assert_eq!(client("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(client("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(client("2001:db8:1:2::1"), client("2001:db8:1:2:ffff::9"));
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assert_eq!(client("::1"), "::");
    }
}
