//! Log-density formulas of the standard distributions as DAG nodes.
//!
//! Each formula repeats `tyche-dist`'s `Dist::new` precomputation and
//! `Dist::log_prob` operation for operation (same constants, same
//! association order, the same special functions), so a kernel computes
//! the interpreter's bits. Branches of `log_prob` become `select`s: on a
//! parameter or the value when those are symbolic, and on data (an observed
//! count) so that iterations over different data keep one shape.
//!
//! Parameter validation becomes a guard: where the interpreter would stop
//! with "invalid parameter" the term is NaN, which no valid term is but
//! at a −∞ + ∞ pole. A NaN (or +∞) density is the mark of a run that may
//! have failed: whoever evaluates one asks the interpreter for the error
//! (MH replays θ, SMC re-runs on the interpreter), so compiled code stops
//! where the interpreter stops, with its message. With constant parameters
//! the guard folds away.
//!
//! A random integer value (a discrete choice, or data looked up by one) is
//! a node holding `k as f64` — the conversion `tyche-dist` applies before
//! every formula — so integer tests (`k < 0`, `k == n`) are comparisons of
//! that node, `stirlerr(k)` is a table for `k ≤ 15` and the series above
//! ([`stirlerr_int`]), and `ln_ps[k]` is a select over the categories.

use crate::graph::Graph;
use crate::ops::{Bin, Cmp, NodeId, Un};
use tyche_dist::DistKind;

/// `½ ln 2π`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// `ln 2π`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// An observed or chosen value.
#[derive(Clone, Copy, Debug)]
pub enum Val {
    /// A real (symbolic or constant).
    Real(NodeId),
    /// A concrete integer (counts).
    Int(i64),
    /// A random integer `k`: a node holding `k as f64`.
    SInt(NodeId),
    /// A boolean: a node of type Bool (constant or symbolic).
    Bool(NodeId),
}

/// A distribution's parameters as nodes (integer parameters concrete).
#[derive(Clone, Debug)]
pub enum Params {
    Reals(Vec<NodeId>),
    /// `Binomial(n, p)`.
    Binomial(i64, NodeId),
    /// `Categorical(ws)`: unnormalised weights.
    Categorical(Vec<NodeId>),
    /// A validated `Categorical`: its `ln_ps` as a table of the graph and
    /// its length.
    CategoricalLogs(u32, usize),
    /// A validated `DiscreteUniform(lo, hi)` (bounds as exact reals) and
    /// its `log_norm`.
    DiscreteUniform {
        lo: f64,
        hi: f64,
        log_norm: f64,
    },
}

fn pos(g: &mut Graph, x: NodeId) -> NodeId {
    let f = g.is_finite(x);
    let z = g.c(0.0);
    let p = g.cmp(Cmp::Gt, x, z);
    g.and(f, p)
}

fn prob(g: &mut Graph, p: NodeId) -> NodeId {
    let (z, o) = (g.c(0.0), g.c(1.0));
    let a = g.cmp(Cmp::Le, z, p);
    let b = g.cmp(Cmp::Le, p, o);
    g.and(a, b)
}

/// `c · ln v` with `0 · ln 0 = 0`.
fn mul_ln(g: &mut Graph, c: NodeId, ln_v: NodeId) -> NodeId {
    let z = g.c(0.0);
    let is0 = g.cmp(Cmp::Eq, c, z);
    let m = g.mul(c, ln_v);
    g.select(is0, z, m)
}

fn neg_inf(g: &mut Graph) -> NodeId {
    g.c(f64::NEG_INFINITY)
}

