//! Parser tests: the LANGUAGE.md examples, precedence (via a compact
//! s-expression printer), spans, ids, error recovery, rendered messages,
//! and the depth limits.

use crate::ast::*;
use crate::{is_incomplete, parse_program, parse_repl, ReplInput, MAX_NESTING};
use tyche_core::{render, Diagnostic, FileId, SourceMap, Span};

// ---------------------------------------------------------------- helpers

fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Real(x) => format!("{x:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Unit => "()".into(),
        ExprKind::Var(v) => v.clone(),
        ExprKind::Block(stmts, tail) => {
            let mut parts: Vec<String> = stmts.iter().map(stmt).collect();
            if let Some(t) = tail {
                parts.push(format!("=> {}", sexpr(t)));
            }
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{{}}}", parts.join(" "))
            }
        }
        ExprKind::If(c, t, None) => format!("(if {} {})", sexpr(c), sexpr(t)),
        ExprKind::If(c, t, Some(e)) => format!("(if {} {} {})", sexpr(c), sexpr(t), sexpr(e)),
        ExprKind::For(x, it, b) => format!("(for {} {} {})", x.name, sexpr(it), sexpr(b)),
        ExprKind::Range(a, b) => format!("(.. {} {})", sexpr(a), sexpr(b)),
        ExprKind::Lambda(ps, b) => format!("(fn [{}] {})", params(ps), sexpr(b)),
        ExprKind::Call(f, args) => {
            let mut s = format!("(call {}", sexpr(f));
            for a in args {
                s.push(' ');
                s.push_str(&sexpr(a));
            }
            s + ")"
        }
        ExprKind::Array(es) => format!("[{}]", es.iter().map(sexpr).collect::<Vec<_>>().join(" ")),
        ExprKind::Tuple(es) => format!(
            "(tuple {})",
            es.iter().map(sexpr).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::Index(a, i) => format!("(index {} {})", sexpr(a), sexpr(i)),
        ExprKind::Field(a, i, _) => format!("(. {} {i})", sexpr(a)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sexpr(a), sexpr(b)),
        ExprKind::Unary(UnOp::Neg, a) => format!("(neg {})", sexpr(a)),
        ExprKind::Unary(UnOp::Not, a) => format!("(not {})", sexpr(a)),
        ExprKind::Surgery(k, m, args) => {
            let mut s = format!("({} {}", k.keyword(), sexpr(m));
            for a in args {
                match a.index {
                    Some((i, _)) => {
                        s.push_str(&format!(" {}[{i}]={}", a.name.name, sexpr(&a.value)))
                    }
                    None => s.push_str(&format!(" {}={}", a.name.name, sexpr(&a.value))),
                }
            }
            s + ")"
        }
        ExprKind::Record(fs) => format!(
            "{{{}}}",
            fs.iter()
                .map(|(n, e)| format!("{}: {}", n.name, sexpr(e)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ExprKind::Member(a, n) => format!("(. {} {})", sexpr(a), n.name),
        ExprKind::Error => "<error>".into(),
    }
}

fn params(ps: &[Param]) -> String {
    ps.iter()
        .map(|p| match &p.ty {
            Some(t) => format!("{}:{}", p.name.name, ty(t)),
            None => p.name.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn ty(t: &TypeExpr) -> String {
    match t {
        TypeExpr::Named(i) => i.name.clone(),
        TypeExpr::Unit(_) => "()".into(),
        TypeExpr::Array(t, _) => format!("[{}]", ty(t)),
        TypeExpr::Tuple(ts, _) => format!("({})", ts.iter().map(ty).collect::<Vec<_>>().join(", ")),
        TypeExpr::Fn(ps, r, _) => {
            format!(
                "(fn ({}) {})",
                ps.iter().map(ty).collect::<Vec<_>>().join(", "),
                ty(r)
            )
        }
        TypeExpr::Dist(t, _) => format!("Dist<{}>", ty(t)),
        TypeExpr::Record(fs, _) => format!(
            "{{{}}}",
            fs.iter()
                .map(|(n, t)| format!("{}: {}", n.name, ty(t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn stmt(s: &Stmt) -> String {
    match s {
        Stmt::Let {
            name,
            ty: Some(t),
            value,
            ..
        } => format!("(let {}:{} {});", name.name, ty(t), sexpr(value)),
        Stmt::Let {
            name,
            ty: None,
            value,
            ..
        } => format!("(let {} {});", name.name, sexpr(value)),
        Stmt::LetTuple { names, value, .. } => {
            let ns: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            format!("(let ({}) {});", ns.join(" "), sexpr(value))
        }
        Stmt::Sample {
            name,
            ty: Some(t),
            dist,
            ..
        } => format!("(~ {}:{} {});", name.name, ty(t), sexpr(dist)),
        Stmt::Sample {
            name,
            ty: None,
            dist,
            ..
        } => format!("(~ {} {});", name.name, sexpr(dist)),
        Stmt::Expr(e) => format!("{};", sexpr(e)),
    }
}

fn item(i: &Item) -> String {
    match i {
        Item::Let {
            name, ty: t, value, ..
        } => match t {
            Some(t) => format!("(let {}:{} {})", name.name, ty(t), sexpr(value)),
            None => format!("(let {} {})", name.name, sexpr(value)),
        },
        Item::Data {
            name,
            ty: t,
            default,
            ..
        } => match default {
            Some(d) => format!("(data {}:{} {})", name.name, ty(t), sexpr(d)),
            None => format!("(data {}:{})", name.name, ty(t)),
        },
        Item::Fn(f) => {
            let ret = f
                .ret
                .as_ref()
                .map(|t| format!(" -> {}", ty(t)))
                .unwrap_or_default();
            format!(
                "(fn {} [{}]{ret} {})",
                f.name.name,
                params(&f.params),
                sexpr(&f.body)
            )
        }
    }
}

const F: FileId = FileId(0);

/// Parses a file that must be free of diagnostics.
fn ok(src: &str) -> Program {
    let (p, diags) = parse_program(F, src, 0);
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {src:?}:\n{}",
        show(src, &diags)
    );
    p
}

fn items(src: &str) -> String {
    ok(src)
        .items
        .iter()
        .map(item)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The s-expression of `src` parsed as an expression (`let _ = src;`).
fn ex(src: &str) -> String {
    let p = ok(&format!("let it = {src};"));
    match &p.items[0] {
        Item::Let { value, .. } => sexpr(value),
        _ => unreachable!(),
    }
}

fn errs(src: &str) -> Vec<Diagnostic> {
    parse_program(F, src, 0).1
}

fn show(src: &str, diags: &[Diagnostic]) -> String {
    let mut map = SourceMap::new();
    map.add("test.ppl", src);
    diags.iter().map(|d| render(d, &map, false)).collect()
}

fn rendered(src: &str) -> String {
    show(src, &errs(src))
}

// ---------------------------------------------------------------- LANGUAGE.md examples

#[test]
fn coin_model() {
    let src = r#"
// coin.ppl — is this coin fair?
let flips = [true, true, false, true, true, true];

fn model() -> Real {
    let p ~ Beta(1.0, 1.0);          // a random choice, named "p"
    for f in flips {
        observe(Bernoulli(p), f);    // condition on data
    }
    p                                 // the query: the posterior of p
}
"#;
    assert_eq!(
        items(src),
        "(let flips [true true false true true true])\n\
         (fn model [] -> Real {(~ p (call Beta 1.0 1.0)); \
         (for f flips {(call observe (call Bernoulli p) f);}); => p})"
    );
}

#[test]
fn state_space_model() {
    let src = r#"
data ys: [Real];

fn model() -> Real {
    fold(ys, 0.0, |x_prev, y| {
        let x ~ Normal(0.9 * x_prev, 1.0);   // x[0], x[1], … x[T-1]
        observe(Normal(x, 0.5), y);
        x
    })
}
"#;
    assert_eq!(
        items(src),
        "(data ys:[Real])\n\
         (fn model [] -> Real {=> (call fold ys 0.0 (fn [x_prev y] {(~ x (call Normal (* 0.9 x_prev) 1.0)); \
         (call observe (call Normal x 0.5) y); => x}))})"
    );
}

#[test]
fn surgery_forms() {
    assert_eq!(
        ex("infer(Enumerate, condition(do(model, s = true), c = true))"),
        "(call infer Enumerate (condition (do model s=true) c=true))"
    );
    assert_eq!(
        ex("do(model, x = 1.0, z[3] = true)"),
        "(do model x=1.0 z[3]=true)"
    );
    assert_eq!(ex("condition(model, y = 2.0,)"), "(condition model y=2.0)");
    assert_eq!(ex("counterfactual(m, x = 0.0)"), "(counterfactual m x=0.0)");
    assert_eq!(ex("do(m)"), "(do m)");
    assert_eq!(ex("counterfactual(m)"), "(counterfactual m)");
    // One argument: the ordinary `condition` function.
    assert_eq!(ex("condition(x > 0.5)"), "(call condition (> x 0.5))");
    assert_eq!(
        ex("do(|| model(), x = -1)"),
        "(do (fn [] (call model)) x=-1)"
    );
}

#[test]
fn surgery_arg_spans() {
    let src = "let m = do(model, z[3] = true);";
    let p = ok(src);
    let Item::Let { value, .. } = &p.items[0] else {
        panic!()
    };
    let ExprKind::Surgery(SurgeryKind::Do, _, args) = &value.kind else {
        panic!()
    };
    let snip = |s: Span| &src[s.start as usize..s.end as usize];
    assert_eq!(snip(args[0].span), "z[3] = true");
    assert_eq!(snip(args[0].index.unwrap().1), "3");
    assert_eq!(snip(args[0].name.span), "z");
}

#[test]
fn items_and_types() {
    assert_eq!(
        items(
            "let a: Int = 1;\n\
             data xs: [(Int, Real)] = [];\n\
             data f: (Int, Bool) -> Dist<Real>;\n\
             data g: () -> ((Int)) ;\n\
             fn id(x, y: String) -> () { }\n\
             fn h(k: (Int) -> (Real) -> Bool, u: ()) { k }"
        ),
        "(let a:Int 1)\n\
         (data xs:[(Int, Real)] [])\n\
         (data f:(fn (Int, Bool) Dist<Real>))\n\
         (data g:(fn () Int))\n\
         (fn id [x y:String] -> () {})\n\
         (fn h [k:(fn (Int) (fn (Real) Bool)) u:()] {=> k})"
    );
    assert_eq!(
        items("data f: (Int, Real,) -> (Int, Bool,);"),
        "(data f:(fn (Int, Real) (Int, Bool)))"
    );
    assert_eq!(items("data f: (Int,) -> Int;"), "(data f:(fn (Int) Int))");
    let d = errs("fn model() -> (Int,) { (1,) }");
    let codes: Vec<_> = d.iter().map(|d| d.code.as_deref().unwrap()).collect();
    assert_eq!(codes, ["E0207", "E0207"]);
}

#[test]
fn statements() {
    assert_eq!(
        ex("{ let x: Real = 1; let (a, b) = t; let y: Bool ~ Bernoulli(0.5); f(x); }"),
        "{(let x:Real 1); (let (a b) t); (~ y:Bool (call Bernoulli 0.5)); (call f x);}"
    );
    assert_eq!(ex("{}"), "{}");
    assert_eq!(ex("{ ; ; 1 }"), "{=> 1}");
    // Block-like statements need no `;`; last without `;` is the value.
    assert_eq!(ex("{ if a { 1 } else { 2 } }"), "{=> (if a {=> 1} {=> 2})}");
    assert_eq!(ex("{ if a { 1 } else { 2 }; }"), "{(if a {=> 1} {=> 2});}");
    assert_eq!(
        ex("{ for i in 0..3 { f(i); } x }"),
        "{(for i (.. 0 3) {(call f i);}); => x}"
    );
    assert_eq!(ex("{ { 1 } - 1 }"), "{{=> 1}; => -1}");
    assert_eq!(ex("{ if c { a } (b) }"), "{(if c {=> a}); => b}");
    assert_eq!(ex("{ x }"), "{=> x}");
    assert_eq!(ex("{ x; }"), "{x;}");
}

#[test]
fn if_else_chains() {
    assert_eq!(
        ex("if a { 1 } else if b { 2 } else { 3 }"),
        "(if a {=> 1} (if b {=> 2} {=> 3}))"
    );
    assert_eq!(ex("if a == 1 { x }"), "(if (== a 1) {=> x})");
    assert_eq!(
        ex("1 + if a { 1 } else { 2 }"),
        "(+ 1 (if a {=> 1} {=> 2}))"
    );
}

// ---------------------------------------------------------------- precedence

#[test]
fn precedence() {
    let cases = [
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("a || b && c", "(|| a (&& b c))"),
        ("a && b || c && d", "(|| (&& a b) (&& c d))"),
        ("a == b && c != d", "(&& (== a b) (!= c d))"),
        ("a < b == c >= d", "(== (< a b) (>= c d))"),
        ("a + b < c * d", "(< (+ a b) (* c d))"),
        ("a * b % c / d", "(/ (% (* a b) c) d)"),
        ("-x^2", "(neg (^ x 2))"),
        ("-2^2", "(neg (^ 2 2))"),
        ("2^3^2", "(^ 2 (^ 3 2))"),
        ("2^-1", "(^ 2 -1)"),
        ("!a && b", "(&& (not a) b)"),
        ("- -x", "(neg (neg x))"),
        ("-1", "-1"),
        ("-1.5", "-1.5"),
        ("-(2)", "-2"),
        ("- - 1", "1"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("f(x)(y)", "(call (call f x) y)"),
        ("(g)(1)", "(call g 1)"),
        ("xs[i][j]", "(index (index xs i) j)"),
        ("f(x)[0].1", "(. (index (call f x) 0) 1)"),
        ("t.0.1", "(. (. t 0) 1)"),
        ("t.0.1.2", "(. (. (. t 0) 1) 2)"),
        ("t.1 + 1", "(+ (. t 1) 1)"),
        ("-f(x)^2", "(neg (^ (call f x) 2))"),
        ("0..n", "(.. 0 n)"),
        ("a + 1..b * 2", "(.. (+ a 1) (* b 2))"),
        ("|x, y| x + y", "(fn [x y] (+ x y))"),
        ("|x: Real| { x }", "(fn [x:Real] {=> x})"),
        ("|| 1 + 2", "(fn [] (+ 1 2))"),
        ("| | 1", "(fn [] 1)"),
        ("|f| |x| f(x)", "(fn [f] (fn [x] (call f x)))"),
        ("|x| x..y", "(fn [x] (.. x y))"),
        ("map(xs, |x| x * 2)", "(call map xs (fn [x] (* x 2)))"),
        ("[1, 2, 3,]", "[1 2 3]"),
        ("[]", "[]"),
        ("(1, 2.5, \"s\")", "(tuple 1 2.5 \"s\")"),
        ("(a, b,)", "(tuple a b)"),
        ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
        ("()", "()"),
        ("f()", "(call f)"),
        ("f(a, b,)", "(call f a b)"),
        ("a || b || c", "(|| (|| a b) c)"),
        ("a - -1", "(- a -1)"),
        ("a-1", "(- a 1)"),
        ("xs[-1]", "(index xs -1)"),
        ("-if c { 1 } else { 2 }", "(neg (if c {=> 1} {=> 2}))"),
        ("|x| if x { 1 } else { 2 }", "(fn [x] (if x {=> 1} {=> 2}))"),
        ("(|x| x)(1)", "(call (fn [x] x) 1)"),
        ("|x| x (1)", "(fn [x] (call x 1))"),
        ("!f(x) && g", "(&& (not (call f x)) g)"),
    ];
    for (src, want) in cases {
        assert_eq!(ex(src), want, "for {src}");
    }
}

#[test]
fn literals() {
    let cases = [
        ("0", "0"),
        ("42", "42"),
        ("1.0", "1.0"),
        ("0.5", "0.5"),
        ("2.5e-3", "0.0025"),
        ("1e6", "1000000.0"),
        ("1E+2", "100.0"),
        ("true", "true"),
        ("false", "false"),
        (r#""a\"b\\c\nd\te""#, r#""a\"b\\c\nd\te""#),
        ("\"héllo ∑\"", "\"héllo ∑\""),
        ("9223372036854775807", "9223372036854775807"),
        ("1..2", "(.. 1 2)"),
    ];
    for (src, want) in cases {
        assert_eq!(ex(src), want, "for {src}");
    }
}

#[test]
fn byte_order_mark_and_crlf() {
    assert_eq!(
        items("\u{feff}let x = 1;\r\nlet y = 2; // c\r\n"),
        "(let x 1)\n(let y 2)"
    );
}

#[test]
fn comments() {
    assert_eq!(
        items("/* a /* nested */ comment */ let x = 1; // tail\n// only\nlet y = /**/ 2;"),
        "(let x 1)\n(let y 2)"
    );
}

#[test]
fn non_associative_comparisons_and_ranges() {
    for src in [
        "let x = a < b < c;",
        "let x = a == b == c;",
        "let x = 0..1..2;",
    ] {
        let d = errs(src);
        assert_eq!(d.len(), 1, "{src}: {}", show(src, &d));
        assert_eq!(d[0].code.as_deref(), Some("E0201"));
    }
    let d = errs("let x = a < b < c;");
    assert!(
        d[0].notes.iter().any(|n| n.contains("cannot be chained")),
        "{:?}",
        d[0]
    );
}

// ---------------------------------------------------------------- spans and ids

#[test]
fn spans_cover_source_text() {
    let src = "fn f(a: Int) -> Int {\n  let y = g(a, 2) * -x[1];\n  if y > 0 { y } else { 0 }\n}";
    let p = ok(src);
    let snip = |s: Span| &src[s.start as usize..s.end as usize];
    let Item::Fn(f) = &p.items[0] else { panic!() };
    assert_eq!(snip(f.span), src);
    assert_eq!(snip(f.name.span), "f");
    assert_eq!(snip(f.params[0].ty.as_ref().unwrap().span()), "Int");
    assert_eq!(snip(f.body.span), &src[src.find('{').unwrap()..]);
    let ExprKind::Block(stmts, Some(tail)) = &f.body.kind else {
        panic!()
    };
    let Stmt::Let {
        value, span, name, ..
    } = &stmts[0]
    else {
        panic!()
    };
    assert_eq!(snip(*span), "let y = g(a, 2) * -x[1];");
    assert_eq!(snip(name.span), "y");
    assert_eq!(snip(value.span), "g(a, 2) * -x[1]");
    let ExprKind::Binary(BinOp::Mul, l, r) = &value.kind else {
        panic!()
    };
    assert_eq!(snip(l.span), "g(a, 2)");
    assert_eq!(snip(r.span), "-x[1]");
    let ExprKind::Unary(_, inner) = &r.kind else {
        panic!()
    };
    assert_eq!(snip(inner.span), "x[1]");
    assert_eq!(snip(tail.span), "if y > 0 { y } else { 0 }");
    let ExprKind::Call(callee, args) = &l.kind else {
        panic!()
    };
    assert_eq!(snip(callee.span), "g");
    assert_eq!(snip(args[1].span), "2");
    assert_eq!(p.items[0].span(), f.span);
}

#[test]
fn spans_of_fields_and_folded_literals() {
    let src = "let v = t.0.1 + -2.5;";
    let p = ok(src);
    let snip = |s: Span| &src[s.start as usize..s.end as usize];
    let Item::Let { value, span, .. } = &p.items[0] else {
        panic!()
    };
    assert_eq!(snip(*span), src);
    let ExprKind::Binary(_, l, r) = &value.kind else {
        panic!()
    };
    assert_eq!(snip(l.span), "t.0.1");
    let ExprKind::Field(inner, 1, fs) = &l.kind else {
        panic!()
    };
    assert_eq!(snip(*fs), "1");
    assert_eq!(snip(inner.span), "t.0");
    assert_eq!(snip(r.span), "-2.5");
    assert_eq!(r.kind, ExprKind::Real(-2.5));
}

/// Collects every expression id (recursively; test trees are small).
fn ids(e: &Expr, out: &mut Vec<u32>) {
    out.push(e.id.0);
    let mut kids: Vec<&Expr> = Vec::new();
    match &e.kind {
        ExprKind::Block(stmts, tail) => {
            for s in stmts {
                kids.push(match s {
                    Stmt::Let { value, .. } | Stmt::LetTuple { value, .. } => value,
                    Stmt::Sample { dist, .. } => dist,
                    Stmt::Expr(e) => e,
                });
            }
            kids.extend(tail.as_deref());
        }
        ExprKind::If(c, t, e) => {
            kids.extend([&**c, &**t]);
            kids.extend(e.as_deref());
        }
        ExprKind::For(_, a, b)
        | ExprKind::Range(a, b)
        | ExprKind::Index(a, b)
        | ExprKind::Binary(_, a, b) => kids.extend([&**a, &**b]),
        ExprKind::Lambda(_, b) | ExprKind::Field(b, _, _) | ExprKind::Unary(_, b) => kids.push(b),
        ExprKind::Call(f, a) => {
            kids.push(f);
            kids.extend(a.iter());
        }
        ExprKind::Array(es) | ExprKind::Tuple(es) => kids.extend(es.iter()),
        ExprKind::Surgery(_, m, a) => {
            kids.push(m);
            kids.extend(a.iter().map(|a| &a.value));
        }
        _ => {}
    }
    for k in kids {
        ids(k, out);
    }
}

fn program_ids(p: &Program) -> Vec<u32> {
    let mut out = Vec::new();
    for i in &p.items {
        match i {
            Item::Let { value, .. } => ids(value, &mut out),
            Item::Data {
                default: Some(d), ..
            } => ids(d, &mut out),
            Item::Data { .. } => {}
            Item::Fn(f) => ids(&f.body, &mut out),
        }
    }
    out
}

#[test]
fn expr_ids_are_dense_and_offset() {
    let src = "let a = 1 + 2; data d: Int = 3; fn f(x) { let y ~ N(x); do(m, z = y) }";
    let (p, d) = parse_program(F, src, 0);
    assert!(d.is_empty());
    let v = program_ids(&p);
    assert_eq!(
        v,
        (0..v.len() as u32).collect::<Vec<_>>(),
        "pre-order, dense"
    );
    assert_eq!(p.expr_count, v.len() as u32);

    let (q, _) = parse_program(FileId(1), src, p.expr_count);
    let w = program_ids(&q);
    assert_eq!(
        w,
        (p.expr_count..p.expr_count + v.len() as u32).collect::<Vec<_>>()
    );
    assert_eq!(q.expr_count, 2 * p.expr_count);
}

#[test]
fn ids_stay_dense_after_recovery() {
    let src = "let a = (1 + ) * 2;\nfn f() { let x = 1 2; g(@) }\nlet b = [1, 2";
    let (p, d) = parse_program(F, src, 7);
    assert!(d.len() >= 3, "{}", show(src, &d));
    let v = program_ids(&p);
    assert_eq!(v, (7..7 + v.len() as u32).collect::<Vec<_>>());
    assert_eq!(p.expr_count, 7 + v.len() as u32);
}

// ---------------------------------------------------------------- errors and recovery

#[test]
fn recovery_reports_several_errors() {
    let src = "fn a() { let x = ; x }\nfn b() { foo(1 2) }\nlet c = 3\nlet d = 4;\nfn e() { 1 }";
    let (p, d) = parse_program(F, src, 0);
    assert!(d.len() >= 3, "{}", show(src, &d));
    let names: Vec<&str> = p.items.iter().map(|i| i.name().name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"], "{}", show(src, &d));
    assert!(d.iter().all(|d| d.code.as_deref() == Some("E0201")));
    assert_eq!(item(&p.items[0]), "(fn a [] {(let x <error>); => x})");
}

#[test]
fn recovery_at_statements_and_blocks() {
    let src = "fn f() {\n  let = 5;\n  g(1);\n  h(2\n}\nfn k() { 1 }";
    let (p, d) = parse_program(F, src, 0);
    assert!(d.len() >= 2, "{}", show(src, &d));
    let names: Vec<&str> = p.items.iter().map(|i| i.name().name.as_str()).collect();
    assert_eq!(names, ["f", "k"], "{}", show(src, &d));
    let s = item(&p.items[0]);
    assert!(s.contains("(call g 1)"), "{s}");
}

#[test]
fn garbage_at_top_level_recovers_at_next_item() {
    let src = "x = 1;\nfn model() { 1 }\n)))\nlet y = 2;";
    let (p, d) = parse_program(F, src, 0);
    let names: Vec<&str> = p.items.iter().map(|i| i.name().name.as_str()).collect();
    assert_eq!(names, ["model", "y"]);
    assert_eq!(d.len(), 2, "{}", show(src, &d));
    assert!(d[0].notes.iter().any(|n| n.contains("fn model()")));
}

#[test]
fn nested_fn_and_bad_params_recover() {
    let src = "fn model() { fn inner(x) { x } 2 }\nfn f(a b) { 1 }\nfn g() { 3 }";
    let (p, d) = parse_program(F, src, 0);
    assert_eq!(
        p.items.iter().map(item).collect::<Vec<_>>(),
        [
            "(fn model [] {=> 2})",
            "(fn f [] {=> 1})",
            "(fn g [] {=> 3})"
        ],
        "{}",
        show(src, &d)
    );
    let codes: Vec<_> = d.iter().map(|d| d.code.as_deref().unwrap()).collect();
    assert_eq!(codes, ["E0210", "E0201"]);
}

#[test]
fn unknown_character_runs_are_one_error() {
    let d = errs("let x = a @#$ b;\nlet y = ``;");
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        ["unknown characters `@#$`", "unknown characters ````"]
    );
    let junk: String = "@ ".repeat(1000);
    let d = errs(&junk);
    assert_eq!(d.len(), 51);
    assert_eq!(d[50].code.as_deref(), Some("E0108"));
}

#[test]
fn lexical_errors() {
    let d = errs("let x = 1 @ 2;");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].message, "unknown character `@`");
    assert_eq!(d[0].code.as_deref(), Some("E0101"));

    // The parser does not echo a lexical error in the same statement.
    let d = errs("fn f() {\n    let x = 3 @ 4;\n    true & false\n}");
    let codes: Vec<_> = d.iter().map(|d| d.code.as_deref().unwrap()).collect();
    assert_eq!(codes, ["E0101", "E0101"]);
    assert!(d[1].notes.iter().any(|n| n.contains("`&&`")));

    let d = errs("let s = \"abc\\q\";");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "unknown escape `\\q` in string");

    let d = errs("let n = 99999999999999999999;");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code.as_deref(), Some("E0105"));
    let d = errs("let n = 9223372036854775808;");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code.as_deref(), Some("E0105"));
    assert!(errs("let n = -9223372036854775808;").is_empty());
    let d = errs("let n = -9223372036854775809;");
    assert_eq!(d.len(), 1);

    let d = errs("let x = 1; /* never /* closed */");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code.as_deref(), Some("E0103"));

    let d = errs("let s = \"open");
    assert!(
        d.iter().any(|d| d.code.as_deref() == Some("E0102")),
        "{d:?}"
    );

    let d = errs("let x = 1e999;");
    assert_eq!(d[0].code.as_deref(), Some("E0106"));

    let d = errs("let x = t.99999999999;");
    assert_eq!(d[0].code.as_deref(), Some("E0205"));
}

#[test]
fn odd_inputs_do_not_panic() {
    let inputs = [
        "",
        "\0",
        "let \0 = 1;",
        "é",
        "let é = 1;",
        "\"",
        "\"\\",
        "\"\\é\"",
        "/*",
        "*/",
        "fn",
        "fn f(",
        "fn f() -> ",
        "let x = |",
        "let x = ||",
        "do(",
        "condition()",
        "let x = t.1e5;",
        "let x = 1.;",
        "let x = .5;",
        "}}}}",
        "{{{{",
        "let x: Dist<Real>= 1;",
        "data x: Foo<Int>;",
        "let (a) = 1;",
        "((((((((((",
        "let x = (1,);",
        "\u{feff}let x = 1;",
        "let x = 1 @@@@@ 2;",
        "let x = [1 2 3 4 5 6 7 8 9];",
    ];
    for src in inputs {
        let _ = parse_program(F, src, 0);
        let _ = parse_repl(F, src, 0);
        // Rendering must not panic either.
        let _ = show(src, &errs(src));
    }
}

#[test]
fn many_errors_are_capped() {
    let src = "fn f() {".to_string() + &"let = ;\n".repeat(500) + "}";
    let d = errs(&src);
    assert!(d.len() <= 60, "{}", d.len());
    assert!(d.iter().any(|d| d.code.as_deref() == Some("E0209")));
}

#[test]
fn rendered_diagnostics() {
    assert_eq!(
        rendered("fn model() {\n    foo(1, 2;\n}\n"),
        "error[E0201]: expected one of `)`, `,`, found `;`\n\
         \x20 ┌─ test.ppl:2:13\n\
         \x20 │\n\
         2 │     foo(1, 2;\n\
         \x20 │             ^ expected one of `)`, `,`\n\n"
    );
    assert_eq!(
        rendered("fn model() {\n    let x = 1\n    x\n}\n"),
        "error[E0201]: expected `;`, found identifier `x`\n\
         \x20 ┌─ test.ppl:3:5\n\
         \x20 │\n\
         2 │     let x = 1\n\
         \x20 │             - expected `;` after this\n\
         3 │     x\n\
         \x20 │     ^ unexpected token\n\
         \x20 │\n\
         \x20 = help: add `;` at the end of the previous statement\n\n"
    );
    assert_eq!(
        rendered("let z = 1 @ 2;"),
        "error[E0101]: unknown character `@`\n\
         \x20 ┌─ test.ppl:1:11\n\
         \x20 │\n\
         1 │ let z = 1 @ 2;\n\
         \x20 │           ^ not part of any token\n\n"
    );
    assert_eq!(
        rendered("fn model() {\n    if x = 1 { 2 } else { 3 }\n}"),
        "error[E0201]: expected one of `(`, `.`, `..`, `[`, `{`, an operator, found `=`\n\
         \x20 ┌─ test.ppl:2:10\n\
         \x20 │\n\
         2 │     if x = 1 { 2 } else { 3 }\n\
         \x20 │          ^ unexpected token\n\
         \x20 │\n\
         \x20 = help: to compare two values, use `==`\n\n"
    );
    assert_eq!(
        rendered("fn model() {\n    f(1"),
        "error[E0202]: unexpected end of file\n\
         \x20 ┌─ test.ppl:2:8\n\
         \x20 │\n\
         2 │     f(1\n\
         \x20 │      - ^ expected one of `)`, `,`\n\
         \x20 │      │\x20\n\
         \x20 │      unclosed delimiter; expected a matching `)`\n\n"
    );
}

// ---------------------------------------------------------------- REPL

#[test]
fn repl_lines() {
    let (r, next, d) = parse_repl(F, "1 + 2", 10);
    assert!(d.is_empty());
    let Some(ReplInput::Expr(e)) = r else {
        panic!()
    };
    assert_eq!(sexpr(&e), "(+ 1 2)");
    assert_eq!(next, 13);

    let (r, _, d) = parse_repl(F, "f(x);", 0);
    assert!(d.is_empty());
    assert!(matches!(r, Some(ReplInput::Expr(_))));

    let (r, next, d) = parse_repl(F, "fn f(x) { x } let y = f(2);", 0);
    assert!(d.is_empty());
    let Some(ReplInput::Items(is)) = r else {
        panic!()
    };
    assert_eq!(
        is.iter().map(item).collect::<Vec<_>>(),
        ["(fn f [x] {=> x})", "(let y (call f 2))"]
    );
    assert_eq!(next, 5);

    let (r, _, d) = parse_repl(F, "let p ~ Beta(1, 1);", 0);
    assert!(d.is_empty());
    let Some(ReplInput::Items(is)) = r else {
        panic!()
    };
    assert_eq!(item(&is[0]), "(let p (call sample \"p\" (call Beta 1 1)))");

    let (r, _, d) = parse_repl(F, "let (a, b) = (1, 2);", 0);
    assert!(d.is_empty());
    let Some(ReplInput::Items(is)) = r else {
        panic!()
    };
    assert_eq!(
        is.iter().map(item).collect::<Vec<_>>(),
        [
            "(let $tuple0_0 (tuple 1 2))",
            "(let a (. $tuple0_0 0))",
            "(let b (. $tuple0_0 1))"
        ]
    );

    let (r, next, d) = parse_repl(F, "  // nothing\n", 5);
    assert!(r.is_none() && d.is_empty() && next == 5);

    let (r, next, d) = parse_repl(F, "if x { 1 } else { 2 }", 0);
    assert!(d.is_empty() && next == 6);
    assert!(matches!(r, Some(ReplInput::Expr(_))));
}

#[test]
fn repl_final_semicolon_is_optional() {
    let src = "let x = 1 + 2";
    let (r, next, d) = parse_repl(F, src, 0);
    assert!(d.is_empty(), "{d:?}");
    let Some(ReplInput::Items(is)) = r else {
        panic!()
    };
    assert_eq!(item(&is[0]), "(let x (+ 1 2))");
    assert_eq!(is[0].span(), Span::new(F, 0, src.len()));
    assert_eq!(next, 3);
    let (r, _, d) = parse_repl(F, "let p ~ Beta(1, 1)", 0);
    assert!(d.is_empty() && r.is_some(), "{d:?}");
    // Not in files.
    assert_eq!(errs("let x = 1")[0].code.as_deref(), Some("E0202"));
}

#[test]
fn repl_incomplete_input() {
    for src in ["fn f() {", "let x = [1,", "\"abc", "/* open", "f(1,"] {
        let (r, _, d) = parse_repl(F, src, 0);
        assert!(r.is_none());
        assert!(is_incomplete(&d), "{src}: {d:?}");
    }
    for src in ["1 +* 2", "let = 1;", "}"] {
        let (r, _, d) = parse_repl(F, src, 0);
        assert!(r.is_none());
        assert!(!d.is_empty(), "{src}");
        assert!(!is_incomplete(&d), "{src}: {d:?}");
    }
}

// ---------------------------------------------------------------- depth limits

const DEEP: usize = 100_000;

fn deep_cases() -> Vec<(String, &'static str)> {
    vec![
        (
            "let x = ".to_string() + &"(".repeat(DEEP) + "1" + &")".repeat(DEEP) + ";",
            "E0203",
        ),
        ("let x = ".to_string() + &"(".repeat(DEEP), "E0203"),
        ("let x = ".to_string() + &"[".repeat(DEEP), "E0203"),
        ("fn f() ".to_string() + &"{".repeat(DEEP), "E0203"),
        ("let x = ".to_string() + &"-".repeat(DEEP) + "1;", "E0204"),
        (
            "let x = ".to_string() + &"!".repeat(DEEP) + "true;",
            "E0204",
        ),
        ("let x = ".to_string() + &"-".repeat(DEEP) + ")", "E0204"),
        ("let x = 1".to_string() + &"+1".repeat(DEEP) + ";", "E0204"),
        ("let x = 1".to_string() + &"^1".repeat(DEEP) + ";", "E0204"),
        (
            "let x = 1".to_string() + &"-1".repeat(DEEP) + " + ;",
            "E0204",
        ),
        ("let x = f".to_string() + &"(1)".repeat(DEEP) + ";", "E0204"),
        ("let x = t".to_string() + &".0".repeat(DEEP) + ";", "E0204"),
        (
            "let x = ".to_string() + &"|x| ".repeat(DEEP) + "1;",
            "E0204",
        ),
        (
            "let x = ".to_string() + &"|x, y| ".repeat(DEEP) + "1;",
            "E0204",
        ),
        (
            "let x = ".to_string() + &"if a {} else ".repeat(DEEP) + "{};",
            "E0204",
        ),
        (
            "data x: ".to_string() + &"() -> ".repeat(DEEP) + "Int;",
            "E0204",
        ),
        (
            "data x: ".to_string() + &"Dist<".repeat(DEEP) + "Int;",
            "E0204",
        ),
    ]
}

fn check_deep_cases() {
    for (src, code) in deep_cases() {
        let (p, d) = parse_program(F, &src, 0);
        assert!(
            d.iter().any(|d| d.code.as_deref() == Some(code)),
            "{}…: wanted {code}, got {:?}",
            &src[..40],
            d.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        // Whatever survived is shallow enough to drop and walk recursively.
        drop(p);
        let _ = parse_repl(F, &src, 0);
    }
}

#[test]
fn deep_inputs_on_a_small_stack() {
    // The default test thread stack is 2 MiB; be explicit about it.
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(check_deep_cases)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_inputs_on_the_main_thread_stack() {
    std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(check_deep_cases)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn nesting_at_the_limit_is_fine() {
    let src =
        "let x = ".to_string() + &"(".repeat(MAX_NESTING) + "1" + &")".repeat(MAX_NESTING) + ";";
    assert_eq!(items(&src), "(let x 1)");
    let src = "let x = ".to_string() + &"[".repeat(MAX_NESTING) + &"]".repeat(MAX_NESTING) + ";";
    assert!(errs(&src).is_empty());
    let d = errs(
        &("let x = ".to_string()
            + &"(".repeat(MAX_NESTING + 1)
            + "1"
            + &")".repeat(MAX_NESTING + 1)
            + ";"),
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "nesting too deep (more than 256 levels)");
    // A long but flat program is fine.
    let src = "fn model() {\n".to_string()
        + &"let x ~ Normal(-1.0, 2.0^-1);\nif x > 0 { f(-x) } else { g(!b) }\n".repeat(3000)
        + "}";
    assert!(errs(&src).is_empty());
    let src = "let x = 1".to_string() + &" + 1".repeat(900) + ";";
    assert!(errs(&src).is_empty());
}

#[test]
fn too_deep_expression_becomes_error_node() {
    let src = "let a = 1;\nlet x = 1".to_string() + &"+1".repeat(5000) + ";\nlet b = 2;";
    let (p, d) = parse_program(F, &src, 0);
    assert_eq!(d.len(), 1, "{:?}", d);
    assert_eq!(d[0].code.as_deref(), Some("E0204"));
    let names: Vec<&str> = p.items.iter().map(|i| i.name().name.as_str()).collect();
    assert_eq!(names, ["a", "x", "b"]);
    // The rest of the items are intact and ids are still dense.
    let v = program_ids(&p);
    assert_eq!(v, (0..v.len() as u32).collect::<Vec<_>>());
}

// ---------------------------------------------------------------- the repository's programs

/// Every `.ppl` file under `dir` (relative to the workspace root), if the
/// directory exists.
fn ppl_files(dir: &str) -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ppl"))
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect();
    out.sort();
    out
}

#[test]
fn repository_programs_parse() {
    for dir in ["stdlib", "examples", "tests/corpus/valid"] {
        for (path, text) in ppl_files(dir) {
            let (_, d) = parse_program(F, &text, 0);
            assert!(d.is_empty(), "{}:\n{}", path.display(), show(&text, &d));
        }
    }
    for (path, text) in ppl_files("tests/corpus/invalid") {
        let (_, d) = parse_program(F, &text, 0);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("parse_") {
            assert!(!d.is_empty(), "{name} should not parse");
        }
    }
}

/// Stan's `y ~ D;` (E0211): the hint depends on what `y` is where the
/// statement stands (issue 16).
#[test]
fn tilde_without_let_hints_by_binding() {
    let help = |src: &str| -> Vec<String> {
        errs(src)
            .iter()
            .filter(|d| d.code.as_deref() == Some("E0211"))
            .map(|d| {
                d.notes
                    .iter()
                    .filter(|n| n.starts_with("help"))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect()
    };
    // A lambda parameter, a `for` variable and a local are bound; a name
    // bound only later, or in another function, is not.
    let src = "fn f(a) {\n  map([1.0], |v| { v ~ Normal(0, 1); v });\n  for i in [1.0] { i ~ Normal(0, 1); }\n  b ~ Normal(0, 1);\n  let b = 2.0;\n  a ~ Normal(0, 1);\n  b\n}\nfn g() { c ~ Normal(0, 1); 1 }\nfn h() { let c = 1.0; c }\n";
    assert_eq!(
        help(src),
        [
            "help: to condition on the value of `v`, write `observe(Normal(0, 1), v);`",
            "help: to condition on the value of `i`, write `observe(Normal(0, 1), i);`",
            "help: to draw a new random choice named `b`, write `let b ~ Normal(0, 1);`",
            "help: to condition on the value of `a`, write `observe(Normal(0, 1), a);`",
            "help: to draw a new random choice named `c`, write `let c ~ Normal(0, 1);`",
        ]
    );
    // At the REPL earlier inputs may bind the name: both readings.
    let (r, _, d) = parse_repl(F, "y ~ Normal(0, 1);", 0);
    assert!(r.is_none());
    let notes: Vec<&String> = d[0]
        .notes
        .iter()
        .filter(|n| n.starts_with("help"))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    // `~` is not offered as an expected token after an expression.
    assert!(!rendered("fn f() { 1 < 2 < 3 }").contains("`~`"));
}

/// Records (issue 16): literals told from blocks by `name:`, field access,
/// record types, and a field given twice.
#[test]
fn records() {
    let src = "fn f(p: {mu: Real, tau: Real}) -> {a: Real, b: [Int]} { let r = {mu: 1.0, tau: p.tau}; {a: r.mu, b: [1]} }\nfn g() { { let x = 1; x } }\n";
    let (prog, d) = parse_program(F, src, 0);
    assert!(d.is_empty(), "{}", show(src, &d));
    let Item::Fn(f) = &prog.items[0] else {
        panic!()
    };
    assert!(matches!(f.params[0].ty, Some(TypeExpr::Record(ref fs, _)) if fs.len() == 2));
    assert!(matches!(f.ret, Some(TypeExpr::Record(..))));
    let ExprKind::Block(stmts, Some(tail)) = &f.body.kind else {
        panic!()
    };
    assert!(matches!(tail.kind, ExprKind::Record(ref fs) if fs[0].0.name == "a"));
    let Stmt::Let { value, .. } = &stmts[0] else {
        panic!()
    };
    let ExprKind::Record(fs) = &value.kind else {
        panic!()
    };
    assert!(matches!(fs[1].1.kind, ExprKind::Member(_, ref n) if n.name == "tau"));
    let Item::Fn(g) = &prog.items[1] else {
        panic!()
    };
    let ExprKind::Block(_, Some(tail)) = &g.body.kind else {
        panic!()
    };
    assert!(matches!(tail.kind, ExprKind::Block(..)));
    assert!(rendered("fn f() { {a: 1, a: 2} }").contains("E0213"));
}
