//! Gating the page: removing what the reader has not earned, showing the prompt, restoring.

use crate::config::{Config, Teaser};
use crate::copy::Text;
use crate::meter::Wall;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Node, ShadowRoot, ShadowRootInit, ShadowRootMode};

/// The prompt's own styles, scoped by its shadow root: the publisher's CSS cannot reach in and
/// these rules cannot leak out.
const STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/prompt.min.css"));

/// What the wall took out of the article, to be put back exactly.
#[derive(Default)]
pub struct Removed {
    /// Each removed node, with the element it was taken from (the element the teaser is in, or
    /// one of the elements around it when the wall went into a wrapper that had more after it)
    /// and its place there.
    nodes: Vec<(Element, Node, Place)>,
}

impl Removed {
    /// When a single-page app has replaced what `page` held (the `prompt` went with it), forgets
    /// what was taken from `page` and from the elements still in it: the app's next article there
    /// is not to get the old one's blocks back (after it, at its end). Asked of the page, not of
    /// the prompt's parent: a prompt in a wrapper of the old page still has that wrapper. What was
    /// taken from an element the app has taken out of the page (a view it keeps, to show again,
    /// the prompt in it) still goes back into that element.
    pub fn forget_if_replaced(&mut self, page: &Element, prompt: &Element) {
        if !page.contains(Some(prompt)) {
            self.nodes
                .retain(|(parent, _, _)| !page.contains(Some(parent)));
        }
    }
}

/// Where a removed node goes back.
enum Place {
    /// Before this kept node.
    Before(Node),
    /// After the node that ended its element once the wall had taken its part (`None`: the
    /// element was left empty), and after the removed nodes before it there: not after what the
    /// page has added at the end since (a comments widget, an ad).
    After(Option<Node>),
}

/// `config.keep` if the browser takes it as a selector (the config checks it as text only);
/// otherwise nothing is kept, and the publisher is told.
fn keep_selector<'a>(body: &Element, config: &'a Config) -> Option<&'a str> {
    if body.matches(&config.keep).is_ok() {
        return Some(&config.keep);
    }
    let mut m = String::from("keep: \"");
    m.push_str(&config.keep);
    m.push_str(
        "\" is not a valid CSS selector, so nothing is kept; use one like \".related, .ad\"",
    );
    super::report(&m);
    None
}

/// The element names the gate tells apart, by kind: those that show nothing (the first six, then
/// `br` and `wbr`), a run of text's own markup (from `a`), blocks the wall never goes into (from
/// `p`, see [`opens`]), wrappers as CMSs write them (from `div`) and lists (from `ul`). One list,
/// read by [`kind`], rather than a list or a set of names for each question asked of an element,
/// each asking the browser for its name (148 bytes of wasm, gzip).
const NAMES: &str = texts![
    "script", "style", "template", "noscript", "link", "meta", "br", "wbr", "a", "abbr", "b",
    "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q", "s", "samp",
    "small", "span", "strong", "sub", "sup", "time", "u", "var", "p", "h1", "h2", "h3", "h4", "h5",
    "h6", "table", "thead", "tbody", "tfoot", "tr", "div", "section", "article", "main", "ul",
    "ol",
];

/// Where the kinds of [`NAMES`] begin.
const BR: usize = 6;
const MARKUP_NAMES: usize = 8;
const CLOSED: usize = 32;
const WRAPPERS: usize = 44;
const LISTS: usize = 48;

/// The kinds begin where they are said to, checked as the crate builds.
const _: () = assert!(
    is_at(BR, "br")
        && is_at(MARKUP_NAMES, "a")
        && is_at(CLOSED, "p")
        && is_at(WRAPPERS, "div")
        && is_at(LISTS, "ul")
        && crate::list_len(NAMES) == LISTS + 2
);

/// Whether item `i` of [`NAMES`] is `name`.
const fn is_at(mut i: usize, name: &str) -> bool {
    let (list, name) = (NAMES.as_bytes(), name.as_bytes());
    let mut at = 0;
    while i > 0 {
        if list[at] == 0x1f {
            i -= 1;
        }
        at += 1;
    }
    let mut k = 0;
    while k < name.len() {
        if list[at + k] != name[k] {
            return false;
        }
        k += 1;
    }
    list[at + k] == 0x1f
}

/// Where `e`'s name is in [`NAMES`]; a custom element is a wrapper (`WRAPPERS`), and any other
/// name is past the list (`usize::MAX`): a block the wall may go into. Asked once for each child
/// of the article and kept in its [`Child`], so that the questions about a child do not ask again
/// (the element the wall goes into, and the nodes put back by `restore`, are asked on their own).
fn kind(e: &Element) -> usize {
    let name = e.local_name();
    if name.bytes().any(|b| b == b'-') {
        return WRAPPERS;
    }
    crate::list_items(NAMES)
        .position(|n| n == name)
        .unwrap_or(usize::MAX)
}

