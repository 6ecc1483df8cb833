//! The model interface: what the algorithms ask of a model, whatever runs
//! it. Each algorithm is written once against these traits; the
//! interpreter (`interpreted`, driving `tyche_vm::Machine`s) and
//! compiled code (`compiled`, over the [`NativeDensity`] and
//! [`NativeSequential`] that `tyche-jit` builds) are two implementations.
//!
//! In the spirit of Gen's generative function interface (Cusumano-Towner
//! et al. 2019), scoped to what the algorithms need:
//!
//! | Gen | here | interpreter | compiled |
//! |---|---|---|---|
//! | `simulate` (run forward, record choices) | [`Execution::run_to_end`](crate::Execution::run_to_end) with [`Prior`](crate::Prior) | `Machine` | — (a chain's first state is an interpreted run; compiled code converts it, `compiled::NativeChain::new`) |
//! | `generate` (run under constraints, importance weight) | [`Execution`](crate::Execution) with a [`Handler`](crate::Handler) (`do`-fixed choices, observations weight the run) | `Machine` | — |
//! | `regenerate` / `update` (new values for selected choices, acceptance ratio) | [`Chain::regenerate`] | lightweight MH re-run (`interpreted::Interpreted`) | one coordinate of θ (`compiled::NativeChain`) |
//! | `score` / `get_score` (log joint of a complete assignment) | [`NativeDensity::log_density`], a chain's current state | trace log prior + log likelihood | compiled kernel |
//! | advance a batch of particles to the next observation (SMC) | [`Particles::advance`] | one machine per particle | one compiled segment per batch of rows |
//! | log density and gradient on unconstrained coordinates (NUTS, HMC) | [`NativeGradient`](crate::NativeGradient) | — | compiled gradient |
//!
//! MH, the resample-move moves of SMC and PMMH share one transition and
//! one chain loop (`mh`) over [`Chain`]; SMC and PMMH's inner
//! filter share one particle loop (`smc`) over [`Particles`].
//!
//! Random streams: an implementation draws its random numbers in the order
//! the algorithm documents (the index to propose, then the proposal's own
//! draws, then the model's; the acceptance uniform is the algorithm's), so
//! a seed gives the same run on every implementation.

use crate::native::Backend;
use crate::options::Proposal;
use crate::population::Population;
use crate::result::Draw;
use crate::rng::{InferRng, Seed};
use std::collections::HashMap;
use tyche_core::Diagnostic;
use tyche_vm::{Address, Value};

#[allow(unused_imports)] // doc links
use crate::native::{NativeDensity, NativeSequential};

/// A proposal for an MCMC chain, made by [`Chain::regenerate`] and held
/// by the chain until the algorithm accepts or rejects it.
#[derive(Clone, Debug)]
pub struct Move<K> {
    /// The choice proposed anew (its key in [`Scales`]).
    pub key: K,
    /// Whether it took a random-walk step (whose acceptance the adaptive
    /// proposal learns from), not a prior draw.
    pub drifted: bool,
    /// `log α`, the log acceptance ratio; `None` when the proposal is
    /// rejected without drawing the acceptance uniform (its probability
    /// is zero, or the reverse move is impossible).
    pub log_alpha: Option<f64>,
}

/// The state of an MCMC chain on some backend: a complete run of the
/// model (its choices and `log p`) that can propose a move (Gen's
/// `regenerate`) and keep or drop it.
pub trait Chain {
    /// How choices are keyed for the adaptive proposal's scales (addresses
    /// on the interpreter, coordinates of θ in compiled code: the same
    /// choices in the same order, so the same scales).
    type Key: std::hash::Hash + Eq + Clone;
    /// The number of random choices of the current state (the first
    /// state's fixes the length of a sweep).
    fn choices(&self) -> usize;
    /// Proposes new values for one choice picked uniformly (lightweight
    /// single-site MH; see `interpreted.rs` for the ratio). The first
    /// draw is the index of the choice; then a random-walk step (a
    /// [`Proposal::Drift`], or [`Proposal::Adaptive`] with `scales`; one
    /// standard normal) or prior draws. `None` when the state has no
    /// random choice. An error is the model's runtime error at the
    /// proposed state.
    fn regenerate(
        &mut self,
        proposal: Proposal,
        scales: Option<&Scales<Self::Key>>,
        rng: &mut InferRng,
    ) -> Result<Option<Move<Self::Key>>, Diagnostic>;
    /// Makes the pending proposal the current state.
    fn accept(&mut self);
    /// Drops the pending proposal.
    fn reject(&mut self);
    /// The current state as an unweighted draw (its trace if `traces`).
    /// An error is the model's, computing the return value.
    fn draw(&mut self, traces: bool) -> Result<Draw, Diagnostic>;
    /// What computes the chain's densities.
    fn backend(&self) -> Backend;
    /// Model runs between checks of the stop flag: 1 for an interpreted
    /// run, more for cheap compiled steps.
    fn steps_per_check(&self) -> usize {
        1
    }
}

/// No chain: the [`Particles::Chain`] of a backend whose particles cannot
/// be moved by MH ([`Particles::chain`] always `None`).
impl Chain for std::convert::Infallible {
    type Key = ();
    fn choices(&self) -> usize {
        match *self {}
    }
    fn regenerate(
        &mut self,
        _: Proposal,
        _: Option<&Scales<()>>,
        _: &mut InferRng,
    ) -> Result<Option<Move<()>>, Diagnostic> {
        match *self {}
    }
    fn accept(&mut self) {
        match *self {}
    }
    fn reject(&mut self) {
        match *self {}
    }
    fn draw(&mut self, _: bool) -> Result<Draw, Diagnostic> {
        match *self {}
    }
    fn backend(&self) -> Backend {
        match *self {}
    }
}

