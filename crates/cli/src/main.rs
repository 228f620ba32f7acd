use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use trygg_cli::accounts::{self, AddUser, SetUser};
use trygg_cli::area;
use trygg_cli::data::AreaChoice;
use trygg_cli::serve::ServeOptions;
use trygg_core::access::PresenceVisibility;
use trygg_core::analytics::period::Cadence;
use trygg_core::privacy::PublicPolicy;
use trygg_core::second_factor::Requirement;
use trygg_server::{AuthConfig, Settings};
use trygg_store::DatabaseUrl;

#[derive(Parser)]
#[command(
    name = "trygg",
    version,
    about = "Trygg: the map behind a citizen promise (medborgarlöfte)"
)]
struct Cli {
    /// sqlite:FILE (created if missing) or postgres://user:pass@host/db.
    #[arg(
        long,
        env = "TRYGG_DATABASE_URL",
        default_value = "sqlite:trygg.db",
        global = true
    )]
    database_url: String,
    /// What the database serves: a municipality (`Linköping`, `0580`), several
    /// (`0580,0583,0586`), a county (`05`, `Östergötlands län`) or a boundary
    /// file (`area.geojson`). Recorded at first start; later commands read it
    /// from the database, and a different one is refused.
    #[arg(long, env = "TRYGG_SERVICE_AREA", global = true)]
    service_area: Option<String>,
    /// The name of the service area (default: the municipality's, the
    /// county's, or the boundary file's own).
    #[arg(long, env = "TRYGG_SERVICE_AREA_NAME", global = true)]
    service_area_name: Option<String>,
    /// Coordinates of a boundary file without a `crs` member, e.g. EPSG:3006.
    #[arg(long, env = "TRYGG_SERVICE_AREA_CRS", global = true)]
    service_area_crs: Option<String>,
    /// IANA time zone of the service area's local times (default Europe/Stockholm).
    #[arg(long, env = "TRYGG_TIMEZONE", global = true)]
    timezone: Option<String>,
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

#[derive(Clone, Copy, ValueEnum)]
enum SecondFactorRequirement {
    AdminsAndPublishers,
    All,
    Off,
}

#[derive(Clone, Copy, ValueEnum)]
enum FieldPresence {
    /// Field users see only their own organisation's presence.
    Own,
    All,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TRYGG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Fill an empty database with Linköping's demo data (and serve Linköping
    /// when the database has no service area yet).
    #[arg(long, env = "TRYGG_DEMO")]
    demo: bool,
    /// H3 resolution of public layers (5–9; 8 ≈ 461 m hexagons).
    #[arg(long, env = "TRYGG_PUBLIC_RESOLUTION", default_value_t = 8)]
    public_resolution: u8,
    /// Public hexagons with fewer events than this are suppressed (at least 2).
    #[arg(long, env = "TRYGG_PUBLIC_K", default_value_t = 5)]
    public_k: u64,
    /// What field users see of other partners' presence.
    #[arg(long, env = "TRYGG_FIELD_PRESENCE", value_enum, default_value = "own")]
    field_presence: FieldPresence,
    /// Hours a login lasts.
    #[arg(long, env = "TRYGG_SESSION_HOURS", default_value_t = 12)]
    session_hours: i64,
    /// Sites allowed to show the public map (/embed) in a frame, comma-separated.
    #[arg(long, env = "TRYGG_EMBED_ORIGINS", default_value = "")]
    embed_origins: String,
    /// Take client addresses from X-Forwarded-For: only behind exactly one
    /// proxy that appends the address it saw (the right-most entry is used).
    #[arg(long, env = "TRYGG_TRUST_FORWARDED")]
    trust_forwarded: bool,
    /// Who must log in with a second factor (TOTP): admins and users who
    /// may publish (the default), all users, or nobody.
    #[arg(
        long,
        env = "TRYGG_REQUIRE_SECOND_FACTOR",
        value_enum,
        default_value = "admins-and-publishers"
    )]
    require_second_factor: SecondFactorRequirement,
    /// The address the public reaches Trygg at (https://trygg.kommun.se), for
    /// every absolute link (feeds, follow-up, OGC); default: the listening address.
    #[arg(long, env = "TRYGG_PUBLIC_URL")]
    public_url: Option<String>,
    /// The one period length whose ended periods show the respondent-group
    /// split (monthly, quarterly, tertial, yearly): one length only, so no
    /// difference of periods reveals a small group.
    #[arg(long, env = "TRYGG_GROUP_PERIOD", default_value = "yearly")]
    group_period: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the map.
    Serve(ServeArgs),
    /// Partner organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Users and their roles.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import a file: CSV (WGS84 or SWEREF 99), GeoJSON, the police feed, police.uk CSV.
    Import(ImportCli),
    /// Export a layer as GeoJSON or CSV, with the API's filters.
    Export {
        /// incidents, reports, presence, measures, places or areas.
        #[arg(long)]
        kind: String,
        /// geojson or csv.
        #[arg(long, default_value = "geojson")]
        format: String,
        /// Filters as in the API, e.g. `--filter datetime=2024-01-01/.. --filter category=theft`.
        #[arg(long = "filter", value_name = "NAME=VALUE")]
        filters: Vec<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Copy the SQLite database, consistently, while the server runs.
    Backup {
        /// Where the copy goes (never overwritten).
        target: std::path::PathBuf,
    },
    /// API tokens for integrations and imports.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The service area the database serves.
    ServiceArea {
        #[command(subcommand)]
        command: AreaCommand,
    },
}

