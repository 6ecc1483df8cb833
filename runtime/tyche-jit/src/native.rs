//! [`NativeModel`]: a static model as inference's
//! [`NativeDensity`](tyche_infer::NativeDensity) — its compiled kernel for
//! the density, plus small expression programs, cut from the traced DAG,
//! for what MH needs besides: each choice's prior parameters and the
//! return value as functions of θ.
//!
//! A model with discrete choices has no kernel (kernels hold Real choices
//! only): it runs SMC on its [`Plan`], and its density is the traced terms
//! evaluated one by one ([`Exprs`]); MH is not offered for it.
//!
//! A model whose return value could not be traced (tracing stopped after
//! its last choice and observation, see `Trace::stopped`, or it returns a
//! closure) computes it by replaying θ on the interpreter ([`Replayer`]):
//! exactly the interpreter's value, at the cost of one interpreted run,
//! which MH pays only when its state changed. Such a model has no plan:
//! SMC would need the value from every particle's state.

use crate::exprs::Exprs;
use crate::jit::Compiled;
use crate::kernel::Kernel;
use crate::ops::NodeId;
use crate::replay::Replayer;
use crate::sequential::{collect_leaves, fill, Plan, PlanChoice};
use crate::trace::{NotStatic, Template, Trace, ValueKind};
use tyche_core::Diagnostic;
use tyche_dist::{Dist, DistKind, Param};
use tyche_infer::NativeDensity;
use tyche_ir::Program;
use tyche_ir::SiteId;
use tyche_vm::Address;
use tyche_vm::Value;

/// A choice's distribution: its family and its parameters over θ.
#[derive(Clone, Debug)]
struct Prior {
    kind: DistKind,
    params: Exprs,
    /// The distribution itself when its parameters are constants.
    concrete: Option<Dist>,
    /// Whether the support is the same at every θ.
    fixed_support: bool,
}

/// The return value as a function of θ.
enum ResultFn {
    /// A template whose `Real`/`Bool` leaves are, in order, the roots of
    /// `leaves`.
    Template { template: Template, leaves: Exprs },
    /// Not traceable: the interpreter's run with θ's choices.
    Replay(Replayer),
}

/// Whether a discrete choice's support is the same at every θ: its
/// parameters are constants or rows of data tables, strictly inside the
/// range where a value can lose all probability (a zero Categorical
/// weight, a Bernoulli p of 0 or 1, …). MH reuses every other choice's
/// value when it moves one; where a support can shrink, the interpreted
/// kernel would redraw a value that fell out of it, so such models keep
/// the interpreter.
fn discrete_support_fixed(kind: DistKind, params: &Exprs) -> bool {
    let range = |i: usize| params.root_range(i);
    let inside = |i: usize, lo: f64, hi: f64| range(i).is_some_and(|(a, b)| a > lo && b < hi);
    let constant = |i: usize| range(i).is_some_and(|(a, b)| a == b);
    match kind {
        DistKind::Categorical => (0..params.roots.len()).all(|i| inside(i, 0.0, f64::INFINITY)),
        DistKind::Bernoulli | DistKind::Geometric => inside(0, 0.0, 1.0),
        DistKind::Poisson => inside(0, 0.0, f64::INFINITY),
        DistKind::Binomial => constant(0) && inside(1, 0.0, 1.0),
        DistKind::DiscreteUniform => constant(0) && constant(1),
        _ => false,
    }
}

/// A static model compiled for inference.
pub struct NativeModel {
    /// `None` for a model with discrete choices (see the module
    /// documentation).
    kernel: Option<Kernel>,
    /// `None` when built for SMC only (which never evaluates the whole
    /// density); [`Kernel::eval`] stands in then.
    compiled: Option<Compiled>,
    /// θ's layout: each choice's site and occurrence index.
    layout: Vec<(SiteId, u32)>,
    /// Without a kernel: the density's terms, summed in order, followed
    /// by the indexes of the trace's checks.
    terms: Option<Exprs>,
    /// The lengths those indexes must stay below.
    check_lens: Vec<usize>,
    /// Replays a θ where the density marks a fault (NaN or +∞) on the
    /// interpreter, for its error (MH; see
    /// [`NativeDensity::checked_log_density`]).
    faults: Option<Replayer>,
    priors: Vec<Prior>,
    result: ResultFn,
    /// The model cut at its observations, for SMC; `None` when its return
    /// value is replayed.
    plan: Option<Plan>,
}

impl std::fmt::Debug for NativeModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeModel")
            .field("dim", &self.layout.len())
            .field("kernel", &self.kernel.is_some())
            .field("compiled", &self.compiled)
            .field("replays_result", &self.replays_result())
            .finish()
    }
}

