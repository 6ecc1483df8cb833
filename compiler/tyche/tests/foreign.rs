//! Rust functions registered with `Program::builder()`: type checked
//! against their uses, called by the interpreter under every method, and
//! their failures reported as diagnostics at the call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tyche::{ErrorKind, FromValue, Method, Program, Signature, Type, Value};

fn real_fn(f: fn(f64) -> f64) -> impl Fn(&[Value]) -> Result<Value, String> + Send + Sync {
    move |args: &[Value]| {
        let x = f64::from_value(&args[0]).map_err(|e| e.to_string())?;
        Ok(Value::Real(f(x)))
    }
}

fn sim2(args: &[Value]) -> Result<Value, String> {
    let a = f64::from_value(&args[0]).map_err(|e| e.to_string())?;
    let b = f64::from_value(&args[1]).map_err(|e| e.to_string())?;
    Ok(Value::Real(a * 10.0 + b))
}

#[test]
fn called_from_models_and_passed_as_values() {
    let program = Program::builder()
        .function(
            "sim",
            Signature::new([Type::Real, Type::Real], Type::Real),
            sim2,
        )
        .function(
            "square",
            Signature::new([Type::Real], Type::Real),
            real_fn(|x| x * x),
        )
        .source(
            "f.ppl",
            "
            fn model() -> (Real, [Real]) {
                let a = sim(1.0, 2);          // literal rule: 2 is a Real here
                (a, map([1.0, 2.0, 3.0], square))
            }
            ",
        )
        .build()
        .unwrap();
    let posterior = program.model("model").unwrap().run().unwrap();
    let (a, squares): (f64, Vec<f64>) = posterior.draws()[0].get().unwrap();
    assert_eq!(a, 12.0);
    assert_eq!(squares, vec![1.0, 4.0, 9.0]);
}

#[test]
fn conjugate_posterior_through_a_rust_likelihood_term() {
    // factor(log N(y | mu, 1)) written in Rust: the posterior of mu with a
    // N(0, 1) prior and one observation y = 2 is N(1, 1/2).
    let program = Program::builder()
        .function(
            "loglik",
            Signature::new([Type::Real, Type::Real], Type::Real),
            |args: &[Value]| {
                let (mu, y) = (
                    f64::from_value(&args[0]).unwrap(),
                    f64::from_value(&args[1]).unwrap(),
                );
                Ok(Value::Real(
                    -0.5 * (y - mu) * (y - mu) - 0.5 * (2.0 * std::f64::consts::PI).ln(),
                ))
            },
        )
        .source(
            "lik.ppl",
            "fn model() -> Real { let mu ~ Normal(0, 1); factor(loglik(mu, 2.0)); mu }",
        )
        .build()
        .unwrap();
    let posterior = program
        .model("model")
        .unwrap()
        .method(Method::Importance)
        .samples(20_000)
        .seed(8)
        .run()
        .unwrap();
    // Self-normalised IS standard error from the draws (see tests/api.rs).
    let m = posterior.mean().unwrap();
    let xs: Vec<f64> = posterior.values().unwrap();
    let se = xs
        .iter()
        .zip(posterior.weights())
        .map(|(x, w)| w * w * (x - m) * (x - m))
        .sum::<f64>()
        .sqrt();
    assert!((m - 1.0).abs() < 5.0 * se, "mean {m}, se {se}");
    // The evidence is N(2 | 0, 2).
    let z = -0.5 * 4.0 / 2.0 - 0.5 * (2.0 * std::f64::consts::PI * 2.0).ln();
    assert!((posterior.log_evidence().unwrap() - z).abs() < 0.05);
}

#[test]
fn works_under_every_method_and_in_constants() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let program = Program::builder()
        .function(
            "half",
            Signature::new([Type::Real], Type::Real),
            move |args: &[Value]| {
                counter.fetch_add(1, Ordering::Relaxed);
                Ok(Value::Real(f64::from_value(&args[0]).unwrap() / 2.0))
            },
        )
        .source(
            "m.ppl",
            "
            data scale: Real = half(4.0);
            let offset = half(scale);
            fn model() -> Real {
                let b ~ Bernoulli(0.5);
                let x = if b { half(2.0) } else { 0.0 };
                observe(Normal(x, 1.0), 1.0);
                x + offset
            }
            ",
        )
        .build()
        .unwrap();
    for method in [
        Method::Enumerate,
        Method::Importance,
        Method::Smc,
        Method::Mh,
        Method::Rejection,
    ] {
        let posterior = program
            .model("model")
            .unwrap()
            .method(method)
            .samples(200)
            .particles(200)
            .seed(1)
            .run()
            .unwrap();
        let m = posterior.mean().unwrap();
        assert!(m > 1.0 && m < 2.0, "{method}: {m}");
    }
    assert!(calls.load(Ordering::Relaxed) > 100);
    // The exact answer: P(b | y = 1) with likelihoods N(1|1,1) vs N(1|0,1).
    let exact = program.model("model").unwrap().run().unwrap();
    let (l1, l0) = (1.0f64, (-0.5f64).exp());
    assert!((exact.mean().unwrap() - (1.0 + l1 / (l1 + l0))).abs() < 1e-12);
}

