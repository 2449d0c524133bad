//! Simulated time as whole microseconds, with exact Go-style duration parsing and printing.

use std::fmt;
use std::ops::Add;

/// A point or span of simulated time, in whole microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(
    /// Whole microseconds since the start of the simulation, or the length of a span.
    pub u64,
);

const MICROS_PER_MILLI: u64 = 1_000;
const MICROS_PER_SEC: u64 = 1_000_000;
const MICROS_PER_MIN: u64 = 60 * MICROS_PER_SEC;
const MICROS_PER_HOUR: u64 = 60 * MICROS_PER_MIN;

impl SimTime {
    /// The start of every simulation, and the empty span.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable time; arithmetic saturates here, so it doubles as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// A time of `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimTime(us)
    }

    /// A time of `ms` milliseconds, saturating at MAX.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms.saturating_mul(MICROS_PER_MILLI))
    }

    /// A time of `s` seconds, saturating at MAX.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s.saturating_mul(MICROS_PER_SEC))
    }

    /// The time in whole microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The time in seconds, for reporting; loses precision beyond 2^53 microseconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// Sum of two times, clamped at MAX.
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// Difference of two times, clamped at ZERO.
    pub fn saturating_sub(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }

    /// From fractional seconds, rounded to the nearest microsecond, saturating; negative or NaN gives ZERO.
    pub fn from_secs_f64(s: f64) -> SimTime {
        if s.is_nan() || s <= 0.0 {
            return SimTime::ZERO;
        }
        // Float-to-int `as` saturates, so +inf and anything past u64::MAX become MAX.
        SimTime((s * MICROS_PER_SEC as f64).round() as u64)
    }
}

/// Saturating addition, so adding a delay to MAX stays "never" instead of wrapping.
impl Add for SimTime {
    type Output = SimTime;

    fn add(self, rhs: SimTime) -> SimTime {
        self.saturating_add(rhs)
    }
}

/// Compact Go-style form that `parse_duration` reads back exactly: "0s", "250us", "1.5ms",
/// "1.000001s", "59.5s"; from one minute up, h/m/s parts with zero parts left out: "1m30s",
/// "1h30m", "2h", "1h5s", "1h0.5s". Hours are never folded into days. Honours width and
/// alignment flags.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format_micros(self.0))
    }
}

fn format_micros(us: u64) -> String {
    if us == 0 {
        return "0s".to_owned();
    }
    // ASCII "us" rather than Go's "µs" keeps logs and CSV output plain ASCII.
    if us < MICROS_PER_MILLI {
        return format!("{us}us");
    }
    if us < MICROS_PER_SEC {
        return format!("{}ms", decimal(us, MICROS_PER_MILLI, 3));
    }
    if us < MICROS_PER_MIN {
        return format!("{}s", decimal(us, MICROS_PER_SEC, 6));
    }
    let hours = us / MICROS_PER_HOUR;
    let minutes = us % MICROS_PER_HOUR / MICROS_PER_MIN;
    let seconds = us % MICROS_PER_MIN;
    let mut out = String::new();
    if hours > 0 {
        out += &format!("{hours}h");
    }
    if minutes > 0 {
        out += &format!("{minutes}m");
    }
    if seconds > 0 {
        out += &format!("{}s", decimal(seconds, MICROS_PER_SEC, 6));
    }
    out
}

