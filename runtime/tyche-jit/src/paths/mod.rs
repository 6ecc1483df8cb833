//! Native paths: a whole model compiled to machine code for exact
//! enumeration by re-execution ([`tyche_infer::NativePaths`]).
//!
//! Enumeration on the interpreter clones a machine at every branch point
//! and interprets every path's continuation; a model that builds and folds
//! lists on each path (recursion, closures, `map`/`fold`/`filter`) spends
//! microseconds per path there. Compiled, a run from the start replaying a
//! prefix of choices costs less than one interpreted continuation, so the
//! enumerator re-executes instead of forking.
//!
//! Unlike the density kernels (`trace`), this is not tracing: the model's
//! control flow stays dynamic (branches on random values, recursion on
//! random totals), and values live in a per-run arena as machine words
//! ([`rt`]). [`types`] gives every register a type, [`lower`] emits one
//! Cranelift function per IR function. A model that uses what native paths
//! do not handle (strings, `print`, nested inference, interventions, host
//! functions, typed operations on values of polymorphic type) is refused
//! at compile time and enumerated on the interpreter; a run that meets a
//! runtime error, or recurses deeper than [`rt::MAX_NATIVE_DEPTH`], hands
//! its subtree back to the interpreter, which reports the error as it
//! always does.

mod lower;
mod rt;
mod types;

use crate::NotStatic;
use std::sync::{Arc, Mutex, OnceLock};
use tyche_dist::DistKind;
use tyche_infer::{BranchPoint, PathEnd, PathRunner};
use tyche_ir::{BinOp, FuncId, Prim, Program};
use tyche_vm::Value;
use types::Ty;

/// What a helper call site needs to know about its operands (compiled code
/// passes the descriptor's index).
#[derive(Debug)]
pub(crate) enum Desc {
    Dist {
        kind: DistKind,
        args: Vec<Ty>,
    },
    Observe {
        value: Ty,
    },
    Prim {
        prim: Prim,
        args: Vec<Ty>,
        ret: Ty,
    },
    Binary {
        op: BinOp,
        lhs: Ty,
        rhs: Ty,
        ret: Ty,
    },
}

#[derive(Debug, Default)]
pub(crate) struct Descs(pub Vec<Desc>);

/// A model compiled for enumeration by re-execution.
pub struct CompiledPaths {
    /// Kept alive (and freed on drop) for the code `entry` points into.
    module: Mutex<Option<cranelift_jit::JITModule>>,
    entry: usize,
    result: Ty,
    descs: Descs,
    /// The globals' arrays the code points into.
    _statics: lower::Statics,
}

impl std::fmt::Debug for CompiledPaths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledPaths(..)")
    }
}

/// Compiles the zero-argument function `model` for enumeration, or says
/// why it cannot be.
pub fn compile_paths(
    program: &Program,
    globals: &[Value],
    model: FuncId,
) -> Result<CompiledPaths, NotStatic> {
    let func = program.func(model);
    let refuse = |reason: &str| NotStatic {
        reason: reason.into(),
        span: Some(func.span),
    };
    if func.params != 0 || func.captures != 0 {
        return Err(refuse("the model takes arguments"));
    }
    let result = match Ty::from_ir(&func.ty) {
        Ty::Fn(_, r) if r.is_data() => *r,
        _ => return Err(refuse("the model returns a value that is not data")),
    };
    let types = types::infer(program, model)?;
    let mut statics = lower::Statics::default();
    let mut descs = Descs::default();
    let compiled = lower::compile(program, globals, model, &types, &mut statics, &mut descs)?;
    Ok(CompiledPaths {
        module: Mutex::new(Some(compiled.module)),
        entry: compiled.entry as usize,
        result,
        descs,
        _statics: statics,
    })
}

type EntryFn = extern "C" fn(*mut rt::Ctx, u64) -> u64;

impl tyche_infer::NativePaths for CompiledPaths {
    fn runner(&self) -> Option<Box<dyn PathRunner + '_>> {
        Some(Box::new(Runner {
            paths: self,
            state: Box::new(rt::Runner::new(&self.descs)),
        }))
    }
}

/// A model's native paths, compiled when enumeration first asks for a
/// runner: it asks only when the tree turns out large enough to split, so
/// a small tree never pays for code generation.
pub struct LazyPaths {
    program: Arc<Program>,
    globals: Arc<Vec<Value>>,
    model: FuncId,
    compiled: OnceLock<Result<CompiledPaths, NotStatic>>,
    eager: bool,
}

impl LazyPaths {
    /// With `eager`, enumeration runs the whole tree natively
    /// ([`tyche_infer::NativePaths::eager`]).
    pub fn new(
        program: Arc<Program>,
        globals: Arc<Vec<Value>>,
        model: FuncId,
        eager: bool,
    ) -> LazyPaths {
        LazyPaths {
            program,
            globals,
            model,
            compiled: OnceLock::new(),
            eager,
        }
    }

    /// The compiled model (compiled on the first call), or why the model
    /// cannot be compiled.
    pub fn compile(&self) -> Result<&CompiledPaths, &NotStatic> {
        self.compiled
            .get_or_init(|| compile_paths(&self.program, &self.globals, self.model))
            .as_ref()
    }
}

impl tyche_infer::NativePaths for LazyPaths {
    fn runner(&self) -> Option<Box<dyn PathRunner + '_>> {
        self.compile().ok()?.runner()
    }

    fn eager(&self) -> bool {
        self.eager
    }
}

struct Runner<'a> {
    paths: &'a CompiledPaths,
    /// Boxed: compiled code holds a pointer to it during a run.
    state: Box<rt::Runner<'a>>,
}

impl PathRunner for Runner<'_> {
    fn run(&mut self, prefix: &[u32], extend: bool, branches: &mut Vec<BranchPoint>) -> PathEnd {
        self.state.start(prefix, extend, branches);
        // SAFETY: `entry` is the model's compiled function, whose
        // signature is `fn(ctx, env) -> word` (no parameters, no captures:
        // checked by `compile_paths`), and the module stays alive with
        // `self.paths`. The code touches only the context's first fields
        // (`rt::Ctx`), the arena and static data, and calls the helpers
        // with the same context pointer.
        let entry: EntryFn = unsafe { std::mem::transmute::<usize, EntryFn>(self.paths.entry) };
        let here = 0u8;
        let sp = std::ptr::addr_of!(here) as u64;
        self.state.ctx.stack_limit = sp.saturating_sub(rt::NATIVE_STACK);
        // From the whole runner, not its `ctx` field: the helpers reach the
        // runner's other fields through this pointer.
        let ctx = &mut *self.state as *mut rt::Runner as *mut rt::Ctx;
        let word = entry(ctx, 0);
        self.state.finish(word, &self.paths.result)
    }

    fn gave_up_wide(&self) -> Option<usize> {
        self.state.wide_at
    }
}

impl Drop for CompiledPaths {
    fn drop(&mut self) {
        // SAFETY: the code is reachable only through `self` (runners
        // borrow it), which is being dropped.
        unsafe { crate::jit::free_module(&mut self.module) };
    }
}

// SAFETY: the compiled code is reentrant (all mutable state is in the
// runner each thread owns); the module is behind a mutex and only freed on
// drop; the static data is read-only.
unsafe impl Send for CompiledPaths {}
unsafe impl Sync for CompiledPaths {}
