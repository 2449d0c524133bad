//! The workload controllers: what creates pods, and when.
//!
//! - `pod:` creates its pods once; `deployment:` is a ReplicaSet that creates its
//!   replicas and replaces each pod it loses (one that finished, was evicted, or whose
//!   node left) at once, or after [`CRASH_LOOP_BACKOFF`] if the pod ran for no time.
//! - `batch:` pods arrive by a Poisson, fixed or burst process.
//! - A trace workload replays a trace's pods (see [`TraceTiming`]).
//! - `job:` pods are the job controller's ([`super::jobs`]), which builds them with
//!   [`new_pod_from`] as these controllers do.
//!
//! Every pod enters the cluster through [`super::admission::create_pod`]. A Deployment
//! whose creation is refused (a ResourceQuota, a LimitRange) retries after the
//! ReplicaSet controller's back-off; a refused bare pod, batch arrival or replayed trace
//! pod is not tried again, as nothing upstream would recreate it.
//!
//! Every random draw comes from the workload's own streams (arrivals, durations, sizes),
//! so one workload's draws never depend on another's. A workload that creates several
//! pods at one instant creates them one at a time, each fully processed (queued, or
//! admitted by its node) before the next exists.

use std::sync::Arc;

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use schedulers::cluster::GpuTask;
use schedulers::{ContainerResources, Pod, PodId, PodPhase, PodTemplate, ResourceKind, Resources};

use crate::controllers::Controller;
use crate::controllers::admission::{self, CreateBackoff};
use crate::controllers::kubelet::KubeletEvent;
use crate::controllers::rollout::{self as rolling, SetCounts};
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact};
use crate::rng::{Concern, stream};
use crate::sampling::{exponential_gap, sample_duration, sample_size};
use crate::scenario::gpu_trace::TracePod;
use crate::scenario::rollout::Rollout;
use crate::scenario::trace_stream::{GoogleStream, StreamedFormat, TraceStream};
use crate::scenario::{
    ArrivalProcess, Scenario, TraceReplay, TraceSource, TraceTiming, Workload, WorkloadKind,
};
use crate::time::SimTime;

/// How long a ReplicaSet's replacement of a pod that ran for no time at all is held
/// back: the kubelet's initial crash-loop back-off. Without it, a Deployment of
/// zero-length pods would create, bind and finish pods forever at one instant.
pub const CRASH_LOOP_BACKOFF: SimTime = SimTime::from_secs(10);

