//! Benchmark of density kernels: one log-density evaluation by the JIT,
//! by the interpreter (VM replay of θ), by the kernel interpreter, and by a
//! hand-written Rust function of the same density (the floor).
//!
//! `cargo run --release -p tyche-jit --example bench_jit [-- quick]`
//!
//! Prints `ratio <model>.<what> <value>` lines (`interp_over_jit`: how many
//! times faster the JIT is than the interpreter; `jit_over_rust`: JIT time
//! over hand-written Rust time) and `compile_ms <model> <ms>`. It is an
//! example rather than a `src/bin` binary because it compiles Tyche source
//! with `tyche-driver`, which a runtime crate may only use in development.

// `!(s > 0.0)` is meant: it is true for NaN too.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::type_complexity)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;
use tyche_core::SourceMap;
use tyche_infer::Method;
use tyche_ir::{FuncId, Program};
use tyche_jit::{Kernel, Replayer};
use tyche_vm::Value;

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

struct Lcg(u64);
impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(1e-300);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

struct Loaded {
    program: Arc<Program>,
    globals: Arc<Vec<Value>>,
    func: FuncId,
}

fn load(src: &str, data: &str) -> Loaded {
    let mut sources = SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, "bench.ppl", src)
        .unwrap_or_else(|d| panic!("{}", tyche_core::render_all(&d, &sources, false)));
    let data = tyche_driver::parse_data_file(&mut sources, "data.json", data).expect("data");
    let bound =
        tyche_driver::bind_data(&compiled, &sources, Some((data.0, &data.1))).expect("bind");
    let func = tyche_driver::model(&compiled, &sources, "model").expect("model");
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &bound).expect("globals");
    Loaded {
        program: compiled.ir.clone(),
        globals,
        func,
    }
}

/// Nanoseconds per call of each contender: short batches (about
/// `batch_secs`) of the contenders are interleaved `rounds` times and the
/// minimum per contender is kept, so that load from other processes on a
/// shared machine hits all of them alike and mostly drops out.
fn time_ns(
    fs: &mut [&mut dyn FnMut(&[f64]) -> f64],
    thetas: &[Vec<f64>],
    batch_secs: f64,
    rounds: usize,
) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; fs.len()];
    // Calibrate the number of passes over `thetas` per batch.
    let mut passes = vec![1u64; fs.len()];
    for (i, f) in fs.iter_mut().enumerate() {
        let start = Instant::now();
        let mut acc = 0.0;
        for t in thetas {
            acc += f(black_box(t));
        }
        black_box(acc);
        let one = start.elapsed().as_secs_f64().max(1e-9);
        passes[i] = ((batch_secs / one) as u64).max(1);
    }
    for _ in 0..rounds {
        for (i, f) in fs.iter_mut().enumerate() {
            let start = Instant::now();
            let mut acc = 0.0;
            for _ in 0..passes[i] {
                for t in thetas {
                    acc += f(black_box(t));
                }
            }
            black_box(acc);
            let ns = start.elapsed().as_secs_f64() * 1e9 / (passes[i] * thetas.len() as u64) as f64;
            best[i] = best[i].min(ns);
        }
    }
    best
}

struct Case {
    name: &'static str,
    src: &'static str,
    data: String,
    /// The hand-written density, given the data JSON's parsed form.
    rust: Box<dyn Fn(&[f64]) -> f64>,
}

fn normal_lpdf(x: f64, mu: f64, sigma: f64) -> f64 {
    let z = (x - mu) / sigma;
    -sigma.ln() - HALF_LN_2PI - 0.5 * z * z
}

fn log_sum_exp3(a: [f64; 3]) -> f64 {
    let m = a[0].max(a[1]).max(a[2]);
    if m.is_infinite() {
        return m;
    }
    m + ((a[0] - m).exp() + (a[1] - m).exp() + (a[2] - m).exp()).ln()
}