/// `value / unit` written as a decimal, without trailing fractional zeros.
fn decimal(value: u64, unit: u64, frac_width: usize) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0frac_width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    /// The rejected input, verbatim.
    pub input: String,
    /// What is wrong with it, phrased for a human.
    pub reason: String,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug formatting quotes the input and escapes control characters, so odd input stays readable.
        write!(f, "invalid duration {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for DurationError {}

/// Nanoseconds per unit; nanoseconds are the finest unit, so every unit is a whole number of them.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000), // U+00B5 micro sign
    ("μs", 1_000), // U+03BC Greek small mu; Go accepts both
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

const UNIT_HINT: &str = "expected one of ns, us, ms, s, m, h, d";

/// Parses a Go-style duration ("90s", "10m", "1h30m", "1.5h", "500ms", "250us", "2µs", "1d" as 24h, "0") into SimTime; rounds to the nearest microsecond.
pub fn parse_duration(s: &str) -> Result<SimTime, DurationError> {
    parse_micros(s)
        .map(SimTime)
        .map_err(|reason| DurationError {
            input: s.to_owned(),
            reason,
        })
}

fn parse_micros(s: &str) -> Result<u64, String> {
    let too_large = || format!("too large (more than {} microseconds)", u64::MAX);
    if s.is_empty() {
        return Err("empty string".to_owned());
    }
    if s.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".to_owned());
    }
    let (negative, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    // A bare zero is the one number that needs no unit, since it means the same in all of them.
    if body == "0" {
        return Ok(0);
    }
    if body.is_empty() {
        return Err("expected a number after the sign".to_owned());
    }

    // The exact total is whole_ns + 0.sub_ns (decimal digits below one nanosecond).
    let mut whole_ns: u128 = 0;
    let mut sub_ns: Vec<u8> = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (int_digits, after) = rest.split_at(digit_run(rest));
        let (frac_digits, after) = match after.strip_prefix('.') {
            Some(frac) => frac.split_at(digit_run(frac)),
            None => ("", after),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(format!("expected a number at {rest:?}"));
        }
        if after.starts_with('.') {
            return Err("more than one decimal point in a number".to_owned());
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(format!("missing unit ({UNIT_HINT})"));
        }
        let ns_per_unit = UNITS
            .iter()
            .find(|&&(name, _)| name == unit)
            .map(|&(_, ns)| ns)
            .ok_or_else(|| format!("unknown unit {unit:?} ({UNIT_HINT})"))?;

        let int = int_digits.bytes().try_fold(0u128, |acc, c| {
            acc.checked_mul(10)?.checked_add(u128::from(c - b'0'))
        });
        let mut ns = int
            .and_then(|v| v.checked_mul(ns_per_unit))
            .ok_or_else(too_large)?;

        // Multiply the fraction by the unit digit by digit from the right, as on paper, so any
        // number of fractional digits stays exact: the final carry is whole nanoseconds and the
        // digits left in place are what remains below a nanosecond.
        let mut frac_ns = vec![0u8; frac_digits.len()];
        let mut carry: u128 = 0;
        for (slot, c) in frac_ns.iter_mut().zip(frac_digits.bytes()).rev() {
            let v = u128::from(c - b'0') * ns_per_unit + carry;
            *slot = (v % 10) as u8;
            carry = v / 10;
        }
        ns = ns.checked_add(carry).ok_or_else(too_large)?;
        // Sub-nanosecond parts of separate components can add up to a whole one ("0.5ns0.5ns").
        let sub_carry = add_fraction(&mut sub_ns, &frac_ns);
        whole_ns = whole_ns
            .checked_add(ns)
            .and_then(|v| v.checked_add(sub_carry))
            .ok_or_else(too_large)?;
        rest = next;
    }

    if negative && (whole_ns > 0 || sub_ns.iter().any(|&d| d != 0)) {
        return Err("must not be negative".to_owned());
    }
    // Round half up. The sub-nanosecond remainder cannot move the result: the tie point
    // (500ns past a microsecond) is a whole nanosecond, so only whole_ns decides.
    let micros = whole_ns / 1000 + u128::from(whole_ns % 1000 >= 500);
    u64::try_from(micros).map_err(|_| too_large())
}

