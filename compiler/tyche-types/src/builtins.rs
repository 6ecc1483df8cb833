//! Types of the built-in names (LANGUAGE.md §6–§8), always in scope and
//! shadowable by user items and locals.
//!
//! `sample` is listed with its one-argument type (its type as a value);
//! calls to it are checked specially because it is overloaded by arity.

use crate::ty::{Kind, Subst, Ty};

const REAL_TO_REAL: &[&str] = &[
    "exp", "log", "sqrt", "floor", "ceil", "sigmoid", "logit", "lgamma", "log1p", "expm1", "sin",
    "cos", "tan", "atan", "tanh",
];
const REAL2_DISTS: &[&str] = &[
    "Normal",
    "LogNormal",
    "Uniform",
    "Beta",
    "Gamma",
    "InvGamma",
    "Cauchy",
];
const METHODS: &[&str] = &["Rejection", "Importance", "Smc", "Mh", "Hmc", "Nuts"];

/// Every builtin name, in a stable order.
pub fn builtin_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = vec![
        "len",
        "sum",
        "product",
        "min",
        "max",
        "abs",
        "real",
        "int",
        "pow",
        "log_sum_exp",
        "range",
        "print",
        "map",
        "filter",
        "fold",
        "scan",
        "zip",
        "concat",
        "reverse",
        "repeat",
    ];
    v.extend_from_slice(REAL_TO_REAL);
    v.extend_from_slice(REAL2_DISTS);
    v.extend_from_slice(&[
        "Exponential",
        "StudentT",
        "Bernoulli",
        "Binomial",
        "Poisson",
        "Geometric",
        "Categorical",
        "DiscreteUniform",
        "Dirichlet",
        "MvNormal",
        "sample",
        "observe",
        "factor",
        "condition",
        "log_prob",
        "prob",
        "mean",
        "log_evidence",
        "samples",
        "infer",
        "Enumerate",
    ]);
    v.extend_from_slice(METHODS);
    v
}

/// The (generic) type of a builtin; quantified variables are allocated in
/// `s` each time, so callers cache the result.
pub(crate) fn builtin_type(s: &mut Subst, name: &str) -> Option<Ty> {
    use Ty::{Bool, Int, Method, Real, Unit};
    let f = Ty::func;
    let arr = Ty::array;
    let dist = Ty::dist;
    if REAL_TO_REAL.contains(&name) {
        return Some(f(vec![Real], Real));
    }
    if REAL2_DISTS.contains(&name) {
        return Some(f(vec![Real, Real], dist(Real)));
    }
    if METHODS.contains(&name) {
        return Some(f(vec![Int], Method));
    }
    let a = s.generic(Kind::Any);
    let b = s.generic(Kind::Any);
    let n = s.generic(Kind::Num);
    Some(match name {
        "len" => f(vec![arr(a)], Int),
        "sum" | "product" => f(vec![arr(n.clone())], n),
        "min" | "max" => f(vec![n.clone(), n.clone()], n),
        "abs" => f(vec![n.clone()], n),
        "real" => f(vec![Int], Real),
        "int" => f(vec![Real], Int),
        "pow" => f(vec![Real, Real], Real),
        "log_sum_exp" => f(vec![arr(Real)], Real),
        "range" => f(vec![Int, Int], arr(Int)),
        "print" => f(vec![a], Unit),
        "map" => f(vec![arr(a.clone()), f(vec![a], b.clone())], arr(b)),
        "filter" => f(vec![arr(a.clone()), f(vec![a.clone()], Bool)], arr(a)),
        "fold" => f(
            vec![arr(a.clone()), b.clone(), f(vec![b.clone(), a], b.clone())],
            b,
        ),
        "scan" => f(
            vec![arr(a.clone()), b.clone(), f(vec![b.clone(), a], b.clone())],
            arr(b),
        ),
        "zip" => f(
            vec![arr(a.clone()), arr(b.clone())],
            arr(Ty::Tuple(vec![a, b].into())),
        ),
        "concat" => f(vec![arr(a.clone()), arr(a.clone())], arr(a)),
        "reverse" => f(vec![arr(a.clone())], arr(a)),
        "repeat" => f(vec![Int, f(vec![], a.clone())], arr(a)),
        "Exponential" => f(vec![Real], dist(Real)),
        "StudentT" => f(vec![Real, Real, Real], dist(Real)),
        "Bernoulli" => f(vec![Real], dist(Bool)),
        "Binomial" => f(vec![Int, Real], dist(Int)),
        "Poisson" | "Geometric" => f(vec![Real], dist(Int)),
        "Categorical" => f(vec![arr(Real)], dist(Int)),
        "DiscreteUniform" => f(vec![Int, Int], dist(Int)),
        "Dirichlet" => f(vec![arr(Real)], dist(arr(Real))),
        "MvNormal" => f(vec![arr(Real), arr(arr(Real))], dist(arr(Real))),
        "sample" => f(vec![dist(a.clone())], a),
        "observe" => f(vec![dist(a.clone()), a], Unit),
        "factor" => f(vec![Real], Unit),
        "condition" => f(vec![Bool], Unit),
        "log_prob" | "prob" => f(vec![dist(a.clone()), a], Real),
        "mean" | "log_evidence" => f(vec![dist(a)], Real),
        "samples" => f(vec![dist(a.clone())], arr(a)),
        "infer" => f(vec![Method, f(vec![], a.clone())], dist(a)),
        "Enumerate" => Method,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_type() {
        let mut s = Subst::default();
        for n in builtin_names() {
            assert!(builtin_type(&mut s, n).is_some(), "{n}");
        }
        assert!(builtin_type(&mut s, "nope").is_none());
    }
}
