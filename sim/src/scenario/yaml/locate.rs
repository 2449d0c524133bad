//! Turning a serde-saphyr error into a [`ScenarioError`]: the message rephrased for a
//! scenario author, and the dotted field path recovered from the error's line and column.
//!
//! serde errors know where they happened but not in which field. Rather than threading a
//! path through every deserializer, the text is parsed a second time — only on this error
//! path — into an untyped tree of spanned nodes, and the node at the error's position names
//! the field. A file too broken for that (a syntax error) still gets its line and column.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{
    DuplicateKeyPolicy, Error, Location, MessageFormatter, Spanned, UserMessageFormatter,
};

use super::{ScenarioError, closest, line_column, parse_options, shown};

/// An untyped YAML node, with the spans of its children.
enum Tree {
    /// A single value, rendered as text (used only when the source text is not at hand).
    Scalar(String),
    /// A list.
    Seq(Vec<Spanned<Tree>>),
    /// A mapping, keys in file order.
    Map(Vec<(Spanned<KeyText>, Spanned<Tree>)>),
}

/// A mapping key as written. Read with `deserialize_str`, which gives the source text, where
/// untyped reading would turn a key `y` into `true`.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(KeyText)
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(String::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(String::new()))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        Tree::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Tree::Map(entries))
    }
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Renders a path the way the file spells it: `cluster.nodePools[0].labels["kubernetes.io/os"]`.
fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) => out = super::join_key(&out, key),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// What sits at a position of the file.
struct Hit<'t> {
    /// The path of the value or key found there.
    path: Vec<Step>,
    /// The value found there; `None` when the position is a key's.
    node: Option<&'t Spanned<Tree>>,
}

/// Whether the node starts exactly at `at`.
fn starts_at(loc: &Location, at: &Location) -> bool {
    loc.line() == at.line() && loc.column() == at.column()
}

/// Whether the node starts at or before `at`.
fn starts_before(loc: &Location, at: &Location) -> bool {
    (loc.line(), loc.column()) <= (at.line(), at.column())
}

/// What kind of node an error points at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    /// A value: wrong type, bad scalar.
    Value,
    /// A key: unknown field, duplicate key.
    Key,
    /// The mapping a missing field belongs to. serde reports it at the mapping's first key
    /// (or at `{` when it is empty), so a key stands for its mapping here.
    Mapping,
}

/// Walks the tree in document order, collecting the deepest node of the wanted kind that
/// starts exactly at `at` and, as a fallback, the last one that starts before it.
struct Finder<'t> {
    at: Location,
    target: Target,
    exact: Option<Hit<'t>>,
    before: Option<Hit<'t>>,
}

impl<'t> Finder<'t> {
    fn offer(&mut self, path: &[Step], node: Option<&'t Spanned<Tree>>, loc: &Location) {
        if starts_at(loc, &self.at) {
            let deeper = self
                .exact
                .as_ref()
                .is_none_or(|h| path.len() >= h.path.len());
            if deeper {
                self.exact = Some(Hit {
                    path: path.to_vec(),
                    node,
                });
            }
        }
        if starts_before(loc, &self.at) {
            self.before = Some(Hit {
                path: path.to_vec(),
                node,
            });
        }
    }

    fn visit(&mut self, path: &mut Vec<Step>, node: &'t Spanned<Tree>) {
        let is_map = matches!(node.value, Tree::Map(_));
        if self.target == Target::Value || (self.target == Target::Mapping && is_map) {
            self.offer(path, Some(node), &node.referenced);
        }
        match &node.value {
            Tree::Scalar(_) => {}
            Tree::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    self.visit(path, item);
                    path.pop();
                }
            }
            Tree::Map(entries) => {
                for (key, value) in entries {
                    match self.target {
                        Target::Mapping => self.offer(path, Some(node), &key.referenced),
                        Target::Key => {
                            path.push(Step::Key(key.value.0.clone()));
                            self.offer(path, None, &key.referenced);
                            path.pop();
                        }
                        Target::Value => {}
                    }
                    path.push(Step::Key(key.value.0.clone()));
                    self.visit(path, value);
                    path.pop();
                }
            }
        }
    }
}

