//! `Logistic(mu, s)`.

use rand::Rng;

use super::{open01, Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::construct::Args;
use crate::math::Math;
use crate::special::{logit, sigmoid};
use crate::{Outcome, ParamError};

pub(crate) struct Logistic;

impl Generic for Logistic {
    const INFO: Family = Family {
        name: "Logistic",
        summary: "the logistic distribution (CDF the logistic sigmoid)",
        params: &[
            ParamInfo {
                name: "mu",
                ty: Type::Real,
                meaning: "location (mean), finite",
            },
            ParamInfo {
                name: "s",
                ty: Type::Real,
                meaning: "scale, > 0",
            },
        ],
        value: Type::Real,
        support: Support::Real,
        example: "let x ~ Logistic(0.0, 1.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let f = m.is_finite(p[0]);
        let s = m.positive(p[1]);
        m.and(f, s)
    }

    /// `ln s`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ls = m.ln(p[1]);
        let z = m.c(0.0);
        [ls, z, z]
    }

    /// `−|z| − ln s − 2 ln(1 + e^{−|z|})`, `z = (x − mu)/s` (the density is
    /// symmetric; `e^{−|z|}` cannot overflow).
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let d = m.sub(x, p[0]);
        let z = m.div(d, p[1]);
        let az = m.abs(z);
        let naz = m.neg(az);
        let e = m.exp(naz);
        let l = m.log1p(e);
        let two = m.c(2.0);
        let tl = m.mul(two, l);
        let a = m.sub(naz, k[0]);
        let v = m.sub(a, tl);
        Some(m.neg_inf_if_nan(x, v))
    }
}

impl Standalone for Logistic {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.real(0)?, a.positive(1)?, 0.0])
    }
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let u = open01(rng);
        Outcome::Real((p[0] + p[1] * logit(u)).clamp(-f64::MAX, f64::MAX))
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Real(x) = x else { return None };
        if x.is_nan() {
            return None;
        }
        Some(sigmoid((x - p[0]) / p[1]))
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        Some(Outcome::Real(p[0] + p[1] * logit(u)))
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(p[0])
    }
    fn variance(p: &[f64]) -> Option<f64> {
        let ps = std::f64::consts::PI * p[1];
        Some(ps * ps / 3.0)
    }
}
