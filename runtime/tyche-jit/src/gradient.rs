//! A static continuous model prepared for gradient-based samplers
//! ([`tyche_infer::NativeGradient`]): traced on unconstrained coordinates
//! ([`crate::transform`]), its kernel differentiated in reverse mode —
//! compiled with Cranelift ([`crate::gradgen`]), or interpreted
//! ([`crate::grad`]) where it does not compile — with the map from
//! coordinates to the choices' values and the return value over the
//! coordinates.
//!
//! A static model whose discrete choices each have local influence (a
//! mixture's assignments) gets its gradient with them summed out
//! ([`crate::marginal`]); [`GradientModel::summed_out`] names them.

use crate::exprs::Exprs;
use crate::grad::Gradient;
use crate::jit::CompiledGradient;
use crate::kernel::Kernel;
use crate::marginal::{self, Summed};
use crate::replay::Replayer;
use crate::sequential::{collect_leaves, fill};
use crate::trace::{self, Limits, NotStatic, Template};
use crate::transform::{self, Support};
use std::sync::Arc;
use tyche_core::Diagnostic;
use tyche_ir::{FuncId, Program, SiteId};
use tyche_vm::Value;

/// How the return value is computed.
enum ResultFn {
    /// A template whose leaves are functions of the coordinates.
    Template { template: Template, leaves: Exprs },
    /// Not traceable: the interpreter's run with the choices' values
    /// (`GradientModel::replayer`).
    Replay,
}

/// See the module documentation.
pub struct GradientModel {
    kernel: Arc<Kernel>,
    /// The compiled gradient, or why there is none (the interpreter
    /// differentiates then).
    compiled: Result<Arc<CompiledGradient>, String>,
    /// The choices' values as functions of the coordinates.
    constrain: Exprs,
    layout: Vec<(SiteId, u32)>,
    /// θ's entries per choice (a simplex takes several).
    slots: Vec<tyche_infer::Slot>,
    /// The discrete choices summed out of the density.
    summed: Summed,
    /// Their summands over the coordinates (see [`Summed::exprs`]).
    summands: Option<Exprs>,
    result: ResultFn,
    /// Each coordinate's support (its transform).
    supports: Vec<Option<Support>>,
    /// The interpreter's run at given values: the return value when it
    /// cannot be traced, the exact error where the density is marked
    /// faulty, the site where a point has no density.
    replayer: Replayer,
}

impl std::fmt::Debug for GradientModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradientModel")
            .field("dim", &self.layout.len())
            .finish()
    }
}

impl GradientModel {
    /// Traces `model` on unconstrained coordinates; fails where the model
    /// is not static or has a choice that is neither continuous nor one
    /// that can be summed out (see [`crate::marginal`]).
    pub fn new(
        program: &Arc<Program>,
        globals: &Arc<Vec<Value>>,
        model: FuncId,
    ) -> Result<GradientModel, NotStatic> {
        GradientModel::new_with(program, globals, model, true)
    }

