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
}

impl DistKind {
    /// Every distribution, in declaration order.
    pub const ALL: [DistKind; 17] = [
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
    ];

    /// The constructor name in Tyche source, e.g. `"Normal"`.
    pub fn name(self) -> &'static str {
        match self {
            DistKind::Normal => "Normal",
            DistKind::LogNormal => "LogNormal",
            DistKind::Uniform => "Uniform",
            DistKind::Beta => "Beta",
            DistKind::Gamma => "Gamma",
            DistKind::InvGamma => "InvGamma",
            DistKind::Exponential => "Exponential",
            DistKind::Cauchy => "Cauchy",
            DistKind::StudentT => "StudentT",
            DistKind::Bernoulli => "Bernoulli",
            DistKind::Binomial => "Binomial",
            DistKind::Poisson => "Poisson",
            DistKind::Geometric => "Geometric",
            DistKind::Categorical => "Categorical",
            DistKind::DiscreteUniform => "DiscreteUniform",
            DistKind::Dirichlet => "Dirichlet",
            DistKind::MvNormal => "MvNormal",
        }
    }

    /// The distribution with the given constructor name.
    pub fn from_name(s: &str) -> Option<DistKind> {
        DistKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The parameter names, in order, as the language reference writes them
    /// (parameterised as in Stan): `["mu", "sigma"]` for `Normal`.
    pub fn param_names(self) -> &'static [&'static str] {
        match self {
            DistKind::Normal | DistKind::LogNormal => &["mu", "sigma"],
            DistKind::Uniform | DistKind::DiscreteUniform => &["lo", "hi"],
            DistKind::Beta => &["a", "b"],
            DistKind::Gamma => &["shape", "rate"],
            DistKind::InvGamma => &["shape", "scale"],
            DistKind::Exponential | DistKind::Poisson => &["rate"],
            DistKind::Cauchy => &["loc", "scale"],
            DistKind::StudentT => &["nu", "mu", "sigma"],
            DistKind::Bernoulli | DistKind::Geometric => &["p"],
            DistKind::Binomial => &["n", "p"],
            DistKind::Categorical => &["ps"],
            DistKind::Dirichlet => &["alphas"],
            DistKind::MvNormal => &["mu", "cov"],
        }
    }

    /// Whether the distribution's values are integers or booleans.
    pub fn is_discrete(self) -> bool {
        matches!(
            self,
            DistKind::Bernoulli
                | DistKind::Binomial
                | DistKind::Poisson
                | DistKind::Geometric
                | DistKind::Categorical
                | DistKind::DiscreteUniform
        )
    }

    /// The value type's name for messages: "Real", "Int", "Bool", "[Real]".
    pub fn value_type_name(self) -> &'static str {
        match self {
            DistKind::Bernoulli => "Bool",
            DistKind::Binomial
            | DistKind::Poisson
            | DistKind::Geometric
            | DistKind::Categorical
            | DistKind::DiscreteUniform => "Int",
            DistKind::Dirichlet | DistKind::MvNormal => "[Real]",
            _ => "Real",
        }
    }
}

impl std::fmt::Display for DistKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
