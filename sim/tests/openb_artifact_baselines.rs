//! The FGD artifact's baselines (`artifact-*`) on the bundled openb replay with the paper's
//! seeds 42..51 and its metric, pinned: for each policy and seed, the mean GPU allocated
//! over the arrivals whose arrived demand rounds to 100% of the cluster's 6,212 GPUs
//! (`allocated_rounded_mean_milli` at step 1.00), and the mean over the seeds in percent
//! with two decimals, as `docs/gpu-sharing.md` prints it beside the artifact's table.
//!
//! Slow in a debug build (50 runs on 1,213 nodes); `cargo test --release -p sim --test
//! openb_artifact_baselines` takes seconds.

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

/// The paper's metric at 100% arrived, in milli-GPU, for seeds 42..=51.
fn allocated_at_full(scheduler: &str) -> Vec<u64> {
    let s = scenario();
    let registry = Registry::builtin();
    (42..=51)
        .map(|seed| {
            let spec = SchedulerSpec::named(scheduler);
            let built = registry.build(&spec, &s.build_context()).unwrap();
            let result = Simulation::new(&s, built, seed).try_run().unwrap();
            let point = result
                .gpu_fill
                .iter()
                .find(|p| p.step_permille == 1000)
                .expect("the curve reaches 1.00");
            assert_eq!(point.capacity_milli, CAPACITY_MILLI);
            point.allocated_rounded_mean_milli
        })
        .collect()
}

/// The mean over the seeds in percent, two decimals, as the document's table prints it.
fn mean_percent(allocated: &[u64]) -> String {
    let total: u64 = allocated.iter().sum();
    format!(
        "{:.2}",
        100.0 * total as f64 / (allocated.len() as u64 * CAPACITY_MILLI) as f64
    )
}

fn check(scheduler: &str, expected: [u64; 10], published: &str) {
    let allocated = allocated_at_full(scheduler);
    assert_eq!(
        allocated, expected,
        "{scheduler}: allocated milli-GPU per seed"
    );
    assert_eq!(mean_percent(&allocated), published, "{scheduler}: mean");
}

#[test]
fn artifact_dotprod() {
    check(
        "artifact-dotprod",
        [
            5656710, 5619940, 5661332, 5656816, 5625819, 5631042, 5632550, 5635150, 5668234,
            5629955,
        ],
        "90.82",
    );
}

#[test]
fn artifact_gpu_clustering() {
    check(
        "artifact-gpu-clustering",
        [
            5740020, 5708460, 5683008, 5701826, 5661199, 5676202, 5703390, 5698340, 5687854,
            5665505,
        ],
        "91.64",
    );
}

#[test]
fn artifact_gpu_packing() {
    check(
        "artifact-gpu-packing",
        [
            5749890, 5712240, 5674098, 5708556, 5673819, 5692192, 5706470, 5719780, 5694024,
            5666505,
        ],
        "91.75",
    );
}

#[test]
fn artifact_best_fit() {
    check(
        "artifact-best-fit",
        [
            5789200, 5758360, 5778884, 5770326, 5776909, 5767642, 5779700, 5772510, 5771444,
            5761265,
        ],
        "92.93",
    );
}

#[test]
fn artifact_random() {
    check(
        "artifact-random",
        [
            5406120, 5361558, 5358286, 5367230, 5350944, 5341729, 5348535, 5371633, 5344339,
            5370646,
        ],
        "86.32",
    );
}