/// A child of the article: whether `keep` matches it, whether it is a block the teaser counts
/// (an element, but not one that shows nothing (a script, a style) nor a run of text's own markup
/// (a link, an emphasis), which belongs to the paragraph around it), and its [`kind`] if it is an
/// element `keep` does not match (else `usize::MAX`, past the kinds that are no blocks).
fn classify(node: &Node, keep: Option<&str>) -> Class {
    let Some(e) = node.dyn_ref::<Element>() else {
        return (false, false, usize::MAX);
    };
    let kept = keep.is_some_and(|k| e.matches(k).unwrap_or(false));
    let kind = if kept { usize::MAX } else { kind(e) };
    (kept, !kept && kind >= CLOSED, kind)
}

/// Whether the wall may go into an element of `kind`: not into a paragraph or a heading, whose
/// words and links would take the wall inside them (an image in a paragraph is no block of the
/// article), nor into a run of text's own markup, nor into a table, whose rows cannot hold the
/// prompt.
fn opens(kind: usize) -> bool {
    kind >= WRAPPERS
}

/// The element whose children are the article's blocks, with its child nodes, each classified
/// once, how many of its blocks the teaser keeps, and the levels it is inside of: the article
/// element itself, or a block inside it that holds the text, and so on down (four levels at most).
///
/// For a count of blocks, the wall goes into the block with the most text when the teaser would
/// keep every block of a level (a header, then one wrapper holding the text), and also when the
/// teaser would keep that block while it is a wrapper (a `div`, `section`, `article`, `main` or
/// custom element) holding more than half of the level's blocks' text (a header, the wrapper,
/// then an author's note): gating beside it would leave the article in it. What follows that
/// block on the level it was found on goes too (see [`remove_after_teaser`]). Only into a block
/// that holds blocks of its own (a wrapper, a list, a custom element), never into a paragraph or
/// a heading, whose words and links would take the wall inside them, nor into a table, whose rows
/// cannot hold the prompt. With nothing to remove inside, the first level that had something to
/// remove, else the article element.
///
/// A percentage is a share of the article's blocks, where the block that holds the article (most
/// of its level's text in a wrapper or a list, or the level's only block, as above but for a
/// table) counts as the blocks in it, and so on down. Thirty percent of a header and a wrapper
/// holding ten paragraphs is the header and two of them. The wall goes where the share ends; what
/// follows the blocks it went into goes too.
///
/// Both go down the same walk and come back up the same levels: one function rather than one
/// each, whose shared steps were inlined twice into [`gate`] (0.2 KB of wasm, gzip).
fn holder(
    body: &Element,
    config: &Config,
    keep: Option<&str>,
) -> (Element, Vec<Child>, usize, Vec<Level>) {
    let teaser = config.teaser;
    let percent = matches!(teaser, Teaser::Percent(1..=99));
    // Down the blocks that hold the text: the levels above the last, each with where in it the
    // next holder is (its index, and how many blocks precede it) and, for a percentage, how many
    // blocks that holder counts as. Kept with its level rather than in arrays of their own
    // indexed by level, whose bounds checks the compiler cannot drop.
    let mut levels: Vec<Level> = Vec::new();
    let mut at = body.clone();
    let mut nodes = children(&at, keep);
    // For a count, the depth of the first level with blocks after the teaser.
    let mut first = None;
    loop {
        let depth = levels.len();
        let here = blocks(&nodes);
        let kept = teaser.keep(here);
        let alone = here == 1;
        if percent {
            // Paragraphs alone hold no blocks: no text is measured.
            if depth == 4 || !alone && !has_wrapper(&nodes, usize::MAX, true) {
                break;
            }
        } else if here > kept {
            first.get_or_insert(depth);
            // Only a wrapper among the blocks the teaser keeps can take the wall inside it: for
            // the usual paragraphs, no text is measured.
            if !has_wrapper(&nodes, kept, false) {
                break;
            }
        }
        let Some((i, before, most, total)) = most_text(&nodes) else {
            break;
        };
        // `get` rather than indexing, as in `children` and `remove_after_teaser`: no panicking
        // paths (0.16 KB of wasm, gzip).
        let Some((inner, (_, _, kind))) = nodes.get(i) else {
            break;
        };
        let kind = *kind;
        let Some(inner) = inner.dyn_ref::<Element>().cloned() else {
            break;
        };
        // Into it when it is the level's only block (a percentage) or the teaser keeps every
        // block of the level (a count); else when it is a wrapper (or, for a percentage, a list)
        // holding more than half of the level's text, and for a count one the teaser keeps.
        // One expression for both rather than one each (34 bytes of wasm, gzip).
        let into = opens(kind)
            && (if percent { alone } else { here <= kept }
                || holds(kind, percent) && (percent || before < kept) && most > total / 2);
        // A percentage reads no children of a block it does not go into; a count reads them
        // all the same.
        if percent && !into {
            break;
        }
        let inner_nodes = children(&inner, keep);
        if depth == 4 || blocks(&inner_nodes) == 0 || !into {
            break;
        }
        let level = std::mem::replace(&mut nodes, inner_nodes);
        levels.push((std::mem::replace(&mut at, inner), level, i, before, 0));
    }
    // Counted from the bottom: each holder's blocks (those in it, a holder in it counted as
    // those in that), then the article's; for a count, unused.
    let here = blocks(&nodes);
    let mut flat = here;
    for (_, level, _, _, inside) in levels.iter_mut().rev() {
        *inside = flat;
        flat += blocks(level) - 1;
    }
    // The blocks kept: of the article for a percentage (less those before each holder the wall
    // goes into), of the last level for a count.
    let mut kept = teaser.keep(if percent { flat } else { here });
    // For a count, how many levels the wall goes down: all when the last has blocks after the
    // teaser, else to the first level that had, whose blocks are read again, else none (the
    // article element's read again).
    let down = if here > kept {
        levels.len()
    } else {
        first.unwrap_or(0)
    };
    let again = !percent && here <= kept;
    // The levels the wall goes down from, those first in `levels`: the rest are dropped there
    // rather than the first moved to a list of their own (0.1 KB of wasm, gzip).
    let mut around = levels.len();
    for (depth, (element, level, _, before, inside)) in levels.iter_mut().enumerate() {
        let (before, inside) = (*before, *inside);
        // A percentage ends inside the holder, or a count goes below this level: on down, and
        // what follows the holder goes.
        if percent && kept > before && kept < before + inside || !percent && depth < down {
            if percent {
                kept -= before;
            }
            continue;
        }
        // A percentage ends before the holder, or past it with the holder whole as one block of
        // this level.
        if percent && kept > before {
            kept = kept + 1 - inside;
        }
        at = element.clone();
        nodes = std::mem::take(level);
        around = depth;
        break;
    }
    levels.truncate(around);
    if again {
        nodes = children(&at, keep);
        kept = teaser.keep(blocks(&nodes));
    }
    (at, nodes, kept, levels)
}

