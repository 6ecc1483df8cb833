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

// ---------------------------------------------------------------------------
// Rank-normalised diagnostics (Vehtari, Gelman, Simpson, Carpenter and
// Bürkner 2021, "Rank-normalization, folding, and localization: an improved
// R-hat"), computed exactly as ArviZ 0.23 computes them
// (`arviz.stats.diagnostics`: `_rhat_rank`, `_ess_bulk`, `_ess_tail`,
// `_ess_mean`, `_mcse_mean`, `_mcse_sd`), so that Tyche's numbers and
// `az.summary`'s agree to rounding. Each function takes one quantity's draws
// as one slice per chain; chains are truncated to the shortest. They return
// `None` where ArviZ returns NaN (fewer than 4 draws per chain, a NaN draw,
// an undefined ratio), with one deliberate difference: R-hat is computed
// for a single chain too (its two halves), as Stan does, where ArviZ needs
// two chains.
// ---------------------------------------------------------------------------

/// Fewest draws per chain for any of the rank-normalised diagnostics.
pub const MIN_DRAWS: usize = 4;

/// Chains truncated to the shortest, or `None` when there are no chains,
/// fewer than [`MIN_DRAWS`] draws per chain, or a NaN draw.
fn valid_chains<C: AsRef<[f64]>>(chains: &[C]) -> Option<Vec<&[f64]>> {
    let n = chains.iter().map(|c| c.as_ref().len()).min()?;
    if n < MIN_DRAWS {
        return None;
    }
    let cs: Vec<&[f64]> = chains.iter().map(|c| &c.as_ref()[..n]).collect();
    if cs.iter().any(|c| c.iter().any(|x| x.is_nan())) {
        return None;
    }
    Some(cs)
}

/// Each chain cut into its first and last `n/2` draws (the middle draw of
/// an odd-length chain is dropped), as ArviZ's `_split_chains`: 2m chains.
fn split_halves(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * chains.len());
    let mut second = Vec::with_capacity(chains.len());
    for c in chains {
        let half = c.len() / 2;
        out.push(c[..half].to_vec());
        second.push(c[c.len() - half..].to_vec());
    }
    // ArviZ stacks all first halves, then all second halves.
    out.extend(second);
    out
}

fn to_owned_chains(cs: &[&[f64]]) -> Vec<Vec<f64>> {
    cs.iter().map(|c| c.to_vec()).collect()
}

/// Average ranks (1-based, ties sharing their mean rank) of all draws of
/// all chains together, back-transformed to normal scores
/// `Φ⁻¹((r − 3/8) / (S + 1/4))` (Blom 1958), S the total number of draws.
fn z_scale(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let flat: Vec<f64> = chains.iter().flatten().copied().collect();
    let s = flat.len();
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_by(|&a, &b| flat[a].total_cmp(&flat[b]));
    let mut rank = vec![0.0; s];
    let mut i = 0;
    while i < s {
        let mut j = i;
        // -0.0 and 0.0 tie, as they do in scipy's rankdata.
        while j + 1 < s && flat[order[j + 1]] == flat[order[i]] {
            j += 1;
        }
        // Positions i..=j (0-based) share the mean of ranks i+1..=j+1.
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            rank[k] = r;
        }
        i = j + 1;
    }
    let denom = s as f64 - 2.0 * 0.375 + 1.0;
    let z: Vec<f64> = rank
        .iter()
        .map(|r| tyche_dist::special::normal_quantile((r - 0.375) / denom))
        .collect();
    let mut out = Vec::with_capacity(chains.len());
    let mut at = 0;
    for c in chains {
        out.push(z[at..at + c.len()].to_vec());
        at += c.len();
    }
    out
}

/// The median of all draws (numpy's: the mean of the two middle values of
/// an even count).
fn median_of(chains: &[Vec<f64>]) -> f64 {
    let flat: Vec<f64> = chains.iter().flatten().copied().collect();
    quantile_sorted(&sorted(&flat), 0.5)
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The `p`-quantile of sorted values by linear interpolation between order
/// statistics (R's type 7, numpy's default, ArviZ's `quantile`): position
/// `(n − 1)·p`. NaN for no values.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = h - lo as f64;
    if frac == 0.0 {
        return sorted[lo];
    }
    // scipy's mquantiles: (1 − γ)·x[j] + γ·x[j+1].
    (1.0 - frac) * sorted[lo] + frac * sorted[hi]
}

