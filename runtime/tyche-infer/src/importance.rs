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
use crate::stats::log_sum_exp;
use crate::trace::SharedTrace;
use tyche_core::Diagnostic;
use tyche_vm::Value;

pub(crate) fn importance(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
) -> Result<InferResult, Diagnostic> {
    let n = opts.samples;
    if n == 0 {
        return Err(Diagnostic::error("Importance needs at least one sample").with_code("E0710"));
    }
    crate::limits::reserve(
        n,
        crate::limits::BYTES_PER_DRAW,
        &format!("Importance({n})"),
    )?;
    let start = model.start()?;
    let seed = Seed(opts.seed);
    // Progress: runs finished, reported about 200 times.
    let every = (n as u64).div_ceil(200).max(1);
    let done = std::sync::atomic::AtomicU64::new(0);
    let runs = par::map_indexed(n, |i| {
        if let Some(p) = &opts.progress {
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if d % every == 0 || d == n as u64 {
                p.report(d, n as u64);
            }
        }
        crate::limits::check(opts.stop.as_ref())?;
        let mut rng = seed.stream(Purpose::Importance, i as u64).rng();
        let mut exec = Execution::<SharedTrace>::new(start.clone());
        exec.trace = SharedTrace::recording(opts.traces);
        exec.run_to_end(&mut Prior, &mut rng, ctx)?;
        // Keep the result and trace; the finished machine is dropped here.
        let log_weight = if exec.is_done() {
            exec.log_likelihood
        } else {
            f64::NEG_INFINITY
        };
        Ok((exec.result, exec.trace, log_weight))
    });
    let runs: Vec<(Option<Value>, SharedTrace, f64)> =
        runs.into_iter().collect::<Result<_, Diagnostic>>()?;
    let log_weights: Vec<f64> = runs.iter().map(|r| r.2).collect();
    let pop = Population::from_weighted(runs, log_weights);
    let log_z = pop.log_evidence();
    if log_z == f64::NEG_INFINITY {
        return Err(all_zero("Importance", n));
    }
    let lse = log_sum_exp(&pop.log_weights);
    let draws = pop
        .particles
        .iter()
        .filter_map(|(v, t, lw)| draw(v.as_ref(), t, *lw, lse))
        .collect();
    Ok(InferResult {
        method: Method::Importance,
        draws,
        log_evidence: Some(log_z),
        ess: Some(pop.ess()),
        exact: false,
        mcmc: None,
        backend: crate::Backend::Interpreter,
    })
}

/// A finished run of positive weight as a draw with normalised log weight
/// `log_weight − lse`.
fn draw(value: Option<&Value>, trace: &SharedTrace, log_weight: f64, lse: f64) -> Option<Draw> {
    let value = value?;
    (log_weight > f64::NEG_INFINITY).then(|| Draw {
        value: value.clone(),
        log_weight: log_weight - lse,
        trace: trace.assignments(),
    })
}

pub(crate) fn all_zero(method: &str, n: usize) -> Diagnostic {
    Diagnostic::error(format!("{method}: all {n} runs have zero weight"))
        .with_code("E0711")
        .with_note("every run violated a condition or an observation: the evidence is too small to estimate this way")
        .with_help("use more samples, or Smc, which resamples after each observation")
}
