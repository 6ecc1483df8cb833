//! Well-typed programs: what the checker infers for each rule.

mod common;
use common::{check, is_int_literal, ok};
use tyche_syntax::ast::ExprKind;

#[test]
fn literals_and_unit() {
    let c = ok(r#"fn f() { (1, 2.5, true, "s", ()) }"#);
    assert_eq!(c.item("f"), "() -> (Int, Real, Bool, String, ())");
}

#[test]
fn integer_literal_is_real_where_real_is_expected() {
    let c = ok("fn m() { Normal(0, 1) }\nfn n() -> Real { 2 * 3 }");
    assert_eq!(c.item("m"), "() -> Dist<Real>");
    assert_eq!(c.types_of(is_int_literal), ["Real", "Real", "Real", "Real"]);
}

#[test]
fn integer_literal_defaults_to_int() {
    let c = ok("let n = 10;\nfn f() { let i = 3; print(7); i }\nfn three() { 1 + 2 }");
    assert_eq!(c.item("n"), "Int");
    assert_eq!(c.item("f"), "() -> Int");
    assert_eq!(c.item("three"), "() -> Int");
    assert_eq!(
        c.types_of(is_int_literal),
        ["Int", "Int", "Int", "Int", "Int"]
    );
}

#[test]
fn let_polymorphism_top_level() {
    let c = ok("fn id(x) { x }\nfn main() { (id(1), id(true), id([2.5])) }");
    assert_eq!(c.item("id"), "('a) -> 'a");
    assert_eq!(c.item("main"), "() -> (Int, Bool, [Real])");
}

#[test]
fn let_polymorphism_local_and_lambda_constants() {
    let c = ok("let twice = |f, x| f(f(x));\nfn main() { let id = |x| x; (id(1), id(true), twice(|b| !b, false)) }");
    assert_eq!(c.item("twice"), "(('a) -> 'a, 'a) -> 'a");
    assert_eq!(c.item("main"), "() -> (Int, Bool, Bool)");
}

#[test]
fn mutual_recursion_in_any_order() {
    let c = ok("fn main() { is_even(10) }
fn is_even(n) { if n == 0 { true } else { is_odd(n - 1) } }
fn is_odd(n) { if n == 0 { false } else { is_even(n - 1) } }");
    assert_eq!(c.item("is_even"), "('a) -> Bool where 'a: Num");
    assert_eq!(c.item("is_odd"), "('a) -> Bool where 'a: Num");
    assert_eq!(c.item("main"), "() -> Bool");
}

#[test]
fn numeric_polymorphism() {
    let c = ok("fn add(a, b) { a + b }
fn inc(x) { x + 1 }
fn main() { (add(1, 2), add(1.5, 2.0), inc(2), inc(0.5), add(1, 2.5)) }");
    assert_eq!(c.item("add"), "('a, 'a) -> 'a where 'a: Num");
    assert_eq!(c.item("inc"), "('a) -> 'a where 'a: Num");
    assert_eq!(c.item("main"), "() -> (Int, Real, Int, Real, Real)");
}

#[test]
fn numeric_builtins() {
    let c = ok("fn f(xs: [Real], ns: [Int]) { (sum(xs), sum(ns), product([1, 2]), min(1, 2.5), max(3, 4), abs(-2), abs(-2.5)) }");
    assert_eq!(
        c.item("f"),
        "([Real], [Int]) -> (Real, Int, Int, Real, Int, Int, Real)"
    );
}

#[test]
fn arithmetic_comparison_and_logic() {
    let c = ok(
        "fn f(x: Real, n: Int) { (x ^ 2, n % 3, n / 2, x < 1, -x, !(n >= 2) || x == 0.5 && true) }",
    );
    assert_eq!(
        c.item("f"),
        "(Real, Int) -> (Real, Int, Int, Bool, Real, Bool)"
    );
}

#[test]
fn annotations_are_used() {
    let c = ok("fn f(x: Real) -> Real { x * 2 }
fn g(h: (Int) -> Bool, xs: [(Int, String)]) -> Dist<Bool> { Bernoulli(0.5) }
fn k(m: Method) { () }
let r: Real = 1;
data ys: [Real];
data n: Int = 3;");
    assert_eq!(c.item("f"), "(Real) -> Real");
    assert_eq!(
        c.item("g"),
        "((Int) -> Bool, [(Int, String)]) -> Dist<Bool>"
    );
    assert_eq!(c.item("k"), "(Method) -> ()");
    assert_eq!(c.item("r"), "Real");
    assert_eq!(c.item("ys"), "[Real]");
    assert_eq!(c.item("n"), "Int");
}

#[test]
fn constants_in_any_order() {
    let c = ok("let b = a + 1;\nlet a = 2;\nlet c = f(b);\nfn f(x) { x * 2 }");
    assert_eq!(c.item("b"), "Int");
    assert_eq!(c.item("c"), "Int");
}

#[test]
fn coin_example_from_the_language_page() {
    let c = ok("let flips = [true, true, false, true, true, true];

fn model() -> Real {
    let p ~ Beta(1.0, 1.0);
    for f in flips {
        observe(Bernoulli(p), f);
    }
    p
}");
    assert_eq!(c.item("model"), "() -> Real");
    assert_eq!(c.choice("p"), "Real");
}

#[test]
fn state_space_example_from_the_language_page() {
    let c = ok("data ys: [Real];

fn model() -> Real {
    fold(ys, 0.0, |x_prev, y| {
        let x ~ Normal(0.9 * x_prev, 1.0);
        observe(Normal(x, 0.5), y);
        x
    })
}");
    assert_eq!(c.choice("x"), "Real");
}

#[test]
fn blocks_if_for_and_ranges() {
    let c = ok("fn f(c: Bool) {
    let total = 0;
    for i in 0..10 { print(i); }
    for x in [1.5, 2.5] { if x > 2 { print(x) } }
    if c { 1 } else if !c { 2 } else { 3 }
}
fn g() { }
fn h() { let r = range(0, 3); r }");
    assert_eq!(c.item("f"), "(Bool) -> Int");
    assert_eq!(c.item("g"), "() -> ()");
    assert_eq!(c.item("h"), "() -> [Int]");
}

#[test]
fn tuples_fields_and_destructuring() {
    let c = ok(
        "fn f() { let t = (1, true, 2.5); let (a, b, r) = t; (t.1, t.2 + r, a) }
fn g(xs: [Real], ys: [Bool]) { map(zip(xs, ys), |p| p.0) }
fn swap(p: (Int, Bool)) { (p.1, p.0) }",
    );
    assert_eq!(c.item("f"), "() -> (Bool, Real, Int)");
    assert_eq!(c.item("g"), "([Real], [Bool]) -> [Real]");
    assert_eq!(c.item("swap"), "((Int, Bool)) -> (Bool, Int)");
}

#[test]
fn higher_order_builtins() {
    let c = ok("fn f(xs: [Int]) {
    let ys = map(xs, |x| real(x) * 0.5);
    let evens = filter(xs, |x| x % 2 == 0);
    let total = fold(ys, 0.0, |acc, y| acc + y);
    let running = scan(xs, 0, |acc, x| acc + x);
    let draws = repeat(3, || sample(Normal(0, 1)));
    (ys, evens, total, running, draws, len(xs))
}");
    assert_eq!(
        c.item("f"),
        "([Int]) -> ([Real], [Int], Real, [Int], [Real], Int)"
    );
}

#[test]
fn arrays_and_indexing() {
    let c = ok("fn f() { let e = []; let xs = [1, 2]; let m = [[1.5], []]; (xs[0], m[0][1], len(e), e == [true]) }");
    assert_eq!(c.item("f"), "() -> (Int, Real, Int, Bool)");
    let c = ok("let empty = [];\nfn g() { (len(empty), [1] == empty, [true] == empty) }");
    assert_eq!(c.item("empty"), "['a]");
}

#[test]
fn polymorphic_equality() {
    let c = ok("fn eq(a, b) { a == b }\nfn main() { (eq(1, 2), eq([true], [false]), eq((1.5, \"x\"), (2.5, \"y\"))) }");
    assert_eq!(c.item("eq"), "('a, 'a) -> Bool");
}

#[test]
fn probabilistic_constructs() {
    let c = ok(r#"fn model() {
    let z ~ Categorical([0.2, 0.8]);
    let w = sample("w", Gamma(2, 1));
    let u = sample(Uniform(0, 1));
    observe(Poisson(w), 3);
    factor(-0.5);
    condition(u < 0.9);
    let lp = log_prob(Normal(0, 1), 0.5) + prob(Binomial(10, 0.5), 3);
    (z, w, u, lp)
}
fn main() {
    let d = infer(Smc(100), model);
    let e = infer(Enumerate, || sample(DiscreteUniform(1, 6)));
    let ms = [Rejection(10), Importance(10), Mh(10), Hmc(10), Enumerate];
    (sample(d), mean(e), log_evidence(d), samples(e), prob(infer(Enumerate, || sample(Bernoulli(0.5))), true))
}
fn dists() { (Exponential(1), StudentT(3, 0, 1), Geometric(0.5), Dirichlet([1, 1]), MvNormal([0, 0], [[1, 0], [0, 1]]), LogNormal(0, 1), InvGamma(1, 1), Cauchy(0, 1), Beta(1, 1)) }"#);
    assert_eq!(c.item("model"), "() -> (Int, Real, Real, Real)");
    assert_eq!(
        c.item("main"),
        "() -> ((Int, Real, Real, Real), Real, Real, [Int], Real)"
    );
    assert_eq!(
        c.item("dists"),
        "() -> (Dist<Real>, Dist<Real>, Dist<Int>, Dist<[Real]>, Dist<[Real]>, Dist<Real>, Dist<Real>, Dist<Real>, Dist<Real>)"
    );
    assert_eq!(c.choice("z"), "Int");
    assert_eq!(c.choice("w"), "Real");
    assert_eq!(c.info.choice_types.len(), 2);
}

/// A choice's type belongs to the model (issue 16): two models in one file
/// use `x` at `Bool` and at `Real`, and each surgery's values are typed by
/// the model it edits (so the literals given for the Gaussian `x` and `y`
/// are Reals, and `true` is right for the Boolean one).
#[test]
fn choice_types_are_per_model() {
    let c = ok("fn twin() -> Bool { let u ~ Bernoulli(0.2); let x ~ Bernoulli(0.5); x || u }
fn gauss() -> Real { let z ~ Normal(0, 1); let x ~ Normal(z, 1); let y ~ Normal(2 * x + 3 * z, 1); y }
fn main() {
    let a = counterfactual(condition(twin, x = true), x = false);
    let b = counterfactual(condition(gauss, x = 1, y = 5), x = 0);
    let c = do(|| { let x ~ Poisson(3.0); x }, x = 2);
    (a, b, c)
}");
    assert_eq!(c.item("main"), "() -> (() -> Bool, () -> Real, () -> Int)");
    let lits = c.types_of(|e| matches!(e.kind, ExprKind::Int(1 | 5 | 0 | 2)));
    // 0 and 1 in `Normal(0, 1)` twice, 2 in `2 * x`, then 1, 5, 0 of the
    // surgery and 2 of the Poisson choice.
    assert_eq!(&lits[lits.len() - 4..], ["Real", "Real", "Real", "Int"]);
}

#[test]
fn model_surgery() {
    let c = ok("fn model() { let rain ~ Bernoulli(0.3); let x ~ Normal(0, 1); let y ~ Normal(2 * x, 1); (rain, y) }
fn main() {
    let a = infer(Enumerate, condition(do(model, rain = true), x = 1));
    let b = counterfactual(model, x = 0, y[0] = 5, unknown = 3);
    (a, b)
}");
    assert_eq!(
        c.item("main"),
        "() -> (Dist<(Bool, Real)>, () -> (Bool, Real))"
    );
    // The literals given for `x` and `y[0]` are Reals: they are those choices' values.
    let lits = c.types_of(|e| matches!(e.kind, ExprKind::Int(1 | 5 | 0 | 3)));
    assert_eq!(lits.len(), 7);
    assert_eq!(&lits[3..], ["Real", "Real", "Real", "Int"]);
}

#[test]
fn builtins_can_be_shadowed() {
    let c = ok("fn len(x: Int) -> Int { x }
fn main() { let sum = 2.5; let sample = |n| n + 1; (len(3), sum * 2, sample(4)) }");
    assert_eq!(c.item("main"), "() -> (Int, Real, Int)");
}

#[test]
fn polymorphic_bodies_keep_their_variables() {
    let c = ok("fn add(a, b) { a + b }");
    let t = c.info.items["add"].clone();
    let tyche_ir::Type::Fn(ps, r) = t else {
        panic!()
    };
    let tyche_ir::Type::Var(v) = *r else { panic!() };
    assert_eq!(ps, vec![tyche_ir::Type::Var(v), tyche_ir::Type::Var(v)]);
    assert!(c.info.numeric_vars.contains(&v));
    // The body's `a + b` has the same variable.
    let body = c.types_of(|e| matches!(e.kind, ExprKind::Binary(..)));
    assert_eq!(body, ["'a where 'a: Num"]);
}

#[test]
fn every_expression_gets_a_type() {
    let c = ok(
        "fn f(xs: [Real]) { let t = (1, [xs]); for x in xs { if x > 0.0 { print(x) } } t.1[0] }",
    );
    assert!(c.info.expr_types.iter().all(|t| t.is_some()));
}

#[test]
fn deep_nesting_is_fine() {
    // As deep as the parser allows: a long left-nested chain and nested brackets.
    let mut src = String::from("fn f() { 1");
    for _ in 0..900 {
        src.push_str(" + 1");
    }
    src.push_str(" }\nfn g() { ");
    for _ in 0..120 {
        src.push_str("[(");
    }
    src.push_str("1.5");
    for _ in 0..120 {
        src.push_str(", true)]");
    }
    src.push_str("[0].0 }");
    let c = ok(&src);
    assert_eq!(c.item("f"), "() -> Int");
    assert!(c.item("g").starts_with("() -> [([("));

    // Deep unary chains and curried lambdas (deep types, too).
    let src = format!(
        "fn f() {{ {}1 }}\nfn g() {{ {}true }}\nfn h() {{ {}0.5 }}",
        "-".repeat(900),
        "!".repeat(900),
        "|x| ".repeat(450)
    );
    let c = check(&src);
    assert!(c.diags.is_empty(), "{}", c.rendered());
    assert_eq!(c.item("f"), "() -> Int");
    assert!(c.item("h").ends_with(") -> Real"));
}

#[test]
fn builtin_names_are_complete() {
    let names = tyche_types::builtin_names();
    for n in [
        "len",
        "map",
        "Normal",
        "MvNormal",
        "sample",
        "observe",
        "infer",
        "Enumerate",
        "Hmc",
        "tanh",
        "repeat",
    ] {
        assert!(names.contains(&n), "{n}");
    }
}

/// Records (issue 16): literals, field access, annotations in any field
/// order (fields are sorted), and polymorphism through them.
#[test]
fn records() {
    let c = ok("fn mk(a, b) { {tau: b, mu: a} }
fn get(r: {tau: Real, mu: Real}) -> Real { r.mu + r.tau }
fn main() { let r = mk(1.0, 2.0); (get(r), mk(true, 3).tau, {x: [1]}) }");
    assert_eq!(c.item("mk"), "('a, 'b) -> {mu: 'a, tau: 'b}");
    assert_eq!(c.item("get"), "({mu: Real, tau: Real}) -> Real");
    assert_eq!(c.item("main"), "() -> (Real, Int, {x: [Int]})");
}
