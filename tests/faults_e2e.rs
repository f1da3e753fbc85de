#![cfg(not(target_arch = "wasm32"))]
//! End to end, when things go wrong: the README's failure policy checked in real headless Chrome
//! and Firefox, against the reference server, as a reader would meet it.
//!
//! - Storage refused by the browser itself (Firefox's `dom.storage.enabled`, Chrome's "block
//!   site data" setting): every article stays open and the widget says why.
//! - History: going back and forth between two articles never counts one twice, whether the
//!   browser restores the pages from its back-forward cache or loads them again.
//! - The widget cannot load (its wasm is missing, or is not wasm): the article stays readable and
//!   the loader says why.
//! - A bug in the widget (a trap): the article is put back, one error says so, and the widget
//!   answers every later call with an error.
//!
//! The failure cases serve a copy of `www/` whose articles listen for `meterwall:error` in an
//! inline script placed before the loader, as a publisher would, so the event of the page's own
//! load is seen even though the loader is `async`.
//!
//! Needs the built widget (`cargo xtask build`) and the browsers with their drivers
//! (`cargo xtask test` installs them). Whatever is missing fails the test, naming the fix.
//! Overrides: `CHROMEDRIVER`, `CHROME_BIN`, `GECKODRIVER`, `FIREFOX_BIN`.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    assert_no_prompt, assert_whole, copy_site, decided, errors, first_articles, js, open,
    page_text, run_case, state, until, Article, Browser, Settings, WAIT,
};
use fantoccini::{Client, Locator};
use serde_json::json;

/// How long a page whose widget failed to load is watched before it is judged readable.
const SETTLE: Duration = Duration::from_secs(3);

/// Placed first in `<head>` of the copied articles: collects every `meterwall:error` message.
const ERROR_LISTENER: &str = "<script>window.__mwErrors = [];\
document.addEventListener(\"meterwall:error\", function (event) {\
window.__mwErrors.push(event.detail.message);});</script>";

// 1. Storage disabled by the browser.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_storage_disabled_journey() {
    storage_disabled(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_storage_disabled_journey() {
    storage_disabled(Browser::Firefox).await;
}

async fn storage_disabled(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 5);
    let site = copy_site(&www);
    listen_for_errors(site.path());
    let settings = match browser {
        // Chrome's content setting for cookies and site data, 2 = block for every site, as a
        // reader sets it in chrome://settings: the `localStorage` getter then throws a
        // SecurityError (checked below).
        Browser::Chrome => {
            Settings::default().pref("profile.default_content_setting_values.cookies", json!(2))
        }
        // Firefox's switch for DOM storage as a whole: `window.localStorage` is then null.
        Browser::Firefox => Settings::default().pref("dom.storage.enabled", json!(false)),
    };
    run_case(
        browser,
        "storage-disabled journey",
        &settings,
        site.path(),
        |client, url| storage_disabled_journey(browser, client, url, articles),
    )
    .await;
}

