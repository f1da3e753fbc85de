//! `cargo xtask test`: everything CI checks, in order, stopping at the first failure; then a summary
//! of each step's time and the tests counted in each tier.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::build;
use crate::error::{Error, Result};
use crate::provision::{self, Browsers, Tools, WASM_TARGET};
use crate::shell;

/// Passed and failed tests, summed over cargo's `test result:` lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

impl Counts {
    fn add(self, other: Counts) -> Counts {
        Counts {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
        }
    }
}

/// What ran so far: each step's name, time and outcome, and the tests each tier counted.
#[derive(Default)]
struct Report {
    steps: Vec<(String, Duration, bool)>,
    tiers: Vec<(&'static str, Counts)>,
}

impl Report {
    /// Runs one step, timing it; a failure is recorded and names the step.
    fn step<T>(&mut self, name: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let result = run();
        self.steps
            .push((name.to_owned(), start.elapsed(), result.is_ok()));
        result.map_err(|source| Error::Step {
            step: name.to_owned(),
            source: Box::new(source),
        })
    }

    fn total(&self) -> Counts {
        self.tiers
            .iter()
            .fold(Counts::default(), |sum, (_, counts)| sum.add(*counts))
    }

    fn print(&self) {
        shell::announce("summary");
        for (name, time, ok) in &self.steps {
            let outcome = if *ok { "OK" } else { "FAILED" };
            println!("{name:<40} {outcome:<7} {:>7.1}s", time.as_secs_f64());
        }
        let tier = |name: &str| {
            self.tiers
                .iter()
                .find(|(tier, _)| *tier == name)
                .map(|(_, counts)| counts.passed)
        };
        if let Some(passed) = tier("host") {
            println!("host tests: {passed} passed");
        }
        if let Some(passed) = tier("English copy alone") {
            println!("host tests of the build with the English copy alone: {passed} passed");
        }
        let browsers: Vec<String> = ["Chrome", "Firefox"]
            .into_iter()
            .filter_map(|browser| Some(format!("{browser} {} passed", tier(browser)?)))
            .collect();
        if !browsers.is_empty() {
            println!("browser tests: {}", browsers.join(", "));
        }
        let english: Vec<String> = ENGLISH_TIERS
            .into_iter()
            .zip(["Chrome", "Firefox"])
            .filter_map(|(name, browser)| Some(format!("{browser} {} passed", tier(name)?)))
            .collect();
        if !english.is_empty() {
            println!(
                "browser tests of the build with the English copy alone: {}",
                english.join(", ")
            );
        }
        if let Some(passed) = tier("e2e") {
            println!("end-to-end tests: {passed} passed");
        }
    }
}

/// The tiers of the browser tests of the build with the English copy alone, Chrome's then
/// Firefox's.
const ENGLISH_TIERS: [&str; 2] = ["Chrome, English copy alone", "Firefox, English copy alone"];

/// Runs every check CI runs. Prints the summary whether or not a step failed.
///
/// # Errors
///
/// The first step that failed.
pub fn test(root: &Path) -> Result<()> {
    let mut report = Report::default();
    let result = run_steps(root, &mut report);
    report.print();
    result?;
    let total = report.total();
    println!("{} passed, {} failed", total.passed, total.failed);
    Ok(())
}

fn run_steps(root: &Path, report: &mut Report) -> Result<()> {
    // What may stop for a command to run by hand (system packages) comes first, what compiles for
    // minutes (wasm-bindgen-cli, cargo-fuzz) last.
    let (tools, browsers) = report.step("provision", || {
        provision::test_packages(root)?;
        provision::lint_components()?;
        let browsers = provision::browsers()?;
        let tools = provision::tools(root)?;
        provision::fuzz()?;
        Ok((tools, browsers))
    })?;

    report.step("fmt", || {
        shell::run(
            shell::cargo()
                .current_dir(root)
                .args(["fmt", "--all", "--check"]),
        )
    })?;
    report.step("clippy (host)", || {
        shell::run(shell::cargo().current_dir(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    report.step("clippy (wasm32)", || clippy_wasm(root, &["--all-targets"]))?;
    report.step("build", || build::build(root, &tools, None))?;

    let host = report.step("host tests", || {
        let mut cmd = shell::cargo();
        // The end-to-end tests drive real browsers one at a time: they run last, on their own.
        cmd.current_dir(root).args([
            "test",
            "--workspace",
            "--",
            "--skip",
            "e2e_",
            "--skip",
            "a11y_",
        ]);
        Ok(count_results(&shell::tee(cmd)?))
    })?;
    report.tiers.push(("host", host));

    // The widget as `cargo xtask build --languages en` builds it, without the French, German and
    // Spanish copy: clippy on it and on its unit tests, and the copy's and the config's tests,
    // which check what such a build does on a page in a language it leaves out. (The doctests
    // show the default build's languages.)
    let english = report.step("host tests, English copy alone", || {
        // The wasm and the browser tests that run in that build, below.
        clippy_wasm(root, &["--lib", "--tests", "--no-default-features"])?;
        shell::run(shell::cargo().current_dir(root).args([
            "clippy",
            "-p",
            "meterwall",
            "--lib",
            "--tests",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ]))?;
        let mut cmd = shell::cargo();
        cmd.current_dir(root).args([
            "test",
            "-p",
            "meterwall",
            "--lib",
            "--no-default-features",
            "--",
            "copy::",
            "config::",
        ]);
        Ok(count_results(&shell::tee(cmd)?))
    })?;
    report.tiers.push(("English copy alone", english));

    for target in FUZZ_TARGETS {
        report.step(&format!("fuzz {target} ({FUZZ_SECONDS} s)"), || {
            fuzz(root, target)
        })?;
    }

    for browser in ["Chrome", "Firefox"] {
        let counts = report.step(&format!("browser tests ({browser})"), || {
            browser_tests(root, &tools, &browsers, browser, &[])
        })?;
        report.tiers.push((browser, counts));
    }
    same_in_both(&report.tiers)?;
    // The build `cargo xtask build --languages en` makes, in both browsers: what the page shell
    // does on a page in a language it leaves out, and every other browser test in that build
    // (those of the French, German and Spanish copy are compiled only where the copy is).
    for (browser, tier) in ["Chrome", "Firefox"].into_iter().zip(ENGLISH_TIERS) {
        let counts = report.step(&format!("browser tests, English alone ({browser})"), || {
            browser_tests(root, &tools, &browsers, browser, &["--no-default-features"])
        })?;
        report.tiers.push((tier, counts));
    }
    same_in_both(&report.tiers)?;

    let e2e = report.step("end-to-end tests", || {
        let mut cmd = shell::cargo();
        cmd.current_dir(root)
            .env("CHROMEDRIVER", &browsers.chromedriver)
            .env("GECKODRIVER", &browsers.geckodriver)
            .args(["test", "-p", "meterwall"])
            .args([
                "--test",
                "e2e",
                "--test",
                "a11y",
                "--test",
                "csp_e2e",
                "--test",
                "faults_e2e",
                "--test",
                "loader_e2e",
            ])
            .args(["--", "--test-threads=1"]);
        let counts = count_results(&shell::tee(cmd)?);
        if counts.passed == 0 {
            return Err(Error::Check(
                "no end-to-end test ran (tests/e2e.rs has no e2e_* test?)".into(),
            ));
        }
        Ok(counts)
    })?;
    report.tiers.push(("e2e", e2e));
    Ok(())
}

/// Clippy on the widget for wasm32, warnings denied, with `targets` (which targets, which
/// features).
fn clippy_wasm(root: &Path, targets: &[&str]) -> Result<()> {
    shell::run(
        shell::cargo()
            .current_dir(root)
            .args(["clippy", "-p", "meterwall", "--target", WASM_TARGET])
            .args(targets)
            .args(["--", "-D", "warnings"]),
    )
}

/// The cargo-fuzz targets in `fuzz/`, each run briefly on every test run; longer runs are in the
/// README.
const FUZZ_TARGETS: [&str; 2] = ["record_decode", "config_parse"];
const FUZZ_SECONDS: u32 = 20;

/// Fuzzes one target from the committed seeds. The working corpus lives in the git-ignored
/// `fuzz/corpus/<target>`, so new inputs never land in the seeds.
fn fuzz(root: &Path, target: &str) -> Result<()> {
    let fuzz_dir = root.join("fuzz");
    let corpus = fuzz_dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| Error::Check(format!("cannot create {}: {e}", corpus.display())))?;
    let seconds = format!("-max_total_time={FUZZ_SECONDS}");
    // rustup's `cargo` proxy, not $CARGO (the stable toolchain's own binary): only the proxy
    // understands `+nightly`, which cargo-fuzz's sanitizer flags need.
    let mut cmd = std::process::Command::new("cargo");
    cmd.current_dir(&fuzz_dir)
        .env_remove("RUSTUP_TOOLCHAIN")
        .args(["+nightly", "fuzz", "run", target])
        .arg(&corpus)
        .arg(fuzz_dir.join("seeds").join(target))
        .args(["--", &seconds]);
    shell::run(&mut cmd)
}

/// The widget's wasm-bindgen tests in one headless browser ("Chrome" or "Firefox", as
/// wasm-bindgen-test-runner names them). The runner picks the browser from which driver variable
/// is set, Firefox first, then Safari, then Chrome; so only the one we want is set.
/// Fails unless the last two tiers, one browser's pass and the other's, ran as many tests.
fn same_in_both(tiers: &[(&'static str, Counts)]) -> Result<()> {
    if let [.., (first, a), (second, b)] = tiers {
        if a.passed != b.passed {
            return Err(Error::Check(format!(
                "the browser tests ran {} tests in {first} but {} in {second}: every browser test \
                 runs in both (look for a test that only one browser's pass compiled or ran)",
                a.passed, b.passed
            )));
        }
    }
    Ok(())
}

/// The browser tests in one browser, for the crate built with `features` (cargo's arguments).
fn browser_tests(
    root: &Path,
    tools: &Tools,
    browsers: &Browsers,
    browser: &str,
    features: &[&str],
) -> Result<Counts> {
    let mut cmd = shell::cargo();
    cmd.current_dir(root)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            &tools.wasm_bindgen_test_runner,
        )
        // Generous: the first test in a cold browser on a busy 2-core machine is slow.
        .env("WASM_BINDGEN_TEST_TIMEOUT", "180")
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "60")
        .env_remove("SAFARIDRIVER")
        // Inherited, these would wait for a person at a visible browser, or run the tests under
        // Node.js or outside the browser's page.
        .env_remove("NO_HEADLESS")
        .env_remove("WASM_BINDGEN_TEST_ONLY_NODE")
        .env_remove("WASM_BINDGEN_TEST_ONLY_WEB");
    if browser == "Chrome" {
        cmd.env("CHROMEDRIVER", &browsers.chromedriver)
            // The runner takes any driver output on stderr at start-up for a failed start.
            .env("CHROMEDRIVER_ARGS", "--silent")
            .env_remove("GECKODRIVER");
    } else {
        cmd.env("GECKODRIVER", &browsers.geckodriver)
            .env_remove("CHROMEDRIVER");
    }
    // Not `cargo test -q`: cargo passes --quiet on to the runner, which rejects it.
    cmd.args([
        "test",
        "-p",
        "meterwall",
        "--target",
        WASM_TARGET,
        "--tests",
    ])
    .args(features);
    let output = shell::tee(cmd)?;
    check_browser_output(&output, browser).map_err(Error::Check)
}

/// Sums the `test result:` lines cargo test prints, one per test binary.
pub fn count_results(output: &str) -> Counts {
    output
        .lines()
        .filter_map(parse_result_line)
        .fold(Counts::default(), Counts::add)
}

/// `test result: ok. 14 passed; 0 failed; 0 ignored; ...` gives 14 passed, 0 failed.
fn parse_result_line(line: &str) -> Option<Counts> {
    let rest = line.trim().strip_prefix("test result:")?;
    let mut counts = Counts::default();
    for part in rest.split(';') {
        let mut words = part.split_whitespace().rev();
        let (Some(label), Some(number)) = (words.next(), words.next()) else {
            continue;
        };
        match (label, number.parse()) {
            ("passed", Ok(n)) => counts.passed = n,
            ("failed", Ok(n)) => counts.failed = n,
            _ => {}
        }
    }
    Some(counts)
}

/// Checks that every test binary that ran tests ran them in `browser`, and that some did. Without
/// `wasm_bindgen_test_configure!(run_in_browser)` a test file runs under Node.js, and the runner
/// then prints no browser line at all: only its `running N tests`.
fn check_browser_output(output: &str, browser: &str) -> std::result::Result<Counts, String> {
    let mut binary = "a test binary";
    let mut ran_in: Option<&str> = None;
    let mut counts = Counts::default();
    for line in output.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Running headless tests in ") {
            ran_in = rest.split_whitespace().next();
        } else if let Some(rest) = trimmed.strip_prefix("Running ") {
            // cargo's `     Running tests/web.rs (target/...)`: a new test binary starts.
            binary = rest.split(" (").next().unwrap_or(rest);
            ran_in = None;
        } else if let Some(result) = parse_result_line(trimmed) {
            match ran_in {
                Some(name) if name == browser => counts = counts.add(result),
                Some(name) => {
                    return Err(format!(
                        "{binary} ran in {name}, not {browser}: check the driver variables"
                    ))
                }
                None => {
                    return Err(format!(
                        "{binary} ran outside a browser (under Node.js): add \
                         `wasm_bindgen_test_configure!(run_in_browser);` to it"
                    ))
                }
            }
        }
    }
    if counts.passed == 0 {
        return Err(format!("no browser test ran in {browser}"));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_browsers_of_a_pass_must_run_as_many_tests() {
        let counts = |passed| Counts { passed, failed: 0 };
        // Only the last two tiers count: an earlier pass with other numbers is its own.
        let tiers = [
            ("host", counts(9)),
            ("Chrome", counts(5)),
            ("Firefox", counts(5)),
        ];
        assert!(same_in_both(&tiers).is_ok());
        let tiers = [
            ("Chrome", counts(5)),
            ("Firefox", counts(5)),
            (ENGLISH_TIERS[0], counts(4)),
            (ENGLISH_TIERS[1], counts(3)),
        ];
        let err = same_in_both(&tiers).unwrap_err().to_string();
        assert!(
            err.contains(
                "4 tests in Chrome, English copy alone but 3 in Firefox, English copy alone"
            ),
            "{err}"
        );
    }

    const CHROME_RUN: &str = "\
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.06s
     Running unittests src/lib.rs (target/wasm32-unknown-unknown/debug/deps/wbt-1c4e5.wasm)
no tests to run!
     Running tests/web.rs (target/wasm32-unknown-unknown/debug/deps/web-aaf74.wasm)
Set WASM_BINDGEN_TEST_TIMEOUT to 180 seconds...
Running headless tests in Chrome on `http://127.0.0.1:37143/`
Try find `webdriver.json` for configure browser's capabilities:
Ok
Loading Wasm module...

running 2 tests
test has_document ... ok
test adds ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 filtered out; finished in 0.01s
";

    const NODE_RUN: &str = "\
     Running tests/node.rs (target/wasm32-unknown-unknown/debug/deps/node-1e047.wasm)
running 1 test
test node_adds ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 filtered out; finished in 0.02s
";

    #[test]
    fn counts_result_lines() {
        let output =
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 3 filtered out; \
                      finished in 0.20s\n\
                      test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured\n\
                      test result: ok. 0 passed; 0 failed; 0 ignored\n";
        assert_eq!(
            count_results(output),
            Counts {
                passed: 15,
                failed: 2
            }
        );
    }

    #[test]
    fn browser_run_counts_tests_in_the_named_browser() {
        assert_eq!(
            check_browser_output(CHROME_RUN, "Chrome"),
            Ok(Counts {
                passed: 2,
                failed: 0
            })
        );
    }

    #[test]
    fn browser_run_in_another_browser_fails() {
        let error = check_browser_output(CHROME_RUN, "Firefox").unwrap_err();
        assert!(error.contains("ran in Chrome, not Firefox"), "{error}");
    }

    #[test]
    fn tests_run_under_node_fail_and_name_the_file() {
        let output = format!("{CHROME_RUN}{NODE_RUN}");
        let error = check_browser_output(&output, "Chrome").unwrap_err();
        assert!(
            error.starts_with("tests/node.rs ran outside a browser"),
            "{error}"
        );
    }

    #[test]
    fn no_browser_test_at_all_fails() {
        let output = "     Running unittests src/lib.rs (target/x.wasm)\nno tests to run!\n";
        let error = check_browser_output(output, "Firefox").unwrap_err();
        assert_eq!(error, "no browser test ran in Firefox");
    }
}