/// `ln(1 + z²/nu)` for `z = (x − loc)/scale`, with the interpreter's
/// overflow-safe fallback.
fn ln1p_sq_over(g: &mut Graph, x: NodeId, loc: NodeId, scale: NodeId, nu: NodeId) -> NodeId {
    let d0 = g.sub(x, loc);
    let z = g.div(d0, scale);
    let zz = g.mul(z, z);
    let t = g.div(zz, nu);
    let fast = g.un(Un::Log1p, t);
    let t_fin = g.is_finite(t);
    let d = g.sub(x, loc);
    let d_fin = g.is_finite(d);
    let ad = g.un(Un::Abs, d);
    let l1 = g.ln(ad);
    let h = g.c(0.5);
    let hx = g.mul(h, x);
    let hl = g.mul(h, loc);
    let hd = g.sub(hx, hl);
    let ahd = g.un(Un::Abs, hd);
    let lhd = g.ln(ahd);
    let ln2 = g.c(std::f64::consts::LN_2);
    let l2 = g.add2(lhd, ln2);
    let ln_abs_d = g.select(d_fin, l1, l2);
    let ls = g.ln(scale);
    let diff = g.sub(ln_abs_d, ls);
    let two = g.c(2.0);
    let tw = g.mul(two, diff);
    let lnu = g.ln(nu);
    let slow = g.sub(tw, lnu);
    g.select(t_fin, fast, slow)
}

/// `ln Γ(x + ½) − ln Γ(x)` as `tyche-dist` computes it.
fn ln_gamma_half_ratio(g: &mut Graph, x: NodeId) -> NodeId {
    let hundred = g.c(100.0);
    let big = g.cmp(Cmp::Ge, x, hundred);
    let one = g.c(1.0);
    let r = g.div(one, x);
    let r2 = g.mul(r, r);
    let lx = g.ln(x);
    let h = g.c(0.5);
    let a = g.mul(h, lx);
    let c640 = g.c(640.0);
    let q = g.div(r2, c640);
    let c192 = g.c(1.0 / 192.0);
    let s1 = g.sub(c192, q);
    let s2 = g.mul(r2, s1);
    let c8 = g.c(0.125);
    let s3 = g.sub(c8, s2);
    let s4 = g.mul(r, s3);
    let series = g.sub(a, s4);
    let xh = g.add2(x, h);
    let g1 = g.un(Un::Lgamma, xh);
    let g2 = g.un(Un::Lgamma, x);
    let direct = g.sub(g1, g2);
    g.select(big, series, direct)
}

/// `tyche_dist::special::stirlerr(x)` for an integer-valued `x ≥ 0`: the
/// table branch (`x ≤ 15`) as a lookup of `stirlerr`'s own values, the
/// series branches as its operations. (Negative `x` gives a value callers
/// never select.)
pub fn stirlerr_int(g: &mut Graph, x: NodeId) -> NodeId {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    let small: Vec<f64> = (0..=15)
        .map(|i| tyche_dist::special::stirlerr(i as f64))
        .collect();
    let t = g.table(&small);
    let small = g.lookup(t, x);
    let nn = g.mul(x, x);
    let [s0, s1, s2, s3, s4] = [S0, S1, S2, S3, S4].map(|c| g.c(c));
    // Each branch's nested form, from its innermost parenthesis out.
    let q = g.div(s1, nn);
    let a500 = g.sub(s0, q);
    let r500 = g.div(a500, x);
    let q = g.div(s2, nn);
    let b = g.sub(s1, q);
    let q = g.div(b, nn);
    let a80 = g.sub(s0, q);
    let r80 = g.div(a80, x);
    let q = g.div(s3, nn);
    let c = g.sub(s2, q);
    let q = g.div(c, nn);
    let b = g.sub(s1, q);
    let q = g.div(b, nn);
    let a35 = g.sub(s0, q);
    let r35 = g.div(a35, x);
    let q = g.div(s4, nn);
    let d = g.sub(s3, q);
    let q = g.div(d, nn);
    let c = g.sub(s2, q);
    let q = g.div(c, nn);
    let b = g.sub(s1, q);
    let q = g.div(b, nn);
    let a0 = g.sub(s0, q);
    let r0 = g.div(a0, x);
    let (c15, c35, c80, c500) = (g.c(15.0), g.c(35.0), g.c(80.0), g.c(500.0));
    let gt35 = g.cmp(Cmp::Gt, x, c35);
    let r = g.select(gt35, r35, r0);
    let gt80 = g.cmp(Cmp::Gt, x, c80);
    let r = g.select(gt80, r80, r);
    let gt500 = g.cmp(Cmp::Gt, x, c500);
    let r = g.select(gt500, r500, r);
    let le15 = g.cmp(Cmp::Le, x, c15);
    g.select(le15, small, r)
}