    /// [`GradientModel::new`]; with `compile` false, the gradient is
    /// always interpreted (the reference the compiled one is tested
    /// against).
    pub fn new_with(
        program: &Arc<Program>,
        globals: &Arc<Vec<Value>>,
        model: FuncId,
        compile: bool,
    ) -> Result<GradientModel, NotStatic> {
        let (t, summed) =
            match trace::trace_unconstrained(program, globals, model, Limits::default()) {
                Ok(t) => (t, Summed::default()),
                // A discrete choice: sum it out where its influence is local;
                // otherwise the model has no gradient, for the first reason.
                Err(e) => {
                    match trace::trace_unconstrained_discrete(
                        program,
                        globals,
                        model,
                        Limits::default(),
                    )
                    .and_then(marginal::sum_out)
                    {
                        Ok((t, summed)) if !summed.is_empty() => (t, summed),
                        _ => return Err(e),
                    }
                }
            };
        if let Some(b) = t.kernel_blocker() {
            return Err(b);
        }
        let constrain = Exprs::new(&t.graph, &t.constrained);
        let slots = t
            .slots
            .iter()
            .map(|s| tyche_infer::Slot {
                site: s.site,
                index: s.index,
                width: s.width,
            })
            .collect();
        let summands = (!summed.is_empty()).then(|| summed.exprs(&t.graph));
        let layout = t.choices.iter().map(|c| (c.site, c.index)).collect();
        let supports = t
            .choices
            .iter()
            .map(|c| transform::support(c.dist))
            .collect();
        let result = match &t.result {
            Some(template) => {
                let mut leaves = Vec::new();
                collect_leaves(template, &mut leaves);
                ResultFn::Template {
                    template: template.clone(),
                    leaves: Exprs::new(&t.graph, &leaves),
                }
            }
            // The tracer's resume point holds templates over the
            // coordinates, not the values the replay feeds the machine:
            // replay from the start.
            None => ResultFn::Replay,
        };
        let replayer =
            Replayer::for_slots(Arc::clone(program), Arc::clone(globals), model, &t.slots);
        let kernel = crate::build_kernel(t, &crate::ExtractOptions::default())?;
        let compiled = if compile {
            self::compile(&kernel)
        } else {
            Err("not asked to compile".to_string())
        };
        Ok(GradientModel {
            kernel: Arc::new(kernel),
            compiled,
            constrain,
            layout,
            slots,
            summed,
            summands,
            result,
            supports,
            replayer,
        })
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// The discrete choices summed out of the density (none for a model
    /// whose choices are all continuous).
    pub fn summed_out(&self) -> &Summed {
        &self.summed
    }

    /// At coordinates φ, each summed-out choice's conditional
    /// probabilities over its support given the continuous choices
    /// (`summed_out().supports` lists the values), in the order of
    /// `summed_out().addresses`.
    pub fn summed_probabilities(&self, phi: &[f64]) -> Vec<Vec<f64>> {
        let Some(e) = &self.summands else {
            return Vec::new();
        };
        let mut vals = Vec::new();
        e.eval(phi, &mut vals);
        self.summed.probabilities(&vals)
    }

    /// The compiled gradient, or why the kernel interpreter computes it.
    pub fn compiled(&self) -> Result<&CompiledGradient, &str> {
        match &self.compiled {
            Ok(c) => Ok(c),
            Err(e) => Err(e),
        }
    }

    /// The text `tyche check --emit grad` prints: each coordinate with its
    /// transform, the kernel the reverse sweep differentiates, then the
    /// Cranelift code (CLIF) of the log density and its gradient (or why
    /// the kernel interpreter differentiates it).
    pub fn describe(&self) -> String {
        let mut out = String::from(
            "; log density on unconstrained coordinates φ, Jacobians included;\n\
             ; its gradient is the reverse sweep of this kernel (tyche-jit gradgen.rs):\n\
             ; the schedule backwards, each loop from its last iteration to its first\n",
        );
        for (i, (c, s)) in self.kernel.choices.iter().zip(&self.supports).enumerate() {
            let t = match s {
                Some(Support::Real) => "x = φ".to_string(),
                Some(Support::Positive) => "x = exp(φ)".to_string(),
                Some(Support::Interval(None)) => "x = σ(φ)".to_string(),
                Some(Support::Interval(Some(_))) => "x = lo + (hi − lo)·σ(φ)".to_string(),
                None if c.dist == tyche_dist::DistKind::Dirichlet => {
                    "simplex by stick-breaking".to_string()
                }
                None => "?".to_string(),
            };
            out.push_str(&format!(
                "; φ[{i}] {} ({}): {t}\n",
                c.address,
                c.dist.name()
            ));
        }
        for a in &self.summed.addresses {
            out.push_str(&format!(
                "; {a}: summed out (log-sum-exp over its values)\n"
            ));
        }
        out.push_str(&self.kernel.to_string());
        match &self.compiled {
            Ok(_) => match crate::jit::emit_gradient_clif(&self.kernel) {
                Ok(clif) => {
                    out.push_str(
                        "\n; compiled: fn(φ, grad, tape) -> log density, the forward sweep \
                         keeping on the tape what the reverse sweep reads\n",
                    );
                    out.push_str(&clif);
                }
                Err(e) => out.push_str(&format!("\n; not compiled: {e}\n")),
            },
            Err(e) => out.push_str(&format!(
                "\n; not compiled ({e}): the kernel interpreter differentiates it\n"
            )),
        }
        out
    }

    /// Whether every coordinate maps strictly inside its support.
    fn inside(&self, phi: &[f64]) -> bool {
        phi.iter().zip(&self.supports).all(|(&p, s)| match s {
            Some(Support::Positive) => {
                let x = p.exp();
                x > 0.0 && x.is_finite()
            }
            Some(Support::Interval(_)) => {
                let u = 1.0 / (1.0 + (-p).exp());
                u > 0.0 && u < 1.0
            }
            _ => p.is_finite(),
        })
    }

    /// The interpreted gradient (the reference), with its own scratch
    /// memory.
    pub fn gradient(&self) -> Gradient {
        Gradient::new(Arc::clone(&self.kernel))
    }

    /// The gradient NUTS runs: compiled where it could be, with its own
    /// scratch memory.
    pub fn evaluator(&self) -> Evaluator {
        Evaluator::new(
            Arc::clone(&self.kernel),
            self.compiled.as_ref().ok().cloned(),
        )
    }
}

/// Kernels larger than this are differentiated by the interpreter:
/// Cranelift's register allocation grows faster than linearly on huge
/// straight-line functions.
const MAX_COMPILED_NODES: usize = 400_000;

fn compile(kernel: &Kernel) -> Result<Arc<CompiledGradient>, String> {
    if kernel.nodes.len() > MAX_COMPILED_NODES {
        return Err(format!(
            "the kernel has {} nodes (more than {MAX_COMPILED_NODES})",
            kernel.nodes.len()
        ));
    }
    crate::jit::compile_gradient(kernel)
        .map(Arc::new)
        .map_err(|e| e.message)
}

/// A gradient evaluator (one per chain): the compiled gradient, or the
/// interpreted one where there is none. At a point whose value is not
/// NaN but whose compiled gradient has a NaN component — where the code
/// multiplied a zero adjoint by an infinite derivative that the
/// interpreter skips — the interpreter recomputes the point, so both
/// give the same result everywhere.
pub struct Evaluator {
    kernel: Arc<Kernel>,
    compiled: Option<Arc<CompiledGradient>>,
    tape: Vec<f64>,
    interpreted: Option<Gradient>,
}

impl Evaluator {
    /// An evaluator of `kernel`'s gradient: `compiled` (its compiled
    /// gradient) where given, else the interpreter.
    pub fn new(kernel: Arc<Kernel>, compiled: Option<Arc<CompiledGradient>>) -> Evaluator {
        Evaluator {
            tape: compiled.as_ref().map(|c| c.tape()).unwrap_or_default(),
            kernel,
            compiled,
            interpreted: None,
        }
    }

