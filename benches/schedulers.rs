//! Whole-run throughput on the bundled comparison workload, and the bare loop it is judged by.
//!
//! `scenarios/bench-1k-nodes-100k-pods.yaml` (1,000 nodes, 100,000 Poisson batch pods) is
//! the workload other simulators publish figures for, so the `bench-1k-nodes-100k-pods`
//! group plays it end to end (scenario already loaded; cluster set-up, every event and the
//! results included) with `first-fit`, `least-allocated`, `random` and `drf`. Throughput is in pods
//! per second (criterion's "elem/s").
//!
//! The `bare-loop` group answers "how much does schedlab's machinery cost?": a hand-written
//! first-fit over the very same pods with a `BinaryHeap` of departures, a `Vec` of free
//! (CPU, memory, pod slots) per node and a linear scan from node 0, and nothing else: no
//! event queue, no pod objects, no filters, no metrics. The target is `first-fit` within 2x
//! of it.
//!
//! Before measuring, each scheduler's run is checked to place every pod, and the bare loop is
//! checked to make the same placements as schedlab's `first-fit` (reported on stderr), so
//! neither side can look fast by doing less work.
//!
//! ```text
//! cargo bench --bench schedulers
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use schedulers::{Registry, ResourceKind};
use sim::rng::{Concern, stream};
use sim::sampling::{exponential_gap, sample_duration, sample_size};
use sim::scenario::Dist;
use sim::{Scenario, SimTime, Simulation, TraceEvent};

/// The workload, relative to the package root (criterion runs benches from there).
const SCENARIO: &str = "scenarios/bench-1k-nodes-100k-pods.yaml";
/// Pods in the workload: one criterion "element".
const PODS: u64 = 100_000;

// The bare loop's copy of the workload. `check_bare_loop_matches_file` refuses to run if
// the YAML ever drifts from these.
const NODES: usize = 1_000;
const NODE_CPU: i64 = 64_000; // millicores
const NODE_MEMORY: i64 = 256 << 30; // bytes
/// The nodes' `pods: 110`. It matters: first-fit keeps topping up the low-numbered nodes
/// with the smallest pods, and from about pod 31,000 on node 0 is full by count, not by
/// CPU or memory. A loop that ignored it would place pods schedlab rightly refuses.
const NODE_PODS: i64 = 110;
const ARRIVALS_PER_SECOND: f64 = 10.3;
const MEAN_DURATION: SimTime = SimTime::from_secs(3_600);
const START_LATENCY: SimTime = SimTime::from_secs(1);
const CPU_CHOICES: [i64; 5] = [250, 500, 1_000, 2_000, 4_000];
const MEMORY_CHOICES: [i64; 5] = [512 << 20, 1 << 30, 2 << 30, 4 << 30, 8 << 30];