fn linreg() -> Case {
    let n = 1000;
    let mut r = Lcg(11);
    let x: Vec<f64> = (0..n).map(|_| r.next_f64() * 4.0 - 2.0).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|xi| 1.0 + 2.0 * xi + 0.5 * r.normal())
        .collect();
    let data = serde_json::json!({"x": x, "y": y}).to_string();
    let rust = move |t: &[f64]| {
        let (a, b, s) = (t[0], t[1], t[2]);
        if !(s > 0.0) {
            return f64::NEG_INFINITY;
        }
        let mut lp = normal_lpdf(a, 0.0, 10.0) + normal_lpdf(b, 0.0, 10.0) - s;
        let log_norm = -s.ln() - HALF_LN_2PI;
        for i in 0..x.len() {
            let z = (y[i] - (a + b * x[i])) / s;
            lp += log_norm - 0.5 * z * z;
        }
        lp
    };
    Case {
        name: "linreg_n1000",
        src: r#"
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
"#,
        data,
        rust: Box::new(rust),
    }
}

fn eight_schools() -> Case {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0f64, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let data = serde_json::json!({"J": 8, "y": y, "sigma": sigma}).to_string();
    let log_norm: Vec<f64> = sigma.iter().map(|s| -s.ln() - HALF_LN_2PI).collect();
    let rust = move |t: &[f64]| {
        let (mu, tau) = (t[0], t[1]);
        if !(tau > 0.0) {
            return f64::NEG_INFINITY;
        }
        let mut lp = normal_lpdf(mu, 0.0, 5.0)
            - (std::f64::consts::PI * 5.0).ln()
            - (tau / 5.0).powi(2).ln_1p();
        for j in 0..8 {
            lp += -HALF_LN_2PI - 0.5 * t[2 + j] * t[2 + j];
        }
        for j in 0..8 {
            let z = (y[j] - (mu + tau * t[2 + j])) / sigma[j];
            lp += log_norm[j] - 0.5 * z * z;
        }
        lp
    };
    Case {
        name: "eight_schools",
        src: r#"
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
"#,
        data,
        rust: Box::new(rust),
    }
}

fn logreg() -> Case {
    let (n, p) = (1000, 10);
    let mut r = Lcg(5);
    let truth: Vec<f64> = (0..p).map(|_| r.normal()).collect();
    let mut xs: Vec<Vec<f64>> = Vec::new();
    let mut ys = Vec::new();
    for _ in 0..n {
        let x: Vec<f64> = (0..p).map(|_| r.normal()).collect();
        let eta: f64 = 0.3 + x.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>();
        ys.push(r.next_f64() < 1.0 / (1.0 + (-eta).exp()));
        xs.push(x);
    }
    let data = serde_json::json!({"X": xs, "y": ys}).to_string();
    let flat: Vec<f64> = xs.iter().flatten().copied().collect();
    let rust = move |t: &[f64]| {
        let alpha = t[0];
        let beta = &t[1..1 + p];
        let mut lp = normal_lpdf(alpha, 0.0, 5.0);
        for b in beta {
            lp += -HALF_LN_2PI - 0.5 * b * b;
        }
        for i in 0..n {
            let row = &flat[i * p..(i + 1) * p];
            let mut eta = 0.0;
            for j in 0..p {
                eta += row[j] * beta[j];
            }
            let eta = alpha + eta;
            let q = if eta >= 0.0 {
                1.0 / (1.0 + (-eta).exp())
            } else {
                let e = eta.exp();
                e / (1.0 + e)
            };
            lp += if ys[i] { q.ln() } else { (-q).ln_1p() };
        }
        lp
    };
    Case {
        name: "logreg_n1000_p10",
        src: r#"
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
"#,
        data,
        rust: Box::new(rust),
    }
}

