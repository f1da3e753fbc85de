//! Calendar arithmetic and the meter periods (month, week, day, rolling, lifetime) a reader's allowance lasts.

/// Milliseconds in a civil day. Unix time has no leap seconds, so every UTC day has exactly this many.
const MS_PER_DAY: i64 = 86_400_000;

/// Days from 0000-03-01 to 1970-01-01: moves the era-based count onto the Unix epoch.
const EPOCH_SHIFT: i64 = 719_468;

/// Days in one 400-year Gregorian era (the calendar repeats exactly after it).
const DAYS_PER_ERA: i64 = 146_097;

/// A calendar date (proleptic Gregorian) in the reader's configured time zone.
///
/// Fields are public for plain construction in tests and the shell; [`CivilDate::new`] checks them.
/// The derived order is chronological because the fields are declared year, month, day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CivilDate {
    /// The year; year 0 is 1 BC, as in ISO 8601.
    pub year: i32,
    /// The month, 1..=12.
    pub month: u8,
    /// The day of the month, 1..=31 (at most the month's length).
    pub day: u8,
}

impl CivilDate {
    /// A checked date: `None` unless the month is 1..=12 and the day exists in that month.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::period::CivilDate;
    /// assert!(CivilDate::new(2024, 2, 29).is_some());
    /// assert!(CivilDate::new(2100, 2, 29).is_none());
    /// ```
    pub const fn new(year: i32, month: u8, day: u8) -> Option<CivilDate> {
        if month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month) {
            Some(CivilDate { year, month, day })
        } else {
            None
        }
    }
}

/// Whether `year` has a February 29th (Gregorian rule: every 4th year, except centuries not divisible by 400).
///
/// # Examples
///
/// ```
/// use meterwall::period::is_leap_year;
/// assert!(is_leap_year(2024) && is_leap_year(2000));
/// assert!(!is_leap_year(2100) && !is_leap_year(2026));
/// ```
pub const fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Length of `month` (1..=12) in `year`; 0 for a month that does not exist.
const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 (that date gives 0, earlier dates are negative).
///
/// The era-based method: count years from March so that the leap day is the last day of the
/// counting year, then split the count into 400-year eras, within which the Gregorian calendar
/// repeats exactly. Every step is integer arithmetic, so it is exact for any `i32` year.
/// The input is expected to be a valid date (see [`CivilDate::new`]).
///
/// # Examples
///
/// ```
/// use meterwall::period::{days_from_civil, CivilDate};
/// assert_eq!(days_from_civil(CivilDate { year: 1970, month: 1, day: 1 }), 0);
/// assert_eq!(days_from_civil(CivilDate { year: 2000, month: 3, day: 1 }), 11_017);
/// assert_eq!(days_from_civil(CivilDate { year: 1969, month: 12, day: 31 }), -1);
/// ```
pub const fn days_from_civil(d: CivilDate) -> i64 {
    // January and February belong to the previous March-based year.
    let y = d.year as i64 - if d.month <= 2 { 1 } else { 0 };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // 0..=399
    let month_from_march = (d.month as i64 + 9) % 12; // March = 0 .. February = 11
                                                      // 153 days per 5 months (31+30+31+30+31) gives each month's first day of the March-based year.
    let day_of_year = (153 * month_from_march + 2) / 5 + d.day as i64 - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT
}

/// The first and last day numbers whose year fits in an `i32`.
const MIN_DAYS: i64 = days_from_civil(CivilDate {
    year: i32::MIN,
    month: 1,
    day: 1,
});
const MAX_DAYS: i64 = days_from_civil(CivilDate {
    year: i32::MAX,
    month: 12,
    day: 31,
});

/// The date `days` after 1970-01-01 (the inverse of [`days_from_civil`]).
///
/// Day numbers whose year would not fit in an `i32` are clamped to the first or last such date;
/// no instant a browser can represent comes near them (JavaScript dates end in year 275760).
///
/// # Examples
///
/// ```
/// use meterwall::period::{civil_from_days, CivilDate};
/// assert_eq!(civil_from_days(0), CivilDate { year: 1970, month: 1, day: 1 });
/// assert_eq!(civil_from_days(19_782), CivilDate { year: 2024, month: 2, day: 29 });
/// ```
pub fn civil_from_days(days: i64) -> CivilDate {
    let z = days.clamp(MIN_DAYS, MAX_DAYS) + EPOCH_SHIFT;
    let era = z.div_euclid(DAYS_PER_ERA);
    let day_of_era = z - era * DAYS_PER_ERA; // 0..=146_096
                                             // Undo the leap-day corrections (every 4 years, except 100, except 400) to find the year.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    // The clamp above keeps `year` within i32; month and day are 1..=12 and 1..=31 by construction.
    CivilDate {
        year: year as i32,
        month: month as u8,
        day: day as u8,
    }
}

/// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day, real dates only).
///
/// Returns `None` for any other shape, including signs, spaces, times and impossible dates.
///
/// # Examples
///
/// ```
/// use meterwall::period::{parse_date, CivilDate};
/// assert_eq!(parse_date("2028-02-29"), Some(CivilDate { year: 2028, month: 2, day: 29 }));
/// assert_eq!(parse_date("2100-02-29"), None);
/// assert_eq!(parse_date("2026-3-1"), None);
/// ```
pub fn parse_date(s: &str) -> Option<CivilDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(b.get(0..4)?)?;
    let month = digits(b.get(5..7)?)?;
    let day = digits(b.get(8..10)?)?;
    // At most 4 and 2 digits, so the narrowing casts cannot lose anything.
    CivilDate::new(year as i32, month as u8, day as u8)
}

/// The value of a short run of ASCII digits; `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// How long a reader's allowance lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// Resets at local midnight on the 1st of each month.
    Month,
    /// Resets at local midnight each Monday (ISO 8601 weeks).
    Week,
    /// Resets at each local midnight.
    Day,
    /// Each view counts for `days` days after it happened, then drops out.
    Rolling {
        /// The window length, 1..=366.
        days: u16,
    },
    /// Never resets.
    Lifetime,
}

impl Period {
    /// Parses the config spelling: `month`, `week`, `day`, `lifetime` or `rolling:N` with N in 1..=366.
    ///
    /// The spelling is exact (lower case, no spaces, N without sign or leading zeros), so one
    /// setting has one spelling; anything else is `None`, for the config layer to report.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::period::Period;
    /// assert_eq!(Period::parse("month"), Some(Period::Month));
    /// assert_eq!(Period::parse("rolling:30"), Some(Period::Rolling { days: 30 }));
    /// assert_eq!(Period::parse("rolling:0"), None);
    /// assert_eq!(Period::parse("Month"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "month" => Some(Period::Month),
            "week" => Some(Period::Week),
            "day" => Some(Period::Day),
            "lifetime" => Some(Period::Lifetime),
            _ => {
                let n = s.strip_prefix("rolling:")?.as_bytes();
                if n.is_empty() || n.len() > 3 || n[0] == b'0' {
                    return None;
                }
                let days = digits(n)?;
                // 1..=366 covers a whole leap year; three digits make the cast lossless.
                (days <= 366).then_some(Period::Rolling { days: days as u16 })
            }
        }
    }

    /// The calendar bucket a date falls in: equal ids mean the same period.
    ///
    /// Month: `year * 12 + (month - 1)`; Week: the day number ([`days_from_civil`]) of that ISO
    /// week's Monday; Day: the day number itself. Rolling and Lifetime: always 0, because a
    /// rolling allowance expires view by view (see [`Period::rolling_ms`]) and a lifetime one never.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::period::{parse_date, Period};
    /// let sunday = parse_date("2026-03-01").unwrap();
    /// let monday = parse_date("2026-03-02").unwrap();
    /// assert_ne!(Period::Week.bucket(sunday), Period::Week.bucket(monday));
    /// assert_eq!(Period::Month.bucket(sunday), Period::Month.bucket(monday));
    /// ```
    pub fn bucket(self, date: CivilDate) -> i64 {
        match self {
            Period::Month => i64::from(date.year) * 12 + i64::from(date.month) - 1,
            Period::Week => {
                let days = days_from_civil(date);
                // Day 0 (1970-01-01) was a Thursday, so (days + 3) mod 7 counts days since Monday.
                days - (days + 3).rem_euclid(7)
            }
            Period::Day => days_from_civil(date),
            Period::Rolling { .. } | Period::Lifetime => 0,
        }
    }

    /// A one-letter tag for the stored record: `m`, `w`, `d`, `r` or `l`.
    ///
    /// A record whose tag differs from the configured period was counted under other rules.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::period::Period;
    /// assert_eq!(Period::Rolling { days: 7 }.tag(), b'r');
    /// ```
    pub fn tag(self) -> u8 {
        match self {
            Period::Month => b'm',
            Period::Week => b'w',
            Period::Day => b'd',
            Period::Rolling { .. } => b'r',
            Period::Lifetime => b'l',
        }
    }

    /// The rolling window in milliseconds (`days * 86_400_000`); `None` for calendar periods.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::period::Period;
    /// assert_eq!(Period::Rolling { days: 2 }.rolling_ms(), Some(172_800_000));
    /// assert_eq!(Period::Month.rolling_ms(), None);
    /// ```
    pub fn rolling_ms(self) -> Option<i64> {
        match self {
            Period::Rolling { days } => Some(i64::from(days) * MS_PER_DAY),
            _ => None,
        }
    }
}

