//! `tandem`: the standalone server. `tandem serve` runs the engine with its WebSocket and HTTP
//! listeners; `tandem user ...`, `tandem group ...`, `tandem collection ...`,
//! `tandem permissions ...`, `tandem domain ...`, `tandem jwt-key ...` and `tandem dump` work on
//! a data directory (the first five live in [`admin`]).

mod admin;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use admin::collections::CollectionCommand;
use admin::domain::DomainCommand;
use admin::groups::GroupCommand;
use admin::permissions::PermissionsCommand;
use admin::users::UserCommand;
use admin::{fail, open, DataArgs, DomainArgs};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use tandem::api::{DomainSettings, Engine, EngineConfig, JwtKey, NetConfig, NewUser};
use tracing::{error, info};

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "tandem",
    version,
    about = "Tandem real-time collaboration server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage users of a domain.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage groups of a domain and their members.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Manage collections of a domain and their permissions.
    #[command(subcommand)]
    Collection(CollectionCommand),
    /// Read and change model permissions and the permission rows of chats, activities and
    /// the whole domain.
    #[command(subcommand)]
    Permissions(PermissionsCommand),
    /// Manage domains, their settings and admin tokens.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Manage the RSA public keys that verify JWT logins.
    #[command(subcommand, name = "jwt-key")]
    JwtKey(JwtKeyCommand),
    /// Print a model's data as JSON.
    Dump(DumpArgs),
    /// Act on a model's history: selective undo and redo.
    #[command(subcommand)]
    Model(admin::model::ModelCommand),
    /// Manage the server's administrators (REST API and admin console logins).
    #[command(subcommand)]
    Admin(admin::operators::AdminCommand),
    /// Manage API keys, each of which reaches one domain's REST routes.
    #[command(subcommand, name = "api-key")]
    ApiKey(admin::operators::ApiKeyCommand),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LogFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// TOML configuration file (every setting below can also come from it).
    #[arg(long, short, env = "TANDEM_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory of the embedded store.
    #[arg(long, env = "TANDEM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on (loopback by default).
    #[arg(long, env = "TANDEM_LISTEN")]
    listen: Option<SocketAddr>,
    /// Log format.
    #[arg(long, env = "TANDEM_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Directory served as static files (the browser demo).
    #[arg(long, env = "TANDEM_STATIC_DIR")]
    static_dir: Option<PathBuf>,
    /// Namespace created at start-up if missing.
    #[arg(long, env = "TANDEM_NAMESPACE")]
    namespace: Option<String>,
    /// Domain created at start-up if missing.
    #[arg(long, env = "TANDEM_DOMAIN")]
    domain: Option<String>,
    /// Allow anonymous connections to the bootstrap domain.
    #[arg(long, env = "TANDEM_ANONYMOUS")]
    anonymous: Option<bool>,
    /// Admin user created at start-up if missing.
    #[arg(long, env = "TANDEM_ADMIN_USER")]
    admin_user: Option<String>,
    /// Its password (generated and printed once when absent).
    #[arg(long, env = "TANDEM_ADMIN_PASSWORD")]
    admin_password: Option<String>,
}

#[derive(Subcommand, Debug)]
enum JwtKeyCommand {
    /// Register an RSA public key; tokens whose `kid` header names it log in.
    Add {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        domain: DomainArgs,
        /// Key id (the `kid` header of the tokens it verifies).
        #[arg(long)]
        id: String,
        /// PEM file holding the public key (`-----BEGIN PUBLIC KEY-----`).
        #[arg(long)]
        public_key_file: PathBuf,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List a domain's keys.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        domain: DomainArgs,
    },
}

