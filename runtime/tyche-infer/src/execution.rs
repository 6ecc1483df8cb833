//! [`Execution`]: one run of a model in progress — the *weighting* and
//! *sequential* building blocks.
//!
//! An execution is a suspended [`Machine`] plus what its run has
//! accumulated: the trace of choices, the log likelihood (sum of
//! `observe`/`factor` weights) and the number of observations so far.
//!
//! - [`Execution::advance`] runs to, and including, the next observation
//!   (or to the end), then suspends: the *sequential* block that SMC steps.
//! - [`Execution::run_to_end`] runs to completion: the *weighting* block.
//!   With the [`Prior`](crate::Prior) handler, a complete run's
//!   `log_likelihood` is `log w` where `w = p(x, y) / p(x) = p(y | x)`, the
//!   ratio of the target (joint) to the proposal (prior) density of the
//!   choices `x` made.
//!
//! Nested `infer` effects are answered here for every algorithm (see
//! [`Ctx`]); `do`-fixed choices are recorded with no weight.

use crate::handler::Handler;
use crate::nested::Ctx;
use crate::rng::InferRng;
use crate::trace::{Choice, Record};
use tyche_core::Diagnostic;
use tyche_ir::SiteId;
use tyche_vm::{Effect, Machine, Value};

/// A run of a model, suspended between effects.
#[derive(Clone)]
pub struct Execution<T> {
    /// Ready to continue with [`Machine::run`] (unless finished).
    pub machine: Machine,
    pub trace: T,
    /// Σ of the observation and factor log weights so far.
    pub log_likelihood: f64,
    /// How many observations (`observe`, `factor`, `condition`) so far.
    pub observations: usize,
    /// The model's return value, once finished.
    pub result: Option<Value>,
}

/// An SMC particle on the interpreter: a suspended execution recording
/// into a shared trace.
pub type Particle = Execution<crate::trace::SharedTrace>;

/// Where [`Execution::advance`] stopped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// After an observation or factor at `site` that weighted the run by
    /// `log_weight`.
    Weighted { site: SiteId, log_weight: f64 },
    /// The run finished (or had already finished).
    Done,
}

impl<T: Record> Execution<T> {
    /// An execution about to start `machine`.
    pub fn new(machine: Machine) -> Execution<T> {
        Execution {
            machine,
            trace: T::default(),
            log_likelihood: 0.0,
            observations: 0,
            result: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }

    /// Runs to (and including) the next observation, or to the end.
    pub fn advance<H: Handler>(
        &mut self,
        h: &mut H,
        rng: &mut InferRng,
        ctx: &Ctx,
    ) -> Result<Step, Diagnostic> {
        if self.result.is_some() {
            return Ok(Step::Done);
        }
        let mut effect = self.machine.run()?;
        loop {
            effect = match effect {
                Effect::Sample { site, addr, dist } => {
                    let (value, log_prob) = h.sample(addr, &dist, rng);
                    self.trace.push(Choice {
                        addr,
                        site,
                        value: value.clone(),
                        log_prob,
                        random: true,
                        dist: Some(dist),
                    });
                    self.machine.resume(value)?
                }
                Effect::Observe {
                    site, dist, value, ..
                } => {
                    let log_weight = h.observe(&dist, &value);
                    return Ok(self.weigh(site, log_weight));
                }
                Effect::Factor {
                    site, log_weight, ..
                } => return Ok(self.weigh(site, log_weight)),
                Effect::Intervened { site, addr, value } => {
                    self.trace.push(Choice {
                        addr,
                        site,
                        value,
                        log_prob: 0.0,
                        random: false,
                        dist: None,
                    });
                    self.machine.run()?
                }
                Effect::Infer {
                    method,
                    model,
                    span,
                } => {
                    let posterior = ctx.infer_effect(&self.machine, method, model, span, rng)?;
                    self.machine.resume(posterior)?
                }
                Effect::Done(v) => {
                    self.result = Some(v);
                    return Ok(Step::Done);
                }
            }
        }
    }

    fn weigh(&mut self, site: SiteId, log_weight: f64) -> Step {
        // NaN weights cannot arise from the machine (factor rejects NaN) but
        // a NaN density would poison every sum downstream: treat as zero.
        let log_weight = if log_weight.is_nan() {
            f64::NEG_INFINITY
        } else {
            log_weight
        };
        self.log_likelihood += log_weight;
        self.observations += 1;
        Step::Weighted { site, log_weight }
    }

    /// Runs until `until` observations have been made in total, or to the
    /// end when `until` is `None` or the run finishes first. Stops early
    /// once the weight is zero (callers reject such runs).
    pub fn run_until<H: Handler>(
        &mut self,
        until: Option<usize>,
        h: &mut H,
        rng: &mut InferRng,
        ctx: &Ctx,
    ) -> Result<(), Diagnostic> {
        loop {
            if until.is_some_and(|k| self.observations >= k)
                || self.log_likelihood == f64::NEG_INFINITY
            {
                return Ok(());
            }
            if self.advance(h, rng, ctx)? == Step::Done {
                return Ok(());
            }
        }
    }

    /// Runs to completion. Stops early (leaving the run unfinished) once
    /// the weight is zero, since nothing can revive it.
    pub fn run_to_end<H: Handler>(
        &mut self,
        h: &mut H,
        rng: &mut InferRng,
        ctx: &Ctx,
    ) -> Result<(), Diagnostic> {
        while self.log_likelihood > f64::NEG_INFINITY {
            if self.advance(h, rng, ctx)? == Step::Done {
                break;
            }
        }
        Ok(())
    }
}
