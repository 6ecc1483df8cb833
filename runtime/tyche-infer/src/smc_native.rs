//! SMC on a [`NativeSequential`] model: the loop of [`crate::smc`] with a
//! particle's suspended machine replaced by a row of `f64`s (the values
//! its later segments still read) and its advance by one compiled segment.
//!
//! The same streams (`seed / Smc / step / slot`, `seed / Resample /
//! step`), the same resampling and the same slot placement as the
//! interpreted loop, so a seed gives the same population under both
//! backends (weights to rounding). Resampling copies rows, `state_len`
//! values each, so a step costs O(n · state_len) however long the run has
//! been: O(n · T) overall, memory O(n · state_len).

use crate::importance::all_zero;
use crate::model::Model;
use crate::native::{Backend, NativeSequential};
use crate::options::{Method, Options};
use crate::par;
use crate::population::Population;
use crate::result::{Draw, InferResult};
use crate::rng::{Purpose, Seed};
use crate::stats::log_sum_exp;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use tyche_core::Diagnostic;

thread_local! {
    /// Per-thread scratch for segments' temporaries.
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Whether [`smc`] can run these options: not resample-move (its moves
/// re-run the interpreter), and traces only when the state keeps them.
pub(crate) fn applies(seq: &dyn NativeSequential, opts: &Options) -> bool {
    opts.rejuvenate == 0 && (!opts.traces || seq.trace(&vec![0.0; seq.state_len()]).is_some())
}

pub(crate) fn smc(
    model: &Model,
    opts: &Options,
    seq: &dyn NativeSequential,
) -> Result<InferResult, Diagnostic> {
    let n = opts.particles;
    if n == 0 {
        return Err(Diagnostic::error("Smc needs at least one particle").with_code("E0730"));
    }
    let seed = Seed(opts.seed);
    let width = seq.state_len().max(1);
    let mut state = vec![0.0; n * width];
    // The population's "particles" are slot numbers: after resampling,
    // slot p holds a copy of the particle that was in slot particles[p].
    let mut pop = Population::new((0..n as u32).collect::<Vec<u32>>());
    let mut last_ess = pop.ess();
    let mut weighted_since_resampling = false;
    let mut finished = false;
    for step in 0..seq.segments() as u64 {
        let step_seed = seed.stream(Purpose::Smc, step);
        let weighted = AtomicBool::new(false);
        let running = AtomicBool::new(false);
        let mut rows: Vec<&mut [f64]> = state.chunks_mut(width).collect();
        par::for_each_zip(&mut rows, &mut pop.log_weights, |j, row, lw| {
            if *lw == f64::NEG_INFINITY {
                return Ok(());
            }
            let mut rng = step_seed.child(j as u64).rng();
            let out = SCRATCH.with(|s| {
                let mut s = s.borrow_mut();
                if s.len() < seq.scratch_len() {
                    s.resize(seq.scratch_len(), 0.0);
                }
                seq.run_segment(step as usize, row, &mut s, &mut rng)
            });
            match out {
                Ok(Some(w)) => {
                    *lw += if w.is_nan() { f64::NEG_INFINITY } else { w };
                    weighted.store(true, Ordering::Relaxed);
                    if *lw > f64::NEG_INFINITY {
                        running.store(true, Ordering::Relaxed);
                    }
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err((message, site)) => Err(Diagnostic::error(message)
                    .with_code("E0601")
                    .with_primary(model.program.site(site).span, "")),
            }
        })?;
        drop(rows);
        if let Some(p) = &opts.progress {
            p.report(step + 1, 0);
        }
        weighted_since_resampling |= weighted.into_inner();
        if pop.log_mean_weight() == f64::NEG_INFINITY {
            return Err(all_zero("Smc", n));
        }
        if !running.into_inner() {
            finished = true;
            break;
        }
        let ess = pop.ess();
        let resample = match opts.ess_threshold {
            None => true,
            Some(t) => ess < t * n as f64,
        };
        if resample {
            last_ess = ess;
            weighted_since_resampling = false;
            let mut rng = seed.stream(Purpose::Resample, step).rng();
            pop.resample(opts.resampler, &mut rng);
            // Copies go to slots whose particle left no offspring; a
            // source always has offspring, so it is never overwritten.
            for (p, src) in pop.particles.iter_mut().enumerate() {
                let from = *src as usize;
                if from != p {
                    state.copy_within(from * width..(from + 1) * width, p * width);
                    *src = p as u32;
                }
            }
        }
    }
    debug_assert!(finished || seq.segments() == 0);
    let ess = if weighted_since_resampling {
        pop.ess()
    } else {
        last_ess
    };
    let lse = log_sum_exp(&pop.log_weights);
    let draws = state
        .chunks(width)
        .zip(&pop.log_weights)
        .filter(|(_, &lw)| lw > f64::NEG_INFINITY && lse > f64::NEG_INFINITY)
        .map(|(row, &lw)| Draw {
            value: seq.result(&row[..seq.state_len()]),
            log_weight: lw - lse,
            trace: if opts.traces {
                seq.trace(&row[..seq.state_len()]).unwrap_or_default()
            } else {
                Vec::new()
            },
        })
        .collect();
    Ok(InferResult {
        method: Method::Smc,
        draws,
        log_evidence: Some(pop.log_evidence()),
        ess: Some(ess),
        exact: false,
        mcmc: None,
        backend: Backend::Jit,
    })
}