/// Guards a term: NaN (the interpreter's "invalid parameter", see the
/// module docs) unless `ok`.
fn guard(g: &mut Graph, ok: NodeId, term: NodeId) -> NodeId {
    let nan = g.c(f64::NAN);
    g.select(ok, term, nan)
}

/// Whether `kind`'s values are reals (the choices a kernel supports).
pub fn is_real_valued(kind: DistKind) -> bool {
    matches!(
        kind,
        DistKind::Normal
            | DistKind::LogNormal
            | DistKind::Uniform
            | DistKind::Beta
            | DistKind::Gamma
            | DistKind::InvGamma
            | DistKind::Exponential
            | DistKind::Cauchy
            | DistKind::StudentT
    )
}

/// The log density of `kind(params)` at `x`, or a reason it has no formula
/// here.
pub fn log_density(
    g: &mut Graph,
    kind: DistKind,
    params: &Params,
    x: Val,
) -> Result<NodeId, String> {
    let p = |i: usize| match params {
        Params::Reals(v) => v[i],
        _ => unreachable!(),
    };
    let real_x = |x: Val| match x {
        Val::Real(n) => Ok(n),
        _ => Err(format!("{} needs a real value", kind.name())),
    };
    let ni = neg_inf(g);
    Ok(match kind {
        DistKind::Normal | DistKind::LogNormal => {
            let (mu, sigma) = (p(0), p(1));
            let x = real_x(x)?;
            // `mu` must be finite and a NaN value has density 0 in the
            // interpreter. Normal leaves both to arithmetic instead of a
            // guard: `lp − (mu − mu)` is `lp` bit for bit for a finite
            // `mu` and NaN otherwise (the fault mark, see the module
            // docs), and a NaN `x` makes the formula NaN, which the
            // interpreter then finds is density 0. Two flops instead of a
            // test and a select keep regression loops tight.
            let ok = if kind == DistKind::Normal {
                pos(g, sigma)
            } else {
                let f = g.is_finite(mu);
                let s = pos(g, sigma);
                g.and(f, s)
            };
            let ls = g.ln(sigma);
            let nls = g.neg(ls);
            let h2 = g.c(HALF_LN_2PI);
            let log_norm = g.sub(nls, h2);
            let half = g.c(0.5);
            let lp = if kind == DistKind::Normal {
                let d = g.sub(x, mu);
                let z = g.div(d, sigma);
                let hz = g.mul(half, z);
                let hzz = g.mul(hz, z);
                let lp = g.sub(log_norm, hzz);
                let mu_mu = g.sub(mu, mu);
                g.sub(lp, mu_mu)
            } else {
                let zero = g.c(0.0);
                let gt = g.cmp(Cmp::Gt, x, zero);
                let fin = g.is_finite(x);
                let inside = g.and(gt, fin);
                let lx = g.ln(x);
                let d = g.sub(lx, mu);
                let z = g.div(d, sigma);
                let hz = g.mul(half, z);
                let hzz = g.mul(hz, z);
                let v = g.sub(log_norm, hzz);
                let v = g.sub(v, lx);
                g.select(inside, v, ni)
            };
            guard(g, ok, lp)
        }
        DistKind::Uniform => {
            let (lo, hi) = (p(0), p(1));
            let x = real_x(x)?;
            let f1 = g.is_finite(lo);
            let f2 = g.is_finite(hi);
            let lt = g.cmp(Cmp::Lt, lo, hi);
            let ok = g.and(f1, f2);
            let ok = g.and(ok, lt);
            let width = g.sub(hi, lo);
            let wf = g.is_finite(width);
            let lw = g.ln(width);
            let h = g.c(0.5);
            let hh = g.mul(h, hi);
            let hl = g.mul(h, lo);
            let hd = g.sub(hh, hl);
            let lhd = g.ln(hd);
            let ln2 = g.c(std::f64::consts::LN_2);
            let lw2 = g.add2(lhd, ln2);
            let ln_width = g.select(wf, lw, lw2);
            let log_norm = g.neg(ln_width);
            let a = g.cmp(Cmp::Le, lo, x);
            let b = g.cmp(Cmp::Le, x, hi);
            let inside = g.and(a, b);
            let lp = g.select(inside, log_norm, ni);
            guard(g, ok, lp)
        }
        DistKind::Beta => {
            let (a, b) = (p(0), p(1));
            let x = real_x(x)?;
            let pa = pos(g, a);
            let pb = pos(g, b);
            let ok = g.and(pa, pb);
            let ga = g.un(Un::Lgamma, a);
            let gb = g.un(Un::Lgamma, b);
            let ab = g.add2(a, b);
            let gab = g.un(Un::Lgamma, ab);
            let s = g.add2(ga, gb);
            let ln_beta = g.sub(s, gab);
            let (zero, one) = (g.c(0.0), g.c(1.0));
            let c1 = g.cmp(Cmp::Le, zero, x);
            let c2 = g.cmp(Cmp::Le, x, one);
            let inside = g.and(c1, c2);
            let am1 = g.sub(a, one);
            let lx = g.ln(x);
            let t1 = mul_ln(g, am1, lx);
            let bm1 = g.sub(b, one);
            let nx = g.neg(x);
            let l1x = g.un(Un::Log1p, nx);
            let t2 = mul_ln(g, bm1, l1x);
            let s = g.add2(t1, t2);
            let v = g.sub(s, ln_beta);
            let lp = g.select(inside, v, ni);
            guard(g, ok, lp)
        }
        DistKind::Gamma | DistKind::InvGamma => {
            let (shape, second) = (p(0), p(1));
            let x = real_x(x)?;
            let ps = pos(g, shape);
            let pr = pos(g, second);
            let ok = g.and(ps, pr);
            let lr = g.ln(second);
            let sl = g.mul(shape, lr);
            let lg = g.un(Un::Lgamma, shape);
            let log_norm = g.sub(sl, lg);
            let zero = g.c(0.0);
            let fin = g.is_finite(x);
            let one = g.c(1.0);
            let lx = g.ln(x);
            let lp = if kind == DistKind::Gamma {
                let ge = g.cmp(Cmp::Ge, x, zero);
                let inside = g.and(ge, fin);
                let sm1 = g.sub(shape, one);
                let t = mul_ln(g, sm1, lx);
                let a = g.add2(log_norm, t);
                let rx = g.mul(second, x);
                let v = g.sub(a, rx);
                g.select(inside, v, ni)
            } else {
                let gt = g.cmp(Cmp::Gt, x, zero);
                let inside = g.and(gt, fin);
                let sp1 = g.add2(shape, one);
                let t = g.mul(sp1, lx);
                let a = g.sub(log_norm, t);
                let sx = g.div(second, x);
                let v = g.sub(a, sx);
                g.select(inside, v, ni)
            };
            guard(g, ok, lp)
        }
        DistKind::Exponential => {
            let rate = p(0);
            let x = real_x(x)?;
            let ok = pos(g, rate);
            let ln_rate = g.ln(rate);
            let zero = g.c(0.0);
            let ge = g.cmp(Cmp::Ge, x, zero);
            let fin = g.is_finite(x);
            let inside = g.and(ge, fin);
            let rx = g.mul(rate, x);
            let v = g.sub(ln_rate, rx);
            let lp = g.select(inside, v, ni);
            guard(g, ok, lp)
        }
        DistKind::Cauchy => {
            let (loc, scale) = (p(0), p(1));
            let x = real_x(x)?;
            let f = g.is_finite(loc);
            let s = pos(g, scale);
            let ok = g.and(f, s);
            let lpi = g.c(std::f64::consts::PI.ln());
            let ls = g.ln(scale);
            let sum = g.add2(lpi, ls);
            let log_norm = g.neg(sum);
            let one = g.c(1.0);
            let l = ln1p_sq_over(g, x, loc, scale, one);
            let v = g.sub(log_norm, l);
            let fin = g.is_finite(x);
            let lp = g.select(fin, v, ni);
            guard(g, ok, lp)
        }
        DistKind::StudentT => {
            let (nu, mu, sigma) = (p(0), p(1), p(2));
            let x = real_x(x)?;
            let pn = pos(g, nu);
            let fm = g.is_finite(mu);
            let ps = pos(g, sigma);
            let ok = g.and(pn, fm);
            let ok = g.and(ok, ps);
            let h = g.c(0.5);
            let hn = g.mul(h, nu);
            let r = ln_gamma_half_ratio(g, hn);
            let lnu = g.ln(nu);
            let lpi = g.c(std::f64::consts::PI.ln());
            let s = g.add2(lnu, lpi);
            let hs = g.mul(h, s);
            let a = g.sub(r, hs);
            let ls = g.ln(sigma);
            let log_norm = g.sub(a, ls);
            let one = g.c(1.0);
            let np1 = g.add2(nu, one);
            let c = g.mul(h, np1);
            let l = ln1p_sq_over(g, x, mu, sigma, nu);
            let cl = g.mul(c, l);
            let v = g.sub(log_norm, cl);
            let fin = g.is_finite(x);
            let lp = g.select(fin, v, ni);
            guard(g, ok, lp)
        }
        DistKind::Bernoulli => {
            let pr = p(0);
            let Val::Bool(b) = x else {
                return Err("Bernoulli needs a Bool value".into());
            };
            let ok = prob(g, pr);
            let ln_p = g.ln(pr);
            let np = g.neg(pr);
            let ln_q = g.un(Un::Log1p, np);
            let lp = g.select(b, ln_p, ln_q);
            guard(g, ok, lp)
        }
        DistKind::Geometric => {
            let pr = p(0);
            let kf = match x {
                Val::Int(k) => g.c(k as f64),
                Val::SInt(k) => k,
                _ => return Err("Geometric needs an Int value".into()),
            };
            let ok0 = prob(g, pr);
            let zero = g.c(0.0);
            let nz = g.cmp(Cmp::Ne, pr, zero);
            let ok = g.and(ok0, nz);
            let ln_p = g.ln(pr);
            let np = g.neg(pr);
            let ln_q = g.un(Un::Log1p, np);
            let neg = g.cmp(Cmp::Lt, kf, zero);
            let t = mul_ln(g, kf, ln_q);
            let v = g.add2(t, ln_p);
            let lp = g.select(neg, ni, v);
            guard(g, ok, lp)
        }
        DistKind::Poisson => {
            let rate = p(0);
            if let Val::SInt(k) = x {
                return Ok(poisson_at(g, rate, k));
            }
            let Val::Int(k) = x else {
                return Err("Poisson needs an Int value".into());
            };
            let kf = g.c(k as f64);
            let st = g.c(if k > 0 {
                tyche_dist::special::stirlerr(k as f64)
            } else {
                0.0
            });
            poisson_log_prob(g, rate, kf, st)
        }
        DistKind::Binomial => {
            let Params::Binomial(n, pr) = *params else {
                unreachable!()
            };
            // A known count is a constant node: the graph folds the
            // branches it decides, and `stirlerr_int` on a constant is
            // `tyche-dist`'s value bit for bit (tested below).
            let k = match x {
                Val::SInt(k) => k,
                Val::Int(k) => g.c(k as f64),
                _ => return Err("Binomial needs an Int value".into()),
            };
            binomial_at(g, n, pr, k)
        }
        DistKind::Categorical => {
            if let (Params::CategoricalLogs(t, n), Val::SInt(k)) = (params, x) {
                // `ln_ps.get(k)`, −∞ outside `0..n`.
                let zero = g.c(0.0);
                let len = g.c(*n as f64);
                let ge = g.cmp(Cmp::Ge, k, zero);
                let lt = g.cmp(Cmp::Lt, k, len);
                let inside = g.and(ge, lt);
                let l = g.lookup(*t, k);
                return Ok(g.select(inside, l, ni));
            }
            let Params::Categorical(ws) = params else {
                return Err("Categorical needs its weights".into());
            };
            if let Val::SInt(k) = x {
                return Ok(categorical_at(g, ws, k));
            }
            let Val::Int(k) = x else {
                return Err("Categorical needs an Int value".into());
            };
            let (ok, sum) = categorical_ok(g, ws);
            let lp = match usize::try_from(k).ok().and_then(|i| ws.get(i)) {
                Some(&w) => {
                    let p = g.div(w, sum);
                    g.ln(p)
                }
                None => ni,
            };
            guard(g, ok, lp)
        }
        DistKind::DiscreteUniform => {
            let (Params::DiscreteUniform { lo, hi, log_norm }, Val::SInt(k)) = (params, x) else {
                return Err(
                    "DiscreteUniform with random parameters is not supported in kernels".into(),
                );
            };
            let (lo, hi, ln) = (g.c(*lo), g.c(*hi), g.c(*log_norm));
            let a = g.cmp(Cmp::Le, lo, k);
            let b = g.cmp(Cmp::Le, k, hi);
            let inside = g.and(a, b);
            g.select(inside, ln, ni)
        }
        DistKind::Dirichlet | DistKind::MvNormal => {
            return Err(format!(
                "{} with random parameters is not supported in kernels",
                kind.name()
            ))
        }
    })
}

