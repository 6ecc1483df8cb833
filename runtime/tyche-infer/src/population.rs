//! [`Population`]: weighted particles, resampling and the evidence
//! estimate — the *population* building block.
//!
//! Contract. A population `{(xᵢ, wᵢ)}` of size n represents the
//! unnormalised measure `Ẑ · Σᵢ (wᵢ / Σⱼwⱼ) δ(xᵢ)` with
//! `Ẑ = exp(log_z) · (1/n) Σᵢ wᵢ`, where `log_z` accumulates the log mean
//! weight each time the population is normalised by resampling. Resampling
//! replaces the particles by n draws from the normalised weights and sets
//! every weight to 1; all four schemes are unbiased (the expected number of
//! copies of xᵢ is n·wᵢ/Σw), so `Ẑ` stays an unbiased estimate of the
//! evidence (Del Moral 2004).

use crate::stats::log_sum_exp;
use rand::{Rng, RngExt};

/// How ancestors are drawn when resampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Resampler {
    /// One uniform `U`; ancestors at the points `(k + U)/n`. Lowest
    /// variance in practice; the default.
    #[default]
    Systematic,
    /// n independent draws from the weights.
    Multinomial,
    /// One uniform per stratum: points `(k + Uₖ)/n`.
    Stratified,
    /// `⌊n·wᵢ⌋` copies of each particle, the rest drawn multinomially from
    /// the remainders.
    Residual,
}

impl Resampler {
    pub fn name(self) -> &'static str {
        match self {
            Resampler::Systematic => "systematic",
            Resampler::Multinomial => "multinomial",
            Resampler::Stratified => "stratified",
            Resampler::Residual => "residual",
        }
    }

    pub fn from_name(name: &str) -> Option<Resampler> {
        [
            Resampler::Systematic,
            Resampler::Multinomial,
            Resampler::Stratified,
            Resampler::Residual,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }

    /// `n` ancestor indices in increasing order, for normalised
    /// probabilities `probs` (non-negative; their sum is used as the total,
    /// so rounding never walks off the end).
    pub fn ancestors<R: Rng + ?Sized>(self, probs: &[f64], n: usize, rng: &mut R) -> Vec<usize> {
        self.ancestors_with(probs, n, &mut || rng.random::<f64>())
    }

    /// As [`ancestors`](Self::ancestors), with the uniforms supplied by
    /// `uniform` (each in [0, 1)); tests drive it with chosen values.
    pub fn ancestors_with(
        self,
        probs: &[f64],
        n: usize,
        uniform: &mut dyn FnMut() -> f64,
    ) -> Vec<usize> {
        let total: f64 = probs.iter().sum();
        if n == 0 || probs.is_empty() || total <= 0.0 || !total.is_finite() {
            return Vec::new();
        }
        let nf = n as f64;
        match self {
            Resampler::Systematic => {
                let u = uniform();
                // Targets (k + u)·total/n: one multiplication per point
                // (a division per point was a fifth of SMC's time).
                let spacing = total / nf;
                walk_targets(probs, (0..n).map(|k| (k as f64 + u) * spacing))
            }
            Resampler::Stratified => {
                let points: Vec<f64> = (0..n).map(|k| (k as f64 + uniform()) / nf).collect();
                walk(probs, total, points.into_iter())
            }
            Resampler::Multinomial => multinomial(probs, total, n, uniform),
            Resampler::Residual => {
                let mut out = Vec::with_capacity(n);
                let mut residual = Vec::with_capacity(probs.len());
                for (i, &p) in probs.iter().enumerate() {
                    let expected = nf * p / total;
                    let copies = expected.floor();
                    out.extend(std::iter::repeat_n(i, copies as usize));
                    residual.push(expected - copies);
                }
                let rest = n.saturating_sub(out.len());
                let rtotal: f64 = residual.iter().sum();
                if rest > 0 {
                    if rtotal > 0.0 {
                        out.extend(multinomial(&residual, rtotal, rest, uniform));
                    } else {
                        // Only rounding left a gap: fill from the weights.
                        out.extend(multinomial(probs, total, rest, uniform));
                    }
                }
                out.truncate(n);
                out.sort_unstable();
                out
            }
        }
    }
}

/// Maps sorted points in [0, 1) to the indices whose cumulative interval
/// `[Cᵢ₋₁, Cᵢ)` (scaled by `total`) contains them.
fn walk(probs: &[f64], total: f64, points: impl Iterator<Item = f64>) -> Vec<usize> {
    walk_targets(probs, points.map(|p| p * total))
}

/// [`walk`] with the points already scaled to `[0, Σ probs)`.
fn walk_targets(probs: &[f64], targets: impl Iterator<Item = f64>) -> Vec<usize> {
    // Rounding may put a point at or past the last boundary: clamp to the
    // last particle with positive weight (never to a zero-weight one).
    let last = probs.iter().rposition(|&p| p > 0.0).unwrap_or(0);
    let mut out = Vec::with_capacity(targets.size_hint().0);
    let mut i = 0;
    let mut upper = probs[0];
    for target in targets {
        while upper <= target && i < last {
            i += 1;
            upper += probs[i];
        }
        out.push(i);
    }
    out
}

fn multinomial(
    probs: &[f64],
    total: f64,
    n: usize,
    uniform: &mut dyn FnMut() -> f64,
) -> Vec<usize> {
    let mut points: Vec<f64> = (0..n).map(|_| uniform()).collect();
    points.sort_unstable_by(f64::total_cmp);
    walk(probs, total, points.into_iter())
}

