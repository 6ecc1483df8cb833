//! The reference log joint: run the model on the interpreter
//! (`tyche_vm::Machine`) with every choice replayed from θ.
//!
//! The log joint is the sum, in execution order, of `log_prob` of each
//! sampled choice at its θ value, of each observation, and of each factor
//! (conditions add 0 or −∞) — the same quantities a kernel sums. This is
//! what kernels are tested against and what "the interpreter" means in the
//! benchmarks. A discrete choice's θ holds `k as f64` (a Bool 0 or 1), as
//! in step programs.
//!
//! [`Replayer::result`] is the same run's return value: what a native MH
//! chain reports for a model whose return value could not be traced (see
//! `Trace::stopped`), bit for bit the interpreter's.

use crate::exprs::Exprs;
use crate::kernel::Choice;
use crate::sequential::fill;
use crate::trace::Resume;
use std::sync::Arc;
use tyche_ir::{FuncId, Program};
use tyche_vm::{DistValue, Effect, Machine, Value};

/// Why a replay could not produce a density.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplayError {
    /// The interpreter stopped with a runtime error (an invalid
    /// distribution parameter at this θ, for one). Kernels mark such a θ
    /// with NaN or +∞ (see `dists`).
    Runtime(String),
    /// The run's choices do not match the layout (a different address, or
    /// a different number of choices).
    Layout(String),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Runtime(m) | ReplayError::Layout(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ReplayError {}

/// A model ready to replay: program, evaluated globals, model function.
#[derive(Clone)]
pub struct Replayer {
    program: Arc<Program>,
    globals: Arc<Vec<Value>>,
    model: FuncId,
    /// Name ids of the layout, resolved once.
    names: Vec<(tyche_ir::NameId, u32)>,
    /// Per choice of the layout, how many entries of θ hold its value
    /// (`None`: one; `Some(k)`: a simplex of `k`); empty when every
    /// choice has one.
    widths: Vec<Option<usize>>,
    /// Where [`Replayer::result`] can start instead of the beginning, and
    /// the leaves of its register templates.
    resume: Option<(Resume, Exprs)>,
}

impl Replayer {
    pub fn new(
        program: Arc<Program>,
        globals: Arc<Vec<Value>>,
        model: FuncId,
        layout: &[Choice],
    ) -> Replayer {
        let names = layout
            .iter()
            .map(|c| (program.site(c.site).name, c.index))
            .collect();
        Replayer::with_names(program, globals, model, names, Vec::new())
    }

    fn with_names(
        program: Arc<Program>,
        globals: Arc<Vec<Value>>,
        model: FuncId,
        names: Vec<(tyche_ir::NameId, u32)>,
        widths: Vec<Option<usize>>,
    ) -> Replayer {
        Replayer {
            program,
            globals,
            model,
            names,
            widths,
            resume: None,
        }
    }

    /// A replayer for an unconstrained trace's choices
    /// ([`crate::trace::Trace::slots`]), whose θ holds a simplex's `k`
    /// components for a Dirichlet choice.
    pub fn for_slots(
        program: Arc<Program>,
        globals: Arc<Vec<Value>>,
        model: FuncId,
        slots: &[crate::trace::ValueSlot],
    ) -> Replayer {
        let names = slots
            .iter()
            .map(|c| (program.site(c.site).name, c.index))
            .collect();
        let widths = slots.iter().map(|s| s.width).collect();
        Replayer::with_names(program, globals, model, names, widths)
    }

    /// Whether [`Replayer::result`] starts at a resume point.
    pub fn resumes(&self) -> bool {
        self.resume.is_some()
    }

    /// Starts [`Replayer::result`]'s runs at `resume` (registers filled
    /// from θ through the nodes of `graph`) instead of the beginning: the
    /// choices and observations before it are not redone.
    pub fn resuming(mut self, resume: Resume, graph: &crate::graph::Graph) -> Replayer {
        let mut leaves = Vec::new();
        for t in &resume.regs {
            crate::sequential::collect_leaves(t, &mut leaves);
        }
        self.resume = Some((resume, Exprs::new(graph, &leaves)));
        self
    }

    /// The runtime error the interpreter's run with θ's choices stops
    /// with, if any: what compiled code reports where its density marks a
    /// fault (NaN or +∞). A run that fits the layout badly is not one.
    pub fn error_at(&self, theta: &[f64]) -> Option<tyche_core::Diagnostic> {
        match self.run(theta) {
            Err(Failure::Runtime(d)) => Some(d),
            _ => None,
        }
    }

    /// The first site (sample, observation or factor) whose log
    /// probability is −∞ or NaN in the interpreter's run at θ: where a
    /// point has no density.
    pub fn impossible_at(&self, theta: &[f64]) -> Option<tyche_ir::SiteId> {
        let mut first = None;
        let _ = self.run_noting(theta, &mut first);
        first
    }

    /// The log joint at θ.
    pub fn log_joint(&self, theta: &[f64]) -> Result<f64, ReplayError> {
        match self.run(theta) {
            Ok((total, _)) => Ok(total),
            Err(Failure::Runtime(d)) => Err(ReplayError::Runtime(d.message)),
            Err(Failure::Layout(m)) => Err(ReplayError::Layout(m)),
        }
    }

    /// The model's return value at θ: exactly what the interpreter's run
    /// with these choices returns, or the interpreter's runtime error.
    /// (A run whose choices do not match the layout is an internal
    /// error: the layout was traced from this model.)
    pub fn result(&self, theta: &[f64]) -> Result<Value, tyche_core::Diagnostic> {
        if let Some(v) = self.resumed_result(theta) {
            return Ok(v);
        }
        self.full_result(theta)
    }

    /// The return value from the resume point, when there is one and the
    /// run from there finishes without an effect or an error (anything
    /// else is left to the full run, which says exactly what the
    /// interpreter does).
    fn resumed_result(&self, theta: &[f64]) -> Option<Value> {
        let (resume, leaves) = self.resume.as_ref()?;
        let mut vals = Vec::new();
        leaves.eval(theta, &mut vals);
        let mut it = vals.iter();
        let regs = resume.regs.iter().map(|t| fill(t, &mut it)).collect();
        let mut m = Machine::at(
            Arc::clone(&self.program),
            Arc::clone(&self.globals),
            resume.func,
            resume.pc,
            regs,
        );
        match m.run() {
            Ok(Effect::Done(v)) => Some(v),
            _ => None,
        }
    }

    /// [`Replayer::result`] by running the model from its start.
    pub fn full_result(&self, theta: &[f64]) -> Result<Value, tyche_core::Diagnostic> {
        match self.run(theta) {
            Ok((_, v)) => Ok(v),
            Err(Failure::Runtime(d)) => Err(d),
            Err(Failure::Layout(m)) => Err(tyche_core::Diagnostic::error(format!(
                "internal error: replaying the model for its return value: {m}"
            ))),
        }
    }

    /// Runs the model with θ's choices: its log joint and return value.
    fn run(&self, theta: &[f64]) -> Result<(f64, Value), Failure> {
        self.run_noting(theta, &mut None)
    }

    /// [`run`](Self::run), noting in `impossible` the first site whose
    /// log probability (or factor) is −∞ or NaN.
    fn run_noting(
        &self,
        theta: &[f64],
        impossible: &mut Option<tyche_ir::SiteId>,
    ) -> Result<(f64, Value), Failure> {
        let mut m = Machine::for_function(
            Arc::clone(&self.program),
            Arc::clone(&self.globals),
            self.model,
        )
        .map_err(Failure::Runtime)?;
        let mut total = 0.0;
        let mut i = 0;
        // Where choice i's entries of θ start.
        let mut at = 0;
        let mut effect = m.run().map_err(Failure::Runtime)?;
        let result = loop {
            effect = match effect {
                Effect::Sample {
                    addr, dist, site, ..
                } => {
                    let width = self.widths.get(i).copied().flatten();
                    let n = width.unwrap_or(1);
                    let (Some(&(name, index)), Some(xs)) =
                        (self.names.get(i), theta.get(at..at + n))
                    else {
                        return Err(Failure::Layout(format!(
                            "the run makes more than {} choices",
                            self.names.len().min(theta.len())
                        )));
                    };
                    if addr.name != name || addr.index != index {
                        return Err(Failure::Layout(format!(
                            "choice {i} is {} in this run",
                            addr.display(&self.program)
                        )));
                    }
                    let v = match width {
                        None => theta_value(&dist, xs[0]),
                        Some(_) => Value::array(xs.iter().map(|&x| Value::Real(x)).collect()),
                    };
                    let lp = dist.log_prob(&v);
                    note(impossible, site, lp);
                    total += lp;
                    i += 1;
                    at += n;
                    m.resume(v).map_err(Failure::Runtime)?
                }
                Effect::Observe {
                    dist, value, site, ..
                } => {
                    let lp = dist.log_prob(&value);
                    note(impossible, site, lp);
                    total += lp;
                    m.run().map_err(Failure::Runtime)?
                }
                Effect::Factor {
                    log_weight, site, ..
                } => {
                    note(impossible, site, log_weight);
                    total += log_weight;
                    m.run().map_err(Failure::Runtime)?
                }
                Effect::Intervened { .. } => m.run().map_err(Failure::Runtime)?,
                Effect::Infer { span, .. } => {
                    return Err(Failure::Runtime(
                        tyche_core::Diagnostic::error("nested inference").with_primary(span, ""),
                    ))
                }
                Effect::Done(v) => break v,
            };
        };
        if i != self.names.len() {
            return Err(Failure::Layout(format!(
                "the run made {i} choices, the layout has {}",
                self.names.len()
            )));
        }
        Ok((total, result))
    }
}

/// Notes `site` as the first impossible one if `lp` is −∞ or NaN.
fn note(first: &mut Option<tyche_ir::SiteId>, site: tyche_ir::SiteId, lp: f64) {
    if first.is_none() && (lp.is_nan() || lp == f64::NEG_INFINITY) {
        *first = Some(site);
    }
}

/// Why [`Replayer::run`] stopped.
enum Failure {
    Runtime(tyche_core::Diagnostic),
    Layout(String),
}

/// The value θᵢ stands for, by the type of the distribution it is drawn
/// from.
fn theta_value(dist: &DistValue, x: f64) -> Value {
    match dist {
        DistValue::Prim(d) => match d.kind().value_type_name() {
            "Int" => Value::Int(x as i64),
            "Bool" => Value::Bool(x != 0.0),
            _ => Value::Real(x),
        },
        DistValue::Posterior(_) => Value::Real(x),
    }
}
