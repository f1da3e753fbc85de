//! The browser's `Intl`: the reader's calendar in any IANA zone. (Plural categories are the
//! built-in languages' own rules, `copy::Lang::plural`.)

use crate::period::{Calendar, CivilDate, Utc};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    pub type DateTimeFormat;

    // `catch`: an unknown time zone makes the constructor throw a RangeError.
    #[wasm_bindgen(constructor, catch, js_namespace = Intl, js_class = "DateTimeFormat")]
    fn new(locale: &str, options: &JsValue) -> Result<DateTimeFormat, JsValue>;

    #[wasm_bindgen(method, js_name = formatToParts)]
    fn format_to_parts(this: &DateTimeFormat, ms: f64) -> js_sys::Array;
}

/// A calendar for an IANA zone; `UTC` is computed without Intl.
pub enum ZoneCalendar {
    /// The UTC fast path.
    Utc,
    /// Any other zone, through `Intl.DateTimeFormat`.
    Intl(DateTimeFormat),
}

impl ZoneCalendar {
    /// The calendar of `zone`, or `None` if the browser does not know the zone.
    pub fn new(zone: &str) -> Option<ZoneCalendar> {
        if zone.eq_ignore_ascii_case("utc") {
            return Some(ZoneCalendar::Utc);
        }
        // The fixed options as one JSON text (the browser's parser is linked anyway, for the
        // preview's structured data), not five keys and values set in turn (63 bytes of wasm,
        // gzip).
        let options = js_sys::JSON::parse(
            r#"{"year":"numeric","month":"numeric","day":"numeric","calendar":"gregory","numberingSystem":"latn"}"#,
        )
        .ok()?;
        super::reflect::set(&options, "timeZone", &zone.into()).ok()?;
        DateTimeFormat::new("en-US", &options)
            .ok()
            .map(ZoneCalendar::Intl)
    }
}

impl Calendar for ZoneCalendar {
    fn date_at(&self, ms: i64) -> CivilDate {
        let ZoneCalendar::Intl(format) = self else {
            return Utc.date_at(ms);
        };
        let mut date = CivilDate {
            year: 1970,
            month: 1,
            day: 1,
        };
        // By index, as the array's iterator would go, without the iterator (87 bytes of wasm,
        // gzip, with the same in `preview::collect`).
        let parts = format.format_to_parts(ms as f64);
        for i in 0..parts.length() {
            let part = parts.get(i);
            let field = |name: &str| super::reflect::value(&part, name);
            // The type compared in JS (`===`), not copied out as a `String`.
            let kind = field("type");
            let Some(n) = field("value")
                .as_string()
                .and_then(|v| crate::config::int_value(&v))
                .map(|n| n as i32)
            else {
                continue;
            };
            if kind == "year" {
                date.year = n;
            } else if kind == "month" {
                date.month = n as u8;
            } else if kind == "day" {
                date.day = n as u8;
            }
        }
        date
    }
}
