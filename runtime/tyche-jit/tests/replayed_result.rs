//! Models whose density is static but whose return value cannot be
//! traced: tracing stops after the last choice and observation, the
//! kernel is complete, and the return value is replayed on the
//! interpreter — only when nothing after the stopping point can touch the
//! density. Everything else must still be `NotStatic`.
mod common;

use common::{check_point, load, Model};
use std::sync::Arc;
use tyche_infer::{Backend, Method, Native, NativeDensity, Options};
use tyche_jit::BackendRequest;
use tyche_vm::{Effect, Machine, Value};

/// `bench/models/gmm.ppl` in small: three Normal locations, a mixture
/// likelihood by `factor`, the sorted locations as the result (insertion
/// sort by `filter` on comparisons of random values).
const GMM: &str = r#"
data y: [Real];

fn mixture_log_density(mus: [Real], v: Real) -> Real {
    log_sum_exp(map(range(0, 3), |k| log(1.0 / 3.0) + log_prob(Normal(mus[k], 1.0), v)))
}

fn insert(xs: [Real], v: Real) -> [Real] {
    let below = filter(xs, |u| u <= v);
    let above = filter(xs, |u| u > v);
    concat(concat(below, [v]), above)
}

fn sort(xs: [Real]) -> [Real] {
    fold(xs, [], |acc, v| insert(acc, v))
}

fn model() -> [Real] {
    let mus = repeat(3, || sample(Normal(0.0, 10.0)));
    for v in y {
        factor(mixture_log_density(mus, v));
    }
    sort(mus)
}
"#;

const GMM_DATA: &str =
    r#"{"y": [-4.1, -3.7, -4.4, 0.2, -0.3, 0.5, 0.1, 3.9, 4.2, 4.6, 3.8, -3.9]}"#;

/// The interpreter's return value for the run whose choices are θ.
fn vm_result(m: &Model, theta: &[f64]) -> Result<Value, String> {
    let mut machine = Machine::for_function(m.program.clone(), m.globals.clone(), m.func)
        .map_err(|d| d.message)?;
    let mut i = 0;
    let mut e = machine.run().map_err(|d| d.message.clone())?;
    loop {
        e = match e {
            Effect::Sample { .. } => {
                let x = theta[i];
                i += 1;
                machine.resume(Value::Real(x)).map_err(|d| d.message)?
            }
            Effect::Done(v) => return Ok(v),
            Effect::Infer { .. } => return Err("infer".into()),
            _ => machine.run().map_err(|d| d.message)?,
        };
    }
}

#[test]
fn sorted_result_keeps_the_kernel_and_replays_the_value() {
    let m = load(GMM, Some(GMM_DATA));
    let t = tyche_jit::trace::trace(&m.program, &m.globals, m.func, Default::default())
        .unwrap_or_else(|e| panic!("not static: {e}"));
    let stopped = t.stopped.as_ref().expect("tracing stops in the result");
    assert!(
        stopped.reason.contains("filter predicate"),
        "{}",
        stopped.reason
    );
    assert!(t.result.is_none());
    assert_eq!(t.choices.len(), 3);
    // 3 priors + 12 factors: the density is complete.
    assert_eq!(t.terms.len(), 15);

    let k = m.kernel();
    let c = tyche_jit::compile(&k).expect("compiles");
    let r = m.replayer(&k);
    let nm = tyche_jit::native_model(&m.program, &m.globals, m.func, false).expect("native");
    assert!(nm.replays_result());
    // From the call to `sort`: the factors are not redone.
    assert!(nm.replay_resumes());
    assert!(nm.plan().is_none());
    for s in 0..40 {
        let theta = m.prior_draw(s);
        check_point("gmm", &r, &k, &c, &theta);
        assert_eq!(nm.log_density(&theta), c.log_density(&theta));
        let native = nm.result(&theta).expect("a value");
        assert_eq!(Ok(native.clone()), vm_result(&m, &theta), "θ = {theta:?}");
        let mut sorted = theta.clone();
        sorted.sort_by(f64::total_cmp);
        let want = Value::array(sorted.into_iter().map(Value::Real).collect());
        assert_eq!(native, want);
    }
}

