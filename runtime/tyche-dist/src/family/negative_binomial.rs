//! `NegativeBinomial(mu, phi)`: Stan's `neg_binomial_2`, the mean and
//! dispersion form (a Poisson whose rate is `Gamma(phi, phi/mu)`). The
//! name is the one users reach for; the (successes, probability) form is
//! not provided (see `docs/language.md`).

use rand::Rng;
use rand_distr::Distribution;

use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::cdf::{discrete_quantile, round_guess};
use crate::construct::Args;
use crate::math::Math;
use crate::special::{inc_beta, normal_quantile};
use crate::{Outcome, ParamError};

pub(crate) struct NegativeBinomial;

impl Generic for NegativeBinomial {
    const INFO: Family = Family {
        name: "NegativeBinomial",
        summary: "overdispersed counts: mean mu, variance mu + mu²/phi (Stan's neg_binomial_2)",
        params: &[
            ParamInfo {
                name: "mu",
                ty: Type::Real,
                meaning: "mean, > 0",
            },
            ParamInfo {
                name: "phi",
                ty: Type::Real,
                meaning: "dispersion (larger is closer to Poisson), > 0",
            },
        ],
        value: Type::Int,
        support: Support::Naturals,
        example: "observe(NegativeBinomial(mu, 5.0), 12);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let a = m.positive(p[0]);
        let b = m.positive(p[1]);
        m.and(a, b)
    }

    /// `−ln Γ(phi)` and `−phi ln(1 + mu/phi)`, the terms free of `k`, and
    /// `ln(mu/(mu + phi)) = −ln(1 + phi/mu)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let (mu, phi) = (p[0], p[1]);
        let lg = m.lgamma(phi);
        let r = m.div(mu, phi);
        let l = m.log1p(r);
        let pl = m.mul(phi, l);
        let s = m.add(lg, pl);
        let base = m.neg(s);
        let q = m.div(phi, mu);
        let lq = m.log1p(q);
        let ln_odds = m.neg(lq);
        let z = m.c(0.0);
        [base, ln_odds, z]
    }

    /// `ln Γ(k + phi) − ln Γ(k + 1) + k ln(mu/(mu + phi)) + base` for
    /// `k >= 0`.
    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(kf) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let one = m.c(1.0);
        let neg = m.lt(kf, zero);
        let kp = m.add(kf, p[1]);
        let g1 = m.lgamma(kp);
        let k1 = m.add(kf, one);
        let g2 = m.lgamma(k1);
        let t = m.mul_ln(kf, k[1]);
        let a = m.sub(g1, g2);
        let a = m.add(a, t);
        let v = m.add(a, k[0]);
        Some(m.select(neg, ni, v))
    }
}

impl Standalone for NegativeBinomial {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.positive(0)?, a.positive(1)?, 0.0])
    }
    /// A Poisson draw at a `Gamma(phi, rate phi/mu)` rate.
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let (mu, phi) = (p[0], p[1]);
        let g = rand_distr::Gamma::new(phi, mu / phi).map_or(f64::NAN, |d| d.sample(rng));
        let rate = g.min(super::MAX_POISSON_RATE);
        if rate.is_nan() || rate <= 0.0 {
            return Outcome::Int(0);
        }
        let k: f64 = rand_distr::Poisson::new(rate).map_or(0.0, |d| d.sample(rng));
        Outcome::Int(k as i64)
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Int(k) = x else { return None };
        Some(int_cdf(p, k))
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        let (mu, phi) = (p[0], p[1]);
        let guess = mu + (mu + mu * mu / phi).sqrt() * normal_quantile(u);
        Some(Outcome::Int(discrete_quantile(
            u,
            0,
            i64::MAX,
            round_guess(guess),
            |k| int_cdf(p, k),
        )))
    }
    fn mean(p: &[f64]) -> Option<f64> {
        Some(p[0])
    }
    fn variance(p: &[f64]) -> Option<f64> {
        Some(p[0] + p[0] * p[0] / p[1])
    }
}

/// `P(X <= k) = I_{phi/(mu+phi)}(phi, k + 1)`.
fn int_cdf(p: &[f64], k: i64) -> f64 {
    if k < 0 {
        return 0.0;
    }
    let (mu, phi) = (p[0], p[1]);
    inc_beta(phi / (mu + phi), phi, k as f64 + 1.0)
}