/// The workload controllers' events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadEvent {
    /// A workload creates pods: a bare pod's time, a Deployment's creation, an arrival.
    Create {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// A Deployment replaces a pod after [`CRASH_LOOP_BACKOFF`].
    Replace {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// A Deployment's ReplicaSet syncs again after a refused creation (its back-off).
    Retry {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// Creates the next of `left` pods at this instant (follow-up work).
    CreateNext {
        /// The workload's index in the scenario.
        workload: u32,
        /// Pods still to create, this one included.
        left: u32,
    },
    /// A Deployment's rollout begins: its template changes.
    Rollout {
        /// The workload's index in the scenario.
        workload: u32,
        /// The rollout's index in its Deployment's rollouts.
        rollout: u32,
    },
    /// The deployment controller looks at a rollout again (a new pod has been Ready for
    /// `minReadySeconds`).
    Sync {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// A streamed Google replay reads on: a row came within its look-ahead while a pod
    /// that arrived waits for its end row.
    TraceRead {
        /// The workload's index in the scenario.
        workload: u32,
    },
}

impl WorkloadEvent {
    /// A retry waits for a pod of its namespace to free its quota, so it does not keep a
    /// run without a horizon alive.
    pub(crate) fn keeps_run_alive(&self) -> bool {
        !matches!(self, WorkloadEvent::Retry { .. })
    }
}

/// Per workload: how many pods it made and its own random streams.
#[derive(Debug)]
struct State {
    created: u64,
    /// A Deployment's desired replicas (its `replicas`, then what its autoscaler sets).
    desired: u32,
    /// A Deployment's pods that exist and are not being deleted.
    live: u32,
    /// A Deployment's ReplicaSets, oldest first: its first template's, then one per
    /// rollout begun. Empty for other workloads.
    sets: Vec<ReplicaSet>,
    /// The rollout in progress: its index and when it began.
    rolling: Option<(u32, SimTime)>,
    /// Available pods per ReplicaSet, recounted at each rollout sync (kept to reuse).
    available: Vec<u32>,
    arrivals: ChaCha8Rng,
    durations: ChaCha8Rng,
    sizes: ChaCha8Rng,
    /// A trace replay's pods: one template per trace pod, how many times each was
    /// drawn, and what arrives next.
    trace: Option<Box<TraceState>>,
    /// A Deployment's requeue after refused creations.
    backoff: CreateBackoff,
}

#[derive(Debug)]
struct TraceState {
    templates: Vec<(Arc<PodTemplate>, Resources)>,
    drawn: Vec<u32>,
    arrivals: TraceArrivals,
}

/// Which trace pods arrive, in order, drawn one arrival at a time: a replay keeps no
/// list of its arrivals beyond one index per trace pod.
#[derive(Debug)]
enum TraceArrivals {
    /// [`TraceTiming::Shuffled`].
    Shuffled(ShuffledArrivals),
    /// [`TraceTiming::Recorded`]: the pods with a creation time, by that time (file
    /// order among equal times), the next one's position, and the earliest creation
    /// time, which arrives at zero.
    Recorded {
        order: Vec<u32>,
        next: usize,
        first_micros: u64,
    },
    /// [`TraceTiming::Recorded`] read from the file as the run goes: the pod that arrives
    /// next (`None` after the last), and the first arrival's time, which arrives at zero.
    Streamed(Box<StreamedArrivals>),
    /// [`TraceTiming::Recorded`] read from a Google file as the run goes, with a
    /// look-ahead (see [`crate::scenario::trace_stream`]).
    Google(Box<GoogleArrivals>),
}

/// A streamed Google replay's reader, its read timer, and its late ends so far.
#[derive(Debug)]
struct GoogleArrivals {
    stream: GoogleStream,
    /// When a [`WorkloadEvent::TraceRead`] is set for, if one is.
    read_at: Option<SimTime>,
    /// Pods whose end row was read after they were due to end.
    late: u64,
}

impl GoogleArrivals {
    /// Reads up to the look-ahead past now and applies the ends read of pods that
    /// arrived: a pod not started yet runs its recorded time once started; a running one
    /// ends at its start plus that time, or now when that is past (a late end).
    fn read(&mut self, ctx: &mut Ctx<'_>) {
        self.stream.fill(ctx.now);
        while let Some((pod, started, run)) = self.stream.next_end() {
            // Gone already (evicted, refused by its node): nothing to end.
            let Some(phase) = ctx.cluster.pod(pod).map(|p| p.phase) else {
                continue;
            };
            // A restart (its node's kubelet back) runs the recorded time too.
            ctx.cluster.set_run_micros(pod, run.as_micros());
            if phase != PodPhase::Running {
                continue;
            }
            let end = started.unwrap_or(ctx.now).saturating_add(run);
            let finished = Event::Kubelet(KubeletEvent::Finished { pod });
            if end > ctx.now {
                ctx.at(end, finished);
                continue;
            }
            if end < ctx.now {
                if self.late == 0 {
                    eprintln!(
                        "warning: {}: a pod's end row came within the look-ahead ({}) only \
                         after it was due; such pods end late and are counted in \
                         trace_late_ends",
                        self.stream.shown(),
                        self.stream.look_ahead()
                    );
                }
                self.late += 1;
                ctx.publish(Fact::TraceLateEnd {
                    pod,
                    late: ctx.now.saturating_sub(end),
                });
            }
            ctx.then(finished);
        }
    }

    /// Sets the read timer of workload `w` when a pod waits for its end row and none is
    /// set. The row the reader stopped before only gets later, so a timer already set is
    /// never too late.
    fn set_timer(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        if self.read_at.is_some() {
            return;
        }
        if let Some(at) = self.stream.next_read() {
            self.read_at = Some(at);
            ctx.at(
                at,
                Event::Workloads(WorkloadEvent::TraceRead { workload: w as u32 }),
            );
        }
    }
}

/// A streamed replay's reader, the pod it read ahead, and the first arrival's time.
#[derive(Debug)]
struct StreamedArrivals {
    stream: TraceStream,
    next: Option<TracePod>,
    first_micros: u64,
}

/// The shuffled protocol's arrivals: the whole trace in a shuffled order, then pods drawn
/// with replacement, as long as the GPU they ask stays within the target. As in the
/// artifact's `generateWorkloadInflationPods`, the pod whose GPU would take the arrived
/// demand past the target is not added, and arrivals end there.
#[derive(Debug)]
pub struct ShuffledArrivals {
    shuffled: Vec<u32>,
    /// GPU asked by each trace pod, in milli-GPU.
    gpu: Vec<u64>,
    next: usize,
    demand: u128,
    target: u128,
    /// False when no trace pod asks for a GPU: draws would never reach any demand, so
    /// the trace's pods arrive once each.
    any_gpu: bool,
    /// The next arrival, drawn ahead so that `has_next` knows whether it fits the target.
    peeked: Option<u32>,
}

impl ShuffledArrivals {
    /// The arrivals of `pods` up to `demand_permille` thousandths of `capacity_milli`;
    /// shuffles the trace with `rng`, which [`ShuffledArrivals::draw`] then draws from.
    pub fn new(
        pods: &[TracePod],
        capacity_milli: u64,
        demand_permille: u32,
        rng: &mut ChaCha8Rng,
    ) -> ShuffledArrivals {
        let n = pods.len();
        // Fisher-Yates with the generator's own bounded draws, so the order depends on
        // nothing but the stream.
        let mut shuffled: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            shuffled.swap(i, j);
        }
        let gpu: Vec<u64> = pods.iter().map(|p| p.gpu.total_milli()).collect();
        let mut arrivals = ShuffledArrivals {
            shuffled,
            any_gpu: gpu.iter().any(|&g| g > 0),
            gpu,
            next: 0,
            demand: 0,
            target: u128::from(capacity_milli) * u128::from(demand_permille) / 1000,
            peeked: None,
        };
        arrivals.advance(rng);
        arrivals
    }

    /// True while another pod is to arrive.
    pub fn has_next(&self) -> bool {
        self.peeked.is_some()
    }

    /// Draws the arrival after the current one into `peeked`, or `None` when arrivals end.
    fn advance(&mut self, rng: &mut ChaCha8Rng) {
        let i = match self.shuffled.get(self.next) {
            Some(&i) => {
                self.next += 1;
                i
            }
            None if self.any_gpu && !self.shuffled.is_empty() => {
                rng.random_range(0..self.shuffled.len() as u32)
            }
            None => {
                self.peeked = None;
                return;
            }
        };
        let fits = !self.any_gpu || self.demand + u128::from(self.gpu[i as usize]) <= self.target;
        self.peeked = fits.then_some(i);
    }

    /// The next arrival's index into the trace, drawing the one after it from `rng` once
    /// the shuffled trace is used up.
    pub fn draw(&mut self, rng: &mut ChaCha8Rng) -> Option<u32> {
        let i = self.peeked?;
        self.demand += u128::from(self.gpu[i as usize]);
        self.advance(rng);
        Some(i)
    }
}

/// One ReplicaSet of a Deployment: its template, its `spec.replicas`, and its pods that
/// exist and are not being deleted.
#[derive(Debug)]
struct ReplicaSet {
    template: Arc<PodTemplate>,
    replicas: u32,
    live: u32,
}

/// Every workload of the scenario.
#[derive(Debug)]
pub struct Workloads {
    states: Vec<State>,
}

impl Workloads {
    /// Deployment `w`'s desired replicas now (after its autoscaler) and the template of
    /// its newest ReplicaSet, the one new pods are stamped from; `None` for other
    /// workloads. Read by [`crate::Simulation::workloads`].
    pub(crate) fn deployment(&self, w: usize) -> Option<(u32, &Arc<PodTemplate>)> {
        let state = self.states.get(w)?;
        let newest = state.sets.last()?;
        Some((state.desired, &newest.template))
    }

    /// How many ReplicaSets Deployment `w` has had (one per rollout begun, plus its
    /// first); 0 for other workloads.
    pub(crate) fn replica_sets(&self, w: usize) -> u32 {
        self.states.get(w).map_or(0, |s| s.sets.len() as u32)
    }
}

impl Workloads {
    /// The workloads of `scenario` with their streams for `seed`; sets the timer of each
    /// one's first creation. Call once the nodes have joined (a trace replay's arrivals
    /// depend on the cluster's GPUs).
    pub(crate) fn start(scenario: &Scenario, seed: u64, ctx: &mut Ctx<'_>) -> Workloads {
        let mut w = Workloads {
            states: (0..scenario.workloads.len() as u64)
                .map(|i| State {
                    created: 0,
                    desired: match scenario.workloads[i as usize].kind {
                        WorkloadKind::Deployment { replicas, .. } => replicas,
                        _ => 0,
                    },
                    live: 0,
                    sets: match scenario.workloads[i as usize].kind {
                        WorkloadKind::Deployment { replicas, .. } => vec![ReplicaSet {
                            template: Arc::clone(&scenario.workloads[i as usize].template),
                            replicas,
                            live: 0,
                        }],
                        _ => Vec::new(),
                    },
                    rolling: None,
                    available: Vec::new(),
                    arrivals: stream(seed, Concern::Arrivals, i),
                    durations: stream(seed, Concern::Durations, i),
                    sizes: stream(seed, Concern::Sizes, i),
                    trace: None,
                    backoff: CreateBackoff::controller(),
                })
                .collect(),
        };
        for i in 0..scenario.workloads.len() {
            if let Some(first) = w.first_creation(i, ctx) {
                ctx.at(first, create(i));
            }
            let rollouts = scenario.workloads[i]
                .dynamics
                .as_ref()
                .map_or(&[][..], |d| &d.rollouts[..]);
            for (r, rollout) in rollouts.iter().enumerate() {
                ctx.at(
                    rollout.at,
                    Event::Workloads(WorkloadEvent::Rollout {
                        workload: i as u32,
                        rollout: r as u32,
                    }),
                );
            }
        }
        w
    }

    /// When a workload first creates pods, if ever.
    fn first_creation(&mut self, w: usize, ctx: &Ctx<'_>) -> Option<SimTime> {
        match &ctx.scenario.workloads[w].kind {
            WorkloadKind::Pods { at, .. } | WorkloadKind::Deployment { at, .. } => Some(*at),
            // The job controller creates a Job's pods.
            WorkloadKind::Job { .. } => None,
            WorkloadKind::Batch { arrivals } => {
                let first = match arrivals.process {
                    ArrivalProcess::Poisson { rate_per_second } => arrivals.start.saturating_add(
                        exponential_gap(rate_per_second, &mut self.states[w].arrivals),
                    ),
                    ArrivalProcess::Fixed { .. } | ArrivalProcess::Burst => arrivals.start,
                };
                self.arrival_allowed(w, first, ctx).then_some(first)
            }
            WorkloadKind::Trace(replay) => {
                let state = &mut self.states[w];
                let capacity = ctx.cluster.gpu_totals().1;
                let trace = TraceState::new(replay, capacity, &mut state.arrivals);
                let first = trace.next_time(None, replay);
                state.trace = Some(Box::new(trace));
                first
            }
            // Their own controllers'.
            WorkloadKind::StatefulSet { .. } | WorkloadKind::DaemonSet { .. } => None,
        }
    }

    fn arrival_allowed(&self, w: usize, at: SimTime, ctx: &Ctx<'_>) -> bool {
        let WorkloadKind::Batch { arrivals } = &ctx.scenario.workloads[w].kind else {
            return false;
        };
        arrivals.stop.is_none_or(|stop| at < stop)
            && arrivals.count.is_none_or(|c| self.states[w].created < c)
    }

    /// The workload's pods at its creation time, or one arrival.
    fn create(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        let left = match &ctx.scenario.workloads[w].kind {
            WorkloadKind::Pods { count, .. } => *count,
            WorkloadKind::Deployment { replicas, .. } => *replicas,
            WorkloadKind::Batch { arrivals } => match arrivals.process {
                ArrivalProcess::Burst => {
                    let count = arrivals.count.unwrap_or(1);
                    count
                        .saturating_sub(self.states[w].created)
                        .min(u64::from(u32::MAX)) as u32
                }
                ArrivalProcess::Poisson { .. } | ArrivalProcess::Fixed { .. } => {
                    self.create_pod(w, ctx);
                    self.next_arrival(w, ctx);
                    return;
                }
            },
            WorkloadKind::Trace(replay) => {
                self.trace_arrival(w, replay, ctx);
                let Some(next) = self.states[w]
                    .trace
                    .as_ref()
                    .and_then(|t| t.next_time(Some(ctx.now), replay))
                else {
                    return;
                };
                match replay.timing {
                    TraceTiming::Shuffled { .. } => ctx.at(next, create(w)),
                    // The next pod of the same instant arrives once this one is processed.
                    TraceTiming::Recorded if next == ctx.now => ctx.then(create(w)),
                    TraceTiming::Recorded => ctx.at_after(next, create(w)),
                }
                return;
            }
            WorkloadKind::StatefulSet { .. } | WorkloadKind::DaemonSet { .. } => return,
            WorkloadKind::Job { .. } => return,
        };
        self.create_next(w, left, ctx);
    }

    /// Creates one of `left` pods and asks to create the rest once it is processed.
    fn create_next(&mut self, w: usize, left: u32, ctx: &mut Ctx<'_>) {
        if left == 0 {
            return;
        }
        let created = self.create_pod(w, ctx);
        // A refused ReplicaSet creation ends this burst, as upstream's slow-start batch
        // stops at its first error; its retry creates the rest.
        if (created || self.states[w].sets.is_empty()) && left > 1 {
            ctx.then(Event::Workloads(WorkloadEvent::CreateNext {
                workload: w as u32,
                left: left - 1,
            }));
        }
    }

    /// Draws a batch workload's next arrival and sets its timer once the pod that arrived
    /// now has been processed (so the order of same-time timers is the order of nested
    /// calls).
    fn next_arrival(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        let WorkloadKind::Batch { arrivals } = &ctx.scenario.workloads[w].kind else {
            return;
        };
        let next = match arrivals.process {
            ArrivalProcess::Poisson { rate_per_second } => ctx.now.saturating_add(exponential_gap(
                rate_per_second,
                &mut self.states[w].arrivals,
            )),
            ArrivalProcess::Fixed { interval } if interval > SimTime::ZERO => {
                ctx.now.saturating_add(interval)
            }
            _ => return,
        };
        if !self.arrival_allowed(w, next, ctx) {
            return;
        }
        let template = &ctx.scenario.workloads[w].template;
        if next > ctx.now && template.node_name.is_none() && template.pod_group.is_none() {
            // What the pod that arrived now sets off sets timers only for now (its
            // scheduling cycle): none can fall at `next`, so the order is the same.
            ctx.at(next, create(w));
        } else {
            ctx.at_after(next, create(w));
        }
    }

    /// Creates one pod of workload `w` now, drawing its size and duration; false when
    /// admission refused it (a Deployment then retries after its back-off).
    fn create_pod(&mut self, w: usize, ctx: &mut Ctx<'_>) -> bool {
        let state = &mut self.states[w];
        let scenario = ctx.scenario;
        let workload = &scenario.workloads[w];
        let (template, set) = if state.sets.is_empty() {
            (Arc::clone(&workload.template), None)
        } else {
            // A Deployment's pod belongs to the newest ReplicaSet short of its replicas.
            let Some(set) = state.sets.iter().rposition(|s| s.live < s.replicas) else {
                return false;
            };
            // A snapshot's pod, back on the node the snapshot has it on; it belongs to the
            // Deployment's first ReplicaSet (see `State::set_of`).
            let adopted = usize::try_from(state.created)
                .ok()
                .and_then(|i| workload.adopted.get(i));
            let template = match adopted {
                Some(pinned) if set == 0 => Arc::clone(pinned),
                _ => Arc::clone(&state.sets[set].template),
            };
            (template, Some(set))
        };
        // An adopted pod runs what is left of its duration.
        let ran = match set {
            Some(0) => usize::try_from(state.created)
                .ok()
                .filter(|&i| i < workload.adopted.len())
                .and_then(|i| workload.adopted_ran.get(i).copied()),
            _ => None,
        };
        let (mut pod, run_for) = new_pod_from(
            workload,
            template,
            w,
            state.created as u32,
            &mut state.sizes,
            &mut state.durations,
            ctx.now,
        );
        let run_for = left_to_run(&mut pod, run_for, ran.unwrap_or(SimTime::ZERO));
        state.created += 1;
        if admission::create_pod(ctx, pod, run_for).is_none() {
            // The refused pod never existed: the next try takes its name. A batch
            // arrival was one arrival all the same.
            if !matches!(workload.kind, WorkloadKind::Batch { .. }) {
                state.created -= 1;
            }
            if set.is_some() {
                // The ReplicaSet's sync failed: requeued with its rate limiter.
                let retry = Event::Workloads(WorkloadEvent::Retry { workload: w as u32 });
                state.backoff.requeue(ctx, retry);
            }
            return false;
        }
        if let Some(set) = set {
            state.sets[set].live += 1;
            state.backoff.succeeded();
        }
        state.live += 1;
        true
    }

    /// The next pod of a trace replay arrives.
    fn trace_arrival(&mut self, w: usize, replay: &TraceReplay, ctx: &mut Ctx<'_>) {
        let state = &mut self.states[w];
        let Some(trace) = state.trace.as_deref_mut() else {
            return;
        };
        let (i, run_for) = match &mut trace.arrivals {
            TraceArrivals::Shuffled(arrivals) => match arrivals.draw(&mut state.arrivals) {
                Some(i) => (i as usize, SimTime::MAX),
                None => return,
            },
            TraceArrivals::Recorded { order, next, .. } => match order.get(*next) {
                Some(&i) => {
                    *next += 1;
                    let i = i as usize;
                    let pods = match &replay.source {
                        TraceSource::InMemory(pods) => &pods[..],
                        TraceSource::Streamed(_) => &[],
                    };
                    (i, pods.get(i).map_or(SimTime::MAX, recorded_run_time))
                }
                None => return,
            },
            TraceArrivals::Google(g) => {
                // Its end row, when within the look-ahead, is read before it arrives.
                g.read(ctx);
                let Some((task, arrived, run)) = g.stream.arrive() else {
                    return;
                };
                let (template, requests) = trace_template(&arrived);
                let pod =
                    Pod::with_requests(template, 0, requests, requests.cpu(), requests.memory());
                state.created += 1;
                let id = Self::replay_pod(pod, w, run.unwrap_or(SimTime::MAX), ctx);
                if run.is_none() {
                    g.stream.arrived(task, id);
                }
                // On to the next arrival.
                g.read(ctx);
                g.set_timer(w, ctx);
                return;
            }
            TraceArrivals::Streamed(streamed) => {
                let StreamedArrivals { stream, next, .. } = &mut **streamed;
                let Some(arrived) = next.take() else { return };
                *next = stream.next_pod();
                // Each trace pod arrives once: its own template, ordinal 0, as the
                // in-memory replay gives it.
                let run_for = recorded_run_time(&arrived);
                let (template, requests) = trace_template(&arrived);
                let pod =
                    Pod::with_requests(template, 0, requests, requests.cpu(), requests.memory());
                state.created += 1;
                Self::replay_pod(pod, w, run_for, ctx);
                return;
            }
        };
        let (template, requests) = &trace.templates[i];
        let pod = Pod::with_requests(
            Arc::clone(template),
            trace.drawn[i],
            *requests,
            requests.cpu(),
            requests.memory(),
        );
        trace.drawn[i] += 1;
        state.created += 1;
        Self::replay_pod(pod, w, run_for, ctx);
    }

    /// A trace pod of workload `w`, running for `run_for` once started, enters the
    /// cluster: its id, or `None` when admission refused it.
    fn replay_pod(mut pod: Pod, w: usize, run_for: SimTime, ctx: &mut Ctx<'_>) -> Option<PodId> {
        pod.created_stamp = ctx.now.as_micros();
        pod.owner = w as u32;
        pod.run_micros = run_for.as_micros();
        // A replayed pod that admission refuses is not replayed again.
        admission::create_pod(ctx, pod, run_for)
    }

    /// A Deployment's replacement of a pod that ran (or was to run) for `run_for`.
    fn replace(&mut self, w: u32, run_for: SimTime, ctx: &mut Ctx<'_>) {
        let Some(workload) = ctx.scenario.workloads.get(w as usize) else {
            return;
        };
        if !matches!(workload.kind, WorkloadKind::Deployment { .. }) {
            return;
        }
        if !self.states[w as usize].short() {
            // Scaled down: the pod that left was one too many.
            return;
        }
        // At once, unless the pod crashed on start.
        if run_for == SimTime::ZERO {
            ctx.at(
                ctx.now.saturating_add(CRASH_LOOP_BACKOFF),
                Event::Workloads(WorkloadEvent::Replace { workload: w }),
            );
        } else {
            self.create_pod(w as usize, ctx);
        }
    }
}

impl Workloads {
    /// The arrivals of workload `w` when it replays a trace.
    fn trace_arrivals(&mut self, w: usize) -> Option<&mut TraceArrivals> {
        self.states
            .get_mut(w)
            .and_then(|s| s.trace.as_deref_mut())
            .map(|t| &mut t.arrivals)
    }

    /// A Deployment's pod of `template` stopped counting (it left, or its deletion
    /// began).
    fn lost(&mut self, owner: u32, template: &Arc<PodTemplate>) {
        if let Some(state) = self.states.get_mut(owner as usize) {
            state.live = state.live.saturating_sub(1);
            if let Some(set) = state.set_of(template) {
                let set = &mut state.sets[set];
                set.live = set.live.saturating_sub(1);
            }
        }
    }

    /// A Deployment's replicas were set to `to`: the ReplicaSet creates the missing pods,
    /// or deletes the surplus in the order upstream's ReplicaSet controller ranks them
    /// (`getPodsToDelete`): unscheduled before scheduled, not yet running before running,
    /// not ready before ready, ready for less time before more, newer before older. Its
    /// ranking of pods doubled up on a node is not modelled.
    fn scale(&mut self, w: u32, to: u32, ctx: &mut Ctx<'_>) {
        // A StatefulSet's autoscaler is the StatefulSet controller's to follow.
        if !matches!(
            ctx.scenario.workloads.get(w as usize).map(|w| &w.kind),
            Some(WorkloadKind::Deployment { .. })
        ) {
            return;
        }
        let Some(state) = self.states.get_mut(w as usize) else {
            return;
        };
        state.desired = to;
        if state.rolling.is_some() {
            // Mid-rollout the new replica count is the rollout's to apply.
            self.sync(w, ctx);
            return;
        }
        let Some(newest) = state.sets.len().checked_sub(1) else {
            return;
        };
        self.scale_set(w, newest, to, EvictionReason::DeploymentScaledDown, ctx);
    }

    /// Sets one ReplicaSet's replicas to `to`: the ReplicaSet creates the missing pods,
    /// or deletes the surplus for `reason`.
    fn scale_set(
        &mut self,
        w: u32,
        set: usize,
        to: u32,
        reason: EvictionReason,
        ctx: &mut Ctx<'_>,
    ) {
        let state = &mut self.states[w as usize];
        let rs = &mut state.sets[set];
        rs.replicas = to;
        let live = rs.live;
        if live < to {
            ctx.then(Event::Workloads(WorkloadEvent::CreateNext {
                workload: w,
                left: to - live,
            }));
            return;
        }
        let surplus = (live - to) as usize;
        if surplus == 0 {
            return;
        }
        let template = Arc::clone(&rs.template);
        // Sort keys, smallest deleted first; the ordinal breaks ties, highest first.
        let mut ranked: Vec<(DeletionRank, PodId)> = ctx
            .status()
            .pods_of(w)
            .iter()
            .filter_map(|&id| {
                let p = ctx
                    .cluster
                    .pod(id)
                    .filter(|p| !p.terminating && Arc::ptr_eq(&p.template, &template))?;
                let ready_since = ctx
                    .status()
                    .get(id)
                    .and_then(|s| s.ready)
                    .filter(|r| r.0)
                    .map(|r| r.1.as_micros());
                // A pod waiting at Permit is not assigned as far as the API server knows.
                let key = (
                    u8::from(p.node.is_some() && p.phase != PodPhase::Waiting),
                    u8::from(p.phase == PodPhase::Running),
                    u8::from(ready_since.is_some()),
                    u64::MAX - ready_since.unwrap_or(0),
                    u64::MAX - p.created_stamp,
                    u32::MAX - p.ordinal,
                );
                Some((key, id))
            })
            .collect();
        ranked.sort_unstable();
        let victims: Vec<PodId> = ranked.iter().take(surplus).map(|r| r.1).collect();
        for pod in victims {
            if ctx.cluster.pod(pod).is_some_and(|p| p.node.is_none()) {
                ctx.remove_pod(pod, false);
            } else {
                ctx.then(Event::Kubelet(KubeletEvent::Evict { pod, reason }));
            }
        }
    }
}

impl State {
    /// True when some ReplicaSet of the Deployment has fewer pods than its replicas.
    fn short(&self) -> bool {
        self.sets.iter().any(|s| s.live < s.replicas)
    }

    /// The ReplicaSet whose pods use `template`. A pod adopted from a snapshot has its
    /// workload's template pinned to a node (`Workload::adopted`, which the loader leaves
    /// empty for Deployments with rollouts): it belongs to the first ReplicaSet.
    fn set_of(&self, template: &Arc<PodTemplate>) -> Option<usize> {
        self.sets
            .iter()
            .rposition(|s| Arc::ptr_eq(&s.template, template))
            .or_else(|| (template.node_name.is_some() && !self.sets.is_empty()).then_some(0))
    }
}

impl Workloads {
    /// Rollout `r` of Deployment `w`, from the scenario.
    fn rollout<'s>(ctx: &Ctx<'s>, w: u32, r: u32) -> Option<&'s Rollout> {
        ctx.scenario
            .workloads
            .get(w as usize)?
            .dynamics
            .as_deref()?
            .rollouts
            .get(r as usize)
    }

    /// Rollout `r` of Deployment `w` begins: a new ReplicaSet with the new template and
    /// no replicas, which the next sync grows by the strategy. A rollout that begins
    /// before the previous one finished takes over from it, as upstream's does.
    fn begin_rollout(&mut self, w: u32, r: u32, ctx: &mut Ctx<'_>) {
        let Some(rollout) = Self::rollout(ctx, w, r) else {
            return;
        };
        let Some(state) = self.states.get_mut(w as usize) else {
            return;
        };
        state.sets.push(ReplicaSet {
            template: Arc::clone(&rollout.template),
            replicas: 0,
            live: 0,
        });
        state.rolling = Some((r, ctx.now));
        ctx.publish(Fact::RolloutStarted {
            workload: w,
            rollout: r,
        });
        self.sync(w, ctx);
    }

    /// The deployment controller's sync of a Deployment with a rollout in progress:
    /// counts each ReplicaSet's available pods, applies the strategy, and finishes the
    /// rollout once complete.
    fn sync(&mut self, w: u32, ctx: &mut Ctx<'_>) {
        let Some((r, started)) = self.states.get(w as usize).and_then(|s| s.rolling) else {
            return;
        };
        let Some(rollout) = Self::rollout(ctx, w, r) else {
            return;
        };
        let (strategy, min_ready) = (rollout.strategy, rollout.min_ready);
        let now = ctx.now;
        let state = &mut self.states[w as usize];
        let n = state.sets.len();
        let mut available = std::mem::take(&mut state.available);
        available.clear();
        available.resize(n, 0);
        // Old pods that still exist, terminating or not (Recreate waits for them).
        let mut old_pods = 0u32;
        for &id in ctx.status().pods_of(w) {
            let Some(p) = ctx.cluster.pod(id) else {
                continue;
            };
            let Some(set) = state.set_of(&p.template) else {
                continue;
            };
            if set + 1 < n {
                old_pods += 1;
            }
            if p.terminating {
                continue;
            }
            let ready_since = ctx
                .status()
                .get(id)
                .and_then(|s| s.ready)
                .filter(|r| r.0)
                .map(|r| r.1);
            if ready_since.is_some_and(|t| t.saturating_add(min_ready) <= now) {
                available[set] += 1;
            }
        }
        let desired = state.desired;
        let mut counts: Vec<SetCounts> = state
            .sets
            .iter()
            .zip(&available)
            .map(|(s, &a)| SetCounts {
                replicas: s.replicas,
                available: a,
            })
            .collect();
        state.available = available;
        let live_old: u32 = state.sets[..n - 1]
            .iter()
            .fold(0u32, |a, s| a.saturating_add(s.live));
        let done = match strategy.fenceposts(desired) {
            Some((surge, unavailable)) => {
                rolling::rolling_step(&mut counts, desired, surge, unavailable);
                rolling::complete(&counts, live_old, desired)
            }
            None => {
                // Recreate: every old pod goes; once none is left, the new ones come.
                for c in &mut counts[..n - 1] {
                    c.replicas = 0;
                }
                if old_pods == 0 {
                    counts[n - 1].replicas = desired;
                }
                old_pods == 0 && counts[n - 1].available >= desired
            }
        };
        // Old sets shrink before the new one grows, in the order upstream's syncs make
        // the changes.
        for (set, c) in counts.iter().enumerate() {
            if c.replicas != self.states[w as usize].sets[set].replicas {
                self.scale_set(w, set, c.replicas, EvictionReason::RolloutReplaced, ctx);
            }
        }
        if done {
            self.finish_rollout(w, r, started, ctx);
        }
    }

    fn finish_rollout(&mut self, w: u32, r: u32, started: SimTime, ctx: &mut Ctx<'_>) {
        let state = &mut self.states[w as usize];
        state.rolling = None;
        ctx.publish(Fact::RolloutFinished {
            workload: w,
            rollout: r,
            took: ctx.now.saturating_sub(started),
        });
    }
}

