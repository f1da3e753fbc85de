#![cfg(not(target_arch = "wasm32"))]
//! End to end, the loader (`www/meterwall.js`) as publishers paste it: the README's "Embed",
//! "Configuration" and "Events and API" checked in real headless Chrome and Firefox, against the
//! reference server.
//!
//! - The command queue: functions and commands pushed before the loader run once the widget is
//!   ready, in order; queued `on` and `config` take effect before the first decision; after load
//!   `push` runs at once and answers; an unknown command is reported.
//! - Config sources and precedence: the JSON block, the script tag's `data-*`, the article
//!   element's attributes and queued `config` commands; a JSON block that does not parse makes
//!   the config unreadable, under the failure policy.
//! - Events to `window.dataLayer`, only when the script tag asks.
//! - `meterwall:ready`, once per page; `on("view")` after load hears later decisions.
//! - `data-wasm-integrity`: the right digest loads the widget, a wrong one leaves the article
//!   readable and says why.
//! - The README's anti-flicker snippet: while the widget decides it hides the blocks after the
//!   teaser and only those; the class goes when the widget decides, or at once when it cannot
//!   load, well before the snippet's one-second fail-safe.
//! - The one-request build, `meterwall.inline.js`: the same meter and wall, and no request but
//!   its own.
//! - The loader's fixes of 24b7501, each case failing against the loader before it: a JSON block
//!   that does not parse leaves the class until the decision; a queued function that throws is
//!   reported as such and the queue goes on; pushes made after the loader ran, before the widget
//!   is ready, are kept; a wrong `data-wasm-integrity` is named in the error.
//!
//! Each case serves a copy of `www/` with its own pages under `/loader/`: a demo article's markup
//! with only what the case needs changed. Listeners and queued commands are in an inline script
//! placed first in `<head>`, before the `async` loader, as a publisher would place them, so the
//! events of the page's own load are heard; one case also pushes from the loader tag's `load`
//! event.
//!
//! Needs the built widget (`cargo xtask build`), `openssl` (the integrity case hashes the wasm
//! with it) and the browsers with their drivers (`cargo xtask test` installs them). Whatever is
//! missing fails the test, naming the fix. Overrides: `CHROMEDRIVER`, `CHROME_BIN`,
//! `GECKODRIVER`, `FIREFOX_BIN`.

mod common;

use std::fs;
use std::future::Future;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    assert_no_prompt, assert_whole, copy_site, decided, errors, first_articles, js, open, run_case,
    state, until, Article, Browser, Settings,
};
use fantoccini::Client;
use serde_json::{json, Value};

/// How long events that should not come are waited for (a second `ready`, a late decision).
const QUIET: Duration = Duration::from_millis(500);

/// The anti-flicker snippet's fail-safe in these tests: the README's 1 s made ten times longer, so
/// that a slow machine (a loaded CI runner compiling the wasm) cannot let the fail-safe lift the
/// class before the widget decides, which would fail the test for want of speed, not of
/// correctness. How soon the widget decides is `cargo xtask bench`'s to measure.
const FAIL_SAFE_MS: f64 = 10_000.0;

/// The paths of the loader and its wasm in the site.
const LOADER_SRC: &str = "src=\"/dist/meterwall.js\"";
const WASM: &str = "dist/meterwall_wasm_bg.wasm";

// 1. The command queue, before and after load.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_queue_before_and_after_load() {
    queue_before_and_after_load(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_queue_before_and_after_load() {
    queue_before_and_after_load(Browser::Firefox).await;
}

/// Queued before the loader, in this order on purpose: a function, an `on`, a command whose
/// answer nobody can read yet, another function, an unknown command, then a `config` and another
/// `on` pushed last, which must still act before the first decision.
const QUEUE: &str = r#"
window.__order = [];
document.addEventListener("meterwall:error", function (e) { window.__order.push("error:" + e.detail.message); });
document.addEventListener("meterwall:ready", function (e) { window.__order.push("ready:" + e.detail.version); });
window.meterwall = window.meterwall || [];
meterwall.push(function (api) { window.__order.push("fn1:" + api.version); });
meterwall.push(["on", "lock", function (d) { window.__order.push("lock:" + d.wallType); }]);
meterwall.push(["why"]);
meterwall.push(function (api) { var why = api.why(); window.__order.push("fn2:" + (why && why.reason)); });
meterwall.push(["nope"]);
meterwall.push(["config", { teaser: 1 }]);
meterwall.push(["on", "view", function (d) { window.__order.push("view:" + d.reason); }]);
"#;

async fn queue_before_and_after_load(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 4);
    let site = copy_site(&www);
    let page = Page::of(&www, &articles[3])
        .head_first(&script(QUEUE))
        .write(site.path(), "queue");
    let demo = articles[..3].to_vec();
    run_case(
        browser,
        "command queue",
        &Settings::default(),
        site.path(),
        |client, url| queue_steps(client, url, demo, page),
    )
    .await;
}

async fn queue_steps(client: Client, site: String, demo: Vec<Article>, page: Article) {
    spend_the_allowance(&client, &site, &demo).await;
    open(&client, &site, &page.path).await;
    assert_eq!(
        decided(&client, &page.path).await,
        "locked",
        "the fourth article"
    );
    let order = until(
        &client,
        "meterwall:ready on the queue page",
        "const order = window.__order || [];
         return order.some((entry) => entry.startsWith('ready:')) ? order : null;",
    )
    .await;
    assert_eq!(
        order,
        json!([
            "view:allowanceSpent",
            "lock:register",
            "fn1:1",
            "fn2:allowanceSpent",
            "error:unknown command \"nope\"",
            "ready:1",
        ]),
        "{}: queued `on` listeners hear the first decision, then the other commands run in \
         order, then ready",
        page.path
    );
    assert_eq!(
        teaser_blocks(&client).await,
        1,
        "{}: the queued [\"config\", {{teaser: 1}}], pushed after the functions, shapes the \
         first decision",
        page.path
    );

    // After load: the same calls, answered at once.
    let after = js(
        &client,
        "const api = window.meterwall;
         const log = [];
         api.push(function (given) { log.push('fn ran, given the api: ' + (given === api)); });
         log.push('push returned');
         const why = api.push(['why']);
         const before = window.__order.length;
         const unknown = api.push(['nope']);
         const both = api.push(function () { log.push('first of two ran'); }, ['why']);
         return {
             isArray: Array.isArray(api),
             version: api.version,
             log: log,
             why: why,
             sameAsWhy: JSON.stringify(why) === JSON.stringify(api.why()),
             unknown: unknown === undefined ? 'undefined' : unknown,
             both: both,
             errors: window.__order.slice(before),
         };",
    )
    .await;
    eprintln!("[loader_e2e] after load: {after}");
    assert_eq!(
        after["isArray"],
        json!(false),
        "after load: the API, not the queue"
    );
    assert_eq!(after["version"], json!(1), "window.meterwall.version");
    assert_eq!(
        after["log"],
        json!([
            "fn ran, given the api: true",
            "push returned",
            "first of two ran"
        ]),
        "after load, meterwall.push(fn) runs fn synchronously with the API, and push(a, b) runs \
         a, as the queue's push took both"
    );
    assert_eq!(
        after["why"]["reason"],
        json!("allowanceSpent"),
        "push(['why'])"
    );
    assert_eq!(after["why"]["wall"], json!("register"), "push(['why'])");
    assert_eq!(
        after["sameAsWhy"],
        json!(true),
        "push(['why']) answers what why() does"
    );
    assert_eq!(
        after["both"]["reason"],
        json!("allowanceSpent"),
        "after load, push(a, b) runs b too and returns its answer"
    );
    assert_eq!(
        after["errors"],
        json!(["error:unknown command \"nope\""]),
        "after load, an unknown command fires one meterwall:error naming it, synchronously"
    );
}

