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

use crate::special::{bd0, stirlerr};
use crate::{Dist, Outcome};

const NEG_INF: f64 = f64::NEG_INFINITY;

/// `ln 2π`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// `c · ln v` with the convention `0 · ln 0 = 0` (so a zero exponent
/// contributes nothing even where `ln v = −∞`).
#[inline]
fn mul_ln(c: f64, ln_v: f64) -> f64 {
    if c == 0.0 {
        0.0
    } else {
        c * ln_v
    }
}

/// `ln(1 + z²/nu)` for `z = (x − loc)/scale`, without overflow when `z`
/// (or even `x − loc`) is beyond the float range.
#[inline]
fn ln1p_sq_over(x: f64, loc: f64, scale: f64, nu: f64) -> f64 {
    let z = (x - loc) / scale;
    let t = z * z / nu;
    if t.is_finite() {
        return t.ln_1p();
    }
    let d = x - loc;
    let ln_abs_d = if d.is_finite() {
        d.abs().ln()
    } else {
        (0.5 * x - 0.5 * loc).abs().ln() + std::f64::consts::LN_2
    };
    2.0 * (ln_abs_d - scale.ln()) - nu.ln()
}

impl Dist {
    /// The log density (continuous) or log mass (discrete) of `x`.
    ///
    /// `−∞` outside the support, for a NaN, and for an [`Outcome`] of the
    /// wrong variant (an `Int` passed to a `Real` distribution included);
    /// never NaN for valid input. No allocation except for `MvNormal` of
    /// dimension above 16.
    pub fn log_prob(&self, x: &Outcome) -> f64 {
        match (self, x) {
            (
                Dist::Normal {
                    mu,
                    sigma,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => {
                if x.is_nan() {
                    return NEG_INF;
                }
                let z = (x - mu) / sigma;
                log_norm - 0.5 * z * z
            }
            (
                Dist::LogNormal {
                    mu,
                    sigma,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => {
                if !(x > 0.0 && x.is_finite()) {
                    return NEG_INF;
                }
                let lx = x.ln();
                let z = (lx - mu) / sigma;
                log_norm - 0.5 * z * z - lx
            }
            (Dist::Uniform { lo, hi, log_norm }, &Outcome::Real(x)) => {
                if *lo <= x && x <= *hi {
                    *log_norm
                } else {
                    NEG_INF
                }
            }
            (Dist::Beta { a, b, ln_beta }, &Outcome::Real(x)) => {
                if !(0.0..=1.0).contains(&x) {
                    return NEG_INF;
                }
                mul_ln(a - 1.0, x.ln()) + mul_ln(b - 1.0, (-x).ln_1p()) - ln_beta
            }
            (
                Dist::Gamma {
                    shape,
                    rate,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => {
                if !(x >= 0.0 && x.is_finite()) {
                    return NEG_INF;
                }
                log_norm + mul_ln(shape - 1.0, x.ln()) - rate * x
            }
            (
                Dist::InvGamma {
                    shape,
                    scale,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => {
                if !(x > 0.0 && x.is_finite()) {
                    return NEG_INF;
                }
                log_norm - (shape + 1.0) * x.ln() - scale / x
            }
            (Dist::Exponential { rate, ln_rate }, &Outcome::Real(x)) => {
                if !(x >= 0.0 && x.is_finite()) {
                    return NEG_INF;
                }
                ln_rate - rate * x
            }
            (
                Dist::Cauchy {
                    loc,
                    scale,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => {
                if !x.is_finite() {
                    return NEG_INF;
                }
                log_norm - ln1p_sq_over(x, *loc, *scale, 1.0)
            }
            (
                Dist::StudentT {
                    nu,
                    mu,
                    sigma,
                    log_norm,
                },
                &Outcome::Real(x),
            ) => {
                if !x.is_finite() {
                    return NEG_INF;
                }
                log_norm - 0.5 * (nu + 1.0) * ln1p_sq_over(x, *mu, *sigma, *nu)
            }
            (Dist::Bernoulli { ln_p, ln_q, .. }, &Outcome::Bool(b)) => {
                if b {
                    *ln_p
                } else {
                    *ln_q
                }
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
                if k < 0 || k > *n {
                    return NEG_INF;
                }
                if k == 0 {
                    return mul_ln(*n as f64, *ln_q);
                }
                if k == *n {
                    return mul_ln(*n as f64, *ln_p);
                }
                if *p == 0.0 || *p == 1.0 {
                    return NEG_INF;
                }
                // Loader's saddle-point form: no cancellation between ln Γ terms.
                let (nf, kf) = (*n as f64, k as f64);
                let m = nf - kf;
                stirlerr_n
                    - stirlerr(kf)
                    - stirlerr(m)
                    - bd0(kf, nf * p)
                    - bd0(m, nf * (1.0 - p))
                    - 0.5 * (LN_2PI + kf.ln() + (-kf / nf).ln_1p())
            }
            (Dist::Poisson { rate, .. }, &Outcome::Int(k)) => {
                if k < 0 {
                    return NEG_INF;
                }
                if k == 0 {
                    return -rate;
                }
                if *rate == 0.0 {
                    return NEG_INF;
                }
                let kf = k as f64;
                -stirlerr(kf) - bd0(kf, *rate) - 0.5 * (LN_2PI + kf.ln())
            }
            (Dist::Geometric { ln_p, ln_q, .. }, &Outcome::Int(k)) => {
                if k < 0 {
                    return NEG_INF;
                }
                mul_ln(k as f64, *ln_q) + ln_p
            }
            (Dist::Categorical { ln_ps, .. }, &Outcome::Int(k)) => {
                if k < 0 {
                    return NEG_INF;
                }
                ln_ps.get(k as usize).copied().unwrap_or(NEG_INF)
            }
            (Dist::DiscreteUniform { lo, hi, log_norm }, &Outcome::Int(k)) => {
                if *lo <= k && k <= *hi {
                    *log_norm
                } else {
                    NEG_INF
                }
            }
            (Dist::Dirichlet { alpha, log_norm }, Outcome::Vector(x)) => {
                dirichlet_log_prob(alpha, *log_norm, x)
            }
            (
                Dist::MvNormal {
                    mu, chol, log_norm, ..
                },
                Outcome::Vector(x),
            ) => mv_normal_log_prob(mu, chol, *log_norm, x),
            _ => NEG_INF,
        }
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