/// Maps an instant (ms since the Unix epoch) to the reader's local calendar date.
///
/// The browser shell implements this with `Intl.DateTimeFormat` for an IANA time zone, which knows
/// the daylight-saving rules; the core and its tests use [`Utc`] and [`FixedOffset`].
pub trait Calendar {
    /// The local date at instant `ms`.
    fn date_at(&self, ms: i64) -> CivilDate;
}

/// The UTC calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc;

impl Calendar for Utc {
    /// # Examples
    ///
    /// ```
    /// use meterwall::period::{Calendar, CivilDate, Utc};
    /// assert_eq!(Utc.date_at(1_700_000_000_000), CivilDate { year: 2023, month: 11, day: 14 });
    /// assert_eq!(Utc.date_at(-1), CivilDate { year: 1969, month: 12, day: 31 });
    /// ```
    fn date_at(&self, ms: i64) -> CivilDate {
        // div_euclid, not `/`: instants before 1970 must round down to the earlier day.
        civil_from_days(ms.div_euclid(MS_PER_DAY))
    }
}

/// Moves `noon_utc`, noon UTC of some date, to an instant on that same date in `calendar`'s zone:
/// half a day earlier or later for a zone more than 12 hours from UTC (noon UTC of 31 March is
/// already 1 April at UTC+13).
///
/// # Examples
///
/// ```
/// use meterwall::period::{days_from_civil, on_local_date, Calendar, CivilDate, FixedOffset};
/// let day = CivilDate { year: 2026, month: 3, day: 31 };
/// let noon = days_from_civil(day) * 86_400_000 + 43_200_000;
/// for minutes in [-720, -300, 0, 60, 780, 840] {
///     let zone = FixedOffset { minutes };
///     assert_eq!(zone.date_at(on_local_date(noon, &zone)), day, "UTC{minutes:+} min");
/// }
/// ```
pub fn on_local_date(noon_utc: i64, calendar: &dyn Calendar) -> i64 {
    let wanted = Utc.date_at(noon_utc);
    match calendar.date_at(noon_utc).cmp(&wanted) {
        core::cmp::Ordering::Greater => noon_utc - 43_200_000,
        core::cmp::Ordering::Less => noon_utc + 43_200_000,
        core::cmp::Ordering::Equal => noon_utc,
    }
}

/// A zone that is always `minutes` ahead of UTC (negative for west of Greenwich).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedOffset {
    /// Minutes added to UTC to get local time, e.g. -300 for UTC-5.
    pub minutes: i32,
}

