//! `/metrics` in Prometheus' text format: API requests by verb and code with their
//! latency, scheduling attempts by result with their latency, pods by phase, node
//! heartbeats.
//!
//! prometheus-client writes OpenMetrics, where a counter family `x` is declared without
//! its `_total` suffix and the text ends with `# EOF`. The endpoint says it serves the
//! Prometheus text format 0.0.4, in which HELP and TYPE must name the sample itself
//! (`x_total`), so [`to_text_format`] renames those and drops the OpenMetrics-only lines;
//! `promtool check metrics` then accepts the output (agent/tests/metrics.rs).

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::meta::str_at;
use super::store::Store;

type Labels = Vec<(String, String)>;

/// The control plane's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<Labels, Counter>,
    request_seconds: Family<Labels, Histogram>,
    attempts: Family<Labels, Counter>,
    attempt_seconds: Histogram,
    pods: Family<Labels, Gauge>,
    heartbeats: Counter,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("schedlab");
        let requests = Family::<Labels, Counter>::default();
        let request_seconds = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let attempts = Family::<Labels, Counter>::default();
        let attempt_seconds = Histogram::new(exponential_buckets(0.00001, 2.0, 20));
        let pods = Family::<Labels, Gauge>::default();
        let heartbeats = Counter::default();
        registry.register(
            "apiserver_requests",
            "API requests by verb and HTTP code",
            requests.clone(),
        );
        registry.register(
            "apiserver_request_duration_seconds",
            "API request latency by verb",
            request_seconds.clone(),
        );
        registry.register(
            "scheduler_schedule_attempts",
            "Scheduling attempts by result (scheduled, unschedulable, error)",
            attempts.clone(),
        );
        registry.register(
            "scheduler_scheduling_attempt_duration_seconds",
            "Time one pod's scheduling attempt took in the scheduler",
            attempt_seconds.clone(),
        );
        registry.register("pods", "Pods by phase", pods.clone());
        registry.register(
            "node_heartbeats",
            "Node status reports received",
            heartbeats.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            request_seconds,
            attempts,
            attempt_seconds,
            pods,
            heartbeats,
        }
    }

    /// Counts one API request.
    pub fn api_request(&self, verb: &str, code: u16, took: Duration) {
        self.requests
            .get_or_create(&vec![
                ("verb".into(), verb.to_owned()),
                ("code".into(), code.to_string()),
            ])
            .inc();
        self.request_seconds
            .get_or_create(&vec![("verb".into(), verb.to_owned())])
            .observe(took.as_secs_f64());
    }

    /// Counts one pod's scheduling attempt.
    pub fn attempt(&self, result: &str, took: Duration) {
        self.attempts
            .get_or_create(&vec![("result".into(), result.to_owned())])
            .inc();
        self.attempt_seconds.observe(took.as_secs_f64());
    }

    /// Counts one node status report.
    pub fn heartbeat(&self) {
        self.heartbeats.inc();
    }

    /// The text exposition, with the pod gauges counted from the store now.
    pub fn render(&self, store: &Store) -> String {
        let (pods, _) = store.list("pods", None);
        let mut counts = std::collections::BTreeMap::new();
        for phase in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
            counts.insert(phase.to_owned(), 0i64);
        }
        for p in &pods {
            let phase = match str_at(p, "/status/phase") {
                "" => "Pending",
                other => other,
            };
            *counts.entry(phase.to_owned()).or_default() += 1;
        }
        for (phase, n) in counts {
            self.pods
                .get_or_create(&vec![("phase".into(), phase)])
                .set(n);
        }
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        to_text_format(&out)
    }
}

/// OpenMetrics text as the Prometheus text format 0.0.4: counters' HELP and TYPE lines
/// name the `_total` sample, and `# EOF` and `# UNIT` lines are left out.
pub fn to_text_format(openmetrics: &str) -> String {
    let counters: std::collections::BTreeSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_declared_by_their_total_sample() {
        let om = "# HELP a_b Things.\n# TYPE a_b counter\na_b_total 3\n# HELP g Level.\n# TYPE g gauge\ng 1\n# EOF\n";
        assert_eq!(
            to_text_format(om),
            "# HELP a_b_total Things.\n# TYPE a_b_total counter\na_b_total 3\n# HELP g Level.\n# TYPE g gauge\ng 1\n"
        );
    }
}
