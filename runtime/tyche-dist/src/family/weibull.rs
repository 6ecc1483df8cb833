//! `Weibull(k, lambda)`: shape `k`, scale `lambda`.

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::construct::Args;
use crate::math::Math;
use crate::special::ln_gamma;
use crate::{Outcome, ParamError};

pub(crate) struct Weibull;

impl Generic for Weibull {
    const INFO: Family = Family {
        name: "Weibull",
        summary: "the Weibull distribution (lifetimes; k = 1 is Exponential(1/lambda))",
        params: &[
            ParamInfo {
                name: "k",
                ty: Type::Real,
                meaning: "shape, > 0",
            },
            ParamInfo {
                name: "lambda",
                ty: Type::Real,
                meaning: "scale, > 0",
            },
        ],
        value: Type::Real,
        support: Support::Positive,
        example: "observe(Weibull(1.5, 10.0), 7.2);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let a = m.positive(p[0]);
        let b = m.positive(p[1]);
        m.and(a, b)
    }

    /// `log_norm = ln k − ln lambda`, and `ln lambda`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let lk = m.ln(p[0]);
        let ll = m.ln(p[1]);
        let log_norm = m.sub(lk, ll);
        let z = m.c(0.0);
        [log_norm, ll, z]
    }

    /// `log_norm + (k − 1) ln(x/λ) − (x/λ)^k` on `[0, ∞)`, the power as
    /// `exp(k ln(x/λ))`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let one = m.c(1.0);
        let ge = m.ge(x, zero);
        let fin = m.is_finite(x);
        let inside = m.and(ge, fin);
        let lx = m.ln(x);
        let lz = m.sub(lx, k[1]);
        let km1 = m.sub(p[0], one);
        let a = m.mul_ln(km1, lz);
        let kl = m.mul(p[0], lz);
        let pw = m.exp(kl);
        let v = m.add(k[0], a);
        let v = m.sub(v, pw);
        Some(m.select(inside, v, ni))
    }
}

impl Standalone for Weibull {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.positive(0)?, a.positive(1)?, 0.0])
    }
    /// `lambda E^{1/k}` for a standard exponential `E`.
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let e: f64 = Exp1.sample(rng);
        Outcome::Real((p[1] * (e.ln() / p[0]).exp()).clamp(5e-324, f64::MAX))
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Real(x) = x else { return None };
        if x.is_nan() {
            return None;
        }
        Some(if x <= 0.0 {
            0.0
        } else {
            -(-(x / p[1]).powf(p[0])).exp_m1()
        })
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        Some(Outcome::Real(p[1] * (-(-u).ln_1p()).powf(1.0 / p[0])))
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(p[1] * ln_gamma(1.0 + 1.0 / p[0]).exp())
    }
    fn variance(p: &[f64]) -> Option<f64> {
        // λ² (Γ₂ − Γ₁²) = λ² Γ₂ (1 − Γ₁²/Γ₂) in log space: the gamma
        // values overflow for small k long before their logarithms do.
        let lg1 = ln_gamma(1.0 + 1.0 / p[0]);
        let lg2 = ln_gamma(1.0 + 2.0 / p[0]);
        let v = -(2.0 * lg1 - lg2).exp_m1() * (lg2 + 2.0 * p[1].ln()).exp();
        Some(if v.is_nan() { f64::INFINITY } else { v })
    }
}