#[test]
fn surgery_on_models_that_call_rust() {
    let program = Program::builder()
        .function(
            "double",
            Signature::new([Type::Real], Type::Real),
            real_fn(|x| 2.0 * x),
        )
        .source(
            "s.ppl",
            "fn model() -> Real { let x ~ Normal(0, 1); double(x) }",
        )
        .build()
        .unwrap();
    let posterior = program
        .model("model")
        .unwrap()
        .intervene("x", 1.5)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(posterior.mean(), Some(3.0));
}

#[test]
fn type_errors_point_at_the_call() {
    let build = |src: &str| {
        Program::builder()
            .function(
                "sim",
                Signature::new([Type::Real, Type::Real], Type::Real),
                sim2,
            )
            .source("bad.ppl", src)
            .build()
    };
    let err = build("fn model() -> Real { sim(1.0, true) }").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile);
    assert_eq!(err.code(), Some("E0301"));
    assert!(err.to_string().contains("bad.ppl:1:"), "{err}");
    let err = build("fn model() -> Real { sim(1.0) }").unwrap_err();
    assert_eq!(err.code(), Some("E0302"), "{err}");
    let err = build("fn model() -> Bool { sim(1.0, 2.0) }").unwrap_err();
    assert_eq!(err.code(), Some("E0301"), "{err}");
    let err = build("fn model() -> Real { sin(1.0, 2.0) + smi(1.0, 2.0) }").unwrap_err();
    assert!(err.to_string().contains("did you mean `sim`?"), "{err}");
}

#[test]
fn polymorphic_signatures() {
    let program = Program::builder()
        .function(
            "count",
            Signature::new([Type::array(Type::Var(0))], Type::Int),
            |args: &[Value]| match &args[0] {
                Value::Array(xs) => Ok(Value::Int(xs.len() as i64)),
                v => Err(format!("expected an array, got {v}")),
            },
        )
        .source(
            "p.ppl",
            "fn model() -> Int { count([1.0, 2.0]) + count([true]) }",
        )
        .build()
        .unwrap();
    assert_eq!(
        program.model("model").unwrap().run().unwrap().mean(),
        Some(3.0)
    );
}

#[test]
fn failures_are_runtime_diagnostics_at_the_call() {
    let program = Program::builder()
        .function(
            "fails",
            Signature::new([Type::Real], Type::Real),
            |_: &[Value]| Err("simulator diverged".to_string()),
        )
        .function(
            "panics",
            Signature::new([Type::Real], Type::Real),
            |_: &[Value]| -> Result<Value, String> {
                panic!("index out of range in the simulator")
            },
        )
        .function(
            "lies",
            Signature::new([Type::Real], Type::Real),
            |_: &[Value]| Ok(Value::Bool(true)),
        )
        .function(
            "widens",
            Signature::new([Type::Real], Type::Real),
            |_: &[Value]| Ok(Value::Int(2)),
        )
        .source(
            "fail.ppl",
            "
            fn a() -> Real { fails(1.0) }
            fn b() -> Real { panics(1.0) }
            fn c() -> Real { lies(1.0) }
            fn d() -> Real { widens(1.0) }
            ",
        )
        .build()
        .unwrap();
    let err = program.model("a").unwrap().run().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Run);
    let text = err.to_string();
    assert!(
        text.contains("the Rust function `fails` failed: simulator diverged"),
        "{text}"
    );
    assert!(text.contains("fail.ppl:2:"), "{text}");
    let err = program.model("b").unwrap().run().unwrap_err();
    assert!(
        err.to_string()
            .contains("it panicked: index out of range in the simulator"),
        "{err}"
    );
    assert!(err.to_string().contains("fail.ppl:3:"), "{err}");
    let err = program.model("c").unwrap().run().unwrap_err();
    assert!(
        err.to_string().contains(
            "its result does not match its signature: `result` should be Real, found a Bool `true`"
        ),
        "{err}"
    );
    // An Int where a Real is declared is converted, as for data.
    assert_eq!(program.model("d").unwrap().run().unwrap().mean(), Some(2.0));
}