impl Calendar for FixedOffset {
    /// # Examples
    ///
    /// ```
    /// use meterwall::period::{Calendar, CivilDate, FixedOffset};
    /// // 2023-11-14T22:13:20Z is already the 15th in UTC+2.
    /// let date = FixedOffset { minutes: 120 }.date_at(1_700_000_000_000);
    /// assert_eq!(date, CivilDate { year: 2023, month: 11, day: 15 });
    /// ```
    fn date_at(&self, ms: i64) -> CivilDate {
        // Saturating: a corrupt stored timestamp near i64::MAX must not overflow (and abort the wasm).
        Utc.date_at(ms.saturating_add(i64::from(self.minutes) * 60_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn date(year: i32, month: u8, day: u8) -> CivilDate {
        CivilDate::new(year, month, day).expect("test date is valid")
    }

    /// The UTC instant of a wall-clock time, in ms.
    fn utc_ms(year: i32, month: u8, day: u8, hour: i64, min: i64, sec: i64, milli: i64) -> i64 {
        days_from_civil(date(year, month, day)) * MS_PER_DAY
            + hour * HOUR
            + min * 60_000
            + sec * 1000
            + milli
    }

    /// America/New_York in 2026 only, from the published rule: EDT (UTC-4) from
    /// 2026-03-08 07:00 UTC (02:00 EST) until 2026-11-01 06:00 UTC (02:00 EDT), EST (UTC-5) otherwise.
    struct NewYork2026;

    impl Calendar for NewYork2026 {
        fn date_at(&self, ms: i64) -> CivilDate {
            let dst_start = utc_ms(2026, 3, 8, 7, 0, 0, 0);
            let dst_end = utc_ms(2026, 11, 1, 6, 0, 0, 0);
            let minutes = if (dst_start..dst_end).contains(&ms) {
                -240
            } else {
                -300
            };
            FixedOffset { minutes }.date_at(ms)
        }
    }

    #[test]
    fn known_day_numbers() {
        assert_eq!(days_from_civil(date(1970, 1, 1)), 0);
        assert_eq!(days_from_civil(date(2000, 1, 1)), 10_957);
        assert_eq!(days_from_civil(date(2026, 1, 1)), 20_454);
        assert_eq!(days_from_civil(date(0, 3, 1)), -719_468);
        assert_eq!(civil_from_days(20_454), date(2026, 1, 1));
        assert_eq!(civil_from_days(-719_468), date(0, 3, 1));
        assert_eq!(Utc.date_at(1_700_000_000_000), date(2023, 11, 14));
    }

    #[test]
    fn extreme_day_numbers_clamp_to_representable_years() {
        assert_eq!(civil_from_days(i64::MIN), date(i32::MIN, 1, 1));
        assert_eq!(civil_from_days(i64::MAX), date(i32::MAX, 12, 31));
        assert_eq!(civil_from_days(MIN_DAYS), date(i32::MIN, 1, 1));
        assert_eq!(civil_from_days(MAX_DAYS), date(i32::MAX, 12, 31));
        // And instants anywhere in i64 still give a date, without overflow.
        let _ = FixedOffset { minutes: 14 * 60 }.date_at(i64::MAX);
        let _ = FixedOffset { minutes: -12 * 60 }.date_at(i64::MIN);
    }

    #[test]
    fn leap_years_follow_gregorian_rule() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(is_leap_year(2028));
        assert!(!is_leap_year(2100));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2026));
        assert!(is_leap_year(0));
        assert!(is_leap_year(-4));
        assert!(!is_leap_year(-100));
    }

    #[test]
    fn leap_day_shares_month_bucket_with_first_of_february() {
        for year in [2024, 2028, 2000] {
            let feb1 = date(year, 2, 1);
            let feb29 = date(year, 2, 29);
            assert_eq!(Period::Month.bucket(feb29), Period::Month.bucket(feb1));
            assert_ne!(
                Period::Month.bucket(feb29),
                Period::Month.bucket(date(year, 3, 1))
            );
            assert_eq!(
                days_from_civil(feb29) + 1,
                days_from_civil(date(year, 3, 1))
            );
        }
    }

    #[test]
    fn year_2100_has_no_leap_day() {
        assert_eq!(CivilDate::new(2100, 2, 29), None);
        assert_eq!(parse_date("2100-02-29"), None);
        assert_eq!(
            civil_from_days(days_from_civil(date(2100, 2, 28)) + 1),
            date(2100, 3, 1)
        );
        assert_eq!(
            civil_from_days(days_from_civil(date(2000, 2, 28)) + 1),
            date(2000, 2, 29)
        );
    }

    #[test]
    fn month_changes_at_utc_midnight_on_the_first() {
        let last_ms = utc_ms(2026, 1, 31, 23, 59, 59, 999);
        let first_ms = utc_ms(2026, 2, 1, 0, 0, 0, 0);
        assert_eq!(first_ms - last_ms, 1);
        assert_eq!(Utc.date_at(last_ms), date(2026, 1, 31));
        assert_eq!(Utc.date_at(first_ms), date(2026, 2, 1));
        assert_eq!(Period::Month.bucket(Utc.date_at(last_ms)), 2026 * 12);
        assert_eq!(Period::Month.bucket(Utc.date_at(first_ms)), 2026 * 12 + 1);
        // December rolls into the next year's January bucket, one apart.
        assert_eq!(
            Period::Month.bucket(date(2027, 1, 1)) - Period::Month.bucket(date(2026, 12, 31)),
            1
        );
    }

