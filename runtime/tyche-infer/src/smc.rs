//! Sequential Monte Carlo: the particle filter and resample-move SMC, as a
//! loop over the building blocks.
//!
//! ```text
//! population ← n copies of the unstarted model, weight 1
//! repeat
//!     advance every live particle to (and including) its next observation,
//!         multiplying its weight by the observation's likelihood
//!     stop when every particle has finished (or has weight 0)
//!     if ESS < threshold · n:  resample;  optionally rejuvenate (MH moves)
//! ```
//!
//! Particles are suspended machines, so each observation is processed once
//! per particle: O(n·T) work, never re-running from the start. Resampling
//! clones machines (sharing values and trace history through `Arc`s). A
//! particle that finishes early waits with its weight unchanged. The
//! evidence estimate is the population's (see [`Population`]).
//!
//! The intermediate target after step t is the program run up to its t-th
//! observation: `γₜ(x) = p(x₁:ₜ) Πₛ≤ₜ p(yₛ | …)` over the choices made so
//! far; resample-move applies MH kernels invariant for exactly that target
//! (re-running the prefix, [`crate::mh::move_particle`]).

use crate::execution::{Execution, Step};
use crate::handler::Prior;
use crate::importance::{all_zero, weighted_draws};
use crate::mh::move_particle;
use crate::model::Model;
use crate::nested::Ctx;
use crate::options::{Method, Options, Progress, Proposal};
use crate::par;
use crate::population::{Population, Resampler, WeightSummary};
use crate::result::InferResult;
use crate::rng::{Purpose, Seed};
use crate::trace::SharedTrace;
use std::sync::atomic::{AtomicBool, Ordering};
use tyche_core::Diagnostic;

/// A particle: a suspended execution recording into a shared trace.
pub type Particle = Execution<SharedTrace>;

/// The SMC settings, taken from [`Options`].
#[derive(Clone, Copy, Debug)]
pub struct SmcConfig {
    pub particles: usize,
    pub resampler: Resampler,
    pub ess_threshold: Option<f64>,
    pub rejuvenate: usize,
    pub proposal: Proposal,
    /// Record the particles' traces (resample-move always does: its moves
    /// need them).
    pub traces: bool,
}

impl SmcConfig {
    /// The trace a particle starts with: resample-move needs the choices'
    /// distributions; otherwise values, or nothing.
    pub fn start_trace(&self) -> SharedTrace {
        if self.rejuvenate > 0 {
            SharedTrace::keeping_dists()
        } else {
            SharedTrace::recording(self.traces)
        }
    }

    pub fn from_options(opts: &Options) -> SmcConfig {
        SmcConfig {
            particles: opts.particles,
            resampler: opts.resampler,
            ess_threshold: opts.ess_threshold,
            rejuvenate: opts.rejuvenate,
            proposal: opts.proposal.untuned(),
            traces: opts.traces,
        }
    }
}

/// A finished SMC run.
pub struct SmcOutput {
    pub population: Population<Particle>,
    /// See [`InferResult::ess`].
    pub ess: f64,
}

pub(crate) fn smc(ctx: &Ctx, model: &Model, opts: &Options) -> Result<InferResult, Diagnostic> {
    let cfg = SmcConfig::from_options(opts);
    if cfg.particles == 0 {
        return Err(Diagnostic::error("Smc needs at least one particle").with_code("E0730"));
    }
    crate::limits::reserve(
        opts.particles,
        crate::limits::BYTES_PER_DRAW,
        &format!("Smc({})", opts.particles),
    )?;
    let native = opts.native.as_ref().and_then(|n| n.0.sequential());
    if let Some(seq) = native.filter(|s| crate::smc_native::applies(*s, opts)) {
        // `None`: a particle may have met a runtime error; the
        // interpreter's run from the start says which, exactly as it would
        // have (the same streams), or finishes where the mark was not one.
        if let Some(result) = crate::smc_native::smc(opts, seq)? {
            return Ok(result);
        }
    }
    let mut start = Particle::new(model.start()?);
    start.trace = cfg.start_trace();
    let pop = Population::new(copies(start, cfg.particles, opts.stop.as_ref())?);
    let out = run_population_with(
        ctx,
        model,
        pop,
        &cfg,
        Seed(opts.seed),
        opts.progress.as_ref(),
        opts.stop.as_ref(),
    )?;
    if out.population.log_evidence() == f64::NEG_INFINITY {
        return Err(all_zero("Smc", cfg.particles));
    }
    Ok(InferResult {
        method: Method::Smc,
        draws: weighted_draws(&out.population),
        log_evidence: Some(out.population.log_evidence()),
        ess: Some(out.ess),
        exact: false,
        mcmc: None,
        backend: crate::Backend::Interpreter,
    })
}

/// `n` copies of `start` (as `vec![start; n]`), checking `stop` as they
/// are made: a million particles take a noticeable time to copy.
pub(crate) fn copies<T: Clone>(
    start: T,
    n: usize,
    stop: Option<&crate::Stop>,
) -> Result<Vec<T>, Diagnostic> {
    let mut v = Vec::with_capacity(n);
    for i in 1..n {
        if i % 4096 == 0 {
            crate::limits::check(stop)?;
        }
        v.push(start.clone());
    }
    if n > 0 {
        v.push(start);
    }
    Ok(v)
}

