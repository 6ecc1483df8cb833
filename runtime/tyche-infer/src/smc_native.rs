//! SMC on a [`NativeSequential`] model: the loop of [`crate::smc`] with a
//! particle's suspended machine replaced by a row of `f64`s (the values
//! its later segments still read) and its advance by one compiled segment.
//!
//! The same streams (`seed / Smc / step / slot`, `seed / Resample /
//! step`), the same resampling and the same slot placement as the
//! interpreted loop, so a seed gives the same population under both
//! backends (weights to rounding). Resampling copies rows, `state_len`
//! values each, so a step costs O(n · state_len) however long the run has
//! been: O(n · T) overall. Values only the result still reads (a path
//! the model returns, the choices of per-draw traces) move out of the rows
//! into a [`History`] whose blocks resampled copies share.

use crate::importance::all_zero;
use crate::native::{Backend, NativeSequential};
use crate::options::{Method, Options};
use crate::population::{Offspring, Population};
use crate::result::{Draw, InferResult};
use crate::rng::{Purpose, Seed};
use crate::smc::Schedule;
use crate::stats::log_sum_exp;
use rayon::prelude::*;
use tyche_core::Diagnostic;

/// Particles per batch: a segment runs instruction by instruction over a
/// batch (see `tyche_jit::sequential`), and batches run in parallel.
const BATCH: usize = 256;

/// Populations at least this large run their batches on the thread pool.
/// Only the segments run in parallel (resampling is sequential), and
/// waking the pool once per step costs more than it saves below this:
/// lgss with 10,000 particles takes 22–25 ms on one thread and 25–30 ms
/// on two (with SplitMix64 streams and count-based resampling; before
/// those, 43 and 51 ms, and at 100,000 particles 0.62 s and 0.54 s).
const PARALLEL_MIN: usize = 32_768;

/// Whether [`smc`] can run these options: not resample-move (its moves
/// re-run the interpreter), and traces only when the state keeps them.
pub(crate) fn applies(seq: &dyn NativeSequential, opts: &Options) -> bool {
    opts.rejuvenate == 0 && (!opts.traces || seq.keeps_choices())
}

/// No block.
const NONE: u32 = u32::MAX;

/// The particles' histories: the values segments settle (see
/// [`NativeSequential::settled`]), as a tree of blocks, one per particle
/// per settling segment, each pointing at the block it follows. A
/// resampled copy shares its source's blocks, so resampling copies one
/// index per particle instead of the path so far.
struct History {
    /// Each particle's latest block.
    head: Vec<u32>,
    /// Per block: its parent, the segment that settled it, and where its
    /// values start in `values`.
    blocks: Vec<(u32, u32, usize)>,
    values: Vec<f64>,
}

