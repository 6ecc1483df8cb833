//! `LogNormal(mu, sigma)`: `exp` of a `Normal(mu, sigma)`.

use super::normal::HALF_LN_2PI;
use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct LogNormal;

impl Generic for LogNormal {
    const INFO: Family = Family {
        name: "LogNormal",
        summary: "`exp` of a normal variable",
        params: &[
            ParamInfo {
                name: "mu",
                ty: Type::Real,
                meaning: "mean of the logarithm, finite",
            },
            ParamInfo {
                name: "sigma",
                ty: Type::Real,
                meaning: "standard deviation of the logarithm, > 0",
            },
        ],
        value: Type::Real,
        support: Support::Positive,
        example: "let x ~ LogNormal(0.0, 0.5);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let f = m.is_finite(p[0]);
        let s = m.positive(p[1]);
        m.and(f, s)
    }

    /// `log_norm = −ln σ − ½ ln 2π`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ls = m.ln(p[1]);
        let nls = m.neg(ls);
        let h2 = m.c(HALF_LN_2PI);
        let log_norm = m.sub(nls, h2);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    /// `log_norm − ½ z² − ln x` with `z = (ln x − mu)/sigma`; `−∞` unless
    /// `0 < x < ∞`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let (mu, sigma) = (p[0], p[1]);
        let ni = m.c(f64::NEG_INFINITY);
        let half = m.c(0.5);
        let zero = m.c(0.0);
        let gt = m.gt(x, zero);
        let fin = m.is_finite(x);
        let inside = m.and(gt, fin);
        let lx = m.ln(x);
        let d = m.sub(lx, mu);
        let z = m.div(d, sigma);
        let hz = m.mul(half, z);
        let hzz = m.mul(hz, z);
        let v = m.sub(k[0], hzz);
        let v = m.sub(v, lx);
        Some(m.select(inside, v, ni))
    }
}
