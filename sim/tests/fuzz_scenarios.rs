//! A fuzzer of the loader and the engine: the bundled scenarios (`scenarios/*.yaml`),
//! mutated in their values, keys and structure and given extreme numbers, are loaded, and
//! those that load and whose estimated work is small are run with tight limits. Asserted:
//! nothing panics (proptest reports a panic as a failure, with the shrunk mutation and the
//! seed it saved), a refused file gets a message naming the file and, for any file that
//! parses as YAML, a line; a run completes or stops at a limit within a few seconds of wall
//! time, never by the timeout.
//!
//! proptest draws new cases on every run (a few thousand: `FUZZ_CASES`, or the
//! `PROPTEST_CASES` variable); a failure prints the failing case and the seed to replay it.
//! A case that kills the process (out of memory) prints nothing: `FUZZ_DUMP=PATH` writes
//! each case's file name, scheduler choice and text to PATH before it runs, so the last
//! one written is the culprit.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use schedulers::Registry;
use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::{SchedulerSpec, SpecError};
use sim::{Limits, RunLimits, RunStop, Simulation, estimate, parse_scenario, run_bounded};

/// Cases per run of the test: enough to reach most keys of every bundled scenario (about a
/// quarter load, most of those run), few enough for about 8 s in a test build.
const FUZZ_CASES: u32 = 3000;

/// Runs of mutated scenarios are played only when their estimate is this small, and fail
/// at these limits, so each takes at most milliseconds.
const SMALL: Limits = Limits {
    max_pods: 5_000,
    max_events: 50_000,
    max_samples: 5_000,
    max_memory: 256 << 20,
};

/// A run longer than this in wall time is a hang as far as the fuzzer is concerned.
const RUN_WALL_LIMIT: Duration = Duration::from_secs(10);

/// Values a mutation writes in place of a scalar: extreme numbers, wrong types, empty and
/// special YAML values, durations and quantities at the edges.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1",
    "2147483648",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1e308",
    "1e-308",
    "1e9",
    "100000000",
    "0.5",
    "-0",
    ".nan",
    ".inf",
    "-.inf",
    "~",
    "null",
    "''",
    "\"\"",
    "x",
    "true",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "1us",
    "0s",
    "1ns",
    "999999999h",
    "1h",
    "-5m",
    "1Ei",
    "8Ei",
    "0.001m",
    "1e3Gi",
    "9999999999999999999999Ki",
    "poisson",
    "fixed",
    "burst",
    "kube-default",
    "\"a/b\"",
    "&a x",
    "*a",
    "\"\\u0000\"",
];

/// Keys a mutation writes in place of a key: the scenario format's own (misplaced ones
/// test the cross-field rules), typos, and odd spellings.
const KEYS: &[&str] = &[
    "name",
    "count",
    "replicas",
    "duration",
    "sampleInterval",
    "arrivals",
    "process",
    "ratePerSecond",
    "interval",
    "stop",
    "start",
    "requests",
    "limits",
    "cpu",
    "memory",
    "pods",
    "nvidia.com/gpu",
    "nodePools",
    "nodes",
    "workloads",
    "batch",
    "pod",
    "deployment",
    "trace",
    "at",
    "priority",
    "seeds",
    "seed",
    "queue",
    "maxAttempts",
    "gpuFill",
    "podGroup",
    "minMember",
    "taints",
    "tolerations",
    "labels",
    "affinity",
    "cont",
    "\"\"",
    "<<",
];

/// A change to a scenario's text.
#[derive(Debug, Clone)]
enum Mutation {
    /// The `slot`-th scalar value (modulo their number) becomes `EXTREMES[value]`.
    Value { slot: usize, value: usize },
    /// The `slot`-th key becomes `KEYS[key]`.
    Key { slot: usize, key: usize },
    /// A line is removed.
    DeleteLine { line: usize },
    /// A line is written twice.
    DuplicateLine { line: usize },
    /// A line is indented two spaces more or less.
    Indent { line: usize, deeper: bool },
    /// Two lines trade places.
    SwapLines { a: usize, b: usize },
    /// The text ends early, `permille` thousandths of the way in.
    Truncate { permille: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = 0usize..100_000;
    prop_oneof![
        6 => (pos.clone(), 0..EXTREMES.len()).prop_map(|(slot, value)| Mutation::Value { slot, value }),
        2 => (pos.clone(), 0..KEYS.len()).prop_map(|(slot, key)| Mutation::Key { slot, key }),
        1 => pos.clone().prop_map(|line| Mutation::DeleteLine { line }),
        1 => pos.clone().prop_map(|line| Mutation::DuplicateLine { line }),
        1 => (pos.clone(), any::<bool>()).prop_map(|(line, deeper)| Mutation::Indent { line, deeper }),
        1 => (pos.clone(), pos.clone()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        1 => (0usize..1000).prop_map(|permille| Mutation::Truncate { permille }),
    ]
}

/// A bundled scenario: its path and text.
struct Bundled {
    path: PathBuf,
    text: String,
}

/// The bundled scenarios, read once.
fn bundled() -> &'static [Bundled] {
    static FILES: OnceLock<Vec<Bundled>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("the scenarios directory")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 5, "bundled scenarios found: {paths:?}");
        paths
            .into_iter()
            .map(|path| Bundled {
                text: std::fs::read_to_string(&path).expect("readable"),
                path,
            })
            .collect()
    })
}

