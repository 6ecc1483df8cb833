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
//!    on random values and unsupported constructs stop with [`NotStatic`]
//!    — unless no run can make a choice or an observation after that
//!    point, in which case the density is complete and only the return
//!    value is left to the interpreter ([`Replayer::result`]).
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
//! For SMC, [`native_model_with`] cuts the traced DAG at its observations
//! into step programs ([`sequential`]). Models with discrete (Int and
//! Bool) choices have no kernel: SMC runs them on step programs and MH on
//! their traced terms evaluated as expression programs ([`native::Exprs`]).
//!
//! [`for_inference`] and [`prepare`] connect all this to `tyche-infer`
//! (`--backend`): MH on the kernel, SMC on the step programs, enumeration
//! on native paths, NUTS on the gradient. Running a model (the automatic
//! method choice, diagnosis) is `tyche-engine`'s, above this crate.
//!
//! Unsafe code: the workspace denies `unsafe_code`; this crate allows it
//! (see its `Cargo.toml`) because it is the one place that calls generated
//! machine code. It is in `jit.rs` (calling and freeing JIT code),
//! `aot.rs` (registering linked kernels) and `object.rs` (reading a built
//! executable's embedded program), with a `SAFETY` note on each block.

pub mod aot;
pub mod codegen;
pub mod dists;
pub mod exprs;
pub mod grad;
pub mod gradgen;
pub mod gradient;
pub mod graph;
mod jit;
pub mod kernel;
pub mod marginal;
pub mod native;
pub mod object;
pub mod ops;
pub mod paths;
pub mod replay;
pub mod reroll;
pub mod sequential;
pub mod special;
pub mod trace;
pub mod transform;

pub use codegen::{JitError, JitOptions};
pub use jit::{
    compile, compile_gradient, compile_gradient_with, compile_object, compile_with, emit_clif,
    emit_clif_with, emit_gradient_clif, Compiled, CompiledGradient, KERNEL_SYMBOL,
};
pub use kernel::{Choice, Kernel};
pub use native::NativeModel;
pub use replay::{ReplayError, Replayer};
pub use reroll::RerollOptions;
pub use trace::{Limits, NotStatic};

use std::sync::Arc;
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
    build_kernel(t, opts)
}

pub(crate) fn build_kernel(t: trace::Trace, opts: &ExtractOptions) -> Result<Kernel, NotStatic> {
    let k = reroll::build(t, &opts.reroll);
    if let Err(m) = k.verify() {
        return Err(NotStatic {
            reason: format!("internal error: the extracted kernel is invalid: {m}"),
            span: None,
        });
    }
    Ok(k)
}

/// Extracts and compiles the zero-argument function `model` for inference
/// ([`NativeModel`] implements [`tyche_infer::NativeDensity`]): its kernel
/// as native code (ahead-of-time code when [`aot`] has it, else the JIT),
/// plus its choices' priors and its return value over θ — or, when the
/// return value cannot be traced, a [`Replayer`] that computes it on the
/// interpreter (MH only: SMC then keeps the interpreter).
///
/// With `keep_choices`, SMC particles keep every choice to the end (for
/// per-draw traces) instead of only what later steps read.
pub fn native_model(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    keep_choices: bool,
) -> Result<NativeModel, NotStatic> {
    native_model_with(program, globals, model, keep_choices, true)
}

/// [`native_model`], compiling the density kernel to machine code only
/// when `compile` (SMC runs the step programs and never needs it).
pub fn native_model_with(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    keep_choices: bool,
    compile: bool,
) -> Result<NativeModel, NotStatic> {
    native_model_for(program, globals, model, keep_choices, compile, None)
}

/// Whether Cranelift code pays for itself over `evaluations` calls of the
/// kernel, against [`Kernel::eval`]. Compiling costs about 5–10 µs per
/// node (more for huge straight-line kernels: register allocation), and
/// saves about 8 ns per node *executed*; small kernels always compile.
/// (A logistic regression with a latent per datum whose 1,000 iterations
/// do not roll into a loop is 21,000 nodes, 0.2 s to compile: a 100-step
/// MH run is faster on the kernel interpreter.)
fn worth_compiling(kernel: &Kernel, evaluations: u64) -> bool {
    let (top, body, _) = kernel.size();
    let size = (top + body) as u64;
    size <= 4000 || evaluations.saturating_mul(kernel.work()) >= 1000 * size
}

