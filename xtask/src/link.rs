//! The wasm's linker: rust-lld, less a few exports of the widget's dependencies that nothing
//! uses.
//!
//! A `#[no_mangle]` function of a dependency is exported from the cdylib whether or not anything
//! calls it, and an export keeps alive everything it reaches. js-sys exports its JSPI task poll
//! (`__wbg_jspi_task_poll`, for `WebAssembly.promising`, which the widget does not use). Its
//! waker's functions then go into the function table; wasm-bindgen removes the export but not
//! the table's entries, so they and what they call were shipped: 275 bytes of wasm gzip, and 27
//! more for wasm-bindgen's abort-handler statics and JSPI flag (used only with JSPI imports or its
//! CLI's `--force-enable-abort-handler`). Leaving the exports out when the wasm is linked lets
//! the linker drop that code before it reaches a table.
//!
//! `cargo xtask` builds the wasm with cargo's linker for the wasm target set to its own program
//! and [`LINKING`] in the environment; run so, the program is this linker ([`run`]) and not the
//! command line.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, ExitCode};

/// Set in the environment of the wasm's build: the program is run as the linker.
pub const LINKING: &str = "METERWALL_XTASK_LINKER";

/// The exports left out, each only ever needed with a wasm-bindgen feature the widget does not
/// use.
pub const UNUSED_EXPORTS: [&str; 4] = [
    // js-sys's JSPI task poll, and wasm-bindgen's flag for a suspending import's rejection.
    "__wbg_jspi_task_poll",
    "__wbindgen_jspi_set_rejected",
    // wasm-bindgen's hard-abort handler and termination flag (`set_on_abort`).
    "__abort_handler",
    "__instance_terminated",
];

/// The environment for cargo that links the wasm through `program` (this one).
pub fn environment(program: &Path) -> [(&'static str, OsString); 2] {
    [
        (
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
            program.as_os_str().to_owned(),
        ),
        (LINKING, OsString::from("1")),
    ]
}

/// `args` (rust-lld's, as rustc passes them) without `--export NAME` for the names in `unused`,
/// and the names that were not there to leave out.
pub fn without_exports<'a>(args: &[OsString], unused: &[&'a str]) -> (Vec<OsString>, Vec<&'a str>) {
    let mut kept = Vec::with_capacity(args.len());
    let mut missing = unused.to_vec();
    let mut at = 0;
    while at < args.len() {
        if args[at] == "--export" {
            if let Some(name) = args.get(at + 1).and_then(|name| name.to_str()) {
                if unused.contains(&name) {
                    missing.retain(|&m| m != name);
                    at += 2;
                    continue;
                }
            }
        }
        kept.push(args[at].clone());
        at += 1;
    }
    (kept, missing)
}

/// Runs rust-lld (from the `PATH` rustc gives its linker) on `args` less [`UNUSED_EXPORTS`].
/// Says so, and links all the same, when rustc passed the arguments in a file, or when an export
/// to leave out is not there (a dependency changed): the wasm is then bigger, not broken.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let (kept, missing) = without_exports(&args, &UNUSED_EXPORTS);
    if args
        .iter()
        .any(|arg| arg.to_str().is_some_and(|a| a.starts_with('@')))
    {
        eprintln!(
            "xtask link: rustc passed the linker's arguments in a file; the unused exports \
             ({}) are linked as they are",
            UNUSED_EXPORTS.join(", ")
        );
    } else if !missing.is_empty() {
        eprintln!(
            "xtask link: no export {} to leave out (a dependency changed: update UNUSED_EXPORTS \
             in xtask/src/link.rs)",
            missing.join(", ")
        );
    }
    match Command::new(OsStr::new("rust-lld")).args(&kept).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(status.code().map_or(1, |code| code as u8)),
        Err(error) => {
            eprintln!("xtask link: cannot run rust-lld: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_exports;
    use std::ffi::OsString;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn only_the_named_exports_are_left_out() {
        let given = args(&[
            "-flavor",
            "wasm",
            "--export",
            "mount_1",
            "--export",
            "__wbg_jspi_task_poll",
            "--export",
            "__wbg_jspi_task_poll_other",
            "in.o",
            "--export",
        ]);
        let (kept, missing) = without_exports(&given, &["__wbg_jspi_task_poll", "__abort_handler"]);
        assert_eq!(
            kept,
            args(&[
                "-flavor",
                "wasm",
                "--export",
                "mount_1",
                "--export",
                "__wbg_jspi_task_poll_other",
                "in.o",
                "--export",
            ])
        );
        assert_eq!(missing, ["__abort_handler"]);
        // A name that is not an export's is not touched.
        let (kept, _) = without_exports(&args(&["__abort_handler"]), &["__abort_handler"]);
        assert_eq!(kept, args(&["__abort_handler"]));
    }
}
