//! The distribution registry: each distribution defined once, one file per
//! family.
//!
//! A family's file holds its [`Family`] entry (name, parameters with their
//! meaning and types, value type, support, an example — what the type
//! checker, the REPL, `transform.rs` and `docs/reference.md` read) and its
//! log density written once, generically over a [`Math`] backend, in three
//! parts:
//! - `valid`: the parameter checks of [`Dist::new`](crate::Dist::new) as a
//!   boolean (compiled code turns a failed check into NaN, its mark of an
//!   invalid run);
//! - `consts`: what `Dist::new` precomputes (normalising constants);
//! - `density`: the log density at a value, given the constants.
//!
//! The interpreter instantiates them with [`F64`](crate::math::F64)
//! (`consts` once in `Dist::new`, `density` in `Dist::log_prob`);
//! `tyche-jit` instantiates [`checked_log_density`] on its expression graph.
//! The operation order is the same, so the two agree bit for bit.
//!
//! Families added after the registry (HalfNormal, Laplace, …) are
//! *standalone*: they also define validation with messages, sampling, CDF,
//! quantile and moments in their file ([`Standalone`]) and live in
//! [`Dist::Family`](crate::Dist::Family), so adding one is its file, a
//! `DistKind` variant and one line in each list below. The seventeen
//! original families keep their own `Dist` variants (code outside this
//! crate destructures them); their sampling, CDFs and moments are still in
//! `sampling.rs`, `cdf.rs` and `moments.rs`.
//!
//! Explicit exceptions, without a generic density: `Categorical` (a table
//! lookup; `tyche-jit` builds it from the table), `Dirichlet` and
//! `MvNormal` (vector values, interpreter only), `MvNormalCholesky` (vector
//! parameters and value: its density is generic over [`Math`] with its own
//! signature, in its file).

use rand::Rng;

use crate::construct::Args;
use crate::math::Math;
use crate::{DistKind, Outcome, ParamError};

mod bernoulli;
mod bernoulli_logit;
mod beta;
mod binomial;
mod binomial_logit;
mod categorical;
mod cauchy;
mod dirichlet;
mod discrete_uniform;
mod exponential;
mod gamma;
mod geometric;
mod half_cauchy;
mod half_normal;
mod half_student_t;
mod inv_gamma;
mod laplace;
mod log_normal;
mod logistic;
mod mv_normal;
pub mod mv_normal_cholesky;
mod negative_binomial;
mod normal;
mod poisson;
mod poisson_log;
mod student_t;
mod uniform;
mod weibull;

pub(crate) use bernoulli::Bernoulli;
pub(crate) use beta::Beta;
pub(crate) use binomial::Binomial;
pub(crate) use cauchy::Cauchy;
pub(crate) use discrete_uniform::DiscreteUniform;
pub(crate) use exponential::Exponential;
pub(crate) use gamma::Gamma;
pub(crate) use geometric::Geometric;
pub(crate) use inv_gamma::InvGamma;
pub(crate) use log_normal::LogNormal;
pub(crate) use normal::Normal;
pub(crate) use poisson::Poisson;
pub use poisson::MAX_POISSON_RATE;
pub(crate) use student_t::StudentT;
pub(crate) use uniform::Uniform;

/// The type of a parameter or value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Real,
    Int,
    Bool,
    /// `[Real]`.
    RealArray,
    /// `[[Real]]`.
    RealMatrix,
}

impl Type {
    /// The type as Tyche source writes it.
    pub fn name(self) -> &'static str {
        match self {
            Type::Real => "Real",
            Type::Int => "Int",
            Type::Bool => "Bool",
            Type::RealArray => "[Real]",
            Type::RealMatrix => "[[Real]]",
        }
    }
}

/// One parameter of a distribution.
#[derive(Clone, Copy, Debug)]
pub struct ParamInfo {
    /// The name the reference and messages use (`sigma`).
    pub name: &'static str,
    pub ty: Type,
    /// What it means, with its valid range (`standard deviation, > 0`).
    pub meaning: &'static str,
}