/// What one SMC step did to the population.
#[derive(Clone, Copy, Debug)]
pub struct Advanced {
    /// Some particle was weighted by an observation.
    pub weighted: bool,
    /// Some particle was weighted and is still alive: more steps follow.
    pub running: bool,
}

/// A population's particles on some backend, as SMC steps them: the
/// optional SMC capability of a model. The weights live in the
/// [`Population`]; `Self::Particle` is what the population stores per
/// particle (a suspended machine, or nothing when the backend keeps rows
/// itself).
pub trait Particles: Sync {
    type Particle: Clone + Send + Sync;
    /// An MH chain at a particle (resample-move).
    type Chain<'a>: Chain
    where
        Self: 'a;
    /// Step `step`: every live particle (weight above −∞, not finished)
    /// runs to and including its next observation, its weight growing by
    /// the observation's log weight; particle `j` draws from `seed / j`.
    /// `None` when the backend cannot follow the run (compiled code that
    /// may have met a runtime error: the caller runs the interpreter from
    /// the start, which reports it exactly). Checks `stop`.
    fn advance(
        &mut self,
        step: u64,
        particles: &mut [Self::Particle],
        log_weights: &mut [f64],
        seed: Seed,
        stop: Option<&crate::Stop>,
    ) -> Result<Option<Advanced>, Diagnostic>;
    /// Resampling: particle `to` becomes a copy of particle `from`.
    fn copy(&mut self, particles: &mut [Self::Particle], from: usize, to: usize);
    /// An MH chain at particle `p`, targeting its run so far; `None` when
    /// the backend cannot move particles.
    fn chain<'a>(&'a self, p: &Self::Particle) -> Option<Self::Chain<'a>>;
    /// The particle at a chain's state.
    fn particle(&self, chain: Self::Chain<'_>) -> Self::Particle;
    /// A finished particle's return value and trace (`traces`), `None`
    /// when it has none.
    fn finished(
        &mut self,
        particles: &[Self::Particle],
        p: usize,
        traces: bool,
    ) -> Option<(Value, Vec<(Address, Value)>)>;
    /// What runs the particles.
    fn backend(&self) -> Backend;
}

/// The draws of a finished population: each particle of positive weight
/// with its normalised log weight.
pub fn weighted_draws<S: Particles>(
    sys: &mut S,
    pop: &Population<S::Particle>,
    traces: bool,
) -> Vec<Draw> {
    let lse = crate::stats::log_sum_exp(&pop.log_weights);
    let mut draws = Vec::new();
    for (p, &lw) in pop.log_weights.iter().enumerate() {
        if lw == f64::NEG_INFINITY || lse == f64::NEG_INFINITY {
            continue;
        }
        if let Some((value, trace)) = sys.finished(&pop.particles, p, traces) {
            draws.push(Draw {
                value,
                log_weight: lw - lse,
                trace,
            });
        }
    }
    draws
}

/// The random-walk scales of [`Proposal::Adaptive`], one per choice
/// (keyed by address in the interpreter, by coordinate in compiled
/// chains: the same arithmetic on the same keys, so both backends give the
/// same chain). During burn-in each random-walk step of a choice moves its
/// log scale by `n^(-0.6) · (α − 0.44)` (a Robbins–Monro step toward the
/// acceptance rate optimal for one-dimensional random walks, Roberts and
/// Rosenthal 2001), where `n` counts that choice's steps and α is 1 for an
/// accepted step, 0 for a rejected one; afterwards the scales stay fixed, so the
/// kept draws come from one MH kernel.
#[derive(Clone, Debug)]
pub struct Scales<K> {
    /// Per key: log scale and steps adapted so far. A key not yet seen has
    /// scale 1.
    table: HashMap<K, (f64, u64)>,
}

impl<K> Default for Scales<K> {
    fn default() -> Scales<K> {
        Scales {
            table: HashMap::new(),
        }
    }
}

/// The acceptance rate the adaptive random walk tunes toward.
pub const TARGET_ACCEPTANCE: f64 = 0.44;

impl<K: std::hash::Hash + Eq + Clone> Scales<K> {
    pub fn scale(&self, key: &K) -> f64 {
        self.table.get(key).map_or(1.0, |&(log, _)| log.exp())
    }

    /// Learns from one random-walk step of `key`: whether it was accepted.
    /// (The accept decision, not the acceptance probability: the decision
    /// is the same on every backend, the probability differs in its last
    /// bits with the order densities are summed in, and the scales must
    /// not, or the backends' chains would drift apart.)
    pub fn learn(&mut self, key: &K, accepted: bool) {
        let alpha = f64::from(u8::from(accepted));
        let (log, n) = self.table.entry(key.clone()).or_insert((0.0, 0));
        *n += 1;
        let gain = (*n as f64).powf(-0.6);
        // Bounded so that a choice whose every step is rejected (or
        // accepted) cannot drive its scale to 0 or ∞.
        *log = (*log + gain * (alpha - TARGET_ACCEPTANCE)).clamp(-30.0, 30.0);
    }
}
