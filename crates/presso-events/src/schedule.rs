//! Schedule expressions, as EventBridge rules take them: `rate(value unit)` and the six-field
//! `cron(minutes hours day-of-month month day-of-week year)`, in UTC to the minute.
//!
//! `cron` supports what AWS documents: `,` `-` `*` `/` in every field, month and weekday names
//! (`JAN`–`DEC`, `SUN`–`SAT`, Sunday is 1), `?` in exactly one of day-of-month and day-of-week,
//! `L` (the month's last day, or a weekday's last occurrence as `6L`), `W` (the weekday nearest
//! a day, `LW` the last weekday) and `#` (`3#2`: the month's second Tuesday). Years run from
//! 1970 to 2199.

use time::{Date, Month};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const LAST_YEAR: i32 = 2199;
/// 1970-01-01 as a Julian day.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every `period_ms`, counted from when the rule was first seen.
    Rate {
        period_ms: i64,
    },
    Cron(Box<Cron>),
}

impl Schedule {
    /// Parses `rate(...)` or `cron(...)`; `None` when it is not a valid expression.
    pub fn parse(expression: &str) -> Option<Schedule> {
        let s = expression.trim();
        if let Some(body) = s.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')) {
            return parse_rate(body);
        }
        if let Some(body) = s.strip_prefix("cron(").and_then(|b| b.strip_suffix(')')) {
            return Cron::parse(body).map(|c| Schedule::Cron(Box::new(c)));
        }
        None
    }

    /// The first time after `after_ms` this schedule fires; a rate counts its periods from
    /// `anchor_ms`. `None` once a cron's years are over.
    pub fn next_after(&self, after_ms: i64, anchor_ms: i64) -> Option<i64> {
        match self {
            Schedule::Rate { period_ms } => {
                let elapsed = after_ms.saturating_sub(anchor_ms);
                let periods = if elapsed < 0 {
                    1
                } else {
                    elapsed / period_ms + 1
                };
                Some(anchor_ms.saturating_add(periods.saturating_mul(*period_ms)))
            }
            Schedule::Cron(c) => c.next_after(after_ms),
        }
    }
}

fn parse_rate(body: &str) -> Option<Schedule> {
    let mut parts = body.split_whitespace();
    let value: i64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?;
    if parts.next().is_some() || value < 1 {
        return None;
    }
    // AWS wants the singular for 1 and the plural otherwise.
    let unit_ms = match (unit, value == 1) {
        ("minute", true) | ("minutes", false) => MINUTE_MS,
        ("hour", true) | ("hours", false) => 60 * MINUTE_MS,
        ("day", true) | ("days", false) => DAY_MS,
        _ => return None,
    };
    Some(Schedule::Rate {
        period_ms: value.checked_mul(unit_ms)?,
    })
}

/// The allowed values of one numeric field, `min..=max`.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    min: u32,
    allowed: Vec<bool>,
}

impl Field {
    fn has(&self, v: u32) -> bool {
        v >= self.min
            && self
                .allowed
                .get((v - self.min) as usize)
                .copied()
                .unwrap_or(false)
    }

    /// The smallest allowed value `>= from`.
    fn first_from(&self, from: u32) -> Option<u32> {
        let start = from.max(self.min);
        (start..self.min + self.allowed.len() as u32).find(|&v| self.has(v))
    }

    /// Parses a list of `*`, `n`, `a-b`, each optionally `/step`, over `min..=max`.
    fn parse(text: &str, min: u32, max: u32, names: &[&str]) -> Option<Field> {
        let mut allowed = vec![false; (max - min + 1) as usize];
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, s.parse::<u32>().ok().filter(|&s| s > 0)?),
                None => (item, 1),
            };
            let (lo, hi) = if range == "*" {
                (min, max)
            } else if let Some((a, b)) = range.split_once('-') {
                (value(a, min, max, names)?, value(b, min, max, names)?)
            } else {
                let v = value(range, min, max, names)?;
                // `5/15`: from 5 to the end, every 15.
                (v, if item.contains('/') { max } else { v })
            };
            if lo > hi {
                return None;
            }
            let mut v = lo;
            while v <= hi {
                allowed[(v - min) as usize] = true;
                v += step;
            }
        }
        Some(Field { min, allowed })
    }
}

