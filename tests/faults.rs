//! Fault injection in the browser: blocked and failing storage, foreign data under our key,
//! other tabs, prerendering, re-mounts and a DOM that refuses the wall. Each test names the fault
//! it injects; the README's failure policy table points here. Run in Chrome and Firefox.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Reflect};
use meterwall::article::{article_key, ArticleKey};
use meterwall::config::{Config, PageType};
use meterwall::meter::{decide, View};
use meterwall::period::Utc;
use meterwall::record::{decode, encode, STORAGE_KEY, UNREADABLE_KEY};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod dom;
use dom::*;

fn js(source: &str) {
    Function::new_no_args(source).call0(&JsValue::NULL).unwrap();
}

/// Counts `meterwall:error` events and keeps the last message in `window.__lastError`.
fn watch_errors() {
    js("window.__errors = 0; window.__lastError = '';
        if (!window.__watching) {
          window.__watching = true;
          document.addEventListener('meterwall:error', function (e) { window.__errors++; window.__lastError = e.detail.message; });
        }");
}

fn errors() -> (f64, String) {
    let w = web_sys::window().unwrap();
    let n = Reflect::get(&w, &"__errors".into())
        .unwrap()
        .as_f64()
        .unwrap_or(0.0);
    let m = Reflect::get(&w, &"__lastError".into())
        .unwrap()
        .as_string()
        .unwrap_or_default();
    (n, m)
}

/// Saves a Storage method so a test can break it, and puts it back.
fn break_storage(method: &str, body: &str) {
    js(&format!(
        "window.__saved_{method} = window.__saved_{method} || Storage.prototype.{method};
         Storage.prototype.{method} = function () {{ {body} }};"
    ));
}

fn mend_storage(method: &str) {
    js(&format!(
        "if (window.__saved_{method}) {{ Storage.prototype.{method} = window.__saved_{method}; delete window.__saved_{method}; }}"
    ));
}

fn readable() -> bool {
    page_text().contains(SECRET) && prompt().is_none()
}

#[wasm_bindgen_test]
fn storage_getter_throws() {
    clean();
    watch_errors();
    block_storage();
    fixture("g1");
    let open = meterwall::mount(config(",\"limit\":0"));
    fixture("g2");
    let closed = meterwall::mount(config(",\"limit\":0,\"onStorageUnavailable\":\"closed\""));
    let walled = prompt().is_some();
    unblock_storage();
    assert!(open.is_ok() && closed.is_ok());
    assert_eq!(
        field(&open.unwrap(), "wall"),
        JsValue::NULL,
        "open by default"
    );
    assert!(walled, "closed when the publisher says so");
    let (n, message) = errors();
    assert!(n >= 2.0);
    assert!(message.contains("localStorage is unavailable"), "{message}");
    assert!(storage().get_item(STORAGE_KEY).unwrap().is_none());
}

/// Makes the localStorage getter throw, as a browser that blocks site data does; `unblock_storage`
/// puts it back.
fn block_storage() {
    // Window's attributes live on the window itself ([Global]), so keep the original to put back.
    js("window.__localStorage = Object.getOwnPropertyDescriptor(window, 'localStorage');
        Object.defineProperty(window, 'localStorage', {configurable: true, get: function () { throw new DOMException('blocked', 'SecurityError'); }});");
}

fn unblock_storage() {
    js("if (window.__localStorage) Object.defineProperty(window, 'localStorage', window.__localStorage); else delete window.localStorage;");
}

#[wasm_bindgen_test]
fn the_storage_policy_decides_metered_pages_only_and_every_later_decision() {
    clean();
    block_storage();
    // `closed`: a metered article is walled, not counted (nothing can be), and stays walled when
    // the publisher's own check says the reader does not subscribe.
    fixture("p1");
    let d = meterwall::mount(config(",\"onStorageUnavailable\":\"closed\"")).unwrap();
    let first = (field(&d, "wall"), field(&d, "counted"));
    let again = field(&meterwall::set_subscriber(false.into()), "wall");
    let walled = prompt().is_some();
    // A subscriber and a free page are never walled.
    fixture("p2");
    let subscriber = meterwall::mount(config(
        ",\"onStorageUnavailable\":\"closed\",\"subscriber\":true",
    ))
    .unwrap();
    fixture("p3");
    let free = meterwall::mount(config(
        ",\"onStorageUnavailable\":\"closed\",\"pageType\":\"free\"",
    ))
    .unwrap();
    let free_open = readable();
    // `open` (the default): a spent allowance does not wall, then or later.
    fixture("p4");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    let later = field(&meterwall::set_subscriber(false.into()), "wall");
    let still_open = readable();
    unblock_storage();
    assert_eq!(
        first,
        ("register".into(), JsValue::FALSE),
        "walled, uncounted"
    );
    assert_eq!(
        again, "register",
        "setSubscriber(false) keeps the policy's wall"
    );
    assert!(walled);
    assert_eq!(field(&subscriber, "wall"), JsValue::NULL, "a subscriber");
    assert_eq!(field(&free, "wall"), JsValue::NULL, "a free page");
    assert!(free_open);
    assert_eq!(later, JsValue::NULL, "open stays open");
    assert!(still_open);
}

#[wasm_bindgen_test]
fn the_debug_preview_shows_the_storage_policy_s_decision() {
    clean();
    block_storage();
    js("history.replaceState(null, '', location.pathname + '?meterwall=debug');");
    fixture("p6");
    let d = meterwall::mount(config(
        ",\"preview\":true,\"onStorageUnavailable\":\"closed\"",
    ));
    js("history.replaceState(null, '', location.pathname);");
    unblock_storage();
    // The overlay explains that decision: the register wall, which the storage policy gave.
    let overlay = Function::new_no_args(
        "var o = document.querySelector('[data-meterwall-debug]');
         return o && o.shadowRoot ? o.shadowRoot.textContent : '';",
    )
    .call0(&JsValue::NULL)
    .unwrap()
    .as_string()
    .unwrap_or_default();
    remove_overlays();
    assert_eq!(
        field(&d.unwrap(), "wall").as_string().as_deref(),
        Some("register"),
        "what a reader in this browser gets"
    );
    assert!(overlay.contains("wall: register"), "the overlay: {overlay}");
}

#[wasm_bindgen_test]
async fn a_reader_who_registers_with_storage_blocked_reads_the_article() {
    clean();
    block_storage();
    fixture("p5");
    meterwall::mount(config(
        ",\"onStorageUnavailable\":\"closed\",\"retryDelayMs\":10",
    ))
    .unwrap();
    let walled = prompt().is_some();
    stub_fetch(200, "{\"ok\":true}");
    submit_email("reader@example.com");
    // Registered, the reader gets this article: the policy decides the meter, not the reader's
    // own registration.
    until_the_prompt_is_gone().await;
    let open = readable();
    unblock_storage();
    assert!(walled, "closed: the wall");
    assert!(open, "the article, once registered");
}

/// Waits (up to 2 s) for the prompt to go, as it does once the reader has registered.
async fn until_the_prompt_is_gone() {
    for _ in 0..100 {
        if prompt().is_none() {
            break;
        }
        sleep(20).await;
    }
}

#[wasm_bindgen_test]
fn set_item_throws_quota_exceeded() {
    clean();
    watch_errors();
    break_storage(
        "setItem",
        "throw new DOMException('full', 'QuotaExceededError');",
    );
    let d = mount("q1");
    mend_storage("setItem");
    assert_eq!(field(&d, "wall"), JsValue::NULL);
    assert!(readable());
    let (n, message) = errors();
    assert_eq!(n, 1.0, "reported once");
    assert!(message.contains("could not save the meter"), "{message}");
}

/// A registration that storage refuses to keep (full) gives the reader this article, and the
/// report says the registration is among what later pages will not know: it said only "this
/// view" before this test.
#[wasm_bindgen_test]
async fn a_registration_that_cannot_be_saved_is_reported_as_one() {
    clean();
    fixture("rq");
    meterwall::mount(config(",\"limit\":0,\"retryDelayMs\":10")).unwrap();
    let walled = prompt().is_some();
    js("window.__messages = [];
        if (!window.__listing) {
          window.__listing = true;
          document.addEventListener('meterwall:error', function (e) { window.__messages.push(e.detail.message); });
        }");
    break_storage(
        "setItem",
        "throw new DOMException('full', 'QuotaExceededError');",
    );
    stub_fetch(200, "{\"ok\":true}");
    submit_email("reader@example.com");
    until_the_prompt_is_gone().await;
    mend_storage("setItem");
    let open = readable();
    let w = web_sys::window().unwrap();
    let messages: Vec<String> =
        js_sys::Array::from(&Reflect::get(&w, &"__messages".into()).unwrap())
            .iter()
            .filter_map(|m| m.as_string())
            .collect();
    assert!(walled, "limit 0: the wall");
    assert!(open, "registered, the reader reads this article");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("could not save the meter") && m.contains("a registration")),
        "{messages:?}"
    );
}

#[wasm_bindgen_test]
fn set_item_throws_a_string() {
    clean();
    watch_errors();
    break_storage("setItem", "throw 'not an Error at all';");
    let d = mount("q2");
    mend_storage("setItem");
    assert_eq!(field(&d, "counted"), JsValue::TRUE);
    assert!(readable());
    assert_eq!(errors().0, 1.0);
}

#[wasm_bindgen_test]
fn storage_revoked_after_the_first_view() {
    clean();
    watch_errors();
    mount("v1");
    break_storage(
        "getItem",
        "throw new DOMException('revoked', 'SecurityError');",
    );
    break_storage(
        "setItem",
        "throw new DOMException('revoked', 'SecurityError');",
    );
    let d = mount("v2");
    mend_storage("getItem");
    mend_storage("setItem");
    assert_eq!(
        field(&d, "wall"),
        JsValue::NULL,
        "onStorageUnavailable: open"
    );
    assert!(readable());
    assert!(errors().1.contains("localStorage is unavailable"));
    // The first view is still on record.
    let stored = decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(stored.entries.len(), 1);
}

#[wasm_bindgen_test]
async fn foreign_keys_untouched_after_a_full_journey() {
    clean();
    storage()
        .set_item("publisher:cart", "{\"items\":3}")
        .unwrap();
    storage().set_item("meterwallish", "not ours").unwrap();
    js("window.__clears = 0; window.__saved_clear = Storage.prototype.clear; Storage.prototype.clear = function () { window.__clears++; };");
    for id in ["j1", "j2", "j3"] {
        mount(id);
    }
    mount("j4");
    stub_fetch(200, "{\"ok\":true}");
    submit_email("reader@example.com");
    wait_for_state("open").await;
    mount("j5");
    js("Storage.prototype.clear = window.__saved_clear;");
    assert_eq!(
        storage().get_item("publisher:cart").unwrap().as_deref(),
        Some("{\"items\":3}")
    );
    assert_eq!(
        storage().get_item("meterwallish").unwrap().as_deref(),
        Some("not ours")
    );
    let clears = Reflect::get(&web_sys::window().unwrap(), &"__clears".into()).unwrap();
    assert_eq!(clears.as_f64(), Some(0.0), "clear() is never called");
    storage().remove_item("publisher:cart").unwrap();
    storage().remove_item("meterwallish").unwrap();
    clean();
}

#[wasm_bindgen_test]
fn garbage_under_our_key_starts_a_fresh_meter() {
    let huge = "x".repeat(4 * 1024 * 1024);
    let cases = [
        "{",
        "null",
        "\"x\"",
        "[]",
        "-1",
        "1m0.0..AAAA",
        huge.as_str(),
    ];
    for value in cases {
        watch_errors();
        storage().remove_item(UNREADABLE_KEY).unwrap();
        storage().set_item(STORAGE_KEY, value).unwrap();
        let d = mount("garbage");
        assert_eq!(
            field(&d, "counted"),
            JsValue::TRUE,
            "fresh meter for {:.20}",
            value
        );
        assert!(readable());
        let (n, message) = errors();
        assert_eq!(n, 1.0, "reported once for {:.20}", value);
        let now = storage().get_item(STORAGE_KEY).unwrap().unwrap();
        assert!(decode(&now).is_ok() && now.len() < 2048);
        // The value replaced is kept as it was, unless it is over 16 KB (not ours by that
        // alone, and a copy would hold on to the site's storage); the report says which.
        let kept = storage().get_item(UNREADABLE_KEY).unwrap();
        if value.len() <= 16 * 1024 {
            assert_eq!(kept.as_deref(), Some(value), "kept: {:.20}", value);
            assert!(
                message.contains("kept under meterwall:unreadable"),
                "{message}"
            );
        } else {
            assert_eq!(kept, None, "4 MB not copied");
            assert!(message.contains("(the old value is not kept)"), "{message}");
        }
    }
    clean();
}

#[wasm_bindgen_test]
fn an_unreadable_value_that_cannot_be_kept_is_still_replaced_and_said_so() {
    clean();
    watch_errors();
    storage().set_item(STORAGE_KEY, "{").unwrap();
    // A full storage refuses the copy; the fresh record (smaller than what it replaces) fits.
    break_storage(
        "setItem",
        &format!(
            "if (arguments[0] === '{UNREADABLE_KEY}') throw new DOMException('full', 'QuotaExceededError');
             return window.__saved_setItem.apply(this, arguments);"
        ),
    );
    let d = mount("unkept");
    mend_storage("setItem");
    assert_eq!(field(&d, "counted"), JsValue::TRUE);
    let (n, message) = errors();
    assert_eq!(n, 1.0, "reported once");
    assert!(message.contains("starting a fresh meter"), "{message}");
    assert!(
        message.contains("the old value could not be kept: storage is full or refused it"),
        "{message}"
    );
    assert_eq!(storage().get_item(UNREADABLE_KEY).unwrap(), None);
    assert!(decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).is_ok());
    clean();
}

