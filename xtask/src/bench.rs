//! `cargo xtask bench`: what meterwall costs a reader's page load, in headless Chrome and Firefox.
//!
//! Builds the widget, serves a copy of `www/` with one page per case under `/bench/` (made from a
//! demo article by [`write_case_pages`], beside `bench/pages/blank.html`) from the reference
//! server on a free port, and loads each case [`LOADS`] times per browser over
//! WebDriver, the cases taking turns (in a new order each round) so that drift in the machine's
//! speed spreads over all of them. Most loads are cold as far as a page can tell: the HTTP cache is off (Chrome
//! `--disk-cache-size=1`, Firefox's cache prefs), the page URL and its script tags' carry a fresh
//! query string (Chrome's in-memory cache served a classic script again under the same URL), and
//! the storage is cleared and the meter state set through JS from a blank page first. One session
//! per browser, not per load: a new browser per load would take most of the run's time. The
//! "warm cache" cases run in a second session per browser with the HTTP cache on, as for a reader
//! who has read an article before (every reader over the limit has): the page is still fetched
//! afresh, the widget's files come from the cache: the server sends `Last-Modified` and no
//! `Cache-Control`, so a browser uses a file unasked while it counts as fresh (heuristically, for
//! a tenth of its age) and revalidates it after that. Each load records whether the meter's files came from a
//! cache, and the run prints how many did per case.
//!
//! Prints, per case and browser, minimum, median and maximum of the time to decision (User Timing
//! `meterwall:decision`, from the loader's first line to the gate), Largest Contentful Paint,
//! Cumulative Layout Shift and long-task time, then ratios and a Markdown table for the README;
//! writes everything to `target/bench/results.json`. Figures, never pass/fail: nothing here is a
//! timed assertion.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::{build, provision, shell};

/// Measured loads per case and browser (after one unmeasured round). 50 rather than 30: medians of
/// LCP, which comes in whole frames and in Firefox here in two clusters, still move between runs.
const LOADS: usize = 50;

/// How long one driver, session, page load or decision may take before the run fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// The demo articles (in `www/articles/`) a reader opens to spend the free allowance of three.
const SPEND: [&str; 3] = [
    "debt-swaps-and-the-price-of-resilience",
    "island-states-and-the-fight-over-fish",
    "the-corridor-economy",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Browser {
    Chrome,
    Firefox,
}

impl Browser {
    fn name(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Firefox => "firefox",
        }
    }
}

/// The reader's meter before a load.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Storage cleared: a first visit.
    Fresh,
    /// meterwall's storage after three other articles: the free allowance spent.
    MeterwallSpent,
    /// The baseline's storage with three other article ids.
    BaselineSpent,
}

/// One page and meter state, measured `LOADS` times.
struct Case {
    id: &'static str,
    label: &'static str,
    page: &'static str,
    state: State,
    /// `data-meterwall-state` after the decision; `None`: nothing decides on this page.
    expect: Option<&'static str>,
    /// Measured in a second session with the HTTP cache on: the widget's files come from the
    /// cache (fresh or revalidated), as for any reader who has read an article before.
    warm: bool,
}

const CASES: [Case; 20] = [
    Case {
        id: "plain",
        label: "no paywall",
        page: "plain.html",
        state: State::Fresh,
        expect: None,
        warm: false,
    },
    // What any async script costs the page, before it does anything (`bench/empty.js`).
    Case {
        id: "empty_script",
        label: "an empty async script",
        page: "empty-script.html",
        state: State::Fresh,
        expect: None,
        warm: false,
    },
    Case {
        id: "meterwall_under",
        label: "meterwall, under the limit",
        page: "meterwall.html",
        state: State::Fresh,
        expect: Some("open"),
        warm: false,
    },
    Case {
        id: "meterwall_over",
        label: "meterwall, over the limit",
        page: "meterwall.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: false,
    },
    Case {
        id: "meterwall_under_antiflicker",
        label: "meterwall + snippet, under",
        page: "antiflicker.html",
        state: State::Fresh,
        expect: Some("open"),
        warm: false,
    },
    Case {
        id: "meterwall_over_antiflicker",
        label: "meterwall + snippet, over",
        page: "antiflicker.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: false,
    },
    Case {
        id: "preload_over",
        label: "meterwall + preload, over",
        page: "preload.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: false,
    },
    Case {
        id: "preload_over_antiflicker",
        label: "meterwall + preload + snippet, over",
        page: "preload-antiflicker.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: false,
    },
    Case {
        id: "inline_under",
        label: "one-request, under the limit",
        page: "inline.html",
        state: State::Fresh,
        expect: Some("open"),
        warm: false,
    },
    Case {
        id: "inline_over",
        label: "one-request, over the limit",
        page: "inline.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: false,
    },
    Case {
        id: "inline_over_antiflicker",
        label: "one-request + snippet, over",
        page: "inline-antiflicker.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: false,
    },
    Case {
        id: "baseline_under",
        label: "baseline JS, under the limit",
        page: "baseline.html",
        state: State::Fresh,
        expect: Some("open"),
        warm: false,
    },
    Case {
        id: "baseline_over",
        label: "baseline JS, over the limit",
        page: "baseline.html",
        state: State::BaselineSpent,
        expect: Some("locked"),
        warm: false,
    },
    Case {
        id: "plain_warm",
        label: "no paywall, warm cache",
        page: "plain.html",
        state: State::Fresh,
        expect: None,
        warm: true,
    },
    // What any async script from the cache costs the page: the yardstick for the widget's
    // warm loads under the limit, which start loading the wasm only after the first paint.
    Case {
        id: "empty_script_warm",
        label: "an empty async script, warm cache",
        page: "empty-script.html",
        state: State::Fresh,
        expect: None,
        warm: true,
    },
    Case {
        id: "meterwall_under_warm",
        label: "meterwall, under, warm cache",
        page: "meterwall.html",
        state: State::Fresh,
        expect: Some("open"),
        warm: true,
    },
    Case {
        id: "meterwall_over_warm",
        label: "meterwall, over, warm cache",
        page: "meterwall.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: true,
    },
    Case {
        id: "inline_over_warm",
        label: "one-request, over, warm cache",
        page: "inline.html",
        state: State::MeterwallSpent,
        expect: Some("locked"),
        warm: true,
    },
    Case {
        id: "baseline_under_warm",
        label: "baseline JS, under, warm cache",
        page: "baseline.html",
        state: State::Fresh,
        expect: Some("open"),
        warm: true,
    },
    Case {
        id: "baseline_over_warm",
        label: "baseline JS, over, warm cache",
        page: "baseline.html",
        state: State::BaselineSpent,
        expect: Some("locked"),
        warm: true,
    },
];

