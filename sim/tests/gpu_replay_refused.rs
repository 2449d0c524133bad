//! A trace replay counts a refused bind by its reason's code, not by its wording: a
//! scheduler whose binds the cluster refuses counts every arrival, and one that merely
//! says the same words as text counts none.

use std::path::Path;
use std::sync::Arc;

use schedulers::{Cycle, Diagnosis, NodeId, Placement, Registry, Scheduler};
use sim::scenario::{TraceTiming, WorkloadKind};
use sim::{Scenario, columns};

/// The bundled openb replay on every 64th node of the trace (about 100 GPUs), up to their
/// GPUs: about 130 arrivals.
fn small() -> Scenario {
    let registry = Registry::builtin();
    let mut s = sim::load_scenario(
        Path::new("../scenarios/openb-gpu-sharing.yaml"),
        &|spec, profiles| registry.check(spec, profiles),
    )
    .expect("the bundled scenario loads (it reads data/alibaba-gpu-v2023)");
    s.nodes = s.nodes.into_iter().step_by(64).collect();
    let WorkloadKind::Trace(replay) = &s.workloads[0].kind else {
        panic!("a trace workload");
    };
    let mut replay = (**replay).clone();
    let TraceTiming::Shuffled {
        demand_permille, ..
    } = &mut replay.timing
    else {
        panic!("the paper's protocol");
    };
    *demand_permille = 1000;
    s.workloads[0].kind = WorkloadKind::Trace(Arc::new(replay));
    s
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
    let s = small();
    let refused = sim::try_run(&s, Box::new(Refused), 1).unwrap().summary;
    let wordy = sim::try_run(&s, Box::new(Wordy), 1).unwrap().summary;
    for r in [&refused, &wordy] {
        let submitted = r.count(&columns::PODS_SUBMITTED);
        assert!(submitted > 50, "{submitted}");
        assert_eq!(r.count(&columns::PODS_SCHEDULED), 0);
        assert_eq!(r.count(&columns::PODS_FAILED), submitted);
    }
    assert_eq!(
        refused.count(&columns::REFUSED_BINDS),
        refused.count(&columns::PODS_SUBMITTED)
    );
    assert_eq!(wordy.count(&columns::REFUSED_BINDS), 0);
}
