//! What a reader downloads, raw and compressed; and `cargo xtask size`: what makes the wasm big,
//! and which build settings make it smallest.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::process::Command;

use crate::build::{self, DIST, OUT_NAME};
use crate::error::{Error, Result};
use crate::provision;
use crate::shell;

/// The files a reader's browser fetches: the loader, the wasm-bindgen glue and the module.
const READER_FILES: [&str; 3] = [
    "meterwall.js",
    "meterwall_wasm.js",
    "meterwall_wasm_bg.wasm",
];

/// Bytes on disk and over the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

impl Sizes {
    /// Measures `bytes` raw, gzipped at level 9 and brotli'd at quality 11, window 22 (the
    /// settings servers use to precompress static files).
    ///
    /// # Errors
    ///
    /// Only if a compressor fails, which writing to memory does not.
    pub fn of(bytes: &[u8]) -> io::Result<Self> {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
        gzip.write_all(bytes)?;
        let gzip = gzip.finish()?.len();

        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        let mut brotli = Vec::new();
        brotli::enc::BrotliCompress(&mut &bytes[..], &mut brotli, &params)?;

        Ok(Sizes {
            raw: bytes.len(),
            gzip,
            brotli: brotli.len(),
        })
    }

    fn read(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).map_err(|source| Error::io(path, source))?;
        Sizes::of(&bytes).map_err(|source| Error::io(path, source))
    }
}

/// Prints the table of what a reader downloads from `dist`, with the total. Each file is its own
/// response, so the total adds up sizes compressed one by one.
///
/// # Errors
///
/// When a file is missing.
pub fn print_downloads(dist: &Path) -> Result<()> {
    let mut rows = Vec::new();
    for file in READER_FILES {
        rows.push((file.to_owned(), Sizes::read(&dist.join(file))?));
    }
    let total = rows.iter().fold(Sizes::default(), |sum, (_, sizes)| Sizes {
        raw: sum.raw + sizes.raw,
        gzip: sum.gzip + sizes.gzip,
        brotli: sum.brotli + sizes.brotli,
    });
    rows.push(("total".to_owned(), total));
    shell::announce("what a reader downloads (bytes; gzip -9, brotli q11 w22)");
    print!("{}", table("file", &rows));
    Ok(())
}

/// The one-request variant's size (`cargo xtask build` writes it beside the default files).
///
/// # Errors
///
/// When the file cannot be read.
pub fn print_inline(dist: &Path) -> Result<()> {
    let rows = [(
        crate::build::INLINE.to_owned(),
        Sizes::read(&dist.join(crate::build::INLINE))?,
    )];
    shell::announce("the one-request variant: loader, glue and wasm (as hex) in one script");
    print!("{}", table("file", &rows));
    Ok(())
}

/// The README's anti-flicker snippet, which publishers inline in every article's `<head>`.
///
/// # Errors
///
/// When the README has no snippet.
pub fn print_snippet(root: &Path) -> Result<()> {
    let snippet = crate::bench::readme_snippet(root)?;
    let rows = [(
        "anti-flicker snippet (README)".to_owned(),
        Sizes::of(snippet.as_bytes())
            .map_err(|source| Error::io(Path::new("README.md"), source))?,
    )];
    shell::announce("inline in the page's <head>");
    print!("{}", table("snippet", &rows));
    Ok(())
}

/// A fixed-width table: a name column, then raw, gzip and brotli right-aligned.
fn table(first_column: &str, rows: &[(String, Sizes)]) -> String {
    let width = rows
        .iter()
        .map(|(name, _)| name.len())
        .chain([first_column.len()])
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "{first_column:<width$} {:>8} {:>8} {:>8}\n",
        "raw", "gzip", "brotli"
    );
    for (name, sizes) in rows {
        text += &format!(
            "{name:<width$} {:>8} {:>8} {:>8}\n",
            sizes.raw, sizes.gzip, sizes.brotli
        );
    }
    text
}

