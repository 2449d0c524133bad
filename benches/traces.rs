//! Trace parsing speed (issue 13: one million rows a second or more, on one core).
//!
//! Before measuring, the bench writes into a temporary directory, deterministically and
//! untimed: a `generic-csv` trace of 1,000,000 pods (every column but `gpu` and
//! `node_selector`, CPU and memory as Kubernetes quantities, times with decimals); a
//! Google 2011 `task_events` file of 1,000,000 rows (333,334 tasks, each a SUBMIT, a
//! SCHEDULE and a FINISH, interleaved as in the real files), plain and gzip; and a Google
//! `machine_events` file of 100,000 rows (10,000 machines added, then updates, removals and
//! re-additions; machine files are small, and each row builds a labelled node). Each
//! measured iteration reads one file with the loader a scenario uses, `strict` off; the
//! pods are freed outside the timing. Throughput is in rows.
//!
//! ```text
//! cargo bench --bench traces -- --warm-up-time 1 --measurement-time 5
//! ```

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim::scenario::machine_traces::{MachineFormat, load_machines};
use sim::scenario::trace_formats::{MachineScale, load_generic_csv, load_google_2011};

/// Rows of each pod trace.
const ROWS: u64 = 1_000_000;
/// Rows of the machine trace.
const MACHINE_ROWS: u64 = 100_000;
/// Machines in the machine trace.
const MACHINES: u64 = 10_000;
/// A Google 2011 machine of 1.0 CPU and 1.0 memory.
const SCALE: MachineScale = MachineScale {
    cpu_milli: 64_000,
    memory_bytes: 256 << 30,
};

/// xorshift64: the same file on every run, without a generator crate in the timing.
struct Gen(u64);

