//! The calls a publisher makes after mounting: `why`, `state`, `reset`, `setSubscriber`,
//! `setToken`.

use super::*;

/// The reader's meter as a plain object, for editors and tests: `{ version, period, articles,
/// registeredAt, latestSeen }` (times in ms), or `null` when nothing is mounted.
pub fn state() -> JsValue {
    // No check of its own for an internal error: `with_mounted` answers `None` then, and so
    // `null`, as the check did.
    // What it shows, not a copy of the whole record.
    let Some((tag, articles, registered_min, latest_min)) = with_mounted(|m| {
        let r = &m.record;
        (
            r.period_tag,
            r.entries.len(),
            r.registered_min,
            r.latest_min,
        )
    }) else {
        return JsValue::NULL;
    };
    let o = js_sys::Object::new();
    // The period's name by its tag's place among the tags, from a `texts!` list rather than a
    // match, whose table of pointers and lengths compresses poorly.
    const PERIODS: &str = texts!["month", "week", "day", "rolling", "lifetime"];
    let period = b"mwdrl"
        .iter()
        .position(|&t| t == tag)
        .map(|i| crate::list_item(PERIODS, i));
    // Every property in one loop, in the keys' order, its value one type: a number, else the
    // period's text or null. One place makes a JS value, rather than one per property.
    let number = |n: i64| Ok(n as f64);
    for (key, value) in [
        ("version", number(1)),
        ("period", Err(period)),
        ("articles", number(articles as i64)),
        (
            "registeredAt",
            registered_min.map_or(Err(None), |m| number(m * 60_000)),
        ),
        ("latestSeen", number(latest_min * 60_000)),
    ] {
        let value = match value {
            Ok(n) => JsValue::from_f64(n),
            Err(Some(text)) => text.into(),
            Err(None) => JsValue::NULL,
        };
        let _ = reflect::set(&o, key, &value);
    }
    o.into()
}

/// The publisher says whether this reader subscribes (for this page view): the wall lifts, or
/// the page is decided again. Returns the new decision; `null` while the page's decision is
/// still to come, after which the call takes effect.
pub fn set_subscriber(on: JsValue) -> JsValue {
    if check_poisoned().is_err() {
        return JsValue::NULL;
    }
    let Some(on) = on.as_bool() else {
        report("setSubscriber: expected true or false; the reader's status is unchanged");
        return JsValue::NULL;
    };
    if waiting() {
        when_decided(Box::new(move || {
            set_subscriber(on.into());
        }));
        return JsValue::NULL;
    }
    with_mounted(|m| {
        // Said by the publisher: no longer a subscription by token alone, whenever it lapses,
        // nor, when not one, by the token this page holds.
        m.token_lapses = None;
        let decision = m.resubscribe(on);
        // The token the page holds once deciding again has taken in what other tabs saved.
        m.declined = if on { None } else { m.record.token.clone() };
        decision
    })
    .unwrap_or(JsValue::NULL)
}

/// Verifies and keeps a subscriber entitlement token (or forgets it, with `null`); resolves to
/// the new decision, or rejects with what is wrong with the token. Made while the page's
/// decision is still to come, it takes effect after it.
pub fn set_token(token: JsValue) -> js_sys::Promise {
    let mut token = Some(token);
    // The executor runs once, at once: it takes the token.
    js_sys::Promise::new(&mut |resolve, reject| {
        // Refused at once after an internal error: a decision to wait for may never come.
        if let Err(e) = check_poisoned() {
            super::resolve(Some(reject), &e);
            return;
        }
        // Only `null` logs out: `undefined` is most likely a login answer's field misnamed.
        // A string taken as it is copied out, not asked about first.
        let token = match token.take() {
            Some(t) if t.is_null() => None,
            t => match t.and_then(|t| t.as_string()) {
                Some(t) => Some(t),
                None => {
                    refuse(
                        reject,
                        "setToken: the token must be a string, or null to log out",
                    );
                    return;
                }
            },
        };
        when_decided(Box::new(move || keep_token(token, resolve, reject)));
    })
}

