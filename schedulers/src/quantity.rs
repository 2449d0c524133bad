//! Kubernetes resource quantities ("500m", "1.5Gi", "1e3") parsed exactly into integer base units.

use std::fmt;

/// Why a quantity string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError {
    /// The rejected input, verbatim.
    pub input: String,
    /// What is wrong with it, phrased for a human.
    pub reason: String,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug formatting quotes the input and escapes control characters, so odd input stays readable.
        write!(f, "invalid quantity {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for QuantityError {}

/// Parses a CPU quantity into millicores, rounding up as Kubernetes does ("500m" -> 500, "2" -> 2000, "1.5" -> 1500, "0.0001" -> 1, "1e3" -> 1_000_000).
pub fn parse_cpu_millis(s: &str) -> Result<i64, QuantityError> {
    parse_in_units(s, 3, "millicores")
}

/// Parses a byte quantity (memory, ephemeral-storage) into bytes, rounding up ("1Gi" -> 1073741824, "1G" -> 1e9, "512Mi", "1.5Gi", "1e3" -> 1000, "100m" -> 1 since 0.1 byte rounds up).
pub fn parse_bytes(s: &str) -> Result<i64, QuantityError> {
    parse_in_units(s, 0, "bytes")
}

/// Parses a count quantity (pods, nvidia.com/gpu and other extended resources) into an integer, rounding up ("110", "1k" -> 1000, "2" -> 2).
pub fn parse_count(s: &str) -> Result<i64, QuantityError> {
    parse_in_units(s, 0, "")
}

/// Formats millicores the way Kubernetes prints them: whole cores as "2", else "1500m".
pub fn format_cpu_millis(m: i64) -> String {
    if m % 1000 == 0 {
        (m / 1000).to_string()
    } else {
        format!("{m}m")
    }
}

/// Formats bytes with the largest exact binary suffix ("1Gi", "512Mi", "1536Mi", "1000" when not a multiple of 1024).
pub fn format_bytes(b: i64) -> String {
    if b == 0 {
        return "0".to_owned();
    }
    let mut value = b;
    let mut suffix = "";
    for next in ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] {
        if value % 1024 != 0 {
            break;
        }
        value /= 1024;
        suffix = next;
    }
    format!("{value}{suffix}")
}

/// Exponents past this magnitude are rejected rather than computed: any nonzero value is
/// already far beyond i64 (or far below one unit) long before, and the bound keeps the
/// digit arithmetic short.
const MAX_EXPONENT: u32 = 100;

const SUFFIX_HINT: &str =
    "expected one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e3";

/// What a suffix multiplies the number by: 10^dec_exp * 2^bin_shift.
#[derive(Debug, Clone, Copy)]
struct Scale {
    dec_exp: i32,
    bin_shift: u32,
}

/// A syntactically valid quantity, before any arithmetic.
struct Parsed<'a> {
    negative: bool,
    int_digits: &'a [u8],
    frac_digits: &'a [u8],
    scale: Scale,
}

/// Parses `s` and converts it to units of 10^-`unit_exp` of the base unit, rounding up.
fn parse_in_units(s: &str, unit_exp: i32, unit_name: &str) -> Result<i64, QuantityError> {
    let fail = |reason: String| QuantityError {
        input: s.to_owned(),
        reason,
    };
    let q = parse_syntax(s).map_err(fail)?;

    let digits: Vec<u8> = q
        .int_digits
        .iter()
        .chain(q.frac_digits)
        .map(|c| c - b'0')
        .collect();
    if digits.iter().all(|&d| d == 0) {
        // "-0" and "0Ei" are harmless zeros, so sign and magnitude don't matter.
        return Ok(0);
    }
    if q.negative {
        return Err(fail("must not be negative".to_owned()));
    }

    let int_len = i64::try_from(q.int_digits.len()).unwrap_or(i64::MAX);
    let point = int_len
        .saturating_add(i64::from(q.scale.dec_exp))
        .saturating_add(i64::from(unit_exp));
    ceil_scaled(&digits, point, q.scale.bin_shift).ok_or_else(|| {
        let unit = if unit_name.is_empty() {
            String::new()
        } else {
            format!(" {unit_name}")
        };
        fail(format!("too large (more than {}{unit})", i64::MAX))
    })
}

