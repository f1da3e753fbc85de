//! What the end-to-end and accessibility tests share: the demo site served in-process, a
//! WebDriver per test with a fresh headless browser, the demo's articles, and the wait for the
//! widget's decision; for the loader and failure cases, a copy of the site to change, one case
//! per browser, and what a reader would see of the page.
//!
//! Needs the built widget (`cargo xtask build`) and the browsers with their drivers
//! (`cargo xtask test` installs them). Whatever is missing fails the test, naming the fix.
//! Overrides: `CHROMEDRIVER`, `CHROME_BIN`, `GECKODRIVER`, `FIREFOX_BIN`.

// Every test file compiles this module as its own copy and uses only part of it.
#![allow(dead_code)]

use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tempfile::TempDir;

/// How long the widget may take to decide, and a driver or a browser session to start.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One browser at a time: two headless browsers on two cores make both slow and flaky.
pub static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chrome,
    Firefox,
}

impl Browser {
    pub fn name(self) -> &'static str {
        match self {
            Self::Chrome => "chrome",
            Self::Firefox => "firefox",
        }
    }
}

/// The colour scheme the browser reports to pages through `prefers-color-scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Light,
    Dark,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// The repository's `www/`, after checking the widget has been built into it.
pub fn www() -> PathBuf {
    let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
    let widget = www.join("dist").join("meterwall.js");
    assert!(
        widget.is_file(),
        "the built widget {} is missing: run `cargo xtask build` first",
        widget.display()
    );
    www
}

/// The reference signup server, as `cargo xtask demo` runs it, on a free port of 127.0.0.1
/// with its own database. Stops when dropped, also when a test fails part-way.
pub struct Site {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    /// The server's SQLite file.
    pub db: PathBuf,
    // Declared before `data`, so the server stops before the database's directory is deleted.
    server: AbortOnDrop,
    data: TempDir,
}

impl Site {
    /// Serves `www` with a fresh database.
    pub async fn start(www: &Path) -> Self {
        let data = tempfile::tempdir().expect("a temp dir for the database");
        let db = data.path().join("meterwall.sqlite");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let options = meterwall_server::Options {
            root: www.to_path_buf(),
            db: db.clone(),
            // Small, so the rule runs but the test does not wait a human's second.
            min_submit_ms: 50,
            // The demo site's login page, as `cargo xtask demo` serves it.
            demo_login: true,
            ..meterwall_server::Options::default()
        };
        let server = AbortOnDrop(tokio::spawn(async move {
            if let Err(error) = meterwall_server::run(listener, options).await {
                panic!("the signup server stopped: {error}");
            }
        }));
        Self {
            url,
            db,
            server,
            data,
        }
    }

    /// Stops serving; the database file stays until the `Site` is dropped.
    pub fn stop(&self) {
        self.server.0.abort();
    }
}

/// Aborts a spawned task when dropped, also when a test fails part-way.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `body` (the test's steps in `client`) in its own task, so that a failed assertion still
/// closes the browser; a browser that stops answering fails the test after `limit` instead of
/// hanging it. `what` names the steps in messages.
pub async fn in_session<F>(browser: Browser, client: &Client, limit: Duration, what: &str, body: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(tokio::time::timeout(limit, body)).await;
    if let Err(error) = client.clone().close().await {
        eprintln!(
            "[{what}] could not close the {} session: {error}",
            browser.name()
        );
    }
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(_)) => panic!(
            "the {} {what} took longer than {limit:?}: the browser stopped answering",
            browser.name()
        ),
        Err(failure) => match failure.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(failure) => panic!("the {what} did not finish: {failure}"),
        },
    }
}

/// An article of the demo site, with the text the reader should (or should not) see.
#[derive(Debug, Clone)]
pub struct Article {
    /// The page's path on the site, `/articles/<name>.html`.
    pub path: String,
    /// The text of each `<p>` in the article body, in order, whitespace collapsed.
    pub paragraphs: Vec<String>,
}

