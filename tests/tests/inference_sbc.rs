//! Simulation-based calibration (Talts et al. 2018) of Mh and Smc on a
//! small hierarchical model: for parameters and data drawn from the prior,
//! the rank of the true parameter among L posterior draws is uniform on
//! 0..=L exactly when the posterior draws are correct. A chi-square test of
//! the ranks' histogram, at a fixed seed, checks it.

mod inference_util;

use inference_util::*;
use rand::{RngExt, SeedableRng};
use tyche_infer::{Method, Options, Resampler};

/// mu ~ N(0, 1); per group j: theta_j ~ N(mu, 1), y_j ~ N(theta_j, 1).
const HIER: &str = "
data ys: [Real];
fn model() -> Real {
    let mu ~ Normal(0.0, 1.0);
    for y in ys {
        let theta ~ Normal(mu, 1.0);
        observe(Normal(theta, 1.0), y);
    }
    mu
}
";

const GROUPS: usize = 3;
/// Posterior draws per replication: ranks take L + 1 = 20 values.
const L: usize = 19;
/// Replications: 10 expected per rank.
const REPS: usize = 200;
/// The 99.9% quantile of chi-square with L = 19 degrees of freedom: a
/// correct sampler fails this test with probability 0.001 for a random
/// seed, and never for the fixed one.
const CHI2_19_999: f64 = 43.82;

fn std_normal(rng: &mut rand::rngs::StdRng) -> f64 {
    // Box–Muller, so the test does not depend on the library under test.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Runs `posterior_draws` on REPS prior simulations; returns the ranks'
/// chi-square statistic.
fn sbc(seed: u64, posterior_draws: impl Fn(&tyche_infer::Model, u64) -> Vec<f64>) -> f64 {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut counts = vec![0usize; L + 1];
    for rep in 0..REPS {
        let mu = std_normal(&mut rng);
        let ys: Vec<f64> = (0..GROUPS)
            .map(|_| mu + std_normal(&mut rng) + std_normal(&mut rng))
            .collect();
        let m = model_named(HIER, "model", &[("ys", reals(&ys))]);
        let draws = posterior_draws(&m, rep as u64);
        assert_eq!(draws.len(), L);
        counts[draws.iter().filter(|&&d| d < mu).count()] += 1;
    }
    chi_square_uniform(&counts)
}

#[test]
fn mh_is_calibrated() {
    let chi2 = sbc(1, |m, rep| {
        // Thinning by 10 makes the 19 draws nearly independent (rank
        // statistics assume exchangeable draws).
        let opts = Options {
            chains: 1,
            burn: 100,
            thin: 10,
            seed: rep,
            ..Options::for_method(Method::Mh, L)
        };
        run_with(m, opts)
            .draws
            .iter()
            .map(|d| d.value.as_number().unwrap())
            .collect()
    });
    eprintln!("MH: chi-square {chi2:.1}");
    assert!(
        chi2 < CHI2_19_999,
        "MH ranks are not uniform: chi-square {chi2:.1}"
    );
}

#[test]
fn smc_is_calibrated() {
    let chi2 = sbc(2, |m, rep| {
        let r = run_with(m, Options::for_method(Method::Smc, 300).with_seed(rep));
        // L independent draws from the weighted particles.
        let mut rng = rand::rngs::StdRng::seed_from_u64(rep);
        let picks = Resampler::Multinomial.ancestors(&r.probabilities(), L, &mut rng);
        picks
            .iter()
            .map(|&i| r.draws[i].value.as_number().unwrap())
            .collect()
    });
    eprintln!("SMC: chi-square {chi2:.1}");
    assert!(
        chi2 < CHI2_19_999,
        "SMC ranks are not uniform: chi-square {chi2:.1}"
    );
}

/// Draws from N(mean, (scale · sd)²) where mean and sd are the exact
/// posterior's: yⱼ | mu ~ N(mu, 2), so the posterior of mu has precision
/// 1 + GROUPS/2 and mean (Σy/2)/precision.
fn analytic_draws(m: &tyche_infer::Model, rep: u64, scale: f64) -> Vec<f64> {
    let tyche_vm::Value::Array(ys) = &m.globals[0] else {
        panic!("ys")
    };
    let sum: f64 = ys.iter().map(|y| y.as_number().unwrap()).sum();
    let precision = 1.0 + GROUPS as f64 / 2.0;
    let (mean, sd) = (sum / 2.0 / precision, precision.powf(-0.5));
    let mut rng = rand::rngs::StdRng::seed_from_u64(rep + 1000);
    (0..L)
        .map(|_| mean + scale * sd * std_normal(&mut rng))
        .collect()
}

#[test]
fn sbc_accepts_the_exact_posterior_and_rejects_a_wrong_one() {
    // The test itself: exact draws pass; over-confident ones (half the
    // posterior sd) pile ranks at the ends and fail.
    let chi2 = sbc(3, |m, rep| analytic_draws(m, rep, 1.0));
    assert!(
        chi2 < CHI2_19_999,
        "exact posterior failed: chi-square {chi2:.1}"
    );
    let chi2 = sbc(3, |m, rep| analytic_draws(m, rep, 0.5));
    assert!(
        chi2 > CHI2_19_999,
        "a wrong posterior passed: chi-square {chi2:.1}"
    );
}