/// Where a distribution's values lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// The real line.
    Real,
    /// `(0, ∞)` (or `[0, ∞)`: the boundary has measure zero).
    Positive,
    /// `[0, 1]`.
    UnitInterval,
    /// `[p_i, p_j]`: between the parameters at these positions.
    Interval(usize, usize),
    /// `false`, `true`.
    Boolean,
    /// `0, 1, 2, …`.
    Naturals,
    /// `0, …, p_i` (the parameter at this position).
    UpTo(usize),
    /// `p_i, …, p_j`.
    IntRange(usize, usize),
    /// `0, …, len(p_i) − 1`.
    Indices(usize),
    /// Vectors on the probability simplex.
    Simplex,
    /// Real vectors of the parameter's length.
    RealVector,
}

impl Support {
    /// As the reference writes it, with the parameter names of `f`.
    pub fn describe(self, f: &Family) -> String {
        let p = |i: usize| f.params[i].name;
        match self {
            Support::Real => "ℝ".into(),
            Support::Positive => "(0, ∞)".into(),
            Support::UnitInterval => "[0, 1]".into(),
            Support::Interval(i, j) => format!("[{}, {}]", p(i), p(j)),
            Support::Boolean => "false, true".into(),
            Support::Naturals => "0, 1, 2, …".into(),
            Support::UpTo(i) => format!("0, …, {}", p(i)),
            Support::IntRange(i, j) => format!("{}, …, {}", p(i), p(j)),
            Support::Indices(i) => format!("0, …, len({}) − 1", p(i)),
            Support::Simplex => "the probability simplex".into(),
            Support::RealVector => format!("ℝᵏ, k = len({})", p(0)),
        }
    }
}

/// A distribution's registry entry.
#[derive(Clone, Copy, Debug)]
pub struct Family {
    /// The constructor name in Tyche source (`Normal`).
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// The parameters in order.
    pub params: &'static [ParamInfo],
    /// The type of its values.
    pub value: Type,
    pub support: Support,
    /// A one-line use in Tyche source.
    pub example: &'static str,
}

/// A value a density is evaluated at: reals and integers (as `k as f64`)
/// are `Real`, booleans `Bool`.
#[derive(Clone, Copy, Debug)]
pub enum Arg<R, B> {
    Real(R),
    Bool(B),
}

/// A family whose log density is written generically. `P` parameters, `K`
/// precomputed constants.
pub(crate) trait Generic {
    const INFO: Family;
    /// Whether `Dist::new` accepts the parameters.
    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B;
    /// The constants `Dist::new` precomputes.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3];
    /// The log density at `x` given valid parameters and their constants;
    /// `None` for a value of the wrong kind.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R>;
}

/// A family with only an entry (no generic density; see the module docs).
pub(crate) trait Described {
    const INFO: Family;
}

/// The interpreter's side of a family defined only in its file (stored as
/// [`Dist::Family`](crate::Dist::Family)).
pub(crate) trait Standalone: Generic {
    /// Checks the parameters with messages naming the offending one (as
    /// [`Dist::new`](crate::Dist::new) reports them); returns them as reals
    /// (an `Int` parameter as its exact `f64`).
    fn validate(a: &Args) -> Result<[f64; 3], ParamError>;
    fn sample(p: &[f64], k: &[f64; 3], rng: &mut dyn Rng) -> Outcome;
    /// `P(X <= x)`.
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64>;
    /// `F⁻¹(u)` for `u` in `[0, 1]`.
    fn quantile(p: &[f64], u: f64) -> Option<Outcome>;
    fn mean(p: &[f64]) -> Option<f64>;
    fn variance(p: &[f64]) -> Option<f64>;
}

