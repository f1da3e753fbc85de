//! The one error type of xtask: each failure says what went wrong and, where there is one, the fix.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug)]
pub enum Error {
    /// Bad command line.
    Usage(String),
    /// A child command could not be started at all.
    Spawn { command: String, source: io::Error },
    /// A child command ran and exited unsuccessfully.
    Status { command: String, status: ExitStatus },
    /// A tool or file we need is not there; `fix` is what to run or write.
    Missing { what: String, fix: String },
    /// A check on what a command printed or produced failed.
    Check(String),
    /// Reading or writing a file failed.
    Io { path: PathBuf, source: io::Error },
    /// A step of `cargo xtask test` failed; names the step.
    Step { step: String, source: Box<Error> },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn missing(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Missing {
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "{message} (see `cargo xtask help`)"),
            Error::Spawn { command, source } => write!(f, "`{command}` could not start: {source}"),
            Error::Status { command, status } => {
                write!(f, "`{command}` failed ({status})")?;
                // What installs a tool fetches it first: name the usual cause and the retry.
                let installs = ["cargo install ", "npm install", "apt-get ", "rustup "];
                if installs.iter().any(|i| command.contains(i)) {
                    f.write_str(
                        "; its output is above. A download that failed (no network, a proxy that \
                         needs HTTPS_PROXY, a registry that did not answer) can be tried again: \
                         run the same `cargo xtask` command",
                    )?;
                }
                Ok(())
            }
            Error::Missing { what, fix } => write!(f, "{what} not found; fix: {fix}"),
            Error::Check(message) => f.write_str(message),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Step { step, source } => write!(f, "step `{step}` failed: {source}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    /// A failed install says a download may have failed and how to try again; another failed
    /// command (a build, a test) says only that it failed.
    #[test]
    fn a_failed_install_names_the_download_and_the_retry() {
        let failed = |command: &str| {
            Error::Status {
                command: command.to_owned(),
                status: ExitStatus::from_raw(256),
            }
            .to_string()
        };
        let install = failed("cargo install wasm-bindgen-cli --version 0.2.130");
        assert!(install.contains("can be tried again"), "{install}");
        let npm = failed("npm install --prefix tools binaryen@132.0.0");
        assert!(npm.contains("HTTPS_PROXY"), "{npm}");
        let build = failed("cargo rustc -p meterwall --release");
        assert!(!build.contains("tried again"), "{build}");
    }
}
