//! Univariate CDFs and quantile functions, used for counterfactual noise
//! coupling (`u = F(x)`, `x' = F'⁻¹(u)`).
//!
//! For discrete distributions `cdf(x) = P(X <= x)` and `quantile(u)` is the
//! smallest `x` with `cdf(x) >= u` — computed by searching with the very
//! same `cdf` function, so `quantile(cdf(x)) == x` for every `x` of positive
//! probability whose CDF step is representable. `quantile(0)` is the
//! smallest value of positive probability (not a value the distribution can
//! never produce). Bernoulli is ordered `false < true`.
//!
//! Continuous quantiles use closed forms where they exist and otherwise
//! safeguarded Newton iterations on the logarithm of whichever CDF tail is
//! smaller (see `special::inv_inc_beta`, `special::gamma_p_inv`), so they
//! stay accurate far into both tails.

use std::f64::consts::PI;

use crate::special::{
    beta_lower_inv_ln, beta_upper_inv_ln, gamma_p, gamma_p_inv, gamma_q, gamma_q_inv, inc_beta,
    inc_beta_pq, inv_inc_beta, ln_beta, normal_cdf, normal_quantile,
};
use crate::{Dist, Outcome};

impl Dist {
    /// `P(X <= x)` for a univariate distribution; `None` for multivariate
    /// ones, a NaN, or an [`Outcome`] of the wrong variant.
    pub fn cdf(&self, x: &Outcome) -> Option<f64> {
        Some(match (self, x) {
            (_, Outcome::Real(x)) if x.is_nan() => return None,
            (Dist::Normal { mu, sigma, .. }, &Outcome::Real(x)) => normal_cdf((x - mu) / sigma),
            (Dist::LogNormal { mu, sigma, .. }, &Outcome::Real(x)) => {
                if x <= 0.0 {
                    0.0
                } else {
                    normal_cdf((x.ln() - mu) / sigma)
                }
            }
            (Dist::Uniform { lo, hi, .. }, &Outcome::Real(x)) => {
                if x <= *lo {
                    0.0
                } else if x >= *hi {
                    1.0
                } else {
                    let w = hi - lo;
                    let f = if w.is_finite() {
                        (x - lo) / w
                    } else {
                        (0.5 * x - 0.5 * lo) / (0.5 * hi - 0.5 * lo)
                    };
                    f.clamp(0.0, 1.0)
                }
            }
            (Dist::Beta { a, b, .. }, &Outcome::Real(x)) => inc_beta(x, *a, *b),
            (Dist::Gamma { shape, rate, .. }, &Outcome::Real(x)) => {
                if x <= 0.0 {
                    0.0
                } else {
                    gamma_p(*shape, rate * x)
                }
            }
            (Dist::InvGamma { shape, scale, .. }, &Outcome::Real(x)) => {
                if x <= 0.0 {
                    0.0
                } else {
                    gamma_q(*shape, scale / x)
                }
            }
            (Dist::Exponential { rate, .. }, &Outcome::Real(x)) => {
                if x <= 0.0 {
                    0.0
                } else {
                    -(-rate * x).exp_m1()
                }
            }
            (Dist::Cauchy { loc, scale, .. }, &Outcome::Real(x)) => {
                let z = (x - loc) / scale;
                if z < 0.0 {
                    // 1/2 + atan(z)/π = atan(−1/z)/π, accurate far in the lower tail.
                    (-1.0 / z).atan() / PI
                } else {
                    0.5 + z.atan() / PI
                }
            }
            (Dist::StudentT { nu, mu, sigma, .. }, &Outcome::Real(x)) => {
                let t = (x - mu) / sigma;
                let tail = student_upper_tail(t.abs(), *nu);
                if t < 0.0 {
                    tail
                } else {
                    1.0 - tail
                }
            }
            (Dist::Bernoulli { p, .. }, &Outcome::Bool(b)) => {
                if b {
                    1.0
                } else {
                    1.0 - p
                }
            }
            (Dist::Binomial { .. }, &Outcome::Int(k))
            | (Dist::Poisson { .. }, &Outcome::Int(k))
            | (Dist::Geometric { .. }, &Outcome::Int(k))
            | (Dist::Categorical { .. }, &Outcome::Int(k))
            | (Dist::DiscreteUniform { .. }, &Outcome::Int(k)) => self.int_cdf(k),
            (Dist::Family { kind, params, .. }, x) => return crate::family::cdf(*kind, params, x),
            _ => return None,
        })
    }

