//! The interpreter's implementation of the model interface
//! ([`crate::interface`]): runs of `tyche_vm::Machine`s.
//!
//! **MH chains** ([`Interpreted`]): single-site "lightweight"
//! Metropolis–Hastings over traces (Wingate, Stuhlmüller and Goodman
//! 2011). One proposal from trace x (see `docs/inference.md` for the
//! derivation):
//! 1. pick one of x's |x| random choices uniformly;
//! 2. re-run the program with the [`Replay`] handler: the picked choice
//!    gets a fresh value from its prior (or a Gaussian drift, see
//!    [`Proposal`]); every other choice whose address occurs in x reuses
//!    x's value if that value is in the support of its (possibly changed)
//!    distribution, rescored there; other choices are drawn fresh from
//!    their priors;
//! 3. the algorithm (`mh::transition`) accepts x' with
//!    probability min(1, α),
//!    `log α = log p(x') − log p(x) + log|x| − log|x'|
//!             + Σ_{stale c ∈ x} log p(c) − Σ_{fresh c ∈ x'} log p(c)`,
//!    where the picked choice counts as stale in x and fresh in x' (under
//!    prior regeneration), "stale" choices are those of x not reused, and
//!    `log p(x) = Σ log p(choices) + Σ observation log weights`.
//!
//! One more case keeps the move reversible: when a choice's old value left
//! the support of its new distribution, it is redrawn; if the redrawn value
//! lies in the support of the *old* distribution, the reverse move would
//! have reused it and could never return to x, so q(x | x') = 0 and the
//! proposal is rejected.
//!
//! The same proposal, stopped after the k-th observation, is the
//! rejuvenation move of resample-move SMC (a chain at a particle,
//! [`InterpretedParticles`]) and the parameter move of PMMH.
//!
//! **SMC particles** ([`InterpretedParticles`]): suspended machines, each
//! advanced to its next observation; resampling clones machines (sharing
//! values and trace history through `Arc`s).

use crate::execution::{Execution, Particle, Step};
use crate::handler::{Handler, Prior};
use crate::interface::{Advanced, Chain, Move, Particles, Scales};
use crate::model::Model;
use crate::native::Backend;
use crate::nested::Ctx;
use crate::options::Proposal;
use crate::par;
use crate::result::Draw;
use crate::rng::{standard_normal, InferRng, Seed};
use crate::trace::{SharedTrace, Trace};
use rand::RngExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tyche_core::Diagnostic;
use tyche_vm::{Address, DistValue, Value};

/// Prior runs tried when looking for a chain's first state.
pub const MAX_INIT_ATTEMPTS: usize = 100_000;

/// The handler of an MH re-run: reuse the old trace where possible.
pub struct Replay<'a> {
    old: &'a Trace,
    index: &'a HashMap<Address, usize>,
    /// The address whose value is proposed anew.
    target: Address,
    /// The target's random-walk step, drawn before the re-run; `None`
    /// redraws it from its prior.
    drift_to: Option<Value>,
    /// Which old choices were reused (or drifted): the others are stale.
    used: &'a mut Vec<bool>,
    /// Σ log p of the values drawn fresh.
    log_q_fresh: f64,
    /// Set when the reverse move could not regenerate x (see module docs).
    reverse_impossible: bool,
    /// Whether the target took a random-walk step (not a prior draw).
    drifted: bool,
}

