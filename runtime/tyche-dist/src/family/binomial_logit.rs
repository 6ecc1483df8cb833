//! `BinomialLogit(n, alpha)`: `Binomial(n, sigmoid(alpha))`.

use rand::Rng;

use super::binomial::{log_pmf, stirlerr_n};
use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::construct::Args;
use crate::math::Math;
use crate::special::sigmoid;
use crate::{Dist, Outcome, ParamError};

pub(crate) struct BinomialLogit;

impl Generic for BinomialLogit {
    const INFO: Family = Family {
        name: "BinomialLogit",
        summary: "successes in n trials with log-odds alpha: `Binomial(n, sigmoid(alpha))`",
        params: &[
            ParamInfo {
                name: "n",
                ty: Type::Int,
                meaning: "number of trials, >= 0",
            },
            ParamInfo {
                name: "alpha",
                ty: Type::Real,
                meaning: "log-odds of success, finite",
            },
        ],
        value: Type::Int,
        support: Support::UpTo(0),
        example: "observe(BinomialLogit(20, a + b * dose), 13);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let zero = m.c(0.0);
        let nn = m.ge(p[0], zero);
        let f = m.is_finite(p[1]);
        m.and(nn, f)
    }

    /// `ln σ(alpha)`, `ln σ(−alpha)`, `stirlerr(n)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ln_p = m.log_sigmoid(p[1]);
        let na = m.neg(p[1]);
        let ln_q = m.log_sigmoid(na);
        let sn = stirlerr_n(m, p[0]);
        [ln_p, ln_q, sn]
    }

    /// Binomial's (Loader's) form at `p = σ(alpha)`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(kf) = x else { return None };
        let pr = m.sigmoid(p[1]);
        Some(log_pmf(m, p[0], pr, *k, kf))
    }
}

fn binomial(p: &[f64]) -> Dist {
    Dist::binomial(p[0] as i64, sigmoid(p[1])).expect("validated parameters")
}

impl Standalone for BinomialLogit {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        let n = a.int(0)?;
        if n < 0 {
            return Err(a.err(format!("n must be non-negative, got {n}")));
        }
        if n > 1 << 53 {
            return Err(a.err(format!("n must be at most 2^53, got {n}")));
        }
        Ok([n as f64, a.real(1)?, 0.0])
    }
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        binomial(p).sample(rng)
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        binomial(p).cdf(x)
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        binomial(p).quantile(u)
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(p[0] * sigmoid(p[1]))
    }
    fn variance(p: &[f64]) -> Option<f64> {
        Some(p[0] * sigmoid(p[1]) * sigmoid(-p[1]))
    }
}