/// The validation of `Categorical(ws)` (`Dist::new`) as a node: every
/// weight finite and non-negative, a positive finite sum. Also the sum,
/// accumulated in order from 0 as `Dist::new` does.
fn categorical_ok(g: &mut Graph, ws: &[NodeId]) -> (NodeId, NodeId) {
    let zero = g.c(0.0);
    let mut ok = g.boolean(true);
    let mut sum = g.c(0.0);
    for &w in ws {
        let ge = g.cmp(Cmp::Ge, w, zero);
        let f = g.is_finite(w);
        let okw = g.and(ge, f);
        ok = g.and(ok, okw);
        sum = g.add2(sum, w);
    }
    let sp = g.cmp(Cmp::Gt, sum, zero);
    let sf = g.is_finite(sum);
    ok = g.and(ok, sp);
    ok = g.and(ok, sf);
    (ok, sum)
}

/// `Categorical(ws)` at a random `k`: `ln(ws[k] / Σ ws)` (the normalised
/// `ps[k]`'s log, as `Dist::new` computes `ln_ps`), −∞ outside `0..n`.
fn categorical_at(g: &mut Graph, ws: &[NodeId], k: NodeId) -> NodeId {
    let (ok, sum) = categorical_ok(g, ws);
    let mut acc = g.c(f64::NEG_INFINITY);
    for (i, &w) in ws.iter().enumerate().rev() {
        let ci = g.c(i as f64);
        let eq = g.cmp(Cmp::Eq, k, ci);
        let p = g.div(w, sum);
        let l = g.ln(p);
        acc = g.select(eq, l, acc);
    }
    guard(g, ok, acc)
}

