#![cfg(not(target_arch = "wasm32"))]
//! The TypeScript declarations publishers get in `www/dist/meterwall_wasm.d.ts` (written by
//! `src/web/types.rs`), checked with the TypeScript compiler in strict mode: realistic publisher
//! code compiles (`tests/types/ok.ts`), and wrong configs and calls do not
//! (`tests/types/bad.ts`, each mistake marked `// @ts-expect-error`: a marker with no error to
//! suppress fails the compile, TS2578, so the file compiles only if every mistake is rejected).
//!
//! Needs the built widget (`cargo xtask build`) and `tsc` from the npm package `typescript` in
//! `tools/` (`cargo xtask test` installs it). Whatever is missing fails the test, naming the fix.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The declarations wasm-bindgen generated, after checking they hold the current hand-written
/// section of `src/web/types.rs` (a stale build would test yesterday's types).
fn generated_declarations() -> PathBuf {
    let dts = root().join("www/dist/meterwall_wasm.d.ts");
    let text = fs::read_to_string(&dts).unwrap_or_else(|error| {
        panic!(
            "{} cannot be read ({error}): run `cargo xtask build` first",
            dts.display()
        )
    });
    assert!(
        text.contains("MeterwallConfig"),
        "{} has no MeterwallConfig: it was built without src/web/types.rs; run `cargo xtask build`",
        dts.display()
    );
    let source_path = root().join("src/web/types.rs");
    let source = fs::read_to_string(&source_path).expect("src/web/types.rs");
    let section = source
        .split_once("r#\"")
        .and_then(|(_, rest)| rest.rsplit_once("\"#"))
        .map(|(section, _)| section)
        .expect("src/web/types.rs holds one r#\"…\"# section");
    // wasm-bindgen re-indents the section, so compare line by line without indentation.
    let lines = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let wanted = lines(section);
    let have = lines(&text);
    assert!(
        have.windows(wanted.len()).any(|window| window == wanted),
        "{} does not hold the declarations now in src/web/types.rs: run `cargo xtask build`",
        dts.display()
    );
    dts
}

/// `tools/node_modules/.bin/tsc`, failing with the fix when it is not there.
fn tsc() -> PathBuf {
    let tsc = root().join("tools/node_modules/.bin/tsc");
    assert!(
        tsc.is_file(),
        "{} is missing: `cargo xtask test` installs it (the npm package typescript, pinned in \
         xtask/src/provision.rs)",
        tsc.display()
    );
    tsc
}

/// Compiles `file` (relative to the crate root) against the generated declarations, in strict
/// mode, emitting nothing. Returns tsc's exit status and its report.
fn compile(file: &str) -> (bool, String) {
    generated_declarations();
    let tsc = tsc();
    let started = Instant::now();
    let output = Command::new(&tsc)
        .current_dir(root())
        .args([
            "--noEmit",
            "--strict",
            "--target",
            "es2020",
            "--moduleResolution",
            "bundler",
            "--module",
            "esnext",
            file,
        ])
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} ({error}): it is a Node.js script; install Node.js, then \
                 `cargo xtask test` installs typescript",
                tsc.display()
            )
        });
    eprintln!(
        "[types] tsc {file}: {} in {:.1} s",
        output.status,
        started.elapsed().as_secs_f64()
    );
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

#[test]
fn types_accept_publisher_code() {
    let (ok, report) = compile("tests/types/ok.ts");
    assert!(
        ok,
        "publisher code that should compile against meterwall_wasm.d.ts does not:\n{report}"
    );
}

#[test]
fn types_reject_wrong_config() {
    let path = root().join("tests/types/bad.ts");
    let source = fs::read_to_string(&path).expect("tests/types/bad.ts");
    // The mistakes a publisher makes most; each must stay in the file, marked.
    let lines: Vec<&str> = source.lines().collect();
    for mistake in [
        r#"pageType: "paid""#,
        r#"registered: { mode: "manual" }"#,
        r#"onError: "maybe""#,
        "api.why(1)",
    ] {
        let at = lines
            .iter()
            .position(|line| line.contains(mistake))
            .unwrap_or_else(|| panic!("tests/types/bad.ts no longer tries {mistake}"));
        assert!(
            at > 0
                && lines[at - 1]
                    .trim_start()
                    .starts_with("// @ts-expect-error"),
            "tests/types/bad.ts: {mistake} must follow a `// @ts-expect-error` line"
        );
    }
    let marked = lines
        .iter()
        .filter(|line| line.trim_start().starts_with("// @ts-expect-error"))
        .count();
    let (ok, report) = compile("tests/types/bad.ts");
    assert!(
        ok,
        "of the {marked} wrong usages in tests/types/bad.ts, the ones tsc reports below were \
         accepted by meterwall_wasm.d.ts (TS2578: unused '@ts-expect-error') or failed for \
         another reason:\n{report}"
    );
    eprintln!("[types] {marked} wrong usages rejected");
}
