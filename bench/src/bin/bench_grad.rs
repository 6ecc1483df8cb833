//! One gradient evaluation of a model's log density: Tyche's reverse-mode
//! kernel gradient (`tyche_jit::gradient`'s evaluator, compiled with
//! Cranelift: what NUTS calls at every leapfrog step; the interpreted
//! gradient is timed too) against a hand-written analytic gradient in Rust of the
//! same density in the same unconstrained coordinates, measured in the same
//! run. Two models: linear regression with N = 1000 points, and logistic
//! regression with N = 1000 points × 10 covariates. The issue's target is
//! a ratio of at most 1.5.
//!
//! Before timing, both gradients are evaluated at every point and must
//! agree (value and every partial, to 1e-9 relative), so the two sides
//! compute the same thing.
//!
//! ```text
//! cargo run --release -p tyche-bench --bin bench_grad [-- --secs 0.5]
//! ```

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde_json::{json, Value as Json};
use std::hint::black_box;
use std::time::Instant;
use tyche_bench::{median, BenchRng};
use tyche_core::{render_all, SourceMap};
use tyche_jit::gradient::GradientModel;

const N: usize = 1000;
const D: usize = 10;
/// Evaluation points per model (the timed loop cycles through them).
const POINTS: usize = 16;
/// Timed batches per side; the median batch is reported.
const BATCHES: usize = 7;

const LINREG: &str = r#"
data x: [Real];
data y: [Real];
fn model() -> (Real, Real, Real) {
    let a ~ Normal(0.0, 10.0);
    let b ~ Normal(0.0, 10.0);
    let sigma ~ Exponential(1.0);
    for i in 0..len(x) {
        observe(Normal(a + b * x[i], sigma), y[i]);
    }
    (a, b, sigma)
}
"#;

const LOGREG: &str = r#"
data D: Int;
data x: [[Real]];
data y: [Bool];
fn model() -> Real {
    let alpha ~ Normal(0.0, 1.0);
    let beta = repeat(D, || sample("beta", Normal(0.0, 1.0)));
    for i in 0..len(y) {
        let eta = fold(range(0, D), alpha, |acc, d| acc + beta[d] * x[i][d]);
        observe(Bernoulli(sigmoid(eta)), y[i]);
    }
    alpha
}
"#;

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Compiles `src`, binds `data`, and builds the gradient model of `model`.
fn gradient_model(name: &str, src: &str, data: &Json) -> GradientModel {
    let mut sources = SourceMap::new();
    let die = |d: &[tyche_core::Diagnostic], s: &SourceMap| -> ! {
        eprintln!("{}", render_all(d, s, false));
        std::process::exit(1)
    };
    let compiled =
        tyche_driver::compile_source(&mut sources, name, src).unwrap_or_else(|d| die(&d, &sources));
    let text = data.to_string();
    let (file, value) =
        tyche_driver::parse_data_file(&mut sources, &format!("{name}.data.json"), &text)
            .unwrap_or_else(|d| die(&[d], &sources));
    let bound = tyche_driver::bind_data(&compiled, &sources, Some((file, &value)))
        .unwrap_or_else(|d| die(&d, &sources));
    let func =
        tyche_driver::model(&compiled, &sources, "model").unwrap_or_else(|d| die(&[d], &sources));
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &bound)
        .unwrap_or_else(|d| die(&[d], &sources));
    GradientModel::new(&compiled.ir, &globals, func).unwrap_or_else(|e| {
        eprintln!("{name}: not a static model: {e}");
        std::process::exit(1)
    })
}

// ---------------------------------------------------------------- hand-written gradients

