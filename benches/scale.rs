//! How the meter scales with a reader's history: decision time, the record codec, and the size
//! of the stored record after 1 to 100,000 past views.
//!
//! The record only ever holds the current period's allowance (at most `MAX_ENTRIES` entries),
//! so every figure here should be flat in the history length: that is the point of measuring it.
//! Run with `cargo bench --bench scale`; it prints the size curve, then divan's timings.

// divan measures on the host; compiled for wasm32 (clippy --all-targets) the bench is empty.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    host::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use meterwall::article::ArticleKey;
    use meterwall::config::{Config, PageType};
    use meterwall::meter::{decide, register, Record, View};
    use meterwall::period::Utc;
    use meterwall::record::{decode, encode};

    /// Past views a reader has made, from a first visit to a heavy reader's years.
    const HISTORY: [u32; 6] = [1, 10, 100, 1_000, 10_000, 100_000];

    /// 2026-01-01T00:00:00Z: the history starts here.
    const START_MS: i64 = 1_767_225_600_000;
    /// Each view comes a few hours after the last: 100,000 views span about 34 years,
    /// 1,000 views about four months (several monthly periods).
    const STEP_MS: i64 = 3 * 3_600_000;

    /// The view of the `n`th distinct article.
    fn view(n: u32) -> View<'static> {
        View {
            key: ArticleKey(n.wrapping_mul(2_654_435_761)),
            page: PageType::Metered,
            section: None,
            subscriber: false,
        }
    }

    /// A reader's record after `views` distinct articles, one every `STEP_MS`. A registered reader
    /// registers on their fourth article (the first wall), so both allowances fill each month.
    fn history(views: u32, registered: bool) -> (Record, i64) {
        let config = Config::default();
        let mut record = Record::default();
        let mut now = START_MS;
        for n in 0..views {
            now = START_MS + i64::from(n) * STEP_MS;
            if registered && n == 3 {
                register(&mut record, &config, &view(n), now, &Utc);
            } else {
                decide(&mut record, &config, &view(n), now, &Utc);
            }
        }
        (record, now)
    }

    pub fn main() {
        println!("encoded record size (bytes) by past views, Config::default(), monthly period");
        println!(
            "{:>8}  {:>10} {:>8}  {:>10} {:>8}",
            "views", "anonymous", "entries", "registered", "entries"
        );
        for views in HISTORY {
            let (anonymous, _) = history(views, false);
            let (registered, _) = history(views, true);
            println!(
                "{views:>8}  {:>10} {:>8}  {:>10} {:>8}",
                encode(&anonymous).len(),
                anonymous.entries.len(),
                encode(&registered).len(),
                registered.entries.len()
            );
        }
        println!();
        divan::main();
    }

    /// One page view's decision on a record with `views` past views: decode the stored value,
    /// decide on a new article, encode it again (what the widget does between two storage calls).
    #[divan::bench(args = HISTORY)]
    fn page_view(bencher: divan::Bencher, views: u32) {
        let (record, now) = history(views, true);
        let stored = encode(&record);
        let config = Config::default();
        let next = view(views);
        bencher.bench(|| {
            let mut record = decode(divan::black_box(&stored)).unwrap_or_default();
            let decision = decide(&mut record, &config, &next, now + STEP_MS, &Utc);
            (decision, encode(&record))
        });
    }

    /// `meter::decide` alone, on a new article.
    #[divan::bench(args = HISTORY)]
    fn decide_only(bencher: divan::Bencher, views: u32) {
        let (record, now) = history(views, true);
        let config = Config::default();
        let next = view(views);
        bencher
            .with_inputs(|| record.clone())
            .bench_local_refs(|record| decide(record, &config, &next, now + STEP_MS, &Utc));
    }

    /// `record::decode` of the stored value.
    #[divan::bench(args = HISTORY)]
    fn decode_only(bencher: divan::Bencher, views: u32) {
        let stored = encode(&history(views, true).0);
        bencher
            .counter(divan::counter::BytesCount::new(stored.len()))
            .bench(|| decode(divan::black_box(&stored)));
    }

    /// `record::encode` of the record.
    #[divan::bench(args = HISTORY)]
    fn encode_only(bencher: divan::Bencher, views: u32) {
        let record = history(views, true).0;
        bencher.bench(|| encode(divan::black_box(&record)));
    }
}
