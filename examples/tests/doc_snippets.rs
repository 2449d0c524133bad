//! Keeps `docs/writing-a-scheduler.md` honest: every Rust snippet in it must name the file
//! it comes from (`*From [PATH](../PATH):*` on the line before the fence, which readers see
//! as a link) and appear in that file, line for line, so a change to the code that the doc
//! does not follow fails here.

use std::path::{Path, PathBuf};

/// The workspace root: this crate lives in `examples/`.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A Rust snippet of the doc: where it starts, the file it names, its lines.
struct Snippet {
    line: usize,
    source: String,
    lines: Vec<String>,
}

/// The PATH of a `*From [PATH](../PATH):*` line, when name and link agree.
fn source_of(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("*From [")?.strip_suffix("):*")?;
    let (path, link) = rest.split_once("](../")?;
    (path == link).then_some(path)
}

/// Every Rust snippet of the doc, or the first one that names no file.
fn snippets(doc: &str) -> Result<Vec<Snippet>, String> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with("```rust") {
            i += 1;
            continue;
        }
        let marker = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
        let source = marker.and_then(|l| source_of(l.trim())).ok_or_else(|| {
            format!(
                "line {}: a rust snippet without `*From [PATH](../PATH):*`",
                i + 1
            )
        })?;
        let start = i + 1;
        let end = (start..lines.len())
            .find(|&j| lines[j].starts_with("```"))
            .ok_or_else(|| format!("line {}: unclosed snippet", i + 1))?;
        found.push(Snippet {
            line: i + 1,
            source: source.to_string(),
            lines: lines[start..end].iter().map(|l| l.to_string()).collect(),
        });
        i = end + 1;
    }
    Ok(found)
}

/// True when `snippet` is a run of consecutive lines of `file`, all indented alike in the
/// file by the same amount (an excerpt from inside an `impl` loses its indent in the doc).
fn contains(file: &[&str], snippet: &[String]) -> bool {
    let Some(first) = snippet.first() else {
        return false;
    };
    (0..file.len().saturating_sub(snippet.len() - 1)).any(|start| {
        let Some(indent) = file[start].strip_suffix(first.as_str()) else {
            return false;
        };
        if indent.chars().any(|c| c != ' ') {
            return false;
        }
        snippet.iter().zip(&file[start..]).all(|(s, f)| {
            if s.is_empty() {
                f.trim().is_empty()
            } else {
                f.strip_prefix(indent) == Some(s.as_str())
            }
        })
    })
}

#[test]
fn every_rust_snippet_is_real_code() {
    let doc_path = root().join("docs/writing-a-scheduler.md");
    let doc = std::fs::read_to_string(&doc_path).expect("the walkthrough exists");
    let snippets = snippets(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc_path.display()));
    assert!(
        snippets.len() >= 8,
        "only {} marked snippets",
        snippets.len()
    );
    for s in &snippets {
        assert!(
            s.source.starts_with("examples/"),
            "line {}: snippets come from the examples crate, not {}",
            s.line,
            s.source
        );
        let text = std::fs::read_to_string(root().join(&s.source))
            .unwrap_or_else(|e| panic!("line {}: {}: {e}", s.line, s.source));
        let file: Vec<&str> = text.lines().collect();
        assert!(
            contains(&file, &s.lines),
            "docs/writing-a-scheduler.md line {}: the snippet is not in {} as written; \
             copy it again from the file",
            s.line,
            s.source
        );
    }
}

#[test]
fn snippet_matching_is_exact() {
    let file = ["impl X {", "    fn a() {", "", "        b();", "    }", "}"];
    let s = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(contains(&file, &s(&["fn a() {", "", "    b();", "}"])));
    assert!(contains(&file, &s(&["impl X {"])));
    assert!(
        !contains(&file, &s(&["fn a() {", "", "    c();", "}"])),
        "changed line"
    );
    assert!(
        !contains(&file, &s(&["fn a() {", "    b();"])),
        "skipped line"
    );
    assert!(
        !contains(&file, &s(&["fn a() {", "", "b();"])),
        "indent differs inside"
    );
    assert!(!contains(&file, &s(&[])), "empty snippet");
    let doc = "text\n*From [examples/src/lib.rs](../examples/src/lib.rs):*\n\n```rust\nfn f() {}\n```\n```rust\nx\n```\n";
    let first = snippets(&doc[..doc.find("```\n```rust").unwrap() + 4]).unwrap();
    assert_eq!(
        (first[0].line, first[0].source.as_str()),
        (4, "examples/src/lib.rs")
    );
    assert_eq!(first[0].lines, ["fn f() {}"]);
    assert_eq!(
        source_of("*From [a.rs](../b.rs):*"),
        None,
        "name and link disagree"
    );
    assert_eq!(
        snippets(doc).err().as_deref(),
        Some("line 7: a rust snippet without `*From [PATH](../PATH):*`")
    );
}
