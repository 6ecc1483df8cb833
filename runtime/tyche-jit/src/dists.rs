//! Log densities of the standard distributions as DAG nodes.
//!
//! The formulas are `tyche-dist`'s registry (`tyche_dist::family`), written
//! once over `tyche_dist::math::Math`; [`GraphMath`] is that trait on the
//! traced graph, so a kernel evaluates the very operations `Dist::new` and
//! `Dist::log_prob` evaluate, in the same order, and computes the
//! interpreter's bits. Branches become `select`s: on a parameter or the
//! value when those are symbolic, and on data (an observed count) so that
//! iterations over different data keep one shape.
//!
//! Parameter validation becomes a guard (`family::checked_log_density`):
//! where the interpreter would stop with "invalid parameter" the term is
//! NaN, which no valid term is but at a −∞ + ∞ pole. A NaN (or +∞) density
//! is the mark of a run that may have failed: whoever evaluates one asks
//! the interpreter for the error (MH replays θ, SMC re-runs on the
//! interpreter), so compiled code stops where the interpreter stops, with
//! its message. With constant parameters the guard folds away. The same
//! mark lets [`GraphMath`] skip the NaN test of a value (see
//! `Math::neg_inf_if_nan`).
//!
//! A random integer value (a discrete choice, or data looked up by one) is
//! a node holding `k as f64` — the conversion `tyche-dist` applies before
//! every formula — so integer tests (`k < 0`, `k == n`) are comparisons of
//! that node, `stirlerr(k)` is a table for `k ≤ 15` and the series above
//! ([`stirlerr_int`]).
//!
//! What is still written here: `Categorical` (the registry's exception: a
//! lookup in a table of logs, or a chain of selects over its weights) and
//! `DiscreteUniform`'s concrete-bounds form.

use crate::graph::Graph;
use crate::ops::{Bin, Cmp, NodeId, Un};
use tyche_dist::family::{self, Arg, Type};
use tyche_dist::math::Math;
use tyche_dist::DistKind;

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

fn neg_inf(g: &mut Graph) -> NodeId {
    g.c(f64::NEG_INFINITY)
}

/// The registry's arithmetic ([`Math`]) on the traced graph.
pub struct GraphMath<'g>(pub &'g mut Graph);

impl Math for GraphMath<'_> {
    type R = NodeId;
    type B = NodeId;

    fn c(&mut self, x: f64) -> NodeId {
        self.0.c(x)
    }
    fn boolean(&mut self, b: bool) -> NodeId {
        self.0.boolean(b)
    }
    fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.add2(a, b)
    }
    fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.sub(a, b)
    }
    fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.mul(a, b)
    }
    fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.div(a, b)
    }
    fn neg(&mut self, a: NodeId) -> NodeId {
        self.0.neg(a)
    }
    fn abs(&mut self, a: NodeId) -> NodeId {
        self.0.un(Un::Abs, a)
    }
    fn ln(&mut self, a: NodeId) -> NodeId {
        self.0.ln(a)
    }
    fn log1p(&mut self, a: NodeId) -> NodeId {
        self.0.un(Un::Log1p, a)
    }
    fn exp(&mut self, a: NodeId) -> NodeId {
        self.0.un(Un::Exp, a)
    }
    fn sqrt(&mut self, a: NodeId) -> NodeId {
        self.0.un(Un::Sqrt, a)
    }
    fn lgamma(&mut self, a: NodeId) -> NodeId {
        self.0.un(Un::Lgamma, a)
    }
    fn bd0(&mut self, x: NodeId, m: NodeId) -> NodeId {
        self.0.bin(Bin::Bd0, x, m)
    }
    /// A known count is one constant (`stirlerr(k)`, 0 for `k <= 0` where
    /// no formula uses it); a random one the table and series of
    /// [`stirlerr_int`].
    fn stirlerr(&mut self, k: NodeId) -> NodeId {
        match self.0.as_const(k) {
            Some(kf) => self.0.c(if kf > 0.0 {
                tyche_dist::special::stirlerr(kf)
            } else {
                0.0
            }),
            None => stirlerr_int(self.0, k),
        }
    }
    fn lt(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.cmp(Cmp::Lt, a, b)
    }
    fn le(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.cmp(Cmp::Le, a, b)
    }
    fn gt(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.cmp(Cmp::Gt, a, b)
    }
    fn ge(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.cmp(Cmp::Ge, a, b)
    }
    fn eq(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.cmp(Cmp::Eq, a, b)
    }
    fn ne(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.cmp(Cmp::Ne, a, b)
    }
    fn and(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.and(a, b)
    }
    fn or(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.0.or(a, b)
    }
    fn not(&mut self, a: NodeId) -> NodeId {
        self.0.not(a)
    }
    fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> NodeId {
        self.0.select(c, a, b)
    }
    /// `v` itself: it is NaN when `x` is, and a NaN density is compiled
    /// code's mark for "ask the interpreter" (see the module docs), which
    /// then finds density 0. Two flops instead of a test and a select keep
    /// regression loops tight.
    fn neg_inf_if_nan(&mut self, _x: NodeId, v: NodeId) -> NodeId {
        v
    }
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
    kind.family().value == tyche_dist::family::Type::Real
}

