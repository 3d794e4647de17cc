use std::process::ExitCode;

use clap::Parser;

/// Parses the command line and hands over to the library; everything else lives there.
#[tokio::main]
async fn main() -> ExitCode {
    return_large_allocations_to_the_system();
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

/// Each argon2 hash borrows a 19 MiB buffer. After the first such buffer is freed, glibc raises
/// its mmap threshold and serves later ones from its heaps, which keep the memory: 50 sign-ups
/// in a row left the server at 234 MB resident. A fixed threshold makes every large buffer an
/// mmap that goes back to the system when freed (the same 50 sign-ups: 20 MB).
fn return_large_allocations_to_the_system() {
    // SAFETY: mallopt only tunes glibc's allocator and is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