/// Runs `$body` with `$F` the type of `$kind`'s generic family, or
/// evaluates `$none` for the exceptions.
macro_rules! with_generic {
    ($kind:expr, $F:ident => $body:expr, $none:expr) => {
        match $kind {
            DistKind::Normal => {
                type $F = normal::Normal;
                $body
            }
            DistKind::LogNormal => {
                type $F = log_normal::LogNormal;
                $body
            }
            DistKind::Uniform => {
                type $F = uniform::Uniform;
                $body
            }
            DistKind::Beta => {
                type $F = beta::Beta;
                $body
            }
            DistKind::Gamma => {
                type $F = gamma::Gamma;
                $body
            }
            DistKind::InvGamma => {
                type $F = inv_gamma::InvGamma;
                $body
            }
            DistKind::Exponential => {
                type $F = exponential::Exponential;
                $body
            }
            DistKind::Cauchy => {
                type $F = cauchy::Cauchy;
                $body
            }
            DistKind::StudentT => {
                type $F = student_t::StudentT;
                $body
            }
            DistKind::Bernoulli => {
                type $F = bernoulli::Bernoulli;
                $body
            }
            DistKind::Binomial => {
                type $F = binomial::Binomial;
                $body
            }
            DistKind::Poisson => {
                type $F = poisson::Poisson;
                $body
            }
            DistKind::Geometric => {
                type $F = geometric::Geometric;
                $body
            }
            DistKind::DiscreteUniform => {
                type $F = discrete_uniform::DiscreteUniform;
                $body
            }
            DistKind::Categorical
            | DistKind::Dirichlet
            | DistKind::MvNormal
            | DistKind::MvNormalCholesky => $none,
            // Every standalone family is generic too: listed once, below.
            _ => with_standalone!($kind, $F => $body, $none),
        }
    };
}

/// Runs `$body` with `$F` the type of `$kind`'s standalone family, or
/// evaluates `$none` for the families with their own `Dist` variant.
macro_rules! with_standalone {
    ($kind:expr, $F:ident => $body:expr, $none:expr) => {
        match $kind {
            DistKind::HalfNormal => {
                type $F = half_normal::HalfNormal;
                $body
            }
            DistKind::HalfCauchy => {
                type $F = half_cauchy::HalfCauchy;
                $body
            }
            DistKind::Laplace => {
                type $F = laplace::Laplace;
                $body
            }
            DistKind::Logistic => {
                type $F = logistic::Logistic;
                $body
            }
            DistKind::NegativeBinomial => {
                type $F = negative_binomial::NegativeBinomial;
                $body
            }
            DistKind::BernoulliLogit => {
                type $F = bernoulli_logit::BernoulliLogit;
                $body
            }
            DistKind::PoissonLog => {
                type $F = poisson_log::PoissonLog;
                $body
            }
            DistKind::BinomialLogit => {
                type $F = binomial_logit::BinomialLogit;
                $body
            }
            DistKind::Weibull => {
                type $F = weibull::Weibull;
                $body
            }
            DistKind::HalfStudentT => {
                type $F = half_student_t::HalfStudentT;
                $body
            }
            _ => $none,
        }
    };
}

/// A uniform draw in the open interval (0, 1) (53 random bits, offset by
/// half a step), for inverse-CDF sampling where 0 or 1 would be infinite.
pub(crate) fn open01(rng: &mut dyn Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// The registry entry of `kind`.
pub fn family(kind: DistKind) -> &'static Family {
    with_generic!(kind, F => &F::INFO, match kind {
        DistKind::Categorical => &<categorical::Categorical as Described>::INFO,
        DistKind::Dirichlet => &<dirichlet::Dirichlet as Described>::INFO,
        DistKind::MvNormalCholesky => {
            &<mv_normal_cholesky::MvNormalCholesky as Described>::INFO
        }
        _ => &<mv_normal::MvNormal as Described>::INFO,
    })
}

/// Whether `kind`'s log density is written generically (every family but
/// the exceptions of the module docs).
pub fn has_generic_density(kind: DistKind) -> bool {
    with_generic!(kind, _F => true, false)
}

