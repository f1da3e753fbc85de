//! Config as the page gives it: JS values into config trees and back, the layers the page and
//! the article element contribute, and the messages for a config that cannot be used.

use super::*;

/// A JS value as a config tree. Walked by hand rather than through serde-wasm-bindgen's
/// deserializer, whose error paths link float formatting into every reader's download;
/// `Value` still implements `Deserialize` for the host and the fuzzer.
pub(super) fn to_value(v: &JsValue, depth: u8) -> Value {
    if depth > 8 || v.is_null() || v.is_undefined() {
        Value::Null
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        Value::Num(n)
    } else if let Some(s) = v.as_string() {
        Value::Str(s)
    } else if js_sys::Array::is_array(v) {
        // Loops that push rather than `collect`s over js-sys's array iterator (same reads, in the
        // same order): 0.7 KB less wasm.
        let list: &js_sys::Array = v.unchecked_ref();
        let mut items = Vec::new();
        for i in 0..list.length() {
            items.push(to_value(&list.get(i), depth + 1));
        }
        Value::List(items)
    } else if v.is_object() {
        // `typeof` "object" and not null, so never a function (whose `typeof` is "function"):
        // not asked whether it is one, which linked a check of its own (23 bytes of wasm, gzip).
        let pairs = js_sys::Object::entries(v.unchecked_ref());
        let mut entries = Vec::new();
        for i in 0..pairs.length() {
            let pair: js_sys::Array = pairs.get(i).unchecked_into();
            if let Some(key) = pair.get(0).as_string() {
                entries.push((key, to_value(&pair.get(1), depth + 1)));
            }
        }
        Value::Map(entries)
    } else {
        // Functions, symbols, bigints: nothing a config key takes.
        Value::Str(String::from("(unsupported value)"))
    }
}

/// A list of config layers (or one) merged in order, later ones winning. A layer that is itself a
/// list (`mount([a, b])`, a JSON block written as a list) is its layers in turn, not one value
/// that the next layer would replace whole. With whether every layer was an object: the others
/// are merged all the same, so that an invalid config's failure policy can still be read.
pub(super) fn config_layers(input: &JsValue) -> (Value, bool) {
    /// Whether every layer was an object (or nothing): the message is made once, below, not in
    /// each level of the recursion.
    fn merge(acc: &mut Value, layer: &mut Value) -> bool {
        match layer {
            Value::Null => true,
            Value::Map(entries) => {
                // A layer's object-valued key given as JSON text (a data attribute: text is all
                // it can hold) read as what the text holds, before the layer is merged, so that
                // it merges key by key as one given so; text that is not JSON is left for the
                // config to refuse. (A layer's own keys only: a section named `copy` is not.)
                for (key, value) in entries.iter_mut() {
                    if let (Value::Str(text), "publicKey" | "sections" | "copy" | "registered") =
                        (&*value, key.as_str())
                    {
                        if let Ok(parsed) = js_sys::JSON::parse(text) {
                            *value = to_value(&parsed, 1);
                        }
                    }
                }
                acc.merge(layer);
                true
            }
            // Every layer merged, not only those before a bad one (which `all` would stop at).
            Value::List(layers) => {
                let mut objects = true;
                for l in layers.iter_mut() {
                    objects &= merge(acc, l);
                }
                objects
            }
            // A number or text where a layer should be: from the JSON block as well as a call.
            _ => false,
        }
    }
    let mut acc = Value::Map(Vec::new());
    let objects = merge(&mut acc, &mut to_value(input, 0));
    (acc, objects)
}

/// The article element's own attributes, which win over the script's config; empty ones are
/// left out.
pub(super) fn element_layer(body: &Element) -> Value {
    let mut entries = Vec::new();
    let mut items = crate::list_items(ELEMENT_KEYS);
    while let (Some(attr), Some(key)) = (items.next(), items.next()) {
        // An empty attribute (a template with nothing to fill in) is not given.
        if let Some(v) = body.get_attribute(attr).filter(|v| !crate::blank(v)) {
            entries.push((key.into(), Value::Str(v)));
        }
    }
    Value::Map(entries)
}