/// Splits `s` into sign, digits and suffix, rejecting anything Kubernetes would not accept.
fn parse_syntax(s: &str) -> Result<Parsed<'_>, String> {
    if s.is_empty() {
        return Err("empty string".to_owned());
    }
    if s.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".to_owned());
    }
    let bytes = s.as_bytes();
    let (negative, mut pos) = match bytes[0] {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let int_len = digit_run(&bytes[pos..]);
    let int_digits = &bytes[pos..pos + int_len];
    pos += int_len;
    let mut frac_digits: &[u8] = &[];
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let frac_len = digit_run(&bytes[pos..]);
        frac_digits = &bytes[pos..pos + frac_len];
        pos += frac_len;
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err("no digits (expected a number such as 1, 0.5 or .5)".to_owned());
    }
    // Everything consumed so far is ASCII, so `pos` is a char boundary.
    let scale = parse_suffix(&s[pos..])?;
    Ok(Parsed {
        negative,
        int_digits,
        frac_digits,
        scale,
    })
}

fn digit_run(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn lookup_suffix(suffix: &str) -> Option<Scale> {
    let (dec_exp, bin_shift) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => return None,
    };
    Some(Scale { dec_exp, bin_shift })
}

fn parse_suffix(rest: &str) -> Result<Scale, String> {
    // Exact suffixes first, so a bare "E" means exa; "E" followed by a digit or sign is an exponent.
    if let Some(scale) = lookup_suffix(rest) {
        return Ok(scale);
    }
    let bytes = rest.as_bytes();
    if matches!(bytes.first(), Some(b'e' | b'E'))
        && matches!(bytes.get(1), Some(b'0'..=b'9' | b'+' | b'-'))
    {
        return parse_exponent(rest);
    }
    if rest.starts_with('.') {
        return Err("more than one decimal point".to_owned());
    }
    // "1Gix" is a typo'd valid suffix, which deserves a sharper message than "unknown suffix".
    for len in [2, 1] {
        if let Some(head) = rest.get(..len)
            && lookup_suffix(head).is_some()
        {
            return Err(format!(
                "unexpected {:?} after suffix {head:?}",
                &rest[len..]
            ));
        }
    }
    Err(format!("unknown suffix {rest:?} ({SUFFIX_HINT})"))
}

