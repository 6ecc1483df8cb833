//! `Beta(a, b)`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Beta;

impl Generic for Beta {
    const INFO: Family = Family {
        name: "Beta",
        summary: "the beta distribution on `[0, 1]`",
        params: &[
            ParamInfo {
                name: "a",
                ty: Type::Real,
                meaning: "first shape (prior successes), > 0",
            },
            ParamInfo {
                name: "b",
                ty: Type::Real,
                meaning: "second shape (prior failures), > 0",
            },
        ],
        value: Type::Real,
        support: Support::UnitInterval,
        example: "let p ~ Beta(2.0, 2.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let pa = m.positive(p[0]);
        let pb = m.positive(p[1]);
        m.and(pa, pb)
    }

    /// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let (a, b) = (p[0], p[1]);
        let ga = m.lgamma(a);
        let gb = m.lgamma(b);
        let ab = m.add(a, b);
        let gab = m.lgamma(ab);
        let s = m.add(ga, gb);
        let ln_beta = m.sub(s, gab);
        let z = m.c(0.0);
        [ln_beta, z, z]
    }

    /// `(a − 1) ln x + (b − 1) ln(1 − x) − ln B(a, b)` (with `0 · ln 0 = 0`).
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let (a, b) = (p[0], p[1]);
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let one = m.c(1.0);
        let c1 = m.le(zero, x);
        let c2 = m.le(x, one);
        let inside = m.and(c1, c2);
        let am1 = m.sub(a, one);
        let lx = m.ln(x);
        let t1 = m.mul_ln(am1, lx);
        let bm1 = m.sub(b, one);
        let nx = m.neg(x);
        let l1x = m.log1p(nx);
        let t2 = m.mul_ln(bm1, l1x);
        let s = m.add(t1, t2);
        let v = m.sub(s, k[0]);
        Some(m.select(inside, v, ni))
    }
}
