//! The `extern "C"` functions that compiled kernels call for operations
//! that are not single machine instructions (`exp`, `ln`, `ln Γ`, …).
//!
//! Each is a thin wrapper over the function the interpreter (`tyche-vm`)
//! and `tyche-dist` use, so JIT, kernel interpreter and VM compute the same
//! bits. The JIT registers them by name ([`SYMBOLS`]); an ahead-of-time
//! build resolves the same names against the runtime library at link time.

use tyche_dist::special as sp;

pub extern "C" fn tyche_jit_exp(x: f64) -> f64 {
    x.exp()
}
pub extern "C" fn tyche_jit_ln(x: f64) -> f64 {
    x.ln()
}
pub extern "C" fn tyche_jit_log1p(x: f64) -> f64 {
    sp::log1p(x)
}
pub extern "C" fn tyche_jit_expm1(x: f64) -> f64 {
    sp::expm1(x)
}
pub extern "C" fn tyche_jit_lgamma(x: f64) -> f64 {
    sp::ln_gamma(x)
}
pub extern "C" fn tyche_jit_digamma(x: f64) -> f64 {
    sp::digamma(x)
}
pub extern "C" fn tyche_jit_erf(x: f64) -> f64 {
    sp::erf(x)
}
pub extern "C" fn tyche_jit_sin(x: f64) -> f64 {
    x.sin()
}
pub extern "C" fn tyche_jit_cos(x: f64) -> f64 {
    x.cos()
}
pub extern "C" fn tyche_jit_tan(x: f64) -> f64 {
    x.tan()
}
pub extern "C" fn tyche_jit_atan(x: f64) -> f64 {
    x.atan()
}
pub extern "C" fn tyche_jit_tanh(x: f64) -> f64 {
    x.tanh()
}
pub extern "C" fn tyche_jit_rem(a: f64, b: f64) -> f64 {
    a % b
}
pub extern "C" fn tyche_jit_pow(a: f64, b: f64) -> f64 {
    a.powf(b)
}
pub extern "C" fn tyche_jit_bd0(x: f64, m: f64) -> f64 {
    sp::bd0(x, m)
}

/// The names of [`crate::ops::symbols`], for documentation and the object-file path.
pub const SYMBOLS: &[&str] = &[
    "tyche_jit_exp",
    "tyche_jit_ln",
    "tyche_jit_log1p",
    "tyche_jit_expm1",
    "tyche_jit_lgamma",
    "tyche_jit_digamma",
    "tyche_jit_erf",
    "tyche_jit_sin",
    "tyche_jit_cos",
    "tyche_jit_tan",
    "tyche_jit_atan",
    "tyche_jit_tanh",
    "tyche_jit_rem",
    "tyche_jit_pow",
    "tyche_jit_bd0",
];