    #[test]
    fn fixed_offset_moves_the_midnight() {
        // 2026-02-01 00:00 in UTC+1 is 2026-01-31 23:00 UTC.
        let plus_one = FixedOffset { minutes: 60 };
        let midnight = utc_ms(2026, 1, 31, 23, 0, 0, 0);
        assert_eq!(plus_one.date_at(midnight - 1), date(2026, 1, 31));
        assert_eq!(plus_one.date_at(midnight), date(2026, 2, 1));
        let minus_half = FixedOffset { minutes: -330 };
        assert_eq!(
            minus_half.date_at(utc_ms(2026, 2, 1, 5, 29, 59, 999)),
            date(2026, 1, 31)
        );
        assert_eq!(
            minus_half.date_at(utc_ms(2026, 2, 1, 5, 30, 0, 0)),
            date(2026, 2, 1)
        );
    }

    #[test]
    fn week_starts_on_monday() {
        let sunday = date(2026, 3, 1);
        let monday = date(2026, 3, 2);
        assert_eq!(
            Period::Week.bucket(sunday),
            days_from_civil(date(2026, 2, 23))
        );
        assert_eq!(Period::Week.bucket(monday), days_from_civil(monday));
        assert_ne!(Period::Week.bucket(sunday), Period::Week.bucket(monday));
        let next_sunday = date(2026, 3, 8);
        assert_eq!(
            Period::Week.bucket(next_sunday),
            Period::Week.bucket(monday)
        );
    }

    #[test]
    fn week_spans_the_new_year() {
        // 2026-12-31 is a Thursday: its ISO week starts Monday 2026-12-28 and runs to Sunday 2027-01-03.
        let week = Period::Week.bucket(date(2026, 12, 31));
        assert_eq!(week, days_from_civil(date(2026, 12, 28)));
        assert_eq!(Period::Week.bucket(date(2027, 1, 1)), week);
        assert_eq!(Period::Week.bucket(date(2027, 1, 3)), week);
        assert_eq!(Period::Week.bucket(date(2027, 1, 4)), week + 7);
        // The epoch itself (a Thursday) belongs to the week of Monday 1969-12-29.
        assert_eq!(Period::Week.bucket(date(1970, 1, 1)), -3);
    }

    #[test]
    fn day_bucket_is_the_day_number() {
        let d = date(2026, 5, 17);
        assert_eq!(Period::Day.bucket(d), days_from_civil(d));
        assert_eq!(
            Period::Day.bucket(date(2026, 5, 18)),
            days_from_civil(d) + 1
        );
    }

    #[test]
    fn rolling_and_lifetime_have_one_bucket() {
        for p in [Period::Rolling { days: 30 }, Period::Lifetime] {
            assert_eq!(p.bucket(date(1999, 1, 1)), 0);
            assert_eq!(p.bucket(date(2026, 7, 4)), 0);
        }
    }

    #[test]
    fn dst_start_keeps_day_and_month_at_local_midnight() {
        let ny = NewYork2026;
        // Local midnight of Sunday 2026-03-08 is still EST: 05:00 UTC.
        let before = utc_ms(2026, 3, 8, 4, 59, 59, 999);
        let midnight = utc_ms(2026, 3, 8, 5, 0, 0, 0);
        assert_eq!(ny.date_at(before), date(2026, 3, 7));
        assert_eq!(ny.date_at(midnight), date(2026, 3, 8));
        // The clocks jump at 07:00 UTC; the day does not change there.
        let jump = utc_ms(2026, 3, 8, 7, 0, 0, 0);
        assert_eq!(ny.date_at(jump - 1), date(2026, 3, 8));
        assert_eq!(ny.date_at(jump), date(2026, 3, 8));
        // The next local midnight is EDT: 04:00 UTC, an hour earlier in UTC terms.
        let day = |ms| Period::Day.bucket(ny.date_at(ms));
        assert_eq!(day(utc_ms(2026, 3, 9, 3, 59, 59, 999)), day(midnight));
        assert_eq!(day(utc_ms(2026, 3, 9, 4, 0, 0, 0)), day(midnight) + 1);
        // Month boundaries on either side of the switch: March 1 (EST) and April 1 (EDT).
        let month = |ms| Period::Month.bucket(ny.date_at(ms));
        let march = 2026 * 12 + 2;
        assert_eq!(month(utc_ms(2026, 3, 1, 4, 59, 59, 999)), march - 1);
        assert_eq!(month(utc_ms(2026, 3, 1, 5, 0, 0, 0)), march);
        assert_eq!(month(utc_ms(2026, 4, 1, 3, 59, 59, 999)), march);
        assert_eq!(month(utc_ms(2026, 4, 1, 4, 0, 0, 0)), march + 1);
    }

