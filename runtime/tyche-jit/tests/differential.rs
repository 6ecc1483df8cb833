//! Differential tests: for each model, the VM (replaying θ), the kernel
//! interpreter and the JIT agree to 1e-12 relative (or are both −∞) at
//! θ drawn from the prior and at edge points.

mod common;
use common::*;
use tyche_jit::{ExtractOptions, RerollOptions};

fn run_model(
    name: &str,
    src: &str,
    data: Option<&str>,
    draws: u64,
    opts: &ExtractOptions,
) -> tyche_jit::Kernel {
    let m = load(src, data);
    let k = m.kernel_with(opts);
    let c = tyche_jit::compile(&k).unwrap_or_else(|e| panic!("{name}: {e}"));
    let rep = m.replayer(&k);
    for s in 0..draws {
        let th = m.prior_draw(1000 + s);
        check_point(name, &rep, &k, &c, &th);
    }
    let base = m.prior_draw(7);
    for th in edge_points(&base) {
        check_point(name, &rep, &k, &c, &th);
    }
    assert!(
        c.compile_time.as_millis() < 2000,
        "{name}: compile took {:?}",
        c.compile_time
    );
    k
}

/// Runs a model with the default rerolling, with small loops rolled too,
/// and fully unrolled.
fn run_all_ways(name: &str, src: &str, data: Option<&str>, draws: u64) {
    run_model(name, src, data, draws, &ExtractOptions::default());
    let eager = ExtractOptions {
        reroll: RerollOptions {
            min_trip: 2,
            max_period: 64,
        },
        ..Default::default()
    };
    run_model(&format!("{name}/reroll"), src, data, draws / 4 + 1, &eager);
    let unrolled = ExtractOptions {
        reroll: RerollOptions {
            min_trip: 0,
            max_period: 64,
        },
        ..Default::default()
    };
    run_model(
        &format!("{name}/unrolled"),
        src,
        data,
        draws / 4 + 1,
        &unrolled,
    );
}

pub const LINREG: &str = r#"
data x: [Real];
data y: [Real];
fn model() -> Real {
    let alpha ~ Normal(0.0, 10.0);
    let beta ~ Normal(0.0, 10.0);
    let sigma ~ Exponential(1.0);
    for i in 0..len(x) {
        observe(Normal(alpha + beta * x[i], sigma), y[i]);
    }
    alpha
}
"#;

fn linreg_data(n: usize) -> String {
    let mut r = Lcg(11);
    let x: Vec<f64> = (0..n).map(|_| r.next_f64() * 4.0 - 2.0).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|xi| 1.0 + 2.0 * xi + 0.5 * r.normal())
        .collect();
    serde_json::json!({"x": x, "y": y}).to_string()
}

#[test]
fn linear_regression_1000() {
    let data = linreg_data(1000);
    let k = run_model(
        "linreg",
        LINREG,
        Some(&data),
        1000,
        &ExtractOptions::default(),
    );
    assert_eq!(k.dim(), 3);
    assert_eq!(
        k.loops.len(),
        1,
        "the observations are rolled into one loop:\n{k}"
    );
    assert_eq!(k.loops[0].count, 1000);
}

pub const EIGHT_SCHOOLS: &str = r#"
data J: Int;
data y: [Real];
data sigma: [Real];
fn model() -> Real {
    let mu ~ Normal(0.0, 5.0);
    let tau ~ Cauchy(0.0, 5.0);
    condition(tau > 0.0);
    let theta_trans = map(range(0, J), |j| sample("theta_trans", Normal(0.0, 1.0)));
    for j in 0..J {
        observe(Normal(mu + tau * theta_trans[j], sigma[j]), y[j]);
    }
    mu
}
"#;

fn eight_schools_data() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/posteriordb/eight_schools-eight_schools_noncentered/data.json"
    ))
    .unwrap_or_else(|_| {
        r#"{"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12], "sigma": [15, 10, 16, 11, 9, 11, 10, 18]}"#
            .into()
    })
}

#[test]
fn eight_schools_noncentered() {
    let data = eight_schools_data();
    run_all_ways("eight_schools", EIGHT_SCHOOLS, Some(&data), 3000);
    let m = load(EIGHT_SCHOOLS, Some(&data));
    let k = m.kernel();
    assert_eq!(k.dim(), 10);
    assert_eq!(k.choices[2].address, "theta_trans[0]");
    assert_eq!(k.choices[9].address, "theta_trans[7]");
}

