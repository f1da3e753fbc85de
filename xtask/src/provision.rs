//! Provisioning: make sure the wasm target, wasm-bindgen, wasm-opt (and Node.js to run it) and, for
//! tests, rustfmt, clippy, the browsers and their drivers are present, installing what is missing.
//! Quick when everything is there.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::shell;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// binaryen's wasm-opt, pinned so sizes only change when our code does. From npm, so the version is
/// ours to choose, not the distribution's, and it installs the same on any machine with Node.js.
pub const BINARYEN_VERSION: &str = "132.0.0";

/// axe-core, the accessibility rules engine the audit injects into the walled demo pages.
pub const AXE_VERSION: &str = "4.14.1";

/// TypeScript's compiler, which checks that the generated `meterwall_wasm.d.ts` accepts publisher
/// code and rejects wrong configs (`tests/types.rs`).
pub const TYPESCRIPT_VERSION: &str = "5.9.3";

/// terser, the JavaScript minifier for what readers download: the loader and the wasm-bindgen glue
/// (whose Rust doc comments and long names are a third of its gzip size).
pub const TERSER_VERSION: &str = "5.51.4";

/// The tools `cargo xtask build` needs, by absolute path.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub wasm_bindgen_test_runner: PathBuf,
    pub wasm_opt: PathBuf,
    /// terser's command-line script, run with `node`.
    pub terser: PathBuf,
}

/// The browsers and WebDriver servers the browser and end-to-end tests drive, by absolute path.
pub struct Browsers {
    pub chromedriver: PathBuf,
    pub geckodriver: PathBuf,
}

/// Provisions the build tools: the wasm32 target, wasm-bindgen-cli at the version in Cargo.lock,
/// wasm-opt and terser.
///
/// # Errors
///
/// When something cannot be installed; the error names it and the fix.
pub fn tools(root: &Path) -> Result<Tools> {
    wasm_target()?;
    // wasm-opt first: it may stop for Node.js, which is better said before wasm-bindgen-cli
    // compiles for minutes.
    let wasm_opt = wasm_opt(root)?;
    let (wasm_bindgen, wasm_bindgen_test_runner, version) = wasm_bindgen(root)?;
    shell::announce(&format!(
        "tools: {WASM_TARGET}, wasm-bindgen {version}, wasm-opt (binaryen {BINARYEN_VERSION}), terser {TERSER_VERSION}"
    ));
    Ok(Tools {
        wasm_bindgen,
        wasm_bindgen_test_runner,
        terser: root.join("tools/node_modules/terser/bin/terser"),
        wasm_opt,
    })
}

fn wasm_target() -> Result<()> {
    rustup_add(
        "target",
        &[WASM_TARGET],
        "rustup (to add the wasm32-unknown-unknown target)",
        "install Rust with rustup, or add the target to your toolchain by hand",
    )
}

/// Adds to the toolchain the rustup `kind`s (`target`, `component`) of `wanted` it lacks; `what`
/// and `fix` name rustup itself when it is missing.
fn rustup_add(kind: &str, wanted: &[&str], what: &str, fix: &str) -> Result<()> {
    let installed = shell::probe_all("rustup", &[kind, "list", "--installed"])
        .ok_or_else(|| Error::missing(what, fix))?;
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|name| !has_component(&installed, name))
        .collect();
    if !missing.is_empty() {
        shell::run(Command::new("rustup").args([kind, "add"]).args(&missing))?;
    }
    Ok(())
}