/// Whether a wrapper (or, with `lists`, a list) is among the first `n` blocks of `nodes`.
fn has_wrapper(nodes: &[Child], mut n: usize, lists: bool) -> bool {
    // A loop rather than `filter`, `take` and `any` (33 bytes of wasm, gzip).
    for (_, (_, block, kind)) in nodes {
        if !*block {
            continue;
        }
        if n == 0 {
            break;
        }
        n -= 1;
        if holds(*kind, lists) {
            return true;
        }
    }
    false
}

/// Whether an element of `kind` is a wrapper as CMSs write them (`div`, `section`, `article`,
/// `main`) or a custom element, or with `lists` a list.
fn holds(kind: usize, lists: bool) -> bool {
    (WRAPPERS..LISTS).contains(&kind) || lists && list(kind)
}

/// Whether an element of `kind` is a list (`ul`, `ol`), which may hold list items only.
fn list(kind: usize) -> bool {
    (LISTS..LISTS + 2).contains(&kind)
}

/// The block with the most text (the last of equals): its index, how many blocks precede it, its
/// text and that of all the blocks (not of scripts or styles, which may repeat the article).
fn most_text(nodes: &[Child]) -> Option<(usize, usize, u32, u32)> {
    let mut best: Option<(usize, usize, u32)> = None;
    let mut before = 0;
    let mut total = 0;
    for (i, (n, (_, block, _))) in nodes.iter().enumerate() {
        if !*block {
            continue;
        }
        let length = text_length(n);
        total += length;
        if best.is_none_or(|(_, _, most)| length >= most) {
            best = Some((i, before, length));
        }
        before += 1;
    }
    best.map(|(i, before, most)| (i, before, most, total))
}

/// How much text `node` holds (UTF-16 units), read in JS: not copied into the wasm's memory,
/// where a long article would stay as the heap's high-water mark. Less what scripts and styles
/// inside it hold (structured data repeating the article, an ad's loader), which no reader reads.
fn text_length(node: &Node) -> u32 {
    // Through the lenient get: a throwing getter is `undefined`, no string, as a caught one was.
    let length = |n: &JsValue| {
        super::reflect::value(n, "textContent")
            .dyn_ref::<js_sys::JsString>()
            .map_or(0, |t| super::reflect::length(t))
    };
    let mut total = length(node);
    if let Some(hidden) = node
        .dyn_ref::<Element>()
        .and_then(|e| e.query_selector_all("script,style,noscript").ok())
    {
        for i in 0..super::reflect::length(&hidden) {
            if let Some(h) = hidden.item(i) {
                total = total.saturating_sub(length(&h));
            }
        }
    }
    total
}

