#![cfg(not(target_arch = "wasm32"))]
//! The TypeScript declarations publishers get in `www/dist/meterwall_wasm.d.ts` (written by
//! `src/web/types.rs`), checked with the TypeScript compiler in strict mode: realistic publisher
//! code compiles (`tests/types/ok.ts`, and `EVENTS_OK` below on each event's detail and
//! `mount()`'s answers), and wrong configs, calls and event reads do not (`tests/types/bad.ts` and
//! `EVENTS_BAD`, each mistake marked `// @ts-expect-error`: a marker with no error to suppress
//! fails the compile, TS2578, so the file compiles only if every mistake is rejected).
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

/// Checks that each of `mistakes` is still in `source` (the file `name`), on the line after a
/// `// @ts-expect-error` marker; returns how many lines are marked.
fn marked(name: &str, source: &str, mistakes: &[&str]) -> usize {
    let lines: Vec<&str> = source.lines().collect();
    for mistake in mistakes {
        let at = lines
            .iter()
            .position(|line| line.contains(mistake))
            .unwrap_or_else(|| panic!("{name} no longer tries {mistake}"));
        assert!(
            at > 0
                && lines[at - 1]
                    .trim_start()
                    .starts_with("// @ts-expect-error"),
            "{name}: {mistake} must follow a `// @ts-expect-error` line"
        );
    }
    lines
        .iter()
        .filter(|line| line.trim_start().starts_with("// @ts-expect-error"))
        .count()
}

/// Compiles TypeScript `source` written to `name` in the tests' scratch directory, its
/// `"@meterwall"` import pointing at the generated declarations.
fn compile_source(name: &str, source: &str) -> (bool, String) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("types");
    fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    let module = root().join("www/dist/meterwall_wasm");
    let import = format!("\"{}\"", module.to_string_lossy().replace('\\', "/"));
    let path = dir.join(name);
    fs::write(&path, source.replace("\"@meterwall\"", &import))
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    compile(path.to_str().expect("a UTF-8 scratch path"))
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
    let marked = marked(
        "tests/types/bad.ts",
        &source,
        &[
            r#"pageType: "paid""#,
            r#"registered: { mode: "manual" }"#,
            r#"onError: "maybe""#,
            "api.why(1)",
        ],
    );
    let (ok, report) = compile("tests/types/bad.ts");
    assert!(
        ok,
        "of the {marked} wrong usages in tests/types/bad.ts, the ones tsc reports below were \
         accepted by meterwall_wasm.d.ts (TS2578: unused '@ts-expect-error') or failed for \
         another reason:\n{report}"
    );
    eprintln!("[types] {marked} wrong usages rejected");
}

/// Publisher code that must compile: every event's own detail, on `document` and through `on()`,
/// and `mount()`'s decision, promise or `null`, with its refusal caught.
const EVENTS_OK: &str = r#"
// Publisher code about events and mount()'s answers: each event's detail is its own type.
import type {
    MeterwallApi,
    MeterwallDecision,
    MeterwallDecisionDetail,
    MeterwallErrorDetail,
    MeterwallEventDetail,
    MeterwallEventDetails,
    MeterwallEventName,
    MeterwallLockDetail,
    MeterwallReadyDetail,
} from "@meterwall";

// Every event is in DocumentEventMap, with the detail on() gives.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const onDocument: { [N in MeterwallEventName]: Same<DocumentEventMap[`meterwall:${N}`]["detail"], MeterwallEventDetail<N>> } = {
    ready: true,
    view: true,
    "before-lock": true,
    lock: true,
    seen: true,
    register: true,
    unlock: true,
    "subscribe-click": true,
    "login-click": true,
    error: true,
};

document.addEventListener("meterwall:error", (e) => {
    const message: string = e.detail.message;
    const version: 1 = e.detail.version;
    console.warn(`meterwall v${version}: ${message}`);
});
document.addEventListener("meterwall:ready", (e) => {
    const ready: MeterwallReadyDetail = e.detail;
    console.log(ready.version === 1);
});
document.addEventListener("meterwall:view", (e) => {
    const decision: MeterwallDecision = e.detail;
    const shown: "register" | "unlock" | "subscribe" | undefined = e.detail.wallType;
    console.log(decision.wall, shown, e.detail.version);
});
document.addEventListener("meterwall:before-lock", (e) => {
    if (e.detail.wall === "subscribe") e.preventDefault();
});
document.addEventListener("meterwall:lock", (e) => {
    const wall: "register" | "unlock" | "subscribe" = e.detail.wall;
    const shown: "register" | "unlock" | "subscribe" = e.detail.wallType;
    console.log(wall === shown);
});
document.addEventListener("meterwall:seen", (e) => console.log(e.detail.remaining));
document.addEventListener("meterwall:register", (e) => console.log(e.detail.tier));
document.addEventListener("meterwall:unlock", (e) => console.log(e.detail.used, e.detail.limit));
document.addEventListener("meterwall:subscribe-click", (e) => console.log(e.detail?.reason));
document.addEventListener("meterwall:login-click", (e) => {
    if (e.detail !== null) console.log(e.detail.counted);
});

declare const api: MeterwallApi;
api.on("error", (detail) => console.warn(detail.message));
api.on("ready", (detail: MeterwallReadyDetail) => console.log(detail.version));
api.on("view", (detail) => console.log(detail.remaining, detail.wallType));
api.on("lock", (detail: MeterwallLockDetail) => console.log(detail.wallType));
api.on("seen", (detail: MeterwallDecisionDetail) => console.log(detail.wall));

