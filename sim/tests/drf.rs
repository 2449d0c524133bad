//! `drf` through the simulator on `scenarios/drf-paper.yaml`, the worked example of the
//! DRF paper, with the per-namespace figures and summary metrics worked out by hand in the
//! scenario's description.

use schedulers::Registry;
use sim::{RunResult, Scenario, SimTime, Value, columns, parse_scenario, run};

const PAPER: &str = include_str!("../../scenarios/drf-paper.yaml");

fn load(text: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "drf-paper.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("loads")
}

fn summary(scenario: &Scenario, scheduler: &str) -> RunResult {
    let registry = Registry::builtin();
    run(scenario, registry.create(scheduler).unwrap(), scenario.seed)
}

/// (namespace, weight, pods bound, mean dominant share) of every namespace.
fn namespaces(s: &RunResult) -> Vec<(String, u32, u64, f64)> {
    s.namespaces
        .iter()
        .map(|n| {
            (
                n.name.clone(),
                n.weight,
                n.pods_bound,
                n.dominant_share_mean,
            )
        })
        .collect()
}

#[test]
fn drf_reaches_the_papers_allocation() {
    let s = summary(&load(PAPER), "drf");
    assert_eq!(
        namespaces(&s),
        [
            ("team-a".to_string(), 1, 3, 2.0 / 3.0),
            ("team-b".to_string(), 1, 2, 2.0 / 3.0)
        ]
    );
    assert_eq!(s.summary.number(&columns::JAIN_INDEX).unwrap(), 1.0);
    // All 9 CPUs taken, 4 of 18 GiB free; the median of the 15 pending pods (7 of team-a,
    // then 8 of team-b by CPU) is a team-b pod, which fits nowhere: all free memory is
    // stranded, and CPU has nothing free. Both samples (0 s and the end, 1 s) say so.
    assert_eq!(s.summary.number(&columns::FRAGMENTATION), Some(1.0));
    assert_eq!(
        (
            s.summary.number(&columns::PODS_PER_NODE_MEAN).unwrap(),
            s.summary.count(&columns::PODS_PER_NODE_MAX)
        ),
        (5.0, 5)
    );
    // Nothing finishes: no makespan, no completion time.
    assert_eq!(s.summary.get(&columns::MAKESPAN), Some(&Value::Missing));
    assert_eq!(
        s.summary.get(&columns::MEAN_COMPLETION),
        Some(&Value::Missing)
    );
}

#[test]
fn first_fit_favours_the_namespace_first_in_the_queue() {
    let s = summary(&load(PAPER), "first-fit");
    assert_eq!(
        namespaces(&s),
        [
            ("team-a".to_string(), 1, 4, 16.0 / 18.0),
            ("team-b".to_string(), 1, 1, 3.0 / 9.0)
        ]
    );
    // (8/9 + 1/3)^2 / (2 * (64/81 + 9/81)) = 121/146.
    assert!(
        (s.summary.number(&columns::JAIN_INDEX).unwrap() - 121.0 / 146.0).abs() < 1e-12,
        "{}",
        s.summary.number(&columns::JAIN_INDEX).unwrap()
    );
}

#[test]
fn weight_two_gives_team_a_four_pods() {
    let text = PAPER.replace(
        "  - team-a\n  - team-b\n",
        "  - {name: team-a, weight: 2}\n  - team-b\n",
    );
    assert_ne!(text, PAPER);
    let s = summary(&load(&text), "drf");
    // By hand (shares divided by the weight): a 1/9, b 1/3, a 2/9, a 1/3 (tie with b, a
    // by name), a 4/9; then b needs 3 CPUs of the 2 left and a 4 GiB of the 1 left.
    assert_eq!(
        namespaces(&s),
        [
            ("team-a".to_string(), 2, 4, 16.0 / 18.0),
            ("team-b".to_string(), 1, 1, 3.0 / 9.0)
        ]
    );
    // Weighted shares 4/9 and 1/3: (7/9)^2 / (2 * (16/81 + 9/81)) = 49/50.
    assert!(
        (s.summary.number(&columns::JAIN_INDEX).unwrap() - 0.98).abs() < 1e-12,
        "{}",
        s.summary.number(&columns::JAIN_INDEX).unwrap()
    );
}

/// Pods that finish free their namespace's share. With 100 s tasks for team-a: its three
/// pods end at 101 s, and team-a (share 0) is served before team-b (2/3) in the freed
/// room, up to three pods again (a tie at 2/3, team-a first, then no CPU left). Batches
/// are bound at 0, 101, 202 and 303 s (the last one pod) and finish 101 s later; when the
/// last one ends at 404 s, 3 CPUs are free and team-b gets its third pod.
#[test]
fn finished_pods_release_shares_and_set_makespan() {
    let text = PAPER.replace(
        "    requests: {cpu: \"1\", memory: 4Gi}\n",
        "    requests: {cpu: \"1\", memory: 4Gi}\n    duration: 100s\n",
    );
    assert_ne!(text, PAPER);
    let s = summary(&load(&text), "drf");
    assert_eq!(s.namespaces[0].pods_bound, 10);
    assert_eq!(s.namespaces[1].pods_bound, 3);
    assert_eq!(s.summary.count(&columns::PODS_COMPLETED), 10);
    assert_eq!(s.summary.time(&columns::MAKESPAN), SimTime::from_secs(404));
    // Every team-a pod waits 0, 101, 202 or 303 s and runs 101 s from creation to
    // finish: (3 * (101 + 202 + 303) + 404) / 10 = 222.2 s.
    assert_eq!(
        s.summary.get(&columns::MEAN_COMPLETION),
        Some(&Value::Fraction(2_222_000_000, 10_000_000))
    );
}
