//! A seeded random search over parameters spanning many orders of
//! magnitude: nothing panics, `log_prob` is never NaN on samples or on
//! arbitrary points, CDFs stay in [0, 1], quantiles are never NaN and land
//! in the support, and samples are in the support.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tyche_dist::{Dist, DistKind, Outcome, Param};

/// A real spread log-uniformly over [1e-6, 1e6].
fn scale(rng: &mut StdRng) -> f64 {
    10f64.powf(rng.random_range(-6.0..6.0))
}

fn signed(rng: &mut StdRng) -> f64 {
    if rng.random::<bool>() {
        scale(rng)
    } else {
        -scale(rng)
    }
}

fn random_dist(kind: DistKind, rng: &mut StdRng) -> Dist {
    let unit = |rng: &mut StdRng| -> f64 {
        match rng.random_range(0..4) {
            0 => 0.0,
            1 => 1.0,
            2 => 10f64.powf(rng.random_range(-12.0..0.0)),
            _ => rng.random::<f64>(),
        }
    };
    let r = Param::Real;
    let d = match kind {
        DistKind::Normal | DistKind::LogNormal => {
            Dist::new(kind, &[r(signed(rng) * 1e-3), r(scale(rng) * 1e-3)])
        }
        DistKind::Uniform => {
            let lo = signed(rng);
            Dist::new(kind, &[r(lo), r(lo + scale(rng))])
        }
        DistKind::Beta | DistKind::Gamma | DistKind::InvGamma => {
            Dist::new(kind, &[r(scale(rng) * 1e-2), r(scale(rng) * 1e-2)])
        }
        DistKind::Exponential => Dist::new(kind, &[r(scale(rng))]),
        DistKind::Cauchy => Dist::new(kind, &[r(signed(rng)), r(scale(rng))]),
        DistKind::StudentT => {
            Dist::new(kind, &[r(scale(rng) * 1e-2), r(signed(rng)), r(scale(rng))])
        }
        DistKind::Bernoulli => Dist::new(kind, &[r(unit(rng))]),
        DistKind::Binomial => Dist::new(
            kind,
            &[Param::Int(rng.random_range(0..100_000)), r(unit(rng))],
        ),
        DistKind::Poisson => Dist::new(
            kind,
            &[r(if rng.random::<f64>() < 0.1 {
                0.0
            } else {
                scale(rng)
            })],
        ),
        DistKind::Geometric => Dist::new(kind, &[r(unit(rng).max(1e-9))]),
        DistKind::Categorical => {
            let n = rng.random_range(1..20);
            let ws: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.random::<f64>() < 0.3 {
                        0.0
                    } else {
                        scale(rng)
                    }
                })
                .collect();
            let ws = if ws.iter().all(|&w| w == 0.0) {
                vec![1.0]
            } else {
                ws
            };
            Dist::categorical(&ws)
        }
        DistKind::DiscreteUniform => {
            let lo = rng.random_range(-1_000_000i64..1_000_000);
            Dist::new(
                kind,
                &[
                    Param::Int(lo),
                    Param::Int(lo + rng.random_range(0..1_000_000)),
                ],
            )
        }
        DistKind::Dirichlet => {
            let n = rng.random_range(1..8);
            let alpha: Vec<f64> = (0..n).map(|_| scale(rng) * 1e-2).collect();
            Dist::dirichlet(&alpha)
        }
        DistKind::MvNormal => {
            let k = rng.random_range(1..6);
            // A random positive-definite covariance A Aᵀ + εI.
            let a: Vec<Vec<f64>> = (0..k)
                .map(|_| (0..k).map(|_| rng.random_range(-2.0..2.0)).collect())
                .collect();
            let cov: Vec<Vec<f64>> = (0..k)
                .map(|i| {
                    (0..k)
                        .map(|j| {
                            (0..k).map(|l| a[i][l] * a[j][l]).sum::<f64>()
                                + if i == j { 0.1 } else { 0.0 }
                        })
                        .collect()
                })
                .collect();
            let mu: Vec<f64> = (0..k).map(|_| rng.random_range(-5.0..5.0)).collect();
            Dist::mv_normal(&mu, &cov)
        }
        DistKind::HalfNormal | DistKind::HalfCauchy => Dist::new(kind, &[r(scale(rng))]),
        DistKind::Laplace | DistKind::Logistic => Dist::new(kind, &[r(signed(rng)), r(scale(rng))]),
        DistKind::NegativeBinomial => {
            Dist::new(kind, &[r(scale(rng) * 1e-2), r(scale(rng) * 1e-2)])
        }
        DistKind::BernoulliLogit => Dist::new(kind, &[r(signed(rng) * 1e-4)]),
        DistKind::PoissonLog => Dist::new(kind, &[r(rng.random_range(-30.0..30.0))]),
        DistKind::BinomialLogit => Dist::new(
            kind,
            &[
                Param::Int(rng.random_range(0..100_000)),
                r(rng.random_range(-30.0..30.0)),
            ],
        ),
        DistKind::Weibull => Dist::new(kind, &[r(scale(rng) * 1e-3), r(scale(rng))]),
        DistKind::HalfStudentT => Dist::new(kind, &[r(scale(rng) * 1e-2), r(scale(rng))]),
        DistKind::MvNormalCholesky => {
            let k = rng.random_range(1..6);
            // A random lower factor with a positive diagonal (the upper
            // triangle is not read: fill it with noise).
            let l: Vec<Vec<f64>> = (0..k)
                .map(|i| {
                    (0..k)
                        .map(|j| {
                            if i == j {
                                scale(rng) * 1e-2
                            } else {
                                rng.random_range(-3.0..3.0)
                            }
                        })
                        .collect()
                })
                .collect();
            let mu: Vec<f64> = (0..k).map(|_| rng.random_range(-5.0..5.0)).collect();
            Dist::new(kind, &[Param::Vector(&mu), Param::Matrix(&l)])
        }
    };
    d.unwrap_or_else(|e| panic!("{kind:?}: {e}"))
}

