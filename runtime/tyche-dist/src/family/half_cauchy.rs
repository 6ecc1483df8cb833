//! `HalfCauchy(scale)`: `|X|` for `X ~ Cauchy(0, scale)`.

use std::f64::consts::{LN_2, PI};

use rand::Rng;
use rand_distr::Distribution;

use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::construct::Args;
use crate::math::Math;
use crate::{Outcome, ParamError};

pub(crate) struct HalfCauchy;

impl Generic for HalfCauchy {
    const INFO: Family = Family {
        name: "HalfCauchy",
        summary: "the absolute value of a `Cauchy(0, scale)` variable (no mean)",
        params: &[ParamInfo {
            name: "scale",
            ty: Type::Real,
            meaning: "scale (the median), > 0",
        }],
        value: Type::Real,
        support: Support::Positive,
        example: "let tau ~ HalfCauchy(2.5);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.positive(p[0])
    }

    /// `log_norm = ln 2 − (ln π + ln scale)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let l2 = m.c(LN_2);
        let lpi = m.c(PI.ln());
        let ls = m.ln(p[0]);
        let s = m.add(lpi, ls);
        let log_norm = m.sub(l2, s);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    /// `log_norm − ln(1 + (x/scale)²)` on `[0, ∞)`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let one = m.c(1.0);
        let ge = m.ge(x, zero);
        let fin = m.is_finite(x);
        let inside = m.and(ge, fin);
        let l = m.ln1p_sq_over(x, zero, p[0], one);
        let v = m.sub(k[0], l);
        Some(m.select(inside, v, ni))
    }
}

impl Standalone for HalfCauchy {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.positive(0)?, 0.0, 0.0])
    }
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let x = rand_distr::Cauchy::new(0.0, 1.0).map_or(f64::NAN, |d| d.sample(rng));
        Outcome::Real((p[0] * x).abs().min(f64::MAX))
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Real(x) = x else { return None };
        if x.is_nan() {
            return None;
        }
        Some(if x <= 0.0 {
            0.0
        } else {
            2.0 / PI * (x / p[0]).atan()
        })
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        // tan(π u / 2) = 1 / tan(π (1 − u) / 2), accurate near u = 1.
        let x = if u >= 1.0 {
            f64::INFINITY
        } else if u > 0.5 {
            1.0 / (0.5 * PI * (1.0 - u)).tan()
        } else {
            (0.5 * PI * u).tan()
        };
        Some(Outcome::Real(p[0] * x))
    }
    fn mean(_p: &[f64]) -> Option<f64> {
        None
    }
    fn variance(_p: &[f64]) -> Option<f64> {
        None
    }
}
