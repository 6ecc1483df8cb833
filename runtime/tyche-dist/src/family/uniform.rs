//! `Uniform(lo, hi)` on the closed interval `[lo, hi]`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Uniform;

impl Generic for Uniform {
    const INFO: Family = Family {
        name: "Uniform",
        summary: "the continuous uniform distribution on `[lo, hi]`",
        params: &[
            ParamInfo {
                name: "lo",
                ty: Type::Real,
                meaning: "lower bound, finite",
            },
            ParamInfo {
                name: "hi",
                ty: Type::Real,
                meaning: "upper bound, finite, > lo",
            },
        ],
        value: Type::Real,
        support: Support::Interval(0, 1),
        example: "let x ~ Uniform(0.0, 10.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let (lo, hi) = (p[0], p[1]);
        let f1 = m.is_finite(lo);
        let f2 = m.is_finite(hi);
        let lt = m.lt(lo, hi);
        let ok = m.and(f1, f2);
        m.and(ok, lt)
    }

    /// `log_norm = −ln(hi − lo)`, the width halved first where it
    /// overflows.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let (lo, hi) = (p[0], p[1]);
        let width = m.sub(hi, lo);
        let wf = m.is_finite(width);
        let lw = m.ln(width);
        let h = m.c(0.5);
        let hh = m.mul(h, hi);
        let hl = m.mul(h, lo);
        let hd = m.sub(hh, hl);
        let lhd = m.ln(hd);
        let ln2 = m.c(std::f64::consts::LN_2);
        let lw2 = m.add(lhd, ln2);
        let ln_width = m.select(wf, lw, lw2);
        let log_norm = m.neg(ln_width);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let (lo, hi) = (p[0], p[1]);
        let ni = m.c(f64::NEG_INFINITY);
        let a = m.le(lo, x);
        let b = m.le(x, hi);
        let inside = m.and(a, b);
        Some(m.select(inside, k[0], ni))
    }
}
