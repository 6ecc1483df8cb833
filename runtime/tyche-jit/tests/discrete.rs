//! Discrete choices in step programs: SMC on the native plan must give
//! exactly the interpreter's population (the same draws, values and
//! traces; weights to rounding) and the same runtime errors; tracing must
//! stop where `f64` could not mirror the VM's integers; MH is not offered.
mod common;

use common::{agree, load, Model};
use rand::SeedableRng;
use std::sync::Arc;
use tyche_infer::{Backend, InferResult, Method, Native, Options};
use tyche_jit::{BackendRequest, Replayer};
use tyche_vm::{Effect, Machine, Value};

/// SMC options: `n` particles, seed 11, with or without traces.
fn smc_opts(n: usize, traces: bool) -> Options {
    let mut o = Options::for_method(Method::Smc, n);
    o.seed = 11;
    o.traces = traces;
    o
}

fn infer_model(m: &Model) -> tyche_infer::Model {
    tyche_infer::Model::for_function(m.program.clone(), m.globals.clone(), m.func)
}

/// The native plan of `m` (for SMC, so without a kernel when discrete).
fn native(m: &Model, traces: bool) -> Native {
    let nm = tyche_jit::native_model_with(&m.program, &m.globals, m.func, traces, false)
        .unwrap_or_else(|e| panic!("not static: {e} at {:?}", e.span));
    Native(Arc::new(nm))
}

/// Runs SMC on the interpreter and natively; returns both.
fn both(m: &Model, n: usize, traces: bool) -> (InferResult, InferResult) {
    let model = infer_model(m);
    let opts = smc_opts(n, traces);
    let interp = tyche_infer::infer(&model, &opts).expect("interpreted SMC");
    let mut nopts = opts.clone();
    nopts.native = Some(native(m, traces));
    let jit = tyche_infer::infer(&model, &nopts).expect("native SMC");
    (interp, jit)
}

/// The populations agree: same values and traces, weights to rounding.
fn assert_same(name: &str, a: &InferResult, b: &InferResult) {
    assert_eq!(a.backend, Backend::Interpreter, "{name}");
    assert_eq!(b.backend, Backend::Jit, "{name}");
    assert_eq!(a.draws.len(), b.draws.len(), "{name}: draw counts");
    for (i, (x, y)) in a.draws.iter().zip(&b.draws).enumerate() {
        assert_eq!(x.value, y.value, "{name}: draw {i}");
        assert!(
            agree(x.log_weight, y.log_weight),
            "{name}: draw {i} weight {} vs {}",
            x.log_weight,
            y.log_weight
        );
        assert_eq!(x.trace, y.trace, "{name}: draw {i} trace");
    }
    let (ea, eb) = (a.log_evidence.unwrap(), b.log_evidence.unwrap());
    assert!(agree(ea, eb), "{name}: evidence {ea} vs {eb}");
    let (sa, sb) = (a.ess.unwrap(), b.ess.unwrap());
    assert!(
        (sa - sb).abs() <= 1e-9 * sa.max(1.0),
        "{name}: ESS {sa} vs {sb}"
    );
}

fn check_smc(name: &str, src: &str, data: Option<&str>) {
    let m = load(src, data);
    for traces in [false, true] {
        let (a, b) = both(&m, 300, traces);
        assert_same(name, &a, &b);
    }
}

const HMM: &str = r#"
data init: [Real];
data trans: [[Real]];
data mu: [Real];
data ys: [Real];

fn step(t: Int, z: Int) -> Int {
    if t == len(ys) {
        z
    } else {
        let zn ~ if t == 0 { Categorical(init) } else { Categorical(trans[z]) };
        observe(Normal(mu[zn], 1.0), ys[t]);
        step(t + 1, zn)
    }
}

fn model() -> Int {
    step(0, -1)
}
"#;