impl History {
    fn new(n: usize) -> History {
        History {
            head: vec![NONE; n],
            blocks: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Moves the values segment `k` settles from the rows into new blocks.
    fn settle(&mut self, k: usize, settled: &[(u32, u32)], state: &[f64], width: usize) {
        if settled.is_empty() {
            return;
        }
        for (p, head) in self.head.iter_mut().enumerate() {
            let offset = self.values.len();
            let row = &state[p * width..];
            self.values
                .extend(settled.iter().map(|&(slot, _)| row[slot as usize]));
            self.blocks.push((*head, k as u32, offset));
            *head = (self.blocks.len() - 1) as u32;
        }
    }

    /// Particle `p`'s history values, into `out` (`history_len` long).
    fn fill(&self, p: usize, seq: &dyn NativeSequential, out: &mut [f64]) {
        let mut b = self.head[p];
        while b != NONE {
            let (parent, k, offset) = self.blocks[b as usize];
            for (j, &(_, h)) in seq.settled(k as usize).iter().enumerate() {
                out[h as usize] = self.values[offset + j];
            }
            b = parent;
        }
    }
}

/// The native run; `Ok(None)` when a particle may have met a runtime
/// error (see [`NativeSequential::run_segment`]): the caller re-runs on the
/// interpreter, which reports the error exactly. Re-running rather than
/// reporting the segment's own message keeps the error the interpreter's
/// in every respect, which particle included (the interpreter reports the
/// lowest-index particle's first error, whatever kind it is).
pub(crate) fn smc(
    opts: &Options,
    seq: &dyn NativeSequential,
) -> Result<Option<InferResult>, Diagnostic> {
    let n = opts.particles;
    if n == 0 {
        return Err(Diagnostic::error("Smc needs at least one particle").with_code("E0730"));
    }
    let seed = Seed(opts.seed);
    let width = seq.state_len().max(1);
    let mut state = vec![0.0; n * width];
    let mut history = History::new(n);
    // Particle p is row p of `state`: the population only keeps weights.
    let mut pop = Population::new(vec![(); n]);
    // Resampling's buffers, kept across steps.
    let mut offspring = Offspring::default();
    let mut schedule = Schedule::new(opts.ess_threshold, n, pop.ess());
    let mut finished = false;
    let last = seq.segments().saturating_sub(1) as u64;
    for step in 0..seq.segments() as u64 {
        let step_seed = seed.stream(Purpose::Smc, step);
        let live_before = pop.log_weights.iter().any(|&w| w > f64::NEG_INFINITY);
        let mut batches: Vec<(&mut [f64], &mut [f64])> = state
            .chunks_mut(width * BATCH)
            .zip(pop.log_weights.chunks_mut(BATCH))
            .collect();
        let run = |b: usize, (rows, lws): &mut (&mut [f64], &mut [f64])| {
            let first = b * BATCH;
            let rng = |i: usize| step_seed.child((first + i) as u64).rng();
            seq.run_segment(step as usize, rows, lws, &rng)
        };
        // Any failure hands the run to the interpreter: stop at the first.
        // A raised stop skips the batches left (its error follows).
        let stopped = || opts.stop.as_ref().is_some_and(crate::Stop::raised);
        let failed = if n >= PARALLEL_MIN && rayon::current_num_threads() > 1 {
            batches
                .par_iter_mut()
                .enumerate()
                .any(|(b, batch)| !stopped() && run(b, batch).is_err())
        } else {
            batches
                .iter_mut()
                .enumerate()
                .any(|(b, batch)| !stopped() && run(b, batch).is_err())
        };
        crate::limits::check(opts.stop.as_ref())?;
        if failed {
            return Ok(None);
        }
        drop(batches);
        history.settle(step as usize, seq.settled(step as usize), &state, width);
        // Every live particle was weighted, except in the last segment.
        let weighted = live_before && step < last;
        let running = weighted && pop.log_weights.iter().any(|&w| w > f64::NEG_INFINITY);
        if let Some(p) = &opts.progress {
            p.report(step + 1, 0);
        }
        crate::limits::check(opts.stop.as_ref())?;
        schedule.weighted(weighted);
        let summary = pop.summary();
        if summary.log_mean == f64::NEG_INFINITY {
            return Err(all_zero("Smc", n));
        }
        if !running {
            finished = true;
            break;
        }
        if schedule.due(&summary) {
            let mut rng = seed.stream(Purpose::Resample, step).rng();
            // Rows are a few values: a loop beats memmove's call.
            pop.resample_by(
                opts.resampler,
                &mut rng,
                &summary,
                &mut offspring,
                |from, to| {
                    for i in 0..width {
                        state[to * width + i] = state[from * width + i];
                    }
                    history.head[to] = history.head[from];
                },
            );
        }
    }
    debug_assert!(finished || seq.segments() == 0);
    let ess = schedule.final_ess(|| pop.ess());
    let lse = log_sum_exp(&pop.log_weights);
    let (state_len, history_len) = (seq.state_len(), seq.history_len());
    let mut full = vec![0.0; state_len + history_len];
    let draws = state
        .chunks(width)
        .zip(&pop.log_weights)
        .enumerate()
        .filter(|(_, (_, &lw))| lw > f64::NEG_INFINITY && lse > f64::NEG_INFINITY)
        .map(|(p, (row, &lw))| {
            // The state followed by the history, as `result` reads them.
            full[..state_len].copy_from_slice(&row[..state_len]);
            history.fill(p, seq, &mut full[state_len..]);
            Draw {
                value: seq.result(&full),
                log_weight: lw - lse,
                trace: if opts.traces {
                    seq.trace(&full).unwrap_or_default()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    Ok(Some(InferResult {
        method: Method::Smc,
        draws,
        log_evidence: Some(pop.log_evidence()),
        ess: Some(ess),
        exact: false,
        mcmc: None,
        backend: Backend::Jit,
    }))
}