async fn storage_disabled_journey(
    browser: Browser,
    client: Client,
    site: String,
    articles: Vec<Article>,
) {
    for (i, article) in articles.iter().enumerate() {
        open(&client, &site, &article.path).await;
        if i == 0 {
            // The setting really reaches pages, else the rest proves nothing.
            let access = js(
                &client,
                "try {
                     const storage = window.localStorage;
                     if (storage === null) return 'null';
                     storage.getItem('meterwall:v1');
                     return 'usable';
                 } catch (error) {
                     return 'throws ' + error.name;
                 }",
            )
            .await;
            let access = access.as_str().unwrap_or_default().to_owned();
            eprintln!(
                "[faults_e2e] {}: with storage disabled, window.localStorage {}",
                browser.name(),
                match access.as_str() {
                    "null" => "is null".to_owned(),
                    other => other.to_owned(),
                }
            );
            match browser {
                Browser::Chrome => assert_eq!(
                    access, "throws SecurityError",
                    "Chrome with site data blocked: localStorage should throw a SecurityError"
                ),
                Browser::Firefox => assert!(
                    access == "null" || access.starts_with("throws"),
                    "Firefox with dom.storage.enabled=false: localStorage is {access}"
                ),
            }
        }
        assert_eq!(
            decided(&client, &article.path).await,
            "open",
            "{}: storage is unavailable and the policy is open",
            article.path
        );
        assert_no_prompt(&client, &article.path).await;
        assert_whole(&client, article).await;
        let errors = errors(&client, "__mwErrors").await;
        assert!(
            errors
                .iter()
                .any(|message| message.contains("localStorage is unavailable")),
            "{}: no meterwall:error said localStorage is unavailable; the errors: {errors:?}",
            article.path
        );
    }

    // Mounting again, with a listener attached first, reports the same cause at once.
    let last = articles.last().expect("five articles");
    let remount = js(
        &client,
        "window.__mwAgain = [];
         document.addEventListener('meterwall:error',
             (event) => window.__mwAgain.push(event.detail.message));
         if (!window.meterwall || window.meterwall.version !== 1) return 'no widget';
         try { window.meterwall.mount(); } catch (error) { return 'threw ' + error; }
         return 'mounted';",
    )
    .await;
    assert_eq!(remount, json!("mounted"), "{}: mount() again", last.path);
    let again = errors(&client, "__mwAgain").await;
    assert!(
        again
            .iter()
            .any(|message| message.contains("localStorage is unavailable")),
        "{}: mounting again fired no meterwall:error about localStorage; the errors: {again:?}",
        last.path
    );
    assert_eq!(state(&client).await.as_deref(), Some("open"));
    assert_no_prompt(&client, &last.path).await;
    assert_whole(&client, last).await;

    // The closed policy gates the page instead.
    let closed = js(
        &client,
        "window.__mwAgain = [];
         try { window.meterwall.mount({ onStorageUnavailable: 'closed' }); }
         catch (error) { return 'threw ' + error; }
         return 'mounted';",
    )
    .await;
    assert_eq!(closed, json!("mounted"), "{}: mount(closed)", last.path);
    assert_eq!(
        state(&client).await.as_deref(),
        Some("locked"),
        "{}: onStorageUnavailable: \"closed\" without storage should gate the page",
        last.path
    );
    client
        .find(Locator::Css(".article-body [data-meterwall-prompt]"))
        .await
        .unwrap_or_else(|_| panic!("{}: gated, but no prompt in the article body", last.path));
    assert!(
        !page_text(&client).await.contains(&last.paragraphs[2]),
        "{}: gated by the closed policy, but the third paragraph is still in the page",
        last.path
    );
    let again = errors(&client, "__mwAgain").await;
    assert!(
        again
            .iter()
            .any(|message| message.contains("localStorage is unavailable")
                && message.contains("the wall is shown")),
        "{}: the closed policy's error should say the wall is shown; the errors: {again:?}",
        last.path
    );
}

// 2. History, with and without the back-forward cache.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_back_forward_counts_each_article_once() {
    back_forward(Browser::Chrome, Cache::AsShipped).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_back_forward_counts_each_article_once() {
    back_forward(Browser::Firefox, Cache::AsShipped).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_history_without_bfcache_counts_each_article_once() {
    back_forward(Browser::Chrome, Cache::Off).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_history_without_bfcache_counts_each_article_once() {
    back_forward(Browser::Firefox, Cache::Off).await;
}

/// The browser's back-forward cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cache {
    /// As the browser ships: headless Chrome 156 and Firefox 153 ESR both restore these pages
    /// from it, but a browser may decline any page, so the test reports which happened.
    AsShipped,
    /// Turned off, so every step through history loads the page and runs the widget again.
    Off,
}

async fn back_forward(browser: Browser, cache: Cache) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 2);
    let settings = match (cache, browser) {
        (Cache::AsShipped, _) => Settings::default(),
        (Cache::Off, Browser::Chrome) => Settings {
            args: vec!["--disable-back-forward-cache".to_owned()],
            ..Settings::default()
        },
        // The number of documents Firefox keeps for back and forward.
        (Cache::Off, Browser::Firefox) => {
            Settings::default().pref("browser.sessionhistory.max_total_viewers", json!(0))
        }
    };
    let what = match cache {
        Cache::AsShipped => "back-forward journey",
        Cache::Off => "history journey without the back-forward cache",
    };
    run_case(browser, what, &settings, &www, |client, url| {
        back_forward_journey(browser, cache, client, url, articles)
    })
    .await;
}

