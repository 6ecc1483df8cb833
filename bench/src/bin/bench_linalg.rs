//! Compiled linear algebra against nalgebra called directly from Rust
//! (issue 16: "within 2× of nalgebra for a 100×100 matrix–vector product
//! and Cholesky"). Each model's log density is compiled by Tyche as
//! `tyche run` would (traced into scalar operations, rolled up where it
//! repeats, compiled with Cranelift; `tyche_jit::compile`, the kernel MH
//! and SMC evaluate; with `--grad`, NUTS's compiled gradient too), and the
//! same density is written by hand with nalgebra. Both are evaluated at
//! the same points and must agree to 1e-9 relative before they are timed.
//!
//! - `matvec`: `x ~ Normal(0, 1)` (100 coordinates), `y[i] ~ Normal((A
//!   x)[i], 1)` for a fixed 100×100 data matrix `A`: one product per
//!   evaluation.
//! - `cholesky`: `s ~ LogNormal(0, 0.1)`, `factor(Σᵢ ln L[i][i])` for `L =
//!   cholesky(s A)` with a fixed 100×100 positive-definite `A`: one
//!   factorisation per evaluation.
//!
//! ```text
//! cargo run --release -p tyche-bench --bin bench_linalg [-- --secs 0.5]
//! ```

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::{json, Value as Json};
use std::hint::black_box;
use std::time::Instant;
use tyche_bench::{median, BenchRng};
use tyche_core::{render_all, SourceMap};

const N: usize = 100;
const POINTS: usize = 8;
const BATCHES: usize = 7;
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

const MATVEC: &str = r#"
data a: [[Real]];
data y: [Real];
fn model() -> Real {
    let x = repeat(len(y), || sample("x", Normal(0.0, 1.0)));
    let m = mat_vec(a, x);
    for i in 0..len(y) {
        observe(Normal(m[i], 1.0), y[i]);
    }
    x[0]
}
"#;

const CHOLESKY: &str = r#"
data a: [[Real]];
fn model() -> Real {
    let s ~ LogNormal(0.0, 0.1);
    let l = cholesky(mat_scale(s, a));
    factor(sum(map(diagonal(l), log)));
    s
}
"#;

/// The compile pipeline up to the traced kernel of `model`.
fn kernel(name: &str, src: &str, data: &Json) -> tyche_jit::kernel::Kernel {
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
    tyche_jit::extract(&compiled.ir, &globals, func).unwrap_or_else(|e| {
        eprintln!("{name}: not a static model: {e}");
        std::process::exit(1)
    })
}

/// Seconds per call of `f`: the median of BATCHES batches of about `secs`
/// / BATCHES each.
fn per_call(secs: f64, mut f: impl FnMut(usize) -> f64) -> f64 {
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

fn compare(
    name: &str,
    k: &tyche_jit::kernel::Kernel,
    points: &[Vec<f64>],
    secs: f64,
    hand: impl Fn(&[f64]) -> f64,
) {
    let t0 = Instant::now();
    let native = tyche_jit::compile(k).unwrap_or_else(|e| {
        eprintln!("{name}: the kernel does not compile: {e}");
        std::process::exit(1)
    });
    let compile = t0.elapsed().as_secs_f64();
    for p in points {
        let (a, b) = (native.log_density(p), hand(p));
        if (a - b).abs() > 1e-9 * a.abs().max(1.0) {
            eprintln!("{name}: Tyche {a} and nalgebra {b} differ");
            std::process::exit(1);
        }
    }
    let t_tyche = per_call(secs, |i| native.log_density(&points[i % POINTS]));
    let t_hand = per_call(secs, |i| hand(&points[i % POINTS]));
    let loops: Vec<String> = k
        .loops
        .iter()
        .map(|l| format!("{} x {}", l.count, l.body.len()))
        .collect();
    println!(
        "info {name}: kernel of {} nodes, loops [{}], compiled in {compile:.2} s",
        k.nodes.len(),
        loops.join(", ")
    );
    println!("time {name}_tyche {t_tyche:.3e}");
    println!("time {name}_nalgebra {t_hand:.3e}");
    println!("ratio {name}_tyche_vs_nalgebra {:.2}", t_tyche / t_hand);
}

fn main() {
    let mut secs = 0.5;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [f, v] if f == "--secs" => match v.parse::<f64>() {
            Ok(s) if s > 0.0 => secs = s,
            _ => {
                eprintln!("bench_linalg: --secs takes a positive number of seconds");
                std::process::exit(2)
            }
        },
        _ => {
            eprintln!("usage: bench_linalg [--secs S]");
            std::process::exit(2)
        }
    }
    let mut rng = BenchRng::seed_from_u64(16);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };

    // Matrix–vector product.
    let a = DMatrix::from_fn(N, N, |_, _| normal() / (N as f64).sqrt());
    let y: Vec<f64> = (0..N).map(|_| normal()).collect();
    let rows: Vec<Vec<f64>> = (0..N).map(|i| a.row(i).iter().copied().collect()).collect();
    let k = kernel("matvec", MATVEC, &json!({"a": rows, "y": y}));
    let points: Vec<Vec<f64>> = (0..POINTS)
        .map(|_| (0..N).map(|_| normal()).collect())
        .collect();
    let yv = DVector::from_column_slice(&y);
    compare("matvec_100", &k, &points, secs, |x| {
        let x = DVector::from_column_slice(x);
        let m = &a * &x;
        let prior = -0.5 * x.dot(&x) - N as f64 * HALF_LN_2PI;
        let r = &yv - m;
        prior - 0.5 * r.dot(&r) - N as f64 * HALF_LN_2PI
    });

    // Cholesky of s·A for a positive-definite A.
    let b = DMatrix::from_fn(N, N, |_, _| normal());
    let spd = &b * b.transpose() / N as f64 + DMatrix::identity(N, N);
    let rows: Vec<Vec<f64>> = (0..N)
        .map(|i| spd.row(i).iter().copied().collect())
        .collect();
    let k = kernel("cholesky", CHOLESKY, &json!({"a": rows}));
    let points: Vec<Vec<f64>> = (0..POINTS).map(|i| vec![0.8 + 0.05 * i as f64]).collect();
    compare("cholesky_100", &k, &points, secs, |p| {
        let s = p[0];
        let l = nalgebra::linalg::Cholesky::new(&spd * s)
            .expect("positive definite")
            .unpack();
        let sum_ln_diag: f64 = (0..N).map(|i| l[(i, i)].ln()).sum();
        // LogNormal(0, 0.1) at s.
        let z = s.ln() / 0.1;
        let prior = -0.5 * z * z - s.ln() - 0.1f64.ln() - HALF_LN_2PI;
        prior + sum_ln_diag
    });
}