/// The first four articles of the demo site, sorted by file name, with their paragraphs.
pub fn demo_articles(dir: &Path) -> Vec<Article> {
    first_articles(dir, 4)
}

/// The first `count` articles of the demo site (at most six), sorted by file name, with their
/// paragraphs.
pub fn first_articles(dir: &Path, count: usize) -> Vec<Article> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|error| {
            panic!(
                "cannot list the demo articles in {}: {error}",
                dir.display()
            )
        })
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    files.sort();
    assert!(
        files.len() >= count.max(6),
        "the demo site needs at least {} articles in {}, found {}",
        count.max(6),
        dir.display(),
        files.len()
    );
    files
        .iter()
        .take(count)
        .map(|file| {
            let html = fs::read_to_string(file).unwrap();
            let name = file.file_name().unwrap().to_string_lossy();
            let paragraphs = body_paragraphs(&html);
            assert!(
                paragraphs.len() >= 3,
                "{name}: the article body needs at least three paragraphs, found {}",
                paragraphs.len()
            );
            Article {
                path: format!("/articles/{name}"),
                paragraphs,
            }
        })
        .collect()
}

/// The text of each `<p>` inside the `.article-body` element, in document order.
fn body_paragraphs(html: &str) -> Vec<String> {
    let start = html
        .find("class=\"article-body")
        .expect("an element with class article-body");
    let body = &html[start..];
    let body = &body[..body.find("</article>").unwrap_or(body.len())];
    let mut paragraphs = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("<p") {
        let after = &rest[open + 2..];
        // `<p>` or `<p class=…>`, not `<pre>` or `<picture>`.
        if !after.starts_with(['>', ' ', '\n', '\t']) {
            rest = after;
            continue;
        }
        let Some(content_start) = after.find('>') else {
            break;
        };
        let content = &after[content_start + 1..];
        let end = content.find("</p>").unwrap_or(content.len());
        let text = collapse(&decode_entities(&strip_tags(&content[..end])));
        if !text.is_empty() {
            paragraphs.push(text);
        }
        rest = &content[end..];
    }
    paragraphs
}

fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// The character references a hand-written page uses: named basics and numeric ones.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let decoded = tail.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &tail[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whitespace runs as single spaces, trimmed.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Waits until the widget has decided, and returns `open` or `locked`.
pub async fn decided_state(client: &Client, article: &Article) -> String {
    wait_for(
        client,
        &format!("the widget to decide on {}", article.path),
        |state| matches!(state.as_deref(), Some("open" | "locked")),
    )
    .await
}

/// Polls `.article-body`'s `data-meterwall-state` until `done` accepts it.
pub async fn wait_for(
    client: &Client,
    what: &str,
    done: impl Fn(&Option<String>) -> bool,
) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut last = None;
    loop {
        let state = client
            .execute(
                "const body = document.querySelector('.article-body');
                 return body && body.getAttribute('data-meterwall-state');",
                vec![],
            )
            .await
            .expect("read the article's state");
        last = state.as_str().map(str::to_owned).or(last);
        if done(&last) {
            return last.unwrap_or_default();
        }
        if Instant::now() > deadline {
            // What the reader would see: the widget's reasons and the prompt's words (its status
            // line carries the server's sentence when a signup is refused).
            let seen = client
                .execute(
                    "const prompt = document.querySelector('[data-meterwall-prompt]');
                     const why = window.meterwall && window.meterwall.why && window.meterwall.why();
                     return JSON.stringify({
                         why: why || null,
                         prompt: prompt && prompt.shadowRoot
                             ? Array.from(prompt.shadowRoot.children)
                                 .filter((child) => child.localName !== 'style')
                                 .map((child) => child.textContent)
                                 .join(' ')
                                 .replace(/\\s+/g, ' ')
                                 .trim()
                             : null,
                     });",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            panic!(
                "timed out after {PATIENCE:?} waiting for {what}: data-meterwall-state is {last:?}, \
                 the page shows {seen}; if the widget never loaded, rebuild it with `cargo xtask build`"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// The cases of the loader and failure tests: each serves its own copy of the site, changed where
// the case needs, in a fresh browser, and waits no longer than `WAIT` for what it expects.

/// The steps of one case; a browser that stops answering fails the test instead of hanging it.
pub const CASE_LIMIT: Duration = Duration::from_secs(25);

/// How long the widget may take to decide, or the loader to report a failure: longer means it is
/// stuck, and the case fails saying what it waited for before `CASE_LIMIT` ends it.
pub const WAIT: Duration = Duration::from_secs(10);

/// A copy of `www` (built widget included) in a temporary directory, deleted when dropped.
pub fn copy_site(www: &Path) -> TempDir {
    let copy = tempfile::tempdir().expect("a temp dir for a copy of the site");
    copy_dir(www, copy.path());
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    let entries = fs::read_dir(from)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", from.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            fs::create_dir(&target).expect("a directory in the copy");
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|error| panic!("cannot copy {}: {error}", entry.path().display()));
        }
    }
}

