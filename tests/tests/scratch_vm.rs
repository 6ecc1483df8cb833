//! Smoke test of the pipeline: compile and forward-run programs on the interpreter.
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

#[test]
fn forward() {
    println!("{:?}", run_forward("let flips = [true, false];\nfn model() -> Real { let p ~ Beta(1, 1); for f in flips { observe(Bernoulli(p), f); } p }"));
    println!("{:?}", run_forward("fn model() { let xs = map([1.0, 2.0, 3.0], |x| { let z ~ Normal(x, 1.0); z * 2.0 }); (sum(xs), fold(xs, 0.0, |a, x| a + x), len(xs)) }"));
    println!("{:?}", run_forward("fn fact(n: Int) -> Int { if n == 0 { 1 } else { n * fact(n - 1) } }\nfn loop_(n: Int, acc: Int) -> Int { if n == 0 { acc } else { loop_(n - 1, acc + 1) } }\nfn model() { (fact(10), loop_(1000000, 0), reverse([1,2,3]), cumsum([1.0,2.0]), dot([1.0],[2.0])) }"));
    println!("{:?}", run_forward("fn model() { let xs = [1, 2]; xs[5] }"));
    println!("{:?}", run_forward("fn model() { 1 / 0 }"));
    println!("{:?}", run_forward("fn model() { Normal(0.0, -1.0) }"));
    println!(
        "{:?}",
        run_forward("fn f(n: Int) -> Int { 1 + f(n + 1) }\nfn model() { f(0) }")
    );
}

#[test]
fn surgery_forward() {
    println!("{:?}", run_forward("fn model() { let x ~ Normal(0.0, 1.0); let y ~ Normal(x, 1.0); (x, y) }\nfn main2() { 1 }"));
    let src = "fn inner() { let z ~ Normal(0.0, 1.0); z }\nfn m() { let x ~ Normal(0.0, 1.0); let zs = map([1,2,3], |i| inner()); (x, zs) }\nfn model() { let f = do(m, x = 5.0, z[1] = 7.0); f() }";
    println!("{:?}", run_forward(src));
    println!(
        "{:?}",
        run_forward(
            "fn m() { let x ~ Normal(0.0, 1.0); x }\nfn model() { let f = do(m, xx = 5.0); f() }"
        )
    );
    println!("{:?}", run_forward("fn m() { let x ~ Normal(0.0, 1.0); x }\nfn model() { let f = do(do(m, x = 5.0), x = 6.0); f() }"));
}
