//! Object metadata the server fills in: uids, generated names, timestamps, selectors.

use serde_json::Value;

/// An RFC 3339 timestamp of now, to the second, as Kubernetes writes `metav1.Time`.
pub fn now_rfc3339() -> String {
    crate::controllers::rfc3339(crate::controllers::now())
}

/// A random version-4 UUID, as `metadata.uid`.
pub fn new_uid() -> String {
    let mut b = [0u8; 16];
    // The OS generator failing is not recoverable in any useful way; fall back to time.
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = t.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A string field at a JSON pointer, or "".
pub fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The value a field selector compares: the field's string (numbers and booleans as
/// text), "" when absent.
fn field_text(object: &Value, path: &str) -> String {
    let pointer = format!("/{}", path.replace('.', "/"));
    match object.pointer(&pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// Whether an object passes a field selector (`a.b=x,c!=y`; `==` is `=`).
pub fn field_selector_matches(object: &Value, selector: &str) -> bool {
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        if let Some((path, want)) = term.split_once("!=") {
            field_text(object, path.trim()) != want.trim()
        } else if let Some((path, want)) = term.split_once('=') {
            let want = want.strip_prefix('=').unwrap_or(want);
            field_text(object, path.trim()) == want.trim()
        } else {
            false
        }
    })
}

/// Whether a field selector is well formed.
pub fn field_selector_valid(selector: &str) -> bool {
    selector
        .split(',')
        .filter(|t| !t.is_empty())
        .all(|t| t.contains('='))
}

/// Splits a label selector at the commas outside parentheses.
fn selector_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether an object's labels pass a label selector (`a=b`, `a!=b`, `a`, `!a`,
/// `a in (x,y)`, `a notin (x,y)`); `None` when the selector is malformed.
pub fn label_selector_matches(object: &Value, selector: &str) -> Option<bool> {
    let labels = object.pointer("/metadata/labels");
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let mut ok = true;
    for term in selector_terms(selector) {
        let pass = if let Some((k, set)) = term.split_once(" notin ") {
            let set = parse_set(set)?;
            get(k.trim()).is_none_or(|v| !set.contains(&v))
        } else if let Some((k, set)) = term.split_once(" in ") {
            let set = parse_set(set)?;
            get(k.trim()).is_some_and(|v| set.contains(&v))
        } else if let Some((k, v)) = term.split_once("!=") {
            get(k.trim()) != Some(v.trim())
        } else if let Some((k, v)) = term.split_once('=') {
            let v = v.strip_prefix('=').unwrap_or(v);
            get(k.trim()) == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            get(k.trim()).is_none()
        } else {
            get(term).is_some()
        };
        ok &= pass;
    }
    Some(ok)
}

fn parse_set(s: &str) -> Option<Vec<&str>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(str::trim).collect())
}

/// Kubernetes' short human duration (`duration.HumanDuration`): `45s`, `3m10s`, `25m`,
/// `5h`, `3d4h`, `20d`, `2y`.
pub fn human_duration(secs: u64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s}s")
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        let mm = m % 60;
        if mm == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{mm}m")
        }
    } else if h < 48 {
        format!("{h}h")
    } else if d < 8 {
        let hh = h % 24;
        if hh == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{hh}h")
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else {
        format!("{}y", d / 365)
    }
}

/// Seconds since an RFC 3339 timestamp (0 if it is missing or in the future).
pub fn age_secs(timestamp: &str) -> u64 {
    humantime::parse_rfc3339_weak(timestamp)
        .ok()
        .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors() {
        let pod = json!({"metadata": {"labels": {"app": "web", "tier": "a"}},
                         "spec": {"nodeName": "n1"}});
        assert!(field_selector_matches(&pod, "spec.nodeName=n1"));
        assert!(!field_selector_matches(&pod, "spec.nodeName=n2"));
        assert!(field_selector_matches(
            &pod,
            "spec.nodeName!=n2,metadata.name="
        ));
        assert_eq!(
            label_selector_matches(&pod, "app=web,tier in (a,b)"),
            Some(true)
        );
        assert_eq!(label_selector_matches(&pod, "app,!zone"), Some(true));
        assert_eq!(label_selector_matches(&pod, "tier notin (a)"), Some(false));
        assert_eq!(label_selector_matches(&pod, "tier in a"), None);
    }

    #[test]
    fn durations_as_kubectl_prints_them() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(190), "3m10s");
        assert_eq!(human_duration(25 * 60), "25m");
        assert_eq!(human_duration(5 * 3600), "5h");
        assert_eq!(human_duration(3 * 86400 + 4 * 3600), "3d4h");
    }

    #[test]
    fn uids_are_version_4() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