/// Parses "e3", "E-3", "e+2"; the caller has checked the first byte is e/E.
fn parse_exponent(rest: &str) -> Result<Scale, String> {
    let body = &rest[1..];
    let (negative, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    let n = digit_run(digits.as_bytes());
    if n == 0 {
        return Err(format!("exponent {rest:?} has no digits"));
    }
    if n < digits.len() {
        let exp_len = rest.len() - digits.len() + n;
        return Err(format!(
            "unexpected {:?} after exponent {:?}",
            &rest[exp_len..],
            &rest[..exp_len]
        ));
    }
    // Saturate so a thousand-digit exponent cannot overflow; it is rejected just below anyway.
    let magnitude = digits.bytes().fold(0u32, |acc, c| {
        acc.saturating_mul(10).saturating_add(u32::from(c - b'0'))
    });
    if magnitude > MAX_EXPONENT {
        return Err(format!(
            "exponent {rest:?} is out of range (magnitude at most {MAX_EXPONENT})"
        ));
    }
    let magnitude = i32::try_from(magnitude).unwrap_or(i32::MAX);
    Ok(Scale {
        dec_exp: if negative { -magnitude } else { magnitude },
        bin_shift: 0,
    })
}

/// Returns ceil(0.d1 d2 ... dn * 10^point * 2^bin_shift) for decimal digits `digits` (values
/// 0..=9, not all zero), or None if that exceeds i64::MAX.
fn ceil_scaled(digits: &[u8], point: i64, bin_shift: u32) -> Option<i64> {
    // Leading zeros carry no value; dropping them makes `point` the magnitude of the number.
    let zeros = digits.iter().take_while(|&&d| d == 0).count();
    let digits = &digits[zeros..];
    let point = point.saturating_sub(i64::try_from(zeros).unwrap_or(i64::MAX));
    if point >= 20 {
        // At least 10^19 before the binary multiplier, which only makes it bigger.
        return None;
    }
    if point <= -20 {
        // Below 10^-20 * 2^60 < 1, yet positive: rounds up to one unit.
        return Some(1);
    }
    let multiplier = 1u128.checked_shl(bin_shift)?;

    // From here -19 <= point <= 19, so the integer part has at most 19 digits.
    let int_len = usize::try_from(point).unwrap_or(0);
    let mut int_part: u128 = 0;
    for i in 0..int_len {
        let d = digits.get(i).copied().unwrap_or(0);
        int_part = int_part.checked_mul(10)?.checked_add(u128::from(d))?;
    }

    // Multiply the fractional digits by the binary multiplier exactly, right to left like on
    // paper: the final carry is the whole part it contributes, and any nonzero digit left
    // behind means a fraction remains and the result must round up.
    let frac = digits.get(int_len..).unwrap_or(&[]);
    let leading_frac_zeros = usize::try_from(point.saturating_neg()).unwrap_or(0);
    let mut carry: u128 = 0;
    let mut remainder = false;
    let frac_digits = frac
        .iter()
        .rev()
        .copied()
        .chain(std::iter::repeat_n(0, leading_frac_zeros));
    for d in frac_digits {
        let v = u128::from(d).checked_mul(multiplier)?.checked_add(carry)?;
        remainder |= v % 10 != 0;
        carry = v / 10;
    }

    let total = int_part
        .checked_mul(multiplier)?
        .checked_add(carry)?
        .checked_add(u128::from(remainder))?;
    i64::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(result: Result<i64, QuantityError>) -> String {
        match result {
            Ok(v) => panic!("expected an error, got Ok({v})"),
            Err(e) => e.reason,
        }
    }

    #[test]
    fn cpu_millis() {
        let rows: &[(&str, i64)] = &[
            ("500m", 500),
            ("2", 2000),
            ("1.5", 1500),
            ("0.0001", 1),
            ("1e3", 1_000_000),
            ("0", 0),
            ("0m", 0),
            ("-0", 0),
            ("+1", 1000),
            (".5", 500),
            ("5.", 5000),
            ("000001", 1000),
            ("0.5m", 1),
            ("1.0001", 1001),
            ("1.5e-3", 2),
            ("100n", 1),
            ("1000000n", 1),
            ("1000001n", 2),
            ("250000u", 250),
            ("1000u", 1),
            ("1001u", 2),
            ("1m", 1),
            ("1k", 1_000_000),
            ("1M", 1_000_000_000),
            ("1G", 1_000_000_000_000),
            ("1T", 1_000_000_000_000_000),
            ("1P", 1_000_000_000_000_000_000),
            ("9P", 9_000_000_000_000_000_000),
            ("0.001E", 1_000_000_000_000_000_000),
            ("1Ki", 1_024_000),
            ("1Mi", 1_048_576_000),
            ("1Gi", 1_073_741_824_000),
            ("1Ti", 1_099_511_627_776_000),
            ("1Pi", 1_125_899_906_842_624_000),
            ("0.001Ei", 1_152_921_504_606_846_976),
            ("1E-3", 1),
            ("1e-4", 1),
            ("2e+2", 200_000),
            ("2E2", 200_000),
            ("0e99", 0),
            ("1e-100", 1),
        ];
        for &(input, want) in rows {
            assert_eq!(parse_cpu_millis(input), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn bytes() {
        let rows: &[(&str, i64)] = &[
            ("1Gi", 1_073_741_824),
            ("1G", 1_000_000_000),
            ("512Mi", 536_870_912),
            ("1.5Gi", 1_610_612_736),
            ("1e3", 1000),
            ("100m", 1),
            ("0.1", 1),
            ("1.5Ki", 1536),
            ("0.5Ki", 512),
            ("0.001Ki", 2),
            ("0.0000001Ki", 1),
            ("0.9999999999999999999999999Ki", 1024),
            ("1.0000000000000000000000001Ki", 1025),
            ("0Gi", 0),
            ("1n", 1),
            ("1u", 1),
            ("1m", 1),
            ("1000m", 1),
            ("1001m", 2),
            ("1", 1),
            ("1k", 1000),
            ("1M", 1_000_000),
            ("1T", 1_000_000_000_000),
            ("1P", 1_000_000_000_000_000),
            ("1E", 1_000_000_000_000_000_000),
            ("1Ki", 1024),
            ("1Mi", 1_048_576),
            ("1Ti", 1_099_511_627_776),
            ("1Pi", 1_125_899_906_842_624),
            ("1Ei", 1_152_921_504_606_846_976),
            ("7Ei", 8_070_450_532_247_928_832),
            ("9223372036854775807", i64::MAX),
            ("9.223372036854775807E", i64::MAX),
            ("92233720368547758.07e2", i64::MAX),
            ("2e+2", 200),
            ("12E-1", 2),
        ];
        for &(input, want) in rows {
            assert_eq!(parse_bytes(input), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn counts() {
        let rows: &[(&str, i64)] = &[
            ("110", 110),
            ("1k", 1000),
            ("2", 2),
            ("0", 0),
            ("500m", 1),
            ("1.2", 2),
            ("1Ki", 1024),
            ("1M", 1_000_000),
            ("1e2", 100),
        ];
        for &(input, want) in rows {
            assert_eq!(parse_count(input), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn errors_name_their_cause() {
        let rows: &[(&str, &str)] = &[
            ("", "empty string"),
            (" 1", "must not contain whitespace"),
            ("1 ", "must not contain whitespace"),
            ("1 Gi", "must not contain whitespace"),
            ("-1", "must not be negative"),
            ("-0.5m", "must not be negative"),
            ("12Q", "unknown suffix \"Q\""),
            ("1K", "unknown suffix \"K\""),
            ("1e", "unknown suffix \"e\""),
            ("1µ", "unknown suffix \"µ\""),
            ("1Gix", "unexpected \"x\" after suffix \"Gi\""),
            ("1mm", "unexpected \"m\" after suffix \"m\""),
            ("1.2.3", "more than one decimal point"),
            ("5..", "more than one decimal point"),
            ("m", "no digits"),
            (".", "no digits"),
            ("-", "no digits"),
            ("+Gi", "no digits"),
            ("99999999999Ei", "too large"),
            ("9223372036854775808", "too large"),
            ("8Ei", "too large"),
            ("1e999", "out of range"),
            ("1e-101", "out of range"),
            ("1e99999999999999999999999", "out of range"),
            ("1e+", "has no digits"),
            ("1e3x", "unexpected \"x\" after exponent \"e3\""),
        ];
        for &(input, want) in rows {
            let got = reason(parse_bytes(input));
            assert!(
                got.contains(want),
                "input {input:?}: {got:?} lacks {want:?}"
            );
        }
        assert!(reason(parse_cpu_millis("1E")).contains("millicores"));
        assert!(reason(parse_count("1e19")).starts_with("too large"));
    }

    #[test]
    fn display_matches_the_documented_form() {
        let err = parse_cpu_millis("12Q").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid quantity \"12Q\": unknown suffix \"Q\" (expected one of n, u, m, k, M, G, \
             T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e3)"
        );
        assert_eq!(err.input, "12Q");
    }

    #[test]
    fn huge_digit_strings_stay_exact() {
        let tiny = format!("0.{}1", "0".repeat(10_000));
        assert_eq!(parse_cpu_millis(&tiny), Ok(1));
        assert_eq!(parse_bytes(&format!("{tiny}Ei")), Ok(1));
        let big = format!("1{}", "0".repeat(10_000));
        assert!(reason(parse_bytes(&big)).starts_with("too large"));
        let padded = format!("{}1.5{}Ki", "0".repeat(5_000), "0".repeat(5_000));
        assert_eq!(parse_bytes(&padded), Ok(1536));
    }

    #[test]
    fn formatting() {
        let cpu: &[(i64, &str)] = &[
            (0, "0"),
            (1, "1m"),
            (500, "500m"),
            (1000, "1"),
            (1500, "1500m"),
            (2000, "2"),
        ];
        for &(m, want) in cpu {
            assert_eq!(format_cpu_millis(m), want);
        }
        let bytes: &[(i64, &str)] = &[
            (0, "0"),
            (1000, "1000"),
            (1024, "1Ki"),
            (1536, "1536"),
            (536_870_912, "512Mi"),
            (1_610_612_736, "1536Mi"),
            (1_073_741_824, "1Gi"),
            (1 << 40, "1Ti"),
            (1 << 50, "1Pi"),
            (1 << 60, "1Ei"),
            (i64::MIN, "-8Ei"),
            (i64::MAX, "9223372036854775807"),
        ];
        for &(b, want) in bytes {
            assert_eq!(format_bytes(b), want);
        }
    }

    #[test]
    fn format_round_trips() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            // Mix small values, exact binary multiples and arbitrary large ones.
            let shift = rng.next() % 60;
            let v = i64::try_from((rng.next() % 4096) << shift).unwrap_or(i64::MAX);
            assert_eq!(parse_bytes(&format_bytes(v)), Ok(v), "bytes {v}");
            assert_eq!(parse_cpu_millis(&format_cpu_millis(v)), Ok(v), "cpu {v}");
        }
        for v in [0, 1, 999, 1000, 1001, i64::MAX] {
            assert_eq!(parse_bytes(&format_bytes(v)), Ok(v));
            assert_eq!(parse_cpu_millis(&format_cpu_millis(v)), Ok(v));
        }
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
    fn random_input_never_panics() {
        // Fragments that combine into near-miss quantities; "|" separates them.
        let tokens: Vec<&str> = "0|1|5|9|.|+|-|e|E|n|u|m|k|K|M|G|T|P|i|Ki|Ei|Q| |µ|\0|99999999999"
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
            for parse in [parse_cpu_millis, parse_bytes, parse_count] {
                if let Ok(v) = parse(&input) {
                    assert!(v >= 0, "{input:?} parsed to {v}");
                }
            }
        }
    }
}
