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
