//! The one locator: turning a serde-saphyr error into a [`YamlError`], with the message
//! rephrased for the file's author and the dotted field path recovered from the error's
//! line and column.
//!
//! serde errors know where they happened but not in which field. Rather than threading a
//! path through every deserializer, the text is parsed a second time (only on this error
//! path) into an untyped [`Tree`] of spanned nodes, and the node at the error's position
//! names the field. A file too broken for that (a syntax error) still gets its line and
//! column.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{
    DuplicateKeyPolicy, Error, Location, MessageFormatter, Spanned, UserMessageFormatter,
};

use super::fragment::Fragment;
use super::message::shown;
use super::{MAX_YAML_SCALAR_BYTES, MAX_YAML_VALUES, YamlError, line_column, parse_options};
use crate::field_path;
use crate::suggest::closest;

/// What a reader tells the locator about the documents it reads.
pub trait Schema {
    /// What one document is, for messages: `a scenario`, `a KubeSchedulerConfiguration`.
    fn document(&self) -> &str;

    /// The kind and the allowed keys of the mapping at `path`, for an unknown key there,
    /// when the reader knows them better than serde (one struct standing for several
    /// kinds); `None` keeps serde's list.
    fn fields(&self, path: &str, tree: &Tree) -> Option<(String, Vec<String>)> {
        let _ = (path, tree);
        None
    }

    /// A message that explains an unknown key in the mapping at `path` better than the
    /// list of allowed keys (the mapping itself is wrong, not the key); `None` keeps
    /// the usual message.
    fn unknown_field(&self, path: &str, tree: &Tree) -> Option<String> {
        let _ = (path, tree);
        None
    }
}

/// The text of a file read as untyped nodes with their positions, to find what sits at a
/// position or at a field path.
pub struct Tree(Spanned<Node>);

impl Tree {
    /// The single value at `path` (spelt as in messages), if there is one.
    pub fn scalar_at(&self, path: &str) -> Option<&str> {
        walk_to(&self.0, path, "")
    }

    /// Reads one YAML document; `None` when the text is not YAML or holds no document.
    pub fn parse(text: &str) -> Option<Tree> {
        serde_saphyr::from_str_with_options::<Option<Spanned<Node>>>(text, parse_options())
            .ok()
            .flatten()
            .map(Tree)
    }

    /// Reads a [`Fragment`] with its file's positions; `None` when it is not YAML.
    pub(super) fn from_fragment(piece: &Fragment) -> Option<Tree> {
        piece
            .parse::<Option<Spanned<Node>>>()
            .ok()
            .flatten()
            .map(Tree)
    }

    /// Every mapping key of the document, in file order, with the path of the mapping
    /// that holds it (spelt as in messages) and where the key is.
    pub fn keys(&self) -> Vec<KeyAt> {
        fn walk(node: &Spanned<Node>, path: &str, out: &mut Vec<KeyAt>) {
            match &node.value {
                Node::Scalar(_) => {}
                Node::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{path}[{i}]"), out);
                    }
                }
                Node::Map(entries) => {
                    for (k, v) in entries {
                        out.push(KeyAt {
                            parent: path.to_owned(),
                            key: k.value.0.clone(),
                            at: k.referenced,
                        });
                        walk(v, &field_path::key(path, &k.value.0), out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, "", &mut out);
        out
    }
}

/// A mapping key found by [`Tree::keys`].
pub struct KeyAt {
    /// The path of the mapping that holds the key (empty at the top).
    pub parent: String,
    /// The key as written.
    pub key: String,
    /// Where the key is.
    pub at: Location,
}

/// An untyped YAML node, with the spans of its children.
enum Node {
    /// A single value, rendered as text (used only when the source text is not at hand).
    Scalar(String),
    /// A list.
    Seq(Vec<Spanned<Node>>),
    /// A mapping, keys in file order.
    Map(Vec<(Spanned<KeyText>, Spanned<Node>)>),
}

/// A mapping key as written. Read with `deserialize_str`, which gives the source text, where
/// untyped reading would turn a key `y` into `true`.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(KeyText)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(String::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(String::new()))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
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
            Step::Key(key) => out = field_path::key(&out, key),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The scalar at `want` below `node`, whose own path is `at`; only the branches that lead
/// to `want` are visited.
fn walk_to<'t>(node: &'t Spanned<Node>, want: &str, at: &str) -> Option<&'t str> {
    if at == want {
        return match &node.value {
            Node::Scalar(s) => Some(s),
            _ => None,
        };
    }
    let step = |child: &'t Spanned<Node>, path: String| {
        want.starts_with(path.as_str())
            .then(|| walk_to(child, want, &path))
            .flatten()
    };
    match &node.value {
        Node::Scalar(_) => None,
        Node::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| step(item, format!("{at}[{i}]"))),
        Node::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| step(v, field_path::key(at, &k.value.0))),
    }
}

