//! The one door to localStorage: a probe that never throws into Rust, and the meter record.
//!
//! `window.localStorage` itself throws a `SecurityError` when the reader blocks site data, and
//! gloo-storage's handle throws rather than returning an error in that case, so the probe asks
//! `Window::local_storage` (which catches) before gloo-storage's raw handle is ever touched.

use crate::meter::{Hint, Record};
use crate::record::{
    decode, encode, newer_token, RecordError, HINT_KEY, HINT_WALL, MAX_STORED, STORAGE_KEY,
    UNREADABLE_KEY,
};
use gloo_storage::{LocalStorage, Storage as _};
use wasm_bindgen::prelude::*;
use web_sys::Storage;

#[wasm_bindgen]
extern "C" {
    /// A `Storage` seen through a `getItem` that answers with the JS value, so an oversized
    /// value is measured before a byte of it is copied into the module's memory.
    type RawStorage;

    // `catch`: a revoked storage throws.
    #[wasm_bindgen(method, catch, js_name = getItem)]
    fn get_item(this: &RawStorage, key: &str) -> Result<JsValue, JsValue>;

    // The value as `getItem` gave it, never copied into the module's memory. `catch`: a full
    // storage throws.
    #[wasm_bindgen(method, catch, js_name = setItem)]
    fn set_value(this: &RawStorage, key: &str, value: &JsValue) -> Result<(), JsValue>;
}

/// Why the record could not be read or kept.
pub enum StoreError {
    /// Storage is blocked or missing: the meter runs in memory for this page.
    Unavailable,
    /// The write was refused (quota, or storage revoked): this view is not remembered.
    WriteFailed,
    /// The stored value was not a readable record; a fresh one replaces it (after [`keep_aside`])
    /// unless it is a newer version's.
    Unreadable(RecordError),
}

/// The reader's localStorage, or `None` when the browser will not give it.
pub fn probe() -> Option<Storage> {
    let window = web_sys::window()?;
    match window.local_storage() {
        // Only now, with storage known to be there, is gloo-storage's handle safe to take.
        Ok(Some(_)) => Some(LocalStorage::raw()),
        _ => None,
    }
}

/// Reads the record. A missing value is a fresh record; an unreadable one, or no storage at all
/// (`None`, as [`probe`] may answer), is a fresh record and the cause. The mount's storage is
/// passed as it was probed, so that its fresh record is not made a second time there (40 bytes
/// of wasm, gzip).
pub fn load(storage: Option<&Storage>) -> (Record, Option<StoreError>) {
    // The fresh record of a failure made in one place, not in each (23 bytes of wasm, gzip),
    // and that of a missing value there too.
    // A newer version's record gives its token (every version keeps it last), so that a
    // subscriber stays one on a page of this version.
    let mut token = None;
    let (record, problem) = match read(storage, &mut token) {
        Ok(record) => (record, None),
        Err(e) => (None, Some(e)),
    };
    let mut record = record.unwrap_or_default();
    if token.is_some() {
        record.token = token;
    }
    (record, problem)
}

/// The stored record; `None` when there is none. A newer version's record puts its subscriber's
/// token in `token`.
fn read(
    storage: Option<&Storage>,
    token: &mut Option<String>,
) -> Result<Option<Record>, StoreError> {
    let value = storage
        .ok_or(StoreError::Unavailable)?
        .unchecked_ref::<RawStorage>()
        .get_item(STORAGE_KEY)
        .map_err(|_| StoreError::Unavailable)?;
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    let too_large = value
        .dyn_ref::<js_sys::JsString>()
        .is_none_or(|s| super::reflect::length(s) as usize > MAX_STORED);
    if too_large {
        return Err(StoreError::Unreadable(RecordError::TooLarge));
    }
    // A string, as just checked; were it none, "" is as malformed.
    let text = value.as_string().unwrap_or_default();
    decode(&text).map(Some).map_err(|e| {
        if e == RecordError::NewerVersion {
            *token = newer_token(&text);
        }
        StoreError::Unreadable(e)
    })
}

/// What became of an unreadable value that a fresh record is about to replace ([`keep_aside`]).
pub enum Aside {
    /// Copied, as it was, under [`UNREADABLE_KEY`].
    Kept,
    /// Storage refused the copy (full, or revoked).
    Refused,
    /// Over 16 KB, not ours by that alone: not copied, so that it does not hold on to the site's
    /// storage.
    TooLarge,
    /// Gone since it was read (a reset, another tab): nothing to keep.
    Gone,
}

