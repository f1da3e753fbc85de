//! Publisher integration in the browser: config precedence, events and their details, the
//! cancellable before-lock, the preview parameters and debug overlay with the SEO check, the
//! state and subscriber API, and signed entitlement tokens. Run in Chrome and Firefox.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Promise, Reflect, JSON};
use meterwall::record::{decode, STORAGE_KEY};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

mod dom;
use dom::*;

fn js(source: &str) -> JsValue {
    Function::new_no_args(source).call0(&JsValue::NULL).unwrap()
}

fn window_field(name: &str) -> JsValue {
    Reflect::get(&web_sys::window().unwrap(), &name.into()).unwrap()
}

/// Records every meterwall event as `[name, detail]` in `window.__events`.
fn record_events() {
    js("window.__events = [];
        if (!window.__recording) {
          window.__recording = true;
          ['ready','view','lock','seen','register','unlock','subscribe-click','login-click','error','before-lock'].forEach(function (n) {
            document.addEventListener('meterwall:' + n, function (e) { window.__events.push([n, e.detail]); });
          });
        }");
}

fn event_names() -> Vec<String> {
    let events: js_sys::Array = window_field("__events").unchecked_into();
    events
        .iter()
        .map(|e| {
            e.unchecked_into::<js_sys::Array>()
                .get(0)
                .as_string()
                .unwrap()
        })
        .collect()
}

/// A preview reads past an unreadable record and writes nothing: the value stays where it is, and
/// no copy is made of it (it is copied aside only by a page that replaces it).
#[wasm_bindgen_test]
fn a_preview_over_an_unreadable_record_keeps_nothing_aside() {
    clean();
    storage().set_item(STORAGE_KEY, "{").unwrap();
    for search in [
        "?meterwall=wall",
        "?meterwall=off",
        "?meterwall=simulate&views=1",
    ] {
        set_search(search);
        fixture("pv-unreadable");
        meterwall::mount(config(",\"preview\":true,\"limit\":0")).unwrap();
        assert_eq!(
            storage().get_item(STORAGE_KEY).unwrap().as_deref(),
            Some("{"),
            "{search}"
        );
        assert_eq!(
            storage()
                .get_item(meterwall::record::UNREADABLE_KEY)
                .unwrap(),
            None,
            "{search}"
        );
    }
    // A real view replaces it, and keeps it aside first.
    set_search("");
    fixture("pv-unreadable");
    meterwall::mount(config("")).unwrap();
    assert_eq!(
        storage()
            .get_item(meterwall::record::UNREADABLE_KEY)
            .unwrap()
            .as_deref(),
        Some("{")
    );
    assert!(decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).is_ok());
    remove_overlays();
    clean();
}

fn set_search(search: &str) {
    js(&format!(
        "history.replaceState(null, '', location.pathname + {search:?});"
    ));
}

fn wall_of(d: &JsValue) -> Option<String> {
    field(d, "wall").as_string()
}

#[wasm_bindgen_test]
async fn events_carry_a_versioned_detail_and_never_the_email() {
    clean();
    record_events();
    for id in ["e1", "e2", "e3"] {
        mount(id);
    }
    mount("e4");
    stub_fetch(200, "{\"ok\":true}");
    submit_email("reader@example.com");
    wait_for_state("open").await;
    let names = event_names();
    for expected in ["view", "before-lock", "lock", "register"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let lock = names.iter().position(|n| n == "lock").unwrap();
    let before = names.iter().position(|n| n == "before-lock").unwrap();
    assert!(before < lock);
    let events: js_sys::Array = window_field("__events").unchecked_into();
    for e in events.iter() {
        let detail = e.unchecked_into::<js_sys::Array>().get(1);
        assert_eq!(field(&detail, "version").as_f64(), Some(1.0));
    }
    let all = JSON::stringify(&events).unwrap().as_string().unwrap();
    assert!(
        !all.contains("reader@example.com") && !all.contains('@'),
        "no event carries the email"
    );
    let lock_detail = events
        .get(lock as u32)
        .unchecked_into::<js_sys::Array>()
        .get(1);
    assert_eq!(
        field(&lock_detail, "wallType").as_string().as_deref(),
        Some("register")
    );
    clean();
}

#[wasm_bindgen_test]
async fn listeners_can_call_the_api_while_the_page_is_decided() {
    clean();
    // Each event, with what `why()` and `state()` answered from its listener.
    js("window.__answers = [];");
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
        let answers: js_sys::Array = window_field("__answers").unchecked_into();
        // Nothing here may panic: it runs inside the widget's calls.
        let why = meterwall::why();
        let tier = Reflect::get(&why, &"tier".into()).unwrap_or(JsValue::NULL);
        answers.push(&js_sys::Array::of3(
            &e.type_().into(),
            &tier,
            &meterwall::state().is_object().into(),
        ));
    });
    let names = ["meterwall:view", "meterwall:lock", "meterwall:register"];
    for name in names {
        doc()
            .add_event_listener_with_callback(name, listener.as_ref().unchecked_ref())
            .unwrap();
    }
    for id in ["l1", "l2", "l3"] {
        mount(id);
    }
    mount("l4");
    stub_fetch(200, "{\"ok\":true}");
    submit_email("reader@example.com");
    wait_for_state("open").await;
    for name in names {
        doc()
            .remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref())
            .unwrap();
    }
    let answers = JSON::stringify(&window_field("__answers"))
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        answers.contains("[\"meterwall:lock\",\"anonymous\",true]")
            && answers.contains("[\"meterwall:register\",\"registered\",true]")
            && !answers.contains("null")
            && !answers.contains("false"),
        "{answers}"
    );
    clean();
}

#[wasm_bindgen_test]
fn mount_from_a_before_lock_listener_is_refused_not_a_crash() {
    clean();
    js("window.__refused = [];");
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(|_: web_sys::Event| {
        let refused = meterwall::mount(config(",\"limit\":0")).is_err();
        let list: js_sys::Array = window_field("__refused").unchecked_into();
        list.push(&refused.into());
    });
    let listen = |on: bool| {
        let f = listener.as_ref().unchecked_ref();
        if on {
            doc().add_event_listener_with_callback("meterwall:before-lock", f)
        } else {
            doc().remove_event_listener_with_callback("meterwall:before-lock", f)
        }
        .unwrap()
    };
    // A first page view, applying its wall: a mount now would gate the page twice.
    listen(true);
    fixture("b1");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    listen(false);
    // The wall comes back while the state is in use: a mount now could not put the page back.
    meterwall::set_subscriber(true.into());
    listen(true);
    meterwall::set_subscriber(false.into());
    listen(false);
    assert_eq!(
        JSON::stringify(&window_field("__refused"))
            .unwrap()
            .as_string()
            .unwrap(),
        "[true,true]"
    );
    let prompts = doc()
        .query_selector_all("#fixture [data-meterwall-prompt]")
        .unwrap()
        .length();
    assert_eq!(prompts, 1, "one wall");
    meterwall::set_subscriber(true.into());
    assert!(
        page_text().contains(SECRET),
        "and the article comes back whole"
    );
    assert!(meterwall::why().is_object(), "the widget still answers");
    clean();
}

#[wasm_bindgen_test]
fn events_fire_in_the_order_things_happened_when_a_listener_changes_the_page() {
    clean();
    record_events();
    let once = std::cell::Cell::new(true);
    // A publisher who learns on the first `view` that this reader subscribes.
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
        if once.replace(false) {
            meterwall::set_subscriber(true.into());
        }
    });
    doc()
        .add_event_listener_with_callback("meterwall:view", listener.as_ref().unchecked_ref())
        .unwrap();
    fixture("o1");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    doc()
        .remove_event_listener_with_callback("meterwall:view", listener.as_ref().unchecked_ref())
        .unwrap();
    let events: js_sys::Array = window_field("__events").unchecked_into();
    let seen: Vec<String> = events
        .iter()
        .map(|e| {
            let e: js_sys::Array = e.unchecked_into();
            let wall = field(&e.get(1), "wall").as_string();
            format!(
                "{}:{}",
                e.get(0).as_string().unwrap(),
                wall.unwrap_or_default()
            )
        })
        .filter(|e| e.starts_with("view") || e.starts_with("lock"))
        .collect();
    assert_eq!(seen, ["view:register", "lock:register", "view:"]);
    assert!(prompt().is_none(), "the page is open");
    clean();
}