    /// `P(X <= k)` for the integer-valued distributions (0 otherwise).
    fn int_cdf(&self, k: i64) -> f64 {
        match self {
            Dist::Binomial { n, p, .. } => {
                if k < 0 {
                    0.0
                } else if k >= *n || *p == 0.0 {
                    1.0
                } else if *p == 1.0 {
                    0.0
                } else {
                    inc_beta(1.0 - p, (n - k) as f64, k as f64 + 1.0)
                }
            }
            Dist::Poisson { rate, .. } => {
                if k < 0 {
                    0.0
                } else if *rate == 0.0 {
                    1.0
                } else {
                    gamma_q(k as f64 + 1.0, *rate)
                }
            }
            Dist::Geometric { ln_q, .. } => {
                if k < 0 {
                    0.0
                } else {
                    -((k as f64 + 1.0) * ln_q).exp_m1()
                }
            }
            Dist::Categorical { ps, .. } => {
                if k < 0 {
                    0.0
                } else if k as u64 >= ps.len() as u64 - 1 {
                    1.0
                } else {
                    ps[..=k as usize].iter().sum::<f64>().min(1.0)
                }
            }
            Dist::DiscreteUniform { lo, hi, .. } => {
                if k < *lo {
                    0.0
                } else if k >= *hi {
                    1.0
                } else {
                    let count = (*hi as i128 - *lo as i128 + 1) as f64;
                    (k as i128 - *lo as i128 + 1) as f64 / count
                }
            }
            _ => 0.0,
        }
    }

    /// The quantile function `F⁻¹(u)` for `u` in `[0, 1]`; `None` for
    /// multivariate distributions and for `u` outside `[0, 1]` or NaN.
    /// Continuous quantiles at 0 and 1 are the ends of the support (possibly
    /// infinite).
    pub fn quantile(&self, u: f64) -> Option<Outcome> {
        if !(0.0..=1.0).contains(&u) {
            return None;
        }
        Some(match self {
            Dist::Normal { mu, sigma, .. } => Outcome::Real(mu + sigma * normal_quantile(u)),
            Dist::LogNormal { mu, sigma, .. } => {
                Outcome::Real((mu + sigma * normal_quantile(u)).exp())
            }
            Dist::Uniform { lo, hi, .. } => {
                let w = hi - lo;
                let x = if u >= 1.0 {
                    *hi
                } else if w.is_finite() {
                    lo + u * w
                } else {
                    lo * (1.0 - u) + hi * u
                };
                Outcome::Real(x.clamp(*lo, *hi))
            }
            Dist::Beta { a, b, .. } => Outcome::Real(inv_inc_beta(u, *a, *b)),
            Dist::Gamma { shape, rate, .. } => Outcome::Real(gamma_p_inv(*shape, u) / rate),
            Dist::InvGamma { shape, scale, .. } => Outcome::Real(scale / gamma_q_inv(*shape, u)),
            Dist::Exponential { rate, .. } => Outcome::Real(-(-u).ln_1p() / rate),
            Dist::Cauchy { loc, scale, .. } => {
                let z = if u < 0.5 {
                    -1.0 / (PI * u).tan()
                } else if u > 0.5 {
                    1.0 / (PI * (1.0 - u)).tan()
                } else {
                    0.0
                };
                Outcome::Real(loc + scale * z)
            }
            Dist::StudentT { nu, mu, sigma, .. } => {
                let t = if u < 0.5 {
                    -student_tail_inv(u, *nu)
                } else if u > 0.5 {
                    student_tail_inv(1.0 - u, *nu)
                } else {
                    0.0
                };
                Outcome::Real(mu + sigma * t)
            }
            Dist::Bernoulli { .. } => {
                let k = discrete_quantile(u, 0, 1, 0, |k| {
                    self.cdf(&Outcome::Bool(k != 0)).unwrap_or(1.0)
                });
                Outcome::Bool(k == 1)
            }
            Dist::Binomial { n, p, .. } => {
                let nf = *n as f64;
                let guess = nf * p + (nf * p * (1.0 - p)).sqrt() * normal_quantile(u);
                Outcome::Int(discrete_quantile(u, 0, *n, round_guess(guess), |k| {
                    self.int_cdf(k)
                }))
            }
            Dist::Poisson { rate, .. } => {
                let guess = rate + rate.sqrt() * normal_quantile(u);
                Outcome::Int(discrete_quantile(u, 0, i64::MAX, round_guess(guess), |k| {
                    self.int_cdf(k)
                }))
            }
            Dist::Geometric { ln_q, .. } => {
                // cdf(k) >= u  ⟺  (k + 1) ln q <= ln(1 − u).
                let guess = (-u).ln_1p() / ln_q - 1.0;
                Outcome::Int(discrete_quantile(
                    u,
                    0,
                    i64::MAX,
                    round_guess(guess.ceil()),
                    |k| self.int_cdf(k),
                ))
            }
            Dist::Categorical { ps, .. } => {
                let target = u.max(f64::MIN_POSITIVE);
                let last = ps.len() - 1;
                let mut cum = 0.0;
                let mut k = last;
                for (i, p) in ps.iter().enumerate() {
                    cum += p;
                    if i == last || cum.min(1.0) >= target {
                        k = i;
                        break;
                    }
                }
                Outcome::Int(k as i64)
            }
            Dist::DiscreteUniform { lo, hi, .. } => {
                let count = (*hi as i128 - *lo as i128 + 1) as f64;
                let guess = *lo as f64 + (u * count).ceil() - 1.0;
                Outcome::Int(discrete_quantile(u, *lo, *hi, round_guess(guess), |k| {
                    self.int_cdf(k)
                }))
            }
            Dist::Dirichlet { .. } | Dist::MvNormal { .. } | Dist::MvNormalCholesky { .. } => {
                return None
            }
            Dist::Family { kind, params, .. } => return crate::family::quantile(*kind, params, u),
        })
    }
}

