//! `cargo xtask build`: the widget's release wasm, its wasm-bindgen glue, wasm-opt and the loader,
//! into www/dist, then the table of what a reader downloads.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::provision::{Tools, WASM_TARGET};
use crate::shell;
use crate::size;

/// Where the built widget goes, relative to the workspace root. Git-ignored; rebuilt from scratch.
pub const DIST: &str = "www/dist";

/// The glue's name: `meterwall_wasm.js` and `meterwall_wasm_bg.wasm`, beside the loader `meterwall.js`.
pub const OUT_NAME: &str = "meterwall_wasm";

/// The wasm features rustc enables by default for wasm32-unknown-unknown (since Rust 1.82); wasm-opt
/// rejects a module that uses a feature it was not told about.
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-sign-ext",
    "--enable-mutable-globals",
];

/// The wasm-opt passes the build runs: `-Oz`, then the control flow flattened and rebuilt by
/// binaryen's relooper (`--flatten --rereloop`) and `-Oz` again, which finds more to fold in the
/// rebuilt code; then functions that differ only in constants merged into one that takes them as
/// parameters (`--merge-similar-functions`: 82 bytes gzip off the module after the rest, when it
/// was added), functions called with constants specialised where that pays (`--monomorphize`: the
/// best of twenty-four passes tried after the rest, 43 bytes gzip before the names are minified and
/// 20 after) and `-Oz` once more; all repeated while the module shrinks (`--converge`). `cargo
/// xtask size` prints the module with `-Oz` alone beside it (README "Size").
pub const PASSES: [&str; 8] = [
    "-Oz",
    "--flatten",
    "--rereloop",
    "-Oz",
    "--merge-similar-functions",
    "--monomorphize",
    "-Oz",
    "--converge",
];

/// Custom sections no browser reads: function names (kept if Cargo.toml's `strip` is off, which
/// wasm-bindgen recommends), and the `producers` and `target_features` sections wasm-opt writes.
const WASM_OPT_STRIP: [&str; 3] = [
    "--strip-debug",
    "--strip-producers",
    "--strip-target-features",
];

/// Builds www/dist. `opt_level` ("z" or "s") overrides Cargo.toml's and builds in its own target
/// directory (shared with `cargo xtask size`), so switching does not rebuild the normal one.
///
/// # Errors
///
/// When a step fails, or the loader `www/meterwall.js` is missing.
pub fn build(root: &Path, tools: &Tools, opt_level: Option<&str>) -> Result<()> {
    build_with(root, tools, opt_level, None)
}

/// [`build`], with the crate's default features replaced by `features` when given (the built-in
/// languages of `cargo xtask build --languages`: `lang-fr,lang-de`, or none for English alone).
///
/// # Errors
///
/// As [`build`].
pub fn build_with(
    root: &Path,
    tools: &Tools,
    opt_level: Option<&str>,
    features: Option<&str>,
) -> Result<()> {
    let wasm = match opt_level {
        None => cargo_wasm_with(root, None, &[], features)?,
        Some(level) => cargo_wasm_with(
            root,
            Some(&format!("target/size/opt-{level}")),
            &[("CARGO_PROFILE_RELEASE_OPT_LEVEL", level)],
            features,
        )?,
    };

    let dist = root.join(DIST);
    remove_dir(&dist)?;
    // With TypeScript declarations for publishers' editors; readers never download them.
    bindgen(root, tools, &wasm, &dist, "web", true)?;

    let module = dist.join(format!("{OUT_NAME}_bg.wasm"));
    let optimized = dist.join(format!("{OUT_NAME}_bg.wasm.opt"));
    wasm_opt(root, tools, &PASSES, &module, &optimized)?;
    fs::rename(&optimized, &module).map_err(|source| Error::io(&module, source))?;

    // The glue as readers download it: only the synchronous init, the wasm's names shortened to
    // match, then minified (its doc comments stay in the .d.ts).
    let glue = dist.join(format!("{OUT_NAME}.js"));
    edit(&glue, sync_init_only)?;
    edit(&glue, guarded)?;
    edit(&dist.join(format!("{OUT_NAME}.d.ts")), sync_init_only_types)?;
    // The declarations of the wasm's raw exports, under the names the build then shortens: nothing
    // a publisher imports, so not shipped.
    let raw_types = dist.join(format!("{OUT_NAME}_bg.wasm.d.ts"));
    if raw_types.exists() {
        fs::remove_file(&raw_types).map_err(|source| Error::io(&raw_types, source))?;
    }
    minify_names(root, tools, &module, &glue, true)?;
    terser(root, tools, &glue, &glue, true)?;

    let loader = root.join("www/meterwall.js");
    if !loader.is_file() {
        return Err(Error::missing(
            "the loader www/meterwall.js",
            "write it: the classic script publishers paste, which imports dist/meterwall_wasm.js",
        ));
    }
    terser(root, tools, &loader, &dist.join("meterwall.js"), false)?;
    inline(root, tools, &wasm, &loader, &dist)?;

    size::print_downloads(&dist)?;
    size::print_inline(&dist)
}

/// The name of the one-request variant in www/dist: loader, glue and wasm in one classic script.
pub const INLINE: &str = "meterwall.inline.js";

