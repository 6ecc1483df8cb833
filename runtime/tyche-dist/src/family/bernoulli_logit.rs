//! `BernoulliLogit(alpha)`: `Bernoulli(sigmoid(alpha))`, with the log
//! probabilities computed from `alpha` directly (no rounding of p to 0 or 1).

use rand::{Rng, RngExt};

use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::construct::Args;
use crate::math::Math;
use crate::special::sigmoid;
use crate::{Outcome, ParamError};

pub(crate) struct BernoulliLogit;

impl Generic for BernoulliLogit {
    const INFO: Family = Family {
        name: "BernoulliLogit",
        summary: "a coin flip with log-odds alpha: `Bernoulli(sigmoid(alpha))`",
        params: &[ParamInfo {
            name: "alpha",
            ty: Type::Real,
            meaning: "log-odds of `true`, finite",
        }],
        value: Type::Bool,
        support: Support::Boolean,
        example: "observe(BernoulliLogit(a + b * x), true);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.is_finite(p[0])
    }

    /// `ln σ(alpha)`, `ln σ(−alpha)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ln_p = m.log_sigmoid(p[0]);
        let na = m.neg(p[0]);
        let ln_q = m.log_sigmoid(na);
        let z = m.c(0.0);
        [ln_p, ln_q, z]
    }

    fn density<M: Math>(m: &mut M, _p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Bool(b) = x else { return None };
        Some(m.select(b, k[0], k[1]))
    }
}

impl Standalone for BernoulliLogit {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.real(0)?, 0.0, 0.0])
    }
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let u: f64 = rng.random();
        Outcome::Bool(u < sigmoid(p[0]))
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Bool(b) = x else { return None };
        Some(if b { 1.0 } else { sigmoid(-p[0]) })
    }
    /// `false` while `u <= P(false)` (raised to the smallest positive
    /// number, so `false` needs positive probability).
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        Some(Outcome::Bool(u.max(f64::MIN_POSITIVE) > sigmoid(-p[0])))
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(sigmoid(p[0]))
    }
    fn variance(p: &[f64]) -> Option<f64> {
        Some(sigmoid(p[0]) * sigmoid(-p[0]))
    }
}