// One handler for the decision events, and one for every event, telling them apart.
const track = (detail: MeterwallDecisionDetail | null) => console.log(detail?.used);
const decisions = ["view", "before-lock", "lock", "seen", "register", "unlock", "subscribe-click", "login-click"] as const;
for (const name of decisions) api.on(name, track);
const names: MeterwallEventName[] = ["ready", "view", "error"];
for (const name of names) {
    api.on(name, (detail) => {
        if (detail === null) return;
        if ("message" in detail) {
            const error: MeterwallErrorDetail = detail;
            console.warn(error.message);
        } else if ("wall" in detail) {
            const decision: MeterwallDecisionDetail = detail;
            console.log(decision.wall);
        } else {
            const ready: MeterwallReadyDetail = detail;
            console.log(ready.version);
        }
    });
}
function log<N extends MeterwallEventName>(name: N, detail: MeterwallEventDetail<N>): void {
    console.log(name, detail);
}
const failed: MeterwallEventDetails["error"] = { version: 1, message: "no article element" };
log("error", failed);

// mount(): the decision, a promise of it, or null; it throws when refused.
function next(articleId: string): void {
    let answer: ReturnType<MeterwallApi["mount"]>;
    try {
        answer = api.mount({ articleId });
    } catch (refused) {
        console.warn("meterwall:", refused);
        return;
    }
    if (answer instanceof Promise) {
        void answer.then((later) => console.log(later?.wall));
    } else if (answer !== null) {
        const now: MeterwallDecision = answer;
        console.log(now.wall);
    }
}
async function nextAsync(): Promise<MeterwallDecision | null> {
    const decision = await api.mount({ pageType: "premium" });
    if (decision?.wall === null) console.log("open");
    return decision;
}
next("the-next-story");
void nextAsync();

export { onDocument };
"#;

/// Reads that must not compile: a decision's fields on `error` and `ready`, a message on a
/// decision, a click's detail without its `null`, `mount()`'s answer taken for a decision.
const EVENTS_BAD: &str = r#"
// Wrong reads of event details and of mount()'s answer, each marked `// @ts-expect-error`.
import type { MeterwallApi, MeterwallDecision, MeterwallDecisionDetail, MeterwallEventDetail } from "@meterwall";

document.addEventListener("meterwall:error", (e) => {
    // @ts-expect-error: an error carries a message, not a decision
    console.log(e.detail.wall);
    // @ts-expect-error: an error's detail is not a decision
    const decision: MeterwallDecision = e.detail;
    console.log(decision);
});
document.addEventListener("meterwall:ready", (e) => {
    // @ts-expect-error: ready carries only the version
    console.log(e.detail.remaining);
});
document.addEventListener("meterwall:view", (e) => {
    // @ts-expect-error: only errors carry a message
    console.log(e.detail.message);
});
document.addEventListener("meterwall:lock", (e) => {
    // @ts-expect-error: a lock always has a wall
    const none: null = e.detail.wall;
    console.log(none);
});
document.addEventListener("meterwall:subscribe-click", (e) => {
    // @ts-expect-error: null once meterwall has stopped after an internal error
    console.log(e.detail.used);
});

declare const api: MeterwallApi;

// @ts-expect-error: an error carries a message, not a decision
api.on("error", (detail) => console.log(detail.wall));

// @ts-expect-error: ready carries only the version
api.on("ready", (detail) => console.log(detail.tier));

// @ts-expect-error: a decision's handler does not take errors
api.on("error", (detail: MeterwallDecisionDetail) => console.log(detail.used));

// @ts-expect-error: a decision's handler does not take the clicks' null
api.on("login-click", (detail: MeterwallDecisionDetail) => console.log(detail.used));

declare const anyEvent: MeterwallEventDetail;
// @ts-expect-error: any event's detail may be an error's, or null
console.log(anyEvent.used);

// @ts-expect-error: mount() may answer with a promise
const now: MeterwallDecision | null = api.mount();

// @ts-expect-error: a promise has no wall
if (api.mount()!.wall === null) console.log("open");

export { now };
"#;

#[test]
fn types_give_each_event_its_detail() {
    let (ok, report) = compile_source("events_ok.ts", EVENTS_OK);
    assert!(
        ok,
        "event and mount() code that should compile against meterwall_wasm.d.ts does not \
         (EVENTS_OK in tests/types.rs):\n{report}"
    );
}

#[test]
fn types_reject_wrong_event_details() {
    let marked = marked(
        "EVENTS_BAD",
        EVENTS_BAD,
        &[
            "console.log(e.detail.wall);",
            r#"api.on("error", (detail) => console.log(detail.wall));"#,
            "console.log(e.detail.message);",
            "const now: MeterwallDecision | null = api.mount();",
        ],
    );
    let (ok, report) = compile_source("events_bad.ts", EVENTS_BAD);
    assert!(
        ok,
        "of the {marked} wrong usages in EVENTS_BAD (tests/types.rs), the ones tsc reports below \
         were accepted by meterwall_wasm.d.ts (TS2578: unused '@ts-expect-error') or failed for \
         another reason:\n{report}"
    );
    eprintln!("[types] {marked} wrong event reads rejected");
}