#[derive(Subcommand)]
enum AreaCommand {
    /// Show the recorded service area and its municipalities.
    Show,
    /// Change it: every stored record is checked against the new area first.
    Set {
        /// Municipalities, a county or a boundary file, as for --service-area.
        area: String,
        /// What to do with stored records that lie outside the new area
        /// (default: refuse and list them).
        #[arg(long, value_enum, default_value = "refuse")]
        outside: OutsidePolicy,
        /// Check and report, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OutsidePolicy {
    Refuse,
    Keep,
    Delete,
}

#[derive(Args)]
struct ImportCli {
    file: std::path::PathBuf,
    /// incidents, reports, presence, measures, places or areas.
    #[arg(long)]
    kind: String,
    /// csv, geojson, polisen or policeuk.
    #[arg(long)]
    format: String,
    /// Coordinates of the file: WGS84 (default), EPSG:3006, EPSG:3007–3018.
    #[arg(long)]
    crs: Option<String>,
    /// CSV headers (or district attributes) of the logical columns, e.g.
    /// `x=E,y=N,time=datum,category=typ,id=nr` or `name=NAMN,code=KOD`.
    #[arg(long)]
    columns: Option<String>,
    /// CSV delimiter: `,`, `;`, `tab` (default: detected).
    #[arg(long)]
    delimiter: Option<String>,
    /// Text encoding: utf-8, windows-1252, … (default: UTF-8, else Windows-1252).
    #[arg(long)]
    encoding: Option<String>,
    /// Map a column's values onto Trygg's, e.g. `category=Misshandel:assault,Rån:robbery`; repeatable.
    #[arg(long = "map", value_name = "FIELD=VALUE:NEW,…")]
    maps: Vec<String>,
    /// A CSV of `field,value,new value` rows, read like `--map`.
    #[arg(long)]
    map_file: Option<std::path::PathBuf>,
    /// The length of an imported presence that has no end or duration, e.g. `15m`.
    #[arg(long)]
    default_duration: Option<String>,
    /// The source recorded on CSV incidents (with their id: what makes re-imports idempotent).
    #[arg(long)]
    source: Option<String>,
    /// Import the valid rows and write the others, with line and reason, to the rejects file.
    #[arg(long)]
    skip_invalid: bool,
    /// Where rejected rows go (default: NAME.rejects.csv in the working directory).
    #[arg(long)]
    rejects: Option<std::path::PathBuf>,
    /// Check and count everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Police feed: also import the nightly summaries.
    #[arg(long)]
    include_summaries: bool,
}

#[derive(Subcommand)]
enum OrgCommand {
    Add { name: String },
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from TRYGG_PASSWORD or standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, planner or field.
        #[arg(long)]
        role: String,
        /// The partner the user belongs to (created if missing).
        #[arg(long)]
        organisation: String,
        #[arg(long)]
        display_name: Option<String>,
        /// May publish follow-ups and approve public reports.
        #[arg(long)]
        publish: bool,
    },
    List,
    /// Change a user; `--password` reads a new one like `add` does.
    Set {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        publish: Option<bool>,
        #[arg(long)]
        disabled: Option<bool>,
        #[arg(long)]
        password: bool,
    },
    /// A user's second factor (TOTP): `enrol` prints its otpauth:// URI and
    /// recovery codes once; `reset` removes it (a lost phone).
    SecondFactor {
        #[command(subcommand)]
        command: SecondFactorCommand,
    },
}

