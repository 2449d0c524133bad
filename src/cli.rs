//! Command-line definitions (clap derive). Parsing only: each command's behaviour lives in
//! its own module under `cmd/`.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sim::SimTime;
use sim::time::parse_duration;

/// Deterministic discrete-event simulator of a Kubernetes-style cluster and a lab for
/// comparing pod-scheduling algorithms.
#[derive(Debug, Parser)]
#[command(name = "schedlab", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands; `main` dispatches on this.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios with schedulers and seeds, and write CSV results
    ///
    /// Runs every (scenario, scheduler, seed) combination in parallel. Output files are
    /// byte-identical for equal inputs, whatever --jobs is. A scenario that fails to load or
    /// a run that fails is reported on stderr; the other runs still write their results, and
    /// the exit code is 1. Unknown scheduler names and bad scheduler arguments on the
    /// command line are refused before anything runs (exit code 2).
    // Boxed: the run arguments are by far the largest variant.
    Run(Box<RunArgs>),
    /// Load scenario files and report errors without running anything
    Validate(ValidateArgs),
    /// List the registered scheduling algorithms and their arguments
    Schedulers,
    /// Show, node by node, why a scheduler placed one pod where it did
    ///
    /// Plays the scenario up to the pod's first scheduling attempt at or after --at, and
    /// prints what each filter plugin said about each node and how each feasible node
    /// scored, instead of making the attempt. Only framework profiles (kube-default) can
    /// explain themselves.
    Explain(ExplainArgs),
    /// Put the outputs of a sharded sweep (`run --shard K/N`) back together
    ///
    /// Checks that the directories are every shard of one sweep, each once and each
    /// finished, then writes summary.csv, stats.csv and namespaces.csv exactly as the
    /// unsharded sweep would have, copies (or with --move, moves) the run folders, and
    /// writes a manifest.json from which `run --from` reruns the whole sweep.
    Merge(MergeArgs),
    /// Rebuild the charts and index.html of a sweep's output folder from its CSV files
    ///
    /// Reads OUT/summary.csv, OUT/stats.csv and each run's timeseries.csv, draws the charts
    /// into OUT/charts/ (replacing it) and writes OUT/index.html; `run` does the same at the
    /// end of every sweep.
    Report(ReportArgs),
    /// Find the smallest node count of a pool that meets an objective on every seed
    ///
    /// Bisects the pool's `count` over [--min, --max] (the ends probed first), running
    /// every seed of a probe in parallel, and prints one row per probed count with each
    /// objective metric's worst value over the seeds. An autoscaled pool is pinned to the
    /// probed count (`autoscaling.max`, and `autoscaling.min` where the file writes it,
    /// set to it). With several --pool, each is planned alone and the cheapest answer by
    /// `autoscaling.pricePerHour` is named. Writes plan.csv and one SVG chart per metric
    /// to --out. Exit code 1 when no count up to --max meets the objective.
    Plan(Box<PlanArgs>),
    /// Write a simulated cluster's state at one instant as a Kubernetes List
    ///
    /// Plays the scenario with one scheduler and seed up to --at and writes its nodes and
    /// every pod that holds or waits for a node (bound pods with `spec.nodeName`) in the
    /// form `kubectl get nodes,pods -A -o yaml` prints. A scenario whose `manifests:` names
    /// the file starts from that state.
    Export(ExportArgs),
    /// Write a run's replay page: one self-contained HTML file
    ///
    /// Reads RUN_DIR/trace.csv and RUN_DIR/view-data.json (written by `run --trace` or
    /// `run --view`) and writes a page with the nodes filled by their pods, a time slider,
    /// the pending queue and each pod's history; no network, no server. Placements are
    /// explained node by node when the run was made with `run --view` and a scheduler
    /// that explains itself (kube-default). Runs of more than 500 nodes or 50,000 trace
    /// rows are refused.
    View(ViewArgs),
    /// Serve a real control plane: a Kubernetes-shaped API that stock kubectl works
    /// against, scheduling with any registered scheduler
    ///
    /// Keeps its objects in STATE/state.redb (a write is acknowledged only once committed),
    /// writes STATE/admin.kubeconfig for kubectl and STATE/join.kubeconfig for `schedlab
    /// agent`, records every request in STATE/audit.log, and serves /metrics. Runs until
    /// SIGINT or SIGTERM.
    ControlPlane(ControlPlaneArgs),
    /// Manage the control plane's bearer tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run a node agent: register a node with the control plane and run the pods bound to
    /// it as real processes
    ///
    /// With the control plane's STATE/join.kubeconfig, the agent exchanges the bootstrap
    /// token for its node's own credential (kept in ROOT/node.token). Memory and CPU limits
    /// are enforced by cgroups where writable, else by sampling (docs/agent.md). Runs until
    /// SIGINT or SIGTERM; its pods keep running and the next agent on ROOT adopts them.
    Agent(AgentArgs),
    /// Print a pod's container log through the control plane (what `kubectl logs` shows)
    Logs(LogsArgs),
}