/// Copies the value under the record's key to [`UNREADABLE_KEY`] as it is (a JS string, never
/// brought into the module's memory), just before a page that saves replaces it; a page that does
/// not save (a preview, a newer version's record) never calls this, so writes nothing. A later
/// unreadable value replaces an earlier copy.
pub fn keep_aside(storage: &Storage) -> Aside {
    let raw = storage.unchecked_ref::<RawStorage>();
    let Ok(value) = raw.get_item(STORAGE_KEY) else {
        return Aside::Refused;
    };
    if value.is_null() || value.is_undefined() {
        return Aside::Gone;
    }
    if value
        .dyn_ref::<js_sys::JsString>()
        .is_some_and(|s| super::reflect::length(s) as usize > MAX_STORED)
    {
        return Aside::TooLarge;
    }
    match raw.set_value(UNREADABLE_KEY, &value) {
        Ok(()) => Aside::Kept,
        Err(_) => Aside::Refused,
    }
}

/// Whether storage holds a meter record at all (readable or not). A second `getItem` after
/// [`load`], made only when a page merges (a reader's step, another tab's change): measured, a
/// `load` that told a missing record apart made every reader's wasm 110 bytes larger (gzip).
pub fn present(storage: &Storage) -> bool {
    storage
        .unchecked_ref::<RawStorage>()
        .get_item(STORAGE_KEY)
        .is_ok_and(|v| !v.is_null() && !v.is_undefined())
}

/// Writes the record and the anti-flicker hint under meterwall's two keys; nothing else in
/// storage is touched.
pub fn save(storage: &Storage, record: &Record, hint: Hint) -> Result<(), StoreError> {
    storage
        .set_item(STORAGE_KEY, &encode(record))
        .map_err(|_| StoreError::WriteFailed)?;
    // A hint that cannot be written is only a missed optimisation, never an error.
    let at = match hint {
        Hint::Free => {
            let _ = storage.remove_item(HINT_KEY);
            return Ok(());
        }
        Hint::Wall => None,
        Hint::WallFrom(at) => Some(at),
        // Negative: walled until then (the snippet compares `-h` with now).
        Hint::WallUntil(at) => Some(-at),
    };
    // One write for the three hints that are written (59 bytes of wasm before
    // compression).
    let text = at.map(crate::config::int_text);
    let _ = storage.set_item(HINT_KEY, text.as_deref().unwrap_or(HINT_WALL));
    Ok(())
}

/// Forgets the kept token in storage on a logout (`setToken(null)`) that no page saves: where no
/// page is mounted to decide (a logout page without an article, or after a config that failed),
/// or where the page saves nothing (over a newer version's record, whose token alone is taken
/// off; a preview; storage refused by the page's policy). A hint that the next page is walled
/// from when the token lapses says walled from now; one of walled until a time, or none, still
/// holds.
pub fn forget_token(storage: &Storage) {
    let (mut record, problem) = load(Some(storage));
    let Some(token) = record.token.take() else {
        return;
    };
    // The text written back, and how much of its end is cut off: this record without the token,
    // or a newer version's as stored (every version keeps the token last, after a `~`: taken off
    // there, the rest left as that version wrote it). One write for both (9 bytes of wasm, gzip).
    let (text, cut) = match problem {
        None => (encode(&record), 0),
        // (Nothing stored since: "" is shorter than any cut, so nothing is written.)
        Some(StoreError::Unreadable(RecordError::NewerVersion)) => (
            raw(storage, STORAGE_KEY).unwrap_or_default(),
            token.len() + 1,
        ),
        _ => return,
    };
    let forgot = text
        .len()
        .checked_sub(cut)
        .and_then(|end| text.get(..end))
        .is_some_and(|kept| storage.set_item(STORAGE_KEY, kept).is_ok());
    if forgot && raw(storage, HINT_KEY).is_some_and(|h| !h.starts_with('-')) {
        let _ = storage.set_item(HINT_KEY, HINT_WALL);
    }
}

/// The text stored under `key`, if any.
fn raw(storage: &Storage, key: &str) -> Option<String> {
    storage
        .unchecked_ref::<RawStorage>()
        .get_item(key)
        .ok()
        .and_then(|v| v.as_string())
}

/// Forgets the record, the hint and any unreadable value kept.
pub fn clear(storage: &Storage) {
    // A failure here leaves the old record, which is what the reader had anyway. Three calls,
    // not a loop over an array of the keys, which was built on the stack (9 bytes of wasm, gzip).
    let _ = storage.remove_item(STORAGE_KEY);
    let _ = storage.remove_item(HINT_KEY);
    let _ = storage.remove_item(UNREADABLE_KEY);
}