/// What sits at a position of the file.
struct Hit<'t> {
    /// The path of the value or key found there.
    path: Vec<Step>,
    /// The value found there; `None` when the position is a key's.
    node: Option<&'t Spanned<Node>>,
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
    fn offer(&mut self, path: &[Step], node: Option<&'t Spanned<Node>>, loc: &Location) {
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

    fn visit(&mut self, path: &mut Vec<Step>, node: &'t Spanned<Node>) {
        let is_map = matches!(node.value, Node::Map(_));
        if self.target == Target::Value || (self.target == Target::Mapping && is_map) {
            self.offer(path, Some(node), &node.referenced);
        }
        match &node.value {
            Node::Scalar(_) => {}
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    self.visit(path, item);
                    path.pop();
                }
            }
            Node::Map(entries) => {
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
fn find<'t>(root: &'t Spanned<Node>, at: Location, target: Target) -> Option<Hit<'t>> {
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
fn scalar_text(node: &Spanned<Node>, rendered: &str, text: &str) -> String {
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
fn describe(node: &Spanned<Node>, text: &str) -> String {
    match &node.value {
        Node::Scalar(rendered) => {
            let s = scalar_text(node, rendered, text);
            if s.is_empty() {
                "nothing (an empty value)".to_owned()
            } else {
                shown(&s)
            }
        }
        Node::Seq(_) => "a list".to_owned(),
        Node::Map(_) => "a mapping".to_owned(),
    }
}

/// What serde-saphyr's internal expectation means in the author's terms.
fn expected_shape(expected: &str) -> String {
    match expected {
        "string scalar" | "scalar" => "a single value".to_owned(),
        "mapping start" | "mapping" | "empty mapping start" => "a mapping".to_owned(),
        "sequence start" | "sequence" => "a list".to_owned(),
        other => other.to_owned(),
    }
}

/// What a scalar type serde-saphyr failed to read means in the author's terms.
fn expected_scalar(ty: &str) -> String {
    match ty {
        "boolean" | "bool" => "true or false".to_owned(),
        "floating point" | "f32" | "f64" => "a number".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".to_owned(),
        // Kubernetes' int32 fields: the bound is worth saying, since 3000000000 is refused.
        "i32" => "an integer (32 bits)".to_owned(),
        "i8" | "i16" | "i64" | "i128" | "isize" => "an integer".to_owned(),
        other => format!("a {other}"),
    }
}

/// What a breach of the parser's budget means to the file's author: which limit, how big
/// the file is, and what to do about it.
fn budget_message(breach: &BudgetBreach, bytes: usize, schema: &dyn Schema) -> String {
    let size = format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0));
    let document = schema.document();
    match breach {
        BudgetBreach::Nodes { nodes } => format!(
            "the file is too large to read: it holds more than {} YAML values (scalars, lists \
             and mappings; {nodes} read so far, {size} of text), the most schedlab reads in one \
             file, enough for 1,000,000 listed nodes; describe identical nodes with a node pool \
             (`nodePools` with `count`) instead of listing them one by one",
            thousands(MAX_YAML_VALUES)
        ),
        BudgetBreach::Events { events } => format!(
            "the file is too large to read: more than {} YAML parser events ({events} read so \
             far, {size} of text); describe identical nodes with a node pool (`nodePools` with \
             `count`) instead of listing them one by one",
            thousands(MAX_YAML_VALUES * 2)
        ),
        BudgetBreach::ScalarBytes { total_scalar_bytes } => format!(
            "the file is too large to read: its values add up to more than {} MiB of text \
             ({total_scalar_bytes} bytes read so far)",
            MAX_YAML_SCALAR_BYTES >> 20
        ),
        BudgetBreach::Depth { depth } => format!(
            "the file nests lists and mappings {depth} levels deep, deeper than schedlab reads \
             (64); {document} needs far fewer"
        ),
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. } => {
            "the file uses YAML anchors and aliases (`&name`, `*name`) more than schedlab \
             allows, which could make a small file expand into a huge one; write the repeated \
             parts out, or use a node pool"
                .to_owned()
        }
        BudgetBreach::Documents { .. } => {
            format!("the file holds too many YAML documents; {document} is a single document")
        }
        other => format!("the file is too large or too complex to read ({other:?})"),
    }
}

/// `n` with thousands separators, as the documentation writes limits.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

/// A key for a message, in backticks when plain, else quoted and escaped.
fn shown_key(key: &str) -> String {
    let s = shown(key);
    if s.starts_with('"') {
        s
    } else {
        format!("`{s}`")
    }
}