/// `schedlab agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The kubeconfig: the control plane's STATE/join.kubeconfig, or one with a node token
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: PathBuf,

    /// The node's name
    #[arg(long, value_name = "NODE")]
    pub name: String,

    /// Allocatable CPU, a Kubernetes quantity
    #[arg(long, value_name = "QUANTITY", default_value = "2")]
    pub cpu: String,

    /// Allocatable memory, a Kubernetes quantity
    #[arg(long, value_name = "QUANTITY", default_value = "4Gi")]
    pub memory: String,

    /// Node labels, comma-separated KEY=VALUE
    #[arg(long, value_name = "LABELS", value_parser = parse_labels, value_delimiter = ',')]
    pub labels: Vec<(String, String)>,

    /// The agent's directory: logs, the processes' records, the node token
    /// [default: ./schedlab-agent-NODE]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// How often the node's status is sent
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_std_duration)]
    pub heartbeat: std::time::Duration,

    /// The first crash-loop back-off delay (doubling up to 30 times it)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_std_duration)]
    pub backoff: std::time::Duration,

    /// Enforce memory limits by sampling the processes' memory even where cgroups work
    #[arg(long)]
    pub sampling: bool,
}

fn parse_labels(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{s:?}: expected KEY=VALUE"))
}

/// `schedlab logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The pod's name
    #[arg(value_name = "POD")]
    pub pod: String,

    /// The kubeconfig (the control plane's STATE/admin.kubeconfig, say)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: PathBuf,

    /// The pod's namespace
    #[arg(long, short = 'n', value_name = "NS", default_value = "default")]
    pub namespace: String,

    /// The container [default: the pod's first]
    #[arg(long, short = 'c', value_name = "NAME")]
    pub container: Option<String>,
}

/// `schedlab control-plane`.
#[derive(Debug, Args)]
pub struct ControlPlaneArgs {
    /// Address to listen on (port 0 picks a free one, printed at start)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6443")]
    pub listen: std::net::SocketAddr,

    /// The state directory (created owner-only on first start)
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,

    /// The scheduler: a registered algorithm with arguments (`tetris:cpuWeight=2`), a
    /// profile of --scheduler-config, or exec:PATH
    #[arg(long, value_name = "NAME", default_value = "kube-default")]
    pub scheduler: String,

    /// A KubeSchedulerConfiguration file whose profiles --scheduler can name
    #[arg(long, value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,

    /// How long a node may go without a heartbeat before it is NotReady
    #[arg(long, value_name = "DURATION", default_value = "40s", value_parser = parse_std_duration)]
    pub node_monitor_grace_period: std::time::Duration,

    /// How long pods tolerate a NotReady or unreachable node before eviction, unless they
    /// say otherwise (DefaultTolerationSeconds)
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub default_toleration_seconds: u64,
}

fn parse_std_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = parse_duration(s).map_err(|e| e.to_string())?;
    Ok(std::time::Duration::from_micros(t.as_micros()))
}

/// `schedlab token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token bound to a role and print it
    Create(TokenCreateArgs),
}

/// `schedlab token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The control plane's state directory
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,

    /// admin, editor, viewer, node or bootstrap
    #[arg(long, value_name = "ROLE")]
    pub role: String,

    /// The namespace of an editor or viewer
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The node of a node token
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,

    /// The user name the audit log shows [default: from the role]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Also write a kubeconfig using the token to FILE
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

