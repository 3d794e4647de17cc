//! A proxy in front of the test PostgreSQL that can freeze the connections of one application
//! name: they stay open and carry nothing either way, as after a network cut (half-open).
//! Everything else passes through untouched.

use std::path::PathBuf;

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub struct Freezer {
    /// Where the proxy listens: a socket folder, as PostgreSQL's own.
    dir: PathBuf,
    port: u16,
    frozen: watch::Sender<bool>,
    /// The accepting task, which owns the connections' tasks: aborting it ends them all.
    task: tokio::task::JoinHandle<()>,
}

impl Freezer {
    /// Proxies to the server `upstream` connects to; freezes connections that name
    /// themselves `application_name`.
    pub fn start(upstream: &PgConnectOptions, application_name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("boxoffice-freezer-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        let port = upstream.get_port();
        let listener = UnixListener::bind(dir.join(format!(".s.PGSQL.{port}"))).unwrap();
        let (frozen, _) = watch::channel(false);
        let marker = [b"application_name\0".as_slice(), application_name.as_bytes(), b"\0"].concat();
        let (upstream, watch) = (upstream.clone(), frozen.clone());
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                connections.spawn(relay(client, upstream.clone(), marker.clone(), watch.subscribe()));
            }
        });
        Self { dir, port, frozen, task }
    }

    /// Options that connect through the proxy.
    pub fn options(&self, options: &PgConnectOptions) -> PgConnectOptions {
        options.clone().socket(&self.dir).port(self.port).ssl_mode(PgSslMode::Disable)
    }

    pub fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

impl Drop for Freezer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn relay(mut client: UnixStream, upstream: PgConnectOptions, marker: Vec<u8>, frozen: watch::Receiver<bool>) {
    // The startup message: its length, then the protocol version and parameters.
    let mut length = [0u8; 4];
    if client.read_exact(&mut length).await.is_err() {
        return;
    }
    let mut startup = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
    if client.read_exact(&mut startup).await.is_err() {
        return;
    }
    let freezes = startup.windows(marker.len()).any(|window| window == marker);
    let frozen = freezes.then_some(frozen);
    let server = match upstream.get_socket() {
        Some(dir) => Box::new(UnixStream::connect(dir.join(format!(".s.PGSQL.{}", upstream.get_port()))).await.unwrap())
            as Box<dyn Duplex>,
        None => Box::new(TcpStream::connect((upstream.get_host(), upstream.get_port())).await.unwrap()),
    };
    let (mut server_read, mut server_write) = tokio::io::split(server);
    let (mut client_read, mut client_write) = client.into_split();
    if wait_thawed(&frozen).await && server_write.write_all(&[length.as_slice(), &startup].concat()).await.is_ok() {
        tokio::join!(
            pump(&mut client_read, &mut server_write, frozen.clone()),
            pump(&mut server_read, &mut client_write, frozen.clone()),
        );
    }
}

trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

/// Copies until either side closes, holding what it read while frozen.
async fn pump(from: &mut (impl AsyncRead + Unpin), to: &mut (impl AsyncWrite + Unpin), frozen: Option<watch::Receiver<bool>>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if !wait_thawed(&frozen).await || to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Waits while the connection is frozen; false if the proxy is gone.
async fn wait_thawed(frozen: &Option<watch::Receiver<bool>>) -> bool {
    match frozen {
        Some(frozen) => frozen.clone().wait_for(|frozen| !frozen).await.is_ok(),
        None => true,
    }
}
