//! A bug must not break the page: after a trap the article is put back, and every later call
//! answers with an error.
//!
//! A panic aborts (`panic = "abort"`), and an abort in wasm is a trap: the module's frames end
//! where they are, their destructors unrun, and the browser throws a `WebAssembly.RuntimeError`
//! to the JS that called in. No panic hook runs here: installing one (`std::panic::set_hook`)
//! links the standard library's formatting of panic messages, 2 KB of wasm gzip, to format
//! messages that nobody reads. The glue answers instead: the build wraps each of the module's
//! exports (`guarded` in `xtask/src/build.rs`), and a trap makes it call [`meterwall_stop`] at
//! once and, once the outermost call into the module has ended, [`meterwall_recover`].

use super::*;

thread_local! {
    static POISONED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// After an internal error every call answers with this, rather than running on broken state.
pub(crate) fn check_poisoned() -> Result<(), JsValue> {
    if POISONED.with(|p| p.get()) {
        Err(JsValue::from_str(
            "[meterwall] stopped after an internal error; reload the page",
        ))
    } else {
        Ok(())
    }
}

/// The widget has failed (a bug): every later call is refused, and no event of the widget's but
/// its errors fires any more. Called by the glue's guard as the trap leaves the module, whatever
/// calls into it are still under way; it sets a flag only, never touching the page state.
#[no_mangle]
pub extern "C" fn meterwall_stop() {
    POISONED.with(|p| p.set(true));
}

/// After [`meterwall_stop`]: the article put back if it was gated, and one report. Called by the
/// glue's guard once, when the outermost call into the module has ended.
///
/// Only then: the page state is taken without asking its `RefCell`, and that is sound only while
/// no Rust frame is alive. The build checks that the glue enters the module through the exports
/// the guard wraps and no other way (`guarded` in `xtask/src/build.rs`), and the guard keeps this
/// function and [`meterwall_stop`] out of the exports it hands on.
#[no_mangle]
pub extern "C" fn meterwall_recover() {
    MOUNTED.with(|cell| {
        // SAFETY: no call into the module is under way (above), so no Rust frame is left that
        // could hold a borrow of the page state. A trap ends the frames that borrowed it without
        // their destructors, which leaves the cell's flag saying it is borrowed, with no borrow
        // behind it: the flag is not asked.
        let slot = unsafe { &mut *cell.as_ptr() };
        if let Some(mut m) = slot.take() {
            let _ = open_up(&mut m);
        }
    });
    report("internal error: meterwall has stopped and the article stays readable; a bug in meterwall: please report it with this console's messages");
}
