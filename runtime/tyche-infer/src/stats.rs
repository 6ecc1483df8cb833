//! Numerical helpers and sample diagnostics: log-sum-exp, Kish's ESS for
//! weighted samples, and split R-hat and the multi-chain effective sample
//! size for MCMC (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §11.4–5,
//! as computed by Stan).

/// `log Σ exp(xᵢ)` without overflow; −∞ for an empty or all −∞ input.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY || max.is_nan() {
        return max;
    }
    if max == f64::INFINITY {
        return f64::INFINITY;
    }
    max + xs.iter().map(|&x| (x - max).exp()).sum::<f64>().ln()
}

/// Kish's effective sample size `(Σw)² / Σw²` of log weights.
pub fn kish_ess(log_weights: &[f64]) -> f64 {
    let max = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return 0.0;
    }
    let (mut s, mut s2) = (0.0, 0.0);
    for &lw in log_weights {
        let w = (lw - max).exp();
        s += w;
        s2 += w * w;
    }
    s * s / s2
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)
}

/// Within-chain variance W and the pooled estimate var⁺ for chains of
/// equal length n: `var⁺ = (n−1)/n · W + B/n`, `B = n · var(chain means)`.
fn pooled(chains: &[&[f64]]) -> (f64, f64) {
    let n = chains[0].len() as f64;
    let w = chains.iter().map(|c| variance(c)).sum::<f64>() / chains.len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let b_over_n = if chains.len() > 1 {
        variance(&means)
    } else {
        0.0
    };
    (w, (n - 1.0) / n * w + b_over_n)
}

/// Split R-hat: each chain (truncated to the shortest) is cut in halves,
/// and `sqrt(var⁺ / W)` is computed over the 2m half-chains. Values near 1
/// indicate convergence. `None` with fewer than 4 draws per chain or when
/// every draw is equal; +∞ when every half-chain is constant but they
/// differ (chains stuck in different states).
pub fn split_rhat(chains: &[Vec<f64>]) -> Option<f64> {
    let len = chains.iter().map(Vec::len).min()?;
    let half = len / 2;
    if half < 2 {
        return None;
    }
    let halves: Vec<&[f64]> = chains
        .iter()
        .flat_map(|c| [&c[..half], &c[half..2 * half]])
        .collect();
    let (w, var_plus) = pooled(&halves);
    if !w.is_finite() {
        return None;
    }
    if w <= 0.0 {
        // Every half-chain is constant: converged if they agree, stuck in
        // different places (a sampler that cannot move) if not.
        return if var_plus > 0.0 {
            Some(f64::INFINITY)
        } else {
            None
        };
    }
    Some((var_plus / w).sqrt())
}

/// Autocovariance of `xs` at `lag` (biased estimator, divisor n).
fn autocov(xs: &[f64], m: f64, lag: usize) -> f64 {
    let n = xs.len();
    (0..n - lag)
        .map(|i| (xs[i] - m) * (xs[i + lag] - m))
        .sum::<f64>()
        / n as f64
}