/// A real guess as an `i64`, saturating (NaN gives 0).
pub(crate) fn round_guess(x: f64) -> i64 {
    if x.is_nan() {
        0
    } else {
        x.round() as i64
    }
}

/// The smallest `k` in `[lo, hi]` with `cdf(k) >= u` (with `cdf(hi)` taken
/// as 1), for a non-decreasing `cdf`; `u = 0` is raised to the smallest
/// positive number so the answer has positive probability. Searches
/// outward from `guess` with doubling steps, then bisects.
pub(crate) fn discrete_quantile(
    u: f64,
    lo: i64,
    hi: i64,
    guess: i64,
    cdf: impl Fn(i64) -> f64,
) -> i64 {
    let u = u.max(f64::MIN_POSITIVE);
    let ok = |k: i64| k >= hi || cdf(k) >= u;
    let start = guess.clamp(lo, hi);
    // Invariant once found: !ok(bad) (or bad == lo − 1), ok(good), bad < good.
    let (mut bad, mut good);
    if ok(start) {
        good = start;
        let mut step: i64 = 1;
        loop {
            if good == lo {
                return lo;
            }
            let probe = good.saturating_sub(step).max(lo);
            if ok(probe) {
                good = probe;
                step = step.saturating_mul(2);
            } else {
                bad = probe;
                break;
            }
        }
    } else {
        bad = start;
        let mut step: i64 = 1;
        loop {
            let probe = bad.saturating_add(step).min(hi);
            if ok(probe) {
                good = probe;
                break;
            }
            bad = probe;
            step = step.saturating_mul(2);
        }
    }
    while good - bad > 1 {
        let mid = bad + (good - bad) / 2;
        if ok(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

/// `P(T > t)` for a standard Student-t with `nu` degrees of freedom and
/// `t >= 0`: `½ I_x(ν/2, ½)` with `x = ν/(ν+t²)` when `t² >= ν` (so
/// `x <= ½` is well represented), else `½ (1 − I_y(½, ν/2))` with the small
/// `y = t²/(ν+t²)` and the upper tail computed directly.
pub(crate) fn student_upper_tail(t: f64, nu: f64) -> f64 {
    let t2 = t * t;
    let a = 0.5 * nu;
    if t2 < nu {
        return 0.5 * inc_beta_pq(t2 / (nu + t2), 0.5, a).1;
    }
    // ln x, valid even where t² overflows.
    let ln_x = nu.ln() - 2.0 * t.ln() - (nu / t2).ln_1p();
    if ln_x < -600.0 {
        // I_x(a, ½) = x^a / (a B(a, ½)) · (1 + O(x)), exact here.
        return 0.5 * (a * ln_x - a.ln() - ln_beta(a, 0.5)).exp();
    }
    0.5 * inc_beta(nu / (nu + t2), a, 0.5)
}

/// The `t >= 0` with `P(T > t) = p` for `p` in `(0, ½]`. With
/// `x = ν/(ν+t²)`, `2p = I_x(ν/2, ½)`; with `y = 1 − x = t²/(ν+t²)`,
/// `2p = 1 − I_y(½, ν/2)`. Solve for `ln x` first (accurate when `x <= ½`,
/// i.e. `t² >= ν`, however large `t` is); if `x` is above ½, solve for the
/// small `y` instead, so `1 − x` never has to be formed.
pub(crate) fn student_tail_inv(p: f64, nu: f64) -> f64 {
    if p <= 0.0 {
        return f64::INFINITY;
    }
    let p2 = 2.0 * p;
    let ln_x = beta_lower_inv_ln(0.5 * nu, 0.5, p2);
    if ln_x <= -std::f64::consts::LN_2 {
        // t = √(ν (1 − x) / x), in log space: x may underflow far in the tail.
        (0.5 * (nu.ln() + (-ln_x.exp()).ln_1p() - ln_x)).exp()
    } else {
        // y < ½ solves 1 − I_y(½, ν/2) = 2p, with the upper tail computed
        // directly (1 − 2p would lose a small p).
        let y = beta_upper_inv_ln(0.5, 0.5 * nu, p2).exp();
        (nu * y / (1.0 - y)).sqrt()
    }
}
