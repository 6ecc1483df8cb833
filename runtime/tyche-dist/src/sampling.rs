//! Drawing from a [`Dist`], with `rand_distr` samplers where it has the
//! distribution (translated to Stan's parameterisations: `rand_distr`'s
//! Gamma takes a *scale*, so a `Gamma(shape, rate)` draw is a standard
//! Gamma draw divided by the rate). Dirichlet is normalised Gammas (in log
//! space when an alpha is below one, so tiny alphas do not underflow to
//! 0/0), MvNormal is `mu + L z` with the Cholesky factor `L`.
//!
//! Draws that floating point would round onto a boundary of the support or
//! past the largest float are clamped into the open support (e.g. a
//! `Gamma(0.01, 1)` draw below 1e-308 becomes the smallest positive float,
//! a `Beta` draw that rounds to 1 becomes the largest float below 1), so
//! the log density of every sample is finite.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::{Dist, Outcome};

/// The smallest positive `f64` (a subnormal).
const TINY: f64 = 5e-324;
/// The largest `f64` below 1.
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// Clamps a positive draw into `(0, ∞)`.
#[inline]
fn positive(x: f64) -> f64 {
    x.clamp(TINY, f64::MAX)
}

/// A standard Gamma(shape, 1) draw.
#[inline]
fn std_gamma<R: Rng + ?Sized>(shape: f64, rng: &mut R) -> f64 {
    // `shape` is validated finite and positive, so `new` cannot fail.
    rand_distr::Gamma::new(shape, 1.0).map_or(f64::NAN, |g| g.sample(rng))
}

/// `ln` of a standard Gamma(shape, 1) draw, accurate for tiny shapes:
/// `G(a) = G(a + 1) · U^(1/a)`, so `ln G(a) = ln G(a + 1) + ln(U) / a`.
fn ln_std_gamma<R: Rng + ?Sized>(shape: f64, rng: &mut R) -> f64 {
    if shape >= 1.0 {
        return std_gamma(shape, rng).ln();
    }
    let g = std_gamma(shape + 1.0, rng);
    // U in (0, 1]: ln U is finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    g.ln() + u.ln() / shape
}