async fn back_forward_journey(
    browser: Browser,
    cache: Cache,
    client: Client,
    site: String,
    articles: Vec<Article>,
) {
    let (a, b) = (&articles[0], &articles[1]);
    open(&client, &site, &a.path).await;
    let first = settle(&client, a).await;
    assert_eq!(first.counted(), 1, "after A: {:?}", first.record);
    assert_eq!(
        first.used,
        Some(1),
        "{}: the first article counts one",
        a.path
    );
    open(&client, &site, &b.path).await;
    let second = settle(&client, b).await;
    assert_eq!(
        second.used,
        Some(2),
        "{}: the second article counts two",
        b.path
    );
    assert_eq!(second.counted(), 2, "after A and B: {:?}", second.record);

    let mut visits = Vec::new();
    client.back().await.expect("go back to A");
    visits.push(("back to A", settle(&client, a).await));
    for _ in 0..3 {
        client.forward().await.expect("go forward to B");
        visits.push(("forward to B", settle(&client, b).await));
        client.back().await.expect("go back to A");
        visits.push(("back to A", settle(&client, a).await));
    }
    for (step, visit) in &visits {
        eprintln!(
            "[faults_e2e] {}{}: {step}: {}, navigation type {:?}, pageshow persisted {}, \
             why().used {:?}, {} articles stored",
            browser.name(),
            if cache == Cache::Off {
                " (bfcache off)"
            } else {
                ""
            },
            if visit.restored {
                "restored from the back-forward cache"
            } else {
                "loaded again"
            },
            visit.navigation,
            visit.restored,
            visit.used,
            visit.counted()
        );
    }
    for (step, visit) in &visits {
        assert_eq!(
            visit.counted(),
            2,
            "{}: {step}: the meter should still hold exactly A and B; the record is {:?}",
            browser.name(),
            visit.record
        );
        assert_eq!(visit.state, "open", "{step}: the article is free");
        if visit.restored {
            // The same document, shown again: a view it fires (if any) counts nothing.
            assert!(
                visit.views.iter().all(|counted| !counted),
                "{step}: a view counted again after the restore: {:?}",
                visit.views
            );
        } else {
            // The widget ran again on a page it had counted: the reader has used two, and this
            // view re-read the article rather than counting it (a record holds an article once,
            // so only the decision can show a second count).
            assert_eq!(visit.used, Some(2), "{step}: why() after loading again");
            assert_eq!(
                (visit.reason.as_deref(), visit.counted_now),
                (Some("alreadyOpened"), Some(false)),
                "{step}: why() after loading again"
            );
        }
        if cache == Cache::Off {
            assert!(
                !visit.restored,
                "{}: {step}: restored from the back-forward cache although it is off",
                browser.name()
            );
        }
    }
}

/// What a page looked like once the widget had decided on it.
#[derive(Debug)]
struct Visit {
    /// `data-meterwall-state`.
    state: String,
    /// `performance.getEntriesByType('navigation')[0].type`: `back_forward` for a page loaded
    /// again from history; a restored page keeps its document's entry, which Chrome leaves at
    /// `navigate` and Firefox updates to `back_forward`.
    navigation: String,
    /// A `pageshow` with `persisted` reached the listener installed on the previous visit: only
    /// a window restored from the back-forward cache still has that listener.
    restored: bool,
    /// `window.meterwall.why().used`, as this document last decided.
    used: Option<u64>,
    /// `why().reason` and `why().counted`: a page loaded again re-reads an article it counted.
    reason: Option<String>,
    counted_now: Option<bool>,
    /// `detail.counted` of each `meterwall:view` since the previous visit's settling, heard by a
    /// listener installed then: only a window restored from the back-forward cache still has it.
    views: Vec<bool>,
    /// The stored `meterwall:v1`.
    record: Option<String>,
}

impl Visit {
    /// How many articles the stored record holds: see src/record.rs, after the header
    /// `1<tag><bucket>.<latest>.<registered>.` every entry is 10 characters.
    fn counted(&self) -> usize {
        let record = self
            .record
            .as_deref()
            .unwrap_or_else(|| panic!("no meterwall:v1 in localStorage"));
        let entries = record
            .splitn(4, '.')
            .nth(3)
            .unwrap_or_else(|| panic!("the record {record:?} has no three-field header"));
        assert_eq!(
            entries.len() % 10,
            0,
            "the record {record:?} has a partial entry"
        );
        entries.len() / 10
    }
}

