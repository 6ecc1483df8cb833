//! Single-site "lightweight" Metropolis–Hastings over traces (Wingate,
//! Stuhlmüller and Goodman 2011), and the MCMC driver with chains, burn-in,
//! thinning and diagnostics.
//!
//! One transition from trace x (see `docs/inference.md` for the
//! derivation):
//! 1. pick one of x's |x| random choices uniformly;
//! 2. re-run the program with the [`Replay`] handler: the picked choice
//!    gets a fresh value from its prior (or a Gaussian drift, see
//!    [`Proposal`]); every other choice whose address occurs in x reuses
//!    x's value if that value is in the support of its (possibly changed)
//!    distribution, rescored there; other choices are drawn fresh from
//!    their priors;
//! 3. accept x' with probability min(1, α),
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
//! The same transition, stopped after the k-th observation, is the
//! rejuvenation move of resample-move SMC ([`move_particle`]) and the
//! parameter move of PMMH.

use crate::execution::Execution;
use crate::handler::{Handler, Prior};
use crate::mh_native::NativeChain;
use crate::model::Model;
use crate::nested::Ctx;
use crate::options::{Method, Options, Proposal};
use crate::par;
use crate::result::{Draw, InferResult, McmcStats};
use crate::rng::{InferRng, Purpose, Seed};
use crate::smc::Particle;
use crate::stats::{ess_bulk, rhat};
use crate::trace::{SharedTrace, Trace};
use rand::RngExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    proposal: Proposal,
    /// Which old choices were reused (or drifted): the others are stale.
    used: &'a mut Vec<bool>,
    /// Σ log p of the values drawn fresh.
    log_q_fresh: f64,
    /// Set when the reverse move could not regenerate x (see module docs).
    reverse_impossible: bool,
}