/// The type-7 quantiles of all draws of all chains at each of `ps`.
pub fn quantiles<C: AsRef<[f64]>>(chains: &[C], ps: &[f64]) -> Vec<f64> {
    let flat: Vec<f64> = chains.iter().flat_map(|c| c.as_ref()).copied().collect();
    let s = sorted(&flat);
    ps.iter().map(|&p| quantile_sorted(&s, p)).collect()
}

/// ArviZ's `_rhat`: `sqrt((B/W + n − 1)/n)` over chains of equal length.
fn rhat_plain(chains: &[Vec<f64>]) -> Option<f64> {
    let n = chains[0].len() as f64;
    let w = chains.iter().map(|c| variance(c)).sum::<f64>() / chains.len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let b = n * variance(&means);
    let r = ((b / w + n - 1.0) / n).sqrt();
    (!r.is_nan()).then_some(r)
}

/// Rank-normalised split R-hat: the larger of the bulk R-hat (split
/// chains, z-scaled ranks) and the tail R-hat (the same of the draws'
/// distance to their median). Values above 1.01 suggest the chains have not
/// mixed. `None` with fewer than 4 draws per chain or a NaN draw, or when
/// every draw is equal; +∞ when each half-chain is constant but they
/// differ.
pub fn rhat<C: AsRef<[f64]>>(chains: &[C]) -> Option<f64> {
    let cs = to_owned_chains(&valid_chains(chains)?);
    let split = split_halves(&cs);
    let bulk = rhat_plain(&z_scale(&split))?;
    let med = median_of(&split);
    let folded: Vec<Vec<f64>> = split
        .iter()
        .map(|c| c.iter().map(|x| (x - med).abs()).collect())
        .collect();
    // Chains constant at different values have an undefined tail R-hat
    // (every distance to the median is equal); the bulk one says it all.
    Some(rhat_plain(&z_scale(&folded)).map_or(bulk, |tail| bulk.max(tail)))
}

/// Bulk effective sample size: the ESS of the z-scaled ranks of the split
/// chains.
pub fn ess_bulk<C: AsRef<[f64]>>(chains: &[C]) -> Option<f64> {
    let cs = to_owned_chains(&valid_chains(chains)?);
    ess_geyer(&z_scale(&split_halves(&cs)))
}

/// Tail effective sample size: the smaller of the ESS of the indicators
/// `x ≤ q₀.₀₅` and `x ≤ q₀.₉₅` (type-7 quantiles of all draws), on split
/// chains.
pub fn ess_tail<C: AsRef<[f64]>>(chains: &[C]) -> Option<f64> {
    let cs = valid_chains(chains)?;
    let qs = quantiles(&cs, &[0.05, 0.95]);
    let ess_at = |q: f64| {
        let ind: Vec<Vec<f64>> = cs
            .iter()
            .map(|c| c.iter().map(|&x| f64::from(u8::from(x <= q))).collect())
            .collect();
        ess_geyer(&split_halves(&ind))
    };
    Some(ess_at(qs[0])?.min(ess_at(qs[1])?))
}

/// Effective sample size of the mean: Geyer's initial monotone sequence
/// estimate on the split chains (ArviZ's `ess(method="mean")`). `None`
/// for infinite draws.
pub fn ess_mean<C: AsRef<[f64]>>(chains: &[C]) -> Option<f64> {
    let cs = valid_chains(chains)?;
    if cs.iter().any(|c| c.iter().any(|x| !x.is_finite())) {
        return None;
    }
    ess_geyer(&split_halves(&to_owned_chains(&cs)))
}

/// Monte Carlo standard error of the mean: `sd / sqrt(ESS_mean)`, the sd
/// over all draws with divisor S − 1.
pub fn mcse_mean<C: AsRef<[f64]>>(chains: &[C]) -> Option<f64> {
    let cs = valid_chains(chains)?;
    let ess = ess_mean(&cs)?;
    let flat: Vec<f64> = cs.iter().flat_map(|c| c.iter()).copied().collect();
    let r = (variance(&flat) / ess).sqrt();
    r.is_finite().then_some(r)
}

/// Monte Carlo standard error of the sd, by the delta method from the
/// variance of the squared deviations `d = (x − x̄)²` and their ESS of the
/// mean: `sqrt((mean(d²) − mean(d)²) / ESS_d / mean(d) / 4)`.
pub fn mcse_sd<C: AsRef<[f64]>>(chains: &[C]) -> Option<f64> {
    let cs = valid_chains(chains)?;
    let flat: Vec<f64> = cs.iter().flat_map(|c| c.iter()).copied().collect();
    let m = mean(&flat);
    let d: Vec<Vec<f64>> = cs
        .iter()
        .map(|c| c.iter().map(|x| (x - m) * (x - m)).collect())
        .collect();
    let ess = ess_mean(&d)?;
    let dflat: Vec<f64> = d.iter().flatten().copied().collect();
    let evar = mean(&dflat);
    let varvar =
        (dflat.iter().map(|x| x * x).sum::<f64>() / dflat.len() as f64 - evar * evar) / ess;
    let r = (varvar / evar / 4.0).sqrt();
    r.is_finite().then_some(r)
}