/// Builds the one-request variant: the loader with a function holding wasm-bindgen's
/// `no-modules` glue and the wasm as hex text, which the loader finds and compiles synchronously
/// (`initSync`) instead of importing the glue and fetching the wasm. The wasm is bound and
/// optimised again: the `no-modules` glue names its imports differently from the `web` one.
///
/// # Errors
///
/// When a step fails.
fn inline(root: &Path, tools: &Tools, wasm: &Path, loader: &Path, dist: &Path) -> Result<()> {
    let work = root.join("target/inline");
    remove_dir(&work)?;
    bindgen(root, tools, wasm, &work, "no-modules", false)?;
    let module = work.join(format!("{OUT_NAME}_bg.wasm"));
    let optimized = work.join("optimized.wasm");
    wasm_opt(root, tools, &PASSES, &module, &optimized)?;
    let glue = work.join(format!("{OUT_NAME}.js"));
    edit(&glue, sync_init_only_bundled)?;
    edit(&glue, guarded)?;
    // One script: its glue and wasm cannot come from two builds.
    minify_names(root, tools, &optimized, &glue, false)?;

    let read = |path: &Path| fs::read_to_string(path).map_err(|source| Error::io(path, source));
    let glue = read(&glue)?;
    let bytes = fs::read(&optimized).map_err(|source| Error::io(&optimized, source))?;
    let bundle = work.join("bundle.js");
    fs::write(&bundle, inline_bundle(&read(loader)?, &glue))
        .map_err(|source| Error::io(&bundle, source))?;
    let minified = work.join("minified.js");
    terser(root, tools, &bundle, &minified, false)?;
    let script = with_wasm(&read(&minified)?, &bytes)
        .map_err(|problem| Error::Check(format!("{}: {problem}", minified.display())))?;
    let out = dist.join(INLINE);
    fs::write(&out, script).map_err(|source| Error::io(&out, source))
}

/// The name the one-request script's outer function is called with, where [`with_wasm`] puts
/// the wasm's hex after the minifier has run: a global, which the minifier leaves as it is.
const WASM_ARGUMENT: &str = "meterwallWasmHex";

/// The one-request script before the wasm goes in: `(function (wasmHex) { <loader> function
/// meterwallInline() { <glue> return { glue, wasm } } })(meterwallWasmHex);`. The function is
/// hoisted, so the loader's first statement (the `meterwall:start` mark) still runs first, and
/// the glue is only evaluated when the loader asks.
fn inline_bundle(loader: &str, glue: &str) -> String {
    let mut out = String::with_capacity(loader.len() + glue.len() + 512);
    out.push_str("(function (wasmHex) {\n");
    out.push_str(loader);
    out.push_str("\nfunction meterwallInline() {\n");
    out.push_str(glue);
    out.push('\n');
    out.push_str(HEX_DECODE);
    out.push_str("\nreturn { glue: wasm_bindgen, wasm: hexBytes(wasmHex) };\n}\n})(");
    out.push_str(WASM_ARGUMENT);
    out.push_str(");\n");
    out
}

/// V8's explicit compile hint (Chrome 136 and later; other engines read a comment): every
/// function of the script is compiled with the script, not each on its first call, which
/// Chrome does on the main thread. The one-request script's glue sits in an inner function
/// whose own inner functions Chrome otherwise compiled one by one during the mount; with the hint
/// Chrome decided over the limit in 4.9 against 7.0 ms, and 5.4 against 8.0 ms in a second run
/// (medians of 40 loads each, the two scripts taking turns; `docs/performance.md`, "Speed"), for 27
/// bytes gzip.
/// The three files' glue, a module with its functions at the top level, decided no sooner with
/// the hint (33.0 against 33.8 ms in the second run), so it has none. The hint must be the
/// script's first line, so it goes in after the minifier, which drops comments.
const COMPILE_HINT: &str = "//# allFunctionsCalledOnLoad\n";

/// The minified one-request script with the wasm in it, as hex text in the outer function's
/// argument, after the [`COMPILE_HINT`]. In the argument, not in the function that decodes it
/// (where the minifier would move a literal used once): Chrome compiles an inner function when it
/// is first called and scans its text again then, which for the 0.2 MB of hex cost about 0.35 ms
/// on the critical path (`docs/performance.md`, "Size").
///
/// The wasm travels as hex, two characters a byte, and [`HEX_DECODE`] turns it back into bytes.
/// Hex gives every byte of the module two characters of its own, so the HTTP compression still
/// finds the module's repeats: gzipped, the script is about 5 KB larger than the wasm alone, where
/// base64 (four characters for three bytes, which shifts the bits of every repeat) made it 15 KB
/// larger. The text is ASCII, so the page's or the server's charset cannot change it.
///
/// # Errors
///
/// When the minified script does not name [`WASM_ARGUMENT`] exactly once.
fn with_wasm(script: &str, wasm: &[u8]) -> std::result::Result<String, String> {
    let mut parts = script.split(WASM_ARGUMENT);
    let (Some(before), Some(after), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("`{WASM_ARGUMENT}` must appear exactly once"));
    };
    let mut out = String::with_capacity(COMPILE_HINT.len() + script.len() + wasm.len() * 2 + 2);
    out.push_str(COMPILE_HINT);
    out.push_str(before);
    out.push('"');
    hex(wasm, &mut out);
    out.push('"');
    out.push_str(after);
    Ok(out)
}

/// The one-request script's decoder: `Uint8Array.fromHex` where the browser has it (Chrome 140,
/// Firefox 133, Safari 18.2), else a loop over the characters (lowercase hex, as [`hex`] writes).
const HEX_DECODE: &str = "function hexBytes(text) {
  if (Uint8Array.fromHex) return Uint8Array.fromHex(text);
  var out = new Uint8Array(text.length / 2);
  for (var i = 0; i < out.length; i++) {
    var high = text.charCodeAt(2 * i);
    var low = text.charCodeAt(2 * i + 1);
    out[i] = ((high > 57 ? high - 87 : high - 48) << 4) | (low > 57 ? low - 87 : low - 48);
  }
  return out;
}";

/// Lowercase hex, two characters a byte.
fn hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// Rewrites the file at `path` with `change`, whose error names what it did not find.
fn edit(
    path: &Path,
    change: impl FnOnce(&str) -> std::result::Result<String, String>,
) -> Result<()> {
    let text = fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
    let text =
        change(&text).map_err(|problem| Error::Check(format!("{}: {problem}", path.display())))?;
    fs::write(path, text).map_err(|source| Error::io(path, source))
}

