//! Sequential Monte Carlo: the particle filter and resample-move SMC,
//! written once over the model interface ([`Particles`]): stepping, the
//! dead-particle and all-zero rules, resampling, rejuvenation, the ESS
//! reported and the draws. The interpreter
//! ([`crate::interpreted::InterpretedParticles`], suspended machines) and
//! compiled code ([`crate::compiled::Rows`], rows of values advanced by
//! compiled segments) implement the particles; PMMH runs its inner filter
//! here too.
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
//! Particles are suspended runs (machines, or rows of compiled state), so
//! each observation is processed once per particle: O(n·T) work, never
//! re-running from the start. Resampling copies them in place (machines
//! share values and trace history through `Arc`s). A particle that
//! finishes early waits with its weight unchanged. The
//! evidence estimate is the population's (see [`Population`]).
//!
//! The intermediate target after step t is the program run up to its t-th
//! observation: `γₜ(x) = p(x₁:ₜ) Πₛ≤ₜ p(yₛ | …)` over the choices made so
//! far; resample-move applies MH kernels invariant for exactly that target
//! (re-running the prefix: [`crate::mh::transition`] on a chain at the
//! particle, [`Particles::chain`]).
//!
//! Compiled code runs first where it applies ([`crate::compiled::applies`]);
//! where it may have met a runtime error, SMC runs on the interpreter from
//! the start with the same streams, which reports the error exactly (or,
//! where the mark was a NaN weight the interpreter accepts, its result).

use crate::compiled::{applies, Rows};
use crate::execution::Particle;
use crate::importance::all_zero;
use crate::interface::{weighted_draws, Particles};
use crate::interpreted::InterpretedParticles;
use crate::model::Model;
use crate::nested::Ctx;
use crate::options::{Method, Options, Progress, Proposal};
use crate::par;
use crate::population::{Offspring, Population, Resampler, WeightSummary};
use crate::result::InferResult;
use crate::rng::{Purpose, Seed};
use crate::trace::SharedTrace;
use tyche_core::Diagnostic;

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
pub struct SmcOutput<P = Particle> {
    pub population: Population<P>,
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
    let seed = Seed(opts.seed);
    let (progress, stop) = (opts.progress.as_ref(), opts.stop.as_ref());
    let native = opts.native.as_ref().and_then(|n| n.0.sequential());
    if let Some(seq) = native.filter(|s| applies(*s, opts)) {
        let mut rows = Rows::new(seq, cfg.particles);
        let pop = Population::new(vec![(); cfg.particles]);
        // `None`: a particle may have met a runtime error; the
        // interpreter's run from the start says which, exactly as it would
        // have (the same streams), or finishes where the mark was not one.
        // Re-running rather than reporting the segment's own message keeps
        // the error the interpreter's in every respect, which particle
        // included (the interpreter reports the lowest-index particle's
        // first error, whatever kind it is).
        if let Some(out) = run_steps(&mut rows, pop, &cfg, seed, progress, stop)? {
            return finish(&mut rows, out, &cfg);
        }
    }
    let mut start = Particle::new(model.start()?);
    start.trace = cfg.start_trace();
    let pop = Population::new(copies(start, cfg.particles, stop)?);
    let mut particles = InterpretedParticles { ctx, model };
    let out = run_steps(&mut particles, pop, &cfg, seed, progress, stop)?
        .expect("the interpreter follows every run");
    finish(&mut particles, out, &cfg)
}

