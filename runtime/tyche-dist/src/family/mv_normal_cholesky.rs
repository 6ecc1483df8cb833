//! `MvNormalCholesky(mu, L) : Dist<[Real]>`: the multivariate normal with
//! mean `mu` and covariance `L Lᵀ`, given by its lower Cholesky factor
//! (Stan's `multi_normal_cholesky`), so that a model that builds `L`
//! (`cholesky`, or an `LKJCholesky` draw scaled by standard deviations)
//! does not factorise again.
//!
//! Its log density is written once over [`Math`] ([`log_density`]): the
//! interpreter evaluates it in `f64` (`density.rs`) and `tyche-jit` on its
//! graph (so compiled code and gradients have it), in the same order. It
//! is not a [`Generic`](super::Generic) family, whose parameters are
//! scalars; its vector value makes it, like `MvNormal`, a choice compiled
//! code does not draw (an observed value, or `log_prob`, compiles).

use super::{Described, Family, ParamInfo, Support, Type};
use crate::linalg;
use crate::math::Math;

pub(crate) struct MvNormalCholesky;

impl Described for MvNormalCholesky {
    const INFO: Family = Family {
        name: "MvNormalCholesky",
        summary: "the multivariate normal distribution given the Cholesky factor of its covariance",
        params: &[
            ParamInfo {
                name: "mu",
                ty: Type::RealArray,
                meaning: "mean vector, finite, non-empty",
            },
            ParamInfo {
                name: "L",
                ty: Type::RealMatrix,
                meaning: "lower Cholesky factor of the covariance (`cov = L Lᵀ`), len(mu) × len(mu), finite, diagonal > 0; the upper triangle is not read",
            },
        ],
        value: Type::RealArray,
        support: Support::RealVector,
        example: "let x ~ MvNormalCholesky([0.0, 0.0], cholesky([[1.0, 0.5], [0.5, 1.0]]));",
    };
}

/// `½ ln 2π`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// Whether `MvNormalCholesky(mu, l)` is valid: every entry of `mu` and of
/// `l`'s lower triangle finite, `l`'s diagonal positive (shapes are the
/// caller's to check).
pub fn valid<M: Math>(m: &mut M, mu: &[M::R], l: &[Vec<M::R>]) -> M::B {
    let mut ok = m.boolean(true);
    for &x in mu {
        let f = m.is_finite(x);
        ok = m.and(ok, f);
    }
    for (i, row) in l.iter().enumerate() {
        for &x in &row[..i] {
            let f = m.is_finite(x);
            ok = m.and(ok, f);
        }
        let p = m.positive(row[i]);
        ok = m.and(ok, p);
    }
    ok
}

/// The log density at `x` of valid parameters: with `z` the solution of
/// `L z = x − mu`, `−½ zᵀz − Σᵢ ln L[i][i] − (k/2) ln 2π`.
pub fn log_density<M: Math>(m: &mut M, mu: &[M::R], l: &[Vec<M::R>], x: &[M::R]) -> M::R {
    let diff: Vec<M::R> = x.iter().zip(mu).map(|(&a, &b)| m.sub(a, b)).collect();
    let z = linalg::solve_lower(m, l, &diff);
    let q = linalg::dot(m, &z, &z);
    let half = m.c(0.5);
    let hq = m.mul(half, q);
    let mut lp = m.neg(hq);
    for (i, row) in l.iter().enumerate() {
        let d = m.ln(row[i]);
        lp = m.sub(lp, d);
    }
    let norm = m.c(mu.len() as f64 * HALF_LN_2PI);
    m.sub(lp, norm)
}