const HMM_DATA: &str = r#"{"init": [0.5, 0.3, 0.2],
 "trans": [[0.8, 0.1, 0.1], [0.15, 0.7, 0.15], [0.05, 0.15, 0.8]],
 "mu": [-2.0, 0.0, 2.0],
 "ys": [-1.8, -2.4, -0.3, 0.2, 0.1, 1.7, 2.3, 2.0, 0.4, -1.1, -2.2, -1.9]}"#;

#[test]
fn hmm_runs_natively_and_matches_the_interpreter() {
    check_smc("hmm", HMM, Some(HMM_DATA));
    // The plan samples by row and carries O(1) state.
    let m = load(HMM, Some(HMM_DATA));
    let nm = tyche_jit::native_model_with(&m.program, &m.globals, m.func, false, false).unwrap();
    assert!(nm.kernel().is_none(), "no kernel for discrete choices");
    let text = nm.plan().expect("a plan").to_string();
    assert!(text.contains("Categorical([T"), "{text}");
    assert!(text.contains("(by row)"), "{text}");
    assert!(text.contains("state: 2 slots"), "{text}");
}

/// The state path as an array, through `scan`, with the states' integer
/// arithmetic: results are arrays of Ints.
#[test]
fn hmm_path_with_integer_arithmetic() {
    let src = r#"
data init: [Real];
data trans: [[Real]];
data mu: [Real];
data ys: [Real];

fn model() -> ([Int], Int, Bool) {
    let z0 ~ Categorical(init);
    let path = scan(ys, z0, |z, y| {
        let zn ~ Categorical(trans[z]);
        observe(Normal(mu[zn], 1.0), y);
        zn
    });
    let last = path[len(path) - 1];
    // Integer arithmetic on random Ints: exact in f64.
    let code = (last + 1) % 3 * 10 + last / 2 - min(last, z0) + abs(z0 - 2) + max(-last, 0);
    (path, code, last >= z0)
}
"#;
    check_smc("hmm-path", src, Some(HMM_DATA));
}

/// Random Bools: observed, compared, looked up, used as conditions.
#[test]
fn bernoulli_choices_and_observations() {
    let src = r#"
let flips = [true, true, false, true, true, false, true];
let table = [false, true, true];

fn model() -> (Real, Bool, Int) {
    let p ~ Beta(2.0, 2.0);
    let k ~ Categorical([0.2, 0.3, 0.5]);
    let b ~ Bernoulli(p);
    for f in flips {
        let c ~ Bernoulli(p);
        observe(Bernoulli(0.8), c == f);
    }
    observe(Bernoulli(0.3), b);
    observe(Bernoulli(0.6), !table[k]);
    condition(table[k] != b);
    (p, b == table[k], k)
}
"#;
    check_smc("bernoulli", src, None);
}

/// Every discrete family as a choice, observed at random counts.
#[test]
fn every_discrete_family() {
    let src = r#"
fn model() -> (Int, Int, Int, Int, Int, Real) {
    let lam ~ Gamma(3.0, 1.0);
    let k ~ Poisson(lam);
    let n ~ Binomial(12, 0.4);
    let g ~ Geometric(0.3);
    let u ~ DiscreteUniform(-3, 4);
    let c ~ Categorical([1.0, 2.0, 3.0, 4.0]);
    observe(Poisson(2.5), k);
    observe(Binomial(12, 0.5), n);
    observe(Geometric(0.25), g);
    observe(DiscreteUniform(-2, 3), u);
    observe(Categorical([0.4, 0.3, 0.2, 0.1]), c);
    observe(Poisson(20.0), n + 10);
    observe(Binomial(30, 0.3), c * 5 + u);
    observe(Normal(real(k) + real(u / 2) - real(u % 3), 2.0), 1.5);
    (k, n, g, u, c, lam)
}
"#;
    check_smc("families", src, None);
}