/// The ratios printed and kept: what, numerator case, denominator case, metric ("decision" or
/// "lcp"; "wall": the numerator's wall painted by, against the denominator's LCP).
const RATIOS: [(&str, &str, &str, &str); 34] = [
    (
        "decision: meterwall / baseline, under the limit",
        "meterwall_under",
        "baseline_under",
        "decision",
    ),
    (
        "decision: meterwall / baseline, over the limit",
        "meterwall_over",
        "baseline_over",
        "decision",
    ),
    (
        "decision: meterwall + preload / baseline, over",
        "preload_over",
        "baseline_over",
        "decision",
    ),
    (
        "decision: one-request / baseline, under the limit",
        "inline_under",
        "baseline_under",
        "decision",
    ),
    (
        "decision: one-request / baseline, over the limit",
        "inline_over",
        "baseline_over",
        "decision",
    ),
    (
        "LCP: meterwall under the limit / no paywall",
        "meterwall_under",
        "plain",
        "lcp",
    ),
    (
        "LCP: meterwall over the limit / no paywall",
        "meterwall_over",
        "plain",
        "lcp",
    ),
    (
        "LCP: meterwall + snippet, under / no paywall",
        "meterwall_under_antiflicker",
        "plain",
        "lcp",
    ),
    (
        "LCP: meterwall + snippet, over / no paywall",
        "meterwall_over_antiflicker",
        "plain",
        "lcp",
    ),
    (
        "LCP: meterwall + preload, over / no paywall",
        "preload_over",
        "plain",
        "lcp",
    ),
    (
        "LCP: meterwall + preload + snippet, over / no paywall",
        "preload_over_antiflicker",
        "plain",
        "lcp",
    ),
    (
        "LCP: one-request under the limit / no paywall",
        "inline_under",
        "plain",
        "lcp",
    ),
    (
        "LCP: one-request over the limit / no paywall",
        "inline_over",
        "plain",
        "lcp",
    ),
    (
        "LCP: one-request + snippet, over / no paywall",
        "inline_over_antiflicker",
        "plain",
        "lcp",
    ),
    (
        "LCP: an empty async script / no paywall",
        "empty_script",
        "plain",
        "lcp",
    ),
    (
        "LCP: baseline under the limit / no paywall",
        "baseline_under",
        "plain",
        "lcp",
    ),
    (
        "LCP: baseline over the limit / no paywall",
        "baseline_over",
        "plain",
        "lcp",
    ),
    (
        "decision, warm cache: meterwall / baseline, under",
        "meterwall_under_warm",
        "baseline_under_warm",
        "decision",
    ),
    (
        "decision, warm cache: meterwall / baseline, over",
        "meterwall_over_warm",
        "baseline_over_warm",
        "decision",
    ),
    (
        "decision, warm cache: one-request / baseline, over",
        "inline_over_warm",
        "baseline_over_warm",
        "decision",
    ),
    (
        "LCP, warm cache: meterwall under / no paywall",
        "meterwall_under_warm",
        "plain_warm",
        "lcp",
    ),
    (
        "LCP, warm cache: meterwall over / no paywall",
        "meterwall_over_warm",
        "plain_warm",
        "lcp",
    ),
    (
        "LCP, warm cache: an empty async script / no paywall",
        "empty_script_warm",
        "plain_warm",
        "lcp",
    ),
    (
        "LCP, warm cache: baseline under / no paywall",
        "baseline_under_warm",
        "plain_warm",
        "lcp",
    ),
    // Against any script rather than none: what the widget under the limit costs beyond its tag.
    (
        "LCP: meterwall under the limit / an empty async script",
        "meterwall_under",
        "empty_script",
        "lcp",
    ),
    (
        "LCP, warm cache: meterwall under / an empty async script",
        "meterwall_under_warm",
        "empty_script_warm",
        "lcp",
    ),
    (
        "wall painted by / LCP with no paywall: meterwall over the limit",
        "meterwall_over",
        "plain",
        "wall",
    ),
    (
        "wall painted by / LCP with no paywall: meterwall + snippet, over",
        "meterwall_over_antiflicker",
        "plain",
        "wall",
    ),
    (
        "wall painted by / LCP with no paywall: meterwall + preload, over",
        "preload_over",
        "plain",
        "wall",
    ),
    (
        "wall painted by / LCP with no paywall: meterwall + preload + snippet, over",
        "preload_over_antiflicker",
        "plain",
        "wall",
    ),
    (
        "wall painted by / LCP with no paywall: one-request over the limit",
        "inline_over",
        "plain",
        "wall",
    ),
    (
        "wall painted by / LCP with no paywall: one-request + snippet, over",
        "inline_over_antiflicker",
        "plain",
        "wall",
    ),
    (
        "wall painted by / LCP with no paywall: warm cache: meterwall over",
        "meterwall_over_warm",
        "plain_warm",
        "wall",
    ),
    (
        "wall painted by / LCP with no paywall: warm cache: one-request over",
        "inline_over_warm",
        "plain_warm",
        "wall",
    ),
];

/// The figures read from the page after one load; `None` where the browser does not report it.
#[derive(Default)]
struct Sample {
    /// Whether every file of the meter came from the HTTP cache; `None` on a page without one.
    cached: Option<bool>,
    decision: Option<f64>,
    /// When the decision was made, from the navigation's start: unlike `decision`, this includes
    /// fetching the page and the meter's script (the one-request build's is 260 KB).
    decided_at: Option<f64>,
    /// Over the limit, when the wall had painted, from the navigation's start: the
    /// `meterwall:painted` mark, taken in a task after the first animation frame that shows the
    /// wall (so a little after that frame's paint). The prompt is not the page's largest paint (the
    /// teaser's first paragraph is), so LCP does not say when it appeared; this does.
    wall_painted_at: Option<f64>,
    /// The widget's own main-thread time (the `meterwall:work` measures: the loader's, and the
    /// widget's own after the first paint); `None` for the baseline, which has none.
    work: Option<f64>,
    /// Of `work`: the loader's step that readies the wasm (decoded, compiled and instantiated in
    /// the one-request build; instantiated with the three files, compiled off the main thread).
    load: Option<f64>,
    /// Of `work`: the mount, from the config read to the wall applied (or not).
    mount: Option<f64>,
    /// Of `work`: the widget's step after the wall's first paint.
    after_paint: Option<f64>,
    lcp: Option<f64>,
    /// The first contentful paint, from the navigation's start.
    fcp: Option<f64>,
    /// When the widget started loading its wasm (the loader's `meterwall:load` mark), from the
    /// navigation's start: under the limit, after the first contentful paint (see README "Embed").
    started_at: Option<f64>,
    /// Whether the largest paint came at or after the decision (on a page with one): over the
    /// limit, whether the LCP is of the walled page or of the article before the wall.
    lcp_after_wall: Option<bool>,
    /// What the largest paint was: `prompt`, an element's name, or `none` (inside the prompt's
    /// shadow root, or removed by the wall: the page cannot see either).
    lcp_element: Option<String>,
    cls: Option<f64>,
    long_task_ms: Option<f64>,
    wasm_memory: Option<f64>,
}

/// One metric's figures over a case's loads.
struct Summary {
    min: f64,
    median: f64,
    max: f64,
    /// The mean: LCP comes in whole frames (steps of about 4 ms in headless Chrome here), so a
    /// median moves in steps of 8% of a 50 ms paint; the mean resolves finer differences.
    mean: f64,
    /// Loads that reported the metric.
    count: usize,
    /// The figures themselves, in ascending order: what the ratios' intervals resample.
    values: Vec<f64>,
}

/// The median of `sorted`, a list in ascending order that is not empty.
fn median_of(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Resamplings behind each ratio's interval.
const RESAMPLES: usize = 2000;

/// A 95% interval for the ratio of the medians of `a` and `b`, by the percentile bootstrap: both
/// lists are drawn again with replacement, as many figures as each holds, `RESAMPLES` times, and
/// the ratio of the two medians is taken each time; the interval runs from the 2.5th to the 97.5th
/// percentile of those ratios ([`central`]). A run's medians move between runs; this says how far
/// they could have moved within this one, so that a ratio near a budget is read as met, missed or
/// not decided by the run. `None` for an empty list, or when a resampled median of `b` is 0 (the
/// ratio would have no bound). `seed` makes it repeatable.
fn ratio_interval(a: &[f64], b: &[f64], seed: u64) -> Option<(f64, f64)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    // xorshift64*, its state the seed spread over the word (distinct seeds, distinct states):
    // enough for resampling, and no dependency for it.
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut draw = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    };
    let mut resample = |from: &[f64], into: &mut Vec<f64>| {
        into.clear();
        into.extend((0..from.len()).map(|_| from[draw(from.len())]));
        into.sort_by(f64::total_cmp);
        median_of(into)
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        let (top, bottom) = (resample(a, &mut x), resample(b, &mut y));
        if bottom <= 0.0 {
            return None;
        }
        ratios.push(top / bottom);
    }
    ratios.sort_by(f64::total_cmp);
    Some(central(&ratios, 0.95))
}

