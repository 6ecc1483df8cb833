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
        let mut counts = Vec::new();
        self.offspring_with(probs, n, uniform, &mut counts);
        let mut out = Vec::with_capacity(n);
        for (i, &c) in counts.iter().enumerate() {
            out.extend(std::iter::repeat_n(i, c as usize));
        }
        out
    }

    /// The same draw as [`ancestors_with`](Self::ancestors_with) as
    /// offspring counts: `counts[i]` copies of particle `i`, summing to
    /// `n` (ancestors are sorted, so the two say the same). `counts` is
    /// reused (SMC keeps one across steps); it is left empty when the
    /// weights have no mass.
    pub fn offspring_with(
        self,
        probs: &[f64],
        n: usize,
        uniform: &mut dyn FnMut() -> f64,
        counts: &mut Vec<u32>,
    ) {
        counts.clear();
        let total: f64 = probs.iter().sum();
        if n == 0 || probs.is_empty() || total <= 0.0 || !total.is_finite() {
            return;
        }
        counts.resize(probs.len(), 0);
        let nf = n as f64;
        match self {
            Resampler::Systematic => systematic(probs, total, n, uniform(), counts),
            Resampler::Stratified => {
                let points: Vec<f64> = (0..n).map(|k| (k as f64 + uniform()) / nf).collect();
                walk(probs, total, points.into_iter(), counts);
            }
            Resampler::Multinomial => multinomial(probs, total, n, uniform, counts),
            Resampler::Residual => {
                let mut residual = Vec::with_capacity(probs.len());
                let mut placed = 0;
                for (i, &p) in probs.iter().enumerate() {
                    let expected = nf * p / total;
                    let copies = expected.floor();
                    // Rounding may overshoot n: the last copies go.
                    let c = (copies as usize).min(n - placed);
                    counts[i] = c as u32;
                    placed += c;
                    residual.push(expected - copies);
                }
                let rest = n - placed;
                let rtotal: f64 = residual.iter().sum();
                if rest > 0 {
                    if rtotal > 0.0 {
                        multinomial(&residual, rtotal, rest, uniform, counts);
                    } else {
                        // Only rounding left a gap: fill from the weights.
                        multinomial(probs, total, rest, uniform, counts);
                    }
                }
            }
        }
    }
}

/// Systematic resampling's counts: particle i gets the points
/// `(k + u)·total/n` in its cumulative interval `[Cᵢ₋₁, Cᵢ)`, which are
/// the `k` with `Cᵢ₋₁·n/total − u ≤ k < Cᵢ·n/total − u`. Counting them by
/// that difference is free of data-dependent branches: walking the points
/// mispredicted about once per particle, a fifth of native SMC's time.
fn systematic(probs: &[f64], total: f64, n: usize, u: f64, counts: &mut [u32]) {
    // Points at or past the last boundary (rounding) go to the last
    // particle with positive weight, never to a zero-weight one.
    let last = probs.iter().rposition(|&p| p > 0.0).unwrap_or(0);
    let scale = n as f64 / total;
    // #{k in 0..n : k < x}, i.e. ⌈x⌉ clamped to [0, n].
    let below = |x: f64| {
        let t = x as i64; // truncates; saturates, and NaN gives 0
        (t + i64::from((t as f64) < x)).clamp(0, n as i64)
    };
    let mut upper = 0.0;
    let mut before = 0;
    for (c, &p) in counts[..last].iter_mut().zip(probs) {
        upper += p;
        let through = below(upper * scale - u);
        *c = (through - before) as u32;
        before = through;
    }
    counts[last] = (n as i64 - before) as u32;
}

/// Counts, into `counts`, the sorted points in [0, 1) falling in each
/// index's cumulative interval `[Cᵢ₋₁, Cᵢ)` (scaled by `total`).
fn walk(probs: &[f64], total: f64, points: impl Iterator<Item = f64>, counts: &mut [u32]) {
    // Rounding may put a point at or past the last boundary: clamp to the
    // last particle with positive weight (never to a zero-weight one).
    let last = probs.iter().rposition(|&p| p > 0.0).unwrap_or(0);
    let mut i = 0;
    let mut upper = probs[0];
    // Index i's count so far, kept in a register until the walk moves on.
    let mut c = 0;
    for target in points.map(|p| p * total) {
        while upper <= target && i < last {
            counts[i] += c;
            c = 0;
            i += 1;
            upper += probs[i];
        }
        c += 1;
    }
    counts[i] += c;
}