fn digit_run(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// Adds the fractional digits `add` (most significant first) into `acc`, returning the carry
/// out of the first digit (0 or 1).
fn add_fraction(acc: &mut Vec<u8>, add: &[u8]) -> u128 {
    if acc.len() < add.len() {
        acc.resize(add.len(), 0);
    }
    // Only the first add.len() digits change, so the cost is bounded by this component alone.
    let mut carry = 0u8;
    for (a, &b) in acc.iter_mut().zip(add).rev() {
        let sum = *a + b + carry;
        *a = sum % 10;
        carry = sum / 10;
    }
    u128::from(carry)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000;
    const MIN: u64 = 60 * SEC;
    const HOUR: u64 = 60 * MIN;

    #[test]
    fn constructors_and_arithmetic() {
        assert_eq!(SimTime::from_micros(7).as_micros(), 7);
        assert_eq!(SimTime::from_millis(3), SimTime(3_000));
        assert_eq!(SimTime::from_secs(2), SimTime(2 * SEC));
        assert_eq!(SimTime::from_secs(u64::MAX), SimTime::MAX);
        assert_eq!(SimTime::from_millis(u64::MAX), SimTime::MAX);
        assert_eq!(SimTime(1_500_000).as_secs_f64(), 1.5);
        assert_eq!(SimTime::MAX + SimTime(1), SimTime::MAX);
        assert_eq!(SimTime(2) + SimTime(3), SimTime(5));
        assert_eq!(SimTime(2).saturating_sub(SimTime(3)), SimTime::ZERO);
        assert_eq!(SimTime(5).saturating_sub(SimTime(3)), SimTime(2));
        assert_eq!(SimTime::default(), SimTime::ZERO);
    }

    #[test]
    fn from_secs_f64_rounds_and_saturates() {
        let rows: &[(f64, u64)] = &[
            (0.0, 0),
            (-0.0, 0),
            (-1.0, 0),
            (f64::NAN, 0),
            (f64::NEG_INFINITY, 0),
            (f64::INFINITY, u64::MAX),
            (1e30, u64::MAX),
            (1.5, 1_500_000),
            (0.000_000_4, 0),
            (0.000_000_6, 1),
            (2.000_001, 2_000_001),
        ];
        for &(secs, want) in rows {
            assert_eq!(SimTime::from_secs_f64(secs), SimTime(want), "{secs}");
        }
    }

    #[test]
    fn parses_valid_durations() {
        let rows: &[(&str, u64)] = &[
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("0s", 0),
            ("-0s", 0),
            ("90s", 90 * SEC),
            ("10m", 10 * MIN),
            ("1h30m", HOUR + 30 * MIN),
            ("1.5h", 5_400_000_000),
            ("500ms", 500_000),
            ("250us", 250),
            ("2µs", 2),
            ("2μs", 2),
            ("1d", 24 * HOUR),
            ("1.5d", 36 * HOUR),
            ("+1s", SEC),
            (".5s", SEC / 2),
            ("5.s", 5 * SEC),
            ("1s1s", 2 * SEC),
            ("1h1m1s1ms1us", HOUR + MIN + SEC + 1_000 + 1),
            ("1500ns", 2),
            ("1499ns", 1),
            ("500ns", 1),
            ("499ns", 0),
            ("0.5us", 1),
            ("0.4999999999999999999999us", 0),
            ("0.0000005s", 1),
            ("0.0000001s", 0),
            ("1.0000005s", 1_000_001),
            ("0.1h", 360 * SEC),
            ("0.333333333333333333333333h", 1_200_000_000),
            ("499ns0.5ns0.5ns", 1),
            ("1m30.5s", 90_500_000),
            ("18446744073709551615us", u64::MAX),
            ("18446744073709551615.4us", u64::MAX),
            ("5124095576h1m49.551615s", u64::MAX),
            ("000000000000000000000000000000000000000001s", SEC),
        ];
        for &(input, want) in rows {
            assert_eq!(parse_duration(input), Ok(SimTime(want)), "input {input:?}");
        }
    }

    #[test]
    fn rejects_invalid_durations() {
        let rows: &[(&str, &str)] = &[
            ("", "empty string"),
            (
                "10",
                "missing unit (expected one of ns, us, ms, s, m, h, d)",
            ),
            ("1h30", "missing unit"),
            ("00", "missing unit"),
            (
                "10x",
                "unknown unit \"x\" (expected one of ns, us, ms, s, m, h, d)",
            ),
            ("1hx", "unknown unit \"hx\""),
            ("1S", "unknown unit \"S\""),
            ("1e3s", "unknown unit \"e\""),
            ("-1s", "must not be negative"),
            ("-0.000001ns", "must not be negative"),
            ("1.2.3s", "more than one decimal point"),
            ("1..s", "more than one decimal point"),
            ("s", "expected a number at \"s\""),
            (".", "expected a number"),
            ("1s.", "expected a number"),
            ("-", "expected a number after the sign"),
            (" 1s", "must not contain whitespace"),
            ("1s ", "must not contain whitespace"),
            ("1h 30m", "must not contain whitespace"),
            ("18446744073709551616us", "too large"),
            ("18446744073709551615.5us", "too large"),
            ("5124095577h", "too large"),
            ("9999999999999999999999999999999999999999999h", "too large"),
            ("99999999999999999999999999999d", "too large"),
        ];
        for &(input, want) in rows {
            match parse_duration(input) {
                Ok(t) => panic!("{input:?} parsed to {t:?}"),
                Err(e) => {
                    assert!(
                        e.reason.contains(want),
                        "{input:?}: {:?} lacks {want:?}",
                        e.reason
                    );
                    assert_eq!(e.input, input);
                }
            }
        }
        assert_eq!(
            parse_duration("10").unwrap_err().to_string(),
            "invalid duration \"10\": missing unit (expected one of ns, us, ms, s, m, h, d)"
        );
    }

    #[test]
    fn display() {
        let rows: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1us"),
            (999, "999us"),
            (1_000, "1ms"),
            (1_500, "1.5ms"),
            (1_001, "1.001ms"),
            (250_000, "250ms"),
            (SEC, "1s"),
            (1_500_000, "1.5s"),
            (1_000_001, "1.000001s"),
            (59_999_999, "59.999999s"),
            (90 * SEC, "1m30s"),
            (MIN, "1m"),
            (HOUR + 30 * MIN, "1h30m"),
            (2 * HOUR, "2h"),
            (HOUR + 5 * SEC, "1h5s"),
            (HOUR + SEC / 2, "1h0.5s"),
            (48 * HOUR, "48h"),
            (u64::MAX, "5124095576h1m49.551615s"),
        ];
        for &(us, want) in rows {
            assert_eq!(SimTime(us).to_string(), want);
        }
        assert_eq!(format!("[{:>6}]", SimTime(90 * SEC)), "[ 1m30s]");
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn display_round_trips_through_parse() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            // Spread over every magnitude, not just the huge values a raw u64 would give.
            let us = rng.next() >> (rng.next() % 64);
            let t = SimTime(us);
            assert_eq!(parse_duration(&t.to_string()), Ok(t), "{us}");
        }
    }

    #[test]
    fn random_input_never_panics() {
        // Fragments that combine into near-miss durations; "|" separates them.
        let tokens: Vec<&str> = "0|1|5|9|.|+|-|n|u|µ|μ|m|s|h|d|x|e| |\0|99999999999999|0.5|ns"
            .split('|')
            .collect();
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for round in 0..5000 {
            let len = rng.next() % 10;
            let input = if round % 4 == 0 {
                // Raw bytes, lossily decoded, cover characters no token list would think of.
                let raw: Vec<u8> = (0..len).map(|_| rng.next().to_le_bytes()[0]).collect();
                String::from_utf8_lossy(&raw).into_owned()
            } else {
                (0..len)
                    .map(|_| tokens[(rng.next() % tokens.len() as u64) as usize])
                    .collect()
            };
            let _ = parse_duration(&input);
        }
    }
}
