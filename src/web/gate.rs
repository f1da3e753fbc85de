//! Gating the page: removing what the reader has not earned, showing the prompt, restoring.

use crate::config::Config;
use crate::copy;
use crate::meter::{Decision, Wall};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Node, ShadowRoot, ShadowRootInit, ShadowRootMode};

/// The prompt's own styles, scoped by its shadow root: the publisher's CSS cannot reach in and
/// these rules cannot leak out.
const STYLE: &str = include_str!("prompt.css");

/// Removes every node of `body` after its first `teaser` elements, returning them in order so
/// the very same nodes (with their listeners) can be put back. Nodes are collected before any
/// is removed, so the page is never left half-gated.
pub fn remove_after_teaser(body: &Element, teaser: u8) -> Vec<Node> {
    let mut kept = 0u8;
    let mut removed = Vec::new();
    let mut next = body.first_child();
    while let Some(node) = next {
        next = node.next_sibling();
        if kept < teaser {
            if node.node_type() == Node::ELEMENT_NODE {
                kept += 1;
            }
            continue;
        }
        removed.push(node);
    }
    for node in &removed {
        // Cannot fail: each node is a child of `body`, collected just above.
        let _ = body.remove_child(node);
    }
    removed
}

/// Puts removed nodes back at the end of `body`, in their order.
pub fn restore(body: &Element, removed: &[Node]) {
    for node in removed {
        let _ = body.append_child(node);
    }
}

/// Builds the prompt for `wall` and appends it to `body`, after the teaser, so it follows the
/// teaser in reading and tab order. Returns the host element.
pub fn show_prompt(
    doc: &Document,
    body: &Element,
    wall: Wall,
    decision: &Decision,
    config: &Config,
) -> Option<Element> {
    let host = doc.create_element("div").ok()?;
    host.set_class_name("meterwall-prompt");
    host.set_attribute("data-meterwall-prompt", "").ok()?;
    host.set_attribute("data-wall", wall_name(wall)).ok()?;
    let init = ShadowRootInit::new(ShadowRootMode::Open);
    let root = host.attach_shadow(&init).ok()?;
    build(doc, &root, wall, decision, config)?;
    body.append_child(&host).ok()?;
    Some(host)
}

/// The wall's name as attributes and events spell it.
pub fn wall_name(wall: Wall) -> &'static str {
    match wall {
        Wall::Register => "register",
        Wall::Unlock => "unlock",
        Wall::Subscribe => "subscribe",
    }
}

fn el(doc: &Document, parent: &Node, tag: &str, text: &str) -> Option<Element> {
    let e = doc.create_element(tag).ok()?;
    if !text.is_empty() {
        // Always text, never HTML: config copy cannot inject markup.
        e.set_text_content(Some(text));
    }
    parent.append_child(&e).ok()?;
    Some(e)
}

fn attrs(e: &Element, pairs: &[(&str, &str)]) -> Option<()> {
    for (name, value) in pairs {
        e.set_attribute(name, value).ok()?;
    }
    Some(())
}

fn sentence_with_link(
    doc: &Document,
    parent: &Node,
    parts: [&str; 3],
    href: &str,
    class: &str,
) -> Option<()> {
    let p = el(doc, parent, "p", "")?;
    p.set_class_name("alt");
    p.append_with_str_1(parts[0]).ok()?;
    let a = el(doc, &p, "a", parts[1])?;
    attrs(&a, &[("href", href), ("class", class)])?;
    p.append_with_str_1(parts[2]).ok()
}

fn build(
    doc: &Document,
    root: &ShadowRoot,
    wall: Wall,
    d: &Decision,
    config: &Config,
) -> Option<()> {
    el(doc, root, "style", STYLE)?;
    let section = el(doc, root, "section", "")?;
    attrs(
        &section,
        &[("class", "box"), ("aria-labelledby", "mw-title")],
    )?;
    let title = el(doc, &section, "h2", copy::heading(wall))?;
    attrs(&title, &[("id", "mw-title"), ("tabindex", "-1")])?;
    el(doc, &section, "p", &copy::lead(wall, config.period))?.set_class_name("lead");
    match wall {
        Wall::Register => {
            let form = el(doc, &section, "form", "")?;
            // The widget validates and reports through the live region itself.
            attrs(&form, &[("novalidate", ""), ("class", "form")])?;
            let label = el(doc, &form, "label", copy::EMAIL_LABEL)?;
            attrs(&label, &[("for", "mw-email")])?;
            let row = el(doc, &form, "div", "")?;
            row.set_class_name("row");
            let input = el(doc, &row, "input", "")?;
            attrs(
                &input,
                &[
                    ("id", "mw-email"),
                    ("type", "email"),
                    ("name", "email"),
                    ("autocomplete", "email"),
                    ("required", ""),
                    ("aria-describedby", "mw-status"),
                ],
            )?;
            let button = el(doc, &row, "button", copy::SUBMIT)?;
            attrs(&button, &[("type", "submit")])?;
            let status = el(doc, &form, "p", "")?;
            attrs(
                &status,
                &[
                    ("id", "mw-status"),
                    ("class", "status"),
                    ("role", "status"),
                    ("aria-live", "polite"),
                ],
            )?;
        }
        Wall::Unlock => {
            let label = copy::unlock_label(d.remaining, d.limit, config.period);
            let button = el(doc, &section, "button", &label)?;
            attrs(&button, &[("type", "button"), ("class", "unlock")])?;
        }
        Wall::Subscribe => {}
    }
    sentence_with_link(
        doc,
        &section,
        copy::SUBSCRIBE,
        &config.subscribe_url,
        "subscribe",
    )?;
    sentence_with_link(doc, &section, copy::LOGIN, &config.login_url, "login")?;
    el(doc, &section, "h3", copy::BENEFITS_HEADING)?;
    let list = el(doc, &section, "ul", "")?;
    for item in copy::BENEFITS {
        el(doc, &list, "li", item)?;
    }
    Some(())
}

/// An element of the prompt by id.
pub fn find(host: &Element, id: &str) -> Option<Element> {
    host.shadow_root()?.get_element_by_id(id)
}

/// Sets the live region's message.
pub fn say(host: &Element, message: &str) {
    if let Some(status) = find(host, "mw-status") {
        status.set_text_content(Some(message));
    }
}

/// The input's current text.
pub fn email_value(host: &Element) -> Option<String> {
    find(host, "mw-email")?
        .dyn_into::<web_sys::HtmlInputElement>()
        .ok()
        .map(|i| i.value())
}
