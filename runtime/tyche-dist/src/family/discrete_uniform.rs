//! `DiscreteUniform(lo, hi)` on `lo..=hi`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct DiscreteUniform;

impl Generic for DiscreteUniform {
    const INFO: Family = Family {
        name: "DiscreteUniform",
        summary: "each integer of `lo..=hi` equally likely",
        params: &[
            ParamInfo {
                name: "lo",
                ty: Type::Int,
                meaning: "smallest value",
            },
            ParamInfo {
                name: "hi",
                ty: Type::Int,
                meaning: "largest value, >= lo",
            },
        ],
        value: Type::Int,
        support: Support::IntRange(0, 1),
        example: "let die ~ DiscreteUniform(1, 6);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.le(p[0], p[1])
    }

    /// `log_norm = −ln(hi − lo + 1)`. (`Dist::new` counts in `i128`, exact
    /// for every `i64` range; this form is exact below 2⁵³.)
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let w = m.sub(p[1], p[0]);
        let one = m.c(1.0);
        let count = m.add(w, one);
        let l = m.ln(count);
        let log_norm = m.neg(l);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(kf) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let a = m.le(p[0], kf);
        let b = m.le(kf, p[1]);
        let inside = m.and(a, b);
        Some(m.select(inside, k[0], ni))
    }
}
