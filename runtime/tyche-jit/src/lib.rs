//! `tyche-jit`: native-speed log-density kernels for static models.
//!
//! A model whose set of random choices is fixed once its data are known
//! has a log joint density `log p(θ, data)` over a flat vector θ (one `f64`
//! per Real choice). This crate derives that function from the IR and
//! compiles it with Cranelift, so MCMC and SMC can call machine code
//! instead of interpreting the model.
//!
//! Pipeline (see `docs/jit.md`):
//!
//! 1. [`extract`] *traces* the model ([`trace`]): a small symbolic
//!    evaluator of its own runs the IR once with each choice as a
//!    parameter θᵢ, building a hash-consed DAG of the log joint; branches
//!    on random values and unsupported constructs stop with [`NotStatic`].
//! 2. [`reroll`] rolls the unrolled iterations back into loops over data
//!    columns and builds a [`Kernel`]: SSA with counted loops whose carried
//!    value is the running log density.
//! 3. [`Kernel::eval`] interprets a kernel (the reference); [`compile`]
//!    JIT-compiles it ([`Compiled::log_density`]); [`emit_clif`] prints the
//!    Cranelift IR; [`compile_object`] writes an object file with the same
//!    code generator.
//!
//! [`Replayer`] computes the same density on the interpreter (`tyche-vm`)
//! by replaying θ; every backend is tested against it.
//!
//! Unsafe code: the workspace denies `unsafe_code`; this crate allows it
//! (see its `Cargo.toml`) because it is the one place that calls generated
//! machine code. All of it is in `jit.rs`, with a `SAFETY` note on each
//! block.

pub mod aot;
pub mod codegen;
pub mod dists;
pub mod graph;
mod jit;
pub mod kernel;
pub mod ops;
pub mod replay;
pub mod reroll;
pub mod special;
pub mod trace;

pub use codegen::{JitError, JitOptions};
pub use jit::{
    compile, compile_object, compile_with, emit_clif, emit_clif_with, Compiled, KERNEL_SYMBOL,
};
pub use kernel::{Choice, Kernel};
pub use replay::{ReplayError, Replayer};
pub use reroll::RerollOptions;
pub use trace::{Limits, NotStatic};

use tyche_ir::{FuncId, Program};
use tyche_vm::Value;

/// Options for [`extract_with`].
#[derive(Clone, Debug, Default)]
pub struct ExtractOptions {
    pub limits: Limits,
    pub reroll: RerollOptions,
}

/// Extracts the log-density kernel of the zero-argument function `model`,
/// with `globals` the program's evaluated globals (data bound).
pub fn extract(program: &Program, globals: &[Value], model: FuncId) -> Result<Kernel, NotStatic> {
    extract_with(program, globals, model, &ExtractOptions::default())
}

/// [`extract`] with explicit limits and rerolling options.
pub fn extract_with(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    opts: &ExtractOptions,
) -> Result<Kernel, NotStatic> {
    let t = trace::trace(program, globals, model, opts.limits.clone())?;
    let k = reroll::build(t, &opts.reroll);
    if let Err(m) = k.verify() {
        return Err(NotStatic {
            reason: format!("internal error: the extracted kernel is invalid: {m}"),
            span: None,
        });
    }
    Ok(k)
}
