//! Sampling: seeded draws land in the support, their mean matches the
//! known mean, and their empirical CDF matches `cdf` at a few quantiles.
//!
//! Tolerances. For N independent draws with variance σ², the sample mean
//! has standard error σ/√N (central limit theorem), so we require
//! `|mean_hat − mean| <= 5 σ/√N`; similarly an empirical frequency of an
//! event of probability p has standard error √(p(1 − p)/N). With fixed seeds
//! the tests are deterministic; five standard errors make a spurious failure
//! under a correct sampler a ~1-in-a-million event for any new seed.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tyche_dist::{Dist, Outcome};

const N: usize = 200_000;

fn draws(d: &Dist, seed: u64) -> Vec<Outcome> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..N).map(|_| d.sample(&mut rng)).collect()
}

fn check_univariate(d: &Dist, seed: u64) {
    let xs = draws(d, seed);
    for x in &xs {
        let lp = d.log_prob(x);
        assert!(
            lp > f64::NEG_INFINITY && !lp.is_nan(),
            "{d:?}: sample {x:?} has log_prob {lp}"
        );
    }
    let vals: Vec<f64> = xs.iter().map(|x| x.as_f64().unwrap()).collect();
    let n = N as f64;
    if let (Some(Outcome::Real(mean)), Some(var)) = (d.mean(), d.variance()) {
        if var.is_finite() {
            let got = vals.iter().sum::<f64>() / n;
            let se = (var / n).sqrt();
            assert!(
                (got - mean).abs() <= 5.0 * se,
                "{d:?}: sample mean {got}, want {mean} ± 5·{se}"
            );
        }
    }
    for u in [0.1, 0.5, 0.9] {
        let q = d.quantile(u).unwrap();
        let p = d.cdf(&q).unwrap();
        let qv = q.as_f64().unwrap();
        if p <= 0.0 || p >= 1.0 {
            continue;
        }
        let frac = vals.iter().filter(|&&v| v <= qv).count() as f64 / n;
        let se = (p * (1.0 - p) / n).sqrt();
        assert!(
            (frac - p).abs() <= 5.0 * se,
            "{d:?}: P(X <= {qv}) empirically {frac}, cdf says {p} ± 5·{se}"
        );
    }
}

#[test]
fn continuous_samples_match_moments_and_cdf() {
    let dists = [
        Dist::normal(3.0, 2.0),
        Dist::log_normal(0.5, 0.4),
        Dist::uniform(-2.0, 5.0),
        Dist::beta(2.0, 5.0),
        Dist::beta(0.3, 0.4),
        Dist::gamma(3.0, 2.0),
        Dist::gamma(0.4, 5.0),
        Dist::inv_gamma(4.0, 3.0),
        Dist::exponential(2.5),
        Dist::cauchy(1.0, 2.0),
        Dist::student_t(5.0, -1.0, 0.5),
        Dist::student_t(1.5, 0.0, 1.0),
    ];
    for (i, d) in dists.into_iter().enumerate() {
        check_univariate(&d.unwrap(), 100 + i as u64);
    }
}

#[test]
fn gamma_uses_rate_not_scale() {
    // Gamma(shape 2, rate 4) has mean 0.5; a scale mix-up would give 8.
    let d = Dist::gamma(2.0, 4.0).unwrap();
    let xs = draws(&d, 7);
    let mean = xs.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / N as f64;
    // sd = √2/4, standard error = 0.354/√N ≈ 8e-4.
    assert!(
        (mean - 0.5).abs() < 5.0 * (2f64.sqrt() / 4.0) / (N as f64).sqrt(),
        "mean {mean}"
    );
}

#[test]
fn discrete_samples_match_moments_and_cdf() {
    let dists = [
        Dist::bernoulli(0.3),
        Dist::binomial(20, 0.35),
        Dist::binomial(1000, 0.9),
        Dist::poisson(3.5),
        Dist::poisson(250.0),
        Dist::geometric(0.2),
        Dist::geometric(0.95),
        Dist::categorical(&[1.0, 0.0, 3.0, 6.0]),
        Dist::discrete_uniform(-4, 7),
    ];
    for (i, d) in dists.into_iter().enumerate() {
        check_univariate(&d.unwrap(), 200 + i as u64);
    }
}

