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
    tuned_step(ctx, model, state, until, proposal, None, rng, scratch)
}

/// [`mh_step`] with the scales of an adaptive random walk: read them, and
/// learn into them while `tuning` (burn-in).
#[allow(clippy::too_many_arguments)]
fn tuned_step(
    ctx: &Ctx,
    model: &Model,
    state: &mut ChainState,
    until: Option<usize>,
    proposal: Proposal,
    mut scales: Option<(&mut Scales<Address>, bool)>,
    rng: &mut InferRng,
    scratch: &mut Scratch,
) -> Result<Option<bool>, Diagnostic> {
    let read = scales.as_ref().map(|(s, _)| &**s);
    let Some(p) = propose(
        ctx,
        model,
        &state.exec.trace,
        until,
        proposal,
        read,
        rng,
        scratch,
    )?
    else {
        return Ok(None);
    };
    let new_joint = p.exec.trace.log_prior() + p.exec.log_likelihood;
    let log_alpha = if !new_joint.is_finite() || p.log_correction == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else {
        new_joint - state.log_joint + p.log_correction
    };
    let ok = log_alpha != f64::NEG_INFINITY && accept(log_alpha, rng);
    if let Some((scales, true)) = &mut scales {
        if p.drifted {
            scales.learn(&p.target, ok);
        }
    }
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

/// Single-site moves per MH iteration (a sweep): as many as the chain's
/// first state has random choices, at least one. Fixed for the chain, so
/// an iteration is one fixed MH kernel even when later states have more or
/// fewer choices.
pub(crate) fn sweep_length(first: &Trace) -> usize {
    first.random.max(1)
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
        let mut scales = Scales::default();
        let mut out = ChainOutput {
            draws: Vec::with_capacity(keep),
            accepted: 0,
            proposed: 0,
            backend: crate::Backend::Interpreter,
        };
        let sweep = sweep_length(&state.exec.trace);
        for it in 0..iterations {
            if (it as u64 + 1).is_multiple_of(every) {
                tick(every);
            }
            crate::limits::check(opts.stop.as_ref())?;
            let tuning = it < opts.burn;
            for _ in 0..sweep {
                let r = tuned_step(
                    ctx,
                    model,
                    &mut state,
                    None,
                    opts.proposal,
                    Some((&mut scales, tuning)),
                    &mut rng,
                    &mut scratch,
                )?;
                if let (false, Some(ok)) = (tuning, r) {
                    out.proposed += 1;
                    out.accepted += usize::from(ok);
                }
            }
            if !tuning && (it - opts.burn + 1) % thin == 0 {
                out.draws.push(state.draw(opts.traces));
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