/// `schedlab view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// A run's folder, OUT/<scenario>/<scheduler>/seed-<N>
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,

    /// Where to write the page [default: RUN_DIR/view.html]
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `schedlab plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The scenario file
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,

    /// The node pool to size (a `cluster.nodePools[].name`); repeat to plan several, each
    /// alone with the others at their scenario counts
    #[arg(long = "pool", value_name = "NAME", required = true)]
    pub pools: Vec<String>,

    /// The objective every seed's run must meet: comma-separated METRIC OP VALUE terms, OP
    /// one of <= < >= > ==, e.g. "p99_latency<=30s,pending_at_end==0,availability>=0.999";
    /// METRIC is p99_latency, p95_latency, p50_latency, p99_queue_delay, pending_at_end,
    /// availability, dropped_requests, cost, or any numeric column of summary.csv
    #[arg(long, value_name = "OBJECTIVE", value_parser = crate::slo::parse)]
    pub slo: crate::slo::Slo,

    /// The smallest count to consider
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min: u32,

    /// The largest count to consider [default: 4 times the pool's count, or its
    /// autoscaling max if larger, at least 1]
    #[arg(long, value_name = "M")]
    pub max: Option<u32>,

    /// Seeds every probe runs: N for seeds 1 to N, A..B for A to B [default: the
    /// scenario's `seeds:`, else 1 to 3]
    #[arg(long, value_name = "N|A..B", value_parser = crate::sweep::parse_seed_list)]
    pub seeds: Option<crate::sweep::SeedList>,

    /// The scheduler, as NAME or NAME:ARG=VALUE,... [default: the first of the scenario's
    /// `schedulers:`, else first-fit]
    #[arg(long, value_name = "SPEC")]
    pub scheduler: Option<String>,

    /// A kube-scheduler configuration whose profiles become schedulers named by their
    /// schedulerName, for --scheduler
    #[arg(long, value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,

    /// Directory to write plan.csv and the charts to
    #[arg(long, short = 'o', value_name = "DIR", default_value = "results/plan")]
    pub out: PathBuf,

    /// Runs to execute at once [default: one per CPU core]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// What the command line adds to the scenario, as for `run`.
    #[command(flatten)]
    pub load: LoadArgs,

    /// Limits on the work of one run, checked before each probe.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `schedlab export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The scenario file
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,

    /// The simulated time whose state to write: every event up to and including it has
    /// happened (90s, 5m, 1h30m, ...)
    #[arg(long, value_name = "TIME", default_value = "0s", value_parser = parse_duration)]
    pub at: SimTime,

    /// The scheduler, as NAME or NAME:ARG=VALUE,... [default: the first of the scenario's
    /// `schedulers:`, else first-fit]
    #[arg(long, value_name = "SPEC")]
    pub scheduler: Option<String>,

    /// A kube-scheduler configuration whose profiles become schedulers named by their
    /// schedulerName, for --scheduler
    #[arg(long, value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,

    /// Seed to run with [default: the scenario's `seed:`]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// File to write the List to [default: standard output]
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// What the command line adds to the scenario, as for `run`.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// `schedlab report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The output folder of a `schedlab run`
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
}

