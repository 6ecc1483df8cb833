//! Unconstrained coordinates: each continuous choice's support mapped
//! onto the whole real line, as gradient-based samplers need.
//!
//! A choice drawn from a distribution with support
//! - ℝ (`Normal`, `Cauchy`, `StudentT`, …) is its own coordinate: `x = φ`;
//! - (0, ∞) (`LogNormal`, `Gamma`, `InvGamma`, `Exponential`, `HalfNormal`,
//!   …) is `x = exp(φ)`, `log |dx/dφ| = φ`;
//! - (a, b) (`Uniform(a, b)`, `Beta` on (0, 1)) is the scaled logistic
//!   `x = a + (b − a) σ(φ)`, `log |dx/dφ| = ln(b − a) + ln σ(φ) + ln σ(−φ)`.
//!
//! Which applies is read from the support in the distribution's registry
//! entry ([`support`]).
//!
//! A `Dirichlet` choice of `K` components lies on the simplex: it takes
//! `K − 1` coordinates, mapped by Stan's stick-breaking transform
//! ([`stick_breaking`]): `z_k = σ(φ_k − ln(K − k))` (k = 1…K−1; the offset
//! makes φ = 0 the simplex's centre) is the fraction of the stick left
//! after the first `k − 1` components that component `k` takes, the last
//! component is what remains, and `log |J| = Σ_k ln z_k + ln(1 − z_k) +
//! ln(stick left before k)`. Everything is computed in logs, so the
//! density of a component that underflows to 0 stays finite.
//!
//! The bounds are nodes of the traced graph, so a support that depends on
//! other choices (`Uniform(0, x)`) is transformed with the bounds that
//! hold at that point of the run, and the gradient flows through them.
//! Tracing in unconstrained mode ([`crate::trace::trace_unconstrained`])
//! applies [`constrain`] at every sample and adds the log-Jacobian as a
//! term right after the choice's log density.

use crate::graph::Graph;
use crate::ops::{Bin, NodeId, Un};
use tyche_dist::DistKind;

/// Where a continuous distribution's values lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// The real line.
    Real,
    /// (0, ∞).
    Positive,
    /// (lo, hi): the bounds are the parameters at these positions, or
    /// (0, 1) when `None`.
    Interval(Option<(usize, usize)>),
}

/// The unconstraining transform of a Real-valued distribution kind,
/// derived from the support its registry entry declares
/// (`tyche_dist::family`); `None` for the others.
pub fn support(kind: DistKind) -> Option<Support> {
    use tyche_dist::family::{Support as S, Type};
    if kind.family().value != Type::Real {
        return None;
    }
    Some(match kind.family().support {
        S::Real => Support::Real,
        S::Positive => Support::Positive,
        S::UnitInterval => Support::Interval(None),
        S::Interval(i, j) => Support::Interval(Some((i, j))),
        _ => return None,
    })
}

/// `ln σ(φ) = −softplus(−φ)`, without overflow for large |φ|.
fn ln_sigmoid(g: &mut Graph, phi: NodeId) -> NodeId {
    // −(max(−φ, 0) + ln(1 + e^{−|φ|}))
    let zero = g.c(0.0);
    let neg = g.neg(phi);
    let m = g.bin(Bin::Max, neg, zero);
    let a = g.un(Un::Abs, phi);
    let na = g.neg(a);
    let e = g.un(Un::Exp, na);
    let l = g.un(Un::Log1p, e);
    let s = g.add2(m, l);
    g.neg(s)
}