/// A level the wall went down from: the element, its child nodes, where in them the block the
/// wall went into is (its index, and how many blocks precede it) and, for a percentage, how many
/// blocks that block counts as. Kept whole with that index rather than split after it:
/// `split_off` copies the nodes after, and brings a formatted panic for a bound the compiler
/// cannot see (0.1 KB of wasm, gzip).
type Level = (Element, Vec<Child>, usize, usize, usize);

/// A child node of the article, with what [`classify`] says of it.
type Child = (Node, Class);

/// Whether a node is kept, whether it is a block, and its kind (see [`classify`]).
type Class = (bool, bool, usize);

/// How many of `nodes` are blocks the teaser counts.
fn blocks(nodes: &[Child]) -> usize {
    nodes.iter().filter(|(_, (_, block, _))| *block).count()
}

/// What a node is to a run of text directly in an element (see [`children`]): nothing shown
/// (white space, a comment, a script), text, the markup of a run's text (a link, an emphasis),
/// a break, or an end (a block, a kept node, the end of the element).
const NOTHING: u8 = 0;
const TEXT: u8 = 1;
const MARKUP: u8 = 2;
const BREAK: u8 = 3;
const END: u8 = 4;

/// The child nodes of `at`, each classified once. Text directly in `at`, outside any block (older
/// editors part paragraphs with two `<br>`), counts as blocks too: each run of it between blocks
/// or double breaks that holds words is one, counted at its last node (the markup that ends it
/// too, an image's link), so that a teaser keeps a run whole.
fn children(at: &Element, keep: Option<&str>) -> Vec<Child> {
    let list = at.child_nodes();
    // Pushed in a loop: smaller than `collect` (0.1 KB of wasm, gzip).
    let mut nodes: Vec<Child> = Vec::new();
    for i in 0..super::reflect::length(&list) {
        if let Some(n) = list.item(i) {
            let class = classify(&n, keep);
            nodes.push((n, class));
        }
    }
    // The last node of the run being read, whether it has words (an empty anchor or icon alone
    // is no text), and whether a break follows it.
    let mut run = None;
    let mut words = false;
    let mut broken = false;
    for i in 0..=nodes.len() {
        let node = nodes.get(i);
        let what = match node {
            // An element that is no block has a kind before `CLOSED`: past it, no element.
            Some((n, (false, false, kind))) => match *kind {
                BR => BREAK,
                MARKUP_NAMES..CLOSED => MARKUP,
                CLOSED.. if n.node_type() == Node::TEXT_NODE => TEXT,
                _ => NOTHING,
            },
            _ => END,
        };
        let said = || {
            node.and_then(|n| n.0.text_content())
                .is_some_and(|t| !crate::blank(&t))
        };
        match what {
            // White space between breaks or blocks is nothing.
            TEXT if !said() => {}
            TEXT | MARKUP => {
                words = words || what == TEXT || said();
                run = Some(i);
                broken = false;
            }
            BREAK if !broken => broken = true,
            NOTHING => {}
            _ => {
                if let (Some(last), true) = (run.take().and_then(|l| nodes.get_mut(l)), words) {
                    last.1 .1 = true;
                }
                words = false;
                broken = false;
            }
        }
    }
    nodes
}

/// Removes every node of the article after the teaser, except elements matching
/// `config.keep`, returning them in order with their places, so the very same nodes (and their
/// listeners) can be put back. When the wall went into a wrapper, what follows the wrapper goes
/// too, on each level it went down from. Everything is measured before anything is removed, so
/// the page is never left half-gated. Also returns where the prompt goes: the element and the
/// node to insert it before, found here, where it is known whether the wall went down from the
/// article element, rather than by comparing elements; [`Removed`] keeps only what [`restore`]
/// needs (0.2 KB of wasm, gzip).
fn remove_after_teaser(body: &Element, config: &Config) -> (Removed, Element, Option<Node>) {
    let keep = keep_selector(body, config);
    let (parent, nodes, teaser, around) = holder(body, config, keep);
    // The index after the teaser's last block.
    let mut start = 0;
    let mut seen = 0;
    while seen < teaser && start < nodes.len() {
        if nodes[start].1 .1 {
            seen += 1;
        }
        start += 1;
    }
    let mut removed = Removed::default();
    take(&parent, &nodes, start, &mut removed);
    for (from, level, i, _, _) in &around {
        take(from, level, i + 1, &mut removed);
    }
    for (from, node, _) in &removed.nodes {
        // Cannot fail: each node is a child of `from`, collected just above.
        let _ = from.remove_child(node);
    }
    for (from, _, place) in &mut removed.nodes {
        if let Place::After(tail) = place {
            // In place of the `None` that `take` left: nothing to drop.
            std::mem::forget(std::mem::replace(tail, from.last_child()));
        }
    }
    // Insert before whatever now follows the teaser's last node (a kept element, or nothing:
    // the end), so the prompt follows it in reading and tab order; with no teaser at all, before
    // the first node.
    let mut anchor = match start.checked_sub(1).and_then(|i| nodes.get(i)) {
        Some((last, _)) => last.next_sibling(),
        None => parent.first_child(),
    };
    let mut parent = parent;
    // After a list the wall went into (not the article element itself: no level around it),
    // which may hold list items only.
    if !around.is_empty() && list(kind(&parent)) {
        if let Some(outer) = parent.parent_element() {
            anchor = parent.next_sibling();
            parent = outer;
        }
    }
    (removed, parent, anchor)
}

