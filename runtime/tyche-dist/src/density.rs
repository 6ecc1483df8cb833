//! Log densities and log mass functions, computed in log space throughout
//! (never `exp` then `ln`), with the normalising constants precomputed by
//! `Dist::new`.
//!
//! Binomial and Poisson use Loader's (2000) saddle-point form (`stirlerr`,
//! `bd0`), which is accurate to a few ulps even for counts in the millions,
//! where differences of `ln Γ` values lose digits to cancellation.
//!
//! Conventions: a value outside the support, a NaN, or an [`Outcome`] of the
//! wrong variant gives `−∞`. At a boundary of the support the density's
//! limit is returned: finite where it is finite (`Beta(1, b)` at 0), `−∞`
//! where the density vanishes, and `+∞` where it has an integrable pole
//! (`Beta(a, b)` at 0 with `a < 1`, `Gamma` at 0 with `shape < 1`). No
//! valid input gives NaN.

use crate::family::{
    Arg, Bernoulli, Beta, Binomial, Cauchy, DiscreteUniform, Exponential, Gamma, Geometric,
    InvGamma, LogNormal, Normal, Poisson, StudentT, Uniform,
};
use crate::math::F64;
use crate::{Dist, Outcome};

const NEG_INF: f64 = f64::NEG_INFINITY;

/// `c · ln v` with the convention `0 · ln 0 = 0`.
#[inline]
fn mul_ln(c: f64, ln_v: f64) -> f64 {
    if c == 0.0 {
        0.0
    } else {
        c * ln_v
    }
}

/// Exact integer bounds of an integer outcome's support, checked before the
/// generic formula compares `k as f64` (which rounds beyond 2⁵³).
#[inline]
fn int_inside(lo: i64, hi: i64, k: i64) -> bool {
    lo <= k && k <= hi
}