/// `Poisson(rate)` at a random count `k` (`Dist::log_prob`'s branches as
/// selects).
fn poisson_at(g: &mut Graph, rate: NodeId, kf: NodeId) -> NodeId {
    let st = stirlerr_int(g, kf);
    poisson_log_prob(g, rate, kf, st)
}

/// `Poisson(rate)` at `kf` given `st = stirlerr(k)` (a constant when `k`
/// is known, a table lookup and series when it is random).
fn poisson_log_prob(g: &mut Graph, rate: NodeId, kf: NodeId, st: NodeId) -> NodeId {
    let ni = neg_inf(g);
    let fin = g.is_finite(rate);
    let zero = g.c(0.0);
    let nn = g.cmp(Cmp::Ge, rate, zero);
    let max = g.c(1e18);
    let le = g.cmp(Cmp::Le, rate, max);
    let ok = g.and(fin, nn);
    let ok = g.and(ok, le);
    let kneg = g.cmp(Cmp::Lt, kf, zero);
    let k0 = g.cmp(Cmp::Eq, kf, zero);
    let r0 = g.cmp(Cmp::Eq, rate, zero);
    let nrate = g.neg(rate);
    let nst = g.neg(st);
    let bd = g.bin(Bin::Bd0, kf, rate);
    let a = g.sub(nst, bd);
    let l2 = g.c(LN_2PI);
    let lk = g.ln(kf);
    let s = g.add2(l2, lk);
    let h = g.c(0.5);
    let hs = g.mul(h, s);
    let general = g.sub(a, hs);
    let inner = g.select(r0, ni, general);
    let inner = g.select(k0, nrate, inner);
    let lp = g.select(kneg, ni, inner);
    guard(g, ok, lp)
}