/// The posterior summary of one quantity over MCMC chains, as `az.summary`
/// and `stansummary` report it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostics {
    /// Draws per chain (after truncating to the shortest) and chains.
    pub draws: usize,
    pub chains: usize,
    pub mean: f64,
    /// Standard deviation with divisor S − 1 (S the number of draws).
    pub sd: f64,
    pub mcse_mean: Option<f64>,
    pub mcse_sd: Option<f64>,
    /// Type-7 quantiles at 5%, 50% and 95%.
    pub q5: f64,
    pub q50: f64,
    pub q95: f64,
    pub ess_bulk: Option<f64>,
    pub ess_tail: Option<f64>,
    pub rhat: Option<f64>,
}

/// All of the summary and diagnostics of one quantity; `None` when there
/// are no chains or no draws.
pub fn diagnostics<C: AsRef<[f64]>>(chains: &[C]) -> Option<Diagnostics> {
    let n = chains.iter().map(|c| c.as_ref().len()).min()?;
    if n == 0 {
        return None;
    }
    let cs: Vec<&[f64]> = chains.iter().map(|c| &c.as_ref()[..n]).collect();
    let flat: Vec<f64> = cs.iter().flat_map(|c| c.iter()).copied().collect();
    let qs = quantiles(&cs, &[0.05, 0.5, 0.95]);
    Some(Diagnostics {
        draws: n,
        chains: cs.len(),
        mean: mean(&flat),
        sd: if flat.len() > 1 {
            variance(&flat).sqrt()
        } else {
            f64::NAN
        },
        mcse_mean: mcse_mean(&cs),
        mcse_sd: mcse_sd(&cs),
        q5: qs[0],
        q50: qs[1],
        q95: qs[2],
        ess_bulk: ess_bulk(&cs),
        ess_tail: ess_tail(&cs),
        rhat: rhat(&cs),
    })
}

/// ArviZ's `_ess`: the multi-chain ESS of chains of equal length with
/// Geyer's initial positive sequence, improved by the initial monotone
/// sequence, with ArviZ's index arithmetic reproduced step by step.
fn ess_geyer(chains: &[Vec<f64>]) -> Option<f64> {
    let m = chains.len();
    let n = chains.first()?.len();
    let size = (m * n) as f64;
    let (lo, hi) = chains
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    if lo.is_nan() || hi.is_nan() {
        return None;
    }
    // numpy's float64 `resolution`: constant draws count fully.
    if hi - lo < 1e-15 {
        return Some(size);
    }
    if n < 2 {
        return None;
    }
    let acovs: Vec<Vec<f64>> = chains.iter().map(|c| autocov_fft(c)).collect();
    let mean_acov = |t: usize| acovs.iter().map(|a| a[t]).sum::<f64>() / m as f64;
    let nf = n as f64;
    let mean_var = mean_acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
        var_plus += variance(&means);
    }
    let rho = |t: usize| 1.0 - (mean_var - mean_acov(t)) / var_plus;
    let mut rho_t = vec![0.0; n];
    let mut even = 1.0;
    rho_t[0] = even;
    let mut odd = rho(1);
    rho_t[1] = odd;
    let n_i = n as isize;
    let mut t: isize = 1;
    while t < n_i - 3 && even + odd > 0.0 {
        even = rho((t + 1) as usize);
        odd = rho((t + 2) as usize);
        if even + odd >= 0.0 {
            rho_t[(t + 1) as usize] = even;
            rho_t[(t + 2) as usize] = odd;
        }
        t += 2;
    }
    let max_t = t - 2;
    if even > 0.0 {
        rho_t[(max_t + 1) as usize] = even;
    }
    let mut t: isize = 1;
    while t <= max_t - 2 {
        let (a, b, c, d) = (t - 1, t, t + 1, t + 2);
        let prev = rho_t[a as usize] + rho_t[b as usize];
        if rho_t[c as usize] + rho_t[d as usize] > prev {
            rho_t[c as usize] = prev / 2.0;
            rho_t[d as usize] = rho_t[c as usize];
        }
        t += 2;
    }
    let head: f64 = rho_t[..(max_t + 1) as usize].iter().sum();
    let next = rho_t.get((max_t + 1) as usize).copied().unwrap_or(0.0);
    let tau = (-1.0 + 2.0 * head + next).max(1.0 / size.log10());
    if rho_t.iter().any(|r| r.is_nan()) {
        return None;
    }
    Some(size / tau)
}

