//! `Gamma(shape, rate)` (Stan's parameterisation: a rate, not a scale).

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Gamma;

/// `log_norm = shape ln second − ln Γ(shape)` (Gamma's rate, InvGamma's
/// scale).
pub(crate) fn shape_log_norm<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
    let lr = m.ln(p[1]);
    let sl = m.mul(p[0], lr);
    let lg = m.lgamma(p[0]);
    let log_norm = m.sub(sl, lg);
    let z = m.c(0.0);
    [log_norm, z, z]
}

impl Generic for Gamma {
    const INFO: Family = Family {
        name: "Gamma",
        summary: "the gamma distribution, with a rate (mean shape/rate)",
        params: &[
            ParamInfo {
                name: "shape",
                ty: Type::Real,
                meaning: "shape, > 0",
            },
            ParamInfo {
                name: "rate",
                ty: Type::Real,
                meaning: "rate (inverse scale), > 0",
            },
        ],
        value: Type::Real,
        support: Support::Positive,
        example: "let tau ~ Gamma(2.0, 1.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let ps = m.positive(p[0]);
        let pr = m.positive(p[1]);
        m.and(ps, pr)
    }

    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        shape_log_norm(m, p)
    }

    /// `log_norm + (shape − 1) ln x − rate x` on `[0, ∞)`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let (shape, rate) = (p[0], p[1]);
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let fin = m.is_finite(x);
        let one = m.c(1.0);
        let lx = m.ln(x);
        let ge = m.ge(x, zero);
        let inside = m.and(ge, fin);
        let sm1 = m.sub(shape, one);
        let t = m.mul_ln(sm1, lx);
        let a = m.add(k[0], t);
        let rx = m.mul(rate, x);
        let v = m.sub(a, rx);
        Some(m.select(inside, v, ni))
    }
}