pub const LOGREG: &str = r#"
data X: [[Real]];
data y: [Bool];
fn model() -> Real {
    let alpha ~ Normal(0.0, 5.0);
    let beta = map(range(0, 10), |j| sample("beta", Normal(0.0, 1.0)));
    for i in 0..len(y) {
        let eta = alpha + dot(X[i], beta);
        observe(Bernoulli(sigmoid(eta)), y[i]);
    }
    alpha
}
"#;

fn logreg_data(n: usize, p: usize) -> String {
    let mut r = Lcg(5);
    let truth: Vec<f64> = (0..p).map(|_| r.normal()).collect();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for _ in 0..n {
        let x: Vec<f64> = (0..p).map(|_| r.normal()).collect();
        let eta: f64 = 0.3 + x.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>();
        ys.push(r.next_f64() < 1.0 / (1.0 + (-eta).exp()));
        xs.push(x);
    }
    serde_json::json!({"X": xs, "y": ys}).to_string()
}

#[test]
fn logistic_regression_1000x10() {
    let data = logreg_data(1000, 10);
    let k = run_model(
        "logreg",
        LOGREG,
        Some(&data),
        300,
        &ExtractOptions::default(),
    );
    assert_eq!(k.dim(), 11);
    assert_eq!(k.loops.len(), 1, "{k}");
}

#[test]
fn continuous_choices_and_observations() {
    let src = r#"
fn model() -> [Real] {
    let a ~ Normal(0, 1);
    let b ~ LogNormal(0.0, 0.5);
    let c ~ Uniform(-1.0, 1.0);
    let d ~ Beta(2.0, 3.0);
    let e ~ Gamma(2.0, 1.0);
    let f ~ InvGamma(3.0, 2.0);
    let g ~ Exponential(1.5);
    let h ~ Cauchy(0.0, 1.0);
    let i ~ StudentT(3.0, 0.0, 1.0);
    let j ~ Beta(0.5, 1.0);
    let k ~ Gamma(0.7, 2.0);
    observe(Normal(a, 1.0), 0.5);
    observe(LogNormal(0.0, 1.0), b);
    observe(Gamma(2.0, 2.0), e);
    observe(Normal(a, b), c);
    observe(Beta(e, g), d);
    observe(StudentT(e, h, b), 0.3);
    observe(Cauchy(h, g), i);
    observe(InvGamma(b, e), 1.5);
    observe(Uniform(c, c + b), 0.2);
    observe(LogNormal(h, e), 2.0);
    observe(Exponential(e), f);
    observe(Gamma(b, g), j);
    [a, b, c, d, e, f, g, h, i]
}
"#;
    run_all_ways("continuous", src, None, 4000);
}

#[test]
fn discrete_observations_with_random_parameters() {
    let src = r#"
data counts: [Int];
data flips: [Bool];
data trials: [Int];
data cats: [Int];
fn model() -> Real {
    let lam ~ Gamma(2.0, 0.5);
    let p ~ Beta(2.0, 2.0);
    let w0 ~ Exponential(1.0);
    let w1 ~ Exponential(1.0);
    for c in counts { observe(Poisson(lam), c); }
    for f in flips { observe(Bernoulli(p), f); }
    for t in trials { observe(Binomial(12, p), t); }
    for c in counts { observe(Geometric(p), c); }
    for c in cats { observe(Categorical([w0, w1, 1.0]), c); }
    observe(Poisson(lam * 0.0), 0);
    observe(Binomial(0, p), 0);
    lam
}
"#;
    let data = r#"{"counts": [0, 3, 1, 7, 0, 2, 12, 4, 0, 1, 5, 3, 2, 2, 9, 0, 1, 40, 3, 2],
        "flips": [true, false, true, true, false, true, false, false, true, true, true, false, true, false, true, true, false, true],
        "trials": [0, 12, 5, 6, 7, 3, 11, 12, 0, 4, 5, 6, 8, 9, 2, 1, 0, 13, -1, 6],
        "cats": [0, 1, 2, 2, 1, 0, 0, 3, 1, 2, 2, 2, 1, 0, 1, 1, 2, 0, -1, 1]}"#;
    run_all_ways("discrete", src, Some(data), 3000);
}

