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
//! and [`LINKING`] in the environment, naming the exports to leave out; run so, the program is
//! this linker ([`run`]) and not the command line. The crate's build script reruns when that list
//! changes, so the wasm is linked again. rustc shows a linker's messages only when linking fails,
//! so the build checks the linked wasm itself ([`still_exported`]).

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, ExitCode};

/// Set in the environment of the wasm's build to the exports to leave out, space-separated: the
/// program is run as the linker.
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
        (LINKING, OsString::from(UNUSED_EXPORTS.join(" "))),
    ]
}

/// Whether this program was run as the wasm's linker: [`LINKING`] set, and rust-lld's arguments
/// (`-flavor wasm` first).
pub fn is_linking(args: &[OsString]) -> bool {
    std::env::var_os(LINKING).is_some() && args.first().is_some_and(|a| a == "-flavor")
}

/// The exports of [`UNUSED_EXPORTS`] that the linked `wasm` still has (by name, in its bytes):
/// none when they were left out.
pub fn still_exported(wasm: &[u8]) -> Vec<&'static str> {
    UNUSED_EXPORTS
        .into_iter()
        .filter(|name| wasm.windows(name.len()).any(|w| w == name.as_bytes()))
        .collect()
}

/// `args` (rust-lld's, as rustc passes them) without `--export NAME` or `--export=NAME` for the
/// names in `unused`.
pub fn without_exports(args: &[OsString], unused: &[&str]) -> Vec<OsString> {
    let mut kept = Vec::with_capacity(args.len());
    let mut at = 0;
    while at < args.len() {
        let arg = args[at].to_str();
        if arg == Some("--export") {
            if let Some(name) = args.get(at + 1).and_then(|name| name.to_str()) {
                if unused.contains(&name) {
                    at += 2;
                    continue;
                }
            }
        }
        if arg
            .and_then(|a| a.strip_prefix("--export="))
            .is_some_and(|name| unused.contains(&name))
        {
            at += 1;
            continue;
        }
        kept.push(args[at].clone());
        at += 1;
    }
    kept
}

/// Runs rust-lld (from the `PATH` rustc gives its linker) on `args` less the exports named in
/// [`LINKING`]. Arguments passed in a file (rustc does so for a command line too long) are
/// linked as they are: the wasm is then bigger, not broken, and the build says so.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let names = std::env::var(LINKING).unwrap_or_default();
    let unused: Vec<&str> = names.split_whitespace().collect();
    let kept = without_exports(&args, &unused);
    match Command::new(OsStr::new("rust-lld")).args(&kept).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(
            status
                .code()
                .and_then(|code| u8::try_from(code).ok())
                .filter(|&code| code != 0)
                .unwrap_or(1),
        ),
        Err(error) => {
            eprintln!("xtask link: cannot run rust-lld: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{still_exported, without_exports};
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
            "--export=__abort_handler",
            "--export=mount_1",
            "in.o",
            "--export",
        ]);
        let kept = without_exports(&given, &["__wbg_jspi_task_poll", "__abort_handler"]);
        assert_eq!(
            kept,
            args(&[
                "-flavor",
                "wasm",
                "--export",
                "mount_1",
                "--export",
                "__wbg_jspi_task_poll_other",
                "--export=mount_1",
                "in.o",
                "--export",
            ])
        );
        // A name that is not an export's is not touched.
        let kept = without_exports(&args(&["__abort_handler"]), &["__abort_handler"]);
        assert_eq!(kept, args(&["__abort_handler"]));
    }

    #[test]
    fn a_name_left_in_the_wasm_is_found() {
        assert!(still_exported(b"\0asm...mount...").is_empty());
        assert_eq!(
            still_exported(b"\0asm..__abort_handler..__wbg_jspi_task_poll.."),
            ["__wbg_jspi_task_poll", "__abort_handler"]
        );
    }
}
