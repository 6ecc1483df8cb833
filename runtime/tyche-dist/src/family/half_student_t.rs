//! `HalfStudentT(nu, sigma)`: `|X|` for `X ~ StudentT(nu, 0, sigma)`.

use std::f64::consts::{LN_2, PI};

use rand::Rng;
use rand_distr::Distribution;

use super::student_t::{kernel, std_log_norm};
use super::{Arg, Family, Generic, ParamInfo, Standalone, Support, Type};
use crate::cdf::{student_tail_inv, student_upper_tail};
use crate::construct::Args;
use crate::math::Math;
use crate::special::{inc_beta_pq, inv_inc_beta, ln_gamma};
use crate::{Outcome, ParamError};

pub(crate) struct HalfStudentT;

impl Generic for HalfStudentT {
    const INFO: Family = Family {
        name: "HalfStudentT",
        summary: "the absolute value of a `StudentT(nu, 0, sigma)` variable",
        params: &[
            ParamInfo {
                name: "nu",
                ty: Type::Real,
                meaning: "degrees of freedom, > 0",
            },
            ParamInfo {
                name: "sigma",
                ty: Type::Real,
                meaning: "scale, > 0",
            },
        ],
        value: Type::Real,
        support: Support::Positive,
        example: "let tau ~ HalfStudentT(3.0, 2.5);",
    };

    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        let a = m.positive(p[0]);
        let b = m.positive(p[1]);
        m.and(a, b)
    }

    /// `log_norm = ln 2 + (Student-t's standard constant) − ln σ`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let a = std_log_norm(m, p[0]);
        let ls = m.ln(p[1]);
        let b = m.sub(a, ls);
        let l2 = m.c(LN_2);
        let log_norm = m.add(l2, b);
        let z = m.c(0.0);
        [log_norm, z, z]
    }

    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(x) = x else { return None };
        let ni = m.c(f64::NEG_INFINITY);
        let zero = m.c(0.0);
        let inside = m.ge(x, zero);
        let v = kernel(m, p[0], zero, p[1], k[0], x);
        Some(m.select(inside, v, ni))
    }
}

impl Standalone for HalfStudentT {
    fn validate(a: &Args) -> Result<[f64; 3], ParamError> {
        Ok([a.positive(0)?, a.positive(1)?, 0.0])
    }
    fn sample(p: &[f64], _k: &[f64; 3], rng: &mut dyn Rng) -> Outcome {
        let t = rand_distr::StudentT::new(p[0]).map_or(f64::NAN, |d| d.sample(rng));
        Outcome::Real((p[1] * t).abs().min(f64::MAX))
    }
    fn cdf(p: &[f64], x: &Outcome) -> Option<f64> {
        let &Outcome::Real(x) = x else { return None };
        if x.is_nan() {
            return None;
        }
        if x <= 0.0 {
            return Some(0.0);
        }
        let (t, nu) = (x / p[1], p[0]);
        let t2 = t * t;
        // P(|T| <= t) = I_y(½, ν/2), y = t²/(ν + t²): direct below the
        // median-ish point, where 1 − 2 P(T > t) would cancel.
        Some(if t2 < nu {
            inc_beta_pq(t2 / (nu + t2), 0.5, 0.5 * nu).0
        } else {
            1.0 - 2.0 * student_upper_tail(t, nu)
        })
    }
    fn quantile(p: &[f64], u: f64) -> Option<Outcome> {
        let nu = p[0];
        if u < 0.5 {
            // Where y = t²/(ν + t²) is small the direct inversion is
            // accurate; where it is near 1, `1 − y` is not, and the upper
            // tail's inversion is.
            let y = inv_inc_beta(u, 0.5, 0.5 * nu);
            if y < 0.5 {
                return Some(Outcome::Real(p[1] * (nu * y / (1.0 - y)).sqrt()));
            }
        }
        Some(Outcome::Real(p[1] * student_tail_inv(0.5 * (1.0 - u), nu)))
    }
    /// `2σ √(ν/π) Γ((ν+1)/2) / (Γ(ν/2) (ν − 1))` for `ν > 1`.
    fn mean(p: &[f64]) -> Option<f64> {
        let (nu, s) = (p[0], p[1]);
        if nu <= 1.0 {
            return Some(f64::INFINITY);
        }
        let lr = ln_gamma(0.5 * (nu + 1.0)) - ln_gamma(0.5 * nu);
        Some(2.0 * s * (nu / PI).sqrt() * lr.exp() / (nu - 1.0))
    }
    fn variance(p: &[f64]) -> Option<f64> {
        let (nu, s) = (p[0], p[1]);
        if nu <= 1.0 {
            return None;
        }
        if nu <= 2.0 {
            return Some(f64::INFINITY);
        }
        let m = Self::mean(p)?;
        Some(s * s * nu / (nu - 2.0) - m * m)
    }
}