thread_local! {
    /// How many `setToken` calls have taken effect: a token whose check ends after a later call
    /// (a logout, another token) is not kept, so the last call wins.
    static SET_TOKEN_CALLS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
}

/// How many `setToken` calls have taken effect so far: a check that began before a later one is
/// not to be kept.
pub(super) fn set_token_calls() -> u32 {
    SET_TOKEN_CALLS.with(|n| n.get())
}

/// Each outcome settles the promise through `super::resolve`, one call site for all of them
/// (25 bytes of wasm, gzip).
fn keep_token(token: Option<String>, resolve: js_sys::Function, reject: js_sys::Function) {
    if let Err(e) = check_poisoned() {
        super::resolve(Some(reject), &e);
        return;
    }
    let call = SET_TOKEN_CALLS.with(|n| {
        n.set(n.get().wrapping_add(1));
        n.get()
    });
    let Some(token) = token else {
        let d = with_mounted(|m| {
            m.forget_token();
            // A page that saves nothing over what is stored (a newer version's record, found
            // now or at the mount): the logout takes the token off that record, before this
            // page's listeners hear of the logout (one may mount the next page). Only a logout:
            // a token this version refuses may be one a newer version takes.
            if let (None, Some(s)) = (&m.storage, store::probe()) {
                store::forget_token(&s);
            }
            m.resubscribe(m.config.subscriber)
        });
        // No page to decide again: a logout still logs out, in storage.
        if let (None, Some(s)) = (&d, store::probe()) {
            store::forget_token(&s);
        }
        super::resolve(Some(resolve), &d.unwrap_or(JsValue::NULL));
        return;
    };
    let key = match with_mounted(|m| m.config.public_key.as_ref().map(value_to_js)) {
        Some(Some(key)) => key,
        Some(None) => {
            refuse(
                reject,
                "setToken: no publicKey is configured to verify the token with",
            );
            return;
        }
        None => {
            refuse(reject, NOT_MOUNTED);
            return;
        }
    };
    token::verify_now(
        token,
        &key,
        Box::new(move |token, verified| match verified {
            Err(e) => {
                refuse(reject, e.message());
            }
            // Kept by the page mounted then: a single-page app's next page may be deciding
            // meanwhile (checking a token of its own), and this one is kept once it has.
            Ok(lapses) => when_decided(Box::new(move || {
                let d = with_mounted(|m| {
                    if set_token_calls() != call {
                        // Overtaken by a later call: the page stays as that one left it.
                        return events::detail(&m.decision);
                    }
                    m.record.token = Some(token);
                    m.token_here = true;
                    m.token_lapses = Some(lapses);
                    m.persist();
                    m.resubscribe(true)
                });
                match d {
                    Some(d) => super::resolve(Some(resolve), &d),
                    None => refuse(reject, NOT_MOUNTED),
                }
            })),
        }),
    );
}

/// Rejects `setToken`'s promise with `message`, reported: one function for the five refusals
/// that say why, rather than the two calls at each.
fn refuse(reject: js_sys::Function, message: &str) {
    super::resolve(Some(reject), &fail(message));
}

const NOT_MOUNTED: &str = "setToken: no article page is mounted here (mount() failed, or this page has no article): give the token to article pages, as [\"config\", {token}] or setToken there";

/// The last decision, or `null`.
pub fn why() -> JsValue {
    // After an internal error `with_mounted` answers `None`: `null`, with no check of its own.
    events::mounted_decision(to_js)
}

/// Forgets the reader's meter, in storage and in this page's memory (which would otherwise be
/// saved back). The page stays as decided; the next one starts afresh.
pub fn reset() {
    if check_poisoned().is_err() {
        return;
    }
    when_decided(Box::new(|| {
        if let Some(s) = store::probe() {
            store::clear(&s);
        }
        with_mounted(|m| m.record = Record::default());
    }));
}
