//! Field paths as messages spell them: `workloads[2].requests.cpu`,
//! `cluster.nodes[0].labels["kubernetes.io/os"]`, `profiles[0].plugins.score`. Every reader
//! of user input builds its paths here, so that one field is spelt one way everywhere.

/// Appends one mapping key to `base`: `.key` when the key is a plain word (letters, digits,
/// `_` and `-`), `["key"]` when it holds dots, slashes or anything else (label keys,
/// extended resources), so that the path stays unambiguous.
pub fn key(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (base.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{base}.{key}"),
        (_, false) => format!("{base}[{key:?}]"),
    }
}

/// Appends a path relative to `base` (`score.enabled`, `[0].weight`): `base.rest`, or
/// `base[0]...` when `rest` starts with an index, or either alone when the other is empty.
pub fn join(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest.is_empty()) {
        (_, true) => base.to_owned(),
        (true, false) => rest.to_owned(),
        (false, false) if rest.starts_with('[') => format!("{base}{rest}"),
        (false, false) => format!("{base}.{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_quoted_only_when_they_would_be_ambiguous() {
        assert_eq!(key("", "cluster"), "cluster");
        assert_eq!(key("cluster", "nodePools"), "cluster.nodePools");
        assert_eq!(
            key("labels", "kubernetes.io/os"),
            "labels[\"kubernetes.io/os\"]"
        );
        assert_eq!(key("", "a.b"), "[\"a.b\"]");
        assert_eq!(key("requests", ""), "requests[\"\"]");
    }

    #[test]
    fn relative_paths_join_with_a_dot_unless_they_start_with_an_index() {
        assert_eq!(
            join("profiles[0]", "plugins.score"),
            "profiles[0].plugins.score"
        );
        assert_eq!(join("profiles", "[0].name"), "profiles[0].name");
        assert_eq!(join("", "a.b"), "a.b");
        assert_eq!(join("a", ""), "a");
        assert_eq!(join("", ""), "");
    }
}