/// One case in a fresh browser with `settings`, against the site served from `root`; `what`
/// names it in messages, which start with the test file's name.
pub async fn run_case<F, Fut>(
    browser: Browser,
    what: &str,
    settings: &Settings,
    root: &Path,
    steps: F,
) where
    F: FnOnce(Client, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_case_within(browser, what, settings, root, CASE_LIMIT, steps).await;
}

/// [`run_case`] for a case that may take up to `limit` (a journey of many pages).
pub async fn run_case_within<F, Fut>(
    browser: Browser,
    what: &str,
    settings: &Settings,
    root: &Path,
    limit: Duration,
    steps: F,
) where
    F: FnOnce(Client, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let started = Instant::now();
    // Every binary is looked up before anything starts, so a missing one fails at once and alone.
    let binaries = Binaries::locate(browser);
    let site = Site::start(root).await;
    let driver = Driver::start(browser, binaries).await;
    let client = driver.connect_with(settings).await;
    in_session(
        browser,
        &client,
        limit,
        what,
        steps(client.clone(), site.url.clone()),
    )
    .await;
    drop(driver);
    site.stop();
    eprintln!(
        "[{}] {} {what} passed in {:.1} s",
        env!("CARGO_CRATE_NAME"),
        browser.name(),
        started.elapsed().as_secs_f64()
    );
}

/// Opens `path` of the site served at `site`.
pub async fn open(client: &Client, site: &str, path: &str) {
    client
        .goto(&format!("{site}{path}"))
        .await
        .unwrap_or_else(|error| panic!("cannot open {path}: {error}"));
}

/// Waits until `path` is the page shown and the widget has decided on it; returns `open` or
/// `locked`. Unlike [`decided_state`], it checks the page: right after a navigation the
/// previous page may still be the one that answers.
pub async fn decided(client: &Client, path: &str) -> String {
    let script = format!(
        "const body = document.querySelector('.article-body');
         const state = body && body.getAttribute('data-meterwall-state');
         return location.pathname === {path:?} && (state === 'open' || state === 'locked')
             ? state : null;"
    );
    let state = until(client, &format!("the widget's decision on {path}"), &script).await;
    state.as_str().unwrap_or_default().to_owned()
}