/// Linear regression: a, b ~ Normal(0, 10), sigma = exp(s) with s the
/// coordinate (sigma ~ Exponential(1), log-Jacobian s), y ~ Normal(a + b x, sigma).
struct LinReg {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl LinReg {
    fn log_density_gradient(&self, phi: &[f64], grad: &mut [f64]) -> f64 {
        let (a, b, s) = (phi[0], phi[1], phi[2]);
        let sigma = s.exp();
        let inv_var = 1.0 / (sigma * sigma);
        let (mut sr, mut srx, mut srr) = (0.0, 0.0, 0.0);
        for (&x, &y) in self.x.iter().zip(&self.y) {
            let r = y - a - b * x;
            sr += r;
            srx += r * x;
            srr += r * r;
        }
        let n = self.x.len() as f64;
        let prior = -0.5 * (a * a + b * b) / 100.0 - 2.0 * (10f64.ln() + HALF_LN_2PI);
        let lp = prior - sigma + s - 0.5 * srr * inv_var - n * (s + HALF_LN_2PI);
        grad[0] = -a / 100.0 + sr * inv_var;
        grad[1] = -b / 100.0 + srx * inv_var;
        grad[2] = -sigma + 1.0 + srr * inv_var - n;
        lp
    }
}

/// Logistic regression: alpha, beta[d] ~ Normal(0, 1), y ~ Bernoulli(sigmoid(alpha + x·beta)).
struct LogReg {
    /// Row-major, N × D.
    x: Vec<f64>,
    y: Vec<bool>,
}

/// log(1 + e^t), without overflow.
fn softplus(t: f64) -> f64 {
    if t > 0.0 {
        t + (-t).exp().ln_1p()
    } else {
        t.exp().ln_1p()
    }
}

impl LogReg {
    fn log_density_gradient(&self, phi: &[f64], grad: &mut [f64]) -> f64 {
        let alpha = phi[0];
        let beta = &phi[1..];
        let mut lp = -0.5 * phi.iter().map(|v| v * v).sum::<f64>() - phi.len() as f64 * HALF_LN_2PI;
        for (g, &v) in grad.iter_mut().zip(phi) {
            *g = -v;
        }
        for (row, &y) in self.x.chunks_exact(D).zip(&self.y) {
            let eta = alpha + row.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>();
            // log p(y | eta) = -softplus(-eta) if y, -softplus(eta) if not;
            // its derivative in eta is y - sigmoid(eta).
            let p = 1.0 / (1.0 + (-eta).exp());
            let (l, r) = if y {
                (-softplus(-eta), 1.0 - p)
            } else {
                (-softplus(eta), -p)
            };
            lp += l;
            grad[0] += r;
            for (g, x) in grad[1..].iter_mut().zip(row) {
                *g += r * x;
            }
        }
        lp
    }
}

// ---------------------------------------------------------------- timing

/// Seconds per call of `f`: BATCHES batches, each about `secs` / BATCHES
/// long, the median batch.
fn per_call(secs: f64, mut f: impl FnMut(usize) -> f64) -> f64 {
    // Calibrate the batch length.
    let mut reps = 1usize;
    loop {
        let t0 = Instant::now();
        for i in 0..reps {
            black_box(f(i));
        }
        let dt = t0.elapsed().as_secs_f64();
        if dt > 0.02 {
            reps = ((reps as f64) * (secs / BATCHES as f64) / dt)
                .ceil()
                .max(1.0) as usize;
            break;
        }
        reps *= 2;
    }
    let mut times = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let t0 = Instant::now();
        for i in 0..reps {
            black_box(f(i));
        }
        times.push(t0.elapsed().as_secs_f64() / reps as f64);
    }
    median(&times)
}

/// Checks that both sides agree at every point, times both, prints.
fn compare(
    name: &str,
    gm: &GradientModel,
    points: &[Vec<f64>],
    secs: f64,
    mut hand: impl FnMut(&[f64], &mut [f64]) -> f64,
) -> f64 {
    let dim = points[0].len();
    let mut tyche = gm.evaluator();
    if let Err(e) = gm.compiled() {
        eprintln!("{name}: the gradient is not compiled ({e}); timing the interpreter");
    }
    let mut interp = gm.gradient();
    assert_eq!(
        gm.kernel().dim(),
        dim,
        "{name}: the kernel has {} coordinates, not {dim}",
        gm.kernel().dim()
    );
    let (mut g1, mut g2) = (vec![0.0; dim], vec![0.0; dim]);
    let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-9 * scale.max(1.0);
    for phi in points {
        let l1 = tyche.eval(phi, &mut g1);
        let l2 = hand(phi, &mut g2);
        let scale = g1.iter().chain(&g2).fold(0.0f64, |m, v| m.max(v.abs()));
        if !close(l1, l2, l1.abs()) || g1.iter().zip(&g2).any(|(a, b)| !close(*a, *b, scale)) {
            eprintln!("{name}: Tyche and the hand-written gradient differ at {phi:?}:\n  tyche {l1} {g1:?}\n  hand  {l2} {g2:?}");
            std::process::exit(1);
        }
    }
    let kernel = gm.kernel();
    let t_tyche = per_call(secs, |i| tyche.eval(&points[i % POINTS], &mut g1));
    let t_hand = per_call(secs, |i| hand(&points[i % POINTS], &mut g2));
    let t_interp = per_call(secs, |i| interp.eval(&points[i % POINTS], &mut g1));
    let t_value = per_call(secs, |i| kernel.eval(&points[i % POINTS]));
    // The same kernel's value compiled to native code (Cranelift), as MH
    // uses it: what generated code achieves today, without a gradient.
    let native = tyche_jit::compile(kernel).unwrap_or_else(|e| {
        eprintln!("{name}: the kernel does not compile: {e}");
        std::process::exit(1)
    });
    let t_native = per_call(secs, |i| native.log_density(&points[i % POINTS]));
    let ratio = t_tyche / t_hand;
    let loops: Vec<String> = kernel
        .loops
        .iter()
        .map(|l| format!("{} iterations x {} nodes", l.count, l.body.len()))
        .collect();
    println!(
        "info grad_{name} kernel: {} coordinates, {} nodes, {} top-level items, loops: [{}]",
        dim,
        kernel.nodes.len(),
        kernel.top.len(),
        loops.join(", ")
    );
    println!("time grad_{name}_tyche {t_tyche:.3e}");
    println!("time grad_{name}_hand {t_hand:.3e}");
    println!("time grad_{name}_tyche_interpreted {t_interp:.3e}");
    println!(
        "ratio grad_{name}_tyche_interpreted_vs_hand {:.1}",
        t_interp / t_hand
    );
    println!("time value_{name}_tyche_kernel_interp {t_value:.3e}");
    println!("ratio grad_{name}_tyche_vs_hand {ratio:.1}");
    println!("time value_{name}_tyche_native {t_native:.3e}");
    println!(
        "ratio grad_{name}_tyche_vs_own_value {:.2}",
        t_tyche / t_value
    );
    println!(
        "ratio value_{name}_tyche_native_vs_hand_gradient {:.2}",
        t_native / t_hand
    );
    ratio
}

