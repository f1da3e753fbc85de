//! The prompt's actions: submitting the email (with timeouts, retries and nothing lost), and
//! unlocking an article.
//!
//! A submission is kept in sessionStorage (never localStorage: it holds an email) from the
//! moment it is made until the server accepts it, under one idempotency key, so a retry, a
//! reload or a lost connection sends the same submission again and never a second one. Where
//! sessionStorage cannot keep it (site data blocked, storage full), this page keeps it in memory:
//! a reload loses it, but the `online` event still sends it.

use super::events::{listener, Listener};
use super::promise::{after, settled};
use super::{gate, report, with_mounted};
use crate::copy::Text;
use crate::email;
use crate::meter::Wall;
use crate::retry::{
    classify, delay_ms, refusal, Outcome, Pending, Refusal, TOLD_REFUSAL, TOLD_SERVER,
};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, Element, RequestInit, Response};

/// The sessionStorage key of a submission not yet accepted.
pub const PENDING_KEY: &str = "meterwall:pending";

/// Wires the prompt's form or button; the closures, pushed onto `out` (the prompt's list, not
/// a list of their own that it is extended with), live as long as the prompt.
pub fn listen(host: &Element, wall: Wall, out: &mut Vec<Listener>) {
    // The target by its selector, found by `gate::find_in` once below rather than in each arm
    // (65 bytes of wasm, gzip).
    let (target, event, handler): (&str, &str, Listener) = match wall {
        Wall::Register => (
            "form",
            "submit",
            listener(|e| {
                e.prevent_default();
                submit();
            }),
        ),
        Wall::Unlock => (
            "button.unlock",
            "click",
            listener(|_| {
                with_mounted(|m| m.unlock());
            }),
        ),
        Wall::Subscribe => return,
    };
    if let Some(t) = gate::find_in(host, target) {
        let _ = t.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    }
    out.push(handler);
    if wall == Wall::Register {
        // Back online: a submission that could not go out goes out now, once; focus may follow
        // its answer only if the reader submitted it on this page (not before a reload).
        let online = listener(|_| {
            resume(shown(SUBMITTED_IN.with(|g| g.get())));
        });
        super::listen_window("online", &online);
        out.push(online);
    }
}

/// Removes the window listeners `listen` added; the prompt's own go with the prompt.
pub fn unlisten(listeners: &[Listener]) {
    if let Some(online) = listeners.get(1) {
        super::unlisten_window("online", online);
    }
}

