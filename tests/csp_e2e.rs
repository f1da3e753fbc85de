#![cfg(not(target_arch = "wasm32"))]
//! End to end under a strict Content Security Policy, in real headless Chrome and Firefox.
//!
//! `www/strict/index.html` is a demo article whose first element is the policy
//! `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self';
//! connect-src 'self'; img-src 'self' data:`: no inline script, no eval, wasm allowed. The reader
//! spends the free articles, meets the wall on that page, and registers through it; the page
//! records every `securitypolicyviolation` and the test asserts the widget caused none. The same
//! listener then sees `eval('1')` refused, so an empty list means "no violation", not "no
//! listener". That eval runs in a page script of the site (`www/strict/eval-probe.js`): code a
//! WebDriver injects is exempt from the page's policy in both browsers.
//!
//! No `'unsafe-inline'` in `style-src`: the prompt's styles are a constructed stylesheet
//! (`adoptedStyleSheets`), which the policy does not govern; a `<style>` element in the shadow
//! root would be refused (`style-src-elem inline`) in both browsers.
//!
//! The first load of the widget on that page cannot be watched (WebDriver runs scripts only once
//! the page has loaded), but it is checked by its outcome: had the policy refused the loader, the
//! glue or the wasm, the article would not be walled. The test then loads the loader again, with
//! the listener in place, and watches the second mount build the prompt.
//!
//! Needs the built widget (`cargo xtask build`) and the browsers with their drivers
//! (`cargo xtask test` installs them). Whatever is missing fails the test, naming the fix.
//! Overrides: `CHROMEDRIVER`, `CHROME_BIN`, `GECKODRIVER`, `FIREFOX_BIN`.

mod common;

use std::time::{Duration, Instant};

use common::{
    collapse, decided_state, demo_articles, in_session, wait_for, Article, Binaries, Browser,
    Driver, Site, ONE_BROWSER_AT_A_TIME, PATIENCE,
};
use fantoccini::{Client, Locator};
use serde_json::Value;

/// The whole journey; a browser that stops answering fails the test instead of hanging it.
const JOURNEY_LIMIT: Duration = Duration::from_secs(180);

/// The strict page, and the article id it gives itself (a fourth article after three free ones).
const STRICT_PAGE: &str = "/strict/index.html";

/// The policy the page must carry, exactly: the test is only as strict as this.
const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                      style-src 'self'; connect-src 'self'; img-src 'self' data:";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_strict_csp_journey() {
    strict_csp_journey(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_strict_csp_journey() {
    strict_csp_journey(Browser::Firefox).await;
}

async fn strict_csp_journey(browser: Browser) {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let started = Instant::now();
    let www = common::www();
    let page = std::fs::read_to_string(www.join("strict/index.html"))
        .expect("www/strict/index.html, the strict-CSP demo page");
    let head = &page[page.find("<head>").expect("a <head>") + "<head>".len()..];
    assert!(
        head.trim_start().starts_with(&format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">"
        )),
        "www/strict/index.html must open its <head> with the policy {POLICY:?}"
    );
    let articles = demo_articles(&www.join("articles"));
    let binaries = Binaries::locate(browser);
    let site = Site::start(&www).await;
    let driver = Driver::start(browser, binaries).await;
    let client = driver.connect().await;
    let email = format!("strict.{}@example.com", browser.name());

    in_session(
        browser,
        &client,
        JOURNEY_LIMIT,
        "strict CSP journey",
        journey(client.clone(), site.url.clone(), articles, email),
    )
    .await;
    drop(driver);
    site.stop();
    eprintln!(
        "[csp] {} strict CSP journey passed in {:.1} s",
        browser.name(),
        started.elapsed().as_secs_f64()
    );
}

