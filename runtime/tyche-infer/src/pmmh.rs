//! Particle marginal Metropolis–Hastings (Andrieu, Doucet and Holenstein
//! 2010), composed from the MH proposal and SMC.
//!
//! The choices made before the first observation are the parameters θ; the
//! rest of the run is filtered by SMC. A state is (θ, Ẑ(θ), a path drawn
//! from the final SMC population). A transition:
//! 1. proposes θ' with the single-site MH proposal ([`crate::interpreted::propose`])
//!    on the program stopped after its first observation;
//! 2. runs SMC from that suspended run (its n particles start as clones),
//!    giving `Ẑ(θ') = p(y₁ | θ') · Ẑ_SMC(y₂: | θ')`, an unbiased estimate
//!    of `p(y | θ')`, and draws one path from the final population;
//! 3. accepts with
//!    `log α = log p(θ') + log Ẑ(θ') − log p(θ) − log Ẑ(θ) + correction`,
//!    the MH correction of step 1 (|θ| sizes, fresh and stale choices).
//!
//! Because Ẑ is unbiased, the chain targets the exact posterior of θ (and,
//! with the drawn path, of the whole trace) for any number of particles.
//! When θ is empty (the first thing the model does is observe), step 1
//! proposes nothing new and the method is particle independent MH.
//!
//! A state is a [`Chain`] (its proposal is steps 1 and 2), so the
//! transition and the chain loop are MH's ([`crate::mh`]), with one
//! transition per iteration.

use crate::execution::{Execution, Particle};
use crate::handler::Prior;
use crate::interface::{Chain, Move, Scales};
use crate::interpreted::{no_start, propose, Scratch, MAX_INIT_ATTEMPTS};
use crate::mh::{mcmc_result, per_chain, run_chain, ChainOutput};
use crate::model::Model;
use crate::native::Backend;
use crate::nested::Ctx;
use crate::options::{Method, Options, Proposal};
use crate::par;
use crate::population::{Population, Resampler};
use crate::result::{Draw, InferResult};
use crate::rng::{InferRng, Purpose, Seed};
use crate::smc::{run_population_with, SmcConfig};
use crate::trace::{SharedTrace, Trace};
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use tyche_core::Diagnostic;

/// A PMMH state.
struct State {
    /// The run stopped after its first observation (or finished).
    prefix: Execution<Trace>,
    /// `log p(θ)`: the prior log probability of the prefix's choices.
    log_prior: f64,
    /// `log Ẑ(θ)`, including the first observation's weight.
    log_z: f64,
    path: Draw,
}

/// Runs SMC from a suspended prefix; `(log Ẑ, path)`, with `log Ẑ = −∞`
/// when every particle died.
fn estimate(
    ctx: &Ctx,
    model: &Model,
    prefix: &Execution<Trace>,
    cfg: &SmcConfig,
    stop: Option<&crate::Stop>,
    rng: &mut InferRng,
) -> Result<(f64, Option<Draw>), Diagnostic> {
    if prefix.is_done() {
        let path = Draw {
            value: prefix.result.clone().expect("finished"),
            log_weight: 0.0,
            trace: if cfg.traces {
                prefix.trace.assignments()
            } else {
                Vec::new()
            },
        };
        return Ok((prefix.log_likelihood, Some(path)));
    }
    let particle = Particle {
        machine: prefix.machine.clone(),
        trace: if cfg.rejuvenate > 0 || cfg.traces {
            SharedTrace::from_trace(&prefix.trace, cfg.rejuvenate > 0)
        } else {
            SharedTrace::off()
        },
        log_likelihood: prefix.log_likelihood,
        observations: prefix.observations,
        result: None,
    };
    let mut pop = Population::new(crate::smc::copies(particle, cfg.particles, stop)?);
    pop.add_log_evidence(prefix.log_likelihood);
    let out = run_population_with(ctx, model, pop, cfg, Seed(rng.next_u64()), None, stop)?;
    let log_z = out.population.log_evidence();
    if log_z == f64::NEG_INFINITY {
        return Ok((log_z, None));
    }
    let probs = out.population.probabilities();
    let j = Resampler::Multinomial.ancestors(&probs, 1, rng)[0];
    let p = &out.population.particles[j];
    let path = Draw {
        value: p.result.clone().expect("finished"),
        log_weight: 0.0,
        trace: p.trace.assignments(),
    };
    Ok((log_z, Some(path)))
}