    #[test]
    fn dst_end_keeps_day_and_month_at_local_midnight() {
        let ny = NewYork2026;
        let day = |ms| Period::Day.bucket(ny.date_at(ms));
        let month = |ms| Period::Month.bucket(ny.date_at(ms));
        let october = 2026 * 12 + 9;
        // Local midnight of Sunday 2026-11-01 is still EDT: 04:00 UTC.
        let before = utc_ms(2026, 11, 1, 3, 59, 59, 999);
        let midnight = utc_ms(2026, 11, 1, 4, 0, 0, 0);
        assert_eq!(ny.date_at(before), date(2026, 10, 31));
        assert_eq!(ny.date_at(midnight), date(2026, 11, 1));
        assert_eq!(month(before), october);
        assert_eq!(month(midnight), october + 1);
        assert_eq!(day(midnight), day(before) + 1);
        // 01:00-02:00 local happens twice (05:00-07:00 UTC); both stay on November 1st.
        assert_eq!(
            ny.date_at(utc_ms(2026, 11, 1, 5, 30, 0, 0)),
            date(2026, 11, 1)
        );
        assert_eq!(
            ny.date_at(utc_ms(2026, 11, 1, 6, 30, 0, 0)),
            date(2026, 11, 1)
        );
        // The next local midnight is EST: 05:00 UTC.
        assert_eq!(day(utc_ms(2026, 11, 2, 4, 59, 59, 999)), day(midnight));
        assert_eq!(day(utc_ms(2026, 11, 2, 5, 0, 0, 0)), day(midnight) + 1);
        // And the year's last month boundary, in EST.
        assert_eq!(month(utc_ms(2026, 12, 1, 4, 59, 59, 999)), october + 1);
        assert_eq!(month(utc_ms(2026, 12, 1, 5, 0, 0, 0)), october + 2);
    }

