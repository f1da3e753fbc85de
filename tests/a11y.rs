#![cfg(not(target_arch = "wasm32"))]
//! Accessibility: axe-core audits the demo site with each of the widget's three walls, in real
//! headless Chrome and Firefox, in light and in dark; a keyboard alone lifts the wall; and
//! screenshots of the walls for the docs.
//!
//! Each audit test reads three articles in a fresh profile, so the registration wall is up on
//! the fourth, and runs axe-core's WCAG 2.x A and AA rules over the whole page, the prompt's open
//! shadow root included. The other two walls are that same page view decided again for a
//! registered reader: `window.meterwall.mount(layer)` re-decides with one more config layer,
//! `{registered: {limit: 0}}` (the subscribe wall) and `{registered: {limit: 3, mode: "choose"}}`
//! (the unlock wall). Then the same rules run over the demo's home, subscribe and login pages.
//!
//! Needs axe-core in `tools/node_modules` (`cargo xtask test` installs it), the built widget
//! (`cargo xtask build`) and the browsers with their drivers. Whatever is missing fails the test,
//! naming the fix. `a11y_screenshots` writes `target/screenshots/<wall>-<width>-<scheme>.png`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    decided_state, demo_articles, in_session, wait_for, Article, Binaries, Browser, Driver, Scheme,
    Site, ONE_BROWSER_AT_A_TIME,
};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::Client;
use serde_json::{json, Value};

/// One test's steps; a browser that stops answering fails the test instead of hanging it.
const TEST_LIMIT: Duration = Duration::from_secs(300);

/// The rules axe runs: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// The stored meter's localStorage key (`meterwall::record::STORAGE_KEY`).
const STORAGE_KEY: &str = "meterwall:v1";

/// More Tab presses than the demo's header, article and prompt have stops.
const MOST_TABS: usize = 60;

/// A little longer than the prompt's 0.2 s fade-in (`src/web/prompt.css`).
const FADE_IN: Duration = Duration::from_millis(300);