/// Reads `text` as an untyped tree; `None` when it is not well-formed YAML. Repeated keys
/// are kept, so that a duplicate-key error still finds its key.
fn read_tree(text: &str) -> Option<Tree> {
    let mut options = parse_options();
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    serde_saphyr::from_str_with_options::<Option<Spanned<Node>>>(text, options)
        .ok()
        .flatten()
        .map(Tree)
}

/// Translates a parse error of the file at `path` with contents `text`, which holds what
/// `schema` describes.
pub fn translate(err: &Error, text: &str, path: &str, schema: &dyn Schema) -> YamlError {
    let location = err.location();
    let inner = innermost(err);
    // A file over the budget would be over it again when read as a tree; it gets its
    // position and a message about its size, not a field.
    if let Error::Budget { breach, .. } = inner {
        let (line, column) = location.map(|l| line_column(&l)).unwrap_or((None, None));
        return YamlError {
            path: path.to_owned(),
            line,
            column,
            field: None,
            message: budget_message(breach, text.len(), schema),
        };
    }
    let target = match inner {
        Error::SerdeMissingField { .. } => Target::Mapping,
        Error::SerdeUnknownField { .. } | Error::DuplicateMappingKey { .. } => Target::Key,
        _ => Target::Value,
    };
    // The second parse only succeeds for well-formed YAML; for a syntax error there is no
    // tree and so no field, only the position.
    let tree = read_tree(text);
    let hit = match (&tree, location) {
        (Some(root), Some(at)) => find(&root.0, at, target),
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
        Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let mapping = render(&path_steps[..path_steps.len().saturating_sub(1)]);
            match tree
                .as_ref()
                .and_then(|t| schema.unknown_field(&mapping, t))
            {
                Some(m) => m,
                None => unknown_field_message(field, expected, &mapping, tree.as_ref(), schema),
            }
        }
        Error::SerdeMissingField { field, .. } => {
            path_steps.push(Step::Key((*field).to_owned()));
            format!("missing required field `{field}`")
        }
        Error::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!(
                "duplicate key {}: each key may appear only once in a mapping",
                shown_key(key)
            ),
            None => "duplicate key: each key may appear only once in a mapping".to_owned(),
        },
        Error::Unexpected { expected, .. } => {
            with_got(format!("expected {}", expected_shape(expected)), got)
        }
        Error::InvalidScalar { ty, .. } => {
            with_got(format!("expected {}", expected_scalar(ty)), got)
        }
        Error::InvalidBooleanStrict { .. } => with_got("expected true or false".to_owned(), got),
        Error::NullIntoString { .. } => {
            "expected a value, got nothing (an empty value or null)".to_owned()
        }
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | Error::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => format!("expected {expected}, got {unexpected}"),
        Error::SerdeUnknownVariant {
            variant, expected, ..
        } => format!(
            "unknown value {}; expected one of {}",
            shown(variant),
            expected.join(", ")
        ),
        Error::MultipleDocuments { .. } => format!(
            "the file holds more than one YAML document (a second `---`); {} is a single document",
            schema.document()
        ),
        Error::Eof { .. } => "unexpected end of the file".to_owned(),
        Error::Message { msg, .. } => msg.clone(),
        other => UserMessageFormatter.format_message(other).into_owned(),
    };
    let (line, column) = location.map(|l| line_column(&l)).unwrap_or((None, None));
    let field = render(&path_steps);
    YamlError {
        path: path.to_owned(),
        line,
        column,
        field: (!field.is_empty()).then_some(field),
        message,
    }
}