/// A new pod of workload `w` from `template` (the workload's own, a rollout's
/// ReplicaSet's, or one pinned to a snapshot's node), its size and duration drawn.
pub(crate) fn new_pod_from(
    workload: &Workload,
    template: Arc<PodTemplate>,
    w: usize,
    ordinal: u32,
    sizes: &mut ChaCha8Rng,
    durations: &mut ChaCha8Rng,
    now: SimTime,
) -> (Pod, SimTime) {
    let pod = if workload.sized.is_empty() {
        Pod::from_template(template, ordinal)
    } else {
        let mut requests = template.effective_requests();
        let (mut cpu, mut mem) = template.nonzero_cpu_mem();
        for (kind, dist) in &workload.sized {
            let amount = sample_size(dist, sizes);
            requests.set(*kind, amount);
            if *kind == ResourceKind::CPU {
                cpu = amount;
            } else if *kind == ResourceKind::MEMORY {
                mem = amount;
            }
        }
        Pod::with_requests(template, ordinal, requests, cpu, mem)
    };
    owned_pod(pod, workload, w, durations, now)
}

/// `pod`, just made from workload `w`'s template by its controller, stamped as created
/// at `now` by that workload, with the time it will run once started (drawn from the
/// workload's `duration`, or forever), which is returned with it.
pub(crate) fn owned_pod(
    mut pod: Pod,
    workload: &Workload,
    w: usize,
    durations: &mut ChaCha8Rng,
    now: SimTime,
) -> (Pod, SimTime) {
    pod.created_stamp = now.as_micros();
    pod.owner = w as u32;
    let run_for = workload
        .duration
        .as_ref()
        .map_or(SimTime::MAX, |d| sample_duration(d, durations));
    pod.run_micros = run_for.as_micros();
    (pod, run_for)
}

