//! `tyche-dist`: Tyche's standard distributions (language reference §6).
//!
//! A [`Dist`] is a validated distribution: [`Dist::new`] checks the
//! parameters once (returning a [`ParamError`] that names the distribution,
//! the parameter and the value) and precomputes normalising constants, so
//! [`Dist::log_prob`] and [`Dist::sample`] on scalar distributions are a few
//! floating-point operations with no allocation. Parameterisations are
//! Stan's: `Gamma(shape, rate)`, `InvGamma(shape, scale)`,
//! `StudentT(nu, mu, sigma)`, and `Geometric(p)` counts failures before the
//! first success.
//!
//! Code map:
//! - [`family`]: the registry, one file per distribution: its name,
//!   parameters, value type and support, and its log density written once
//!   over a [`math::Math`] backend (plain `f64` here; `tyche-jit`'s graph).
//! - [`math`]: that backend trait.
//! - `kind`: [`DistKind`], the names (read from the registry).
//! - `value`: [`Param`], [`Outcome`], [`ParamError`].
//! - `construct`: [`Dist::new`], validation and precomputation.
//! - `density`: [`Dist::log_prob`].
//! - `sampling`: [`Dist::sample`].
//! - `moments`: support, mean, variance.
//! - `cdf`: [`Dist::cdf`] and [`Dist::quantile`] (counterfactual noise).
//! - [`special`]: scalar special functions, also used by the interpreter.
//!
//! Architecture invariant: this crate knows nothing of traces, addresses or
//! the interpreter's value type; randomness is always an explicit `&mut`
//! generator argument.

mod cdf;
mod construct;
mod density;
pub mod family;
mod kind;
pub mod linalg;
pub mod math;
mod moments;
mod sampling;
pub mod special;
mod value;

pub use kind::DistKind;
pub use nalgebra::DMatrix;
pub use value::{Outcome, Param, ParamError};

/// A validated distribution.
///
/// Build one with [`Dist::new`] (or a shorthand such as [`Dist::normal`]);
/// each variant is `#[non_exhaustive]` because besides its parameters it
/// carries constants precomputed at construction (named `log_norm`, `ln_p`,
/// …), so outside this crate match with `..`, e.g.
/// `Dist::Normal { mu, sigma, .. }`.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// `Normal(mu, sigma)`; `log_norm = −ln σ − ½ ln 2π`.
    #[non_exhaustive]
    Normal { mu: f64, sigma: f64, log_norm: f64 },
    /// `LogNormal(mu, sigma)`; `log_norm = −ln σ − ½ ln 2π`.
    #[non_exhaustive]
    LogNormal { mu: f64, sigma: f64, log_norm: f64 },
    /// `Uniform(lo, hi)`; `log_norm = −ln(hi − lo)`.
    #[non_exhaustive]
    Uniform { lo: f64, hi: f64, log_norm: f64 },
    /// `Beta(a, b)`; `ln_beta = ln B(a, b)`.
    #[non_exhaustive]
    Beta { a: f64, b: f64, ln_beta: f64 },
    /// `Gamma(shape, rate)`; `log_norm = shape ln rate − ln Γ(shape)`.
    #[non_exhaustive]
    Gamma {
        shape: f64,
        rate: f64,
        log_norm: f64,
    },
    /// `InvGamma(shape, scale)`; `log_norm = shape ln scale − ln Γ(shape)`.
    #[non_exhaustive]
    InvGamma {
        shape: f64,
        scale: f64,
        log_norm: f64,
    },
    /// `Exponential(rate)`.
    #[non_exhaustive]
    Exponential { rate: f64, ln_rate: f64 },
    /// `Cauchy(loc, scale)`; `log_norm = −ln(π scale)`.
    #[non_exhaustive]
    Cauchy { loc: f64, scale: f64, log_norm: f64 },
    /// `StudentT(nu, mu, sigma)`;
    /// `log_norm = ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ) − ln σ`.
    #[non_exhaustive]
    StudentT {
        nu: f64,
        mu: f64,
        sigma: f64,
        log_norm: f64,
    },
    /// `Bernoulli(p)`; `ln_p = ln p`, `ln_q = ln(1 − p)`.
    #[non_exhaustive]
    Bernoulli { p: f64, ln_p: f64, ln_q: f64 },
    /// `Binomial(n, p)`; `stirlerr_n` is Stirling's error for `n!`
    /// (see [`special::stirlerr`]).
    #[non_exhaustive]
    Binomial {
        n: i64,
        p: f64,
        ln_p: f64,
        ln_q: f64,
        stirlerr_n: f64,
    },
    /// `Poisson(rate)` (rate 0 is the point mass at 0).
    #[non_exhaustive]
    Poisson { rate: f64, ln_rate: f64 },
    /// `Geometric(p)`: failures before the first success, `P(k) = (1−p)^k p`.
    #[non_exhaustive]
    Geometric { p: f64, ln_p: f64, ln_q: f64 },
    /// `Categorical(ps)` on `0..ps.len()`; `ps` normalised, `ln_ps` their logs.
    #[non_exhaustive]
    Categorical { ps: Vec<f64>, ln_ps: Vec<f64> },
    /// `DiscreteUniform(lo, hi)` on `lo..=hi`; `log_norm = −ln(hi − lo + 1)`.
    #[non_exhaustive]
    DiscreteUniform { lo: i64, hi: i64, log_norm: f64 },
    /// `Dirichlet(alphas)`; `log_norm = ln Γ(Σα) − Σ ln Γ(αᵢ)`.
    #[non_exhaustive]
    Dirichlet { alpha: Vec<f64>, log_norm: f64 },
    /// `MvNormal(mu, cov)`; `chol` is the lower Cholesky factor `L` of `cov`
    /// (`cov = L Lᵀ`), `log_norm = −½ k ln 2π − ½ ln det cov`.
    #[non_exhaustive]
    MvNormal {
        mu: Vec<f64>,
        cov: DMatrix<f64>,
        chol: DMatrix<f64>,
        log_norm: f64,
    },
    /// `MvNormalCholesky(mu, L)`: `chol` is `L` as rows (its upper
    /// triangle as given, never read).
    #[non_exhaustive]
    MvNormalCholesky { mu: Vec<f64>, chol: Vec<Vec<f64>> },
    /// A distribution defined only in its registry file (HalfNormal,
    /// Laplace, … see [`family`]): its parameters in
    /// `kind.param_names()` order (an `Int` parameter as its exact `f64`;
    /// unused slots 0) and the constants its density precomputes.
    #[non_exhaustive]
    Family {
        kind: DistKind,
        params: [f64; 3],
        consts: [f64; 3],
    },
}

