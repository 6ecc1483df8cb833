//! `HalfNormal(sigma)`: `|X|` for `X ~ Normal(0, sigma)`.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::construct::Args;
use crate::math::Math;
use crate::special::{erf, normal_quantile_upper};
use crate::{Outcome, ParamError};

/// `½ ln(2/π)`.
const HALF_LN_2_OVER_PI: f64 = -0.225_791_352_644_727_4;

pub(crate) struct HalfNormal;

impl Generic for HalfNormal {
    const INFO: Family = Family {
        name: "HalfNormal",
        summary: "the absolute value of a `Normal(0, sigma)` variable",
        params: &[ParamInfo {
            name: "sigma",
            ty: Type::Real,
            meaning: "scale (of the normal folded at 0), > 0",
        }],
        value: Type::Real,
        support: Support::Positive,
        example: "let tau ~ HalfNormal(1.0);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.positive(p[0])
    }

    /// `log_norm = ½ ln(2/π) − ln σ`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let c = m.c(HALF_LN_2_OVER_PI);
        let ls = m.ln(p[0]);
        let log_norm = m.sub(c, ls);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    /// `log_norm − ½ (x/σ)²` on `[0, ∞)`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let half = m.c(0.5);
        let inside = m.ge(x, zero);
        let z = m.div(x, p[0]);
        let hz = m.mul(half, z);
        let hzz = m.mul(hz, z);
        let v = m.sub(k[0], hzz);
        Some(m.select(inside, v, ni))
    }
}

impl Standalone for HalfNormal {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.positive(0)?, 0.0, 0.0])
    }
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let z: f64 = StandardNormal.sample(rng);
        Outcome::Real((p[0] * z).abs().min(f64::MAX))
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Real(x) = x else { return None };
        if x.is_nan() {
            return None;
        }
        Some(if x <= 0.0 {
            0.0
        } else {
            erf(x / p[0] * std::f64::consts::FRAC_1_SQRT_2)
        })
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        // P(|Z| > z) = 2 P(Z > z) = 1 − u; below the median `1 − u` has
        // lost u's digits, so refine z on erf(z/√2) = u by Newton's method.
        let mut z = normal_quantile_upper(0.5 * (1.0 - u)).max(0.0);
        if u > 0.0 && u < 0.5 {
            for _ in 0..3 {
                let f = erf(z * std::f64::consts::FRAC_1_SQRT_2) - u;
                let df = (2.0 / std::f64::consts::PI).sqrt() * (-0.5 * z * z).exp();
                z -= f / df;
            }
        }
        Some(Outcome::Real(p[0] * z))
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(p[0] * (2.0 / std::f64::consts::PI).sqrt())
    }
    fn variance(p: &[f64]) -> Option<f64> {
        Some(p[0] * p[0] * (1.0 - 2.0 / std::f64::consts::PI))
    }
}