/// `cargo xtask size`: builds, prints the download table, the 25 largest items of the wasm (twiggy,
/// on a build that keeps function names), and the wasm's size under each build setting.
///
/// # Errors
///
/// When a build or tool fails.
pub fn size(root: &Path) -> Result<()> {
    let tools = provision::tools(root)?;
    build::build(root, &tools, None)?;
    print_snippet(root)?;
    let twiggy = provision::twiggy()?;

    // Names: the release build unstripped, in its own target directory. Before wasm-opt, which
    // would rename and merge functions.
    let names = "target/size/names";
    let wasm = build::cargo_wasm(
        root,
        Some(names),
        &[
            ("CARGO_PROFILE_RELEASE_STRIP", "false"),
            ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
        ],
    )?;
    let out = root.join(names).join("bindgen");
    build::bindgen(root, &tools, &wasm, &out, "web", false)?;
    let module = Path::new(names).join(format!("bindgen/{OUT_NAME}_bg.wasm"));
    shell::announce(
        "the 25 largest items of the wasm, before wasm-opt (the \"function names\" subsection \
         is there for this listing only; readers get the stripped build)",
    );
    shell::run(
        Command::new(&twiggy)
            .current_dir(root)
            .args(["top", "-n", "25"])
            .arg(&module),
    )?;

    // The same module after wasm-opt, as readers get it but with its names, added up by module.
    let optimized = Path::new(names).join(format!("bindgen/{OUT_NAME}_bg-Oz-named.wasm"));
    build::wasm_opt_keeping_names(root, &tools, &root.join(&module), &root.join(&optimized))?;
    let items = shell::capture(
        Command::new(&twiggy)
            .current_dir(root)
            .args(["top", "-n", "1000000", "--format", "json"])
            .arg(&optimized),
    )?;
    let items: Vec<serde_json::Value> = serde_json::from_str(&items)
        .map_err(|error| Error::Check(format!("twiggy's JSON does not parse: {error}")))?;
    let items: Vec<(String, usize)> = items
        .iter()
        .filter_map(|item| {
            let size = item["shallow_size"].as_u64()?;
            Some((
                item["name"].as_str()?.to_owned(),
                usize::try_from(size).ok()?,
            ))
        })
        .collect();
    shell::announce(
        "the wasm after wasm-opt as built by part (bytes before compression; our modules, then other \
         crates whole; the names kept for this listing only)",
    );
    print!("{}", parts_table(&by_part(&items, &crate_modules(root)?)));

    // Variants: rustc opt-level against wasm-opt pass, each build in its own target directory.
    let mut rows = Vec::new();
    for level in ["z", "s"] {
        let dir = format!("target/size/opt-{level}");
        let wasm = build::cargo_wasm(
            root,
            Some(&dir),
            &[("CARGO_PROFILE_RELEASE_OPT_LEVEL", level)],
        )?;
        let out = root.join(&dir).join("bindgen");
        build::bindgen(root, &tools, &wasm, &out, "web", false)?;
        let module = out.join(format!("{OUT_NAME}_bg.wasm"));
        rows.push((
            format!("opt-level={level}, no wasm-opt"),
            Sizes::read(&module)?,
        ));
        let passes: [(&str, &[&str]); 3] = [
            ("-Oz", &["-Oz"]),
            ("-Os", &["-Os"]),
            (
                "-Oz, rereloop, -Oz, merged, monomorphized, -Oz, converged",
                &build::PASSES,
            ),
        ];
        for (name, passes) in passes {
            let file = format!("{OUT_NAME}_bg{}.wasm", passes.join(""));
            let optimized = root.join(&dir).join(file);
            build::wasm_opt(root, &tools, passes, &module, &optimized)?;
            rows.push((
                format!("opt-level={level}, wasm-opt {name}"),
                Sizes::read(&optimized)?,
            ));
        }
    }

    // Link-time optimisation: fat (Cargo.toml), thin, off; opt-level z, wasm-opt -Oz.
    for lto in ["thin", "off"] {
        let dir = format!("target/size/lto-{lto}");
        let wasm = build::cargo_wasm(root, Some(&dir), &[("CARGO_PROFILE_RELEASE_LTO", lto)])?;
        rows.push((
            format!("lto={lto}, wasm-opt -Oz"),
            bound_and_optimized(root, &tools, &tools.wasm_opt, &wasm, &dir)?,
        ));
    }

    // The built-in copy in English alone (`cargo xtask build --languages en`), against all four.
    let dir = "target/size/english";
    let wasm = build::cargo_wasm_with(root, Some(dir), &[], Some(""))?;
    rows.push((
        "English copy alone (build --languages en), wasm-opt -Oz".to_owned(),
        bound_and_optimized(root, &tools, &tools.wasm_opt, &wasm, dir)?,
    ));

    // Debian's binaryen 108 against the pinned npm one, on the same module. Optional: where it
    // cannot be installed (not root), the reason and the fix are printed and the rest goes on.
    match provision::debian_wasm_opt() {
        Ok(debian) => {
            let version = shell::probe(&debian, &["--version"]).unwrap_or_default();
            let module = root.join(format!("target/size/opt-z/bindgen/{OUT_NAME}_bg.wasm"));
            let optimized = root.join("target/size/opt-z/debian-Oz.wasm");
            build::wasm_opt_with(root, &debian, &["-Oz"], &module, &optimized)?;
            rows.push((format!("Debian {version} -Oz"), Sizes::read(&optimized)?));
        }
        Err(error) => println!("    Debian's wasm-opt not measured: {error}"),
    }

    // What std's panic and formatting machinery costs: the standard library rebuilt for size,
    // panics as a bare trap (nightly only; not what `cargo xtask build` ships, see
    // `docs/performance.md`, "Size").
    provision::nightly_std()?;
    let dir = "target/size/immediate-abort";
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .envs(build::linked_by_xtask()?)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env(
            "RUSTFLAGS",
            "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none",
        )
        .args(["+nightly", "rustc", "-p", "meterwall", "--release", "--lib"])
        .args(["--crate-type", "cdylib"])
        .args(["--target", provision::WASM_TARGET, "--target-dir", dir])
        .args([
            "-Zbuild-std=std,panic_abort",
            "-Zbuild-std-features=optimize_for_size",
        ]);
    shell::run(&mut cmd)?;
    let wasm = root
        .join(dir)
        .join(provision::WASM_TARGET)
        .join("release/meterwall.wasm");
    build::check_unused_exports(&wasm)?;
    rows.push((
        "nightly build-std, panic=immediate-abort, -Oz".to_owned(),
        bound_and_optimized(root, &tools, &tools.wasm_opt, &wasm, dir)?,
    ));

    shell::announce(&format!(
        "{OUT_NAME}_bg.wasm by build setting (bytes, before the names are minified; `cargo xtask \
         build` is opt-level z, fat LTO, binaryen {} wasm-opt -Oz; see {DIST})",
        provision::BINARYEN_VERSION
    ));
    print!("{}", table("variant", &rows));
    Ok(())
}

