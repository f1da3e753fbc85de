//! Build script: what the widget's wasm carries, made lean at compile time.
//!
//! - The prompt's stylesheet (`src/web/prompt.css`, commented for publishers) goes into the wasm
//!   minified: comments out, whitespace collapsed.
//! - The wasm module's shadow stack is 64 KiB instead of the linker's 1 MiB default, which
//!   would be most of the module's linear memory. Release code recurses at most through the
//!   config walk, bounded at depth 8; an overflow traps (the stack sits below the data), it
//!   cannot corrupt memory.

use std::env;
use std::fs;
use std::path::PathBuf;

/// The shadow stack of the widget's wasm, in bytes.
const STACK: u32 = 64 * 1024;

fn main() {
    println!("cargo:rerun-if-changed=src/web/prompt.css");
    // The exports `cargo xtask` links the wasm without (`xtask/src/link.rs`): a new list links
    // the wasm again.
    println!("cargo:rerun-if-env-changed=METERWALL_XTASK_LINKER");
    println!("cargo:rerun-if-changed=build.rs");

    let css = fs::read_to_string("src/web/prompt.css").expect("src/web/prompt.css is readable");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("prompt.min.css"), minify_css(&css)).expect("OUT_DIR is writable");

    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={STACK}");
    }
}

/// Removes comments and the whitespace CSS does not need. Conservative: runs of whitespace become
/// one space, dropped only next to `{ } ; , >`, after `:` and before `!`; never inside a value where a space separates
/// tokens (`calc(a + b)`, `1px solid`) or before a selector's `:` (`a :focus` differs from
/// `a:focus`). The stylesheet has no strings or URLs containing these characters.
fn minify_css(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => panic!("prompt.css: a comment is not closed"),
        }
    }
    text.push_str(rest);

    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        let tight = |c: char| matches!(c, '{' | '}' | ';' | ',' | '>');
        // A space after `:` is never needed (`color: red`, `(min-width: 30em)`), nor one before
        // `!important`; a space before `:` can be (`a :focus`), so that one stays.
        if space
            && !out.is_empty()
            && !tight(c)
            && c != '!'
            && !out.ends_with(tight)
            && !out.ends_with(':')
        {
            out.push(' ');
        }
        space = false;
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
    }
    out
}
