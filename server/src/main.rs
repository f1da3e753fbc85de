//! `meterwall-server`: the command line around [`meterwall_server::run`].

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use meterwall_server::Options;

const HELP: &str = "\
meterwall-server: serves a publisher's pages, the meterwall widget, and its signup API.

USAGE:
    meterwall-server [OPTIONS]

OPTIONS (each flag overrides its environment variable):
    --host <ADDR>              Address to listen on     [env METERWALL_HOST, default 127.0.0.1]
    --port <PORT>              Port (0 picks a free one) [env METERWALL_PORT, default 8080]
    --root <DIR>               Static site directory    [env METERWALL_ROOT, default www]
    --db <FILE>                SQLite file, created if missing
                                                        [env METERWALL_DB, default meterwall.sqlite]
    --allow-origin <ORIGIN>    Another origin whose pages may post signups, e.g.
                               https://www.news.example; repeat for more. This site itself
                               always may.    [env METERWALL_ALLOWED_ORIGINS, comma-separated]
    --min-submit-ms <MS>       Fewest ms between the prompt showing and submit
                                                        [env METERWALL_MIN_SUBMIT_MS, default 1000]
    --rate-per-minute <N>      Signups a minute from one IP address (also the burst)
                                                        [env METERWALL_RATE_PER_MINUTE, default 10]
    --max-body-bytes <N>       Largest signup request body
                                                        [env METERWALL_MAX_BODY_BYTES, default 4096]
    --demo-login               Serve the demo site's POST /api/login, which gives anyone a
                               subscriber token signed with the demo's published key. Never
                               for a real site.
    -h, --help                 Print this help
    -V, --version              Print the version

Logs go to stderr; RUST_LOG filters them (default: info). The URL served is printed to stdout.
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Version,
    Serve {
        host: String,
        port: u16,
        options: Options,
    },
}

fn main() -> ExitCode {
    let command = match parse(std::env::args_os().skip(1), |name| std::env::var(name).ok()) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("meterwall-server: {error}\nTry `meterwall-server --help`.");
            return ExitCode::from(2);
        }
    };
    let (host, port, options) = match command {
        Command::Help => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("meterwall-server {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Serve {
            host,
            port,
            options,
        } => (host, port, options),
    };

    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal, plain text for log files and journald.
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("meterwall-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(host, port, options))
}

async fn serve(host: String, port: u16, options: Options) -> ExitCode {
    // Built before binding, so a bad option or database fails before any URL is printed.
    // (`meterwall_server::run` does the same two steps for embedders and tests.)
    let header_timeout = options.header_timeout;
    let app = match meterwall_server::app(options) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("meterwall-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind((host.as_str(), port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "meterwall-server: cannot listen on {host}:{port}: {error}; \
                 pass --port with a free port (0 picks one) or another --host"
            );
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(address) => println!("meterwall-server: serving http://{address}/"),
        Err(error) => eprintln!("meterwall-server: serving (address unknown: {error})"),
    }
    meterwall_server::serve(listener, app, header_timeout, stop_requested()).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM from a service manager or `docker stop`.
