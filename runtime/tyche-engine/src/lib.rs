//! `tyche-engine`: the run pipeline, once.
//!
//! Every front door — `tyche run`, the REPL's `:infer`, the embedding API
//! (`tyche::Query::run`), `tyche build` executables (which run `tyche
//! run`'s code) and the benchmarks — runs inference through [`run`]: a
//! [`Spec`] (the model with its data bound and its surgery applied, the
//! method or none for the automatic choice, its settings, the backend, a
//! time limit, a cancellation token, a progress sink) goes in; a [`Run`]
//! (the result, the method that ran and, when chosen automatically, why —
//! a typed [`Choice`] —, the backend, the diagnostics and warnings) comes
//! out. [`Run::info`] and [`Run::draws`] turn it into what
//! `tyche-report` prints, so that every front door prints the same JSON
//! and text for the same seed.
//!
//! What the front doors still do themselves: compile the program, bind
//! data and apply surgery (their inputs differ: files and flags, the
//! session, typed Rust values), validate their own option syntax, and
//! write files.
//!
//! Layering: above `tyche-infer` (the algorithms) and `tyche-jit` (which
//! prepares native code for a method: [`tyche_jit::prepare`]); below the
//! front ends. Like every runtime crate it knows nothing of the compiler.

mod choice;

pub use choice::{Choice, NoGradient, NotExact};
pub use tyche_infer::{Progress, Stop};
pub use tyche_jit::BackendRequest as Backend;

use std::sync::Arc;
use std::time::Duration;
use tyche_core::Diagnostic;
use tyche_infer::{Diagnosis, EnumerationRefusal, InferResult, Method, Model, Options};
use tyche_vm::Value;

/// What to run.
#[derive(Clone, Debug)]
pub struct Spec<'a> {
    /// The model: program (surgery applied), evaluated globals (data
    /// bound) and entry.
    pub model: &'a Model,
    /// The method, or `None` for the automatic choice (enumeration →
    /// NUTS → SMC with rejuvenation; see [`Choice`]).
    pub method: Option<Method>,
    /// The method's settings (sizes, seed, resampler, …). Its `method`,
    /// `stop`, `progress` and native fields are set by [`run`].
    pub options: Options,
    /// What runs the model: native code, the interpreter, or either.
    pub backend: Backend,
    /// Stop with E0770 after this long.
    pub timeout: Option<Duration>,
    /// A token whose [`Stop::cancel`] ends the run with E0773 at the next
    /// check of any inference loop (Ctrl-C in the REPL); its deadline, if
    /// it has one, is a time limit too.
    pub cancel: Option<Stop>,
    /// Told how far a long run has got.
    pub progress: Option<Progress>,
}

impl<'a> Spec<'a> {
    /// A run of `model` with `options`' settings, the method chosen
    /// automatically, on native code where it can and pays.
    pub fn new(model: &'a Model, options: Options) -> Spec<'a> {
        Spec {
            model,
            method: None,
            options,
            backend: Backend::Auto,
            timeout: None,
            cancel: None,
            progress: None,
        }
    }

    pub fn method(mut self, method: Option<Method>) -> Spec<'a> {
        self.method = method;
        self
    }

    pub fn backend(mut self, backend: Backend) -> Spec<'a> {
        self.backend = backend;
        self
    }
}

/// A finished run and what it says about itself.
#[derive(Clone, Debug)]
pub struct Run {
    pub result: InferResult,
    /// The options the method ran with (after the automatic choice: its
    /// method, and the rejuvenation it added).
    pub options: Options,
    /// Why the method was chosen (`None` when it was given).
    pub choice: Option<Choice>,
    /// Per-quantity R-hat and ESS (MCMC) and the warnings of the method's
    /// own diagnostics.
    pub diagnosis: Diagnosis,
}

impl Run {
    /// Names the diagnosed quantities (and the warnings that list them) by
    /// the model's result type: a record's fields (`result.mu`) rather
    /// than tuple positions.
    fn name_quantities(&mut self, result_type: &tyche_ir::Type) {
        tyche_report::name_result_quantities(
            result_type,
            self.diagnosis.quantities.iter_mut().map(|q| &mut q.name),
            &mut self.diagnosis.warnings,
        );
    }