#[wasm_bindgen_test]
fn before_lock_can_be_cancelled_for_the_publishers_own_wall() {
    clean();
    js("window.__cancel = function (e) { e.preventDefault(); };
        document.addEventListener('meterwall:before-lock', window.__cancel);");
    let body = fixture("c1");
    let before = body.inner_html();
    let d = meterwall::mount(config(",\"limit\":0")).unwrap();
    js("document.removeEventListener('meterwall:before-lock', window.__cancel);");
    assert_eq!(
        wall_of(&d).as_deref(),
        Some("register"),
        "the meter still decided"
    );
    assert_eq!(
        body.inner_html(),
        before,
        "the page is the publisher's to gate"
    );
    assert_eq!(
        body.get_attribute("data-meterwall-state").as_deref(),
        Some("publisher")
    );
    clean();
}

#[wasm_bindgen_test]
async fn seen_fires_when_the_prompt_enters_the_viewport() {
    clean();
    record_events();
    fixture("seen");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    prompt()
        .unwrap()
        .unchecked_into::<HtmlElement>()
        .scroll_into_view();
    for _ in 0..100 {
        if event_names().iter().any(|n| n == "seen") {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(event_names().iter().filter(|n| *n == "seen").count(), 1);
    clean();
}

#[wasm_bindgen_test]
async fn the_work_after_the_first_paint_is_measured() {
    clean();
    let measured = || {
        js("return performance.getEntriesByName('meterwall:work').length;")
            .as_f64()
            .unwrap()
    };
    js("performance.clearMeasures('meterwall:work');");
    fixture("painted");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    assert_eq!(measured(), 0.0, "nothing before the paint");
    // An earlier page view's deferred work stops short (its view has been replaced), so what
    // is measured from here is this view's.
    for _ in 0..100 {
        if measured() > 0.0 {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(measured(), 1.0, "measured once, after the paint");
    sleep(50).await;
    assert_eq!(measured(), 1.0, "and only once");
    clean();
}

#[wasm_bindgen_test]
fn subscribe_and_login_clicks_are_reported() {
    clean();
    record_events();
    // Keep the test page: stop the links' navigation, after the widget has seen the click.
    js("window.__stay = function (e) { e.preventDefault(); }; window.addEventListener('click', window.__stay);");
    fixture("clicks");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    shadow("a.subscribe")
        .unchecked_into::<HtmlElement>()
        .click();
    shadow("a.login").unchecked_into::<HtmlElement>().click();
    js("window.removeEventListener('click', window.__stay);");
    let names = event_names();
    assert!(names.contains(&"subscribe-click".to_string()), "{names:?}");
    assert!(names.contains(&"login-click".to_string()), "{names:?}");
    clean();
}

#[wasm_bindgen_test]
fn page_config_then_article_attributes_then_calls() {
    clean();
    let body = fixture("prec");
    body.set_attribute("data-meterwall-type", "free").unwrap();
    let page =
        JSON::parse("[{\"selector\":\"#fixture\",\"limit\":0,\"pageType\":\"premium\"}]").unwrap();
    // The article element's attribute beats the page config...
    let d = meterwall::mount_with(page.clone(), JsValue::UNDEFINED).unwrap();
    assert_eq!(field(&d, "reason").as_string().as_deref(), Some("freePage"));
    // ...also over a value of the page config that is not valid: later layers win key by key.
    // Until this case the page config was first read without the article's attributes (to find
    // the article), and its fault refused the whole config.
    let invalid =
        JSON::parse("[{\"selector\":\"#fixture\",\"limit\":0,\"pageType\":\"standard\"}]").unwrap();
    let d = meterwall::mount_with(invalid, JsValue::UNDEFINED).unwrap();
    assert_eq!(field(&d, "reason").as_string().as_deref(), Some("freePage"));
    // ...and a queued config call beats the article element.
    let calls = JSON::parse("[{\"pageType\":\"metered\"}]").unwrap();
    let d = meterwall::mount_with(page, calls).unwrap();
    assert_eq!(
        field(&d, "reason").as_string().as_deref(),
        Some("allowanceSpent")
    );
    // A layer written as a list (a JSON block of layers, `mount([a, b])`) is its layers in
    // turn: the script tag's attributes after it change one key, not the whole of it.
    body.remove_attribute("data-meterwall-type").unwrap();
    let page = JSON::parse(
        "[[{\"selector\":\"#fixture\",\"limit\":7},{\"period\":\"week\"}],{\"keep\":\".ad\"}]",
    )
    .unwrap();
    let d = meterwall::mount_with(page, JsValue::UNDEFINED).unwrap();
    assert_eq!(
        field(&d, "limit").as_f64(),
        Some(7.0),
        "the list's layers kept"
    );
    clean();
}

#[wasm_bindgen_test]
fn config_errors_name_the_path_and_what_was_expected() {
    clean();
    // Without its own id: the config's `articleId` is not overridden (see below).
    fixture("errs")
        .remove_attribute("data-meterwall-id")
        .unwrap();
    let cases = [
        (
            "{\"limit\":\"three\"}",
            "limit: expected a whole number from 0 to 100, found \"three\"",
        ),
        (
            "{\"period\":\"fortnight\"}",
            "period: expected one of \"month\", \"week\", \"day\", \"lifetime\" or \"rolling:N\"",
        ),
        (
            "{\"registered\":{\"mode\":\"manual\"}}",
            "registered.mode: expected \"auto\" or \"choose\", found \"manual\"",
        ),
        (
            "{\"teaser\":\"half\"}",
            "teaser: expected a number of blocks from 0 to 50, or a percentage",
        ),
        (
            "{\"onError\":\"maybe\"}",
            "onError: expected \"open\" or \"closed\", found \"maybe\"",
        ),
        (
            "{\"copy\":{\"submit\":5}}",
            "copy.submit: expected a string of at most 2000 characters, found 5",
        ),
        (
            "{\"maxAttempts\":0}",
            "maxAttempts: expected a whole number from 1 to 10, found 0",
        ),
        (
            "{\"publicKey\":\"pem\"}",
            "publicKey: expected a P-256 public key as a JWK object",
        ),
        (
            "{\"sections\":{\"a\":\"x\"}}",
            "sections.a: expected a whole number from 0 to 100, found \"x\"",
        ),
        ("{\"timeZone\":\"\"}", "timeZone: expected an IANA time zone such as \"Europe/Paris\", found \"\""),
        ("{\"registered\":3}", "registered: expected an object like {\"limit\": 3}, found 3"),
        ("{\"sections\":[1]}", "sections: expected an object of section names to limits"),
        ("{\"sections\":{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1}}", "sections: expected at most 4 sections with their own allowance, found 5"),
        ("{\"limit\":100,\"registered\":{\"limit\":100}}", "limit: expected limit, registered.limit and the section limits to add up to at most 149, found 200"),
        ("{\"keepParams\":[1]}", "keepParams: expected a list of strings, or one comma-separated string, found 1"),
        ("{\"keep\":\"\"}", "keep: expected a CSS selector such as \".related, .ad\""),
        ("{\"locale\":5}", "locale: expected a string, found 5"),
        ("{\"copy\":\"hi\"}", "copy: expected an object of text names to strings"),
        ("{\"endpoint\":\"ftp://x\"}", "endpoint: expected an https: URL or a path starting with \"/\", found \"ftp://x\""),
        ("{\"stylesheet\":\"javascript:x\"}", "stylesheet: expected an https: URL or a path starting with \"/\""),
        ("{\"subscriber\":\"yes\"}", "subscriber: expected true or false, found \"yes\""),
        ("{\"articleId\":[]}", "articleId: expected a string, found a list"),
        ("{\"pageType\":\"paid\"}", "pageType: expected \"metered\", \"free\" or \"premium\", found \"paid\""),
        ("{\"section\":{}}", "section: expected a string, found an object"),
        ("{\"onStorageUnavailable\":1}", "onStorageUnavailable: expected \"open\" or \"closed\", found 1"),
        ("{\"timeoutMs\":5}", "timeoutMs: expected a number of ms from 100 to 60000, found 5"),
        ("{\"retryDelayMs\":-1}", "retryDelayMs: expected a number of ms from 0 to 30000, found -1"),
        ("{\"preview\":\"on\"}", "preview: expected true or false, found \"on\""),
        ("{\"dataLayer\":2}", "dataLayer: expected true or false, found 2"),
        ("{\"token\":7}", "token: expected a string, found 7"),
    ];
    for (bad, message) in cases {
        let layers = js_sys::Array::of2(
            &JSON::parse("{\"selector\":\"#fixture\"}").unwrap(),
            &JSON::parse(bad).unwrap(),
        );
        let err = meterwall::mount(layers.into())
            .unwrap_err()
            .as_string()
            .unwrap();
        assert!(err.contains(message), "{bad}: {err}");
        assert!(err.starts_with("[meterwall] "));
        assert!(page_text().contains(SECRET), "fails open");
    }
    // A fault the article's attributes could not override is told as it is, before the article is
    // looked for (not as "no element matches" a selector that was never checked).
    let err = refused("[{\"selector\":\".nope\",\"limit\":\"x\"}]");
    assert!(err.contains("limit: expected"), "{err}");
    // No article where the selector points (a page without one, or the wrong selector), and a
    // selector that is not one: each says where the selector is set, wherever it came from.
    let err = refused("{\"selector\":\".nope\"}");
    assert!(
        err.contains("no element matches the article selector \".nope\": set selector")
            && err.contains("or leave meterwall off pages without an article"),
        "{err}"
    );
    let err = refused("{\"selector\":\"((\"}");
    assert!(
        err.contains("\"((\" is not a valid CSS selector: check its syntax"),
        "{err}"
    );
    // The article element's own id wins over the config's, so that one is not read at all.
    fixture("errs");
    let layers = JSON::parse("[{\"selector\":\"#fixture\"},{\"articleId\":[]}]").unwrap();
    assert!(meterwall::mount(layers).is_ok());
    let err = meterwall::mount(JsValue::from(5))
        .unwrap_err()
        .as_string()
        .unwrap();
    assert!(
        err.contains("config must be an object or a list of objects"),
        "{err}"
    );
    // A layer that is not an object among others (a gtag-style `["config", "limit", 0]`): the
    // failure policy the others give holds. Until this case such a config was refused before any
    // policy was read, and the article stayed readable on a page that asked to fail closed.
    fixture("notobj");
    let err = refused("[{\"selector\":\"#fixture\",\"onError\":\"closed\"},5]");
    assert!(
        err.contains("config must be an object or a list of objects")
            && err.contains("stays walled"),
        "{err}"
    );
    assert!(
        prompt().is_some() && !page_text().contains(SECRET),
        "fails closed"
    );
    fixture("cfg");
    // onError: closed walls the page when the config is bad, and says so.
    let err = refused(
        "[{\"selector\":\"#fixture\",\"onError\":\"closed\",\"limit\":\"x\",\
         \"locale\":\"fr\",\"subscribeUrl\":\"/abonnement\",\"loginUrl\":\"javascript:x\"}]",
    );
    assert!(err.contains("stays walled"), "{err}");
    assert!(
        prompt().is_some() && !page_text().contains(SECRET),
        "fails closed"
    );
    // The subscribe wall, whose links work without a meter (a registration form would go
    // nowhere), with what of the config can be read: its language and its valid links.
    let root = prompt().unwrap().shadow_root().unwrap();
    assert!(root.query_selector("form").unwrap().is_none());
    let href = |selector: &str| {
        root.query_selector(selector)
            .unwrap()
            .and_then(|a| a.get_attribute("href"))
    };
    assert_eq!(href("a.cta").as_deref(), Some("/abonnement"));
    assert_eq!(
        href("a.login").as_deref(),
        Some("/login"),
        "not javascript:"
    );
    // (English, and said so, in a build without the French copy.)
    assert_eq!(
        prompt().unwrap().get_attribute("lang").as_deref(),
        Some(if cfg!(feature = "lang-fr") {
            "fr"
        } else {
            "en"
        })
    );
    // It does not say the reader has read their free articles: nothing was counted.
    assert_eq!(
        root.query_selector(".lead")
            .unwrap()
            .and_then(|p| p.text_content())
            .as_deref(),
        Some(if cfg!(feature = "lang-fr") {
            "Cet article est réservé aux abonnés. Abonnez-vous pour un accès illimité."
        } else {
            "This article is for subscribers. Subscribe for unlimited access."
        })
    );
    // A time zone the browser does not know is a failure like any other.
    meterwall::mount(config(",\"limit\":50")).unwrap();
    let err = meterwall::mount(config(
        ",\"onError\":\"closed\",\"timeZone\":\"Europe/Pari\"",
    ))
    .unwrap_err()
    .as_string()
    .unwrap();
    assert!(err.contains("does not know the zone"), "{err}");
    assert!(prompt().is_some(), "walled, as onError says");
    // Not a subscriber's page, nor a free one.
    for exempt in ["\"subscriber\":true", "\"pageType\":\"free\""] {
        let zone = format!(",\"onError\":\"closed\",\"timeZone\":\"Europe/Pari\",{exempt}");
        assert!(meterwall::mount(config(&zone)).is_err());
        assert!(
            prompt().is_none() && page_text().contains(SECRET),
            "{exempt}"
        );
    }
    // Limits that add up to too much: the rest of the config still gives the wall its words.
    let err = refused(
        "[{\"selector\":\"#fixture\",\"onError\":\"closed\",\"locale\":\"fr\",\
         \"registered\":{\"limit\":100},\"sections\":{\"a\":50}}]",
    );
    assert!(err.contains("add up to at most 149"), "{err}");
    assert_eq!(
        prompt().unwrap().get_attribute("lang").as_deref(),
        Some(if cfg!(feature = "lang-fr") {
            "fr"
        } else {
            "en"
        })
    );
    // The config fixed, the next mount puts the article back first: one decision, no
    // leftover wall.
    meterwall::mount(config(",\"limit\":50")).unwrap();
    assert!(prompt().is_none() && page_text().contains(SECRET));
    let blocks = doc()
        .get_element_by_id("fixture")
        .unwrap()
        .children()
        .length();
    assert_eq!(blocks, 5, "the article exactly as it was");
    clean();
}

/// Object-valued keys given as JSON text, all a data attribute can hold, are read as the objects
/// they hold, and merge key by key with the same key's object in an earlier layer (the JSON
/// block's). Until this test only `publicKey` was read so: `data-sections='{"opinion": 2}'` made
/// the whole config invalid with "expected an object, found" what looked like one.
#[wasm_bindgen_test]
fn object_keys_given_as_json_text_are_read_as_the_objects_they_hold() {
    clean();
    // Read as an object, the limits add up to too much; read as text, it would be refused as
    // not an object.
    let err =
        refused("[{\"selector\":\"#fixture\",\"limit\":100,\"sections\":\"{\\\"a\\\":50}\"}]");
    assert!(err.contains("add up to at most 149"), "{err}");
    // Only a layer's own keys: a section that happens to be named `copy` keeps its text, which
    // is no limit ("1e1" would have been read as 10).
    let err = refused("[{\"selector\":\"#fixture\",\"sections\":{\"copy\":\"1e1\"}}]");
    assert!(err.contains("sections"), "{err}");
    clean();
    fixture("jt");
    let layers = JSON::parse(
        "[{\"selector\":\"#fixture\",\"limit\":0,\"copy\":{\"registerHeading\":\"Read on, free\"}},\
          {\"copy\":\"{\\\"registerLead\\\":\\\"One address, three articles.\\\"}\"}]",
    )
    .unwrap();
    let d = meterwall::mount(layers).unwrap();
    let text = prompt()
        .and_then(|p| p.shadow_root())
        .and_then(|r| r.text_content())
        .unwrap_or_default();
    clean();
    assert_eq!(wall_of(&d).as_deref(), Some("register"));
    assert!(
        text.contains("Read on, free") && text.contains("One address, three articles."),
        "both layers' texts: {text}"
    );
}

/// The error `mount` gives for config `layers` (JSON).
fn refused(layers: &str) -> String {
    meterwall::mount(JSON::parse(layers).unwrap())
        .unwrap_err()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
fn preview_parameters_show_any_state_and_save_nothing() {
    clean();
    let preview = ",\"preview\":true,\"limit\":3";
    set_search("?meterwall=wall");
    fixture("pv1");
    let d = meterwall::mount(config(preview)).unwrap();
    assert_eq!(
        (
            wall_of(&d).as_deref(),
            field(&d, "reason").as_string().as_deref()
        ),
        (Some("register"), Some("preview"))
    );
    assert!(
        storage().get_item(STORAGE_KEY).unwrap().is_none(),
        "nothing saved"
    );
    set_search("?meterwall=simulate&views=3&now=2026-03-31");
    fixture("pv2");
    let d = meterwall::mount(config(preview)).unwrap();
    assert_eq!(
        wall_of(&d).as_deref(),
        Some("register"),
        "a reader with three read that day"
    );
    assert!(storage().get_item(STORAGE_KEY).unwrap().is_none());
    set_search("?meterwall=simulate&views=1");
    fixture("pv3");
    assert_eq!(wall_of(&meterwall::mount(config(preview)).unwrap()), None);
    // Without `preview: true` the parameters do nothing.
    set_search("?meterwall=wall");
    fixture("pv4");
    assert_eq!(
        wall_of(&meterwall::mount(config(",\"limit\":3")).unwrap()),
        None
    );
    assert!(
        storage().get_item(STORAGE_KEY).unwrap().is_some(),
        "a real view"
    );
    set_search("?meterwall=reset");
    fixture("pv5");
    meterwall::mount(config(preview)).unwrap();
    let record = stored();
    assert_eq!(record.entries.len(), 1, "forgotten, then this view");
    set_search("?meterwall=off");
    fixture("pv6");
    let d = meterwall::mount(config(",\"preview\":true,\"limit\":0")).unwrap();
    assert_eq!(wall_of(&d), None);
    set_search("");
    clean();
}

/// The console warnings written while `f` runs.
fn warnings_of(f: impl FnOnce()) -> Vec<String> {
    collect_warnings();
    f();
    collected_warnings()
}

/// An editor's preview link that the page does not honour says why, as a warning (not an error
/// event: a reader may type one); a page without the parameter warns of nothing. Before this test
/// both links were ignored silently.
#[wasm_bindgen_test]
fn a_preview_link_the_page_does_not_honour_says_why() {
    clean();
    let mut seen = Vec::new();
    for (n, (search, extra)) in [
        ("?meterwall=wall", ",\"limit\":3"),
        ("?meterwall=wal", ",\"preview\":true,\"limit\":3"),
        ("?other=1", ",\"preview\":true,\"limit\":3"),
    ]
    .into_iter()
    .enumerate()
    {
        set_search(search);
        fixture(&format!("pw{n}"));
        let mut d = JsValue::NULL;
        let warned = warnings_of(|| d = meterwall::mount(config(extra)).unwrap());
        assert_eq!(
            wall_of(&d),
            None,
            "{search}: metered as usual, under the limit"
        );
        seen.push(warned.join(" | "));
    }
    set_search("");
    clean();
    assert!(
        seen[0].contains("?meterwall= is ignored: previews need preview: true"),
        "{seen:?}"
    );
    assert!(
        seen[1].contains("?meterwall=wal names no preview: debug, wall, off, reset or simulate"),
        "{seen:?}"
    );
    assert!(seen[2].is_empty(), "{seen:?}");
}

fn overlay_text() -> String {
    doc()
        .query_selector("[data-meterwall-debug]")
        .unwrap()
        .and_then(|h| h.shadow_root())
        .and_then(|r| r.text_content())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn debug_overlay_explains_the_decision_and_checks_the_structured_data() {
    clean();
    set_search("?meterwall=debug");
    fixture("dbg");
    meterwall::mount(config(",\"preview\":true,\"limit\":0")).unwrap();
    let text = overlay_text();
    assert!(text.contains("reason: allowance spent"), "{text}");
    assert!(
        text.contains("no structured data marks this page as paywalled"),
        "{text}"
    );
    let add = |selector: &str| {
        js(&format!(
            "var s = document.createElement('script'); s.type = 'application/ld+json'; s.className = 'mw-test-ld';
             s.textContent = JSON.stringify({{'@context': 'https://schema.org', '@type': 'NewsArticle', isAccessibleForFree: false,
               hasPart: {{'@type': 'WebPageElement', isAccessibleForFree: false, cssSelector: {selector:?}}}}});
             document.head.appendChild(s);"
        ));
    };
    add("#fixture");
    fixture("dbg");
    meterwall::mount(config(",\"preview\":true,\"limit\":0")).unwrap();
    assert!(
        overlay_text().contains("\"#fixture\" is not a class selector"),
        "{}",
        overlay_text()
    );
    js("document.querySelectorAll('.mw-test-ld').forEach(function (s) { s.remove(); });");
    add(".elsewhere");
    fixture("dbg");
    meterwall::mount(config(",\"preview\":true,\"limit\":0")).unwrap();
    assert!(overlay_text().contains("does not match the element meterwall gates"));
    js("document.querySelectorAll('.mw-test-ld').forEach(function (s) { s.remove(); });");
    add(".gated");
    let body = fixture("dbg");
    body.set_class_name("gated");
    meterwall::mount(config(",\"preview\":true,\"limit\":0")).unwrap();
    let text = overlay_text();
    // The overlay is there (an absent one would have no warning either), and says nothing of
    // the markup.
    assert!(text.contains("reason: allowance spent"), "{text}");
    assert!(!text.contains("structured data"), "markup matches: {text}");
    js("document.querySelectorAll('.mw-test-ld, [data-meterwall-debug]').forEach(function (s) { s.remove(); });");
    set_search("");
    clean();
}

/// An article selector that several elements match: the editor's overlay says so, and that the
/// first is gated; with one element it says nothing of it.
#[wasm_bindgen_test]
fn the_debug_overlay_says_when_the_selector_matches_several_elements() {
    clean();
    set_search("?meterwall=debug");
    let body = fixture("many");
    body.set_class_name("many-test");
    let other = doc().create_element("div").unwrap();
    other.set_class_name("many-test");
    doc().body().unwrap().append_child(&other).unwrap();
    let layers = ",\"preview\":true,\"limit\":0,\"selector\":\".many-test\"";
    meterwall::mount(config(layers)).unwrap();
    let text = overlay_text();
    assert!(
        text.contains(
            "the article selector matches more than one element and meterwall gates the first"
        ),
        "{text}"
    );
    other.remove();
    let body = fixture("many");
    body.set_class_name("many-test");
    meterwall::mount(config(layers)).unwrap();
    let text = overlay_text();
    assert!(
        text.contains("reason:") && !text.contains("more than one element"),
        "{text}"
    );
    remove_overlays();
    set_search("");
    clean();
}

#[wasm_bindgen_test]
async fn a_wall_on_the_first_of_several_matches_is_warned_of_in_the_console() {
    let several = "the article selector matches more than one element";
    // The console's warnings while a page is walled with `others` more elements matching, with
    // the page's search `search`; then lifted and walled again (`setSubscriber(true)`, `false`).
    async fn walled_with(others: usize, search: &str) -> Vec<String> {
        clean();
        set_search(search);
        let body = fixture("several");
        body.set_class_name("several-test");
        let extra: Vec<_> = (0..others)
            .map(|_| {
                let other = doc().create_element("div").unwrap();
                other.set_class_name("several-test");
                doc().body().unwrap().append_child(&other).unwrap();
                other
            })
            .collect();
        collect_warnings();
        expect_paint();
        meterwall::mount(config(
            ",\"limit\":0,\"preview\":true,\"selector\":\".several-test\"",
        ))
        .unwrap();
        assert!(prompt().is_some(), "walled");
        painted().await;
        expect_paint();
        meterwall::set_subscriber(true.into());
        assert!(prompt().is_none(), "lifted");
        meterwall::set_subscriber(false.into());
        assert!(prompt().is_some(), "walled again");
        painted().await;
        let warned = collected_warnings();
        remove_overlays();
        set_search("");
        for other in extra {
            other.remove();
        }
        clean();
        warned
    }
    let warned = walled_with(1, "").await;
    assert_eq!(
        warned.iter().filter(|w| w.contains(several)).count(),
        1,
        "once a page view, after the wall's first paint: {warned:?}"
    );
    let warned = walled_with(0, "").await;
    assert!(!warned.iter().any(|w| w.contains(several)), "{warned:?}");
    // Where the editor's overlay shows, it has told the console (as information): no warning.
    let warned = walled_with(1, "?meterwall=debug").await;
    assert!(!warned.iter().any(|w| w.contains(several)), "{warned:?}");
}

#[wasm_bindgen_test]
fn a_bad_article_attribute_is_named_as_the_attribute() {
    clean();
    let body = fixture("attr1");
    body.set_attribute("data-meterwall-type", "paywalled")
        .unwrap();
    let err = meterwall::mount(config(""))
        .unwrap_err()
        .as_string()
        .unwrap();
    assert!(
        err.contains(
            "pageType: expected \"metered\", \"free\" or \"premium\", found \"paywalled\" \
             (the article element's data-meterwall-type)"
        ),
        "{err}"
    );
    // The same value from the page's config is the config's.
    fixture("attr2");
    let err = meterwall::mount(config(",\"pageType\":\"paywalled\""))
        .unwrap_err()
        .as_string()
        .unwrap();
    assert!(!err.contains("data-meterwall-type"), "{err}");
    clean();
}

#[wasm_bindgen_test]
fn state_and_set_subscriber() {
    clean();
    mount("st1");
    mount("st2");
    let state = meterwall::state();
    assert_eq!(field(&state, "version").as_f64(), Some(1.0));
    assert_eq!(field(&state, "articles").as_f64(), Some(2.0));
    assert_eq!(
        field(&state, "period").as_string().as_deref(),
        Some("month")
    );
    assert!(field(&state, "registeredAt").is_null());
    fixture("st3");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    assert!(prompt().is_some());
    // Not a boolean (a session's field misnamed, its text): said, and nothing changes, where
    // it would have read as false.
    for wrong in [JsValue::UNDEFINED, "true".into(), JsValue::from_f64(1.0)] {
        watch_error();
        assert!(meterwall::set_subscriber(wrong).is_null());
        assert!(last_error().contains("setSubscriber: expected true or false"));
        assert!(prompt().is_some());
    }
    let d = meterwall::set_subscriber(true.into());
    assert_eq!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    // And a subscriber stays one.
    watch_error();
    assert!(meterwall::set_subscriber(JsValue::UNDEFINED).is_null());
    assert!(last_error().contains("setSubscriber"));
    assert!(prompt().is_none());
    let d = meterwall::set_subscriber(true.into());
    assert_eq!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    assert!(prompt().is_none() && page_text().contains(SECRET));
    clean();
}

/// A fresh P-256 key pair and a token signed with it, `exp` seconds from now (negative: past).
async fn key_and_token(exp: i64) -> (JsValue, String) {
    key_and_token_from(exp, None).await
}

/// A key and a token valid from `nbf` seconds from now (if given) for `exp` seconds.
async fn key_and_token_from(exp: i64, nbf: Option<i64>) -> (JsValue, String) {
    let nbf = nbf.map_or(String::new(), |n| {
        format!(", nbf: Math.floor(Date.now() / 1000) + ({n})")
    });
    let source = format!(
        "return (async function () {{
           var pair = await crypto.subtle.generateKey({{name: 'ECDSA', namedCurve: 'P-256'}}, true, ['sign', 'verify']);
           var jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
           function b64(bytes) {{ var s = ''; new Uint8Array(bytes).forEach(function (b) {{ s += String.fromCharCode(b); }});
             return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''); }}
           function part(o) {{ return b64(new TextEncoder().encode(JSON.stringify(o))); }}
           var input = part({{alg: 'ES256', typ: 'JWT'}}) + '.' + part({{sub: 'reader-1', exp: Math.floor(Date.now() / 1000) + ({exp}){nbf}}});
           var sig = await crypto.subtle.sign({{name: 'ECDSA', hash: 'SHA-256'}}, pair.privateKey, new TextEncoder().encode(input));
           return {{jwk: {{kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y}}, token: input + '.' + b64(sig)}};
         }})();"
    );
    let result = JsFuture::from(js(&source).unchecked_into::<Promise>())
        .await
        .unwrap();
    (
        field(&result, "jwk"),
        field(&result, "token").as_string().unwrap(),
    )
}

fn token_config(jwk: &JsValue, token: Option<&str>) -> JsValue {
    let cfg = config(",\"limit\":0");
    Reflect::set(&cfg, &"publicKey".into(), jwk).unwrap();
    if let Some(t) = token {
        Reflect::set(&cfg, &"token".into(), &t.into()).unwrap();
    }
    cfg
}

async fn settled() -> String {
    for _ in 0..200 {
        if let Some(state) = doc()
            .get_element_by_id("fixture")
            .and_then(|b| b.get_attribute("data-meterwall-state"))
        {
            return state;
        }
        sleep(10).await;
    }
    panic!("the page was never decided");
}

#[wasm_bindgen_test]
async fn a_valid_token_makes_a_subscriber_on_this_and_later_pages() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("tk1");
    let d = meterwall::mount(token_config(&jwk, Some(&token))).unwrap();
    // Decided once the token is verified: the answer is a promise of the decision.
    let d = JsFuture::from(d.dyn_into::<Promise>().expect("a promise"))
        .await
        .unwrap();
    assert_eq!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    assert_eq!(settled().await, "open");
    assert_eq!(
        field(&meterwall::why(), "tier").as_string().as_deref(),
        Some("subscriber")
    );
    let record = stored();
    assert_eq!(
        record.token.as_deref(),
        Some(token.as_str()),
        "kept for later pages"
    );
    // A later, cached page knows only the public key: the kept token still proves it.
    fixture("tk2");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "open");
    // Editing storage cannot fake it: a token signed by another key is refused.
    let (_, forged) = key_and_token(3600).await;
    keep_token(forged);
    fixture("tk3");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "locked");
    clean();
}

