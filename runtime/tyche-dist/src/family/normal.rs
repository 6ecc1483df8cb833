//! `Normal(mu, sigma)`.

use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

/// `½ ln 2π`.
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

pub(crate) struct Normal;

impl Generic for Normal {
    const INFO: Family = Family {
        name: "Normal",
        summary: "the normal (Gaussian) distribution",
        params: &[
            ParamInfo {
                name: "mu",
                ty: Type::Real,
                meaning: "mean, finite",
            },
            ParamInfo {
                name: "sigma",
                ty: Type::Real,
                meaning: "standard deviation, > 0",
            },
        ],
        value: Type::Real,
        support: Support::Real,
        example: "let x ~ Normal(0.0, 1.0);",
    };

    /// `sigma > 0`; a non-finite `mu` is caught by the density itself
    /// (`lp − (mu − mu)` is NaN then), which keeps compiled regression loops
    /// one test and one select shorter.
    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.positive(p[1])
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

    /// `log_norm − ½ z²` with `z = (x − mu)/sigma`, then `− (mu − mu)`
    /// (zero for the finite `mu` `Dist::new` accepts; see `valid`).
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let (mu, sigma) = (p[0], p[1]);
        let half = m.c(0.5);
        let d = m.sub(x, mu);
        let z = m.div(d, sigma);
        let hz = m.mul(half, z);
        let hzz = m.mul(hz, z);
        let lp = m.sub(k[0], hzz);
        let mu_mu = m.sub(mu, mu);
        let v = m.sub(lp, mu_mu);
        Some(m.neg_inf_if_nan(x, v))
    }
}
