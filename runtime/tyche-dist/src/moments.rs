//! Supports, means and variances.
//!
//! Conventions: `mean` and `variance` are `None` where the moment does not
//! exist (Cauchy; StudentT's mean for `nu <= 1`), and `Some(+∞)` where it
//! diverges to infinity (InvGamma's mean for `shape <= 1`; StudentT's
//! variance for `1 < nu <= 2`). The mean of an integer or boolean
//! distribution is a `Real`.

use crate::{Dist, Outcome};

/// The largest finite support [`Dist::support`] materialises; larger ones
/// (e.g. `DiscreteUniform(0, 1_000_000_000)`) give `None` there, while
/// [`Dist::support_size`] still reports their size.
pub const MAX_SUPPORT_LEN: u64 = 1 << 24;

impl Dist {
    /// The number of values in a finite support, `None` for infinite or
    /// continuous supports. Counts every value in the range, including
    /// Categorical entries of probability zero.
    pub fn support_size(&self) -> Option<u64> {
        match self {
            Dist::Family { kind, params, .. } => match kind.family().support {
                crate::family::Support::Boolean => Some(2),
                crate::family::Support::UpTo(i) => Some(params[i] as u64 + 1),
                _ => None,
            },
            Dist::Bernoulli { .. } => Some(2),
            Dist::Binomial { n, .. } => Some(*n as u64 + 1),
            Dist::Categorical { ps, .. } => Some(ps.len() as u64),
            Dist::DiscreteUniform { lo, hi, .. } => {
                Some(u64::try_from(*hi as i128 - *lo as i128 + 1).unwrap_or(u64::MAX))
            }
            _ => None,
        }
    }

    /// The finite support in ascending order (Bernoulli: `[false, true]`;
    /// Binomial `0..=n`; Categorical `0..len`, zero-probability entries
    /// included; DiscreteUniform `lo..=hi`). `None` for infinite or
    /// continuous supports (Poisson, Geometric, continuous) and for supports
    /// larger than [`MAX_SUPPORT_LEN`].
    pub fn support(&self) -> Option<Vec<Outcome>> {
        if self.support_size()? > MAX_SUPPORT_LEN {
            return None;
        }
        Some(match self {
            Dist::Bernoulli { .. } => vec![Outcome::Bool(false), Outcome::Bool(true)],
            Dist::Binomial { n, .. } => (0..=*n).map(Outcome::Int).collect(),
            Dist::Categorical { ps, .. } => (0..ps.len() as i64).map(Outcome::Int).collect(),
            Dist::DiscreteUniform { lo, hi, .. } => (*lo..=*hi).map(Outcome::Int).collect(),
            Dist::Family { kind, params, .. } => match kind.family().support {
                crate::family::Support::Boolean => {
                    vec![Outcome::Bool(false), Outcome::Bool(true)]
                }
                crate::family::Support::UpTo(i) => {
                    (0..=params[i] as i64).map(Outcome::Int).collect()
                }
                _ => return None,
            },
            _ => return None,
        })
    }

    /// The mean: a `Real` for univariate distributions (integer and boolean
    /// ones included), a `Vector` for Dirichlet and MvNormal. `None` where it
    /// does not exist.
    pub fn mean(&self) -> Option<Outcome> {
        let m = match self {
            Dist::Normal { mu, .. } => *mu,
            Dist::LogNormal { mu, sigma, .. } => (mu + 0.5 * sigma * sigma).exp(),
            Dist::Uniform { lo, hi, .. } => 0.5 * lo + 0.5 * hi,
            Dist::Beta { a, b, .. } => a / (a + b),
            Dist::Gamma { shape, rate, .. } => shape / rate,
            Dist::InvGamma { shape, scale, .. } => {
                if *shape > 1.0 {
                    scale / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            Dist::Exponential { rate, .. } => 1.0 / rate,
            Dist::Cauchy { .. } => return None,
            Dist::StudentT { nu, mu, .. } => {
                if *nu > 1.0 {
                    *mu
                } else {
                    return None;
                }
            }
            Dist::Bernoulli { p, .. } => *p,
            Dist::Binomial { n, p, .. } => *n as f64 * p,
            Dist::Poisson { rate, .. } => *rate,
            Dist::Geometric { p, .. } => (1.0 - p) / p,
            Dist::Categorical { ps, .. } => ps.iter().enumerate().map(|(k, p)| k as f64 * p).sum(),
            Dist::DiscreteUniform { lo, hi, .. } => 0.5 * *lo as f64 + 0.5 * *hi as f64,
            Dist::Dirichlet { alpha, .. } => {
                let s: f64 = alpha.iter().sum();
                return Some(Outcome::Vector(alpha.iter().map(|a| a / s).collect()));
            }
            Dist::MvNormal { mu, .. } | Dist::MvNormalCholesky { mu, .. } => {
                return Some(Outcome::Vector(mu.clone()))
            }
            Dist::Family { kind, params, .. } => crate::family::mean(*kind, params)?,
        };
        Some(Outcome::Real(m))
    }

    /// The variance of a univariate distribution; `None` for multivariate
    /// ones and where it does not exist.
    pub fn variance(&self) -> Option<f64> {
        Some(match self {
            Dist::Normal { sigma, .. } => sigma * sigma,
            Dist::LogNormal { mu, sigma, .. } => {
                let s2 = sigma * sigma;
                s2.exp_m1() * (2.0 * mu + s2).exp()
            }
            Dist::Uniform { lo, hi, .. } => {
                let w = 0.5 * hi - 0.5 * lo;
                w * w / 3.0
            }
            Dist::Beta { a, b, .. } => {
                let s = a + b;
                a * b / (s * s * (s + 1.0))
            }
            Dist::Gamma { shape, rate, .. } => shape / (rate * rate),
            Dist::InvGamma { shape, scale, .. } => {
                if *shape > 2.0 {
                    let d = shape - 1.0;
                    scale * scale / (d * d * (shape - 2.0))
                } else if *shape > 1.0 {
                    f64::INFINITY
                } else {
                    return None;
                }
            }
            Dist::Exponential { rate, .. } => 1.0 / (rate * rate),
            Dist::Cauchy { .. } => return None,
            Dist::StudentT { nu, sigma, .. } => {
                if *nu > 2.0 {
                    sigma * sigma * nu / (nu - 2.0)
                } else if *nu > 1.0 {
                    f64::INFINITY
                } else {
                    return None;
                }
            }
            Dist::Bernoulli { p, .. } => p * (1.0 - p),
            Dist::Binomial { n, p, .. } => *n as f64 * p * (1.0 - p),
            Dist::Poisson { rate, .. } => *rate,
            Dist::Geometric { p, .. } => (1.0 - p) / (p * p),
            Dist::Categorical { ps, .. } => {
                let m: f64 = ps.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
                ps.iter()
                    .enumerate()
                    .map(|(k, p)| (k as f64 - m).powi(2) * p)
                    .sum()
            }
            Dist::DiscreteUniform { lo, hi, .. } => {
                let n = (*hi as i128 - *lo as i128 + 1) as f64;
                (n * n - 1.0) / 12.0
            }
            Dist::Dirichlet { .. } | Dist::MvNormal { .. } | Dist::MvNormalCholesky { .. } => {
                return None
            }
            Dist::Family { kind, params, .. } => crate::family::variance(*kind, params)?,
        })
    }
}
