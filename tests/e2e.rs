#![cfg(not(target_arch = "wasm32"))]
//! End to end: a reader's journey through the demo site, in real headless Chrome and Firefox.
//!
//! Each test starts the reference server (`meterwall_server::run`) on 127.0.0.1 with the
//! repository's `www/` and a fresh SQLite file, starts a WebDriver (chromedriver or geckodriver)
//! on a free port with a fresh browser profile, and reads like a person would: three free
//! articles, the wall on the fourth, a free article again, then a signup that opens the wall and
//! lands in the database.
//!
//! Needs the built widget (`cargo xtask build`) and the browsers with their drivers
//! (`cargo xtask test` installs them). Whatever is missing fails the test, naming the fix.
//! Overrides: `CHROMEDRIVER`, `CHROME_BIN`, `GECKODRIVER`, `FIREFOX_BIN`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tempfile::TempDir;

/// How long the widget may take to decide, and a driver or a browser session to start.
const PATIENCE: Duration = Duration::from_secs(30);

/// The whole journey; a browser that stops answering fails the test instead of hanging it.
const JOURNEY_LIMIT: Duration = Duration::from_secs(180);

/// The signup copy's heading for a registration wall.
const HEADING: &str = "Keep reading for free!";

/// One browser at a time: two headless browsers on two cores make both slow and flaky.
static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_reader_journey() {
    reader_journey(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_reader_journey() {
    reader_journey(Browser::Firefox).await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Browser {
    Chrome,
    Firefox,
}

impl Browser {
    fn name(self) -> &'static str {
        match self {
            Self::Chrome => "chrome",
            Self::Firefox => "firefox",
        }
    }
}

/// An article of the demo site, with the text the reader should (or should not) see.
#[derive(Debug, Clone)]
struct Article {
    path: String,
    /// The text of each `<p>` in the article body, in order, whitespace collapsed.
    paragraphs: Vec<String>,
}

async fn reader_journey(browser: Browser) {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let started = Instant::now();
    let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
    let widget = www.join("dist").join("meterwall.js");
    assert!(
        widget.is_file(),
        "the built widget {} is missing: run `cargo xtask build` first",
        widget.display()
    );
    let articles = demo_articles(&www.join("articles"));
    // Every binary is looked up before anything starts, so a missing one fails at once and alone.
    let binaries = Binaries::locate(browser);

    // The server, as `cargo xtask demo` runs it, on a free port with its own database.
    let data = tempfile::tempdir().expect("a temp dir for the database");
    let db = data.path().join("meterwall.sqlite");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let site = format!("http://{}", listener.local_addr().unwrap());
    let options = meterwall_server::Options {
        root: www.clone(),
        db: db.clone(),
        // Small, so the rule runs but the test does not wait a human's second.
        min_submit_ms: 50,
        ..meterwall_server::Options::default()
    };
    // Declared after `data`, so it stops before the database's directory is deleted.
    let server = AbortOnDrop(tokio::spawn(async move {
        if let Err(error) = meterwall_server::run(listener, options).await {
            panic!("the signup server stopped: {error}");
        }
    }));

    let driver = Driver::start(browser, binaries).await;
    let client = driver.connect().await;
    let email = format!("reader.{}@Example.COM", browser.name());

    // The journey runs in its own task so that a failed assertion still closes the browser.
    let journey = tokio::spawn(tokio::time::timeout(
        JOURNEY_LIMIT,
        journey(client.clone(), site, articles, email.clone()),
    ))
    .await;
    if let Err(error) = client.close().await {
        eprintln!(
            "[e2e] could not close the {} session: {error}",
            browser.name()
        );
    }
    drop(driver);
    drop(server);
    match journey {
        Ok(Ok(())) => {}
        Ok(Err(_)) => panic!(
            "the {} journey took longer than {JOURNEY_LIMIT:?}: the browser stopped answering",
            browser.name()
        ),
        Err(failure) => match failure.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(failure) => panic!("the journey did not finish: {failure}"),
        },
    }

    // The signup really reached the server: read its file as another process would.
    let stored =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|connection| {
                connection.query_row(
                    "SELECT count(*) FROM signups WHERE email = ?1",
                    [email.replace("Example.COM", "example.com")],
                    |row| row.get::<_, i64>(0),
                )
            })
            .expect("the server's SQLite file is readable");
    assert_eq!(
        stored,
        1,
        "the signup of {email} is not in {}",
        db.display()
    );
    eprintln!(
        "[e2e] {} reader journey passed in {:.1} s",
        browser.name(),
        started.elapsed().as_secs_f64()
    );
}

