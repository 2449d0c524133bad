//! The GPU replay counts a refused bind by its reason's code, not by its wording: a
//! scheduler whose binds the cluster refuses counts every arrival, and one that merely
//! says the same words as text counts none.

use std::path::Path;

use schedulers::{Cycle, Diagnosis, NodeId, Placement, Registry, Scheduler};
use sim::Scenario;
use sim::gpu_replay::run_gpu_trace;
use sim::scenario::gpu_trace::GpuTrace;

fn scenario() -> Scenario {
    let registry = Registry::builtin();
    sim::load_scenario(Path::new("../scenarios/openb-gpu-sharing.yaml"), &|n| {
        registry.contains(n)
    })
    .expect("the bundled scenario loads (it reads data/alibaba-gpu-v2023)")
}

/// Every 64th node of the trace (about 100 GPUs), up to their GPUs: about 130 arrivals.
fn small(s: &Scenario) -> GpuTrace {
    let mut t = (**s.gpu_trace.as_ref().unwrap()).clone();
    t.nodes = t.nodes.into_iter().step_by(64).collect();
    t.demand_permille = 1000;
    t.step_permille = 100;
    t
}

/// Chooses a node that does not exist, so the cluster refuses every bind.
struct Refused;

impl Scheduler for Refused {
    fn name(&self) -> &str {
        "refused"
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|_, _, _| Placement::Node(NodeId(u32::MAX)));
    }
}

/// Declares every pod unschedulable with the words of a refused bind, as text.
struct Wordy;

impl Scheduler for Wordy {
    fn name(&self) -> &str {
        "wordy"
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let nodes = cycle.cluster().ready_node_count() as u32;
        cycle.place_each(|_, _, _| {
            let mut d = Diagnosis::new(nodes);
            d.add("scheduler chose a node it could not bind to (pod does not fit on the node)");
            Placement::Unschedulable(d)
        });
    }
}

#[test]
fn refused_binds_are_counted_by_code() {
    let s = scenario();
    let trace = small(&s);
    let refused = run_gpu_trace(&s, &trace, Box::new(Refused), 1).unwrap();
    let wordy = run_gpu_trace(&s, &trace, Box::new(Wordy), 1).unwrap();
    for r in [&refused, &wordy] {
        assert!(
            r.summary.pods_submitted > 50,
            "{}",
            r.summary.pods_submitted
        );
        assert_eq!(r.summary.pods_scheduled, 0);
        assert_eq!(r.summary.pods_failed, r.summary.pods_submitted);
    }
    assert_eq!(
        refused.summary.refused_binds,
        refused.summary.pods_submitted
    );
    assert_eq!(wordy.summary.refused_binds, 0);
}