/// A record of a newer meterwall without a token: its version, its layout's start, and what this
/// version cannot read.
const NEWER: &str = "3m0.0.x.whatever a later layout holds";

/// During a rollout a page of this version may read a record a newer meterwall wrote. Every
/// version keeps the subscriber's token last, after a `~`: this page checks it and opens the
/// article, and leaves the record as it was. Before this test the subscriber met the wall there.
#[wasm_bindgen_test]
async fn a_subscriber_s_token_in_a_newer_version_s_record_still_opens_the_article() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    let newer = format!("{NEWER}~{token}");
    storage().set_item(STORAGE_KEY, &newer).unwrap();
    fixture("tn1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    let opened = settled().await;
    let tier = field(&meterwall::why(), "tier").as_string();
    let left = storage().get_item(STORAGE_KEY).unwrap();
    // A logout there takes the token off that record, and only the token: the next page of this
    // version meters the reader. Before, the token stayed and the next page opened again.
    JsFuture::from(meterwall::set_token(JsValue::NULL))
        .await
        .unwrap();
    let logged_out = storage().get_item(STORAGE_KEY).unwrap();
    fixture("tn1b");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    let after_logout = settled().await;
    // Without a token there, the reader is metered (limit 0: the wall), and nothing is saved.
    let plain = NEWER;
    clean();
    storage().set_item(STORAGE_KEY, plain).unwrap();
    fixture("tn2");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    let walled = settled().await;
    let left_plain = storage().get_item(STORAGE_KEY).unwrap();
    // A token this version refuses for good (expired here; a newer version may take what this
    // one calls malformed) is not taken off that record: only a logout does.
    clean();
    let (_, expired) = key_and_token(-3600).await;
    let newer_expired = format!("{NEWER}~{expired}");
    storage().set_item(STORAGE_KEY, &newer_expired).unwrap();
    fixture("tn3");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    let refused = settled().await;
    sleep(50).await;
    let left_expired = storage().get_item(STORAGE_KEY).unwrap();
    clean();
    assert_eq!(refused, "locked");
    assert_eq!(
        left_expired.as_deref(),
        Some(newer_expired.as_str()),
        "a refused token left in the newer record"
    );
    assert_eq!(
        (opened.as_str(), tier.as_deref()),
        ("open", Some("subscriber"))
    );
    assert_eq!(left.as_deref(), Some(newer.as_str()), "left as it was");
    assert_eq!(logged_out.as_deref(), Some(NEWER), "the token taken off");
    assert_eq!(after_logout, "locked");
    assert_eq!(walled, "locked");
    assert_eq!(left_plain.as_deref(), Some(plain));
}

