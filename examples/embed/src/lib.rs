//! An application embedding Tyche through the `tyche` crate.
//!
//! It fits a line to measurements made in Rust, with SMC and with MH,
//! prints the posterior means, and asks two questions of the fitted model
//! by surgery: what would a new measurement at `x = 10` read if we *set*
//! the input there (an intervention), and which input best explains a
//! reading of 15 (conditioning). The sensor's response is a Rust function
//! registered with the program, as a simulator or legacy likelihood would
//! be.
//!
//! The logic lives here, not in `main.rs`, so that `tests/example.rs` can
//! run it (with fewer particles) in CI.

use std::fmt::Write as _;
use tyche::{FromValue, Method, Program, Signature, Type, Value};

/// The model, as an application would ship it (or read it from a file).
pub const MODEL: &str = r#"
// Measurements ys at inputs xs; the sensor saturates (see `sensor`, a
// function of the host application).
data xs: [Real];
data ys: [Real];
data noise: Real = 1.0;

fn line() -> (Real, Real) {
    let slope ~ Normal(0.0, 5.0);
    let intercept ~ Normal(0.0, 5.0);
    (slope, intercept)
}

fn model() -> (Real, Real) {
    let (slope, intercept) = line();
    for i in range(0, len(xs)) {
        observe(Normal(sensor(slope * xs[i] + intercept), noise), ys[i]);
    }
    (slope, intercept)
}

// A new measurement at a random input, under the fitted line.
fn predict() -> Real {
    let (slope, intercept) = model();
    let x ~ Normal(5.0, 2.0);
    let y ~ Normal(sensor(slope * x + intercept), noise);
    y
}

// The input behind a new measurement.
fn explain() -> Real {
    let (slope, intercept) = model();
    let x ~ Normal(5.0, 2.0);
    let y ~ Normal(sensor(slope * x + intercept), noise);
    x
}
"#;

/// How much work to do: `Full` for the binary, `Quick` for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Full,
    Quick,
}

/// The sensor's response: linear up to about ±30, then saturating.
pub fn sensor(v: f64) -> f64 {
    40.0 * (v / 40.0).tanh()
}

/// Synthetic measurements from the line `y = 2x + 1` with deterministic
/// noise (a small linear congruential generator, so the example needs no
/// random-number crate and always prints the same data).
pub fn measurements(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let xs: Vec<f64> = (0..n).map(|i| i as f64 * 8.0 / n as f64).collect();
    let ys = xs
        .iter()
        .map(|&x| {
            // Sum of three uniforms: roughly normal, sd 0.5.
            let e = (uniform() + uniform() + uniform() - 1.5) * 1.0;
            sensor(2.0 * x + 1.0) + e
        })
        .collect();
    (xs, ys)
}

/// Compiles the model with the `sensor` function registered.
pub fn program() -> Result<Program, tyche::Error> {
    Program::builder()
        .function(
            "sensor",
            Signature::new([Type::Real], Type::Real),
            |args: &[Value]| {
                let v = f64::from_value(&args[0]).map_err(|e| e.to_string())?;
                Ok(Value::Real(sensor(v)))
            },
        )
        .source("line.ppl", MODEL)
        .build()
}

/// What the example found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Posterior means of (slope, intercept) by SMC.
    pub smc: (f64, f64),
    /// Posterior means of (slope, intercept) by MH.
    pub mh: (f64, f64),
    /// The mean predicted reading under `do(x = 10)`.
    pub at_ten: f64,
    /// The posterior mean input given a reading of 15.
    pub explained_input: f64,
    /// The printed report.
    pub text: String,
}

/// Runs the example and returns its report.
pub fn run(size: Size) -> Result<Report, tyche::Error> {
    let (particles, samples, burn) = match size {
        Size::Full => (4000, 4000, 1000),
        Size::Quick => (500, 800, 1500),
    };
    let program = program()?;
    let (xs, ys) = measurements(12);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "data: {} measurements of y = 2x + 1 (through the sensor)",
        xs.len()
    );

    // One query, bound once, run with two methods.
    let fit = program.model("model")?.data("xs", xs)?.data("ys", ys)?;

    let smc = fit
        .clone()
        .method(Method::Smc)
        .particles(particles)
        .rejuvenate(2)
        .seed(1)
        .run()?;
    let smc_means = means(&smc)?;
    let (slope, intercept) = smc_means;
    let _ = writeln!(
        out,
        "SMC ({particles} particles): slope {slope:.3}, intercept {intercept:.3}, log evidence {:.2}",
        smc.log_evidence().unwrap_or(f64::NAN)
    );

    let mh = fit
        .clone()
        .method(Method::Mh)
        .samples(samples)
        .burn(burn)
        .proposal(tyche::Proposal::Drift { scale: 0.1 })
        .seed(1)
        .run()?;
    let mh_means = means(&mh)?;
    let (slope, intercept) = mh_means;
    let _ = writeln!(
        out,
        "MH ({samples} samples): slope {slope:.3}, intercept {intercept:.3}, acceptance {:.2}",
        mh.acceptance_rate().unwrap_or(f64::NAN)
    );

    // Surgery: set the input of a new measurement to 10 ...
    let predict = program.model("predict")?.data_json(&fit_data_json(12))?;
    let at_ten = predict
        .clone()
        .intervene("x", 10.0)?
        .method(Method::Smc)
        .particles(particles)
        .rejuvenate(2)
        .seed(2)
        .run()?;
    let _ = writeln!(
        out,
        "do(x = 10): predicted reading {:.2} (sensor(21) = {:.2})",
        at_ten.mean().unwrap_or(f64::NAN),
        sensor(21.0)
    );

    // ... and find the input that explains a reading of 15.
    let explain = program
        .model("explain")?
        .data_json(&fit_data_json(12))?
        .condition("y", 15.0)?
        .method(Method::Smc)
        .particles(particles)
        .rejuvenate(2)
        .seed(3)
        .run()?;
    let _ = writeln!(
        out,
        "condition(y = 15): input {:.2} (90% in [{:.2}, {:.2}])",
        explain.mean().unwrap_or(f64::NAN),
        explain.quantile(0.05).unwrap_or(f64::NAN),
        explain.quantile(0.95).unwrap_or(f64::NAN)
    );
    Ok(Report {
        smc: smc_means,
        mh: mh_means,
        at_ten: at_ten.mean().unwrap_or(f64::NAN),
        explained_input: explain.mean().unwrap_or(f64::NAN),
        text: out,
    })
}

/// The same measurements as a JSON object, as a `--data` file holds them.
fn fit_data_json(n: usize) -> serde_json::Value {
    let (xs, ys) = measurements(n);
    serde_json::json!({ "xs": xs, "ys": ys })
}

/// Posterior means of a `(Real, Real)` result.
fn means(posterior: &tyche::Posterior) -> Result<(f64, f64), tyche::Error> {
    let slope = posterior.expectation(|v| Some(<(f64, f64)>::from_value(v).ok()?.0));
    let intercept = posterior.expectation(|v| Some(<(f64, f64)>::from_value(v).ok()?.1));
    Ok((slope.unwrap_or(f64::NAN), intercept.unwrap_or(f64::NAN)))
}