/// What is left of `run_for` for a cluster snapshot's adopted pod that had already run
/// `ran` at the snapshot's "now" (`Workload::adopted_ran`), also set on `pod`: at least
/// 1 µs, since a pod that runs for no time is one that crashed on start (see
/// [`schedulers::Pod::run_micros`]); a pod already past its duration thus finishes 1 µs
/// after it starts. A pod without a duration runs on.
pub(crate) fn left_to_run(pod: &mut Pod, run_for: SimTime, ran: SimTime) -> SimTime {
    if run_for == SimTime::MAX || ran == SimTime::ZERO {
        return run_for;
    }
    let left = run_for.saturating_sub(ran).max(SimTime::from_micros(1));
    pod.run_micros = left.as_micros();
    left
}

/// A ReplicaSet's deletion order for a pod (smallest first): assigned, running, ready,
/// ready for less time, newer, higher ordinal.
type DeletionRank = (u8, u8, u8, u64, u64, u32);

fn create(w: usize) -> Event {
    Event::Workloads(WorkloadEvent::Create { workload: w as u32 })
}

impl Controller for Workloads {
    type Event = WorkloadEvent;

    fn on(&mut self, event: WorkloadEvent, ctx: &mut Ctx<'_>) {
        match event {
            WorkloadEvent::Create { workload } => self.create(workload as usize, ctx),
            WorkloadEvent::Replace { workload } => {
                if self.states[workload as usize].short() {
                    self.create_pod(workload as usize, ctx);
                }
            }
            WorkloadEvent::Retry { workload } => {
                let state = &mut self.states[workload as usize];
                state.backoff.fired();
                let missing: u32 = state
                    .sets
                    .iter()
                    .map(|s| s.replicas.saturating_sub(s.live))
                    .sum();
                self.create_next(workload as usize, missing, ctx);
            }
            WorkloadEvent::CreateNext { workload, left } => {
                self.create_next(workload as usize, left, ctx)
            }
            WorkloadEvent::Rollout { workload, rollout } => {
                self.begin_rollout(workload, rollout, ctx)
            }
            WorkloadEvent::Sync { workload } => self.sync(workload, ctx),
            WorkloadEvent::TraceRead { workload } => {
                let w = workload as usize;
                if let Some(TraceArrivals::Google(g)) = self.trace_arrivals(w) {
                    g.read_at = None;
                    g.read(ctx);
                    g.set_timer(w, ctx);
                }
            }
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::PodStarted { pod } => {
                // A streamed Google replay ends a pod from its start once it reads its end.
                let Some(owner) = ctx.cluster.pod(*pod).map(|p| p.owner) else {
                    return;
                };
                if let Some(TraceArrivals::Google(g)) = self.trace_arrivals(owner as usize) {
                    g.stream.started(*pod, ctx.now);
                }
            }
            Fact::PodDeleted { pod, replace } => {
                // A pod being deleted was counted out when its deletion began.
                let Some((owner, run_for, terminating, template)) = ctx.departed(*pod).map(|p| {
                    (
                        p.owner,
                        SimTime(p.run_micros),
                        p.terminating,
                        Arc::clone(&p.template),
                    )
                }) else {
                    return;
                };
                if !terminating {
                    self.lost(owner, &template);
                    if *replace {
                        self.replace(owner, run_for, ctx);
                    }
                }
                // A Recreate rollout waits for its old pods to be gone.
                self.sync(owner, ctx);
            }
            Fact::PodEvicted {
                pod,
                run_for,
                graceful: true,
                ..
            } => {
                // Being deleted: its ReplicaSet replaces it at once, as the controller
                // does for a pod with a deletion timestamp.
                if let Some((owner, template)) = ctx
                    .cluster
                    .pod(*pod)
                    .map(|p| (p.owner, Arc::clone(&p.template)))
                {
                    self.lost(owner, &template);
                    self.replace(owner, *run_for, ctx);
                    self.sync(owner, ctx);
                }
            }
            Fact::Scaled { workload, to, .. } | Fact::KedaScaled { workload, to, .. } => {
                self.scale(*workload, *to, ctx)
            }
            Fact::PodReady { pod } => {
                let Some(owner) = ctx.cluster.pod(*pod).map(|p| p.owner) else {
                    return;
                };
                let Some((r, _)) = self.states.get(owner as usize).and_then(|s| s.rolling) else {
                    return;
                };
                let min_ready = Self::rollout(ctx, owner, r).map_or(SimTime::ZERO, |r| r.min_ready);
                if min_ready > SimTime::ZERO {
                    ctx.at(
                        ctx.now.saturating_add(min_ready),
                        Event::Workloads(WorkloadEvent::Sync { workload: owner }),
                    );
                }
                self.sync(owner, ctx);
            }
            _ => {}
        }
    }
}