impl NativeModel {
    /// The density kernel; `None` for a model with discrete choices.
    pub fn kernel(&self) -> Option<&Kernel> {
        self.kernel.as_ref()
    }

    pub fn compiled(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }

    /// The model cut at its observations (what SMC runs); `None` when
    /// the return value is replayed.
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.as_ref()
    }

    /// Whether the return value is computed by replaying θ on the
    /// interpreter (it could not be traced).
    pub fn replays_result(&self) -> bool {
        matches!(self.result, ResultFn::Replay(_))
    }

    /// Whether that replay starts where tracing stopped rather than at
    /// the beginning (see `Trace::resume`).
    pub fn replay_resumes(&self) -> bool {
        matches!(&self.result, ResultFn::Replay(r) if r.resumes())
    }
}

/// What a trace provides besides the kernel: priors and the result.
pub(crate) struct Structure {
    layout: Vec<(SiteId, u32)>,
    priors: Vec<Prior>,
    result: ResultFn,
    plan: Option<Plan>,
    faults: Option<Replayer>,
}

impl Structure {
    /// Keeps `replayer()` (or the result's replayer, which runs the same
    /// model) to rebuild the interpreter's error where the density marks
    /// a fault.
    pub(crate) fn replaying_faults(mut self, replayer: impl FnOnce() -> Replayer) -> Structure {
        self.faults = Some(match &self.result {
            ResultFn::Replay(r) => r.clone(),
            ResultFn::Template { .. } => replayer(),
        });
        self
    }

    /// The first choice whose support can change with other choices (see
    /// [`discrete_support_fixed`]): MH cannot run natively on such a model.
    pub(crate) fn unfixed_support(&self) -> Option<usize> {
        self.priors.iter().position(|p| !p.fixed_support)
    }

    /// Cuts the priors and the result out of a traced DAG, or says why the
    /// model cannot run natively. A result without a template is replayed
    /// with `replayer()` (and the model gets no plan).
    pub(crate) fn new(
        program: &Program,
        t: &Trace,
        keep_choices: bool,
        replayer: impl FnOnce() -> Replayer,
    ) -> Result<Structure, NotStatic> {
        let g = &t.graph;
        let kinds: Vec<DistKind> = t.choices.iter().map(|c| c.dist).collect();
        let (priors, result) = (&t.priors, t.result.as_ref());
        let not = |reason: &str| NotStatic {
            reason: reason.to_string(),
            span: None,
        };
        let priors = kinds
            .iter()
            .zip(priors)
            .zip(&t.dists)
            .map(|((&kind, params), d)| {
                let params = params
                    .as_ref()
                    .ok_or_else(|| not("a distribution parameter is not a real"))?;
                if d.value != ValueKind::Real {
                    let params = Exprs::new(g, params);
                    let fixed_support =
                        d.concrete.is_some() || discrete_support_fixed(kind, &params);
                    return Ok(Prior {
                        kind,
                        params,
                        concrete: d.concrete.clone(),
                        fixed_support,
                    });
                }
                // Only Uniform's support depends on its parameters among
                // the Real-valued families kernels support.
                let fixed_support =
                    kind != DistKind::Uniform || params.iter().all(|&p| g.as_const(p).is_some());
                if !fixed_support {
                    return Err(not(
                        "the support of a Uniform choice depends on other choices",
                    ));
                }
                Ok(Prior {
                    kind,
                    params: Exprs::new(g, params),
                    concrete: None,
                    fixed_support,
                })
            })
            .collect::<Result<Vec<_>, NotStatic>>()?;
        let layout = t.choices.iter().map(|c| (c.site, c.index)).collect();
        let Some(template) = result else {
            return Ok(Structure {
                layout,
                priors,
                result: ResultFn::Replay(replayer()),
                plan: None,
                faults: None,
            });
        };
        let plan_choices: Vec<PlanChoice> = t
            .choices
            .iter()
            .zip(&t.priors)
            .zip(&t.dists)
            .map(|((c, p), d)| PlanChoice {
                kind: c.dist,
                params: p.clone().unwrap_or_default(),
                concrete: d.concrete.clone(),
                value: d.value,
                span: d.span,
                address: Address {
                    name: program.site(c.site).name,
                    index: c.index,
                },
            })
            .collect();
        let plan = Plan::new(
            g,
            &t.events,
            &t.checks,
            &t.fixed,
            &plan_choices,
            template,
            keep_choices,
        );
        let mut leaves = Vec::new();
        collect_leaves(template, &mut leaves);
        Ok(Structure {
            layout,
            plan: Some(plan),
            faults: None,
            priors,
            result: ResultFn::Template {
                template: template.clone(),
                leaves: Exprs::new(g, &leaves),
            },
        })
    }