/// A mixture whose component means are random: indexing an array of
/// choices by a random Int (a select over them), and a table of tuples.
#[test]
fn mixture_with_random_means() {
    let src = r#"
let ys = [-2.1, -1.7, 2.2, 1.9, 0.1, 2.4, -2.5];
let comps = [(1.0, 0.5), (0.5, 1.0), (2.0, 0.7)];

fn model() -> [Real] {
    let mus = map(range(0, 3), |j| {
        let m ~ Normal(0.0, 3.0);
        m
    });
    for y in ys {
        let z ~ Categorical([0.3, 0.3, 0.4]);
        let c = comps[z];
        observe(Normal(mus[z] * c.0, c.1), y);
    }
    mus
}
"#;
    check_smc("mixture", src, None);
}

/// An index that may be out of bounds: the native run stops with the
/// interpreter's error (message, code and place).
#[test]
fn out_of_range_index_is_the_interpreters_error() {
    let src = r#"
let mu = [-1.0, 1.0];

fn model() -> Real {
    let x ~ Normal(0.0, 1.0);
    observe(Normal(x, 1.0), 0.5);
    let z ~ Categorical([0.45, 0.45, 0.1]);
    observe(Normal(mu[z], 1.0), x);
    x
}
"#;
    let m = load(src, None);
    let model = infer_model(&m);
    let opts = smc_opts(200, false);
    let e1 = tyche_infer::infer(&model, &opts).expect_err("the interpreter fails");
    let mut nopts = opts.clone();
    nopts.native = Some(native(&m, false));
    let e2 = tyche_infer::infer(&model, &nopts).expect_err("the native run fails");
    assert_eq!(e1.message, e2.message);
    assert!(
        e1.message
            .starts_with("index 2 out of bounds for an array of length 2"),
        "{}",
        e1.message
    );
    assert_eq!(e1.code, e2.code);
    assert_eq!(e1.labels, e2.labels);
    let text = tyche_jit::native_model_with(&m.program, &m.globals, m.func, false, false)
        .unwrap()
        .plan()
        .expect("a plan")
        .to_string();
    assert!(text.contains("check 0 <= "), "{text}");
    // In bounds whatever is drawn: no check.
    let ok = load(&src.replace("0.45, 0.45, 0.1", "0.5, 0.5"), None);
    let text = tyche_jit::native_model_with(&ok.program, &ok.globals, ok.func, false, false)
        .unwrap()
        .plan()
        .expect("a plan")
        .to_string();
    assert!(!text.contains("check"), "{text}");
}

/// An invalid parameter of a discrete choice: the interpreter's message.
#[test]
fn invalid_categorical_weights_are_the_interpreters_error() {
    let src = r#"
fn model() -> Int {
    let w ~ Normal(0.0, 1.0);
    observe(Normal(w, 1.0), 0.3);
    let z ~ Categorical([1.0, w]);
    z
}
"#;
    let m = load(src, None);
    let model = infer_model(&m);
    let opts = smc_opts(50, false);
    let e1 = tyche_infer::infer(&model, &opts).expect_err("the interpreter fails");
    let mut nopts = opts.clone();
    nopts.native = Some(native(&m, false));
    let e2 = tyche_infer::infer(&model, &nopts).expect_err("the native run fails");
    assert_eq!(e1.message, e2.message);
    assert_eq!(e1.code, e2.code);
    assert_eq!(e1.labels, e2.labels);
}

/// θ from the prior, discrete choices as `k as f64`.
fn prior_theta(m: &Model, seed: u64) -> Option<Vec<f64>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut vm =
        Machine::for_function(m.program.clone(), m.globals.clone(), m.func).expect("machine");
    let mut theta = Vec::new();
    let mut e = vm.run().ok()?;
    loop {
        e = match e {
            Effect::Sample { dist, .. } => {
                let v = dist.sample(&mut rng);
                theta.push(match v {
                    Value::Real(x) => x,
                    Value::Int(k) => k as f64,
                    Value::Bool(b) => f64::from(u8::from(b)),
                    _ => panic!("vector choice"),
                });
                vm.resume(v).ok()?
            }
            Effect::Done(_) => break,
            _ => vm.run().ok()?,
        };
    }
    Some(theta)
}

