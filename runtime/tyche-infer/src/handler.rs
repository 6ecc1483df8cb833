//! Handlers: what `sample` and `observe` *mean* during one execution.
//!
//! The machine only asks ("here is a choice at `z[3]` from this
//! distribution; what is its value?"); a [`Handler`] answers. Drawing from
//! the prior ([`Prior`]) gives likelihood weighting and SMC; reusing an old
//! trace's values ([`Replay`](crate::Replay)) gives MH. Enumeration
//! answers with *every* value, so it forks machines itself instead of
//! implementing this trait.

use crate::rng::InferRng;
use std::sync::Arc;
use tyche_vm::{Address, DistValue, Value};

pub trait Handler {
    /// The value of the random choice at `addr`, drawn from (or scored
    /// under) `dist`, with its log probability `log dist(value)`.
    fn sample(&mut self, addr: Address, dist: &Arc<DistValue>, rng: &mut InferRng) -> (Value, f64);

    /// The log weight of observing `value` from `dist`. Every algorithm
    /// here uses the density itself; the hook exists so a handler could
    /// temper or ignore observations.
    fn observe(&mut self, dist: &DistValue, value: &Value) -> f64 {
        dist.log_prob(value)
    }
}

/// Draw every choice from its prior distribution.
#[derive(Clone, Copy, Debug, Default)]
pub struct Prior;

impl Handler for Prior {
    fn sample(
        &mut self,
        _addr: Address,
        dist: &Arc<DistValue>,
        rng: &mut InferRng,
    ) -> (Value, f64) {
        let v = dist.sample(rng);
        let lp = dist.log_prob(&v);
        (v, lp)
    }
}
