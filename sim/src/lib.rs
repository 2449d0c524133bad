//! schedlab's deterministic discrete-event simulator of a Kubernetes-style cluster.
//!
//! A [`Scenario`] (loaded from YAML by [`load_scenario`]) describes nodes and workloads; a
//! [`Simulation`] plays it with one [`schedulers::Scheduler`] and one seed, and returns a
//! [`RunResult`]: a [`Summary`] of named, typed figures and a time series of [`Sample`]s.
//!
//! A run is an engine ([`engine`]) driving controllers ([`controllers`]: workloads, the
//! scheduling queue, the kubelet, volumes, gangs, node lifecycle) that change the cluster
//! and publish [`Fact`]s, which observers ([`observe`]: metrics, time series, trace)
//! record without changing anything.
//!
//! # Determinism contract
//!
//! Same scenario, same scheduler, same seed: byte-identical results, on any machine and
//! whatever else runs in parallel.
//! - Simulated time is an integer number of microseconds ([`SimTime`]); the simulator never
//!   reads the wall clock.
//! - Events at equal times are processed in the order they were scheduled ([`EventQueue`]).
//! - Every random draw comes from a ChaCha8 stream keyed by (seed, concern, index)
//!   ([`rng::stream`]); each workload has its own arrival, duration and size streams, and
//!   the scheduler has its own tie-break stream.
//! - No decision depends on the iteration order of a hash map.
//! - A run is single-threaded; parallelism is across runs.
//!
//! ```
//! use sim::{parse_scenario, run};
//! use schedulers::Registry;
//!
//! let registry = Registry::builtin();
//! let scenario = parse_scenario(r#"
//! cluster:
//!   nodePools: [{name: n, count: 2, allocatable: {cpu: "2", memory: 4Gi}}]
//! workloads:
//!   - pod: web
//!     count: 3
//!     requests: {cpu: "1", memory: 1Gi}
//!     duration: 10m
//! "#, "example.yaml", &|spec, profiles| registry.check(spec, profiles)).unwrap();
//! let result = run(&scenario, registry.create("first-fit").unwrap(), scenario.seed);
//! assert_eq!(result.summary.count(&sim::columns::PODS_COMPLETED), 3);
//! ```
#![deny(missing_docs)]

pub mod bounds;
pub mod controllers;
pub mod engine;
pub mod observe;
pub mod rng;
pub mod sampling;
pub mod scenario;
pub mod simulation;
pub mod time;

pub use bounds::{Limits, RunLimits, RunStop, WorkEstimate, estimate, run_bounded};
pub use controllers::nodes::NodeAction;
pub use engine::EventQueue;
pub use observe::fairness::{NamespaceSummary, jain_index};
pub use observe::gpu_fill::GpuFillPoint;
pub use observe::summary::{Column, Summary, Unit, Value};
pub use observe::timeseries::{Fragmentation, Sample};
pub use observe::trace::{TraceEvent, TraceRecord};
pub use observe::{Fact, Observer, columns};
pub use scenario::{
    ListedScheduler, LoadOptions, Scenario, ScenarioError, SchedulerCheck, load_scenario,
    load_scenario_with, parse_scenario, parse_scenario_with,
};
pub use simulation::{
    ExplainOutcome, RunResult, SchedulerFailure, Simulation, WorkloadView, run, try_run,
};
pub use time::SimTime;
