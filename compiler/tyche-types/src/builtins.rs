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
/// See `builtin_type`.
const LEGACY_GENERIC_DISTS: &[&str] = &[
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
];
/// The linear-algebra built-ins (`tyche_vm::linalg`): a vector is a
/// `[Real]`, a matrix a rectangular `[[Real]]` (docs/language.md).
const LINALG: &[&str] = &[
    "vec_add",
    "vec_sub",
    "vec_mul",
    "vec_scale",
    "mat_add",
    "mat_sub",
    "mat_scale",
    "add_diag",
    "mat_vec",
    "mat_mul",
    "transpose",
    "cholesky",
    "solve_lower",
    "log_determinant",
    "diag",
    "diagonal",
    "col",
    "cov_exp_quad",
];
const METHODS: &[&str] = &["Rejection", "Importance", "Smc", "Mh", "Hmc", "Nuts"];

/// One line on each builtin that is not a distribution (distributions are
/// described by their registry entries, `tyche_dist::family`), for the
/// reference (`docs/reference.md`) and the REPL.
const BUILTIN_DOCS: &[(&str, &str)] = &[
    ("len", "the number of elements of an array"),
    (
        "sum",
        "the sum of an array's elements (0 for an empty array)",
    ),
    (
        "product",
        "the product of an array's elements (1 for an empty array)",
    ),
    ("min", "the smaller of two numbers"),
    ("max", "the larger of two numbers"),
    ("abs", "the absolute value"),
    ("real", "an `Int` as a `Real`"),
    (
        "int",
        "a `Real` truncated toward zero (an error if it does not fit)",
    ),
    ("pow", "`x` to the power `y`"),
    ("log_sum_exp", "`log(sum(map(xs, exp)))` without overflow"),
    ("range", "the integers `lo, …, hi − 1`"),
    ("print", "prints a value (a side effect for debugging)"),
    ("map", "applies a function to every element"),
    ("filter", "the elements for which a predicate holds"),
    (
        "fold",
        "`fold(xs, init, |acc, x| …)`: the final state of a left fold",
    ),
    (
        "scan",
        "`scan(xs, init, |acc, x| …)`: every intermediate state of a left fold",
    ),
    (
        "zip",
        "pairs of corresponding elements (as long as the shorter array)",
    ),
    ("concat", "two arrays one after the other"),
    ("reverse", "an array in reverse order"),
    (
        "repeat",
        "`repeat(n, || e)`: `n` evaluations of `e` (choices in it get addresses `name[0]`, …)",
    ),
    ("exp", "the exponential"),
    ("log", "the natural logarithm"),
    ("sqrt", "the square root"),
    ("floor", "the largest integer-valued real not above `x`"),
    ("ceil", "the smallest integer-valued real not below `x`"),
    ("sigmoid", "the logistic function `1 / (1 + exp(−x))`"),
    ("logit", "the inverse of `sigmoid`: `log(p / (1 − p))`"),
    ("lgamma", "the logarithm of the gamma function"),
    ("log1p", "`log(1 + x)`, accurate for small `x`"),
    ("expm1", "`exp(x) − 1`, accurate for small `x`"),
    ("sin", "the sine"),
    ("cos", "the cosine"),
    ("tan", "the tangent"),
    ("atan", "the arctangent"),
    ("tanh", "the hyperbolic tangent"),
    ("vec_add", "`vec_add(x, y)`: the element-wise sum of two vectors"),
    ("vec_sub", "`vec_sub(x, y)`: the element-wise difference of two vectors"),
    ("vec_mul", "`vec_mul(x, y)`: the element-wise product of two vectors"),
    ("vec_scale", "`vec_scale(c, x)`: the vector `x` times the number `c`"),
    ("mat_add", "`mat_add(A, B)`: the sum of two matrices of one shape"),
    ("mat_sub", "`mat_sub(A, B)`: the difference of two matrices of one shape"),
    ("mat_scale", "`mat_scale(c, A)`: the matrix `A` times the number `c`"),
    ("add_diag", "`add_diag(A, c)`: the square matrix `A` with `c` added to its diagonal"),
    ("mat_vec", "`mat_vec(A, x)`: the matrix–vector product `A x`"),
    ("mat_mul", "`mat_mul(A, B)`: the matrix product `A B`"),
    ("transpose", "the transpose of a matrix"),
    (
        "cholesky",
        "the lower Cholesky factor `L` of a symmetric positive-definite matrix (`L Lᵀ = A`; reads the lower triangle; a runtime error if not positive definite)",
    ),
    (
        "solve_lower",
        "`solve_lower(L, b)`: `x` with `L x = b` for a lower-triangular `L` (forward substitution)",
    ),
    ("log_determinant", "`log |det A|` of a square matrix"),
    ("diag", "the diagonal matrix with a vector on its diagonal"),
    ("diagonal", "the diagonal of a square matrix, as a vector"),
    ("col", "`col(A, j)`: column `j` of a matrix (row `i` is `A[i]`)"),
    (
        "cov_exp_quad",
        "`cov_exp_quad(x, alpha, rho)`: the squared-exponential covariance matrix `alpha² exp(−(x[i] − x[j])² / (2 rho²))` (Stan's `gp_exp_quad_cov`)",
    ),
    (
        "sample",
        "`sample(d)` draws from `d`; `sample(\"name\", d)` names the choice",
    ),
    (
        "observe",
        "`observe(d, v)`: conditions on `v` having been drawn from `d` (weights by its density)",
    ),
    ("factor", "adds a term to the log weight of the run"),
    ("condition", "rejects the run unless the condition holds"),
    (
        "log_prob",
        "the log density (or log mass) of a value under a distribution",
    ),
    (
        "prob",
        "the probability of a value under a discrete distribution or posterior",
    ),
    ("mean", "the mean of a distribution or posterior"),
    (
        "log_evidence",
        "the log marginal likelihood a posterior's method estimated",
    ),
    ("samples", "the draws of a posterior"),
    (
        "infer",
        "`infer(method, model)`: the posterior of a zero-argument model, a distribution",
    ),
    (
        "Enumerate",
        "exact inference by enumerating every finite discrete choice",
    ),
    (
        "Rejection",
        "`Rejection(n)`: rejection sampling, `n` accepted runs",
    ),
    (
        "Importance",
        "`Importance(n)`: likelihood weighting with `n` runs",
    ),
    (
        "Smc",
        "`Smc(n)`: a particle filter with `n` particles, resampling after observations",
    ),
    (
        "Mh",
        "`Mh(n)`: single-site Metropolis–Hastings, `n` kept samples",
    ),
    (
        "Hmc",
        "`Hmc(n)`: Hamiltonian Monte Carlo, `n` kept samples per chain (continuous choices)",
    ),
    (
        "Nuts",
        "`Nuts(n)`: the No-U-Turn sampler, `n` kept samples per chain (continuous choices)",
    ),
];

