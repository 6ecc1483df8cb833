//! The interpreter run forward (every choice drawn from its prior): values,
//! runtime errors with their locations, surgery, and the register-local
//! fast path of `map`/`filter`/`fold`/`scan` against the frame-by-frame one.
use std::collections::HashMap;
use tyche_core::SourceMap;
use tyche_vm::{Effect, Machine, Value};

fn run_forward(src: &str) -> Result<Value, String> {
    let mut sources = SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, "t.ppl", src)
        .map_err(|d| tyche_core::render_all(&d, &sources, false))?;
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &HashMap::new())
        .map_err(|d| tyche_core::render_all(&[d], &sources, false))?;
    let f = tyche_driver::model(&compiled, &sources, "model")
        .map_err(|d| tyche_core::render_all(&[d], &sources, false))?;
    let mut m = Machine::for_function(compiled.ir.clone(), globals, f).unwrap();
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(1);
    let mut eff = m.run();
    loop {
        match eff.map_err(|d| tyche_core::render_all(&[d], &sources, false))? {
            Effect::Done(v) => return Ok(v),
            Effect::Sample { dist, .. } => eff = m.resume(dist.sample(&mut rng)),
            _ => eff = m.run(),
        }
    }
}

fn value(src: &str) -> String {
    match run_forward(src) {
        Ok(v) => v.to_string(),
        Err(e) => panic!("{src}\nfailed:\n{e}"),
    }
}

/// The error's first line and its `file:line:column`.
fn error(src: &str) -> (String, String) {
    let e = run_forward(src).expect_err(src);
    let first = e.lines().next().unwrap_or_default().to_string();
    let at = e
        .lines()
        .find_map(|l| l.trim().strip_prefix("┌─ "))
        .unwrap_or_default()
        .to_string();
    (first, at)
}

#[test]
fn deterministic_programs_compute_their_values() {
    assert_eq!(
        value(
            "fn fact(n: Int) -> Int { if n == 0 { 1 } else { n * fact(n - 1) } }\n\
             fn loop_(n: Int, acc: Int) -> Int { if n == 0 { acc } else { loop_(n - 1, acc + 1) } }\n\
             fn model() { (fact(10), loop_(1000000, 0), reverse([1,2,3]), cumsum([1.0,2.0]), dot([1.0],[2.0]), concat([1], [2, 3])) }"
        ),
        "(3628800, 1000000, [3, 2, 1], [1.0, 3.0], 2.0, [1, 2, 3])"
    );
}

#[test]
fn choices_inside_lambdas_are_drawn_and_folded() {
    let v = run_forward(
        "fn model() { let xs = map([1.0, 2.0, 3.0], |x| { let z ~ Normal(x, 1.0); z * 2.0 }); (sum(xs), fold(xs, 0.0, |a, x| a + x), len(xs)) }",
    )
    .unwrap();
    let Value::Tuple(t) = v else { panic!("{v}") };
    assert_eq!(t[0], t[1], "sum and fold agree");
    assert_eq!(t[2], Value::Int(3));
}

#[test]
fn runtime_errors_point_at_their_source() {
    assert_eq!(
        error("fn model() { let xs = [1, 2]; xs[5] }"),
        (
            "error[E0601]: index 5 out of bounds for an array of length 2".into(),
            "t.ppl:1:31".into()
        )
    );
    assert_eq!(
        error("fn model() { 1 / 0 }"),
        (
            "error[E0601]: integer division by zero".into(),
            "t.ppl:1:14".into()
        )
    );
    assert_eq!(
        error("fn model() { Normal(0.0, -1.0) }").1,
        "t.ppl:1:14".to_string()
    );
    let (msg, at) = error("fn f(n: Int) -> Int { 1 + f(n + 1) }\nfn model() { f(0) }");
    assert!(msg.contains("recursion too deep"), "{msg}");
    assert_eq!(at, "t.ppl:1:27");
}

#[test]
fn surgery_fixes_choices_and_reports_unknown_names() {
    let v = value(
        "fn inner() { let z ~ Normal(0.0, 1.0); z }\n\
         fn m() { let x ~ Normal(0.0, 1.0); let zs = map([1,2,3], |i| inner()); (x, zs) }\n\
         fn model() { let f = do(m, x = 5.0, z[1] = 7.0); f() }",
    );
    assert!(v.starts_with("(5.0, [") && v.contains(", 7.0, "), "{v}");
    assert_eq!(
        value("fn m() { let x ~ Normal(0.0, 1.0); x }\nfn model() { let f = do(do(m, x = 5.0), x = 6.0); f() }"),
        "6.0"
    );
    let (msg, at) = error(
        "fn m() { let x ~ Normal(0.0, 1.0); x }\nfn model() { let f = do(m, xx = 5.0); f() }",
    );
    assert_eq!(msg, "error[E0804]: no random choice named `xx` in `m`");
    assert_eq!(at, "t.ppl:2:28");
}

/// A closure that is a straight line of register-local instructions runs
/// as one loop; wrapping its body in a call (`id`) forces the frame-by-frame
/// path. Both must give the same values and the same errors.
#[test]
fn register_local_closures_match_the_frame_by_frame_path() {
    let body = |wrap: &str| {
        format!(
            "fn id(v) {{ v }}\n\
             data c: Int = 3;\n\
             fn model() {{\n\
             let xs = [1, 2, 3, 4, 5, 6];\n\
             (map(xs, |x| {wrap}(x * c + 1)), filter(xs, |x| {wrap}(x % 2 == 0)),\n\
              fold(xs, 0, |a, x| {wrap}(a * 2 + x)), scan(xs, 1, |a, x| {wrap}(a + x * x)),\n\
              map(map(xs, |x| (x, real(x))), |p| {wrap}(p.1 / 2.0 + real(p.0))))\n\
             }}"
        )
    };
    let local = value(&body(""));
    assert_eq!(local, value(&body("id")));
    assert_eq!(
        local,
        "([4, 7, 10, 13, 16, 19], [2, 4, 6], 120, [2, 6, 15, 31, 56, 92], [1.5, 3.0, 4.5, 6.0, 7.5, 9.0])"
    );
    let failing =
        |wrap: &str| format!("fn id(v) {{ v }}\nfn model() {{ map([1, 0], |x| {wrap}(6 / x)) }}");
    // Two spaces keep the columns of the `id` version.
    assert_eq!(error(&failing("  ")), error(&failing("id")));
    assert_eq!(error(&failing("  ")).1, "t.ppl:2:33");
}
