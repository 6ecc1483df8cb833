//! `Poisson(rate)` (rate 0 is the point mass at 0).

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

/// `ln 2π`.
pub(crate) const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The largest Poisson rate accepted: samples must fit in an `i64`.
pub const MAX_POISSON_RATE: f64 = 1e18;

pub(crate) struct Poisson;

/// `ln P(k)` of a Poisson with this rate, in Loader's saddle-point form
/// (`−stirlerr(k) − bd0(k, rate) − ½ ln(2πk)`), accurate to a few ulps
/// even for counts in the millions.
pub(crate) fn log_pmf<M: Math>(m: &mut M, rate: M::R, kf: M::R) -> M::R {
    let ni = m.c(f64::NEG_INFINITY);
    let zero = m.c(0.0);
    let kneg = m.lt(kf, zero);
    let k0 = m.eq(kf, zero);
    let r0 = m.eq(rate, zero);
    let nrate = m.neg(rate);
    let st = m.stirlerr(kf);
    let nst = m.neg(st);
    let bd = m.bd0(kf, rate);
    let a = m.sub(nst, bd);
    let l2 = m.c(LN_2PI);
    let lk = m.ln(kf);
    let s = m.add(l2, lk);
    let h = m.c(0.5);
    let hs = m.mul(h, s);
    let general = m.sub(a, hs);
    let inner = m.select(r0, ni, general);
    let inner = m.select(k0, nrate, inner);
    m.select(kneg, ni, inner)
}

impl Generic for Poisson {
    const INFO: Family = Family {
        name: "Poisson",
        summary: "counts of events at a constant rate",
        params: &[ParamInfo {
            name: "rate",
            ty: Type::Real,
            meaning: "mean count, in [0, 1e18]",
        }],
        value: Type::Int,
        support: Support::Naturals,
        example: "observe(Poisson(3.5), 4);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let rate = p[0];
        let fin = m.is_finite(rate);
        let zero = m.c(0.0);
        let nn = m.ge(rate, zero);
        let max = m.c(MAX_POISSON_RATE);
        let le = m.le(rate, max);
        let ok = m.and(fin, nn);
        m.and(ok, le)
    }

    fn consts<M: Math>(m: &mut M, _p: &[M::R]) -> [M::R; 3] {
        let z = m.c(0.0);
        [z, z, z]
    }

    fn density<M: Math>(m: &mut M, p: &[M::R], _k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(kf) = x else { return None };
        Some(log_pmf(m, p[0], kf))
    }
}