impl Dist {
    /// Draws one value. No allocation except for `Dirichlet` and `MvNormal`,
    /// whose values are vectors.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Outcome {
        match self {
            Dist::Normal { mu, sigma, .. } => {
                let z: f64 = StandardNormal.sample(rng);
                Outcome::Real(mu + sigma * z)
            }
            Dist::LogNormal { mu, sigma, .. } => {
                let z: f64 = StandardNormal.sample(rng);
                Outcome::Real(positive((mu + sigma * z).exp()))
            }
            Dist::Uniform { lo, hi, .. } => {
                let u: f64 = rng.random();
                let width = hi - lo;
                let x = if width.is_finite() {
                    lo + u * width
                } else {
                    lo * (1.0 - u) + hi * u
                };
                Outcome::Real(x.clamp(*lo, *hi))
            }
            Dist::Beta { a, b, .. } => {
                let x = rand_distr::Beta::new(*a, *b).map_or(f64::NAN, |d| d.sample(rng));
                Outcome::Real(x.clamp(TINY, BELOW_ONE))
            }
            Dist::Gamma { shape, rate, .. } => {
                Outcome::Real(positive(std_gamma(*shape, rng) / rate))
            }
            Dist::InvGamma { shape, scale, .. } => {
                Outcome::Real(positive(scale / std_gamma(*shape, rng)))
            }
            Dist::Exponential { rate, .. } => {
                let e: f64 = Exp1.sample(rng);
                Outcome::Real((e / rate).min(f64::MAX))
            }
            Dist::Cauchy { loc, scale, .. } => {
                // Ratio of independent standard normals is standard Cauchy.
                let x = rand_distr::Cauchy::new(0.0, 1.0).map_or(f64::NAN, |d| d.sample(rng));
                Outcome::Real((loc + scale * x).clamp(-f64::MAX, f64::MAX))
            }
            Dist::StudentT { nu, mu, sigma, .. } => {
                let t = rand_distr::StudentT::new(*nu).map_or(f64::NAN, |d| d.sample(rng));
                Outcome::Real((mu + sigma * t).clamp(-f64::MAX, f64::MAX))
            }
            Dist::Bernoulli { p, .. } => {
                let u: f64 = rng.random();
                Outcome::Bool(u < *p)
            }
            Dist::Binomial { n, p, .. } => {
                let k = rand_distr::Binomial::new(*n as u64, *p).map_or(0, |d| d.sample(rng));
                Outcome::Int(k as i64)
            }
            Dist::Poisson { rate, .. } => {
                if *rate == 0.0 {
                    return Outcome::Int(0);
                }
                let k: f64 = rand_distr::Poisson::new(*rate).map_or(0.0, |d| d.sample(rng));
                // `as` saturates; rates are capped well below i64::MAX.
                Outcome::Int(k as i64)
            }
            Dist::Geometric { p, .. } => {
                let k = rand_distr::Geometric::new(*p).map_or(0, |d| d.sample(rng));
                Outcome::Int(k.min(i64::MAX as u64) as i64)
            }
            Dist::Categorical { ps, .. } => {
                let u: f64 = rng.random();
                Outcome::Int(categorical_index(ps, u) as i64)
            }
            Dist::DiscreteUniform { lo, hi, .. } => Outcome::Int(rng.random_range(*lo..=*hi)),
            Dist::Dirichlet { alpha, .. } => Outcome::Vector(sample_dirichlet(alpha, rng)),
            Dist::Family {
                kind,
                params,
                consts,
            } => {
                let mut rng = rng;
                crate::family::sample(*kind, params, consts, &mut rng)
            }
            Dist::MvNormal { mu, chol, .. } => {
                let k = mu.len();
                let z: Vec<f64> = (0..k).map(|_| StandardNormal.sample(rng)).collect();
                let x = (0..k)
                    .map(|i| mu[i] + (0..=i).map(|j| chol[(i, j)] * z[j]).sum::<f64>())
                    .collect();
                Outcome::Vector(x)
            }
            Dist::MvNormalCholesky { mu, chol } => {
                let k = mu.len();
                let z: Vec<f64> = (0..k).map(|_| StandardNormal.sample(rng)).collect();
                let x = (0..k)
                    .map(|i| mu[i] + (0..=i).map(|j| chol[i][j] * z[j]).sum::<f64>())
                    .collect();
                Outcome::Vector(x)
            }
        }
    }
}

/// The index `i` with `Σ_{j<i} ps[j] <= u < Σ_{j<=i} ps[j]`, never one of
/// probability zero (rounding in the running sum falls back to the last
/// index with positive probability).
fn categorical_index(ps: &[f64], u: f64) -> usize {
    let mut cum = 0.0;
    let mut last_positive = 0;
    for (i, &p) in ps.iter().enumerate() {
        if p > 0.0 {
            cum += p;
            if u < cum {
                return i;
            }
            last_positive = i;
        }
    }
    last_positive
}

fn sample_dirichlet<R: Rng + ?Sized>(alpha: &[f64], rng: &mut R) -> Vec<f64> {
    if alpha.iter().all(|&a| a >= 1.0) {
        let mut g: Vec<f64> = alpha.iter().map(|&a| std_gamma(a, rng)).collect();
        let sum: f64 = g.iter().sum();
        if sum > 0.0 && sum.is_finite() {
            g.iter_mut().for_each(|x| *x = (*x / sum).max(TINY));
            return g;
        }
    }
    // Log space: x_i = exp(ln g_i − ln Σ g_j).
    let mut lg: Vec<f64> = alpha.iter().map(|&a| ln_std_gamma(a, rng)).collect();
    let lse = crate::special::log_sum_exp(&lg);
    if !lse.is_finite() {
        // Every log-Gamma underflowed: all mass on the largest one.
        let best = (0..lg.len()).fold(0, |b, i| if lg[i] > lg[b] { i } else { b });
        return (0..lg.len())
            .map(|i| if i == best { 1.0 } else { TINY })
            .collect();
    }
    lg.iter_mut().for_each(|x| *x = (*x - lse).exp().max(TINY));
    lg
}
