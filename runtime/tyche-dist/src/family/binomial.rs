//! `Binomial(n, p)`.

use super::poisson::LN_2PI;
use super::{Arg, Family, Generic, ParamInfo, Support, Type};
use crate::math::Math;

pub(crate) struct Binomial;

/// `ln P(k)` of a `Binomial(n, p)` given `ln p`, `ln(1 − p)` and
/// `stirlerr(n)` (0 for `n = 0`), in Loader's saddle-point form for
/// `0 < k < n` (no cancellation between `ln Γ` terms).
pub(crate) fn log_pmf<M: Math>(
    m: &mut M,
    nf: M::R,
    pr: M::R,
    [ln_p, ln_q, sn]: [M::R; 3],
    kf: M::R,
) -> M::R {
    let ni = m.c(f64::NEG_INFINITY);
    let zero = m.c(0.0);
    let one = m.c(1.0);
    let lt0 = m.lt(kf, zero);
    let gtn = m.gt(kf, nf);
    let out = m.or(lt0, gtn);
    let is0 = m.eq(kf, zero);
    let is_n = m.eq(kf, nf);
    let a0 = m.mul_ln(nf, ln_q);
    let an = m.mul_ln(nf, ln_p);
    let p0 = m.eq(pr, zero);
    let p1 = m.eq(pr, one);
    let degenerate = m.or(p0, p1);
    // The branches as nested `choose`s, innermost (Loader's general
    // form) first: the graph is the chain of selects it always was, and
    // `f64` computes only the branch it takes.
    m.choose(
        out,
        |_| ni,
        |m| {
            m.choose(
                is0,
                |_| a0,
                |m| {
                    m.choose(
                        is_n,
                        |_| an,
                        |m| m.choose(degenerate, |_| ni, |m| general(m, nf, pr, sn, kf)),
                    )
                },
            )
        },
    )
}

/// Loader's saddle-point form of `ln P(k)` for `0 < k < n`.
fn general<M: Math>(m: &mut M, nf: M::R, pr: M::R, sn: M::R, kf: M::R) -> M::R {
    let one = m.c(1.0);
    let mm = m.sub(nf, kf);
    let sk = m.stirlerr(kf);
    let sm = m.stirlerr(mm);
    let t = m.sub(sn, sk);
    let t = m.sub(t, sm);
    let np = m.mul(nf, pr);
    let b1 = m.bd0(kf, np);
    let t = m.sub(t, b1);
    let q = m.sub(one, pr);
    let nq = m.mul(nf, q);
    let b2 = m.bd0(mm, nq);
    let t = m.sub(t, b2);
    let l2 = m.c(LN_2PI);
    let lk = m.ln(kf);
    let nkf = m.neg(kf);
    let r = m.div(nkf, nf);
    let l1 = m.log1p(r);
    let s = m.add(l2, lk);
    let s = m.add(s, l1);
    let h = m.c(0.5);
    let hs = m.mul(h, s);
    m.sub(t, hs)
}

/// `stirlerr(n)`, 0 for `n = 0`.
pub(crate) fn stirlerr_n<M: Math>(m: &mut M, nf: M::R) -> M::R {
    let z = m.c(0.0);
    let gt = m.gt(nf, z);
    let s = m.stirlerr(nf);
    m.select(gt, s, z)
}

impl Generic for Binomial {
    const INFO: Family = Family {
        name: "Binomial",
        summary: "successes in n independent trials",
        params: &[
            ParamInfo {
                name: "n",
                ty: Type::Int,
                meaning: "number of trials, >= 0",
            },
            ParamInfo {
                name: "p",
                ty: Type::Real,
                meaning: "probability of success, in [0, 1]",
            },
        ],
        value: Type::Int,
        support: Support::UpTo(0),
        example: "observe(Binomial(10, theta), 7);",
    };

    /// `p` in `[0, 1]` (`n` is an integer known when code is compiled,
    /// checked by `Dist::new`).
    fn valid<M: Math>(m: &mut M, p: &[M::R]) -> M::B {
        m.probability(p[1])
    }

    /// `ln p`, `ln(1 − p)`, `stirlerr(n)`.
    fn consts<M: Math>(m: &mut M, p: &[M::R]) -> [M::R; 3] {
        let ln_p = m.ln(p[1]);
        let np = m.neg(p[1]);
        let ln_q = m.log1p(np);
        let sn = stirlerr_n(m, p[0]);
        [ln_p, ln_q, sn]
    }

    fn density<M: Math>(m: &mut M, p: &[M::R], k: &[M::R; 3], x: Arg<M::R, M::B>) -> Option<M::R> {
        let Arg::Real(kf) = x else { return None };
        Some(log_pmf(m, p[0], p[1], *k, kf))
    }
}