/// `schedlab run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files, or directories whose *.yaml and *.yml files are all run (sorted, not
    /// recursive) [default: scenarios/]
    #[arg(value_name = "SCENARIO|DIR")]
    pub paths: Vec<PathBuf>,

    /// Scheduler to run, as NAME or NAME:ARG=VALUE,... (e.g. tetris:cpuWeight=2; `schedlab
    /// schedulers` lists each one's arguments); repeat for several [default: each
    /// scenario's `schedulers:` list, else first-fit]. `exec:PATH` runs an external program
    /// speaking the schedlab-exec/1 protocol (docs/exec-protocol.md)
    #[arg(long = "scheduler", value_name = "SPEC")]
    pub schedulers: Vec<String>,

    /// How long an `exec:` scheduler may take to answer one message before its run fails
    /// (500ms, 10s, 2m, ...); the first answer (the hello) gets at least 10s
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_timeout)]
    pub exec_timeout: std::time::Duration,

    /// Seed to run; repeat for several [default: each scenario's `seed:`]
    #[arg(long = "seed", value_name = "N")]
    pub seeds: Vec<u64>,

    /// What the command line adds to every scenario it loads.
    #[command(flatten)]
    pub load: LoadArgs,

    /// Seeds to run: N for seeds 1 to N (`--seeds 20`), A..B for A to B, both included
    /// (`--seeds 42..51`); repeatable, and added to any --seed
    #[arg(long = "seeds", value_name = "N|A..B", value_parser = crate::sweep::parse_seed_list)]
    pub seed_lists: Vec<crate::sweep::SeedList>,

    /// Override a scenario value by its YAML path, once per value: PATH=V1,V2,... (e.g.
    /// cluster.nodePools.general.count=20,40,80; in a list, a segment is an index or an
    /// element's name); repeat for a cartesian product. Each value is a column of
    /// summary.csv and part of the run's folder name
    #[arg(long = "set", value_name = "PATH=V1,V2,...", value_parser = crate::sweep::parse_override)]
    pub sets: Vec<crate::sweep::Override>,

    /// Directory to write results to: summary.csv, and
    /// <scenario>/<scheduler>/seed-<N>/{summary,timeseries}.csv per run
    #[arg(long, short = 'o', value_name = "DIR", default_value = "results")]
    pub out: PathBuf,

    /// Runs to execute at once [default: one per CPU core]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Also write every pod event (created, bound to which node, unschedulable and why,
    /// started, finished) to trace.csv in each run's directory; for small scenarios
    #[arg(long)]
    pub trace: bool,

    /// Also write view.html in each run's directory: a self-contained page replaying the
    /// run (implies --trace; for kube-default it explains each placement, replaying the
    /// run up to it); see `schedlab view`
    #[arg(long)]
    pub view: bool,

    /// A kube-scheduler configuration (KubeSchedulerConfiguration, apiVersion
    /// kubescheduler.config.k8s.io/v1) whose profiles become schedulers named by their
    /// schedulerName, for --scheduler and scenarios' `schedulers:` lists
    #[arg(long, value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,

    /// The scheduler stats.csv compares the others against, paired by seed [default: the
    /// first scheduler listed]
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,

    /// Rerun the sweep an OUT/manifest.json describes, with its arguments (only --out is
    /// taken from this command line), refusing if a file it read has changed since
    #[arg(long, value_name = "MANIFEST", conflicts_with_all = ["paths", "schedulers", "seeds", "seed_lists", "sets"])]
    pub from: Option<PathBuf>,

    /// Run only the K-th (1-based) of N deterministic slices of the sweep (run i of the
    /// plan goes to slice i mod N + 1); `schedlab merge` puts the slices' outputs back
    /// together. Without it, a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (with
    /// --shards) or a Slurm array's SLURM_ARRAY_TASK_ID picks the slice; --shard 1/1 runs
    /// everything
    #[arg(long, value_name = "K/N", value_parser = crate::shard::parse_shard)]
    pub shard: Option<crate::shard::Shard>,

    /// The number of slices when JOB_COMPLETION_INDEX (0-based) or SLURM_ARRAY_TASK_ID
    /// picks this one: the Indexed Job's completions (Slurm's SLURM_ARRAY_TASK_COUNT
    /// otherwise)
    #[arg(long, value_name = "N", value_parser = crate::shard::parse_count)]
    pub shards: Option<usize>,

    /// Limits on the work of one run, checked before it starts.
    #[command(flatten)]
    pub limits: LimitArgs,

    /// Safety nets checked while a run plays.
    #[command(flatten)]
    pub safety: SafetyArgs,
}

/// What the command line adds to every scenario a command loads.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Kubernetes manifest file or directory added to every scenario's `manifests:`
    /// (Deployments, StatefulSets, Jobs, Pods, Nodes, ...); repeatable
    #[arg(long = "manifests", value_name = "PATH")]
    pub manifests: Vec<PathBuf>,

    /// Read every trace as if it said `strict: true`: the first row that cannot be read
    /// is an error naming its file, line and column, instead of being skipped and counted
    #[arg(long)]
    pub strict: bool,
}

impl LoadArgs {
    /// The loader's options these flags set.
    pub fn options(&self) -> sim::LoadOptions {
        sim::LoadOptions {
            manifests: self.manifests.clone(),
            strict: self.strict,
        }
    }
}

/// `schedlab merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' output directories (each a `run --shard K/N --out DIR`), in any order
    #[arg(value_name = "SHARD_DIR", required = true)]
    pub shards: Vec<PathBuf>,

    /// Directory to write the merged result to; must not be one of the shards
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,

    /// Move the run folders out of the shards instead of copying them (fast on one file
    /// system; the shards are left without their run folders)
    #[arg(long = "move")]
    pub move_runs: bool,
}