/// Waits until the prompt's animations (its fade-in) have finished, polling for up to 10 s.
async fn faded_in(client: &Client) {
    common::until(
        client,
        "the prompt's fade-in to finish",
        "const host = document.querySelector('.article-body [data-meterwall-prompt]');
         const root = host && host.shadowRoot;
         return root && root.getAnimations().every((a) => a.playState === 'finished')
             ? true : null;",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a11y_chrome_light() {
    audit(Browser::Chrome, Scheme::Light).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a11y_chrome_dark() {
    audit(Browser::Chrome, Scheme::Dark).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a11y_firefox_light() {
    audit(Browser::Firefox, Scheme::Light).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a11y_firefox_dark() {
    audit(Browser::Firefox, Scheme::Dark).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a11y_screenshots() {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let started = Instant::now();
    let www = common::www();
    let articles = demo_articles(&www.join("articles"));
    // Every binary is looked up before anything starts, so a missing one fails at once and alone.
    let binaries = Binaries::locate(Browser::Chrome);
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    fs::create_dir_all(&out)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", out.display()));
    let site = Site::start(&www).await;
    for scheme in [Scheme::Light, Scheme::Dark] {
        // A driver of its own per scheme: a fresh profile, so the meter starts again.
        let driver = Driver::start(Browser::Chrome, binaries.clone()).await;
        let client = driver.connect_for_screenshots(scheme).await;
        in_session(
            Browser::Chrome,
            &client,
            TEST_LIMIT,
            "screenshots",
            screenshots(
                client.clone(),
                site.url.clone(),
                articles.clone(),
                scheme,
                out.clone(),
            ),
        )
        .await;
    }
    eprintln!(
        "[a11y] screenshots in {} took {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}

/// One audit test: the three walls in `browser` under `scheme`, and (light only) the keyboard.
async fn audit(browser: Browser, scheme: Scheme) {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let started = Instant::now();
    let axe = axe_source();
    let www = common::www();
    let articles = demo_articles(&www.join("articles"));
    // Every binary is looked up before anything starts, so a missing one fails at once and alone.
    let binaries = Binaries::locate(browser);
    let site = Site::start(&www).await;
    let driver = Driver::start(browser, binaries).await;
    let client = driver.connect_in(scheme).await;
    let label = format!("{} {}", browser.name(), scheme.name());
    in_session(
        browser,
        &client,
        TEST_LIMIT,
        "audit",
        audit_steps(AuditRun {
            client: client.clone(),
            site: site.url.clone(),
            articles,
            axe,
            label: label.clone(),
            scheme,
            // One keyboard check per browser is enough: the scheme changes no focus order.
            keyboard: scheme == Scheme::Light,
            started,
        }),
    )
    .await;
}

/// What one audit needs: the session, the site, axe's source and what to check.
struct AuditRun {
    client: Client,
    site: String,
    articles: Vec<Article>,
    axe: String,
    label: String,
    scheme: Scheme,
    keyboard: bool,
    started: Instant,
}

async fn audit_steps(run: AuditRun) {
    let AuditRun {
        client,
        site,
        articles,
        axe,
        label,
        scheme,
        keyboard,
        started,
    } = run;
    patient_scripts(&client).await;
    let fourth = walled_fourth(&client, &site, &articles).await;
    assert_scheme(&client, scheme).await;
    assert_focus_outside_prompt(&client, &fourth.path).await;

    let mut found = Vec::new();
    if let Err(problem) = follows_the_page_scheme(&client, scheme).await {
        eprintln!("[a11y] {label}: {problem}");
        found.push(problem);
    }
    let anonymous = stored_meter(&client).await;
    for wall in Wall::ALL {
        show(&client, wall).await;
        if wall == Wall::Register {
            if let Err(problem) = focus_ring(&client).await {
                eprintln!("[a11y] {label}: {problem}");
                found.push(problem);
            }
        }
        let whole = run_axe(&client, &axe, json!({ "type": "tag", "values": WCAG_TAGS })).await;
        let contrast = prompt_contrast(&client, &axe).await;
        for line in whole.notes.iter().chain(&contrast.notes) {
            eprintln!("[a11y] {label}, {} wall: {line}", wall.name());
        }
        for violation in whole.violations.into_iter().chain(contrast.violations) {
            eprintln!("[a11y] {label}, {} wall: {violation}", wall.name());
            found.push(format!("{} wall: {violation}", wall.name()));
        }
    }

    // The demo's own pages, which the walls link to, in each scheme: the home page, the
    // subscribe page and the login page.
    for page in ["/", "/subscribe.html", "/login.html"] {
        client
            .goto(&format!("{site}{page}"))
            .await
            .expect("open a page of the demo");
        let whole = run_axe(&client, &axe, json!({ "type": "tag", "values": WCAG_TAGS })).await;
        for line in &whole.notes {
            eprintln!("[a11y] {label}, {page}: {line}");
        }
        for violation in whole.violations {
            eprintln!("[a11y] {label}, {page}: {violation}");
            found.push(format!("{page}: {violation}"));
        }
    }

    if keyboard {
        // Back to the anonymous reader's meter, and the fourth article afresh.
        set_stored_meter(&client, &anonymous).await;
        client
            .goto(&format!("{site}{}", fourth.path))
            .await
            .expect("reopen the fourth article");
        assert_eq!(decided_state(&client, &fourth).await, "locked");
        if let Err(problem) =
            sign_up_by_keyboard(&client, &fourth, "keyboard.reader@example.com").await
        {
            eprintln!("[a11y] {label}, keyboard: {problem}");
            found.push(format!("keyboard: {problem}"));
        }
    }

    eprintln!(
        "[a11y] {label}: audited in {:.1} s, {} failure(s)",
        started.elapsed().as_secs_f64(),
        found.len()
    );
    assert!(
        found.is_empty(),
        "{label}: {} accessibility failure(s) (axe-core WCAG A/AA rules, keyboard):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// The three walls, in the order the tests show them on one page view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wall {
    Register,
    Subscribe,
    Unlock,
}

impl Wall {
    const ALL: [Self; 3] = [Self::Register, Self::Subscribe, Self::Unlock];

    /// As the prompt's `data-wall` attribute spells it.
    fn name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Subscribe => "subscribe",
            Self::Unlock => "unlock",
        }
    }
}

/// Sets the script timeout: axe on a long article page in a slow headless browser can take
/// longer than WebDriver's default 30 s.
async fn patient_scripts(client: &Client) {
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(120)),
            Some(Duration::from_secs(60)),
            Some(Duration::ZERO),
        ))
        .await
        .expect("set the session's timeouts");
}

/// Reads the first three articles (the free allowance) and opens the fourth, which is walled.
async fn walled_fourth(client: &Client, site: &str, articles: &[Article]) -> Article {
    for article in &articles[..3] {
        client
            .goto(&format!("{site}{}", article.path))
            .await
            .expect("open the article");
        assert_eq!(
            decided_state(client, article).await,
            "open",
            "{}",
            article.path
        );
    }
    let fourth = articles[3].clone();
    client
        .goto(&format!("{site}{}", fourth.path))
        .await
        .expect("open the fourth article");
    assert_eq!(
        decided_state(client, &fourth).await,
        "locked",
        "{}",
        fourth.path
    );
    assert_eq!(prompt_wall(client).await, Some("register".to_owned()));
    fourth
}

/// The `data-wall` of the prompt in the article body, once it has an open shadow root.
async fn prompt_wall(client: &Client) -> Option<String> {
    let wall = client
        .execute(
            "const prompt = document.querySelector('.article-body [data-meterwall-prompt]');
             return prompt && prompt.shadowRoot ? prompt.getAttribute('data-wall') : null;",
            vec![],
        )
        .await
        .expect("look for the prompt");
    wall.as_str().map(str::to_owned)
}

/// `prefers-color-scheme` as the page sees it must be `scheme`.
async fn assert_scheme(client: &Client, scheme: Scheme) {
    let dark = client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await
        .expect("ask matchMedia");
    assert_eq!(
        dark.as_bool(),
        Some(scheme == Scheme::Dark),
        "the page should see prefers-color-scheme: {}, but matchMedia('(prefers-color-scheme: dark)') \
         is {dark}: the browser's dark-mode switch no longer works",
        scheme.name()
    );
}

/// Where focus is: the document's active element, and inside a shadow root the element there,
/// as short descriptions (`tag#id.class`); the second is empty when focus is not in a shadow root.
async fn focus(client: &Client) -> (String, String) {
    let found = client
        .execute(
            "const describe = (e) => e
                 ? e.localName + (e.id ? '#' + e.id : '')
                     + (e.classList.length ? '.' + Array.from(e.classList).join('.') : '')
                 : 'none';
             const outside = document.activeElement;
             const inside = outside && outside.shadowRoot ? outside.shadowRoot.activeElement : null;
             return [describe(outside), inside ? describe(inside) : ''];",
            vec![],
        )
        .await
        .expect("read the focus");
    let part = |i: usize| found[i].as_str().unwrap_or_default().to_owned();
    (part(0), part(1))
}

/// Nothing moves focus into the prompt when the page loads: a screen-reader or keyboard user
/// starts at the top of the page, as on any other.
async fn assert_focus_outside_prompt(client: &Client, path: &str) {
    for (i, moment) in ["as the wall went up", "after the prompt's fade-in"]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            // The wall's first frame has come (its step after the paint has run, where focus
            // might move) and its fade-in has finished: waited for, not timed.
            common::until(
                client,
                "the wall's step after its first paint",
                "return performance.getEntriesByName('meterwall:painted').length > 0 || null;",
            )
            .await;
            faded_in(client).await;
        }
        let (outside, inside) = focus(client).await;
        assert!(
            !outside.contains("meterwall-prompt") && inside.is_empty(),
            "{path}: focus moved into the prompt {moment} ({outside} > {inside}); \
             the wall must not take focus at page load"
        );
    }
}

/// The stored meter, as the widget wrote it.
async fn stored_meter(client: &Client) -> String {
    let stored = client
        .execute(
            "return localStorage.getItem(arguments[0]);",
            vec![json!(STORAGE_KEY)],
        )
        .await
        .expect("read localStorage");
    stored
        .as_str()
        .unwrap_or_else(|| panic!("no {STORAGE_KEY} in localStorage after four articles"))
        .to_owned()
}

async fn set_stored_meter(client: &Client, value: &str) {
    client
        .execute(
            "localStorage.setItem(arguments[0], arguments[1]);",
            vec![json!(STORAGE_KEY), json!(value)],
        )
        .await
        .expect("write localStorage");
}

/// Puts up `wall` on the page view in the article body. The registration wall is already up
/// (an anonymous reader's fourth article). For the others the reader becomes registered, with
/// the three free articles still spent: the stored meter (layout in `src/record.rs`,
/// `1<tag><bucket>.<latest>.<registered at>.<entries>`) gets a registration time, its latest
/// minute. Then `mount` re-decides with one more config layer.
async fn show(client: &Client, wall: Wall) {
    let layer = match wall {
        Wall::Register => {
            assert_eq!(prompt_wall(client).await.as_deref(), Some("register"));
            return;
        }
        Wall::Subscribe => json!({ "registered": { "limit": 0 } }),
        Wall::Unlock => json!({ "registered": { "limit": 3, "mode": "choose" } }),
    };
    let stored = stored_meter(client).await;
    let mut parts: Vec<&str> = stored.split('.').collect();
    assert!(
        parts.len() == 4,
        "the stored meter {stored:?} is not laid out as `src/record.rs` says"
    );
    if parts[2].is_empty() {
        parts[2] = parts[1];
        set_stored_meter(client, &parts.join(".")).await;
    }
    let mounted = client
        .execute(
            "if (!window.meterwall || window.meterwall.version !== 1) return 'the widget is not ready';
             try { window.meterwall.mount(arguments[0]); return null; }
             catch (error) { return String(error); }",
            vec![layer.clone()],
        )
        .await
        .expect("call meterwall.mount");
    assert!(
        mounted.is_null(),
        "meterwall.mount({layer}) failed: {mounted}"
    );
    let deadline = Instant::now() + common::PATIENCE;
    loop {
        let shown = prompt_wall(client).await;
        if shown.as_deref() == Some(wall.name()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "meterwall.mount({layer}) should show the {} wall; the prompt shows {shown:?}",
            wall.name()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The new prompt fades in: audit its colours once they are final, its fade-in finished
    // (polled, not waited for a set time: on a slow machine its first frame may come late).
    faded_in(client).await;
    if wall == Wall::Unlock {
        let label = client
            .execute(
                "const root = document.querySelector('[data-meterwall-prompt]').shadowRoot;
                 const button = root.querySelector('button');
                 return button ? button.textContent : null;",
                vec![],
            )
            .await
            .expect("read the unlock button");
        assert_eq!(
            label.as_str(),
            Some("Unlock this article (3 of 3 left this month)"),
            "the unlock wall's button"
        );
    }
}

/// axe-core's script, from `tools/node_modules`.
fn axe_source() -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tools",
        "node_modules",
        "axe-core",
        "axe.min.js",
    ]
    .iter()
    .collect();
    fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "axe-core is missing ({}: {error}): `cargo xtask test` installs it",
            path.display()
        )
    })
}