#[test]
fn degenerate_discrete_parameters_sample_their_point_mass() {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..1000 {
        assert_eq!(
            Dist::bernoulli(0.0).unwrap().sample(&mut rng),
            Outcome::Bool(false)
        );
        assert_eq!(
            Dist::bernoulli(1.0).unwrap().sample(&mut rng),
            Outcome::Bool(true)
        );
        assert_eq!(
            Dist::binomial(7, 1.0).unwrap().sample(&mut rng),
            Outcome::Int(7)
        );
        assert_eq!(
            Dist::binomial(0, 0.5).unwrap().sample(&mut rng),
            Outcome::Int(0)
        );
        assert_eq!(
            Dist::poisson(0.0).unwrap().sample(&mut rng),
            Outcome::Int(0)
        );
        assert_eq!(
            Dist::geometric(1.0).unwrap().sample(&mut rng),
            Outcome::Int(0)
        );
        assert_ne!(
            Dist::categorical(&[1.0, 0.0, 1.0])
                .unwrap()
                .sample(&mut rng),
            Outcome::Int(1)
        );
        assert_eq!(
            Dist::discrete_uniform(4, 4).unwrap().sample(&mut rng),
            Outcome::Int(4)
        );
    }
}

#[test]
fn dirichlet_samples_are_on_the_simplex_with_the_right_mean() {
    for (seed, alpha) in [
        (1u64, vec![2.0, 3.0, 5.0]),
        (2, vec![0.1, 0.2, 0.3, 0.4]),
        (3, vec![1e-3, 1e-3]),
    ] {
        let d = Dist::dirichlet(&alpha).unwrap();
        let xs = draws(&d, seed);
        let a0: f64 = alpha.iter().sum();
        let mut sums = vec![0.0; alpha.len()];
        for x in &xs {
            let Outcome::Vector(v) = x else {
                panic!("not a vector: {x:?}")
            };
            let total: f64 = v.iter().sum();
            assert!((total - 1.0).abs() < 1e-12, "{v:?} sums to {total}");
            assert!(v.iter().all(|&c| (0.0..=1.0).contains(&c)));
            assert!(!d.log_prob(x).is_nan());
            for (s, c) in sums.iter_mut().zip(v) {
                *s += c;
            }
        }
        for (i, &a) in alpha.iter().enumerate() {
            let mean = a / a0;
            // Var(x_i) = α_i (α0 − α_i) / (α0² (α0 + 1)).
            let var = a * (a0 - a) / (a0 * a0 * (a0 + 1.0));
            let got = sums[i] / N as f64;
            let se = (var / N as f64).sqrt();
            assert!(
                (got - mean).abs() <= 5.0 * se,
                "Dirichlet{alpha:?}[{i}]: {got} vs {mean} ± 5·{se}"
            );
        }
    }
}

#[test]
fn mv_normal_samples_have_the_right_mean_and_covariance() {
    let mu = [1.0, -2.0, 0.5];
    let cov = vec![
        vec![2.0, 0.6, -0.3],
        vec![0.6, 1.0, 0.2],
        vec![-0.3, 0.2, 0.5],
    ];
    let d = Dist::mv_normal(&mu, &cov).unwrap();
    let xs: Vec<Vec<f64>> = draws(&d, 11)
        .into_iter()
        .map(|x| match x {
            Outcome::Vector(v) => v,
            other => panic!("not a vector: {other:?}"),
        })
        .collect();
    let n = N as f64;
    let means: Vec<f64> = (0..3)
        .map(|i| xs.iter().map(|x| x[i]).sum::<f64>() / n)
        .collect();
    for i in 0..3 {
        let se = (cov[i][i] / n).sqrt();
        assert!(
            (means[i] - mu[i]).abs() <= 5.0 * se,
            "mean[{i}] = {}",
            means[i]
        );
        for j in 0..3 {
            let c = xs
                .iter()
                .map(|x| (x[i] - mu[i]) * (x[j] - mu[j]))
                .sum::<f64>()
                / n;
            // For jointly normal variables Var((x_i − μ_i)(x_j − μ_j)) = Σ_ii Σ_jj + Σ_ij².
            let se = ((cov[i][i] * cov[j][j] + cov[i][j] * cov[i][j]) / n).sqrt();
            assert!(
                (c - cov[i][j]).abs() <= 5.0 * se,
                "cov[{i}][{j}] = {c}, want {}",
                cov[i][j]
            );
        }
    }
}
