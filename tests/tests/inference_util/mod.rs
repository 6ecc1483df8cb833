//! Shared helpers of the `inference_*` tests: compile Tyche source to a
//! [`Model`], run a method, and the statistics the tolerances use.
//!
//! Tolerance convention: an estimate with effective sample size `ess` of a
//! quantity with posterior standard deviation `sd` has Monte Carlo standard
//! error about `sd / sqrt(ess)`; tests allow 5 standard errors (probability
//! 6e-7 for a Gaussian error), so with fixed seeds they are deterministic,
//! and a failure points at a bias rather than bad luck.
#![allow(dead_code)]

use std::collections::HashMap;
use tyche_core::SourceMap;
use tyche_infer::{infer, InferResult, Method, Model, Options};
use tyche_vm::Value;

/// Compiles `src` and returns the model `name`, with `data` items bound.
pub fn model_named(src: &str, name: &str, data: &[(&str, Value)]) -> Model {
    let mut sources = SourceMap::new();
    let compiled = match tyche_driver::compile_source(&mut sources, "test.ppl", src) {
        Ok(c) => c,
        Err(ds) => panic!("{}", tyche_core::render_all(&ds, &sources, false)),
    };
    let mut bound = HashMap::new();
    for (k, v) in data {
        let g = compiled
            .ir
            .global_by_name(k)
            .unwrap_or_else(|| panic!("no data item {k}"));
        bound.insert(g, v.clone());
    }
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &bound)
        .unwrap_or_else(|d| panic!("{}", tyche_core::render(&d, &sources, false)));
    let func = tyche_driver::model(&compiled, &sources, name)
        .unwrap_or_else(|d| panic!("{}", tyche_core::render(&d, &sources, false)));
    Model::for_function(compiled.ir.clone(), globals, func)
}

/// The model `model` of `src`.
pub fn model_of(src: &str) -> Model {
    model_named(src, "model", &[])
}

/// Runs `method` with size `n` and a fixed seed.
pub fn run(m: &Model, method: Method, n: usize) -> InferResult {
    run_with(m, Options::for_method(method, n).with_seed(42))
}

pub fn run_with(m: &Model, opts: Options) -> InferResult {
    infer(m, &opts).unwrap_or_else(|d| panic!("{:?} failed: {}", opts.method, d.message))
}

pub fn reals(xs: &[f64]) -> Value {
    Value::array(xs.iter().map(|&x| Value::Real(x)).collect())
}

/// The effective sample size a result's Monte Carlo error should be judged
/// by: the method's own ESS (Kish's for weighted draws, the autocorrelation
/// estimate for MCMC), or the number of draws for exact sampling.
pub fn ess_of(r: &InferResult) -> f64 {
    r.ess.unwrap_or(r.draws.len() as f64)
}

/// Checks `|estimate − truth| < 5 · sd / sqrt(ess)`.
pub fn assert_close(what: &str, estimate: f64, truth: f64, sd: f64, ess: f64) {
    let tol = 5.0 * sd / ess.sqrt();
    assert!(
        (estimate - truth).abs() <= tol,
        "{what}: {estimate} vs {truth} (tolerance {tol}, ess {ess:.0})"
    );
}

/// The posterior variance of a numeric result.
pub fn variance(r: &InferResult) -> f64 {
    let m = r.mean().unwrap();
    r.expectation(|v| v.as_number().map(|x| (x - m) * (x - m)))
        .unwrap()
}

/// ln Γ(x) (Lanczos, |error| < 1e-13 for x > 0.5: enough for evidences).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Pearson's chi-square statistic of `counts` against equal expected
/// counts.
pub fn chi_square_uniform(counts: &[usize]) -> f64 {
    let total: usize = counts.iter().sum();
    let e = total as f64 / counts.len() as f64;
    counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum()
}