/// What one axe run found.
struct AxeReport {
    /// One line per violation: rule id, impact, help, and each node's target and failure.
    violations: Vec<String>,
    /// What axe ran, and what it could not decide (`incomplete`, left to a person).
    notes: Vec<String>,
}

/// Injects axe into the page (a navigation drops it) and runs the rules `only` selects (axe's
/// `runOnly`) on the whole document. axe walks open shadow roots, so the prompt is audited with
/// the page.
async fn run_axe(client: &Client, axe: &str, only: Value) -> AxeReport {
    let result = axe_results(client, axe, only).await;
    // What axe leaves undecided in the prompt is its contrast, which `prompt_contrast` decides;
    // it is counted here, not listed.
    let (in_prompt, elsewhere) = split_prompt_nodes(&result["incomplete"]);
    let in_prompt: Vec<String> = in_prompt
        .as_array()
        .into_iter()
        .flatten()
        .map(|rule| {
            format!(
                "{} x{}",
                rule["id"].as_str().unwrap_or("?"),
                rule["nodes"].as_array().map_or(0, Vec::len)
            )
        })
        .collect();
    let mut notes = vec![format!(
        "axe-core {} ran, {} rule(s) passed; undecided in the prompt: [{}]",
        result["version"].as_str().unwrap_or("?"),
        result["passes"],
        in_prompt.join(", ")
    )];
    notes.extend(
        rule_lines(&elsewhere)
            .into_iter()
            .map(|line| format!("undecided, to review by hand: {line}")),
    );
    AxeReport {
        violations: rule_lines(&result["violations"]),
        notes,
    }
}