/// The central `level` of `sorted` (a list in ascending order, not empty): the values at its
/// `(1 - level) / 2` and `(1 + level) / 2` quantiles, by the nearest rank, as many values left
/// out below as above.
fn central(sorted: &[f64], level: f64) -> (f64, f64) {
    let out = ((sorted.len() as f64 * (1.0 - level) / 2.0).round() as usize).min(sorted.len() - 1);
    (sorted[out], sorted[sorted.len() - 1 - out])
}

impl Summary {
    fn of(mut values: Vec<f64>) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        Some(Summary {
            min: values[0],
            median: median_of(&values),
            max: values[n - 1],
            mean: values.iter().sum::<f64>() / n as f64,
            count: n,
            values,
        })
    }

    fn json(summary: &Option<Summary>) -> Value {
        match summary {
            Some(s) => {
                json!({ "min": s.min, "median": s.median, "max": s.max, "mean": s.mean, "loads": s.count })
            }
            None => Value::Null,
        }
    }

    /// `median (min–max)` with `digits` decimals, or `n/a`.
    fn cell(summary: &Option<Summary>, digits: usize) -> String {
        match summary {
            Some(s) => format!(
                "{:.digits$} ({:.digits$}–{:.digits$})",
                s.median, s.min, s.max
            ),
            None => "n/a".to_owned(),
        }
    }
}

/// A case's figures in one browser.
struct Figures {
    /// Loads with every file of the meter from the HTTP cache, and loads in all.
    cached: (usize, usize),
    decision: Option<Summary>,
    decided_at: Option<Summary>,
    wall_painted_at: Option<Summary>,
    work: Option<Summary>,
    load: Option<Summary>,
    mount: Option<Summary>,
    after_paint: Option<Summary>,
    lcp: Option<Summary>,
    fcp: Option<Summary>,
    started_at: Option<Summary>,
    /// Loads in which the widget started loading before the first contentful paint, of those
    /// with both.
    started_before_fcp: (usize, usize),
    /// Loads whose largest paint came after the wall went up, of those with both.
    lcp_after_wall: (usize, usize),
    /// What the largest paint was (see [`Sample::lcp_element`]) and in how many loads.
    lcp_elements: Vec<(String, usize)>,
    cls: Option<Summary>,
    long_task_ms: Option<Summary>,
    wasm_memory: Option<Summary>,
}

impl Figures {
    fn of(samples: &[Sample]) -> Figures {
        /// The loads where `test` holds, of those where it can be told (`Some`).
        fn tally(samples: &[Sample], test: impl Fn(&Sample) -> Option<bool>) -> (usize, usize) {
            let known: Vec<bool> = samples.iter().filter_map(test).collect();
            (known.iter().filter(|&&yes| yes).count(), known.len())
        }
        let pick =
            |f: fn(&Sample) -> Option<f64>| Summary::of(samples.iter().filter_map(f).collect());
        Figures {
            cached: (
                samples.iter().filter(|s| s.cached == Some(true)).count(),
                samples.len(),
            ),
            decision: pick(|s| s.decision),
            decided_at: pick(|s| s.decided_at),
            wall_painted_at: pick(|s| s.wall_painted_at),
            work: pick(|s| s.work),
            load: pick(|s| s.load),
            mount: pick(|s| s.mount),
            after_paint: pick(|s| s.after_paint),
            lcp: pick(|s| s.lcp),
            fcp: pick(|s| s.fcp),
            started_at: pick(|s| s.started_at),
            started_before_fcp: tally(samples, |s| Some(s.started_at? < s.fcp?)),
            lcp_after_wall: tally(samples, |s| s.lcp_after_wall),
            lcp_elements: {
                let mut counts: Vec<(String, usize)> = Vec::new();
                for name in samples.iter().filter_map(|s| s.lcp_element.as_deref()) {
                    match counts.iter_mut().find(|(seen, _)| seen == name) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((name.to_owned(), 1)),
                    }
                }
                counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
                counts
            },
            cls: pick(|s| s.cls),
            long_task_ms: pick(|s| s.long_task_ms),
            wasm_memory: pick(|s| s.wasm_memory),
        }
    }
}

/// A browser's run: its version and each case's figures, in `CASES` order.
struct Run {
    browser: Browser,
    version: String,
    figures: Vec<Figures>,
    /// The wasm's linear memory, in bytes, after a reader's whole journey.
    journey_memory: f64,
}

impl Run {
    /// This (cold) run with the warm cases' figures taken from the warm session's run.
    fn with_warm(mut self, warm: Run) -> Run {
        for ((case, figures), warm) in CASES.iter().zip(self.figures.iter_mut()).zip(warm.figures) {
            if case.warm {
                *figures = warm;
            }
        }
        self
    }
}

/// Runs the benchmark; see the module docs.
///
/// # Errors
///
/// When the build, a browser, its driver or the server fails, or a page does not decide as the
/// case expects (a benchmark of a broken page measures nothing).
pub fn bench(root: &Path) -> Result<()> {
    let started = Instant::now();
    // Browsers first: without them the run stops, better before the build than after it.
    let browsers = provision::browsers()?;
    let tools = provision::tools(root)?;
    build::build(root, &tools, None)?;

    let scratch = std::env::temp_dir().join(format!("meterwall-bench-{}", std::process::id()));
    let outcome = (|| {
        let site = scratch.join("site");
        copy_dir(&root.join("www"), &site)?;
        copy_dir(&root.join("bench").join("pages"), &site.join("bench"))?;
        for script in ["baseline.js", "empty.js"] {
            copy_file(
                &root.join("bench").join(script),
                &site.join("bench").join(script),
            )?;
        }
        write_case_pages(root, &site.join("bench"))?;
        let server = Server::start(root, &site, &scratch.join("bench.sqlite"))?;
        shell::announce(&format!(
            "bench: {LOADS} loads per case and browser from {}, cold, then warm in a second session",
            server.url
        ));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::Check(format!("cannot start the async runtime: {error}")))?;
        // The drivers' output, kept after the run, unlike the profiles, for when a driver gives
        // no session.
        let logs = root.join("target").join("bench");
        fs::create_dir_all(&logs).map_err(|error| Error::io(&logs, error))?;
        let mut runs = Vec::new();
        for (browser, driver) in [
            (Browser::Chrome, &browsers.chromedriver),
            (Browser::Firefox, &browsers.geckodriver),
        ] {
            let session = |warm: bool| {
                let kind = if warm { "warm" } else { "cold" };
                let profile = scratch.join(format!("{}-{kind}-profile", browser.name()));
                let log = logs.join(format!("{}-{kind}-driver.log", browser.name()));
                let pages = site.join("bench");
                runtime.block_on(run_browser(
                    browser,
                    driver,
                    &log,
                    &profile,
                    &server.url,
                    &pages,
                    warm,
                ))
            };
            let cold = session(false)?;
            let warm = session(true)?;
            runs.push(cold.with_warm(warm));
        }
        Ok(runs)
    })();
    let _ = fs::remove_dir_all(&scratch);
    let runs = outcome?;
    report(root, &runs, started.elapsed())
}

/// Starts the driver (its output to `log`), then one session (with the HTTP cache on when
/// `warm`), and measures the cases of that kind in it.
async fn run_browser(
    browser: Browser,
    driver: &Path,
    log: &Path,
    profile: &Path,
    url: &str,
    pages: &Path,
    warm: bool,
) -> Result<Run> {
    let port = free_port()?;
    let args = match browser {
        Browser::Chrome => vec![format!("--port={port}")],
        Browser::Firefox => vec![
            "--host".to_owned(),
            "127.0.0.1".to_owned(),
            "--port".to_owned(),
            port.to_string(),
            // The BiDi port defaults to 9222, which a test run at the same time may hold.
            "--websocket-port".to_owned(),
            free_port()?.to_string(),
        ],
    };
    // The driver's own output kept in `log`, for when no session comes: it says why (a browser it
    // cannot start, a port in use), which the session's error does not.
    let output = std::fs::File::create(log).map_err(|source| Error::io(log, source))?;
    let _driver = Process(spawn(
        Command::new(driver)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(output),
    )?);
    let client = connect(browser, port, profile, warm)
        .await
        .map_err(|error| {
            Error::Check(format!(
                "{error}; the driver's output is in {}",
                log.display()
            ))
        })?;
    let outcome = measure(browser, &client, url, pages, warm).await;
    let _ = client.close().await;
    outcome
}