/// The newer version's record is in storage as it wrote it, and this page said so, once.
fn left_for_the_newer_version(newer: &str) {
    let (n, message) = errors();
    assert_eq!(n, 1.0, "reported once");
    assert!(message.contains("newer version"), "{message}");
    assert!(
        !message.contains("kept"),
        "nothing to keep aside: {message}"
    );
    assert_eq!(
        storage().get_item(STORAGE_KEY).unwrap().as_deref(),
        Some(newer),
        "left as it was"
    );
    // Not replaced, so not copied aside either.
    assert_eq!(storage().get_item(UNREADABLE_KEY).unwrap(), None);
}

#[wasm_bindgen_test]
fn a_newer_version_s_record_is_read_as_fresh_and_never_saved_over() {
    clean();
    // What a later meterwall might write; this one cannot read it, and a rollback to that
    // version must find the reader's meter (registration, token) as it was.
    let newer = "3m0.0.x.whatever a later format holds";
    watch_errors();
    storage().set_item(STORAGE_KEY, newer).unwrap();
    let d = mount("newer");
    assert_eq!(
        field(&d, "counted"),
        JsValue::TRUE,
        "decided on a fresh meter"
    );
    assert!(readable());
    left_for_the_newer_version(newer);
    clean();
}

#[wasm_bindgen_test]
fn a_newer_version_s_record_written_after_the_mount_is_not_saved_over_either() {
    clean();
    watch_errors();
    mount("newer-later");
    assert!(decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).is_ok());
    // A page of a later meterwall, open beside this one, saves its record meanwhile.
    let newer = "3m0.0.x.whatever a later format holds";
    storage().set_item(STORAGE_KEY, newer).unwrap();
    // This page decides again (the publisher's sign-in script says: no subscription).
    meterwall::set_subscriber(false.into());
    left_for_the_newer_version(newer);
    // Garbage written meanwhile is replaced by this page's record, and said so.
    clean();
    watch_errors();
    mount("garbage-later");
    storage().set_item(STORAGE_KEY, "{").unwrap();
    meterwall::set_subscriber(false.into());
    let (n, message) = errors();
    assert_eq!(n, 1.0, "reported once");
    assert!(message.contains("replacing the stored meter"), "{message}");
    assert!(
        message.contains("kept under meterwall:unreadable"),
        "{message}"
    );
    assert_eq!(
        storage().get_item(UNREADABLE_KEY).unwrap().as_deref(),
        Some("{")
    );
    assert!(decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).is_ok());
    clean();
}