fn load() -> (Registry, Scenario) {
    let registry = Registry::builtin();
    let scenario = sim::load_scenario(Path::new(SCENARIO), &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{SCENARIO}: {e}"));
    (registry, scenario)
}

/// Free capacity of one node in the bare loop.
#[derive(Clone, Copy)]
struct Free {
    cpu: i64,
    memory: i64,
    pods: i64,
}

/// First-fit done by hand. Calls `placed(pod, node)` for every placement (a no-op closure
/// when timed, so it compiles away) and returns how many pods fitted nowhere; those are
/// dropped, not retried, which at this load should never happen.
///
/// The draws come from the same ChaCha8 streams, through the same thin rand_distr wrappers,
/// as the simulation's, so both see identical pods at identical times. (They are also the
/// only way to reach rand from here: the bench may not add dependencies.) A pod holds its
/// node from arrival until `START_LATENCY + duration` later, as in the simulation, where it
/// is bound on arrival, starts a second later and then runs for its duration.
#[inline(never)]
fn bare_first_fit(seed: u64, mut placed: impl FnMut(u32, usize)) -> u64 {
    let cpu_choices = Dist::Choice(CPU_CHOICES.to_vec());
    let memory_choices = Dist::Choice(MEMORY_CHOICES.to_vec());
    let duration = Dist::Exponential {
        mean: MEAN_DURATION,
    };
    // Workload 0's streams, keyed as the simulation keys them.
    let mut arrivals = stream(seed, Concern::Arrivals, 0);
    let mut durations = stream(seed, Concern::Durations, 0);
    let mut sizes = stream(seed, Concern::Sizes, 0);

    let empty = Free {
        cpu: NODE_CPU,
        memory: NODE_MEMORY,
        pods: NODE_PODS,
    };
    let mut free = vec![empty; NODES];
    // (leaves at, node, cpu, memory); `Reverse` makes the max-heap give the earliest first.
    let mut departures: BinaryHeap<Reverse<(u64, u32, i64, i64)>> =
        BinaryHeap::with_capacity(64 * 1024);
    let mut now = 0u64;
    let mut dropped = 0;
    for pod in 0..PODS as u32 {
        now += exponential_gap(ARRIVALS_PER_SECOND, &mut arrivals).0;
        // CPU before memory: the order the scenario lists them and the simulation draws them.
        let cpu = sample_size(&cpu_choices, &mut sizes);
        let memory = sample_size(&memory_choices, &mut sizes);
        let run_for = sample_duration(&duration, &mut durations).0;
        while let Some(&Reverse((leaves, node, c, m))) = departures.peek()
            && leaves <= now
        {
            departures.pop();
            let f = &mut free[node as usize];
            f.cpu += c;
            f.memory += m;
            f.pods += 1;
        }
        match free
            .iter()
            .position(|f| f.cpu >= cpu && f.memory >= memory && f.pods >= 1)
        {
            Some(node) => {
                let f = &mut free[node];
                f.cpu -= cpu;
                f.memory -= memory;
                f.pods -= 1;
                departures.push(Reverse((
                    now + START_LATENCY.0 + run_for,
                    node as u32,
                    cpu,
                    memory,
                )));
                placed(pod, node);
            }
            None => dropped += 1,
        }
    }
    // The simulation plays on until the last pod finishes; so does this.
    while let Some(Reverse((_, node, c, m))) = departures.pop() {
        let f = &mut free[node as usize];
        f.cpu += c;
        f.memory += m;
        f.pods += 1;
    }
    black_box(&free);
    dropped
}

/// Panics if the scenario file no longer says what the bare loop hard-codes.
fn check_bare_loop_matches_file(scenario: &Scenario) {
    assert_eq!(scenario.nodes.len(), NODES, "{SCENARIO}: node count");
    for n in &scenario.nodes {
        let a = &n.allocatable;
        assert_eq!(
            (a.cpu(), a.memory(), a.get(ResourceKind::PODS)),
            (NODE_CPU, NODE_MEMORY, NODE_PODS),
            "{SCENARIO}: node {} allocatable",
            n.name
        );
    }
    assert_eq!(scenario.workloads.len(), 1, "{SCENARIO}: one workload");
    assert_eq!(
        scenario.start_latency, START_LATENCY,
        "{SCENARIO}: startLatency"
    );
    let w = &scenario.workloads[0];
    let sized: Vec<&Dist<i64>> = w.sized.iter().map(|(_, d)| d).collect();
    assert_eq!(
        sized,
        [
            &Dist::Choice(CPU_CHOICES.to_vec()),
            &Dist::Choice(MEMORY_CHOICES.to_vec())
        ],
        "{SCENARIO}: requests"
    );
    assert_eq!(
        w.duration,
        Some(Dist::Exponential {
            mean: MEAN_DURATION
        }),
        "{SCENARIO}: duration"
    );
}

/// Checks, once, that both sides do the whole job: every scheduler places all the pods, and
/// the bare loop places each pod where schedlab's `first-fit` does. Results go to stderr.
fn check_work(registry: &Registry, scenario: &Scenario) {
    check_bare_loop_matches_file(scenario);
    for name in ["first-fit", "least-allocated", "random", "drf"] {
        let s = sim::run(scenario, registry.create(name).unwrap(), scenario.seed).summary;
        assert_eq!(
            (
                s.count(&sim::columns::PODS_SCHEDULED),
                s.count(&sim::columns::PODS_COMPLETED)
            ),
            (PODS, PODS),
            "{name} must place and finish every pod"
        );
        eprintln!(
            "{name}: {} pods scheduled, {} events, {} unschedulable attempts",
            s.count(&sim::columns::PODS_SCHEDULED),
            s.count(&sim::columns::EVENTS),
            s.count(&sim::columns::UNSCHEDULABLE_ATTEMPTS)
        );
    }

    // schedlab's first-fit placements, from the trace (pod "job-<ordinal>" on a node name).
    let node_index: BTreeMap<&str, usize> = scenario
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let mut sim = Simulation::new(
        scenario,
        registry.create("first-fit").unwrap(),
        scenario.seed,
    );
    sim.enable_trace();
    let mut schedlab = vec![usize::MAX; PODS as usize];
    for record in sim.run().trace {
        if let TraceEvent::Bound { node } = record.event {
            let ordinal: usize = record
                .pod
                .rsplit('-')
                .next()
                .and_then(|o| o.parse().ok())
                .expect("pod names end in their ordinal");
            schedlab[ordinal] = node_index[node.as_str()];
        }
    }
    let mut same = 0;
    let dropped = bare_first_fit(scenario.seed, |pod, node| {
        same += u64::from(schedlab[pod as usize] == node);
    });
    eprintln!(
        "bare loop: {dropped} of {PODS} pods dropped (fitted nowhere); \
         {same} of {PODS} placed on the same node as schedlab's first-fit"
    );
}

fn benches(c: &mut Criterion) {
    let (registry, scenario) = load();
    check_work(&registry, &scenario);

    // One run takes 0.03-0.5 s: flat sampling with 10 samples keeps the whole bench to
    // about a minute while still giving criterion a spread to report.
    let mut group = c.benchmark_group("bench-1k-nodes-100k-pods");
    group
        .throughput(Throughput::Elements(PODS))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for name in ["first-fit", "least-allocated", "random", "drf"] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let scheduler = registry.create(name).unwrap();
                black_box(
                    sim::run(&scenario, scheduler, scenario.seed)
                        .summary
                        .count(&sim::columns::EVENTS),
                )
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("bare-loop");
    group
        .throughput(Throughput::Elements(PODS))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("first-fit", |b| {
        b.iter(|| bare_first_fit(black_box(scenario.seed), |_, _| {}))
    });
    group.finish();
}

criterion_group!(schedulers_benches, benches);
criterion_main!(schedulers_benches);
