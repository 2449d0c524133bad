//! Reasons are data: counting why nodes failed a pod allocates nothing per node. An
//! allocator that counts this thread's allocations checks it, for the diagnosis itself,
//! for `filters::diagnose` and for the framework's filter path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use rand::SeedableRng;
use schedulers::framework::{FrameworkScheduler, Profile};
use schedulers::{
    BindError, ClusterState, ContainerResources, Cycle, Decision, Diagnosis, NodeSpec, Pod,
    PodTemplate, Reason, ResourceKind, ResourceNames, Resources, Scheduler, SchedulerRng, Taint,
    TaintEffect,
};

struct Counting;

thread_local! {
    // Per thread, so that tests running in parallel do not count each other.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many times `f` allocated or reallocated on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (ALLOCATIONS.with(Cell::get) - before, out)
}

#[test]
fn counting_a_reason_already_there_allocates_nothing() {
    let mut names = ResourceNames::default();
    let fpga = names.intern("example.com/fpga").unwrap();
    let mut d = Diagnosis::new(1000);
    let reasons = [
        Reason::UntoleratedTaint,
        Reason::Insufficient(ResourceKind::CPU),
        Reason::Insufficient(fpga),
        Reason::TooManyPods,
        Reason::RefusedBind(BindError::DoesNotFit),
    ];
    for r in &reasons {
        d.add_named(r, 1, &names);
    }
    let (n, ()) = allocations(|| {
        for _ in 0..1000 {
            for r in &reasons {
                d.add_named(r, 1, &names);
            }
            d.add(Reason::UntoleratedTaint);
            d.add_nodes(Reason::InsufficientGpu, 2);
        }
    });
    // The first InsufficientGpu grows the list once; nothing after it.
    assert!(n <= 1, "{n} allocations");
    assert_eq!(
        d.to_string(),
        "0/1000 nodes are available: 1001 Insufficient cpu, 1001 Insufficient example.com/fpga, \
         1001 Too many pods, 1001 scheduler chose a node it could not bind to (pod does not \
         fit on the node), 2000 Insufficient GPU, 2001 node(s) had untolerated taint(s)."
    );
    assert!(d.refused_bind());
}

/// `nodes` nodes, every other one tainted, the rest with 1 CPU, 4 GiB and no FPGA, and a
/// pod asking for 2 CPU, 1 GiB and an FPGA: every node fails, for one or two reasons.
fn crowded(nodes: usize) -> (ClusterState, schedulers::PodId) {
    let mut names = ResourceNames::default();
    let fpga = names.intern("example.com/fpga").unwrap();
    let mut cluster = ClusterState::new(names);
    let mut alloc = Resources::cpu_mem(1000, 4 << 30);
    alloc.set(ResourceKind::PODS, 110);
    for i in 0..nodes {
        let taints = if i % 2 == 0 {
            vec![Taint {
                key: "dedicated".into(),
                value: "infra".into(),
                effect: TaintEffect::NoSchedule,
            }]
        } else {
            Vec::new()
        };
        cluster.add_node(NodeSpec {
            name: format!("node-{i}"),
            allocatable: alloc,
            taints,
            ..Default::default()
        });
    }
    let mut c = ContainerResources::default();
    c.set_request(ResourceKind::CPU, 2000);
    c.set_request(ResourceKind::MEMORY, 1 << 30);
    c.set_request(fpga, 1);
    let template = Arc::new(PodTemplate {
        name: "big".into(),
        namespace: "default".into(),
        containers: vec![c],
        ..Default::default()
    });
    let pod = cluster.add_pod(Pod::from_template(template, 0));
    (cluster, pod)
}

#[test]
fn diagnose_allocates_the_same_for_ten_nodes_as_for_a_thousand() {
    let count = |nodes: usize| {
        let (cluster, pod) = crowded(nodes);
        let pod = cluster.pod(pod).unwrap();
        let (n, d) = allocations(|| schedulers::filters::diagnose(&cluster, pod));
        assert_eq!(
            d.to_string(),
            format!(
                "0/{nodes} nodes are available: {half} Insufficient cpu, {half} Insufficient \
                 example.com/fpga, {half} node(s) had untolerated taint(s).",
                half = nodes / 2
            )
        );
        n
    };
    let (small, large) = (count(10), count(1000));
    assert_eq!(small, large);
    // The reason list, once.
    assert_eq!(large, 1);
}

#[test]
fn the_frameworks_filter_path_allocates_nothing_per_rejected_node() {
    let count = |nodes: usize| {
        let (mut cluster, pod) = crowded(nodes);
        let mut profile = Profile::kube_default();
        // Preemption's dry runs allocate by design; only the filter path is measured.
        profile.preemption = false;
        let mut scheduler = FrameworkScheduler::new(profile);
        let mut rng = SchedulerRng::seed_from_u64(1);
        let mut decisions = Vec::with_capacity(4);
        let pending = [pod];
        // The first attempt fills the scheduler's caches (node order, plugin state).
        scheduler.schedule(&mut Cycle::new(
            &mut cluster,
            &pending,
            &mut rng,
            &mut decisions,
        ));
        let (n, ()) = allocations(|| {
            scheduler.schedule(&mut Cycle::new(
                &mut cluster,
                &pending,
                &mut rng,
                &mut decisions,
            ))
        });
        let Decision::Unschedulable { diagnosis, .. } = &decisions[0] else {
            panic!("{:?}", decisions[0]);
        };
        assert_eq!(
            diagnosis.to_string(),
            format!(
                "0/{nodes} nodes are available: {half} Insufficient cpu, {half} Insufficient \
                 example.com/fpga, {half} node(s) had untolerated taint(s).",
                half = nodes / 2
            )
        );
        n
    };
    let (small, large) = (count(10), count(1000));
    assert_eq!(small, large, "allocations grow with the nodes rejected");
}
