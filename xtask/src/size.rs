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
        for pass in ["-Oz", "-Os"] {
            let optimized = root.join(&dir).join(format!("{OUT_NAME}_bg{pass}.wasm"));
            build::wasm_opt(root, &tools, pass, &module, &optimized)?;
            rows.push((
                format!("opt-level={level}, wasm-opt {pass}"),
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

    // Debian's binaryen 108 against the pinned npm one, on the same module. Optional: where it
    // cannot be installed (not root), the reason and the fix are printed and the rest goes on.
    match provision::debian_wasm_opt() {
        Ok(debian) => {
            let version = shell::probe(&debian, &["--version"]).unwrap_or_default();
            let module = root.join(format!("target/size/opt-z/bindgen/{OUT_NAME}_bg.wasm"));
            let optimized = root.join("target/size/opt-z/debian-Oz.wasm");
            build::wasm_opt_with(root, &debian, "-Oz", &module, &optimized)?;
            rows.push((format!("Debian {version} -Oz"), Sizes::read(&optimized)?));
        }
        Err(error) => println!("    Debian's wasm-opt not measured: {error}"),
    }

    // What std's panic and formatting machinery costs: the standard library rebuilt for size,
    // panics as a bare trap (nightly only; not what `cargo xtask build` ships, see README "Size").
    provision::nightly_std()?;
    let dir = "target/size/immediate-abort";
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
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
    build::wasm_opt_with(root, wasm_opt, "-Oz", &module, &optimized)?;
    Sizes::read(&optimized)
}

#[cfg(test)]
mod tests {
    use super::*;

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
