//! `Geometric(p)`: failures before the first success, `P(k) = (1−p)^k p`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Geometric;

impl Generic for Geometric {
    const INFO: Family = Family {
        name: "Geometric",
        summary: "the number of failures before the first success",
        params: &[ParamInfo {
            name: "p",
            ty: Type::Real,
            meaning: "probability of success, in (0, 1]",
        }],
        value: Type::Int,
        support: Support::Naturals,
        example: "let failures ~ Geometric(0.3);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let ok0 = m.probability(p[0]);
        let zero = m.c(0.0);
        let nz = m.ne(p[0], zero);
        m.and(ok0, nz)
    }

    /// `ln p`, `ln(1 − p)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ln_p = m.ln(p[0]);
        let np = m.neg(p[0]);
        let ln_q = m.log1p(np);
        let z = m.c(0.0);
        [ln_p, ln_q, z]
    }

    /// `k ln(1 − p) + ln p` for `k >= 0`.
    fn density<M: Math>(m: &mut M, _p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(kf) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let neg = m.lt(kf, zero);
        let t = m.mul_ln(kf, k[1]);
        let v = m.add(t, k[0]);
        Some(m.select(neg, ni, v))
    }
}
