//! The figures `docs/gpu-sharing.md` and `scenarios/README.md` publish for the bundled
//! openb replay under the paper's protocol, pinned: for each scheduler and each of the
//! ten seeds, the GPU allocated (in milli-GPU) when arrived demand reaches 1.3 times the
//! cluster's 6,212 GPUs, and the means of the shares the documents print. The engine
//! replays the trace as a workload; these are exactly the figures the replay gave before
//! it was one.

use std::path::Path;

use schedulers::{Registry, SchedulerSpec};
use sim::{Scenario, Simulation, load_scenario};

/// The cluster's GPU, in milli-GPU.
const CAPACITY_MILLI: u64 = 6_212_000;

fn scenario() -> Scenario {
    let registry = Registry::builtin();
    load_scenario(
        Path::new("../scenarios/openb-gpu-sharing.yaml"),
        &|spec, profiles| registry.check(spec, profiles),
    )
    .expect("the bundled scenario loads")
}

/// GPU allocated at the last step (1.3 x the cluster's GPUs) for each seed 1..=10.
fn allocated_at_full_demand(scheduler: &str) -> Vec<u64> {
    let s = scenario();
    let registry = Registry::builtin();
    (1..=10)
        .map(|seed| {
            let spec = SchedulerSpec::named(scheduler);
            let built = registry.build(&spec, &s.build_context()).unwrap();
            let result = Simulation::new(&s, built, seed).try_run().unwrap();
            let last = result.gpu_fill.last().unwrap();
            assert_eq!(last.step_permille, 1300, "{scheduler} seed {seed}");
            assert_eq!(last.capacity_milli, CAPACITY_MILLI);
            last.allocated_milli
        })
        .collect()
}

/// The mean share over the seeds, as the documents print it (three decimals).
fn mean_share(allocated: &[u64]) -> String {
    let total: u64 = allocated.iter().sum();
    format!(
        "{:.3}",
        total as f64 / (allocated.len() as u64 * CAPACITY_MILLI) as f64
    )
}

fn check(scheduler: &str, expected: [u64; 10], published: &str) {
    let allocated = allocated_at_full_demand(scheduler);
    assert_eq!(
        allocated, expected,
        "{scheduler}: allocated milli-GPU per seed"
    );
    assert_eq!(
        mean_share(&allocated),
        published,
        "{scheduler}: published mean"
    );
}

#[test]
fn fgd() {
    check(
        "fgd",
        [
            5914420, 5912790, 5918640, 5919070, 5905770, 5917510, 5925020, 5919700, 5909430,
            5919110,
        ],
        "0.952",
    );
}

#[test]
fn first_fit() {
    check(
        "first-fit",
        [
            5858080, 5860930, 5866970, 5863490, 5861370, 5861530, 5864710, 5855090, 5864250,
            5856980,
        ],
        "0.944",
    );
}

#[test]
fn tetris() {
    check(
        "tetris",
        [
            5753670, 5745140, 5764470, 5753970, 5742670, 5746370, 5753960, 5771710, 5752160,
            5756010,
        ],
        "0.926",
    );
}

#[test]
fn best_fit() {
    check(
        "best-fit",
        [
            5621030, 5600120, 5625910, 5619020, 5582940, 5632210, 5593600, 5637150, 5619930,
            5601820,
        ],
        "0.904",
    );
}

#[test]
fn random() {
    check(
        "random",
        [
            5467610, 5436880, 5425580, 5452030, 5495600, 5462090, 5461120, 5451390, 5459040,
            5469240,
        ],
        "0.879",
    );
}
