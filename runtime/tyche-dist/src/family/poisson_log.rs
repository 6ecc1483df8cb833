//! `PoissonLog(alpha)`: `Poisson(exp(alpha))`, parameterised by the log
//! rate.

use rand::Rng;

use super::poisson::log_pmf;
use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type, MAX_POISSON_RATE};
use crate::construct::{fmt_num, Args};
use crate::math::Math;
use crate::{Dist, Outcome, ParamError};

pub(crate) struct PoissonLog;

/// `ln 1e18`: the largest log rate (samples must fit in an `i64`).
const MAX_LOG_RATE: f64 = 41.446_531_673_892_82;

impl Generic for PoissonLog {
    const INFO: Family = Family {
        name: "PoissonLog",
        summary: "counts with log rate alpha: `Poisson(exp(alpha))`",
        params: &[ParamInfo {
            name: "alpha",
            ty: Type::Real,
            meaning: "log of the mean count, finite, <= ln 1e18",
        }],
        value: Type::Int,
        support: Support::Naturals,
        example: "observe(PoissonLog(a + b * x), 3);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let f = m.is_finite(p[0]);
        let max = m.c(MAX_LOG_RATE);
        let le = m.le(p[0], max);
        m.and(f, le)
    }

    /// The rate `exp(alpha)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let rate = m.exp(p[0]);
        let z = m.c(0.0);
        [rate, z, z]
    }

    /// Poisson's (Loader's) form at the rate.
    fn density<M: Math>(m: &mut M, _p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(kf) = x else { return None };
        Some(log_pmf(m, k[0], kf))
    }
}

fn poisson(p: &[f64]) -> Dist {
    Dist::poisson(p[0].exp()).expect("a validated rate")
}

impl Standalone for PoissonLog {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        let alpha = a.real(0)?;
        if alpha > MAX_LOG_RATE {
            return Err(a.err(format!(
                "alpha must be at most {} (a rate of at most {}), got {}",
                fmt_num(MAX_LOG_RATE),
                fmt_num(MAX_POISSON_RATE),
                fmt_num(alpha)
            )));
        }
        Ok([alpha, 0.0, 0.0])
    }
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        poisson(p).sample(rng)
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        poisson(p).cdf(x)
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        poisson(p).quantile(u)
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(p[0].exp())
    }
    fn variance(p: &[f64]) -> Option<f64> {
        Some(p[0].exp())
    }
}