/// Whether `Dist::new` would accept these parameters (reals; an `Int`
/// parameter as its `f64`), as a value of `m`. `None` for the exceptions.
pub fn valid<M: Math>(m: &mut M, kind: DistKind, p: &[M::R]) -> Option<M::B> {
    with_generic!(kind, F => Some(F::valid(m, p)), None)
}

/// The constants `Dist::new` precomputes for `kind(p)`.
pub fn consts<M: Math>(m: &mut M, kind: DistKind, p: &[M::R]) -> Option<[M::R; 3]> {
    with_generic!(kind, F => Some(F::consts(m, p)), None)
}

/// The log density of `kind(p)` at `x` given `consts(p)`, without
/// validation; `None` for the exceptions and a value of the wrong kind.
pub fn density<M: Math>(
    m: &mut M,
    kind: DistKind,
    p: &[M::R],
    k: &[M::R; 3],
    x: Arg<M::R, M::B>,
) -> Option<M::R> {
    with_generic!(kind, F => F::density(m, p, k, x), None)
}

/// The log density of `kind(p)` at `x`, NaN where [`Dist::new`](crate::Dist::new)
/// would refuse `p`: what compiled code computes (its NaN sends the
/// evaluation back to the interpreter, which reports the error). For
/// valid parameters it is `Dist::log_prob`'s value bit for bit.
pub fn checked_log_density<M: Math>(
    m: &mut M,
    kind: DistKind,
    p: &[M::R],
    x: Arg<M::R, M::B>,
) -> Option<M::R> {
    with_generic!(
        kind,
        F => {
            let ok = F::valid(m, p);
            let k = F::consts(m, p);
            let lp = F::density(m, p, &k, x)?;
            let nan = m.c(f64::NAN);
            Some(m.select(ok, lp, nan))
        },
        None
    )
}

// ---- The interpreter's dispatch to standalone families. ----

pub(crate) fn is_standalone(kind: DistKind) -> bool {
    with_standalone!(kind, _F => true, false)
}

pub(crate) fn validate(kind: DistKind, a: &Args) -> Result<[f64; 3], ParamError> {
    with_standalone!(kind, F => F::validate(a), unreachable!("not standalone: {kind}"))
}

pub(crate) fn consts_f64(kind: DistKind, p: &[f64]) -> [f64; 3] {
    with_generic!(kind, F => F::consts(&mut crate::math::F64, p), [0.0; 3])
}

pub(crate) fn sample(kind: DistKind, p: &[f64], k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
    with_standalone!(kind, F => F::sample(p, k, rng), unreachable!("not standalone: {kind}"))
}

pub(crate) fn cdf(kind: DistKind, p: &[f64], x: &Outcome) -> Option<f64> {
    with_standalone!(kind, F => F::cdf(p, x), None)
}

pub(crate) fn quantile(kind: DistKind, p: &[f64], u: f64) -> Option<Outcome> {
    with_standalone!(kind, F => F::quantile(p, u), None)
}

pub(crate) fn mean(kind: DistKind, p: &[f64]) -> Option<f64> {
    with_standalone!(kind, F => F::mean(p), None)
}

pub(crate) fn variance(kind: DistKind, p: &[f64]) -> Option<f64> {
    with_standalone!(kind, F => F::variance(p), None)
}

/// Whether the integer `k` lies in the support of the standalone integer
/// family `kind(p)`, compared exactly (the generic formulas compare
/// `k as f64`, which rounds beyond 2⁵³).
pub(crate) fn int_support_contains(kind: DistKind, p: &[f64], k: i64) -> bool {
    match family(kind).support {
        Support::Naturals => k >= 0,
        Support::UpTo(i) => 0 <= k && k as f64 <= p[i],
        Support::IntRange(i, j) => p[i] <= k as f64 && k as f64 <= p[j],
        _ => true,
    }
}