fn main() {
    let mut secs = 0.5;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--secs", Some(v)) => match v.parse::<f64>() {
                Ok(s) if s > 0.0 => secs = s,
                _ => {
                    eprintln!("bench_grad: --secs takes a positive number of seconds");
                    std::process::exit(2)
                }
            },
            _ => {
                eprintln!("usage: bench_grad [--secs S]");
                std::process::exit(2)
            }
        }
    }
    let mut rng = BenchRng::seed_from_u64(2025);
    let normal = |rng: &mut BenchRng| -> f64 { StandardNormal.sample(rng) };

    // Linear regression: y = 1 + 2x + N(0, 0.5²).
    let x: Vec<f64> = (0..N).map(|_| normal(&mut rng)).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|x| 1.0 + 2.0 * x + 0.5 * normal(&mut rng))
        .collect();
    let lin = LinReg { x, y };
    let gm = gradient_model("linreg", LINREG, &json!({"x": lin.x, "y": lin.y}));
    let points: Vec<Vec<f64>> = (0..POINTS)
        .map(|_| {
            vec![
                1.0 + 0.1 * normal(&mut rng),
                2.0 + 0.1 * normal(&mut rng),
                0.5f64.ln() + 0.1 * normal(&mut rng),
            ]
        })
        .collect();
    let r1 = compare("linreg_n1000", &gm, &points, secs, |p, g| {
        lin.log_density_gradient(p, g)
    });

    // Logistic regression, N × D standard-normal covariates.
    let truth: Vec<f64> = (0..=D).map(|_| 0.5 * normal(&mut rng)).collect();
    let x: Vec<f64> = (0..N * D).map(|_| normal(&mut rng)).collect();
    let y: Vec<bool> = x
        .chunks_exact(D)
        .map(|row| {
            let eta = truth[0] + row.iter().zip(&truth[1..]).map(|(a, b)| a * b).sum::<f64>();
            rng.random::<f64>() < 1.0 / (1.0 + (-eta).exp())
        })
        .collect();
    let rows: Vec<&[f64]> = x.chunks_exact(D).collect();
    let log = LogReg { x: x.clone(), y };
    let gm = gradient_model("logreg", LOGREG, &json!({"D": D, "x": rows, "y": log.y}));
    let points: Vec<Vec<f64>> = (0..POINTS)
        .map(|_| truth.iter().map(|t| t + 0.1 * normal(&mut rng)).collect())
        .collect();
    let r2 = compare("logreg_n1000_d10", &gm, &points, secs, |p, g| {
        log.log_density_gradient(p, g)
    });

    for (name, r) in [("linreg_n1000", r1), ("logreg_n1000_d10", r2)] {
        println!(
            "target grad_{name} within 1.5x of hand-written: {} ({r:.1}x)",
            if r <= 1.5 { "met" } else { "NOT met" }
        );
    }
}