/// wasm-bindgen's `web` glue exports `initSync` and, as `default`, an asynchronous init that can
/// fetch the wasm, stream it and fall back to compiling its bytes. The loader compiles the wasm
/// itself and calls `initSync` with the module, so the glue exports `initSync` alone, and the
/// minifier drops the rest (0.5 KB gzip).
///
/// # Errors
///
/// When the glue's exports are not the ones this expects (a new wasm-bindgen): the build fails
/// rather than ship a glue the loader cannot start.
pub fn sync_init_only(glue: &str) -> std::result::Result<String, String> {
    replace_once(
        glue,
        "export { initSync, __wbg_init as default };",
        "export { initSync };",
    )
}

/// The same for the `no-modules` glue of the one-request build, which returns its asynchronous
/// init with `initSync` and the exports attached: it returns `initSync` and the exports alone.
///
/// # Errors
///
/// When the glue does not end the way this expects.
pub fn sync_init_only_bundled(glue: &str) -> std::result::Result<String, String> {
    replace_once(
        glue,
        "return Object.assign(__wbg_init, { initSync }, exports);",
        "return Object.assign({ initSync }, exports);",
    )
}

/// Wraps each of the wasm's exports as the glue holds them, so that a bug in the widget puts the
/// article back and stops the widget (`src/web/panic.rs`). A panic aborts, and an abort in wasm
/// traps: the module's frames end where they are, their destructors unrun, and a
/// `WebAssembly.RuntimeError` leaves the module. When one does, the wrapper calls the module's
/// `meterwall_stop` at once (every later call refused, no more events but errors) and, when the
/// outermost call into the module has ended and no frame of it is left, `meterwall_recover` (the
/// article put back, one report). Calls into the module nest: a listener of the widget's, run by
/// the DOM while the widget adds the wall, calls in again. Other exceptions are left alone: some
/// are thrown before any of the widget's code runs (wasm-bindgen refusing a closure that was
/// dropped, which Firefox can still call once from an `IntersectionObserver` disconnected in the
/// same round), and a `Result`'s error is thrown by the glue after the call has returned. The
/// module installs no panic hook, which would link the standard library's formatting of panic
/// messages (2 KB of wasm gzip). Applied before the names are minified, which renames the two
/// exports with the rest.
///
/// `meterwall_recover` takes the page state without asking its `RefCell`, sound only while no
/// frame of the module is alive: so the glue must enter the module through the exports the guard
/// wraps, and no other way. The build checks what would break that: the exports or the instance
/// used anywhere else, or JSPI (`WebAssembly.promising`, `Suspending`), which parks frames of the
/// module while none of its calls is under way.
///
/// # Errors
///
/// When the glue does not set its exports the way this expects, or enters the module otherwise
/// (a new wasm-bindgen).
pub fn guarded(glue: &str) -> std::result::Result<String, String> {
    const GUARD: &str = "\
function guard(wasm) {
    const guarded = {};
    let depth = 0;
    let stopped = 0;
    for (const name in wasm) {
        const f = wasm[name];
        if (f === wasm.meterwall_stop || f === wasm.meterwall_recover) continue;
        guarded[name] = typeof f !== 'function' ? f : function (...args) {
            depth++;
            try {
                return f(...args);
            } catch (e) {
                if (!stopped && e instanceof WebAssembly.RuntimeError) {
                    stopped = 1;
                    wasm.meterwall_stop();
                }
                throw e;
            } finally {
                if (!--depth && stopped === 1) {
                    stopped = 2;
                    try {
                        wasm.meterwall_recover();
                    } catch (e) {
                        // The recovery failed too: the exception that stopped the widget goes on.
                    }
                }
            }
        };
    }
    return guarded;
}

";
    const FINALIZE: &str = "function __wbg_finalize_init(";
    // The glue's own `wasmInstance` is declared and set, nothing more.
    for (entry, most) in [
        ("wasmInstance", 2),
        ("WebAssembly.promising", 0),
        ("Suspending", 0),
    ] {
        if glue.matches(entry).count() > most {
            return Err(format!(
                "the glue uses `{entry}`: it may enter the wasm other than through its exports"
            ));
        }
    }
    if glue.matches("instance.exports").count() != 1 {
        return Err("the glue reads `instance.exports` other than to set its exports".into());
    }
    let glue = replace_once(
        glue,
        "wasm = instance.exports;",
        "wasm = guard(instance.exports);",
    )?;
    replace_once(&glue, FINALIZE, &format!("{GUARD}{FINALIZE}"))
}

/// `text` with `from`, which must be there exactly once, replaced by `to`.
fn replace_once(text: &str, from: &str, to: &str) -> std::result::Result<String, String> {
    if text.matches(from).count() != 1 {
        return Err(format!("expected `{from}` exactly once"));
    }
    Ok(text.replace(from, to))
}

/// The glue's TypeScript declarations without the asynchronous init (see [`sync_init_only`]):
/// from its doc comment to the end of its declaration. `InitOutput`, what `initSync` returns,
/// becomes `unknown`: wasm-bindgen lists the module's exports by their names before the build
/// shortened them and kept the guard's two out of the glue (see [`guarded`]), so the list
/// described an object that no reader's glue returns.
///
/// # Errors
///
/// When the declaration is not found.
pub fn sync_init_only_types(types: &str) -> std::result::Result<String, String> {
    const DECLARATION: &str = "export default function __wbg_init";
    let at = types
        .find(DECLARATION)
        .ok_or_else(|| format!("expected `{DECLARATION}` in the glue's declarations"))?;
    let start = types[..at]
        .rfind("/**")
        .filter(|&doc| !types[doc..at].contains("*/\nexport function"))
        .unwrap_or(at);
    let end = at
        + types[at..]
            .find(";\n")
            .ok_or_else(|| format!("expected `;` after `{DECLARATION}`"))?
        + 2;
    let mut out = String::with_capacity(types.len());
    out.push_str(types[..start].trim_end());
    out.push('\n');
    out.push_str(&types[end..]);
    // The type of the removed init's argument, used by nothing else now.
    const INPUT: &str = "export type InitInput =";
    if let Some(at) = out.find(INPUT) {
        let mut end = out[at..]
            .find(";\n")
            .map_or(out.len(), |semicolon| at + semicolon + 2);
        if out[end..].starts_with('\n') {
            end += 1;
        }
        out.replace_range(at..end, "");
    }
    const OUTPUT: &str = "export interface InitOutput {";
    if let Some(at) = out.find(OUTPUT) {
        let end = out[at..]
            .find("\n}\n")
            .map(|close| at + close + 3)
            .ok_or_else(|| format!("expected the end of `{OUTPUT}`"))?;
        out.replace_range(
            at..end,
            "/** The module's exports, under the names the build gave them: not an API. */\n\
             export type InitOutput = unknown;\n",
        );
    }
    Ok(out)
}