thread_local! {
    /// One submission in flight at a time: double clicks and Enter do not send twice.
    static SENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The page view (its generation) the reader last submitted on.
    static SUBMITTED_IN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The pending submission (its stored form; empty: none) when sessionStorage could not keep
    /// it: the reader was promised it goes out once back online.
    static UNSTORED: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// Clears the in-flight flag when a new page view replaces the prompt.
pub fn forget() {
    SENDING.with(|s| s.set(false));
}

fn session() -> Option<web_sys::Storage> {
    // The same probe as localStorage: the getter itself throws when site data is blocked. What
    // it returns is the storage (not gloo's `raw()`, which reads the getter a second time; 30
    // bytes of wasm, gzip).
    web_sys::window()?.session_storage().ok().flatten()
}

fn load_pending() -> Option<Pending> {
    // What memory holds is newer than anything in storage: it is kept only when storage
    // refused the latest submission. (`Cell`, not `RefCell`: a borrow that can fail links a
    // panic.)
    let kept = UNSTORED.take();
    let text = if kept.is_empty() {
        session()?.get_item(PENDING_KEY).ok()??
    } else {
        UNSTORED.set(kept.clone());
        kept
    };
    let pending = Pending::decode(&text);
    // What is not a submission is dropped; a newer meterwall's is left for it, address and all.
    if pending.is_none() && !Pending::newer(&text) {
        clear_pending();
    }
    pending
}

fn save_pending(p: &Pending) {
    let text = p.encode();
    let session = session();
    let stored = session
        .as_ref()
        .is_some_and(|s| s.set_item(PENDING_KEY, &text).is_ok());
    if !stored {
        // An earlier submission left there would come back after a reload, and go out, in place
        // of the one the reader made since.
        if let Some(s) = session {
            let _ = s.remove_item(PENDING_KEY);
        }
    }
    UNSTORED.set(if stored { String::new() } else { text });
}

/// Forgets submission `key` once it is settled, unless the reader has made another since.
fn settled_pending(key: &str) {
    if pending(key) {
        clear_pending();
    }
}

/// Whether submission `key` is the one pending: one function for the two places that ask, each
/// not dropping a submission of its own (24 bytes of wasm, gzip).
fn pending(key: &str) -> bool {
    load_pending().is_some_and(|p| p.key == key)
}

/// Forgets the submission everywhere it was kept.
pub fn clear_pending() {
    if let Some(s) = session() {
        let _ = s.remove_item(PENDING_KEY);
    }
    UNSTORED.take();
}

/// A reload while a submission was pending: the reader finds their address in the field, and
/// the submission goes out again (same key) if the browser is online. Called once the prompt
/// has painted: if the reader has typed another address by then, theirs stands and the old
/// submission is dropped, so nothing is sent that the field does not show. One kept without the
/// reader's time (by an older version) waits for the reader to submit it: sent now, it would
/// carry this prompt's few milliseconds, which the service refuses as a bot's.
// Not inlined into `painted`'s callback, the largest closure (see `events::seen`).
#[inline(never)]
pub(super) fn restore_pending(host: &Element) {
    let Some(p) = load_pending() else { return };
    if let Some(input) = gate::input(host, "mw-email") {
        let typed = input.value();
        if !typed.is_empty() && crate::trim(&typed) != p.email {
            return clear_pending();
        }
        input.set_value(&p.email);
        if let Some(check) = gate::input(host, "mw-newsletter") {
            check.set_checked(p.newsletter);
        }
    }
    if p.elapsed_ms.is_none() {
        return;
    }
    if !online() {
        // It goes out when the connection is back (`listen`); the reader is told why it waits.
        // Said from the copy while it is borrowed, as `settle` does, not copied out first (47
        // bytes of wasm, gzip).
        with_mounted(|m| gate::say(host, m.config.copy.text(Text::Offline), false));
    }
    // Sent again without the reader acting on this page: focus stays where it is.
    resume(false);
}

/// Whether the page view `generation` is the one mounted now (not one a single-page app has left).
fn shown(generation: u32) -> bool {
    with_mounted(|m| m.generation) == Some(generation)
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Sends the pending submission, if any, if online, and if it has the reader's time (else the
/// reader's submit sends it, timed on this page).
/// `by_reader`: the reader's own action on this page led here (its focus may follow the answer).
fn resume(by_reader: bool) {
    if SENDING.with(|s| s.get()) || !online() {
        return;
    }
    if let Some(p) = load_pending().filter(|p| p.elapsed_ms.is_some()) {
        send(p, by_reader);
    }
}

fn submit() {
    if SENDING.with(|s| s.get()) {
        return;
    }
    let Some(pending) = with_mounted(|m| {
        // Borrowed, not cloned: nothing here outlives the use of the state.
        let host = m.host.as_ref()?;
        // The field found once, for its text, its corrected text and its validity.
        let input = gate::input(host, "mw-email")?;
        let typed = input.value();
        let ascii = ascii_domain(&typed);
        // Our rule (the WHATWG one, with length caps) says what is wrong; the browser's own
        // constraint validation must agree too.
        let checked = email::validate(&ascii).and_then(|a| {
            // The browser strips only ASCII spaces from the field: a no-break space that came
            // with a paste is taken off first, so that its check sees what ours did. A domain
            // put in ASCII shows so too, as Chromium shows it, and is what a reload restores.
            if a != typed {
                input.set_value(a);
            }
            if input.check_validity() {
                Ok(a)
            } else {
                Err(email::EmailError::Invalid)
            }
        });
        let address = match checked {
            Ok(address) => address.to_string(),
            Err(e) => {
                gate::say(host, m.config.copy.email_error(e), true);
                return None;
            }
        };
        let newsletter = gate::newsletter(host);
        SUBMITTED_IN.with(|g| g.set(m.generation));
        // The same submission keeps its key and its time; a changed address or choice is a new
        // one.
        // (`as` saturates: a clock set back, or NaN, is 0.)
        let elapsed = (js_sys::Date::now() - m.shown_at) as u32;
        let (key, elapsed_ms, told) = load_pending()
            .filter(|p| p.email == address && p.newsletter == newsletter)
            .map_or_else(
                || (idempotency_key(), Some(elapsed), 0),
                // The longer of the kept time and this one: a submission a service refused as
                // too quick is not sent too quick again for ever.
                |p| {
                    (
                        p.key,
                        Some(p.elapsed_ms.map_or(elapsed, |e| e.max(elapsed))),
                        p.told,
                    )
                },
            );
        Some(Pending {
            email: address,
            newsletter,
            key,
            elapsed_ms,
            // This page's article, where the reader acts now.
            article: Some(m.key.0),
            told,
        })
    })
    .flatten() else {
        return;
    };
    save_pending(&pending);
    send(pending, true);
}

/// What one submission needs from the mounted page.
struct Attempt {
    host: Element,
    /// Whether the reader submitted on this page (else a reload's or another page's resend).
    by_reader: bool,
    /// The submission's idempotency key.
    key: String,
    /// The article the reader submitted on (for a submission kept by an earlier version, the page
    /// it is resent from).
    article: crate::article::ArticleKey,
    endpoint: String,
    /// The JSON text, kept as the JS string `JSON.stringify` made: never copied into the wasm's
    /// memory and back for each attempt.
    body: js_sys::JsString,
    generation: u32,
    timeout_ms: u32,
    max_attempts: u8,
    retry_delay_ms: u32,
    /// The try under way, from 1. (It and its timer are kept here rather than handed from
    /// callback to callback beside the attempt: 62 bytes of wasm, gzip.)
    n: u32,
    /// The try's timeout, cleared once its answer is read.
    timer: Option<i32>,
    /// The try's answer, read by `heard`, taken by `answered`: its status and `Retry-After`
    /// (kept here rather than beside the attempt in the body's callback: one thing to drop
    /// there).
    status: Option<u16>,
    retry_after: Option<String>,
    /// The prompt's language when the try went out, for the server's sentence to be in (kept
    /// here rather than beside the attempt in the fetch's callback: one thing to drop there).
    lang: String,
}

/// What sending `p` needs from the mounted page; the prompt shows it being sent.
fn prepare(p: &Pending, by_reader: bool) -> Option<Attempt> {
    with_mounted(|m| {
        let host = m.host.clone()?;
        let body = js_sys::Object::new();
        // The article the reader submitted on, if this is a resend from another page (after a
        // reload, or a single-page app's next article).
        let key = p.article.map_or(m.key, crate::article::ArticleKey);
        let mut article = String::new();
        for shift in (0..8).rev() {
            article.push(crate::config::DIGITS[((key.0 >> (shift * 4)) & 15) as usize] as char);
        }
        // The reader's own time, from the submission (a resend after a reload comes moments
        // after this prompt appeared); one without it is never resent unasked (`resume`).
        let elapsed = f64::from(p.elapsed_ms.unwrap_or(0));
        for (name, value) in [
            ("email", JsValue::from_str(&p.email)),
            ("newsletter", JsValue::from_bool(p.newsletter)),
            ("article", JsValue::from_str(&article)),
            ("locale", JsValue::from_str(m.config.copy.lang.tag())),
            ("idempotencyKey", JsValue::from_str(&p.key)),
            ("website", JsValue::from_str("")),
            ("elapsedMs", JsValue::from_f64(elapsed)),
        ] {
            let _ = super::reflect::set(&body, name, &value);
        }
        let body = js_sys::JSON::stringify(&body).ok()?;
        let copy = &m.config.copy;
        let a = Attempt {
            host,
            by_reader,
            key: p.key.clone(),
            article: key,
            endpoint: m.config.endpoint.clone(),
            body,
            generation: m.generation,
            timeout_ms: m.config.timeout_ms,
            max_attempts: m.config.max_attempts,
            retry_delay_ms: m.config.retry_delay_ms,
            n: 1,
            timer: None,
            status: None,
            retry_after: None,
            lang: String::new(),
        };
        // Said from the copy here, not kept for the attempts, which never say it again.
        SENDING.with(|s| s.set(true));
        busy(&a.host, true);
        gate::say(&a.host, copy.text(Text::Sending), false);
        Some(a)
    })
    .flatten()
}

fn send(p: Pending, by_reader: bool) {
    if let Some(a) = prepare(&p, by_reader) {
        // Boxed, not shared: each try hands it on to the next (31 bytes of wasm, gzip, against
        // an `Rc`).
        attempt(Box::new(a));
    }
}

/// Try number `a.n` of up to `max_attempts`, with backoff between them. The submission stays
/// pending unless the server accepted or refused it.
fn attempt(a: Box<Attempt>) {
    if !online() {
        // Kept (in sessionStorage, else in memory); the `online` listener sends it when the
        // connection is back.
        return settle(&a, Err((Text::Offline, None)));
    }
    post(a);
}

/// What try `a.n` came to: the status and `Retry-After` kept in the attempt (`None`: no answer),
/// whether the body is JSON, and the server's `error` sentence if it sent one. The try's timeout
/// is cleared here: it covered the body too. (A function `post` calls, not a boxed
/// callback handed to it and wrapped there to clear the timer: two closure types fewer, 0.5 KB of
/// wasm, gzip.)
fn answered(mut a: Box<Attempt>, json: bool, message: Option<String>) {
    if let (Some(t), Some(w)) = (a.timer.take(), web_sys::window()) {
        w.clear_timeout_with_handle(t);
    }
    // Taken: the next try starts with no answer.
    let (status, retry_after) = (a.status.take(), a.retry_after.take());
    // The server answered but said nothing the reader can use: ask for a reload rather
    // than blame the connection.
    let fallback = if status.is_some() {
        Text::SignupRefused
    } else {
        Text::SendFailed
    };
    let message = (fallback, message);
    // What the tries came to, settled by one call, not one in each arm (11 bytes of wasm,
    // gzip); a retry returns.
    let result = match classify(status, json, retry_after.as_deref()) {
        Outcome::Accepted => Ok(()),
        Outcome::NotTheService => {
            // Still pending: nothing is lost, and a reload sends it again once the
            // endpoint answers.
            trouble(&a, TOLD_REFUSAL, " answered with a page, not JSON (a redirect, or the site's catch-all route?), so the address was not taken: check data-endpoint or the config's endpoint");
            Err(message)
        }
        Outcome::Refused => {
            // (A refusal always has a status: no answer is retried.)
            let code = status.unwrap_or(0);
            let whose = refusal(code);
            // Told unless the submission itself is refused: a status the service's own
            // refusals do not use is the publisher's to hear of.
            if whose != Refusal::Submission {
                let mut m = String::new();
                let what = if code == 404 || code == 405 {
                    " was not found (HTTP 404 or 405): check data-endpoint or the config's endpoint"
                } else {
                    m.push_str(" refused the submission with HTTP ");
                    crate::config::push_int(&mut m, code.into(), 10);
                    m.push_str(if code == 403 {
                        ", which refuses every reader when the service does not know the page's origin (behind a proxy, the reference service needs --allow-origin)"
                    } else {
                        ", a fault of its setup, not of the address"
                    });
                    &m
                };
                trouble(&a, TOLD_REFUSAL, what);
            }
            // The endpoint or the service's setup, which refuses every reader, not the
            // submission, keeps it pending, so that a reload sends it once the service takes it,
            // and the reader's next try is the same submission, its trouble told once. Any other
            // refusal drops it: the server's own sentence, shown as text; it will not be sent
            // again.
            if whose != Refusal::Setup {
                settled_pending(&a.key);
            }
            Err(message)
        }
        Outcome::Retry { after_ms } => {
            let n = a.n;
            let wait = delay_ms(n, a.retry_delay_ms, js_sys::Math::random(), after_ms);
            match wait {
                Some(ms) if n < a.max_attempts.into() => {
                    // Said only when a try follows: a server error that ends the tries is told
                    // as the give-up below (told once, so not as both).
                    if status.is_some_and(|s| s >= 500) {
                        trouble(&a, TOLD_SERVER, " answered with a server error; retrying");
                    }
                    a.n = n + 1;
                    after(ms, Box::new(move || retry(a)));
                    return;
                }
                _ => {
                    // Still pending: a reload or the reader's next try sends it again.
                    trouble(&a, TOLD_SERVER, " was not reached or kept failing, so the signup could not be sent: the reader was asked to try again");
                    Err(message)
                }
            }
        }
    };
    settle(&a, result);
}

/// The next try, unless the submission is no longer pending: another tab registered the reader
/// while this one waited to try again (the wall lifted here too, and the submission was dropped
/// with its address), or the reader has made another since.
fn retry(a: Box<Attempt>) {
    if pending(&a.key) {
        return attempt(a);
    }
    if shown(a.generation) {
        SENDING.with(|s| s.set(false));
        busy(&a.host, false);
    }
}

/// Tells the publisher of trouble of a `kind` ([`TOLD_SERVER`], [`TOLD_REFUSAL`]) with this
/// submission, unless it has been told of that kind already: a reader who tries again, or
/// reloads, is the same reader with the same trouble, while a refusal after a server error is
/// news. What was told is kept with the pending submission. The message, "the signup endpoint
/// <its URL>" and `what` it did (the publisher's messages name the URL tried), is made here, not
/// by each caller (31 bytes of wasm, gzip).
fn trouble(a: &Attempt, kind: u8, what: &str) {
    if let Some(mut p) = load_pending().filter(|p| p.key == a.key && p.told & kind == 0) {
        let mut m = String::from("the signup endpoint ");
        m.push_str(&a.endpoint);
        m.push_str(what);
        report(&m);
        p.told |= kind;
        save_pending(&p);
    }
}

/// The submission's outcome, shown in the prompt that sent it. `Err` is the sentence for the
/// reader: the server's, else the copy's text.
fn settle(a: &Attempt, result: Result<(), (Text, Option<String>)>) {
    let ours = shown(a.generation);
    if result.is_ok() {
        // The reader is registered, whichever article the page shows by now (a single-page
        // app may have mounted another meanwhile); the reader's focus moves only on the page
        // they submitted on. With no page to record it on (a mount that failed or still
        // waits), the submission stays pending: the next prompt sends it again, and the
        // service answers its key as before.
        if with_mounted(|m| m.registered(ours && a.by_reader, a.article)).is_some() {
            settled_pending(&a.key);
        }
    }
    // What the prompt says belongs to the prompt that sent it, and to no other.
    if !ours {
        return;
    }
    SENDING.with(|s| s.set(false));
    busy(&a.host, false);
    if let Err((fallback, message)) = result {
        // The copy's text read now, not copied into the attempt when it was made: the prompt
        // is this generation's, and a generation's config (its copy too) never changes
        // (24 bytes of wasm, gzip).
        with_mounted(|m| {
            let text = message.as_deref().unwrap_or(m.config.copy.text(fallback));
            gate::say(&a.host, text, false)
        });
    }
}

/// Try `a.n`: one POST with a timeout; what it came to goes to `answered`.
fn post(mut a: Box<Attempt>) {
    let Some(window) = web_sys::window() else {
        return answered(a, false, None);
    };
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = js_sys::Object::new();
    // One JS string for both headers, not one made for each.
    let json = JsValue::from_str("application/json");
    let _ = super::reflect::set(&headers, "Content-Type", &json);
    // Form services that answer a page unless asked for JSON.
    let _ = super::reflect::set(&headers, "Accept", &json);
    init.set_headers(&headers);
    init.set_body(&a.body);
    // An attempt that takes longer than the timeout is aborted and counts as no answer.
    let abort = AbortController::new().ok();
    a.timer = abort.and_then(|c| {
        init.set_signal(Some(&c.signal()));
        after(a.timeout_ms, Box::new(move || c.abort()))
    });
    // The prompt's language, for the server's sentence to be in.
    a.lang = a.host.get_attribute("lang").unwrap_or_default();
    let fetch = window.fetch_with_str_and_init(&a.endpoint, &init);
    // The timer covers the body too: it is cleared once the answer is read.
    settled(
        &fetch,
        Box::new(
            move |answer| match answer.ok().and_then(|r| r.dyn_into().ok()) {
                Some(response) => heard(a, &response),
                None => answered(a, false, None),
            },
        ),
    );
}

/// The answer to try `a.n`, read for `answered`: its status and headers, then its body if need
/// be. (A function the fetch's callback calls, not a closure over `answered` captured by two
/// nested callbacks: 44 bytes of wasm, gzip.)
fn heard(mut a: Box<Attempt>, response: &Response) {
    a.status = Some(response.status());
    let header = |name| response.headers().get(name).ok().flatten();
    a.retry_after = header("Retry-After");
    // A sentence in another language than the prompt's (`Content-Language`, which an
    // endpoint on another origin may send unasked) gives way to the prompt's own.
    let foreign = header("Content-Language")
        .is_some_and(|l| !primary(&l).eq_ignore_ascii_case(primary(&a.lang)));
    // By bytes: a substring search would link the standard library's searcher.
    let typed = header("Content-Type").is_some_and(|t| {
        t.as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"json"))
    });
    if typed && response.ok() {
        return answered(a, true, None);
    }
    // JSON by its body, if not by its type (a handler that did not set one), and a
    // refusal's reason, in the JSON's `error`.
    let Ok(body) = response.json() else {
        return answered(a, typed, None);
    };
    settled(
        &body,
        Box::new(move |parsed| {
            let json = typed || parsed.is_ok();
            let message = parsed
                .ok()
                .and_then(|v| super::reflect::get(&v, "error").ok())
                .and_then(|v| v.as_string())
                .filter(|m| !foreign && !m.is_empty() && m.len() <= 500);
            answered(a, json, message);
        }),
    );
}