async fn journey(client: Client, site: String, articles: Vec<Article>, email: String) {
    // Three free articles spend the allowance.
    for article in &articles[..3] {
        client
            .goto(&format!("{site}{}", article.path))
            .await
            .expect("open the article");
        assert_eq!(
            decided_state(&client, article).await,
            "open",
            "{}",
            article.path
        );
    }

    // The strict page is walled: the loader, the glue and the wasm all ran under the policy.
    let strict = Article {
        path: STRICT_PAGE.to_owned(),
        paragraphs: Vec::new(),
    };
    client
        .goto(&format!("{site}{STRICT_PAGE}"))
        .await
        .expect("open the strict page");
    assert_eq!(
        decided_state(&client, &strict).await,
        "locked",
        "{STRICT_PAGE}: the fourth article under a strict CSP should be walled"
    );
    client
        .find(Locator::Css(
            ".article-body[data-meterwall-state=\"locked\"] [data-meterwall-prompt]",
        ))
        .await
        .unwrap_or_else(|_| panic!("{STRICT_PAGE}: locked, but no prompt in the article body"));
    assert!(
        paragraph_text(&client, 2).await.is_none(),
        "{STRICT_PAGE}: the wall is up but the third paragraph is still in the page"
    );

    // Record every violation from now on, then load the loader again: it mounts afresh and
    // builds a new prompt (shadow root, its <style>, the form) with the listener watching.
    client
        .execute(
            "window.__violations = [];
             document.addEventListener('securitypolicyviolation', (e) =>
                 window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
             window.__ready = false;
             document.addEventListener('meterwall:ready', () => { window.__ready = true; });
             const first = document.querySelector('script[src$=\"/dist/meterwall.js\"]');
             window.meterwall = [];
             const again = document.createElement('script');
             // The same tag (its data-* config), so the second mount decides as the first did.
             for (const attribute of first.attributes) {
                 again.setAttribute(attribute.name, attribute.value);
             }
             document.head.appendChild(again);",
            vec![],
        )
        .await
        .expect("load the widget again with the violation listener in place");
    poll(
        &client,
        "the widget to load again",
        "return window.__ready;",
    )
    .await;
    assert_eq!(
        decided_state(&client, &strict).await,
        "locked",
        "{STRICT_PAGE}: the second mount should wall the article again"
    );

    // Register through the prompt.
    let shadow = client
        .find(Locator::Css(".article-body [data-meterwall-prompt]"))
        .await
        .expect("the prompt after the second mount")
        .shadow_root()
        .await
        .expect("the prompt has an open shadow root");
    shadow
        .find(Locator::Css("input[type=email]"))
        .await
        .expect("an email input in the prompt")
        .send_keys(&email)
        .await
        .expect("type the email");
    // A person reads the prompt before sending; the server refuses faster-than-human submits
    // (tests/common's server allows 50 ms).
    tokio::time::sleep(Duration::from_millis(200)).await;
    shadow
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("a submit button in the prompt")
        .click()
        .await
        .expect("click submit");
    let opened = wait_for(&client, "the article to open after the signup", |state| {
        state.as_deref() == Some("open")
    })
    .await;
    assert_eq!(opened, "open");
    assert!(
        paragraph_text(&client, 2).await.is_some(),
        "{STRICT_PAGE}: registered, but the third paragraph did not come back"
    );

    // Violations are reported in a task of their own: let any pending one arrive.
    settle(&client).await;
    let during_widget = violations(&client).await;
    assert!(
        during_widget.is_empty(),
        "{STRICT_PAGE}: the widget broke the page's Content Security Policy: {during_widget:?}"
    );

    // The listener is live and the policy enforced: eval is refused and reported, once. It runs
    // in the page's own script (www/strict/eval-probe.js): scripts a WebDriver injects are exempt
    // from the page's policy in both browsers, so `eval` there runs whatever the policy says.
    client
        .execute(
            "const probe = document.createElement('script');
             probe.src = '/strict/eval-probe.js';
             document.head.appendChild(probe);",
            vec![],
        )
        .await
        .expect("run the eval probe");
    poll(
        &client,
        "the eval probe to run",
        "return document.documentElement.hasAttribute('data-eval-probe');",
    )
    .await;
    let eval = client
        .execute(
            "return document.documentElement.getAttribute('data-eval-probe');",
            vec![],
        )
        .await
        .expect("read the eval probe's outcome");
    assert_eq!(
        eval.as_str(),
        Some("EvalError"),
        "{STRICT_PAGE}: eval('1') was not refused, so the page is not under the strict policy"
    );
    poll(
        &client,
        "the refused eval to be reported",
        "return window.__violations.length > 0;",
    )
    .await;
    settle(&client).await;
    let after_eval = violations(&client).await;
    assert_eq!(
        after_eval.len(),
        1,
        "{STRICT_PAGE}: one violation expected for eval('1'), found {after_eval:?}"
    );
    assert!(
        after_eval[0].starts_with("script-src"),
        "{STRICT_PAGE}: eval('1') should violate script-src, found {after_eval:?}"
    );
    eprintln!(
        "[csp] eval('1') refused and reported as {:?}",
        after_eval[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_csp_without_wasm_unsafe_eval_leaves_the_article_readable() {
    without_wasm_eval(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_csp_without_wasm_unsafe_eval_leaves_the_article_readable() {
    without_wasm_eval(Browser::Firefox).await;
}

/// A policy without `'wasm-unsafe-eval'` forbids compiling the widget: the article must stay
/// readable, and `meterwall:error` must say the widget could not load.
async fn without_wasm_eval(browser: Browser) {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let copy = without_wasm_site(&common::www());
    let binaries = Binaries::locate(browser);
    let site = Site::start(copy.path()).await;
    let driver = Driver::start(browser, binaries).await;
    let client = driver.connect().await;
    let page = "/strict/without-wasm.html";
    let (c, url) = (client.clone(), site.url.clone());
    in_session(browser, &client, JOURNEY_LIMIT, "CSP without wasm-unsafe-eval", async move {
        let client = c;
        client
            .goto(&format!("{url}{page}"))
            .await
            .expect("open the page");
        let deadline = Instant::now() + PATIENCE;
        let errors = loop {
            let errors = client
                .execute(
                    "return document.documentElement.getAttribute('data-meterwall-errors');",
                    vec![],
                )
                .await
                .expect("read the recorded errors");
            if let Some(text) = errors.as_str() {
                break text.to_owned();
            }
            assert!(Instant::now() < deadline, "{page}: no meterwall:error within {PATIENCE:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(errors.contains("could not load"), "{page}: {errors}");
        // The browser's reason, which names the policy ("Content Security Policy" in Chrome,
        // "CSP" in Firefox).
        assert!(
            errors.contains("Content Security") || errors.contains("CSP"),
            "{page}: the error should say the policy refused the wasm: {errors}"
        );
        let state = client
            .execute(
                "const b = document.querySelector('.article-body');
                 return [b.getAttribute('data-meterwall-state'), !!b.querySelector('[data-meterwall-prompt]')];",
                vec![],
            )
            .await
            .expect("read the article state");
        assert_eq!(state, serde_json::json!([null, false]), "{page}: untouched");
        assert!(paragraph_text(&client, 2).await.is_some(), "{page}: the whole article is there");
        eprintln!("[csp] {} without wasm-unsafe-eval: {}", browser.name(), errors.trim());
    })
    .await;
    drop(driver);
    site.stop();
}

/// A copy of the site with `/strict/without-wasm.html`: the strict page under a policy without
/// `'wasm-unsafe-eval'`, and a page script (the policy allows no inline one) that records
/// `meterwall:error` messages on `<html data-meterwall-errors>`.
fn without_wasm_site(www: &std::path::Path) -> tempfile::TempDir {
    let copy = common::copy_site(www);
    let strict = copy.path().join("strict");
    let page = std::fs::read_to_string(strict.join("index.html")).expect("www/strict/index.html");
    assert!(
        page.contains(POLICY),
        "www/strict/index.html carries {POLICY:?}"
    );
    let page = page
        .replace(POLICY, &POLICY.replace(" 'wasm-unsafe-eval'", ""))
        .replace("strict-csp-demo", "csp-without-wasm")
        .replace(
            "<script async src=\"/dist/meterwall.js\"",
            "<script src=\"/strict/errors.js\"></script>\n<script async src=\"/dist/meterwall.js\"",
        );
    std::fs::write(strict.join("without-wasm.html"), page).expect("write the page");
    std::fs::write(
        strict.join("errors.js"),
        "document.addEventListener('meterwall:error', function (e) {\n\
         var html = document.documentElement;\n\
         html.setAttribute('data-meterwall-errors', (html.getAttribute('data-meterwall-errors') || '') + e.detail.message + '\\n');\n\
         });\n",
    )
    .expect("write the error recorder");
    copy
}

/// The text of the article body's `index`th `<p>`, if it is in the page.
async fn paragraph_text(client: &Client, index: usize) -> Option<String> {
    let text = client
        .execute(
            "const p = document.querySelectorAll('.article-body > p')[arguments[0]];
             return p ? p.textContent : null;",
            vec![Value::from(index)],
        )
        .await
        .expect("read a paragraph");
    text.as_str().map(collapse)
}

/// `window.__violations`, as `"<directive> <blocked URI>"` strings.
async fn violations(client: &Client) -> Vec<String> {
    let list = client
        .execute("return window.__violations;", vec![])
        .await
        .expect("read the violations");
    list.as_array()
        .unwrap_or_else(|| panic!("window.__violations is not a list: {list}"))
        .iter()
        .map(|item| item.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Two animation frames and a task: time for the browser to report a violation it has queued.
async fn settle(client: &Client) {
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 100)));",
            vec![],
        )
        .await
        .expect("let the page settle");
}

/// Polls `script` until it returns `true`.
async fn poll(client: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = client.execute(script, vec![]).await.expect(what);
        if value == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