#[test]
fn registration_mistakes() {
    let sig = || Signature::new([Type::Real], Type::Real);
    let id = |args: &[Value]| Ok(args[0].clone());
    let check = |b: tyche::ProgramBuilder, expect: &str| {
        let err = b.source("r.ppl", "fn model() { 1 }").build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Function);
        assert!(err.to_string().contains(expect), "{err}");
    };
    check(Program::builder().function("Normal", sig(), id), "built-in");
    check(Program::builder().function("let", sig(), id), "keyword");
    check(
        Program::builder().function("2fast", sig(), id),
        "not a valid function name",
    );
    check(
        Program::builder()
            .function("f", sig(), id)
            .function("f", sig(), id),
        "registered twice",
    );
    let err = Program::builder()
        .function("f", sig(), id)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("no source"), "{err}");
    // A program item of the same name.
    let err = Program::builder()
        .function("helper", sig(), id)
        .source(
            "r.ppl",
            "fn helper(x: Real) -> Real { x }\nfn model() -> Real { helper(1.0) }",
        )
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Function);
    assert!(
        err.to_string()
            .contains("both defined in the program and registered"),
        "{err}"
    );
    assert!(err.to_string().contains("r.ppl:1:"), "{err}");
}

#[test]
fn a_registered_function_replaces_a_prelude_function() {
    // The prelude's `dot` is replaced, as a user definition would replace it.
    let program = Program::builder()
        .function(
            "dot",
            Signature::new(
                [Type::array(Type::Real), Type::array(Type::Real)],
                Type::Real,
            ),
            |_: &[Value]| Ok(Value::Real(-1.0)),
        )
        .source("d.ppl", "fn model() -> Real { dot([1.0], [2.0]) }")
        .build()
        .unwrap();
    assert_eq!(
        program.model("model").unwrap().run().unwrap().mean(),
        Some(-1.0)
    );
}

#[test]
fn the_ir_names_foreign_calls() {
    // Checked through the lowering and IR crates directly: the call
    // becomes `Instr::Foreign`, which prints and verifies.
    let foreign = vec![tyche_ir::Foreign {
        name: "sim".into(),
        ty: Type::func(vec![Type::Real], Type::Real),
        imp: None,
    }];
    let mut sources = tyche_core::SourceMap::new();
    let compiled = tyche_driver::compile_source_with(
        &mut sources,
        "ir.ppl",
        "fn model() -> Real { sim(1.0) }",
        &foreign,
    )
    .unwrap();
    let text = compiled.ir.to_string();
    assert!(text.contains("; foreign 0: sim: (Real) -> Real"), "{text}");
    assert!(text.contains("= foreign 0 sim(r"), "{text}");
    // No implementation attached: a runtime error, not a crash.
    let f = compiled.ir.func_by_name("model").unwrap();
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &Default::default()).unwrap();
    let mut m = tyche_vm::Machine::for_function(compiled.ir.clone(), globals, f).unwrap();
    let err = m.run().unwrap_err();
    assert!(
        err.message
            .contains("no implementation was registered for `sim`"),
        "{}",
        err.message
    );
    // The verifier checks the index and the arity.
    let mut broken = (*compiled.ir).clone();
    broken.foreign.clear();
    assert!(tyche_ir::verify(&broken, "test")
        .unwrap_err()
        .contains("missing foreign function 0"));
    let mut broken = (*compiled.ir).clone();
    broken.foreign[0].ty = Type::func(vec![], Type::Real);
    assert!(tyche_ir::verify(&broken, "test")
        .unwrap_err()
        .contains("takes 0 arguments"));
}

#[test]
fn typed_functions_derive_their_signatures() {
    let program = Program::builder()
        .typed_function("hypot", |a: f64, b: f64| (a * a + b * b).sqrt())
        .typed_function("norms", |xs: Vec<(f64, f64)>| -> Vec<f64> {
            xs.iter().map(|(a, b)| (a * a + b * b).sqrt()).collect()
        })
        .typed_function("answer", || 42i64)
        .typed_function("checked", |n: i64| -> Result<i64, String> {
            if n < 0 { Err(format!("{n} is negative")) } else { Ok(n) }
        })
        .source(
            "typed.ppl",
            "
            fn model() -> (Real, [Real], Int) { (hypot(3.0, 4), norms([(6.0, 8.0)]), answer() + checked(1)) }
            fn bad() -> Int { checked(-2) }
            ",
        )
        .build()
        .unwrap();
    let posterior = program.model("model").unwrap().run().unwrap();
    let out: (f64, Vec<f64>, i64) = posterior.draws()[0].get().unwrap();
    assert_eq!(out, (5.0, vec![10.0], 43));
    let err = program.model("bad").unwrap().run().unwrap_err();
    assert!(
        err.to_string()
            .contains("the Rust function `checked` failed: -2 is negative"),
        "{err}"
    );
    // The derived signature is checked like a written one.
    let err = Program::builder()
        .typed_function("hypot", |a: f64, b: f64| (a * a + b * b).sqrt())
        .source("t.ppl", "fn model() -> Real { hypot(1.0) }")
        .build()
        .unwrap_err();
    assert_eq!(err.code(), Some("E0302"), "{err}");
    assert_eq!(
        <fn(f64, i64) -> bool as tyche::HostFunction<(f64, i64)>>::signature().to_string(),
        "(Real, Int) -> Bool"
    );
}
