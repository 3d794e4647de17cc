//! The embedded default database: a private PostgreSQL cluster run from the system's own
//! PostgreSQL binaries, so a newcomer needs no database set-up. (Over 400 lines because
//! finding the binaries, preparing the folder, starting, attaching and stopping are one
//! lifecycle that reads best in one place.)
//!
//! Layout of the folder it is given:
//! `pgdata/` (the cluster), `run/` (its Unix socket; it listens on no TCP port) and
//! `postgres.log`. A second start reuses the cluster. As root, PostgreSQL runs as the
//! unprivileged `postgres` user, because it refuses to run as root.
//!
//! No maintained crate does this offline: the embedded-PostgreSQL crates download binaries,
//! and `pgtemp` only makes throw-away clusters. So this module is the small launcher.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, geteuid};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// A libpq URL for `database` on the cluster whose socket is in `socket_dir`.
fn socket_url(socket_dir: &Path, database: &str) -> String {
    format!("postgres://{SUPERUSER}@localhost:{PORT}/{database}?host={}", socket_dir.display())
}

/// The URL of `database` on the cluster kept in `base_dir`, if one is running there (its
/// socket exists): tools such as the benchmark attach to an app's embedded default this way.
pub fn running_url(base_dir: &Path, database: &str) -> Option<String> {
    let socket_dir = base_dir.join("run");
    socket_dir.join(format!(".s.PGSQL.{PORT}")).exists().then(|| socket_url(&socket_dir, database))
}

/// The port number only names the socket file inside our private `run/` folder.
const PORT: u16 = 5432;
const SUPERUSER: &str = "postgres";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const ATTACH_TIMEOUT: Duration = Duration::from_secs(5);

/// How much crash safety the cluster keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The app's own data: PostgreSQL's defaults, every commit on disk.
    Durable,
    /// Throw-away test clusters: no fsync. Never for data anyone wants back.
    Disposable,
}

/// A running cluster. Stop it with [`EmbeddedPostgres::stop`]; if the process dies first,
/// the kernel tells PostgreSQL to shut down (parent-death signal), so it never lingers.
pub struct EmbeddedPostgres {
    socket_dir: PathBuf,
    /// The thread that started the server and waits for it. `None` when we attached to a
    /// cluster another process had already started on the same folder.
    server: Option<RunningServer>,
}

struct RunningServer {
    pid: Pid,
    waiter: JoinHandle<std::io::Result<ExitStatus>>,
}

impl EmbeddedPostgres {
    /// Starts (creating it on first use) the cluster kept in `base_dir`, and waits until it
    /// accepts connections.
    pub async fn start(base_dir: &Path, durability: Durability) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        let owner = ClusterOwner::for_current_user()?;
        fs::create_dir_all(base_dir)
            .with_context(|| format!("creating the database folder {}", base_dir.display()))?;
        check_base_dir(base_dir, geteuid().as_raw())?;
        // Absolute: PostgreSQL runs from `/`, so a relative path would point elsewhere.
        let base_dir = &fs::canonicalize(base_dir)?;
        let data_dir = base_dir.join("pgdata");
        let socket_dir = base_dir.join("run");
        for dir in [&data_dir, &socket_dir] {
            owner.private_dir(dir)?;
        }

        // Another app instance may be serving this folder already: share its cluster if it
        // really is a postmaster that answers; otherwise start our own (PostgreSQL clears a
        // stale lock file itself).
        if let Some(pid) = running_postmaster(&data_dir) {
            let cluster = Self { socket_dir: socket_dir.clone(), server: None };
            if cluster.wait_until_ready(None, ATTACH_TIMEOUT).await.is_ok() {
                // Whatever answers on our socket must be the cluster of our own folder, not
                // one planted there.
                let served = cluster.served_data_dir().await?;
                if fs::canonicalize(&served).ok().as_deref() != Some(data_dir.as_path()) {
                    bail!(
                        "the PostgreSQL answering in {} serves {}, not {}: refusing to use it",
                        socket_dir.display(),
                        served.display(),
                        data_dir.display()
                    );
                }
                tracing::info!(%pid, dir = %data_dir.display(), "using the embedded PostgreSQL that is already running");
                return Ok(cluster);
            }
            tracing::warn!(%pid, "postmaster.pid names a process that does not answer; starting PostgreSQL");
        }