pub(super) fn canonical(doc: &Document) -> Option<String> {
    let link = doc.query_selector("link[rel=canonical]").ok()??;
    link.dyn_into::<web_sys::HtmlLinkElement>()
        .ok()
        .map(|l| l.href())
}

/// A config value back as a JS value (the public key goes to WebCrypto as an object).
pub(super) fn value_to_js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Num(n) => JsValue::from_f64(*n),
        // A JWK given as JSON text (a data attribute) is parsed; any other string stays one.
        Value::Str(s) => js_sys::JSON::parse(s).unwrap_or_else(|_| JsValue::from_str(s)),
        Value::List(items) => items
            .iter()
            .map(value_to_js)
            .collect::<js_sys::Array>()
            .into(),
        Value::Map(entries) => {
            let o = js_sys::Object::new();
            for (k, v) in entries {
                let _ = reflect::set(&o, k.as_str(), &value_to_js(v));
            }
            o.into()
        }
    }
}

pub(super) fn config_policy(merged: &Value) -> FailPolicy {
    // The config is invalid, so read only its failure policy, as leniently as possible. Through
    // `get`, not a walk of its own: a merged config holds each key once.
    match merged.get("onError") {
        Some(Value::Str(s)) if s == "closed" => FailPolicy::Closed,
        _ => FailPolicy::Open,
    }
}

/// The article element's attributes, each followed by the config key it gives: a `texts!` list
/// read in pairs rather than an array of pairs of `&str`s, whose pointers and lengths compress
/// poorly.
const ELEMENT_KEYS: &str = texts![
    "data-meterwall-id",
    "articleId",
    "data-meterwall-type",
    "pageType",
    "data-meterwall-section",
    "section",
];

/// The article element's attribute that gives config key `key`, if one does.
pub(super) fn attribute_of(key: &str) -> Option<&'static str> {
    let mut items = crate::list_items(ELEMENT_KEYS);
    while let (Some(attr), Some(k)) = (items.next(), items.next()) {
        if k == key {
            return Some(attr);
        }
    }
    None
}

/// The selector a config gives, read leniently (the default's when it gives none that is text):
/// for finding the article before, or without, the config as a whole is read.
pub(super) fn selector_of(config: &Value) -> &str {
    match config.get("selector") {
        Some(Value::Str(s)) => s,
        _ => crate::config::DEFAULT_SELECTOR,
    }
}

/// What is wrong with the config (`None`: a layer that is not an object), and what the page does
/// about it. `element`: the faulty value is the article element's attribute, named as the
/// attribute the publisher wrote, not only as the config key it gives.
pub(super) fn config_message(
    e: Option<&crate::config::ConfigError>,
    policy: FailPolicy,
    element: bool,
) -> String {
    let Some(e) = e else {
        let mut m = String::from("config must be an object or a list of objects: check the JSON block, the [\"config\", …] calls and mount(config)");
        m.push_str(policy_text(policy));
        return m;
    };
    let mut m = String::from("invalid config: ");
    e.push_to(&mut m);
    if let (true, Some(attr)) = (element, attribute_of(&e.path)) {
        m.push_str(" (the article element's ");
        m.push_str(attr);
        m.push(')');
    }
    m.push_str(policy_text(policy));
    m
}

fn policy_text(policy: FailPolicy) -> &'static str {
    match policy {
        FailPolicy::Open => ". The article stays readable until it is fixed.",
        FailPolicy::Closed => ". The article stays walled (onError: \"closed\") until it is fixed.",
    }
}

pub(super) fn missing_body(selector: &str) -> String {
    let mut m = String::from("no element matches the article selector \"");
    m.push_str(selector);
    m.push_str("\": set selector (data-selector on the script tag, or in the config) to the element holding the article text, or leave meterwall off pages without an article");
    m
}

pub(super) fn bad_selector(selector: &str) -> String {
    let mut m = String::from("selector \"");
    m.push_str(selector);
    m.push_str("\" is not a valid CSS selector: check its syntax (data-selector on the script tag, or selector in the config)");
    m
}