/// Without a kernel, the density is the traced terms (discrete log
/// masses included), equal to the interpreter's log joint.
#[test]
fn density_of_discrete_models_matches_replay() {
    let families = r#"
fn model() -> Int {
    let lam ~ Gamma(3.0, 1.0);
    let k ~ Poisson(lam);
    let n ~ Binomial(40, 0.4);
    let g ~ Geometric(0.3);
    let u ~ DiscreteUniform(-3, 4);
    let c ~ Categorical([1.0, 2.0, lam, 4.0]);
    let b ~ Bernoulli(0.3);
    observe(Poisson(2.5), k);
    observe(Binomial(50, 0.5), n);
    observe(Binomial(45, 0.5), n);
    observe(Geometric(0.25), g);
    observe(Categorical([0.4, 0.3, 0.2, 0.1]), c);
    observe(Bernoulli(0.7), b);
    n + c
}
"#;
    for (name, src, data) in [("hmm", HMM, Some(HMM_DATA)), ("families", families, None)] {
        let m = load(src, data);
        let nm =
            tyche_jit::native_model_with(&m.program, &m.globals, m.func, false, false).unwrap();
        use tyche_infer::NativeDensity;
        let layout: Vec<tyche_jit::Choice> = (0..nm.dim())
            .map(|i| {
                let (site, index) = nm.address(i);
                tyche_jit::Choice {
                    address: String::new(),
                    name: String::new(),
                    index,
                    site,
                    dist: tyche_dist::DistKind::Normal,
                }
            })
            .collect();
        let rep = Replayer::new(m.program.clone(), m.globals.clone(), m.func, &layout);
        let mut checked = 0;
        for seed in 0..200 {
            let Some(theta) = prior_theta(&m, seed) else {
                continue;
            };
            let vm = rep.log_joint(&theta).expect("replay");
            let nat = nm.log_density(&theta);
            assert!(
                agree(vm, nat),
                "{name}: VM {vm} vs native {nat} at {theta:?}"
            );
            checked += 1;
        }
        assert!(checked > 150, "{name}: {checked}");
    }
}

/// `&&`, `||` and `if` on random Booleans whose arms only compute values
/// are traced as selects (issue 15 item 7: `condition(a && b)` used to
/// send a whole HMM to the interpreter), and SMC on the result agrees with
/// the interpreter draw for draw.
#[test]
fn branches_whose_arms_only_compute_become_selects() {
    let src = r#"
fn model() -> (Bool, Int, Real) {
    let a ~ Bernoulli(0.3);
    let b ~ Bernoulli(0.6);
    condition(a || b);
    let k = if a && !b { 2 } else { 0 };
    let z ~ Normal(if b { 1.0 } else { -1.0 } + real(k), 1.0);
    observe(Normal(z, 1.0), 0.5);
    let c ~ Bernoulli(0.5);
    condition(c || (a && b));
    (a, k, z)
}
"#;
    check_smc("selects", src, None);
    // Nested: a branch inside an arm, and an `if` producing a tuple.
    let src = r#"
fn model() -> (Real, Real) {
    let a ~ Bernoulli(0.4);
    let b ~ Bernoulli(0.7);
    let p = if a { if b { (1.0, 2.0) } else { (3.0, 4.0) } } else { (5.0, 6.0) };
    let (u, v) = p;
    observe(Normal(u, v), 2.0);
    (u, v)
}
"#;
    check_smc("nested selects", src, None);
}

