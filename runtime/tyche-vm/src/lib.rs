//! The reference interpreter of Tyche's IR.
//!
//! A [`Machine`] runs one execution of a model as a coroutine: it executes
//! instructions until it reaches a probabilistic site, then *yields* an
//! [`Effect`] and waits. The inference algorithm driving it decides what
//! `sample`, `observe` and `factor` mean — draw from the prior, replay a
//! trace, branch on every value — and resumes it. Because the whole state
//! of a run is plain data (frames of registers, per-name address
//! counters), a machine can be suspended at an observation and resumed
//! later, or cloned when a particle is resampled. Values are immutable and
//! reference-counted, so a clone copies only the live frames' registers.
//!
//! This interpreter is the semantics every other backend is checked
//! against.

mod foreign;
mod machine;
mod ops;
mod twin;
mod value;

pub use foreign::{ForeignFn, HostFn};
pub use machine::{make_dist, Address, Effect, Machine, MAX_CALL_DEPTH};
pub use value::{Closure, DistValue, MethodSpec, Posterior, Value};