/// axe's results, each rule reduced to its id, impact, help and nodes.
async fn axe_results(client: &Client, axe: &str, only: Value) -> Value {
    client.execute(axe, vec![]).await.expect("inject axe-core");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const nodes = (rule) => rule.nodes.map((node) => ({
                 target: node.target,
                 html: node.html,
                 summary: node.failureSummary || '',
             }));
             const brief = (rule) => ({ id: rule.id, impact: rule.impact, help: rule.help, nodes: nodes(rule) });
             if (typeof axe !== 'object') { done({ error: 'axe did not load' }); return; }
             axe.run(document, { runOnly: arguments[0] })
                 .then((results) => done({
                     version: axe.version,
                     passes: results.passes.length,
                     passNodes: results.passes.map((rule) => rule.nodes.length).reduce((a, b) => a + b, 0),
                     violations: results.violations.map(brief),
                     incomplete: results.incomplete.map(brief),
                 }))
                 .catch((error) => done({ error: String(error && error.stack || error) }));",
            vec![only],
        )
        .await
        .expect("run axe-core");
    if let Some(error) = result.get("error") {
        panic!("axe-core failed: {error}");
    }
    result
}

/// axe's rules split by where their nodes are: `(inside the prompt, elsewhere)`, each keeping
/// only rules with nodes there. A node in a shadow root has a target path
/// `[[host selector, inner selector]]`.
fn split_prompt_nodes(rules: &Value) -> (Value, Value) {
    let in_prompt = |node: &Value| {
        node["target"][0][0]
            .as_str()
            .is_some_and(|host| host.contains("meterwall-prompt"))
    };
    let pick = |inside: bool| -> Value {
        rules
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|rule| {
                let nodes: Vec<Value> = rule["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|node| in_prompt(node) == inside)
                    .cloned()
                    .collect();
                let mut rule = rule.clone();
                rule["nodes"] = Value::Array(nodes);
                (!rule["nodes"].as_array().is_some_and(Vec::is_empty)).then_some(rule)
            })
            .collect()
    };
    (pick(true), pick(false))
}

