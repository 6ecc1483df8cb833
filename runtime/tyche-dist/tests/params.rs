//! Parameter validation: every invalid parameter is a `ParamError` whose
//! message names the distribution, the parameter and the value; valid edge
//! cases are accepted.

use tyche_dist::{Dist, DistKind, Param};

fn err(kind: DistKind, params: &[Param]) -> String {
    match Dist::new(kind, params) {
        Ok(d) => panic!("{kind:?} {params:?} accepted as {d:?}"),
        Err(e) => e.message,
    }
}

use Param::{Int as I, Real as R};

#[test]
fn messages_name_distribution_parameter_and_value() {
    let cases: Vec<(DistKind, Vec<Param>, &str)> = vec![
        (
            DistKind::Normal,
            vec![R(0.0), R(-1.0)],
            "invalid parameter for Normal: sigma must be positive, got -1",
        ),
        (
            DistKind::Normal,
            vec![R(0.0), R(0.0)],
            "invalid parameter for Normal: sigma must be positive, got 0",
        ),
        (
            DistKind::Normal,
            vec![R(f64::NAN), R(1.0)],
            "invalid parameter for Normal: mu must be finite, got NaN",
        ),
        (
            DistKind::Normal,
            vec![R(0.0), R(f64::INFINITY)],
            "invalid parameter for Normal: sigma must be finite, got inf",
        ),
        (
            DistKind::LogNormal,
            vec![R(0.0), R(-2.5)],
            "invalid parameter for LogNormal: sigma must be positive, got -2.5",
        ),
        (
            DistKind::Uniform,
            vec![R(2.0), R(1.0)],
            "invalid parameter for Uniform: lo must be less than hi, got lo = 2 and hi = 1",
        ),
        (
            DistKind::Uniform,
            vec![R(1.0), R(1.0)],
            "invalid parameter for Uniform: lo must be less than hi, got lo = 1 and hi = 1",
        ),
        (
            DistKind::Beta,
            vec![R(0.0), R(1.0)],
            "invalid parameter for Beta: a must be positive, got 0",
        ),
        (
            DistKind::Beta,
            vec![R(1.0), R(-3.0)],
            "invalid parameter for Beta: b must be positive, got -3",
        ),
        (
            DistKind::Gamma,
            vec![R(2.0), R(-1e-300)],
            "invalid parameter for Gamma: rate must be positive, got -1e-300",
        ),
        (
            DistKind::InvGamma,
            vec![R(-1.0), R(1.0)],
            "invalid parameter for InvGamma: shape must be positive, got -1",
        ),
        (
            DistKind::Exponential,
            vec![R(0.0)],
            "invalid parameter for Exponential: rate must be positive, got 0",
        ),
        (
            DistKind::Cauchy,
            vec![R(0.0), R(-1.0)],
            "invalid parameter for Cauchy: scale must be positive, got -1",
        ),
        (
            DistKind::StudentT,
            vec![R(0.0), R(0.0), R(1.0)],
            "invalid parameter for StudentT: nu must be positive, got 0",
        ),
        (
            DistKind::Bernoulli,
            vec![R(1.5)],
            "invalid parameter for Bernoulli: p must be a probability in [0, 1], got 1.5",
        ),
        (
            DistKind::Bernoulli,
            vec![R(-0.1)],
            "invalid parameter for Bernoulli: p must be a probability in [0, 1], got -0.1",
        ),
        (
            DistKind::Bernoulli,
            vec![R(f64::NAN)],
            "invalid parameter for Bernoulli: p must be a probability in [0, 1], got NaN",
        ),
        (
            DistKind::Binomial,
            vec![I(-1), R(0.5)],
            "invalid parameter for Binomial: n must be non-negative, got -1",
        ),
        (
            DistKind::Binomial,
            vec![R(2.5), R(0.5)],
            "invalid parameter for Binomial: n must be an integer, got 2.5",
        ),
        (
            DistKind::Binomial,
            vec![I(3), R(2.0)],
            "invalid parameter for Binomial: p must be a probability in [0, 1], got 2",
        ),
        (
            DistKind::Poisson,
            vec![R(-3.0)],
            "invalid parameter for Poisson: rate must be non-negative, got -3",
        ),
        (
            DistKind::Poisson,
            vec![R(1e300)],
            "invalid parameter for Poisson: rate must be at most 1e18, got 1e300",
        ),
        (
            DistKind::Geometric,
            vec![R(0.0)],
            "invalid parameter for Geometric: p must be in (0, 1], got 0",
        ),
        (
            DistKind::Geometric,
            vec![R(1.01)],
            "invalid parameter for Geometric: p must be a probability in [0, 1], got 1.01",
        ),
        (
            DistKind::DiscreteUniform,
            vec![I(3), I(1)],
            "invalid parameter for DiscreteUniform: lo must not exceed hi, got lo = 3 and hi = 1",
        ),
    ];
    for (kind, params, want) in cases {
        assert_eq!(err(kind, &params), want, "{kind:?} {params:?}");
    }
}