/// The log density of `kind(params)` at `x`, or a reason it has no formula
/// here.
pub fn log_density(
    g: &mut Graph,
    kind: DistKind,
    params: &Params,
    x: Val,
) -> Result<NodeId, String> {
    let arg = |x: Val, g: &mut Graph| -> Result<Arg<NodeId, NodeId>, String> {
        let value = kind.family().value;
        Ok(match (value, x) {
            (Type::Real, Val::Real(n)) => Arg::Real(n),
            (Type::Int, Val::Int(k)) => Arg::Real(g.c(k as f64)),
            (Type::Int, Val::SInt(k)) => Arg::Real(k),
            (Type::Bool, Val::Bool(b)) => Arg::Bool(b),
            _ => return Err(format!("{} needs {} value", kind.name(), a_value(value))),
        })
    };
    match (kind, params) {
        (DistKind::Categorical, _) => categorical(g, params, x),
        (DistKind::DiscreteUniform, Params::DiscreteUniform { lo, hi, log_norm }) => {
            let Val::SInt(_) = x else {
                return Err("DiscreteUniform with random parameters or value".into());
            };
            // Validated when built: the formula without its guard.
            let x = arg(x, g)?;
            let p = [g.c(*lo), g.c(*hi)];
            let k = [g.c(*log_norm), g.c(0.0), g.c(0.0)];
            family::density(&mut GraphMath(g), kind, &p, &k, x)
                .ok_or_else(|| "DiscreteUniform needs an Int value".into())
        }
        (DistKind::DiscreteUniform, _) => {
            Err("DiscreteUniform with random parameters is not supported in kernels".into())
        }
        (_, Params::Reals(p)) if family::has_generic_density(kind) => {
            let x = arg(x, g)?;
            family::checked_log_density(&mut GraphMath(g), kind, p, x)
                .ok_or_else(|| format!("{} has no formula for this value", kind.name()))
        }
        (DistKind::Binomial, Params::Binomial(n, pr)) => {
            // A known count is a constant node: the graph folds the
            // branches it decides.
            let x = arg(x, g)?;
            let p = [g.c(*n as f64), *pr];
            family::checked_log_density(&mut GraphMath(g), kind, &p, x)
                .ok_or_else(|| "Binomial needs an Int value".into())
        }
        _ => Err(format!(
            "{} with random parameters is not supported in kernels",
            kind.name()
        )),
    }
}

fn a_value(t: Type) -> &'static str {
    match t {
        Type::Real => "a real",
        Type::Int => "an Int",
        Type::Bool => "a Bool",
        _ => "a vector",
    }
}

/// `Categorical`: the registry's exception (see the module docs).
fn categorical(g: &mut Graph, params: &Params, x: Val) -> Result<NodeId, String> {
    let ni = neg_inf(g);
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
    Ok(guard(g, ok, lp))
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