    /// The method that ran.
    pub fn method(&self) -> Method {
        self.options.method
    }

    /// Why the method was chosen, in words (`"method_reason"`).
    pub fn reason(&self) -> Option<String> {
        self.choice.as_ref().map(ToString::to_string)
    }

    /// What ran the model: `"jit"`, `"interpreter"` or `"mixed"`.
    pub fn backend(&self) -> &'static str {
        self.result.backend.name()
    }

    /// The report's keys beyond the summary: `acceptance_rate`, `chains`
    /// and `rhat` (MCMC), `exact`, `method_reason` (automatic choice),
    /// `warnings` (always) and `diagnostics` (per-quantity R-hat and ESS,
    /// MCMC).
    pub fn extra(&self) -> serde_json::Map<String, serde_json::Value> {
        let result = &self.result;
        let mut extra = serde_json::Map::new();
        if let Some(stats) = &result.mcmc {
            extra.insert("acceptance_rate".into(), stats.acceptance_rate.into());
            extra.insert("chains".into(), stats.chains.into());
            if let Some(rhat) = stats.rhat {
                extra.insert("rhat".into(), rhat.into());
            }
        }
        extra.insert("exact".into(), result.exact.into());
        if let Some(r) = self.reason() {
            extra.insert("method_reason".into(), r.into());
        }
        let diagnosis = &self.diagnosis;
        extra.insert("warnings".into(), diagnosis.warnings.clone().into());
        if !diagnosis.quantities.is_empty() {
            let qs: Vec<serde_json::Value> = diagnosis
                .quantities
                .iter()
                .map(|q| {
                    serde_json::json!({
                        "name": q.name,
                        "rhat": q.rhat,
                        "ess_bulk": q.ess_bulk,
                        "ess_tail": q.ess_tail,
                    })
                })
                .collect();
            extra.insert("diagnostics".into(), qs.into());
        }
        extra
    }

    /// The run's header for `tyche-report` (JSON, text, figures), naming
    /// the model `model`.
    pub fn info(&self, model: impl Into<String>) -> tyche_report::RunInfo {
        tyche_report::RunInfo {
            model: model.into(),
            method: self.method().name().to_string(),
            seed: self.options.seed,
            log_evidence: self.result.log_evidence,
            ess: self.result.ess,
            backend: Some(self.backend().into()),
            extra: self.extra(),
        }
    }

    /// The draws as `tyche-report` takes them (owned; see
    /// [`ReportDraws::draws`]), choices named by `program`.
    pub fn draws(&self, program: &tyche_ir::Program) -> ReportDraws {
        let draws = &self.result.draws;
        ReportDraws {
            values: draws.iter().map(|d| d.value.clone()).collect(),
            log_weights: draws.iter().map(|d| d.log_weight).collect(),
            traces: draws
                .iter()
                .map(|d| {
                    d.trace
                        .iter()
                        .map(|(a, v)| (a.display(program), v.clone()))
                        .collect()
                })
                .collect(),
            chains: self.result.mcmc.as_ref().map_or(1, |m| m.chains),
        }
    }
}

/// A run's draws, owned: values, log weights, named choices, chains.
#[derive(Clone, Debug)]
pub struct ReportDraws {
    pub values: Vec<Value>,
    pub log_weights: Vec<f64>,
    pub traces: Vec<Vec<(String, Value)>>,
    pub chains: usize,
}

impl ReportDraws {
    pub fn draws(&self) -> tyche_report::Draws<'_> {
        tyche_report::Draws {
            values: &self.values,
            log_weights: Some(&self.log_weights),
            traces: Some(&self.traces),
            chains: self.chains,
            // The caller knows the model's type (`report_run` sets it).
            result_type: None,
        }
    }
}

