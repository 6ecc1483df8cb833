//! Metropolis–Hastings, written once over the model interface
//! ([`Chain`]): the transition (propose, accept with probability
//! min(1, α), learn the adaptive scales), the chain loop with sweeps,
//! burn-in, thinning, progress and stop checks, and the MCMC result with
//! its diagnostics. The interpreter ([`crate::interpreted::Interpreted`])
//! and compiled code ([`crate::compiled::NativeChain`]) implement the
//! chain; resample-move SMC (`smc`) and PMMH (`pmmh`)
//! reuse the transition and the loop.
//!
//! A chain's first state is a prior run on the interpreter
//! ([`initial_state`]); when the options carry compiled code that
//! describes it ([`NativeChain::new`]), the chain continues on θ.

use crate::compiled::NativeChain;
use crate::interface::{Chain, Scales};
use crate::interpreted::{initial_state, Interpreted};
use crate::model::Model;
use crate::nested::Ctx;
use crate::options::{Method, Options, Proposal};
use crate::par;
use crate::result::{Draw, InferResult, McmcStats};
use crate::rng::{InferRng, Purpose, Seed};
use crate::stats::{ess_bulk, rhat};
use rand::RngExt;
use std::sync::atomic::{AtomicU64, Ordering};
use tyche_core::Diagnostic;

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

/// One MH transition of `chain`: propose ([`Chain::regenerate`]), accept
/// with probability min(1, α) (drawing the uniform unless the proposal is
/// impossible), learn the adaptive scales from a random-walk step while
/// `tuning`, keep or drop the proposal. `None` when there was nothing to
/// propose, else whether the proposal was accepted. Without `scales`,
/// [`Proposal::Adaptive`] proposes from the prior.
pub fn transition<C: Chain>(
    chain: &mut C,
    proposal: Proposal,
    mut scales: Option<(&mut Scales<C::Key>, bool)>,
    rng: &mut InferRng,
) -> Result<Option<bool>, Diagnostic> {
    let read = scales.as_ref().map(|(s, _)| &**s);
    let Some(m) = chain.regenerate(proposal, read, rng)? else {
        return Ok(None);
    };
    let ok = match m.log_alpha {
        Some(log_alpha) => accept(log_alpha, rng),
        None => false,
    };
    if let Some((scales, true)) = &mut scales {
        if m.drifted {
            scales.learn(&m.key, ok);
        }
    }
    if ok {
        chain.accept();
    } else {
        chain.reject();
    }
    Ok(Some(ok))
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

/// Runs a chain: `opts.burn + keep · opts.thin` iterations, each a sweep of
/// single-site transitions, keeping every `thin`-th state after burn-in.
/// A sweep is as many transitions as the first state has random choices
/// (at least one), fixed for the chain, so an iteration is one fixed MH
/// kernel even when later states have more or fewer choices. The adaptive
/// proposal's scales learn during burn-in and stay fixed after it.
/// `tick(n)` reports progress every `every` iterations, and the rest at
/// the end.
pub(crate) fn run_chain<C: Chain>(
    mut chain: C,
    opts: &Options,
    keep: usize,
    every: u64,
    rng: &mut InferRng,
    tick: impl Fn(u64),
) -> Result<ChainOutput, Diagnostic> {
    let thin = opts.thin.max(1);
    let iterations = opts.burn + keep * thin;
    let mut out = ChainOutput {
        draws: Vec::with_capacity(keep),
        accepted: 0,
        proposed: 0,
        backend: chain.backend(),
    };
    let mut scales = Scales::default();
    let sweep = chain.choices().max(1);
    let per_check = chain.steps_per_check().max(1);
    for it in 0..iterations {
        if (it as u64 + 1).is_multiple_of(every) {
            tick(every);
        }
        if (it * sweep) % per_check < sweep {
            crate::limits::check(opts.stop.as_ref())?;
        }
        let tuning = it < opts.burn;
        for _ in 0..sweep {
            let r = transition(&mut chain, opts.proposal, Some((&mut scales, tuning)), rng)?;
            if let (false, Some(ok)) = (tuning, r) {
                out.proposed += 1;
                out.accepted += usize::from(ok);
            }
        }
        if !tuning && (it - opts.burn + 1).is_multiple_of(thin) {
            out.draws.push(chain.draw(opts.traces)?);
        }
    }
    let rest = iterations as u64 % every;
    if rest > 0 {
        tick(rest);
    }
    Ok(out)
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
        let state = initial_state(ctx, model, &mut rng)?;
        let native = opts.native.as_ref().and_then(|n| {
            NativeChain::new(n, &state.exec.trace, state.exec.result.clone(), opts.traces)
        });
        match native {
            Some(chain) => run_chain(chain, opts, keep, every, &mut rng, tick),
            None => {
                let chain = Interpreted::new(ctx, model, state, None);
                run_chain(chain, opts, keep, every, &mut rng, tick)
            }
        }
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
