//! The reference interpreter of Tyche's IR.
//!
//! A [`Machine`] runs one execution of a model as a coroutine: it executes
//! instructions until it reaches a probabilistic site, then *yields* an
//! [`Effect`] and waits. The inference algorithm driving it decides what
//! `sample`, `observe` and `factor` mean — draw from the prior, replay a
//! trace, branch on every value — and resumes it. Because the whole state
//! of a run is plain data (a stack of frames over one register stack,
//! per-name address counters), a machine can be suspended at an
//! observation and resumed later, or cloned when a particle is resampled
//! or enumeration branches. Values are immutable and reference-counted,
//! so a clone copies the live registers in one vector, and a call
//! allocates nothing.
//!
//! `map`, `filter`, `fold` and `scan` run as frames that call their
//! closure once per element, so choices inside the closure suspend the
//! machine like any other; a closure that is a short straight line of
//! register-local instructions (no call, branch or effect) instead runs
//! as one loop over a scratch frame, with the same results and errors.
//!
//! This interpreter is the semantics every other backend is checked
//! against.

mod foreign;
pub mod linalg;
mod machine;
pub mod ops;
mod twin;
mod value;

pub use foreign::{ForeignFn, HostFn};
pub use machine::{make_dist, Address, Effect, Machine, MAX_CALL_DEPTH};
pub use value::{Closure, DistValue, MethodSpec, Posterior, Value};
