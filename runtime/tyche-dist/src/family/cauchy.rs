//! `Cauchy(loc, scale)`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Cauchy;

impl Generic for Cauchy {
    const INFO: Family = Family {
        name: "Cauchy",
        summary: "the Cauchy distribution (no mean or variance)",
        params: &[
            ParamInfo {
                name: "loc",
                ty: Type::Real,
                meaning: "location (median), finite",
            },
            ParamInfo {
                name: "scale",
                ty: Type::Real,
                meaning: "scale (half the interquartile range), > 0",
            },
        ],
        value: Type::Real,
        support: Support::Real,
        example: "let x ~ Cauchy(0.0, 2.5);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let f = m.is_finite(p[0]);
        let s = m.positive(p[1]);
        m.and(f, s)
    }

    /// `log_norm = −(ln π + ln scale)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let lpi = m.c(std::f64::consts::PI.ln());
        let ls = m.ln(p[1]);
        let sum = m.add(lpi, ls);
        let log_norm = m.neg(sum);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    /// `log_norm − ln(1 + z²)`, `z = (x − loc)/scale`; `−∞` unless finite.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let one = m.c(1.0);
        let l = m.ln1p_sq_over(x, p[0], p[1], one);
        let v = m.sub(k[0], l);
        let fin = m.is_finite(x);
        Some(m.select(fin, v, ni))
    }
}
