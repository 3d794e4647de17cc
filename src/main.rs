use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's allocator: a request allocates and frees many small objects
/// on two threads, where glibc spent a quarter of the server's CPU in a flash sale (profiled),
/// and it keeps large freed buffers (argon2's 19 MiB each) instead of returning them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Parses the command line and hands over to the library; everything else lives there.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = boxoffice::server::Cli::parse();
    boxoffice::server::telemetry::init();
    match boxoffice::server::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One readable line with its causes, not a debug dump.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
