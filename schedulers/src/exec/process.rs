//! The external program as a child process: one line out, one line back, within a time
//! limit, whatever the program does.
//!
//! Three helper threads keep the main thread from ever blocking on the child: a writer
//! (a program that stops reading its input would otherwise block us once the pipe buffer
//! is full), a line reader (so an answer can be awaited with a timeout) and a stderr
//! reader (a program that writes a lot of diagnostics must not fill its stderr pipe and
//! stall; we keep the tail to quote when it fails).
//!
//! On Unix the program runs in a process group of its own, and every way a run can end
//! (normally, on a timeout, on a protocol error, on drop, or through [`kill_all_programs`]
//! when the host is interrupted) kills that whole group, so that a grandchild the program
//! started cannot outlive the run either. A program in its own group no longer gets the
//! terminal's Ctrl-C; the host has to call [`kill_all_programs`] from its signal handling.
//! A process that leaves the group (`setsid`, a daemon) escapes this; so does every
//! program if the host is killed with SIGKILL.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How much of the program's stderr is kept to quote in errors.
const STDERR_TAIL_BYTES: usize = 2048;

/// The longest answer line accepted: a program that writes without ever ending its line
/// must not exhaust our memory.
const MAX_LINE_BYTES: u64 = 256 << 20;

/// How long to wait for a program that closed its output to exit, before killing it.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// The process groups of the programs running now (their leaders' ids), and whether the
/// host is stopping. One list per process, because signals are per process.
static PROGRAMS: Mutex<Programs> = Mutex::new(Programs {
    stopping: false,
    leaders: Vec::new(),
});

struct Programs {
    /// Set by [`kill_all_programs`]: no program starts after that.
    stopping: bool,
    /// Process ids of the running programs, each the leader of its own group.
    leaders: Vec<u32>,
}

/// Kills every external program this process started that is still running, each with its
/// whole process group, and refuses to start any program from now on. Meant for a host
/// that was interrupted (SIGINT, SIGTERM): the runs waiting on a program then fail at
/// once (their programs closed their output) instead of after their timeout. Cannot be
/// undone; call it only when the process is about to stop.
pub fn kill_all_programs() {
    let mut programs = PROGRAMS.lock().unwrap_or_else(PoisonError::into_inner);
    programs.stopping = true;
    for &leader in &programs.leaders {
        // Each leader is still unreaped while it is listed (`Process::kill` takes it off
        // the list before reaping it), so its id cannot have been reused.
        kill_group(leader);
    }
}