/// Finds what sits at `at`: an exact hit if some node of the wanted kind starts there, else
/// the nearest one before it (an error in the middle of a value).
fn find<'t>(root: &'t Spanned<Tree>, at: Location, target: Target) -> Option<Hit<'t>> {
    let mut finder = Finder {
        at,
        target,
        exact: None,
        before: None,
    };
    finder.visit(&mut Vec::new(), root);
    finder.exact.or(finder.before)
}

/// The source text of a single value, for "got ..." in messages, else its rendering.
fn scalar_text(node: &Spanned<Tree>, rendered: &str, text: &str) -> String {
    let span = node.referenced.span();
    let source = span
        .byte_offset()
        .zip(span.byte_len())
        .and_then(|(start, len)| {
            let start = usize::try_from(start).ok()?;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            text.get(start..end)
        });
    match source {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => rendered.to_owned(),
    }
}

/// Describes a node for "got ...": the value as written, or its shape.
fn describe(node: &Spanned<Tree>, text: &str) -> String {
    match &node.value {
        Tree::Scalar(rendered) => {
            let s = scalar_text(node, rendered, text);
            if s.is_empty() {
                "nothing (an empty value)".to_owned()
            } else {
                shown(&s)
            }
        }
        Tree::Seq(_) => "a list".to_owned(),
        Tree::Map(_) => "a mapping".to_owned(),
    }
}

/// What serde-saphyr's internal expectation means in scenario terms.
fn expected_shape(expected: &str) -> String {
    match expected {
        "string scalar" | "scalar" => "a single value".to_owned(),
        "mapping start" | "mapping" | "empty mapping start" => "a mapping".to_owned(),
        "sequence start" | "sequence" => "a list".to_owned(),
        other => other.to_owned(),
    }
}

/// What a scalar type serde-saphyr failed to read means in scenario terms.
fn expected_scalar(ty: &str) -> String {
    match ty {
        "boolean" | "bool" => "true or false".to_owned(),
        "floating point" | "f32" | "f64" => "a number".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".to_owned(),
        other => format!("a {other}"),
    }
}

/// The error serde-saphyr wraps in snippets and alias information.
fn innermost(mut err: &Error) -> &Error {
    loop {
        match err {
            Error::WithSnippet { error, .. } | Error::AliasError { error, .. } => err = error,
            _ => return err,
        }
    }
}

/// Appends ", got X" when the value at the error's position is known.
fn with_got(mut message: String, got: Option<String>) -> String {
    if let Some(got) = got {
        message.push_str(", got ");
        message.push_str(&got);
    }
    message
}