impl Dist {
    /// The log density (continuous) or log mass (discrete) of `x`.
    ///
    /// `−∞` outside the support, for a NaN, and for an [`Outcome`] of the
    /// wrong variant (an `Int` passed to a `Real` distribution included);
    /// never NaN for valid input. No allocation except for `MvNormal` of
    /// dimension above 16.
    ///
    /// The formulas are the registry's ([`crate::family`]), evaluated on
    /// `f64` with the constants `Dist::new` precomputed.
    pub fn log_prob(&self, x: &Outcome) -> f64 {
        use crate::family::Generic;
        let m = &mut F64;
        let z = 0.0;
        let lp = match (self, x) {
            (
                Dist::Normal {
                    mu,
                    sigma,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => Normal::density(m, &[*mu, *sigma], &[*log_norm, z, z], Arg::Real(x)),
            (
                Dist::LogNormal {
                    mu,
                    sigma,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => LogNormal::density(m, &[*mu, *sigma], &[*log_norm, z, z], Arg::Real(x)),
            (Dist::Uniform { lo, hi, log_norm }, &Outcome::Real(x)) => {
                Uniform::density(m, &[*lo, *hi], &[*log_norm, z, z], Arg::Real(x))
            }
            (Dist::Beta { a, b, ln_beta }, &Outcome::Real(x)) => {
                Beta::density(m, &[*a, *b], &[*ln_beta, z, z], Arg::Real(x))
            }
            (
                Dist::Gamma {
                    shape,
                    rate,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => Gamma::density(m, &[*shape, *rate], &[*log_norm, z, z], Arg::Real(x)),
            (
                Dist::InvGamma {
                    shape,
                    scale,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => InvGamma::density(m, &[*shape, *scale], &[*log_norm, z, z], Arg::Real(x)),
            (Dist::Exponential { rate, ln_rate }, &Outcome::Real(x)) => {
                Exponential::density(m, &[*rate], &[*ln_rate, z, z], Arg::Real(x))
            }
            (
                Dist::Cauchy {
                    loc,
                    scale,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => Cauchy::density(m, &[*loc, *scale], &[*log_norm, z, z], Arg::Real(x)),
            (
                Dist::StudentT {
                    nu,
                    mu,
                    sigma,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => StudentT::density(m, &[*nu, *mu, *sigma], &[*log_norm, z, z], Arg::Real(x)),
            (Dist::Bernoulli { p, ln_p, ln_q }, &Outcome::Bool(b)) => {
                Bernoulli::density(m, &[*p], &[*ln_p, *ln_q, z], Arg::Bool(b))
            }
            (
                Dist::Binomial {
                    n,
                    p,
                    ln_p,
                    ln_q,
                    stirlerr_n,
                },
                &Outcome::Int(k),
            ) => {
                if !int_inside(0, *n, k) {
                    return NEG_INF;
                }
                Binomial::density(
                    m,
                    &[*n as f64, *p],
                    &[*ln_p, *ln_q, *stirlerr_n],
                    Arg::Real(k as f64),
                )
            }
            (Dist::Poisson { rate, .. }, &Outcome::Int(k)) => {
                Poisson::density(m, &[*rate], &[z, z, z], Arg::Real(k as f64))
            }
            (Dist::Geometric { p, ln_p, ln_q }, &Outcome::Int(k)) => {
                Geometric::density(m, &[*p], &[*ln_p, *ln_q, z], Arg::Real(k as f64))
            }
            (Dist::Categorical { ln_ps, .. }, &Outcome::Int(k)) => {
                if k < 0 {
                    return NEG_INF;
                }
                Some(ln_ps.get(k as usize).copied().unwrap_or(NEG_INF))
            }
            (Dist::DiscreteUniform { lo, hi, log_norm }, &Outcome::Int(k)) => {
                if !int_inside(*lo, *hi, k) {
                    return NEG_INF;
                }
                DiscreteUniform::density(
                    m,
                    &[*lo as f64, *hi as f64],
                    &[*log_norm, z, z],
                    Arg::Real(k as f64),
                )
            }
            (Dist::Dirichlet { alpha, log_norm }, Outcome::Vector(x)) => {
                Some(dirichlet_log_prob(alpha, *log_norm, x))
            }
            (
                Dist::MvNormal {
                    mu, chol, log_norm, ..
                },
                Outcome::Vector(x),
            ) => Some(mv_normal_log_prob(mu, chol, *log_norm, x)),
            (Dist::MvNormalCholesky { mu, chol }, Outcome::Vector(x)) => {
                if x.len() != mu.len() || x.iter().any(|v| !v.is_finite()) {
                    return NEG_INF;
                }
                Some(crate::family::mv_normal_cholesky::log_density(
                    m, mu, chol, x,
                ))
            }
            (
                Dist::Family {
                    kind,
                    params,
                    consts,
                },
                x,
            ) => {
                let x = match (kind.family().value, x) {
                    (crate::family::Type::Real, &Outcome::Real(x)) => Arg::Real(x),
                    (crate::family::Type::Int, &Outcome::Int(k)) => {
                        if !crate::family::int_support_contains(*kind, params, k) {
                            return NEG_INF;
                        }
                        Arg::Real(k as f64)
                    }
                    (crate::family::Type::Bool, &Outcome::Bool(b)) => Arg::Bool(b),
                    _ => return NEG_INF,
                };
                crate::family::density(m, *kind, params, consts, x)
            }
            _ => None,
        };
        lp.unwrap_or(NEG_INF)
    }
}

/// Tolerance on `|Σ xᵢ − 1|` for a point to count as on the simplex.
pub(crate) const SIMPLEX_TOLERANCE: f64 = 1e-9;

fn dirichlet_log_prob(alpha: &[f64], log_norm: f64, x: &[f64]) -> f64 {
    if x.len() != alpha.len() {
        return NEG_INF;
    }
    let mut sum = 0.0;
    let mut lp = log_norm;
    let mut zero_density = false;
    for (&a, &xi) in alpha.iter().zip(x) {
        if !(0.0..=1.0).contains(&xi) {
            return NEG_INF;
        }
        sum += xi;
        let term = mul_ln(a - 1.0, xi.ln());
        // A coordinate where the density vanishes wins over one with a pole.
        zero_density |= term == NEG_INF;
        lp += term;
    }
    if zero_density || (sum - 1.0).abs() > SIMPLEX_TOLERANCE * x.len() as f64 {
        return NEG_INF;
    }
    lp
}

fn mv_normal_log_prob(mu: &[f64], chol: &nalgebra::DMatrix<f64>, log_norm: f64, x: &[f64]) -> f64 {
    let k = mu.len();
    if x.len() != k || x.iter().any(|v| !v.is_finite()) {
        return NEG_INF;
    }
    // Solve L y = x − mu by forward substitution; the quadratic form is |y|².
    let mut stack = [0.0; 16];
    let mut heap = Vec::new();
    let y: &mut [f64] = if k <= stack.len() {
        &mut stack[..k]
    } else {
        heap.resize(k, 0.0);
        &mut heap
    };
    let mut quad = 0.0;
    for i in 0..k {
        let mut r = x[i] - mu[i];
        for (j, yj) in y.iter().enumerate().take(i) {
            r -= chol[(i, j)] * yj;
        }
        let yi = r / chol[(i, i)];
        y[i] = yi;
        quad += yi * yi;
    }
    log_norm - 0.5 * quad
}
