//! Compiling kernels to machine code: the JIT ([`compile`]), CLIF text
//! ([`emit_clif`]) and relocatable objects ([`compile_object`]), all from
//! the one code generator in `codegen`.
//!
//! This module holds the crate's `unsafe`: turning the finalized code
//! address into a function pointer, calling it, and freeing the code.

use crate::codegen::{self, jerr, JitError, JitOptions};
use crate::kernel::Kernel;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The symbol of a kernel in an object file or a JIT module.
pub const KERNEL_SYMBOL: &str = "tyche_log_density";

pub(crate) type KernelFn = extern "C" fn(*const f64) -> f64;

/// A kernel compiled to native code.
///
/// Owns the executable memory; [`Compiled::log_density`] is safe to call
/// from any thread (the code is pure and reentrant: it reads θ and its
/// read-only data, and keeps its state on the stack).
pub struct Compiled {
    /// Kept alive (and freed on drop) for the code `func` points into.
    module: Mutex<Option<JITModule>>,
    func: KernelFn,
    dim: usize,
    /// Wall-clock time of code generation, from kernel to callable code.
    pub compile_time: Duration,
    /// Size of the machine code in bytes.
    pub code_size: usize,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("dim", &self.dim)
            .field("compile_time", &self.compile_time)
            .field("code_size", &self.code_size)
            .finish()
    }
}

impl Compiled {
    /// The log density at θ, as [`Kernel::eval`] computes it (NaN or +∞
    /// mark a θ where the interpreter may stop with an error).
    ///
    /// # Panics
    /// If `theta.len()` differs from the kernel's dimension.
    pub fn log_density(&self, theta: &[f64]) -> f64 {
        assert_eq!(
            theta.len(),
            self.dim,
            "θ has {} coordinates but the kernel has {} choices",
            theta.len(),
            self.dim
        );
        // The generated code reads exactly θ[0..dim] (the kernel verifier
        // bounds every parameter index by the dimension, checked above).
        (self.func)(theta.as_ptr())
    }

    /// The length of θ.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Wraps a function linked into the executable (see [`crate::aot`]).
    pub(crate) fn ahead_of_time(func: KernelFn, dim: usize) -> Compiled {
        Compiled {
            module: Mutex::new(None),
            func,
            dim,
            compile_time: Duration::ZERO,
            code_size: 0,
        }
    }

    /// Whether the code was compiled ahead of time (`tyche build`) rather
    /// than by the JIT.
    pub fn is_ahead_of_time(&self) -> bool {
        self.module.lock().map(|m| m.is_none()).unwrap_or(false)
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        // SAFETY: `func` points into this module's memory and is only
        // reachable through `self`, which is being dropped; no call can be
        // running (`log_density` borrows `self`).
        unsafe { free_module(&mut self.module) };
    }
}

