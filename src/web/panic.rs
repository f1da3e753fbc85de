//! A bug must not break the page: the panic hook that puts the article back, and the flag
//! that makes every later call answer with an error.

use super::*;

thread_local! {
    static POISONED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Set while the widget's own code runs: only its panics stop it (a test harness or another
    /// module sharing this instance may panic for its own reasons).
    static ACTIVE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Whether the panic hook is installed.
    static HOOKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the widget's code as running for as long as it lives.
pub(crate) struct Active;

impl Active {
    pub(crate) fn enter() -> Active {
        ACTIVE.with(|a| a.set(a.get() + 1));
        Active
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(a.get().saturating_sub(1)));
    }
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

/// A panic (a bug) must leave the page readable and say so once: put the article back if it
/// was gated, report, and refuse later calls. The previous hook (a test harness's) still runs.
pub(super) fn install_panic_hook() {
    // Once: a flag rather than `std::sync::Once`, whose poisoning and reentrancy checks and their
    // messages a single-threaded module does not need.
    if !HOOKED.with(|h| h.replace(true)) {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = ACTIVE.with(|a| a.get()) > 0;
            if ours && !POISONED.with(|p| p.replace(true)) {
                forget_held();
                MOUNTED.with(|cell| {
                    if let Ok(mut slot) = cell.try_borrow_mut() {
                        if let Some(mut m) = slot.take() {
                            let _ = open_up(&mut m);
                        }
                    }
                });
                report("internal error: meterwall has stopped and the article stays readable; please report this to the publisher");
            }
            previous(info);
        }));
    }
}