fn random_point(d: &Dist, rng: &mut StdRng) -> Outcome {
    match d.value_type_name() {
        "Bool" => Outcome::Bool(rng.random()),
        "Int" => Outcome::Int(rng.random_range(-5..2_000_000)),
        "Real" => Outcome::Real(match rng.random_range(0..5) {
            0 => 0.0,
            1 => 1.0,
            _ => signed(rng),
        }),
        _ => match d.sample(rng) {
            Outcome::Vector(v) => {
                Outcome::Vector(v.iter().map(|x| x * rng.random_range(0.5..1.5)).collect())
            }
            other => other,
        },
    }
}

#[test]
fn random_parameters_never_panic_or_give_nan() {
    let mut rng = StdRng::seed_from_u64(2024);
    for kind in DistKind::ALL {
        for _ in 0..300 {
            let d = random_dist(kind, &mut rng);
            for _ in 0..5 {
                let x = d.sample(&mut rng);
                let lp = d.log_prob(&x);
                assert!(lp.is_finite(), "{d:?}: sample {x:?} has log_prob {lp}");
                let y = random_point(&d, &mut rng);
                assert!(!d.log_prob(&y).is_nan(), "{d:?}: log_prob({y:?}) is NaN");
                if let Some(c) = d.cdf(&y) {
                    assert!((0.0..=1.0).contains(&c), "{d:?}: cdf({y:?}) = {c}");
                }
            }
            if d.kind().is_discrete() || d.value_type_name() == "Real" {
                for u in [0.0, 1e-300, 1e-12, 0.3, 0.5, 0.9, 1.0 - 1e-12, 1.0] {
                    let q = d
                        .quantile(u)
                        .unwrap_or_else(|| panic!("{d:?}: no quantile({u})"));
                    if let Outcome::Real(v) = q {
                        assert!(!v.is_nan(), "{d:?}: quantile({u}) is NaN");
                    }
                    if let (&Outcome::Real(v), true) = (
                        &q,
                        (0.1..=0.9).contains(&u) && q.as_f64().is_some_and(f64::is_finite),
                    ) {
                        // The CDF at the quantile is u, up to the conditioning of
                        // F: u must lie between F at x(1 ∓ 1e-12). (For e.g.
                        // LogNormal(−24, 1e-7), F(x) goes through ln x, whose
                        // rounding moves F by 1e-8.)
                        let c = d.cdf(&q).unwrap();
                        let h = 1e-12 * v.abs().max(1e-300);
                        let lo = d.cdf(&Outcome::Real(v - h)).unwrap();
                        let hi = d.cdf(&Outcome::Real(v + h)).unwrap();
                        assert!(
                            (c - u).abs() <= 1e-9 || (lo <= u && u <= hi),
                            "{d:?}: cdf(quantile({u})) = {c} (x = {v}, neighbours {lo}, {hi})"
                        );
                    }
                    if u > 0.0 && u < 1.0 {
                        let lp = d.log_prob(&q);
                        assert!(!lp.is_nan(), "{d:?}: log_prob(quantile({u})) is NaN");
                        if d.is_discrete() {
                            assert!(
                                lp > f64::NEG_INFINITY,
                                "{d:?}: quantile({u}) = {q:?} has no mass"
                            );
                        }
                    }
                }
            }
            assert!(
                d.mean()
                    .is_none_or(|m| m.as_f64().is_none_or(|v| !v.is_nan())),
                "{d:?}: NaN mean"
            );
            assert!(
                d.variance().is_none_or(|v| !v.is_nan() && v >= 0.0),
                "{d:?}: bad variance"
            );
        }
    }
}
