//! Types of the built-in names (LANGUAGE.md §6–§8), always in scope and
//! shadowable by user items and locals.
//!
//! `sample` is listed with its one-argument type (its type as a value);
//! calls to it are checked specially because it is overloaded by arity.

use tyche_dist::family::Type as DistType;
use tyche_dist::DistKind;

use crate::ty::{Kind, Subst, Ty};

/// The type of a registry type.
fn dist_type(t: DistType) -> Ty {
    match t {
        DistType::Real => Ty::Real,
        DistType::Int => Ty::Int,
        DistType::Bool => Ty::Bool,
        DistType::RealArray => Ty::array(Ty::Real),
        DistType::RealMatrix => Ty::array(Ty::array(Ty::Real)),
    }
}

/// A distribution constructor's type, from its registry entry: its
/// parameters' types to `Dist<value type>`.
fn dist_constructor(kind: DistKind) -> Ty {
    let f = kind.family();
    Ty::func(
        f.params.iter().map(|p| dist_type(p.ty)).collect(),
        Ty::dist(dist_type(f.value)),
    )
}

const REAL_TO_REAL: &[&str] = &[
    "exp", "log", "sqrt", "floor", "ceil", "sigmoid", "logit", "lgamma", "log1p", "expm1", "sin",
    "cos", "tan", "atan", "tanh",
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
    // The distributions: the registry's (`tyche_dist::family`).
    v.extend(DistKind::ALL.iter().map(|k| k.name()));
    v.extend_from_slice(&[
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
    if let Some(kind) = DistKind::from_name(name) {
        return Some(dist_constructor(kind));
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

    /// Every distribution of the registry is a builtin, typed as its
    /// entry says (a distribution missing from the checker fails here).
    #[test]
    fn every_registry_distribution_is_typed_from_its_entry() {
        let names = builtin_names();
        let mut s = Subst::default();
        for kind in DistKind::ALL {
            assert!(names.contains(&kind.name()), "{kind} is not a builtin");
            let t = builtin_type(&mut s, kind.name()).expect("a type");
            assert_eq!(t, dist_constructor(kind), "{kind}");
        }
        // Spot checks of the derivation.
        let mut s = Subst::default();
        assert_eq!(
            builtin_type(&mut s, "Binomial"),
            Some(Ty::func(vec![Ty::Int, Ty::Real], Ty::dist(Ty::Int)))
        );
        assert_eq!(
            builtin_type(&mut s, "MvNormal"),
            Some(Ty::func(
                vec![Ty::array(Ty::Real), Ty::array(Ty::array(Ty::Real))],
                Ty::dist(Ty::array(Ty::Real))
            ))
        );
        assert_eq!(
            builtin_type(&mut s, "BernoulliLogit"),
            Some(Ty::func(vec![Ty::Real], Ty::dist(Ty::Bool)))
        );
    }
}
