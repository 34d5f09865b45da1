//! Civil dates (proleptic Gregorian), enough for the law: parse `YYYY-MM-DD`, compare,
//! add days, count working days. Kept dependency-free because dates are plain data that
//! every stage (manifest, rule language, engine, reports) shares.

use std::fmt;

/// A calendar date, stored as days since 1970-01-01 so that comparison and
/// arithmetic are integer operations.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Date(i32);

impl Date {
    /// Builds a date from its parts; `None` when the day does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if !(1..=9999).contains(&year) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// Parses `YYYY-MM-DD` exactly (no time, no zone).
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = text.get(range)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = digits(0..4)? as i32;
        Date::from_ymd(year, digits(5..7)?, digits(8..10)?)
    }

    /// Today's date in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date((secs / 86_400) as i32)
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    pub fn add_days(self, days: i64) -> Date {
        let total = i64::from(self.0).saturating_add(days);
        Date(total.clamp(i64::from(i32::MIN / 2), i64::from(i32::MAX / 2)) as i32)
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i64 {
        i64::from(other.0).saturating_sub(i64::from(self.0))
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// 1 January of this date's year.
    pub fn start_of_year(self) -> Date {
        Date(days_from_civil(self.year(), 1, 1))
    }

    /// Monday = 0 ... Sunday = 6.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (i64::from(self.0).saturating_add(3)).rem_euclid(7) as u32
    }

    /// Working days (Monday to Friday) after `self` up to and including `other`.
    /// Public holidays are not modelled: a rule using this must say so.
    pub fn working_days_until(self, other: Date) -> i64 {
        // Strictly earlier only: with `<=` equal dates would recurse forever.
        if other < self {
            return other.working_days_until(self).saturating_neg();
        }
        // Whole weeks hold five working days each; only the last partial week is walked,
        // so the cost does not grow with the distance (dates made by `add_days` may lie
        // far outside years 1..=9999).
        let span = self.days_until(other);
        let weeks = span.div_euclid(7);
        let mut count = weeks.saturating_mul(5);
        let mut day = self.add_days(weeks.saturating_mul(7));
        while day < other {
            day = day.add_days(1);
            if day.weekday() < 5 {
                count = count.saturating_add(1);
            }
        }
        count
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's civil-from-days algorithms. Their inputs are bounded (years 1..=9999
// from `from_ymd`, day counts within ±i32::MAX/2 from `add_days`), so the intermediate
// values stay far inside i32.
#[allow(clippy::arithmetic_side_effects)]
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[allow(clippy::arithmetic_side_effects)]
fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        for text in [
            "1970-01-01",
            "2021-11-01",
            "2024-02-29",
            "2026-12-31",
            "0001-01-01",
        ] {
            assert_eq!(
                Date::parse(text).map(|d| d.to_string()).as_deref(),
                Some(text)
            );
        }
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2023-13-01").is_none());
        assert!(Date::parse("2023-1-01").is_none());
        assert!(Date::parse("2021-11-01") < Date::parse("2022-01-01"));
    }

    #[test]
    fn working_days_match_a_day_by_day_count() {
        let naive = |from: Date, to: Date| {
            let mut count = 0;
            let mut day = from;
            while day < to {
                day = day.add_days(1);
                if day.weekday() < 5 {
                    count += 1;
                }
            }
            count
        };
        let start = Date::parse("2025-03-01").unwrap();
        for offset in 0..40 {
            for len in 0..30 {
                let from = start.add_days(offset);
                let to = from.add_days(len);
                assert_eq!(from.working_days_until(to), naive(from, to), "{from}..{to}");
                assert_eq!(to.working_days_until(from), -naive(from, to));
            }
        }
    }

    #[test]
    fn working_days_between_extreme_dates_are_quick() {
        let far = Date::parse("0001-01-01").unwrap().add_days(i64::MIN);
        let late = Date::parse("9999-12-31").unwrap().add_days(i64::MAX);
        assert!(far.working_days_until(late) > 0);
    }

    #[test]
    fn working_days_skip_weekends() {
        // 2025-03-01 is a Saturday; ten working days later is Friday 2025-03-14.
        let since = Date::parse("2025-03-01").unwrap();
        assert_eq!(
            since.working_days_until(Date::parse("2025-03-14").unwrap()),
            10
        );
        assert_eq!(
            since.working_days_until(Date::parse("2025-03-17").unwrap()),
            11
        );
        assert_eq!(Date::parse("2025-03-14").unwrap().weekday(), 4);
    }
}