/// Waits until `article` is the page shown and the widget has decided on it, then reads the page
/// and installs the `pageshow` listener the next visit to this document reads.
async fn settle(client: &Client, article: &Article) -> Visit {
    decided(client, &article.path).await;
    let page = js(
        client,
        "const restored = Array.isArray(window.__mwShows) && window.__mwShows.includes(true);
         if (!Array.isArray(window.__mwShows)) {
             window.__mwShows = [];
             window.addEventListener('pageshow', (event) => window.__mwShows.push(event.persisted));
         }
         window.__mwShows.length = 0;
         const views = Array.isArray(window.__mwViews) ? window.__mwViews.splice(0) : [];
         if (!Array.isArray(window.__mwViews)) {
             window.__mwViews = [];
             document.addEventListener('meterwall:view', (event) => window.__mwViews.push(event.detail.counted));
         }
         const why = window.meterwall && window.meterwall.why ? window.meterwall.why() : null;
         return {
             state: document.querySelector('.article-body').getAttribute('data-meterwall-state'),
             navigation: performance.getEntriesByType('navigation')[0].type,
             restored: restored,
             used: why && typeof why.used === 'number' ? why.used : null,
             reason: why ? why.reason : null,
             counted: why ? why.counted : null,
             views: views,
             record: localStorage.getItem('meterwall:v1'),
         };",
    )
    .await;
    Visit {
        state: page["state"].as_str().unwrap_or_default().to_owned(),
        navigation: page["navigation"].as_str().unwrap_or_default().to_owned(),
        restored: page["restored"].as_bool().unwrap_or_default(),
        used: page["used"].as_u64(),
        reason: page["reason"].as_str().map(str::to_owned),
        counted_now: page["counted"].as_bool(),
        views: page["views"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c.as_bool().unwrap_or(true))
            .collect(),
        record: page["record"].as_str().map(str::to_owned),
    }
}