/// What the reader does and sees.
async fn journey(client: Client, site: String, articles: Vec<Article>, email: String) {
    let url = |article: &Article| format!("{site}{}", article.path);

    // Articles 1-3: free, whole, no prompt.
    for article in &articles[..3] {
        client.goto(&url(article)).await.expect("open the article");
        assert_eq!(
            decided_state(&client, article).await,
            "open",
            "{}",
            article.path
        );
        assert_no_prompt(&client, article).await;
        let page = page_text(&client).await;
        for paragraph in &article.paragraphs {
            assert!(
                page.contains(paragraph),
                "{}: an open article is missing the paragraph {paragraph:?}",
                article.path
            );
        }
    }

    // Article 4: the allowance is spent.
    let fourth = &articles[3];
    let hidden = fourth.paragraphs[2].as_str();
    client
        .goto(&url(fourth))
        .await
        .expect("open the fourth article");
    assert_eq!(
        decided_state(&client, fourth).await,
        "locked",
        "{}",
        fourth.path
    );
    let prompt = client
        .find(Locator::Css(".article-body [data-meterwall-prompt]"))
        .await
        .unwrap_or_else(|_| panic!("{}: locked, but no prompt in the article body", fourth.path));
    let shadow = prompt
        .shadow_root()
        .await
        .expect("the prompt has an open shadow root");
    let heading = shadow
        .find(Locator::Css("h2"))
        .await
        .expect("an h2 in the prompt");
    assert_eq!(text_of(&heading).await, HEADING);
    shadow
        .find(Locator::Css("input[type=email]"))
        .await
        .expect("an email input in the prompt");
    shadow
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("a submit button in the prompt");
    let mut hrefs = Vec::new();
    for link in shadow
        .find_all(Locator::Css("a[href]"))
        .await
        .expect("the prompt's links")
    {
        hrefs.push(link.attr("href").await.unwrap().unwrap_or_default());
    }
    for page in ["/subscribe.html", "/login.html"] {
        assert!(
            hrefs.iter().any(|href| href.ends_with(page)),
            "no link to {page} in the prompt; its links: {hrefs:?}"
        );
    }
    assert!(
        !page_text(&client).await.contains(hidden),
        "{}: the wall is up but the third paragraph is still in the page",
        fourth.path
    );

    // A free article read again stays free.
    client
        .goto(&url(&articles[0]))
        .await
        .expect("reopen the first article");
    assert_eq!(decided_state(&client, &articles[0]).await, "open");
    assert_no_prompt(&client, &articles[0]).await;

    // Back to article 4, and sign up.
    client
        .goto(&url(fourth))
        .await
        .expect("reopen the fourth article");
    assert_eq!(decided_state(&client, fourth).await, "locked");
    let shadow = client
        .find(Locator::Css(".article-body [data-meterwall-prompt]"))
        .await
        .expect("the prompt again")
        .shadow_root()
        .await
        .expect("its shadow root");
    let input = shadow
        .find(Locator::Css("input[type=email]"))
        .await
        .unwrap();
    input.send_keys(&email).await.expect("type the email");
    // A person reads the prompt before sending; the server refuses faster-than-human submits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    shadow
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .expect("click submit");
    let opened = wait_for(&client, "the article to open after the signup", |state| {
        state.as_deref() == Some("open")
    })
    .await;
    assert_eq!(opened, "open");
    assert!(
        page_text(&client).await.contains(hidden),
        "{}: signed up, but the third paragraph did not come back",
        fourth.path
    );
    assert_no_prompt(&client, fourth).await;
}