/// A number in `min..=max`, or one of `names` (the first name is `min`).
fn value(text: &str, min: u32, max: u32, names: &[&str]) -> Option<u32> {
    let v = match text.parse::<u32>() {
        Ok(v) => v,
        Err(_) => {
            let upper = text.to_ascii_uppercase();
            min + names.iter().position(|n| *n == upper)? as u32
        }
    };
    (min..=max).contains(&v).then_some(v)
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

#[derive(Debug, Clone, PartialEq)]
enum DayOfMonth {
    Any,
    Days(Field),
    Last,
    LastWeekday,
    NearestWeekday(u32),
}

#[derive(Debug, Clone, PartialEq)]
enum DayOfWeek {
    Any,
    Days(Field),
    /// `6L`: the month's last Friday.
    Last(u32),
    /// `3#2`: the month's second Tuesday.
    Nth(u32, u32),
}

/// A parsed `cron(...)` body.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Field,
    hours: Field,
    day_of_month: DayOfMonth,
    months: Field,
    day_of_week: DayOfWeek,
    years: Field,
}

impl Cron {
    fn parse(body: &str) -> Option<Cron> {
        let f: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, dom, months, dow, years] = f[..] else {
            return None;
        };
        let day_of_month = match dom {
            "?" => DayOfMonth::Any,
            "L" => DayOfMonth::Last,
            "LW" => DayOfMonth::LastWeekday,
            w if w.ends_with('W') => {
                DayOfMonth::NearestWeekday(value(&w[..w.len() - 1], 1, 31, &[])?)
            }
            d => DayOfMonth::Days(Field::parse(d, 1, 31, &[])?),
        };
        let day_of_week = match dow {
            "?" => DayOfWeek::Any,
            "L" => DayOfWeek::Days(Field::parse("7", 1, 7, &[])?),
            l if l.len() > 1 && l.ends_with('L') => {
                DayOfWeek::Last(value(&l[..l.len() - 1], 1, 7, WEEKDAYS)?)
            }
            n if n.contains('#') => {
                let (day, nth) = n.split_once('#')?;
                let nth: u32 = nth.parse().ok().filter(|n| (1..=5).contains(n))?;
                DayOfWeek::Nth(value(day, 1, 7, WEEKDAYS)?, nth)
            }
            d => DayOfWeek::Days(Field::parse(d, 1, 7, WEEKDAYS)?),
        };
        // Exactly one of the two day fields is `?`.
        if matches!(day_of_month, DayOfMonth::Any) == matches!(day_of_week, DayOfWeek::Any) {
            return None;
        }
        Some(Cron {
            minutes: Field::parse(minutes, 0, 59, &[])?,
            hours: Field::parse(hours, 0, 23, &[])?,
            day_of_month,
            months: Field::parse(months, 1, 12, MONTHS)?,
            day_of_week,
            years: Field::parse(years, 1970, LAST_YEAR as u32, &[])?,
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        let day = u32::from(date.day());
        let last = u32::from(date.month().length(date.year()));
        let dom = match &self.day_of_month {
            DayOfMonth::Any => true,
            DayOfMonth::Days(f) => f.has(day),
            DayOfMonth::Last => day == last,
            DayOfMonth::LastWeekday => day == nearest_weekday(date, last),
            DayOfMonth::NearestWeekday(n) => day == nearest_weekday(date, (*n).min(last)),
        };
        // Sunday is 1.
        let weekday = u32::from(date.weekday().number_from_sunday());
        let dow = match &self.day_of_week {
            DayOfWeek::Any => true,
            DayOfWeek::Days(f) => f.has(weekday),
            DayOfWeek::Last(w) => *w == weekday && day + 7 > last,
            DayOfWeek::Nth(w, n) => *w == weekday && (day - 1) / 7 + 1 == *n,
        };
        dom && dow
    }

    fn next_after(&self, after_ms: i64) -> Option<i64> {
        // The first whole minute strictly after `after_ms`.
        let start = after_ms.div_euclid(MINUTE_MS) * MINUTE_MS + MINUTE_MS;
        let mut day_ms = start.div_euclid(DAY_MS) * DAY_MS;
        let mut from_minute = ((start - day_ms) / MINUTE_MS) as u32;
        loop {
            let date =
                Date::from_julian_day(i32::try_from(day_ms / DAY_MS).ok()? + UNIX_EPOCH_JULIAN_DAY)
                    .ok()?;
            if date.year() > LAST_YEAR {
                return None;
            }
            if !self.years.has(date.year().max(0) as u32) {
                let next = Date::from_calendar_date(date.year() + 1, Month::January, 1).ok()?;
                day_ms = unix_day_ms(next);
                from_minute = 0;
                continue;
            }
            if !self.months.has(u32::from(u8::from(date.month()))) {
                let (y, m) = if date.month() == Month::December {
                    (date.year() + 1, Month::January)
                } else {
                    (date.year(), date.month().next())
                };
                day_ms = unix_day_ms(Date::from_calendar_date(y, m, 1).ok()?);
                from_minute = 0;
                continue;
            }
            if self.day_matches(date)
                && let Some(m) = self.first_minute_from(from_minute)
            {
                return Some(day_ms + i64::from(m) * MINUTE_MS);
            }
            day_ms += DAY_MS;
            from_minute = 0;
        }
    }

    /// The first allowed minute of the day at or after minute-of-day `from`.
    fn first_minute_from(&self, from: u32) -> Option<u32> {
        let (mut hour, mut minute) = (from / 60, from % 60);
        while let Some(h) = self.hours.first_from(hour) {
            let m0 = if h == hour { minute } else { 0 };
            if let Some(m) = self.minutes.first_from(m0) {
                return Some(h * 60 + m);
            }
            hour = h + 1;
            minute = 0;
        }
        None
    }
}

/// The weekday (Monday–Friday) nearest day `target` of `date`'s month, never leaving it.
fn nearest_weekday(date: Date, target: u32) -> u32 {
    let last = u32::from(date.month().length(date.year()));
    let Ok(t) = date.replace_day(target as u8) else {
        return target;
    };
    match t.weekday() {
        time::Weekday::Saturday if target == 1 => 3,
        time::Weekday::Saturday => target - 1,
        time::Weekday::Sunday if target == last => target - 2,
        time::Weekday::Sunday => target + 1,
        _ => target,
    }
}

fn unix_day_ms(date: Date) -> i64 {
    i64::from(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap();
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    fn next(expr: &str, after: &str) -> Option<i64> {
        Schedule::parse(expr).unwrap().next_after(ms(after), 0)
    }

    #[test]
    fn rates_count_whole_periods_from_their_anchor() {
        let s = Schedule::parse("rate(5 minutes)").unwrap();
        assert_eq!(s, Schedule::Rate { period_ms: 300_000 });
        assert_eq!(s.next_after(1_000, 1_000), Some(301_000));
        assert_eq!(s.next_after(300_999, 1_000), Some(301_000));
        assert_eq!(s.next_after(301_000, 1_000), Some(601_000));
        assert_eq!(
            Schedule::parse("rate(1 day)"),
            Some(Schedule::Rate { period_ms: DAY_MS })
        );
        assert_eq!(
            Schedule::parse("rate(2 hours)"),
            Some(Schedule::Rate {
                period_ms: 7_200_000
            })
        );
    }

    #[test]
    fn malformed_expressions_are_refused() {
        for bad in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(-1 minutes)",
            "rate(5 seconds)",
            "rate(5)",
            "rate(x minutes)",
            "rate 5 minutes",
            "cron(0 12 * * ? *",
            "cron(0 12 * * *)",
            "cron(0 12 * * * *)",
            "cron(0 12 ? * ? *)",
            "cron(60 12 * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 12 32 * ? *)",
            "cron(0 12 ? 13 * *)",
            "cron(0 12 ? * 8 *)",
            "cron(0 12 ? * FOO *)",
            "cron(0 12 ? * 2#6 *)",
            "cron(0 12 * * ? 1969)",
            "cron(0 12 * * ? 2200)",
            "cron(5-1 12 * * ? *)",
            "cron(*/0 12 * * ? *)",
            "every minute",
            "",
        ] {
            assert_eq!(Schedule::parse(bad), None, "{bad} should be refused");
        }
    }

    #[test]
    fn cron_finds_the_next_matching_minute() {
        // Every day at 12:00.
        assert_eq!(
            next("cron(0 12 * * ? *)", "2026-12-07T11:59:30Z"),
            Some(ms("2026-12-07T12:00:00Z"))
        );
        assert_eq!(
            next("cron(0 12 * * ? *)", "2026-12-07T12:00:00Z"),
            Some(ms("2026-12-08T12:00:00Z"))
        );
        // Every 15 minutes.
        assert_eq!(
            next("cron(0/15 * * * ? *)", "2026-12-07T10:31:00Z"),
            Some(ms("2026-12-07T10:45:00Z"))
        );
        assert_eq!(
            next("cron(0/15 * * * ? *)", "2026-12-07T23:50:00Z"),
            Some(ms("2026-12-08T00:00:00Z"))
        );
        // Weekdays at 08:30 and 17:30 (2026-12-11 is a Friday).
        assert_eq!(
            next("cron(30 8,17 ? * MON-FRI *)", "2026-12-11T18:00:00Z"),
            Some(ms("2026-12-14T08:30:00Z"))
        );
        // The first of every month at 00:00, across a year.
        assert_eq!(
            next("cron(0 0 1 * ? *)", "2026-12-07T00:00:00Z"),
            Some(ms("2027-01-01T00:00:00Z"))
        );
        // Only in 2028.
        assert_eq!(
            next("cron(0 0 1 JAN ? 2028)", "2026-12-07T00:00:00Z"),
            Some(ms("2028-01-01T00:00:00Z"))
        );
        // Years that are over never fire again.
        assert_eq!(next("cron(0 0 1 JAN ? 2020)", "2026-12-07T00:00:00Z"), None);
    }

    #[test]
    fn cron_day_specials_follow_the_calendar() {
        // The last day of February in a leap year.
        assert_eq!(
            next("cron(0 9 L * ? *)", "2028-02-01T00:00:00Z"),
            Some(ms("2028-02-29T09:00:00Z"))
        );
        // The last weekday of January 2027 (the 31st is a Sunday).
        assert_eq!(
            next("cron(0 9 LW * ? *)", "2027-01-01T00:00:00Z"),
            Some(ms("2027-01-29T09:00:00Z"))
        );
        // The weekday nearest the 1st of May 2027 (a Saturday) stays in May: Monday the 3rd.
        assert_eq!(
            next("cron(0 9 1W * ? *)", "2027-04-30T00:00:00Z"),
            Some(ms("2027-05-03T09:00:00Z"))
        );
        // The weekday nearest the 15th of November 2026 (a Sunday): Monday the 16th.
        assert_eq!(
            next("cron(0 9 15W * ? *)", "2026-11-01T00:00:00Z"),
            Some(ms("2026-11-16T09:00:00Z"))
        );
        // The last Friday of December 2026 is the 25th.
        assert_eq!(
            next("cron(0 9 ? * 6L *)", "2026-12-01T00:00:00Z"),
            Some(ms("2026-12-25T09:00:00Z"))
        );
        // The second Tuesday of January 2027 is the 12th.
        assert_eq!(
            next("cron(0 9 ? * TUE#2 *)", "2027-01-01T00:00:00Z"),
            Some(ms("2027-01-12T09:00:00Z"))
        );
    }
}
