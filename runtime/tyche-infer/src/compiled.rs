//! Compiled code's implementation of the model interface
//! ([`crate::interface`]), over the [`NativeDensity`] and
//! [`NativeSequential`] that `tyche-jit` builds.
//!
//! **MH chains** ([`NativeChain`]) on a [`NativeDensity`]: the
//! interpreter's proposal (`interpreted`), computed on θ with
//! compiled code instead of re-running the interpreter.
//!
//! θ holds Real choices as they are and discrete ones as numbers (`k as
//! f64`, Bools as 0/1); a discrete coordinate is always proposed from its
//! prior, as the interpreted kernel does even under `Drift`.
//!
//! For a static model whose choices all have fixed supports, the
//! lightweight-MH transition simplifies: every choice but the proposed one
//! is reused (its value stays in its support), so the proposal changes one
//! coordinate of θ, `|x| = |x'|`, and the acceptance ratio is
//! `log p(θ') − log p(θ) + log q(θₖ) − log q(θₖ')` (prior proposal) or
//! `log p(θ') − log p(θ)` (Gaussian drift). This module draws the same
//! random numbers in the same order as the interpreted transition, so a
//! seed gives the same chain under both backends (up to the rounding of
//! the densities, which can flip an accept decision only when the uniform
//! lands within ~1e-13 of the ratio).
//!
//! The return value of a state is computed when a kept draw needs it and
//! reused until a move is accepted: it may cost an interpreted run (a
//! model whose return value could not be compiled replays θ), and with
//! typical acceptance rates most kept draws repeat the previous state.
//! It is the interpreter's value for the same choices.
//!
//! Where the interpreted chain stops with a runtime error at a proposal
//! (an invalid parameter, an index out of bounds, a factor of NaN or +∞),
//! the compiled density marks that θ and the native chain stops with the
//! same error, rebuilt by replaying θ on the interpreter
//! ([`NativeDensity::checked_log_density`](crate::NativeDensity::checked_log_density)).
//! One difference:
//! the interpreted chain runs every proposal to its end, so an error in
//! computing the return value stops it even at a proposal it would
//! reject; here only kept states compute it (the first state's value is
//! the interpreted run's), so such an error is reported only if a kept
//! state has it.

//!
//! **SMC particles** ([`Rows`]) of a [`NativeSequential`] model: for the loop
//! of `smc`, a particle's suspended machine replaced by a row of
//! `f64`s (the values its later segments still read) and its advance by one
//! compiled segment.
//!
//! The same streams (`seed / Smc / step / slot`, `seed / Resample /
//! step`), the same resampling and the same slot placement as the
//! interpreted loop, so a seed gives the same population under both
//! backends (weights to rounding). Resampling copies rows, `state_len`
//! values each, so a step costs O(n · state_len) however long the run has
//! been: O(n · T) overall. Values only the result still reads (a path
//! the model returns, the choices of per-draw traces) move out of the rows
//! into a [`History`] whose blocks resampled copies share.

use crate::interface::{Advanced, Chain, Move, Particles, Scales};
use crate::native::{Backend, Native, NativeSequential};
use crate::options::{Options, Proposal};
use crate::result::Draw;
use crate::rng::{standard_normal, InferRng, Seed};
use crate::trace::Trace;
use rand::RngExt;
use tyche_core::Diagnostic;
use tyche_dist::Outcome;
use tyche_vm::{Address, Value};

/// What a coordinate of θ holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coordinate {
    Real,
    Int,
    Bool,
}

impl Coordinate {
    /// A scalar value as a coordinate: its kind and number.
    fn of(o: &Outcome) -> Option<(Coordinate, f64)> {
        match *o {
            Outcome::Real(x) => Some((Coordinate::Real, x)),
            Outcome::Int(k) => Some((Coordinate::Int, k as f64)),
            Outcome::Bool(b) => Some((Coordinate::Bool, f64::from(u8::from(b)))),
            Outcome::Vector(_) => None,
        }
    }

    fn outcome(self, x: f64) -> Outcome {
        match self {
            Coordinate::Real => Outcome::Real(x),
            Coordinate::Int => Outcome::Int(x as i64),
            Coordinate::Bool => Outcome::Bool(x != 0.0),
        }
    }
}

/// A first state's assignments and where its random choices are in them.
type Template = (Vec<(Address, Value)>, Vec<usize>);

