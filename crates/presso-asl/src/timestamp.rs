//! RFC 3339 timestamps as Step Functions reads and writes them.
//!
//! Choice rules, `Wait` states and the context object need exactly one timestamp
//! format: `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`. AWS rejects anything looser
//! (a space instead of `T`, a missing offset), so this parser does too. It never reads
//! a clock: the host passes time in.

/// Nanoseconds since the Unix epoch; `i128` so any four-digit year fits.
pub(crate) type Nanos = i128;

/// Parses an RFC 3339 timestamp with a mandatory offset; `None` if it is not one.
pub(crate) fn parse(s: &str) -> Option<Nanos> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        let mut v = 0i64;
        for &c in part {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let year = num(0, 4)?;
    if b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    let hour = num(11, 2)?;
    let minute = num(14, 2)?;
    let second = num(17, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut frac_nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        let mut scale: i128 = 100_000_000;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            frac_nanos += i128::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1, 2)?;
            let om = num(i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + frac_nanos)
}

/// Formats milliseconds since the epoch the way AWS writes `StartTime`/`EnteredTime`:
/// `2024-01-31T12:00:00.123Z`.
pub(crate) fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's civil-calendar algorithms: exact for every proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_offset_forms_denote_the_same_instant() {
        assert_eq!(
            parse("2012-10-09T19:00:55Z"),
            parse("2012-10-09T21:00:55+02:00")
        );
        assert!(parse("2012-10-09T19:00:55.5Z") > parse("2012-10-09T19:00:55Z"));
    }

    #[test]
    fn timestamps_without_offset_or_with_a_space_are_rejected() {
        assert_eq!(parse("2012-10-09T19:00:55"), None);
        assert_eq!(parse("2023-02-24 12:15:56.832957"), None);
        assert_eq!(parse("2012-13-09T19:00:55Z"), None);
        assert_eq!(parse("2012-02-30T19:00:55Z"), None);
        assert_eq!(parse("2012-10-09T19:00:55.Z"), None);
    }

    #[test]
    fn formatting_round_trips_through_parsing() {
        let ms = 1_700_000_000_123;
        let s = format_millis(ms);
        assert_eq!(s, "2023-11-14T22:13:20.123Z");
        assert_eq!(parse(&s), Some(i128::from(ms) * 1_000_000));
    }
}
