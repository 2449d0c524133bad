//! KEDA on a work queue end to end: a burst fills the queue of a Deployment at zero
//! replicas; KEDA activates it at its next poll, the pod drains the queue FIFO, and KEDA
//! scales it back to zero once the cooldown has passed since the trigger was last
//! active. Times, delays and drops are worked out by hand below.

use std::sync::{Arc, Mutex};

use schedulers::Registry;
use schedulers::algorithms::FirstFit;
use sim::observe::{Fact, Observer, View};
use sim::{Scenario, Simulation, parse_scenario};

/// A burst of 10 items in [100 s, 101 s) into the queue of a worker at zero replicas.
/// Each pod serves 2 items per second; the HPA's target is 10 items per replica.
fn burst(queue: &str, scaled_object: &str) -> String {
    format!(
        "
name: keda-burst
duration: 30m
cluster:
  nodePools: [{{name: n, count: 2, allocatable: {{cpu: \"8\", memory: 32Gi}}}}]
workloads:
  - deployment: worker
    replicas: 0
    requests: {{cpu: 500m, memory: 256Mi}}
    service:
      load: {{steps: [{{at: 100s, rps: 10}}, {{at: 101s, rps: 0}}]}}
      maxRequestsPerPod: 2
      queue: {queue}
    scaledObject: {scaled_object}
"
    )
}

fn scenario(text: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "keda.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap()
}

/// A scale change: (seconds, from, to, made by KEDA's executor rather than its HPA).
type Change = (f64, u32, u32, bool);

/// What the run did: KEDA's and the HPA's scale changes (seconds, from, to, by KEDA),
/// served items (seconds, items, waited seconds) and drops (seconds, items, expired).
#[derive(Clone, Default)]
struct Log {
    scaled: Arc<Mutex<Vec<Change>>>,
    served: Arc<Mutex<Vec<(f64, u64, f64)>>>,
    dropped: Arc<Mutex<Vec<(f64, u64, bool)>>>,
}

impl Observer for Log {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        let now = view.now.as_secs_f64();
        match fact {
            Fact::KedaScaled { from, to, .. } => {
                self.scaled.lock().unwrap().push((now, *from, *to, true))
            }
            Fact::Scaled { from, to, .. } => {
                self.scaled.lock().unwrap().push((now, *from, *to, false))
            }
            Fact::QueueServed { items, waited, .. } => {
                self.served
                    .lock()
                    .unwrap()
                    .push((now, *items, waited.as_secs_f64()))
            }
            Fact::QueueDropped { items, expired, .. } => {
                self.dropped.lock().unwrap().push((now, *items, *expired))
            }
            _ => {}
        }
    }
}

fn run(text: &str) -> (Log, sim::observe::Summary) {
    let scenario = scenario(text);
    let log = Log::default();
    let mut sim = Simulation::new(&scenario, Box::new(FirstFit::default()), 1);
    sim.add_observer(Box::new(log.clone()));
    let result = sim.try_run().unwrap();
    (log, result.summary)
}

fn scaled(log: &Log) -> Vec<Change> {
    log.scaled.lock().unwrap().clone()
}

fn served(log: &Log) -> Vec<(f64, u64, f64)> {
    log.served.lock().unwrap().clone()
}

fn dropped(log: &Log) -> Vec<(f64, u64, bool)> {
    log.dropped.lock().unwrap().clone()
}

fn secs(summary: &sim::observe::Summary, column: &sim::observe::Column) -> f64 {
    summary.number(column).unwrap()
}

/// The queue steps every second from 0 s: its step at 101 s counts the 10 items of
/// [100 s, 101 s). KEDA polls at 0, 30, 60, 90, 120 s...: at 120 s the queue holds
/// 10 > 0 (the activation threshold): 0 -> 1, last active 120 s. The pod is bound at
/// 120 s, starts at 121 s (startLatency 1 s) and is ready at once; the queue's step at
/// 121 s comes before it (it was set first), so service begins at 122 s: 2 items a
/// second, oldest first, waiting 21, 22, 23, 24, 25 s. The HPA (target 10 per replica)
/// sees 10 / (10 x 1) = 1 at 120 s: no change, and 0 later, below its minimum of 1. No
/// poll after 120 s finds the trigger active, so KEDA goes to zero at the first poll
/// strictly after 120 + 300 s: 450 s (420 s is not strictly after).
#[test]
fn a_burst_activates_at_the_next_poll_and_scales_to_zero_after_the_cooldown() {
    let (log, summary) = run(&burst("{}", "{queueLength: 10}"));
    assert_eq!(scaled(&log), vec![(120.0, 0, 1, true), (450.0, 1, 0, true)]);
    assert_eq!(
        served(&log),
        vec![
            (122.0, 2, 21.0),
            (123.0, 2, 22.0),
            (124.0, 2, 23.0),
            (125.0, 2, 24.0),
            (126.0, 2, 25.0)
        ]
    );
    assert!(dropped(&log).is_empty());
    // Nearest rank over 10 delays: the 5th (23 s) and the 10th (25 s).
    assert_eq!(secs(&summary, &sim::columns::QUEUE_DELAY_P50), 23.0);
    assert_eq!(secs(&summary, &sim::columns::QUEUE_DELAY_P99), 25.0);
    assert_eq!(summary.count(&sim::columns::KEDA_ACTIVATIONS), 1);
    assert_eq!(summary.count(&sim::columns::KEDA_DEACTIVATIONS), 1);
    assert_eq!(summary.count(&sim::columns::REQUESTS_SERVED), 10);
    assert_eq!(summary.count(&sim::columns::REQUESTS_DROPPED), 0);
    assert_eq!(summary.count(&sim::columns::HPA_SCALE_UPS), 0);
    // One ready endpoint from 121 s until its deletion began at 450 s.
    let availability = summary.number(&sim::columns::AVAILABILITY_MIN).unwrap();
    assert!((availability - 329.0 / 1800.0).abs() < 1e-12);
}

/// Capacity 6: of the 10 items counted at 101 s, 4 are dropped at once. Timeout 22 s:
/// items stamped 101 s expire at the first step strictly after 123 s. Service begins
/// at 122 s as above: 2 items (waited 21 s), 2 at 123 s (22 s), and the last 2 expire at
/// 124 s, before the pod could take them.
#[test]
fn capacity_and_timeout_drops_are_counted_exactly() {
    let (log, summary) = run(&burst("{capacity: 6, timeout: 22s}", "{queueLength: 10}"));
    assert_eq!(dropped(&log), vec![(101.0, 4, false), (124.0, 2, true)]);
    assert_eq!(served(&log), vec![(122.0, 2, 21.0), (123.0, 2, 22.0)]);
    assert_eq!(summary.count(&sim::columns::REQUESTS_SERVED), 4);
    assert_eq!(summary.count(&sim::columns::REQUESTS_DROPPED), 6);
    assert_eq!(secs(&summary, &sim::columns::QUEUE_DELAY_P50), 21.0);
    assert_eq!(secs(&summary, &sim::columns::QUEUE_DELAY_P99), 22.0);
}

/// `activationQueueLength: 10`: the trigger is active only above 10 items, so the burst
/// of exactly 10 never wakes the worker, and nothing is served. With 9 as the threshold
/// it wakes at 120 s; with a 60 s cooldown it sleeps again at the first poll strictly
/// after 180 s: 210 s.
#[test]
fn the_activation_threshold_and_the_cooldown_are_honoured() {
    let (log, summary) = run(&burst("{}", "{queueLength: 10, activationQueueLength: 10}"));
    assert!(scaled(&log).is_empty());
    assert!(served(&log).is_empty());
    assert_eq!(summary.count(&sim::columns::KEDA_ACTIVATIONS), 0);
    assert_eq!(summary.number(&sim::columns::QUEUE_DELAY_P50), None);

    let (log, _) = run(&burst(
        "{}",
        "{queueLength: 10, activationQueueLength: 9, cooldownPeriod: 60}",
    ));
    assert_eq!(scaled(&log), vec![(120.0, 0, 1, true), (210.0, 1, 0, true)]);
}

/// Between 1 and max the HPA KEDA creates decides. Target 2 items per replica: at
/// 120 s KEDA wakes the worker (its poll was set before the HPA's sync at that instant),
/// then the HPA sees 10 items over 1 replica, ratio 5, and asks ceil(10 / 2) = 5; the
/// default scale-up policies allow max(1 + 4, 2 x 1) = 5. The 5 pods start at 121 s and
/// serve 10 items at 122 s (waited 21 s). From 135 s the HPA recommends 0 (1 after its
/// minimum), but the 300 s scale-down stabilization window keeps the 5 of 120 s until
/// it leaves the window at 420 s: 5 -> 1. KEDA then takes it to zero at 450 s.
#[test]
fn between_one_and_max_the_hpa_scales_on_the_queue_length() {
    let (log, summary) = run(&burst("{}", "{queueLength: 2}"));
    assert_eq!(
        scaled(&log),
        vec![
            (120.0, 0, 1, true),
            (120.0, 1, 5, false),
            (420.0, 5, 1, false),
            (450.0, 1, 0, true)
        ]
    );
    assert_eq!(served(&log), vec![(122.0, 10, 21.0)]);
    assert_eq!(summary.count(&sim::columns::HPA_SCALE_UPS), 1);
    assert_eq!(summary.count(&sim::columns::HPA_SCALE_DOWNS), 1);
}

/// The same scenario twice gives the same summary, and the cluster's books hold after
/// every event of a run with KEDA scaling up and down.
#[test]
fn runs_repeat_exactly_and_keep_the_invariants() {
    let text = burst("{capacity: 50}", "{queueLength: 2, cooldownPeriod: 30}");
    let (_, a) = run(&text);
    let (_, b) = run(&text);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    let scenario = scenario(&text);
    let mut sim = Simulation::new(&scenario, Box::new(FirstFit::default()), 7);
    while sim.step() {
        sim.cluster().check_invariants().unwrap();
    }
}

/// The bundled `queue-worker.yaml`: the arrivals are zero from 22:00 to 06:00, so the
/// worker wakes once each morning, a little after 06:00, and sleeps once each night,
/// 300 s (the cooldown) after the last poll that saw a job waiting or in progress: the
/// last whole job of the evening arrives a few minutes before 22:00, when the load is
/// nearly zero. In between it never sleeps, since the length KEDA reads counts jobs in
/// progress; no job waits anywhere near its 10-minute timeout.
#[test]
fn the_bundled_queue_worker_sleeps_at_night() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/queue-worker.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let (log, summary) = run(&text);
    let keda: Vec<(f64, u32, u32)> = scaled(&log)
        .into_iter()
        .filter(|s| s.3)
        .map(|(t, from, to, _)| (t, from, to))
        .collect();
    assert_eq!(keda.len(), 4, "{keda:?}");
    let hour = 3600.0;
    for (day, pair) in keda.chunks(2).enumerate() {
        let base = day as f64 * 24.0 * hour;
        let (wake, sleep) = (pair[0], pair[1]);
        assert_eq!((wake.1, wake.2, sleep.2), (0, 1, 0));
        assert!(
            wake.0 > base + 6.0 * hour && wake.0 < base + 6.0 * hour + 600.0,
            "{wake:?}"
        );
        assert!(
            sleep.0 > base + 22.0 * hour && sleep.0 < base + 22.0 * hour + 900.0,
            "{sleep:?}"
        );
    }
    assert_eq!(summary.count(&sim::columns::KEDA_ACTIVATIONS), 2);
    assert_eq!(summary.count(&sim::columns::KEDA_DEACTIVATIONS), 2);
    assert_eq!(summary.count(&sim::columns::REQUESTS_DROPPED), 0);
    assert!(summary.number(&sim::columns::QUEUE_DELAY_P99).unwrap() < 120.0);
    assert!(summary.count(&sim::columns::HPA_SCALE_UPS) > 0);
}

/// `services.csv`'s row for the burst: the worker served the 10 items, dropped none, had
/// a ready endpoint from 121 s to 450 s of its 1,800 s, and its own delays are the run's.
#[test]
fn the_services_row_has_the_queues_figures() {
    let scenario = scenario(&burst("{}", "{queueLength: 10}"));
    let result = Simulation::new(&scenario, Box::new(FirstFit::default()), 1)
        .try_run()
        .unwrap();
    assert_eq!(
        result.services,
        vec![sim::observe::services::ServiceSummary {
            name: "worker".to_string(),
            workload: 0,
            served: 10,
            dropped: 0,
            available: (329_000_000, 1_800_000_000),
            queue_delay_p50: Some(sim::time::SimTime::from_secs(23)),
            queue_delay_p99: Some(sim::time::SimTime::from_secs(25)),
        }]
    );
}

/// `scaledObject: {}` and `queue: {}` take KEDA's and the queue's defaults.
#[test]
fn defaults_are_kedas() {
    let scenario = scenario(&burst("{}", "{}"));
    let d = scenario.workloads[0].dynamics.as_ref().unwrap();
    let k = d.keda.as_ref().unwrap();
    let s = sim::time::SimTime::from_secs;
    assert_eq!(
        (k.polling_interval, k.cooldown_period, k.min, k.max),
        (s(30), s(300), 0, 100)
    );
    assert_eq!((k.queue_length, k.activation_queue_length), (5, 0));
    assert_eq!((k.sync_period, k.settings.tolerance_up), (s(15), 0.1));
    assert_eq!(k.hpa_min(), 1);
    let q = d.service.as_ref().unwrap().queue.as_ref().unwrap();
    assert_eq!((q.capacity, q.timeout, q.step), (None, None, s(1)));
}