#[derive(Subcommand)]
enum SecondFactorCommand {
    Enrol {
        #[arg(long)]
        username: String,
    },
    Reset {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: read, write, import.
        #[arg(long)]
        scopes: String,
        /// Days until the token stops working (1 to 730).
        #[arg(long, default_value_t = trygg_server::auth::TOKEN_DAYS)]
        expires_days: u32,
    },
    List {
        #[arg(long)]
        username: Option<String>,
    },
    Revoke {
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("trygg: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(output) => {
            if !output.is_empty() {
                #[expect(
                    clippy::print_stdout,
                    reason = "the command's answer goes to standard output"
                )]
                {
                    println!("{output}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("trygg: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> trygg_cli::Result<String> {
    let url = DatabaseUrl::new(cli.database_url);
    let choice = AreaChoice {
        selector: cli.service_area,
        name: cli.service_area_name,
        crs: cli.service_area_crs,
        timezone: cli.timezone,
    };
    if !matches!(
        cli.command,
        Command::Serve(_) | Command::Import(_) | Command::ServiceArea { .. }
    ) {
        let store = trygg_store::connect(&url).await?;
        area::check_given(store.as_ref(), &choice).await?;
    }
    match cli.command {
        Command::Serve(a) => serve(a, url, choice).await,
        Command::ServiceArea { command } => service_area(command, &url, choice).await,
        Command::Org { command } => {
            let store = trygg_store::connect(&url).await?;
            match command {
                OrgCommand::Add { name } => accounts::add_organisation(store.as_ref(), &name).await,
                OrgCommand::List => accounts::list_organisations(store.as_ref()).await,
            }
        }
        Command::User { command } => {
            let store = trygg_store::connect(&url).await?;
            user(command, store.as_ref()).await
        }
        Command::Import(i) => import(i, &url, &choice).await,
        Command::Export {
            kind,
            format,
            filters,
            output,
        } => export(&url, &kind, &format, &filters, output).await,
        Command::Backup { target } => {
            let store = trygg_store::connect(&url).await?;
            store.backup_to(&target).await?;
            Ok(format!("backed up {url} to {}", target.display()))
        }
        Command::Token { command } => {
            let store = trygg_store::connect(&url).await?;
            match command {
                TokenCommand::Create {
                    username,
                    name,
                    scopes,
                    expires_days,
                } => {
                    accounts::create_token(store.as_ref(), &username, &name, &scopes, expires_days)
                        .await
                }
                TokenCommand::List { username } => {
                    accounts::list_tokens(store.as_ref(), username.as_deref()).await
                }
                TokenCommand::Revoke { id } => {
                    accounts::revoke_token(store.as_ref(), &id).await?;
                    Ok(format!("revoked {id}"))
                }
            }
        }
    }
}

async fn user(command: UserCommand, store: &dyn trygg_store::Store) -> trygg_cli::Result<String> {
    match command {
        UserCommand::Add {
            username,
            role,
            organisation,
            display_name,
            publish,
        } => {
            let password = accounts::read_password()?;
            let user = accounts::add_user(
                store,
                AddUser {
                    username: &username,
                    display_name: display_name.as_deref(),
                    role: &role,
                    organisation: &organisation,
                    publish,
                    password,
                },
            )
            .await?;
            Ok(accounts::describe(&user))
        }
        UserCommand::List => accounts::list_users(store).await,
        UserCommand::SecondFactor {
            command: SecondFactorCommand::Enrol { username },
        } => accounts::enrol_second_factor(store, &username).await,
        UserCommand::SecondFactor {
            command: SecondFactorCommand::Reset { username },
        } => accounts::reset_second_factor(store, &username).await,
        UserCommand::Set {
            username,
            role,
            publish,
            disabled,
            password,
        } => {
            let password = if password {
                Some(accounts::read_password()?)
            } else {
                None
            };
            let user = accounts::set_user(
                store,
                SetUser {
                    username: &username,
                    role: role.as_deref(),
                    publish,
                    disabled,
                    password,
                },
            )
            .await?;
            Ok(accounts::describe(&user))
        }
    }
}

async fn service_area(
    command: AreaCommand,
    url: &DatabaseUrl,
    choice: AreaChoice,
) -> trygg_cli::Result<String> {
    let store = trygg_store::connect(url).await?;
    match command {
        AreaCommand::Show => area::show(store.as_ref()).await,
        AreaCommand::Set {
            area: selector,
            outside,
            dry_run,
        } => {
            if choice.selector.as_ref().is_some_and(|s| *s != selector) {
                return Err(trygg_cli::Error::Usage(
                    "service-area set takes the new area as its argument; leave --service-area out"
                        .into(),
                ));
            }
            let outside = match outside {
                OutsidePolicy::Refuse => area::Outside::Refuse,
                OutsidePolicy::Keep => area::Outside::Keep,
                OutsidePolicy::Delete => area::Outside::Delete,
            };
            let choice = AreaChoice {
                selector: Some(selector),
                ..choice
            };
            area::set(store.as_ref(), &choice, outside, dry_run).await
        }
    }
}

async fn serve(a: ServeArgs, url: DatabaseUrl, area: AreaChoice) -> trygg_cli::Result<String> {
    let public = PublicPolicy::new(a.public_resolution, a.public_k)?;
    let settings = Settings {
        auth: AuthConfig {
            presence_visibility: match a.field_presence {
                FieldPresence::Own => PresenceVisibility::OwnOrganisation,
                FieldPresence::All => PresenceVisibility::All,
            },
            session_hours: a.session_hours.clamp(1, 24 * 30),
            trust_forwarded: a.trust_forwarded,
            second_factor: match a.require_second_factor {
                SecondFactorRequirement::AdminsAndPublishers => Requirement::AdminsAndPublishers,
                SecondFactorRequirement::All => Requirement::All,
                SecondFactorRequirement::Off => Requirement::Off,
            },
        },
        public,
        embed_origins: trygg_server::parse_embed_origins(&a.embed_origins)
            .map_err(|e| trygg_cli::Error::Usage(format!("--embed-origins: {e}")))?,
        public_url: a
            .public_url
            .as_deref()
            .map(trygg_server::parse_public_url)
            .transpose()
            .map_err(|e| trygg_cli::Error::Usage(format!("--public-url: {e}")))?,
        group_cadence: Some(
            Cadence::parse(&a.group_period, "group_period")
                .map_err(|e| trygg_cli::Error::Usage(format!("--group-period: {e}")))?,
        ),
        ..Settings::default()
    };
    trygg_cli::serve::run(ServeOptions {
        listen: a.listen,
        database_url: url,
        demo: a.demo,
        area,
        settings,
    })
    .await?;
    Ok(String::new())
}

async fn import(i: ImportCli, url: &DatabaseUrl, choice: &AreaChoice) -> trygg_cli::Result<String> {
    let store = trygg_store::connect(url).await?;
    let area = area::resolve(store.as_ref(), choice, false, i.dry_run).await?;
    let kind: trygg_core::Kind = i.kind.parse().map_err(|e: trygg_core::Error| {
        trygg_cli::Error::Usage(format!("--kind: {}", e.reason()))
    })?;
    let format = trygg_core::import::Format::parse(&i.format, "--format")?;
    trygg_cli::transfer::import(
        store.as_ref(),
        &area,
        trygg_cli::transfer::ImportArgs {
            crs: i.crs.as_deref(),
            columns: i.columns.as_deref(),
            source: i.source.as_deref(),
            skip_invalid: i.skip_invalid,
            rejects: i.rejects.as_deref(),
            dry_run: i.dry_run,
            include_summaries: i.include_summaries,
            delimiter: i.delimiter.as_deref(),
            encoding: i.encoding.as_deref(),
            maps: &i.maps,
            map_file: i.map_file.as_deref(),
            default_duration: i.default_duration.as_deref(),
            ..trygg_cli::transfer::ImportArgs::new(&i.file, kind, format)
        },
    )
    .await
}

async fn export(
    url: &DatabaseUrl,
    kind: &str,
    format: &str,
    filters: &[String],
    output: Option<std::path::PathBuf>,
) -> trygg_cli::Result<String> {
    let store = trygg_store::connect(url).await?;
    let kind: trygg_core::Kind = kind.parse().map_err(|e: trygg_core::Error| {
        trygg_cli::Error::Usage(format!("--kind: {}", e.reason()))
    })?;
    let csv = match format {
        "csv" => true,
        "geojson" | "json" => false,
        other => {
            return Err(trygg_cli::Error::Usage(format!(
                "--format: `{other}` is not geojson or csv"
            )));
        }
    };
    let params = filters
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| {
                    trygg_cli::Error::Usage(format!("--filter: `{f}` is not NAME=VALUE"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body = trygg_cli::transfer::export(store.as_ref(), kind, csv, &params).await?;
    match output {
        Some(path) => {
            std::fs::write(&path, body)?;
            Ok(String::new())
        }
        None => Ok(body),
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
