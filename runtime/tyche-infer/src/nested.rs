//! Nested inference: answering `infer(method, model)` inside a run.
//!
//! When a machine yields [`Effect::Infer`](tyche_vm::Effect::Infer), the
//! execution asks its [`Ctx`] to run the requested method on the closure
//! (same program and globals) and resumes with the posterior as a
//! `Value::Dist`. Sampling from that posterior is then an ordinary choice.
//!
//! Seeds. A nested approximate method takes its seed from the enclosing
//! run's generator, so it is part of that run's randomness. A nested
//! `Enumerate` is exact, so its result depends only on the closure — and
//! on the seed of any approximate inference nested *inside* it, which is
//! therefore fixed to the context's base seed. That makes the exact result
//! a deterministic function of (closure, base seed), so it is memoised:
//! a model that calls `infer(Enumerate, …)` in every particle enumerates
//! once per distinct closure, not once per particle, and results cannot
//! depend on which thread filled the cache first.

use crate::model::Model;
use crate::options::{Method, Options};
use crate::rng::InferRng;
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tyche_core::{Diagnostic, Span};
use tyche_ir::{FuncId, MethodKind};
use tyche_vm::{DistValue, Machine, MethodSpec, Value};

/// Nesting deeper than this is a diagnosed error (a model that infers on
/// itself without a base case), not a stack overflow.
pub const MAX_NESTING: usize = 32;

/// Entries kept in the memo table before it is flushed (flushing only
/// costs time: results are deterministic).
const CACHE_LIMIT: usize = 50_000;

type CacheKey = (u64, FuncId, Vec<Value>);

/// The context an inference runs in: nesting depth, base seed, and the
/// memo table for exact nested results, shared by all nesting levels of
/// one top-level [`infer`](crate::infer) call.
#[derive(Clone)]
pub struct Ctx {
    depth: usize,
    base_seed: u64,
    cache: Arc<Mutex<HashMap<CacheKey, Arc<DistValue>>>>,
}

impl Ctx {
    /// The context of a top-level inference with this seed.
    pub fn new(seed: u64) -> Ctx {
        Ctx {
            depth: 0,
            base_seed: seed,
            cache: Arc::default(),
        }
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Runs the nested inference requested by an `Infer` effect of
    /// `machine`, returning the posterior value to resume with.
    pub fn infer_effect(
        &self,
        machine: &Machine,
        spec: MethodSpec,
        closure: Value,
        span: Span,
        rng: &mut InferRng,
    ) -> Result<Value, Diagnostic> {
        if self.depth >= MAX_NESTING {
            return Err(Diagnostic::error(format!(
                "inference nested more than {MAX_NESTING} levels deep"
            ))
            .with_code("E0701")
            .with_primary(span, "this `infer` call")
            .with_note("does a model run inference on itself without a base case?"));
        }
        let model = Model::new(
            Arc::clone(machine.program()),
            Arc::clone(machine.globals()),
            closure,
        );
        let exact = spec.kind == MethodKind::Enumerate;
        let seed = if exact {
            self.base_seed
        } else {
            rng.next_u64()
        };
        let key = match (&model.entry, exact) {
            (Value::Closure(c), true) => Some((seed, c.func, c.captures.clone())),
            _ => None,
        };
        if let Some(k) = &key {
            if let Some(d) = self.lock().get(k) {
                return Ok(Value::Dist(Arc::clone(d)));
            }
        }
        let opts = Options::nested(Method::from(spec.kind), spec.n as usize, seed);
        let inner = Ctx {
            depth: self.depth + 1,
            base_seed: seed,
            cache: Arc::clone(&self.cache),
        };
        let result = crate::run(&inner, &model, &opts).map_err(|d| locate(d, span))?;
        let dist = Arc::new(DistValue::Posterior(result.to_posterior()));
        if let Some(k) = key {
            let mut cache = self.lock();
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(k, Arc::clone(&dist));
        }
        Ok(Value::Dist(dist))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Arc<DistValue>>> {
        // A panic elsewhere cannot leave a half-written entry: insertion is
        // one call. Keep going with the data.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A nested inference's own errors (no location: "all particles
/// rejected") point at the `infer` call; located ones pass unchanged.
fn locate(d: Diagnostic, span: Span) -> Diagnostic {
    if d.labels.is_empty() {
        d.with_primary(span, "in this nested inference")
    } else {
        d
    }
}