impl TraceState {
    fn new(replay: &TraceReplay, capacity_milli: u64, rng: &mut ChaCha8Rng) -> TraceState {
        let pods = match &replay.source {
            TraceSource::InMemory(pods) => &pods[..],
            TraceSource::Streamed(trace)
                if matches!(trace.format, StreamedFormat::Google2011 { .. }) =>
            {
                // This run's own reader, as below.
                let arrivals = match GoogleStream::open(trace) {
                    Ok(stream) => TraceArrivals::Google(Box::new(GoogleArrivals {
                        stream,
                        read_at: None,
                        late: 0,
                    })),
                    Err(e) => {
                        eprintln!("warning: {e}; the replay has no arrivals");
                        TraceArrivals::Recorded {
                            order: Vec::new(),
                            next: 0,
                            first_micros: 0,
                        }
                    }
                };
                return TraceState {
                    templates: Vec::new(),
                    drawn: Vec::new(),
                    arrivals,
                };
            }
            TraceSource::Streamed(trace) => {
                // This run's own reader: parallel runs share nothing but the file.
                let mut stream = TraceStream::open(trace);
                let next = stream.as_mut().ok().and_then(TraceStream::next_pod);
                if let Err(e) = &stream {
                    // The load read this file; it went away since. The run goes on
                    // without the replay's arrivals rather than stopping every run.
                    eprintln!("warning: {e}; the replay has no arrivals");
                }
                return TraceState {
                    templates: Vec::new(),
                    drawn: Vec::new(),
                    arrivals: match stream {
                        Ok(stream) => TraceArrivals::Streamed(Box::new(StreamedArrivals {
                            stream,
                            next,
                            first_micros: trace.first_micros,
                        })),
                        Err(_) => TraceArrivals::Recorded {
                            order: Vec::new(),
                            next: 0,
                            first_micros: 0,
                        },
                    },
                };
            }
        };
        let arrivals = match replay.timing {
            TraceTiming::Shuffled {
                demand_permille, ..
            } => TraceArrivals::Shuffled(ShuffledArrivals::new(
                pods,
                capacity_milli,
                demand_permille,
                rng,
            )),
            TraceTiming::Recorded => {
                let mut order: Vec<u32> = (0..pods.len() as u32)
                    .filter(|&i| pods[i as usize].created_micros.is_some())
                    .collect();
                // Stable: file order among equal times.
                order.sort_by_key(|&i| pods[i as usize].created_micros);
                let first_micros = order
                    .first()
                    .and_then(|&i| pods[i as usize].created_micros)
                    .unwrap_or(0);
                TraceArrivals::Recorded {
                    order,
                    next: 0,
                    first_micros,
                }
            }
        };
        TraceState {
            templates: pods.iter().map(trace_template).collect(),
            drawn: vec![0; pods.len()],
            arrivals,
        }
    }

