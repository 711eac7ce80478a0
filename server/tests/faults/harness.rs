//! The real processes a fault is done to: a PostgreSQL cluster and a Redis
//! of the test's own (so restarting them disturbs no other test), server
//! nodes, and a TCP proxy that cuts, holds, slows and refuses connections.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::support::process::{free_port, signal, spawn_server, wait_healthy};

/// Where a fault test keeps its files; removed when it drops.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("tabletop-faults-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits until something listens on `port`.
async fn until_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{what} never listened on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The directory of PostgreSQL's server programs: `POSTGRES_BIN`, else
/// Debian's newest `/usr/lib/postgresql/<version>/bin`, else `PATH`.
fn postgres_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("POSTGRES_BIN") {
        return dir.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let found = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|path| !path.is_empty())
        .expect("PostgreSQL's server programs (initdb, pg_ctl) are needed: scripts/test.sh installs them, or set POSTGRES_BIN");
    Path::new(&found).parent().unwrap().to_owned()
}

/// A PostgreSQL cluster of the test's own, trust authentication, on a free
/// port; stopped and deleted on drop.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// PostgreSQL refuses to run as root: as root, it runs as `postgres`.
    as_postgres: bool,
}

impl Postgres {
    pub fn start(scratch: &Scratch) -> Self {
        let as_postgres = is_root();
        let dir = scratch.0.join("pg");
        if as_postgres {
            // The scratch folder is root's; the cluster's must be postgres's.
            std::fs::create_dir_all(&dir).unwrap();
            let chowned = Command::new("chown")
                .args(["postgres:postgres", dir.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(chowned.success());
            let mut permissions = std::fs::metadata(&scratch.0).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
            std::fs::set_permissions(&scratch.0, permissions).unwrap();
        }
        let postgres = Self {
            bin: postgres_bin(),
            dir,
            port: free_port(),
            as_postgres,
        };
        postgres.run(
            "initdb",
            &[
                "-D",
                postgres.dir.to_str().unwrap(),
                "-U",
                "tabletop",
                "--auth=trust",
                "-E",
                "UTF8",
                // Only the initial files go unsynced; the server syncs.
                "--no-sync",
            ],
        );
        postgres.up();
        postgres
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(exe);
            command
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let dir = self.dir.to_str().unwrap();
        let options = format!(
            "-p {} -k {dir} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port
        );
        let log = format!("{dir}/server.log");
        self.run(
            "pg_ctl",
            &[
                "-D", dir, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
            ],
        );
    }

    /// Stops it the way a crash does: no checkpoint, every connection cut;
    /// the next start recovers from the write-ahead log.
    pub fn crash(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.dir.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://tabletop@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database.
    pub async fn database(&self, name: &str) -> String {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .unwrap();
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        self.url(name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", self.dir.to_str().unwrap(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A Redis of the test's own, nothing persisted (as in production: nothing
/// in Redis is the only copy); killed on drop.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub async fn start() -> Self {
        let mut redis = Self {
            port: free_port(),
            child: None,
        };
        redis.up().await;
        redis
    }

    pub async fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed (scripts/test.sh installs it)");
        self.child = Some(child);
        until_listening(self.port, "Redis").await;
    }

    /// kill -9: every key and every subscription is gone with it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal("-KILL", child.id());
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn flush_all(&self) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut connection)
            .await
            .unwrap();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One server process, restartable on the same port with the same
/// settings; its log (every run) is `log`.
pub struct Node {
    pub addr: SocketAddr,
    vars: Vec<(String, String)>,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Node {
    pub async fn start(name: &str, scratch: &Scratch, vars: Vec<(String, String)>) -> Self {
        let port = free_port();
        let mut vars = vars;
        vars.push(("LEPTOS_SITE_ADDR".into(), format!("127.0.0.1:{port}")));
        vars.push((
            "MEDIA_DIR".into(),
            scratch.0.join("media").to_str().unwrap().into(),
        ));
        let mut node = Self {
            addr: format!("127.0.0.1:{port}").parse().unwrap(),
            vars,
            child: None,
            log: scratch.0.join(format!("{name}.log")),
        };
        node.up().await;
        node
    }

    pub async fn up(&mut self) {
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.child = Some(spawn_server(&vars, &self.log));
        wait_healthy(self.addr.port()).await;
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("the node runs").id()
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal("-KILL", child.id());
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the process keeps its sockets and its lease, and does
    /// nothing at all, as in a long GC pause or a VM migration.
    pub fn pause(&self) {
        signal("-STOP", self.pid());
    }

    pub fn resume(&self) {
        signal("-CONT", self.pid());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // KILL, not TERM: a paused process ignores TERM.
        self.kill();
    }
}

/// What the proxy does to the bytes between the two ends.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Weather {
    /// Nothing is forwarded (bytes wait in the kernels' buffers).
    held: bool,
    /// Each chunk waits this long before it is forwarded.
    delay: Duration,
    /// New connections are closed at once.
    refused: bool,
    /// Bumped to cut every connection open now (with a reset).
    cuts: u64,
}

/// A TCP proxy in front of `upstream`, for faults of the network between
/// two processes.
pub struct Proxy {
    pub addr: SocketAddr,
    weather: Arc<watch::Sender<Weather>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let weather = Arc::new(watch::Sender::new(Weather::default()));
        let accept = tokio::spawn({
            let weather = weather.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(connection(client, upstream, weather.subscribe()));
                }
            }
        });
        Self {
            addr,
            weather,
            accept,
        }
    }

    /// Resets every connection open now, as a broken link does.
    pub fn cut(&self) {
        self.weather.send_modify(|w| w.cuts += 1);
    }

    /// Stops (or restarts) forwarding, both ways: a link that hangs.
    pub fn hold(&self, held: bool) {
        self.weather.send_modify(|w| w.held = held);
    }

    pub fn delay(&self, delay: Duration) {
        self.weather.send_modify(|w| w.delay = delay);
    }

    /// Closes new connections at once (or no longer).
    pub fn refuse(&self, refused: bool) {
        self.weather.send_modify(|w| w.refused = refused);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn connection(client: TcpStream, upstream: SocketAddr, weather: watch::Receiver<Weather>) {
    let cuts = weather.borrow().cuts;
    if weather.borrow().refused {
        reset(client);
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    // Every close is a reset: a cut link never looks like a clean close.
    for stream in [&client, &server] {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_zero_linger();
    }
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let mut cut = weather.clone();
    tokio::select! {
        _ = pump(client_read, server_write, weather.clone()) => {}
        _ = pump(server_read, client_write, weather) => {}
        _ = cut.wait_for(|w| w.cuts != cuts) => {}
    }
}

/// Closes a connection with a reset rather than a clean close.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut weather: watch::Receiver<Weather>,
) {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        // While held, nothing is read: the sender's buffers fill and it
        // blocks, as behind a link that hangs.
        if weather.wait_for(|w| !w.held).await.is_err() {
            return;
        }
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let delay = weather.borrow().delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if weather.wait_for(|w| !w.held).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