/// When to resample, and which effective sample size a run reports: the
/// bookkeeping the interpreted loop shares with the native one
/// (`smc_native`).
pub(crate) struct Schedule {
    threshold: Option<f64>,
    n: usize,
    /// The ESS to report: of the current weights if an observation
    /// weighted them since the last resampling, else of the weights
    /// before it.
    last_ess: f64,
    weighted_since_resampling: bool,
}

impl Schedule {
    pub(crate) fn new(threshold: Option<f64>, n: usize, initial_ess: f64) -> Schedule {
        Schedule {
            threshold,
            n,
            last_ess: initial_ess,
            weighted_since_resampling: false,
        }
    }

    /// Records whether the step just run weighted any particle.
    pub(crate) fn weighted(&mut self, weighted: bool) {
        self.weighted_since_resampling |= weighted;
    }

    /// Whether to resample now: always, or when the ESS fell below the
    /// threshold (a fraction of n).
    pub(crate) fn due(&mut self, summary: &WeightSummary) -> bool {
        let due = match self.threshold {
            None => true,
            Some(t) => summary.ess < t * self.n as f64,
        };
        if due {
            self.last_ess = summary.ess;
            self.weighted_since_resampling = false;
        }
        due
    }

    /// The ESS to report at the end, given the final weights' ESS.
    pub(crate) fn final_ess(&self, current: impl FnOnce() -> f64) -> f64 {
        if self.weighted_since_resampling {
            current()
        } else {
            self.last_ess
        }
    }
}

/// Runs SMC from `pop` (particles suspended anywhere, weights given) until
/// every particle has finished, or every particle has weight zero (then
/// the population's evidence is −∞); the streams are
/// `seed / Smc / step / slot`, `seed / Resample / step` and
/// `seed / Move / step / slot`.
pub fn run_population(
    ctx: &Ctx,
    model: &Model,
    pop: Population<Particle>,
    cfg: &SmcConfig,
    seed: Seed,
) -> Result<SmcOutput, Diagnostic> {
    run_population_with(ctx, model, pop, cfg, seed, None, None)
}

/// [`run_population`], reporting each step to `progress` (total unknown)
/// and ending with `stop`'s error once it is raised (checked before every
/// step and every particle's advance, so a cancellation of a large
/// population returns within a fraction of a step).
pub(crate) fn run_population_with(
    ctx: &Ctx,
    model: &Model,
    mut pop: Population<Particle>,
    cfg: &SmcConfig,
    seed: Seed,
    progress: Option<&Progress>,
    stop: Option<&crate::Stop>,
) -> Result<SmcOutput, Diagnostic> {
    let n = pop.len();
    let mut schedule = Schedule::new(cfg.ess_threshold, n, pop.ess());
    for step in 0u64.. {
        crate::limits::check(stop)?;
        let step_seed = seed.stream(Purpose::Smc, step);
        // Flags set by any particle; OR is order-independent.
        let weighted = AtomicBool::new(false);
        let running = AtomicBool::new(false);
        par::for_each_zip(&mut pop.particles, &mut pop.log_weights, |j, p, lw| {
            // A dead particle stays dead; a finished one waits.
            if *lw == f64::NEG_INFINITY || p.is_done() {
                return Ok(());
            }
            crate::limits::check(stop)?;
            let mut rng = step_seed.child(j as u64).rng();
            if let Step::Weighted { log_weight, .. } = p.advance(&mut Prior, &mut rng, ctx)? {
                *lw += log_weight;
                weighted.store(true, Ordering::Relaxed);
                if *lw > f64::NEG_INFINITY {
                    running.store(true, Ordering::Relaxed);
                }
            }
            Ok(())
        })?;
        if let Some(p) = progress {
            p.report(step + 1, 0);
        }
        schedule.weighted(weighted.into_inner());
        let summary = pop.summary();
        if summary.log_mean == f64::NEG_INFINITY {
            // Every particle is dead: the estimate is zero. Callers decide
            // whether that is an error (Smc) or a rejection (PMMH).
            return Ok(SmcOutput {
                population: pop,
                ess: 0.0,
            });
        }
        if !running.into_inner() {
            break;
        }
        if schedule.due(&summary) {
            let mut rng = seed.stream(Purpose::Resample, step).rng();
            pop.resample_with(cfg.resampler, &mut rng, &summary);
            if cfg.rejuvenate > 0 {
                let move_seed = seed.stream(Purpose::Move, step);
                par::for_each_mut(&mut pop.particles, |j, p| {
                    crate::limits::check(stop)?;
                    let mut rng = move_seed.child(j as u64).rng();
                    if let Some(moved) =
                        move_particle(ctx, model, p, cfg.rejuvenate, cfg.proposal, &mut rng)?
                    {
                        *p = moved;
                    }
                    Ok(())
                })?;
            }
        }
    }
    let ess = schedule.final_ess(|| pop.ess());
    Ok(SmcOutput {
        population: pop,
        ess,
    })
}