/// A chain's state on θ, and how to turn it back into draws.
pub(crate) struct NativeChain<'a> {
    native: &'a Native,
    theta: Vec<f64>,
    kinds: Vec<Coordinate>,
    log_joint: f64,
    /// The trace of the first state, for draws' traces: its random choices
    /// (at `random_at`) take θ's values.
    template: Option<Template>,
    /// The return value at θ, while θ has not changed since it was
    /// computed: MH repeats states (most proposals are rejected), and the
    /// value may cost an interpreted run.
    result: Option<Value>,
    /// Per coordinate, its distribution at some state, computed at its
    /// first random-walk step: supports are fixed (checked in `new`), so it
    /// answers "is this step in the support" at every state, as the
    /// interpreted transition asks of the current distribution (they could
    /// differ only on a support's boundary, which a Gaussian step hits with
    /// probability 0).
    supports: Vec<Option<tyche_dist::Dist>>,
    /// θ with the pending proposal's coordinate changed (equal to θ when
    /// nothing is pending): kept across transitions.
    proposal: Vec<f64>,
    /// The pending proposal: its coordinate and `log p(θ')`.
    pending: Option<(usize, f64)>,
}

impl<'a> NativeChain<'a> {
    /// The chain starting at `trace` (whose run returned `result`, when
    /// known), when `native` describes it: the same random choices (site
    /// and occurrence) in the same order, all scalar, all with fixed
    /// supports. `None` keeps the interpreter.
    pub(crate) fn new(
        native: &'a Native,
        trace: &Trace,
        result: Option<Value>,
        traces: bool,
    ) -> Option<NativeChain<'a>> {
        let d = &native.0;
        if trace.random != d.dim() {
            return None;
        }
        let mut theta = Vec::with_capacity(d.dim());
        let mut kinds = Vec::with_capacity(d.dim());
        let mut random_at = Vec::with_capacity(d.dim());
        for (pos, c) in trace.choices.iter().enumerate().filter(|(_, c)| c.random) {
            let i = theta.len();
            let (kind, x) = Coordinate::of(&c.value.to_outcome()?)?;
            if d.address(i) != (c.site, c.addr.index) || !d.fixed_support(i) {
                return None;
            }
            theta.push(x);
            kinds.push(kind);
            random_at.push(pos);
        }
        let log_joint = d.log_density(&theta);
        if !log_joint.is_finite() {
            return None;
        }
        let template = traces.then(|| (trace.assignments(), random_at));
        let supports = vec![None; theta.len()];
        Some(NativeChain {
            native,
            proposal: theta.clone(),
            pending: None,
            theta,
            kinds,
            log_joint,
            template,
            result,
            supports,
        })
    }
}