// 3. The widget cannot load.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_missing_wasm_leaves_the_article_readable() {
    widget_cannot_load(Browser::Chrome, Broken::Missing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_missing_wasm_leaves_the_article_readable() {
    widget_cannot_load(Browser::Firefox, Broken::Missing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_corrupt_wasm_leaves_the_article_readable() {
    widget_cannot_load(Browser::Chrome, Broken::NotWasm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_corrupt_wasm_leaves_the_article_readable() {
    widget_cannot_load(Browser::Firefox, Broken::NotWasm).await;
}

/// How the copy's wasm module is broken.
#[derive(Debug, Clone, Copy)]
enum Broken {
    /// Deleted: the server answers 404.
    Missing,
    /// Text instead of a module, served as `application/wasm`: it fails to compile.
    NotWasm,
}

async fn widget_cannot_load(browser: Browser, broken: Broken) {
    let www = common::www();
    let article = first_articles(&www.join("articles"), 1).remove(0);
    let site = copy_site(&www);
    listen_for_errors(site.path());
    let wasm = site.path().join("dist").join("meterwall_wasm_bg.wasm");
    match broken {
        Broken::Missing => fs::remove_file(&wasm),
        Broken::NotWasm => fs::write(&wasm, "not wasm"),
    }
    .unwrap_or_else(|error| panic!("cannot break {}: {error}", wasm.display()));
    let what = match broken {
        Broken::Missing => "missing-wasm page",
        Broken::NotWasm => "corrupt-wasm page",
    };
    run_case(
        browser,
        what,
        &Settings::default(),
        site.path(),
        |client, url| unloadable_page(browser, client, url, article),
    )
    .await;
}

async fn unloadable_page(browser: Browser, client: Client, site: String, article: Article) {
    let opened = Instant::now();
    open(&client, &site, &article.path).await;
    // The page's own load: the listener placed before the loader hears why it failed.
    let first = wait_for_error(&client, "__mwErrors", "could not load").await;
    tokio::time::sleep(SETTLE.saturating_sub(opened.elapsed())).await;
    assert_eq!(
        state(&client).await,
        None,
        "{}: the widget never loaded, yet the article has a state",
        article.path
    );
    assert_no_prompt(&client, &article.path).await;
    assert_whole(&client, &article).await;
    let all = errors(&client, "__mwErrors").await;
    assert_eq!(
        all.len(),
        1,
        "{}: one failure, one error: {all:?}",
        article.path
    );

    // The loader run again, with a listener attached first, reports the same.
    let started = js(
        &client,
        "window.__mwReload = [];
         document.addEventListener('meterwall:error',
             (event) => window.__mwReload.push(event.detail.message));
         window.meterwall = [];
         const script = document.createElement('script');
         script.src = '/dist/meterwall.js';
         document.head.appendChild(script);
         return true;",
    )
    .await;
    assert_eq!(started, json!(true));
    let again = wait_for_error(&client, "__mwReload", "could not load").await;
    assert_no_prompt(&client, &article.path).await;
    assert_whole(&client, &article).await;
    eprintln!(
        "[faults_e2e] {}: the page's error: {:?}; after loading the loader again: {:?}",
        browser.name(),
        first,
        again
    );
}

// 4. A bug in the widget.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_a_trap_puts_the_article_back_and_stops_the_widget() {
    trap(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_a_trap_puts_the_article_back_and_stops_the_widget() {
    trap(Browser::Firefox).await;
}

/// Ways the widget's wasm stops where it is, run on the walled fourth article, each on a fresh
/// load of it: as embedded by default (three files), or through the one-request build, whose glue
/// is built apart (a twin of the page with the same article id). A panic aborts, and an abort in wasm is a trap: the module's frames end
/// without their destructors and the browser throws a `WebAssembly.RuntimeError` to the JS that
/// called in. Without a bug to trigger, the cases make the same end happen. Each is a module
/// script put in the page (Firefox runs WebDriver's scripts where a dynamic import loads a
/// module of its own, not the page's), which leaves what the call ended with in `window.__trap`;
/// the last item is what that must be.
const TRAPS: [(&str, Build, &str, &str); 4] = [
    (
        // The module runs out of memory: the page grows the widget's memory as far as the
        // browser allows, then hands it a token of 1 MiB. Copying it in finds no memory left,
        // and wasm-bindgen's allocator aborts: a real trap, inside the token call's executor.
        "out of memory",
        Build::ThreeFiles,
        "const glue = await import('/dist/meterwall_wasm.js');
         const exports = Object.values(glue.initSync());
         const memory = exports.find((v) => v instanceof WebAssembly.Memory);
         for (let pages = 65536; pages >= 1; pages >>= 1) {
             try { memory.grow(pages); } catch (e) { /* past the browser's limit */ }
         }
         window.__trap = await window.meterwall.setToken('x'.repeat(1 << 20))
             .then(() => 'resolved', (e) => e && e.constructor.name);",
        "RuntimeError",
    ),
    (
        // Inside a call on the page state (`setSubscriber`, which holds it while it decides
        // again): `Date.now`, which the widget calls there, throws what a trap throws, once. The
        // frames end as a trap's do, the page state's borrow left marked as taken.
        "inside a call on the page state",
        Build::ThreeFiles,
        INSIDE_A_CALL,
        "RuntimeError",
    ),
    (
        "inside a call on the page state, one-request build",
        Build::OneRequest,
        INSIDE_A_CALL,
        "RuntimeError",
    ),
    (
        // Nested: the wall comes back (`setSubscriber(false)` after `true`), and the page's
        // `before-lock` listener, which the widget runs while it holds the page state, calls in
        // again; that inner call (a refused `setSubscriber`, which reports) meets a `console.error`
        // that throws what a trap throws. The widget stops at once: the outer call goes on to its
        // end, but its held events (`lock`) never fire. The article is put back only once the outer
        // call has ended, with no frame of the module left.
        "in a call nested in a listener",
        Build::ThreeFiles,
        "window.__locks = 0;
         document.addEventListener('meterwall:lock', () => { window.__locks++; });
         window.meterwall.setSubscriber(true);
         document.addEventListener('meterwall:before-lock', () => {
             const error = console.error;
             console.error = function () {
                 console.error = error;
                 throw new WebAssembly.RuntimeError('unreachable');
             };
             window.meterwall.setSubscriber('not a boolean');
         }, { once: true });
         const decision = window.meterwall.setSubscriber(false);
         window.__trap = 'returned ' + (decision && decision.wall) + ', locks: ' + window.__locks;",
        "returned register, locks: 0",
    ),
];

const INSIDE_A_CALL: &str = "const now = Date.now;
     Date.now = function () {
         Date.now = now;
         throw new WebAssembly.RuntimeError('unreachable');
     };
     try {
         window.meterwall.setSubscriber(true);
         window.__trap = 'returned';
     } catch (e) {
         window.__trap = e.constructor.name;
     } finally {
         Date.now = now;
     }";

/// Which build of the widget a page embeds.
#[derive(Debug, Clone, Copy)]
enum Build {
    ThreeFiles,
    OneRequest,
}

/// The fourth article's twin, embedding the one-request build.
const ONE_REQUEST_TWIN: &str = "-one-request.html";

async fn trap(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 4);
    let site = copy_site(&www);
    listen_for_errors(site.path());
    let fourth = site.path().join(articles[3].path.trim_start_matches('/'));
    let html = fs::read_to_string(&fourth).expect("the fourth article's HTML");
    assert_eq!(
        html.matches("src=\"/dist/meterwall.js\"").count(),
        1,
        "{}",
        fourth.display()
    );
    let twin = fourth.with_extension("").display().to_string() + ONE_REQUEST_TWIN;
    fs::write(
        &twin,
        html.replace(
            "src=\"/dist/meterwall.js\"",
            "src=\"/dist/meterwall.inline.js\"",
        ),
    )
    .expect("write the one-request twin");
    run_case(
        browser,
        "trap",
        &Settings::default(),
        site.path(),
        |client, url| trapped(client, url, articles),
    )
    .await;
}

async fn trapped(client: Client, site: String, articles: Vec<Article>) {
    for article in &articles[..3] {
        open(&client, &site, &article.path).await;
        assert_eq!(
            decided(&client, &article.path).await,
            "open",
            "{}",
            article.path
        );
    }
    for (how, build, script, ended) in TRAPS {
        let mut walled = articles[3].clone();
        if let Build::OneRequest = build {
            walled.path = walled.path.trim_end_matches(".html").to_owned() + ONE_REQUEST_TWIN;
        }
        let walled = &walled;
        open(&client, &site, &walled.path).await;
        assert_eq!(
            decided(&client, &walled.path).await,
            "locked",
            "{}: the fourth article is walled before the trap ({how})",
            walled.path
        );
        let put = js(
            &client,
            &format!(
                "const script = document.createElement('script');
                 script.type = 'module';
                 script.textContent = {};
                 document.head.appendChild(script);
                 return true;",
                json!(script)
            ),
        )
        .await;
        assert_eq!(put, json!(true));
        assert_eq!(
            until(&client, how, "return window.__trap || null;").await,
            json!(ended),
            "{how}: how the call ends"
        );
        assert_eq!(
            state(&client).await.as_deref(),
            Some("open"),
            "{how}: the article is open again"
        );
        assert_no_prompt(&client, &walled.path).await;
        assert_whole(&client, walled).await;
        let all = errors(&client, "__mwErrors").await;
        assert_eq!(
            all,
            ["internal error: meterwall has stopped and the article stays readable; a bug in meterwall: please report it with this console's messages"],
            "{how}: one error, saying what happened"
        );
        let later = js(
            &client,
            "const api = window.meterwall;
             let mounted;
             try { api.mount(); mounted = 'mounted'; } catch (e) { mounted = String(e); }
             return [api.why(), api.state(), mounted, api.setSubscriber(false)];",
        )
        .await;
        assert_eq!(
            later,
            json!([
                null,
                null,
                "[meterwall] stopped after an internal error; reload the page",
                null
            ]),
            "{how}: every later call is refused"
        );
        assert_eq!(
            state(&client).await.as_deref(),
            Some("open"),
            "{how}: the article stays open after the later calls"
        );
    }
}

// What the cases share.

/// Puts [`ERROR_LISTENER`] first in the `<head>` of every article under `root`.
fn listen_for_errors(root: &Path) {
    let dir = root.join("articles");
    for entry in fs::read_dir(&dir).expect("the copy's articles") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|ext| ext != "html") {
            continue;
        }
        let html = fs::read_to_string(&path).expect("an article's HTML");
        let head = html
            .find("<head>")
            .unwrap_or_else(|| panic!("{}: no <head>", path.display()))
            + "<head>".len();
        let html = format!("{}\n{ERROR_LISTENER}{}", &html[..head], &html[head..]);
        fs::write(&path, html).expect("write the article back");
    }
}

/// Polls `window[array]` until a message contains `words`, and returns that message.
async fn wait_for_error(client: &Client, array: &str, words: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let messages = errors(client, array).await;
        if let Some(message) = messages.iter().find(|message| message.contains(words)) {
            return message.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no meterwall:error containing {words:?} within {WAIT:?}; the errors: {messages:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
