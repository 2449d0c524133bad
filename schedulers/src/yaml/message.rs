//! The pieces messages are made of: a value from the file as it is shown, lists of choices,
//! "did you mean", and where something else was defined.

use crate::suggest::closest;

use super::Location;

/// The longest value shown in a message before it is cut with `…`.
const MAX_SHOWN_CHARS: usize = 60;

/// A value from the file as it appears in a message: verbatim when plain, quoted and
/// escaped when empty, padded or holding control characters, and shortened when long.
pub fn shown(s: &str) -> String {
    let plain = !s.is_empty() && s.trim() == s && !s.chars().any(char::is_control);
    let mut out = if plain {
        s.to_owned()
    } else {
        format!("{s:?}")
    };
    if out.chars().count() > MAX_SHOWN_CHARS {
        out = out.chars().take(MAX_SHOWN_CHARS).collect::<String>() + "…";
    }
    out
}

/// A value for a message, always quoted and escaped, and shortened when long.
pub fn quoted(s: &str) -> String {
    if s.chars().count() > MAX_SHOWN_CHARS {
        format!("{:?}…", s.chars().take(MAX_SHOWN_CHARS).collect::<String>())
    } else {
        format!("{s:?}")
    }
}

/// A list of names for a message: `a, b or c`.
pub fn one_of(options: &[&str]) -> String {
    match options {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// " (did you mean X?)" when `word` is a likely typo of one of `options`, else nothing.
pub fn did_you_mean(word: &str, options: &[&str]) -> String {
    closest(word, options)
        .map(|c| format!(" (did you mean {c}?)"))
        .unwrap_or_default()
}

/// "; expected X" after a parser's reason, unless the reason already says what it expected.
pub fn with_hint(reason: &str, expected: &str) -> String {
    if reason.contains("expected") {
        String::new()
    } else {
        format!("; expected {expected}")
    }
}

/// Where a value is, for "already defined at ... (line N)" in messages; nothing when the
/// line is unknown.
pub fn at_line(loc: &Location) -> String {
    if loc.line() == 0 {
        String::new()
    } else {
        format!(" (line {})", loc.line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_verbatim_unless_that_would_mislead() {
        assert_eq!(shown("500m"), "500m");
        assert_eq!(shown(""), "\"\"");
        assert_eq!(shown(" a"), "\" a\"");
        assert_eq!(shown("a\tb"), "\"a\\tb\"");
        let long = "x".repeat(70);
        assert_eq!(shown(&long), format!("{}…", "x".repeat(60)));
        assert_eq!(quoted("web"), "\"web\"");
        assert_eq!(quoted(&long), format!("\"{}\"…", "x".repeat(60)));
    }

    #[test]
    fn choices_read_as_a_sentence() {
        assert_eq!(one_of(&[]), "");
        assert_eq!(one_of(&["In"]), "In");
        assert_eq!(one_of(&["In", "NotIn", "Exists"]), "In, NotIn or Exists");
        assert_eq!(
            did_you_mean("Exist", &["In", "Exists"]),
            " (did you mean Exists?)"
        );
        assert_eq!(did_you_mean("zzzz", &["In", "Exists"]), "");
        assert_eq!(with_hint("bad unit", "a size"), "; expected a size");
        assert_eq!(with_hint("bad unit (expected Mi)", "a size"), "");
    }
}