impl Chain for NativeChain<'_> {
    type Key = usize;

    fn choices(&self) -> usize {
        self.theta.len()
    }

    /// One proposal (see the module docs): the interpreter's draws, in its
    /// order. An error is the interpreter's at the proposed state: the
    /// interpreted chain runs the model there and stops with it.
    fn regenerate(
        &mut self,
        kind: Proposal,
        scales: Option<&Scales<usize>>,
        rng: &mut InferRng,
    ) -> Result<Option<Move<usize>>, Diagnostic> {
        let n = self.theta.len();
        if n == 0 {
            return Ok(None);
        }
        let d = &self.native.0;
        let k = rng.random_range(0..n);
        let old = self.theta[k];
        // The same expression as the interpreted transition's
        // `log|x| − log|x'| + stale − fresh`.
        let size_ratio = (n as f64).ln() - (n as f64).ln();
        let coordinate = self.kinds[k];
        let kind = match (kind, scales) {
            (Proposal::Adaptive, Some(scales)) => Proposal::Drift {
                scale: scales.scale(&k),
            },
            (p, _) => p.untuned(),
        };
        let drifts = matches!(kind, Proposal::Drift { .. }) && coordinate == Coordinate::Real;
        let impossible = Move {
            key: k,
            drifted: drifts,
            log_alpha: None,
        };
        let (new, log_correction) = match kind {
            Proposal::Drift { scale } if coordinate == Coordinate::Real => {
                let new = old + scale * standard_normal(rng);
                if self.supports[k].is_none() {
                    self.supports[k] = d.prior(k, &self.theta).ok();
                }
                let outside = self.supports[k]
                    .as_ref()
                    .is_some_and(|dist| dist.log_prob(&Outcome::Real(new)) == f64::NEG_INFINITY);
                if outside {
                    // As the interpreted transition: rejected without a run.
                    return Ok(Some(impossible));
                }
                (new, size_ratio)
            }
            _ => {
                let Ok(dist) = d.prior(k, &self.theta) else {
                    return Ok(Some(impossible));
                };
                let drawn = dist.sample(rng);
                let Some((_, v)) = Coordinate::of(&drawn).filter(|(k, _)| *k == coordinate) else {
                    return Ok(Some(impossible));
                };
                let stale = dist.log_prob(&coordinate.outcome(old));
                let fresh = dist.log_prob(&drawn);
                (v, size_ratio + stale - fresh)
            }
        };
        self.proposal[k] = new;
        let new_joint = match d.checked_log_density(&self.proposal) {
            Ok(x) => x,
            Err(e) => {
                self.proposal[k] = old;
                return Err(e);
            }
        };
        let log_alpha = if !new_joint.is_finite() || log_correction == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            new_joint - self.log_joint + log_correction
        };
        self.pending = Some((k, new_joint));
        Ok(Some(Move {
            key: k,
            drifted: drifts,
            log_alpha: (log_alpha != f64::NEG_INFINITY).then_some(log_alpha),
        }))
    }

    fn accept(&mut self) {
        if let Some((k, new_joint)) = self.pending.take() {
            self.theta[k] = self.proposal[k];
            self.log_joint = new_joint;
            self.result = None;
        }
    }

    fn reject(&mut self) {
        if let Some((k, _)) = self.pending.take() {
            self.proposal[k] = self.theta[k];
        }
    }

    fn draw(&mut self, _traces: bool) -> Result<Draw, Diagnostic> {
        let trace = match &self.template {
            Some((assignments, random_at)) => {
                let mut t = assignments.clone();
                for ((&pos, &x), kind) in random_at.iter().zip(&self.theta).zip(&self.kinds) {
                    t[pos].1 = Value::from_outcome(kind.outcome(x));
                }
                t
            }
            None => Vec::new(),
        };
        let value = match &self.result {
            Some(v) => v.clone(),
            None => {
                let v = self.native.0.result(&self.theta)?;
                self.result = Some(v.clone());
                v
            }
        };
        Ok(Draw {
            value,
            log_weight: 0.0,
            trace,
        })
    }

    fn backend(&self) -> Backend {
        Backend::Jit
    }

    /// Every 4096 steps: a native step is cheap.
    fn steps_per_check(&self) -> usize {
        4096
    }
}

/// Particles per batch: a segment runs instruction by instruction over a
/// batch (see `tyche_jit::sequential`), and batches run in parallel.
const BATCH: usize = 256;

/// Whether [`Rows`] can run SMC with these options: not resample-move (its moves
/// re-run the interpreter), and traces only when the state keeps them.
pub(crate) fn applies(seq: &dyn NativeSequential, opts: &Options) -> bool {
    opts.rejuvenate == 0 && (!opts.traces || seq.keeps_choices())
}

/// No block.
const NONE: u32 = u32::MAX;

/// The particles' histories: the values segments settle (see
/// [`NativeSequential::settled`]), as a tree of blocks, one per particle
/// per settling segment, each pointing at the block it follows. A
/// resampled copy shares its source's blocks, so resampling copies one
/// index per particle instead of the path so far.
struct History {
    /// Each particle's latest block.
    head: Vec<u32>,
    /// Per block: its parent, the segment that settled it, and where its
    /// values start in `values`.
    blocks: Vec<(u32, u32, usize)>,
    values: Vec<f64>,
}

