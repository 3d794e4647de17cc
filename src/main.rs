use std::process::ExitCode;

use clap::Parser;

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