#[test]
fn state_space_tail_recursion() {
    let src = r#"
data T: Int;
data y: [Real];
fn step(t: Int, x: Real) -> Real {
    if t == T {
        x
    } else {
        let xn ~ if t == 0 { Normal(0.0, 2.0) } else { Normal(0.9 * x, 0.5) };
        observe(Normal(xn, 0.8), y[t]);
        step(t + 1, xn)
    }
}
fn model() -> Real { step(0, 0.0) }
"#;
    let mut r = Lcg(3);
    let mut x = 0.0;
    let y: Vec<f64> = (0..60)
        .map(|_| {
            x = 0.9 * x + 0.5 * r.normal();
            x + 0.8 * r.normal()
        })
        .collect();
    let data = serde_json::json!({"T": 60, "y": y}).to_string();
    run_all_ways("lgss", src, Some(&data), 500);
    let m = load(src, Some(&data));
    let k = m.kernel();
    assert_eq!(k.dim(), 60);
    assert_eq!(k.loops.len(), 1, "{k}");
}

#[test]
fn fold_scan_and_state_space_with_fold() {
    let src = r#"
data ys: [Real];
fn model() -> Real {
    let s ~ Gamma(2.0, 2.0);
    let last = fold(ys, 0.0, |x_prev, y| {
        let x ~ Normal(0.9 * x_prev, s);
        observe(Normal(x, 0.5), y);
        x
    });
    let cs = cumsum(map(ys, |y| y * s));
    factor(-0.001 * sum(cs));
    last
}
"#;
    let ys: Vec<f64> = (0..40).map(|i| (i as f64 * 0.3).sin()).collect();
    let data = serde_json::json!({"ys": ys}).to_string();
    run_all_ways("fold", src, Some(&data), 500);
}

#[test]
fn mixture_with_log_sum_exp() {
    let src = r#"
data xs: [Real];
fn model() -> Real {
    let m1 ~ Normal(-2.0, 3.0);
    let m2 ~ Normal(2.0, 3.0);
    let s ~ LogNormal(0.0, 1.0);
    let w ~ Beta(2.0, 2.0);
    for x in xs {
        factor(log_sum_exp([log(w) + log_prob(Normal(m1, s), x),
                            log(1.0 - w) + log_prob(Normal(m2, s), x)]));
    }
    m1
}
"#;
    let mut r = Lcg(9);
    let xs: Vec<f64> = (0..50)
        .map(|i| if i % 3 == 0 { -2.0 } else { 2.0 } + r.normal())
        .collect();
    let data = serde_json::json!({"xs": xs}).to_string();
    run_all_ways("mixture", src, Some(&data), 1000);
}

#[test]
fn ar_k_posteriordb() {
    let src = r#"
data K: Int;
data T: Int;
data y: [Real];
fn model() -> Real {
    let alpha ~ Normal(0.0, 10.0);
    let beta = map(range(0, K), |k| sample("beta", Normal(0.0, 10.0)));
    let sigma ~ Cauchy(0.0, 2.5);
    condition(sigma > 0.0);
    for t in K..T {
        let mu = alpha + sum(map(range(0, K), |k| beta[k] * y[t - k - 1]));
        observe(Normal(mu, sigma), y[t]);
    }
    alpha
}
"#;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/posteriordb/arK-arK/data.json"
    );
    let Ok(data) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {path} not found");
        return;
    };
    run_all_ways("arK", src, Some(&data), 300);
}

#[test]
fn math_primitives() {
    let src = r#"
fn model() -> Real {
    let a ~ Normal(0.0, 2.0);
    let b ~ Gamma(2.0, 1.0);
    let c ~ Uniform(0.0, 1.0);
    factor(-abs(a) + min(a, b) - max(a, 0.5 * b));
    factor(-0.1 * pow(b, 1.5) + 0.01 * (a ^ 2.0));
    factor(0.01 * (floor(a) + ceil(b)) - 0.001 * sqrt(b));
    factor(log(sigmoid(a)) + 0.1 * logit(c) - 0.01 * lgamma(b));
    factor(0.1 * log1p(b) - 0.01 * expm1(-b) + 0.1 * (sin(a) + cos(a) + atan(a) + tanh(a)));
    factor(0.001 * tan(0.3 * c) + 0.01 * exp(-b) + 0.01 * (a % 1.5));
    condition(b < 5.0);
    condition(!(a > 100.0));
    observe(Normal(real(3) * a, 1.0 + b), 0.25);
    a
}
"#;
    run_all_ways("math", src, None, 4000);
}