/// Adds `nodes`, children of `from`, from the one at `start` on, to what the wall removes, but
/// for kept ones.
fn take(from: &Element, nodes: &[Child], start: usize, removed: &mut Removed) {
    // What follows each node is the rest of the iterator: no slicing, no bounds check (65 bytes
    // of wasm, gzip). Skipped to `start` here rather than sliced at each call (11 bytes).
    let mut rest = nodes.iter().skip(start);
    while let Some((node, (keep, _, _))) = rest.next() {
        if *keep {
            continue;
        }
        let place = rest
            .clone()
            .find(|(_, (k, _, _))| *k)
            .map_or(Place::After(None), |(n, _)| Place::Before(n.clone()));
        removed.nodes.push((from.clone(), node.clone(), place));
    }
}

/// Puts removed nodes back in their places, in their order; returns the first block among those
/// taken from where the teaser ends (where focus goes: a text node, a script or a style cannot
/// take it), or that element when none is one (text outside any block). A kept node that the page
/// has moved or replaced meanwhile (an ad slot's script) is no place to insert before: what stood
/// there goes at the end rather than being lost.
pub fn restore(removed: Removed) -> Option<Node> {
    // The last node put back after its element's end, which the next such node follows.
    let mut last: Option<&Node> = None;
    for (parent, node, place) in &removed.nodes {
        // A kept node is borrowed, not cloned: only the node found after the end is owned.
        let found;
        let before = match place {
            Place::Before(kept) => Some(kept),
            // The node put back last is asked whether it is still there once, not again as
            // the node to follow.
            Place::After(tail) => {
                found = match (last.filter(|n| within(n, parent)), tail) {
                    (Some(after), _) => after.next_sibling(),
                    (None, Some(after)) if within(after, parent) => after.next_sibling(),
                    // Moved by the page meanwhile: the end.
                    (None, Some(_)) => None,
                    (None, None) => parent.first_child(),
                };
                found.as_ref()
            }
        };
        if parent.insert_before(node, before).is_err() {
            let _ = parent.append_child(node);
        }
        last = matches!(place, Place::After(_)).then_some(node);
    }
    // The first block of what came back where the teaser ends (not one further out, past the
    // article's text), unless text outside any block comes back before it: that text has no
    // element of its own to take focus, so its parent does, and reading starts with it.
    // Looked through by reference, not consumed (0.1 KB of wasm, gzip).
    let (first, _, _) = removed.nodes.first()?;
    for (p, n, _) in &removed.nodes {
        if p != first {
            continue;
        }
        let (_, block, kind) = classify(n, None);
        if block {
            return Some(n.clone());
        }
        // Words before the first block: a text node that says something, or a run's markup.
        let words = match n.node_type() {
            Node::TEXT_NODE => n.text_content().is_some_and(|t| !crate::blank(&t)),
            Node::ELEMENT_NODE => kind >= MARKUP_NAMES,
            _ => false,
        };
        if words {
            break;
        }
    }
    Some(first.clone().into())
}

/// Whether `node` is a child of `parent`.
fn within(node: &Node, parent: &Element) -> bool {
    node.parent_node().as_ref() == Some(parent)
}

/// What the prompt needs beyond the config.
pub struct PromptText {
    /// The unlock button's label, already in the right plural form.
    pub unlock: String,
    /// The page's writing direction, `ltr` or `rtl`: one of the two texts, not a copy of it
    /// made for each prompt.
    pub dir: &'static str,
    /// Whether the reader has read the free articles they had (see
    /// [`Copy::lead`](crate::copy::Copy::lead)).
    pub spent: bool,
}

