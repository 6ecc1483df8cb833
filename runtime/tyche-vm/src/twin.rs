//! Counterfactual runs: the noise shared between the factual and the
//! counterfactual world (LANGUAGE.md §9).
//!
//! In the factual world every choice's value is turned into its exogenous
//! noise: `u = F(x)` for a continuous choice, and for a discrete one the
//! interval `[F(x⁻), F(x)]` of noise values that produce `x` (the noise is
//! uniform on it). In the counterfactual world the choice at the same
//! address takes `F'⁻¹(u)` under its new distribution `F'`; for a discrete
//! choice that is a distribution over the values whose intervals overlap
//! the recorded one, weighted by the overlap — finite, so exact under
//! `Enumerate`.

use crate::value::{DistValue, Posterior, Value};
use crate::Address;
use std::collections::HashMap;
use std::sync::Arc;
use tyche_dist::Outcome;

#[derive(Clone, Debug)]
pub enum Noise {
    /// A location–scale choice's standardised residual `(x − μ)/σ` (in log
    /// space for LogNormal): exact where `F(x)` would round to 0 or 1.
    Standard(tyche_dist::DistKind, f64),
    Quantile(f64),
    Interval(f64, f64),
    /// Choices without a univariate CDF keep their value when their
    /// distribution is unchanged.
    Same(Value, Arc<DistValue>),
}

/// Which world a counterfactual run is in, and the noise recorded so far.
#[derive(Clone, Debug)]
pub struct Twin {
    pub counterfactual: bool,
    pub tape: Arc<HashMap<Address, Noise>>,
    /// The choice awaiting its value in the factual world.
    pub pending: Option<(Address, Arc<DistValue>)>,
}

/// What a counterfactual-world choice becomes.
pub enum Coupled {
    /// Determined by the noise.
    Fixed(Value),
    /// Still uncertain (a discrete choice): sample from this.
    Dist(Arc<DistValue>),
    /// No noise applies: sample from the choice's own distribution.
    Fresh,
}

pub fn noise_of(dist: &Arc<DistValue>, value: &Value) -> Noise {
    let same = || Noise::Same(value.clone(), Arc::clone(dist));
    let (DistValue::Prim(d), Some(o)) = (&**dist, value.to_outcome()) else {
        return same();
    };
    if let (Some((mu, sigma, log)), Outcome::Real(x)) = (location_scale(d), &o) {
        let x = if log { x.ln() } else { *x };
        return Noise::Standard(d.kind(), (x - mu) / sigma);
    }
    let Some(c) = d.cdf(&o) else { return same() };
    if d.is_discrete() {
        let p = d.log_prob(&o).exp();
        Noise::Interval((c - p).max(0.0), c.min(1.0))
    } else {
        Noise::Quantile(c.clamp(0.0, 1.0))
    }
}

pub fn couple(dist: &Arc<DistValue>, noise: &Noise) -> Coupled {
    match (&**dist, noise) {
        (_, Noise::Same(v, d)) => {
            if same_dist(d, dist) {
                Coupled::Fixed(v.clone())
            } else {
                Coupled::Fresh
            }
        }
        (DistValue::Prim(d), Noise::Standard(kind, e)) if d.kind() == *kind => {
            match location_scale(d) {
                Some((mu, sigma, log)) => {
                    let x = mu + sigma * e;
                    Coupled::Fixed(Value::Real(if log { x.exp() } else { x }))
                }
                None => Coupled::Fresh,
            }
        }
        (DistValue::Prim(d), Noise::Standard(kind, e)) if !d.is_discrete() => {
            // A different continuous family: go through the quantile.
            let u = match kind {
                tyche_dist::DistKind::Cauchy => 0.5 + e.atan() / std::f64::consts::PI,
                _ => tyche_dist::special::normal_cdf(*e),
            };
            match d.quantile(u) {
                Some(o) => Coupled::Fixed(Value::from_outcome(o)),
                None => Coupled::Fresh,
            }
        }
        (DistValue::Prim(d), Noise::Quantile(u)) if !d.is_discrete() => match d.quantile(*u) {
            Some(o) => Coupled::Fixed(Value::from_outcome(o)),
            None => Coupled::Fresh,
        },
        (DistValue::Prim(d), Noise::Interval(a, b)) if d.is_discrete() && b > a => {
            let (Some(lo), Some(hi)) = (d.quantile(*a), d.quantile(*b)) else {
                return Coupled::Fresh;
            };
            let candidates: Vec<Outcome> = match (&lo, &hi) {
                (Outcome::Int(l), Outcome::Int(h)) => (*l..=*h).map(Outcome::Int).collect(),
                (Outcome::Bool(l), Outcome::Bool(h)) => {
                    if l == h {
                        vec![lo.clone()]
                    } else {
                        vec![Outcome::Bool(false), Outcome::Bool(true)]
                    }
                }
                _ => return Coupled::Fresh,
            };
            let mut values = Vec::new();
            let mut log_weights = Vec::new();
            for o in candidates {
                let (Some(c), p) = (d.cdf(&o), d.log_prob(&o).exp()) else {
                    continue;
                };
                let overlap = (c.min(*b) - (c - p).max(*a)).max(0.0);
                if overlap > 0.0 {
                    values.push(Value::from_outcome(o));
                    log_weights.push(overlap.ln());
                }
            }
            match values.len() {
                0 => Coupled::Fresh,
                1 => Coupled::Fixed(values.pop().expect("one value")),
                _ => Coupled::Dist(Arc::new(DistValue::Posterior(Posterior::from_weighted(
                    values.clone(),
                    &log_weights,
                    None,
                    true,
                )))),
            }
        }
        _ => Coupled::Fresh,
    }
}

fn same_dist(a: &Arc<DistValue>, b: &Arc<DistValue>) -> bool {
    match (&**a, &**b) {
        (DistValue::Prim(x), DistValue::Prim(y)) => x == y,
        _ => Arc::ptr_eq(a, b),
    }
}

/// Location, scale, and whether the family lives in log space.
fn location_scale(d: &tyche_dist::Dist) -> Option<(f64, f64, bool)> {
    match *d {
        tyche_dist::Dist::Normal { mu, sigma, .. } => Some((mu, sigma, false)),
        tyche_dist::Dist::LogNormal { mu, sigma, .. } => Some((mu, sigma, true)),
        _ => None,
    }
}
