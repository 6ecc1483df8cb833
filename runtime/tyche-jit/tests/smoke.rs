//! A first end-to-end check on a tiny regression.
mod common;
use common::*;

#[test]
fn tiny_regression() {
    let src = r#"
data x: [Real];
data y: [Real];
fn model() -> Real {
    let a ~ Normal(0.0, 10.0);
    let b ~ Normal(0.0, 10.0);
    let s ~ Exponential(1.0);
    for i in 0..len(x) {
        observe(Normal(a + b * x[i], s), y[i]);
    }
    a
}
"#;
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut r = Lcg(7);
    for _ in 0..40 {
        let xi = r.next_f64() * 4.0 - 2.0;
        x.push(xi);
        y.push(1.0 + 2.0 * xi + 0.5 * r.normal());
    }
    let data = serde_json::json!({"x": x, "y": y}).to_string();
    let m = load(src, Some(&data));
    let k = m.kernel();
    println!("{k}");
    let c = tyche_jit::compile(&k).unwrap();
    println!("{}", tyche_jit::emit_clif(&k).unwrap());
    let rep = m.replayer(&k);
    for s in 0..50 {
        let th = m.prior_draw(s);
        check_point("tiny", &rep, &k, &c, &th);
    }
    for th in edge_points(&m.prior_draw(99)) {
        check_point("tiny-edge", &rep, &k, &c, &th);
    }
    println!("compile {:?} size {}", c.compile_time, c.code_size);
}

/// A kernel whose iterations do not roll into a loop (the branch on each
/// label differs) is compiled to machine code only when the MH run is
/// long enough to repay the compilation; either way the density is the
/// same.
#[test]
fn long_unrolled_kernels_compile_only_for_long_runs() {
    let src = r#"
data xs: [Real];
data labels: [Bool];
fn model() -> Real {
    let m ~ Normal(0.0, 1.0);
    let s ~ Gamma(1.0, 1.0);
    for p in zip(xs, labels) {
        let t ~ Normal(m * p.0, s);
        let q = sigmoid(t);
        factor(log(if p.1 { q } else { 1.0 - q }));
    }
    m
}
"#;
    let mut r = Lcg(3);
    let n = 1500;
    let xs: Vec<f64> = (0..n).map(|_| r.next_f64() * 2.0 - 1.0).collect();
    let labels: Vec<bool> = (0..n).map(|_| r.next_f64() < 0.5).collect();
    let data = serde_json::json!({"xs": xs, "labels": labels}).to_string();
    let m = load(src, Some(&data));
    let native = |samples: usize| {
        let opts = tyche_infer::Options {
            method: tyche_infer::Method::Mh,
            samples,
            burn: 0,
            chains: 1,
            ..tyche_infer::Options::default()
        };
        let n = tyche_jit::for_inference(
            &m.program,
            &m.globals,
            m.func,
            &opts,
            tyche_jit::BackendRequest::Jit,
        )
        .expect("static")
        .expect("native");
        n.0
    };
    let (short, long) = (native(100), native(1_000_000));
    assert_eq!(short.origin(), "kernel interpreter");
    assert_eq!(long.origin(), "jit");
    for seed in 0..5 {
        let theta: Vec<f64> = (0..short.dim())
            .map(|i| 0.3 * ((seed * 7 + i) % 5) as f64 - 0.5)
            .map(f64::abs)
            .collect();
        let (a, b) = (short.log_density(&theta), long.log_density(&theta));
        assert!(agree(a, b), "{a} vs {b}");
    }
}