/// wasm-bindgen and wasm-bindgen-test-runner at exactly the version of the `wasm-bindgen` crate in
/// Cargo.lock: the CLI refuses a module built by another version.
fn wasm_bindgen(root: &Path) -> Result<(PathBuf, PathBuf, String)> {
    let lock_path = root.join("Cargo.lock");
    let lock = fs::read_to_string(&lock_path).map_err(|source| Error::io(&lock_path, source))?;
    let version = match locked_versions(&lock, "wasm-bindgen").as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Error::Check(
                "Cargo.lock has no wasm-bindgen package; is meterwall in the workspace?".into(),
            ))
        }
        many => {
            return Err(Error::Check(format!(
                "Cargo.lock has several wasm-bindgen versions ({}); pin one in Cargo.toml",
                many.join(", ")
            )))
        }
    };
    let found = || {
        Some((
            find_at_version("wasm-bindgen", &version)?,
            find_at_version("wasm-bindgen-test-runner", &version)?,
            version.clone(),
        ))
    };
    if let Some(paths) = found() {
        return Ok(paths);
    }
    // Not --locked: wasm-bindgen-cli's own lock file does not resolve at present.
    shell::run(shell::cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))?;
    found().ok_or_else(|| {
        Error::Check(format!(
            "installed wasm-bindgen-cli {version}, but found no wasm-bindgen and \
             wasm-bindgen-test-runner at that version on PATH or in $CARGO_HOME/bin: check \
             CARGO_INSTALL_ROOT and cargo's `install.root`, which put them elsewhere"
        ))
    })
}

/// `name` from PATH or cargo's bin directory whose `--version` says `version`.
fn find_at_version(name: &str, version: &str) -> Option<PathBuf> {
    [shell::which(name), shell::cargo_bin(name)]
        .into_iter()
        .flatten()
        .find(|path| {
            shell::probe(path, &["--version"])
                .is_some_and(|line| line.split_whitespace().nth(1) == Some(version))
        })
}

/// wasm-opt from the npm package `binaryen`, installed under `<root>/tools`. It is a Node.js script.
fn wasm_opt(root: &Path) -> Result<PathBuf> {
    let wasm_opt = root.join("tools/node_modules/.bin/wasm-opt");
    let current = npm_packages_current(root);
    install_missing(node_needs(current))?;
    if current {
        return Ok(wasm_opt);
    }
    // All packages in one command: a later `--no-save` install would prune the others.
    let package = format!("binaryen@{BINARYEN_VERSION}");
    let axe = format!("axe-core@{AXE_VERSION}");
    let typescript = format!("typescript@{TYPESCRIPT_VERSION}");
    let terser = format!("terser@{TERSER_VERSION}");
    shell::run(Command::new("npm").current_dir(root).args([
        "install",
        "--prefix",
        "tools",
        "--no-save",
        &package,
        &axe,
        &typescript,
        &terser,
    ]))?;
    if shell::probe(&wasm_opt, &["--version"]).is_none() {
        return Err(Error::Check(format!(
            "installed {package}, but `wasm-opt --version` does not run"
        )));
    }
    Ok(wasm_opt)
}

/// Whether `<root>/tools` holds wasm-opt and every npm package at its pinned version.
fn npm_packages_current(root: &Path) -> bool {
    let modules = root.join("tools/node_modules");
    let version_of = |package: &str| {
        fs::read_to_string(modules.join(package).join("package.json"))
            .ok()
            .and_then(|text| json_string_field(&text, "version"))
    };
    modules.join(".bin/wasm-opt").exists()
        && version_of("binaryen").as_deref() == Some(BINARYEN_VERSION)
        && version_of("axe-core").as_deref() == Some(AXE_VERSION)
        && version_of("typescript").as_deref() == Some(TYPESCRIPT_VERSION)
        && version_of("terser").as_deref() == Some(TERSER_VERSION)
}

/// Node.js always: the npm packages' wasm-opt and terser are Node.js scripts. npm only when the
/// packages in `tools/` are not all at their pinned versions.
fn node_needs(npm_packages_current: bool) -> Vec<&'static Need> {
    if npm_packages_current {
        vec![&NODE]
    } else {
        vec![&NODE, &NPM]
    }
}

/// The Debian packages `cargo xtask test` needs (Node.js, npm, the browsers and ChromeDriver, a
/// C++ compiler for the fuzzing run), all in one `apt-get`: a run that has to stop for them stops
/// before it compiles anything.
///
/// # Errors
///
/// When a package is missing and cannot be installed here; the error names the command to run.
pub fn test_packages(root: &Path) -> Result<()> {
    let mut needs = node_needs(npm_packages_current(root));
    needs.extend(&BROWSER_NEEDS);
    needs.push(&CPP);
    install_missing(needs)
}