/// Shortens the wasm's import, import module and export names (binaryen's
/// `--minify-imports-and-exports-and-modules`: `__wbg_appendChild_dbf7ad2f48413560` becomes `a`)
/// and rewrites the wasm-bindgen glue `glue` to match, both in place. wasm-bindgen's names carry
/// a 16-digit hash each, which neither gzip nor terser can shorten.
///
/// `tagged`: the wasm imports from a module named after its own bytes ([`build_id`]) rather than
/// `a`. The glue and the wasm are two files, cached apart: while a deploy reaches a CDN's edges,
/// a reader may get the glue of one build and the wasm of another. With short names alike in every
/// build (`a`, `b`, …) such a pair would link, each import bound to another build's function;
/// under the build's own name it fails to instantiate, and the loader reports that the widget
/// could not load, leaving the article readable.
///
/// # Errors
///
/// When wasm-opt or node fails, or the glue does not have the shape [`rename_in_glue`] expects.
fn minify_names(root: &Path, tools: &Tools, wasm: &Path, glue: &Path, tagged: bool) -> Result<()> {
    let minified = wasm.with_extension("names.wasm");
    let mapping = shell::capture(
        Command::new(&tools.wasm_opt)
            .current_dir(root)
            .args(WASM_OPT_FEATURES)
            .arg("--minify-imports-and-exports-and-modules")
            .arg(relative(root, wasm))
            .arg("-o")
            .arg(relative(root, &minified)),
    )?;
    fs::rename(&minified, wasm).map_err(|source| Error::io(wasm, source))?;
    if tagged {
        let bytes = fs::read(wasm).map_err(|source| Error::io(wasm, source))?;
        let renamed = rename_import_module(&bytes, &build_id(&bytes)).map_err(Error::Check)?;
        fs::write(wasm, renamed).map_err(|source| Error::io(wasm, source))?;
    }
    let mapping: serde_json::Value = serde_json::from_str(&mapping)
        .map_err(|error| Error::Check(format!("wasm-opt's name mapping is not JSON: {error}")))?;
    // The new module name is not in the mapping: ask the module itself.
    let modules = shell::capture(
        Command::new("node")
            .current_dir(root)
            .args(["-e", IMPORT_MODULES])
            .arg(relative(root, wasm)),
    )?;
    let module = match modules.trim().split(',').collect::<Vec<_>>()[..] {
        [one] if !one.is_empty() => one.to_owned(),
        _ => {
            return Err(Error::Check(format!(
                "the minified wasm should import from one module, not {modules:?}"
            )))
        }
    };
    edit(glue, |text| rename_in_glue(text, &mapping, &module))
}

/// Five lowercase letters from the FNV-1a hash of `bytes`: a name of the build, as a JS
/// identifier (terser leaves it unquoted). Two builds share one by chance once in 11.9 million.
pub fn build_id(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..5)
        .map(|i| char::from(b'a' + (hash >> (i * 12) & 0xfff) as u8 % 26))
        .collect()
}

