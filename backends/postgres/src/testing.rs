//! The test server, for the tests of this crate and of the crates that run
//! their suites on PostgreSQL (feature `testing`): its URL, and fresh,
//! empty schemas on it; and [`PrivateServer`], a server of one test's own,
//! for the tests that restart or stop it.

use postgres::{Client, Config, NoTls};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The test server's URL (`ROSTER_TEST_DB`; tests/run's `rust_tests`
/// section starts one). Without it: `None`, after saying the test is
/// skipped, unless `ROSTER_REQUIRE_POSTGRES=1` (set by tests/run), which
/// makes a missing server a failure.
pub fn server() -> Option<String> {
    match std::env::var("ROSTER_TEST_DB") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("ROSTER_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "ROSTER_TEST_DB is not set: run tests/run rust_tests, which starts a server"
            );
            eprintln!("skipped: no PostgreSQL server (set ROSTER_TEST_DB)");
            None
        }
    }
}

/// A name no other test of this process or another has used: `prefix`,
/// the process id and a counter.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}_{n}", std::process::id())
}

/// Runs `sql` on the server of `url`.
pub fn execute(url: &str, sql: &str) {
    let mut admin = Client::connect(url, NoTls).expect("connect to the test server");
    admin.batch_execute(sql).expect("run on the test server");
}

/// Runs `sql`, a query answering one number (e.g. a `count(*)`), on the
/// server of `url`.
pub fn number(url: &str, sql: &str) -> i64 {
    let mut admin = Client::connect(url, NoTls).expect("connect to the test server");
    admin
        .query_one(sql, &[])
        .expect("run on the test server")
        .try_get(0)
        .expect("a number")
}

/// A driver configuration for a new, empty schema on the server of `url`.
pub fn fresh_schema(url: &str) -> Config {
    let schema = unique_name("t");
    execute(url, &format!("CREATE SCHEMA {schema}"));
    let mut config: Config = url.parse().expect("the test server's URL");
    config.options(&format!("-c search_path={schema}"));
    config
}

/// A PostgreSQL server of one test's own: a cluster made by `initdb` in a
/// temporary folder, listening on a free loopback port, that the test may
/// restart or stop without disturbing the other tests (the shared server of
/// [`server`] must stay up). Made as `tests/postgres.sh` makes the shared
/// one: the Debian binaries (`/usr/lib/postgresql/*/bin`), run as the
/// `postgres` system user when the test runs as root (initdb refuses
/// root), trust authentication for the user `roster`, fsync off (tests
/// only). Dropping it stops the server and removes the folder.
#[derive(Debug)]
pub struct PrivateServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// Settings given with `-c` at every start.
    settings: Vec<String>,
    /// `runuser -u postgres --` when running as root.
    as_postgres: bool,
    running: bool,
}

/// Where the server binaries are: the newest `/usr/lib/postgresql/*/bin`
/// with `initdb` and `pg_ctl` (15 on the Debian this project runs on).
fn server_binaries() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    // Version folders are numbers ("15", "16"): the longest, then the
    // greatest, name is the newest.
    dirs.sort_by_key(|d| (d.as_os_str().len(), d.clone()));
    dirs.pop()
}

/// Whether this process runs as root (`id -u` says 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A loopback port no one listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

impl PrivateServer {
    /// A new server, started. Without PostgreSQL's binaries: `None`, after
    /// saying the test is skipped, unless `ROSTER_REQUIRE_POSTGRES=1`
    /// (then the test fails), as [`server`] does.
    pub fn start() -> Option<PrivateServer> {
        PrivateServer::start_with(&[], &[])
    }

    /// A new server, started with `files` written into its data folder
    /// first (owned by the server's user, readable by it alone: e.g. a
    /// certificate and its key, named relative to the data folder) and
    /// `settings` (`name`, `value`) given with `-c` at every start (e.g.
    /// `("ssl", "on")`).
    pub fn start_with(files: &[(&str, &[u8])], settings: &[(&str, &str)]) -> Option<PrivateServer> {
        let Some(bin) = server_binaries() else {
            assert!(
                std::env::var("ROSTER_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: \
                 tests/postgres.sh installs them"
            );
            eprintln!("skipped: no PostgreSQL server binaries (apt-get install postgresql)");
            return None;
        };
        let dir = std::env::temp_dir().join(unique_name("roster-pg-private-"));
        std::fs::create_dir(&dir).expect("make the server's folder");
        let mut server = PrivateServer {
            bin,
            dir,
            port: free_port(),
            settings: settings.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            as_postgres: is_root(),
            running: false,
        };
        // The folder is the server user's: its data, its socket, its log.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&server.dir, std::fs::Permissions::from_mode(0o755))
                .expect("open the server's folder");
        }
        server.give_to_server_user(&server.dir);
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "roster".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        for (name, contents) in files {
            let path = data.join(name);
            std::fs::write(&path, contents).expect("write a file of the server");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .expect("make the file the server's alone");
            }
            server.give_to_server_user(&path);
        }
        server.start_again();
        Some(server)
    }

    /// The URL of its `postgres` database, as the user `roster` (no
    /// password: trust authentication).
    pub fn url(&self) -> String {
        format!("postgres://roster@127.0.0.1:{}/postgres", self.port)
    }

    /// Its folder: the data (`data/`), the socket and the log (`log`).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it (fast shutdown: open sessions are ended, their transactions
    /// rolled back) and starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Stops it (fast shutdown); [`PrivateServer::start_again`] starts it
    /// again.
    pub fn stop(&mut self) {
        if self.running {
            self.pg_ctl(&["-m", "fast", "-w", "stop"]);
            self.running = false;
        }
    }

    /// Starts it after [`PrivateServer::stop`], on the same port and data,
    /// waiting until it accepts connections.
    pub fn start_again(&mut self) {
        if self.running {
            return;
        }
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        for setting in &self.settings {
            options.push_str(&format!(" -c {setting}"));
        }
        let log = self.dir.join("log");
        self.pg_ctl(&[
            "-l",
            &log.display().to_string(),
            "-o",
            &options,
            "-w",
            "start",
        ]);
        self.running = true;
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data();
        let mut all: Vec<&std::ffi::OsStr> = vec!["-D".as_ref(), data.as_os_str()];
        all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
        self.run("pg_ctl", &all);
    }

    /// One of the server's programs, to run as the server's user.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// Runs one of the server's programs; a failure panics with the
    /// server's log.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .expect("run a PostgreSQL program");
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            panic!(
                "{program} failed: {}{}\nserver log:\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Makes `path` the server user's (when the test runs as root).
    fn give_to_server_user(&self, path: &std::path::Path) {
        if self.as_postgres {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(path)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown postgres {}", path.display());
        }
    }
}

impl Drop for PrivateServer {
    /// Stops the server at once (immediate shutdown: its data is thrown
    /// away) and removes its folder.
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `backend`'s connections are encrypted: the server's own answer
/// (`pg_stat_ssl`) for the session of one of them.
pub fn uses_tls(backend: &crate::PgBackend) -> bool {
    backend
        .with_client(|conn| {
            conn.client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .map(|row| row.try_get(0).expect("a boolean"))
                .map_err(crate::storage)
        })
        .expect("ask the server whether the session uses TLS")
}