/// Runs inference as `spec` says and diagnoses the result.
///
/// With no method, the method is chosen for the model (LANGUAGE.md §8):
/// exact enumeration when every choice is finite; NUTS when every choice
/// is continuous, or discrete with local influence (summed out of the
/// density, `tyche_jit::marginal`), and the model's structure is fixed by
/// its data (and native code may run); otherwise SMC with two rejuvenation moves per
/// resampling (unless the settings say otherwise), which handles discrete
/// choices and changing structure. Native code for the method is prepared
/// by [`tyche_jit::prepare`] per `spec.backend`.
pub fn run(spec: Spec<'_>) -> Result<Run, Diagnostic> {
    let Spec {
        model,
        method,
        mut options,
        backend,
        timeout,
        cancel,
        progress,
    } = spec;
    let opts = &mut options;
    opts.stop = match (cancel, timeout) {
        (Some(c), Some(t)) => Some(c.with_deadline(t)),
        (Some(c), None) => Some(c),
        (None, Some(t)) => Some(Stop::after(t)),
        (None, None) => None,
    };
    opts.progress = progress;
    let automatic = method.is_none();
    opts.method = method.unwrap_or(Method::Enumerate);
    let func = match &model.entry {
        Value::Closure(c) if c.captures.is_empty() => Some(c.func),
        _ => None,
    };
    let prepare = |opts: &mut Options| match func {
        Some(f) => tyche_jit::prepare(&model.program, &model.globals, f, opts, backend),
        None => Ok(()),
    };
    prepare(opts)?;
    let (mut result, choice) = match tyche_infer::infer(model, opts) {
        Ok(r) => (r, automatic.then_some(Choice::Enumerate)),
        Err(d) if automatic => {
            // Not finite-discrete, or too large to enumerate: a sampler.
            let Some(refusal) = EnumerationRefusal::of(&d) else {
                return Err(d);
            };
            let not_exact = NotExact {
                refusal,
                message: d.message,
            };
            let choice = choose_sampler(model, func, backend, opts, not_exact);
            if matches!(choice, Choice::Smc { .. }) {
                prepare(opts)?;
            }
            (tyche_infer::infer(model, opts)?, Some(choice))
        }
        Err(d) => return Err(d),
    };
    let diagnosis = tyche_infer::diagnose(&mut result, &model.program);
    let mut run = Run {
        result,
        options,
        choice,
        diagnosis,
    };
    if let Some(f) = func {
        run.name_quantities(&model.program.func(f).result_type());
    }
    Ok(run)
}

/// After enumeration refused: NUTS when the model has a gradient on
/// native code (set into `opts`), else resample-move SMC (`opts` set to
/// it; the caller prepares its native code).
fn choose_sampler(
    model: &Model,
    func: Option<tyche_ir::FuncId>,
    backend: Backend,
    opts: &mut Options,
    not_exact: NotExact,
) -> Choice {
    let gradient = match (func, backend) {
        (_, Backend::Interpreter) => Err(NoGradient::InterpreterAsked),
        (None, _) => Err(NoGradient::NotAPlainFunction),
        (Some(f), _) => tyche_jit::gradient::GradientModel::new(&model.program, &model.globals, f)
            .map_err(|e| NoGradient::NotTraceable(e.reason)),
    };
    match gradient {
        Ok(g) => {
            opts.method = Method::Nuts;
            let coordinates = tyche_infer::NativeGradient::dim(&g);
            let summed_out = g.summed_out().addresses.clone();
            opts.native = None;
            opts.native_paths = None;
            opts.gradient = Some(tyche_infer::NativeGrad(Arc::new(g)));
            if summed_out.is_empty() {
                Choice::Nuts {
                    coordinates,
                    not_exact,
                }
            } else {
                Choice::NutsSummedOut {
                    coordinates,
                    summed_out,
                    not_exact,
                }
            }
        }
        Err(not_nuts) => {
            opts.method = Method::Smc;
            if opts.rejuvenate == 0 {
                opts.rejuvenate = 2;
            }
            Choice::Smc {
                rejuvenate: opts.rejuvenate,
                not_nuts,
                not_exact,
            }
        }
    }
}