fn initial_state(
    ctx: &Ctx,
    model: &Model,
    cfg: &SmcConfig,
    stop: Option<&crate::Stop>,
    rng: &mut InferRng,
) -> Result<State, Diagnostic> {
    let start = model.start()?;
    for _ in 0..MAX_INIT_ATTEMPTS {
        let mut prefix = Execution::<Trace>::new(start.clone());
        prefix.run_until(Some(1), &mut Prior, rng, ctx)?;
        let log_prior = prefix.trace.log_prior();
        if !(log_prior + prefix.log_likelihood).is_finite() {
            continue;
        }
        if let (log_z, Some(path)) = estimate(ctx, model, &prefix, cfg, stop, rng)? {
            return Ok(State {
                prefix,
                log_prior,
                log_z,
                path,
            });
        }
    }
    Err(no_start("Pmmh"))
}

pub(crate) fn pmmh(ctx: &Ctx, model: &Model, opts: &Options) -> Result<InferResult, Diagnostic> {
    let cfg = SmcConfig::from_options(opts);
    if opts.samples == 0 || cfg.particles == 0 {
        return Err(
            Diagnostic::error("Pmmh needs at least one sample and one particle").with_code("E0750"),
        );
    }
    let chains = opts.chains.max(1);
    let total = crate::limits::schedule("Pmmh", opts.burn, opts.samples, opts.thin.max(1), chains)?;
    crate::limits::reserve(
        opts.samples,
        crate::limits::BYTES_PER_DRAW,
        &format!("Pmmh({})", opts.samples),
    )?;
    // Progress: iterations over all chains, as Mh reports them (each is a
    // whole SMC run, so every iteration counts).
    let every = total.div_ceil(200).max(1);
    let done = AtomicU64::new(0);
    let tick = |n: u64| {
        if let Some(p) = &opts.progress {
            p.report(done.fetch_add(n, Ordering::Relaxed) + n, total);
        }
    };
    let outputs = par::map_tasks(chains, |c| {
        let mut rng = Seed(opts.seed).stream(Purpose::Pmmh, c as u64).rng();
        let keep = per_chain(opts.samples, chains, c);
        let state = initial_state(ctx, model, &cfg, opts.stop.as_ref(), &mut rng)?;
        let chain = PmmhChain {
            ctx,
            model,
            cfg: &cfg,
            stop: opts.stop.as_ref(),
            state,
            pending: None,
            scratch: Scratch::default(),
        };
        run_chain(chain, opts, keep, every, &mut rng, tick)
    });
    let outputs: Vec<ChainOutput> = outputs.into_iter().collect::<Result<_, Diagnostic>>()?;
    Ok(mcmc_result(Method::Pmmh, outputs))
}

/// A PMMH chain: its state, and the proposal pending acceptance.
struct PmmhChain<'a> {
    ctx: &'a Ctx,
    model: &'a Model,
    cfg: &'a SmcConfig,
    stop: Option<&'a crate::Stop>,
    state: State,
    pending: Option<State>,
    scratch: Scratch,
}

impl Chain for PmmhChain<'_> {
    type Key = ();

    /// One transition per iteration.
    fn choices(&self) -> usize {
        1
    }

    /// Steps 1 and 2 of the module docs: the ratio of step 3. Never
    /// `None`: without parameters, a fresh SMC run from the same prefix.
    fn regenerate(
        &mut self,
        proposal: Proposal,
        _: Option<&Scales<()>>,
        rng: &mut InferRng,
    ) -> Result<Option<Move<()>>, Diagnostic> {
        let (ctx, model) = (self.ctx, self.model);
        let (prefix, correction) = match propose(
            ctx,
            model,
            &self.state.prefix.trace,
            Some(1),
            proposal.untuned(),
            None,
            rng,
            &mut self.scratch,
        )? {
            Some(p) => (p.exec, p.log_correction),
            // No parameters: propose a fresh SMC run from the same prefix.
            None => (self.state.prefix.clone(), 0.0),
        };
        let impossible = Ok(Some(Move {
            key: (),
            drifted: false,
            log_alpha: None,
        }));
        let log_prior = prefix.trace.log_prior();
        if correction == f64::NEG_INFINITY || !(log_prior + prefix.log_likelihood).is_finite() {
            return impossible;
        }
        let (log_z, path) = estimate(ctx, model, &prefix, self.cfg, self.stop, rng)?;
        let Some(path) = path else {
            return impossible;
        };
        let log_alpha = log_prior + log_z - self.state.log_prior - self.state.log_z + correction;
        self.pending = Some(State {
            prefix,
            log_prior,
            log_z,
            path,
        });
        Ok(Some(Move {
            key: (),
            drifted: false,
            log_alpha: Some(log_alpha),
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

    fn draw(&mut self, _traces: bool) -> Result<Draw, Diagnostic> {
        Ok(self.state.path.clone())
    }

    fn backend(&self) -> Backend {
        Backend::Interpreter
    }
}
