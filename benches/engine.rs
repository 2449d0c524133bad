//! Raw event-queue throughput: the classic "hold" model. A fixed number of events wait;
//! each step pops the earliest and schedules a successor a pseudo-random delay later,
//! as a simulation's pod arrivals and completions do. A thousand waiting is a small
//! cluster; 400,000 is the scale scenario's running pods, each waiting for its end.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim::{EventQueue, SimTime};

/// Steps per measured iteration.
const STEPS: u64 = 1_000_000;

/// A payload the size of the simulator's own events (a pod id and a tag).
#[derive(Clone, Copy)]
struct Payload {
    _pod: u64,
    _kind: u32,
}

/// Delays drawn once up front, so the benchmark measures the queue and not a generator.
fn delays() -> Vec<u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + x % 2_000_000
        })
        .collect()
}

fn hold(c: &mut Criterion) {
    let delays = delays();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(STEPS));
    for (name, pending) in [("hold_1k_pending", 1_000), ("hold_400k_pending", 400_000)] {
        group.bench_function(name, |b| b.iter(|| hold_steps(&delays, pending)));
    }
    group.finish();
}

/// Fills a queue with `pending` events, then runs the hold steps.
fn hold_steps(delays: &[u64], pending: u64) -> usize {
    let mut q = EventQueue::with_capacity(pending as usize + 1);
    for i in 0..pending {
        q.push(
            SimTime(delays[(i & 4095) as usize] + i),
            Payload { _pod: i, _kind: 0 },
        );
    }
    for step in 0..STEPS {
        let (now, ev) = q.pop().expect("the queue never empties");
        let next = SimTime(now.0 + delays[(step & 4095) as usize]);
        q.push(next, black_box(ev));
    }
    black_box(q.len())
}

criterion_group!(benches, hold);
criterion_main!(benches);
