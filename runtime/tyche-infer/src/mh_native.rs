//! MH chains on a [`NativeDensity`]: the transition of [`crate::mh`],
//! computed on θ with compiled code instead of re-running the interpreter.
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

use crate::mh::{accept, standard_normal, ChainOutput, Scales};
use crate::native::{Backend, Native};
use crate::options::{Options, Proposal};
use crate::result::Draw;
use crate::rng::InferRng;
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

/// A chain's state on θ, and how to turn it back into draws.
pub(crate) struct NativeChain<'a> {
    native: &'a Native,
    theta: Vec<f64>,
    kinds: Vec<Coordinate>,
    log_joint: f64,
    /// The trace of the first state, for draws' traces: its random choices
    /// (at `random_at`) take θ's values.
    template: Option<(Vec<(Address, Value)>, Vec<usize>)>,
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
            theta,
            kinds,
            log_joint,
            template,
            result,
            supports,
        })
    }

    /// Runs `opts.burn + keep · opts.thin` transitions, keeping every
    /// `thin`-th after burn-in; `tick(n)` reports progress as `mh` does.
    /// An error is the interpreter's, computing a kept state's return
    /// value.
    pub(crate) fn run(
        mut self,
        opts: &Options,
        keep: usize,
        rng: &mut InferRng,
        tick: impl Fn(u64),
    ) -> Result<ChainOutput, Diagnostic> {
        let thin = opts.thin.max(1);
        let total =
            crate::limits::schedule("Mh", opts.burn, opts.samples, thin, opts.chains.max(1))?;
        let every = total.div_ceil(200).max(1);
        let iterations = opts.burn + keep * thin;
        let mut out = ChainOutput {
            draws: Vec::with_capacity(keep),
            accepted: 0,
            proposed: 0,
            backend: Backend::Jit,
        };
        let mut proposal = self.theta.clone();
        let mut scales = Scales::default();
        // The interpreted chain's sweep: one move per random choice.
        let sweep = self.theta.len().max(1);
        for it in 0..iterations {
            if (it as u64 + 1).is_multiple_of(every) {
                tick(every);
            }
            // Every 4096 sweeps' worth of steps: a native step is cheap.
            if (it * sweep) % 4096 < sweep {
                crate::limits::check(opts.stop.as_ref())?;
            }
            let tuning = it < opts.burn;
            for _ in 0..sweep {
                let r = self.step(opts.proposal, (&mut scales, tuning), rng, &mut proposal)?;
                if let (false, Some(ok)) = (tuning, r) {
                    out.proposed += 1;
                    out.accepted += usize::from(ok);
                }
            }
            if !tuning && (it - opts.burn + 1) % thin == 0 {
                let draw = self.draw()?;
                out.draws.push(draw);
            }
        }
        Ok(out)
    }

    /// One transition (see the module docs); `None` when θ is empty.
    /// `proposal` is a buffer equal to θ on entry and on return. An error
    /// is the interpreter's at the proposed state: the interpreted chain
    /// runs the model there and stops with it.
    fn step(
        &mut self,
        kind: Proposal,
        (scales, tuning): (&mut Scales<usize>, bool),
        rng: &mut InferRng,
        proposal: &mut [f64],
    ) -> Result<Option<bool>, Diagnostic> {
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
        let kind = match kind {
            Proposal::Adaptive => Proposal::Drift {
                scale: scales.scale(&k),
            },
            p => p,
        };
        let drifts = matches!(kind, Proposal::Drift { .. }) && coordinate == Coordinate::Real;
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
                    if tuning {
                        scales.learn(&k, false);
                    }
                    return Ok(Some(false));
                }
                (new, size_ratio)
            }
            _ => {
                let Ok(dist) = d.prior(k, &self.theta) else {
                    return Ok(Some(false));
                };
                let drawn = dist.sample(rng);
                let Some((_, v)) = Coordinate::of(&drawn).filter(|(k, _)| *k == coordinate) else {
                    return Ok(Some(false));
                };
                let stale = dist.log_prob(&coordinate.outcome(old));
                let fresh = dist.log_prob(&drawn);
                (v, size_ratio + stale - fresh)
            }
        };
        proposal[k] = new;
        let new_joint = match d.checked_log_density(proposal) {
            Ok(x) => x,
            Err(e) => {
                proposal[k] = old;
                return Err(e);
            }
        };
        let log_alpha = if !new_joint.is_finite() || log_correction == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            new_joint - self.log_joint + log_correction
        };
        let ok = log_alpha != f64::NEG_INFINITY && accept(log_alpha, rng);
        if drifts && tuning {
            scales.learn(&k, ok);
        }
        if ok {
            self.theta[k] = new;
            self.log_joint = new_joint;
            self.result = None;
        } else {
            proposal[k] = old;
        }
        Ok(Some(ok))
    }

    fn draw(&mut self) -> Result<Draw, Diagnostic> {
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
}