fn multinomial(
    probs: &[f64],
    total: f64,
    n: usize,
    uniform: &mut dyn FnMut() -> f64,
    counts: &mut [u32],
) {
    let mut points: Vec<f64> = (0..n).map(|_| uniform()).collect();
    points.sort_unstable_by(f64::total_cmp);
    walk(probs, total, points.into_iter(), counts);
}

/// Offspring counts and the copies they imply, as resampling in place
/// makes them: each extra copy of a particle with `counts[from] > 1` goes
/// to the slot of a particle with no offspring, in increasing order of
/// both. A source always has offspring, so it is never overwritten, and
/// survivors never move. Kept across steps by callers that resample often
/// (native SMC), so resampling allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Offspring {
    /// Copies of each particle (see [`Resampler::offspring_with`]).
    counts: Vec<u32>,
    /// The `i`-th extra copy goes from particle `from[i]` to slot `to[i]`.
    from: Vec<u32>,
    to: Vec<u32>,
}

impl Offspring {
    /// Calls `copy(from, to)` for every extra copy. Both lists are built
    /// first, without data-dependent branches: pairing each extra copy
    /// with the next free slot as it came mispredicted about once per
    /// particle.
    fn place(&mut self, mut copy: impl FnMut(usize, usize)) {
        let n = self.counts.len();
        // Up to two writes past the last extra copy.
        self.from.resize(n + 2, 0);
        self.to.resize(n, 0);
        let (mut extras, mut free) = (0, 0);
        for (i, &c) in self.counts.iter().enumerate() {
            let i = i as u32;
            self.to[free] = i;
            free += usize::from(c == 0);
            let more = c.saturating_sub(1) as usize;
            self.from[extras] = i;
            self.from[extras + 1] = i;
            if more > 2 {
                self.from[extras..extras + more].fill(i);
            }
            extras += more;
        }
        debug_assert_eq!(extras, free, "one free slot per extra copy");
        for (&from, &to) in self.from[..extras].iter().zip(&self.to[..free]) {
            copy(from as usize, to as usize);
        }
    }
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
        let mut particles = std::mem::take(&mut self.particles);
        self.resample_by(
            scheme,
            rng,
            summary,
            &mut Offspring::default(),
            |from, to| {
                particles[to] = particles[from].clone();
            },
        );
        self.particles = particles;
    }

    /// [`resample_with`](Self::resample_with) for particles the caller
    /// stores (native SMC keeps them as rows of one array): it is told
    /// `copy(from, to)` for each extra copy (see [`Offspring`]), whose
    /// buffers are reused across calls.
    pub fn resample_by<R: Rng + ?Sized>(
        &mut self,
        scheme: Resampler,
        rng: &mut R,
        summary: &WeightSummary,
        offspring: &mut Offspring,
        copy: impl FnMut(usize, usize),
    ) {
        let n = self.log_weights.len();
        // Resamplers normalise: the weights scaled by their maximum do.
        let uniform = &mut || rng.random::<f64>();
        scheme.offspring_with(&summary.scaled, n, uniform, &mut offspring.counts);
        self.replace_by_counts(offspring, summary.log_mean, copy);
    }

    /// Resampling with given ancestor indices (`len()` of them, each in
    /// `0..len()`). In place: a particle with offspring stays in its slot,
    /// and its extra copies (clones) overwrite the slots of particles with
    /// none, so survivors are never moved.
    pub fn replace_by(&mut self, ancestors: &[usize]) {
        if ancestors.len() != self.len() {
            return;
        }
        let log_mean = self.log_mean_weight();
        let mut offspring = Offspring {
            counts: vec![0; self.len()],
            ..Offspring::default()
        };
        for &a in ancestors {
            offspring.counts[a] += 1;
        }
        let mut particles = std::mem::take(&mut self.particles);
        self.replace_by_counts(&mut offspring, log_mean, |from, to| {
            particles[to] = particles[from].clone();
        });
        self.particles = particles;
    }

    /// Places the copies `offspring.counts` asks for, folds `log_mean`
    /// into the evidence and resets the weights; does nothing without mass
    /// (or counts, which a massless draw leaves empty).
    fn replace_by_counts(
        &mut self,
        offspring: &mut Offspring,
        log_mean: f64,
        copy: impl FnMut(usize, usize),
    ) {
        if offspring.counts.len() != self.log_weights.len() || log_mean == f64::NEG_INFINITY {
            return;
        }
        offspring.place(copy);
        self.log_weights.fill(0.0);
        self.log_z += log_mean;
    }
}