/// A logout on a page of this version over a newer version's record, heard by a `view` listener
/// that mounts the next page at once (a single-page app): that page finds the token already
/// taken off and meters the reader. Before this test the token came off only after the
/// listeners had run.
#[wasm_bindgen_test]
async fn a_page_mounted_as_a_logout_is_heard_finds_the_newer_record_s_token_gone() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    let newer = format!("{NEWER}~{token}");
    storage().set_item(STORAGE_KEY, &newer).unwrap();
    fixture("tl1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "open");
    let next = std::rc::Rc::new(std::cell::RefCell::new(None));
    let jwk_next = jwk.clone();
    let slot = next.clone();
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
        if slot.borrow().is_none() {
            fixture("tl2");
            *slot.borrow_mut() = Some(meterwall::mount(token_config(&jwk_next, None)));
        }
    });
    doc()
        .add_event_listener_with_callback("meterwall:view", listener.as_ref().unchecked_ref())
        .unwrap();
    let _ = JsFuture::from(meterwall::set_token(JsValue::NULL)).await;
    doc()
        .remove_event_listener_with_callback("meterwall:view", listener.as_ref().unchecked_ref())
        .unwrap();
    let mounted = next.borrow().is_some();
    let state = settled().await;
    clean();
    assert!(mounted, "the listener mounted the next page");
    assert_eq!(
        state, "locked",
        "the next page meters the logged-out reader"
    );
}