/// Which part of the widget a twiggy item (a function, a data segment, a section) belongs to:
/// the module of this crate it is in (the longest of `modules` it starts with, such as
/// `meterwall::web::gate`), another crate whole (`core`, `js_sys`), the data segments,
/// wasm-bindgen's generated shims, or `None` for what readers never get (the names and other
/// custom sections, which the build strips).
fn part_of(item: &str, modules: &[String]) -> Option<String> {
    if item.ends_with("subsection") || item.starts_with("custom section") {
        return None;
    }
    if item.starts_with("data segment") {
        return Some("data (text, CSS, tables)".to_owned());
    }
    if item.starts_with("import ") {
        return Some("imports".to_owned());
    }
    // `<meterwall::config::Value as core::clone::Clone>::clone`, `<str>::trim`,
    // `<&serde_wasm_bindgen::ser::Serializer as …>`: the type's own path.
    let path = match item.strip_prefix('<') {
        Some(rest) => {
            let end = rest
                .find(" as ")
                .or_else(|| rest.find('>'))
                .unwrap_or(rest.len());
            let ty = rest[..end].trim_start_matches(['&', '[', '*']);
            let ty = ty.strip_prefix("mut ").unwrap_or(ty);
            // A primitive (`str`, `char`, `[u8]`) is the core library's.
            if !ty.contains("::") {
                return Some("core".to_owned());
            }
            ty
        }
        None => item,
    };
    if !path.contains("::") {
        let glue = path.ends_with(" shim") || path.starts_with("export ") || path.starts_with("__");
        return Some(if glue { "wasm-bindgen glue" } else { "other" }.to_owned());
    }
    // Up to the first generic argument, each segment without a `[hash]` (the standard library's
    // crates carry one).
    let path = path.split('<').next().unwrap_or(path);
    let segments: Vec<&str> = path
        .split("::")
        .map(|segment| segment.split('[').next().unwrap_or(segment))
        .collect();
    match segments[0] {
        "meterwall" => modules
            .iter()
            .filter(|module| {
                let module: Vec<&str> = module.split("::").collect();
                segments.len() > module.len() && segments[..module.len()] == module[..]
            })
            .max_by_key(|module| module.len())
            .cloned()
            .or_else(|| Some("meterwall".to_owned())),
        // rustc's allocator shims, which call the global allocator.
        "__rustc" => Some("std".to_owned()),
        // Closures' bodies are compiled into these shims, and a type's drop glue carries core's
        // name: this crate's code mostly, but twiggy cannot say whose.
        "core" if segments.get(1..3) == Some(&["ops", "function"][..]) => {
            Some("closures (core::ops::function)".to_owned())
        }
        "core" if segments.get(1..3) == Some(&["ptr", "drop_in_place"][..]) => {
            Some("drop glue (core::ptr::drop_in_place)".to_owned())
        }
        krate => Some(krate.to_owned()),
    }
}

