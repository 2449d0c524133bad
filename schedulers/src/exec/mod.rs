//! `exec:PATH`: a scheduler written in any language, run as a separate program that speaks
//! schedlab's JSON-lines protocol (`schedlab-exec/1`, documented in docs/exec-protocol.md)
//! on its stdin and stdout.
//!
//! The shape follows kube-scheduler's scheduler extenders (an outside process asked for a
//! decision with the pod and the nodes, answering in JSON) and Kubernetes' "multiple
//! schedulers" (a custom scheduler binds pods itself), reduced to a pipe: schedlab sends
//! the cluster once, then only the nodes whose generation changed (kube-scheduler's
//! NodeInfo generation, [`ClusterState::generations`]), and the program answers with one
//! decision per pending pod.
//!
//! The program is started at the first cycle and lives for the whole run. Anything it does
//! wrong (crashing, hanging past the timeout, answering garbage, naming a pod or node that
//! does not exist, a binding the cluster refuses) is a protocol error: the scheduler stops
//! deciding, reports the error through [`Scheduler::failure`], and the host ends the run.

mod process;
mod protocol;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cluster::ClusterState;
use crate::node::NodeId;
use crate::pod::PodId;
use crate::scheduler::{Cycle, Diagnosis, Scheduler};

pub use process::kill_all_programs;
use process::{ExchangeError, Process};
pub use protocol::PROTOCOL;

/// The prefix of scheduler names that run an external program: `exec:PATH`.
pub const PREFIX: &str = "exec:";

/// How long the program may take to answer one message unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The least time the program gets to answer the hello, whatever the timeout: starting an
/// interpreter or a JVM on a busy machine can take seconds, and the timeout is meant for
/// the answers to cycles.
pub const MIN_HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest piece of a line quoted in an error message, in characters.
const QUOTE_CHARS: usize = 200;