#[wasm_bindgen_test]
async fn expired_wrong_key_and_tampered_tokens_leave_the_wall() {
    clean();
    watch_error();
    let (jwk, expired) = key_and_token(-3600).await;
    fixture("tx1");
    meterwall::mount(token_config(&jwk, Some(&expired))).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("expired"), "{}", last_error());
    let (other_jwk, _) = key_and_token(3600).await;
    let (_, valid) = key_and_token(3600).await;
    fixture("tx2");
    meterwall::mount(token_config(&other_jwk, Some(&valid))).unwrap();
    assert_eq!(settled().await, "locked");
    let (jwk, token) = key_and_token(3600).await;
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}x.{}",
        parts[0],
        &parts[1][..parts[1].len() - 1],
        parts[2]
    );
    fixture("tx3");
    meterwall::mount(token_config(&jwk, Some(&tampered))).unwrap();
    assert_eq!(settled().await, "locked");
    clean();
}

#[wasm_bindgen_test]
async fn a_kept_token_that_fails_its_check_is_forgotten() {
    clean();
    watch_error();
    let (jwk, expired) = key_and_token(-3600).await;
    fixture("tf1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    // An earlier page kept the token; it has expired since.
    keep_token(expired);
    fixture("tf2");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("expired"), "{}", last_error());
    let kept = stored();
    assert!(
        kept.token.is_none(),
        "the expired token is gone from storage"
    );
    // A page whose key cannot be used (a publisher's mistake) cannot judge the token: it stays.
    let (_, valid) = key_and_token(3600).await;
    keep_token(valid.clone());
    let bad_key = JSON::parse(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#).unwrap();
    fixture("tf3");
    meterwall::mount(token_config(&bad_key, None)).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("public key"), "{}", last_error());
    assert_eq!(stored().token.as_deref(), Some(valid.as_str()), "kept");
    clean();
}

#[wasm_bindgen_test]
async fn a_refused_page_token_falls_back_to_the_kept_one() {
    clean();
    watch_error();
    let (jwk, valid) = key_and_token(3600).await;
    let (_, forged) = key_and_token(3600).await;
    fixture("tb1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    // An earlier login kept a valid token; this page passes a stale one of its own.
    keep_token(valid.clone());
    fixture("tb2");
    meterwall::mount(token_config(&jwk, Some(&forged))).unwrap();
    assert_eq!(settled().await, "open", "the kept token still proves it");
    assert!(
        last_error().contains("signature"),
        "the page's token is reported: {}",
        last_error()
    );
    assert_eq!(
        stored().token.as_deref(),
        Some(valid.as_str()),
        "kept as it was"
    );
    // Both refused: the wall stands. The kept one, signed with a key this page does not carry,
    // stays for a page that does (the publisher's next key, on a page cached before it came).
    let (new_jwk, signed_with_new) = key_and_token(3600).await;
    keep_token(signed_with_new.clone());
    fixture("tb3");
    meterwall::mount(token_config(&jwk, Some(&forged))).unwrap();
    assert_eq!(settled().await, "locked");
    assert_eq!(
        stored().token.as_deref(),
        Some(signed_with_new.as_str()),
        "a token of another key is kept"
    );
    fixture("tb4");
    meterwall::mount(token_config(&new_jwk, None)).unwrap();
    assert_eq!(
        settled().await,
        "open",
        "a page with the new key recognises it"
    );
    // A lapsed subscriber's token of a key the publisher has since retired: whatever key signed
    // it, it has expired, so it is forgotten rather than checked on every page.
    let (_, retired) = key_and_token(-3600).await;
    keep_token(retired);
    fixture("tb5");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("expired"), "{}", last_error());
    assert!(stored().token.is_none(), "forgotten");
    clean();
}

/// A key that cannot be used beside one that can: the token is what failed, as with the usable key
/// alone. Until this test, none matching was the key's fault (`BadKey`) whenever one key could not
/// be used, so the kept token was not tried after a refused page token, and a kept token of a
/// retired key that had expired was reported on every page instead of forgotten.
#[wasm_bindgen_test]
async fn a_key_that_cannot_be_used_beside_one_that_can_does_not_stop_the_kept_token() {
    clean();
    watch_error();
    let (jwk, valid) = key_and_token(3600).await;
    let (_, forged) = key_and_token(3600).await;
    // A point off the curve: only WebCrypto's import finds it.
    let typo = JSON::parse(
        r#"{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
    )
    .unwrap();
    let keys: JsValue = js_sys::Array::of2(&typo, &jwk).into();
    fixture("ku1");
    meterwall::mount(token_config(&keys, None)).unwrap();
    keep_token(valid.clone());
    fixture("ku2");
    meterwall::mount(token_config(&keys, Some(&forged))).unwrap();
    assert_eq!(settled().await, "open", "the kept token still proves it");
    assert!(
        last_error().contains("signature"),
        "the page's token is reported as not matching: {}",
        last_error()
    );
    assert_eq!(stored().token.as_deref(), Some(valid.as_str()), "kept");
    let (_, retired) = key_and_token(-3600).await;
    keep_token(retired);
    fixture("ku3");
    meterwall::mount(token_config(&keys, None)).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("expired"), "{}", last_error());
    assert!(stored().token.is_none(), "forgotten");
    clean();
}

#[wasm_bindgen_test]
async fn while_the_key_changes_pages_carry_both_and_either_signs() {
    clean();
    watch_error();
    let (old_jwk, old_token) = key_and_token(3600).await;
    let (new_jwk, new_token) = key_and_token(3600).await;
    let (_, other_token) = key_and_token(3600).await;
    let both = js_sys::Array::of2(&old_jwk, &new_jwk);
    let set = js_sys::Object::new();
    Reflect::set(&set, &"keys".into(), &both).unwrap();
    let text = JSON::stringify(&both).unwrap();
    // A list, a JWK Set, the list as JSON text (a data attribute): a token of either key holds.
    for (n, keys) in [JsValue::from(both.clone()), set.into(), text.into()]
        .iter()
        .enumerate()
    {
        for token in [&old_token, &new_token] {
            fixture(&format!("kr{n}"));
            let d = meterwall::mount(token_config(keys, Some(token))).unwrap();
            JsFuture::from(d.dyn_into::<Promise>().unwrap())
                .await
                .unwrap();
            assert_eq!(settled().await, "open", "keys {n}");
            clean();
        }
    }
    // A key that cannot be used (a typo in the new one: the wrong shape, or a point off the
    // curve, which only WebCrypto's import finds) does not stop the next from being tried.
    let broken = [
        r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#,
        r#"{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
    ];
    for (n, typo) in broken.iter().enumerate() {
        let keys = js_sys::Array::of2(&JSON::parse(typo).unwrap(), &old_jwk);
        fixture(&format!("kt{n}"));
        let d = meterwall::mount(token_config(&keys, Some(&old_token))).unwrap();
        JsFuture::from(d.dyn_into::<Promise>().unwrap())
            .await
            .unwrap();
        assert_eq!(settled().await, "open", "typo {n}");
        clean();
        // Alone, it is the page's fault: reported as such.
        watch_error();
        fixture(&format!("ku{n}"));
        let alone = js_sys::Array::of1(&JSON::parse(typo).unwrap());
        meterwall::mount(token_config(&alone, Some(&old_token))).unwrap();
        assert_eq!(settled().await, "locked");
        assert!(last_error().contains("public key"), "{}", last_error());
        clean();
    }
    // Neither key: refused, as with one key.
    fixture("kr3");
    meterwall::mount(token_config(&both, Some(&other_token))).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("signature"), "{}", last_error());
    // Five keys are more than a page may carry: the publisher is told as the config is read,
    // also when they come as JSON text (a data attribute) or as a JWK Set, which until this case
    // went unchecked until a token was.
    let five = js_sys::Array::new();
    for _ in 0..5 {
        five.push(&new_jwk);
    }
    let set = js_sys::Object::new();
    Reflect::set(&set, &"keys".into(), &five).unwrap();
    for keys in [JSON::stringify(&five).unwrap().into(), set.into()] {
        fixture("kr4");
        let err = meterwall::mount(token_config(&keys, Some(&new_token)))
            .unwrap_err()
            .as_string()
            .unwrap();
        assert!(err.contains("publicKey") && err.contains("1 to 4"), "{err}");
    }
    // Text that is not JSON, as a hand-written attribute may be.
    fixture("kr5");
    let err = meterwall::mount(token_config(&"{kty:'EC'}".into(), Some(&new_token)))
        .unwrap_err()
        .as_string()
        .unwrap();
    assert!(err.contains("as JSON text"), "{err}");
    clean();
}