/// Autocovariances of `xs` at every lag 0..n (divisor n), by FFT of the
/// centred series zero-padded to a power of two at least 2n.
fn autocov_fft(xs: &[f64]) -> Vec<f64> {
    let n = xs.len();
    let m = mean(xs);
    let size = (2 * n).next_power_of_two();
    let mut re = vec![0.0; size];
    let mut im = vec![0.0; size];
    for (r, x) in re.iter_mut().zip(xs) {
        *r = x - m;
    }
    fft(&mut re, &mut im, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft(&mut re, &mut im, true);
    re.truncate(n);
    // The inverse transform is unscaled: divide by the length, then by n.
    re.iter().map(|x| x / size as f64 / n as f64).collect()
}

/// In-place iterative radix-2 Cooley–Tukey FFT (length a power of two);
/// `inverse` conjugates the twiddles and leaves the result unscaled.
fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let half = len / 2;
        let step = sign * std::f64::consts::TAU / len as f64;
        for start in (0..n).step_by(len) {
            for k in 0..half {
                // Twiddles computed directly (not by repeated
                // multiplication) so errors do not accumulate.
                let (s, c) = (step * k as f64).sin_cos();
                let (a, b) = (start + k, start + k + half);
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
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

    /// The generator of `tests/interop/arviz_diagnostics.py` (splitmix64,
    /// sums of 12 uniforms, AR(1)): exactly rounded operations only, so the
    /// draws are bit-identical to the script's.
    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn uniform(&mut self) -> f64 {
            (self.next() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
        }
        fn normalish(&mut self) -> f64 {
            let mut s = 0.0;
            for _ in 0..12 {
                s += self.uniform();
            }
            s - 6.0
        }
    }

    fn ar1(seed: u64, n: usize, phi: f64, offset: f64) -> Vec<f64> {
        let mut g = SplitMix(seed);
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                x = phi * x + g.normalish();
                x + offset
            })
            .collect()
    }

    fn draw_sets() -> Vec<(&'static str, Vec<Vec<f64>>)> {
        vec![
            (
                "mixed",
                (0..4).map(|k| ar1(100 + k, 500, 0.5, 0.0)).collect(),
            ),
            (
                "stuck",
                (0..4)
                    .map(|k| ar1(200 + k, 501, 0.9, 0.3 * k as f64))
                    .collect(),
            ),
            (
                "heavy",
                vec![ar1(300, 201, 0.3, 0.0).iter().map(|x| x * x * x).collect()],
            ),
            (
                "ties",
                (0..2)
                    .map(|k| {
                        ar1(400 + k, 300, 0.7, 0.0)
                            .iter()
                            .map(|x| (2.0 * x).floor())
                            .collect()
                    })
                    .collect(),
            ),
        ]
    }

    struct Expected {
        rhat: f64,
        ess_bulk: f64,
        ess_tail: f64,
        ess_mean: f64,
        mcse_mean: f64,
        mcse_sd: f64,
        mean: f64,
        sd: f64,
        q5: f64,
        q50: f64,
        q95: f64,
    }

    /// ArviZ 0.23.4's values for [`draw_sets`], printed by
    /// `tests/interop/arviz_diagnostics.py` (R-hat of the single chain by
    /// ArviZ's own `_rhat`/`_z_scale`/`_split_chains`, since `az.rhat`
    /// needs two chains).
    #[rustfmt::skip]
    const ARVIZ: [(&str, Expected); 4] = [
        ("mixed", Expected { rhat: 1.0031785645955114, ess_bulk: 689.348836485556, ess_tail: 1056.2009339993824, ess_mean: 689.0399612058493, mcse_mean: 0.04552500118061481, mcse_sd: 0.02371647969716109, mean: 0.04268449666879539, sd: 1.195011736476452, q5: -1.9014334319941906, q50: 0.02461831928455256, q95: 2.081925566613904 }),
        ("stuck", Expected { rhat: 1.041169007724953, ess_bulk: 83.6879426918339, ess_tail: 240.51514742381673, ess_mean: 83.97711215014266, mcse_mean: 0.24876473949637123, mcse_sd: 0.09800984144882277, mean: 0.335186830630777, sd: 2.2796558605392883, q5: -3.526158739164596, q50: 0.4785328801290908, q95: 3.858115604599655 }),
        ("heavy", Expected { rhat: 0.995335642694433, ess_bulk: 125.1516244658585, ess_tail: 154.49565095974566, ess_mean: 139.1066331860946, mcse_mean: 0.35751471306217447, mcse_sd: 0.7009244190344366, mean: -0.6135518691887756, sd: 4.216652765784907, q5: -5.30448366976777, q50: -0.016776326280072286, q95: 2.3680500971969405 }),
        ("ties", Expected { rhat: 1.0248796442069905, ess_bulk: 81.11726676057889, ess_tail: 170.80815591842057, ess_mean: 81.3439904144325, mcse_mean: 0.3237285368123397, mcse_sd: 0.14941351629108765, mean: -0.5966666666666667, sd: 2.919736916514623, q5: -5.0, q50: -1.0, q95: 4.0 }),
    ];

    #[test]
    fn draws_match_the_script() {
        let sets = draw_sets();
        assert_eq!(
            sets[0].1[0][..3],
            [-0.7842749058206815, -2.084986954235237, -0.841398670398873]
        );
        assert_eq!(
            sets[2].1[0][..3],
            [-1.4066945502035662, -3.13896757976612, 0.5902615840482763]
        );
    }

    #[test]
    fn diagnostics_match_arviz() {
        // ArviZ computes autocovariances by FFT in a different order of
        // operations and Φ⁻¹ by a different algorithm: agreement is to
        // rounding, far inside 1e-9 relative.
        let close = |what: &str, name: &str, got: Option<f64>, want: f64| {
            let got = got.unwrap_or_else(|| panic!("{name}: {what} is None"));
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{name}: {what} {got} vs ArviZ {want}"
            );
        };
        for ((name, chains), (name2, e)) in draw_sets().iter().zip(&ARVIZ) {
            assert_eq!(name, name2);
            close("rhat", name, rhat(chains), e.rhat);
            close("ess_bulk", name, ess_bulk(chains), e.ess_bulk);
            close("ess_tail", name, ess_tail(chains), e.ess_tail);
            close("ess_mean", name, ess_mean(chains), e.ess_mean);
            close("mcse_mean", name, mcse_mean(chains), e.mcse_mean);
            close("mcse_sd", name, mcse_sd(chains), e.mcse_sd);
            let d = diagnostics(chains).unwrap();
            close("mean", name, Some(d.mean), e.mean);
            close("sd", name, Some(d.sd), e.sd);
            close("q5", name, Some(d.q5), e.q5);
            close("q50", name, Some(d.q50), e.q50);
            close("q95", name, Some(d.q95), e.q95);
            assert_eq!(
                (d.rhat, d.ess_bulk, d.ess_tail),
                (rhat(chains), ess_bulk(chains), ess_tail(chains))
            );
        }
    }

    #[test]
    fn diagnostics_of_degenerate_draws() {
        // Too few draws, NaN: no diagnostics (ArviZ's NaN).
        assert_eq!(rhat(&[vec![1.0, 2.0, 3.0]]), None);
        assert_eq!(ess_bulk(&[vec![1.0, f64::NAN, 3.0, 4.0]]), None);
        // Constant draws: ArviZ counts them fully; R-hat is undefined.
        let same = vec![vec![2.0; 10], vec![2.0; 10]];
        assert_eq!(ess_bulk(&same), Some(20.0));
        assert_eq!(ess_mean(&same), Some(20.0));
        assert_eq!(rhat(&same), None);
        // Constant chains in different places: stuck, R-hat infinite.
        let stuck = vec![vec![1.0; 10], vec![2.0; 10]];
        assert_eq!(rhat(&stuck), Some(f64::INFINITY));
        // Infinite draws: rank-based diagnostics still work; the mean's not.
        let inf = vec![(0..20)
            .map(|i| if i == 3 { f64::INFINITY } else { i as f64 })
            .collect::<Vec<_>>()];
        assert!(ess_bulk(&inf).is_some() && rhat(&inf).is_some());
        assert_eq!(ess_mean(&inf), None);
        assert_eq!(mcse_mean(&inf), None);
        assert_eq!(diagnostics::<Vec<f64>>(&[]), None);
        assert_eq!(quantile_sorted(&[1.0, 2.0, 4.0], 0.75), 3.0);
    }

    #[test]
    fn fft_autocovariance_matches_the_direct_sum() {
        let xs = ar1(9, 37, 0.8, 1.0);
        let m = mean(&xs);
        let fast = autocov_fft(&xs);
        for (t, f) in fast.iter().enumerate() {
            let direct = autocov(&xs, m, t);
            assert!((f - direct).abs() < 1e-12, "lag {t}: {f} vs {direct}");
        }
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