/// Reads an unsigned LEB128 number (at most 32 bits, as the wasm binary format's `u32`) at
/// `*at`, and moves `*at` past it.
fn read_leb(bytes: &[u8], at: &mut usize) -> std::result::Result<u32, String> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at).ok_or("the wasm ends inside a number")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value).map_err(|_| "a number in the wasm is over 32 bits".into());
        }
    }
    Err("a number in the wasm is over 5 bytes".into())
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The wasm module `wasm` with every import's module name replaced by `to` (the binary format's
/// import section, <https://webassembly.github.io/spec/core/binary/modules.html#import-section>);
/// every other section is copied as it is.
///
/// # Errors
///
/// When `wasm` is not a wasm module of the shape the build produces (an import of a kind the
/// widget does not have fails too, rather than being copied wrong).
pub fn rename_import_module(wasm: &[u8], to: &str) -> std::result::Result<Vec<u8>, String> {
    if wasm.get(..8) != Some(b"\0asm\x01\0\0\0") {
        return Err("not a version 1 wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = read_leb(wasm, &mut at)? as usize;
        let body = wasm
            .get(at..at + size)
            .ok_or("a section runs past the end of the wasm")?;
        at += size;
        out.push(id);
        if id != 2 {
            write_leb(&mut out, size as u32);
            out.extend_from_slice(body);
            continue;
        }
        let mut section = Vec::with_capacity(size);
        let mut i = 0;
        let count = read_leb(body, &mut i)?;
        write_leb(&mut section, count);
        for _ in 0..count {
            // The module name, replaced.
            let len = read_leb(body, &mut i)? as usize;
            i += len;
            write_leb(&mut section, to.len() as u32);
            section.extend_from_slice(to.as_bytes());
            // The field name and the description, copied: their end is found by reading them.
            let start = i;
            let len = read_leb(body, &mut i)? as usize;
            i += len;
            let kind = *body.get(i).ok_or("an import has no kind")?;
            i += 1;
            match kind {
                // A function (its type's index) or a tag (an attribute, then its type's index).
                0 => {
                    read_leb(body, &mut i)?;
                }
                4 => {
                    i += 1;
                    read_leb(body, &mut i)?;
                }
                // A table (its element type, then limits) or a memory (limits).
                1 | 2 => {
                    if kind == 1 {
                        i += 1;
                    }
                    let flags = *body.get(i).ok_or("an import's limits are cut short")?;
                    i += 1;
                    read_leb(body, &mut i)?;
                    if flags & 1 == 1 {
                        read_leb(body, &mut i)?;
                    }
                }
                // A global: its value type and mutability.
                3 => i += 2,
                other => return Err(format!("an import of unknown kind {other}")),
            }
            section.extend_from_slice(body.get(start..i).ok_or("an import is cut short")?);
        }
        if i != body.len() {
            return Err("the import section has bytes after its imports".into());
        }
        write_leb(&mut out, section.len() as u32);
        out.extend_from_slice(&section);
    }
    Ok(out)
}

/// Prints the distinct import module names of the wasm file given as argument, comma-separated.
const IMPORT_MODULES: &str =
    "const m = new WebAssembly.Module(require('fs').readFileSync(process.argv[1])); \
     console.log([...new Set(WebAssembly.Module.imports(m).map((i) => i.module))].join(','));";

/// Renames, in wasm-bindgen's glue, what `mapping` (wasm-opt's `{"imports": [[module, name,
/// new]], "exports": [[name, new]]}`) renamed in the wasm: the keys of the imports object, its
/// module key (now `module`), and every `wasm.<export>`. Every import must be found exactly
/// once, so a change in wasm-bindgen's output fails the build instead of breaking the widget.
pub fn rename_in_glue(
    glue: &str,
    mapping: &serde_json::Value,
    module: &str,
) -> std::result::Result<String, String> {
    let pairs = |key: &str| -> std::result::Result<Vec<Vec<String>>, String> {
        mapping[key]
            .as_array()
            .ok_or_else(|| format!("the mapping has no {key:?} list"))?
            .iter()
            .map(|entry| {
                entry
                    .as_array()
                    .map(|parts| {
                        parts
                            .iter()
                            .filter_map(|p| p.as_str().map(str::to_owned))
                            .collect()
                    })
                    .ok_or_else(|| format!("a {key:?} entry is not a list: {entry}"))
            })
            .collect()
    };
    let quote = |name: &str| serde_json::Value::from(name).to_string();
    let mut out = glue.to_owned();
    let mut old_module = None;
    for entry in pairs("imports")? {
        let [from, name, new] = &entry[..] else {
            return Err(format!(
                "an import entry is not [module, name, new]: {entry:?}"
            ));
        };
        let key = format!(" {name}: function");
        if out.matches(&key).count() != 1 {
            return Err(format!("the import {name} is not defined exactly once"));
        }
        out = out.replacen(&key, &format!(" {}: function", quote(new)), 1);
        match &old_module {
            None => old_module = Some(from.clone()),
            Some(seen) if seen != from => {
                return Err(format!("imports from two modules, {seen} and {from}"))
            }
            Some(_) => {}
        }
    }
    if let Some(from) = old_module {
        let key = format!("{}: import0", quote(&from));
        if out.matches(&key).count() != 1 {
            return Err(format!(
                "the imports object for {from} is not found exactly once"
            ));
        }
        out = out.replacen(&key, &format!("{}: import0", quote(module)), 1);
    }
    let identifier = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    for entry in pairs("exports")? {
        let [name, new] = &entry[..] else {
            return Err(format!("an export entry is not [name, new]: {entry:?}"));
        };
        if !identifier(new) {
            return Err(format!(
                "the export {name} was renamed to {new:?}, not an identifier"
            ));
        }
        out = replace_member(&out, &format!("wasm.{name}"), &format!("wasm.{new}"));
    }
    Ok(out)
}

/// Replaces `from` where it is not followed by more of an identifier (`wasm.mount` but not
/// `wasm.mountWith`).
fn replace_member(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let whole = !after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        out.push_str(&rest[..at]);
        out.push_str(if whole { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// terser: compress and mangle `input` into `output`, without comments: the loader's opening
/// comment alone was 50 of its 2,046 bytes gzip, downloaded with every article. `module`: an ES
/// module (the glue, whose exports keep their names), else a classic script.
///
/// # Errors
///
/// When terser fails.
pub fn terser(root: &Path, tools: &Tools, input: &Path, output: &Path, module: bool) -> Result<()> {
    let mut cmd = Command::new("node");
    cmd.current_dir(root)
        .arg(relative(root, &tools.terser))
        .arg(relative(root, input));
    if module {
        cmd.arg("--module");
    }
    cmd.args(["--compress", "--mangle", "--comments", "false", "--output"])
        .arg(relative(root, output));
    shell::run(&mut cmd)
}

/// The widget's wasm, in release, into `target_dir` (relative to the root; default: cargo's own).
/// Returns the path of `meterwall.wasm`.
///
/// `cargo rustc --crate-type cdylib`, not `cargo build`: the library is also an rlib (for the host
/// tests and the server), and cargo applies no LTO to a crate that builds an rlib, whatever the
/// profile says. Built as a cdylib alone it gets Cargo.toml's fat LTO: 15% smaller after wasm-opt
/// (`cargo xtask size` shows LTO against none).
///
/// # Errors
///
/// When cargo fails.
pub fn cargo_wasm(root: &Path, target_dir: Option<&str>, env: &[(&str, &str)]) -> Result<PathBuf> {
    cargo_wasm_with(root, target_dir, env, None)
}

/// [`cargo_wasm`] with the crate's default features replaced by `features` when given.
///
/// # Errors
///
/// When cargo fails.
pub fn cargo_wasm_with(
    root: &Path,
    target_dir: Option<&str>,
    env: &[(&str, &str)],
    features: Option<&str>,
) -> Result<PathBuf> {
    let mut cmd = shell::cargo();
    if let Some(flags) = remap_paths(root) {
        cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", flags);
    }
    cmd.current_dir(root)
        .envs(linked_by_xtask()?)
        .envs(env.iter().copied())
        .args([
            "rustc",
            "-p",
            "meterwall",
            "--release",
            "--target",
            WASM_TARGET,
            "--lib",
            "--crate-type",
            "cdylib",
        ]);
    if let Some(dir) = target_dir {
        cmd.args(["--target-dir", dir]);
    }
    if let Some(features) = features {
        cmd.arg("--no-default-features");
        if !features.is_empty() {
            cmd.args(["--features", features]);
        }
    }
    shell::run(&mut cmd)?;
    let target = match target_dir {
        Some(dir) => root.join(dir),
        None => env::var_os("CARGO_TARGET_DIR")
            .map(|dir| root.join(dir))
            .unwrap_or_else(|| root.join("target")),
    };
    let wasm = target.join(WASM_TARGET).join("release/meterwall.wasm");
    check_unused_exports(&wasm)?;
    Ok(wasm)
}

/// Says so when the linked `wasm` still exports what the linker should have left out
/// (`xtask/src/link.rs`): a dependency renamed one, or rustc passed the linker's arguments in a
/// file. The wasm works, and is bigger.
///
/// # Errors
///
/// When the wasm cannot be read.
pub fn check_unused_exports(wasm: &Path) -> Result<()> {
    let bytes = fs::read(wasm).map_err(|source| Error::io(wasm, source))?;
    let left = crate::link::still_exported(&bytes);
    if !left.is_empty() {
        shell::announce(&format!(
            "note: {} still in the wasm; the linker was to leave {} out (see xtask/src/link.rs)",
            left.join(", "),
            if left.len() == 1 { "it" } else { "them" }
        ));
    }
    Ok(())
}

/// The environment that makes cargo link the wasm through this program, which leaves out the
/// dependencies' unused exports (`xtask/src/link.rs`).
///
/// # Errors
///
/// When this program's own path cannot be found.
pub fn linked_by_xtask() -> Result<[(&'static str, std::ffi::OsString); 2]> {
    let program = env::current_exe().map_err(|source| Error::io(Path::new("xtask"), source))?;
    Ok(crate::link::environment(&program))
}

/// rustc flags that keep this machine's paths out of the wasm: panic locations in dependencies
/// name their files under cargo's registry and the workspace, which would otherwise be shipped
/// (as `/home/someone/.cargo/registry/src/index.crates.io-…/js-sys-…/src/lib.rs`). Each
/// registry's own directory (`index.crates.io-…`) goes too, after the registry's: rustc applies
/// the last mapping that matches, and the directory's name is bytes every reader downloads (33 of
/// wasm, gzip). `None` when a path holds whitespace, which the variable cannot carry.
fn remap_paths(root: &Path) -> Option<String> {
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    let registry = cargo_home.join("registry").join("src");
    // Sorted, so that the flags (and the build) do not depend on the order the directory lists.
    let mut registries: Vec<PathBuf> = fs::read_dir(&registry)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    registries.sort();
    let mut mappings = vec![(registry, "crates")];
    mappings.extend(registries.into_iter().map(|dir| (dir, "crates")));
    mappings.push((root.to_path_buf(), "meterwall"));
    let mut flags = Vec::new();
    for (from, to) in &mappings {
        let from = from.to_str()?;
        if from.contains(char::is_whitespace) {
            return None;
        }
        flags.push(format!("--remap-path-prefix={from}={to}"));
    }
    Some(flags.join(" "))
}

/// Removes `dir` and everything in it; a directory that is not there is fine.
fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(Error::io(dir, error)),
        _ => Ok(()),
    }
}

/// wasm-bindgen of `wasm` into `out_dir` for `target`: `web` (an ES module the loader imports)
/// or `no-modules` (a classic script, for the one-request build).
///
/// # Errors
///
/// When wasm-bindgen fails.
pub fn bindgen(
    root: &Path,
    tools: &Tools,
    wasm: &Path,
    out_dir: &Path,
    target: &str,
    typescript: bool,
) -> Result<()> {
    let mut cmd = Command::new(&tools.wasm_bindgen);
    cmd.current_dir(root)
        .arg(relative(root, wasm))
        .args(["--target", target, "--out-dir"])
        .arg(relative(root, out_dir))
        .args(["--out-name", OUT_NAME]);
    if !typescript {
        cmd.arg("--no-typescript");
    }
    shell::run(&mut cmd)
}

/// wasm-opt with `passes` (`["-Oz"]`, [`PASSES`]) from `input` to `output`.
///
/// # Errors
///
/// When wasm-opt fails.
pub fn wasm_opt(
    root: &Path,
    tools: &Tools,
    passes: &[&str],
    input: &Path,
    output: &Path,
) -> Result<()> {
    wasm_opt_with(root, &tools.wasm_opt, passes, input, output)
}

/// [`wasm_opt`] with the wasm-opt at `program` (`cargo xtask size` compares versions).
///
/// # Errors
///
/// When wasm-opt fails.
pub fn wasm_opt_with(
    root: &Path,
    program: &Path,
    passes: &[&str],
    input: &Path,
    output: &Path,
) -> Result<()> {
    shell::run(
        Command::new(program)
            .current_dir(root)
            .args(passes)
            .args(WASM_OPT_FEATURES)
            .args(WASM_OPT_STRIP)
            .arg(relative(root, input))
            .arg("-o")
            .arg(relative(root, output)),
    )
}

/// wasm-opt as the build runs it ([`PASSES`]), imports and exports renamed too, but keeping the
/// function names (`-g`, nothing stripped): the module readers get, for `cargo xtask size` to
/// say what each part weighs.
///
/// # Errors
///
/// When wasm-opt fails.
pub fn wasm_opt_keeping_names(
    root: &Path,
    tools: &Tools,
    input: &Path,
    output: &Path,
) -> Result<()> {
    // Its imports and exports renamed as in the build (the mapping it prints is not needed).
    shell::capture(
        Command::new(&tools.wasm_opt)
            .current_dir(root)
            .args(PASSES)
            .args(["-g", "--minify-imports-and-exports-and-modules"])
            .args(WASM_OPT_FEATURES)
            .arg(relative(root, input))
            .arg("-o")
            .arg(relative(root, output)),
    )
    .map(drop)
}

/// `path` relative to the root when it is inside it: commands run there and read better so.
fn relative<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::{
        build_id, guarded, hex, inline_bundle, read_leb, rename_import_module, rename_in_glue,
        sync_init_only, sync_init_only_bundled, sync_init_only_types, with_wasm,
    };

    /// The import module names of `wasm`, read back from its import section.
    fn import_modules(wasm: &[u8]) -> Vec<String> {
        let mut at = 8;
        while wasm[at] != 2 {
            at += 1;
            let size = read_leb(wasm, &mut at).unwrap() as usize;
            at += size;
        }
        at += 1;
        read_leb(wasm, &mut at).unwrap();
        let count = read_leb(wasm, &mut at).unwrap();
        (0..count)
            .map(|_| {
                let len = read_leb(wasm, &mut at).unwrap() as usize;
                let module = String::from_utf8(wasm[at..at + len].to_vec()).unwrap();
                at += len;
                let len = read_leb(wasm, &mut at).unwrap() as usize;
                at += len;
                // The kinds this test's module has: a function, a memory, a global.
                match wasm[at] {
                    0 => at += 2,
                    2 => at += if wasm[at + 1] & 1 == 1 { 4 } else { 3 },
                    _ => at += 3,
                }
                module
            })
            .collect()
    }

    #[test]
    fn the_import_module_is_renamed_and_the_rest_kept() {
        // A type section, then imports from "a": a function `f`, a memory `m` (1 to 2 pages) and
        // an immutable i32 global `g`, then an export section naming `f`.
        let wasm: Vec<u8> = [
            &b"\0asm\x01\0\0\0"[..],
            &[1, 4, 1, 0x60, 0, 0],
            &[2, 22, 3],
            &[1, b'a', 1, b'f', 0, 0],
            &[1, b'a', 1, b'm', 2, 1, 1, 2],
            &[1, b'a', 1, b'g', 3, 0x7f, 0],
            &[7, 5, 1, 1, b'f', 0, 0],
        ]
        .concat();
        assert_eq!(import_modules(&wasm), ["a", "a", "a"]);
        let renamed = rename_import_module(&wasm, "kqzvb").unwrap();
        assert_eq!(import_modules(&renamed), ["kqzvb", "kqzvb", "kqzvb"]);
        // Four more bytes an import, in a section 12 bytes longer; the other sections as they were.
        assert_eq!(renamed.len(), wasm.len() + 12);
        assert_eq!(renamed[..15], wasm[..15]);
        assert_eq!(renamed[15], 34);
        assert_eq!(renamed[renamed.len() - 7..], wasm[wasm.len() - 7..]);
        // Not a module, or a section cut short: an error, not a wrong file.
        assert!(rename_import_module(b"\0asm\x02\0\0\0", "x").is_err());
        assert!(rename_import_module(&wasm[..20], "x").is_err());
    }

    #[test]
    fn a_build_id_is_five_letters_that_follow_the_bytes() {
        let one = build_id(b"\0asm one build");
        assert_eq!(one.len(), 5);
        assert!(one.bytes().all(|b| b.is_ascii_lowercase()), "{one}");
        assert_eq!(one, build_id(b"\0asm one build"));
        assert_ne!(one, build_id(b"\0asm another build"));
    }

    #[test]
    fn the_glue_keeps_only_its_synchronous_init() {
        let glue = "function initSync(module) {}\nasync function __wbg_init(m) {}\n\nexport { initSync, __wbg_init as default };\n";
        assert_eq!(
            sync_init_only(glue).unwrap(),
            "function initSync(module) {}\nasync function __wbg_init(m) {}\n\nexport { initSync };\n"
        );
        // Another shape of exports fails the build.
        assert!(sync_init_only("export { initSync };\n").is_err());
        assert_eq!(
            sync_init_only_bundled(
                "    return Object.assign(__wbg_init, { initSync }, exports);\n})({});"
            )
            .unwrap(),
            "    return Object.assign({ initSync }, exports);\n})({});"
        );
        assert!(sync_init_only_bundled("return __wbg_init;").is_err());

        let types = "export type InitInput = RequestInfo | URL;\n\nexport interface InitOutput {\n    readonly mount: (a: any) => any;\n}\n/**\n * Sync.\n */\nexport function initSync(module: X): Y;\n\n/**\n * If `module_or_path` is a URL…\n */\nexport default function __wbg_init (m?: X): Promise<Y>;\n";
        assert_eq!(
            sync_init_only_types(types).unwrap(),
            "/** The module's exports, under the names the build gave them: not an API. */\nexport type InitOutput = unknown;\n/**\n * Sync.\n */\nexport function initSync(module: X): Y;\n"
        );
        assert!(sync_init_only_types("export function initSync(): void;\n").is_err());
    }

    /// The guard as the build puts it in a glue shaped like wasm-bindgen's, run by Node.js on a
    /// module whose exports trap, throw and nest.
    #[test]
    fn a_failure_stops_at_once_and_recovers_once_the_outermost_call_has_ended() {
        let shape = "let wasm;\nfunction __wbg_finalize_init(instance, module) {\n    wasm = instance.exports;\n    return wasm;\n}\n";
        let glue = guarded(shape).unwrap();
        // The glue's other shapes fail the build, and so does another way into the module.
        assert!(guarded("function __wbg_finalize_init(instance) { wasm = instance; }").is_err());
        assert!(guarded("wasm = instance.exports;").is_err());
        for other in [
            "const e = instance.exports;",
            "let wasmInstance; wasmInstance = instance; wasmInstance['exports'].f();",
            "WebAssembly.promising(f);",
            "new WebAssembly.Suspending(f);",
        ] {
            assert!(guarded(&format!("{shape}{other}\n")).is_err(), "{other}");
        }
        let run = |body: &str| -> serde_json::Value {
            let script = format!(
                "{glue}
                const log = [];
                const exports = {{
                    memory: new WebAssembly.Memory({{ initial: 1 }}),
                    fine() {{ log.push('fine'); return 1; }},
                    trap() {{ log.push('trap'); throw new WebAssembly.RuntimeError('unreachable'); }},
                    throws() {{ log.push('throws'); throw new TypeError('not a trap'); }},
                    outer() {{
                        try {{ wasm.trap(); }} catch (e) {{ log.push('caught ' + e.constructor.name); }}
                        log.push('outer returns');
                        return 7;
                    }},
                    meterwall_stop() {{ log.push('stop'); }},
                    meterwall_recover() {{ log.push('recover'); }},
                }};
                const guarded = __wbg_finalize_init({{ exports }});
                const outcome = (call) => {{
                    try {{ return call(); }} catch (e) {{ return e.constructor.name; }}
                }};
                const seen = [];
                {body}
                console.log(JSON.stringify(seen));"
            );
            let out = std::process::Command::new("node")
                .args(["-e", &script])
                .output()
                .expect("Node.js runs (cargo xtask test provisions it)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).unwrap()
        };
        use serde_json::json;
        // Memory and tables are handed on as they are; the two functions the guard calls are
        // not handed on at all.
        assert_eq!(
            run("seen.push(guarded.memory === exports.memory,
                     'meterwall_stop' in guarded, 'meterwall_recover' in guarded);"),
            json!([true, false, false])
        );
        // A trap: stopped at once, recovered as the call ends, thrown on. Once only: a later
        // trap neither stops nor recovers again, and calls go on as the module answers them.
        assert_eq!(
            run("seen.push(outcome(() => guarded.trap()), log.splice(0));
                 seen.push(outcome(() => guarded.trap()), log.splice(0));
                 seen.push(outcome(() => guarded.fine()), log.splice(0));"),
            json!([
                "RuntimeError",
                ["trap", "stop", "recover"],
                "RuntimeError",
                ["trap"],
                1,
                ["fine"],
            ])
        );
        // Another exception (wasm-bindgen refusing a dropped closure) is not a trap: the widget
        // goes on.
        assert_eq!(
            run("seen.push(outcome(() => guarded.throws()), log.splice(0));
                 seen.push(outcome(() => guarded.fine()), log.splice(0));"),
            json!(["TypeError", ["throws"], 1, ["fine"]])
        );
        // A trap in a nested call that the outer one survives: stopped at once, recovered only
        // when the outer call has ended, when no frame of the module is left.
        assert_eq!(
            run("seen.push(outcome(() => guarded.outer()), log.splice(0));"),
            json!([
                7,
                [
                    "trap",
                    "stop",
                    "caught RuntimeError",
                    "outer returns",
                    "recover"
                ]
            ])
        );
        // A recovery that fails itself: the exception that stopped the widget goes on.
        assert_eq!(
            run(
                "exports.meterwall_recover = () => { throw new Error('recovery'); };
                 const again = __wbg_finalize_init({ exports });
                 seen.push(outcome(() => again.trap()), log.splice(0));"
            ),
            json!(["RuntimeError", ["trap", "stop"]])
        );
    }

    #[test]
    fn glue_names_follow_the_minified_wasm() {
        let glue = "const import0 = {\n    __proto__: null,\n    __wbg_a_1: function(arg0) { return wasm.mount(arg0); },\n    __wbg_b_2: function() { wasm.mountWith(); wasm.memory.buffer; },\n};\nreturn { \"./m_bg.js\": import0 };\n";
        let mapping = serde_json::json!({
            "imports": [["./m_bg.js", "__wbg_a_1", "a"], ["./m_bg.js", "__wbg_b_2", "$"]],
            "exports": [["mount", "b"], ["mountWith", "c"], ["memory", "d"]],
        });
        assert_eq!(
            rename_in_glue(glue, &mapping, "z").unwrap(),
            "const import0 = {\n    __proto__: null,\n    \"a\": function(arg0) { return wasm.b(arg0); },\n    \"$\": function() { wasm.c(); wasm.d.buffer; },\n};\nreturn { \"z\": import0 };\n"
        );
        // An import the glue does not define fails the build rather than the widget.
        let unknown =
            serde_json::json!({ "imports": [["./m_bg.js", "__wbg_c_3", "x"]], "exports": [] });
        assert!(rename_in_glue(glue, &unknown, "z")
            .unwrap_err()
            .contains("__wbg_c_3"));
    }

    #[test]
    fn the_wasm_goes_where_the_minified_script_names_it_once() {
        let bundle = inline_bundle("loader();", "glue();");
        assert!(bundle.starts_with("(function (wasmHex) {\nloader();\n"));
        assert!(bundle.ends_with("hexBytes(wasmHex) };\n}\n})(meterwallWasmHex);\n"));
        assert_eq!(
            with_wasm("!function(b){f(b)}(meterwallWasmHex);", b"\0asm").unwrap(),
            "//# allFunctionsCalledOnLoad\n!function(b){f(b)}(\"0061736d\");"
        );
        for script in [
            "!function(b){f(b)}();",
            "f(meterwallWasmHex, meterwallWasmHex)",
        ] {
            assert!(with_wasm(script, b"\0asm")
                .unwrap_err()
                .contains("exactly once"));
        }
    }

    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"\0", "00"),
            (b"\x0f\xf0", "0ff0"),
            (b"\0asm", "0061736d"),
            (b"\x9a\xff", "9aff"),
        ] {
            let mut out = String::new();
            hex(bytes, &mut out);
            assert_eq!(out, text, "{bytes:?}");
        }
    }
}