#[wasm_bindgen_test]
async fn a_kept_token_not_valid_yet_is_kept_for_when_it_is() {
    clean();
    watch_error();
    let (jwk, _) = key_and_token(3600).await;
    fixture("nv1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    let (jwk, early) = key_and_token_from(3600, Some(900)).await;
    keep_token(early.clone());
    fixture("nv2");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("not valid yet"), "{}", last_error());
    assert_eq!(stored().token.as_deref(), Some(early.as_str()), "kept");
    clean();
}

#[wasm_bindgen_test]
async fn a_token_this_page_refused_is_checked_again_when_another_tab_accepts_it() {
    clean();
    watch_error();
    let (jwk, _) = key_and_token(3600).await;
    fixture("ra1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    // Valid from 5 to 6 seconds from now (the 5 minutes' leeway taken off its nbf): time for
    // a slow machine's first check to come before it.
    let (jwk, soon) = key_and_token_from(3600, Some(306)).await;
    keep_token(soon);
    fixture("ra2");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("not valid yet"), "{}", last_error());
    // Another tab, once the token holds, accepts it and saves: this page checks it again. Told
    // each half second until it opens (at most 15 s), not once after a guessed wait.
    for _ in 0..30 {
        js("window.dispatchEvent(new StorageEvent('storage', {key: 'meterwall:v1'}));");
        sleep(500).await;
        let state = doc()
            .get_element_by_id("fixture")
            .and_then(|b| b.get_attribute("data-meterwall-state"));
        if state.as_deref() == Some("open") {
            break;
        }
    }
    wait_for_state("open").await;
    clean();
}

#[wasm_bindgen_test]
async fn a_registration_in_another_tab_lifts_the_wall_where_the_key_cannot_be_used() {
    clean();
    watch_error();
    let (_, token) = key_and_token(3600).await;
    // A private key pasted by mistake: refused before any import, without waiting for WebCrypto.
    let private = JSON::parse(
        r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            "d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#,
    )
    .unwrap();
    fixture("pk1");
    meterwall::mount(token_config(&private, None)).unwrap();
    keep_token(token);
    fixture("pk2");
    meterwall::mount(token_config(&private, None)).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("public key"), "{}", last_error());
    // The wall has painted; another tab registers the reader (and keeps the token it holds).
    sleep(400).await;
    registered_in_another_tab().await;
    clean();
}

/// Another tab registers the reader (keeping the rest of the record): this page, walled, hears
/// it and opens.
async fn registered_in_another_tab() {
    let mut record = stored();
    record.registered_min = Some((js_sys::Date::now() / 60_000.0) as i64);
    storage()
        .set_item(STORAGE_KEY, &meterwall::record::encode(&record))
        .unwrap();
    js("window.dispatchEvent(new StorageEvent('storage', {key: 'meterwall:v1'}));");
    wait_for_state("open").await;
}

#[wasm_bindgen_test]
async fn set_subscriber_false_holds_against_the_kept_token() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("sf1");
    let d = meterwall::mount(token_config(&jwk, Some(&token))).unwrap();
    let d = JsFuture::from(d.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert_eq!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    record_events();
    // The site's own check says the subscription has ended.
    expect_paint();
    let d = meterwall::set_subscriber(false.into());
    assert_eq!(wall_of(&d).as_deref(), Some("register"));
    // After the wall's paint the page hears other tabs and reads what they saved: the token it
    // already had is not a new subscription.
    painted().await;
    let checks = count_verifies();
    js("window.dispatchEvent(new StorageEvent('storage', {key: 'meterwall:v1'}));");
    verifies_settled(checks).await;
    assert!(prompt().is_some(), "still walled");
    assert_eq!(
        field(&meterwall::why(), "tier").as_string().as_deref(),
        Some("anonymous")
    );
    let names = event_names();
    let decided: Vec<_> = names.iter().filter(|n| *n != "seen").collect();
    assert_eq!(decided, ["before-lock", "view", "lock"], "one page view");
    // The page did hear that write: a registration saved there next lifts the wall here.
    registered_in_another_tab().await;
    clean();
}

/// Counts the token check's WebCrypto calls (the key's import, then the signature's check) and
/// their settling, from here on; answers how many calls there were so far.
fn count_verifies() -> f64 {
    js("if (!window.__verifyCounted) {
          window.__verifyCounted = true;
          window.__verifies = 0;
          window.__verified = 0;
          ['importKey', 'verify'].forEach(function (name) {
            const call = crypto.subtle[name].bind(crypto.subtle);
            crypto.subtle[name] = function () {
              window.__verifies++;
              return call.apply(null, arguments).finally(function () { window.__verified++; });
            };
          });
        }");
    window_field("__verifies").as_f64().unwrap_or(0.0)
}

/// Waits until every WebCrypto call of a token check begun has settled and the widget's answer
/// to it has run (each step of a check begins in the microtasks after the one before it settles,
/// so a check is over once a task finds none unsettled); answers how many calls were begun since
/// `before` ([`count_verifies`]).
async fn verifies_settled(before: f64) -> f64 {
    for _ in 0..500 {
        let (begun, settled) = (
            window_field("__verifies").as_f64().unwrap_or(0.0),
            window_field("__verified").as_f64().unwrap_or(0.0),
        );
        if begun == settled {
            sleep(20).await;
            return begun - before;
        }
        sleep(10).await;
    }
    panic!("a signature check never settled");
}