/// The result of a finished run: an error when every particle died.
fn finish<S: Particles>(
    particles: &mut S,
    out: SmcOutput<S::Particle>,
    cfg: &SmcConfig,
) -> Result<InferResult, Diagnostic> {
    let log_evidence = out.population.log_evidence();
    if log_evidence == f64::NEG_INFINITY {
        return Err(all_zero("Smc", cfg.particles));
    }
    Ok(InferResult {
        method: Method::Smc,
        draws: weighted_draws(particles, &out.population, cfg.traces),
        log_evidence: Some(log_evidence),
        ess: Some(out.ess),
        exact: false,
        mcmc: None,
        backend: particles.backend(),
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

/// When to resample, and which effective sample size a run reports.
struct Schedule {
    threshold: Option<f64>,
    n: usize,
    /// The ESS to report: of the current weights if an observation
    /// weighted them since the last resampling, else of the weights
    /// before it.
    last_ess: f64,
    weighted_since_resampling: bool,
}

impl Schedule {
    fn new(threshold: Option<f64>, n: usize, initial_ess: f64) -> Schedule {
        Schedule {
            threshold,
            n,
            last_ess: initial_ess,
            weighted_since_resampling: false,
        }
    }

    /// Records whether the step just run weighted any particle.
    fn weighted(&mut self, weighted: bool) {
        self.weighted_since_resampling |= weighted;
    }

    /// Whether to resample now: always, or when the ESS fell below the
    /// threshold (a fraction of n).
    fn due(&mut self, summary: &WeightSummary) -> bool {
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
    fn final_ess(&self, current: impl FnOnce() -> f64) -> f64 {
        if self.weighted_since_resampling {
            current()
        } else {
            self.last_ess
        }
    }
}

/// Runs SMC on the interpreter from `pop` (particles suspended anywhere,
/// weights given) until every particle has finished, or every particle
/// has weight zero (then the population's evidence is −∞); the streams
/// are `seed / Smc / step / slot`, `seed / Resample / step` and
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

/// [`run_population`], reporting each step to `progress` and ending with
/// `stop`'s error once it is raised.
pub(crate) fn run_population_with(
    ctx: &Ctx,
    model: &Model,
    pop: Population<Particle>,
    cfg: &SmcConfig,
    seed: Seed,
    progress: Option<&Progress>,
    stop: Option<&crate::Stop>,
) -> Result<SmcOutput, Diagnostic> {
    let mut particles = InterpretedParticles { ctx, model };
    let out = run_steps(&mut particles, pop, cfg, seed, progress, stop)?;
    Ok(out.expect("the interpreter follows every run"))
}

/// The SMC loop: from `pop` until every particle has finished, or every
/// particle has weight zero (then the population's evidence is −∞:
/// callers decide whether that is an error, Smc, or a rejection, PMMH).
/// `None` when the backend could not follow a run (see
/// [`Particles::advance`]). Reports each step to `progress` (total
/// unknown) and ends with `stop`'s error once it is raised (checked before
/// and after every step, and by the backends within a step, so a
/// cancellation of a large population returns within a fraction of a
/// step).
fn run_steps<S: Particles>(
    particles: &mut S,
    mut pop: Population<S::Particle>,
    cfg: &SmcConfig,
    seed: Seed,
    progress: Option<&Progress>,
    stop: Option<&crate::Stop>,
) -> Result<Option<SmcOutput<S::Particle>>, Diagnostic> {
    let n = pop.len();
    let mut schedule = Schedule::new(cfg.ess_threshold, n, pop.ess());
    // Resampling's buffers, kept across steps.
    let mut offspring = Offspring::default();
    for step in 0u64.. {
        crate::limits::check(stop)?;
        let step_seed = seed.stream(Purpose::Smc, step);
        let Some(advanced) = particles.advance(
            step,
            &mut pop.particles,
            &mut pop.log_weights,
            step_seed,
            stop,
        )?
        else {
            return Ok(None);
        };
        if let Some(p) = progress {
            p.report(step + 1, 0);
        }
        crate::limits::check(stop)?;
        schedule.weighted(advanced.weighted);
        let summary = pop.summary();
        if summary.log_mean == f64::NEG_INFINITY {
            // Every particle is dead: the estimate is zero.
            return Ok(Some(SmcOutput {
                population: pop,
                ess: 0.0,
            }));
        }
        if !advanced.running {
            break;
        }
        if schedule.due(&summary) {
            resample(
                particles,
                &mut pop,
                cfg.resampler,
                seed,
                step,
                &summary,
                &mut offspring,
            );
            if cfg.rejuvenate > 0 {
                let move_seed = seed.stream(Purpose::Move, step);
                rejuvenate(particles, &mut pop.particles, cfg, move_seed, stop)?;
            }
        }
    }
    let ess = schedule.final_ess(|| pop.ess());
    Ok(Some(SmcOutput {
        population: pop,
        ess,
    }))
}

/// Resamples in place (see [`Population::resample_by`]), with the stream
/// `seed / Resample / step`.
fn resample<S: Particles>(
    particles: &mut S,
    pop: &mut Population<S::Particle>,
    resampler: Resampler,
    seed: Seed,
    step: u64,
    summary: &WeightSummary,
    offspring: &mut Offspring,
) {
    let mut rng = seed.stream(Purpose::Resample, step).rng();
    let mut stored = std::mem::take(&mut pop.particles);
    pop.resample_by(resampler, &mut rng, summary, offspring, |from, to| {
        particles.copy(&mut stored, from, to)
    });
    pop.particles = stored;
}

/// Resample-move rejuvenation: `cfg.rejuvenate` MH transitions of each
/// particle (stream `seed / slot`), targeting its program up to its
/// current number of observations (to the end if it has finished); a
/// particle whose every proposal was rejected is left as it was.
fn rejuvenate<S: Particles>(
    particles: &S,
    stored: &mut [S::Particle],
    cfg: &SmcConfig,
    seed: Seed,
    stop: Option<&crate::Stop>,
) -> Result<(), Diagnostic> {
    par::for_each_mut(stored, |j, p| {
        crate::limits::check(stop)?;
        let mut rng = seed.child(j as u64).rng();
        let Some(mut chain) = particles.chain(p) else {
            return Ok(());
        };
        let mut moved = false;
        for _ in 0..cfg.rejuvenate {
            moved |= crate::mh::transition(&mut chain, cfg.proposal, None, &mut rng)? == Some(true);
        }
        if moved {
            *p = particles.particle(chain);
        }
        Ok(())
    })
}