/// Gates the article all or nothing: the prompt is built while detached, then the rest of the
/// article is removed and the prompt inserted after the teaser; if the insertion fails, the
/// removed nodes go back. Returns the prompt's host and what was removed, or `None` with the
/// page as it was.
pub fn gate(
    doc: &Document,
    body: &Element,
    wall: Wall,
    config: &Config,
    text: &PromptText,
) -> Option<(Element, Removed)> {
    let host = build_prompt(doc, wall, config, text)?;
    let (removed, parent, anchor) = remove_after_teaser(body, config);
    if parent.insert_before(&host, anchor.as_ref()).is_err() {
        restore(removed);
        return None;
    }
    Some((host, removed))
}

/// The prompt's language: the configured locale as given (`fr-CA`, or a language without
/// built-in copy that the publisher's copy is written in), else the built-in copy's that shows
/// (English for a language the build leaves out).
fn lang(config: &Config) -> &str {
    let Some(tag) = config.locale.as_deref().filter(|t| !t.is_empty()) else {
        return config.copy.lang.shown().tag();
    };
    // A built-in language names itself (`fr-CA`, `en-GB`); English is also what other tags fall
    // back to.
    if crate::copy::Lang::named(tag).is_some() || !config.copy.overrides.is_empty() {
        tag
    } else {
        config.copy.lang.shown().tag()
    }
}

/// Builds the prompt for `wall`, detached from the page. Returns its host element.
fn build_prompt(doc: &Document, wall: Wall, config: &Config, text: &PromptText) -> Option<Element> {
    let host = doc.create_element("div").ok()?;
    build(doc, &host, wall, config, text)?;
    Some(host)
}

/// The prompt's elements and text nodes in document order, made by one loop in [`build`] rather
/// than a call each (83 bytes of wasm, gzip), and written as one [`texts!`] list rather than an
/// array of `&str`s, whose pointers and lengths compress poorly. Each node is an item `DWTtag`,
/// followed by its attributes' names and values in turn, set in that order:
/// - `D`, its depth: `1` in the shadow root, `2` in the last node of depth 1 before it, and so on;
/// - `W`, when it is there: `*` always; `r`, `u` or `s` on that wall only (the first letter of its
///   name); `n` on any wall but subscribe; `S` where our styles could not be adopted as a
///   constructed sheet; `C` with a publisher's stylesheet;
/// - `T`, its text, set as text, never HTML, so config copy cannot inject markup: `-` none; `S`
///   our styles; `H` the wall's heading; `L` its lead; `U` the unlock button's label; `a` to `k`
///   the copy's texts in [`TEXTS`];
/// - `tag`, the element's; none for a text node (its text, even an empty one).
///
/// The attributes before the first node are the host's own. An attribute value `$W` is the
/// wall's name, `$D` the prompt's direction, `$G` its language, and `$C`, `$B` or `$I` the
/// address of the publisher's stylesheet, of the subscribe page or of the login page.
const PROMPT: &str = texts![
    // The host's, set by the same loop as the nodes' rather than by calls of their own (0.15 KB of
    // wasm, gzip, with that loop made one flat loop).
    "class",
    "meterwall-prompt",
    "data-meterwall-prompt",
    "",
    "data-wall",
    "$W",
    "dir",
    "$D",
    "lang",
    "$G",
    "1SSstyle",
    // The fade over the teaser's last lines: decorative, so hidden from assistive technology and
    // an element of its own (a pseudo-element would stop contrast checkers reading the prompt).
    "1*-div",
    "class",
    "fade",
    "aria-hidden",
    "true",
    "part",
    "fade",
    // The publisher's stylesheet hook: loaded inside the shadow root, after ours.
    "1C-link",
    "rel",
    "stylesheet",
    "href",
    "$C",
    // A labelled section is a region landmark; the heading names it.
    "1*-section",
    "class",
    "box",
    "part",
    "box",
    "aria-labelledby",
    "mw-title",
    "2*Hh2",
    "id",
    "mw-title",
    "tabindex",
    "-1",
    "part",
    "heading",
    "2*Lp",
    "class",
    "lead",
    "part",
    "lead",
    // The widget validates and reports through the live region itself. `dialog`: outside a
    // dialog, a submission the widget does not take (its listener gone, or never there: the wall
    // of an unreadable config) goes nowhere, rather than to the page's URL with the address in
    // its query.
    "2r-form",
    "novalidate",
    "",
    "method",
    "dialog",
    "class",
    "form",
    "part",
    "form",
    "3ralabel",
    "for",
    "mw-email",
    "part",
    "label",
    "3r-div",
    "class",
    "row",
    "4r-input",
    "id",
    "mw-email",
    "type",
    "email",
    "name",
    "email",
    "autocomplete",
    "email",
    "required",
    "",
    "maxlength",
    "254",
    // An address is left to right whatever the page's direction (its rule allows only ASCII,
    // and a domain goes to ASCII too): on a right-to-left page "name@" stays "name@" as typed.
    "dir",
    "ltr",
    "aria-describedby",
    "mw-status",
    "part",
    "input",
    "4rbbutton",
    "type",
    "submit",
    "part",
    "button",
    "3r-label",
    "class",
    "consent",
    "part",
    "consent",
    // Consent to the newsletter is its own choice, never ticked for the reader.
    "4r-input",
    "type",
    "checkbox",
    "name",
    "newsletter",
    "id",
    "mw-newsletter",
    "4rc",
    "3r-p",
    "id",
    "mw-status",
    "class",
    "status",
    "role",
    "status",
    "part",
    "status",
    "2uUbutton",
    "type",
    "button",
    "class",
    "unlock",
    "part",
    "button",
    // Subscribing is this wall's one offer: a call to action, not an "Or, ..." aside.
    "2sda",
    "href",
    "$B",
    "class",
    "cta subscribe",
    "part",
    "button",
    "2n-p",
    "class",
    "alt",
    "part",
    "alt",
    "3ne",
    "3nfa",
    "href",
    "$B",
    "class",
    "subscribe",
    "part",
    "link",
    "3ng",
    "2*-p",
    "class",
    "alt",
    "part",
    "alt",
    "3*h",
    "3*ia",
    "href",
    "$I",
    "class",
    "login",
    "part",
    "link",
    "3*j",
    "2*kh3",
    "part",
    "benefits-heading",
    // Its items follow, one for each benefit.
    "2*-ul",
    "part",
    "benefits",
];

