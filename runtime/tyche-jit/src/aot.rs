//! Kernels compiled ahead of time, for executables made by `tyche build`.
//!
//! A built executable carries the kernels `tyche build` extracted with the
//! data it saw, as native functions, each with the [`Kernel::fingerprint`]
//! of the kernel it was compiled from. At run time the executable extracts
//! kernels again (the data may differ) and [`native`] uses an
//! ahead-of-time function only when the fingerprints match, else compiles
//! with the JIT. Either way inference calls the same `extern "C" fn(*const
//! f64) -> f64`.

use crate::codegen::JitError;
use crate::jit::{compile, Compiled, KernelFn};
use crate::kernel::Kernel;
use std::sync::Mutex;

struct Entry {
    fingerprint: u64,
    dim: usize,
    func: KernelFn,
}

static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Registers an ahead-of-time compiled kernel.
///
/// # Safety
/// `func` must be the code `compile_object` generated for a kernel with
/// this `fingerprint` and `dim` (it reads `θ[0..dim]`), and stay valid for
/// the rest of the process (it is linked into the executable).
pub unsafe fn register(fingerprint: u64, dim: usize, func: extern "C" fn(*const f64) -> f64) {
    let mut r = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    r.push(Entry {
        fingerprint,
        dim,
        func,
    });
}

/// The registered function for `kernel`, if any.
fn lookup(kernel: &Kernel) -> Option<KernelFn> {
    let fp = kernel.fingerprint();
    let r = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    r.iter()
        .find(|e| e.fingerprint == fp && e.dim == kernel.dim())
        .map(|e| e.func)
}

/// Native code for `kernel`: its ahead-of-time function when one is
/// registered, else a JIT compilation.
pub fn native(kernel: &Kernel) -> Result<Compiled, JitError> {
    match lookup(kernel) {
        Some(func) => Ok(Compiled::ahead_of_time(func, kernel.dim())),
        None => compile(kernel),
    }
}
