//! RFC 3339 timestamps (`metadata.creationTimestamp`), read into an instant so that they
//! order by time whatever offset or precision they are written with.
//!
//! The API server writes `metav1.Time` as RFC 3339 in UTC with seconds
//! (`2024-05-01T12:00:00Z`); other tools (and hand-edited snapshots) write offsets
//! (`+02:00`) and fractional seconds. The grammar is RFC 3339's `date-time` (section 5.6),
//! with `t`/`z` and a space for `T` accepted as the RFC allows. Simplified: a leap second
//! (`:60`) is refused, as Go's `time.Parse` refuses it.

/// An instant: seconds since 1970-01-01T00:00:00Z and nanoseconds into that second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    seconds: i64,
    nanos: u32,
}

impl Instant {
    /// Microseconds from `earlier` to `self` (negative when `self` is earlier), for
    /// measuring a snapshot's times against its "now"; saturates far outside any date.
    pub fn micros_since(self, earlier: Instant) -> i64 {
        let micros = |t: Instant| i128::from(t.seconds) * 1_000_000 + i128::from(t.nanos / 1_000);
        i64::try_from(micros(self) - micros(earlier)).unwrap_or(if self > earlier {
            i64::MAX
        } else {
            i64::MIN
        })
    }
}

/// Reads an RFC 3339 `date-time`; `None` when `text` is not one.
pub fn parse(text: &str) -> Option<Instant> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = b.get(from..from + n)?;
        part.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let year = digits(0, 4)?;
    let month = digits(5, 2)?;
    let day = digits(8, 2)?;
    if !at(4, b'-') || !at(7, b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(11, 2)?;
    let minute = digits(14, 2)?;
    let second = digits(17, 2)?;
    if !at(13, b':') || !at(16, b':') {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            // Digits past nanoseconds are read and dropped.
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b':') => {
            let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
        - offset * 60;
    Some(Instant { seconds, nanos })
}

/// Days in `month` of `year` (Gregorian).
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a Gregorian date (the usual era-based count: 400-year eras
/// of 146,097 days, years starting in March so the leap day is the last).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = (month + 9) % 12;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> i64 {
        parse(text).unwrap_or_else(|| panic!("{text}")).seconds
    }

    #[test]
    fn instants_are_utc_seconds_whatever_the_offset() {
        assert_eq!(seconds("1970-01-01T00:00:00Z"), 0);
        assert_eq!(seconds("2000-03-01T00:00:00Z"), 951_868_800);
        assert_eq!(seconds("2024-02-29T23:59:59Z"), 1_709_251_199);
        assert_eq!(
            seconds("2024-05-01T14:00:00+02:00"),
            seconds("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            seconds("2024-05-01t10:30:00-01:30"),
            seconds("2024-05-01 12:00:00z")
        );
        assert_eq!(seconds("1969-12-31T23:59:59Z"), -1);
    }

    #[test]
    fn fractions_order_within_a_second() {
        let a = parse("2024-05-01T12:00:00.5Z").unwrap();
        let b = parse("2024-05-01T12:00:00.123456789123Z").unwrap();
        assert_eq!((a.nanos, b.nanos), (500_000_000, 123_456_789));
        assert!(b < a);
        assert!(parse("2024-05-01T12:00:00Z").unwrap() < b);
        // An offset moves the instant, not the order of the text.
        assert!(
            parse("2024-05-01T13:00:00+02:00").unwrap() < parse("2024-05-01T12:00:00Z").unwrap()
        );
    }

    #[test]
    fn differences_are_signed_microseconds() {
        let a = parse("2024-05-01T12:00:00Z").unwrap();
        let b = parse("2024-05-01T14:00:50.25+02:00").unwrap();
        assert_eq!(b.micros_since(a), 50_250_000);
        assert_eq!(a.micros_since(b), -50_250_000);
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00Z",
            "2024-13-01T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:00:60Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00+0200",
            "2024-05-01T12:00:00+24:00",
            "2024-05-01T12:00:00Zjunk",
            "yesterday",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