/// Frees the code of a JIT module kept for functions that point into it.
///
/// # Safety
/// No pointer into the module's code may be called afterwards.
pub(crate) unsafe fn free_module(module: &mut Mutex<Option<JITModule>>) {
    let module = match module.get_mut() {
        Ok(m) => m.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    if let Some(m) = module {
        // SAFETY: the caller's promise.
        unsafe { m.free_memory() };
    }
}

/// Defines `func` in `module` and finalizes it: its entry point and its
/// code size (its VCode printed when `TYCHE_JIT_DISASM` is set).
fn define_and_finalize(
    module: &mut JITModule,
    id: cranelift_module::FuncId,
    func: cranelift_codegen::ir::Function,
) -> Result<(*const u8, usize), JitError> {
    let mut ctx = module.make_context();
    ctx.func = func;
    let disasm = std::env::var_os("TYCHE_JIT_DISASM").is_some();
    ctx.set_disasm(disasm);
    module
        .define_function(id, &mut ctx)
        .map_err(|e| jerr(format!("{e:?}")))?;
    if disasm {
        if let Some(vcode) = ctx.compiled_code().and_then(|c| c.vcode.as_ref()) {
            eprintln!("{vcode}");
        }
    }
    let code_size = ctx
        .compiled_code()
        .map(|c| c.code_info().total_size as usize)
        .unwrap_or(0);
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(jerr)?;
    Ok((module.get_finalized_function(id), code_size))
}

/// JIT-compiles a kernel with the default options.
pub fn compile(kernel: &Kernel) -> Result<Compiled, JitError> {
    compile_with(kernel, &JitOptions::default())
}

/// JIT-compiles a kernel.
pub fn compile_with(kernel: &Kernel, opts: &JitOptions) -> Result<Compiled, JitError> {
    let start = Instant::now();
    let isa = codegen::native_isa(opts, false)?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr) in crate::ops::symbols() {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let built = codegen::build(&mut module, kernel, KERNEL_SYMBOL, Linkage::Export, opts)?;
    let (ptr, code_size) = define_and_finalize(&mut module, built.func_id, built.func)?;
    // SAFETY: `ptr` is the entry of a function just compiled with the
    // signature `extern "C" fn(*const f64) -> f64` (one pointer parameter,
    // one f64 result, the platform's default C calling convention).
    let func: KernelFn = unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) };
    Ok(Compiled {
        module: Mutex::new(Some(module)),
        func,
        dim: kernel.dim(),
        compile_time: start.elapsed(),
        code_size,
    })
}

/// The Cranelift IR of a kernel's function, as text (`tyche check --emit
/// clif`).
pub fn emit_clif(kernel: &Kernel) -> Result<String, JitError> {
    emit_clif_with(kernel, &JitOptions::default())
}

pub fn emit_clif_with(kernel: &Kernel, opts: &JitOptions) -> Result<String, JitError> {
    let isa = codegen::native_isa(opts, true)?;
    let builder = ObjectBuilder::new(isa, "tyche_kernel", default_libcall_names()).map_err(jerr)?;
    let mut module = ObjectModule::new(builder);
    let built = codegen::build(&mut module, kernel, KERNEL_SYMBOL, Linkage::Export, opts)?;
    Ok(built.func.display().to_string())
}

/// A relocatable object file (for the host) defining `symbol` as the
/// kernel, `extern "C" fn(*const f64) -> f64`. It imports the
/// `tyche_jit_*` special functions, which the runtime library exports.
pub fn compile_object(kernel: &Kernel, symbol: &str) -> Result<Vec<u8>, JitError> {
    let opts = JitOptions::default();
    let isa = codegen::native_isa(&opts, true)?;
    let builder = ObjectBuilder::new(isa, "tyche_kernel", default_libcall_names()).map_err(jerr)?;
    let mut module = ObjectModule::new(builder);
    let built = codegen::build(&mut module, kernel, symbol, Linkage::Export, &opts)?;
    let mut ctx = module.make_context();
    ctx.func = built.func;
    module
        .define_function(built.func_id, &mut ctx)
        .map_err(|e| jerr(format!("{e:?}")))?;
    module.finish().emit().map_err(jerr)
}

/// `Compiled` may be shared by parallel chains.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Compiled>();
};

/// The symbol of a gradient in a JIT module.
pub const GRADIENT_SYMBOL: &str = "tyche_log_density_gradient";

pub(crate) type GradientFn = extern "C" fn(*const f64, *mut f64, *mut f64) -> f64;

/// A kernel's log density and gradient compiled to native code (see
/// `gradgen`). Shared by chains; each evaluation needs its own tape
/// ([`CompiledGradient::tape`]).
pub struct CompiledGradient {
    module: Mutex<Option<JITModule>>,
    func: GradientFn,
    dim: usize,
    tape_len: usize,
    /// Wall-clock time of code generation, from kernel to callable code.
    pub compile_time: Duration,
    /// Size of the machine code in bytes.
    pub code_size: usize,
}

