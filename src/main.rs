use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's allocator: requests allocate and free many small objects on
/// every thread, which glibc's allocator serves slowly, and glibc keeps large freed buffers
/// (argon2's 19 MiB each) instead of returning them (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Parses the command line and hands over to the library; everything else lives there.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = boxoffice::cli::Cli::parse();
    boxoffice::server::telemetry::init();
    match boxoffice::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One readable line with its causes, not a debug dump.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
