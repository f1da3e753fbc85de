//! Fuzzes the config parser with arbitrary JSON, as a publisher's config block could hold:
//! it returns a config or an error naming a path, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterwall::config::{Config, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match Config::from_value(&value) {
        Ok((config, _warnings)) => {
            let total = config.limit as usize
                + config.registered_limit as usize
                + config
                    .sections
                    .iter()
                    .map(|s| s.limit as usize)
                    .sum::<usize>();
            assert!(total < meterwall::config::MAX_ENTRIES);
        }
        Err(e) => assert!(!e.path.is_empty() && !e.to_string().is_empty()),
    }
});
