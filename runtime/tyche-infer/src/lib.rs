//! Tyche's inference layer: algorithms that drive the interpreter's
//! [`Machine`](tyche_vm::Machine) and turn runs into posteriors.
//!
//! Built monad-bayes style from a few visible blocks, each with a
//! mathematical contract (see `docs/inference.md`):
//!
//! | block | type | contract |
//! |---|---|---|
//! | model | [`Model`] | a zero-argument closure and its program |
//! | handler | [`Handler`], [`Prior`], [`Replay`] | what `sample` means |
//! | weighting / sequential | [`Execution`] | run to the end, or to the next observation; `log w = log p(y \| x)` under the prior |
//! | trace | [`Trace`], [`SharedTrace`], [`Choice`] | choices by address with log probabilities |
//! | population | [`Population`], [`Resampler`] | weighted particles, unbiased resampling, `log Ẑ` |
//! | model interface | [`Chain`], [`Particles`] | a complete run that regenerates a choice and gives the acceptance ratio; particles advanced to the next observation |
//! | MH kernel | [`mh::transition`], [`Replay`] | single-site lightweight MH |
//!
//! and the algorithms as short compositions: [`Method::Enumerate`] (forks
//! machines at each discrete choice), [`Method::Rejection`],
//! [`Method::Importance`] (weighting × n), [`Method::Smc`] (sequential +
//! population, optionally resample-move with MH), [`Method::Mh`] (traced
//! MH chains), [`Method::Pmmh`] (MH over the parameters, SMC inside).
//! MH, PMMH and SMC are written once over the model interface
//! ([`interface`]); the interpreter and compiled code (the
//! [`NativeDensity`] and [`NativeSequential`] `tyche-jit` builds) are its
//! two implementations.
//! Nested `infer` calls inside a model are answered by [`Ctx`].
//!
//! Reproducibility: every particle, chain and step draws from its own
//! stream derived from `(seed, purpose, index)` ([`rng`]), and parallel
//! work is collected in index order ([`par`]), so a seed determines the
//! result bit for bit, whatever the number of threads.
//!
//! Architecture invariant: this crate never parses or type checks; it
//! knows programs only through the IR and the interpreter's effects.

mod compiled;
mod diagnose;
mod enumerate;
mod execution;
mod handler;
mod importance;
pub mod interface;
mod interpreted;
mod limits;
pub mod mh;
mod model;
mod native;
mod nested;
mod nuts;
mod options;
mod par;
mod pmmh;
mod population;
mod rejection;
mod result;
pub mod rng;
pub mod smc;
pub mod stats;
mod trace;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use diagnose::{diagnose, ebfmi, Diagnosis, Quantity};
pub use enumerate::{
    Refusal as EnumerationRefusal, MAX_DEPTH as ENUMERATE_MAX_DEPTH,
    MAX_PATHS as ENUMERATE_MAX_PATHS,
};
pub use execution::{Execution, Particle, Step};
pub use handler::{Handler, Prior};
pub use interface::{Advanced, Chain, Move, Particles, Scales};
pub use interpreted::Replay;
pub use limits::{
    cancelled_error, human_bytes, reserve, timeout_error, too_big, Stop, BYTES_PER_DRAW,
};
pub use model::Model;
pub use native::{
    Backend, BranchPoint, GradientEvaluator, Native, NativeDensity, NativeEnumeration, NativeGrad,
    NativeGradient, NativePaths, NativeSequential, PathEnd, PathRunner, Slot,
};
pub use nested::{Ctx, MAX_NESTING};
pub use options::{Method, Options, Progress, Proposal, PMMH_PARTICLES};
pub use population::{Offspring, Population, Resampler};
pub use rejection::max_attempts as rejection_max_attempts;
pub use result::{Draw, InferResult, McmcStats, SamplerDraw};
pub use trace::{format_assignments, Choice, Record, SharedTrace, Trace};

use tyche_core::Diagnostic;

/// Runs inference on `model` with `opts`.
pub fn infer(model: &Model, opts: &Options) -> Result<InferResult, Diagnostic> {
    run(&Ctx::new(opts.seed), model, opts)
}

/// Runs inference in a context (nested calls share the top level's).
pub fn run(ctx: &Ctx, model: &Model, opts: &Options) -> Result<InferResult, Diagnostic> {
    match opts.method {
        Method::Enumerate => enumerate::enumerate(ctx, model, opts),
        Method::Rejection => rejection::rejection(ctx, model, opts),
        Method::Importance => importance::importance(ctx, model, opts),
        Method::Smc => smc::smc(ctx, model, opts),
        Method::Mh => mh::mh(ctx, model, opts),
        Method::Pmmh => pmmh::pmmh(ctx, model, opts),
        Method::Hmc | Method::Nuts => nuts::nuts(ctx, model, opts),
    }
}