/// A byte range of the text.
type Span = (usize, usize);

/// Byte ranges of the scalar values of `text` (after `key: ` up to the end of the value,
/// in block and flow style) and of its keys.
fn slots(text: &str) -> (Vec<Span>, Vec<Span>) {
    let bytes = text.as_bytes();
    let mut values = Vec::new();
    let mut keys = Vec::new();
    let mut line_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            line_start = i + 1;
            continue;
        }
        if b != b':' || bytes.get(i + 1).is_some_and(|&n| n != b' ' && n != b'\n') {
            continue;
        }
        // Comments are not YAML structure.
        if text[line_start..i].contains('#') {
            continue;
        }
        // The key: back to the start of the line's content, a `{`, a `,` or a `- `.
        let mut k = i;
        while k > line_start && !matches!(bytes[k - 1], b'{' | b',' | b'\n') {
            k -= 1;
        }
        let key_text = &text[k..i];
        let trimmed = key_text.trim_start_matches([' ', '-']);
        let key_start = i - trimmed.len();
        if !trimmed.is_empty() {
            keys.push((key_start, i));
        }
        // The value: to the end of the line, a `,`, `}` or `]`, or a comment.
        let mut v = i + 1;
        while v < bytes.len() && bytes[v] == b' ' {
            v += 1;
        }
        let mut e = v;
        let quoted = bytes.get(v).is_some_and(|&c| c == b'"' || c == b'\'');
        if quoted {
            let q = bytes[v];
            e = v + 1;
            while e < bytes.len() && bytes[e] != q && bytes[e] != b'\n' {
                e += 1;
            }
            e = (e + 1).min(bytes.len());
        } else {
            while e < bytes.len() && !matches!(bytes[e], b'\n' | b',' | b'}' | b']' | b'#') {
                e += 1;
            }
        }
        if e > v && !matches!(bytes[v], b'{' | b'[' | b'|' | b'>') {
            values.push((v, e));
        }
    }
    (values, keys)
}

