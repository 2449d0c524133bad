//! The lessons of `docs/learn/` against the real binary: every `schedlab` command a lesson
//! shows runs, and every claim it makes beside its text (`<!-- check: ... -->` and
//! `<!-- check-explain: ... -->` comments) holds, so the lessons cannot drift from the code.
//!
//! `<!-- check: SCENARIO [RUN ARGS] => CLAIM; CLAIM -->` runs `schedlab run` with `--trace`
//! and reads the one run's `trace.csv`; a claim is `POD on NODE` (the pod's first binding)
//! or `POD pending "MESSAGE"` (never bound, and its first unschedulable message; the
//! quoted part is optional) or `POD evicted [at SECONDS]` (evicted, first at that time), or `summary
//! COLUMN=VALUE` (the run's row of `summary.csv`), or `stats SCHEDULER COLUMN FIELD=VALUE`
//! (a cell of `stats.csv`, for sweeps over seeds). `<!-- check-explain: ARGS => "TEXT" -->` runs `schedlab
//! explain ARGS` and looks for TEXT in what it prints.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn lessons() -> Vec<(String, String)> {
    let dir = Path::new(ROOT).join("docs/learn");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("docs/learn exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Runs the binary from the repository's root; panics with its stderr on failure.
fn schedlab(args: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "schedlab {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// The commands of a lesson's ```sh blocks that start with `schedlab`.
fn shown_commands(text: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_sh = !in_sh && line == "```sh";
        } else if in_sh && let Some(rest) = line.strip_prefix("schedlab ") {
            commands.push(words(rest));
        }
    }
    commands
}

/// The `(kind, argument text, claims text)` of each check comment.
fn checks(text: &str) -> Vec<(&str, &str, &str)> {
    text.lines()
        .filter_map(|l| {
            let body = l.trim().strip_prefix("<!-- ")?.strip_suffix(" -->")?;
            let (kind, rest) = body.split_once(": ")?;
            let (args, claims) = rest.split_once(" => ")?;
            Some((kind, args, claims))
        })
        .collect()
}

/// The one `trace.csv` under `dir` as `(pod, event, detail, time_s)` rows.
fn trace_rows(dir: &Path) -> Vec<(String, String, String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "trace.csv") {
                found.push(p);
            }
        }
    }
    assert_eq!(found.len(), 1, "a check names one run: {found:?}");
    let mut reader = csv::Reader::from_path(&found[0]).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].to_owned(),
                r[2].to_owned(),
                r[3].to_owned(),
                r[0].to_owned(),
            )
        })
        .collect()
}

fn quoted(s: &str) -> Option<&str> {
    s.trim().strip_prefix('"')?.strip_suffix('"')
}

fn check_claim(rows: &[(String, String, String, String)], claim: &str, context: &str) {
    let claim = claim.trim();
    let (pod, rest) = claim.split_once(' ').expect("a claim names a pod");
    let first = |event: &str| {
        rows.iter()
            .find(|(p, e, _, _)| p == pod && e == event)
            .map(|(_, _, d, _)| d.as_str())
    };
    if let Some(node) = rest.strip_prefix("on ") {
        assert_eq!(first("bound"), Some(node.trim()), "{context}: {claim}");
    } else if let Some(message) = rest.strip_prefix("pending") {
        assert_eq!(first("bound"), None, "{context}: {claim}");
        assert!(first("created").is_some(), "{context}: {pod} never created");
        if let Some(want) = quoted(message) {
            assert_eq!(first("unschedulable"), Some(want), "{context}: {claim}");
        }
    } else if let Some(when) = rest.trim().strip_prefix("evicted") {
        let at = rows
            .iter()
            .find(|(p, e, _, _)| p == pod && e == "evicted")
            .map(|(_, _, _, t)| t.as_str());
        assert!(at.is_some(), "{context}: {claim}");
        if let Some(want) = when.trim().strip_prefix("at ") {
            let got: f64 = at.unwrap().parse().unwrap();
            assert_eq!(got, want.parse::<f64>().unwrap(), "{context}: {claim}");
        }
    } else {
        panic!("{context}: unknown claim {claim:?}");
    }
}