#[wasm_bindgen_test]
fn a_section_keeps_its_count_when_the_publisher_adds_one() {
    clean();
    let page = |id: &str, sections: &str, section: &str| {
        fixture(id);
        meterwall::mount(config(&format!(
            ",\"sections\":{{{sections}}},\"section\":\"{section}\""
        )))
        .unwrap()
    };
    let opinion_only = "\"opinion\":1";
    assert_eq!(
        field(&page("s1", opinion_only, "opinion"), "wall"),
        JsValue::NULL
    );
    // Stored with the section's id: version 2.
    let stored = storage().get_item(STORAGE_KEY).unwrap().unwrap();
    assert!(stored.starts_with('2'), "{stored}");
    // The publisher adds a section that sorts first; opinion's article stays opinion's.
    let both = "\"analysis\":1,\"opinion\":1";
    let d = page("s2", both, "opinion");
    assert_eq!(field(&d, "wall").as_string().as_deref(), Some("register"));
    assert_eq!(field(&page("s3", both, "analysis"), "wall"), JsValue::NULL);
    clean();
}

#[wasm_bindgen_test]
fn negative_times_and_periods_are_rolled_into_the_present() {
    // Well-formed but impossible: a period and a last visit before 1970. The meter moves to now.
    storage().set_item(STORAGE_KEY, "1m-5.-3..").unwrap();
    let d = mount("negative");
    assert_eq!(field(&d, "used").as_f64(), Some(1.0));
    let stored = decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap();
    assert!(stored.bucket > 24_000 && stored.latest_min > 29_000_000);
    clean();
}

