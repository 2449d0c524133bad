//! Sweeps: seed ranges (`--seeds`) and parameter overrides (`--set PATH=V1,V2,...`).
//!
//! An override replaces one value of a scenario file, named by its YAML path, in the file's
//! text before the scenario is parsed: the replaced value keeps its line, so a bad value is
//! still reported with the file, line, column and field by the scenario loader. Only values
//! written in the file can be overridden (a path that names nothing is an error naming the
//! path); defaults the file leaves out are not reachable this way.
//!
//! Path segments are mapping keys; in a list, a segment is either a 0-based index or the
//! `name:` of the element (`cluster.nodePools.general.count`). Several `--set` flags make a
//! cartesian product of points, in the order given (the last flag varies fastest).

use std::borrow::Cow;

use granit_parser::{Event, Parser, Span};

/// One `--set PATH=V1,V2,...`: a scenario field and the values it takes in turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The field's YAML path, dot-separated.
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<String>,
}

/// One parameter point: a value for each overridden path, in `--set` order.
pub type Point = Vec<(String, String)>;

/// The seeds of one `--seeds` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedList(pub Vec<u64>);

/// `--seeds`' value parser.
pub fn parse_seed_list(s: &str) -> Result<SeedList, String> {
    parse_seeds(s).map(SeedList)
}

/// Parses `--seeds`: `N` is seeds 1..=N, `A..B` is seeds A..=B (both ends included).
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let number = |t: &str| {
        t.trim()
            .parse::<u64>()
            .map_err(|_| format!("expected a seed count N or a range A..B, got \"{s}\""))
    };
    let (first, last) = match s.split_once("..") {
        Some((a, b)) => (number(a)?, number(b.strip_prefix('=').unwrap_or(b))?),
        None => {
            let n = number(s)?;
            if n == 0 {
                return Err("the seed count must be at least 1".to_string());
            }
            (1, n)
        }
    };
    if first > last {
        return Err(format!(
            "the range {first}..{last} is empty: its start is after its end"
        ));
    }
    /// More seeds than this is a typo, not a sweep: it would plan billions of runs.
    const MAX_SEEDS: u64 = 1_000_000;
    if last - first >= MAX_SEEDS {
        return Err(format!("at most {MAX_SEEDS} seeds in one range"));
    }
    Ok((first..=last).collect())
}

/// Parses `--set PATH=V1,V2,...`.
pub fn parse_override(s: &str) -> Result<Override, String> {
    let (path, values) = s
        .split_once('=')
        .ok_or_else(|| format!("expected PATH=VALUE[,VALUE...], got \"{s}\""))?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!(
            "\"{path}\" is not a field path: expected keys separated by dots, such as cluster.nodePools.general.count"
        ));
    }
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(format!("{path}: empty value in \"{s}\""));
    }
    Ok(Override {
        path: path.to_string(),
        values,
    })
}

