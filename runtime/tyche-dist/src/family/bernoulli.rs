//! `Bernoulli(p) : Dist<Bool>`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Bernoulli;

impl Generic for Bernoulli {
    const INFO: Family = Family {
        name: "Bernoulli",
        summary: "a coin flip: `true` with probability p",
        params: &[ParamInfo {
            name: "p",
            ty: Type::Real,
            meaning: "probability of `true`, in [0, 1]",
        }],
        value: Type::Bool,
        support: Support::Boolean,
        example: "let rain ~ Bernoulli(0.2);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.probability(p[0])
    }

    /// `ln p`, `ln(1 − p)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ln_p = m.ln(p[0]);
        let np = m.neg(p[0]);
        let ln_q = m.log1p(np);
        let z = m.c(0.0);
        [ln_p, ln_q, z]
    }

    fn density<M: Math>(m: &mut M, _p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Bool(b) = x else { return None };
        Some(m.select(b, k[0], k[1]))
    }
}