    #[test]
    fn parse_date_accepts_only_real_iso_dates() {
        assert_eq!(parse_date("2026-01-31"), Some(date(2026, 1, 31)));
        assert_eq!(parse_date("2000-02-29"), Some(date(2000, 2, 29)));
        assert_eq!(parse_date("0000-01-01"), Some(date(0, 1, 1)));
        for bad in [
            "",
            "2026-02-30",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-1-01",
            "2026/01/01",
            "26-01-01",
            "+2026-01-01",
            "2026-01-01T00:00",
            " 2026-01-01",
            "2026-01-0a",
            "２０２６-01-01",
            "2026-01-1é",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn period_parse_spellings() {
        assert_eq!(Period::parse("month"), Some(Period::Month));
        assert_eq!(Period::parse("week"), Some(Period::Week));
        assert_eq!(Period::parse("day"), Some(Period::Day));
        assert_eq!(Period::parse("lifetime"), Some(Period::Lifetime));
        assert_eq!(
            Period::parse("rolling:1"),
            Some(Period::Rolling { days: 1 })
        );
        assert_eq!(
            Period::parse("rolling:366"),
            Some(Period::Rolling { days: 366 })
        );
        for bad in [
            "",
            "Month",
            " month",
            "monthly",
            "rolling",
            "rolling:",
            "rolling:0",
            "rolling:367",
            "rolling:030",
            "rolling:+3",
            "rolling:-3",
            "rolling:1000",
            "rolling: 3",
            "rolling:99999999999999999999",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tags_are_distinct_letters() {
        let tags = [
            Period::Month.tag(),
            Period::Week.tag(),
            Period::Day.tag(),
            Period::Rolling { days: 9 }.tag(),
            Period::Lifetime.tag(),
        ];
        assert_eq!(&tags, b"mwdrl");
    }

    #[test]
    fn rolling_ms_only_for_rolling() {
        assert_eq!(Period::Rolling { days: 1 }.rolling_ms(), Some(MS_PER_DAY));
        assert_eq!(
            Period::Rolling { days: 366 }.rolling_ms(),
            Some(366 * MS_PER_DAY)
        );
        for p in [Period::Month, Period::Week, Period::Day, Period::Lifetime] {
            assert_eq!(p.rolling_ms(), None);
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::super::*;
        use proptest::prelude::*;

        /// Browsers' Date range: ±8.64e15 ms around the epoch.
        const JS_MS: i64 = 8_640_000_000_000_000;

        fn any_date() -> impl Strategy<Value = CivilDate> {
            date_in(-10_000..10_000)
        }

        fn date_in(years: core::ops::Range<i32>) -> impl Strategy<Value = CivilDate> {
            (years, 1u8..=12).prop_flat_map(|(year, month)| {
                (1..=days_in_month(year, month)).prop_map(move |day| CivilDate { year, month, day })
            })
        }

        fn any_period() -> impl Strategy<Value = Period> {
            prop_oneof![
                Just(Period::Month),
                Just(Period::Week),
                Just(Period::Day),
                (1u16..=366).prop_map(|days| Period::Rolling { days }),
                Just(Period::Lifetime),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]

            #[test]
            fn civil_round_trips(d in any_date()) {
                prop_assert_eq!(civil_from_days(days_from_civil(d)), d);
            }

            #[test]
            fn day_numbers_round_trip(days in -4_000_000i64..4_000_000) {
                let d = civil_from_days(days);
                prop_assert!(CivilDate::new(d.year, d.month, d.day).is_some());
                prop_assert_eq!(days_from_civil(d), days);
            }

            #[test]
            fn days_strictly_increase_with_dates(a in any_date(), b in any_date()) {
                let (da, db) = (days_from_civil(a), days_from_civil(b));
                prop_assert_eq!(a.cmp(&b), da.cmp(&db));
            }

            #[test]
            fn next_day_is_one_more(d in any_date()) {
                let next = civil_from_days(days_from_civil(d) + 1);
                prop_assert!(next > d);
                prop_assert_eq!(days_from_civil(next), days_from_civil(d) + 1);
            }

            #[test]
            fn bucket_monotone_in_utc(
                p in any_period(),
                a in -JS_MS..=JS_MS,
                b in -JS_MS..=JS_MS,
            ) {
                let (early, late) = (a.min(b), a.max(b));
                prop_assert!(p.bucket(Utc.date_at(early)) <= p.bucket(Utc.date_at(late)));
            }

            #[test]
            fn bucket_monotone_with_fixed_offset(
                p in any_period(),
                minutes in -24 * 60..=24 * 60,
                a in -JS_MS..=JS_MS,
                step in 0i64..3 * 86_400_000,
            ) {
                // Small steps land near the boundaries that matter (midnights, month ends).
                let zone = FixedOffset { minutes };
                let later = a.saturating_add(step);
                prop_assert!(p.bucket(zone.date_at(a)) <= p.bucket(zone.date_at(later)));
            }

            #[test]
            fn week_bucket_is_a_monday_within_six_days(d in any_date()) {
                let monday = Period::Week.bucket(d);
                let days = days_from_civil(d);
                prop_assert!((0..7).contains(&(days - monday)));
                // 1970-01-05 was a Monday.
                prop_assert_eq!((monday - 4).rem_euclid(7), 0);
            }

            #[test]
            fn parse_date_never_panics(s in "\\PC{0,12}") {
                let _ = parse_date(&s);
            }

            #[test]
            fn parse_date_reads_what_it_is_given(d in date_in(0..10_000)) {
                let mut s = String::new();
                for (n, width) in [(d.year as u32, 4), (u32::from(d.month), 2), (u32::from(d.day), 2)] {
                    if !s.is_empty() {
                        s.push('-');
                    }
                    for i in (0..width).rev() {
                        s.push(char::from(b'0' + (n / 10u32.pow(i) % 10) as u8));
                    }
                }
                prop_assert_eq!(parse_date(&s), Some(d));
            }
        }
    }
}
