//! Stopping `schedlab run` cleanly on SIGINT (Ctrl-C) and SIGTERM.
//!
//! The first signal sets a flag that every running simulation looks at
//! (`Simulation::set_cancel_flag`), so runs in progress stop within milliseconds, and kills
//! the `exec:` programs with their process groups (`schedulers::exec::kill_all_programs`),
//! so runs waiting on one stop at once rather than after their timeout. `run` then starts
//! no new run, discards the runs that did not finish, writes the summary of those that did
//! and exits with 128 + the signal's number (130, 143). A second signal ends the process at
//! once, for a user who does not want to wait even for that.
//!
//! The signal handler itself only writes to a pipe (signal-hook's iterator); everything
//! above runs on an ordinary thread, where locking and logging are allowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crate::cmd::log;

/// Whether, and by which signal, the process was asked to stop.
pub struct Interrupt {
    /// Set on the first signal; shared with every simulation as its cancel flag.
    flag: Arc<AtomicBool>,
    /// The first signal's number, 0 until then.
    signal: Arc<AtomicI32>,
}

impl Interrupt {
    /// Starts listening for SIGINT and SIGTERM. If that fails (which it should not), the
    /// process keeps the default behaviour, dying on the signal, and says so on stderr.
    pub fn install() -> Interrupt {
        let interrupt = Interrupt {
            flag: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicI32::new(0)),
        };
        if let Err(error) = listen(Arc::clone(&interrupt.flag), Arc::clone(&interrupt.signal)) {
            log(format_args!(
                "warning: cannot catch SIGINT and SIGTERM ({error}); an interrupted run may leave .tmp-* folders behind"
            ));
        }
        interrupt
    }

    /// The flag to hand to each simulation: true once a signal arrived.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// Whether a signal arrived.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The signal's name (`SIGINT`, `SIGTERM`), once one arrived.
    pub fn signal_name(&self) -> Option<&'static str> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            n => Some(signal_name(n)),
        }
    }

    /// The shell's convention for a process stopped by a signal: 128 + its number.
    pub fn exit_code(&self) -> u8 {
        let n = self.signal.load(Ordering::SeqCst);
        u8::try_from(128 + n).unwrap_or(1)
    }
}

/// The names of the two signals handled.
fn signal_name(n: i32) -> &'static str {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        if n == SIGINT {
            return "SIGINT";
        }
        if n == SIGTERM {
            return "SIGTERM";
        }
    }
    let _ = n;
    "a signal"
}

/// Starts the thread that waits for the signals.
#[cfg(unix)]
fn listen(flag: Arc<AtomicBool>, signal: Arc<AtomicI32>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("schedlab-signals".into())
        .spawn(move || {
            for n in signals.forever() {
                if flag.load(Ordering::SeqCst) {
                    // The second signal: the user wants out now.
                    schedulers::exec::kill_all_programs();
                    log(format_args!("{}: stopping at once", signal_name(n)));
                    std::process::exit(128 + n);
                }
                // The number first, so whoever sees the flag also sees which signal it was.
                signal.store(n, Ordering::SeqCst);
                flag.store(true, Ordering::SeqCst);
                schedulers::exec::kill_all_programs();
                log(format_args!(
                    "{}: stopping; finished runs are kept, the others discarded (again to quit at once)",
                    signal_name(n)
                ));
            }
        })?;
    Ok(())
}

/// Elsewhere signals keep their default behaviour.
#[cfg(not(unix))]
fn listen(_flag: Arc<AtomicBool>, _signal: Arc<AtomicI32>) -> std::io::Result<()> {
    Ok(())
}