        if !data_dir.join("PG_VERSION").exists() {
            tracing::info!(dir = %data_dir.display(), "creating the embedded PostgreSQL cluster");
            owner.init_cluster(&bin_dir, &data_dir).await?;
        }

        let log_path = base_dir.join("postgres.log");
        let server = owner.spawn_server(&bin_dir, &data_dir, &socket_dir, &log_path, durability)?;
        let mut cluster = Self { socket_dir, server: Some(server) };
        if let Err(e) = cluster.wait_until_ready(Some(&log_path), READY_TIMEOUT).await {
            cluster.stop_blocking();
            return Err(e);
        }
        tracing::info!(dir = %base_dir.display(), "embedded PostgreSQL is ready");
        Ok(cluster)
    }

    /// How to connect to `database` in this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.socket_dir).port(PORT).username(SUPERUSER).database(database)
    }

    /// The same as a `DATABASE_URL`, for tools and child processes.
    pub fn url(&self, database: &str) -> String {
        socket_url(&self.socket_dir, database)
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect_with(&self.connect_options("postgres")).await?;
        crate::service::databases::create_database_if_missing(&mut conn, database).await?;
        conn.close().await?;
        Ok(())
    }

    /// Asks PostgreSQL for a fast shutdown (open sessions are ended, everything committed is
    /// kept) and waits for it. Does nothing for a cluster we only attached to.
    pub async fn stop(mut self) {
        let _ = tokio::task::spawn_blocking(move || self.stop_blocking()).await;
    }

    fn stop_blocking(&mut self) {
        let Some(server) = self.server.take() else { return };
        // Once the waiter has reaped it, the pid may belong to someone else: never signal it.
        if !server.waiter.is_finished()
            && let Err(e) = kill(server.pid, Signal::SIGINT)
        {
            tracing::warn!(error = %e, "could not signal the embedded PostgreSQL to stop");
        }
        match server.waiter.join() {
            Ok(Ok(status)) => tracing::info!(%status, "embedded PostgreSQL stopped"),
            Ok(Err(e)) => tracing::warn!(error = %e, "waiting for the embedded PostgreSQL failed"),
            Err(_) => tracing::warn!("the embedded PostgreSQL waiter thread panicked"),
        }
    }

    /// The data directory of the server answering on our socket.
    async fn served_data_dir(&self) -> anyhow::Result<PathBuf> {
        let mut conn = PgConnection::connect_with(&self.connect_options("postgres")).await?;
        let served: String =
            sqlx::query_scalar("SELECT current_setting('data_directory')").fetch_one(&mut conn).await?;
        let _ = conn.close().await;
        Ok(PathBuf::from(served))
    }

    async fn wait_until_ready(&self, log_path: Option<&Path>, timeout: Duration) -> anyhow::Result<()> {
        let options = self.connect_options("postgres");
        let started = Instant::now();
        loop {
            match PgConnection::connect_with(&options).await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                Err(e) => {
                    let exited = self.server.as_ref().is_some_and(|s| s.waiter.is_finished());
                    if exited || started.elapsed() > timeout {
                        let log = log_path.map(log_tail).unwrap_or_default();
                        bail!(
                            "the embedded PostgreSQL did not start ({}: {e}).\n{log}",
                            if exited {
                                "it exited".to_owned()
                            } else {
                                format!("no answer within {} s", timeout.as_secs())
                            }
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop_blocking();
    }
}

/// Who the PostgreSQL processes run as: ourselves, or `postgres` when we are root.
struct ClusterOwner {
    user: Option<User>,
}

impl ClusterOwner {
    fn for_current_user() -> anyhow::Result<Self> {
        if !geteuid().is_root() {
            return Ok(Self { user: None });
        }
        let user = User::from_name(SUPERUSER)?.with_context(|| {
            "running as root, the embedded PostgreSQL needs the unprivileged user `postgres` to \
             own its files (PostgreSQL refuses to run as root); install PostgreSQL \
             (Debian: apt-get install postgresql), which creates it"
        })?;
        Ok(Self { user: Some(user) })
    }

    /// Creates `dir` if needed, owned by the cluster's user and closed to everyone else. An
    /// existing `dir` must be a plain folder of that user: never a symbolic link, so the
    /// `chown` below cannot be pointed at another path.
    fn private_dir(&self, dir: &Path) -> anyhow::Result<()> {
        let uid = self.user.as_ref().map_or_else(|| geteuid().as_raw(), |user| user.uid.as_raw());
        match fs::symlink_metadata(dir) {
            Ok(meta) if !meta.file_type().is_dir() => {
                bail!("{} is not a plain folder (a symbolic link?): refusing to use it", dir.display())
            }
            Ok(meta) if meta.uid() != uid => {
                bail!("{} belongs to uid {}, not to uid {uid}: refusing to use it", dir.display(), meta.uid())
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir(dir).with_context(|| format!("creating {}", dir.display()))?
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        }
        if let Some(user) = &self.user {
            chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .with_context(|| format!("giving {} to the postgres user", dir.display()))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        Ok(())
    }

    fn command(&self, program: PathBuf) -> Command {
        let mut command = Command::new(program);
        // PostgreSQL 15 changes back into its starting folder while locating itself, and the
        // postgres user may not be allowed into ours (e.g. /root).
        command.current_dir("/");
        if let Some(user) = &self.user {
            // std drops root's supplementary groups when it switches user.
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            command.env("HOME", &user.dir).env("USER", &user.name);
        }
        command
    }

    async fn init_cluster(&self, bin_dir: &Path, data_dir: &Path) -> anyhow::Result<()> {
        let mut command = self.command(bin_dir.join("initdb"));
        command
            .arg("--pgdata")
            .arg(data_dir)
            .args(["--username", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C"])
            .arg("--no-instructions");
        let output = tokio::process::Command::from(command).output().await.context("running initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed for {}:\n{}{}",
                data_dir.display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    fn spawn_server(
        &self,
        bin_dir: &Path,
        data_dir: &Path,
        socket_dir: &Path,
        log_path: &Path,
        durability: Durability,
    ) -> anyhow::Result<RunningServer> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let mut command = self.command(bin_dir.join("postgres"));
        command
            .arg("-D")
            .arg(data_dir)
            .arg("-k")
            .arg(socket_dir)
            .args(["-p", &PORT.to_string(), "-c", "listen_addresses=", "-c", "max_connections=300"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C in the terminal reaches the app only, and the app
            // stops PostgreSQL after it has finished its own requests.
            .process_group(0);
        if durability == Durability::Disposable {
            command.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        // SAFETY: the closure only makes one async-signal-safe system call.
        unsafe {
            command.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from));
        }

        // The parent-death signal fires when the *thread* that spawned the child ends, so the
        // child is spawned by a thread that lives exactly as long as it does.
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let waiter =
            std::thread::Builder::new().name("embedded-postgres".into()).spawn(move || {
                match command.spawn() {
                    Ok(mut child) => {
                        let _ = started_tx.send(Ok(child.id()));
                        child.wait()
                    }
                    Err(e) => {
                        let message = e.to_string();
                        let _ = started_tx.send(Err(e));
                        Err(std::io::Error::other(message))
                    }
                }
            })?;
        let pid = started_rx
            .recv()
            .context("the embedded PostgreSQL thread ended before starting the server")?
            .context("starting postgres")?;
        Ok(RunningServer { pid: Pid::from_raw(pid as i32), waiter })
    }
}

/// The folder the launcher works in must be a real folder of the running user that nobody
/// else can write: as root the launcher changes owners inside it and attaches to a cluster it
/// finds there, so a folder someone else controls could turn either against us.
fn check_base_dir(dir: &Path, uid: u32) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if meta.file_type().is_symlink() {
        bail!("the database folder {} is a symbolic link: give the real folder", dir.display());
    }
    if !meta.is_dir() {
        bail!("the database folder {} is not a folder", dir.display());
    }
    if meta.uid() != uid {
        bail!(
            "the database folder {} belongs to uid {}, not to this user (uid {uid}): use a folder of your own",
            dir.display(),
            meta.uid()
        );
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "the database folder {} can be written by others (mode {:o}): run `chmod go-w` on it",
            dir.display(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

/// The pid of a live postmaster that owns `data_dir`, if one is running: the pid in
/// `postmaster.pid` must be a `postgres` process (pids get reused, in containers especially).
fn running_postmaster(data_dir: &Path) -> Option<Pid> {
    let pid_file = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let pid = Pid::from_raw(pid_file.lines().next()?.trim().parse().ok()?);
    let name = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (name.trim() == "postgres").then_some(pid)
}

fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("Last lines of {}:\n{tail}", path.display())
}

/// Finds the folder holding `initdb` and `postgres`: on PATH, then `pg_config --bindir`, then
/// the newest `/usr/lib/postgresql/<version>/bin` (where Debian puts them, off PATH).
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let versioned = versioned_bin_dirs(Path::new("/usr/lib/postgresql"));
    let candidates = on_path.into_iter().chain(from_pg_config).chain(versioned);
    first_with_server_binaries(candidates)
}

fn first_with_server_binaries(candidates: impl IntoIterator<Item = PathBuf>) -> anyhow::Result<PathBuf> {
    candidates
        .into_iter()
        .find(|dir| is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres")))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no PostgreSQL server binaries found (looked for initdb and postgres on PATH, in \
                 `pg_config --bindir` and in /usr/lib/postgresql/*/bin). Install PostgreSQL \
                 (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to a running server."
            )
        })
}

/// `<root>/<version>/bin` folders, newest version first.
fn versioned_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("boxoffice-unit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fake_binary(path: &Path) {
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_database_folder_must_be_ours_plain_and_closed_to_others() {
        let me = geteuid().as_raw();
        let dir = temp("owned");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_base_dir(&dir, me).is_ok());

        let other = check_base_dir(&dir, me + 1).unwrap_err().to_string();
        assert!(other.contains("belongs to uid"), "{other}");

        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let open = check_base_dir(&dir, me).unwrap_err().to_string();
        assert!(open.contains("can be written by others"), "{open}");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o775)).unwrap();
        assert!(check_base_dir(&dir, me).is_err(), "group-writable too");

        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let link = temp("link").join("to-owned");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let linked = check_base_dir(&link, me).unwrap_err().to_string();
        assert!(linked.contains("symbolic link"), "{linked}");
    }

    #[test]
    fn a_symbolic_link_inside_the_folder_is_never_followed() {
        let owner = ClusterOwner { user: None };
        let base = temp("inside");
        let elsewhere = temp("elsewhere");
        fs::create_dir_all(&base).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(&elsewhere, base.join("pgdata")).unwrap();
        let refused = owner.private_dir(&base.join("pgdata")).unwrap_err().to_string();
        assert!(refused.contains("not a plain folder"), "{refused}");
        let mode = fs::metadata(&elsewhere).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "the link's target was left alone");
        owner.private_dir(&base.join("run")).unwrap();
        assert_eq!(fs::metadata(base.join("run")).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn newest_versioned_folder_comes_first() {
        let root = temp("versions");
        for version in ["9", "15", "13", "not-a-version"] {
            fs::create_dir_all(root.join(version).join("bin")).unwrap();
        }
        let dirs = versioned_bin_dirs(&root);
        assert_eq!(dirs, vec![root.join("15/bin"), root.join("13/bin"), root.join("9/bin")]);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_folder_needs_both_initdb_and_postgres() {
        let root = temp("binaries");
        let client_only = root.join("client");
        let server = root.join("server");
        fs::create_dir_all(&client_only).unwrap();
        fs::create_dir_all(&server).unwrap();
        fake_binary(&client_only.join("initdb"));
        fake_binary(&server.join("initdb"));
        fake_binary(&server.join("postgres"));
        assert_eq!(first_with_server_binaries([client_only, server.clone()]).unwrap(), server);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn missing_binaries_say_what_to_install() {
        let message = first_with_server_binaries(Vec::new()).unwrap_err().to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }
}