/// rustfmt and clippy, which a `--profile minimal` toolchain lacks. rustup's proxy runs us with
/// RUSTUP_TOOLCHAIN set, so these are the components of the toolchain `cargo fmt` and `cargo clippy`
/// then run with.
///
/// # Errors
///
/// When rustup cannot add them.
pub fn lint_components() -> Result<()> {
    rustup_add(
        "component",
        &["rustfmt", "clippy"],
        "rustup (to add the rustfmt and clippy components)",
        "install Rust with rustup, or add rustfmt and clippy to your toolchain by hand",
    )
}

/// twiggy, the wasm size profiler, for `cargo xtask size`.
///
/// # Errors
///
/// When `cargo install twiggy` fails.
pub fn twiggy() -> Result<PathBuf> {
    if let Some(path) = shell::find("twiggy") {
        return Ok(path);
    }
    shell::run(shell::cargo().args(["install", "twiggy"]))?;
    shell::find("twiggy").ok_or_else(|| {
        Error::missing(
            "twiggy after `cargo install twiggy` (on PATH or in $CARGO_HOME/bin)",
            "check CARGO_INSTALL_ROOT and cargo's `install.root`, which put it elsewhere",
        )
    })
}

/// The nightly toolchain (minimal profile), installed with rustup when missing.
fn nightly() -> Result<()> {
    let toolchains = shell::probe_all("rustup", &["toolchain", "list"]).unwrap_or_default();
    if !has_plain_nightly(&toolchains) {
        shell::run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    Ok(())
}

/// cargo-fuzz and the nightly toolchain it needs, for the short fuzzing run of `cargo xtask test`.
///
/// # Errors
///
/// When the nightly toolchain or cargo-fuzz cannot be installed.
pub fn fuzz() -> Result<()> {
    nightly()?;
    install_missing([&CPP])?;
    cargo_tool("cargo-fuzz", CARGO_FUZZ_VERSION).map(drop)
}

/// cargo-fuzz and geckodriver, pinned: a new release (needing a newer rustc or Firefox) changes
/// nothing here until these do.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const GECKODRIVER_VERSION: &str = "0.37.1";

/// The crate `name`'s binary of the same name at exactly `version`: the one on PATH or in cargo's
/// bin directory if its `--version` names that version, else `cargo install name --version
/// version` (which replaces another version there).
fn cargo_tool(name: &str, version: &str) -> Result<PathBuf> {
    let at_version = |path: &PathBuf| {
        shell::probe(path, &["--version"])
            .is_some_and(|line| line.split_whitespace().any(|word| word == version))
    };
    let found = [shell::which(name), shell::cargo_bin(name)];
    if let Some(path) = found.into_iter().flatten().find(at_version) {
        return Ok(path);
    }
    shell::run(shell::cargo().args(["install", name, "--version", version]))?;
    shell::cargo_bin(name).filter(at_version).ok_or_else(|| {
        Error::missing(
            format!("{name} {version} after `cargo install {name} --version {version}`"),
            "check CARGO_INSTALL_ROOT and cargo's `install.root`: the build looks in \
             $CARGO_HOME/bin",
        )
    })
}

/// The standard library's source for the nightly toolchain, for `cargo xtask size`'s build-std
/// variant (installs the nightly toolchain first if needed, as [`fuzz`] does).
///
/// # Errors
///
/// When rustup cannot install them.
pub fn nightly_std() -> Result<()> {
    nightly()?;
    let installed = shell::probe_all(
        "rustup",
        &["component", "list", "--installed", "--toolchain", "nightly"],
    )
    .unwrap_or_default();
    if !installed.lines().any(|line| line.trim() == "rust-src") {
        shell::run(Command::new("rustup").args([
            "component",
            "add",
            "rust-src",
            "--toolchain",
            "nightly",
        ]))?;
    }
    Ok(())
}

/// Debian's wasm-opt (package `binaryen`, version 108 on Debian 12 and 13), which `cargo xtask
/// size` measures against the pinned npm one; installed with apt-get when missing.
///
/// # Errors
///
/// When it is missing and cannot be installed.
pub fn debian_wasm_opt() -> Result<PathBuf> {
    let path = PathBuf::from("/usr/bin/wasm-opt");
    if !path.exists() {
        apt_install(&[&Need {
            what: "Debian's wasm-opt",
            binaries: &["wasm-opt"],
            debian_package: "binaryen",
        }])?;
    }
    Ok(path)
}

/// A program from the system: the binaries that may provide it and the Debian package that does.
struct Need {
    what: &'static str,
    binaries: &'static [&'static str],
    debian_package: &'static str,
}

