use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use trygg_cli::serve::ServeOptions;
use trygg_store::DatabaseUrl;

#[derive(Parser)]
#[command(
    name = "trygg",
    version,
    about = "Trygg: the map behind a citizen promise (medborgarlöfte)"
)]
struct Cli {
    /// Log format on stderr.
    #[arg(
        long,
        env = "TRYGG_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the map.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "TRYGG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// sqlite:FILE (created if missing) or postgres://user:pass@host/db.
        #[arg(long, env = "TRYGG_DATABASE_URL", default_value = "sqlite:trygg.db")]
        database_url: String,
        /// Fill an empty database with Linköping's demo data.
        #[arg(long, env = "TRYGG_DEMO")]
        demo: bool,
        /// The municipality this map serves, by name or SCB code.
        #[arg(long, env = "TRYGG_SERVICE_AREA", default_value = "0580")]
        service_area: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve {
                listen,
                database_url,
                demo,
                service_area,
            } => {
                trygg_cli::serve::run(ServeOptions {
                    listen,
                    database_url: DatabaseUrl::new(database_url),
                    demo,
                    service_area,
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("trygg: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TRYGG_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