/// The constrained value of coordinate `phi` and `log |dx/dφ|`, for a
/// choice with support `s` and parameters `params` (nodes).
pub fn constrain(g: &mut Graph, s: Support, params: &[NodeId], phi: NodeId) -> (NodeId, NodeId) {
    match s {
        Support::Real => (phi, g.c(0.0)),
        Support::Positive => (g.un(Un::Exp, phi), phi),
        Support::Interval(bounds) => {
            let ls = ln_sigmoid(g, phi);
            let nphi = g.neg(phi);
            let lc = ln_sigmoid(g, nphi);
            let jac = g.add2(ls, lc);
            let p = g.sigmoid(phi);
            match bounds {
                None => (p, jac),
                Some((i, j)) => {
                    let (lo, hi) = (params[i], params[j]);
                    let w = g.sub(hi, lo);
                    let wp = g.mul(w, p);
                    let x = g.add2(lo, wp);
                    let lw = g.ln(w);
                    (x, g.add2(lw, jac))
                }
            }
        }
    }
}

/// The unconstrained coordinate of a value `x` of a choice with support
/// `s` and parameter values `params` (the inverse of [`constrain`]), for
/// starting a chain at a given point.
pub fn unconstrain(s: Support, params: &[f64], x: f64) -> f64 {
    match s {
        Support::Real => x,
        Support::Positive => x.ln(),
        Support::Interval(bounds) => {
            let (lo, hi) = match bounds {
                None => (0.0, 1.0),
                Some((i, j)) => (params[i], params[j]),
            };
            let u = (x - lo) / (hi - lo);
            (u / (1.0 - u)).ln()
        }
    }
}

/// Stan's stick-breaking transform of `phi` (`K − 1` coordinates) onto the
/// simplex of `K = phi.len() + 1` components: the logarithms of the
/// components and `log |J|` (see the module documentation).
pub fn stick_breaking(g: &mut Graph, phi: &[NodeId]) -> (Vec<NodeId>, NodeId) {
    let k = phi.len() + 1;
    let mut log_left = g.c(0.0);
    let mut jac = g.c(0.0);
    let mut logs = Vec::with_capacity(k);
    for (j, &p) in phi.iter().enumerate() {
        let offset = g.c(((k - 1 - j) as f64).ln());
        let u = g.sub(p, offset);
        let lz = ln_sigmoid(g, u);
        let nu = g.neg(u);
        let l1z = ln_sigmoid(g, nu);
        logs.push(g.add2(log_left, lz));
        let both = g.add2(lz, l1z);
        let here = g.add2(both, log_left);
        jac = g.add2(jac, here);
        log_left = g.add2(log_left, l1z);
    }
    logs.push(log_left);
    (logs, jac)
}

/// The coordinates of a point `x` of the simplex (the inverse of
/// [`stick_breaking`]), for starting a chain at a given point.
pub fn unstick(x: &[f64]) -> Vec<f64> {
    let k = x.len();
    let mut left = 1.0;
    let mut out = Vec::with_capacity(k.saturating_sub(1));
    for (j, &xj) in x.iter().take(k.saturating_sub(1)).enumerate() {
        let z = xj / left;
        out.push((z / (1.0 - z)).ln() + ((k - 1 - j) as f64).ln());
        left -= xj;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exprs::Exprs;

    /// The stick-breaking transform lands on the simplex, φ = 0 is its
    /// centre, and [`unstick`] inverts it.
    #[test]
    fn stick_breaking_round_trips() {
        for x in [
            vec![0.25, 0.25, 0.25, 0.25],
            vec![0.7, 0.2, 0.1],
            vec![1e-9, 0.5, 0.5 - 1e-9],
            vec![0.3, 0.7],
        ] {
            let k = x.len();
            let mut g = Graph::new();
            let phi: Vec<NodeId> = (0..k - 1).map(|i| g.param(i as u32)).collect();
            let (logs, _) = stick_breaking(&mut g, &phi);
            let e = Exprs::new(&g, &logs);
            let at = unstick(&x);
            if k == 4 && x[0] == 0.25 {
                assert!(at.iter().all(|p| p.abs() < 1e-12), "{at:?}");
            }
            let mut out = Vec::new();
            e.eval(&at, &mut out);
            for (l, want) in out.iter().zip(&x) {
                assert!((l.exp() - want).abs() < 1e-12, "{x:?}: {out:?}");
            }
        }
    }
}