#[derive(Args, Debug)]
struct DumpArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    domain: DomainArgs,
    /// Model id.
    model: String,
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    server: ServerSection,
    engine: EngineConfig,
    net: NetConfig,
    bootstrap: Bootstrap,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ServerSection {
    listen: SocketAddr,
    log_format: LogFormat,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            log_format: LogFormat::Human,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Bootstrap {
    namespace: String,
    domain: String,
    anonymous: bool,
    admin_user: String,
    admin_password: Option<String>,
    users: Vec<DemoUser>,
    /// Whether everyone may create chat channels and rooms in a domain created here (a
    /// world row of the global `create_chat` permission, written once, when the domain is).
    world_create_chat: bool,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            namespace: "demo".into(),
            domain: "default".into(),
            anonymous: true,
            admin_user: "admin".into(),
            admin_password: None,
            users: Vec::new(),
            world_create_chat: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUser {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
}

fn main() -> ExitCode {
    // A malformed command line exits with 1 like every other failure (clap's own is 2);
    // `--help` and `--version` still print on stdout and succeed.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // `serve` reads its configuration first: `[engine] worker_threads` sizes this runtime.
    let mut serve_config = None;
    if let Command::Serve(args) = &cli.command {
        let file = match load_config(args.config.as_deref()) {
            Ok(f) => f,
            Err(e) => return fail(e),
        };
        if file.engine.worker_threads > 0 {
            builder.worker_threads(file.engine.worker_threads);
        }
        serve_config = Some(file);
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args, serve_config.unwrap_or_default()).await,
            Command::User(cmd) => admin::users::user(cmd).await,
            Command::Admin(cmd) => admin::operators::admin(cmd).await,
            Command::ApiKey(cmd) => admin::operators::api_key(cmd).await,
            Command::Group(cmd) => admin::groups::group(cmd).await,
            Command::Collection(cmd) => admin::collections::collection(cmd).await,
            Command::Permissions(cmd) => admin::permissions::permissions(cmd).await,
            Command::Domain(cmd) => admin::domain::domain(cmd).await,
            Command::JwtKey(cmd) => jwt_key(cmd).await,
            Command::Dump(args) => dump(args).await,
            Command::Model(cmd) => admin::model::model(cmd).await,
        }
    })
}

fn random_password() -> String {
    let id = uuid_like();
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect()
}

fn uuid_like() -> String {
    use tandem::sources::{IdSource, RandomIds};
    RandomIds.uuid()
}

/// Reads the `serve` configuration file (the defaults without one).
fn load_config(path: Option<&std::path::Path>) -> Result<FileConfig, String> {
    match path {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str::<FileConfig>(&text)
                .map_err(|e| format!("invalid config {}: {e}", path.display())),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        },
        None => Ok(FileConfig::default()),
    }
}

