//! Likelihood weighting (importance sampling with the prior as proposal).
//!
//! n independent [weighting](crate::Execution::run_to_end) runs; run i
//! returns `(xᵢ, wᵢ)` with `wᵢ = p(y | xᵢ)`, so `Σ wᵢ δ(xᵢ) / Σ wᵢ`
//! approximates the posterior and `(1/n) Σ wᵢ` is an unbiased estimate of
//! the evidence `p(y)`. It is a [`Population`] that is never resampled.

use crate::execution::Execution;
use crate::handler::Prior;
use crate::model::Model;
use crate::nested::Ctx;
use crate::options::{Method, Options};
use crate::par;
use crate::population::Population;
use crate::result::{Draw, InferResult};
use crate::rng::{Purpose, Seed};
use crate::trace::SharedTrace;
use tyche_core::Diagnostic;

pub(crate) fn importance(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
) -> Result<InferResult, Diagnostic> {
    let n = opts.samples;
    if n == 0 {
        return Err(Diagnostic::error("Importance needs at least one sample").with_code("E0710"));
    }
    let start = model.start()?;
    let seed = Seed(opts.seed);
    let runs = par::map_indexed(n, |i| {
        let mut rng = seed.stream(Purpose::Importance, i as u64).rng();
        let mut exec = Execution::<SharedTrace>::new(start.clone());
        exec.run_to_end(&mut Prior, &mut rng, ctx)?;
        Ok(exec)
    });
    let runs: Vec<Execution<SharedTrace>> = runs.into_iter().collect::<Result<_, Diagnostic>>()?;
    let log_weights = runs
        .iter()
        .map(|e| {
            if e.is_done() {
                e.log_likelihood
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let pop = Population::from_weighted(runs, log_weights);
    let log_z = pop.log_evidence();
    if log_z == f64::NEG_INFINITY {
        return Err(all_zero("Importance", n));
    }
    Ok(InferResult {
        method: Method::Importance,
        draws: weighted_draws(&pop),
        log_evidence: Some(log_z),
        ess: Some(pop.ess()),
        exact: false,
        mcmc: None,
    })
}

/// The draws of a finished population: particles of positive weight, with
/// normalised log weights.
pub(crate) fn weighted_draws(pop: &Population<Execution<SharedTrace>>) -> Vec<Draw> {
    let lse = crate::stats::log_sum_exp(&pop.log_weights);
    pop.particles
        .iter()
        .zip(&pop.log_weights)
        .filter(|(e, lw)| **lw > f64::NEG_INFINITY && e.is_done())
        .map(|(e, lw)| Draw {
            value: e.result.clone().expect("finished"),
            log_weight: lw - lse,
            trace: e.trace.assignments(),
        })
        .collect()
}

pub(crate) fn all_zero(method: &str, n: usize) -> Diagnostic {
    Diagnostic::error(format!("{method}: all {n} runs have zero weight"))
        .with_code("E0711")
        .with_note("every run violated a condition or an observation: the evidence is too small to estimate this way")
        .with_help("use more samples, or Smc, which resamples after each observation")
}