// 2. Config sources and precedence.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_config_sources_and_precedence() {
    config_precedence(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_config_sources_and_precedence() {
    config_precedence(Browser::Firefox).await;
}

/// Page config in the JSON block, beaten by `data-limit="2"` and by the element's
/// `data-meterwall-type`; `pageType` is in it so that the element has something to beat.
const CONFIG_BLOCK: &str = r#"<script type="application/json" id="meterwall-config">{"limit": 5, "teaser": 1, "pageType": "metered"}</script>"#;

/// A trailing comma: `JSON.parse` refuses it.
const BROKEN_BLOCK: &str =
    r#"<script type="application/json" id="meterwall-config">{"limit": 5, "teaser": 1,}</script>"#;

/// Collects every `meterwall:error` message, before the loader runs.
const ERRORS: &str = "window.__errors = [];
document.addEventListener(\"meterwall:error\", function (e) { window.__errors.push(e.detail.message); });";

async fn config_precedence(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 6);
    let site = copy_site(&www);
    // Every config source at once; the element says `free`.
    let layered = |article: &Article, queued: &str| {
        Page::of(&www, article)
            .head_first(&script(&format!(
                "{ERRORS}\nwindow.meterwall = window.meterwall || [];\n\
                 meterwall.push([\"config\", {queued}]);"
            )))
            .before_loader(CONFIG_BLOCK)
            .loader_attr("data-limit", "2")
            .loader_attr("data-teaser", "2")
            // An object as JSON text, then one of its keys as its own attribute: the loader
            // stopped at the second (a property set on a string) before they went in layers of
            // their own.
            .loader_raw(r#" data-registered='{"mode": "choose"}'"#)
            .loader_attr("data-registered-limit", "4")
            .article_attr("data-meterwall-type", "free")
    };
    // Before the block, an element that is not a script with the block's id (markup a comment
    // may carry): not the config, which would not parse.
    let free = layered(&articles[2], "{ teaser: 3 }")
        .head_first("<noscript id=\"meterwall-config\">not a config</noscript>")
        .write(site.path(), "config-free");
    // Queued as a list of layers: the loader reads dataLayer from each.
    let metered = layered(
        &articles[3],
        "[{ teaser: 3 }, { pageType: \"metered\", dataLayer: true }]",
    )
    .write(site.path(), "config-metered");
    let broken = Page::of(&www, &articles[4])
        .head_first(&script(ERRORS))
        .before_loader(BROKEN_BLOCK)
        .write(site.path(), "config-broken");
    // The block after a blocking loader: not parsed yet when the loader runs.
    let late = Page::of(&www, &articles[5])
        .head_first(&script(ERRORS))
        .body_last(LATE_BLOCK)
        .blocking()
        .write(site.path(), "config-late");
    let demo = articles[..2].to_vec();
    run_case(
        browser,
        "config precedence",
        &Settings::default(),
        site.path(),
        |client, url| config_steps(client, url, demo, [free, metered, broken, late]),
    )
    .await;
}

/// A page config that only the JSON block sets, written as a list of layers: the later one wins,
/// and the loader reads `dataLayer` from it.
const LATE_BLOCK: &str = r#"<script type="application/json" id="meterwall-config">[{"pageType": "metered"}, {"pageType": "free", "dataLayer": true}]</script>"#;

async fn config_steps(client: Client, site: String, demo: Vec<Article>, pages: [Article; 4]) {
    let [free, metered, broken, late] = pages;

    // A block the parser reaches after the loader has run still counts.
    open(&client, &site, &late.path).await;
    assert_eq!(decided(&client, &late.path).await, "open");
    let why = decision(&client).await;
    assert_eq!(
        why["reason"],
        json!("freePage"),
        "{}: the JSON block after the loader sets pageType",
        late.path
    );
    until(
        &client,
        "meterwall.ready in window.dataLayer, as the block's second layer asks",
        DATA_LAYER_READY,
    )
    .await;
    assert_eq!(
        errors(&client, "__errors").await,
        Vec::<String>::new(),
        "{}",
        late.path
    );

    // The element's `free` beats the JSON block's `metered`; data-limit="2" beats its 5.
    open(&client, &site, &free.path).await;
    assert_eq!(decided(&client, &free.path).await, "open");
    let why = decision(&client).await;
    eprintln!("[loader_e2e] {}: why() {why}", free.path);
    assert_eq!(
        why["reason"],
        json!("freePage"),
        "{}: data-meterwall-type=\"free\" on the element beats the JSON block's pageType",
        free.path
    );
    assert_eq!(
        why["limit"],
        json!(2),
        "{}: data-limit=\"2\" beats the JSON block's limit 5",
        free.path
    );
    assert_eq!(why["counted"], json!(false), "a free page counts nothing");
    assert_eq!(
        errors(&client, "__errors").await,
        Vec::<String>::new(),
        "{}",
        free.path
    );

    // Two articles read: the allowance of two is spent.
    for article in &demo {
        open(&client, &site, &article.path).await;
        assert_eq!(decided(&client, &article.path).await, "open");
    }

    // A queued pageType beats the element's; the queued teaser beats data-teaser and the block.
    open(&client, &site, &metered.path).await;
    assert_eq!(
        decided(&client, &metered.path).await,
        "locked",
        "{}: the queued pageType \"metered\" beats the element's \"free\", and two of a limit of \
         two are read",
        metered.path
    );
    let why = decision(&client).await;
    eprintln!("[loader_e2e] {}: why() {why}", metered.path);
    assert_eq!(why["reason"], json!("allowanceSpent"), "{}", metered.path);
    assert_eq!(why["limit"], json!(2), "{}: data-limit wins", metered.path);
    assert_eq!(why["used"], json!(2), "{}", metered.path);
    assert_eq!(
        teaser_blocks(&client).await,
        3,
        "{}: the queued teaser 3 beats data-teaser=\"2\" and the JSON block's 1",
        metered.path
    );
    until(
        &client,
        "meterwall.ready in window.dataLayer, as the queued list's second layer asks",
        DATA_LAYER_READY,
    )
    .await;
    assert_eq!(
        errors(&client, "__errors").await,
        Vec::<String>::new(),
        "{}",
        metered.path
    );

    // A JSON block that does not parse is an unreadable config layer, as one that is not an
    // object is: reported with the parser's words, then by the widget with what the page does
    // (under the default failure policy, the article stays readable), and nothing is counted.
    // Until this test the page was metered on the other layers, the default limit included.
    let record = || js(&client, "return localStorage.getItem('meterwall:v1');");
    let stored = record().await;
    open(&client, &site, &broken.path).await;
    until(
        &client,
        "the loader's and the widget's errors",
        "return window.__errors && window.__errors.length >= 2 ? true : null;",
    )
    .await;
    let errors = errors(&client, "__errors").await;
    eprintln!("[loader_e2e] {}: errors {errors:?}", broken.path);
    assert_eq!(errors.len(), 2, "{}: two errors: {errors:?}", broken.path);
    assert!(
        errors[0].contains("does not parse"),
        "{}: the first error should say the JSON does not parse: {errors:?}",
        broken.path
    );
    assert!(
        errors[1].contains("config must be an object")
            && errors[1].contains("The article stays readable"),
        "{}: the second should say what the page does: {errors:?}",
        broken.path
    );
    assert_eq!(state(&client).await, None, "{}: not decided", broken.path);
    assert_eq!(record().await, stored, "{}: nothing counted", broken.path);
    assert_whole(&client, &broken).await;
}

// 3. Events to window.dataLayer.

/// `window.dataLayer` once the loader has pushed `meterwall.ready` to it, else `null`.
const DATA_LAYER_READY: &str = "const layer = window.dataLayer;
     return Array.isArray(layer) && layer.some((entry) => entry.event === 'meterwall.ready')
         ? layer : null;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_events_to_data_layer() {
    data_layer(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_events_to_data_layer() {
    data_layer(Browser::Firefox).await;
}

async fn data_layer(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 4);
    let site = copy_site(&www);
    // A later layer's `null` means "not given" (a CMS template with nothing to fill in): the
    // script tag's `true` stands. A queued command the loader does not know: the loader's own
    // error goes to dataLayer too.
    let page = Page::of(&www, &articles[3])
        .head_first(&script(
            "window.meterwall = window.meterwall || [];\n\
             meterwall.push([\"config\", { dataLayer: null }], [\"nonsense\"]);",
        ))
        .head_first(
            "<script type=\"application/json\" id=\"meterwall-config\">{ \"limit\": 3 }</script>",
        )
        .loader_attr("data-data-layer", "true")
        .deferred()
        .write(site.path(), "data-layer");
    let demo = articles[..3].to_vec();
    run_case(
        browser,
        "dataLayer",
        &Settings::default(),
        site.path(),
        |client, url| data_layer_steps(client, url, demo, page),
    )
    .await;
}

async fn data_layer_steps(client: Client, site: String, demo: Vec<Article>, page: Article) {
    // The demo articles' script tags do not ask: no dataLayer appears.
    for article in &demo {
        open(&client, &site, &article.path).await;
        assert_eq!(decided(&client, &article.path).await, "open");
        let kind = js(&client, "return typeof window.dataLayer;").await;
        assert_eq!(
            kind,
            json!("undefined"),
            "{}: without data-data-layer, window.dataLayer should not be created",
            article.path
        );
    }
    open(&client, &site, &page.path).await;
    assert_eq!(
        decided(&client, &page.path).await,
        "locked",
        "{}",
        page.path
    );
    let layer = until(
        &client,
        "meterwall.ready in window.dataLayer",
        DATA_LAYER_READY,
    )
    .await;
    let entries = layer.as_array().cloned().unwrap_or_default();
    let events: Vec<&str> = entries
        .iter()
        .map(|entry| entry["event"].as_str().unwrap_or("(no event)"))
        .collect();
    eprintln!("[loader_e2e] {}: dataLayer events {events:?}", page.path);
    let find = |name: &str| {
        entries
            .iter()
            .position(|entry| entry["event"] == json!(name))
            .unwrap_or_else(|| panic!("{}: no {name} in window.dataLayer: {layer}", page.path))
    };
    let error = &entries[find("meterwall.error")]["meterwall"];
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown command \"nonsense\"")),
        "{}: the unknown command's error: {error}",
        page.path
    );
    let (view, lock) = (find("meterwall.view"), find("meterwall.lock"));
    assert!(view < lock, "{}: view before lock: {events:?}", page.path);
    let view = &entries[view]["meterwall"];
    assert_eq!(view["version"], json!(1), "meterwall.view: {view}");
    assert_eq!(
        view["reason"],
        json!("allowanceSpent"),
        "meterwall.view: {view}"
    );
    assert_eq!(view["wall"], json!("register"), "meterwall.view: {view}");
    let lock = &entries[lock]["meterwall"];
    assert_eq!(lock["version"], json!(1), "meterwall.lock: {lock}");
    assert_eq!(
        lock["wallType"],
        json!("register"),
        "meterwall.lock: {lock}"
    );
    for entry in &entries {
        let keys: Vec<&String> = entry
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["event", "meterwall"],
            "{}: each dataLayer entry is {{event, meterwall}}: {entry}",
            page.path
        );
    }
}