fn rule_lines(rules: &Value) -> Vec<String> {
    rules
        .as_array()
        .map(|rules| rules.iter().map(describe_rule).collect())
        .unwrap_or_default()
}

/// The prompt's colour contrast, which the whole-page run may leave undecided: axe does not judge
/// text where a positioned element may overlap it, and the prompt has one, `div.fade`, the fade
/// over the teaser's last lines. The fade is decorative and lies above the prompt's box, so
/// hiding it changes no colour inside the prompt; with it hidden, axe's `color-contrast` rule
/// runs again, and every node of the prompt must now be decided.
async fn prompt_contrast(client: &Client, axe: &str) -> AxeReport {
    client
        .execute(
            "const style = document.createElement('style');
             style.id = 'a11y-audit-no-fade';
             style.textContent = '.fade { display: none !important; }';
             document.querySelector('[data-meterwall-prompt]').shadowRoot.append(style);",
            vec![],
        )
        .await
        .expect("hide the prompt's fade");
    let result = axe_results(
        client,
        axe,
        json!({ "type": "rule", "values": ["color-contrast"] }),
    )
    .await;
    client
        .execute(
            "document.querySelector('[data-meterwall-prompt]').shadowRoot
                 .getElementById('a11y-audit-no-fade').remove();",
            vec![],
        )
        .await
        .expect("show the prompt's fade again");
    let mut violations = rule_lines(&result["violations"]);
    // Contrast the audit could not decide inside the prompt is a blind spot, so it fails too.
    let (in_prompt, _) = split_prompt_nodes(&result["incomplete"]);
    violations.extend(
        rule_lines(&in_prompt)
            .into_iter()
            .map(|line| format!("undecided inside the prompt: {line}")),
    );
    let checked = &result["passNodes"];
    AxeReport {
        violations,
        notes: vec![format!(
            "color-contrast with the prompt's fade hidden: {checked} node(s) pass"
        )],
    }
}

