//! `cargo xtask build`: the widget's release wasm, its wasm-bindgen glue, wasm-opt and the loader,
//! into www/dist, then the table of what a reader downloads.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::provision::{Tools, WASM_TARGET};
use crate::shell;
use crate::size;

/// Where the built widget goes, relative to the workspace root. Git-ignored; rebuilt from scratch.
pub const DIST: &str = "www/dist";

/// The glue's name: `meterwall_wasm.js` and `meterwall_wasm_bg.wasm`, beside the loader `meterwall.js`.
pub const OUT_NAME: &str = "meterwall_wasm";

/// The wasm features rustc enables by default for wasm32-unknown-unknown (since Rust 1.82); wasm-opt
/// rejects a module that uses a feature it was not told about.
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-sign-ext",
    "--enable-mutable-globals",
];

/// Custom sections no browser reads: function names (kept if Cargo.toml's `strip` is off, which
/// wasm-bindgen recommends), and the `producers` and `target_features` sections wasm-opt writes.
const WASM_OPT_STRIP: [&str; 3] = [
    "--strip-debug",
    "--strip-producers",
    "--strip-target-features",
];

/// Builds www/dist. `opt_level` ("z" or "s") overrides Cargo.toml's and builds in its own target
/// directory (shared with `cargo xtask size`), so switching does not rebuild the normal one.
///
/// # Errors
///
/// When a step fails, or the loader `www/meterwall.js` is missing.
pub fn build(root: &Path, tools: &Tools, opt_level: Option<&str>) -> Result<()> {
    let wasm = match opt_level {
        None => cargo_wasm(root, None, &[])?,
        Some(level) => cargo_wasm(
            root,
            Some(&format!("target/size/opt-{level}")),
            &[("CARGO_PROFILE_RELEASE_OPT_LEVEL", level)],
        )?,
    };

    let dist = root.join(DIST);
    match fs::remove_dir_all(&dist) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => {
            return Err(Error::io(&dist, error))
        }
        _ => {}
    }
    // With TypeScript declarations for publishers' editors; readers never download them.
    bindgen(root, tools, &wasm, &dist, true)?;

    let module = dist.join(format!("{OUT_NAME}_bg.wasm"));
    let optimized = dist.join(format!("{OUT_NAME}_bg.wasm.opt"));
    wasm_opt(root, tools, "-Oz", &module, &optimized)?;
    fs::rename(&optimized, &module).map_err(|source| Error::io(&module, source))?;

    let loader = root.join("www/meterwall.js");
    shell::announce("strip comments www/meterwall.js > www/dist/meterwall.js");
    if !loader.is_file() {
        return Err(Error::missing(
            "the loader www/meterwall.js",
            "write it: the classic script publishers paste, which imports dist/meterwall_wasm.js",
        ));
    }
    let copy = dist.join("meterwall.js");
    let source = fs::read_to_string(&loader).map_err(|source| Error::io(&loader, source))?;
    fs::write(&copy, strip_comments(&source)).map_err(|source| Error::io(&copy, source))?;

    size::print_downloads(&dist)
}

/// `cargo build` of the widget's wasm, in release, into `target_dir` (relative to the root; default:
/// cargo's own). Returns the path of `meterwall.wasm`.
///
/// # Errors
///
/// When cargo fails.
pub fn cargo_wasm(root: &Path, target_dir: Option<&str>, env: &[(&str, &str)]) -> Result<PathBuf> {
    let mut cmd = shell::cargo();
    cmd.current_dir(root).envs(env.iter().copied()).args([
        "build",
        "-p",
        "meterwall",
        "--release",
        "--target",
        WASM_TARGET,
        "--lib",
    ]);
    if let Some(dir) = target_dir {
        cmd.args(["--target-dir", dir]);
    }
    shell::run(&mut cmd)?;
    let target = match target_dir {
        Some(dir) => root.join(dir),
        None => env::var_os("CARGO_TARGET_DIR")
            .map(|dir| root.join(dir))
            .unwrap_or_else(|| root.join("target")),
    };
    Ok(target.join(WASM_TARGET).join("release/meterwall.wasm"))
}

/// wasm-bindgen `--target web` (an ES module the loader imports) of `wasm` into `out_dir`.
///
/// # Errors
///
/// When wasm-bindgen fails.
pub fn bindgen(
    root: &Path,
    tools: &Tools,
    wasm: &Path,
    out_dir: &Path,
    typescript: bool,
) -> Result<()> {
    let mut cmd = Command::new(&tools.wasm_bindgen);
    cmd.current_dir(root)
        .arg(relative(root, wasm))
        .args(["--target", "web", "--out-dir"])
        .arg(relative(root, out_dir))
        .args(["--out-name", OUT_NAME]);
    if !typescript {
        cmd.arg("--no-typescript");
    }
    shell::run(&mut cmd)
}

/// wasm-opt `pass` (`-Oz`, `-Os`) from `input` to `output`.
///
/// # Errors
///
/// When wasm-opt fails.
pub fn wasm_opt(root: &Path, tools: &Tools, pass: &str, input: &Path, output: &Path) -> Result<()> {
    shell::run(
        Command::new(&tools.wasm_opt)
            .current_dir(root)
            .arg(pass)
            .args(WASM_OPT_FEATURES)
            .args(WASM_OPT_STRIP)
            .arg(relative(root, input))
            .arg("-o")
            .arg(relative(root, output)),
    )
}

/// `path` relative to the root when it is inside it: commands run there and read better so.
fn relative<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

/// The loader as readers download it: whole-line `//` comments and indentation removed (every
/// byte of it is on the critical path). The loader's own style keeps this safe: no line of code
/// starts with `//`, and no string spans lines.
pub fn strip_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod loader_tests {
    use super::strip_comments;

    #[test]
    fn strips_whole_line_comments_and_indentation_only() {
        let js =
            "/*! keep */\n  // a comment\n  var a = \"//not a comment\"; // trailing stays\n\n";
        assert_eq!(
            strip_comments(js),
            "/*! keep */\nvar a = \"//not a comment\"; // trailing stays\n"
        );
    }
}
