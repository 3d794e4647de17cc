//! The command line: which command to run, with every setting (`server::config`). `--help`
//! lists them all.

use clap::{Parser, Subcommand};

use crate::domain::user::{Email, NewPassword, PersonName};
use crate::error::AppError;
use crate::server::Settings;
use crate::server::database::Database;
use crate::service::users;

const AFTER_HELP: &str = "\
Every option can also be set with the environment variable shown beside it.
Logging is set with RUST_LOG (default: info), e.g. RUST_LOG=boxoffice=debug,tower_http=debug.
`create-admin` takes its password from BOXOFFICE_ADMIN_PASSWORD when --password is not given.

Without DATABASE_URL, Box Office runs its own PostgreSQL from the system's binaries, keeping
its data in BOXOFFICE_DATA_DIR (default: ~/.local/share/boxoffice, or /var/lib/boxoffice as root).";

#[derive(Debug, Parser)]
#[command(name = "boxoffice", version, about = "Box Office: book numbered seats for shows and trips.", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create an admin account, or make an existing account an admin with this password.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// At least 10 characters.
        #[arg(long, env = "BOXOFFICE_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "Admin")]
        name: String,
    },
    /// Load a Box Office deployment like a crowd of customers and report its speed
    /// (see docs/PERFORMANCE.md). Built with the `bench` feature.
    #[cfg(feature = "bench")]
    Bench(crate::bench::BenchArgs),
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::startup::serve(&cli.settings).await,
        Command::Migrate => {
            let database = Database::open(&cli.settings).await?;
            database.migrate().await?;
            tracing::info!("migrations applied");
            database.close().await;
            Ok(())
        }
        Command::CreateAdmin { email, password, name } => {
            let email = Email::parse(&email)?;
            let name = PersonName::parse(&name)?;
            let password = NewPassword::parse(&password)?;
            let database = Database::open(&cli.settings).await?;
            database.migrate().await?;
            let admin = users::create_or_promote_admin(&database.pool, &email, &name, &password)
                .await
                .map_err(AppError::from);
            database.close().await;
            println!(
                "{} is an admin. If they are signed in, the role applies from their next log-in.",
                admin?.email
            );
            Ok(())
        }
        #[cfg(feature = "bench")]
        Command::Bench(args) => crate::bench::run(&args, &cli.settings).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_names_every_environment_variable() {
        let help = Cli::command().render_long_help().to_string();
        for var in [
            "DATABASE_URL",
            "BOXOFFICE_DATA_DIR",
            "LEPTOS_SITE_ADDR",
            "LEPTOS_SITE_ROOT",
            "BOXOFFICE_DB_MAX_CONNECTIONS",
            "BOXOFFICE_HOLD_SECONDS",
            "BOXOFFICE_MAX_SEATS_PER_BOOKING",
            "BOXOFFICE_ADMIN_PASSWORD",
            "BOXOFFICE_SECURE_COOKIES",
            "BOXOFFICE_AUTH_RATE_PER_MINUTE",
            "BOXOFFICE_LOGIN_RATE_PER_MINUTE",
            "BOXOFFICE_BOOKING_RATE_PER_SECOND",
            "RUST_LOG",
        ] {
            assert!(help.contains(var), "--help does not mention {var}:\n{help}");
        }
    }

    #[test]
    fn no_subcommand_means_serve_and_migrate_parses() {
        let cli = Cli::try_parse_from(["boxoffice"]).unwrap();
        assert_eq!(cli.command, None);
        let cli = Cli::try_parse_from(["boxoffice", "migrate"]).unwrap();
        assert_eq!(cli.command, Some(Command::Migrate));
        let cli = Cli::try_parse_from(["boxoffice", "create-admin", "--email", "a@b.co", "--password", "pw"])
            .unwrap();
        assert!(matches!(cli.command, Some(Command::CreateAdmin { ref email, .. }) if email == "a@b.co"));
    }
}