    /// When the next pod arrives, if one does, the last having arrived at `last` (`None`:
    /// before the first).
    fn next_time(&self, last: Option<SimTime>, replay: &TraceReplay) -> Option<SimTime> {
        match (&self.arrivals, replay.timing) {
            (TraceArrivals::Shuffled(a), TraceTiming::Shuffled { interval, .. }) => a
                .has_next()
                .then(|| last.map_or(SimTime::ZERO, |t| t.saturating_add(interval))),
            (
                TraceArrivals::Recorded {
                    order,
                    next,
                    first_micros,
                },
                _,
            ) => {
                let TraceSource::InMemory(pods) = &replay.source else {
                    return None;
                };
                let at = pods[*order.get(*next)? as usize].created_micros?;
                Some(SimTime::from_micros(at.saturating_sub(*first_micros)))
            }
            (TraceArrivals::Streamed(s), _) => {
                let at = s.next.as_ref()?.created_micros?;
                Some(SimTime::from_micros(at.saturating_sub(s.first_micros)))
            }
            (TraceArrivals::Google(g), _) => g.stream.next_arrival(),
            _ => None,
        }
    }
}

/// How long a trace pod runs once started under [`TraceTiming::Recorded`]: deletion minus
/// scheduled time, or minus creation time when the trace never scheduled it; until the
/// end without a deletion time.
pub fn recorded_run_time(p: &TracePod) -> SimTime {
    match p.deleted_micros {
        Some(deleted) => {
            let from = p.scheduled_micros.or(p.created_micros).unwrap_or(deleted);
            SimTime::from_micros(deleted.saturating_sub(from))
        }
        None => SimTime::MAX,
    }
}

