//! The prompt's actions: submitting the email, unlocking an article.

use super::{gate, report, with_mounted};
use crate::copy::Text;
use crate::email;
use crate::meter::Wall;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, Event, HtmlElement, RequestInit, Response};

type Listener = Closure<dyn FnMut(Event)>;

/// Wires the prompt's form or button; the returned closures live as long as the prompt.
pub fn listen(host: &Element, wall: Wall) -> Vec<Listener> {
    let (target, event, handler): (Option<Element>, &str, Listener) = match wall {
        Wall::Register => (
            host.shadow_root()
                .and_then(|r| r.query_selector("form").ok().flatten()),
            "submit",
            Closure::new(|e: Event| {
                e.prevent_default();
                submit();
            }),
        ),
        Wall::Unlock => (
            host.shadow_root()
                .and_then(|r| r.query_selector("button.unlock").ok().flatten()),
            "click",
            Closure::new(|_: Event| {
                with_mounted(|m| m.unlock());
            }),
        ),
        Wall::Subscribe => return Vec::new(),
    };
    if let Some(t) = target {
        let _ = t.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    }
    vec![handler]
}

thread_local! {
    /// One submission in flight at a time: double clicks and Enter do not send twice.
    static SENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Clears the in-flight flag when a new page view replaces the prompt.
pub fn forget() {
    SENDING.with(|s| s.set(false));
}

fn submit() {
    if SENDING.with(|s| s.get()) {
        return;
    }
    let Some((host, body)) = with_mounted(|m| {
        let host = m.host.clone()?;
        let typed = gate::email_value(&host)?;
        let address = match email::validate(&typed) {
            Ok(address) => address.to_string(),
            Err(e) => {
                gate::say(&host, m.config.copy.email_error(e), true);
                return None;
            }
        };
        let body = js_sys::Object::new();
        let mut key = String::new();
        let hex = b"0123456789abcdef";
        for shift in (0..8).rev() {
            key.push(hex[((m.key.0 >> (shift * 4)) & 15) as usize] as char);
        }
        let elapsed = js_sys::Date::now() - m.shown_at;
        for (name, value) in [
            ("email", JsValue::from_str(&address)),
            ("newsletter", JsValue::from_bool(gate::newsletter(&host))),
            ("article", JsValue::from_str(&key)),
            ("locale", JsValue::from_str(m.config.copy.lang.tag())),
            ("idempotencyKey", JsValue::from_str(&idempotency_key())),
            ("website", JsValue::from_str("")),
            ("elapsedMs", JsValue::from_f64(elapsed.floor())),
        ] {
            let _ = js_sys::Reflect::set(&body, &name.into(), &value);
        }
        let endpoint = m.config.endpoint.clone();
        let generation = m.generation;
        let texts = [
            m.config.copy.text(Text::Sending).to_string(),
            m.config.copy.text(Text::SendFailed).to_string(),
        ];
        Some((host, (endpoint, body, texts, generation)))
    })
    .flatten() else {
        return;
    };
    let (endpoint, payload, [sending, failed], generation) = body;
    SENDING.with(|s| s.set(true));
    busy(&host, true);
    gate::say(&host, &sending, false);
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = post(&endpoint, &payload)
            .await
            .map_err(|e| e.unwrap_or(failed));
        // The page may have mounted another article meanwhile (a single-page app): this answer
        // belongs to the prompt that sent it, and to no other.
        if with_mounted(|m| m.generation) != Some(generation) {
            return;
        }
        SENDING.with(|s| s.set(false));
        busy(&host, false);
        match outcome {
            Ok(()) => {
                with_mounted(|m| m.registered());
            }
            Err(message) => gate::say(&host, &message, false),
        }
    });
}

fn busy(host: &Element, on: bool) {
    if let Some(button) = host
        .shadow_root()
        .and_then(|r| r.query_selector("button[type=submit]").ok().flatten())
        .and_then(|b| b.dyn_into::<HtmlElement>().ok())
    {
        let _ = if on {
            button.set_attribute("disabled", "")
        } else {
            button.remove_attribute("disabled")
        };
    }
}

/// A random key that names this one submission to the server, so a retry is not a new signup.
fn idempotency_key() -> String {
    let mut key = String::with_capacity(24);
    for _ in 0..24 {
        let digit = (js_sys::Math::random() * 36.0) as u8 % 36;
        key.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[digit as usize] as char);
    }
    key
}

/// POSTs the signup. `Err` carries the server's sentence to show the reader, if it gave one.
async fn post(endpoint: &str, payload: &js_sys::Object) -> Result<(), Option<String>> {
    let window = web_sys::window().ok_or(None)?;
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&headers, &"Content-Type".into(), &"application/json".into());
    init.set_headers(&headers);
    let text = js_sys::JSON::stringify(payload).map_err(|_| None)?;
    init.set_body(&text);
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(endpoint, &init))
        .await
        .map_err(|_| None)?
        .dyn_into()
        .map_err(|_| None)?;
    if response.ok() {
        return Ok(());
    }
    // The server's own sentence, shown as text, when it gives one.
    let message = match response.json() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| js_sys::Reflect::get(&v, &"error".into()).ok())
            .and_then(|v| v.as_string()),
        Err(_) => None,
    };
    if response.status() >= 500 {
        report("the signup endpoint answered with a server error");
    }
    Err(message)
}
