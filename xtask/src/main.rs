//! `cargo xtask`: meterwall's build tooling (build, demo, size, test), not part of the product.
//!
//! Every step is a plain command printed as it starts (`==> ...`), so anything xtask does can be
//! repeated by hand. Provisioning installs what is missing: the wasm32 target, wasm-bindgen-cli at
//! the version in Cargo.lock, wasm-opt from npm, and for `test` the browsers and their drivers.

mod bench;
mod build;
mod error;
mod link;
mod provision;
mod shell;
mod size;
mod test;

use std::env;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use error::{Error, Result};

const HELP: &str = "\
usage: cargo xtask <command>

commands:
  build [--profile-z|--profile-s] [--languages en,fr,de,es]
                                   build the widget into www/dist and print download sizes
                                   (--profile-*: override Cargo.toml's opt-level; --languages:
                                   the built-in copy's languages, all four by default)
  demo [--port N]                  build, then serve the demo site (default port 8080)
  size                             build, then show what makes the wasm big and compare settings
  test                             everything CI runs: fmt, clippy, build, host, browser
                                   (Chrome, Firefox) and end-to-end tests
  bench                            cold page loads in headless Chrome and Firefox: time to
                                   decision, LCP, CLS, long tasks, against a JS baseline
  help                             this text
";

fn main() -> ExitCode {
    // Run by rustc as the wasm's linker (see `link`), not from the command line.
    let raw: Vec<std::ffi::OsString> = env::args_os().skip(1).collect();
    if link::is_linking(&raw) {
        return link::run(raw);
    }
    let args: Vec<String> = env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{HELP}");
        return ExitCode::from(2);
    };
    let root = workspace_root();
    let result = match command.as_str() {
        "build" => build_command(&root, rest),
        "demo" => demo(&root, rest),
        "size" => no_options(rest).and_then(|()| size::size(&root)),
        "test" => no_options(rest).and_then(|()| test::test(&root)),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        "bench" => no_options(rest).and_then(|()| bench::bench(&root)),
        other => {
            eprintln!("xtask: unknown command `{other}`\n");
            eprint!("{HELP}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error @ Error::Usage(_)) => {
            eprintln!("xtask {command}: {error}");
            ExitCode::from(2)
        }
        Err(Error::Step { step, source }) => {
            eprintln!("xtask {command}: FAILED at step `{step}`: {source}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("xtask {command}: FAILED: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives in `<root>/xtask`.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn no_options(rest: &[String]) -> Result<()> {
    match rest.first() {
        None => Ok(()),
        Some(option) => Err(Error::Usage(format!("unexpected argument `{option}`"))),
    }
}

fn build_command(root: &Path, rest: &[String]) -> Result<()> {
    let mut opt_level = None;
    let mut features = None;
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--profile-z" if opt_level.is_none() => opt_level = Some("z"),
            "--profile-s" if opt_level.is_none() => opt_level = Some("s"),
            "--languages" if features.is_none() => {
                let list = args.next().ok_or_else(|| {
                    Error::Usage("--languages takes a list, like `--languages en,fr`".to_owned())
                })?;
                features = Some(language_features(list)?);
            }
            other => match other.strip_prefix("--languages=") {
                Some(list) if features.is_none() => features = Some(language_features(list)?),
                _ => {
                    return Err(Error::Usage(format!(
                        "build takes --profile-z or --profile-s and --languages LIST, not `{}`",
                        rest.join(" ")
                    )))
                }
            },
        }
    }
    let tools = provision::tools(root)?;
    build::build_with(root, &tools, opt_level, features.as_deref())
}

/// The crate features for the built-in languages in `list` (`en,fr`): `lang-fr` and so on;
/// English is always built in, so `en` gives none.
fn language_features(list: &str) -> Result<String> {
    let mut features = Vec::new();
    for language in list.split(',').map(|l| l.trim().to_ascii_lowercase()) {
        match language.as_str() {
            "" => {
                return Err(Error::Usage(format!(
                    "--languages takes a comma-separated list of en, fr, de and es, like \
                     `--languages en,fr`, not `{list}`"
                )))
            }
            "en" => {}
            "fr" | "de" | "es" => {
                let feature = format!("lang-{language}");
                if !features.contains(&feature) {
                    features.push(feature);
                }
            }
            other => {
                return Err(Error::Usage(format!(
                    "--languages: `{other}` has no built-in copy; the built-in languages are en, \
                     fr, de and es (English always), and a page in another language takes its \
                     words from the config's `copy`"
                )))
            }
        }
    }
    Ok(features.join(","))
}

/// Builds, then runs the demo server until Ctrl-C (which reaches the server too: same process group).
fn demo(root: &Path, rest: &[String]) -> Result<()> {
    let port = match rest {
        [] => 8080,
        [flag, port] if flag == "--port" => parse_port(port)?,
        [flag] if flag.starts_with("--port=") => parse_port(&flag["--port=".len()..])?,
        _ => {
            return Err(Error::Usage(format!(
                "demo takes --port N, not `{}`",
                rest.join(" ")
            )))
        }
    };
    let tools = provision::tools(root)?;
    build::build(root, &tools, None)?;
    let port = port.to_string();
    let mut server = shell::cargo();
    server.current_dir(root).args([
        "run",
        "-p",
        "meterwall-server",
        "--",
        "--port",
        &port,
        "--root",
        "www",
        // The demo site's login page gets its subscriber token here.
        "--demo-login",
    ]);
    shell::run(&mut server)
}

fn parse_port(text: &str) -> Result<u16> {
    text.parse()
        .map_err(|_| Error::Usage(format!("`{text}` is not a port number")))
}

#[cfg(test)]
mod tests {
    use super::language_features;

    #[test]
    fn languages_become_the_crate_features() {
        assert_eq!(language_features("en").unwrap(), "");
        assert_eq!(language_features("en,fr").unwrap(), "lang-fr");
        assert_eq!(language_features("fr, de,fr").unwrap(), "lang-fr,lang-de");
        assert_eq!(language_features("es").unwrap(), "lang-es");
        assert_eq!(language_features("EN, Fr").unwrap(), "lang-fr");
        let error = language_features("en,pt").unwrap_err().to_string();
        assert!(error.contains("`pt` has no built-in copy"), "{error}");
        for list in ["", "en,", "en,,fr"] {
            let error = language_features(list).unwrap_err().to_string();
            assert!(error.contains("comma-separated list"), "{list:?}: {error}");
        }
    }
}