/// `text` with `m` applied.
fn apply(text: &str, m: &Mutation) -> String {
    let (values, keys) = slots(text);
    let replace = |ranges: &[Span], slot: usize, with: &str| match ranges.len() {
        0 => text.to_string(),
        n => {
            let (a, b) = ranges[slot % n];
            format!("{}{with}{}", &text[..a], &text[b..])
        }
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    match *m {
        Mutation::Value { slot, value } => replace(&values, slot, EXTREMES[value]),
        Mutation::Key { slot, key } => replace(&keys, slot, KEYS[key]),
        Mutation::DeleteLine { line } => {
            if !lines.is_empty() {
                lines.remove(line % n);
            }
            lines.join("\n")
        }
        Mutation::DuplicateLine { line } => {
            if let Some(l) = lines.get(line % n).cloned() {
                lines.insert(line % n, l);
            }
            lines.join("\n")
        }
        Mutation::Indent { line, deeper } => {
            if let Some(l) = lines.get_mut(line % n) {
                if deeper {
                    l.insert_str(0, "  ");
                } else if let Some(rest) = l.strip_prefix("  ") {
                    *l = rest.to_string();
                }
            }
            lines.join("\n")
        }
        Mutation::SwapLines { a, b } => {
            if !lines.is_empty() {
                lines.swap(a % n, b % n);
            }
            lines.join("\n")
        }
        Mutation::Truncate { permille } => {
            let mut cut = text.len() * permille / 1000;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
    }
}

fn check(
    spec: &SchedulerSpec,
    profiles: &[(String, ResolvedProfile)],
) -> Result<String, SpecError> {
    registry().check(spec, profiles)
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::builtin)
}

/// Loads `text` as the bundled file at `path`, and runs it if it loads and is small.
fn load_and_run(path: &str, text: &str, listed_scheduler: bool) -> Result<(), TestCaseError> {
    let scenario = match parse_scenario(text, path, &check) {
        Ok(s) => s,
        Err(e) => {
            let shown = e.to_string();
            prop_assert!(!e.message.is_empty(), "an empty message: {shown}");
            prop_assert!(!e.path.is_empty(), "no file named: {shown}");
            prop_assert!(
                !shown.contains("Nodes {") && !shown.contains("breach"),
                "a debug-format message: {shown}"
            );
            // Text that is well-formed YAML gets a line (the file's own, or that of a
            // file it names); only a file with no document at all may go without.
            let well_formed = serde_saphyr::from_str::<serde::de::IgnoredAny>(text).is_ok();
            if well_formed && e.line.is_none() {
                prop_assert!(
                    e.message.contains("empty") || e.path != path,
                    "an unlocated error for well-formed YAML: {shown}"
                );
            }
            return Ok(());
        }
    };
    let work = estimate(&scenario);
    if SMALL.check(&work).is_err() || scenario.nodes.len() > 2_000 {
        return Ok(());
    }
    let spec = match scenario.schedulers.first() {
        Some(listed) if listed_scheduler => listed.spec.clone(),
        _ => SchedulerSpec::named("first-fit"),
    };
    let scheduler = match registry().build(&spec, &scenario.build_context()) {
        Ok(s) => s,
        Err(_) => return Ok(()),
    };
    let limits = RunLimits {
        max_sim_time: None,
        max_events: Some(SMALL.max_events),
        max_pods: Some(SMALL.max_pods),
    };
    let started = Instant::now();
    let simulation = Simulation::new(&scenario, scheduler, scenario.seed);
    match run_bounded(simulation, &limits, || started.elapsed() > RUN_WALL_LIMIT) {
        Ok(_) | Err(RunStop::Limit { .. }) | Err(RunStop::Scheduler(_)) => {}
        Err(stop) => prop_assert!(false, "{path}: the run did not end in time: {stop}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(FUZZ_CASES),
        // A failure's seed is printed; writing it into the source tree would dirty it.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_scenarios_are_refused_with_a_location_or_run_to_an_end(
        file in 0usize..64,
        mutations in proptest::collection::vec(mutation(), 1..4),
        listed_scheduler in any::<bool>(),
    ) {
        let files = bundled();
        let f = &files[file % files.len()];
        let mut text = f.text.clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        if let Ok(dump) = std::env::var("FUZZ_DUMP") {
            std::fs::write(&dump, format!("{}\n{listed_scheduler}\n{text}", f.path.display()))
                .expect("FUZZ_DUMP is a writable path");
        }
        load_and_run(&f.path.display().to_string(), &text, listed_scheduler)?;
    }
}

#[test]
fn the_bundled_scenarios_themselves_load_and_are_within_the_default_limits() {
    let limits = Limits::with_memory(8 << 30);
    for f in bundled() {
        let path = f.path.display().to_string();
        let s = parse_scenario(&f.text, &path, &check).unwrap_or_else(|e| panic!("{e}"));
        let work = estimate(&s);
        assert!(limits.check(&work).is_ok(), "{path}: {work:?}");
    }
}

#[test]
fn slots_find_values_and_keys() {
    let text = "a: 1\nb: {c: x, d: \"y z\"}\n# e: 3\n- f: [1]\n";
    let (values, keys) = slots(text);
    let shown = |r: &[Span]| r.iter().map(|&(a, b)| &text[a..b]).collect::<Vec<_>>();
    assert_eq!(shown(&values), ["1", "x", "\"y z\""]);
    assert_eq!(shown(&keys), ["a", "b", "c", "d", "f"]);
}

/// Every bundled scenario, unmutated, under the fuzzer's small limits with its own listed
/// scheduler and with first-fit: the case a fuzzer shrinks to when a file itself breaks.
#[test]
fn the_bundled_scenarios_unmutated_run_to_an_end_under_small_limits() {
    for f in bundled() {
        for listed_scheduler in [true, false] {
            let path = f.path.display().to_string();
            if let Err(e) = load_and_run(&path, &f.text, listed_scheduler) {
                panic!("{path} (listed scheduler {listed_scheduler}): {e}");
            }
        }
    }
}

/// Every bundled scenario with any one of its lines deleted, run with its own scheduler
/// and with first-fit: a systematic sweep of the mutation that found a rollout without
/// new requests leaving a stale pod in the status store (the replacement reused the
/// deleted pod's arena slot before the Services controller saw the deletion).
#[test]
fn every_bundled_scenario_with_one_line_deleted_is_refused_or_runs_to_an_end() {
    for f in bundled() {
        let path = f.path.display().to_string();
        for line in 0..f.text.lines().count() {
            let text = apply(&f.text, &Mutation::DeleteLine { line });
            for listed_scheduler in [true, false] {
                let outcome =
                    std::panic::catch_unwind(|| load_and_run(&path, &text, listed_scheduler));
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => panic!("{path} without line {}: {e}", line + 1),
                    Err(_) => panic!(
                        "{path} without line {} (listed scheduler {listed_scheduler}) panicked",
                        line + 1
                    ),
                }
            }
        }
    }
}