/// `Binomial(n, p)` at a count `k`, random or constant (`Dist::log_prob`'s
/// branches as selects; Loader's form for `0 < k < n`).
fn binomial_at(g: &mut Graph, n: i64, pr: NodeId, kf: NodeId) -> NodeId {
    let ni = neg_inf(g);
    let ok = prob(g, pr);
    let ln_p = g.ln(pr);
    let npr = g.neg(pr);
    let ln_q = g.un(Un::Log1p, npr);
    let nf = g.c(n as f64);
    let zero = g.c(0.0);
    let one = g.c(1.0);
    let lt0 = g.cmp(Cmp::Lt, kf, zero);
    let gtn = g.cmp(Cmp::Gt, kf, nf);
    let out = g.or(lt0, gtn);
    let is0 = g.cmp(Cmp::Eq, kf, zero);
    let is_n = g.cmp(Cmp::Eq, kf, nf);
    let a0 = mul_ln(g, nf, ln_q);
    let an = mul_ln(g, nf, ln_p);
    let p0 = g.cmp(Cmp::Eq, pr, zero);
    let p1 = g.cmp(Cmp::Eq, pr, one);
    let degenerate = g.or(p0, p1);
    let m = g.sub(nf, kf);
    let sn = g.c(if n > 0 {
        tyche_dist::special::stirlerr(n as f64)
    } else {
        0.0
    });
    let sk = stirlerr_int(g, kf);
    let sm = stirlerr_int(g, m);
    let t = g.sub(sn, sk);
    let t = g.sub(t, sm);
    let np = g.mul(nf, pr);
    let b1 = g.bin(Bin::Bd0, kf, np);
    let t = g.sub(t, b1);
    let q = g.sub(one, pr);
    let nq = g.mul(nf, q);
    let b2 = g.bin(Bin::Bd0, m, nq);
    let t = g.sub(t, b2);
    let l2 = g.c(LN_2PI);
    let lk = g.ln(kf);
    let nkf = g.neg(kf);
    let r = g.div(nkf, nf);
    let l1 = g.un(Un::Log1p, r);
    let s = g.add2(l2, lk);
    let s = g.add2(s, l1);
    let h = g.c(0.5);
    let hs = g.mul(h, s);
    let general = g.sub(t, hs);
    let v = g.select(degenerate, ni, general);
    let v = g.select(is_n, an, v);
    let v = g.select(is0, a0, v);
    let lp = g.select(out, ni, v);
    guard(g, ok, lp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The node form of `stirlerr` computes `tyche-dist`'s bits in every
    /// branch (table, and the series above 15, 35, 80 and 500).
    #[test]
    fn stirlerr_int_is_tyche_dists() {
        for k in (0..=2000_i64).chain([10_000, 1 << 40]) {
            let mut g = Graph::new();
            let x = g.c(k as f64);
            let r = stirlerr_int(&mut g, x);
            let want = tyche_dist::special::stirlerr(k as f64);
            assert_eq!(
                g.as_const(r).map(f64::to_bits),
                Some(want.to_bits()),
                "k = {k}"
            );
        }
    }
}