/// This crate's modules, from its source files: `meterwall` (lib.rs), `meterwall::config`,
/// `meterwall::web` (web/mod.rs), `meterwall::web::gate`, and so on.
fn crate_modules(root: &Path) -> Result<Vec<String>> {
    let mut modules = vec!["meterwall".to_owned()];
    for (dir, prefix) in [("src", "meterwall"), ("src/web", "meterwall::web")] {
        let dir = root.join(dir);
        for entry in fs::read_dir(&dir).map_err(|error| Error::io(&dir, error))? {
            let path = entry.map_err(|error| Error::io(&dir, error))?.path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let source =
                path.extension().is_some_and(|e| e == "rs") && !["lib", "mod"].contains(&stem);
            if path.is_dir() || source {
                modules.push(format!("{prefix}::{stem}"));
            }
        }
    }
    Ok(modules)
}

/// Bytes per part (see [`part_of`]), largest first.
fn by_part(items: &[(String, usize)], modules: &[String]) -> Vec<(String, usize)> {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for (name, size) in items {
        let Some(part) = part_of(name, modules) else {
            continue;
        };
        match parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, total)) => *total += size,
            None => parts.push((part, *size)),
        }
    }
    parts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    parts
}

/// The parts with their bytes and share of the whole.
fn parts_table(parts: &[(String, usize)]) -> String {
    let total: usize = parts.iter().map(|(_, size)| size).sum();
    let width = parts.iter().map(|(p, _)| p.len()).max().unwrap_or(0).max(5);
    let mut out = String::new();
    for (part, size) in parts.iter().chain([(String::from("total"), total)].iter()) {
        let share = if total == 0 {
            0.0
        } else {
            *size as f64 * 100.0 / total as f64
        };
        out.push_str(&format!("{part:<width$} {size:>8} {share:>5.1}%\n"));
    }
    out
}