#[test]
fn kidiq_posteriordb() {
    let src = r#"
data N: Int;
data kid_score: [Real];
data mom_iq: [Real];
fn model() -> Real {
    let b1 ~ Normal(0.0, 100.0);
    let b2 ~ Normal(0.0, 100.0);
    let sigma ~ Cauchy(0.0, 2.5);
    condition(sigma > 0.0);
    for n in 0..N {
        observe(Normal(b1 + b2 * mom_iq[n], sigma), kid_score[n]);
    }
    b1
}
"#;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/posteriordb/kidiq-kidscore_momiq/data.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {path} not found");
        return;
    };
    // Keep only the items the model declares.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let data = serde_json::json!({"N": v["N"], "kid_score": v["kid_score"], "mom_iq": v["mom_iq"]})
        .to_string();
    run_all_ways("kidiq", src, Some(&data), 300);
}

#[test]
fn not_static_models_are_rejected_with_a_reason() {
    let cases = [
        ("fn model() -> Real { let a ~ Normal(0.0, 1.0); if a > 0.0 { observe(Normal(a, 1.0), 1.0); } a }", "branch"),
        ("fn model() -> Int { let k ~ Poisson(3.0); k }", "Int-valued"),
        ("fn model() -> Bool { let k ~ Bernoulli(0.3); k }", "Bool-valued"),
        // (Without the observation the density would be complete and only
        // the return value replayed: see tests/replayed_result.rs.)
        ("fn model() -> Real { let a ~ Normal(0.0, 1.0); let xs = [1.0, 2.0]; observe(Normal(xs[int(a)], 1.0), 0.5); a }", "random value"),
        ("fn inner() -> Real { let a ~ Normal(0.0, 1.0); a } fn model() -> Real { mean(infer(Importance(10), inner)) }", "inference"),
    ];
    for (src, want) in cases {
        let m = load(src, None);
        match tyche_jit::extract(&m.program, &m.globals, m.func) {
            Ok(k) => panic!("expected NotStatic for {src}, got\n{k}"),
            Err(e) => assert!(
                e.reason.contains(want),
                "{src}: reason `{}` lacks `{want}`",
                e.reason
            ),
        }
    }
}

#[test]
fn emit_clif_and_object_file() {
    let data = linreg_data(100);
    let m = load(LINREG, Some(&data));
    let k = m.kernel();
    let clif = tyche_jit::emit_clif(&k).unwrap();
    assert!(clif.contains("function"), "{clif}");
    assert!(clif.contains("brif"), "the loop is a loop:\n{clif}");
    let obj = tyche_jit::compile_object(&k, "my_model_log_density").unwrap();
    assert!(obj.starts_with(b"\x7fELF") || !cfg!(target_os = "linux"));
    let text = k.to_string();
    assert!(text.contains("loop L0 k in 0..100"), "{text}");
}

#[test]
fn hmm_forward_algorithm_recurrence() {
    let src = r#"
data y: [Real];
data log_a: [[Real]];
fn model() -> Real {
    let mu = map(range(0, 3), |k| sample("mu", Normal(0.0, 5.0)));
    let sigma ~ Exponential(1.0);
    let init = map(range(0, 3), |j| log(1.0 / 3.0) + log_prob(Normal(mu[j], sigma), y[0]));
    let rest = map(range(1, len(y)), |t| y[t]);
    let alpha = fold(rest, init, |alpha, yt| map(range(0, 3), |j|
        log_sum_exp(map(range(0, 3), |i| alpha[i] + log_a[i][j])) + log_prob(Normal(mu[j], sigma), yt)));
    factor(log_sum_exp(alpha));
    sigma
}
"#;
    let mut r = Lcg(21);
    let y: Vec<f64> = (0..200)
        .map(|t| [-2.0, 0.0, 2.0][(t / 17) % 3] + r.normal())
        .collect();
    let log_a: Vec<Vec<f64>> = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
        .iter()
        .map(|row| row.iter().map(|p: &f64| p.ln()).collect())
        .collect();
    let data = serde_json::json!({"y": y, "log_a": log_a}).to_string();
    run_all_ways("hmm", src, Some(&data), 500);
    let m = load(src, Some(&data));
    let k = m.kernel();
    assert_eq!(k.loops.len(), 1, "the forward recursion is one loop:\n{k}");
    assert_eq!(k.loops[0].carried.len(), 3);
    assert!(k.loops[0].count >= 197);
}