/// Weighted particles with a running evidence estimate.
/// The weights' totals at one step (see [`Population::summary`]).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightSummary {
    /// `log Σ wᵢ`.
    pub log_sum: f64,
    /// `log (Σ wᵢ / n)`, what resampling folds into the evidence.
    pub log_mean: f64,
    /// Kish's effective sample size.
    pub ess: f64,
    /// `wᵢ / max w` (all 0 without mass): the weights up to a constant.
    pub scaled: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Population<P> {
    pub particles: Vec<P>,
    /// Unnormalised log weights, one per particle.
    pub log_weights: Vec<f64>,
    /// Log of the mass folded in by earlier normalisations.
    log_z: f64,
}

impl<P: Clone> Population<P> {
    /// Particles of weight 1 each.
    pub fn new(particles: Vec<P>) -> Population<P> {
        let n = particles.len();
        Population {
            particles,
            log_weights: vec![0.0; n],
            log_z: 0.0,
        }
    }

    pub fn from_weighted(particles: Vec<P>, log_weights: Vec<f64>) -> Population<P> {
        assert_eq!(
            particles.len(),
            log_weights.len(),
            "one weight per particle"
        );
        Population {
            particles,
            log_weights,
            log_z: 0.0,
        }
    }

    pub fn len(&self) -> usize {
        self.particles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.particles.is_empty()
    }

    /// `log (1/n) Σ wᵢ` of the current weights (−∞ when all are zero).
    pub fn log_mean_weight(&self) -> f64 {
        if self.log_weights.is_empty() {
            return f64::NEG_INFINITY;
        }
        log_sum_exp(&self.log_weights) - (self.log_weights.len() as f64).ln()
    }

    /// `log Ẑ`: the evidence estimate, including the current weights.
    pub fn log_evidence(&self) -> f64 {
        self.log_z + self.log_mean_weight()
    }

    /// Adds `log_offset` to the evidence (a weight common to every
    /// particle, such as an observation made before the population split).
    pub fn add_log_evidence(&mut self, log_offset: f64) {
        self.log_z += log_offset;
    }

    /// The normalised weights (all zero when the population has no mass).
    pub fn probabilities(&self) -> Vec<f64> {
        let lse = log_sum_exp(&self.log_weights);
        if lse == f64::NEG_INFINITY {
            return vec![0.0; self.len()];
        }
        self.log_weights
            .iter()
            .map(|&lw| (lw - lse).exp())
            .collect()
    }

    /// Kish's effective sample size `(Σw)² / Σw²` (0 without mass).
    pub fn ess(&self) -> f64 {
        crate::stats::kish_ess(&self.log_weights)
    }

    /// [`log_mean_weight`](Self::log_mean_weight) and [`ess`](Self::ess)
    /// in one pass over the weights (SMC needs both at every step), bit
    /// for bit equal to the two separately.
    pub fn summary(&self) -> WeightSummary {
        let lws = &self.log_weights;
        let max = lws.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ln_n = (lws.len() as f64).ln();
        if lws.is_empty() {
            return WeightSummary {
                log_sum: f64::NEG_INFINITY,
                log_mean: f64::NEG_INFINITY,
                ess: 0.0,
                scaled: Vec::new(),
            };
        }
        if !max.is_finite() {
            // log_sum_exp returns the max itself for −∞, +∞ and NaN.
            return WeightSummary {
                log_sum: max,
                log_mean: max - ln_n,
                ess: 0.0,
                scaled: vec![0.0; lws.len()],
            };
        }
        let (mut s, mut s2) = (0.0, 0.0);
        let scaled: Vec<f64> = lws
            .iter()
            .map(|&lw| {
                let w = (lw - max).exp();
                s += w;
                s2 += w * w;
                w
            })
            .collect();
        let log_sum = max + s.ln();
        WeightSummary {
            log_sum,
            log_mean: log_sum - ln_n,
            ess: s * s / s2,
            scaled,
        }
    }

    /// Replaces the particles by `n` draws from the normalised weights,
    /// folds the log mean weight into the evidence and resets every weight
    /// to 1. Does nothing to a population without mass: check
    /// [`log_mean_weight`](Self::log_mean_weight) first.
    pub fn resample<R: Rng + ?Sized>(&mut self, scheme: Resampler, rng: &mut R) {
        let summary = self.summary();
        self.resample_with(scheme, rng, &summary);
    }

    /// [`resample`](Self::resample) given the current weights'
    /// [`summary`](Self::summary) (saves two passes over the weights).
    pub fn resample_with<R: Rng + ?Sized>(
        &mut self,
        scheme: Resampler,
        rng: &mut R,
        summary: &WeightSummary,
    ) {
        let n = self.len();
        // Resamplers normalise: the weights scaled by their maximum do.
        let ancestors = scheme.ancestors(&summary.scaled, n, rng);
        self.replace_by_given(&ancestors, summary.log_mean);
    }

    /// Resampling with given ancestor indices (`len()` of them, each in
    /// `0..len()`). In place: a particle with offspring stays in its slot,
    /// and its extra copies (clones) overwrite the slots of particles with
    /// none, so survivors are never moved.
    pub fn replace_by(&mut self, ancestors: &[usize]) {
        let log_mean = self.log_mean_weight();
        self.replace_by_given(ancestors, log_mean);
    }

    fn replace_by_given(&mut self, ancestors: &[usize], log_mean: f64) {
        let n = self.len();
        if ancestors.len() != n || log_mean == f64::NEG_INFINITY {
            return;
        }
        let mut counts = vec![0u32; n];
        for &a in ancestors {
            counts[a] += 1;
        }
        let mut free = (0..n).filter(|&i| counts[i] == 0);
        for i in 0..n {
            for _ in 1..counts[i] {
                let slot = free.next().expect("one free slot per extra copy");
                self.particles[slot] = self.particles[i].clone();
            }
        }
        self.log_weights.iter_mut().for_each(|w| *w = 0.0);
        self.log_z += log_mean;
    }
}
