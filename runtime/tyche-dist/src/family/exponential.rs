//! `Exponential(rate)`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Exponential;

impl Generic for Exponential {
    const INFO: Family = Family {
        name: "Exponential",
        summary: "the exponential distribution (mean 1/rate)",
        params: &[ParamInfo {
            name: "rate",
            ty: Type::Real,
            meaning: "rate, > 0",
        }],
        value: Type::Real,
        support: Support::Positive,
        example: "let t ~ Exponential(2.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.positive(p[0])
    }

    /// `ln rate`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ln_rate = m.ln(p[0]);
        let z = m.c(0.0);
        [ln_rate, z, z]
    }

    /// `ln rate − rate x` on `[0, ∞)`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let ge = m.ge(x, zero);
        let fin = m.is_finite(x);
        let inside = m.and(ge, fin);
        let rx = m.mul(p[0], x);
        let v = m.sub(k[0], rx);
        Some(m.select(inside, v, ni))
    }
}