/// Limits on the work one run may do, estimated from the scenario before anything runs
/// (`schedlab validate` prints the estimate); a run estimated above any of them is refused
/// with the estimate and the flag that raises the limit. Shared by `run` and `validate`, so
/// that `validate` refuses what `run` would.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Refuse a run expected to create more pods than this; a run that creates more anyway
    /// fails when it does
    #[arg(long, value_name = "N", default_value_t = sim::Limits::DEFAULT_MAX_PODS)]
    pub max_pods: u64,

    /// Refuse a run expected to process more engine events than this; a run that processes
    /// more anyway fails when it does
    #[arg(long, value_name = "N", default_value_t = sim::Limits::DEFAULT_MAX_EVENTS)]
    pub max_events: u64,

    /// Refuse a run whose time series would have more rows than this (`duration:` divided
    /// by `sampleInterval:`)
    #[arg(long, value_name = "N", default_value_t = sim::Limits::DEFAULT_MAX_SAMPLES)]
    pub max_samples: u64,

    /// Refuse a run whose estimated memory is above this, as a Kubernetes quantity (8Gi,
    /// 512Mi, 2G) [default: half of this machine's memory, from /proc/meminfo, else 8Gi]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// Per-run safety nets for runs that go on longer than expected: either one ends the run as
/// a failure (the other runs of the sweep finish). Neither changes what a run computes: a
/// run either completes with the same results or fails.
#[derive(Debug, Args)]
pub struct SafetyArgs {
    /// Fail a run whose simulated time goes past this (90s, 10m, 24h, ...)
    #[arg(long, value_name = "TIME", value_parser = parse_timeout_sim)]
    pub max_sim_time: Option<SimTime>,

    /// Fail a run that takes longer than this in wall-clock time (30s, 10m, ...) [default:
    /// none]
    #[arg(long, value_name = "TIME", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
}

/// A positive simulated duration (`--max-sim-time`).
fn parse_timeout_sim(s: &str) -> Result<SimTime, String> {
    parse_timeout(s).map(|d| SimTime::from_micros(d.as_micros().try_into().unwrap_or(u64::MAX)))
}

/// A positive amount of memory as a Kubernetes quantity (`8Gi`, `512Mi`, `2G`), in bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let bytes = schedulers::quantity::parse_bytes(s).map_err(|e| e.to_string())?;
    match u64::try_from(bytes) {
        Ok(b) if b > 0 => Ok(b),
        _ => Err("the size must be larger than zero".to_string()),
    }
}

/// A positive duration in the scenario syntax (`500ms`, `10s`, `1m`).
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let time = parse_duration(s).map_err(|e| e.to_string())?;
    if time == SimTime::ZERO {
        return Err("the timeout must be longer than zero".to_string());
    }
    Ok(std::time::Duration::from_micros(time.as_micros()))
}

/// `schedlab validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files, or directories whose *.yaml and *.yml files are all checked (sorted,
    /// not recursive)
    #[arg(value_name = "FILE|DIR", required = true)]
    pub paths: Vec<PathBuf>,

    /// What the command line adds to every scenario it checks, as `run` would.
    #[command(flatten)]
    pub load: LoadArgs,

    /// The limits `run` would apply.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `schedlab explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The scenario file
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,

    /// The pod to explain: a workload's name for a single pod, else NAME-0, NAME-1, ...
    #[arg(long, value_name = "NAME")]
    pub pod: String,

    /// The scheduler whose decision to explain, as NAME or NAME:ARG=VALUE,... (only
    /// framework profiles explain themselves)
    #[arg(long, value_name = "SPEC", default_value = "kube-default")]
    pub scheduler: String,

    /// Explain the pod's first scheduling attempt at or after this simulated time (90s,
    /// 5m, 1h30m, ...)
    #[arg(long, value_name = "TIME", default_value = "0s", value_parser = parse_duration)]
    pub at: SimTime,

    /// Seed to run with [default: the scenario's `seed:`]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Print one JSON object instead of a table
    #[arg(long)]
    pub json: bool,

    /// A kube-scheduler configuration (KubeSchedulerConfiguration, apiVersion
    /// kubescheduler.config.k8s.io/v1) whose profiles become schedulers named by their
    /// schedulerName, for --scheduler
    #[arg(long, value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,

    /// What the command line adds to the scenario, as for `run`.
    #[command(flatten)]
    pub load: LoadArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