/// wasm-bindgen of `wasm` into `<dir>/bindgen`, then `wasm_opt -Oz`: the module's size.
fn bound_and_optimized(
    root: &Path,
    tools: &provision::Tools,
    wasm_opt: &Path,
    wasm: &Path,
    dir: &str,
) -> Result<Sizes> {
    let out = root.join(dir).join("bindgen");
    build::bindgen(root, tools, wasm, &out, "web", false)?;
    let module = out.join(format!("{OUT_NAME}_bg.wasm"));
    let optimized = root.join(dir).join(format!("{OUT_NAME}_bg-Oz.wasm"));
    build::wasm_opt_with(root, wasm_opt, &["-Oz"], &module, &optimized)?;
    Sizes::read(&optimized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_add_up_by_module_or_crate() {
        let modules: Vec<String> = [
            "meterwall",
            "meterwall::config",
            "meterwall::copy",
            "meterwall::web",
            "meterwall::web::intl",
        ]
        .map(String::from)
        .to_vec();
        for (item, part) in [
            ("meterwall::config::Config::from_value::h7f11e59d36f81031", Some("meterwall::config")),
            ("meterwall::web::mount_with::h56b346bb1a6b4a0c", Some("meterwall::web")),
            ("meterwall::config::nearest::{{closure}}::h6bdd97fd4fe2a8a2", Some("meterwall::config")),
            ("meterwall::copy::fill::push::he84a93c674fe0952", Some("meterwall::copy")),
            ("meterwall::mount::h1", Some("meterwall")),
            ("<meterwall::config::Value as core::clone::Clone>::clone::h80174ab7d190b8cc", Some("meterwall::config")),
            ("<meterwall::web::intl::ZoneCalendar as meterwall::period::Calendar>::date_at::h725d563bc6e9e286", Some("meterwall::web::intl")),
            ("core::ptr::drop_in_place<meterwall::config::Config>::haace62c068dd70dc", Some("drop glue (core::ptr::drop_in_place)")),
            ("core::ops::function::FnOnce::call_once{{vtable.shim}}::h98fc1f94c977346e", Some("closures (core::ops::function)")),
            ("core::str::<impl str>::trim_start_matches::h67f99f85c33e2c71", Some("core")),
            ("<core[c5930c85a12de822]::fmt::Formatter>::pad", Some("core")),
            ("<str>::trim", Some("core")),
            ("<[u8]>::starts_with", Some("core")),
            ("<[core::mem::maybe_uninit::MaybeUninit<T>] as core::array::iter::iter_inner::PartialDrop>::partial_drop::h2", Some("core")),
            ("<&serde_wasm_bindgen::ser::Serializer as serde_core::ser::Serializer>::serialize_str::h3", Some("serde_wasm_bindgen")),
            ("std[a543996e6e7dbf1e]::panicking::default_hook", Some("std")),
            ("__rustc[b7974e8690430dd9]::__rust_realloc", Some("std")),
            ("web_sys::features::gen_Node::Node::append_child::h1", Some("web_sys")),
            ("data segment \".rodata.2\"", Some("data (text, CSS, tables)")),
            ("import ./meterwall_wasm_bg.js::a", Some("imports")),
            ("state externref shim", Some("wasm-bindgen glue")),
            ("__externref_table_alloc", Some("wasm-bindgen glue")),
            ("memcmp", Some("other")),
            ("\"function names\" subsection", None),
            ("custom section 'producers'", None),
        ] {
            assert_eq!(part_of(item, &modules).as_deref(), part, "{item}");
        }
        let parts = by_part(
            &[
                ("meterwall::config::err::h49fe9d0dea112720".to_owned(), 10),
                ("core::str::trim::h1".to_owned(), 5),
                ("meterwall::config::url::h117d5299e0e8974f".to_owned(), 7),
                ("\"function names\" subsection".to_owned(), 1000),
            ],
            &modules,
        );
        assert_eq!(
            parts,
            [("meterwall::config".to_owned(), 17), ("core".to_owned(), 5)]
        );
        assert!(parts_table(&parts).ends_with("total                   22 100.0%\n"));
    }

    #[test]
    fn compressed_sizes_are_smaller_for_repetitive_text() {
        let text = "meterwall ".repeat(1000);
        let sizes = Sizes::of(text.as_bytes()).unwrap();
        assert_eq!(sizes.raw, 10_000);
        assert!(sizes.gzip < 200, "{sizes:?}");
        assert!(sizes.brotli < 200, "{sizes:?}");
    }

    #[test]
    fn table_aligns_columns_to_the_longest_name() {
        let rows = [
            (
                "meterwall.js".to_owned(),
                Sizes {
                    raw: 1834,
                    gzip: 801,
                    brotli: 690,
                },
            ),
            (
                "meterwall_wasm_bg.wasm".to_owned(),
                Sizes {
                    raw: 61234,
                    gzip: 21000,
                    brotli: 18000,
                },
            ),
        ];
        let text = table("file", &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "file                        raw     gzip   brotli"
        );
        assert_eq!(
            lines[1],
            "meterwall.js               1834      801      690"
        );
        assert_eq!(
            lines[2],
            "meterwall_wasm_bg.wasm    61234    21000    18000"
        );
    }
}