/// Refuses an `exec:` program that cannot be started: empty, missing, a directory, or
/// (on Unix) without an execute permission bit.
pub fn check_program(program: &Path) -> Result<(), String> {
    if program.as_os_str().is_empty() {
        return Err(format!(
            "give the program's path after \"{PREFIX}\" (e.g. {PREFIX}examples/exec/first_fit.py)"
        ));
    }
    let metadata = std::fs::metadata(program)
        .map_err(|e| format!("cannot use program {}: {e}", program.display()))?;
    if !metadata.is_file() {
        return Err(format!("{} is not a file", program.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o111 == 0 {
            return Err(format!(
                "{} is not executable (chmod +x it, and start it with a #! line)",
                program.display()
            ));
        }
    }
    Ok(())
}

/// A scheduler that asks an external program (see the module docs).
pub struct ExecScheduler {
    /// `exec:PATH`, as the user wrote it: what errors and results call it.
    name: String,
    program: PathBuf,
    timeout: Duration,
    process: Option<Process>,
    failure: Option<String>,
    /// Sequence number of the next message (0 is the hello).
    seq: u64,
    /// The cluster whose nodes were sent ([`ClusterState::uid`]); another one means a
    /// full snapshot again.
    cluster_uid: Option<u64>,
    /// Per node id: the generation last sent, or `None` if the program does not know the
    /// node (never sent, or sent as removed).
    sent: Vec<Option<u64>>,
    /// The nodes the program knows, by name, for its answers; kept up to date as nodes
    /// are sent and removed. The first node of a name wins, as in the scenario loader.
    node_by_name: BTreeMap<String, NodeId>,
    /// This cycle's pending pods sorted by name (the first `pending_len` entries), and
    /// whether each got a decision already. The strings are reused from cycle to cycle.
    pending_by_name: Vec<(String, PodId, bool)>,
    pending_len: usize,
}

impl ExecScheduler {
    /// A scheduler named `name` (normally `exec:PATH`) that will run `program`, waiting at
    /// most `timeout` for each answer. Nothing starts until the first cycle.
    pub fn new(name: impl Into<String>, program: impl Into<PathBuf>, timeout: Duration) -> Self {
        ExecScheduler {
            name: name.into(),
            program: program.into(),
            timeout,
            process: None,
            failure: None,
            seq: 0,
            cluster_uid: None,
            sent: Vec::new(),
            node_by_name: BTreeMap::new(),
            pending_by_name: Vec::new(),
            pending_len: 0,
        }
    }

    /// The program this scheduler runs.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Starts the program and checks that it speaks our protocol version.
    fn start(&mut self, cluster: &ClusterState) -> Result<(), String> {
        let process = Process::spawn(&self.program)
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        self.process = Some(process);
        let line = protocol::hello(&self.name, cluster);
        let sent = SentMessage {
            kind: "hello",
            seq: 0,
            detail: String::new(),
            line: &line,
        };
        let timeout = self.timeout.max(MIN_HELLO_TIMEOUT);
        let answer = self.exchange(&sent, line.clone(), timeout)?;
        protocol::parse_hello(&answer).map_err(|e| sent.bad_answer(&answer, &e))?;
        self.seq = 1;
        Ok(())
    }

    /// Sends one message and returns the answer line, or the error naming `sent`.
    fn exchange(
        &mut self,
        sent: &SentMessage<'_>,
        line: Vec<u8>,
        timeout: Duration,
    ) -> Result<String, String> {
        let Some(process) = self.process.as_mut() else {
            return Err(format!("{}: the program is not running", sent.describe()));
        };
        match process.exchange(line, timeout) {
            Ok(answer) => Ok(answer),
            Err(ExchangeError::Timeout) => Err(format!(
                "no answer to {} within {}; the program was killed (raise the limit with --exec-timeout)",
                sent.describe(),
                seconds(timeout)
            )),
            Err(ExchangeError::Read(e)) => Err(format!(
                "cannot read the answer to {}: {e}",
                sent.describe()
            )),
            Err(ExchangeError::Exited {
                status,
                write_error,
            }) => {
                let how = match status {
                    Some(status) => format!("the program exited ({status})"),
                    None => {
                        "the program closed its output without exiting and was killed".to_string()
                    }
                };
                let mut message = format!("{how} instead of answering {}", sent.describe());
                if let Some(e) = write_error {
                    message.push_str(&format!(" (writing the message failed: {e})"));
                }
                let tail = process.stderr_tail();
                if tail.is_empty() {
                    message.push_str("; it wrote nothing to stderr");
                } else {
                    message.push_str("; the end of its stderr:\n");
                    message.push_str(&indent(&tail));
                }
                Err(message)
            }
        }
    }

    /// Fills [`ExecScheduler::pending_by_name`] with this cycle's pods, sorted by name
    /// (stably, so of two pods with the same name the first in queue order is found).
    fn index_pending(&mut self, cycle: &Cycle<'_>) {
        use std::fmt::Write;
        let pending = cycle.pending();
        if self.pending_by_name.len() < pending.len() {
            self.pending_by_name
                .resize_with(pending.len(), || (String::new(), PodId::default(), false));
        }
        let mut len = 0;
        for &pod in pending {
            if let Some(p) = cycle.cluster().pod(pod) {
                let entry = &mut self.pending_by_name[len];
                entry.0.clear();
                let _ = write!(entry.0, "{}", p.name());
                entry.1 = pod;
                entry.2 = false;
                len += 1;
            }
        }
        self.pending_len = len;
        self.pending_by_name[..len].sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// The pending pod named `name`, if any.
    fn pending_entry(&mut self, name: &str) -> Option<&mut (String, PodId, bool)> {
        let pods = &mut self.pending_by_name[..self.pending_len];
        let i = pods.partition_point(|(n, _, _)| n.as_str() < name);
        pods.get_mut(i).filter(|(n, _, _)| n == name)
    }

    /// One cycle of the protocol; an error string on any protocol error.
    fn run_cycle(&mut self, cycle: &mut Cycle<'_>) -> Result<(), String> {
        if self.process.is_none() {
            self.start(cycle.cluster())?;
        }
        let cluster = cycle.cluster();
        let full = self.cluster_uid != Some(cluster.uid());
        if full {
            self.cluster_uid = Some(cluster.uid());
            self.sent.clear();
            self.node_by_name.clear();
        }
        let seq = self.seq;
        self.seq += 1;
        let (line, changed, removed) = protocol::cycle_message(
            seq,
            cycle.now_micros(),
            full,
            cluster,
            cycle.pending(),
            &mut self.sent,
            &mut self.node_by_name,
        );
        self.index_pending(cycle);
        let sent = SentMessage {
            kind: "cycle",
            seq,
            detail: format!(
                " at t={}, {} pending pod(s), {changed} node(s) sent, {removed} removed",
                seconds(Duration::from_micros(cycle.now_micros())),
                cycle.pending().len()
            ),
            line: &line,
        };
        let answer = self.exchange(&sent, line.clone(), self.timeout)?;
        let decisions =
            protocol::parse_decisions(&answer, seq).map_err(|e| sent.bad_answer(&answer, &e))?;
        for (index, decision) in decisions.into_iter().enumerate() {
            let what = |e: String| {
                sent.bad_answer(
                    &answer,
                    &format!("decisions[{index}] (pod \"{}\"): {e}", decision.pod),
                )
            };
            let Some((_, pod, decided)) = self.pending_entry(&decision.pod) else {
                return Err(what("no such pod is pending in this cycle".to_string()));
            };
            if *decided {
                return Err(what("a second decision for the same pod".to_string()));
            }
            *decided = true;
            let pod = *pod;
            match decision.outcome {
                protocol::Outcome::Node(name) => {
                    let Some(&node) = self.node_by_name.get(&name) else {
                        return Err(what(format!("no node named \"{name}\" is in the cluster")));
                    };
                    cycle.bind(pod, node).map_err(|e| {
                        what(format!("the cluster refused to bind it to \"{name}\": {e}"))
                    })?;
                }
                protocol::Outcome::Unschedulable(reasons) => {
                    // The node count is ours, so the message reads as kube-scheduler's
                    // whatever the program counted.
                    let diagnosis =
                        Diagnosis::from_counts(cycle.cluster().ready_node_count() as u32, reasons);
                    cycle.unschedulable(pod, diagnosis);
                }
            }
        }
        Ok(())
    }
}

impl Scheduler for ExecScheduler {
    fn name(&self) -> &str {
        &self.name
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        if self.failure.is_some() {
            return;
        }
        if let Err(error) = self.run_cycle(cycle) {
            self.failure = Some(format!("{}: {error}", self.name));
            // The program is in an unknown state: make sure it is gone.
            if let Some(mut process) = self.process.take() {
                process.kill();
            }
        }
    }

    fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
}

/// What schedlab sent, for error messages.
struct SentMessage<'a> {
    kind: &'static str,
    seq: u64,
    /// What the message carried, in words (starts with a space, or is empty).
    detail: String,
    line: &'a [u8],
}

impl SentMessage<'_> {
    /// `message #3 ("cycle" at t=60s, ...): {"type":"cycle",...`, the line truncated.
    fn describe(&self) -> String {
        let line = String::from_utf8_lossy(self.line);
        format!(
            "message #{} (\"{}\"{}) {}",
            self.seq,
            self.kind,
            self.detail,
            quote(line.trim_end())
        )
    }

    /// The error for an answer that is not what the protocol allows.
    fn bad_answer(&self, answer: &str, error: &str) -> String {
        format!(
            "bad answer to {}: {error}; the answer was {}",
            self.describe(),
            quote(answer)
        )
    }
}

/// A line in backquotes, cut at [`QUOTE_CHARS`] characters.
fn quote(line: &str) -> String {
    let mut chars = line.chars();
    let cut: String = chars.by_ref().take(QUOTE_CHARS).collect();
    if chars.next().is_some() {
        format!("`{cut}...` ({} bytes)", line.len())
    } else {
        format!("`{cut}`")
    }
}

/// `10s`, `0.5s`: a duration as the user would write it for `--exec-timeout`.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