impl Need {
    fn is_missing(&self) -> bool {
        self.binaries.iter().all(|bin| shell::which(bin).is_none())
    }
}

static NODE: Need = Need {
    what: "Node.js (runs binaryen's wasm-opt and terser)",
    binaries: &["node"],
    debian_package: "nodejs",
};

static CPP: Need = Need {
    what: "a C++ compiler (cargo-fuzz builds libFuzzer from its C++ sources)",
    binaries: &["c++"],
    debian_package: "g++",
};

static NPM: Need = Need {
    what: "npm (installs binaryen, terser, axe-core and TypeScript into tools/)",
    binaries: &["npm"],
    debian_package: "npm",
};

const BROWSER_NEEDS: [Need; 3] = [
    Need {
        what: "Chromium",
        binaries: &["chromium"],
        debian_package: "chromium",
    },
    Need {
        what: "ChromeDriver",
        binaries: &["chromedriver"],
        debian_package: "chromium-driver",
    },
    Need {
        what: "Firefox",
        binaries: &["firefox-esr", "firefox"],
        debian_package: "firefox-esr",
    },
];

/// Provisions Chromium and ChromeDriver, Firefox (Debian packages) and geckodriver (crates.io), then
/// checks that each one runs. A missing browser is a failure, never a skip.
///
/// # Errors
///
/// When a package cannot be installed (with the command to run), or a binary does not run.
pub fn browsers() -> Result<Browsers> {
    install_missing(&BROWSER_NEEDS)?;
    // Mozilla ships geckodriver as a crate; Debian 12 does not package it.
    let geckodriver = cargo_tool("geckodriver", GECKODRIVER_VERSION)?;

    let chromium = runs(shell::which("chromium"));
    let chromedriver = runs(shell::which("chromedriver"));
    let firefox = runs(shell::which("firefox-esr").or_else(|| shell::which("firefox")));
    let geckodriver = runs(Some(geckodriver));
    let (Some(chromium), Some(chromedriver), Some(firefox), Some(geckodriver)) =
        (&chromium, &chromedriver, &firefox, &geckodriver)
    else {
        let broken: Vec<&str> = [
            ("chromium", chromium.is_none()),
            ("chromedriver", chromedriver.is_none()),
            ("firefox-esr or firefox", firefox.is_none()),
            ("geckodriver", geckodriver.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, broken)| broken.then_some(name))
        .collect();
        return Err(Error::Check(format!(
            "installed, but `--version` does not run: {}",
            broken.join(", ")
        )));
    };
    shell::announce("browsers and drivers");
    for (path, version) in [chromium, chromedriver, firefox, geckodriver] {
        println!("    {:<36} {version}", path.display());
    }
    if let (Some(browser), Some(driver)) = (major(&chromium.1), major(&chromedriver.1)) {
        if browser != driver {
            return Err(Error::Check(format!(
                "Chromium {browser} and ChromeDriver {driver} differ; install matching \
                 versions (Debian's chromium and chromium-driver always match)"
            )));
        }
    }
    Ok(Browsers {
        chromedriver: chromedriver.0.clone(),
        geckodriver: geckodriver.0.clone(),
    })
}

/// The binary at `path` and the first line of its `--version`, if it runs.
fn runs(path: Option<PathBuf>) -> Option<(PathBuf, String)> {
    let path = path?;
    let version = shell::probe(&path, &["--version"])?;
    Some((path, version))
}

