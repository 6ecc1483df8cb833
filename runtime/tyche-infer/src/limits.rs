//! Bounds on a run: [`Stop`], a cooperative deadline checked by the
//! inference loops (between model runs, MCMC iterations and SMC steps),
//! and [`reserve`], which refuses a size whose results cannot fit in
//! memory before anything is allocated (a failed allocation aborts the
//! process; a refused one is a diagnostic).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tyche_core::Diagnostic;

/// A flag that stops inference when raised: the loops return the error
/// [`Stop::error`] at their next check. Raised by a deadline (`--timeout`,
/// E0770) or by a cancellation (Ctrl-C in the REPL, E0773); cloning
/// shares the flag, so one token serves a whole run.
#[derive(Clone)]
pub struct Stop {
    /// [`RUNNING`], [`TIMED_OUT`] or [`CANCELLED`]: the first raise wins.
    state: Arc<AtomicU8>,
    limit: Option<Duration>,
}

const RUNNING: u8 = 0;
const TIMED_OUT: u8 = 1;
const CANCELLED: u8 = 2;

impl Default for Stop {
    fn default() -> Stop {
        Stop::new()
    }
}

impl Stop {
    /// A cancellation token with no deadline: raised only by
    /// [`cancel`](Stop::cancel).
    pub fn new() -> Stop {
        Stop {
            state: Arc::new(AtomicU8::new(RUNNING)),
            limit: None,
        }
    }

    /// A stop raised by a timer thread after `limit`.
    pub fn after(limit: Duration) -> Stop {
        Stop::new().with_deadline(limit)
    }