#[test]
fn models_without_choices_and_trace_layout() {
    // No choices at all: a constant density.
    let m = load(
        "fn model() -> Real { observe(Normal(0.0, 1.0), 0.5); factor(-1.25); 1.0 }",
        None,
    );
    let k = m.kernel();
    assert_eq!(k.dim(), 0);
    let c = tyche_jit::compile(&k).unwrap();
    let rep = m.replayer(&k);
    check_point("constant", &rep, &k, &c, &[]);
    // A trace maps to θ by address.
    let data = linreg_data(10);
    let m = load(LINREG, Some(&data));
    let k = m.kernel();
    let names = ["alpha", "beta", "sigma"];
    let trace: Vec<(tyche_vm::Address, tyche_vm::Value)> = names
        .iter()
        .rev()
        .enumerate()
        .map(|(i, n)| {
            let name = m.program.name_id(n).unwrap();
            (
                tyche_vm::Address { name, index: 0 },
                tyche_vm::Value::Real(i as f64 + 0.5),
            )
        })
        .collect();
    assert_eq!(
        k.theta_from_trace(&m.program, &trace),
        Some(vec![2.5, 1.5, 0.5])
    );
    assert_eq!(k.addresses(), vec!["alpha[0]", "beta[0]", "sigma[0]"]);
}

#[test]
fn interventions_and_conditioning_by_surgery() {
    // `do` removes a choice from θ; `condition` turns it into an observation.
    let src = r#"
fn model() -> Real {
    let a ~ Normal(0.0, 1.0);
    let b ~ Normal(a, 2.0);
    let c ~ Gamma(2.0, 1.0);
    observe(Normal(a + b, c), 0.3);
    a
}
"#;
    let mut sources = tyche_core::SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, "s.ppl", src).unwrap();
    let func = tyche_driver::model(&compiled, &sources, "model").unwrap();
    let edits = vec![
        tyche_driver::parse_cli_edit("b=1.5", tyche_ir::EditKind::Do).unwrap(),
        tyche_driver::parse_cli_edit("c=0.7", tyche_ir::EditKind::Observe).unwrap(),
    ];
    let (program, root, values) =
        tyche_driver::apply_cli_surgery(&compiled.ir, func, &edits).unwrap();
    let mut bound = tyche_driver::bind_data(&compiled, &sources, None).unwrap();
    bound.extend(values);
    let program = std::sync::Arc::new(program);
    let globals = tyche_driver::evaluate_globals(&program, &bound).unwrap();
    let m = Model {
        program,
        globals,
        func: root,
    };
    let k = m.kernel();
    assert_eq!(k.addresses(), vec!["a[0]"]);
    let c = tyche_jit::compile(&k).unwrap();
    let rep = m.replayer(&k);
    for s in 0..200 {
        check_point("surgery", &rep, &k, &c, &m.prior_draw(s));
    }
}

/// Every program of the end-to-end corpus either extracts to a kernel that
/// agrees with the VM, or is rejected with a reason; none panics.
#[test]
fn corpus_programs_extract_or_are_rejected() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/valid");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    let (mut ok, mut rejected) = (0, 0);
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ppl"))
    {
        let src = std::fs::read_to_string(p).unwrap();
        let data_path = p.with_extension("data.json");
        let data = std::fs::read_to_string(&data_path).ok();
        let mut sources = tyche_core::SourceMap::new();
        let Ok(compiled) = tyche_driver::compile_source(&mut sources, "c.ppl", &src) else {
            continue;
        };
        let data =
            data.and_then(|t| tyche_driver::parse_data_file(&mut sources, "d.json", &t).ok());
        let Ok(bound) =
            tyche_driver::bind_data(&compiled, &sources, data.as_ref().map(|(f, v)| (*f, v)))
        else {
            continue;
        };
        let Ok(func) = tyche_driver::model(&compiled, &sources, "model") else {
            continue;
        };
        let Ok(globals) = tyche_driver::evaluate_globals(&compiled.ir, &bound) else {
            continue;
        };
        let m = Model {
            program: compiled.ir.clone(),
            globals,
            func,
        };
        match tyche_jit::extract(&m.program, &m.globals, m.func) {
            Ok(k) => {
                let c = tyche_jit::compile(&k).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                let rep = m.replayer(&k);
                for s in 0..50 {
                    check_point(&p.display().to_string(), &rep, &k, &c, &m.prior_draw(s));
                }
                ok += 1;
            }
            Err(e) => {
                assert!(!e.reason.is_empty());
                assert!(
                    !e.reason.contains("internal error"),
                    "{}: {}",
                    p.display(),
                    e.reason
                );
                rejected += 1;
            }
        }
    }
    eprintln!("corpus: {ok} kernels, {rejected} not static");
}