/// MH on the native density with a replayed return value: the same chain
/// as the interpreter's, draw for draw, traces included.
#[test]
fn mh_with_a_replayed_result_matches_the_interpreter() {
    let m = load(GMM, Some(GMM_DATA));
    let model = tyche_infer::Model::for_function(m.program.clone(), m.globals.clone(), m.func);
    let mut opts = Options::for_method(Method::Mh, 600);
    opts.burn = 100;
    opts.chains = 2;
    opts.seed = 3;
    let interp = tyche_infer::infer(&model, &opts).expect("interpreted MH");
    let native =
        tyche_jit::for_inference(&m.program, &m.globals, m.func, &opts, BackendRequest::Jit)
            .expect("native MH")
            .expect("a native density");
    let mut nopts = opts.clone();
    nopts.native = Some(native);
    let jit = tyche_infer::infer(&model, &nopts).expect("native MH");
    assert_eq!(interp.backend, Backend::Interpreter);
    assert_eq!(jit.backend, Backend::Jit);
    assert_eq!(interp.draws.len(), jit.draws.len());
    for (i, (a, b)) in interp.draws.iter().zip(&jit.draws).enumerate() {
        assert_eq!(a.value, b.value, "draw {i}");
        assert_eq!(a.trace, b.trace, "draw {i}");
    }
    let (a, b) = (interp.mcmc.unwrap(), jit.mcmc.unwrap());
    assert_eq!(a.acceptance_rate, b.acceptance_rate);
}

/// SMC would need the value from each particle: declined, with the reason.
#[test]
fn smc_keeps_the_interpreter_for_a_replayed_result() {
    let m = load(GMM, Some(GMM_DATA));
    let e = tyche_jit::native_model_with(&m.program, &m.globals, m.func, false, false)
        .expect_err("no plan");
    assert!(e.reason.contains("native SMC"), "{}", e.reason);
    assert!(e.span.is_some());
    let smc = Options::for_method(Method::Smc, 100);
    let auto = tyche_jit::for_inference(&m.program, &m.globals, m.func, &smc, BackendRequest::Auto);
    assert!(matches!(auto, Ok(None)));
    let jit = tyche_jit::for_inference(&m.program, &m.globals, m.func, &smc, BackendRequest::Jit)
        .expect_err("refused");
    assert_eq!(jit.code.as_deref(), Some("E0751"));
}

/// Branches on random values, `int()` of one, closures and distributions
/// as results: all after the last observation, so replayed.
#[test]
fn untraceable_steps_after_the_density_are_replayed() {
    let cases = [
        (
            "fn model() -> Int { let a ~ Normal(0.0, 1.0); observe(Normal(a, 1.0), 0.3); if a > 0.0 { 1 } else { -1 } }",
            "branch",
        ),
        (
            "fn model() -> Bool { let a ~ Normal(0.0, 1.0); let b ~ Normal(a, 1.0); factor(-a * a); a > 0.0 && b > 0.0 }",
            "branch",
        ),
        (
            "fn model() -> Int { let a ~ Normal(0.0, 1.0); observe(Normal(a, 1.0), 0.3); int(a * 10.0) }",
            "int()",
        ),
        (
            "fn model() -> Real { let a ~ Normal(0.0, 1.0); observe(Normal(a, 1.0), 0.3); let xs = [1.0, 2.0, 3.0]; xs[min(2, max(0, int(a)))] }",
            "int()",
        ),
        (
            "fn model() -> Int { let a ~ Normal(0.0, 1.0); observe(Normal(a, 1.0), 0.3); len(filter([a, 1.0, -a], |x| x > 0.5)) }",
            "filter predicate",
        ),
    ];
    for (src, why) in cases {
        let m = load(src, None);
        let t = tyche_jit::trace::trace(&m.program, &m.globals, m.func, Default::default())
            .unwrap_or_else(|e| panic!("{src}: {e}"));
        let reason = &t.stopped.as_ref().expect(src).reason;
        assert!(reason.contains(why), "{src}: {reason}");
        let k = m.kernel();
        let c = tyche_jit::compile(&k).expect("compiles");
        let r = m.replayer(&k);
        let nm = tyche_jit::native_model(&m.program, &m.globals, m.func, false).expect(src);
        assert!(nm.replays_result(), "{src}");
        assert!(nm.replay_resumes(), "{src}");
        for s in 0..20 {
            let theta = m.prior_draw(s);
            check_point(src, &r, &k, &c, &theta);
            assert_eq!(nm.result(&theta).ok(), vm_result(&m, &theta).ok(), "{src}");
        }
    }
    // A closure as the result: replayed too (it was rejected before).
    let m = load(
        "fn model() -> (Real) -> Real { let a ~ Normal(0.0, 1.0); observe(Normal(a, 1.0), 0.3); |x| x + a }",
        None,
    );
    let nm = tyche_jit::native_model(&m.program, &m.globals, m.func, false).expect("native");
    assert!(nm.replays_result());
    assert!(matches!(nm.result(&[0.25]), Ok(Value::Closure(_))));
}