impl Handler for Replay<'_> {
    fn sample(&mut self, addr: Address, dist: &Arc<DistValue>, rng: &mut InferRng) -> (Value, f64) {
        let old = self.index.get(&addr).map(|&i| (i, &self.old.choices[i]));
        if addr == self.target {
            if let (Proposal::Drift { scale }, Some((i, c)), DistValue::Prim(d)) =
                (self.proposal, old, &**dist)
            {
                if let (Value::Real(x), false) = (&c.value, d.is_discrete()) {
                    // Symmetric: its q terms cancel, so it is neither fresh
                    // nor stale.
                    self.used[i] = true;
                    let v = Value::Real(x + scale * standard_normal(rng));
                    let lp = dist.log_prob(&v);
                    return (v, lp);
                }
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

/// A standard normal draw (Box–Muller; one per call keeps streams simple).
pub(crate) fn standard_normal(rng: &mut InferRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Buffers reused across transitions.
#[derive(Default)]
pub struct Scratch {
    index: HashMap<Address, usize>,
    used: Vec<bool>,
}

/// A proposed trace and the proposal part of its acceptance ratio.
pub struct Proposed {
    pub exec: Execution<Trace>,
    /// `log|x| − log|x'| + Σ stale − Σ fresh` (−∞ when the move is not
    /// reversible).
    pub log_correction: f64,
}

/// Proposes x' from `old` (a run stopped after `until` observations, or
/// finished when `until` is `None`). `None` when x has no random choice.
pub fn propose(
    ctx: &Ctx,
    model: &Model,
    old: &Trace,
    until: Option<usize>,
    proposal: Proposal,
    rng: &mut InferRng,
    scratch: &mut Scratch,
) -> Result<Option<Proposed>, Diagnostic> {
    let n_old = old.random;
    if n_old == 0 {
        return Ok(None);
    }
    let k = rng.random_range(0..n_old);
    let (_, target) = old.random_choice(k).expect("k < number of random choices");
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
        proposal,
        used: &mut scratch.used,
        log_q_fresh: 0.0,
        reverse_impossible: false,
    };
    let mut exec = Execution::<Trace>::new(model.start()?);
    exec.run_until(until, &mut replay, rng, ctx)?;
    if replay.reverse_impossible {
        return Ok(Some(Proposed {
            exec,
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
    fn draw(&self, trace: bool) -> Draw {
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

/// Accepts with probability min(1, exp(log_alpha)); NaN rejects.
///
/// Always draws the uniform, even when `log_alpha ≥ 0` makes it moot:
/// a ratio that is 0 in exact arithmetic (a choice nothing observes) comes
/// out as ±1e-16 depending on summation order, and the interpreter and the
/// compiled kernels sum in different orders; drawing either way keeps
/// their random streams aligned.
pub(crate) fn accept(log_alpha: f64, rng: &mut InferRng) -> bool {
    let u = rng.random::<f64>();
    if log_alpha.is_nan() {
        return false;
    }
    log_alpha >= 0.0 || (1.0 - u).ln() < log_alpha
}

/// One MH transition targeting the program run up to `until`
/// observations. `None` when there was nothing to propose, else whether
/// the proposal was accepted.
pub fn mh_step(
    ctx: &Ctx,
    model: &Model,
    state: &mut ChainState,
    until: Option<usize>,
    proposal: Proposal,
    rng: &mut InferRng,
    scratch: &mut Scratch,
) -> Result<Option<bool>, Diagnostic> {
    let Some(p) = propose(ctx, model, &state.exec.trace, until, proposal, rng, scratch)? else {
        return Ok(None);
    };
    let new_joint = p.exec.trace.log_prior() + p.exec.log_likelihood;
    if !new_joint.is_finite() || p.log_correction == f64::NEG_INFINITY {
        return Ok(Some(false));
    }
    let ok = accept(new_joint - state.log_joint + p.log_correction, rng);
    if ok {
        *state = ChainState {
            exec: p.exec,
            log_joint: new_joint,
        };
    }
    Ok(Some(ok))
}

/// Resample-move rejuvenation: `steps` MH transitions of a particle,
/// targeting its program up to its current number of observations (to the
/// end if it has finished). `None` when every proposal was rejected.
pub fn move_particle(
    ctx: &Ctx,
    model: &Model,
    p: &Particle,
    steps: usize,
    proposal: Proposal,
    rng: &mut InferRng,
) -> Result<Option<Particle>, Diagnostic> {
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
    let mut state = ChainState::new(exec);
    let mut scratch = Scratch::default();
    let mut moved = false;
    for _ in 0..steps {
        moved |= mh_step(ctx, model, &mut state, until, proposal, rng, &mut scratch)? == Some(true);
    }
    if !moved {
        return Ok(None);
    }
    let e = state.exec;
    Ok(Some(Execution {
        machine: e.machine,
        trace: SharedTrace::from_trace(&e.trace, true),
        log_likelihood: e.log_likelihood,
        observations: e.observations,
        result: e.result,
    }))
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

/// Kept draws and counts of one chain.
pub(crate) struct ChainOutput {
    pub draws: Vec<Draw>,
    pub accepted: usize,
    pub proposed: usize,
    pub backend: crate::Backend,
}

/// Draws per chain: `n` split as evenly as possible, earlier chains first.
pub(crate) fn per_chain(n: usize, chains: usize, c: usize) -> usize {
    n / chains + usize::from(c < n % chains)
}

pub(crate) fn mh(ctx: &Ctx, model: &Model, opts: &Options) -> Result<InferResult, Diagnostic> {
    if opts.samples == 0 {
        return Err(Diagnostic::error("Mh needs at least one sample").with_code("E0741"));
    }
    let chains = opts.chains.max(1);
    let thin = opts.thin.max(1);
    // Progress: iterations over all chains, reported at most about 200
    // times (plus once per chain).
    let total = crate::limits::schedule("Mh", opts.burn, opts.samples, thin, chains)?;
    crate::limits::reserve(
        opts.samples,
        crate::limits::BYTES_PER_DRAW,
        &format!("Mh({})", opts.samples),
    )?;
    let every = total.div_ceil(200).max(1);
    let done = AtomicU64::new(0);
    let tick = |n: u64| {
        if let Some(p) = &opts.progress {
            p.report(done.fetch_add(n, Ordering::Relaxed) + n, total);
        }
    };
    let outputs = par::map_tasks(chains, |c| {
        let mut rng = Seed(opts.seed).stream(Purpose::Mh, c as u64).rng();
        let keep = per_chain(opts.samples, chains, c);
        let mut state = initial_state(ctx, model, &mut rng)?;
        let iterations = opts.burn + keep * thin;
        if let Some(chain) = opts.native.as_ref().and_then(|n| {
            NativeChain::new(n, &state.exec.trace, state.exec.result.clone(), opts.traces)
        }) {
            let out = chain.run(opts, keep, &mut rng, &tick)?;
            let rest = iterations as u64 % every;
            if rest > 0 {
                tick(rest);
            }
            return Ok(out);
        }
        let mut scratch = Scratch::default();
        let mut out = ChainOutput {
            draws: Vec::with_capacity(keep),
            accepted: 0,
            proposed: 0,
            backend: crate::Backend::Interpreter,
        };
        for it in 0..iterations {
            if (it as u64 + 1).is_multiple_of(every) {
                tick(every);
            }
            crate::limits::check(opts.stop.as_ref())?;
            let r = mh_step(
                ctx,
                model,
                &mut state,
                None,
                opts.proposal,
                &mut rng,
                &mut scratch,
            )?;
            if it >= opts.burn {
                if let Some(ok) = r {
                    out.proposed += 1;
                    out.accepted += usize::from(ok);
                }
                if (it - opts.burn + 1) % thin == 0 {
                    out.draws.push(state.draw(opts.traces));
                }
            }
        }
        let rest = iterations as u64 % every;
        if rest > 0 {
            tick(rest);
        }
        Ok(out)
    });
    let outputs: Vec<ChainOutput> = outputs.into_iter().collect::<Result<_, Diagnostic>>()?;
    Ok(mcmc_result(Method::Mh, outputs))
}

/// Concatenates chains and computes the MCMC diagnostics.
pub(crate) fn mcmc_result(method: Method, outputs: Vec<ChainOutput>) -> InferResult {
    let chains = outputs.len();
    let (accepted, proposed) = outputs
        .iter()
        .fold((0, 0), |(a, p), o| (a + o.accepted, p + o.proposed));
    let numeric: Option<Vec<Vec<f64>>> = outputs
        .iter()
        .map(|o| o.draws.iter().map(|d| d.value.as_number()).collect())
        .collect();
    let (rhat, ess) = match &numeric {
        // Rank-normalised R-hat and bulk ESS (Vehtari et al. 2021), as
        // Stan and ArviZ report them.
        Some(cs) => (rhat(cs), ess_bulk(cs)),
        None => (None, None),
    };
    let acceptance_rate = if proposed == 0 {
        1.0
    } else {
        accepted as f64 / proposed as f64
    };
    let backend = crate::Backend::combine(outputs.iter().map(|o| o.backend));
    let draws_per_chain = outputs.iter().map(|o| o.draws.len()).collect();
    let draws = outputs.into_iter().flat_map(|o| o.draws).collect();
    InferResult {
        backend,
        method,
        draws,
        log_evidence: None,
        ess,
        exact: false,
        mcmc: Some(McmcStats {
            acceptance_rate,
            rhat,
            ess,
            chains,
            draws_per_chain,
            max_depth: None,
            sampler: Vec::new(),
            adaptation: Vec::new(),
        }),
    }
}