async fn stop_requested() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Reads the flags, then fills what they left out from the environment (`env`), then the defaults.
fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, lexopt::Error> {
    use lexopt::prelude::*;

    let mut host = None;
    let mut port = None;
    let mut root = None;
    let mut db = None;
    let mut origins: Vec<String> = Vec::new();
    let mut min_submit_ms = None;
    let mut rate_per_minute = None;
    let mut max_body_bytes = None;
    let mut demo_login = false;

    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("host") => host = Some(parser.value()?.string()?),
            Long("port") => port = Some(parser.value()?.parse()?),
            Long("root") => root = Some(PathBuf::from(parser.value()?)),
            Long("db") => db = Some(PathBuf::from(parser.value()?)),
            Long("allow-origin") => origins.push(parser.value()?.string()?),
            Long("min-submit-ms") => min_submit_ms = Some(parser.value()?.parse()?),
            Long("rate-per-minute") => rate_per_minute = Some(parser.value()?.parse()?),
            Long("max-body-bytes") => max_body_bytes = Some(parser.value()?.parse()?),
            Long("demo-login") => demo_login = true,
            _ => return Err(arg.unexpected()),
        }
    }

    let defaults = Options::default();
    if origins.is_empty() {
        origins = env("METERWALL_ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|origin| !origin.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
    }
    Ok(Command::Serve {
        host: host
            .or_else(|| env("METERWALL_HOST"))
            .unwrap_or_else(|| "127.0.0.1".to_owned()),
        port: or_env(port, &env, "METERWALL_PORT", 8080)?,
        options: Options {
            root: root
                .or_else(|| env("METERWALL_ROOT").map(PathBuf::from))
                .unwrap_or(defaults.root),
            db: db
                .or_else(|| env("METERWALL_DB").map(PathBuf::from))
                .unwrap_or(defaults.db),
            allowed_origins: origins,
            min_submit_ms: or_env(
                min_submit_ms,
                &env,
                "METERWALL_MIN_SUBMIT_MS",
                defaults.min_submit_ms,
            )?,
            rate_per_minute: or_env(
                rate_per_minute,
                &env,
                "METERWALL_RATE_PER_MINUTE",
                defaults.rate_per_minute,
            )?,
            max_body_bytes: or_env(
                max_body_bytes,
                &env,
                "METERWALL_MAX_BODY_BYTES",
                defaults.max_body_bytes,
            )?,
            request_timeout: defaults.request_timeout,
            header_timeout: defaults.header_timeout,
            demo_login,
        },
    })
}

/// The flag's value, else the environment variable's (parsed), else the default.
fn or_env<T: FromStr>(
    flag: Option<T>,
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, lexopt::Error>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    if let Some(value) = flag {
        return Ok(value);
    }
    match env(name) {
        Some(text) => text.trim().parse().map_err(|error: T::Err| {
            lexopt::Error::Custom(format!("{name}={text}: {error}").into())
        }),
        None => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str], env: &[(&str, &str)]) -> (String, u16, Options) {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |name: &str| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        match parse(args.iter().map(OsString::from), lookup).unwrap() {
            Command::Serve {
                host,
                port,
                options,
            } => (host, port, options),
            other => panic!("expected Serve, got {other:?}"),
        }
    }

    #[test]
    fn the_demo_login_is_off_unless_asked_for() {
        assert!(!serve(&[], &[]).2.demo_login);
        assert!(serve(&["--demo-login"], &[]).2.demo_login);
    }

    #[test]
    fn no_flags_and_no_environment_give_the_documented_defaults() {
        let (host, port, options) = serve(&[], &[]);
        assert_eq!((host.as_str(), port), ("127.0.0.1", 8080));
        assert_eq!(options, Options::default());
    }

    #[test]
    fn flags_override_the_environment() {
        let (host, port, options) = serve(
            &[
                "--port",
                "9000",
                "--allow-origin",
                "https://a.example",
                "--allow-origin",
                "https://b.example",
            ],
            &[
                ("METERWALL_PORT", "7000"),
                ("METERWALL_HOST", "0.0.0.0"),
                ("METERWALL_ALLOWED_ORIGINS", "https://c.example"),
                ("METERWALL_RATE_PER_MINUTE", "30"),
            ],
        );
        assert_eq!((host.as_str(), port), ("0.0.0.0", 9000));
        assert_eq!(
            options.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(options.rate_per_minute, 30);
    }

    #[test]
    fn the_origin_list_from_the_environment_is_comma_separated() {
        let (_, _, options) = serve(
            &[],
            &[(
                "METERWALL_ALLOWED_ORIGINS",
                "https://a.example, https://b.example,",
            )],
        );
        assert_eq!(
            options.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn a_bad_number_names_its_source() {
        let error = parse(std::iter::empty(), |name| {
            (name == "METERWALL_PORT").then(|| "eighty".to_owned())
        })
        .unwrap_err();
        assert!(
            error.to_string().contains("METERWALL_PORT=eighty"),
            "{error}"
        );
        assert!(parse(["--port", "x"].map(OsString::from), |_| None).is_err());
        assert_eq!(
            parse(["--help"].map(OsString::from), |_| None).unwrap(),
            Command::Help
        );
    }
}