/// `COLUMN=VALUE` against the one row of `OUT/summary.csv`.
fn check_summary(out: &Path, pair: &str, context: &str) {
    let (column, want) = pair.split_once('=').expect("summary COLUMN=VALUE");
    let mut reader = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{context}: a summary check names one run");
    let at = headers
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("{context}: no summary column {column}"));
    assert_eq!(&rows[0][at], want, "{context}: summary {pair}");
}

/// `SCHEDULER COLUMN FIELD=VALUE` against `OUT/stats.csv`.
fn check_stats(out: &Path, cell: &str, context: &str) {
    let parts: Vec<&str> = cell.split_whitespace().collect();
    let [scheduler, column, pair] = parts[..] else {
        panic!("{context}: stats SCHEDULER COLUMN FIELD=VALUE, got {cell:?}");
    };
    let (field, want) = pair.split_once('=').expect("FIELD=VALUE");
    let mut reader = csv::Reader::from_path(out.join("stats.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{context}: no stats column {name}"))
    };
    let (s, c, f) = (at("scheduler"), at("column"), at(field));
    let row = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[s] == scheduler && &r[c] == column)
        .unwrap_or_else(|| panic!("{context}: no stats row {scheduler} {column}"));
    assert_eq!(&row[f], want, "{context}: stats {cell}");
}

#[test]
fn every_lesson_command_runs_and_every_claim_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let lessons = lessons();
    assert!(lessons.len() >= 2, "the lessons are found");
    let mut used = String::new();
    for (n, (name, text)) in lessons.iter().enumerate() {
        let commands = shown_commands(text);
        let checks = checks(text);
        assert!(!commands.is_empty(), "{name} shows no command");
        assert!(!checks.is_empty(), "{name} makes no checked claim");
        for (i, mut args) in commands.into_iter().enumerate() {
            // Results go to a scratch folder, not into the checkout.
            let out = tmp.path().join(format!("shown-{n}-{i}"));
            if let Some(at) = args.iter().position(|a| a == "--out") {
                args[at + 1] = out.display().to_string();
            }
            schedlab(&args);
            used.push_str(&args.join(" "));
        }
        for (i, (kind, args, claims)) in checks.into_iter().enumerate() {
            let context = format!("{name}: {kind}: {args}");
            used.push_str(args);
            match kind {
                "check" => {
                    let out = tmp.path().join(format!("check-{n}-{i}"));
                    let mut cmd = words("run --trace -j 1 --out");
                    cmd.push(out.display().to_string());
                    cmd.extend(words(args));
                    schedlab(&cmd);
                    let mut rows = None;
                    for claim in claims.split(';') {
                        let claim = claim.trim();
                        if let Some(pair) = claim.strip_prefix("summary ") {
                            check_summary(&out, pair, &context);
                        } else if let Some(cell) = claim.strip_prefix("stats ") {
                            check_stats(&out, cell, &context);
                        } else {
                            let rows = rows.get_or_insert_with(|| trace_rows(&out));
                            check_claim(rows, claim, &context);
                        }
                    }
                }
                "check-explain" => {
                    let mut cmd = words("explain");
                    cmd.extend(words(args));
                    let printed = schedlab(&cmd);
                    let want = quoted(claims).expect("check-explain quotes its text");
                    assert!(
                        printed.contains(want),
                        "{context}: {want:?} not in\n{printed}"
                    );
                }
                other => panic!("{name}: unknown check kind {other:?}"),
            }
        }
    }
    // Every lesson scenario is used by some lesson.
    for e in fs::read_dir(Path::new(ROOT).join("scenarios/learn")).unwrap() {
        let file = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            used.contains(&format!("scenarios/learn/{file}")),
            "scenarios/learn/{file} is in no lesson"
        );
    }
}

/// A claim that does not hold is caught: the checker is not vacuous.
#[test]
#[should_panic(expected = "web on a")]
fn a_false_claim_fails() {
    let rows = vec![(
        "web".to_owned(),
        "bound".to_owned(),
        "b".to_owned(),
        "0.000000".to_owned(),
    )];
    check_claim(&rows, "web on a", "self-test");
}
