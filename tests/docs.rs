//! The output columns are documented: every summary column the built-in observers
//! declare, and every column of every file a run writes, has a row in
//! `results/README.md`; and a run declares the columns `summary.csv` has always had, in
//! the same order.

use std::fs;
use std::path::Path;

fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("results/README.md")).unwrap()
}

#[test]
fn every_summary_column_is_documented() {
    let readme = readme();
    for column in sim::columns::ORDER {
        assert!(
            readme.contains(&format!("| `{}` |", column.name)),
            "results/README.md does not document the summary column `{}` ({})",
            column.name,
            column.doc
        );
        assert!(
            !column.doc.is_empty(),
            "{} has no one-line meaning",
            column.name
        );
    }
}

#[test]
fn summary_columns_keep_their_order() {
    // A run of a small scenario declares exactly the built-in columns, in ORDER.
    let registry = schedulers::Registry::builtin();
    let scenario = sim::parse_scenario(
        "cluster: {nodePools: [{name: n, count: 1, allocatable: {cpu: \"1\", memory: 1Gi}}]}\n\
         workloads: [{pod: p, requests: {cpu: 100m}, duration: 1s}]\n",
        "tiny.yaml",
        &|spec, profiles| registry.check(spec, profiles),
    )
    .unwrap();
    let result = sim::run(&scenario, registry.create("first-fit").unwrap(), 1);
    let names: Vec<&str> = result.summary.columns().map(|c| c.name).collect();
    let order: Vec<&str> = sim::columns::ORDER.iter().map(|c| c.name).collect();
    assert_eq!(names, order);
}

/// Every column of every file a run writes has a row in `results/README.md` (the trace's
/// columns are named in its paragraph).
#[test]
fn every_written_column_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("tiny.yaml"),
        "cluster: {nodePools: [{name: n, count: 1, allocatable: {cpu: \"1\", memory: 1Gi}}]}\n\
         workloads: [{pod: p, requests: {cpu: 100m}, duration: 1s}]\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .current_dir(dir.path())
        .args(["run", "tiny.yaml", "--out", "out", "--trace"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let readme = readme();
    let run = dir.path().join("out/tiny/first-fit/seed-1");
    for file in ["summary.csv", "timeseries.csv", "namespaces.csv"] {
        let text = fs::read_to_string(run.join(file)).unwrap();
        for column in text.lines().next().unwrap().split(',') {
            assert!(
                readme.contains(&format!("| `{column}` |")),
                "results/README.md does not document {file}'s column `{column}`"
            );
        }
    }
    let trace = fs::read_to_string(run.join("trace.csv")).unwrap();
    assert_eq!(trace.lines().next(), Some("time_s,pod,event,detail"));
    assert!(readme.contains("`time_s,pod,event,detail`"));
}