#[wasm_bindgen_test]
fn a_far_future_time_is_kept_and_never_crashes() {
    // A clock that once ran far ahead: the record keeps that time (documented limit); the meter
    // still decides, and the next new article is counted in that period.
    storage().set_item(STORAGE_KEY, "1-0.zzzzzzzz..").unwrap();
    let d = mount("future");
    assert_eq!(field(&d, "counted"), JsValue::TRUE);
    let stored = decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap();
    // Kept, but never past the last minute a JS Date can hold.
    assert_eq!(stored.latest_min, meterwall::meter::MAX_MIN);
    clean();
}

#[wasm_bindgen_test]
async fn two_tabs_opening_different_articles_both_count() {
    clean();
    // This tab opens t1 and walls t4 after t2, t3...
    for id in ["t1", "t2", "t3"] {
        mount(id);
    }
    mount("t4");
    // ...meanwhile another tab (same origin, same storage) opens "other" and saves its record.
    let mut theirs = decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap();
    let config = Config {
        limit: 100,
        ..Config::default()
    };
    let key = article_key(Some("other"), None, "", &[]).unwrap().0;
    let view = View {
        key,
        page: PageType::Metered,
        section: None,
        subscriber: false,
    };
    decide(
        &mut theirs,
        &config,
        &view,
        js_sys::Date::now() as i64,
        &Utc,
    );
    storage().set_item(STORAGE_KEY, &encode(&theirs)).unwrap();
    // This tab now registers and saves: the other tab's view must survive.
    stub_fetch(200, "{\"ok\":true}");
    submit_email("reader@example.com");
    wait_for_state("open").await;
    let stored = decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap();
    let keys: Vec<ArticleKey> = stored.entries.iter().map(|e| e.key).collect();
    assert!(
        keys.contains(&key),
        "the other tab's article is still counted"
    );
    assert_eq!(
        stored.entries.len(),
        5,
        "t1-t3, the other tab's, and t4 on registration"
    );
    clean();
}

