//! Kubernetes' syntax for names, as the API server checks it: qualified names (label keys,
//! topology keys), label values, DNS labels (namespace names) and DNS subdomains
//! (PriorityClass names).
//!
//! Each check returns why the text is invalid, phrased to follow "invalid label key "x": ",
//! or `None` when it is valid. Only ASCII is ever valid, so the character checks work on
//! bytes; lengths are counted in characters, so that a message never understates one.

/// The longest name part of a qualified name, label value or DNS label.
const MAX_NAME_CHARS: usize = 63;
/// The longest DNS subdomain (and so the longest qualified-name prefix).
const MAX_SUBDOMAIN_CHARS: usize = 253;

/// Why `key` is not a qualified name: an optional DNS subdomain prefix and `/`, then a name
/// of at most 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter or
/// digit (`app`, `topology.kubernetes.io/zone`).
pub fn qualified_name_error(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("a label key must not be empty".to_owned());
    }
    let (prefix, name) = match key.split_once('/') {
        None => (None, key),
        Some((_, rest)) if rest.contains('/') => {
            return Some(
                "a label key has at most one `/`, between a DNS subdomain prefix and the name (example.com/name)"
                    .to_owned(),
            );
        }
        Some((prefix, name)) => (Some(prefix), name),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Some("the prefix before `/` must not be empty".to_owned());
        }
        if let Some(why) = dns_subdomain_error(prefix) {
            return Some(format!(
                "the prefix {prefix:?} is not a DNS subdomain: {why}"
            ));
        }
    }
    if name.is_empty() {
        return Some("the name after `/` must not be empty".to_owned());
    }
    name_part_error(name, "the name part")
}

/// Why `value` is not a label value: empty, or at most 63 letters, digits, `-`, `_` and
/// `.` that start and end with a letter or digit.
pub fn label_value_error(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    name_part_error(value, "a label value")
}

/// Why `name` is not a DNS label (RFC 1123): at most 63 lowercase letters, digits and `-`,
/// starting and ending with a letter or digit. Namespace names are DNS labels.
pub fn dns_label_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it must not be empty".to_owned());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Some(format!(
            "it must be at most {MAX_NAME_CHARS} characters, got {chars}"
        ));
    }
    let b = name.as_bytes();
    let inner_ok = b.iter().all(|&c| is_lower_alnum(c) || c == b'-');
    if !inner_ok || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return Some(
            "it must consist of lowercase letters, digits and `-`, and start and end with a letter or digit"
                .to_owned(),
        );
    }
    None
}

/// Why `name` is not a DNS subdomain (RFC 1123): at most 253 characters of dot-separated
/// parts, each of lowercase letters, digits and `-` that starts and ends with a letter or
/// digit. PriorityClass names are DNS subdomains.
pub fn dns_subdomain_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it must not be empty".to_owned());
    }
    let chars = name.chars().count();
    if chars > MAX_SUBDOMAIN_CHARS {
        return Some(format!(
            "it must be at most {MAX_SUBDOMAIN_CHARS} characters, got {chars}"
        ));
    }
    let part_ok = |part: &[u8]| match (part.first(), part.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first)
                && is_lower_alnum(last)
                && part.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    };
    if !name.as_bytes().split(|&c| c == b'.').all(part_ok) {
        return Some(
            "it must consist of lowercase letters, digits, `-` and `.`, with a letter or digit at the start, the end and on both sides of each `.`"
                .to_owned(),
        );
    }
    None
}

/// Why `part` is not the name part of a qualified name (or a non-empty label value), which
/// `what` names in the message.
fn name_part_error(part: &str, what: &str) -> Option<String> {
    let chars = part.chars().count();
    if chars > MAX_NAME_CHARS {
        return Some(format!(
            "{what} must be at most {MAX_NAME_CHARS} characters, got {chars}"
        ));
    }
    let b = part.as_bytes();
    let inner_ok = b
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if !inner_ok || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return Some(format!(
            "{what} must consist of letters, digits, `-`, `_` and `.`, and start and end with a letter or digit"
        ));
    }
    None
}

/// A lowercase ASCII letter or a digit.
fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names() {
        for ok in [
            "app",
            "A1",
            "my.name_x-y",
            "topology.kubernetes.io/zone",
            "example.com/MyName",
            "a/b",
            &"x".repeat(63),
        ] {
            assert_eq!(qualified_name_error(ok), None, "{ok}");
        }
        for bad in [
            "",
            "-app",
            "app-",
            "a b",
            "a/b/c",
            "/name",
            "Example.com/name",
            "example..com/name",
            "example.com/",
            "ключ",
            &"x".repeat(64),
        ] {
            assert!(qualified_name_error(bad).is_some(), "{bad}");
        }
        assert_eq!(
            qualified_name_error(&format!("{}/n", "a".repeat(254))).map(|m| m.contains("253")),
            Some(true)
        );
        // 40 characters but 80 bytes: rejected for its characters, not its length.
        let accented = qualified_name_error(&"é".repeat(40)).unwrap_or_default();
        assert!(accented.contains("must consist of"), "{accented}");
    }

    #[test]
    fn label_values() {
        for ok in ["", "web", "v1.2_3-x", "A"] {
            assert_eq!(label_value_error(ok), None, "{ok}");
        }
        for bad in ["-web", "web.", "a b", "a/b", &"v".repeat(64)] {
            assert!(label_value_error(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn dns_names() {
        assert_eq!(dns_label_error("kube-system"), None);
        assert_eq!(dns_label_error("0ab"), None);
        for bad in ["", "Shop", "a.b", "-a", "a-", "a_b", &"a".repeat(64)] {
            assert!(dns_label_error(bad).is_some(), "{bad}");
        }
        assert_eq!(dns_subdomain_error("high-priority"), None);
        assert_eq!(dns_subdomain_error("a.b-c.d"), None);
        for bad in [
            "",
            "High",
            "a..b",
            ".a",
            "a.",
            "a.-b",
            "a_b",
            &"a".repeat(254),
        ] {
            assert!(dns_subdomain_error(bad).is_some(), "{bad}");
        }
    }
}