#[test]
fn vector_parameters_are_checked_elementwise() {
    let m = err(DistKind::Categorical, &[Param::Vector(&[0.5, -0.5, 1.0])]);
    assert_eq!(
        m,
        "invalid parameter for Categorical: ps must be finite and non-negative, got ps[1] = -0.5"
    );
    let m = err(DistKind::Categorical, &[Param::Vector(&[0.0, 0.0])]);
    assert_eq!(
        m,
        "invalid parameter for Categorical: ps must have a positive finite sum, got 0"
    );
    let m = err(DistKind::Categorical, &[Param::Vector(&[1e308, 1e308])]);
    assert_eq!(
        m,
        "invalid parameter for Categorical: ps must have a positive finite sum, got inf"
    );
    let m = err(DistKind::Categorical, &[Param::Vector(&[])]);
    assert_eq!(m, "invalid parameter for Categorical: ps must not be empty");
    let m = err(DistKind::Categorical, &[Param::Real(0.5)]);
    assert_eq!(
        m,
        "invalid parameter for Categorical: ps must be a vector of reals, got a real number"
    );
    let m = err(DistKind::Dirichlet, &[Param::Vector(&[1.0, 0.0])]);
    assert_eq!(
        m,
        "invalid parameter for Dirichlet: alphas must be finite and positive, got alphas[1] = 0"
    );
    let m = err(DistKind::Dirichlet, &[Param::Vector(&[f64::NAN])]);
    assert_eq!(
        m,
        "invalid parameter for Dirichlet: alphas must be finite and positive, got alphas[0] = NaN"
    );
}

#[test]
fn mv_normal_checks_dimensions_symmetry_and_definiteness() {
    let mu = [0.0, 0.0];
    let cases: Vec<(Vec<Vec<f64>>, &str)> = vec![
        (vec![vec![1.0, 0.0]], "invalid parameter for MvNormal: cov must be 2×2 to match the length of mu, got 1 rows"),
        (vec![vec![1.0, 0.0], vec![0.0]], "invalid parameter for MvNormal: cov must be 2×2 to match the length of mu, got row 1 of length 1"),
        (vec![vec![1.0, 0.5], vec![0.3, 1.0]], "invalid parameter for MvNormal: cov must be symmetric, got cov[1][0] = 0.3 and cov[0][1] = 0.5"),
        (vec![vec![1.0, 2.0], vec![2.0, 1.0]], "invalid parameter for MvNormal: cov must be positive definite"),
        (vec![vec![0.0, 0.0], vec![0.0, 0.0]], "invalid parameter for MvNormal: cov must be positive definite"),
        (vec![vec![1.0, f64::NAN], vec![f64::NAN, 1.0]], "invalid parameter for MvNormal: cov must be finite, got cov[0][1] = NaN"),
    ];
    for (cov, want) in cases {
        assert_eq!(
            err(
                DistKind::MvNormal,
                &[Param::Vector(&mu), Param::Matrix(&cov)]
            ),
            want
        );
    }
    let m = err(
        DistKind::MvNormal,
        &[Param::Vector(&[f64::INFINITY]), Param::Matrix(&[vec![1.0]])],
    );
    assert_eq!(
        m,
        "invalid parameter for MvNormal: mu must be finite, got mu[0] = inf"
    );
    let m = err(
        DistKind::MvNormal,
        &[Param::Vector(&[0.0]), Param::Vector(&[1.0])],
    );
    assert_eq!(
        m,
        "invalid parameter for MvNormal: cov must be a matrix of reals, got a vector"
    );
    // Rounding-level asymmetry is accepted and symmetrised.
    let cov = vec![vec![2.0, 0.1 + 1e-17], vec![0.1, 1.0]];
    assert!(Dist::mv_normal(&mu, &cov).is_ok());
}

#[test]
fn wrong_counts_and_shapes_are_errors() {
    assert_eq!(
        err(DistKind::Normal, &[R(0.0)]),
        "wrong number of parameters for Normal: expected 2 (mu, sigma), got 1"
    );
    assert_eq!(
        err(DistKind::StudentT, &[R(1.0), R(0.0), R(1.0), R(3.0)]),
        "wrong number of parameters for StudentT: expected 3 (nu, mu, sigma), got 4"
    );
    assert_eq!(
        err(DistKind::Normal, &[Param::Vector(&[0.0]), R(1.0)]),
        "invalid parameter for Normal: mu must be a real number, got a vector"
    );
    assert_eq!(
        err(DistKind::Binomial, &[Param::Vector(&[1.0]), R(0.5)]),
        "invalid parameter for Binomial: n must be an integer, got a vector"
    );
}

#[test]
fn valid_edge_parameters_are_accepted() {
    assert!(
        Dist::new(DistKind::Normal, &[I(3), I(2)]).is_ok(),
        "Int for a Real parameter"
    );
    assert!(
        Dist::new(DistKind::Binomial, &[R(4.0), R(0.5)]).is_ok(),
        "integral Real for an Int parameter"
    );
    for p in [0.0, 1.0] {
        assert!(Dist::bernoulli(p).is_ok());
        assert!(Dist::binomial(3, p).is_ok());
    }
    assert!(Dist::geometric(1.0).is_ok());
    assert!(Dist::poisson(0.0).is_ok());
    assert!(Dist::binomial(0, 0.5).is_ok());
    assert!(Dist::discrete_uniform(2, 2).is_ok());
    assert!(Dist::uniform(-1e308, 1e308).is_ok());
    assert!(Dist::categorical(&[0.0, 1.0]).is_ok());
    assert!(Dist::dirichlet(&[0.5]).is_ok());
    let e = Dist::normal(0.0, -1.0).unwrap_err();
    assert_eq!(e.to_string(), e.message);
}