impl Handler for Replay<'_> {
    fn sample(&mut self, addr: Address, dist: &Arc<DistValue>, rng: &mut InferRng) -> (Value, f64) {
        let old = self.index.get(&addr).map(|&i| (i, &self.old.choices[i]));
        if addr == self.target {
            if let (Some(v), Some((i, _))) = (&self.drift_to, old) {
                // Symmetric: its q terms cancel, so it is neither fresh
                // nor stale.
                self.used[i] = true;
                self.drifted = true;
                return (v.clone(), dist.log_prob(v));
            }
            return self.fresh(dist, rng);
        }
        let Some((i, c)) = old else {
            return self.fresh(dist, rng);
        };
        let Some(old_dist) = &c.dist else {
            return self.fresh(dist, rng);
        };
        let lp = dist.log_prob(&c.value);
        if lp > f64::NEG_INFINITY {
            self.used[i] = true;
            return (c.value.clone(), lp);
        }
        let (v, lp) = self.fresh(dist, rng);
        if old_dist.log_prob(&v) > f64::NEG_INFINITY {
            self.reverse_impossible = true;
        }
        (v, lp)
    }
}

impl Replay<'_> {
    fn fresh(&mut self, dist: &DistValue, rng: &mut InferRng) -> (Value, f64) {
        let v = dist.sample(rng);
        let lp = dist.log_prob(&v);
        self.log_q_fresh += lp;
        (v, lp)
    }
}

/// Buffers reused across transitions.
#[derive(Default)]
pub struct Scratch {
    index: HashMap<Address, usize>,
    used: Vec<bool>,
}

/// A proposed trace and the proposal part of its acceptance ratio.
pub struct Proposed {
    /// The proposed run (not run when the step left the target's support:
    /// then `log_correction` is −∞).
    pub exec: Execution<Trace>,
    /// The choice proposed anew, and whether it took a random-walk step.
    pub target: Address,
    pub drifted: bool,
    /// `log|x| − log|x'| + Σ stale − Σ fresh` (−∞ when the move is not
    /// reversible).
    pub log_correction: f64,
}

/// Proposes x' from `old` (a run stopped after `until` observations, or
/// finished when `until` is `None`). `None` when x has no random choice.
/// `Proposal::Adaptive` takes the picked choice's scale from `scales`
/// (without them it is `Prior`).
#[allow(clippy::too_many_arguments)]
pub fn propose(
    ctx: &Ctx,
    model: &Model,
    old: &Trace,
    until: Option<usize>,
    proposal: Proposal,
    scales: Option<&Scales<Address>>,
    rng: &mut InferRng,
    scratch: &mut Scratch,
) -> Result<Option<Proposed>, Diagnostic> {
    let n_old = old.random;
    if n_old == 0 {
        return Ok(None);
    }
    let k = rng.random_range(0..n_old);
    let (_, target) = old.random_choice(k).expect("k < number of random choices");
    let proposal = match (proposal, scales) {
        (Proposal::Adaptive, Some(scales)) => Proposal::Drift {
            scale: scales.scale(&target.addr),
        },
        (p, _) => p.untuned(),
    };
    // A random-walk step of a real continuous choice. Everything before it
    // replays x, so its distribution is the one it had in x: a step out of
    // that support has p(x') = 0 and is rejected without a run (the model
    // may not even be defined there, e.g. a negative scale).
    let drift_to = match (proposal, &target.value, target.dist.as_deref()) {
        (Proposal::Drift { scale }, Value::Real(x), Some(d @ DistValue::Prim(p)))
            if !p.is_discrete() =>
        {
            let v = Value::Real(x + scale * standard_normal(rng));
            if d.log_prob(&v) == f64::NEG_INFINITY {
                return Ok(Some(Proposed {
                    exec: Execution::<Trace>::new(model.start()?),
                    target: target.addr,
                    drifted: true,
                    log_correction: f64::NEG_INFINITY,
                }));
            }
            Some(v)
        }
        _ => None,
    };
    scratch.index.clear();
    scratch
        .index
        .extend(old.choices.iter().enumerate().map(|(i, c)| (c.addr, i)));
    scratch.used.clear();
    scratch.used.resize(old.choices.len(), false);
    let mut replay = Replay {
        old,
        index: &scratch.index,
        target: target.addr,
        drift_to,
        used: &mut scratch.used,
        log_q_fresh: 0.0,
        reverse_impossible: false,
        drifted: false,
    };
    let target = target.addr;
    let mut exec = Execution::<Trace>::new(model.start()?);
    exec.run_until(until, &mut replay, rng, ctx)?;
    let drifted = replay.drifted;
    if replay.reverse_impossible {
        return Ok(Some(Proposed {
            exec,
            target,
            drifted,
            log_correction: f64::NEG_INFINITY,
        }));
    }
    let log_q_fresh = replay.log_q_fresh;
    let stale: f64 = old
        .choices
        .iter()
        .zip(&scratch.used)
        .filter(|(c, used)| c.is_random() && !**used)
        .map(|(c, _)| c.log_prob)
        .sum();
    let n_new = exec.trace.random.max(1);
    let log_correction = (n_old as f64).ln() - (n_new as f64).ln() + stale - log_q_fresh;
    Ok(Some(Proposed {
        exec,
        target,
        drifted,
        log_correction,
    }))
}