    /// The model with its kernel (compiled to machine code when
    /// `compiled` is given).
    pub(crate) fn with_code(self, kernel: Kernel, compiled: Option<Compiled>) -> NativeModel {
        NativeModel {
            kernel: Some(kernel),
            compiled,
            layout: self.layout,
            terms: None,
            check_lens: Vec::new(),
            faults: self.faults,
            priors: self.priors,
            result: self.result,
            plan: self.plan,
        }
    }

    /// The model of trace `t` without a kernel (discrete choices): its
    /// density sums `t`'s terms, NaN where one of its index checks fails.
    pub(crate) fn without_kernel(self, t: &Trace) -> NativeModel {
        let roots: Vec<NodeId> = t
            .terms
            .iter()
            .copied()
            .chain(t.checks.iter().map(|c| c.index))
            .collect();
        NativeModel {
            kernel: None,
            compiled: None,
            layout: self.layout,
            terms: Some(Exprs::new(&t.graph, &roots)),
            check_lens: t.checks.iter().map(|c| c.len).collect(),
            faults: self.faults,
            priors: self.priors,
            result: self.result,
            plan: self.plan,
        }
    }
}

impl NativeModel {
    /// The density as the code computes it: NaN or +∞ mark a θ where the
    /// interpreter's run may stop with an error (see `dists`).
    fn raw_log_density(&self, theta: &[f64]) -> f64 {
        match (&self.compiled, &self.kernel, &self.terms) {
            (Some(c), _, _) => c.log_density(theta),
            (None, Some(k), _) => k.eval(theta),
            // The kernel's sum: in execution order from 0.
            (None, None, Some(terms)) => terms.sum_checked(theta, &self.check_lens),
            (None, None, None) => f64::NEG_INFINITY,
        }
    }
}

impl NativeDensity for NativeModel {
    fn dim(&self) -> usize {
        self.layout.len()
    }

    fn address(&self, i: usize) -> (SiteId, u32) {
        self.layout[i]
    }

    /// θ holds discrete choices as `k as f64` (Bools as 0/1).
    fn log_density(&self, theta: &[f64]) -> f64 {
        let total = self.raw_log_density(theta);
        if total.is_nan() {
            f64::NEG_INFINITY
        } else {
            total
        }
    }

    fn checked_log_density(&self, theta: &[f64]) -> Result<f64, Diagnostic> {
        let total = self.raw_log_density(theta);
        if total.is_nan() || total == f64::INFINITY {
            // The mark of a possible fault: the interpreter decides. (A
            // NaN it accepts is a sum −∞ + ∞ or a NaN value, density 0.)
            if let Some(d) = self.faults.as_ref().and_then(|r| r.error_at(theta)) {
                return Err(d);
            }
            if total.is_nan() {
                return Ok(f64::NEG_INFINITY);
            }
        }
        Ok(total)
    }

    fn prior(&self, i: usize, theta: &[f64]) -> Result<Dist, String> {
        let p = &self.priors[i];
        if let Some(d) = &p.concrete {
            return Ok(d.clone());
        }
        let mut vals = Vec::with_capacity(4);
        p.params.eval(theta, &mut vals);
        let built = match p.kind {
            DistKind::Categorical => Dist::new(p.kind, &[Param::Vector(&vals)]),
            DistKind::Binomial => {
                let n = vals.first().copied().unwrap_or(0.0) as i64;
                let p_ = vals.get(1).copied().unwrap_or(f64::NAN);
                Dist::new(p.kind, &[Param::Int(n), Param::Real(p_)])
            }
            kind => {
                let params: Vec<Param> = vals.into_iter().map(Param::Real).collect();
                Dist::new(kind, &params)
            }
        };
        built.map_err(|e| e.message)
    }

    fn fixed_support(&self, i: usize) -> bool {
        self.priors[i].fixed_support
    }

    fn result(&self, theta: &[f64]) -> Result<Value, Diagnostic> {
        match &self.result {
            ResultFn::Template { template, leaves } => {
                let mut vals = Vec::new();
                leaves.eval(theta, &mut vals);
                Ok(fill(template, &mut vals.iter()))
            }
            ResultFn::Replay(r) => r.result(theta),
        }
    }

    fn sequential(&self) -> Option<&dyn tyche_infer::NativeSequential> {
        self.plan
            .as_ref()
            .map(|p| p as &dyn tyche_infer::NativeSequential)
    }

    fn origin(&self) -> &'static str {
        match &self.compiled {
            Some(c) if c.is_ahead_of_time() => "aot",
            Some(_) => "jit",
            None if self.kernel.is_some() => "kernel interpreter",
            None => "expression programs",
        }
    }
}