async fn serve(args: ServeArgs, mut file: FileConfig) -> ExitCode {
    if let Some(d) = args.data_dir {
        file.engine.data_dir = Some(d);
    }
    if file.engine.data_dir.is_none() {
        file.engine.data_dir = Some(PathBuf::from("tandem-data"));
    }
    if let Some(l) = args.listen {
        file.server.listen = l;
    }
    if let Some(f) = args.log_format {
        file.server.log_format = f;
    }
    if let Some(s) = args.static_dir {
        file.net.static_dir = Some(s);
    }
    let b = &mut file.bootstrap;
    if let Some(v) = args.namespace {
        b.namespace = v;
    }
    if let Some(v) = args.domain {
        b.domain = v;
    }
    if let Some(v) = args.anonymous {
        b.anonymous = v;
    }
    if let Some(v) = args.admin_user {
        b.admin_user = v;
    }
    if args.admin_password.is_some() {
        b.admin_password = args.admin_password;
    }
    init_logging(file.server.log_format);
    // Debug builds only: the fault-injection markers of the panic-containment tests.
    if cfg!(debug_assertions) && std::env::var_os("TANDEM_TEST_FAULTS").is_some() {
        tandem::fault::enable();
        tracing::warn!("TANDEM_TEST_FAULTS: fault-injection markers are armed");
    }
    let data_dir = file.engine.data_dir.clone().unwrap_or_default();
    let engine = match Engine::open(file.engine.clone()) {
        Ok(e) => e,
        Err(e) => return fail(format!("cannot open {}: {e}", data_dir.display())),
    };
    // Bootstrap the domain, the admin and demo users.
    let b = &file.bootstrap;
    let domain = match engine.domain(&b.namespace, &b.domain) {
        Ok(d) => d,
        Err(_) => match engine
            .create_domain_with(
                &b.namespace,
                &b.domain,
                DomainSettings {
                    display_name: String::new(),
                    anonymous_auth: b.anonymous,
                    collection_auto_create: true,
                    ..DomainSettings::default()
                },
            )
            .await
        {
            Ok(d) => {
                if b.world_create_chat {
                    let change =
                        tandem::api::PermissionChange::Add(tandem::api::TargetPermissions {
                            world: vec!["create_chat".into()],
                            ..Default::default()
                        });
                    if let Err(e) = d
                        .change_permissions(&tandem::api::Target::Global, &change)
                        .await
                    {
                        return fail(format!("cannot let everyone create chats: {e}"));
                    }
                }
                d
            }
            Err(e) => {
                return fail(format!(
                    "cannot create domain {}/{}: {e}",
                    b.namespace, b.domain
                ))
            }
        },
    };
    let mut login_hint = String::new();
    let users = domain.users().unwrap_or_default();
    if !users.iter().any(|u| u.username == b.admin_user) {
        let (password, generated) = match &b.admin_password {
            Some(p) => (p.clone(), false),
            None => (random_password(), true),
        };
        if let Err(e) = domain
            .create_user(NewUser {
                username: b.admin_user.clone(),
                display_name: "Administrator".into(),
                password: Some(password.clone()),
                ..NewUser::default()
            })
            .await
        {
            return fail(format!("cannot create the admin user: {e}"));
        }
        login_hint = if generated {
            format!(
                "admin user '{}' created with password '{password}' (shown once)",
                b.admin_user
            )
        } else {
            format!(
                "admin user '{}' created with the configured password",
                b.admin_user
            )
        };
    }
    for u in &b.users {
        if !users.iter().any(|x| x.username == u.username) {
            if let Err(e) = domain
                .create_user(NewUser {
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                    password: Some(u.password.clone()),
                    ..NewUser::default()
                })
                .await
            {
                return fail(format!("cannot create user {}: {e}", u.username));
            }
        }
    }
    let listener = match engine.serve(file.server.listen, file.net.clone()).await {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", file.server.listen)),
    };
    let addr = listener.local_addr();
    let realtime = format!("ws://{addr}/realtime/{}/{}", b.namespace, b.domain);
    println!(
        "tandem {} serving {}",
        env!("CARGO_PKG_VERSION"),
        data_dir.display()
    );
    println!("  realtime endpoint: {realtime}");
    if file.net.static_dir.is_some() {
        println!("  demo page:         http://{addr}/  (open it in two tabs)");
    }
    println!("  health:            http://{addr}/health");
    if !login_hint.is_empty() {
        println!("  {login_hint}");
    }
    println!(
        "  log in with Convergence.connect(\"{realtime}\", user, password){}",
        if b.anonymous {
            " or connectAnonymously(...)"
        } else {
            ""
        }
    );
    info!(%addr, "ready");
    wait_for_signal().await;
    info!("stopping: closing connections");
    listener.stop().await;
    engine.shutdown().await;
    info!("stopped");
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn jwt_key(cmd: JwtKeyCommand) -> ExitCode {
    match cmd {
        JwtKeyCommand::Add {
            data,
            domain,
            id,
            public_key_file,
            description,
        } => {
            let pem = match std::fs::read_to_string(&public_key_file) {
                Ok(p) => p,
                Err(e) => return fail(format!("cannot read {}: {e}", public_key_file.display())),
            };
            let engine = match open(&data.data_dir) {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
            let result = match engine.domain(&domain.namespace, &domain.domain) {
                Ok(d) => {
                    d.add_jwt_key(JwtKey {
                        id: id.clone(),
                        description,
                        public_key_pem: pem,
                        ..JwtKey::default()
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            engine.shutdown().await;
            match result {
                Ok(_) => {
                    println!("jwt key {id} added");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        JwtKeyCommand::List { data, domain } => {
            let engine = match open(&data.data_dir) {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
            let result = engine
                .domain(&domain.namespace, &domain.domain)
                .and_then(|d| d.jwt_keys());
            engine.shutdown().await;
            match result {
                Ok(keys) => {
                    for k in keys {
                        let state = if k.enabled { "enabled" } else { "disabled" };
                        println!("{}\t{state}\t{}", k.id, k.description);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

async fn dump(args: DumpArgs) -> ExitCode {
    let engine = match open(&args.data.data_dir) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let result = match engine
        .domain(&args.domain.namespace, &args.domain.domain)
        .and_then(|d| d.model(&args.model))
    {
        Ok(m) => m.json_text().await,
        Err(e) => Err(e),
    };
    engine.shutdown().await;
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!(error = %e, "dump failed");
            fail(e)
        }
    }
}