/// A language tag's primary subtag (`fr` of `fr-CA`; of a list, its first's).
fn primary(tag: &str) -> &str {
    // (Fetch strips a header value's surrounding spaces.)
    let end = tag
        .bytes()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(tag.len());
    tag.get(..end).unwrap_or("")
}

fn busy(host: &Element, on: bool) {
    // `aria-disabled`, not `disabled`: a disabled button loses focus (the reader who pressed it
    // with the keyboard would start over from the top of the page); a second press is refused by
    // the one-submission-at-a-time guard instead.
    gate::flag(
        gate::find_in(host, "button[type=submit]"),
        "aria-disabled",
        on,
    );
}

/// `typed`, trimmed, with its domain in ASCII (`name@xn--bcher-kva.de` for `name@bücher.de`), the
/// only form the rule and the service take. Chromium's `<input type=email>` converts the domain
/// itself, Firefox's leaves it as typed; the browser's URL parser converts it as it would for a
/// link to that host (UTS #46, <https://url.spec.whatwg.org/#concept-domain-to-ascii>). A domain
/// the parser refuses, or one with anything but label characters besides its non-ASCII ones (an
/// `@`, a `/` or a `:` would make it more than a host), stays as typed and fails the rule.
fn ascii_domain(typed: &str) -> String {
    let address = crate::trim(typed);
    if let Some((local, domain)) = crate::cut(address, b'@') {
        let (mut wide, mut host) = (false, true);
        for b in domain.bytes() {
            wide |= b >= 0x80;
            host &= b >= 0x80 || b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
        }
        if wide && host {
            if let Ok(url) = web_sys::Url::new(&(String::from("http://") + domain)) {
                return String::from(local) + "@" + &url.hostname();
            }
        }
    }
    address.into()
}

/// A random key that names one submission to the server, so a retry is not a new signup.
fn idempotency_key() -> String {
    let mut key = String::with_capacity(24);
    for _ in 0..24 {
        let digit = (js_sys::Math::random() * 36.0) as usize % 36;
        key.push(crate::config::DIGITS[digit] as char);
    }
    key
}