/// Installs the Debian packages of the needs whose binaries are not on PATH.
fn install_missing<'a>(needs: impl IntoIterator<Item = &'a Need>) -> Result<()> {
    let missing: Vec<&Need> = needs.into_iter().filter(|need| need.is_missing()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// Installs Debian packages when we may (root on Debian or a derivative that uses Debian's
/// packages); otherwise fails with the command to run, or on other systems with what to install.
fn apt_install(missing: &[&Need]) -> Result<()> {
    let package_list: Vec<&str> = missing.iter().map(|need| need.debian_package).collect();
    let packages = package_list.join(" ");
    let names = missing
        .iter()
        .map(|need| need.what)
        .collect::<Vec<_>>()
        .join(", ");
    let os_release = ["/etc/os-release", "/usr/lib/os-release"]
        .into_iter()
        .find_map(|path| fs::read_to_string(path).ok())
        .unwrap_or_default();
    if !is_debian(&os_release) || shell::which("apt-get").is_none() {
        // Ubuntu has no firefox-esr and ships Chromium as a snap; other systems name their
        // packages differently. So say which programs, not which packages.
        let binaries = missing
            .iter()
            .map(|need| {
                need.binaries
                    .iter()
                    .map(|bin| format!("`{bin}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::missing(
            names,
            format!(
                "install with this system's package manager so that PATH has {binaries} \
                 (xtask installs them itself only as root on Debian, where the packages are: \
                 {packages})"
            ),
        ));
    }
    let is_root = shell::probe("id", &["-u"]).as_deref() == Some("0");
    if !is_root {
        return Err(Error::missing(
            names,
            format!(
                "sudo apt-get update && sudo apt-get install -y --no-install-recommends {packages}"
            ),
        ));
    }
    println!("    installing Debian packages for {names}: {packages}");
    shell::run(Command::new("apt-get").arg("update"))?;
    shell::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&package_list),
    )
}

/// Whether an /etc/os-release describes Debian or a derivative that installs Debian's own
/// packages (`ID_LIKE=debian`), but not Ubuntu or its derivatives (`ID_LIKE="ubuntu debian"`),
/// whose archive has no `firefox-esr` and whose `chromium` is a snap.
fn is_debian(os_release: &str) -> bool {
    let mut ids = Vec::new();
    for line in os_release.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        if key == "ID" || key == "ID_LIKE" {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            ids.extend(value.split_whitespace().map(str::to_owned));
        }
    }
    ids.iter().any(|id| id == "debian") && !ids.iter().any(|id| id == "ubuntu")
}

/// Whether `rustup toolchain list` shows the plain `nightly` toolchain, the one `cargo +nightly`
/// runs (`nightly-x86_64-unknown-linux-gnu`), not only a dated one
/// (`nightly-2025-01-01-x86_64-unknown-linux-gnu`).
fn has_plain_nightly(toolchain_list: &str) -> bool {
    toolchain_list
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter_map(|name| name.strip_prefix("nightly-"))
        .any(|host| !host.is_empty() && !starts_with_date(host))
}

/// Whether `text` starts with a `YYYY-MM-DD` date.
fn starts_with_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10
        && bytes[..10].iter().enumerate().all(|(i, byte)| match i {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// Whether `rustup component list --installed` lists `component`, which it names with the host
/// (`rustfmt-x86_64-unknown-linux-gnu`) or, for host-independent ones, alone (`rust-src`). For a
/// component whose name, plus `-`, starts no other's: `rustfmt` and `clippy`, not `rust`. Targets
/// (`rustup target list --installed`) are listed alone, and no target name extends another's.
fn has_component(component_list: &str, component: &str) -> bool {
    component_list.lines().map(str::trim).any(|line| {
        line == component
            || line
                .strip_prefix(component)
                .is_some_and(|rest| rest.starts_with('-'))
    })
}

/// Every version of package `name` in a Cargo.lock.
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let mut versions = Vec::new();
    let mut current_name = None;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            current_name = None;
        } else if let Some(value) = toml_string(line, "name") {
            current_name = Some(value);
        } else if let Some(value) = toml_string(line, "version") {
            if current_name == Some(name) {
                versions.push(value.to_owned());
            }
        }
    }
    versions
}

/// The value of a `key = "value"` line.
fn toml_string<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    rest.trim().strip_prefix('"')?.strip_suffix('"')
}