/// Sends SIGKILL to every process of the group whose leader is `leader`. Errors (the
/// group is already empty) are ignored: the point is that nothing of it is left.
#[cfg(unix)]
fn kill_group(leader: u32) {
    use rustix::process::{Pid, Signal, kill_process_group};
    if let Some(pid) = i32::try_from(leader).ok().and_then(Pid::from_raw) {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

/// Without process groups, [`Process::kill`] kills the program itself.
#[cfg(not(unix))]
fn kill_group(_leader: u32) {}

/// Whether the program has exited, without reaping it: while it is a zombie its process
/// id (which is also its group's id) stays taken, so killing the group afterwards cannot
/// hit an unrelated group that was given the same number.
#[cfg(target_os = "linux")]
fn has_exited(child: &mut Child) -> bool {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    // An error (there is no such child) counts as exited, so the caller stops waiting.
    !matches!(
        waitid(WaitId::Pid(Pid::from_child(child)), options),
        Ok(None)
    )
}

/// Elsewhere `try_wait` reaps the program; its group is killed right after, which leaves
/// only a tiny window for its id to be reused.
#[cfg(not(target_os = "linux"))]
fn has_exited(child: &mut Child) -> bool {
    !matches!(child.try_wait(), Ok(None))
}

/// A running external program.
pub(crate) struct Process {
    child: Child,
    /// Set once the program has been killed and reaped: its group must never be signalled
    /// again, since its id may since have been given to another process.
    reaped: Option<Option<ExitStatus>>,
    /// Lines to write to the program's stdin; dropping it closes stdin.
    to_writer: Option<Sender<Vec<u8>>>,
    /// The first error the writer thread met, if any.
    write_error: Arc<Mutex<Option<String>>>,
    /// Lines the program wrote to stdout; disconnected at end of file.
    lines: Receiver<Result<String, String>>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    stderr_thread: Option<JoinHandle<()>>,
}

/// Why no answer came back.
pub(crate) enum ExchangeError {
    /// The program closed its output (it exited or crashed).
    Exited {
        /// Its exit status, if it exited within the grace period.
        status: Option<ExitStatus>,
        /// The write error, if writing the message failed first.
        write_error: Option<String>,
    },
    /// No answer within the time limit; the program has been killed.
    Timeout,
    /// Reading the answer failed (e.g. it was not UTF-8).
    Read(String),
}

impl Process {
    /// Starts `program` with piped stdin, stdout and stderr, in a process group of its own
    /// (on Unix). Refused once [`kill_all_programs`] has been called.
    pub(crate) fn spawn(program: &Path) -> std::io::Result<Process> {
        // A bare `first_fit.py` would be looked up on PATH; the user meant this directory.
        let program = if program.is_relative() {
            Path::new(".").join(program)
        } else {
            program.to_path_buf()
        };
        let mut command = Command::new(&program);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Group id = the program's own id: the group can be killed as one.
            command.process_group(0);
        }
        // Starting and listing happen under the lock, so `kill_all_programs` either sees
        // the new program or has already stopped it from starting.
        let mut child = {
            let mut programs = PROGRAMS.lock().unwrap_or_else(PoisonError::into_inner);
            if programs.stopping {
                return Err(std::io::Error::other(
                    "schedlab is being interrupted and starts no more programs",
                ));
            }
            let child = command.spawn()?;
            programs.leaders.push(child.id());
            child
        };
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        // From here on, an early return drops `process`, which kills the program.
        let mut process = Process::bare(child);
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            return Err(std::io::Error::other("the child's pipes were not set up"));
        };

        let (to_writer, from_main) = mpsc::channel::<Vec<u8>>();
        let slot = Arc::clone(&process.write_error);
        thread::Builder::new()
            .name("schedlab-exec-writer".into())
            .spawn(move || write_loop(stdin, from_main, slot))?;
        process.to_writer = Some(to_writer);

        let (to_main, lines) = mpsc::channel();
        thread::Builder::new()
            .name("schedlab-exec-reader".into())
            .spawn(move || read_loop(stdout, to_main))?;
        process.lines = lines;

        let tail = Arc::clone(&process.stderr_tail);
        let stderr_thread = thread::Builder::new()
            .name("schedlab-exec-stderr".into())
            .spawn(move || stderr_loop(stderr, tail))?;
        process.stderr_thread = Some(stderr_thread);
        Ok(process)
    }

    /// A started program with no helper threads yet, so that an early error still kills
    /// it (through `Drop`).
    fn bare(child: Child) -> Process {
        Process {
            child,
            reaped: None,
            to_writer: None,
            write_error: Arc::new(Mutex::new(None)),
            lines: mpsc::channel().1,
            stderr_tail: Arc::new(Mutex::new(Vec::new())),
            stderr_thread: None,
        }
    }

    /// Sends one line (`line` ends with `\n`) and waits at most `timeout` for one line back
    /// (returned without its line ending).
    pub(crate) fn exchange(
        &mut self,
        line: Vec<u8>,
        timeout: Duration,
    ) -> Result<String, ExchangeError> {
        // A failed send means the writer already stopped on an error; the reader then
        // sees the end of the program's output, which is reported below.
        if let Some(to_writer) = &self.to_writer {
            let _ = to_writer.send(line);
        }
        match self.lines.recv_timeout(timeout) {
            Ok(Ok(mut answer)) => {
                while answer.ends_with('\n') || answer.ends_with('\r') {
                    answer.pop();
                }
                Ok(answer)
            }
            Ok(Err(error)) => {
                self.kill();
                Err(ExchangeError::Read(error))
            }
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(ExchangeError::Timeout)
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.wait_exit(EXIT_GRACE);
                let write_error = self.write_error.lock().ok().and_then(|mut e| e.take());
                Err(ExchangeError::Exited {
                    status,
                    write_error,
                })
            }
        }
    }

    /// The exit status once the program exits within `grace`; otherwise it is killed and
    /// `None` returned. Either way its whole group is killed: a grandchild may still hold
    /// on after the program itself exited.
    fn wait_exit(&mut self, grace: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        loop {
            if has_exited(&mut self.child) {
                return self.kill();
            }
            if started.elapsed() >= grace {
                self.kill();
                return None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// The last lines the program wrote to stderr (at most [`STDERR_TAIL_BYTES`]), trimmed.
    /// Waits briefly for the stderr reader to drain what the program wrote before it ended.
    pub(crate) fn stderr_tail(&mut self) -> String {
        if let Some(handle) = self.stderr_thread.take() {
            let started = Instant::now();
            while !handle.is_finished() && started.elapsed() < Duration::from_millis(500) {
                thread::sleep(Duration::from_millis(5));
            }
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default();
        tail.trim().to_string()
    }

    /// Kills the program with its whole process group and reaps it; returns how it ended
    /// (its own exit status if it had exited already). Harmless if called again.
    pub(crate) fn kill(&mut self) -> Option<ExitStatus> {
        self.to_writer = None;
        if let Some(status) = self.reaped {
            return status;
        }
        let leader = self.child.id();
        // Off the list first, so that `kill_all_programs` never signals a group whose
        // leader has been reaped (whose id may be reused).
        PROGRAMS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .leaders
            .retain(|&l| l != leader);
        kill_group(leader);
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        self.reaped = Some(status);
        status
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing stdin first lets a well-behaved program see the end of input; killing
        // right after makes sure no program, nor anything it started, outlives its run.
        self.kill();
    }
}

fn write_loop(mut stdin: ChildStdin, lines: Receiver<Vec<u8>>, error: Arc<Mutex<Option<String>>>) {
    for line in lines {
        if let Err(e) = stdin.write_all(&line).and_then(|()| stdin.flush()) {
            if let Ok(mut slot) = error.lock() {
                *slot = Some(e.to_string());
            }
            return;
        }
    }
}

fn read_loop(stdout: impl Read, to_main: Sender<Result<String, String>>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut line = String::new();
        match reader.by_ref().take(MAX_LINE_BYTES).read_line(&mut line) {
            Ok(0) => return,
            Ok(n) if n as u64 == MAX_LINE_BYTES && !line.ends_with('\n') => {
                let _ = to_main.send(Err(format!(
                    "the answer is longer than {} MiB without a line end",
                    MAX_LINE_BYTES >> 20
                )));
                return;
            }
            Ok(_) => {
                if to_main.send(Ok(line)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = to_main.send(Err(e.to_string()));
                return;
            }
        }
    }
}

fn stderr_loop(mut stderr: impl Read, tail: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 4096];
    loop {
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut t) = tail.lock() {
                    t.extend_from_slice(&buf[..n]);
                    if t.len() > STDERR_TAIL_BYTES {
                        let cut = t.len() - STDERR_TAIL_BYTES;
                        t.drain(..cut);
                    }
                }
            }
        }
    }
}