/// `rule-id (impact): help; at <target>: <failure summary>; …`
fn describe_rule(rule: &Value) -> String {
    let mut line = format!(
        "{} ({}): {}",
        rule["id"].as_str().unwrap_or("?"),
        rule["impact"].as_str().unwrap_or("no impact"),
        rule["help"].as_str().unwrap_or_default()
    );
    for node in rule["nodes"].as_array().into_iter().flatten() {
        line.push_str(&format!(
            "\n    at {} {}\n       {}",
            node["target"],
            node["html"].as_str().unwrap_or_default(),
            common::collapse(node["summary"].as_str().unwrap_or_default())
        ));
    }
    line
}

/// The prompt's own colours follow the page's colour scheme, not the reader's preference alone:
/// on the demo page (`color-scheme: light dark`) the box is dark exactly when the reader prefers
/// dark, and on the same page made light-only (`color-scheme: light`) it is light either way.
/// Read with the demo's theme set aside, so that the widget's defaults apply.
async fn follows_the_page_scheme(client: &Client, scheme: Scheme) -> Result<(), String> {
    let found = client
        .execute(
            r"const host = document.querySelector('[data-meterwall-prompt]');
              const box = host.shadowRoot.querySelector('.box');
              const root = document.documentElement;
              host.style.setProperty('--meterwall-background', 'initial');
              const read = () => getComputedStyle(box).backgroundColor;
              const declared = read();
              const was = root.style.colorScheme;
              root.style.colorScheme = 'light';
              const lightOnly = read();
              root.style.colorScheme = was;
              host.style.removeProperty('--meterwall-background');
              return [declared, lightOnly];",
            vec![],
        )
        .await
        .expect("read the prompt's background");
    // `prompt.css`: the box's default background, light and dark.
    let (light, dark) = ("rgb(246, 243, 238)", "rgb(36, 36, 36)");
    let expected = [if scheme == Scheme::Dark { dark } else { light }, light];
    let got = [found[0].as_str(), found[1].as_str()].map(Option::unwrap_or_default);
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "the prompt's box should be {} on the demo page and {} on it made light-only, \
             but is {} and {}",
            expected[0], expected[1], got[0], got[1]
        ))
    }
}