/// Multi-chain effective sample size (chains truncated to the shortest):
/// `ρ̂ₜ = 1 − (W − mean autocovₜ) / var⁺`, summed with Geyer's initial
/// monotone positive sequence, `ESS = m·n / (−1 + 2 Σₖ (ρ̂₂ₖ + ρ̂₂ₖ₊₁))`.
/// `None` with fewer than 4 draws per chain or no variation at all; the
/// number of chains when each chain is constant but they differ.
pub fn mcmc_ess(chains: &[Vec<f64>]) -> Option<f64> {
    let n = chains.iter().map(Vec::len).min()?;
    if n < 4 {
        return None;
    }
    let cs: Vec<&[f64]> = chains.iter().map(|c| &c[..n]).collect();
    let (w, var_plus) = pooled(&cs);
    if !w.is_finite() || var_plus <= 0.0 {
        return None;
    }
    if w <= 0.0 {
        // Constant chains that disagree: as informative as one draw each.
        return Some(cs.len() as f64);
    }
    let means: Vec<f64> = cs.iter().map(|c| mean(c)).collect();
    let rho = |t: usize| {
        let acov = cs
            .iter()
            .zip(&means)
            .map(|(c, &m)| autocov(c, m, t))
            .sum::<f64>()
            / cs.len() as f64;
        // Chain variances use divisor n−1 in W; the lag-0 autocovariance
        // uses n; Stan corrects by the same factor.
        let acov = acov * n as f64 / (n as f64 - 1.0);
        1.0 - (w - acov) / var_plus
    };
    let mut tau = -1.0;
    let mut prev = f64::INFINITY;
    let mut t = 0;
    while t + 1 < n {
        let pair = rho(t) + rho(t + 1);
        if pair < 0.0 {
            break;
        }
        let pair = pair.min(prev); // monotone
        tau += 2.0 * pair;
        prev = pair;
        t += 2;
    }
    let total = (cs.len() * n) as f64;
    // Antithetic chains can make τ tiny; bound it below by 1/log10(m·n)
    // as Stan does.
    Some(total / tau.max(1.0 / total.log10()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sum_exp_matches_direct_sum() {
        let xs = [-1.0, 0.5, 2.0];
        let direct = xs.iter().map(|x: &f64| x.exp()).sum::<f64>().ln();
        assert!((log_sum_exp(&xs) - direct).abs() < 1e-14);
        assert_eq!(
            log_sum_exp(&[f64::NEG_INFINITY, f64::NEG_INFINITY]),
            f64::NEG_INFINITY
        );
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn kish_ess_of_equal_and_degenerate_weights() {
        assert!((kish_ess(&[0.0; 10]) - 10.0).abs() < 1e-12);
        assert!((kish_ess(&[0.0, f64::NEG_INFINITY, f64::NEG_INFINITY]) - 1.0).abs() < 1e-12);
        // Weights 1 and 3: (4)² / (1 + 9) = 1.6.
        assert!((kish_ess(&[0.0, 3f64.ln()]) - 1.6).abs() < 1e-12);
    }

    #[test]
    fn rhat_and_ess_of_independent_chains() {
        use rand::{RngExt, SeedableRng};
        let mut rng = crate::rng::InferRng::seed_from_u64(7);
        let chains: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..2000).map(|_| rng.random::<f64>()).collect())
            .collect();
        let r = split_rhat(&chains).unwrap();
        // For iid chains R-hat − 1 is O(1/n): well under 0.01 here.
        assert!((r - 1.0).abs() < 0.01, "rhat {r}");
        let ess = mcmc_ess(&chains).unwrap();
        // iid draws: ESS ≈ 8000; the Geyer estimate fluctuates by a few
        // percent.
        assert!((ess - 8000.0).abs() < 1000.0, "ess {ess}");
        // Shifted chains do not mix: R-hat far above 1.
        let shifted: Vec<Vec<f64>> = chains
            .iter()
            .enumerate()
            .map(|(k, c)| c.iter().map(|x| x + k as f64).collect())
            .collect();
        assert!(split_rhat(&shifted).unwrap() > 1.5);
    }

    #[test]
    fn ess_of_an_ar1_chain() {
        use rand::SeedableRng;
        // x_t = φ x_{t−1} + ε: the integrated autocorrelation time is
        // (1 + φ)/(1 − φ) = 3 for φ = 0.5, so ESS ≈ n/3.
        let mut rng = crate::rng::InferRng::seed_from_u64(11);
        let n = 20000;
        let mut x = 0.0;
        let chain: Vec<f64> = (0..n)
            .map(|_| {
                let e = crate::stats::tests::normal(&mut rng);
                x = 0.5 * x + e;
                x
            })
            .collect();
        let ess = mcmc_ess(&[chain]).unwrap();
        let expected = n as f64 / 3.0;
        assert!(
            (ess / expected - 1.0).abs() < 0.15,
            "ess {ess} vs {expected}"
        );
    }

    pub(crate) fn normal(rng: &mut crate::rng::InferRng) -> f64 {
        use rand::RngExt;
        // Box–Muller; tests only.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// `ln(eᵃ + eᵇ)`, exact at −∞.
pub fn log_sum_exp2(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}