/// The state of a chain: an execution and its `log p(x)`.
#[derive(Clone)]
pub struct ChainState {
    pub exec: Execution<Trace>,
    pub log_joint: f64,
}

impl ChainState {
    pub fn new(exec: Execution<Trace>) -> ChainState {
        let log_joint = exec.trace.log_prior() + exec.log_likelihood;
        ChainState { exec, log_joint }
    }

    /// The current state as an (unweighted) draw, with its trace if
    /// `trace`.
    pub(crate) fn draw(&self, trace: bool) -> Draw {
        Draw {
            value: self.exec.result.clone().unwrap_or(Value::Unit),
            log_weight: 0.0,
            trace: if trace {
                self.exec.trace.assignments()
            } else {
                Vec::new()
            },
        }
    }
}

/// A first state with nonzero probability, from prior runs.
pub(crate) fn initial_state(
    ctx: &Ctx,
    model: &Model,
    rng: &mut InferRng,
) -> Result<ChainState, Diagnostic> {
    let start = model.start()?;
    for _ in 0..MAX_INIT_ATTEMPTS {
        let mut exec = Execution::<Trace>::new(start.clone());
        exec.run_to_end(&mut Prior, rng, ctx)?;
        let state = ChainState::new(exec);
        if state.exec.is_done() && state.log_joint.is_finite() {
            return Ok(state);
        }
    }
    Err(no_start("Mh"))
}

pub(crate) fn no_start(method: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "{method} found no execution with nonzero probability in {MAX_INIT_ATTEMPTS} runs from the prior"
    ))
    .with_code("E0740")
    .with_note("the observations and conditions are (nearly) impossible under the prior")
    .with_help("check the conditions, or start with Smc, which resamples after each observation")
}

/// An MH chain on the interpreter: the current run, the proposal pending
/// acceptance, and the target (the program run up to `until`
/// observations, or to its end).
pub(crate) struct Interpreted<'a> {
    ctx: &'a Ctx,
    model: &'a Model,
    until: Option<usize>,
    pub(crate) state: ChainState,
    pending: Option<ChainState>,
    scratch: Scratch,
}

impl<'a> Interpreted<'a> {
    pub(crate) fn new(
        ctx: &'a Ctx,
        model: &'a Model,
        state: ChainState,
        until: Option<usize>,
    ) -> Interpreted<'a> {
        Interpreted {
            ctx,
            model,
            until,
            state,
            pending: None,
            scratch: Scratch::default(),
        }
    }
}