/// Translates a parse error of the file at `path` with contents `text`.
pub(super) fn translate(err: &Error, text: &str, path: &str) -> ScenarioError {
    let location = err.location();
    let inner = innermost(err);
    let target = match inner {
        Error::SerdeMissingField { .. } => Target::Mapping,
        Error::SerdeUnknownField { .. } | Error::DuplicateMappingKey { .. } => Target::Key,
        _ => Target::Value,
    };
    // The second parse only succeeds for well-formed YAML; for a syntax error there is no
    // tree and so no field, only the position.
    let mut options = parse_options();
    // Keep repeated keys, so that a duplicate-key error still finds its key.
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    let tree = serde_saphyr::from_str_with_options::<Option<Spanned<Tree>>>(text, options)
        .ok()
        .flatten();
    let hit = match (&tree, location) {
        (Some(root), Some(at)) => find(root, at, target),
        _ => None,
    };
    let exact = |hit: &Hit<'_>| {
        location.is_some_and(|at| hit.node.is_some_and(|n| starts_at(&n.referenced, &at)))
    };
    // "got ..." only when the node really is the one the error is about.
    let got = hit
        .as_ref()
        .filter(|h| exact(h))
        .and_then(|h| h.node)
        .map(|n| describe(n, text));
    let mut path_steps = hit.as_ref().map(|h| h.path.clone()).unwrap_or_default();

    let message = match inner {
        Error::SerdeUnknownField { field, expected, .. } => {
            let mut m = format!("unknown field {}", shown_key(field));
            if let Some(best) = closest(field, expected) {
                m.push_str(&format!(" (did you mean `{best}`?)"));
            }
            if !expected.is_empty() {
                m.push_str("; allowed here: ");
                m.push_str(&expected.join(", "));
            }
            m
        }
        Error::SerdeMissingField { field, .. } => {
            path_steps.push(Step::Key((*field).to_owned()));
            format!("missing required field `{field}`")
        }
        Error::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("duplicate key {}: each key may appear only once in a mapping", shown_key(key)),
            None => "duplicate key: each key may appear only once in a mapping".to_owned(),
        },
        Error::Unexpected { expected, .. } => with_got(format!("expected {}", expected_shape(expected)), got),
        Error::InvalidScalar { ty, .. } => with_got(format!("expected {}", expected_scalar(ty)), got),
        Error::InvalidBooleanStrict { .. } => with_got("expected true or false".to_owned(), got),
        Error::NullIntoString { .. } => "expected a value, got nothing (an empty value or null)".to_owned(),
        Error::SerdeInvalidType { unexpected, expected, .. }
        | Error::SerdeInvalidValue { unexpected, expected, .. } => format!("expected {expected}, got {unexpected}"),
        Error::SerdeUnknownVariant { variant, expected, .. } => {
            format!("unknown value {}; expected one of {}", shown(variant), expected.join(", "))
        }
        Error::MultipleDocuments { .. } => {
            "the file holds more than one YAML document (a second `---`); a scenario is a single document".to_owned()
        }
        Error::Eof { .. } => "unexpected end of the file".to_owned(),
        Error::Message { msg, .. } => msg.clone(),
        other => UserMessageFormatter.format_message(other).into_owned(),
    };
    let (line, column) = location.map(|l| line_column(&l)).unwrap_or((None, None));
    let field = render(&path_steps);
    ScenarioError {
        path: path.to_owned(),
        line,
        column,
        field: (!field.is_empty()).then_some(field),
        message,
    }
}

/// A key for a message, in backticks when plain, else quoted and escaped.
fn shown_key(key: &str) -> String {
    let s = shown(key);
    if s.starts_with('"') {
        s
    } else {
        format!("`{s}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_at(text: &str, line: u64, column: u64, target: Target) -> Option<String> {
        let tree = serde_saphyr::from_str::<Spanned<Tree>>(text).ok()?;
        // Find the location of a node at (line, column) by walking, since Location has no
        // public constructor.
        fn all(n: &Spanned<Tree>, out: &mut Vec<Location>) {
            out.push(n.referenced);
            match &n.value {
                Tree::Scalar(_) => {}
                Tree::Seq(items) => items.iter().for_each(|i| all(i, out)),
                Tree::Map(entries) => entries.iter().for_each(|(k, v)| {
                    out.push(k.referenced);
                    all(v, out);
                }),
            }
        }
        let mut locs = Vec::new();
        all(&tree, &mut locs);
        let at = locs
            .into_iter()
            .find(|l| l.line() == line && l.column() == column)?;
        find(&tree, at, target).map(|h| render(&h.path))
    }

    #[test]
    fn paths_follow_the_file_spelling() {
        let text =
            "cluster:\n  nodePools:\n    - name: a\n      labels: {kubernetes.io/os: linux}\n";
        let at = |line, column, target| path_at(text, line, column, target);
        assert_eq!(
            at(3, 13, Target::Value).as_deref(),
            Some("cluster.nodePools[0].name")
        );
        assert_eq!(
            at(3, 7, Target::Key).as_deref(),
            Some("cluster.nodePools[0].name")
        );
        assert_eq!(
            at(4, 34, Target::Value).as_deref(),
            Some("cluster.nodePools[0].labels[\"kubernetes.io/os\"]")
        );
        assert_eq!(
            at(3, 7, Target::Mapping).as_deref(),
            Some("cluster.nodePools[0]")
        );
        assert_eq!(
            at(2, 3, Target::Value).as_deref(),
            Some("cluster"),
            "the mapping under cluster starts there"
        );
    }
}