impl History {
    fn new(n: usize) -> History {
        History {
            head: vec![NONE; n],
            blocks: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Moves the values segment `k` settles from the rows into new blocks.
    fn settle(&mut self, k: usize, settled: &[(u32, u32)], state: &[f64], width: usize) {
        if settled.is_empty() {
            return;
        }
        for (p, head) in self.head.iter_mut().enumerate() {
            let offset = self.values.len();
            let row = &state[p * width..];
            self.values
                .extend(settled.iter().map(|&(slot, _)| row[slot as usize]));
            self.blocks.push((*head, k as u32, offset));
            *head = (self.blocks.len() - 1) as u32;
        }
    }

    /// Particle `p`'s history values, into `out` (`history_len` long).
    fn fill(&self, p: usize, seq: &dyn NativeSequential, out: &mut [f64]) {
        let mut b = self.head[p];
        while b != NONE {
            let (parent, k, offset) = self.blocks[b as usize];
            for (j, &(_, h)) in seq.settled(k as usize).iter().enumerate() {
                out[h as usize] = self.values[offset + j];
            }
            b = parent;
        }
    }
}

/// SMC particles as rows of a [`NativeSequential`] model's state: row `p`
/// of `state` is particle `p` (the population stores no particles, only
/// weights).
pub(crate) struct Rows<'a> {
    seq: &'a dyn NativeSequential,
    /// `state_len`, at least 1.
    width: usize,
    state: Vec<f64>,
    history: History,
    /// A finished particle's state followed by its history, as
    /// [`NativeSequential::result`] reads them.
    full: Vec<f64>,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(seq: &'a dyn NativeSequential, n: usize) -> Rows<'a> {
        let width = seq.state_len().max(1);
        Rows {
            seq,
            width,
            state: vec![0.0; n * width],
            history: History::new(n),
            full: vec![0.0; seq.state_len() + seq.history_len()],
        }
    }
}

impl Particles for Rows<'_> {
    type Particle = ();
    type Chain<'c>
        = std::convert::Infallible
    where
        Self: 'c;

    /// Runs segment `step` (see [`NativeSequential::run_segment`]) over
    /// batches of [`BATCH`] rows; `None` when a particle may have met a
    /// runtime error.
    fn advance(
        &mut self,
        step: u64,
        _: &mut [()],
        log_weights: &mut [f64],
        seed: Seed,
        stop: Option<&crate::Stop>,
    ) -> Result<Option<Advanced>, Diagnostic> {
        let (seq, width) = (self.seq, self.width);
        let segments = seq.segments() as u64;
        if step >= segments {
            return Ok(Some(Advanced {
                weighted: false,
                running: false,
            }));
        }
        let live_before = log_weights.iter().any(|&w| w > f64::NEG_INFINITY);
        let n = log_weights.len();
        let mut batches: Vec<(&mut [f64], &mut [f64])> = self
            .state
            .chunks_mut(width * BATCH)
            .zip(log_weights.chunks_mut(BATCH))
            .collect();
        let run = |b: usize, (rows, lws): &mut (&mut [f64], &mut [f64])| {
            let first = b * BATCH;
            let rng = |i: usize| seed.child((first + i) as u64).rng();
            seq.run_segment(step as usize, rows, lws, &rng)
        };
        // Any failure hands the run to the interpreter: stop at the first.
        // A raised stop skips the batches left (its error follows).
        let stopped = || stop.is_some_and(crate::Stop::raised);
        let failed = crate::par::any_batch(&mut batches, n, |b, batch| {
            !stopped() && run(b, batch).is_err()
        });
        crate::limits::check(stop)?;
        if failed {
            return Ok(None);
        }
        drop(batches);
        let k = step as usize;
        self.history.settle(k, seq.settled(k), &self.state, width);
        // Every live particle was weighted, except in the last segment.
        let weighted = live_before && step + 1 < segments;
        let running = weighted && log_weights.iter().any(|&w| w > f64::NEG_INFINITY);
        Ok(Some(Advanced { weighted, running }))
    }

    /// Rows are a few values: a loop beats memmove's call.
    fn copy(&mut self, _: &mut [()], from: usize, to: usize) {
        let width = self.width;
        for i in 0..width {
            self.state[to * width + i] = self.state[from * width + i];
        }
        self.history.head[to] = self.history.head[from];
    }

    fn chain(&self, _: &()) -> Option<std::convert::Infallible> {
        None
    }

    fn particle(&self, chain: std::convert::Infallible) {
        match chain {}
    }

    fn finished(
        &mut self,
        _: &[()],
        p: usize,
        traces: bool,
    ) -> Option<(Value, Vec<(Address, Value)>)> {
        let (seq, width) = (self.seq, self.width);
        let state_len = seq.state_len();
        let row = &self.state[p * width..(p + 1) * width];
        self.full[..state_len].copy_from_slice(&row[..state_len]);
        self.history.fill(p, seq, &mut self.full[state_len..]);
        let trace = if traces {
            seq.trace(&self.full).unwrap_or_default()
        } else {
            Vec::new()
        };
        Some((seq.result(&self.full), trace))
    }

    fn backend(&self) -> Backend {
        Backend::Jit
    }
}
