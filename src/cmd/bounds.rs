//! Limits on the work of runs, shared by `run` and `validate`: the limits from the command
//! line (`--max-pods`, `--max-events`, `--max-samples`, `--max-memory`), the check of a
//! scenario's work estimate against them, and the wording of a run stopped by a safety net
//! (`--max-sim-time`, `--timeout`), each message naming the flag that moves the limit.

use std::path::Path;
use std::time::{Duration, Instant};

use sim::bounds::{Bound, Exceeded};
use sim::{Limits, RunLimits, RunStop, Scenario, WorkEstimate};

use crate::cli::{LimitArgs, SafetyArgs};

/// `--max-memory` when not given and the machine's memory is unknown.
const FALLBACK_MAX_MEMORY: u64 = 8 << 30;

/// The limits the command line asks for.
pub fn limits(args: &LimitArgs) -> Limits {
    Limits {
        max_pods: args.max_pods,
        max_events: args.max_events,
        max_samples: args.max_samples,
        max_memory: args
            .max_memory
            .or_else(half_of_memory)
            .unwrap_or(FALLBACK_MAX_MEMORY),
    }
}

/// Half of the machine's memory (`MemTotal` in /proc/meminfo): a run may take that much,
/// leaving the rest to the system and to the other runs of a sweep. `None` where the file
/// does not exist (not Linux) or says something else.
fn half_of_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024) / 2)
}

/// The flag that moves a limit.
fn flag(bound: Bound) -> &'static str {
    match bound {
        Bound::Pods => "--max-pods",
        Bound::Events => "--max-events",
        Bound::Samples => "--max-samples",
        Bound::Memory => "--max-memory",
    }
}

/// A count with thousands separators (`3,600,000,001`); "unbounded" for `u64::MAX`.
pub fn count(n: u64) -> String {
    if n == u64::MAX {
        return "unbounded".to_string();
    }
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in the largest binary unit that keeps a digit before the point (`11.7 GiB`).
pub fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// The estimate in one phrase: `about 12 pods, 80 events, 61 samples, 4.0 MiB`.
pub fn describe(e: &WorkEstimate) -> String {
    format!(
        "about {} pods, {} events, {} samples, {} per run",
        count(e.pods),
        count(e.events),
        count(e.samples),
        bytes(e.memory_bytes)
    )
}

/// Checks `scenario`'s estimate against `limits`: the estimate, or the message refusing
/// its runs, naming the file, the estimate, what drives it and the flag to raise.
pub fn check(scenario: &Scenario, path: &Path, limits: &Limits) -> Result<WorkEstimate, String> {
    let estimate = sim::estimate(scenario);
    let Err(Exceeded {
        bound,
        value,
        limit,
    }) = limits.check(&estimate)
    else {
        return Ok(estimate);
    };
    let largest = estimate
        .largest_workload
        .map(|i| {
            format!(
                " (most from workload `{}`)",
                scenario.workloads[i].template.name
            )
        })
        .unwrap_or_default();
    let (amount, cause, hint) = match bound {
        Bound::Pods => (
            format!("{} pods", count(value)),
            largest,
            "make the workloads smaller or the scenario's `duration:` shorter",
        ),
        Bound::Events => (
            format!("{} events", count(value)),
            largest,
            "make the workloads smaller or the scenario's `duration:` shorter",
        ),
        Bound::Samples => (
            format!("{} time-series samples", count(value)),
            format!(
                " (a run of {} sampled every {})",
                estimate.end, scenario.sample_interval
            ),
            "make `sampleInterval:` longer",
        ),
        Bound::Memory => (
            format!("{} of memory", bytes(value)),
            format!(
                " ({} pods, {} nodes, {} samples)",
                count(estimate.pods),
                count(scenario.nodes.len() as u64),
                count(estimate.samples)
            ),
            "make the scenario smaller",
        ),
    };
    let limit = match bound {
        Bound::Memory => bytes(limit),
        _ => count(limit),
    };
    Err(format!(
        "{}: refused: a run would take about {amount}{cause}, more than {} {limit}; {hint}, \
         or raise the limit with {}",
        path.display(),
        flag(bound),
        flag(bound)
    ))
}

/// The checks a run makes while it plays.
pub fn run_limits(limits: &Limits, safety: &SafetyArgs) -> RunLimits {
    RunLimits {
        max_sim_time: safety.max_sim_time,
        max_events: Some(limits.max_events),
        max_pods: Some(limits.max_pods),
    }
}

/// A deadline `timeout` from now, as the `interrupted` callback of [`sim::run_bounded`].
pub fn deadline(timeout: Option<Duration>) -> impl FnMut() -> bool {
    let until = timeout.and_then(|t| Instant::now().checked_add(t));
    move || until.is_some_and(|until| Instant::now() >= until)
}

/// Why a run was stopped, naming the flag behind it.
pub fn stop_message(stop: &RunStop, safety: &SafetyArgs) -> String {
    match stop {
        RunStop::Scheduler(failure) => failure.to_string(),
        RunStop::SimTime { at, limit } => format!(
            "stopped at simulated time {at}, past --max-sim-time {limit}; raise it, or give \
             the scenario a shorter `duration:`"
        ),
        RunStop::Limit { exceeded, at } => format!(
            "stopped at simulated time {at}: more than {} {}, past {} (the estimate was \
             lower); raise {}",
            count(exceeded.limit),
            exceeded.bound.noun(),
            flag(exceeded.bound),
            flag(exceeded.bound)
        ),
        RunStop::Interrupted { at, events } => match safety.timeout {
            Some(timeout) => format!(
                "timed out: still running after --timeout {:?} of wall time (at simulated \
                 time {at}, after {} events)",
                timeout,
                count(*events)
            ),
            None => format!("interrupted at simulated time {at}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_for_people() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(3_600_000_001), "3,600,000,001");
        assert_eq!(count(u64::MAX), "unbounded");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(4 << 20), "4.0 MiB");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn the_machine_share_is_half_of_memtotal() {
        if let Some(half) = half_of_memory() {
            assert!(half > 0);
        }
    }
}