/// [`native_model_with`]; with `evaluations` (how many densities MH will
/// evaluate), the kernel is compiled to machine code only when that pays
/// ([`worth_compiling`]), else [`Kernel::eval`] computes it.
fn native_model_for(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    keep_choices: bool,
    compile: bool,
    evaluations: Option<u64>,
) -> Result<NativeModel, NotStatic> {
    let opts = ExtractOptions::default();
    let t = trace::trace_with(program, globals, model, opts.limits.clone(), true)?;
    if t.result.is_none() && !compile {
        // SMC would need the value from every particle's state; replaying
        // each final particle costs about as much as interpreting the run.
        return Err(match &t.stopped {
            Some(e) => NotStatic {
                reason: format!(
                    "{}, in computing the return value (native SMC needs it traced)",
                    e.reason
                ),
                span: e.span,
            },
            None => NotStatic {
                reason: "the model returns a value that is not data".into(),
                span: None,
            },
        });
    }
    let plain = || {
        Replayer::new(
            std::sync::Arc::new(program.clone()),
            std::sync::Arc::new(globals.to_vec()),
            model,
            &t.choices,
        )
    };
    let replayer = || match &t.resume {
        Some(r) => plain().resuming(r.clone(), &t.graph),
        None => plain(),
    };
    let mut structure = native::Structure::new(program, &t, keep_choices, replayer)?;
    if compile {
        // MH replays a θ where the density marks a fault, for the
        // interpreter's error (SMC re-runs on the interpreter instead).
        structure = structure.replaying_faults(plain);
    }
    if compile {
        if let Some(i) = structure.unfixed_support() {
            let d = &t.dists[i];
            return Err(NotStatic {
                reason: format!(
                    "the support of this {} choice can change with other choices \
                     (MH would have to redraw it when one moves)",
                    d.kind.name()
                ),
                span: Some(d.site_span),
            });
        }
    }
    if t.kernel_blocker().is_some() {
        // Discrete choices and table lookups have no Cranelift kernel yet:
        // the density is the traced terms as expression programs, for MH
        // and SMC alike.
        return Ok(structure.without_kernel(&t));
    }
    let kernel = build_kernel(t, &opts)?;
    let to_machine_code = compile && evaluations.is_none_or(|e| worth_compiling(&kernel, e));
    let compiled = if to_machine_code {
        Some(aot::native(&kernel).map_err(|e| NotStatic {
            reason: format!("code generation failed: {e}"),
            span: None,
        })?)
    } else {
        None
    };
    Ok(structure.with_code(kernel, compiled))
}

/// Which backend a run should use (`tyche run --backend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendRequest {
    /// The interpreter only.
    Interpreter,
    /// Native code, or an error saying why not.
    Jit,
    /// Native code where the method and the model allow it, else the
    /// interpreter.
    #[default]
    Auto,
}

/// Whether `method` can run on a native density: MH (on the compiled
/// kernel) and SMC (on the model cut at its observations); the other
/// methods interpret (see `docs/jit.md`).
pub fn method_uses_native(method: tyche_infer::Method) -> bool {
    matches!(method, tyche_infer::Method::Mh | tyche_infer::Method::Smc)
}

/// The native density inference should use for the model function
/// `model` under `method`, as [`tyche_infer::Options::native`] takes it.
/// `Ok(None)` means: interpret. With [`BackendRequest::Jit`] a model or
/// method the JIT cannot serve is an error (code E0750/E0751) naming the
/// reason; with `Auto` it silently interprets.
pub fn for_inference(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    opts: &tyche_infer::Options,
    request: BackendRequest,
) -> Result<Option<tyche_infer::Native>, tyche_core::Diagnostic> {
    let method = opts.method;
    use tyche_core::Diagnostic;
    if request == BackendRequest::Interpreter {
        return Ok(None);
    }
    if !method_uses_native(method) {
        return match request {
            BackendRequest::Jit => Err(Diagnostic::error(format!(
                "the JIT backend does not run {method} yet"
            ))
            .with_code("E0750")
            .with_note(
                "compiled code drives Mh, Smc and Enumerate; the other methods run on the interpreter",
            )
            .with_help(
                "use `--method mh`, `smc` or `enumerate`, or `--backend auto` to let Tyche choose",
            )),
            _ => Ok(None),
        };
    }
    if method == tyche_infer::Method::Smc && opts.rejuvenate > 0 {
        return match request {
            BackendRequest::Jit => Err(Diagnostic::error(
                "the JIT backend does not run resample-move SMC yet",
            )
            .with_code("E0750")
            .with_note("its MH moves re-run the interpreter")
            .with_help("drop `--rejuvenate`, or use `--backend auto`")),
            _ => Ok(None),
        };
    }
    let compile = method == tyche_infer::Method::Mh;
    // Every MH iteration evaluates the density once (plus each chain's
    // start).
    let thin = opts.thin.max(1) as u64;
    let chains = opts.chains.max(1) as u64;
    let evaluations = chains * (opts.burn as u64 + 1) + opts.samples as u64 * thin;
    match native_model_for(
        program,
        globals,
        model,
        opts.traces,
        compile,
        Some(evaluations),
    ) {
        Ok(m) => Ok(Some(tyche_infer::Native(std::sync::Arc::new(m)))),
        Err(_) if request == BackendRequest::Auto => Ok(None),
        Err(e) => Err(not_native(e, "not static here")),
    }
}