/// One line on a builtin that is not a distribution.
pub fn builtin_doc(name: &str) -> Option<&'static str> {
    BUILTIN_DOCS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

/// A builtin's type as messages write it (`(Real, Real) -> Real`, `('a)
/// -> Int`).
pub fn builtin_signature(name: &str) -> Option<String> {
    let mut s = Subst::default();
    let t = builtin_type(&mut s, name)?;
    Some(crate::ty::Namer::new(&s).show(&t))
}

/// Whether `name` is one of the inference methods' constructors.
pub fn is_method(name: &str) -> bool {
    name == "Enumerate" || METHODS.contains(&name)
}

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
    v.extend_from_slice(LINALG);
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
        // Before the registry these ten constructors were typed below the
        // three generic variables every later builtin allocates; keep
        // allocating them, so that the numbering of type variables (which
        // `:ir` and messages show) is what it was.
        if LEGACY_GENERIC_DISTS.contains(&name) {
            s.generic(Kind::Any);
            s.generic(Kind::Any);
            s.generic(Kind::Num);
        }
        return Some(dist_constructor(kind));
    }
    if METHODS.contains(&name) {
        return Some(f(vec![Int], Method));
    }
    if LINALG.contains(&name) {
        let vector = || arr(Real);
        let matrix = || arr(arr(Real));
        return Some(match name {
            "vec_add" | "vec_sub" | "vec_mul" => f(vec![vector(), vector()], vector()),
            "vec_scale" => f(vec![Real, vector()], vector()),
            "mat_add" | "mat_sub" | "mat_mul" => f(vec![matrix(), matrix()], matrix()),
            "mat_scale" => f(vec![Real, matrix()], matrix()),
            "add_diag" => f(vec![matrix(), Real], matrix()),
            "mat_vec" => f(vec![matrix(), vector()], vector()),
            "transpose" | "cholesky" => f(vec![matrix()], matrix()),
            "solve_lower" => f(vec![matrix(), vector()], vector()),
            "log_determinant" => f(vec![matrix()], Real),
            "diag" => f(vec![vector()], matrix()),
            "diagonal" => f(vec![matrix()], vector()),
            "col" => f(vec![matrix(), Int], vector()),
            "cov_exp_quad" => f(vec![vector(), Real, Real], matrix()),
            _ => unreachable!("every LINALG name is typed"),
        });
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

    /// Every builtin that is not a distribution is described.
    #[test]
    fn every_builtin_is_described() {
        for n in builtin_names() {
            if DistKind::from_name(n).is_none() {
                assert!(builtin_doc(n).is_some(), "{n} has no description");
            }
        }
        assert_eq!(builtin_signature("len").as_deref(), Some("(['a]) -> Int"));
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