/// Where `f64` could not compute the VM's integers exactly, or the model
/// branches on a random value, tracing stops with a reason.
#[test]
fn what_stays_on_the_interpreter() {
    let cases = [
        // A Poisson count is unbounded: its arithmetic could pass 2^53.
        (
            "let k ~ Poisson(3.0);\n    observe(Normal(real(k * 2), 1.0), 0.0);",
            "beyond ±2^53",
        ),
        (
            "let k ~ Categorical([0.5, 0.5]);\n    observe(Normal(real(7 / k), 1.0), 0.0);",
            "may be 0",
        ),
        (
            "let b ~ Bernoulli(0.5);\n    if b { observe(Normal(0.0, 1.0), 0.0); }",
            "a branch depends on a random choice (an arm of a branch on a random choice does more than compute a value)",
        ),
        (
            "let b ~ Bernoulli(0.5);\n    let f = if b { |x| x + 1 } else { |x| x };\n    observe(Normal(real(f(1)), 1.0), 0.0);",
            "cannot be selected between",
        ),
        (
            "let n ~ Poisson(3.0);\n    let k ~ Binomial(n, 0.5);",
            "Binomial with a random n",
        ),
    ];
    for (body, why) in cases {
        let src = format!("fn model() -> Int {{\n    {body}\n    0\n}}\n");
        let m = load(&src, None);
        let e = tyche_jit::native_model_with(&m.program, &m.globals, m.func, false, false)
            .expect_err(body);
        assert!(e.reason.contains(why), "{body}: {}", e.reason);
    }
}

/// MH on discrete choices has no Cranelift kernel: it runs on the traced
/// terms as expression programs when every support is fixed (the HMM's
/// rows of positive weights), and is refused when one can change (a zero
/// weight). Kernel extraction still rejects discrete choices.
#[test]
fn mh_runs_discrete_models_on_expression_programs() {
    let m = load(HMM, Some(HMM_DATA));
    let mh = Options::for_method(Method::Mh, 100);
    for request in [BackendRequest::Auto, BackendRequest::Jit] {
        let n = tyche_jit::for_inference(&m.program, &m.globals, m.func, &mh, request)
            .expect("native MH")
            .expect("not the interpreter");
        assert_eq!(n.0.origin(), "expression programs");
    }
    let zero = HMM_DATA.replacen("0.1", "0.0", 1);
    assert_ne!(zero, HMM_DATA);
    let m0 = load(HMM, Some(&zero));
    let auto =
        tyche_jit::for_inference(&m0.program, &m0.globals, m0.func, &mh, BackendRequest::Auto);
    assert!(matches!(auto, Ok(None)));
    let jit = tyche_jit::for_inference(&m0.program, &m0.globals, m0.func, &mh, BackendRequest::Jit)
        .expect_err("refused");
    assert_eq!(jit.code.as_deref(), Some("E0751"));
    assert!(
        jit.message.contains("support of this Categorical"),
        "{}",
        jit.message
    );
    let e = tyche_jit::extract(&m.program, &m.globals, m.func).expect_err("no kernel");
    assert!(e.reason.contains("Real choices only"), "{}", e.reason);
}

/// Integer operators on random Ints (negative operands included) give
/// the VM's `i64` results, and no `−0.0` leaks into reals.
#[test]
fn integer_semantics_match_the_vm() {
    let src = r#"
let labels = [3, -1, 7, 0];

fn model() -> ([Int], [Bool], [Real]) {
    let u ~ DiscreteUniform(-7, 7);
    let v ~ DiscreteUniform(1, 4);
    let w ~ DiscreteUniform(-4, -1);
    let l = labels[v - 1];
    let ints = [u + v, u - v, u * v, u * w, u / v, u / w, u % v, u % w, -u, abs(u),
                min(u, v), max(u, w), u / 3, u % -3, 0 * u, -(u * 0), l * u, l % 2,
                labels[abs(w) - 1] + l];
    let bools = [u < v, u <= w, u == 0, u != v, u > -2, u >= 3, l == 7, -u < l];
    // `−3 · 0`, `−0`, `−4 % 2` and `−1 / 4` are `−0.0` in f64, Int 0 in the VM.
    let reals = [1.0 / real(u * (v - 1)), 1.0 / real(-u), 1.0 / real(u % v),
                 1.0 / real(u / v), 1.0 / real(w * (v - 1)), real(u) * 0.5];
    (ints, bools, reals)
}
"#;
    let m = load(src, None);
    let (a, b) = both(&m, 500, true);
    assert_same("integers", &a, &b);
}