/// E0752: why NUTS or HMC cannot run this model, pointing at the cause.
fn not_gradient(e: NotStatic, method: tyche_infer::Method) -> tyche_core::Diagnostic {
    let d = tyche_core::Diagnostic::error(format!(
        "{} cannot run this model: {}",
        method.name(),
        e.reason
    ))
    .with_code("E0752")
    .with_note(
        "gradient-based samplers need a model whose structure (which choices it makes) \
         is fixed by its data and whose random choices are continuous, or discrete with \
         finite support and used only by their own observations (those are summed out)",
    )
    .with_help("use `--method smc --rejuvenate 2` or `--method mh`, which handle discrete choices and changing structure");
    match e.span {
        Some(span) => d.with_primary(span, "here"),
        None => d,
    }
}

/// E0751: why `--backend jit` cannot run this model, pointing at `what`.
fn not_native(e: NotStatic, what: &str) -> tyche_core::Diagnostic {
    let d = tyche_core::Diagnostic::error(format!(
        "this model cannot run on native code: {}",
        e.reason
    ))
    .with_code("E0751")
    .with_help("use `--backend interp` (or `auto`, which falls back to the interpreter)");
    match e.span {
        Some(span) => d.with_primary(span, what),
        None => d,
    }
}

/// Puts into `opts` what `opts.method` can run natively, per `request`:
/// the model as native paths for enumeration
/// ([`tyche_infer::Options::native_paths`], see [`paths`]; compiled only
/// if the tree turns out large, except under `Jit`), its density for MH
/// and SMC ([`tyche_infer::Options::native`], see [`for_inference`]).
/// With [`BackendRequest::Jit`] a model native code cannot run is an error
/// (E0750/E0751) naming the reason; with `Auto` it is interpreted.
pub fn prepare(
    program: &Arc<Program>,
    globals: &Arc<Vec<Value>>,
    model: FuncId,
    opts: &mut tyche_infer::Options,
    request: BackendRequest,
) -> Result<(), tyche_core::Diagnostic> {
    opts.native = None;
    opts.native_paths = None;
    opts.gradient = None;
    if matches!(
        opts.method,
        tyche_infer::Method::Nuts | tyche_infer::Method::Hmc
    ) {
        // Gradients exist only for compiled models: the interpreter has
        // none, so `--backend interp` reaches the method's own error.
        if request != BackendRequest::Interpreter {
            let g = gradient::GradientModel::new(program, globals, model)
                .map_err(|e| not_gradient(e, opts.method))?;
            opts.gradient = Some(tyche_infer::NativeGrad(Arc::new(g)));
        }
        return Ok(());
    }
    if opts.method != tyche_infer::Method::Enumerate {
        opts.native = for_inference(program, globals, model, opts, request)?;
        return Ok(());
    }
    if request == BackendRequest::Interpreter {
        return Ok(());
    }
    let eager = request == BackendRequest::Jit;
    let paths = paths::LazyPaths::new(Arc::clone(program), Arc::clone(globals), model, eager);
    if request == BackendRequest::Jit {
        // Refusals are errors: compile now to find them.
        paths
            .compile()
            .map_err(|e| not_native(e.clone(), "not compiled here"))?;
    }
    opts.native_paths = Some(tyche_infer::NativeEnumeration(Arc::new(paths)));
    Ok(())
}