/// Polls `script` until it returns something other than `null`, and returns that; after `WAIT`
/// fails showing the page's state, its decision and the errors the case collected.
pub async fn until(client: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = js(client, script).await;
        if !value.is_null() {
            return value;
        }
        if Instant::now() > deadline {
            let seen = js(
                client,
                "const body = document.querySelector('.article-body');
                 const api = window.meterwall;
                 return {
                     path: location.pathname,
                     state: body && body.getAttribute('data-meterwall-state'),
                     meterwall: Array.isArray(api) ? 'the queue' : api && api.version,
                     why: api && typeof api.why === 'function' ? api.why() : null,
                     errors: window.__errors || window.__mwErrors || window.__order || null,
                 };",
            )
            .await;
            panic!("timed out after {WAIT:?} waiting for {what}; the page: {seen}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `script` in the page and returns its value.
pub async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|error| panic!("the page refused a script: {error}\n{script}"))
}

/// The messages a listener of the case collected in `window[array]`.
pub async fn errors(client: &Client, array: &str) -> Vec<String> {
    let value = js(client, &format!("return window.{array} || null;")).await;
    value
        .as_array()
        .unwrap_or_else(|| panic!("window.{array} is missing: the listener was not installed"))
        .iter()
        .map(|message| message.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `.article-body`'s `data-meterwall-state`, or None when the widget has not set it.
pub async fn state(client: &Client) -> Option<String> {
    let state = js(
        client,
        "return document.querySelector('.article-body').getAttribute('data-meterwall-state');",
    )
    .await;
    state.as_str().map(str::to_owned)
}

pub async fn assert_no_prompt(client: &Client, page: &str) {
    let prompts = client
        .find_all(Locator::Css("[data-meterwall-prompt]"))
        .await
        .expect("look for a prompt");
    assert!(prompts.is_empty(), "{page}: an open article shows a prompt");
}

/// Every paragraph of the article's body is in the page's text.
pub async fn assert_whole(client: &Client, article: &Article) {
    let page = page_text(client).await;
    for paragraph in &article.paragraphs {
        assert!(
            page.contains(paragraph),
            "{}: the article is missing the paragraph {paragraph:?}",
            article.path
        );
    }
}

/// `document.body.textContent`, whitespace collapsed.
pub async fn page_text(client: &Client) -> String {
    let text = js(client, "return document.body.textContent;").await;
    collapse(text.as_str().unwrap_or_default())
}

/// The WebDriver server and the browser it drives.
#[derive(Debug, Clone)]
pub struct Binaries {
    driver: PathBuf,
    /// The `binary` capability: the browser executable.
    browser: String,
}

impl Binaries {
    /// Finds both, from the environment variables or PATH; fails naming what is missing and the fix.
    pub fn locate(browser: Browser) -> Self {
        match browser {
            Browser::Chrome => Self {
                driver: driver_binary("CHROMEDRIVER", "chromedriver"),
                browser: browser_binary(
                    "CHROME_BIN",
                    &[
                        "chromium",
                        "chromium-browser",
                        "google-chrome",
                        "google-chrome-stable",
                    ],
                    "install Chromium (`cargo xtask test` installs it)",
                ),
            },
            Browser::Firefox => Self {
                driver: driver_binary("GECKODRIVER", "geckodriver"),
                browser: browser_binary(
                    "FIREFOX_BIN",
                    &["firefox", "firefox-esr"],
                    "install Firefox ESR (`cargo xtask test` installs it)",
                ),
            },
        }
    }
}

/// What a test adds to a browser session: preferences (Firefox's `about:config` prefs, or
/// Chrome's profile preferences such as `profile.default_content_setting_values.cookies`) and
/// command-line switches. Later entries win over the session's own.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub prefs: serde_json::Map<String, Value>,
    pub args: Vec<String>,
}

impl Settings {
    /// The preference `name` set to `value`, added to these settings.
    pub fn pref(mut self, name: &str, value: Value) -> Self {
        self.prefs.insert(name.to_owned(), value);
        self
    }
}

/// A WebDriver server started for one test, stopped (killed) when dropped, also on failure.
pub struct Driver {
    browser: Browser,
    /// The browser executable, for the session's capabilities.
    binary: String,
    process: Child,
    port: u16,
    log: PathBuf,
    /// The browser profile (Chrome) and the driver's log; deleted with the guard.
    scratch: TempDir,
}

impl Driver {
    /// Starts the driver on a port the OS has just said is free. Another process may take that
    /// port before the driver binds it (the port is released to be handed over), and the driver
    /// then exits: it is started again on a new port, twice at most, before the test fails.
    pub async fn start(browser: Browser, binaries: Binaries) -> Self {
        let scratch = tempfile::tempdir().expect("a temp dir for the browser profile");
        let log = scratch.path().join("driver.log");
        let program = binaries.driver;
        let mut attempt = 1;
        loop {
            let port = free_port();
            let log_file = fs::File::create(&log).expect("the driver's log file");
            let args = match browser {
                Browser::Chrome => vec![format!("--port={port}")],
                Browser::Firefox => vec![
                    "--host".to_owned(),
                    "127.0.0.1".to_owned(),
                    "--port".to_owned(),
                    port.to_string(),
                    // The BiDi port defaults to 9222, which another browser test may hold.
                    "--websocket-port".to_owned(),
                    free_port().to_string(),
                ],
            };
            let mut process = Command::new(&program)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("the driver's log file"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
            match wait_until_ready(&mut process, port, &program, &log).await {
                Ok(()) => {
                    return Self {
                        browser,
                        binary: binaries.browser,
                        process,
                        port,
                        log,
                        scratch,
                    }
                }
                Err(exited) if attempt < 3 => {
                    eprintln!("{exited}; starting it again on another port");
                    attempt += 1;
                }
                Err(exited) => panic!("{exited}"),
            }
        }
    }

    /// A WebDriver session with a fresh, headless profile and the browser's own colour scheme.
    pub async fn connect(&self) -> Client {
        self.session(None, false, &Settings::default()).await
    }

    /// As [`Driver::connect`], with `settings` added to the browser's own.
    pub async fn connect_with(&self, settings: &Settings) -> Client {
        self.session(None, false, settings).await
    }

    /// A WebDriver session with a fresh, headless profile that reports `scheme` to pages.
    /// The caller checks `prefers-color-scheme` in a page: the switches are the browsers' own,
    /// not a standard.
    pub async fn connect_in(&self, scheme: Scheme) -> Client {
        self.session(Some(scheme), false, &Settings::default())
            .await
    }

    /// As [`Driver::connect_in`], with scroll bars that take no room, as on a phone: for
    /// screenshots, where the layout width is the window's width.
    pub async fn connect_for_screenshots(&self, scheme: Scheme) -> Client {
        self.session(Some(scheme), true, &Settings::default()).await
    }

    async fn session(
        &self,
        scheme: Option<Scheme>,
        no_scrollbars: bool,
        settings: &Settings,
    ) -> Client {
        let capabilities = match self.browser {
            Browser::Chrome => {
                let profile = self.scratch.path().join("chrome-profile");
                let mut args = vec![
                    "--headless=new".to_owned(),
                    "--no-sandbox".to_owned(),
                    "--disable-gpu".to_owned(),
                    "--disable-dev-shm-usage".to_owned(),
                    "--disable-background-networking".to_owned(),
                    "--disable-component-update".to_owned(),
                    "--disable-sync".to_owned(),
                    "--no-first-run".to_owned(),
                    format!("--user-data-dir={}", profile.display()),
                ];
                // Chromium's switch for a dark system theme; it also sets `prefers-color-scheme`.
                // Light is what Chromium reports without it.
                if scheme == Some(Scheme::Dark) {
                    args.push("--force-dark-mode".to_owned());
                }
                if no_scrollbars {
                    args.push("--hide-scrollbars".to_owned());
                }
                args.extend(settings.args.iter().cloned());
                let mut options = json!({ "args": args });
                options["binary"] = Value::String(self.binary.clone());
                if !settings.prefs.is_empty() {
                    // chromedriver writes these into the profile's Preferences before launching.
                    options["prefs"] = Value::Object(settings.prefs.clone());
                }
                json!({ "browserName": "chrome", "goog:chromeOptions": options })
            }
            Browser::Firefox => {
                // geckodriver makes a fresh temporary profile for every session.
                let mut args = vec!["-headless".to_owned()];
                args.extend(settings.args.iter().cloned());
                let mut options = json!({ "args": args });
                options["binary"] = Value::String(self.binary.clone());
                if let Some(scheme) = scheme {
                    // The system theme, and the content override that follows it:
                    // 0 dark, 1 light (Firefox's `layout.css.prefers-color-scheme.content-override`).
                    let (system_dark, content) = match scheme {
                        Scheme::Light => (0, 1),
                        Scheme::Dark => (1, 0),
                    };
                    options["prefs"] = json!({
                        "ui.systemUsesDarkTheme": system_dark,
                        "layout.css.prefers-color-scheme.content-override": content,
                    });
                }
                if no_scrollbars {
                    // Overlay scroll bars, drawn over the page instead of beside it.
                    options["prefs"]["ui.useOverlayScrollbars"] = json!(1);
                }
                for (name, value) in &settings.prefs {
                    options["prefs"][name] = value.clone();
                }
                json!({ "browserName": "firefox", "moz:firefoxOptions": options })
            }
        };
        let Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are a JSON object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(capabilities);
        let address = format!("http://127.0.0.1:{}", self.port);
        let session = builder.connect(&address);
        tokio::time::timeout(PATIENCE, session)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} did not start a browser within {PATIENCE:?}; its log:\n{}",
                    self.browser.name(),
                    self.log_text()
                )
            })
            .unwrap_or_else(|error| {
                panic!(
                    "{} could not start a headless {} session: {error}; its log:\n{}",
                    self.browser.name(),
                    self.browser.name(),
                    self.log_text()
                )
            })
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Whether `GET /status` on the driver answers 200. Reads only the status line: drivers keep the
/// connection open whatever `Connection: close` says.
async fn status_is_ok(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let mut chunk = [0_u8; 256];
    while answer.len() < 12 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    answer.starts_with(b"HTTP/1.1 200")
}

/// Polls the driver's `GET /status` until it answers 200. `Err` (with its log) when it exits
/// first; a driver that neither answers nor exits within [`PATIENCE`] fails the test.
async fn wait_until_ready(
    process: &mut Child,
    port: u16,
    program: &Path,
    log: &Path,
) -> Result<(), String> {
    let log_text = || fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(Some(status)) = process.try_wait() {
            return Err(format!(
                "{} exited ({status}) before answering on port {port}; its log:\n{}",
                program.display(),
                log_text()
            ));
        }
        let probe = tokio::time::timeout(Duration::from_secs(2), status_is_ok(port));
        if let Ok(true) = probe.await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            // Stopped before the test fails: no `Driver` holds it yet to kill it when dropped.
            let _ = process.kill();
            let _ = process.wait();
            panic!(
                "{} did not answer on port {port} within {PATIENCE:?}; its log:\n{}",
                program.display(),
                log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A port nobody listens on now (the OS picks it; the driver binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

/// The driver from `$variable`, else `name` on PATH, else (geckodriver) `~/.cargo/bin`.
fn driver_binary(variable: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable).filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{variable}={} is not a file; fix it or unset it",
            path.display()
        );
        return path;
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|cargo| cargo.join("bin").join(name));
    on_path(name)
        .or_else(|| cargo_bin.filter(|path| path.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "{name} not found on PATH (nor in ~/.cargo/bin): `cargo xtask test` installs it, \
                 or set {variable} to its path"
            )
        })
}

/// The browser from `$variable`, else the first of `names` on PATH.
fn browser_binary(variable: &str, names: &[&str], fix: &str) -> String {
    if let Some(path) = std::env::var_os(variable).filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{variable}={} is not a file; fix it or unset it",
            path.display()
        );
        return path.to_string_lossy().into_owned();
    }
    let found = names
        .iter()
        .find_map(|name| on_path(name))
        .unwrap_or_else(|| {
            panic!(
            "no browser found: none of {names:?} is on PATH; {fix}, or set {variable} to its path"
        )
        });
    found.to_string_lossy().into_owned()
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
