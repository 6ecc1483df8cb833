//! Running code for the REPL: forward runs of a function on the
//! interpreter, top-level constants, and cancellable jobs.
//!
//! A REPL evaluation is one *forward* run: every random choice is drawn
//! from its prior with a seeded generator, observations are scored but do
//! not stop the run, and nested `infer(…)` calls are answered by
//! `tyche_infer` exactly as inside a model. Unlike `tyche run`, a
//! top-level `let` may be random (`let x ~ Normal(0, 1);` at the prompt
//! draws once), so constants are evaluated here rather than by
//! `tyche_driver::evaluate_globals`, which rejects randomness.
//!
//! Jobs run on a worker thread when the session can be interrupted
//! (interactive use). Ctrl-C cancels the job's [`tyche_infer::Stop`]:
//! inference checks it in every loop (model runs, particles, iterations,
//! paths, compiled batches), ends with E0773 and frees what it held, and
//! the prompt waits for that, up to [`GRACE`]. Work with no check (a
//! forward evaluation stuck in a loop) is abandoned after it: the thread
//! finishes in the background.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tyche_core::Diagnostic;
use tyche_infer::rng::Seed;
use tyche_infer::{Ctx, Execution, Prior, Step, Trace};
use tyche_ir::{FuncId, Program};
use tyche_vm::{Machine, Value};

/// How to obtain one global's value.
#[derive(Clone, Debug)]
pub(crate) enum Slot {
    /// Known already (bound data, a cached constant, a surgery value).
    Value(Value),
    /// Run this initialiser (a constant or a data default) with this seed.
    Compute { init: FuncId, seed: u64 },
    /// No value: a data item without one, or a constant that needs it.
    /// Stays `()`; the session refuses to run code that reads it.
    Unbound,
}

/// Computes every global in order (the IR orders them by dependency).
pub(crate) fn evaluate_globals(
    program: &Arc<Program>,
    slots: &[Slot],
) -> Result<Vec<Value>, Diagnostic> {
    let mut values = vec![Value::Unit; program.globals.len()];
    for (i, slot) in slots.iter().enumerate().take(values.len()) {
        values[i] = match slot {
            Slot::Value(v) => v.clone(),
            Slot::Unbound => Value::Unit,
            Slot::Compute { init, seed } => {
                let machine =
                    Machine::for_function(Arc::clone(program), Arc::new(values.clone()), *init)?;
                forward(machine, *seed)?.0
            }
        };
    }
    Ok(values)
}

/// Runs a machine to the end, drawing choices from the prior. Returns the
/// value and the run's log weight (the sum of its observations' scores).
pub(crate) fn forward(machine: Machine, seed: u64) -> Result<(Value, f64), Diagnostic> {
    let ctx = Ctx::new(seed);
    let mut rng = Seed(seed).rng();
    let mut exec = Execution::<Trace>::new(machine);
    // Unlike a weighted run, keep going after a zero weight (a failed
    // `condition`): the user asked for the value.
    while exec.advance(&mut Prior, &mut rng, &ctx)? != Step::Done {}
    let value = exec.result.take().unwrap_or(Value::Unit);
    Ok((value, exec.log_likelihood))
}

/// Runs the zero-argument function `func` forward.
pub(crate) fn run_function(
    program: &Arc<Program>,
    globals: Arc<Vec<Value>>,
    func: FuncId,
    seed: u64,
) -> Result<(Value, f64), Diagnostic> {
    let machine = Machine::for_function(Arc::clone(program), globals, func)?;
    forward(machine, seed)
}

/// The end of a job that may have been interrupted.
pub(crate) enum Finished<T> {
    Done(T),
    Interrupted,
    /// The worker panicked (a bug somewhere below the REPL).
    Crashed,
}

/// How long an interrupted job may take to notice its cancellation before
/// the prompt returns without it.
pub(crate) const GRACE: Duration = Duration::from_millis(800);

/// Runs `job`, on a worker thread when `interrupt` is given so that
/// setting the flag (Ctrl-C) cancels `cancel` and returns (once the job
/// has stopped, or after [`GRACE`]); inline otherwise.
pub(crate) fn cancellable<T: Send + 'static>(
    interrupt: Option<&Arc<AtomicBool>>,
    cancel: &tyche_infer::Stop,
    job: impl FnOnce() -> T + Send + 'static,
) -> Finished<T> {
    let Some(flag) = interrupt else {
        return match std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
            Ok(v) => Finished::Done(v),
            Err(_) => Finished::Crashed,
        };
    };
    flag.store(false, Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("tyche-repl-job".into())
        .stack_size(256 << 20)
        .spawn(move || {
            let _ = tx.send(job());
        });
    if spawned.is_err() {
        return Finished::Crashed;
    }
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(v) => return Finished::Done(v),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Finished::Crashed,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if flag.swap(false, Ordering::SeqCst) {
                    cancel.cancel();
                    // The job's result (its cancellation error) is dropped
                    // here; what it held was freed as it returned, and is
                    // given back to the system.
                    if rx.recv_timeout(GRACE).is_ok() {
                        super::trim::release_free_memory();
                    }
                    return Finished::Interrupted;
                }
            }
        }
    }
}