// 4. meterwall:ready, and listening after load.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_ready_once_and_on_after_load() {
    ready_and_on(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_ready_once_and_on_after_load() {
    ready_and_on(Browser::Firefox).await;
}

/// Every `meterwall:ready` detail, and the order of `ready` and `view`.
const READY: &str = "window.__ready = []; window.__events = [];
document.addEventListener(\"meterwall:ready\", function (e) { window.__ready.push(e.detail); window.__events.push(\"ready\"); });
document.addEventListener(\"meterwall:view\", function () { window.__events.push(\"view\"); });";

async fn ready_and_on(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 2);
    let site = copy_site(&www);
    let pages = [
        Page::of(&www, &articles[0])
            .head_first(&script(READY))
            .write(site.path(), "ready-1"),
        Page::of(&www, &articles[1])
            .head_first(&script(READY))
            .write(site.path(), "ready-2"),
    ];
    run_case(
        browser,
        "ready and on",
        &Settings::default(),
        site.path(),
        |client, url| ready_steps(client, url, pages),
    )
    .await;
}

async fn ready_steps(client: Client, site: String, pages: [Article; 2]) {
    for page in &pages {
        open(&client, &site, &page.path).await;
        assert_eq!(decided(&client, &page.path).await, "open", "{}", page.path);
        until(
            &client,
            "meterwall:ready",
            "return window.__ready.length > 0 ? true : null;",
        )
        .await;
        tokio::time::sleep(QUIET).await;
        let seen = js(&client, "return [window.__ready, window.__events];").await;
        assert_eq!(
            seen[0],
            json!([{ "version": 1 }]),
            "{}: one meterwall:ready, with {{version: 1}}",
            page.path
        );
        assert_eq!(
            seen[1],
            json!(["view", "ready"]),
            "{}: ready comes after the first decision",
            page.path
        );
    }

    // After load, `on` hears the decisions that follow.
    let page = &pages[1];
    let later = js(
        &client,
        "window.__later = [];
         window.meterwall.on('view', function (detail) { window.__later.push(detail); });
         const again = window.meterwall.mount();
         const free = window.meterwall.mount({ pageType: 'free' });
         return { later: window.__later, again: again, free: free };",
    )
    .await;
    eprintln!(
        "[loader_e2e] {}: on('view') after load heard {}",
        page.path, later["later"]
    );
    let heard = later["later"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        heard.len(),
        2,
        "{}: two mounts, two views: {later}",
        page.path
    );
    assert_eq!(heard[0]["version"], json!(1), "{}", page.path);
    assert_eq!(
        heard[0]["reason"],
        json!("alreadyOpened"),
        "{}: mount() again decides the same article again",
        page.path
    );
    assert_eq!(
        heard[1]["reason"],
        json!("freePage"),
        "{}: mount({{pageType: 'free'}})",
        page.path
    );
    assert_eq!(
        heard[0], later["again"],
        "mount() returns the decision it announced"
    );
    assert_eq!(
        heard[1], later["free"],
        "mount(config) returns the decision it announced"
    );
    tokio::time::sleep(QUIET).await;
    let ready = js(&client, "return window.__ready.length;").await;
    assert_eq!(
        ready,
        json!(1),
        "{}: mounting again fires no second ready",
        page.path
    );
}

// 5. Wasm integrity.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_wasm_integrity() {
    wasm_integrity(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_wasm_integrity() {
    wasm_integrity(Browser::Firefox).await;
}

async fn wasm_integrity(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 2);
    let site = copy_site(&www);
    let right = sha384(&site.path().join(WASM));
    let mismatch = checking_wasm(Page::of(&www, &articles[0]), &wrong_digest(site.path()))
        .write(site.path(), "integrity-wrong");
    let matching =
        checking_wasm(Page::of(&www, &articles[1]), &right).write(site.path(), "integrity-right");
    // The glue, checked as the README says: by the integrity of its modulepreload line, whose
    // module the loader's import() reuses.
    let glue = |article: &Article, digest: &str, name: &str| {
        Page::of(&www, article)
            .head_first(&script(&format!("{ERRORS}\n{HEARD}")))
            .head_first(&format!(
                "<link rel=\"modulepreload\" href=\"/dist/meterwall_wasm.js\" integrity=\"{digest}\">"
            ))
            .write(site.path(), name)
    };
    let glue_mismatch = glue(&articles[1], &right, "glue-integrity-wrong");
    let glue_right = sha384(&site.path().join("dist/meterwall_wasm.js"));
    let glue_matching = glue(&articles[0], &glue_right, "glue-integrity-right");
    eprintln!("[loader_e2e] the wasm's digest: {right}");
    let pages = [mismatch, matching, glue_mismatch, glue_matching];
    run_case(
        browser,
        "wasm integrity",
        &Settings::default(),
        site.path(),
        |client, url| integrity_steps(client, url, pages),
    )
    .await;
}

async fn integrity_steps(client: Client, site: String, pages: [Article; 4]) {
    let [mismatch, matching, glue_mismatch, glue_matching] = pages;
    refused_wasm(&client, &site, &mismatch).await;
    refused_wasm(&client, &site, &glue_mismatch).await;
    open(&client, &site, &glue_matching.path).await;
    assert_eq!(
        decided(&client, &glue_matching.path).await,
        "open",
        "{}: the glue's right digest",
        glue_matching.path
    );

    open(&client, &site, &matching.path).await;
    assert_eq!(
        decided(&client, &matching.path).await,
        "open",
        "{}: the right digest",
        matching.path
    );
    assert_eq!(
        decision(&client).await["reason"],
        json!("counted"),
        "{}",
        matching.path
    );
    assert_eq!(
        errors(&client, "__errors").await,
        Vec::<String>::new(),
        "{}",
        matching.path
    );
}

/// `page` with a loader tag that checks the wasm against `digest`, and [`ERRORS`] first in
/// `<head>`.
fn checking_wasm(page: Page, digest: &str) -> Page {
    page.head_first(&script(&format!("{ERRORS}\n{HEARD}")))
        .loader_attr("data-wasm-integrity", digest)
}

/// A queued `on` listener that collects the `error` events it hears.
const HEARD: &str = "window.__heard = [];
window.meterwall = window.meterwall || [];
meterwall.push([\"on\", \"error\", function (detail) { window.__heard.push(detail.message); }]);";

/// A well-formed digest of other bytes than the site's wasm: a malformed one would be ignored,
/// not refused (https://w3c.github.io/webappsec-subresource-integrity/#parse-metadata).
fn wrong_digest(root: &Path) -> String {
    sha384(&root.join("dist").join("meterwall_wasm.js"))
}

/// Opens `page`, whose wasm does not match its `data-wasm-integrity`, and checks the reader gets
/// the whole article, no widget, and one error; returns the error.
async fn refused_wasm(client: &Client, site: &str, page: &Article) -> String {
    let opened = Instant::now();
    open(client, site, &page.path).await;
    let error = until(
        client,
        "meterwall:error saying the widget could not load",
        "return window.__errors.find((message) => message.includes('could not load')) || null;",
    )
    .await;
    eprintln!("[loader_e2e] {}: {error}", page.path);
    // Long enough for a widget that loaded anyway to have gated the page.
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(opened.elapsed())).await;
    assert_eq!(
        state(client).await,
        None,
        "{}: the digest does not match, yet the widget ran",
        page.path
    );
    assert_no_prompt(client, &page.path).await;
    assert_whole(client, page).await;
    let all = errors(client, "__errors").await;
    assert_eq!(
        all.len(),
        1,
        "{}: one failure, one error: {all:?}",
        page.path
    );
    assert_eq!(
        errors(client, "__heard").await,
        all,
        "{}: a listener queued with [\"on\", \"error\", …] hears the loader's own error",
        page.path
    );
    error.as_str().unwrap_or_default().to_owned()
}

/// `sha384-<base64>` of the file, as `integrity` takes it; the digest by `openssl`.
fn sha384(file: &Path) -> String {
    let out = Command::new("openssl")
        .args(["dgst", "-sha384", "-binary"])
        .arg(file)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run openssl to hash {}: {error}; install openssl",
                file.display()
            )
        });
    assert!(
        out.status.success() && out.stdout.len() == 48,
        "openssl dgst -sha384 -binary {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    format!("sha384-{}", base64(&out.stdout))
}

/// Standard base64 with padding (RFC 4648 section 4), the alphabet SRI uses.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// 6. The anti-flicker snippet.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_anti_flicker_lifts_when_the_widget_decides() {
    anti_flicker(Browser::Chrome, Wasm::Served).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_anti_flicker_lifts_when_the_widget_decides() {
    anti_flicker(Browser::Firefox, Wasm::Served).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_anti_flicker_lifts_at_once_without_the_wasm() {
    anti_flicker(Browser::Chrome, Wasm::Missing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_anti_flicker_lifts_at_once_without_the_wasm() {
    anti_flicker(Browser::Firefox, Wasm::Missing).await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wasm {
    Served,
    /// Deleted from the copy: the server answers 404 and the loader fails.
    Missing,
}

/// Placed before the snippet: when `<html>` gains and loses `meterwall-pending` (the observer's
/// callback, a microtask after the change), when the first decision and the first error came,
/// all on the `performance.now()` clock.
const FLICKER_RECORDER: &str =
    "window.__flicker = { added: null, removed: null, view: null, error: null, errorAt: null, parsed: null };
(function () {
  var html = document.documentElement;
  var had = html.classList.contains(\"meterwall-pending\");
  new MutationObserver(function () {
    var has = html.classList.contains(\"meterwall-pending\");
    var now = performance.now();
    if (has && !had && window.__flicker.added === null) window.__flicker.added = now;
    if (!has && had && window.__flicker.removed === null) window.__flicker.removed = now;
    had = has;
  }).observe(html, { attributes: true, attributeFilter: [\"class\"] });
  // What the snippet hides once the article is parsed, while the widget has not yet decided.
  document.addEventListener(\"DOMContentLoaded\", function () {
    var body = document.querySelector(\".article-body\");
    if (!body || !html.classList.contains(\"meterwall-pending\")) return;
    window.__flicker.parsed = Array.prototype.map.call(body.children, function (child) {
      return getComputedStyle(child).visibility;
    });
  });
})();
document.addEventListener(\"meterwall:view\", function () {
  if (window.__flicker.view === null) window.__flicker.view = performance.now();
});
document.addEventListener(\"meterwall:error\", function (e) {
  if (window.__flicker.error === null) {
    window.__flicker.error = e.detail.message;
    window.__flicker.errorAt = performance.now();
  }
});";

async fn anti_flicker(browser: Browser, wasm: Wasm) {
    let www = common::www();
    let article = first_articles(&www.join("articles"), 1).remove(0);
    let snippet = readme_snippet();
    assert_eq!(
        snippet.matches("}, 1000);").count(),
        1,
        "README.md: the snippet's fail-safe is no longer `}}, 1000);`: {snippet}"
    );
    let snippet = snippet.replace("}, 1000);", &format!("}}, {FAIL_SAFE_MS});"));
    let site = copy_site(&www);
    if wasm == Wasm::Missing {
        let file = site.path().join(WASM);
        fs::remove_file(&file)
            .unwrap_or_else(|error| panic!("cannot delete {}: {error}", file.display()));
    }
    let page = Page::of(&www, &article)
        .before_loader(&script(FLICKER_RECORDER))
        .before_loader(&snippet)
        .write(site.path(), "anti-flicker");
    let what = match wasm {
        Wasm::Served => "anti-flicker snippet",
        Wasm::Missing => "anti-flicker snippet without the wasm",
    };
    run_case(
        browser,
        what,
        &Settings::default(),
        site.path(),
        move |client, url| flicker_steps(browser, wasm, client, url, page),
    )
    .await;
}

async fn flicker_steps(browser: Browser, wasm: Wasm, client: Client, site: String, page: Article) {
    // A first visit, under the limit: no hint, so the article is never hidden.
    open(&client, &site, &page.path).await;
    let first = until(
        &client,
        "the widget's decision or the loader's error",
        "const f = window.__flicker;
         return f && (f.view !== null || f.error !== null) ? f : null;",
    )
    .await;
    assert_eq!(
        first["added"],
        Value::Null,
        "{}: a reader under the limit had the article hidden: {first}",
        page.path
    );
    let hint = || js(&client, "return localStorage.getItem('meterwall:next');");
    // When the widget started loading (the loader's mark) against the first contentful paint.
    let load = || {
        js(
            &client,
            "const load = performance.getEntriesByName('meterwall:load')[0];
             const paint = performance.getEntriesByName('first-contentful-paint')[0];
             return {
                 afterPaint: load && load.detail ? load.detail.afterPaint : null,
                 load: load ? load.startTime : null,
                 paint: paint ? paint.startTime : null,
             };",
        )
    };
    let first_load = load().await;
    assert_eq!(
        first_load["afterPaint"],
        json!(true),
        "{}: with nothing to hide, the widget waits for the first paint: {first_load}",
        page.path
    );
    let (Some(painted), Some(loaded)) = (first_load["paint"].as_f64(), first_load["load"].as_f64())
    else {
        panic!(
            "{}: no first-contentful-paint or no meterwall:load: {first_load}",
            page.path
        );
    };
    // Or the loader's own fallback, a second after it ran (so at least a second after the
    // navigation began), when the first paint is that late: a slow machine's first load.
    assert!(
        painted <= loaded || loaded >= 1000.0,
        "{}: the widget started loading at {loaded:.1} ms, before the first contentful paint \
         at {painted:.1} ms and before the loader's one-second fallback",
        page.path
    );
    if wasm == Wasm::Served {
        assert_eq!(
            hint().await,
            Value::Null,
            "{}: one article read, two left",
            page.path
        );
    }

    // The hint says the next new article may be walled (as the widget leaves it for a lifetime
    // allowance): the snippet hides the article until the widget decides.
    js(
        &client,
        "localStorage.setItem('meterwall:next', 'wall'); return null;",
    )
    .await;
    open(&client, &site, &format!("{}?again", page.path)).await;
    let seen = until(
        &client,
        "meterwall-pending to be removed from <html>",
        "return window.__flicker && window.__flicker.removed !== null ? window.__flicker : null;",
    )
    .await;
    let at = |key: &str| {
        seen[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: no {key} time recorded: {seen}", page.path))
    };
    let (added, removed) = (at("added"), at("removed"));
    let hidden = removed - added;
    assert_eq!(
        load().await["afterPaint"],
        json!(false),
        "{}: with the article hidden, the widget starts at once",
        page.path
    );
    let now = js(
        &client,
        "const body = document.querySelector('.article-body');
         return {
             pending: document.documentElement.classList.contains('meterwall-pending'),
             visibility: getComputedStyle(body).visibility,
             blocks: Array.from(body.children, (c) => getComputedStyle(c).visibility),
         };",
    )
    .await;
    assert_eq!(
        now["pending"],
        json!(false),
        "{}: the class is back",
        page.path
    );
    assert_eq!(
        now["visibility"],
        json!("visible"),
        "{}: the article shows",
        page.path
    );
    let blocks = now["blocks"].as_array().cloned().unwrap_or_default();
    assert!(
        blocks.len() > 2 && blocks.iter().all(|v| v == "visible"),
        "{}: every block of the article shows once the class is gone: {now}",
        page.path
    );
    match wasm {
        Wasm::Served => {
            let view = at("view");
            eprintln!(
                "[loader_e2e] {}: class added at {added:.0} ms, first decision at {view:.0} ms, \
                 class removed at {removed:.0} ms (performance.now()): the article was hidden \
                 {hidden:.0} ms",
                browser.name()
            );
            assert!(
                removed >= view,
                "{}: the class went at {removed:.0} ms, before the decision at {view:.0} ms",
                page.path
            );
            // Parsed before the decision (the widget waits for the whole article): the teaser,
            // the default two blocks, shows; every block the wall would remove is hidden.
            let parsed = seen["parsed"].as_array().cloned().unwrap_or_else(|| {
                panic!(
                    "{}: the article was not parsed while the class was on: {seen}",
                    page.path
                )
            });
            assert!(
                parsed.len() > 2
                    && parsed[..2].iter().all(|v| v == "visible")
                    && parsed[2..].iter().all(|v| v == "hidden"),
                "{}: while the widget decides, the snippet shows the teaser and hides the rest: \
                 {parsed:?}",
                page.path
            );
            // data-meterwall-state is set: the widget decided, not the fail-safe.
            decided(&client, &page.path).await;
            assert_eq!(
                hint().await,
                Value::Null,
                "{}: a re-read with articles left: the widget takes the hint back",
                page.path
            );
            // A subscriber by token over the limit: the hint is the time the token lapses. Still
            // to come, nothing is hidden and the widget waits for the first paint; come, the
            // article after the teaser waits for the decision, as with "wall". Walled until the
            // next period (a negative time): hidden before it, not after it, and the widget
            // starts at once before it and waits for the first paint after it.
            let cases = [
                ("Date.now() + 3600000", false, true),
                ("Date.now() - 1000", true, false),
                ("-(Date.now() + 3600000)", true, false),
                ("-(Date.now() - 1000)", false, true),
            ];
            for (n, (time, hides, waits)) in cases.into_iter().enumerate() {
                js(
                    &client,
                    &format!(
                        "localStorage.setItem('meterwall:next', String({time})); return null;"
                    ),
                )
                .await;
                open(&client, &site, &format!("{}?hint={n}", page.path)).await;
                let seen = until(
                    &client,
                    "the widget's decision",
                    "const f = window.__flicker; return f && f.view !== null ? f : null;",
                )
                .await;
                assert_eq!(
                    !seen["added"].is_null(),
                    hides,
                    "{}: the hint {time}: the snippet hid the article? {seen}",
                    page.path
                );
                assert_eq!(
                    load().await["afterPaint"],
                    json!(waits),
                    "{}: the hint {time}: the widget waited for the first paint?",
                    page.path
                );
            }
        }
        Wasm::Missing => {
            let failed = at("errorAt");
            eprintln!(
                "[loader_e2e] {} without the wasm: class added at {added:.0} ms, the loader's \
                 error at {failed:.0} ms, class removed at {removed:.0} ms (performance.now()): \
                 the article was hidden {hidden:.0} ms; the error: {}",
                browser.name(),
                seen["error"]
            );
            assert!(
                seen["error"]
                    .as_str()
                    .is_some_and(|message| message.contains("could not load")),
                "{}: the loader's error should say the widget could not load: {seen}",
                page.path
            );
            assert!(
                removed >= failed,
                "{}: the class went at {removed:.0} ms, before the loader failed at {failed:.0} ms",
                page.path
            );
            assert_eq!(
                state(&client).await,
                None,
                "{}: no widget, no state",
                page.path
            );
            assert_whole(&client, &page).await;
        }
    }
    assert!(
        hidden < FAIL_SAFE_MS,
        "{}: the article stayed hidden {hidden:.0} ms: the snippet's fail-safe lifted it, not \
         the {}",
        page.path,
        match wasm {
            Wasm::Served => "widget's decision",
            Wasm::Missing => "loader's failure",
        }
    );
}

/// The README's "No flash of the full article" snippet, exactly as publishers copy it.
fn readme_snippet() -> String {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = fs::read_to_string(&readme)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", readme.display()));
    let section = text
        .find("No flash of the full article")
        .unwrap_or_else(|| panic!("README.md has no \"No flash of the full article\" section"));
    let rest = &text[section..];
    let start = rest
        .find("```html\n")
        .map(|at| at + "```html\n".len())
        .unwrap_or_else(|| {
            panic!("README.md: no ```html block after \"No flash of the full article\"")
        });
    let end = rest[start..]
        .find("```")
        .unwrap_or_else(|| panic!("README.md: the anti-flicker snippet's block is not closed"));
    let snippet = rest[start..start + end].trim().to_owned();
    assert!(
        snippet.contains("meterwall-pending"),
        "README.md: the anti-flicker snippet does not use the class meterwall-pending:\n{snippet}"
    );
    snippet
}

// 7. Regressions: what the loader did wrong until 24b7501, each case failing against it.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_broken_config_block_keeps_the_article_hidden_until_the_decision() {
    broken_block_anti_flicker(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_broken_config_block_keeps_the_article_hidden_until_the_decision() {
    broken_block_anti_flicker(Browser::Firefox).await;
}

/// First in `<head>`, after [`ERRORS`]: hides the article as the anti-flicker snippet does, but
/// without its one-second fail-safe, so only the loader or the widget can show it again; logs, in
/// the order the mutations happened, `hidden` and `shown` for the class on `<html>` and `state`
/// for each change of the article's `data-meterwall-state`. Mutation records come in the order of
/// the changes (https://dom.spec.whatwg.org/#queue-a-mutation-record), whatever task made them,
/// and each class record's value after the change is the next one's `oldValue`.
const PENDING_RECORDER: &str = r#"window.__marks = [];
(function () {
  var html = document.documentElement;
  function pending(classes) { return (classes || "").split(/\s+/).indexOf("meterwall-pending") >= 0; }
  new MutationObserver(function (records) {
    records.forEach(function (record, i) {
      if (record.attributeName === "data-meterwall-state") {
        if (record.target.classList.contains("article-body")) window.__marks.push("state");
        return;
      }
      if (record.target !== html) return;
      var later = records.slice(i + 1).filter(function (r) { return r.target === html && r.attributeName === "class"; })[0];
      var after = later ? later.oldValue : html.getAttribute("class");
      if (pending(record.oldValue) && !pending(after)) window.__marks.push("shown");
      if (!pending(record.oldValue) && pending(after)) window.__marks.push("hidden");
    });
  }).observe(html, { attributes: true, subtree: true, attributeOldValue: true, attributeFilter: ["class", "data-meterwall-state"] });
  html.classList.add("meterwall-pending");
})();"#;

/// Until 24b7501 the loader lifted `meterwall-pending` as soon as the JSON block failed to parse,
/// long before the widget decided: a walled article flashed in full.
async fn broken_block_anti_flicker(browser: Browser) {
    // Under `onError: "closed"` the unreadable config walls the page, so there is something to
    // flash (a premium page, so that it would be walled at the first visit either way).
    let page = |page: Page, _: &Path| {
        page.head_first(&script(&format!("{ERRORS}\n{PENDING_RECORDER}")))
            .before_loader(BROKEN_BLOCK)
            .loader_attr("data-on-error", "closed")
            .article_attr("data-meterwall-type", "premium")
    };
    let what = "broken JSON block under the anti-flicker class";
    first_article_case(
        browser,
        what,
        "broken-block-pending",
        page,
        broken_block_steps,
    )
    .await;
}

async fn broken_block_steps(client: Client, site: String, page: Article) {
    open(&client, &site, &page.path).await;
    assert_eq!(
        decided(&client, &page.path).await,
        "locked",
        "{}: a premium page",
        page.path
    );
    let marks = until(
        &client,
        "meterwall-pending to be removed from <html>",
        "return window.__marks.includes('shown') ? window.__marks : null;",
    )
    .await;
    eprintln!("[loader_e2e] {}: {marks}", page.path);
    let marks: Vec<&str> = marks
        .as_array()
        .map(|marks| marks.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let at = |mark: &str| marks.iter().position(|seen| *seen == mark);
    assert_eq!(
        at("hidden"),
        Some(0),
        "{}: the recorder saw the class added first: {marks:?}",
        page.path
    );
    let (state, shown) = (at("state"), at("shown"));
    assert!(
        state.is_some() && shown > state,
        "{}: the class went before the widget set data-meterwall-state, so the walled article \
         showed in full: {marks:?}",
        page.path
    );
    let errors = errors(&client, "__errors").await;
    assert_eq!(errors.len(), 2, "{}: two errors: {errors:?}", page.path);
    assert!(
        errors[0].contains("does not parse") && errors[1].contains("stays walled"),
        "{}: the JSON does not parse, so the page stays walled (onError: closed): {errors:?}",
        page.path
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_throwing_queued_function_is_reported_and_the_queue_goes_on() {
    throwing_function(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_throwing_queued_function_is_reported_and_the_queue_goes_on() {
    throwing_function(Browser::Firefox).await;
}

/// After [`ERRORS`]: a publisher's queued function that throws, then one that works.
const THROWING: &str = r#"window.__order = [];
document.addEventListener("meterwall:error", function () { window.__order.push("error"); });
document.addEventListener("meterwall:ready", function () { window.__order.push("ready"); });
window.meterwall = window.meterwall || [];
meterwall.push(function () { throw new Error("publisher bug"); });
meterwall.push(function () { window.__order.push("fn2"); });"#;

/// Until 24b7501 the throw escaped the loader's promise chain: it was reported as "the widget
/// could not load", the next function never ran and `meterwall:ready` never came.
async fn throwing_function(browser: Browser) {
    let page = |page: Page, _: &Path| page.head_first(&script(&format!("{ERRORS}\n{THROWING}")));
    let what = "throwing queued function";
    first_article_case(browser, what, "queue-throws", page, throwing_steps).await;
}

async fn throwing_steps(client: Client, site: String, page: Article) {
    open(&client, &site, &page.path).await;
    assert_eq!(
        decided(&client, &page.path).await,
        "open",
        "{}: the first article",
        page.path
    );
    assert_eq!(decision(&client).await["reason"], json!("counted"));
    until(
        &client,
        "meterwall:ready or an error",
        "return window.__order.includes('ready') || window.__errors.length > 0 ? true : null;",
    )
    .await;
    // Long enough for a second error, or a late ready.
    tokio::time::sleep(QUIET).await;
    let errors = errors(&client, "__errors").await;
    eprintln!("[loader_e2e] {}: errors {errors:?}", page.path);
    assert_eq!(errors.len(), 1, "{}: one error: {errors:?}", page.path);
    assert!(
        errors[0].contains("a queued command threw (publisher bug)")
            && !errors[0].contains("could not load"),
        "{}: the error should blame the queued function, not the widget: {errors:?}",
        page.path
    );
    assert_eq!(
        js(&client, "return window.__order;").await,
        json!(["error", "fn2", "ready"]),
        "{}: the throw is reported, the next function still runs, then ready",
        page.path
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_pushes_until_ready_are_kept() {
    pushes_until_ready(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_pushes_until_ready_are_kept() {
    pushes_until_ready(Browser::Firefox).await;
}

/// First in `<head>`: the order of what runs, a function queued before the loader, and a
/// function and an `on` pushed once the loader has run, while the wasm is still on its way: from
/// the loader element's `load` event, which follows its execution
/// (https://html.spec.whatwg.org/multipage/scripting.html#execute-the-script-element). The
/// listener captures it on `document` (`load` does not bubble, capture still passes there:
/// https://dom.spec.whatwg.org/#concept-event-dispatch) because a listener added to the element
/// by a script right after its tag comes too late in Chrome: the `async` loader, served from
/// loopback, has run and fired `load` before the parser reaches that script.
const PUSHES: &str = r#"window.__order = [];
document.addEventListener("meterwall:error", function (e) { window.__order.push("error:" + e.detail.message); });
document.addEventListener("meterwall:ready", function () { window.__order.push("ready"); });
window.meterwall = window.meterwall || [];
meterwall.push(function (api) { window.__order.push("early fn:" + api.version); });
document.addEventListener("load", function late(e) {
  if (!(e.target instanceof HTMLScriptElement) || !/\/meterwall\.js$/.test(e.target.src)) return;
  document.removeEventListener("load", late, true);
  window.__order.push("loader ran, meterwall is " + (Array.isArray(window.meterwall) ? "the queue" : "the API"));
  meterwall.push(function (api) { window.__order.push("late fn:" + api.version); });
  meterwall.push(["on", "view", function (d) { window.__order.push("late view:" + d.reason); }]);
}, true);"#;

/// Until 24b7501 the loader took the queue as it was when the loader ran: whatever was pushed
/// later, until the wasm was ready, was dropped.
async fn pushes_until_ready(browser: Browser) {
    let page = |page: Page, _: &Path| page.head_first(&script(PUSHES));
    first_article_case(
        browser,
        "pushes until ready",
        "late-push",
        page,
        late_push_steps,
    )
    .await;
}

async fn late_push_steps(client: Client, site: String, page: Article) {
    open(&client, &site, &page.path).await;
    assert_eq!(
        decided(&client, &page.path).await,
        "open",
        "{}: the first article",
        page.path
    );
    let order = until(
        &client,
        "meterwall:ready",
        "return window.__order.includes('ready') ? window.__order : null;",
    )
    .await;
    eprintln!("[loader_e2e] {}: {order}", page.path);
    assert_eq!(
        order,
        json!([
            "loader ran, meterwall is the queue",
            "late view:counted",
            "early fn:1",
            "late fn:1",
            "ready",
        ]),
        "{}: the `on` pushed after the loader ran hears the first decision, the function pushed \
         then runs after the one pushed before, then ready",
        page.path
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_a_module_script_tag_is_named_as_the_cause() {
    module_tag(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_a_module_script_tag_is_named_as_the_cause() {
    module_tag(Browser::Firefox).await;
}

/// The loader pasted as `<script type="module">`: a module script has no `currentScript`, so the
/// loader cannot find its files. Until this case it said it must be included with a `<script
/// src>` tag, which it was; the error now says it must be a classic one. The article stays open.
async fn module_tag(browser: Browser) {
    let page = |page: Page, _: &Path| {
        page.head_first(&script(ERRORS))
            .loader_attr("type", "module")
    };
    first_article_case(
        browser,
        "module script tag",
        "module-tag",
        page,
        module_steps,
    )
    .await;
}

async fn module_steps(client: Client, site: String, page: Article) {
    open(&client, &site, &page.path).await;
    until(
        &client,
        "an error",
        "return window.__errors.length > 0 ? true : null;",
    )
    .await;
    let errors = errors(&client, "__errors").await;
    assert_eq!(errors.len(), 1, "{}: one error: {errors:?}", page.path);
    assert!(
        errors[0].contains("classic <script src> tag"),
        "{}: the error should ask for a classic script: {errors:?}",
        page.path
    );
    let walled = js(
        &client,
        "return document.querySelector('[data-meterwall-prompt]') !== null;",
    )
    .await;
    assert_eq!(walled, json!(false), "{}: no wall", page.path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_wrong_wasm_integrity_names_the_attribute() {
    integrity_named(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_wrong_wasm_integrity_names_the_attribute() {
    integrity_named(Browser::Firefox).await;
}

/// Until 24b7501 the error carried only the browser's words ("Failed to fetch", "NetworkError
/// when attempting to fetch resource."): nothing pointed the publisher at the digest.
async fn integrity_named(browser: Browser) {
    let page = |page: Page, root: &Path| checking_wasm(page, &wrong_digest(root));
    let what = "wrong wasm integrity";
    first_article_case(
        browser,
        what,
        "integrity-named",
        page,
        integrity_named_steps,
    )
    .await;
}

async fn integrity_named_steps(client: Client, site: String, page: Article) {
    let error = refused_wasm(&client, &site, &page).await;
    assert!(
        error.contains("data-wasm-integrity"),
        "{}: the error should name data-wasm-integrity: {error}",
        page.path
    );
}

// 5b. A glue and a wasm of two builds (cached apart while a deploy reaches a CDN's edges).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_a_glue_and_a_wasm_of_two_builds_do_not_link() {
    two_builds(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_a_glue_and_a_wasm_of_two_builds_do_not_link() {
    two_builds(Browser::Firefox).await;
}

/// The build names the wasm's import module after the wasm's bytes; another build's wasm, here
/// the site's with another name, must fail to instantiate against this glue rather than bind its
/// imports to the wrong functions.
async fn two_builds(browser: Browser) {
    let page = |page: Page, root: &Path| {
        let wasm = root.join(WASM);
        let bytes = fs::read(&wasm).unwrap();
        let id = import_module(&bytes);
        let other: Vec<u8> = id.iter().map(|b| (b - b'a' + 1) % 26 + b'a').collect();
        let mut tagged = vec![5];
        tagged.extend_from_slice(&id);
        let mut renamed = vec![5];
        renamed.extend_from_slice(&other);
        fs::write(&wasm, replace_all(&bytes, &tagged, &renamed)).unwrap();
        page.head_first(&script(&format!("{ERRORS}\n{HEARD}")))
    };
    first_article_case(
        browser,
        "two builds",
        "two-builds",
        page,
        |client, site, page| async move {
            let error = refused_wasm(&client, &site, &page).await;
            eprintln!("[loader_e2e] two builds: {error}");
        },
    )
    .await;
}

/// The wasm's import module name: the five lowercase letters that follow a length byte of 5
/// before every one of its 100-odd imports.
fn import_module(wasm: &[u8]) -> Vec<u8> {
    let mut counts = std::collections::HashMap::new();
    for w in wasm.windows(6) {
        if w[0] == 5 && w[1..].iter().all(u8::is_ascii_lowercase) {
            *counts.entry(w[1..].to_vec()).or_insert(0) += 1;
        }
    }
    let (id, count) = counts.into_iter().max_by_key(|(_, n)| *n).unwrap();
    assert!(
        count >= 100,
        "the wasm's imports name no module of five letters"
    );
    id
}

fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

// 5c. The files on another origin (a CDN) that does not know the wasm's type.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_a_cdn_without_the_wasm_type_still_serves_the_widget() {
    untyped_cdn(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_a_cdn_without_the_wasm_type_still_serves_the_widget() {
    untyped_cdn(Browser::Firefox).await;
}

/// The README's "Hosting": streaming compilation needs `application/wasm`; without it the loader
/// fetches the wasm again and compiles its bytes. The meter's files come from a second origin
/// that sends the wasm as `application/octet-stream` (and CORS headers, as a CDN must).
async fn untyped_cdn(browser: Browser) {
    let www = common::www();
    let article = first_articles(&www.join("articles"), 1).remove(0);
    let site = copy_site(&www);
    let cdn = Cdn::start(site.path().join("dist")).await;
    let page = Page::of(&www, &article)
        .head_first(&script(ERRORS))
        .loader_attr("src", &format!("{}/dist/meterwall.js", cdn.url))
        .write(site.path(), "untyped-cdn");
    let requests = cdn.requests.clone();
    run_case(
        browser,
        "an untyped CDN",
        &Settings::default(),
        site.path(),
        |client, url| async move {
            open(&client, &url, &page.path).await;
            assert_eq!(
                decided(&client, &page.path).await,
                "open",
                "{}: the widget decided",
                page.path
            );
            assert_eq!(errors(&client, "__errors").await, Vec::<String>::new());
            let seen = requests.lock().unwrap().clone();
            eprintln!("[loader_e2e] the CDN served {seen:?}");
            // Once for streaming, refused for its type; once more for its bytes.
            let wasm = seen.iter().filter(|path| path.ends_with(".wasm")).count();
            assert_eq!(wasm, 2, "the wasm fetched twice from the CDN: {seen:?}");
        },
    )
    .await;
}

/// A static file server on 127.0.0.1 for `dir` at `/dist/`: scripts as JavaScript, anything else
/// (the wasm) as `application/octet-stream`, each with `Access-Control-Allow-Origin: *`.
struct Cdn {
    url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _server: common::AbortOnDrop,
}

impl Cdn {
    async fn start(dir: std::path::PathBuf) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let dir = dir.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    let path = path.split('?').next().unwrap_or_default().to_owned();
                    seen.lock().unwrap().push(path.clone());
                    let file = path
                        .strip_prefix("/dist/")
                        .filter(|name| !name.contains(['/', '\\']))
                        .and_then(|name| fs::read(dir.join(name)).ok());
                    let kind = if path.ends_with(".js") {
                        "text/javascript"
                    } else {
                        "application/octet-stream"
                    };
                    let (status, body) = match file {
                        Some(body) => ("200 OK", body),
                        None => ("404 Not Found", Vec::new()),
                    };
                    let headers = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                         Access-Control-Allow-Origin: *\r\nCache-Control: no-store\r\n\
                         Connection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(headers.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            url,
            requests,
            _server: common::AbortOnDrop(server),
        }
    }
}

// 9. Readers under the limit come first: the widget waits for the first contentful paint, but
//    not for ever.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_without_a_contentful_paint_the_widget_starts_after_one_second() {
    no_paint(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_without_a_contentful_paint_the_widget_starts_after_one_second() {
    no_paint(Browser::Firefox).await;
}

/// A page that shows nothing yet, as A/B-testing snippets hide pages while they load: no first
/// contentful paint comes, and the widget must still count the view.
async fn no_paint(browser: Browser) {
    let page = |page: Page, _: &Path| page.head_first("<style>html { visibility: hidden }</style>");
    first_article_case(
        browser,
        "no contentful paint",
        "no-paint",
        page,
        no_paint_steps,
    )
    .await;
}

async fn no_paint_steps(client: Client, site: String, page: Article) {
    open(&client, &site, &page.path).await;
    assert_eq!(decided(&client, &page.path).await, "open");
    let seen = js(
        &client,
        "const start = performance.getEntriesByName('meterwall:start')[0];
         const load = performance.getEntriesByName('meterwall:load')[0];
         return {
             afterPaint: load && load.detail ? load.detail.afterPaint : null,
             waited: start && load ? load.startTime - start.startTime : null,
             paints: performance.getEntriesByName('first-contentful-paint').length,
             record: localStorage.getItem('meterwall:v1') !== null,
         };",
    )
    .await;
    assert_eq!(
        seen["paints"],
        json!(0),
        "{}: nothing was shown: {seen}",
        page.path
    );
    assert_eq!(seen["afterPaint"], json!(true), "{}: {seen}", page.path);
    // The cap is a 1000 ms timeout from the loader's first statement; timers may fire up to a
    // clock tick early where performance.now() is coarsened.
    let waited = seen["waited"].as_f64().unwrap_or_else(|| {
        panic!(
            "{}: no meterwall:start or meterwall:load: {seen}",
            page.path
        )
    });
    assert!(
        waited >= 990.0,
        "{}: the widget started {waited:.0} ms after the loader, before the one-second cap, with \
         no paint to wait for",
        page.path
    );
    assert_eq!(
        seen["record"],
        json!(true),
        "{}: the view was counted",
        page.path
    );
}

// 9b. Without the snippet the loader reads the hint itself: it starts at once when the next
//     article may be walled ("wall"; the time a subscriber's token lapses, once it has come; minus
//     the time the next period starts, until it has come), and waits for the first paint
//     otherwise.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_the_loader_starts_at_once_when_the_hint_says_wall() {
    loader_hint(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_the_loader_starts_at_once_when_the_hint_says_wall() {
    loader_hint(Browser::Firefox).await;
}

async fn loader_hint(browser: Browser) {
    let page = |page: Page, _: &Path| page;
    first_article_case(
        browser,
        "the hint, no snippet",
        "hint",
        page,
        loader_hint_steps,
    )
    .await;
}

async fn loader_hint_steps(client: Client, site: String, page: Article) {
    open(&client, &site, &page.path).await;
    decided(&client, &page.path).await;
    let cases = [
        ("'wall'", false),
        ("String(Date.now() + 3600000)", true),
        ("String(Date.now() - 1000)", false),
        ("String(-(Date.now() + 3600000))", false),
        ("String(-(Date.now() - 1000))", true),
        ("null", true),
    ];
    for (n, (hint, waits)) in cases.into_iter().enumerate() {
        js(
            &client,
            &format!(
                "const hint = {hint};
                 if (hint === null) localStorage.removeItem('meterwall:next');
                 else localStorage.setItem('meterwall:next', hint);
                 return null;"
            ),
        )
        .await;
        open(&client, &site, &format!("{}?hint={n}", page.path)).await;
        decided(&client, &page.path).await;
        let after_paint = js(
            &client,
            "const load = performance.getEntriesByName('meterwall:load')[0];
             return load && load.detail ? load.detail.afterPaint : null;",
        )
        .await;
        assert_eq!(
            after_paint,
            json!(waits),
            "{}: with the hint {hint}, the widget waited for the first paint?",
            page.path
        );
    }
}

// What the cases share.

/// A case on one page, the first demo article as `change` makes it (given the copy's root),
/// served as `/loader/<name>.html` from a copy of the site; `steps` get the client, the site's
/// address and the page.
async fn first_article_case<S, Fut>(
    browser: Browser,
    what: &str,
    name: &str,
    change: impl FnOnce(Page, &Path) -> Page,
    steps: S,
) where
    S: FnOnce(Client, String, Article) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let www = common::www();
    let article = first_articles(&www.join("articles"), 1).remove(0);
    let site = copy_site(&www);
    let page = change(Page::of(&www, &article), site.path()).write(site.path(), name);
    let settings = Settings::default();
    run_case(browser, what, &settings, site.path(), |client, url| {
        steps(client, url, page)
    })
    .await;
}

// 7b. The loader where pages and browsers differ: pasted twice, WebAssembly turned off, a
// `dataLayer` asked for after the loader ran, and commands queued while the decision waits for a
// kept subscriber token's check.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_loader_edge_cases() {
    loader_edges(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_loader_edge_cases() {
    loader_edges(Browser::Firefox).await;
}

/// Counts the widget's `ready` and `view` events and collects its errors.
const COUNTS: &str = r#"window.__counts = { ready: 0, view: 0 }; window.__errors = [];
document.addEventListener("meterwall:ready", function () { window.__counts.ready++; });
document.addEventListener("meterwall:view", function () { window.__counts.view++; });
document.addEventListener("meterwall:error", function (e) { window.__errors.push(e.detail.message); });"#;

/// As a browser without WebAssembly (a lockdown mode, a security policy) has it.
const NO_WASM: &str = "delete window.WebAssembly;";

/// `dataLayer: true` pushed once the loader has run (see `PUSHES` for the `load` listener).
const LATE_DATA_LAYER: &str = r#"window.meterwall = window.meterwall || [];
document.addEventListener("load", function late(e) {
  if (!(e.target instanceof HTMLScriptElement) || !/\/meterwall\.js$/.test(e.target.src)) return;
  document.removeEventListener("load", late, true);
  meterwall.push(["config", { dataLayer: true }]);
}, true);"#;

/// A trap in the first decision: once the loader has run (see `PUSHES` for the `load` listener),
/// `Date.now`, which the widget calls as it decides, throws what a trap throws, once (as in
/// `tests/faults_e2e.rs`). A function is queued before, and one pushed after, the loader runs.
const TRAP_FIRST: &str = r#"window.meterwall = window.meterwall || [];
window.__ran = [];
meterwall.push(function () { window.__ran.push("queued"); });
document.addEventListener("load", function late(e) {
  if (!(e.target instanceof HTMLScriptElement) || !/\/meterwall\.js$/.test(e.target.src)) return;
  document.removeEventListener("load", late, true);
  meterwall.push(function () { window.__ran.push("pushed"); });
  var now = Date.now;
  Date.now = function () {
    Date.now = now;
    throw new WebAssembly.RuntimeError("unreachable");
  };
}, true);"#;

/// A subscriber token that has expired, with its public key (from an earlier page), in the
/// config; the publisher's own login then says the reader subscribes, and a function reads the
/// decision: both queued before the widget loads.
const WAITING_TOKEN: &str = r#"window.meterwall = window.meterwall || [];
meterwall.push(["config", {
  limit: 0,
  publicKey: JSON.parse(localStorage.getItem("test:jwk")),
  token: localStorage.getItem("test:token"),
}]);
meterwall.push(["setSubscriber", true]);
meterwall.push(function (api) { window.__why = api.why(); });"#;

/// Makes a P-256 key and a token that expired an hour ago, kept for the next page.
const MAKE_EXPIRED_TOKEN: &str = r#"return (async function () {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const part = (o) => b64(new TextEncoder().encode(JSON.stringify(o)));
  const input = part({ alg: "ES256", typ: "JWT" }) + "." + part({ sub: "r", exp: Math.floor(Date.now() / 1000) - 3600 });
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(input));
  localStorage.setItem("test:jwk", JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }));
  localStorage.setItem("test:token", input + "." + b64(sig));
  return true;
})();"#;

async fn loader_edges(browser: Browser) {
    let www = common::www();
    let article = first_articles(&www.join("articles"), 1).remove(0);
    let site = copy_site(&www);
    let loader = {
        let page = Page::of(&www, &article);
        let (start, end) = page.tag_with(LOADER_SRC);
        page.html[start..=end].to_owned() + "</script>"
    };
    let twice = Page::of(&www, &article)
        .head_first(&script(COUNTS))
        .before_loader(&loader)
        .write(site.path(), "twice");
    let no_wasm = Page::of(&www, &article)
        .head_first(&format!("{}\n{}", script(COUNTS), script(NO_WASM)))
        .write(site.path(), "no-wasm");
    let late_layer = Page::of(&www, &article)
        .head_first(&script(LATE_DATA_LAYER))
        .write(site.path(), "late-data-layer");
    let waiting = Page::of(&www, &article)
        .head_first(&format!("{}\n{}", script(COUNTS), script(WAITING_TOKEN)))
        .write(site.path(), "waiting-token");
    let trapped = Page::of(&www, &article)
        .head_first(&format!("{}\n{}", script(COUNTS), script(TRAP_FIRST)))
        .write(site.path(), "trap-first");
    run_case(
        browser,
        "loader edge cases",
        &Settings::default(),
        site.path(),
        |client, url| edge_steps(client, url, [twice, no_wasm, late_layer, waiting, trapped]),
    )
    .await;
}

async fn edge_steps(client: Client, site: String, pages: [Article; 5]) {
    let [twice, no_wasm, late_layer, waiting, trapped] = pages;
    // Pasted twice: one widget, one decision, one `ready`.
    open(&client, &site, &twice.path).await;
    assert_eq!(decided(&client, &twice.path).await, "open");
    until(
        &client,
        "meterwall:ready",
        "return window.__counts.ready > 0 ? true : null;",
    )
    .await;
    tokio::time::sleep(QUIET).await;
    let counts = js(&client, "return window.__counts;").await;
    assert_eq!(
        counts,
        json!({ "ready": 1, "view": 1 }),
        "{}: the loader pasted twice runs once",
        twice.path
    );
    let loaders = js(
        &client,
        "return document.querySelectorAll('script[src=\"/dist/meterwall.js\"]').length;",
    )
    .await;
    assert_eq!(
        loaders,
        json!(2),
        "{}: the page has two loader tags",
        twice.path
    );

    // A config object whose getter throws ends that mount with the exception (not caught, as
    // the README says), and the next mount still runs: the page is not left deciding for good.
    let next = js(
        &client,
        "var thrown = 'nothing thrown';
         try { meterwall.mount({ get limit() { throw new Error('getter'); } }); }
         catch (e) { thrown = e && e.message; }
         try { meterwall.mount({}); return [thrown, 'mounted']; }
         catch (e) { return [thrown, String(e)]; }",
    )
    .await;
    assert_eq!(next, json!(["getter", "mounted"]), "{}", twice.path);

    // WebAssembly turned off: said at once, and the article stays whole.
    open(&client, &site, &no_wasm.path).await;
    let said = until(
        &client,
        "an error without WebAssembly",
        "return window.__errors.length ? window.__errors : null;",
    )
    .await;
    assert!(
        said[0]
            .as_str()
            .is_some_and(|m| m.contains("WebAssembly is unavailable")),
        "{}: {said}",
        no_wasm.path
    );
    assert_whole(&client, &no_wasm).await;
    assert_no_prompt(&client, &no_wasm.path).await;

    // dataLayer asked for by a command pushed after the loader ran.
    open(&client, &site, &late_layer.path).await;
    decided(&client, &late_layer.path).await;
    let layer = until(
        &client,
        "meterwall.view in window.dataLayer",
        "const layer = window.dataLayer;
         return Array.isArray(layer) && layer.some((e) => e.event === 'meterwall.view') ? layer : null;",
    )
    .await;
    eprintln!("[loader_e2e] {}: dataLayer {layer}", late_layer.path);

    // Queued commands wait for a decision that waits for a token's check.
    assert_eq!(js(&client, MAKE_EXPIRED_TOKEN).await, json!(true));
    open(&client, &site, &waiting.path).await;
    let why = until(
        &client,
        "the queued function",
        "return window.__why === undefined ? null : window.__why;",
    )
    .await;
    assert_eq!(
        why["tier"],
        json!("subscriber"),
        "{}: setSubscriber, queued before the widget loaded, took effect before the queued \
         function read the decision: {why}",
        waiting.path
    );
    assert_eq!(decided(&client, &waiting.path).await, "open");
    let said = errors(&client, "__errors").await;
    assert!(
        said.iter().any(|e| e.contains("expired")),
        "{}: the expired token is reported: {said:?}",
        waiting.path
    );
    assert_eq!(
        js(&client, "return window.__counts.ready;").await,
        json!(1),
        "{}",
        waiting.path
    );

    // A trap in the first decision stops the widget: one error says so, the article stays
    // whole, and the loader neither runs the commands it holds nor says the widget is ready.
    // Until this case, both functions ran (a function pushed is not a call into the widget) and
    // `meterwall:ready` fired.
    open(&client, &site, &trapped.path).await;
    until(
        &client,
        "the trap's error",
        "return window.__errors.length ? true : null;",
    )
    .await;
    tokio::time::sleep(QUIET).await;
    let errors = errors(&client, "__errors").await;
    assert_eq!(
        errors,
        ["internal error: meterwall has stopped and the article stays readable; a bug in meterwall: please report it with this console's messages"],
        "{}: one error, saying what happened",
        trapped.path
    );
    let after = js(
        &client,
        "return { ran: window.__ran, counts: window.__counts, pending: \
         document.documentElement.classList.contains('meterwall-pending') };",
    )
    .await;
    assert_eq!(
        after,
        json!({ "ran": [], "counts": { "ready": 0, "view": 0 }, "pending": false }),
        "{}: no queued command ran, no ready, no view",
        trapped.path
    );
    assert_whole(&client, &trapped).await;
    assert_no_prompt(&client, &trapped.path).await;
}

// 8. The one-request build (`meterwall.inline.js`).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_one_request_build_meters_and_walls_without_more_requests() {
    one_request(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_one_request_build_meters_and_walls_without_more_requests() {
    one_request(Browser::Firefox).await;
}

async fn one_request(browser: Browser) {
    let www = common::www();
    let articles = first_articles(&www.join("articles"), 4);
    let site = copy_site(&www);
    let pages: Vec<Article> = articles
        .iter()
        .enumerate()
        .map(|(i, article)| {
            let page = Page::of(&www, article).head_first(&script(ERRORS));
            // The second page is a browser without `Uint8Array.fromHex`: the script decodes the
            // wasm's hex itself.
            let page = if i == 1 {
                page.head_first(&script(WITHOUT_FROM_HEX))
            } else {
                page
            };
            let page = page.one_request();
            // The last page loads it as a blocking script in <head>: it runs before the article
            // is parsed, and must wait for it rather than gate half an article.
            let page = if i == 3 { page.blocking() } else { page };
            page.write(site.path(), &format!("one-request-{i}"))
        })
        .collect();
    run_case(
        browser,
        "one-request build",
        &Settings::default(),
        site.path(),
        |client, url| one_request_steps(client, url, pages),
    )
    .await;
}

/// Takes `Uint8Array.fromHex` away, as in browsers released before it (Chrome 140, Firefox 133).
const WITHOUT_FROM_HEX: &str =
    "delete Uint8Array.fromHex; window.__fromHex = typeof Uint8Array.fromHex;";

async fn one_request_steps(client: Client, site: String, pages: Vec<Article>) {
    for (i, page) in pages.iter().enumerate() {
        open(&client, &site, &page.path).await;
        let expected = if i < 3 { "open" } else { "locked" };
        assert_eq!(
            decided(&client, &page.path).await,
            expected,
            "{}: article {} of a limit of three",
            page.path,
            i + 1
        );
        if i == 3 {
            // The wall's own step after its first paint (other tabs, the prompt watched, a
            // submission left pending) has run too: what is checked below covers it.
            until(
                &client,
                "the wall's step after its first paint",
                "return performance.getEntriesByName('meterwall:painted').length > 0 || null;",
            )
            .await;
        }
        let seen = js(
            &client,
            "return {
                 files: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)
                     .filter((path) => path.includes('meterwall')),
                 measured: performance.getEntriesByName('meterwall:decision').length,
                 version: window.meterwall.version,
             };",
        )
        .await;
        assert_eq!(
            seen["files"],
            json!(["/dist/meterwall.inline.js"]),
            "{}: the script is the only request the widget makes",
            page.path
        );
        assert_eq!(
            seen["measured"],
            json!(1),
            "{}: one decision measured",
            page.path
        );
        assert_eq!(
            seen["version"],
            json!(1),
            "{}: the API replaced the queue",
            page.path
        );
        if i == 1 {
            assert_eq!(
                js(&client, "return window.__fromHex;").await,
                json!("undefined"),
                "{}: decided without Uint8Array.fromHex",
                page.path
            );
        }
        assert!(
            errors(&client, "__errors").await.is_empty(),
            "{}: no error",
            page.path
        );
    }
    let last = &pages[3];
    assert_eq!(decision(&client).await["reason"], json!("allowanceSpent"));
    assert_eq!(
        teaser_blocks(&client).await,
        2,
        "{}: the default teaser above the prompt",
        last.path
    );
    // Run from <head> before the article existed, the wall still holds the whole article: the
    // teaser, the prompt, and nothing after it.
    let after = js(
        &client,
        "const children = Array.from(document.querySelector('.article-body').children);
         return children.length;",
    )
    .await;
    assert_eq!(
        after,
        json!(3),
        "{}: two blocks, the prompt, nothing else",
        last.path
    );
}

/// A demo article's markup, changed only where a case needs.
struct Page {
    html: String,
    article: Article,
}

impl Page {
    /// Without the README's anti-flicker snippet the demo articles carry: the cases that want it
    /// add it where they need it.
    fn of(www: &Path, article: &Article) -> Self {
        let file = www.join(article.path.trim_start_matches('/'));
        let html = fs::read_to_string(&file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()))
            .replace(&format!("{}\n", readme_snippet()), "");
        assert!(
            !html.contains("meterwall-pending"),
            "{}: an anti-flicker snippet other than the README's",
            article.path
        );
        Self {
            html,
            article: article.clone(),
        }
    }

    /// `markup` first in `<head>`.
    fn head_first(mut self, markup: &str) -> Self {
        let at = self
            .html
            .find("<head>")
            .unwrap_or_else(|| panic!("{}: no <head>", self.article.path))
            + "<head>".len();
        self.html.insert_str(at, &format!("\n{markup}"));
        self
    }

    /// `markup` right before the loader's script tag.
    fn before_loader(mut self, markup: &str) -> Self {
        let (start, _) = self.tag_with(LOADER_SRC);
        self.html.insert_str(start, &format!("{markup}\n"));
        self
    }

    /// `markup` last in `<body>`.
    fn body_last(mut self, markup: &str) -> Self {
        let at = self
            .html
            .rfind("</body>")
            .unwrap_or_else(|| panic!("{}: no </body>", self.article.path));
        self.html.insert_str(at, &format!("{markup}\n"));
        self
    }

    /// Sets an attribute of the loader's script tag.
    fn loader_attr(self, name: &str, value: &str) -> Self {
        let tag = self.tag_with(LOADER_SRC);
        self.set(tag, name, value)
    }

    /// Adds `attributes`, written as they are, at the end of the loader's script tag.
    fn loader_raw(mut self, attributes: &str) -> Self {
        let (_, end) = self.tag_with(LOADER_SRC);
        self.html.insert_str(end, attributes);
        self
    }

    /// Sets an attribute of the article element.
    fn article_attr(self, name: &str, value: &str) -> Self {
        let tag = self.tag_with("class=\"article-body\"");
        self.set(tag, name, value)
    }

    /// The start tag holding `marker`: from its `<` to its `>`.
    fn tag_with(&self, marker: &str) -> (usize, usize) {
        let at = self
            .html
            .find(marker)
            .unwrap_or_else(|| panic!("{}: no tag with {marker}", self.article.path));
        let start = self.html[..at].rfind('<').expect("a tag's start");
        let end = at + self.html[at..].find('>').expect("a tag's end");
        (start, end)
    }

    fn set(mut self, (start, end): (usize, usize), name: &str, value: &str) -> Self {
        assert!(!value.contains(['"', '&']), "{value:?} needs escaping");
        let attribute = format!(" {name}=\"");
        match self.html[start..end].find(&attribute) {
            Some(at) => {
                let from = start + at + attribute.len();
                let to = from + self.html[from..].find('"').expect("a closing quote");
                self.html.replace_range(from..to, value);
            }
            None => self.html.insert_str(end, &format!(" {name}=\"{value}\"")),
        }
        self
    }

    /// Loads the one-request build instead of the default loader (last: the loader's other
    /// changes find it by its `src`).
    fn one_request(mut self) -> Self {
        let (start, end) = self.tag_with(LOADER_SRC);
        let tag = self.html[start..end].replace(LOADER_SRC, "src=\"/dist/meterwall.inline.js\"");
        self.html.replace_range(start..end, &tag);
        self
    }

    /// Makes the default loader's script tag `defer` instead of `async`: it runs once the page is
    /// parsed, every time (an async one may run while the parser is still inside the page).
    fn deferred(mut self) -> Self {
        let (start, end) = self.tag_with(LOADER_SRC);
        let tag = self.html[start..end].replacen("<script async ", "<script defer ", 1);
        assert!(tag.contains("defer"), "{}: {tag}", self.article.path);
        self.html.replace_range(start..end, &tag);
        self
    }

    /// Makes the loader's script tag (either build's) blocking (no `async`).
    fn blocking(mut self) -> Self {
        let inline = "src=\"/dist/meterwall.inline.js\"";
        let marker = if self.html.contains(inline) {
            inline
        } else {
            LOADER_SRC
        };
        let (start, end) = self.tag_with(marker);
        let tag = self.html[start..end].replacen("<script async ", "<script ", 1);
        assert!(
            !tag.contains("async"),
            "{}: the tag is still async: {tag}",
            self.article.path
        );
        self.html.replace_range(start..end, &tag);
        self
    }

    /// Writes the page as `/loader/<name>.html` of the site in `root`; returns it as an article.
    fn write(self, root: &Path, name: &str) -> Article {
        let dir = root.join("loader");
        fs::create_dir_all(&dir).expect("the fixtures' directory");
        let file = dir.join(format!("{name}.html"));
        fs::write(&file, self.html)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", file.display()));
        Article {
            path: format!("/loader/{name}.html"),
            paragraphs: self.article.paragraphs,
        }
    }
}

fn script(code: &str) -> String {
    format!("<script>\n{code}\n</script>")
}

/// Opens the first three demo articles, each counted and open: the allowance of three is spent.
async fn spend_the_allowance(client: &Client, site: &str, demo: &[Article]) {
    for article in demo {
        open(client, site, &article.path).await;
        assert_eq!(
            decided(client, &article.path).await,
            "open",
            "{}: one of the first three articles",
            article.path
        );
    }
}

/// `meterwall.why()`: the last decision.
async fn decision(client: &Client) -> Value {
    js(client, "return window.meterwall.why();").await
}

/// How many block elements of the article the wall kept above the prompt.
async fn teaser_blocks(client: &Client) -> usize {
    let kept = js(
        client,
        "const children = Array.from(document.querySelector('.article-body').children);
         return children.findIndex((child) => child.hasAttribute('data-meterwall-prompt'));",
    )
    .await;
    let kept = kept.as_i64().unwrap_or(-1);
    usize::try_from(kept)
        .unwrap_or_else(|_| panic!("no prompt among the article element's children"))
}