/// The copy's texts that [`PROMPT`] shows, by its codes `a` to `k`: kinds of text, whose copy
/// is looked up only for the nodes made.
const TEXTS: [Text; 11] = [
    Text::EmailLabel,
    Text::Submit,
    Text::NewsletterLabel,
    Text::SubscribeCta,
    Text::SubscribeBefore,
    Text::SubscribeLink,
    Text::SubscribeAfter,
    Text::LoginBefore,
    Text::LoginLink,
    Text::LoginAfter,
    Text::BenefitsHeading,
];

/// An element `tag` with `text` (if any), appended to `parent`: the prompt's, and the editor's
/// overlay's.
pub(super) fn el(doc: &Document, parent: &Node, tag: &str, text: &str) -> Option<Element> {
    let e = doc.create_element(tag).ok()?;
    if !text.is_empty() {
        // Always text, never HTML: config copy cannot inject markup.
        e.set_text_content(Some(text));
    }
    parent.append_child(&e).ok()?;
    Some(e)
}

/// Gives `host` its attributes, then attaches its shadow root, adopts our styles there and fills
/// it with the nodes of [`PROMPT`] that `wall` and the page call for, then the benefits' items.
fn build(
    doc: &Document,
    host: &Element,
    wall: Wall,
    config: &Config,
    text: &PromptText,
) -> Option<()> {
    let copy = &config.copy;
    // The shadow root and whether our styles were adopted in it, once the host's attributes are
    // set: a page that watches `attachShadow` (a session recorder, say) sees the host whole.
    let mut shadow: Option<(ShadowRoot, bool)> = None;
    let lead = copy.lead(wall, config.period, text.spent);
    let text_of = |code: u8| -> &str {
        match code {
            b'S' => STYLE,
            b'H' => copy.heading(wall),
            b'L' => &lead,
            b'U' => &text.unlock,
            b'C' => config.stylesheet.as_deref().unwrap_or_default(),
            b'B' => &config.subscribe_url,
            b'I' => &config.login_url,
            b'W' => wall.name(),
            b'D' => text.dir,
            b'G' => lang(config),
            _ => TEXTS
                .get(usize::from(code.wrapping_sub(b'a')))
                .map_or("", |t| copy.text(*t)),
        }
    };
    // The element made last (first, the host): the one the attributes that follow are set on,
    // and at the end the benefits' list.
    let mut made = Some(host.clone());
    // Whether that node is on this wall (its attributes are set only then).
    let mut on = true;
    let mut items = crate::list_items(PROMPT);
    loop {
        let item = items.next();
        // An attribute's name, or the next node's item, which starts with a digit as no
        // attribute's name does.
        if let Some(name) = item.filter(|n| !n.as_bytes().first().is_some_and(u8::is_ascii_digit)) {
            let value = items.next()?;
            if on {
                let value = match *value.as_bytes() {
                    [b'$', code] => text_of(code),
                    _ => value,
                };
                made.as_ref()?.set_attribute(name, value).ok()?;
            }
            continue;
        }
        let Some(head) = item else { break };
        let (code, tag) = head.split_at_checked(3)?;
        let &[depth, when, code] = code.as_bytes() else {
            return None;
        };
        if shadow.is_none() {
            let root = host
                .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
                .ok()?;
            let adopted = adopt(&root, STYLE);
            shadow = Some((root, adopted));
        }
        let (root, adopted) = shadow.as_ref()?;
        on = match when {
            b'*' => true,
            b'n' => wall != Wall::Subscribe,
            b'S' => !*adopted,
            b'C' => config.stylesheet.is_some(),
            // The wall's initial, without its name.
            w => b"rus".get(wall as usize) == Some(&w),
        };
        if on {
            // Nodes are made in document order, so the last node of each depth is the last
            // child of the one above it: the parent is found down the last children, with no
            // list of open elements kept.
            let mut parent: Node = root.clone().into();
            for _ in b'1'..depth {
                parent = parent.last_child()?;
            }
            if tag.is_empty() {
                // Only ever in an element.
                parent
                    .unchecked_ref::<Element>()
                    .append_with_str_1(text_of(code))
                    .ok()?;
            } else {
                made = Some(el(doc, &parent, tag, text_of(code))?);
            }
        }
    }
    let list = made?;
    for item in copy.benefits() {
        el(doc, &list, "li", item)?;
    }
    Some(())
}