impl Gen {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// A generic CSV trace of [`ROWS`] pods.
fn generic_csv() -> String {
    const CPUS: [&str; 6] = ["100m", "250m", "500m", "1", "2", "1500m"];
    const MEMORY: [&str; 6] = ["128Mi", "512Mi", "1Gi", "2Gi", "1.5Gi", "1000000000"];
    const NAMESPACES: [&str; 4] = ["", "batch", "web", "ml-training"];
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(ROWS as usize * 64);
    out.push_str("time,name,namespace,cpu,memory,duration,priority\n");
    let mut micros = 0u64;
    for i in 0..ROWS {
        micros += g.next(20_000);
        let duration = if g.next(10) == 0 {
            String::new()
        } else {
            format!("{}.{:03}", g.next(3_600), g.next(1_000))
        };
        writeln!(
            out,
            "{}.{:06},pod-{i},{},{},{},{duration},{}",
            micros / 1_000_000,
            micros % 1_000_000,
            NAMESPACES[g.next(4) as usize],
            CPUS[g.next(6) as usize],
            MEMORY[g.next(6) as usize],
            g.next(1_000),
        )
        .unwrap();
    }
    out
}

/// A Google 2011 `task_events` file of [`ROWS`] rows: tasks submitted, scheduled and
/// finished, several tasks in flight at once.
fn google_task_events() -> String {
    let mut g = Gen(0x2545_F491_4F6C_DD1D);
    let mut out = String::with_capacity(ROWS as usize * 100);
    let mut time = 600_000_000u64;
    // Tasks in flight: (job, index, next event: 0 SUBMIT, 1 SCHEDULE, 4 FINISH).
    let mut open: Vec<(u64, u64, u8)> = Vec::new();
    let mut next_task = 0u64;
    for _ in 0..ROWS {
        time += g.next(2_000);
        let pick = if open.len() < 64 && (open.is_empty() || g.next(3) == 0) {
            let task = next_task;
            next_task += 1;
            open.push((6_000_000_000 + task / 50, task % 50, 0));
            open.len() - 1
        } else {
            g.next(open.len() as u64) as usize
        };
        let (job, index, event) = open[pick];
        let machine = if event == 0 {
            String::new()
        } else {
            (4_000_000 + g.next(12_000)).to_string()
        };
        writeln!(
            out,
            "{time},,{job},{index},{machine},{event},user{:04}=,{},{},0.{:05},0.{:05},0.{:05},{}",
            job % 937,
            job % 4,
            job % 12,
            g.next(100_000),
            g.next(100_000),
            g.next(10_000),
            g.next(2),
        )
        .unwrap();
        match event {
            0 => open[pick].2 = 1,
            1 => open[pick].2 = 4,
            _ => {
                open.swap_remove(pick);
            }
        }
    }
    out
}

/// A Google 2011 `machine_events` file of [`MACHINE_ROWS`] rows over [`MACHINES`] machines.
fn google_machine_events() -> String {
    const SHARES: [&str; 4] = ["0.25", "0.5", "0.75", "1"];
    let mut g = Gen(0x1234_5678_9ABC_DEF1);
    let mut out = String::with_capacity(MACHINE_ROWS as usize * 60);
    let mut present = vec![false; MACHINES as usize];
    let mut time = 0u64;
    for row in 0..MACHINE_ROWS {
        let machine = if row < MACHINES {
            row
        } else {
            time += g.next(10_000_000);
            g.next(MACHINES)
        };
        let event = match (present[machine as usize], g.next(3)) {
            (false, _) => 0,
            (true, 0) => 1,
            (true, _) => 2,
        };
        present[machine as usize] = event != 1;
        let (platform, cpu, memory) = if event == 1 {
            ("", "", "")
        } else {
            (
                "HofLGzk1Or/8Ildj2+Lqv0UGGvY82NLoni8+J/Yy0RU=",
                SHARES[g.next(4) as usize],
                SHARES[g.next(4) as usize],
            )
        };
        writeln!(
            out,
            "{time},{},{event},{platform},{cpu},{memory}",
            machine + 1
        )
        .unwrap();
    }
    out
}

/// Writes `text` to `dir/name`, plain or gzip.
fn write(dir: &Path, name: &str, text: &str, gzip: bool) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    if gzip {
        let mut z = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        z.write_all(text.as_bytes()).unwrap();
        z.finish().unwrap();
    } else {
        let mut file = file;
        file.write_all(text.as_bytes()).unwrap();
    }
    path
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "trace.csv", &generic_csv(), false);
    let events = google_task_events();
    let google = write(dir.path(), "task_events.csv", &events, false);
    let google_gz = write(dir.path(), "task_events.csv.gz", &events, true);
    drop(events);
    let machines = write(
        dir.path(),
        "machine_events.csv",
        &google_machine_events(),
        false,
    );
    // Every row reads: a bad row would be skipped and make the bench measure less.
    let loaded = load_generic_csv(&csv, "trace.csv", true).unwrap();
    assert_eq!(loaded.pods.len() as u64, ROWS);
    let loaded = load_google_2011(&google_gz, "task_events.csv.gz", SCALE, true).unwrap();
    let tasks = loaded.pods.len();
    drop(loaded);
    let loaded = load_machines(
        &machines,
        "machine_events.csv",
        MachineFormat::Google2011(SCALE),
        None,
        true,
    )
    .unwrap();
    eprintln!(
        "traces: {ROWS} generic-csv pods; {ROWS} task_events rows, {tasks} tasks; \
         {MACHINE_ROWS} machine_events rows, {} machines at the start",
        loaded.initial.len()
    );
    drop(loaded);

    let mut group = c.benchmark_group("traces");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("generic-csv", |b| {
        b.iter_with_large_drop(|| load_generic_csv(black_box(&csv), "trace.csv", false).unwrap())
    });
    group.bench_function("google-2011-task-events", |b| {
        b.iter_with_large_drop(|| {
            load_google_2011(black_box(&google), "task_events.csv", SCALE, false).unwrap()
        })
    });
    group.bench_function("google-2011-task-events-gzip", |b| {
        b.iter_with_large_drop(|| {
            load_google_2011(black_box(&google_gz), "task_events.csv.gz", SCALE, false).unwrap()
        })
    });
    group.throughput(Throughput::Elements(MACHINE_ROWS));
    group.bench_function("google-2011-machine-events", |b| {
        b.iter_with_large_drop(|| {
            load_machines(
                black_box(&machines),
                "machine_events.csv",
                MachineFormat::Google2011(SCALE),
                None,
                false,
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
