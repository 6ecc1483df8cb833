//! `StudentT(nu, mu, sigma)`: location-scale Student's t.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct StudentT;

/// `ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ (ln ν + ln π)`: the normalising
/// constant of a standard Student-t, before `− ln σ`.
pub(crate) fn std_log_norm<M: Math>(m: &mut M, nu: M::R) -> M::R {
    let h = m.c(0.5);
    let hn = m.mul(h, nu);
    let r = m.ln_gamma_half_ratio(hn);
    let lnu = m.ln(nu);
    let lpi = m.c(std::f64::consts::PI.ln());
    let s = m.add(lnu, lpi);
    let hs = m.mul(h, s);
    m.sub(r, hs)
}

/// `− ½ (ν + 1) ln(1 + z²/ν)`, `z = (x − mu)/sigma`, added to `log_norm`;
/// `−∞` unless `x` is finite.
pub(crate) fn kernel<M: Math>(
    m: &mut M,
    nu: M::R,
    mu: M::R,
    sigma: M::R,
    log_norm: M::R,
    x: M::R,
) -> M::R {
    let ni = m.c(f64::NEG_INFINITY);
    let h = m.c(0.5);
    let one = m.c(1.0);
    let np1 = m.add(nu, one);
    let c = m.mul(h, np1);
    let l = m.ln1p_sq_over(x, mu, sigma, nu);
    let cl = m.mul(c, l);
    let v = m.sub(log_norm, cl);
    let fin = m.is_finite(x);
    m.select(fin, v, ni)
}

impl Generic for StudentT {
    const INFO: Family = Family {
        name: "StudentT",
        summary: "Student's t with location and scale",
        params: &[
            ParamInfo {
                name: "nu",
                ty: Type::Real,
                meaning: "degrees of freedom, > 0",
            },
            ParamInfo {
                name: "mu",
                ty: Type::Real,
                meaning: "location, finite",
            },
            ParamInfo {
                name: "sigma",
                ty: Type::Real,
                meaning: "scale, > 0",
            },
        ],
        value: Type::Real,
        support: Support::Real,
        example: "let x ~ StudentT(3.0, 0.0, 1.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let pn = m.positive(p[0]);
        let fm = m.is_finite(p[1]);
        let ps = m.positive(p[2]);
        let ok = m.and(pn, fm);
        m.and(ok, ps)
    }

    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let a = std_log_norm(m, p[0]);
        let ls = m.ln(p[2]);
        let log_norm = m.sub(a, ls);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        Some(kernel(m, p[0], p[1], p[2], k[0], x))
    }
}