#[wasm_bindgen_test]
async fn calls_made_while_a_kept_token_is_checked_wait_for_the_decision() {
    clean();
    let (jwk, expired) = key_and_token(-3600).await;
    fixture("tw1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    keep_token(expired);
    fixture("tw2");
    let pending = meterwall::mount(token_config(&jwk, None)).unwrap();
    assert!(meterwall::why().is_null(), "nothing is decided yet");
    // The publisher's own login says this reader subscribes, before the decision: not lost.
    assert!(meterwall::set_subscriber(true.into()).is_null());
    let d = JsFuture::from(pending.dyn_into::<Promise>().expect("a promise"))
        .await
        .unwrap();
    assert_eq!(
        wall_of(&d).as_deref(),
        Some("register"),
        "the mount's own decision"
    );
    assert_eq!(
        field(&meterwall::why(), "tier").as_string().as_deref(),
        Some("subscriber"),
        "then the call made meanwhile"
    );
    assert!(prompt().is_none() && page_text().contains(SECRET));
    clean();
}

#[wasm_bindgen_test]
async fn a_second_mount_while_a_token_is_checked_replaces_the_first() {
    clean();
    let (jwk, expired) = key_and_token(-3600).await;
    fixture("tr1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    keep_token(expired);
    fixture("tr2");
    let first = meterwall::mount(token_config(&jwk, None)).unwrap();
    let second = meterwall::mount(token_config(&jwk, None)).unwrap();
    let first = JsFuture::from(first.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert!(first.is_null(), "replaced before it decided");
    let second = JsFuture::from(second.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert_eq!(wall_of(&second).as_deref(), Some("register"));
    let prompts = doc()
        .query_selector_all("#fixture [data-meterwall-prompt]")
        .unwrap()
        .length();
    assert_eq!(prompts, 1, "one wall, not one per mount");
    // Opened, the page has all of its text back.
    meterwall::set_subscriber(true.into());
    assert!(prompt().is_none() && page_text().contains(SECRET));
    clean();
}

/// A `meterwall:<name>` listener on the document, until it is dropped.
struct Listener {
    name: String,
    closure: Closure<dyn FnMut()>,
}

impl Listener {
    fn on(name: &str, f: impl FnMut() + 'static) -> Self {
        let closure = Closure::<dyn FnMut()>::new(f);
        let name = format!("meterwall:{name}");
        doc()
            .add_event_listener_with_callback(&name, closure.as_ref().unchecked_ref())
            .unwrap();
        Listener { name, closure }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = doc()
            .remove_event_listener_with_callback(&self.name, self.closure.as_ref().unchecked_ref());
    }
}

/// An `error` listener that runs while the page is read (here, a token without a public key)
/// cannot mount a page over the one being decided. Until this test it could: the outer mount then
/// kept its own state over the nested page's, whose removed blocks were never put back.
#[wasm_bindgen_test]
fn mount_from_an_error_listener_while_the_page_is_read_is_refused() {
    clean();
    let nested = std::rc::Rc::new(std::cell::Cell::new(None));
    let seen = nested.clone();
    let listener = Listener::on("error", move || {
        if seen.get().is_none() {
            seen.set(Some(meterwall::mount(config(",\"limit\":0")).is_err()));
        }
    });
    fixture("ne1");
    let outer = meterwall::mount(config(",\"limit\":0,\"token\":\"x\""));
    drop(listener);
    assert!(outer.is_ok());
    assert_eq!(nested.get(), Some(true), "the nested mount is refused");
    assert_eq!(
        doc()
            .query_selector_all("[data-meterwall-prompt]")
            .unwrap()
            .length(),
        1,
        "one wall"
    );
    meterwall::set_subscriber(true.into());
    assert!(
        prompt().is_none() && page_text().contains(SECRET),
        "whole once opened"
    );
    clean();
}

/// A `view` listener mounts the next page, which waits for its token's check: calls made
/// meanwhile wait for that page's decision. Until this test the first mount, ending after its
/// listener, ran the held calls then (none), and a call made during the check was dropped.
#[wasm_bindgen_test]
async fn calls_made_while_a_page_mounted_from_a_view_listener_waits_wait_for_it() {
    clean();
    let (jwk, valid) = key_and_token(3600).await;
    // What the listener's mount answered: the first `view` only (the nested page fires its own).
    let nested = std::rc::Rc::new(std::cell::RefCell::new(None));
    let answered = nested.clone();
    let listener = Listener::on("view", move || {
        if answered.borrow().is_none() {
            let answer = meterwall::mount(token_config(&jwk, Some(&valid)));
            *answered.borrow_mut() = Some(answer);
        }
    });
    fixture("vw1");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    drop(listener);
    let waiting = nested
        .borrow_mut()
        .take()
        .expect("the view listener ran")
        .expect("the nested mount is taken, not refused")
        .dyn_into::<Promise>()
        .expect("a promise: the nested page waits for its token's check");
    // The publisher's own login says otherwise while the token is checked.
    meterwall::set_subscriber(false.into());
    let decided = JsFuture::from(waiting)
        .await
        .expect("the nested page decides");
    // Its token verified, so without the call made meanwhile the reader would read on.
    assert_eq!(
        field(&decided, "tier").as_string().as_deref(),
        Some("subscriber")
    );
    sleep(50).await;
    assert_ne!(
        field(&meterwall::why(), "tier").as_string().as_deref(),
        Some("subscriber"),
        "the call made while the page waited ran once it had decided"
    );
    assert!(prompt().is_some() && !page_text().contains(SECRET));
    clean();
}

#[wasm_bindgen_test]
fn a_single_page_app_that_reuses_the_article_element_gets_only_its_next_article() {
    clean();
    let body = fixture("sp1");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    assert!(prompt().is_some());
    // The app renders its next article into the same element, then mounts again.
    body.set_attribute("data-meterwall-id", "sp2").unwrap();
    body.set_inner_html("<p>Next one.</p><p>Next two.</p><p>Next three.</p>");
    meterwall::mount(config(",\"pageType\":\"free\"")).unwrap();
    let text = body.text_content().unwrap_or_default();
    assert!(
        !text.contains(SECRET),
        "the previous article's removed blocks stay out: {text}"
    );
    assert_eq!(text, "Next one.Next two.Next three.");
    // An app that only takes the walled element out of the page, to show it again later, gets
    // its blocks back into it.
    let kept = fixture("sp3");
    meterwall::mount(config(",\"limit\":0")).unwrap();
    assert!(!kept.text_content().unwrap_or_default().contains(SECRET));
    fixture("sp4");
    meterwall::mount(config(",\"pageType\":\"free\"")).unwrap();
    assert!(kept.parent_node().is_none(), "detached by the next fixture");
    assert!(kept.text_content().unwrap_or_default().contains(SECRET));
    clean();
}

/// The same with the text in a wrapper, as CMS layouts put it: the prompt's parent is then the
/// old page's wrapper, which the app's new markup has detached but which is still the prompt's
/// parent. What the wall took after the wrapper (an author's note) stays out of the next
/// article, for a metered wall and for the one a bad config closes the page with.
#[wasm_bindgen_test]
fn a_single_page_app_that_reuses_a_wrapped_article_element_gets_only_its_next_article() {
    const NOTE: &str = "About the previous author";
    for (id, extra) in [
        ("sw1", ",\"limit\":0"),
        ("sw2", ",\"onError\":\"closed\",\"limit\":\"x\""),
    ] {
        clean();
        let body = fixture(id);
        body.set_inner_html(&format!(
            "<header><h1>The headline</h1></header><div class=\"rich-text\"><p>First paragraph.</p>\
             <p>Second paragraph.</p><p>{SECRET}</p><p>Fourth.</p></div><aside>{NOTE}</aside>"
        ));
        let _ = meterwall::mount(config(extra));
        let walled = body.text_content().unwrap_or_default();
        assert!(prompt().is_some(), "{id}: walled");
        assert!(
            !walled.contains(SECRET) && !walled.contains(NOTE),
            "{id}: {walled}"
        );
        assert!(
            body.query_selector(".rich-text [data-meterwall-prompt]")
                .unwrap()
                .is_some(),
            "{id}: the prompt is in the wrapper"
        );
        // The app renders its next article into the same element, then mounts again.
        body.set_attribute("data-meterwall-id", &format!("{id}-next"))
            .unwrap();
        body.set_inner_html("<p>Next one.</p><p>Next two.</p><p>Next three.</p>");
        meterwall::mount(config(",\"pageType\":\"free\"")).unwrap();
        assert_eq!(
            body.text_content().unwrap_or_default(),
            "Next one.Next two.Next three.",
            "{id}: the previous article's removed blocks stay out"
        );
    }
    clean();
}

/// An app that keeps its views (a cache of rendered pages, as some frameworks keep them) takes
/// the walled article's view out of the article element, to show it again later, and puts the
/// next article's view in: the kept view gets its blocks back, the next article none of them.
#[wasm_bindgen_test]
fn a_view_the_app_keeps_to_show_again_gets_its_blocks_back() {
    clean();
    let body = fixture("kv1");
    body.set_inner_html(&format!(
        "<div class=\"view\"><p>First paragraph.</p><p>Second paragraph.</p><p>{SECRET}</p>\
         <p>Fourth.</p></div>"
    ));
    meterwall::mount(config(",\"limit\":0")).unwrap();
    let view = body.query_selector(".view").unwrap().unwrap();
    assert!(
        view.query_selector("[data-meterwall-prompt]")
            .unwrap()
            .is_some(),
        "the prompt is in the view"
    );
    assert!(!view.text_content().unwrap_or_default().contains(SECRET));
    view.remove();
    body.set_attribute("data-meterwall-id", "kv2").unwrap();
    body.set_inner_html("<div class=\"view\"><p>Next one.</p><p>Next two.</p></div>");
    meterwall::mount(config(",\"pageType\":\"free\"")).unwrap();
    assert_eq!(
        body.text_content().unwrap_or_default(),
        "Next one.Next two."
    );
    let kept = view.text_content().unwrap_or_default();
    assert!(kept.contains(SECRET) && kept.contains("Fourth."), "{kept}");
    assert!(view
        .query_selector("[data-meterwall-prompt]")
        .unwrap()
        .is_none());
    clean();
}

#[wasm_bindgen_test]
fn reset_forgets_the_meter_in_this_page_too() {
    clean();
    mount("rs1");
    mount("rs2");
    meterwall::reset();
    assert_eq!(field(&meterwall::state(), "articles").as_f64(), Some(0.0));
    // The next save (deciding this page again) does not bring the old meter back.
    meterwall::set_subscriber(false.into());
    let record = stored();
    assert_eq!(record.entries.len(), 1, "only this page, counted again");
    clean();
}

#[wasm_bindgen_test]
fn a_reset_in_another_tab_is_not_undone_by_this_one() {
    clean();
    mount("ro1");
    mount("ro2");
    assert_eq!(stored().entries.len(), 2);
    // Another tab resets the meter (`reset()` or `?meterwall=reset` there): storage has none.
    storage().remove_item(STORAGE_KEY).unwrap();
    // This page saves again (its reader's next step): the reset stands.
    meterwall::set_subscriber(false.into());
    assert_eq!(stored().entries.len(), 1, "only this page, counted again");
    clean();
}

#[wasm_bindgen_test]
async fn a_token_set_after_a_reset_elsewhere_is_kept() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("rt");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    storage().remove_item(STORAGE_KEY).unwrap();
    JsFuture::from(meterwall::set_token(token.clone().into()))
        .await
        .unwrap();
    assert_eq!(stored().token.as_deref(), Some(token.as_str()));
    clean();
}

/// The record in storage, as the next page would read it.
fn stored() -> meterwall::meter::Record {
    decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()).unwrap()
}

/// What an earlier page or another tab left behind: `token` kept in the stored record.
fn keep_token(token: String) {
    let mut record = stored();
    record.token = Some(token);
    storage()
        .set_item(STORAGE_KEY, &meterwall::record::encode(&record))
        .unwrap();
}

fn watch_error() {
    js("window.__lastError = '';
        if (!window.__watchingError) { window.__watchingError = true;
          document.addEventListener('meterwall:error', function (e) { window.__lastError = e.detail.message; }); }");
}

fn last_error() -> String {
    window_field("__lastError").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn set_token_lifts_the_wall_and_null_forgets_it() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("st1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert!(prompt().is_some());
    let d = JsFuture::from(meterwall::set_token(token.clone().into()))
        .await
        .unwrap();
    assert_eq!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    assert!(prompt().is_none() && page_text().contains(SECRET));
    JsFuture::from(meterwall::set_token(JsValue::NULL))
        .await
        .unwrap();
    let record = stored();
    assert!(record.token.is_none());
    let refused = JsFuture::from(meterwall::set_token("not.a.token".into())).await;
    assert!(refused.is_err());
    clean();
}

/// A logout page: the site's tag, but no article element, so no page is mounted. Until this test,
/// `setToken(null)` there resolved to `null` and left the token in storage, so the next article
/// still recognised a subscriber.
#[wasm_bindgen_test]
async fn set_token_null_logs_out_on_a_page_without_an_article() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("lo1");
    let d = meterwall::mount(token_config(&jwk, Some(&token))).unwrap();
    JsFuture::from(d.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert_eq!(settled().await, "open");
    assert_eq!(stored().token.as_deref(), Some(token.as_str()));
    // Over the limit (0) once the token lapses: walled from then.
    assert!(
        hint().is_some_and(|h| !h.starts_with('-') && h != "wall"),
        "{:?}",
        hint()
    );
    doc().get_element_by_id("fixture").unwrap().remove();
    assert!(
        meterwall::mount(token_config(&jwk, None)).is_err(),
        "no article"
    );
    let d = JsFuture::from(meterwall::set_token(JsValue::NULL))
        .await
        .unwrap();
    assert!(d.is_null(), "no page decided again");
    assert!(stored().token.is_none(), "forgotten");
    assert_eq!(hint().as_deref(), Some("wall"), "walled from now");
    // A login there cannot be kept: the refusal says where the token goes instead.
    let refused = JsFuture::from(meterwall::set_token(token.as_str().into()))
        .await
        .unwrap_err()
        .as_string()
        .unwrap_or_default();
    assert!(
        refused.contains("no article page is mounted")
            && refused.contains("give the token to article pages"),
        "{refused}"
    );
    fixture("lo2");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert_eq!(settled().await, "locked", "the next article is metered");
    clean();
}

/// The anti-flicker hint as stored: `None` when there is none.
fn hint() -> Option<String> {
    storage().get_item(meterwall::record::HINT_KEY).unwrap()
}

#[wasm_bindgen_test]
async fn a_token_subscriber_over_the_limit_is_hinted_walled_once_the_token_lapses() {
    clean();
    // Whole seconds: the token's exp is the second of now plus an hour.
    let before = (js_sys::Date::now() / 1000.0).floor() * 1000.0;
    let (jwk, token) = key_and_token(3600).await;
    let after = (js_sys::Date::now() / 1000.0).floor() * 1000.0;
    fixture("th1");
    let d = meterwall::mount(token_config(&jwk, Some(&token))).unwrap();
    JsFuture::from(d.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert_eq!(settled().await, "open");
    // Open for now, walled (limit 0) from exp plus the 5 minutes' leeway, when a page refuses it.
    let lapses = |what: &str| {
        let at: f64 = hint()
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| panic!("{what}: the hint is {:?}, not a time", hint()));
        assert!(
            (before + 3_900_000.0..=after + 3_900_000.0).contains(&at),
            "{what}: the hint says {at}, not exp + 300 s (from {before} to {after})"
        );
    };
    lapses("a page token");
    // A later page reading the kept token leaves the same.
    fixture("th2");
    let d = meterwall::mount(token_config(&jwk, None)).unwrap();
    JsFuture::from(d.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    lapses("the kept token");
    // Logged out: walled from the next page on, whatever the time.
    JsFuture::from(meterwall::set_token(JsValue::NULL))
        .await
        .unwrap();
    assert_eq!(hint().as_deref(), Some("wall"));
    // setToken leaves the time again.
    JsFuture::from(meterwall::set_token(token.clone().into()))
        .await
        .unwrap();
    lapses("setToken");
    // A subscriber by the publisher's word is not a token's: no hint, nothing to hide.
    meterwall::set_subscriber(true.into());
    assert_eq!(hint(), None);
    clean();
}

#[wasm_bindgen_test]
async fn a_logout_in_another_tab_is_not_undone_by_this_one() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("lo1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    keep_token(token.clone());
    // This page reads the kept token: a subscriber here.
    fixture("lo2");
    let d = meterwall::mount(token_config(&jwk, None)).unwrap();
    let d = JsFuture::from(d.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert_eq!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    // Another tab logs out (`setToken(null)` there): the shared record has no token.
    let mut record = stored();
    record.token = None;
    storage()
        .set_item(STORAGE_KEY, &meterwall::record::encode(&record))
        .unwrap();
    // This page saves again (its reader's next step); the token it read stays gone.
    meterwall::set_subscriber(false.into());
    let record = stored();
    assert!(record.token.is_none(), "the logout stands");
    // A token set on this page since stands too, whatever the other tab last saved.
    JsFuture::from(meterwall::set_token(token.clone().into()))
        .await
        .unwrap();
    meterwall::set_subscriber(false.into());
    let record = stored();
    assert_eq!(record.token.as_deref(), Some(token.as_str()));
    clean();
}

#[wasm_bindgen_test]
async fn a_token_checked_while_the_next_page_decides_is_kept_by_that_page() {
    clean();
    let (jwk, valid) = key_and_token(3600).await;
    let (_, forged) = key_and_token(3600).await;
    fixture("tn1");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    // The login's token is being checked when the app mounts its next article, which has a
    // token of its own to check (a stale one, refused).
    let set = meterwall::set_token(valid.clone().into());
    fixture("tn2");
    let next = meterwall::mount(token_config(&jwk, Some(&forged))).unwrap();
    let next = JsFuture::from(next.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert_eq!(
        wall_of(&next).as_deref(),
        Some("register"),
        "its own decision"
    );
    let d = JsFuture::from(set).await.expect("setToken resolves");
    assert!(!d.is_null(), "to the next page's decision, not null");
    assert_eq!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    assert!(prompt().is_none() && page_text().contains(SECRET));
    assert_eq!(stored().token.as_deref(), Some(valid.as_str()), "kept");
    clean();
}

#[wasm_bindgen_test]
async fn the_last_set_token_call_wins_even_while_an_earlier_token_is_checked() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("lw");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    // A login syncs its session, then logs out at once: the logout comes while the token's
    // signature is still being checked.
    let set = meterwall::set_token(token.clone().into());
    let logout = meterwall::set_token(JsValue::NULL);
    let d = JsFuture::from(set)
        .await
        .expect("the earlier call resolves");
    assert_ne!(field(&d, "tier").as_string().as_deref(), Some("subscriber"));
    JsFuture::from(logout).await.unwrap();
    assert!(prompt().is_some(), "still walled");
    assert!(stored().token.is_none(), "the logout stands");
    // A misnamed field (`undefined`) is refused, not taken for a logout.
    JsFuture::from(meterwall::set_token(token.clone().into()))
        .await
        .unwrap();
    watch_error();
    let refused = JsFuture::from(meterwall::set_token(JsValue::UNDEFINED)).await;
    assert!(refused.is_err());
    assert!(
        last_error().contains("must be a string"),
        "{}",
        last_error()
    );
    assert_eq!(
        stored().token.as_deref(),
        Some(token.as_str()),
        "still kept"
    );
    assert!(prompt().is_none());
    clean();
}

#[wasm_bindgen_test]
async fn a_config_token_without_a_public_key_is_reported() {
    clean();
    let (_, token) = key_and_token(3600).await;
    watch_error();
    fixture("nk");
    let cfg = config(",\"limit\":0");
    Reflect::set(&cfg, &"token".into(), &token.into()).unwrap();
    meterwall::mount(cfg).unwrap();
    assert_eq!(settled().await, "locked");
    assert!(last_error().contains("no publicKey"), "{}", last_error());
    clean();
}

#[wasm_bindgen_test]
async fn a_token_set_while_storage_is_full_is_saved_once_it_can_be() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("sf");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    js("window.__setItem = Storage.prototype.setItem;
        Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };");
    let kept = JsFuture::from(meterwall::set_token(token.clone().into())).await;
    js("Storage.prototype.setItem = window.__setItem;");
    assert_eq!(
        field(&kept.unwrap(), "tier").as_string().as_deref(),
        Some("subscriber")
    );
    // Storage takes writes again: the page's next save keeps the token it could not save before,
    // rather than taking storage's word (no token) for it.
    meterwall::set_subscriber(false.into());
    let record = stored();
    assert_eq!(record.token.as_deref(), Some(token.as_str()));
    clean();
}

/// Another tab keeps a token, and this page says otherwise while it checks that token (WebCrypto
/// answers in a later task): a logout (`setToken(null)`) or `setSubscriber(false)`. The last word
/// holds. Until this test the check, once it ended, lifted the wall all the same.
#[wasm_bindgen_test]
async fn a_word_said_here_while_another_tab_s_token_is_checked_holds() {
    for (n, said) in ["a logout", "setSubscriber(false)"].iter().enumerate() {
        clean();
        let (jwk, token) = key_and_token(3600).await;
        fixture(&format!("xw{n}"));
        expect_paint();
        meterwall::mount(token_config(&jwk, None)).unwrap();
        assert!(prompt().is_some());
        // The wall has painted: the page hears other tabs.
        painted().await;
        let checks = count_verifies();
        keep_token(token);
        js("window.dispatchEvent(new StorageEvent('storage', {key: 'meterwall:v1'}));");
        // In the same task as the event: the check has begun, and has not ended.
        if n == 0 {
            let _ = meterwall::set_token(JsValue::NULL);
        } else {
            meterwall::set_subscriber(false.into());
        }
        // The other tab's token was checked, and the check's answer has come.
        assert!(verifies_settled(checks).await >= 1.0, "{said}: checked");
        let state = doc()
            .get_element_by_id("fixture")
            .and_then(|b| b.get_attribute("data-meterwall-state"));
        assert_eq!(state.as_deref(), Some("locked"), "{said}: the wall stands");
        assert!(
            prompt().is_some() && !page_text().contains(SECRET),
            "{said}"
        );
    }
    clean();
}

#[wasm_bindgen_test]
async fn a_subscription_in_another_tab_lifts_the_wall_here() {
    clean();
    let (jwk, token) = key_and_token(3600).await;
    fixture("xt");
    meterwall::mount(token_config(&jwk, None)).unwrap();
    assert!(prompt().is_some());
    // The wall has painted: the page hears other tabs.
    sleep(300).await;
    // The other tab verified a token and kept it in the shared record.
    keep_token(token);
    record_events();
    // Two writes there, heard before the first check here has ended: one page view.
    js(
        "window.dispatchEvent(new StorageEvent('storage', {key: 'meterwall:v1'}));
        window.dispatchEvent(new StorageEvent('storage', {key: 'meterwall:v1'}));",
    );
    wait_for_state("open").await;
    assert_eq!(
        field(&meterwall::why(), "tier").as_string().as_deref(),
        Some("subscriber")
    );
    sleep(200).await;
    // `seen` (the prompt in view) may come at any paint before the wall lifted: not a decision.
    let names = event_names();
    let decided: Vec<_> = names.iter().filter(|n| *n != "seen").collect();
    assert_eq!(decided, ["view"]);
    clean();
}
