//! End-to-end tests of `schedlab plan`: tiny scenarios whose answers are computed by hand,
//! run through the real binary in a temporary directory.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

#[path = "support/cli.rs"]
mod support;
use support::{assert_code, schedlab, stderr, stdout, write};

/// Ten 1-CPU pods that all run at once, on a pool of 4-CPU nodes. Every pod is bound as
/// soon as a node has room, so the pods left pending at the end are 10 - 4 * count (at
/// least 0), and pending_at_end == 0 needs ceil(10 / 4) = 3 nodes. The default range is
/// 0..=4 (four times the pool's count of 1), so the bisection probes 0 (10 pending, fail),
/// 4 (0, pass), 2 (2 pending, fail) and 3 (0, pass): the answer is 3.
const FIT: &str = "\
name: plan-fit
duration: 10m
cluster:
  nodePools:
    - name: worker
      count: 1
      allocatable: {cpu: \"4\", memory: 16Gi}
workloads:
  - deployment: app
    replicas: 10
    requests: {cpu: \"1\", memory: 1Gi}
";

/// Eight 1-CPU pods and three pools, all empty in the scenario. Planned alone (the others
/// at 0 nodes): `small` (2 CPU) needs 8 / 2 = 4 nodes, 4 x 0.10 = 0.40 an hour; `large`
/// (8 CPU) needs 1 node, 0.35 an hour; `medium` (4 CPU) needs 2 nodes, at an unknown
/// price (no autoscaling, so no pricePerHour). The cheapest known is `large`. The
/// autoscaled pools' `max: 0` keeps the autoscaler from growing the pool not planned.
const PRICED: &str = "\
name: plan-priced
duration: 10m
cluster:
  nodePools:
    - name: small
      count: 0
      allocatable: {cpu: \"2\", memory: 8Gi}
      autoscaling: {min: 0, max: 0, pricePerHour: 0.10}
    - name: large
      count: 0
      allocatable: {cpu: \"8\", memory: 32Gi}
      autoscaling: {min: 0, max: 0, pricePerHour: 0.35}
    - name: medium
      count: 0
      allocatable: {cpu: \"4\", memory: 16Gi}
workloads:
  - deployment: app
    replicas: 8
    requests: {cpu: \"1\", memory: 1Gi}
";

/// Random arrivals and durations, so seeds differ and the probes' seeds really run in
/// parallel with --jobs 2.
const POISSON: &str = "\
name: plan-poisson
duration: 1h
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - batch: jobs
    arrivals: {process: poisson, ratePerMinute: 2}
    duration: {dist: exponential, mean: 10m}
    requests: {cpu: \"1\", memory: 1Gi}
";

#[test]
fn smallest_count_that_fits_every_pod_is_found_by_bisection() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fit.yaml", FIT);
    let out = schedlab(
        dir.path(),
        &[
            "plan",
            "fit.yaml",
            "--pool",
            "worker",
            "--slo",
            "pending_at_end==0",
        ],
    );
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("pool worker: 3 node(s) meet the objective on every seed"),
        "{text}"
    );
    assert!(text.contains("seeds 1..=3"), "{text}");
    // The default --out; one row per probed count, ascending.
    let csv = fs::read_to_string(dir.path().join("results/plan/plan.csv")).unwrap();
    assert_eq!(
        csv,
        "pool,count,pods_pending_at_end,pass\n\
         worker,0,10,false\n\
         worker,2,2,false\n\
         worker,3,0,true\n\
         worker,4,0,true\n"
    );
    let svg = fs::read_to_string(dir.path().join("results/plan/pods_pending_at_end.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
}

#[test]
fn a_max_below_the_answer_is_no_answer_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fit.yaml", FIT);
    let out = schedlab(
        dir.path(),
        &[
            "plan",
            "fit.yaml",
            "--pool",
            "worker",
            "--slo",
            "pending_at_end==0",
            "--min",
            "1",
            "--max",
            "2",
            "--out",
            "o",
        ],
    );
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("pool worker: no count up to 2 meets the objective"),
        "{text}"
    );
    // The table is still printed: 1 node leaves 6 pods pending, 2 leave 2.
    assert!(
        text.contains("      1                  6    FAIL"),
        "{text}"
    );
    assert!(
        text.contains("      2                  2    FAIL"),
        "{text}"
    );
    let csv = fs::read_to_string(dir.path().join("o/plan.csv")).unwrap();
    assert_eq!(
        csv,
        "pool,count,pods_pending_at_end,pass\nworker,1,6,false\nworker,2,2,false\n"
    );
}

#[test]
fn a_bad_objective_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fit.yaml", FIT);
    let out = schedlab(
        dir.path(),
        &[
            "plan",
            "fit.yaml",
            "--pool",
            "worker",
            "--slo",
            "pending_at_end==0,p99_latnecy<=30s",
            "--out",
            "o",
        ],
    );
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("bad objective term \"p99_latnecy<=30s\""),
        "{err}"
    );
    assert!(
        err.contains("known metrics: p99_latency (latency_p99_s)"),
        "{err}"
    );
    assert!(err.contains("queue_delay_p99_s"), "{err}");
    assert!(!dir.path().join("o").exists());

    // A duration on a metric that is not a time.
    let out = schedlab(
        dir.path(),
        &[
            "plan",
            "fit.yaml",
            "--pool",
            "worker",
            "--slo",
            "pending_at_end<=30s",
        ],
    );
    assert_code(&out, 2);
    assert!(stderr(&out).contains("not a number"), "{}", stderr(&out));
}

#[test]
fn an_unknown_pool_is_refused_with_the_pools_listed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "priced.yaml", PRICED);
    let out = schedlab(
        dir.path(),
        &[
            "plan",
            "priced.yaml",
            "--pool",
            "large",
            "--pool",
            "huge",
            "--slo",
            "pending_at_end==0",
            "--out",
            "o",
        ],
    );
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("no node pool named \"huge\" (--pool): its pools are small, large, medium"),
        "{err}"
    );
    assert!(!dir.path().join("o").exists());
}

