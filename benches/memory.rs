//! Heap bytes per pod alive: what a simulation costs in memory as pods pile up.
//!
//! The target is under 500 bytes per pod alive (pending or bound), so that a million pods fit
//! in half a gigabyte. Memory is measured, not estimated: a counting global allocator wraps
//! the system one and keeps the bytes currently allocated and their peak. The figure is
//! `(heap now - heap of the freshly built simulation) / pods alive`, so the nodes, the
//! scenario and the scheduler's fixed state are left out and only what grows with pods is
//! counted. The counts are of requested bytes: the allocator's own per-block overhead is not
//! included (most per-pod state lives in a few large arenas, where it is negligible).
//!
//! Two workloads:
//! - the bundled `bench-1k-nodes-100k-pods` scenario, stopped at several simulated times up
//!   to 9,700 s, when the arrivals stop and about 35,000 pods are alive at once. Its figure
//!   also carries what is kept per pod *ever created* (e.g. scheduling latencies for the
//!   percentiles), shared out over the pods alive;
//! - the same cluster and pod sizes with 35,000 pods that never finish, which isolates the
//!   cost of a live pod: once arriving as a Poisson process (the steady case), once all at
//!   time zero (a burst: the scheduling queue and the cycle's buffers then hold every pod at
//!   once, and keep that capacity for reuse).
//!
//! Arenas and queues grow by doubling, so the figure is a sawtooth: just after a doubling
//! (35,000 is just past 32,768) up to half the capacity is spare.
//!
//! A plain `main` (no criterion): the figures are deterministic, one run gives them.
//!
//! ```text
//! cargo bench --bench memory
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use schedulers::Registry;
use sim::{Scenario, SimTime, Simulation};

/// The system allocator, counting the bytes it hands out.
struct Counting;

/// Bytes allocated now.
static CURRENT: AtomicUsize = AtomicUsize::new(0);
/// Most bytes allocated at once since the last [`reset_peak`].
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; the wrapper only keeps counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; on failure the old block is untouched, so are the counts.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn current() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

fn reset_peak() {
    PEAK.store(current(), Ordering::Relaxed);
}

fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Pods pending or bound now.
fn alive(sim: &Simulation<'_>) -> u64 {
    sim.running_pods() + sim.pending_pods()
}

/// One line: the heap above `baseline` now and at its peak, per pod alive.
fn report(what: &str, sim: &Simulation<'_>, baseline: usize) {
    let pods = alive(sim);
    let now = current().saturating_sub(baseline);
    let top = peak().saturating_sub(baseline);
    let per = |bytes: usize| bytes as f64 / pods.max(1) as f64;
    println!(
        "{what}: t={:.0}s, {pods} pods alive ({} created): heap {:.2} MiB above the initial \
         simulation = {:.0} bytes/pod alive; peak so far {:.2} MiB = {:.0} bytes/pod alive \
         (target < 500)",
        sim.now().as_secs_f64(),
        sim.submitted_pods(),
        now as f64 / (1 << 20) as f64,
        per(now),
        top as f64 / (1 << 20) as f64,
        per(top),
    );
}

/// The bundled scenario, stopped at `checkpoints` (simulated seconds), then played out.
fn bench_scenario(registry: &Registry, scenario: &Scenario, scheduler: &str) {
    let mut sim = Simulation::new(scenario, registry.create(scheduler).unwrap(), scenario.seed);
    let baseline = current();
    reset_peak();
    for secs in [1_000, 3_000, 6_000, 9_700] {
        let until = SimTime::from_secs(secs);
        while sim.now() < until && sim.step() {}
        report(&format!("{} {scheduler}", scenario.name), &sim, baseline);
    }
    // What stays allocated once every pod has gone (arenas keep their capacity by design).
    while sim.step() {}
    println!(
        "{} {scheduler}: end t={:.0}s, {} pods alive: heap {:.2} MiB above the initial \
         simulation still allocated; peak over the run {:.2} MiB",
        scenario.name,
        sim.now().as_secs_f64(),
        alive(&sim),
        current().saturating_sub(baseline) as f64 / (1 << 20) as f64,
        peak().saturating_sub(baseline) as f64 / (1 << 20) as f64,
    );
}

/// Pods that never finish: every pod created is alive at the end. `arrivals` is the
/// scenario's arrival process (`process: ...`), `label` names it in the output.
fn never_finishing(registry: &Registry, scheduler: &str, label: &str, arrivals: &str) {
    const PODS: u32 = 35_000;
    let yaml = format!(
        "name: never-finishing-{PODS}-{label}
cluster:
  nodePools:
    - name: node
      count: 1000
      allocatable: {{cpu: \"64\", memory: 256Gi, pods: 110}}
workloads:
  - batch: forever
    arrivals: {{{arrivals}, count: {PODS}}}
    requests:
      cpu: {{dist: choice, values: [250m, 500m, \"1\", \"2\", \"4\"]}}
      memory: {{dist: choice, values: [512Mi, 1Gi, 2Gi, 4Gi, 8Gi]}}
"
    );
    let scenario = sim::parse_scenario(&yaml, "never-finishing.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("never-finishing scenario: {e}"));
    let mut sim = Simulation::new(
        &scenario,
        registry.create(scheduler).unwrap(),
        scenario.seed,
    );
    let baseline = current();
    reset_peak();
    while sim.step() {}
    assert_eq!(sim.running_pods(), u64::from(PODS), "every pod is placed");
    report(&format!("{} {scheduler}", scenario.name), &sim, baseline);
}

fn main() {
    // `cargo test --benches` runs bench binaries too; the figures take a few seconds, fine.
    let registry = Registry::builtin();
    let path = Path::new("scenarios/bench-1k-nodes-100k-pods.yaml");
    let scenario = sim::load_scenario(path, &|spec, profiles| registry.check(spec, profiles))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!(
        "size_of::<schedulers::Pod>() = {} bytes (heap figures below are requested bytes, \
         without the allocator's per-block overhead)",
        size_of::<schedulers::Pod>()
    );
    for scheduler in ["first-fit", "least-allocated"] {
        bench_scenario(&registry, &scenario, scheduler);
        never_finishing(
            &registry,
            scheduler,
            "poisson",
            "process: poisson, ratePerSecond: 10.3",
        );
        never_finishing(&registry, scheduler, "burst", "process: burst");
    }
}