/// Every combination of the overrides' values, the last override varying fastest; one
/// empty point when there are no overrides.
pub fn points(overrides: &[Override]) -> Vec<Point> {
    let mut points: Vec<Point> = vec![Vec::new()];
    for o in overrides {
        points = points
            .into_iter()
            .flat_map(|p| {
                o.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((o.path.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    points
}

/// A point as a directory-name suffix (`@count=20,...`), empty for the empty point; the
/// caller sanitizes it.
pub fn point_label(point: &[(String, String)]) -> String {
    if point.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = point.iter().map(|(p, v)| format!("{p}={v}")).collect();
    format!("@{}", parts.join(","))
}

/// A node of the file, as far as paths need it: scalars keep their source range.
enum Node {
    Scalar(String, std::ops::Range<usize>),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    /// An alias or anything else a path cannot go through.
    Other,
}

/// Byte offset of a marker in `text`.
fn byte_at(text: &str, marker: &granit_parser::Marker) -> usize {
    marker.byte_offset().unwrap_or_else(|| {
        text.char_indices()
            .nth(marker.index())
            .map_or(text.len(), |(b, _)| b)
    })
}

/// Reads the first document of `text` into a [`Node`] tree.
fn tree(text: &str) -> Result<Node, String> {
    let mut events = Parser::new_from_str(text);
    // Comments and anchors' metadata are not nodes: skipped, so keys and values pair up.
    let mut next = || -> Result<Option<(Event<'_>, Span)>, String> {
        loop {
            let event = events.next().transpose().map_err(|e| e.to_string())?;
            if let Some((Event::Comment(..) | Event::Anchor(..), _)) = event {
                continue;
            }
            return Ok(event);
        }
    };
    fn node<'a>(
        text: &str,
        first: (Event<'a>, Span),
        next: &mut dyn FnMut() -> Result<Option<(Event<'a>, Span)>, String>,
    ) -> Result<Option<Node>, String> {
        Ok(Some(match first.0 {
            Event::Scalar(value, ..) => {
                let range = byte_at(text, &first.1.start)..byte_at(text, &first.1.end);
                Node::Scalar(value.into_owned(), range)
            }
            Event::MappingStart(..) => {
                let mut entries = Vec::new();
                while let Some(key) = next()? {
                    if matches!(key.0, Event::MappingEnd) {
                        break;
                    }
                    let key_text = match &key.0 {
                        Event::Scalar(k, ..) => k.to_string(),
                        _ => String::new(),
                    };
                    if !matches!(key.0, Event::Scalar(..)) {
                        node(text, key, next)?;
                    }
                    let Some(value) = next()? else { break };
                    let value = node(text, value, next)?.unwrap_or(Node::Other);
                    entries.push((key_text, value));
                }
                Node::Map(entries)
            }
            Event::SequenceStart(..) => {
                let mut items = Vec::new();
                while let Some(item) = next()? {
                    if matches!(item.0, Event::SequenceEnd) {
                        break;
                    }
                    items.push(node(text, item, next)?.unwrap_or(Node::Other));
                }
                Node::Seq(items)
            }
            Event::StreamStart | Event::DocumentStart(..) => return Ok(None),
            _ => Node::Other,
        }))
    }
    while let Some(event) = next()? {
        if let Some(n) = node(text, event, &mut next)? {
            return Ok(n);
        }
    }
    Ok(Node::Other)
}

/// The value `path` names in `root`: its source range, or why there is none.
fn find(root: &Node, path: &str) -> Result<std::ops::Range<usize>, String> {
    match lookup(root, path)? {
        Node::Scalar(_, range) => Ok(range.clone()),
        _ => Err(format!(
            "--set {path}: the field is a mapping or a list, not a single value"
        )),
    }
}

/// The scalar `path` names in the first document of `text`, as written (quotes removed);
/// `None` if the file has no such value. For callers that override a value only when the
/// file writes it (`schedlab plan` and a pool's `autoscaling.min`).
pub fn scalar_at(text: &str, path: &str) -> Option<String> {
    let root = tree(text).ok()?;
    match lookup(&root, path).ok()? {
        Node::Scalar(value, _) => Some(value.clone()),
        _ => None,
    }
}

/// The `name:` of each element of the list `path` names, in file order (`None` for an
/// element without one); empty if `path` names no list.
pub fn names_at(text: &str, path: &str) -> Vec<Option<String>> {
    let Ok(root) = tree(text) else {
        return Vec::new();
    };
    match lookup(&root, path) {
        Ok(Node::Seq(items)) => items
            .iter()
            .map(|item| match item {
                Node::Map(entries) => entries.iter().find_map(|(k, v)| match v {
                    Node::Scalar(n, _) if k == "name" => Some(n.clone()),
                    _ => None,
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The node `path` names in `root`, or why there is none.
fn lookup<'a>(root: &'a Node, path: &str) -> Result<&'a Node, String> {
    let mut at = root;
    let mut walked = String::new();
    for segment in path.split('.') {
        let child = match at {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == segment).map(|(_, v)| v),
            Node::Seq(items) => match segment.parse::<usize>() {
                Ok(i) => items.get(i),
                Err(_) => items.iter().find(|item| match item {
                    Node::Map(entries) => entries.iter().any(|(k, v)| {
                        k == "name" && matches!(v, Node::Scalar(n, _) if n == segment)
                    }),
                    _ => false,
                }),
            },
            _ => None,
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
        at = child.ok_or_else(|| {
            format!("--set {path}: the scenario has no field {walked} (only values written in the file can be overridden; in a list, name an element by its index or its name)")
        })?;
    }
    Ok(at)
}

/// Every scalar value of the first document, keys left out, in file order.
pub fn scalars(text: &str) -> Vec<String> {
    fn walk(node: &Node, out: &mut Vec<String>) {
        match node {
            Node::Scalar(v, _) => out.push(v.clone()),
            Node::Map(entries) => entries.iter().for_each(|(_, v)| walk(v, out)),
            Node::Seq(items) => items.iter().for_each(|v| walk(v, out)),
            Node::Other => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(root) = tree(text) {
        walk(&root, &mut out);
    }
    out
}

/// A value as YAML text: plain when that reads back as written, else double-quoted.
fn yaml_text(value: &str) -> Cow<'_, str> {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '/'));
    if plain {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(serde_json::to_string(value).unwrap_or_default())
    }
}

/// `text` with each of the point's values in place of the one its path names. Errors name
/// the path; the caller prefixes the file.
pub fn apply(text: &str, point: &Point) -> Result<String, String> {
    if point.is_empty() {
        return Ok(text.to_string());
    }
    let root = tree(text)?;
    let mut edits: Vec<(std::ops::Range<usize>, &str)> = Vec::new();
    for (path, value) in point {
        edits.push((find(&root, path)?, value));
    }
    // Replace from the end so earlier ranges stay valid.
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (range, value) in edits {
        out.replace_range(range, &yaml_text(value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_count_and_ranges() {
        assert_eq!(parse_seeds("3"), Ok(vec![1, 2, 3]));
        assert_eq!(parse_seeds("42..45"), Ok(vec![42, 43, 44, 45]));
        assert_eq!(parse_seeds("7..7"), Ok(vec![7]));
        assert!(parse_seeds("0").is_err());
        assert!(parse_seeds("5..2").unwrap_err().contains("empty"));
        assert!(parse_seeds("x").unwrap_err().contains("got \"x\""));
        assert!(parse_seeds("1..").is_err());
    }

    #[test]
    fn overrides_parse_and_multiply() {
        let a = parse_override("a.b=1,2").unwrap();
        let b = parse_override("c=x,y,z").unwrap();
        assert_eq!(a.values, ["1", "2"]);
        let p = points(&[a, b]);
        assert_eq!(p.len(), 6);
        assert_eq!(
            p[1],
            vec![("a.b".into(), "1".into()), ("c".into(), "y".into())]
        );
        assert_eq!(point_label(&p[1]), "@a.b=1,c=y");
        assert!(parse_override("nothing").is_err());
        assert!(parse_override("a..b=1").is_err());
        assert!(parse_override("a=1,,2").is_err());
        assert_eq!(points(&[]), vec![Vec::new()]);
    }

    const TEXT: &str = "name: x\ncluster:\n  nodePools:\n    - name: general\n      count: 4 # four\n    - {name: gpu, count: 2}\nworkloads:\n  - deployment: api\n    requests: {cpu: \"2\"}\n";

    #[test]
    fn values_are_replaced_in_place_by_key_name_and_index() {
        let point = vec![
            (
                "cluster.nodePools.general.count".to_string(),
                "20".to_string(),
            ),
            ("cluster.nodePools.1.count".to_string(), "3".to_string()),
            ("workloads.0.requests.cpu".to_string(), "500m".to_string()),
        ];
        let out = apply(TEXT, &point).unwrap();
        assert_eq!(
            out,
            "name: x\ncluster:\n  nodePools:\n    - name: general\n      count: 20 # four\n    - {name: gpu, count: 3}\nworkloads:\n  - deployment: api\n    requests: {cpu: 500m}\n"
        );
        // Lines are unchanged, so errors keep pointing at the right line.
        assert_eq!(out.lines().count(), TEXT.lines().count());
    }

    #[test]
    fn values_and_list_names_are_read() {
        assert_eq!(
            scalar_at(TEXT, "cluster.nodePools.1.count").as_deref(),
            Some("2")
        );
        assert_eq!(
            scalar_at(TEXT, "workloads.0.requests.cpu").as_deref(),
            Some("2")
        );
        assert_eq!(scalar_at(TEXT, "cluster.nodePools.0.autoscaling"), None);
        assert_eq!(scalar_at(TEXT, "cluster"), None);
        assert_eq!(
            names_at(TEXT, "cluster.nodePools"),
            [Some("general".to_string()), Some("gpu".to_string())]
        );
        assert_eq!(names_at(TEXT, "workloads"), [None]);
        assert!(names_at(TEXT, "name").is_empty());
    }

    #[test]
    fn unknown_paths_are_named() {
        let point = vec![("cluster.nodePools.big.count".to_string(), "1".to_string())];
        let error = apply(TEXT, &point).unwrap_err();
        assert!(error.contains("no field cluster.nodePools.big"), "{error}");
        let point = vec![("cluster".to_string(), "1".to_string())];
        assert!(
            apply(TEXT, &point)
                .unwrap_err()
                .contains("not a single value")
        );
        let point = vec![("name".to_string(), "a b: c".to_string())];
        assert_eq!(
            apply(TEXT, &point).unwrap().lines().next(),
            Some("name: \"a b: c\"")
        );
    }
}