#[test]
fn several_pools_are_planned_alone_and_the_cheapest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "priced.yaml", PRICED);
    let out = schedlab(
        dir.path(),
        &[
            "plan",
            "priced.yaml",
            "--pool",
            "small",
            "--pool",
            "large",
            "--pool",
            "medium",
            "--max",
            "8",
            "--slo",
            "pending_at_end==0",
            "--out",
            "o",
        ],
    );
    assert_code(&out, 0);
    let text = stdout(&out);
    for line in [
        "pool small: 4 node(s) meet the objective on every seed (0.4 per hour at 0.1 each)",
        "pool large: 1 node(s) meet the objective on every seed (0.35 per hour at 0.35 each)",
        "pool medium: 2 node(s) meet the objective on every seed (price unknown",
        "cheapest: pool large with 1 node(s), 0.35 per hour at 0.35 each (medium not compared: price unknown)",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    let csv = fs::read_to_string(dir.path().join("o/plan.csv")).unwrap();
    // small: 0, 8, 4, 2, 3; large: 0, 8, 4, 2, 1; medium: 0, 8, 4, 2, 1.
    let rows: Vec<&str> = csv.lines().map(|l| l.rsplit_once(',').unwrap().0).collect();
    assert_eq!(
        rows,
        [
            "pool,count,pods_pending_at_end",
            "small,0,8",
            "small,2,4",
            "small,3,2",
            "small,4,0",
            "small,8,0",
            "large,0,8",
            "large,1,0",
            "large,2,0",
            "large,4,0",
            "large,8,0",
            "medium,0,8",
            "medium,1,4",
            "medium,2,0",
            "medium,4,0",
            "medium,8,0",
        ]
    );
}

/// Every file under `dir` with its bytes.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect()
}

#[test]
fn outputs_are_byte_identical_for_any_jobs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "poisson.yaml", POISSON);
    let run = |jobs: &str, out: &str| {
        let o = schedlab(
            dir.path(),
            &[
                "plan",
                "poisson.yaml",
                "--pool",
                "n",
                "--scheduler",
                "random",
                "--seeds",
                "4",
                "--slo",
                "pending_at_end==0,p99_latency<=1m",
                "--jobs",
                jobs,
                "--out",
                out,
            ],
        );
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
        stdout(&o)
    };
    let one = run("1", "j1");
    let two = run("2", "j2");
    assert_eq!(
        one.replace("j1/plan.csv", "OUT"),
        two.replace("j2/plan.csv", "OUT")
    );
    let (a, b) = (
        files_under(&dir.path().join("j1")),
        files_under(&dir.path().join("j2")),
    );
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        ["latency_p99_s.svg", "plan.csv", "pods_pending_at_end.svg"]
    );
    assert_eq!(a, b);
}

#[test]
fn a_pass_below_a_fail_is_warned_about() {
    // Cost grows with the count, so "cost <= 0.1" passes at 0 nodes (nothing to pay) and
    // fails at 2: 2 nodes x 0.35 an hour x 10 minutes = 0.116667. The answer is the
    // smallest count, 0, with a warning that the objective is not monotone.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "priced.yaml", PRICED);
    let out = schedlab(
        dir.path(),
        &[
            "plan",
            "priced.yaml",
            "--pool",
            "large",
            "--max",
            "2",
            "--slo",
            "cost<=0.1",
            "--out",
            "o",
        ],
    );
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains(
            "warning: pool large: not monotone: 0 node(s) meet the objective but 2 do not"
        ),
        "{text}"
    );
    assert!(
        text.contains("pool large: 0 node(s) meet the objective"),
        "{text}"
    );
    let csv = fs::read_to_string(dir.path().join("o/plan.csv")).unwrap();
    assert_eq!(
        csv,
        "pool,count,node_cost,pass\nlarge,0,0.000000,true\nlarge,2,0.116667,false\n"
    );
}
