//! `InvGamma(shape, scale)`: the reciprocal of a `Gamma(shape, scale)`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct InvGamma;

impl Generic for InvGamma {
    const INFO: Family = Family {
        name: "InvGamma",
        summary:
            "the inverse gamma distribution (the reciprocal of a Gamma(shape, scale) variable)",
        params: &[
            ParamInfo {
                name: "shape",
                ty: Type::Real,
                meaning: "shape, > 0",
            },
            ParamInfo {
                name: "scale",
                ty: Type::Real,
                meaning: "scale, > 0",
            },
        ],
        value: Type::Real,
        support: Support::Positive,
        example: "let s2 ~ InvGamma(3.0, 2.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let ps = m.positive(p[0]);
        let pr = m.positive(p[1]);
        m.and(ps, pr)
    }

    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        super::gamma::shape_log_norm(m, p)
    }

    /// `log_norm − (shape + 1) ln x − scale/x` on `(0, ∞)`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let (shape, scale) = (p[0], p[1]);
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let fin = m.is_finite(x);
        let one = m.c(1.0);
        let lx = m.ln(x);
        let gt = m.gt(x, zero);
        let inside = m.and(gt, fin);
        let sp1 = m.add(shape, one);
        let t = m.mul(sp1, lx);
        let a = m.sub(k[0], t);
        let sx = m.div(scale, x);
        let v = m.sub(a, sx);
        Some(m.select(inside, v, ni))
    }
}