    /// This token (sharing its flag) that a timer thread also raises after
    /// `limit`, as a time limit (E0770).
    pub fn with_deadline(self, limit: Duration) -> Stop {
        let stop = Stop {
            state: self.state,
            limit: Some(limit),
        };
        let flag = Arc::downgrade(&stop.state);
        // The thread holds only a weak reference: a run that finished
        // first leaves nothing to raise.
        let _ = std::thread::Builder::new()
            .name("tyche-timeout".into())
            .spawn(move || {
                std::thread::sleep(limit);
                if let Some(f) = flag.upgrade() {
                    let _ = f.compare_exchange(
                        RUNNING,
                        TIMED_OUT,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
            });
        stop
    }

    /// Whether the stop was raised.
    pub fn raised(&self) -> bool {
        self.state.load(Ordering::Relaxed) != RUNNING
    }

    /// Raises the stop now, as its time limit would.
    pub fn raise(&self) {
        let _ =
            self.state
                .compare_exchange(RUNNING, TIMED_OUT, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Cancels the run: the loops end at their next check with E0773.
    pub fn cancel(&self) {
        let _ =
            self.state
                .compare_exchange(RUNNING, CANCELLED, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Whether the stop was raised by [`cancel`](Stop::cancel).
    pub fn cancelled(&self) -> bool {
        self.state.load(Ordering::Relaxed) == CANCELLED
    }

    /// The time limit, if any.
    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// `Err` once raised.
    pub fn check(&self) -> Result<(), Diagnostic> {
        if self.raised() {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    /// The error of the stopped run: E0773 when cancelled, else E0770.
    pub fn error(&self) -> Diagnostic {
        match self.limit {
            Some(limit) if !self.cancelled() => timeout_error(limit),
            _ => cancelled_error(),
        }
    }
}

/// The error of a cancelled run (E0773).
pub fn cancelled_error() -> Diagnostic {
    Diagnostic::error("inference cancelled").with_code("E0773")
}

/// The error of a run stopped after `limit` (E0770).
pub fn timeout_error(limit: Duration) -> Diagnostic {
    Diagnostic::error(format!(
        "inference stopped: the time limit of {} was reached",
        seconds(limit)
    ))
    .with_code("E0770")
    .with_help("raise the limit (`--timeout`), or ask for fewer samples or particles")
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s == s.trunc() {
        format!("{s} s")
    } else {
        format!("{s:.3} s")
    }
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stop({:?})", self.limit)
    }
}

/// Two stops are equal when they share the flag.
impl PartialEq for Stop {
    fn eq(&self, other: &Stop) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }
}

/// Checks `opts.stop`, if any.
pub(crate) fn check(stop: Option<&Stop>) -> Result<(), Diagnostic> {
    stop.map_or(Ok(()), Stop::check)
}

/// Bytes a kept draw or a particle holds at least (measured on a
/// one-choice model: about 150–170 bytes per draw with its value, weight
/// and bookkeeping).
pub const BYTES_PER_DRAW: u64 = 160;

/// Refuses `count` items of `bytes` each when that much memory cannot be
/// allocated: probes with a fallible reservation (released at once; the
/// pages are never touched), so an impossible `Importance(100000000000)`
/// is a diagnostic (E0771) instead of an abort. `what` names the size in
/// the message (`"Importance(n)"`).
pub fn reserve(count: usize, bytes: u64, what: &str) -> Result<(), Diagnostic> {
    let total = (count as u64).checked_mul(bytes);
    let fits = total
        .and_then(|t| usize::try_from(t).ok())
        .is_some_and(|t| Vec::<u8>::new().try_reserve_exact(t).is_ok());
    if fits {
        return Ok(());
    }
    Err(too_big(total, what))
}

/// The error of a run that needs more memory than there is (E0771).
pub fn too_big(bytes: Option<u64>, what: &str) -> Diagnostic {
    let need = match bytes {
        Some(b) => format!("about {}", human_bytes(b)),
        None => "more than 16 EiB".to_string(),
    };
    Diagnostic::error(format!(
        "{what} needs {need} of memory, more than is available"
    ))
    .with_code("E0771")
    .with_help("ask for fewer samples, particles or chains")
}

/// `bytes` in binary units, 3 significant digits.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut x = bytes as f64;
    let mut u = 0;
    while x >= 1024.0 && u < UNITS.len() - 1 {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

/// `burn + keep · thin` MCMC iterations (and `chains · burn + samples ·
/// thin` over all chains) without overflow, else an error (E0772): a wrapped
/// sum ran zero iterations and reported no draws.
pub(crate) fn schedule(
    method: &str,
    burn: usize,
    samples: usize,
    thin: usize,
    chains: usize,
) -> Result<u64, Diagnostic> {
    let total = (chains as u64).checked_mul(burn as u64).and_then(|b| {
        (samples as u64)
            .checked_mul(thin as u64)
            .and_then(|k| k.checked_add(b))
    });
    total.ok_or_else(|| {
        Diagnostic::error(format!(
            "{method}: {chains} chains × {burn} burn-in + {samples} samples × thinning {thin} \
             is more iterations than can be counted"
        ))
        .with_code("E0772")
        .with_help("lower the burn-in, the number of samples or the thinning")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_refused() {
        assert!(reserve(1000, BYTES_PER_DRAW, "Importance(1000)").is_ok());
        let e = reserve(100_000_000_000_000, BYTES_PER_DRAW, "Importance(n)").unwrap_err();
        assert_eq!(e.code.as_deref(), Some("E0771"));
        assert!(e.message.contains("PiB"), "{}", e.message);
        assert!(reserve(usize::MAX, BYTES_PER_DRAW, "x").is_err());
    }

    #[test]
    fn schedules_that_overflow_are_errors() {
        assert_eq!(schedule("Mh", 500, 1000, 1, 4), Ok(3000));
        assert!(schedule("Mh", usize::MAX - 1, 1, 1, 1).is_ok());
        assert!(schedule("Mh", usize::MAX, 1, 1, 1).is_err());
        assert!(schedule("Mh", usize::MAX, 1, 1, 2).is_err());
        assert!(schedule("Mh", 0, 2, usize::MAX, 1).is_err());
        assert!(schedule("Mh", 1, 1, usize::MAX, 1).is_err());
    }

    #[test]
    fn a_raised_stop_is_an_error() {
        let s = Stop::after(Duration::from_secs(3600));
        assert!(s.check().is_ok());
        s.raise();
        let e = s.check().unwrap_err();
        assert!(e.message.contains("3600 s"), "{}", e.message);
        let quick = Stop::after(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(200));
        assert!(quick.raised());
        assert_eq!(quick.check().unwrap_err().code.as_deref(), Some("E0770"));
    }

    #[test]
    fn a_cancelled_stop_says_so_and_the_first_raise_wins() {
        let s = Stop::new();
        assert!(s.check().is_ok());
        s.cancel();
        assert_eq!(s.check().unwrap_err().code.as_deref(), Some("E0773"));
        s.raise();
        assert!(s.cancelled());
        let t = Stop::new().with_deadline(Duration::from_secs(3600));
        let shared = t.clone();
        shared.raise();
        t.cancel();
        assert_eq!(t.check().unwrap_err().code.as_deref(), Some("E0770"));
    }
}