#[wasm_bindgen_test]
fn the_same_article_in_several_tabs_counts_once() {
    clean();
    for _ in 0..3 {
        mount("same");
    }
    let stored = decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(stored.entries.len(), 1);
    clean();
}

#[wasm_bindgen_test]
async fn a_prerendered_page_counts_nothing_until_shown() {
    clean();
    js("Object.defineProperty(document, 'prerendering', {configurable: true, get: function () { return window.__prerendering; }}); window.__prerendering = true;");
    fixture("pre");
    let d = meterwall::mount(config(",\"limit\":0")).unwrap();
    // No decision while prerendering: a promise of the one to come.
    let decided = d.dyn_into::<js_sys::Promise>().expect("a promise");
    assert!(
        storage().get_item(STORAGE_KEY).unwrap().is_none(),
        "nothing counted"
    );
    assert!(readable(), "no wall while prerendering");
    // The reader navigates to it: now it is a view.
    js("window.__prerendering = false; document.dispatchEvent(new Event('prerenderingchange'));");
    sleep(10).await;
    js("delete document.prerendering;");
    assert!(prompt().is_some(), "decided once shown");
    assert!(storage().get_item(STORAGE_KEY).unwrap().is_some());
    let d = wasm_bindgen_futures::JsFuture::from(decided).await.unwrap();
    assert_eq!(
        js_sys::Reflect::get(&d, &"wall".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("register"),
        "the promise gives the decision made once shown"
    );
    clean();
}

/// A second `mount()` while the page is still prerendered (a single-page app's own, after the
/// loader's) replaces the first: one view counted, one wall, and the first promise gives `null`.
/// Until this test both decided once the page was shown, the first counting and walling an
/// article the second then took down.
#[wasm_bindgen_test]
async fn a_second_mount_while_prerendered_replaces_the_first() {
    clean();
    js("Object.defineProperty(document, 'prerendering', {configurable: true, get: function () { return window.__prerendering; }}); window.__prerendering = true;");
    js("window.__views = 0; document.addEventListener('meterwall:view', function () { window.__views++; });");
    fixture("pre-a");
    let first = meterwall::mount(config(",\"articleId\":\"a\""))
        .unwrap()
        .dyn_into::<js_sys::Promise>()
        .expect("a promise");
    let second = meterwall::mount(config(",\"articleId\":\"b\""))
        .unwrap()
        .dyn_into::<js_sys::Promise>()
        .expect("a promise");
    js("window.__prerendering = false; document.dispatchEvent(new Event('prerenderingchange'));");
    sleep(10).await;
    js("delete document.prerendering;");
    let first = wasm_bindgen_futures::JsFuture::from(first).await.unwrap();
    let second = wasm_bindgen_futures::JsFuture::from(second).await.unwrap();
    assert!(first.is_null(), "replaced: {first:?}");
    assert_eq!(
        js_sys::Reflect::get(&second, &"reason".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("counted")
    );
    assert_eq!(
        js_sys::eval("window.__views").unwrap().as_f64(),
        Some(1.0),
        "one view"
    );
    let record = decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(record.entries.len(), 1, "one article counted");
    clean();
}

#[wasm_bindgen_test]
async fn a_single_page_app_can_mount_again_without_leaking_listeners() {
    clean();
    for id in ["s1", "s2", "s3"] {
        mount(id);
    }
    // The reader moves between walled articles of a single-page app fifty times.
    for i in 0..50 {
        fixture(if i % 2 == 0 { "s4" } else { "s5" });
        meterwall::mount(config(",\"retryDelayMs\":10")).unwrap();
    }
    assert_eq!(
        doc()
            .query_selector_all("[data-meterwall-prompt]")
            .unwrap()
            .length(),
        1,
        "one prompt"
    );
    // Offline submission, then one `online` event: exactly one request, not one per mount.
    js("Object.defineProperty(navigator, 'onLine', {configurable: true, get: function () { return window.__online; }}); window.__online = false;");
    stub_fetch(200, "{\"ok\":true}");
    submit_email("reader@example.com");
    sleep(20).await;
    js("window.__online = true; window.dispatchEvent(new Event('online'));");
    wait_for_state("open").await;
    sleep(50).await;
    js("delete navigator.onLine;");
    assert_eq!(sent().length(), 1);
    clean();
}

#[wasm_bindgen_test]
fn a_failure_in_the_middle_of_gating_leaves_the_page_untouched() {
    clean();
    watch_errors();
    for id in ["m1", "m2", "m3"] {
        mount(id);
    }
    let body = fixture("m4");
    let before = body.inner_html();
    // The page refuses to take the prompt after the article's text has been taken out.
    js("window.__insertBefore = Node.prototype.insertBefore;
        Node.prototype.insertBefore = function (node, ref) {
          if (node && node.hasAttribute && node.hasAttribute('data-meterwall-prompt')) throw new Error('refused');
          return window.__insertBefore.call(this, node, ref);
        };");
    let d = meterwall::mount(config(""));
    js("Node.prototype.insertBefore = window.__insertBefore;");
    assert!(d.is_ok());
    assert_eq!(body.inner_html(), before, "all or nothing: nothing");
    assert!(readable());
    assert!(errors().1.contains("could not show the prompt"));
    assert_eq!(
        body.get_attribute("data-meterwall-state").as_deref(),
        Some("open")
    );
    clean();
}