/// The template of a trace pod, shared by the pods drawn again from it, and its requests
/// (one pod slot included).
fn trace_template(p: &TracePod) -> (Arc<PodTemplate>, Resources) {
    let mut requests = Resources::cpu_mem(p.cpu_milli, p.memory_bytes);
    let template = PodTemplate {
        name: p.name.clone(),
        namespace: if p.namespace.is_empty() {
            "default".into()
        } else {
            p.namespace.clone()
        },
        priority: p.priority,
        node_selector: p.node_selector.clone(),
        labels: p.labels.clone(),
        containers: vec![ContainerResources {
            name: "main".into(),
            requests,
            requests_set: 0b11,
            ..Default::default()
        }],
        gpu: p.gpu.clone(),
        ..Default::default()
    };
    requests.set(ResourceKind::PODS, 1);
    (Arc::new(template), requests)
}

/// The order of a shuffled replay's arrivals: indices into `pods`, the whole trace
/// shuffled and then indices drawn with replacement, until the GPU they ask reaches
/// `demand_permille` thousandths of `capacity_milli`. Both draws come from `rng`. The
/// replay draws the same arrivals one at a time ([`ShuffledArrivals`]); this list is for
/// tests and analysis.
pub fn arrival_order(
    pods: &[TracePod],
    capacity_milli: u64,
    demand_permille: u32,
    rng: &mut ChaCha8Rng,
) -> Vec<u32> {
    let mut arrivals = ShuffledArrivals::new(pods, capacity_milli, demand_permille, rng);
    std::iter::from_fn(|| arrivals.draw(rng)).collect()
}

/// The GPU tasks of a trace with their counts: the workload fragmentation-aware
/// schedulers measure against, as the paper hands the whole trace's distribution to FGD.
pub fn target_workload(pods: &[TracePod]) -> Vec<(GpuTask, u64)> {
    let mut counts: std::collections::BTreeMap<GpuTask, u64> = Default::default();
    for p in pods {
        *counts
            .entry(GpuTask {
                cpu_milli: p.cpu_milli,
                gpu: p.gpu.clone(),
            })
            .or_default() += 1;
    }
    counts.into_iter().collect()
}