/// An element of the prompt by id.
pub fn find(host: &Element, id: &str) -> Option<Element> {
    host.shadow_root()?.get_element_by_id(id)
}

/// The prompt's first element that `selector` matches.
pub fn find_in(host: &Element, selector: &str) -> Option<Element> {
    let root = host.shadow_root()?;
    super::reflect::query_selector(&root, selector).ok()?
}

/// Sets the live region's message; `invalid` marks the email field as the cause.
pub fn say(host: &Element, message: &str, invalid: bool) {
    if let Some(status) = find(host, "mw-status") {
        status.set_text_content(Some(message));
    }
    flag(find(host, "mw-email"), "aria-invalid", invalid);
}

/// Sets `element`'s attribute `name` to "true" when `on`, and removes it otherwise: one function
/// for the email field's `aria-invalid` and the submit button's `aria-disabled`.
pub fn flag(element: Option<Element>, name: &str, on: bool) {
    if let Some(element) = element {
        let _ = if on {
            element.set_attribute(name, "true")
        } else {
            element.remove_attribute(name)
        };
    }
}

/// A field of the prompt by id (`mw-email`, `mw-newsletter`): one function for every place
/// that reads or sets one.
pub fn input(host: &Element, id: &str) -> Option<web_sys::HtmlInputElement> {
    find(host, id)?.dyn_into().ok()
}

/// Whether the reader ticked the newsletter box.
pub fn newsletter(host: &Element) -> bool {
    input(host, "mw-newsletter").is_some_and(|i| i.checked())
}

/// Moves focus to `node`, for a wall that changed because the reader acted; never called at
/// page load. A paragraph is made focusable for script only, and given back its own markup as
/// soon as focus leaves it.
pub fn focus(node: &Node) {
    let Some(e) = node.dyn_ref::<web_sys::HtmlElement>() else {
        return;
    };
    if !e.has_attribute("tabindex") {
        let _ = e.set_attribute("tabindex", "-1");
        let target = e.clone();
        super::on_once(
            e,
            "blur",
            Box::new(move || {
                let _ = target.remove_attribute("tabindex");
            }),
        );
    }
    let _ = e.focus();
}

/// Gives `root` the stylesheet `css` as a constructed sheet (`adoptedStyleSheets`), which a
/// Content Security Policy's `style-src` does not govern, so pages need no `'unsafe-inline'`
/// for the prompt. Returns false where the browser cannot, and the caller uses `<style>`.
pub fn adopt(root: &ShadowRoot, css: &str) -> bool {
    // Each step tried only if the one before succeeded; a refused `set` (false) counts as done.
    let Ok(sheet) = Sheet::new() else {
        return false;
    };
    sheet.replace_sync(css).is_ok()
        && super::reflect::set(root, "adoptedStyleSheets", &js_sys::Array::of1(&sheet)).is_ok()
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A constructed stylesheet, bound here rather than reached through `Reflect` (0.17 KB of
    /// wasm, gzip); each call throws (and is caught) where the browser has no constructed
    /// sheets.
    #[wasm_bindgen(js_name = CSSStyleSheet)]
    type Sheet;

    #[wasm_bindgen(constructor, catch, js_class = "CSSStyleSheet")]
    fn new() -> Result<Sheet, JsValue>;

    #[wasm_bindgen(method, catch, js_name = replaceSync)]
    fn replace_sync(this: &Sheet, css: &str) -> Result<(), JsValue>;
}