fn hmm3() -> Case {
    let t_len = 1000;
    let mut r = Lcg(21);
    let trans = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]];
    let means = [-2.0, 0.0, 2.0];
    let mut z = 0usize;
    let mut y = Vec::new();
    for _ in 0..t_len {
        let u = r.next_f64();
        let row = trans[z];
        z = if u < row[0] {
            0
        } else if u < row[0] + row[1] {
            1
        } else {
            2
        };
        y.push(means[z] + r.normal());
    }
    let log_a: Vec<Vec<f64>> = trans
        .iter()
        .map(|row| row.iter().map(|p: &f64| p.ln()).collect())
        .collect();
    let data = serde_json::json!({"y": y, "log_a": log_a}).to_string();
    let rust = move |t: &[f64]| {
        let mu = [t[0], t[1], t[2]];
        let sigma = t[3];
        if !(sigma > 0.0) {
            return f64::NEG_INFINITY;
        }
        let mut lp = 0.0;
        for m in mu {
            lp += normal_lpdf(m, 0.0, 5.0);
        }
        lp += -sigma;
        let log_norm = -sigma.ln() - HALF_LN_2PI;
        let emit = |yt: f64, m: f64| {
            let zz = (yt - m) / sigma;
            log_norm - 0.5 * zz * zz
        };
        let init = (1.0f64 / 3.0).ln();
        let mut alpha = [0.0; 3];
        for j in 0..3 {
            alpha[j] = init + emit(y[0], mu[j]);
        }
        for yt in &y[1..] {
            let mut next = [0.0; 3];
            for j in 0..3 {
                next[j] = log_sum_exp3([
                    alpha[0] + log_a[0][j],
                    alpha[1] + log_a[1][j],
                    alpha[2] + log_a[2][j],
                ]) + emit(*yt, mu[j]);
            }
            alpha = next;
        }
        lp + log_sum_exp3(alpha)
    };
    Case {
        name: "hmm3_forward_t1000",
        src: r#"
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
"#,
        data,
        rust: Box::new(rust),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let (batch, rounds) = if quick { (0.005, 10) } else { (0.01, 60) };
    println!(
        "# tyche-jit bench on {} (time per log-density evaluation)",
        tyche_jit::codegen::host_triple()
    );
    for case in [linreg(), eight_schools(), logreg(), hmm3()] {
        let m = load(case.src, &case.data);
        let t0 = Instant::now();
        let kernel: Kernel = match tyche_jit::extract(&m.program, &m.globals, m.func) {
            Ok(k) => k,
            Err(e) => {
                println!("# {}: not static: {e}", case.name);
                continue;
            }
        };
        let extract_ms = t0.elapsed().as_secs_f64() * 1e3;
        let compiled = tyche_jit::compile(&kernel).expect("compile");
        // Compile time: the machine is shared, so report the minimum and
        // the median of several compiles.
        let mut times: Vec<f64> = (0..7)
            .map(|_| {
                let c = tyche_jit::compile(&kernel).expect("compile");
                c.compile_time.as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let replay = Replayer::new(
            m.program.clone(),
            m.globals.clone(),
            m.func,
            &kernel.choices,
        );
        // θ near the posterior bulk: prior-ish draws, positive scales.
        let mut r = Lcg(42);
        let thetas: Vec<Vec<f64>> = (0..16)
            .map(|_| {
                kernel
                    .choices
                    .iter()
                    .map(|c| match c.dist {
                        tyche_dist::DistKind::Exponential | tyche_dist::DistKind::Cauchy => {
                            0.5 + r.next_f64()
                        }
                        _ => 0.5 * r.normal(),
                    })
                    .collect()
            })
            .collect();
        // Sanity: all four agree here.
        for t in &thetas {
            let (j, i, v, h) = (
                compiled.log_density(t),
                kernel.eval(t),
                replay.log_joint(t).unwrap_or(f64::NAN),
                (case.rust)(t),
            );
            let rel = |a: f64, b: f64| (a - b).abs() / a.abs().max(1e-300);
            assert!(
                rel(j, v) < 1e-12 && rel(i, v) < 1e-12,
                "{}: jit {j} kernel {i} vm {v}",
                case.name
            );
            assert!(
                rel(h, v) < 1e-9,
                "{}: hand-written {h} vs vm {v}",
                case.name
            );
        }
        let (mut fj, mut fr, mut fk, mut fv) = (
            |t: &[f64]| compiled.log_density(t),
            |t: &[f64]| (case.rust)(t),
            |t: &[f64]| kernel.eval(t),
            |t: &[f64]| replay.log_joint(t).unwrap_or(f64::NAN),
        );
        let fast = time_ns(&mut [&mut fj, &mut fr], &thetas, batch, rounds);
        let slow = time_ns(
            &mut [&mut fk, &mut fv],
            &thetas[..4],
            batch * 4.0,
            rounds.div_ceil(4),
        );
        let (jit, rust, kint, vm) = (fast[0], fast[1], slow[0], slow[1]);
        let (top, body, loops) = kernel.size();
        println!(
            "# {}: dim {} | kernel {} top + {} loop-body nodes, {} loops | extract {:.2} ms | code {} bytes",
            case.name,
            kernel.dim(),
            top,
            body,
            loops,
            extract_ms,
            compiled.code_size
        );
        println!(
            "# {}: jit {:.1} ns, hand-written rust {:.1} ns, kernel interpreter {:.1} ns, vm replay {:.1} ns",
            case.name, jit, rust, kint, vm
        );
        println!("ratio {}.interp_over_jit {:.1}", case.name, vm / jit);
        println!("ratio {}.jit_over_rust {:.3}", case.name, jit / rust);
        println!(
            "ratio {}.kernel_interp_over_jit {:.1}",
            case.name,
            kint / jit
        );
        println!(
            "compile_ms {} {:.3}",
            case.name,
            compiled.compile_time.as_secs_f64() * 1e3
        );
        end_to_end(case.name, &m, Method::Mh, if quick { 300 } else { 2000 });
        end_to_end(case.name, &m, Method::Smc, if quick { 100 } else { 1000 });
    }
}

/// Whole MH or SMC runs (`size` samples or particles), interpreted and
/// native (extraction and compilation included in the native time), on
/// the same seed: they must agree.
fn end_to_end(name: &str, m: &Loaded, method: Method, size: usize) {
    use tyche_infer::{Model, Options};
    let model = Model::for_function(m.program.clone(), m.globals.clone(), m.func);
    let opts = Options {
        method,
        samples: size,
        particles: size,
        burn: 0,
        chains: 1,
        seed: 11,
        traces: false,
        ..Options::default()
    };
    let t0 = Instant::now();
    let interp = tyche_infer::infer(&model, &opts).expect("interpreted run");
    let t_interp = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let native = tyche_jit::for_inference(
        &m.program,
        &m.globals,
        m.func,
        &opts,
        tyche_jit::BackendRequest::Jit,
    )
    .expect("compiles");
    let jit = tyche_infer::infer(&model, &Options { native, ..opts }).expect("native run");
    let t_jit = t0.elapsed().as_secs_f64();
    assert_eq!(jit.backend, tyche_infer::Backend::Jit);
    let (a, b) = (component_means(&interp), component_means(&jit));
    assert_eq!(
        interp.mcmc.map(|s| s.acceptance_rate),
        jit.mcmc.map(|s| s.acceptance_rate),
        "{name}: the two backends' chains differ"
    );
    let (za, zb) = (interp.log_evidence, jit.log_evidence);
    assert!(
        za.zip(zb)
            .is_none_or(|(a, b)| (a - b).abs() <= 1e-9 * a.abs().max(1.0)),
        "{name}: evidence differs: {za:?} vs {zb:?}"
    );
    assert!(
        a.iter()
            .zip(&b)
            .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(1.0)),
        "{name}: posterior means differ: {a:?} vs {b:?}"
    );
    let what = method.name();
    println!(
        "# {name}: {what} size {size}: interpreter {:.3} s, native {:.3} s",
        t_interp, t_jit
    );
    println!(
        "ratio {name}.{what}_end_to_end_interp_over_native {:.1}",
        t_interp / t_jit
    );
}

/// The mean of each numeric leaf of the draws' values.
fn component_means(r: &tyche_infer::InferResult) -> Vec<f64> {
    fn leaves(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(xs) => xs.iter().for_each(|x| leaves(x, out)),
            Value::Tuple(xs) => xs.iter().for_each(|x| leaves(x, out)),
            other => out.extend(other.as_number()),
        }
    }
    let mut sums: Vec<f64> = Vec::new();
    for d in &r.draws {
        let mut xs = Vec::new();
        leaves(&d.value, &mut xs);
        sums.resize(xs.len(), 0.0);
        sums.iter_mut().zip(xs).for_each(|(s, x)| *s += x);
    }
    sums.iter().map(|s| s / r.draws.len() as f64).collect()
}
