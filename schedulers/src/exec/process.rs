//! The external program as a child process: one line out, one line back, within a time
//! limit, whatever the program does.
//!
//! Three helper threads keep the main thread from ever blocking on the child: a writer
//! (a program that stops reading its input would otherwise block us once the pipe buffer
//! is full), a line reader (so an answer can be awaited with a timeout) and a stderr
//! reader (a program that writes a lot of diagnostics must not fill its stderr pipe and
//! stall; we keep the tail to quote when it fails).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How much of the program's stderr is kept to quote in errors.
const STDERR_TAIL_BYTES: usize = 2048;

/// The longest answer line accepted: a program that writes without ever ending its line
/// must not exhaust our memory.
const MAX_LINE_BYTES: u64 = 256 << 20;

/// How long to wait for a program that closed its output to exit, before killing it.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A running external program.
pub(crate) struct Process {
    child: Child,
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
    /// Starts `program` with piped stdin, stdout and stderr.
    pub(crate) fn spawn(program: &Path) -> std::io::Result<Process> {
        // A bare `first_fit.py` would be looked up on PATH; the user meant this directory.
        let program = if program.is_relative() {
            Path::new(".").join(program)
        } else {
            program.to_path_buf()
        };
        let mut child = Command::new(&program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the child's pipes were not set up"));
        };

        let write_error = Arc::new(Mutex::new(None));
        let (to_writer, from_main) = mpsc::channel::<Vec<u8>>();
        let slot = Arc::clone(&write_error);
        thread::Builder::new()
            .name("schedlab-exec-writer".into())
            .spawn(move || write_loop(stdin, from_main, slot))?;

        let (to_main, lines) = mpsc::channel();
        thread::Builder::new()
            .name("schedlab-exec-reader".into())
            .spawn(move || read_loop(stdout, to_main))?;

        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let tail = Arc::clone(&stderr_tail);
        let stderr_thread = thread::Builder::new()
            .name("schedlab-exec-stderr".into())
            .spawn(move || stderr_loop(stderr, tail))?;

        Ok(Process {
            child,
            to_writer: Some(to_writer),
            write_error,
            lines,
            stderr_tail,
            stderr_thread: Some(stderr_thread),
        })
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
    /// `None` returned.
    fn wait_exit(&mut self, grace: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if started.elapsed() < grace => thread::sleep(Duration::from_millis(5)),
                _ => {
                    self.kill();
                    return None;
                }
            }
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

    /// Kills the program and reaps it; harmless if it already exited.
    pub(crate) fn kill(&mut self) {
        self.to_writer = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing stdin first lets a well-behaved program see the end of input; killing
        // right after makes sure no program outlives its run.
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