/// Waits until the widget has decided, and returns `open` or `locked`.
async fn decided_state(client: &Client, article: &Article) -> String {
    wait_for(
        client,
        &format!("the widget to decide on {}", article.path),
        |state| matches!(state.as_deref(), Some("open" | "locked")),
    )
    .await
}

/// Polls `.article-body`'s `data-meterwall-state` until `done` accepts it.
async fn wait_for(client: &Client, what: &str, done: impl Fn(&Option<String>) -> bool) -> String {
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

async fn assert_no_prompt(client: &Client, article: &Article) {
    let prompts = client
        .find_all(Locator::Css("[data-meterwall-prompt]"))
        .await
        .expect("look for a prompt");
    assert!(
        prompts.is_empty(),
        "{}: an open article shows a prompt",
        article.path
    );
}

/// `document.body.textContent`, whitespace collapsed.
async fn page_text(client: &Client) -> String {
    let text = client
        .execute("return document.body.textContent;", vec![])
        .await
        .expect("read the page's text");
    collapse(text.as_str().unwrap_or_default())
}

/// An element's `textContent` (not its rendered text, which CSS may transform), trimmed.
async fn text_of(element: &fantoccini::elements::Element) -> String {
    collapse(
        &element
            .prop("textContent")
            .await
            .unwrap()
            .unwrap_or_default(),
    )
}

/// The first four articles of the demo site, sorted by file name, with their paragraphs.
fn demo_articles(dir: &Path) -> Vec<Article> {
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
        files.len() >= 6,
        "the demo site needs at least six articles in {}, found {}",
        dir.display(),
        files.len()
    );
    files
        .iter()
        .take(4)
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

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Aborts a spawned task when dropped, also when a test fails part-way.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The WebDriver server and the browser it drives.
struct Binaries {
    driver: PathBuf,
    /// The `binary` capability: the browser executable.
    browser: String,
}

impl Binaries {
    /// Finds both, from the environment variables or PATH; fails naming what is missing and the fix.
    fn locate(browser: Browser) -> Self {
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

/// A WebDriver server started for one test, stopped (killed) when dropped, also on failure.
struct Driver {
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
    async fn start(browser: Browser, binaries: Binaries) -> Self {
        let scratch = tempfile::tempdir().expect("a temp dir for the browser profile");
        let port = free_port();
        let log = scratch.path().join("driver.log");
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
        let program = binaries.driver;
        let process = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the driver's log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        let mut driver = Self {
            browser,
            binary: binaries.browser,
            process,
            port,
            log,
            scratch,
        };
        driver.wait_until_ready(&program).await;
        driver
    }

    /// Polls the driver's `GET /status` until it answers 200.
    async fn wait_until_ready(&mut self, program: &Path) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.process.try_wait() {
                panic!(
                    "{} exited ({status}) before answering; its log:\n{}",
                    program.display(),
                    self.log_text()
                );
            }
            let probe = tokio::time::timeout(Duration::from_secs(2), status_is_ok(self.port));
            if let Ok(true) = probe.await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer on port {} within {PATIENCE:?}; its log:\n{}",
                program.display(),
                self.port,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A WebDriver session with a fresh, headless profile.
    async fn connect(&self) -> Client {
        let capabilities = match self.browser {
            Browser::Chrome => {
                let profile = self.scratch.path().join("chrome-profile");
                let mut options = json!({
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                        format!("--user-data-dir={}", profile.display()),
                    ],
                });
                options["binary"] = Value::String(self.binary.clone());
                json!({ "browserName": "chrome", "goog:chromeOptions": options })
            }
            Browser::Firefox => {
                // geckodriver makes a fresh temporary profile for every session.
                let mut options = json!({ "args": ["-headless"] });
                options["binary"] = Value::String(self.binary.clone());
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
