//! Rejection sampling.
//!
//! A prior run with likelihood `w = p(y | x) ≤ 1` is accepted with
//! probability w; accepted runs are exact posterior draws, and the
//! acceptance rate `accepted / attempts` is an unbiased estimate of the
//! evidence `Z = E[w]`. This needs every observation's weight to be at most
//! 1 (log weight ≤ 0): conditions, discrete observations and non-positive
//! factors. A density above 1 is a clear error pointing at its site.
//!
//! Since weights only ever multiply by factors ≤ 1, drawing the acceptance
//! uniform `u` first lets a run stop as soon as its weight falls below `u`.
//!
//! Attempts run in parallel batches, each with its own stream, and are
//! then examined in index order, so the result does not depend on the
//! number of threads.

use crate::execution::{Execution, Step};
use crate::handler::Prior;
use crate::model::Model;
use crate::nested::Ctx;
use crate::options::{Method, Options};
use crate::par;
use crate::result::{Draw, InferResult};
use crate::rng::{Purpose, Seed};
use crate::trace::SharedTrace;
use rand::RngExt;
use tyche_core::Diagnostic;
use tyche_ir::SiteId;

/// The most attempts for `n` accepted draws.
pub fn max_attempts(n: usize) -> usize {
    1000usize.saturating_mul(n).saturating_add(100_000)
}

enum Attempt {
    Accepted(Draw),
    Rejected,
    /// An observation with log weight > 0 at this site.
    Density(SiteId, f64),
}

pub(crate) fn rejection(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
) -> Result<InferResult, Diagnostic> {
    let n = opts.samples;
    if n == 0 {
        return Err(Diagnostic::error("Rejection needs at least one sample").with_code("E0720"));
    }
    let limit = max_attempts(n);
    let start = model.start()?;
    let seed = Seed(opts.seed);
    let attempt = |i: usize| -> Result<Attempt, Diagnostic> {
        let mut rng = seed.stream(Purpose::Rejection, i as u64).rng();
        let log_u = (1.0 - rng.random::<f64>()).ln(); // in (−∞, 0]
        let mut exec = Execution::<SharedTrace>::new(start.clone());
        exec.trace = SharedTrace::recording(opts.traces);
        loop {
            match exec.advance(&mut Prior, &mut rng, ctx)? {
                Step::Weighted { site, log_weight } if log_weight > 0.0 => {
                    return Ok(Attempt::Density(site, log_weight))
                }
                Step::Weighted { .. } if exec.log_likelihood < log_u => {
                    return Ok(Attempt::Rejected)
                }
                Step::Weighted { .. } => {}
                Step::Done => break,
            }
        }
        Ok(Attempt::Accepted(Draw {
            value: exec.result.clone().expect("finished"),
            log_weight: 0.0,
            trace: exec.trace.assignments(),
        }))
    };
    crate::limits::reserve(n, crate::limits::BYTES_PER_DRAW, &format!("Rejection({n})"))?;
    let mut draws = Vec::with_capacity(n);
    let mut attempts = 0usize;
    let mut batch = n.max(par::PARALLEL_THRESHOLD);
    while draws.len() < n {
        crate::limits::check(opts.stop.as_ref())?;
        if attempts >= limit {
            return Err(Diagnostic::error(format!(
                "Rejection accepted only {} of {n} draws in {limit} attempts",
                draws.len()
            ))
            .with_code("E0721")
            .with_note("the evidence (the probability that a prior run satisfies the observations) is too small")
            .with_help("use Smc or Importance, which weight runs instead of rejecting them"));
        }
        let size = batch.min(limit - attempts);
        let results = par::map_indexed(size, |k| attempt(attempts + k));
        for r in results {
            attempts += 1;
            match r? {
                Attempt::Accepted(d) => {
                    draws.push(d);
                    if draws.len() == n {
                        break;
                    }
                }
                Attempt::Rejected => {}
                Attempt::Density(site, lw) => return Err(density_error(model, site, lw)),
            }
        }
        // Progress: accepted draws, once per batch.
        if let Some(p) = &opts.progress {
            p.report(draws.len() as u64, n as u64);
        }
        // Rare acceptance: grow batches so the pool stays busy.
        batch = batch.saturating_mul(2).min(1 << 20);
    }
    let log_z = (n as f64).ln() - (attempts as f64).ln();
    Ok(InferResult {
        method: Method::Rejection,
        draws,
        log_evidence: Some(log_z),
        ess: Some(n as f64),
        exact: false,
        mcmc: None,
        backend: crate::Backend::Interpreter,
    })
}

fn density_error(model: &Model, site: SiteId, log_weight: f64) -> Diagnostic {
    let s = model.program.site(site);
    Diagnostic::error("Rejection needs observations with probability at most 1")
        .with_code("E0722")
        .with_primary(
            s.span,
            format!(
                "this {} has weight {:.4} > 1 (a density, not a probability)",
                s.kind.name(),
                log_weight.exp()
            ),
        )
        .with_help("use Importance or Smc for continuous observations")
}