impl Chain for Interpreted<'_> {
    type Key = Address;

    fn choices(&self) -> usize {
        self.state.exec.trace.random
    }

    fn regenerate(
        &mut self,
        proposal: Proposal,
        scales: Option<&Scales<Address>>,
        rng: &mut InferRng,
    ) -> Result<Option<Move<Address>>, Diagnostic> {
        let Some(p) = propose(
            self.ctx,
            self.model,
            &self.state.exec.trace,
            self.until,
            proposal,
            scales,
            rng,
            &mut self.scratch,
        )?
        else {
            return Ok(None);
        };
        let new_joint = p.exec.trace.log_prior() + p.exec.log_likelihood;
        let log_alpha = if !new_joint.is_finite() || p.log_correction == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            new_joint - self.state.log_joint + p.log_correction
        };
        self.pending = Some(ChainState {
            exec: p.exec,
            log_joint: new_joint,
        });
        Ok(Some(Move {
            key: p.target,
            drifted: p.drifted,
            log_alpha: (log_alpha != f64::NEG_INFINITY).then_some(log_alpha),
        }))
    }

    fn accept(&mut self) {
        if let Some(s) = self.pending.take() {
            self.state = s;
        }
    }

    fn reject(&mut self) {
        self.pending = None;
    }

    fn draw(&mut self, traces: bool) -> Result<Draw, Diagnostic> {
        Ok(self.state.draw(traces))
    }

    fn backend(&self) -> Backend {
        Backend::Interpreter
    }
}

/// SMC particles on the interpreter: suspended executions.
pub(crate) struct InterpretedParticles<'a> {
    pub(crate) ctx: &'a Ctx,
    pub(crate) model: &'a Model,
}

impl<'a> Particles for InterpretedParticles<'a> {
    type Particle = Particle;
    type Chain<'c>
        = Interpreted<'c>
    where
        Self: 'c;

    fn advance(
        &mut self,
        _step: u64,
        particles: &mut [Particle],
        log_weights: &mut [f64],
        seed: Seed,
        stop: Option<&crate::Stop>,
    ) -> Result<Option<Advanced>, Diagnostic> {
        let ctx = self.ctx;
        // Flags set by any particle; OR is order-independent.
        let weighted = AtomicBool::new(false);
        let running = AtomicBool::new(false);
        par::for_each_zip(particles, log_weights, |j, p, lw| {
            // A dead particle stays dead; a finished one waits.
            if *lw == f64::NEG_INFINITY || p.is_done() {
                return Ok(());
            }
            crate::limits::check(stop)?;
            let mut rng = seed.child(j as u64).rng();
            if let Step::Weighted { log_weight, .. } = p.advance(&mut Prior, &mut rng, ctx)? {
                *lw += log_weight;
                weighted.store(true, Ordering::Relaxed);
                if *lw > f64::NEG_INFINITY {
                    running.store(true, Ordering::Relaxed);
                }
            }
            Ok(())
        })?;
        Ok(Some(Advanced {
            weighted: weighted.into_inner(),
            running: running.into_inner(),
        }))
    }

    fn copy(&mut self, particles: &mut [Particle], from: usize, to: usize) {
        particles[to] = particles[from].clone();
    }

    /// The chain targets the particle's program up to its current number
    /// of observations (to the end if it has finished).
    fn chain<'c>(&'c self, p: &Particle) -> Option<Interpreted<'c>> {
        let until = if p.is_done() {
            None
        } else {
            Some(p.observations)
        };
        let exec = Execution {
            machine: p.machine.clone(),
            trace: p.trace.to_trace(),
            log_likelihood: p.log_likelihood,
            observations: p.observations,
            result: p.result.clone(),
        };
        Some(Interpreted::new(
            self.ctx,
            self.model,
            ChainState::new(exec),
            until,
        ))
    }

    fn particle(&self, chain: Interpreted<'_>) -> Particle {
        let e = chain.state.exec;
        Execution {
            machine: e.machine,
            trace: SharedTrace::from_trace(&e.trace, true),
            log_likelihood: e.log_likelihood,
            observations: e.observations,
            result: e.result,
        }
    }

    fn finished(
        &mut self,
        particles: &[Particle],
        p: usize,
        _traces: bool,
    ) -> Option<(Value, Vec<(Address, Value)>)> {
        let e = &particles[p];
        Some((e.result.clone()?, e.trace.assignments()))
    }

    fn backend(&self) -> Backend {
        Backend::Interpreter
    }
}