/// A headless session with the HTTP cache off (on when `warm`), retrying while the driver starts
/// listening.
async fn connect(browser: Browser, port: u16, profile: &Path, warm: bool) -> Result<Client> {
    let mut capabilities = match browser {
        Browser::Chrome => json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary(&["chromium", "chromium-browser", "google-chrome"])?,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    // Chromium has no switch that turns the HTTP cache off; one byte is the nearest.
                    "--disk-cache-size=1",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }),
        Browser::Firefox => json!({
            "browserName": "firefox",
            "moz:firefoxOptions": {
                "binary": binary(&["firefox-esr", "firefox"])?,
                "args": ["-headless", "-width", "1280", "-height", "900"],
                "prefs": {
                    "browser.cache.disk.enable": false,
                    "browser.cache.memory.enable": false,
                    // performance.now() in full precision, not rounded to 1 ms (the default
                    // outside cross-origin isolation): the baseline decides in under a millisecond.
                    "privacy.reduceTimerPrecision": false,
                },
            },
        }),
    };
    if warm {
        match browser {
            Browser::Chrome => {
                if let Some(args) = capabilities["goog:chromeOptions"]["args"].as_array_mut() {
                    args.retain(|arg| arg != "--disk-cache-size=1");
                }
            }
            Browser::Firefox => {
                let prefs = &mut capabilities["moz:firefoxOptions"]["prefs"];
                prefs["browser.cache.disk.enable"] = Value::Bool(true);
                prefs["browser.cache.memory.enable"] = Value::Bool(true);
            }
        }
    }
    let Value::Object(capabilities) = capabilities else {
        unreachable!("capabilities are a JSON object")
    };
    let deadline = Instant::now() + PATIENCE;
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(capabilities.clone());
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => return Ok(client),
            Err(error) if Instant::now() > deadline => {
                return Err(Error::Check(format!(
                    "no headless {} session within {PATIENCE:?}: {error}",
                    browser.name()
                )))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Every case of the session's kind (cold or `warm`), `LOADS` rounds after one unmeasured round
/// (which also fills the cache of a warm session), the cases taking turns. The other cases get
/// no samples.
async fn measure(
    browser: Browser,
    client: &Client,
    url: &str,
    pages: &Path,
    warm: bool,
) -> Result<Run> {
    let version = client
        .capabilities()
        .and_then(|caps| caps.get("browserVersion"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    println!("    {} {version}", browser.name());
    let spent = spend_allowance(client, url).await?;
    let mut samples: Vec<Vec<Sample>> = CASES.iter().map(|_| Vec::new()).collect();
    let mut order: Vec<usize> = (0..CASES.len())
        .filter(|&i| CASES[i].warm == warm)
        .collect();
    let mut seed = nonce() as u64 | 1;
    for round in 0..=LOADS {
        // A new order each round: a case that shares its files with the one before it (or
        // follows a heavy one) would otherwise do so in every round.
        shuffle(&mut order, &mut seed);
        for &index in &order {
            let case = &CASES[index];
            let samples = &mut samples[index];
            // Cold: every script the page names is asked for afresh (see [`cold_page`]).
            let cold = (!warm).then_some(pages);
            let sample = load(client, url, cold, case, &spent, round)
                .await
                .map_err(|error| {
                    Error::Check(format!(
                        "{} {} (load {round}): {error}",
                        browser.name(),
                        case.label
                    ))
                })?;
            if round > 0 {
                samples.push(sample);
            }
        }
        if round % 10 == 0 && round > 0 {
            println!("    {} {round}/{LOADS} rounds", browser.name());
        }
    }
    let journey_memory = if warm {
        0.0
    } else {
        journey_memory(browser, client, url, &spent).await?
    };
    Ok(Run {
        browser,
        version,
        figures: samples.iter().map(|s| Figures::of(s)).collect(),
        journey_memory,
    })
}

/// A reader's whole journey on one page: over the limit, walled, registers through the prompt
/// (against the real signup service), reads on. Returns the wasm's linear memory afterwards.
async fn journey_memory(browser: Browser, client: &Client, url: &str, spent: &str) -> Result<f64> {
    set_storage(client, url, spent).await?;
    goto(client, &format!("{url}/bench/meterwall.html?journey")).await?;
    let state = wait_for_state(client).await?;
    if state != "locked" {
        return Err(Error::Check(format!(
            "the journey's article is {state}, expected locked"
        )));
    }
    // The signup service refuses forms sent faster than a person could (one second).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let nonce = nonce();
    execute(
        client,
        "const root = document.querySelector('[data-meterwall-prompt]').shadowRoot;
         root.querySelector('input[type=email]').value = arguments[0];
         root.querySelector('button[type=submit]').click();",
        vec![Value::String(format!(
            "bench-{}-{nonce}@example.com",
            browser.name()
        ))],
    )
    .await?;
    let deadline = Instant::now() + PATIENCE;
    while wait_for_state(client).await? != "open" {
        if Instant::now() > deadline {
            return Err(Error::Check(
                "the journey's registration did not open the article".to_owned(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let memory = client
        .execute_async(
            &format!(
                "{PAGE_MEMORY}
                 const done = arguments[arguments.length - 1];
                 pageMemory(arguments[0]).then(done);"
            ),
            vec![Value::String(format!("{url}/dist/meterwall_wasm.js"))],
        )
        .await
        .map_err(|error| Error::Check(format!("reading the wasm memory: {error}")))?;
    memory
        .as_f64()
        .ok_or_else(|| Error::Check(format!("reading the wasm memory: {memory}")))
}

/// Opens three demo articles with a fresh storage, as a reader would, and returns meterwall's
/// storage afterwards (all localStorage entries, as JSON), to put back before each over-limit load.
async fn spend_allowance(client: &Client, url: &str) -> Result<String> {
    let blank = format!("{url}/bench/blank.html");
    goto(client, &blank).await?;
    execute(
        client,
        "localStorage.clear(); sessionStorage.clear();",
        vec![],
    )
    .await?;
    for article in SPEND {
        goto(client, &format!("{url}/articles/{article}.html")).await?;
        let state = wait_for_state(client).await?;
        if state != "open" {
            return Err(Error::Check(format!(
                "article {article} should be open while spending the allowance, but is {state}"
            )));
        }
    }
    goto(client, &blank).await?;
    let stored = execute(
        client,
        "return JSON.stringify(Object.entries(localStorage));",
        vec![],
    )
    .await?;
    stored
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Check("localStorage could not be read".to_owned()))
}

/// The article's `data-meterwall-state` once the widget has decided.
async fn wait_for_state(client: &Client) -> Result<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = execute(
            client,
            "const body = document.querySelector('.article-body');
             return body && body.getAttribute('data-meterwall-state');",
            vec![],
        )
        .await?;
        if let Some(state @ ("open" | "locked")) = state.as_str() {
            return Ok(state.to_owned());
        }
        if Instant::now() > deadline {
            return Err(Error::Check(format!(
                "the widget did not decide within {PATIENCE:?} (state {state})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `pageMemory(glue)`: a promise of the widget's wasm memory in bytes (else a sentence why not),
/// through the glue module at the URL `glue`. The glue's `initSync()` returns the instance's
/// exports once initialised (their names are minified: the memory is the one that is a Memory).
/// A module script of the page's own imports the same module record as the loader did. A
/// WebDriver script's `import()` does not: in Firefox it gets a module graph of its own, whose
/// glue was never initialised (asking that one for a fresh instance measured 128 KiB in Firefox,
/// a module's memory before it runs, instead of the widget's).
const PAGE_MEMORY: &str = r#"
function pageMemory(glue) {
  const key = "__meterwallMemory" + Math.random().toString(36).slice(2);
  const script = document.createElement("script");
  script.type = "module";
  script.textContent = "import(" + JSON.stringify(glue) + ")" +
    ".then((m) => Object.values(m.initSync()).find((v) => v instanceof WebAssembly.Memory).buffer.byteLength)" +
    ".catch((e) => String(e)).then((bytes) => { window[" + JSON.stringify(key) + "] = bytes; });";
  document.head.appendChild(script);
  const deadline = performance.now() + 5000;
  return new Promise((resolve) => {
    const poll = () => {
      if (key in window) resolve(window[key]);
      else if (performance.now() > deadline) resolve("the page's module script did not run");
      else setTimeout(poll, 5);
    };
    poll();
  });
}
"#;

/// Waits for the decision (where there is one) and two frames after it, then reads the figures.
/// LCP, layout shifts and long tasks are read through buffered observers: their entries are not
/// in the performance timeline (`getEntriesByType`), only in the observers' buffer.
const COLLECT: &str = r#"
const expectDecision = arguments[0];
const glue = arguments[1];
const done = arguments[arguments.length - 1];
const deadline = performance.now() + 20000;
const supported = (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes) || [];
function collect() {
  const types = ["largest-contentful-paint", "layout-shift", "longtask"].filter((t) => supported.includes(t));
  const seen = {};
  const observers = types.map((type) => {
    seen[type] = [];
    const observer = new PerformanceObserver((list) => seen[type].push(...list.getEntries()));
    observer.observe({ type, buffered: true });
    return [type, observer];
  });
  setTimeout(() => {
    for (const [type, observer] of observers) {
      seen[type].push(...observer.takeRecords());
      observer.disconnect();
    }
    const measure = performance.getEntriesByName("meterwall:decision")[0];
    const decided = performance.getEntriesByName("meterwall:decided")[0];
    const body = document.querySelector(".article-body");
    const lcp = seen["largest-contentful-paint"];
    const shifts = seen["layout-shift"];
    const tasks = seen["longtask"];
    // The widget's linear memory, read through its glue (the one-request build has none).
    const memory = glue ? pageMemory(glue) : Promise.resolve(null);
    // The meter's files (meterwall's or the baseline's), and whether each came from the HTTP
    // cache: nothing transferred, or headers only (a revalidation). Each file is over 2 KB and
    // served uncompressed, so under 1 KB means no body; the body sizes themselves are no guide
    // (Chrome reports 0 for some scripts, fetched or not).
    const files = performance.getEntriesByType("resource").filter((r) => /\/dist\/meterwall|\/bench\/baseline\.js/.test(r.name));
    const fromCache = (r) => r.transferSize < 1024;
    // The widget's main-thread steps: the loader readying the wasm, then the mount (both before
    // the decision), then, with a wall, the widget's step after its first paint.
    const works = expectDecision ? performance.getEntriesByName("meterwall:work") : [];
    const painted = performance.getEntriesByName("meterwall:painted")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    const started = performance.getEntriesByName("meterwall:load")[0];
    const after = works.filter((m) => painted && m.startTime >= painted.startTime);
    const before = works.filter((m) => !after.includes(m));
    // The largest paint: did it come after the wall went up, and what was it? An element in the
    // prompt's shadow root is not exposed to the page (null), nor is one the wall removed.
    const last = lcp && lcp.length ? lcp[lcp.length - 1] : null;
    const lcpElement = !last ? null : !last.element ? "none"
      : last.element.closest("[data-meterwall-prompt]") ? "prompt" : last.element.localName;
    memory.then((wasmMemory) => done({
      wasmMemory,
      cached: files.length ? files.every(fromCache) : null,
      state: body && body.getAttribute("data-meterwall-state"),
      decision: measure ? measure.duration : null,
      decidedAt: decided ? decided.startTime : null,
      wallPaintedAt: painted && body && body.getAttribute("data-meterwall-state") === "locked" ? painted.startTime : null,
      work: works.length ? works.reduce((sum, m) => sum + m.duration, 0) : null,
      load: before.length === 2 ? before[0].duration : null,
      mount: before.length === 2 ? before[1].duration : null,
      afterPaint: after.length ? after.reduce((sum, m) => sum + m.duration, 0) : null,
      lcp: last ? last.startTime : null,
      fcp: fcp ? fcp.startTime : null,
      startedAt: started ? started.startTime : null,
      lcpAfterWall: last && decided ? last.startTime >= decided.startTime : null,
      lcpElement,
      cls: shifts ? shifts.filter((s) => !s.hadRecentInput).reduce((sum, s) => sum + s.value, 0) : null,
      longTaskMs: tasks ? tasks.reduce((sum, t) => sum + t.duration, 0) : null,
    }));
  }, 50);
}
function wait() {
  const decided = !expectDecision || performance.getEntriesByName("meterwall:decision").length > 0;
  if ((document.readyState === "complete" && decided) || performance.now() > deadline) {
    requestAnimationFrame(() => requestAnimationFrame(collect));
  } else {
    setTimeout(wait, 5);
  }
}
wait();
"#;

/// One measured load of `case`: set the meter state from the blank page, load the case's page
/// with a fresh query string, read the figures.
async fn load(
    client: &Client,
    url: &str,
    cold: Option<&Path>,
    case: &Case,
    spent: &str,
    round: usize,
) -> Result<Sample> {
    let restore = match case.state {
        State::Fresh => "[]".to_owned(),
        State::MeterwallSpent => spent.to_owned(),
        State::BaselineSpent => r#"[["baseline:v1","[\"a\",\"b\",\"c\"]"]]"#.to_owned(),
    };
    set_storage(client, url, &restore).await?;
    // meterwall's glue module, where the widget runs: its wasm memory is read after the decision
    // (the one-request build has no module to import).
    let glue = matches!(case.page, "meterwall.html" | "antiflicker.html")
        .then(|| format!("{url}/dist/meterwall_wasm.js"));
    let nonce = nonce();
    let query = format!("load={round}-{nonce}");
    let page = match cold {
        Some(pages) => cold_page(pages, case.page, &query)?,
        None => case.page.to_owned(),
    };
    goto(client, &format!("{url}/bench/{page}?{query}")).await?;
    let figures = tokio::time::timeout(
        PATIENCE,
        client.execute_async(
            &format!("{PAGE_MEMORY}{COLLECT}"),
            vec![
                Value::Bool(case.expect.is_some()),
                glue.map_or(Value::Null, Value::String),
            ],
        ),
    )
    .await
    .map_err(|_| Error::Check("the page's figures did not arrive".to_owned()))?
    .map_err(|error| Error::Check(format!("reading the page's figures: {error}")))?;
    let state = figures["state"].as_str();
    if state != case.expect {
        return Err(Error::Check(format!(
            "the article is {state:?} after the load, expected {:?}",
            case.expect
        )));
    }
    if case.expect.is_some() && figures["decision"].is_null() {
        return Err(Error::Check(
            "no `meterwall:decision` measure after the decision".to_owned(),
        ));
    }
    Ok(Sample {
        cached: figures["cached"].as_bool(),
        decision: figures["decision"].as_f64(),
        decided_at: figures["decidedAt"].as_f64(),
        wall_painted_at: figures["wallPaintedAt"].as_f64(),
        work: figures["work"].as_f64(),
        load: figures["load"].as_f64(),
        mount: figures["mount"].as_f64(),
        after_paint: figures["afterPaint"].as_f64(),
        lcp: figures["lcp"].as_f64(),
        fcp: figures["fcp"].as_f64(),
        started_at: figures["startedAt"].as_f64(),
        lcp_after_wall: figures["lcpAfterWall"].as_bool(),
        lcp_element: figures["lcpElement"].as_str().map(str::to_owned),
        cls: figures["cls"].as_f64(),
        long_task_ms: figures["longTaskMs"].as_f64(),
        wasm_memory: figures["wasmMemory"].as_f64(),
    })
}

/// From the blank page, clears both storages and sets localStorage to `entries` (JSON
/// `[[key, value], ...]`): the reader's meter before a load.
async fn set_storage(client: &Client, url: &str, entries: &str) -> Result<()> {
    goto(client, &format!("{url}/bench/blank.html")).await?;
    execute(
        client,
        "localStorage.clear(); sessionStorage.clear();
         for (const [key, value] of JSON.parse(arguments[0])) localStorage.setItem(key, value);",
        vec![Value::String(entries.to_owned())],
    )
    .await
    .map(|_| ())
}

/// Fisher–Yates with xorshift64: the order only needs to differ between rounds, not be
/// unpredictable.
fn shuffle(items: &mut [usize], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        items.swap(i, (*seed % (i as u64 + 1)) as usize);
    }
}

/// A number that differs on every call: fresh URLs and email addresses.
fn nonce() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

async fn goto(client: &Client, url: &str) -> Result<()> {
    tokio::time::timeout(PATIENCE, client.goto(url))
        .await
        .map_err(|_| Error::Check(format!("{url} did not load within {PATIENCE:?}")))?
        .map_err(|error| Error::Check(format!("loading {url}: {error}")))
}

async fn execute(client: &Client, script: &str, args: Vec<Value>) -> Result<Value> {
    tokio::time::timeout(PATIENCE, client.execute(script, args))
        .await
        .map_err(|_| Error::Check("the browser stopped answering".to_owned()))?
        .map_err(|error| Error::Check(format!("running a script in the page: {error}")))
}

/// Prints the figures, the ratios and the Markdown table, and writes `target/bench/results.json`.
fn report(root: &Path, runs: &[Run], took: Duration) -> Result<()> {
    /// A case's figures for one metric in one browser's run.
    fn of<'a>(
        run: &'a Run,
        id: &str,
        metric: fn(&Figures) -> &Option<Summary>,
    ) -> Option<&'a Summary> {
        let index = CASES.iter().position(|case| case.id == id)?;
        metric(&run.figures[index]).as_ref()
    }
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    fn decision(f: &Figures) -> &Option<Summary> {
        &f.decision
    }
    fn lcp(f: &Figures) -> &Option<Summary> {
        &f.lcp
    }
    fn wall(f: &Figures) -> &Option<Summary> {
        &f.wall_painted_at
    }

    println!();
    let table = markdown(
        runs,
        "time to decision, ms | decided after navigation start, ms | widget main thread, ms | \
         LCP, ms | CLS | long tasks, ms",
        |f| {
            Some(vec![
                Summary::cell(&f.decision, 1),
                Summary::cell(&f.decided_at, 0),
                Summary::cell(&f.work, 1),
                Summary::cell(&f.lcp, 0),
                Summary::cell(&f.cls, 3),
                Summary::cell(&f.long_task_ms, 0),
            ])
        },
    );
    println!(
        "median (min–max) of {LOADS} loads per case and browser (cold unless the case says warm):\n"
    );
    print!("{table}");

    let steps = markdown(
        runs,
        "readying the wasm, ms | mount, ms | after the first paint, ms | wall painted by, ms \
         after navigation start",
        |f| {
            (f.load.is_some() || f.mount.is_some()).then(|| {
                vec![
                    Summary::cell(&f.load, 2),
                    Summary::cell(&f.mount, 2),
                    Summary::cell(&f.after_paint, 2),
                    Summary::cell(&f.wall_painted_at, 0),
                ]
            })
        },
    );
    println!(
        "\nthe widget's main-thread time by step (median (min–max)): readying the wasm is \
         decoding, compiling and instantiating it in the one-request build, instantiating it with \
         the three files (compiled off the main thread); the mount reads the config, decides and \
         gates; a wall's step after its first paint listens to other tabs and watches the prompt:\n"
    );
    print!("{steps}");

    println!("\nwasm linear memory after the decision (KiB, median (min–max); it never shrinks):");
    for (index, case) in CASES.iter().enumerate() {
        for run in runs {
            if let Some(memory) = &run.figures[index].wasm_memory {
                println!(
                    "{:<8} {:<32} {:.0} ({:.0}–{:.0})",
                    run.browser.name(),
                    case.label,
                    memory.median / 1024.0,
                    memory.min / 1024.0,
                    memory.max / 1024.0
                );
            }
        }
    }

    println!(
        "first contentful paint, largest contentful paint and, with meterwall, when it started \
         loading its wasm (ms after navigation start, median (min–max)):"
    );
    for (index, case) in CASES.iter().enumerate() {
        for run in runs {
            let f = &run.figures[index];
            if f.fcp.is_some() {
                let (before, of) = f.started_before_fcp;
                let started = if of == 0 {
                    String::new()
                } else {
                    format!(
                        "started {:<14} before FCP in {before} of {of}",
                        Summary::cell(&f.started_at, 0)
                    )
                };
                println!(
                    "{:<8} {:<36} FCP {:<14} LCP {:<14} {started}",
                    run.browser.name(),
                    case.label,
                    Summary::cell(&f.fcp, 0),
                    Summary::cell(&f.lcp, 0),
                );
            }
        }
    }

    println!(
        "over the limit, loads whose largest paint (LCP) came after the wall went up, and what it \
         was (`none`: inside the prompt's shadow root, or removed by the wall):"
    );
    for (index, case) in CASES.iter().enumerate() {
        for run in runs {
            let f = &run.figures[index];
            if case.expect == Some("locked") {
                let elements: Vec<String> = f
                    .lcp_elements
                    .iter()
                    .map(|(name, n)| format!("{name} {n}"))
                    .collect();
                println!(
                    "{:<8} {:<36} {} of {}; {}",
                    run.browser.name(),
                    case.label,
                    f.lcp_after_wall.0,
                    f.lcp_after_wall.1,
                    elements.join(", ")
                );
            }
        }
    }

    // A metric some loads did not report: its figures are of fewer loads than the others'.
    for (index, case) in CASES.iter().enumerate() {
        for run in runs {
            let f = &run.figures[index];
            let metrics = [
                ("time to decision", &f.decision),
                ("LCP", &f.lcp),
                ("widget main thread", &f.work),
                ("mount", &f.mount),
            ];
            for (name, summary) in metrics {
                if let Some(summary) = summary.as_ref().filter(|s| s.count < f.cached.1) {
                    println!(
                        "{:<8} {:<36} {name}: reported by {} of {} loads",
                        run.browser.name(),
                        case.label,
                        summary.count,
                        f.cached.1
                    );
                }
            }
        }
    }

    println!(
        "loads with every file of the meter from a cache (with the HTTP cache off, Chrome's \
         in-memory cache can still serve a script it loaded moments before):"
    );
    for (index, case) in CASES.iter().enumerate() {
        for run in runs {
            let (cached, loads) = run.figures[index].cached;
            if case.expect.is_some() {
                println!(
                    "{:<8} {:<32} {cached} of {loads}",
                    run.browser.name(),
                    case.label
                );
            }
        }
    }

    println!("wasm linear memory after a whole journey (over the limit, registered, read on):");
    for run in runs {
        println!(
            "{:<8} {:.0} KiB",
            run.browser.name(),
            run.journey_memory / 1024.0
        );
    }

    let mut ratios = Vec::new();
    println!();
    println!(
        "ratios of medians (of means), and the 95% interval of the ratio of medians \
         ({RESAMPLES} bootstrap resamplings of the loads):"
    );
    for run in runs {
        for (number, &(what, a, b, metric)) in RATIOS.iter().enumerate() {
            type Metric = fn(&Figures) -> &Option<Summary>;
            let (pick_a, pick_b): (Metric, Metric) = match metric {
                "decision" => (decision, decision),
                "wall" => (wall, lcp),
                _ => (lcp, lcp),
            };
            let (x, y) = (of(run, a, pick_a), of(run, b, pick_b));
            let value = ratio(x.map(|s| s.median), y.map(|s| s.median));
            let of_means = ratio(x.map(|s| s.mean), y.map(|s| s.mean));
            // Seeded by the ratio's place and the browser: the same loads give the same interval.
            let seed = (number as u64 + 1) << 8 | run.browser as u64;
            let interval = match (x, y) {
                (Some(x), Some(y)) => ratio_interval(&x.values, &y.values, seed),
                _ => None,
            };
            let show = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"));
            println!(
                "{:<8} {what}: {} (of means: {}; 95%: {})",
                run.browser.name(),
                show(value),
                show(of_means),
                interval.map_or_else(|| "n/a".to_owned(), |(lo, hi)| format!("{lo:.2}–{hi:.2}"))
            );
            ratios.push(json!({
                "browser": run.browser.name(),
                "ratio": what,
                "value": value,
                "ofMeans": of_means,
                "interval95": interval.map(|(lo, hi)| [lo, hi]),
            }));
        }
    }

    let date = shell::probe("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]).unwrap_or_default();
    let results = json!({
        "date": date,
        "command": "cargo xtask bench",
        "loadsPerCase": LOADS,
        "seconds": took.as_secs(),
        "browsers": runs.iter().map(|run| json!({ "name": run.browser.name(), "version": run.version })).collect::<Vec<_>>(),
        "cases": CASES.iter().enumerate().map(|(index, case)| json!({
            "id": case.id,
            "label": case.label,
            "page": format!("bench/pages/{}", case.page),
            "browsers": runs.iter().map(|run| {
                let f = &run.figures[index];
                json!({
                    "browser": run.browser.name(),
                    "decisionMs": Summary::json(&f.decision),
                    "decidedAfterNavigationStartMs": Summary::json(&f.decided_at),
                    "wallPaintedAfterNavigationStartMs": Summary::json(&f.wall_painted_at),
                    "widgetMainThreadMs": Summary::json(&f.work),
                    "readyingWasmMs": Summary::json(&f.load),
                    "mountMs": Summary::json(&f.mount),
                    "afterPaintMs": Summary::json(&f.after_paint),
                    "lcpMs": Summary::json(&f.lcp),
                    "fcpMs": Summary::json(&f.fcp),
                    "startedAfterNavigationStartMs": Summary::json(&f.started_at),
                    "startedBeforeFcp": { "loads": f.started_before_fcp.0, "of": f.started_before_fcp.1 },
                    "lcpAfterWall": { "loads": f.lcp_after_wall.0, "of": f.lcp_after_wall.1 },
                    "lcpElements": f.lcp_elements.iter().map(|(name, n)| json!({ "element": name, "loads": n })).collect::<Vec<_>>(),
                    "cls": Summary::json(&f.cls),
                    "longTaskMs": Summary::json(&f.long_task_ms),
                    "wasmMemoryBytes": Summary::json(&f.wasm_memory),
                    "loadsFromCache": f.cached.0,
                    "loads": f.cached.1,
                })
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "ratios": ratios,
        "journeyMemoryBytes": runs.iter().map(|run| json!({ "browser": run.browser.name(), "bytes": run.journey_memory })).collect::<Vec<_>>(),
        "markdown": table,
        "stepsMarkdown": steps,
    });
    let dir = root.join("target").join("bench");
    fs::create_dir_all(&dir).map_err(|error| Error::io(&dir, error))?;
    let file = dir.join("results.json");
    let text = serde_json::to_string_pretty(&results)
        .map_err(|error| Error::Check(format!("results.json: {error}")))?;
    fs::write(&file, text + "\n").map_err(|error| Error::io(&file, error))?;
    println!(
        "\nwrote target/bench/results.json ({} s in all)",
        took.as_secs()
    );
    Ok(())
}

/// A Markdown table of every case in every browser: `columns` (separated by ` | `) after the
/// case and the browser, filled by `cells`; a case and browser without cells has no row.
fn markdown(
    runs: &[Run],
    columns: &str,
    cells: impl Fn(&Figures) -> Option<Vec<String>>,
) -> String {
    let count = columns.split(" | ").count() + 2;
    let mut table = format!(
        "| case | browser | {columns} |\n|{}\n",
        " --- |".repeat(count)
    );
    for (index, case) in CASES.iter().enumerate() {
        for run in runs {
            let Some(cells) = cells(&run.figures[index]) else {
                continue;
            };
            table.push_str(&format!(
                "| {} | {} {} | {} |\n",
                case.label,
                run.browser.name(),
                major(&run.version),
                cells.join(" | ")
            ));
        }
    }
    table
}

/// `145.0.7632.0` as `145`.
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// The reference server on a free port of 127.0.0.1, serving `site`; stopped when dropped.
struct Server {
    url: String,
    _process: Process,
}

impl Server {
    fn start(root: &Path, site: &Path, db: &Path) -> Result<Server> {
        // Built first and run directly: stopping `cargo run` would leave the server running.
        shell::run(shell::cargo().current_dir(root).args([
            "build",
            "--quiet",
            "-p",
            "meterwall-server",
        ]))?;
        // A relative CARGO_TARGET_DIR is relative to where the build above ran: the workspace.
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(|dir| root.join(dir))
            .unwrap_or_else(|| root.join("target"));
        let program = target.join("debug").join("meterwall-server");
        let mut command = Command::new(&program);
        command
            .arg("--port")
            .arg("0")
            .arg("--root")
            .arg(site)
            .arg("--db")
            .arg(db)
            // One log line per request would bury the figures.
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        shell::announce(&shell::display(&command));
        let mut process = Process(spawn(&mut command)?);
        let stdout = process.0.stdout.take().ok_or_else(|| {
            Error::Check("meterwall-server: no stdout to read its URL from".to_owned())
        })?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|error| Error::io(&program, error))?;
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .map(|url| url.trim_end_matches('/').to_owned())
            .ok_or_else(|| {
                Error::Check(format!(
                    "meterwall-server printed `{}`, not the URL it serves (its error, if it \
                     stopped, is printed above)",
                    line.trim()
                ))
            })?;
        Ok(Server {
            url,
            _process: process,
        })
    }
}

/// A child process killed (by its id) when dropped, also when the run fails part-way.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(command: &mut Command) -> Result<Child> {
    command.spawn().map_err(|source| Error::Spawn {
        command: shell::display(command),
        source,
    })
}

/// The first of `names` on PATH, as the `binary` capability.
fn binary(names: &[&str]) -> Result<String> {
    names
        .iter()
        .find_map(|name| shell::which(name))
        .map(|path| path.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::missing(
                names.join(" or "),
                "cargo xtask test (installs the browsers)",
            )
        })
}

/// A port nobody listens on now (the OS picks it; the driver binds it a moment later).
fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| Error::Check(format!("no free port on 127.0.0.1: {error}")))
}

/// The demo article every case loads, made into one page per case: the same markup with only the
/// head's scripts changed, so the cases differ in nothing else.
const BENCH_ARTICLE: &str = "www/articles/debt-swaps-and-the-price-of-resilience.html";

/// Writes `plain.html` (no paywall), `meterwall.html` (the embed snippet), `antiflicker.html`
/// (the README's anti-flicker snippet before it), `baseline.html` (bench/baseline.js instead),
/// `empty-script.html` (bench/empty.js) and the others of [`CASES`] from [`BENCH_ARTICLE`]. The article's id becomes `bench-article` and its canonical link goes,
/// so every load is the same article whatever the query string.
fn write_case_pages(root: &Path, dir: &Path) -> Result<()> {
    let path = root.join(BENCH_ARTICLE);
    let article = fs::read_to_string(&path).map_err(|error| Error::io(&path, error))?;
    // The demo article carries the README's snippet, as a publisher's page would; each case
    // below adds what it measures to the article without it.
    let snippet = readme_snippet(root)?;
    let article = article.replace(&format!("{snippet}\n"), "");
    if article.contains("meterwall-pending") {
        return Err(Error::Check(format!(
            "{BENCH_ARTICLE} has an anti-flicker snippet other than the README's: make them the same"
        )));
    }
    let mut embed = None;
    let mut lines = Vec::new();
    for line in article.lines() {
        if line.starts_with("<link rel=\"canonical\"") {
            continue;
        }
        if line.contains("/dist/meterwall.js") {
            embed = Some(line.to_owned());
            lines.push("{scripts}".to_owned());
            continue;
        }
        lines.push(line.replace(
            "data-meterwall-id=\"debt-swaps-and-the-price-of-resilience\"",
            "data-meterwall-id=\"bench-article\"",
        ));
    }
    let embed = embed.ok_or_else(|| {
        Error::Check(format!(
            "{BENCH_ARTICLE} has no meterwall script tag to benchmark"
        ))
    })?;
    let template = lines.join("\n");
    let inline = embed.replace("/dist/meterwall.js", &format!("/dist/{}", build::INLINE));
    let preload = readme_block(root, "Preload (optional).")?;
    for (name, scripts) in [
        ("plain.html", String::new()),
        ("meterwall.html", embed.clone()),
        ("antiflicker.html", format!("{snippet}\n{embed}")),
        ("preload.html", format!("{preload}\n{embed}")),
        (
            "preload-antiflicker.html",
            format!("{snippet}\n{preload}\n{embed}"),
        ),
        ("inline.html", inline.clone()),
        ("inline-antiflicker.html", format!("{snippet}\n{inline}")),
        (
            "baseline.html",
            "<script async src=\"/bench/baseline.js\"></script>".to_owned(),
        ),
        (
            "empty-script.html",
            "<script async src=\"/bench/empty.js\"></script>".to_owned(),
        ),
    ] {
        let page = dir.join(name);
        fs::write(&page, template.replace("{scripts}", &scripts))
            .map_err(|error| Error::io(&page, error))?;
    }
    Ok(())
}

/// For a cold load: a copy of the case page `page` (in `pages`) whose script tags carry `query`,
/// so that no cache can answer for them. Chrome's HTTP cache is one byte, but its in-memory cache
/// still served a classic script that the load before had used (the one-request build, the
/// baseline) under the same URL; a module import and a `fetch` (the glue and the wasm, whose URLs
/// the loader makes from its own without the query) were fetched every time. Returns the copy's
/// name.
///
/// # Errors
///
/// When the page cannot be read or the copy written.
fn cold_page(pages: &Path, page: &str, query: &str) -> Result<String> {
    let path = pages.join(page);
    let mut html = fs::read_to_string(&path).map_err(|error| Error::io(&path, error))?;
    for script in [
        "/dist/meterwall.js",
        "/dist/meterwall.inline.js",
        "/bench/baseline.js",
        "/bench/empty.js",
    ] {
        html = html.replace(
            &format!("src=\"{script}\""),
            &format!("src=\"{script}?{query}\""),
        );
    }
    let name = format!("cold-{page}");
    let copy = pages.join(&name);
    fs::write(&copy, html).map_err(|error| Error::io(&copy, error))?;
    Ok(name)
}

/// The README's "No flash of the full article" snippet, as publishers copy it.
pub fn readme_snippet(root: &Path) -> Result<String> {
    readme_block(root, "No flash of the full article")
}

/// The first ```html block after `heading` in the README, as publishers copy it.
fn readme_block(root: &Path, heading: &str) -> Result<String> {
    let path = root.join("README.md");
    let text = fs::read_to_string(&path).map_err(|error| Error::io(&path, error))?;
    let missing = || Error::Check(format!("README.md has no ```html block after {heading:?}"));
    let rest = &text[text.find(heading).ok_or_else(missing)?..];
    let start = rest.find("```html\n").ok_or_else(missing)? + "```html\n".len();
    let end = rest[start..].find("```").ok_or_else(missing)?;
    Ok(rest[start..start + end].trim().to_owned())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|error| Error::io(to, error))?;
    for entry in fs::read_dir(from).map_err(|error| Error::io(from, error))? {
        let entry = entry.map_err(|error| Error::io(from, error))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            copy_file(&path, &target)?;
        }
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|error| Error::io(from, error))
}

#[cfg(test)]
mod tests {
    use super::{central, markdown, median_of, ratio_interval, Summary};

    #[test]
    fn a_table_has_a_header_for_its_columns() {
        assert_eq!(
            markdown(&[], "a, ms | b", |_| None),
            "| case | browser | a, ms | b |\n| --- | --- | --- | --- |\n"
        );
    }

    #[test]
    fn summary_of_an_even_and_an_odd_count() {
        let s = Summary::of(vec![48.0, 40.0, 52.0, 44.0]).unwrap();
        assert_eq!((s.min, s.median, s.max, s.mean), (40.0, 46.0, 52.0, 46.0));
        let s = Summary::of(vec![48.0, 48.0, 52.0]).unwrap();
        assert_eq!((s.median, s.mean), (48.0, 148.0 / 3.0));
        assert!(Summary::of(Vec::new()).is_none());
    }

    #[test]
    fn a_ratio_interval_is_as_wide_as_the_loads_spread() {
        // Figures with no spread leave the ratio nothing to move by.
        assert_eq!(ratio_interval(&[2.0; 30], &[1.0; 30], 7), Some((2.0, 2.0)));
        // The same loads twice: the interval holds 1, on both sides, and is repeatable.
        let spread: Vec<f64> = (0..50).map(|i| 40.0 + f64::from(i % 17)).collect();
        let mut sorted = spread.clone();
        sorted.sort_by(f64::total_cmp);
        let (lo, hi) = ratio_interval(&sorted, &sorted, 7).unwrap();
        assert!(lo < 1.0 && hi > 1.0, "{lo}–{hi}");
        assert_eq!(ratio_interval(&sorted, &sorted, 7), Some((lo, hi)));
        // Loads a tenth apart, against the same spread: about 1.1, and clear of 1.
        let later: Vec<f64> = sorted.iter().map(|v| v * 1.1).collect();
        let (lo, hi) = ratio_interval(&later, &sorted, 7).unwrap();
        assert!(lo > 1.0 && lo < 1.1 && hi > 1.1 && hi < 1.25, "{lo}–{hi}");
        // Fewer loads, a wider interval.
        let every_fifth = |v: &[f64]| v.iter().step_by(5).copied().collect::<Vec<f64>>();
        let (few_lo, few_hi) =
            ratio_interval(&every_fifth(&later), &every_fifth(&sorted), 7).unwrap();
        assert!(
            few_hi - few_lo > hi - lo,
            "{few_lo}–{few_hi} against {lo}–{hi}"
        );
        assert_eq!(ratio_interval(&[], &sorted, 7), None);
        assert_eq!(ratio_interval(&sorted, &[0.0; 5], 7), None);
        // Both sides are resampled: a constant numerator over a spread still gives an interval.
        let (lo, hi) = ratio_interval(&[median_of(&sorted); 50], &sorted, 7).unwrap();
        assert!(lo < 1.0 && hi > 1.0, "{lo}–{hi}");
        // Of medians, not of means: one load far out moves no median.
        let mut outlier = vec![1.0; 50];
        outlier[49] = 1000.0;
        assert_eq!(ratio_interval(&outlier, &[1.0; 50], 7), Some((1.0, 1.0)));
        // Other seeds, other draws (the browsers' seeds differ in their last bit).
        assert_ne!(
            ratio_interval(&later, &sorted, 1 << 8),
            ratio_interval(&later, &sorted, 1 << 8 | 1)
        );
    }

    #[test]
    fn the_central_95_percent_leaves_out_as_many_below_as_above() {
        let ranks: Vec<f64> = (0..2000).map(f64::from).collect();
        assert_eq!(central(&ranks, 0.95), (50.0, 1949.0));
        assert_eq!(central(&ranks, 0.9), (100.0, 1899.0));
        assert_eq!(central(&[3.0], 0.95), (3.0, 3.0));
    }
}