/// The focus ring of the prompt's email field against the prompt's background, with the page's
/// theme (the demo sets `--meterwall-focus`) and with the widget's own defaults: at least 3:1
/// (WCAG 1.4.11, non-text contrast), which axe-core does not check. A text field matches
/// `:focus-visible` however it is focused.
async fn focus_ring(client: &Client) -> Result<(), String> {
    let found = client
        .execute(
            r"const host = document.querySelector('[data-meterwall-prompt]');
              const root = host.shadowRoot;
              const field = root.getElementById('mw-email');
              const lum = (c) => c.match(/[\d.]+/g).slice(0, 3).map((v) => v / 255)
                .map((v) => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4))
                .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
              const measure = (theme) => {
                field.focus();
                const style = getComputedStyle(field);
                const [ring, line, width] = [style.outlineColor, style.outlineStyle, style.outlineWidth];
                const back = getComputedStyle(root.querySelector('.box')).backgroundColor;
                field.blur();
                const [a, b] = [lum(ring), lum(back)];
                const alpha = ring.match(/[\d.]+/g)[3] ?? '1';
                return [theme, ring, back, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
                  line, parseFloat(width), parseFloat(alpha)];
              };
              const page = measure(`the page's theme`);
              // `initial` makes a custom property unset here: the widget's fallbacks apply.
              for (const name of ['--meterwall-focus', '--meterwall-background']) host.style.setProperty(name, 'initial');
              const own = measure(`the widget's defaults`);
              for (const name of ['--meterwall-focus', '--meterwall-background']) host.style.removeProperty(name);
              return [page, own];",
            vec![],
        )
        .await
        .expect("read the focus ring");
    let mut low = Vec::new();
    for measured in found.as_array().into_iter().flatten() {
        let ratio = measured[3].as_f64().unwrap_or(0.0);
        eprintln!("[a11y] focus ring, {measured}");
        // A ring of no line, a hairline or a see-through colour has a colour all the same (with
        // `outline: none` it computes to `currentcolor`): what is drawn is checked first.
        let (line, width, alpha) = (
            measured[4].as_str().unwrap_or_default(),
            measured[5].as_f64().unwrap_or(0.0),
            measured[6].as_f64().unwrap_or(0.0),
        );
        if line == "none" || width < 2.0 || alpha < 1.0 {
            low.push(format!(
                "with {}, the email field's focus ring is not drawn in full: outline-style \
                 {line}, width {width} px, colour {} (alpha {alpha})",
                measured[0], measured[1]
            ));
        } else if ratio < 3.0 {
            low.push(format!(
                "with {}, the email field's focus ring {} on the prompt's {} is {ratio:.2}:1, \
                 under 3:1",
                measured[0], measured[1], measured[2]
            ));
        }
    }
    if low.is_empty() {
        Ok(())
    } else {
        Err(low.join("; "))
    }
}

/// Presses and releases one key.
async fn press(client: &Client, key: char) {
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.expect("press a key");
}

/// From the top of the walled page, Tab to the prompt's email field, type, press Enter: the wall
/// lifts by keyboard alone. Then focus should be in the article the reader just opened, not back
/// at the top of the page; `Err` says where it went instead.
async fn sign_up_by_keyboard(
    client: &Client,
    article: &Article,
    email: &str,
) -> Result<(), String> {
    assert_focus_outside_prompt(client, &article.path).await;
    let mut stops = Vec::new();
    loop {
        press(client, Key::Tab.into()).await;
        let (outside, inside) = focus(client).await;
        let reached = inside == "input#mw-email";
        stops.push(if inside.is_empty() {
            outside
        } else {
            format!("{outside} > {inside}")
        });
        if reached {
            break;
        }
        assert!(
            stops.len() < MOST_TABS,
            "{}: {MOST_TABS} Tab presses never reached the prompt's email field; focus went to:\n{}",
            article.path,
            stops.join("\n")
        );
    }
    eprintln!(
        "[a11y] {}: the email field is Tab stop {}: {}",
        article.path,
        stops.len(),
        stops.join(", ")
    );
    let mut keys = KeyActions::new("keyboard".to_owned());
    for c in email.chars() {
        keys = keys
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
    }
    client.perform_actions(keys).await.expect("type the email");
    press(client, Key::Enter.into()).await;
    wait_for(
        client,
        "the article to open after a signup by keyboard",
        |state| state.as_deref() == Some("open"),
    )
    .await;
    let (outside, _) = focus(client).await;
    let in_article = client
        .execute(
            "return !!(document.activeElement && document.activeElement.closest('.article-body'));",
            vec![],
        )
        .await
        .expect("read the focus");
    if in_article.as_bool() == Some(true) {
        Ok(())
    } else {
        Err(format!(
            "{}: the wall lifted, but focus went to {outside}, not into the opened article: \
             a keyboard or screen-reader user is sent back to the top of the page",
            article.path
        ))
    }
}