/// A value tracing cannot follow that reaches the density, or a step it
/// cannot follow with an effect anywhere after it: `NotStatic`, as before.
#[test]
fn untraceable_steps_before_an_effect_still_fail() {
    let cases = [
        // An opaque value flows into an observation.
        (
            "fn model() -> Real { let a ~ Normal(0.0, 1.0); let s = filter([a, 1.0], |x| x > 0.5); observe(Normal(real(len(s)), 1.0), 1.0); a }",
            "filter predicate",
        ),
        // A branch on a random value before an observation.
        (
            "fn model() -> Real { let a ~ Normal(0.0, 1.0); let b = if a > 0.0 { one() } else { 2.0 }; observe(Normal(b, 1.0), 0.0); a }",
            "branch",
        ),
        // … before a choice.
        (
            "fn model() -> Real { let a ~ Normal(0.0, 1.0); let b = if a > 0.0 { one() } else { 2.0 }; let c ~ Normal(b, 1.0); c }",
            "branch",
        ),
        // An observation in one arm only.
        (
            "fn model() -> Real { let a ~ Normal(0.0, 1.0); if a > 0.0 { observe(Normal(a, 1.0), 1.0); } a }",
            "branch",
        ),
        // A factor in a loop whose bound depends on a random value.
        (
            "fn model() -> Real { let a ~ Normal(0.0, 1.0); for x in filter([1.0, 2.0], |u| u < a) { factor(x); } a }",
            "filter predicate",
        ),
        // An effect in a function called afterwards.
        (
            "fn obs(x: Real) -> Real { observe(Normal(x, 1.0), 0.0); x }\nfn model() -> Real { let a ~ Normal(0.0, 1.0); let b = if a > 0.0 { one() } else { 2.0 }; obs(b) }",
            "branch",
        ),
        // An effect in a closure built before and called afterwards.
        (
            "fn model() -> Real { let f = |x: Real| { factor(x); x }; let a ~ Normal(0.0, 1.0); let b = if a > 0.0 { one() } else { 2.0 }; f(b) }",
            "branch",
        ),
        // … kept in an array.
        (
            "fn model() -> Real { let fs = [|x: Real| { factor(x); x }]; let a ~ Normal(0.0, 1.0); let b = if a > 0.0 { one() } else { 2.0 }; fs[0](b) }",
            "branch",
        ),
        // An effectful closure mapped over an opaque array.
        (
            "fn model() -> [Real] { let a ~ Normal(0.0, 1.0); map(filter([1.0, 2.0], |u| u < a), |x| { factor(x); x }) }",
            "filter predicate",
        ),
        // A choice in the caller's frame after the untraceable callee.
        (
            "fn pick(a: Real) -> Real { if a > 0.0 { one() } else { 2.0 } }\nfn model() -> Real { let a ~ Normal(0.0, 1.0); let b = pick(a); let c ~ Normal(b, 1.0); c }",
            "branch",
        ),
        // An observation in an outer recursion frame, after the branch in
        // the innermost one.
        (
            "fn go(n: Int, a: Real) -> Real { if n == 0 { if a > 0.0 { one() } else { 2.0 } } else { let r = go(n - 1, a); observe(Normal(r, 1.0), 0.0); r } }\nfn model() -> Real { let a ~ Normal(0.0, 1.0); go(3, a) }",
            "branch",
        ),
        // A choice in a later iteration of the intrinsic that stopped.
        (
            "fn model() -> [Real] { let a ~ Normal(0.0, 1.0); map([1.0, 2.0], |x| { let b = if a > x { one() } else { 0.0 }; let c ~ Normal(b, 1.0); c }) }",
            "branch",
        ),
    ];
    for (src, why) in cases {
        // Branches on random values whose arms only compute values are
        // traced as selects; an arm that calls a function is not.
        let src = &format!("fn one() -> Real {{ 1.0 }}\n{src}");
        let m = load(src, None);
        match tyche_jit::extract(&m.program, &m.globals, m.func) {
            Ok(k) => panic!("expected NotStatic for {src}, got\n{k}"),
            Err(e) => assert!(
                e.reason.contains(why),
                "{src}: `{}` lacks `{why}`",
                e.reason
            ),
        }
        let e = tyche_jit::native_model(&m.program, &m.globals, m.func, false).expect_err(src);
        assert!(e.reason.contains(why), "{src}: {}", e.reason);
    }
}

/// The native model of a replayed result is a shared density like any
/// other (Send + Sync, usable from several chains).
#[test]
fn replayed_result_is_shareable() {
    let m = load(GMM, Some(GMM_DATA));
    let nm = tyche_jit::native_model(&m.program, &m.globals, m.func, false).expect("native");
    let n = Native(Arc::new(nm));
    let theta = m.prior_draw(1);
    let v = std::thread::scope(|s| {
        let h = s.spawn(|| n.0.result(&theta).expect("value"));
        h.join().expect("thread")
    });
    assert_eq!(Ok(v), vm_result(&m, &theta));
}
