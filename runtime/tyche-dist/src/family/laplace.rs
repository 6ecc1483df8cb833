//! `Laplace(mu, b)`: the double exponential distribution.

use std::f64::consts::LN_2;

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::construct::Args;
use crate::math::Math;
use crate::{Outcome, ParamError};

pub(crate) struct Laplace;

impl Generic for Laplace {
    const INFO: Family = Family {
        name: "Laplace",
        summary: "the double exponential distribution",
        params: &[
            ParamInfo {
                name: "mu",
                ty: Type::Real,
                meaning: "location (mean and median), finite",
            },
            ParamInfo {
                name: "b",
                ty: Type::Real,
                meaning: "scale (mean absolute deviation), > 0",
            },
        ],
        value: Type::Real,
        support: Support::Real,
        example: "let beta ~ Laplace(0.0, 1.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let f = m.is_finite(p[0]);
        let s = m.positive(p[1]);
        m.and(f, s)
    }

    /// `log_norm = −(ln 2 + ln b)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let l2 = m.c(LN_2);
        let lb = m.ln(p[1]);
        let s = m.add(l2, lb);
        let log_norm = m.neg(s);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    /// `log_norm − |x − mu| / b` (`−∞` at ±∞ by itself).
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let d = m.sub(x, p[0]);
        let a = m.abs(d);
        let t = m.div(a, p[1]);
        let v = m.sub(k[0], t);
        Some(m.neg_inf_if_nan(x, v))
    }
}

impl Standalone for Laplace {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.real(0)?, a.positive(1)?, 0.0])
    }
    /// The difference of two exponentials.
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let e1: f64 = Exp1.sample(rng);
        let e2: f64 = Exp1.sample(rng);
        Outcome::Real((p[0] + p[1] * (e1 - e2)).clamp(-f64::MAX, f64::MAX))
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Real(x) = x else { return None };
        if x.is_nan() {
            return None;
        }
        let z = (x - p[0]) / p[1];
        Some(if z < 0.0 {
            0.5 * z.exp()
        } else {
            1.0 - 0.5 * (-z).exp()
        })
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        let z = if u < 0.5 {
            (2.0 * u).ln()
        } else {
            -(2.0 * (1.0 - u)).ln()
        };
        Some(Outcome::Real(p[0] + p[1] * z))
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(p[0])
    }
    fn variance(p: &[f64]) -> Option<f64> {
        Some(2.0 * p[1] * p[1])
    }
}