impl Dist {
    /// Which distribution this is.
    pub fn kind(&self) -> DistKind {
        match self {
            Dist::Normal { .. } => DistKind::Normal,
            Dist::LogNormal { .. } => DistKind::LogNormal,
            Dist::Uniform { .. } => DistKind::Uniform,
            Dist::Beta { .. } => DistKind::Beta,
            Dist::Gamma { .. } => DistKind::Gamma,
            Dist::InvGamma { .. } => DistKind::InvGamma,
            Dist::Exponential { .. } => DistKind::Exponential,
            Dist::Cauchy { .. } => DistKind::Cauchy,
            Dist::StudentT { .. } => DistKind::StudentT,
            Dist::Bernoulli { .. } => DistKind::Bernoulli,
            Dist::Binomial { .. } => DistKind::Binomial,
            Dist::Poisson { .. } => DistKind::Poisson,
            Dist::Geometric { .. } => DistKind::Geometric,
            Dist::Categorical { .. } => DistKind::Categorical,
            Dist::DiscreteUniform { .. } => DistKind::DiscreteUniform,
            Dist::Dirichlet { .. } => DistKind::Dirichlet,
            Dist::MvNormal { .. } => DistKind::MvNormal,
            Dist::MvNormalCholesky { .. } => DistKind::MvNormalCholesky,
            Dist::Family { kind, .. } => *kind,
        }
    }

    /// Whether values are integers or booleans (a probability mass
    /// function rather than a density).
    pub fn is_discrete(&self) -> bool {
        self.kind().is_discrete()
    }

    /// The value type's name for messages: "Real", "Int", "Bool", "[Real]".
    pub fn value_type_name(&self) -> &'static str {
        self.kind().value_type_name()
    }

    /// The parameters of a scalar distribution as reals, in
    /// `kind().param_names()` order (an `Int` parameter as its `f64`);
    /// `None` for Categorical, Dirichlet and MvNormal, whose parameters
    /// are vectors.
    pub fn scalar_params(&self) -> Option<Vec<f64>> {
        Some(match self {
            Dist::Normal { mu, sigma, .. } | Dist::LogNormal { mu, sigma, .. } => vec![*mu, *sigma],
            Dist::Uniform { lo, hi, .. } => vec![*lo, *hi],
            Dist::Beta { a, b, .. } => vec![*a, *b],
            Dist::Gamma { shape, rate, .. } => vec![*shape, *rate],
            Dist::InvGamma { shape, scale, .. } => vec![*shape, *scale],
            Dist::Exponential { rate, .. } | Dist::Poisson { rate, .. } => vec![*rate],
            Dist::Cauchy { loc, scale, .. } => vec![*loc, *scale],
            Dist::StudentT { nu, mu, sigma, .. } => vec![*nu, *mu, *sigma],
            Dist::Bernoulli { p, .. } | Dist::Geometric { p, .. } => vec![*p],
            Dist::Binomial { n, p, .. } => vec![*n as f64, *p],
            Dist::DiscreteUniform { lo, hi, .. } => vec![*lo as f64, *hi as f64],
            Dist::Family { kind, params, .. } => params[..kind.param_names().len()].to_vec(),
            Dist::Categorical { .. }
            | Dist::Dirichlet { .. }
            | Dist::MvNormal { .. }
            | Dist::MvNormalCholesky { .. } => return None,
        })
    }
}
