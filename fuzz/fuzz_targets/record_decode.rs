//! Fuzzes the stored-record decoder: whatever sits under our storage key, reading it never
//! panics, and whatever reads as a record writes back to the same text's meaning.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterwall::record::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(record) = decode(text) {
        let again = encode(&record);
        assert!(
            again.len() < 6_656,
            "a record that reads must fit the size bound"
        );
        assert_eq!(decode(&again), Ok(record));
    }
});