/// "unknown field `x` in Kind (did you mean `y`?); allowed here: ..." for the mapping at
/// `mapping`.
fn unknown_field_message(
    field: &str,
    expected: &[&str],
    mapping: &str,
    tree: Option<&Tree>,
    schema: &dyn Schema,
) -> String {
    let refined = tree.and_then(|t| schema.fields(mapping, t));
    let (kind, allowed): (Option<String>, Vec<&str>) = match &refined {
        Some((kind, fields)) => (
            Some(kind.clone()),
            fields.iter().map(String::as_str).collect(),
        ),
        None => (None, expected.to_vec()),
    };
    let mut m = format!("unknown field {}", shown_key(field));
    if let Some(kind) = kind {
        m.push_str(&format!(" in {kind}"));
    }
    if let Some(best) = closest(field, &allowed) {
        m.push_str(&format!(" (did you mean `{best}`?)"));
    }
    if !allowed.is_empty() {
        m.push_str("; allowed here: ");
        m.push_str(&allowed.join(", "));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_at(text: &str, line: u64, column: u64, target: Target) -> Option<String> {
        let tree = serde_saphyr::from_str::<Spanned<Node>>(text).ok()?;
        // Find the location of a node at (line, column) by walking, since Location has no
        // public constructor.
        fn all(n: &Spanned<Node>, out: &mut Vec<Location>) {
            out.push(n.referenced);
            match &n.value {
                Node::Scalar(_) => {}
                Node::Seq(items) => items.iter().for_each(|i| all(i, out)),
                Node::Map(entries) => entries.iter().for_each(|(k, v)| {
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

    #[test]
    fn scalars_are_found_by_path() {
        let tree = read_tree("a:\n  - {name: x, labels: {k.io/z: v}}\n").unwrap();
        assert_eq!(tree.scalar_at("a[0].name"), Some("x"));
        assert_eq!(tree.scalar_at("a[0].labels[\"k.io/z\"]"), Some("v"));
        assert_eq!(tree.scalar_at("a[0]"), None, "a mapping is no scalar");
        assert_eq!(tree.scalar_at("a[1].name"), None);
    }

    /// A document of two fields, `name` and `count` (a u32), for the messages below.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only the errors of reading it are looked at")]
    struct Doc {
        name: String,
        count: Option<u32>,
        weight: Option<i32>,
        items: Option<Vec<String>>,
    }

    /// Reads `Doc`s; its pretend `kinds` list `name` and `count` for the top-level mapping.
    struct DocSchema;

    impl Schema for DocSchema {
        fn document(&self) -> &str {
            "a doc"
        }

        fn fields(&self, path: &str, tree: &Tree) -> Option<(String, Vec<String>)> {
            (path.is_empty() && tree.scalar_at("name") == Some("special")).then(|| {
                (
                    "Special".to_owned(),
                    vec!["name".to_owned(), "count".to_owned()],
                )
            })
        }
    }

    fn error(text: &str) -> YamlError {
        let err = serde_saphyr::from_str_with_options::<Doc>(text, parse_options())
            .expect_err("the text is refused");
        translate(&err, text, "doc.yaml", &DocSchema)
    }

    #[track_caller]
    fn check(text: &str, line: u64, column: u64, field: Option<&str>, message: &str) {
        let e = error(text);
        assert_eq!(
            (e.line, e.column, e.field.as_deref(), e.message.as_str()),
            (Some(line), Some(column), field, message),
            "{e}"
        );
        assert_eq!(e.path, "doc.yaml");
    }

    #[test]
    fn serde_errors_become_located_messages() {
        check(
            "name: a\ncont: 1\n",
            2,
            1,
            Some("cont"),
            "unknown field `cont` (did you mean `count`?); allowed here: name, count, weight, items",
        );
        check(
            "name: special\nweigt: 1\n",
            2,
            1,
            Some("weigt"),
            "unknown field `weigt` in Special; allowed here: name, count",
        );
        check(
            "count: 1\n",
            1,
            1,
            Some("name"),
            "missing required field `name`",
        );
        check(
            "name: a\ncount: lots\n",
            2,
            8,
            Some("count"),
            "expected a non-negative integer, got lots",
        );
        check(
            "name: a\nweight: 1.5\n",
            2,
            9,
            Some("weight"),
            "expected an integer (32 bits), got 1.5",
        );
        check(
            "name: a\nitems: {a: 1}\n",
            2,
            8,
            Some("items"),
            "expected a list, got a mapping",
        );
        check(
            "name: a\nname: b\n",
            2,
            1,
            Some("name"),
            "duplicate key `name`: each key may appear only once in a mapping",
        );
        check(
            "name: a\n---\nname: b\n",
            3,
            1,
            None,
            "the file holds more than one YAML document (a second `---`); a doc is a single document",
        );
    }

    #[test]
    fn budget_breaches_are_worded_for_users() {
        let nested = format!("name: a\nitems: {}{}\n", "[".repeat(80), "]".repeat(80));
        let err = serde_saphyr::from_str_with_options::<de::IgnoredAny>(&nested, parse_options())
            .expect_err("too deep");
        let e = translate(&err, &nested, "doc.yaml", &DocSchema);
        assert_eq!(e.field, None);
        assert!(e.line.is_some(), "{e}");
        assert!(
            e.message
                .starts_with("the file nests lists and mappings 65 levels deep"),
            "{e}"
        );
        assert!(!e.message.contains("Depth {"), "no debug format: {e}");
        assert_eq!(thousands(64_000_000), "64,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn the_budget_fits_a_million_values() {
        // Well past serde-saphyr's default of 250,000 values, which stopped a scenario at
        // about 28,000 listed nodes.
        let items = "- x\n".repeat(300_000);
        let doc: Doc = serde_saphyr::from_str_with_options(
            &format!("name: a\nitems:\n{items}"),
            parse_options(),
        )
        .expect("read");
        assert_eq!(doc.items.map(|v| v.len()), Some(300_000));
    }
}