/// The three walls at 1200 and 360 CSS pixels wide under `scheme`, prompt centred in view.
/// A viewport too short for the whole prompt is made taller, so the picture shows all of it.
async fn screenshots(
    client: Client,
    site: String,
    articles: Vec<Article>,
    scheme: Scheme,
    out: PathBuf,
) {
    walled_fourth(&client, &site, &articles).await;
    assert_scheme(&client, scheme).await;
    for wall in Wall::ALL {
        show(&client, wall).await;
        for (width, height) in [(1200, 900), (360, 800)] {
            let name = format!("{}-{width}-{}", wall.name(), scheme.name());
            viewport(&client, width, height).await;
            let mut layout = centre_prompt(&client).await;
            let tall = layout["height"].as_f64().unwrap_or(0.0).ceil() as u32;
            if tall + 16 > height {
                eprintln!(
                    "[a11y] {name}: the prompt is {tall} px tall, more than the {width}x{height} \
                     viewport; the screenshot's viewport is {} px tall",
                    tall + 64
                );
                viewport(&client, width, tall + 64).await;
                layout = centre_prompt(&client).await;
            }
            // Neither the page nor the prompt may scroll sideways: a reader on a narrow phone
            // would have to pan to read the prompt.
            assert!(
                layout["pageWidth"].as_f64() <= layout["viewportWidth"].as_f64()
                    && layout["boxOverflow"].as_f64() == Some(0.0),
                "{name}: content wider than the viewport: {layout}"
            );
            tokio::time::sleep(FADE_IN).await;
            let png = client.screenshot().await.expect("take a screenshot");
            let file = out.join(format!("{name}.png"));
            fs::write(&file, png)
                .unwrap_or_else(|error| panic!("cannot write {}: {error}", file.display()));
            eprintln!("[a11y] {}: {layout}", file.display());
        }
    }
}

/// Scrolls the prompt to the middle of the viewport; returns where it is and how wide things are.
async fn centre_prompt(client: &Client) -> Value {
    client
        .execute(
            "const prompt = document.querySelector('[data-meterwall-prompt]');
             prompt.scrollIntoView({ block: 'center' });
             const box = prompt.getBoundingClientRect();
             const inner = prompt.shadowRoot.querySelector('.box');
             return {
                 top: Math.round(box.top),
                 height: box.height,
                 viewportWidth: document.documentElement.clientWidth,
                 viewportHeight: innerHeight,
                 pageWidth: document.documentElement.scrollWidth,
                 boxOverflow: inner ? inner.scrollWidth - inner.clientWidth : 0,
             };",
            vec![],
        )
        .await
        .expect("scroll to the prompt")
}

/// Resizes the window so the page's viewport is `width` CSS pixels wide: the window's frame
/// (scroll bar, borders) differs by browser, so measure and correct.
async fn viewport(client: &Client, width: u32, height: u32) {
    let (mut window_width, mut window_height) = (width, height);
    for _ in 0..4 {
        client
            .set_window_size(window_width, window_height)
            .await
            .expect("resize the window");
        let inner = client
            .execute("return [innerWidth, innerHeight];", vec![])
            .await
            .expect("read the viewport");
        let (w, h) = (
            inner[0].as_i64().unwrap_or(0),
            inner[1].as_i64().unwrap_or(0),
        );
        if (w - i64::from(width)).abs() <= 1 && (h - i64::from(height)).abs() <= 1 {
            return;
        }
        window_width = (i64::from(window_width) + i64::from(width) - w).max(1) as u32;
        window_height = (i64::from(window_height) + i64::from(height) - h).max(1) as u32;
    }
    let inner = client
        .execute("return [innerWidth, innerHeight];", vec![])
        .await
        .expect("read the viewport");
    panic!("could not make the viewport {width}x{height}: it stays {inner}");
}
