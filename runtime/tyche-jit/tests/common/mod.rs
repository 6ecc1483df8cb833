//! Shared test helpers: compile Tyche source, draw θ from the prior, and
//! compare the three evaluations (VM replay, kernel interpreter, JIT).
#![allow(dead_code)]

use rand::SeedableRng;
use std::sync::Arc;
use tyche_core::SourceMap;
use tyche_ir::{FuncId, Program};
use tyche_jit::{Compiled, ExtractOptions, Kernel, Replayer};
use tyche_vm::{Effect, Machine, Value};

/// A compiled model with its data bound.
pub struct Model {
    pub program: Arc<Program>,
    pub globals: Arc<Vec<Value>>,
    pub func: FuncId,
}

pub fn load(src: &str, data: Option<&str>) -> Model {
    let mut sources = SourceMap::new();
    let compiled = match tyche_driver::compile_source(&mut sources, "test.ppl", src) {
        Ok(c) => c,
        Err(d) => panic!("{}", tyche_core::render_all(&d, &sources, false)),
    };
    let data = data.map(|text| {
        tyche_driver::parse_data_file(&mut sources, "data.json", text).expect("valid data JSON")
    });
    let bound = tyche_driver::bind_data(&compiled, &sources, data.as_ref().map(|(f, v)| (*f, v)))
        .unwrap_or_else(|d| panic!("{}", tyche_core::render_all(&d, &sources, false)));
    let func = tyche_driver::model(&compiled, &sources, "model").expect("a model");
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &bound).expect("globals");
    Model {
        program: compiled.ir.clone(),
        globals,
        func,
    }
}

impl Model {
    pub fn kernel(&self) -> Kernel {
        tyche_jit::extract(&self.program, &self.globals, self.func)
            .unwrap_or_else(|e| panic!("not static: {e} at {:?}", e.span))
    }

    pub fn kernel_with(&self, opts: &ExtractOptions) -> Kernel {
        tyche_jit::extract_with(&self.program, &self.globals, self.func, opts)
            .unwrap_or_else(|e| panic!("not static: {e} at {:?}", e.span))
    }

    pub fn replayer(&self, k: &Kernel) -> Replayer {
        Replayer::new(
            self.program.clone(),
            self.globals.clone(),
            self.func,
            &k.choices,
        )
    }

    /// θ drawn from the prior (each choice from its distribution given the
    /// earlier ones). Runs that stop with a runtime error (a choice that
    /// makes a later parameter invalid) are redrawn.
    pub fn prior_draw(&self, seed: u64) -> Vec<f64> {
        for attempt in 0..1000 {
            if let Some(t) = self.try_prior_draw(seed.wrapping_mul(7919).wrapping_add(attempt)) {
                return t;
            }
        }
        panic!("no prior draw completes")
    }

    fn try_prior_draw(&self, seed: u64) -> Option<Vec<f64>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut m = Machine::for_function(self.program.clone(), self.globals.clone(), self.func)
            .expect("machine");
        let mut theta = Vec::new();
        let mut e = m.run().ok()?;
        loop {
            e = match e {
                Effect::Sample { dist, .. } => {
                    let v = dist.sample(&mut rng);
                    let Value::Real(x) = v else {
                        panic!("non-real choice")
                    };
                    theta.push(x);
                    m.resume(Value::Real(x)).ok()?
                }
                Effect::Done(_) => break,
                Effect::Infer { .. } => panic!("infer"),
                _ => m.run().ok()?,
            };
        }
        Some(theta)
    }
}

/// Relative agreement to 1e-12 (or both −∞, both +∞, both NaN).
pub fn same(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300) || a == b
}

/// A kernel's density agrees with the VM's: [`same`], except that where
/// the VM has no density (−∞, or NaN from −∞ + ∞ at a pole) a kernel may
/// give NaN — the mark of a possible fault, which the runtime checks on
/// the interpreter (a NaN value, say, is density 0 there) — or −∞.
pub fn agree(vm: f64, kernel: f64) -> bool {
    let (a, b) = (vm, kernel);
    let none = |x: f64| x.is_nan() || x == f64::NEG_INFINITY;
    if none(a) && none(b) {
        return true;
    }
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300) || a == b
}

/// Compares VM replay, kernel interpreter and JIT at θ. A VM runtime error
/// (an invalid parameter at this θ, a factor of NaN or +∞) must be marked
/// in the kernels: NaN or +∞, where the runtime asks the interpreter.
pub fn check_point(name: &str, r: &Replayer, k: &Kernel, c: &Compiled, theta: &[f64]) {
    let ki = k.eval(theta);
    let kj = c.log_density(theta);
    assert!(
        same(ki, kj),
        "{name}: interpreter {ki} vs JIT {kj} at θ = {theta:?}"
    );
    match r.log_joint(theta) {
        Ok(vm) => assert!(
            agree(vm, ki),
            "{name}: VM {vm} vs kernel {ki} at θ = {theta:?}"
        ),
        Err(tyche_jit::ReplayError::Runtime(msg)) => assert!(
            ki.is_nan() || ki == f64::INFINITY,
            "{name}: VM fails ({msg}) but kernel gives {ki} at θ = {theta:?}"
        ),
        Err(e) => panic!("{name}: layout mismatch: {e}"),
    }
}

/// Edge points: each coordinate in turn set to boundary and extreme values.
pub fn edge_points(base: &[f64]) -> Vec<Vec<f64>> {
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        1e-300,
        -1e-300,
        5e-324,
        1e300,
        -1e300,
        1e-8,
        1.0 - 1e-16,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        f64::MIN_POSITIVE,
        700.0,
        -700.0,
        1e10,
        -1e10,
        40.0,
        -40.0,
    ];
    let mut out = Vec::new();
    for i in 0..base.len() {
        for &s in &specials {
            let mut t = base.to_vec();
            t[i] = s;
            out.push(t);
        }
    }
    for &s in &specials {
        out.push(vec![s; base.len()]);
    }
    out
}

/// A deterministic pseudo-random stream for generating data.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(1e-300);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}