/// The string value of the first `"key": "value"` in a JSON text (package.json's version).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let quoted_key = format!("\"{key}\"");
    let rest = &json[json.find(&quoted_key)? + quoted_key.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// The major version in a `--version` line: `Chromium 156.0.8078.108 built on ...` gives 156.
fn major(version_line: &str) -> Option<u32> {
    version_line
        .split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?
        .split('.')
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "wasm-bindgen-macro",
]

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.130"
"#;

    #[test]
    fn reads_the_locked_wasm_bindgen_version() {
        assert_eq!(locked_versions(LOCK, "wasm-bindgen"), ["0.2.130"]);
        assert!(locked_versions(LOCK, "serde").is_empty());
    }

    #[test]
    fn reads_the_npm_package_version() {
        let json = r#"{ "name": "binaryen", "description": "x", "version": "132.0.0", "x": 1 }"#;
        assert_eq!(
            json_string_field(json, "version").as_deref(),
            Some("132.0.0")
        );
        assert_eq!(json_string_field(json, "main"), None);
    }

    #[test]
    fn reads_major_versions() {
        assert_eq!(
            major("Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)"),
            Some(156)
        );
        assert_eq!(
            major("ChromeDriver 156.0.8078.108 (730482a9-refs/branch-heads/8078@{#2244})"),
            Some(156)
        );
        assert_eq!(major("no digits here"), None);
    }

    #[test]
    fn recognises_debian_but_not_ubuntu() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                      VERSION_ID=\"12\"\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n";
        assert!(is_debian(debian));
        // A derivative on Debian's archive.
        assert!(is_debian("ID=kali\nID_LIKE=debian\n"));
        assert!(!is_debian(
            "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n"
        ));
        assert!(!is_debian("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n"));
        assert!(!is_debian("ID=fedora\nVERSION_ID=41\n"));
        assert!(!is_debian("ID='arch'\n"));
        assert!(!is_debian(""));
        // Only the ID keys count.
        assert!(!is_debian(
            "ID=fedora\nHOME_URL=debian\nVERSION_CODENAME=debian\n"
        ));
    }

    #[test]
    fn finds_only_the_plain_nightly_toolchain() {
        let plain = "stable-x86_64-unknown-linux-gnu (active, default)\n\
                     nightly-x86_64-unknown-linux-gnu\n\
                     1.95.0-x86_64-unknown-linux-gnu\n";
        assert!(has_plain_nightly(plain));
        assert!(has_plain_nightly(
            "nightly-aarch64-apple-darwin (default)\n"
        ));
        let dated = "stable-x86_64-unknown-linux-gnu (default)\n\
                     nightly-2025-01-01-x86_64-unknown-linux-gnu\n";
        assert!(!has_plain_nightly(dated));
        assert!(!has_plain_nightly(
            "stable-x86_64-unknown-linux-gnu (default)\n"
        ));
        assert!(!has_plain_nightly("no installed toolchains\n"));
        assert!(!has_plain_nightly(""));
    }

    #[test]
    fn finds_installed_components() {
        let list = "cargo-x86_64-unknown-linux-gnu\n\
                    clippy-x86_64-unknown-linux-gnu\n\
                    rust-src\n\
                    rust-std-wasm32-unknown-unknown\n\
                    rustc-x86_64-unknown-linux-gnu\n";
        assert!(has_component(list, "clippy"));
        assert!(has_component(list, "rust-src"));
        assert!(!has_component(list, "rustfmt"));
        assert!(!has_component(list, "rust-docs"));
        assert!(!has_component(
            "clippy-preview-x86_64-unknown-linux-gnu\n",
            "rustfmt"
        ));
        assert!(!has_component("", "clippy"));
    }

    #[test]
    fn asks_for_npm_only_when_the_npm_packages_need_installing() {
        let packages = |needs: Vec<&Need>| -> Vec<&str> {
            needs.iter().map(|need| need.debian_package).collect()
        };
        assert_eq!(packages(node_needs(true)), ["nodejs"]);
        assert_eq!(packages(node_needs(false)), ["nodejs", "npm"]);
    }
}