impl std::fmt::Debug for CompiledGradient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledGradient")
            .field("dim", &self.dim)
            .field("tape_len", &self.tape_len)
            .field("compile_time", &self.compile_time)
            .field("code_size", &self.code_size)
            .finish()
    }
}

impl CompiledGradient {
    /// Scratch memory for [`CompiledGradient::eval`].
    pub fn tape(&self) -> Vec<f64> {
        vec![0.0; self.tape_len]
    }

    /// The log density at θ (bit for bit [`Compiled::log_density`]'s) and
    /// its gradient into `grad` (zero where the value is NaN). Where a
    /// product the interpreter skips (`0 · ∞`) made a component NaN, the
    /// gradient differs from [`crate::grad::Gradient::eval`]'s: callers
    /// check ([`crate::gradient::Evaluator`] does).
    ///
    /// # Panics
    /// If `theta` or `grad` do not have the kernel's dimension, or `tape`
    /// is shorter than [`CompiledGradient::tape`]'s.
    pub fn eval(&self, theta: &[f64], grad: &mut [f64], tape: &mut [f64]) -> f64 {
        assert_eq!(theta.len(), self.dim, "θ has the wrong length");
        assert_eq!(grad.len(), self.dim, "the gradient has the wrong length");
        assert!(tape.len() >= self.tape_len, "the tape is too short");
        grad.iter_mut().for_each(|g| *g = 0.0);
        // The generated code reads θ[0..dim], writes grad[0..dim] (the
        // verifier bounds every parameter index, checked above) and
        // tape[0..tape_len].
        (self.func)(theta.as_ptr(), grad.as_mut_ptr(), tape.as_mut_ptr())
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl Drop for CompiledGradient {
    fn drop(&mut self) {
        // SAFETY: as for `Compiled`: `func` is reachable only through
        // `self`, and no call can be running while it is dropped.
        unsafe { free_module(&mut self.module) };
    }
}

/// JIT-compiles a kernel's gradient with the default options.
pub fn compile_gradient(kernel: &Kernel) -> Result<CompiledGradient, JitError> {
    compile_gradient_with(kernel, &JitOptions::default())
}

/// JIT-compiles a kernel's log density and gradient (see `gradgen`).
pub fn compile_gradient_with(
    kernel: &Kernel,
    opts: &JitOptions,
) -> Result<CompiledGradient, JitError> {
    let start = Instant::now();
    let isa = codegen::native_isa(opts, false)?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr) in crate::ops::symbols()
        .into_iter()
        .chain(crate::gradgen::symbols())
    {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let built = crate::gradgen::build_gradient(
        &mut module,
        kernel,
        GRADIENT_SYMBOL,
        Linkage::Export,
        opts,
    )?;
    let (ptr, code_size) = define_and_finalize(&mut module, built.func_id, built.func)?;
    // SAFETY: `ptr` is the entry of a function just compiled with the
    // signature `extern "C" fn(*const f64, *mut f64, *mut f64) -> f64`.
    let func: GradientFn = unsafe { std::mem::transmute::<*const u8, GradientFn>(ptr) };
    Ok(CompiledGradient {
        module: Mutex::new(Some(module)),
        func,
        dim: kernel.dim(),
        tape_len: built.tape_len,
        compile_time: start.elapsed(),
        code_size,
    })
}

/// The Cranelift IR of a kernel's gradient function, as text (`tyche
/// check --emit grad`).
pub fn emit_gradient_clif(kernel: &Kernel) -> Result<String, JitError> {
    let opts = JitOptions::default();
    let isa = codegen::native_isa(&opts, true)?;
    let builder = ObjectBuilder::new(isa, "tyche_kernel", default_libcall_names()).map_err(jerr)?;
    let mut module = ObjectModule::new(builder);
    let built = crate::gradgen::build_gradient(
        &mut module,
        kernel,
        GRADIENT_SYMBOL,
        Linkage::Export,
        &opts,
    )?;
    Ok(built.func.display().to_string())
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<CompiledGradient>();
};