    /// The log density at φ and its gradient into `grad`, as
    /// [`Gradient::eval`] computes them.
    pub fn eval(&mut self, phi: &[f64], grad: &mut [f64]) -> f64 {
        if let Some(c) = &self.compiled {
            let value = c.eval(phi, grad, &mut self.tape);
            if value.is_nan() || !grad.iter().any(|g| g.is_nan()) {
                return value;
            }
        }
        self.interpreted
            .get_or_insert_with(|| Gradient::new(Arc::clone(&self.kernel)))
            .eval(phi, grad)
    }

    /// Whether it runs compiled code.
    pub fn is_compiled(&self) -> bool {
        self.compiled.is_some()
    }
}

impl tyche_infer::GradientEvaluator for Evaluator {
    fn log_density_gradient(&mut self, phi: &[f64], grad: &mut [f64]) -> f64 {
        self.eval(phi, grad)
    }
}

impl tyche_infer::NativeGradient for GradientModel {
    fn dim(&self) -> usize {
        self.layout.len()
    }

    fn evaluator(&self) -> Box<dyn tyche_infer::GradientEvaluator + '_> {
        Box::new(GradientModel::evaluator(self))
    }

    fn constrain(&self, phi: &[f64], theta: &mut Vec<f64>) {
        theta.clear();
        self.constrain.eval(phi, theta);
    }

    fn address(&self, i: usize) -> (SiteId, u32) {
        self.layout[i]
    }

    fn slots(&self) -> Vec<tyche_infer::Slot> {
        self.slots.clone()
    }

    fn result(&self, phi: &[f64], theta: &[f64]) -> Result<Value, Diagnostic> {
        match &self.result {
            ResultFn::Template { template, leaves } => {
                let mut vals = Vec::new();
                leaves.eval(phi, &mut vals);
                Ok(fill(template, &mut vals.iter()))
            }
            // (Never with choices summed out: `marginal` needs a template.)
            ResultFn::Replay => self.replayer.result(theta),
        }
    }

    fn origin(&self) -> &'static str {
        match self.compiled {
            Ok(_) => "jit",
            Err(_) => "kernel interpreter",
        }
    }

    fn impossible(&self, _phi: &[f64], theta: &[f64]) -> Option<SiteId> {
        // The interpreter cannot replay a run without its summed-out
        // choices.
        if !self.summed.is_empty() {
            return None;
        }
        self.replayer.impossible_at(theta)
    }

    fn fault(&self, phi: &[f64], theta: &[f64]) -> Option<Diagnostic> {
        // A coordinate far enough out that its transform saturates (exp
        // overflowing or underflowing, σ rounding to 0 or 1) is a value
        // on the edge of its support, which no run of the model draws:
        // the density there is no fault of the model's, only a point the
        // sampler must not go (−∞, a divergence).
        if !theta.iter().all(|x| x.is_finite()) || !self.inside(phi) || !self.summed.is_empty() {
            return None;
        }
        // A `cholesky` of a matrix that is not positive definite at this
        // point is, as in Stan, a point the sampler rejects (a divergence),
        // not an error of the model's.
        self.replayer
            .error_at(theta)
            .filter(|d| !d.message.contains(tyche_vm::linalg::NOT_POSITIVE_DEFINITE))
    }
}
