//! Running child commands: announce each one, inherit or tee its output, turn failure into an `Error`.

use std::env;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use crate::error::{Error, Result};

/// Prints the line that opens a step, e.g. `==> cargo fmt --all --check`.
pub fn announce(what: &str) {
    println!("==> {what}");
}

/// The cargo that runs us (`$CARGO`), so every child uses the same toolchain.
pub fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

/// `cmd` as a person would type it: set variables first, programs by file name, no long paths.
pub fn display(cmd: &Command) -> String {
    let mut words = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            words.push(format!(
                "{}={}",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    let program = Path::new(cmd.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str());
    words.push(name.to_string_lossy().into_owned());
    words.extend(cmd.get_args().map(|arg| arg.to_string_lossy().into_owned()));
    words.join(" ")
}

/// Announces `cmd` and runs it with inherited stdio; fails unless it exits successfully.
pub fn run(cmd: &mut Command) -> Result<()> {
    let command = display(cmd);
    announce(&command);
    let status = cmd.status().map_err(|source| Error::Spawn {
        command: command.clone(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Status { command, status })
    }
}

/// Announces `cmd` and runs it with its stdout captured and returned (stderr shows as usual);
/// fails unless it exits successfully.
pub fn capture(cmd: &mut Command) -> Result<String> {
    let command = display(cmd);
    announce(&command);
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Error::Status {
            command,
            status: output.status,
        })
    }
}

/// Announces `cmd` and runs it with stdout and stderr merged into one stream, which is echoed to
/// our stdout as it comes and returned, so the caller can read what it printed (test counts).
pub fn tee(mut cmd: Command) -> Result<String> {
    // Read line by line afterwards: no colour codes before cargo's `Running` and the like, even
    // where the environment asks cargo for colour.
    cmd.env("CARGO_TERM_COLOR", "never");
    let command = display(&cmd);
    announce(&command);
    let spawn_error = |source| Error::Spawn {
        command: command.clone(),
        source,
    };
    let (mut reader, writer) = io::pipe().map_err(spawn_error)?;
    let writer_for_stderr = writer.try_clone().map_err(spawn_error)?;
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_for_stderr);
    let mut child = cmd.spawn().map_err(spawn_error)?;
    // The Command holds our copies of the pipe's write end: drop them, or the read never ends.
    drop(cmd);

    // A browser or driver the child leaves behind can hold the pipe open after the child exits,
    // so read on a thread and stop waiting for it shortly after the child is gone.
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&captured);
    let (closed, pipe_closed) = mpsc::channel();
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        let mut stdout = io::stdout();
        while let Ok(n @ 1..) = reader.read(&mut chunk) {
            let _ = stdout.write_all(&chunk[..n]);
            let _ = stdout.flush();
            lock(&sink).extend_from_slice(&chunk[..n]);
        }
        let _ = closed.send(());
    });
    let status = child.wait().map_err(spawn_error)?;
    let _ = pipe_closed.recv_timeout(Duration::from_secs(5));
    let captured = String::from_utf8_lossy(&lock(&captured)).into_owned();
    if status.success() {
        Ok(captured)
    } else {
        Err(Error::Status { command, status })
    }
}

/// The reader thread only appends, so a poisoned lock still holds good bytes.
fn lock(buffer: &Mutex<Vec<u8>>) -> MutexGuard<'_, Vec<u8>> {
    buffer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `program args` quietly and returns its stdout, or None if it does not start or fails.
pub fn probe_all(program: impl AsRef<OsStr>, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The first non-empty line of `probe_all`: for `--version`.
pub fn probe(program: impl AsRef<OsStr>, args: &[&str]) -> Option<String> {
    probe_all(program, args)?
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_owned)
}

/// The first executable called `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Where `cargo install` puts `name`: $CARGO_HOME/bin, by default ~/.cargo/bin.
pub fn cargo_bin(name: &str) -> Option<PathBuf> {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    Some(home.join("bin").join(name))
}

/// `name` on PATH, else in cargo's bin directory (which may be missing from PATH).
pub fn find(name: &str) -> Option<PathBuf> {
    which(name).or_else(|| cargo_bin(name).filter(|path| is_executable(path)))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
