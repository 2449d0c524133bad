//! "Did you mean" suggestions for misspelt names in user input (scenario fields, plugin
//! names, resource names).

/// The candidate closest to a misspelt word, if close enough to be a likely typo: at
/// most one edit per three characters (at least one), compared case-insensitively.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // Typos are short; a huge key would only make the quadratic distance slow.
    const MAX_CHARS: usize = 64;
    if word.chars().count() > MAX_CHARS {
        return None;
    }
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&word, &c.to_ascii_lowercase()), *c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_near_misses() {
        assert_eq!(
            closest("replica", &["pod", "replicas", "at"]),
            Some("replicas")
        );
        assert_eq!(
            closest("NodeAfinity", &["NodeAffinity", "NodeName"]),
            Some("NodeAffinity")
        );
        assert_eq!(closest("zzz", &["pod", "replicas"]), None);
        assert_eq!(closest(&"x".repeat(100), &["x"]), None);
    }
}
