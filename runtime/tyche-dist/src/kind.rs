//! The names of the standard distributions and of their parameters.

/// Which distribution; used by the compiler to map constructor names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DistKind {
    /// `Normal(mu, sigma)`.
    Normal,
    /// `LogNormal(mu, sigma)`: `exp` of a `Normal(mu, sigma)`.
    LogNormal,
    /// `Uniform(lo, hi)` on the closed interval `[lo, hi]`.
    Uniform,
    /// `Beta(a, b)`.
    Beta,
    /// `Gamma(shape, rate)`.
    Gamma,
    /// `InvGamma(shape, scale)`.
    InvGamma,
    /// `Exponential(rate)`.
    Exponential,
    /// `Cauchy(loc, scale)`.
    Cauchy,
    /// `StudentT(nu, mu, sigma)`.
    StudentT,
    /// `Bernoulli(p) : Dist<Bool>`.
    Bernoulli,
    /// `Binomial(n, p)`.
    Binomial,
    /// `Poisson(rate)`.
    Poisson,
    /// `Geometric(p)`: failures before the first success.
    Geometric,
    /// `Categorical(ps) : Dist<Int>`, 0-based.
    Categorical,
    /// `DiscreteUniform(lo, hi)`, inclusive.
    DiscreteUniform,
    /// `Dirichlet(alphas) : Dist<[Real]>`.
    Dirichlet,
    /// `MvNormal(mu, cov) : Dist<[Real]>`.
    MvNormal,
    /// `HalfNormal(sigma)`.
    HalfNormal,
    /// `HalfCauchy(scale)`.
    HalfCauchy,
    /// `Laplace(mu, b)`.
    Laplace,
    /// `Logistic(mu, s)`.
    Logistic,
    /// `NegativeBinomial(mu, phi) : Dist<Int>` (Stan's `neg_binomial_2`).
    NegativeBinomial,
    /// `BernoulliLogit(alpha) : Dist<Bool>`.
    BernoulliLogit,
    /// `PoissonLog(alpha) : Dist<Int>`.
    PoissonLog,
    /// `BinomialLogit(n, alpha) : Dist<Int>`.
    BinomialLogit,
    /// `Weibull(k, lambda)`.
    Weibull,
    /// `HalfStudentT(nu, sigma)`.
    HalfStudentT,
    /// `MvNormalCholesky(mu, L) : Dist<[Real]>`.
    MvNormalCholesky,
}

impl DistKind {
    /// Every distribution, in declaration order.
    pub const ALL: [DistKind; 28] = [
        DistKind::Normal,
        DistKind::LogNormal,
        DistKind::Uniform,
        DistKind::Beta,
        DistKind::Gamma,
        DistKind::InvGamma,
        DistKind::Exponential,
        DistKind::Cauchy,
        DistKind::StudentT,
        DistKind::Bernoulli,
        DistKind::Binomial,
        DistKind::Poisson,
        DistKind::Geometric,
        DistKind::Categorical,
        DistKind::DiscreteUniform,
        DistKind::Dirichlet,
        DistKind::MvNormal,
        DistKind::HalfNormal,
        DistKind::HalfCauchy,
        DistKind::Laplace,
        DistKind::Logistic,
        DistKind::NegativeBinomial,
        DistKind::BernoulliLogit,
        DistKind::PoissonLog,
        DistKind::BinomialLogit,
        DistKind::Weibull,
        DistKind::HalfStudentT,
        DistKind::MvNormalCholesky,
    ];

    /// This distribution's registry entry (name, parameters, value type,
    /// support; see [`crate::family`]).
    pub fn family(self) -> &'static crate::family::Family {
        crate::family::family(self)
    }

    /// The constructor name in Tyche source, e.g. `"Normal"`.
    pub fn name(self) -> &'static str {
        self.family().name
    }

    /// The distribution with the given constructor name.
    pub fn from_name(s: &str) -> Option<DistKind> {
        DistKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The parameter names, in order, as the language reference writes them
    /// (parameterised as in Stan): `["mu", "sigma"]` for `Normal`.
    pub fn param_names(self) -> &'static [&'static str] {
        use std::sync::OnceLock;
        static NAMES: [OnceLock<Vec<&'static str>>; DistKind::ALL.len()] =
            [const { OnceLock::new() }; DistKind::ALL.len()];
        NAMES[self as usize].get_or_init(|| self.family().params.iter().map(|p| p.name).collect())
    }

    /// Whether the distribution's values are integers or booleans.
    pub fn is_discrete(self) -> bool {
        use crate::family::Type;
        matches!(self.family().value, Type::Int | Type::Bool)
    }

    /// The value type's name for messages: "Real", "Int", "Bool", "[Real]".
    pub fn value_type_name(self) -> &'static str {
        self.family().value.name()
    }
}

impl std::fmt::Display for DistKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
