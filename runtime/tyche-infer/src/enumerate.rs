//! Exact inference by enumeration.
//!
//! A depth-first walk over execution paths: at each discrete choice the
//! machine is suspended and becomes a branch point holding the values of
//! the support with nonzero probability; each child resumes a clone (the
//! last child takes the machine itself). Observations multiply the path's
//! weight, and a path whose weight reaches zero is dropped at once. The
//! stack is explicit, so deep models cannot overflow the host stack.
//!
//! Contract: every complete path `x` contributes `p(x) · p(y | x)` (its
//! prior probability times its likelihood) to its result; the evidence is
//! the total `Z = Σₓ p(x, y)`, and the posterior of a result `r` is
//! `Σ_{x ↦ r} p(x, y) / Z`, exactly (up to floating point).

use crate::model::Model;
use crate::nested::Ctx;
use crate::options::{Method, Options};
use crate::result::{Draw, InferResult};
use crate::rng::{Purpose, Seed};
use crate::stats::log_sum_exp;
use std::collections::HashMap;
use tyche_core::Diagnostic;
use tyche_ir::{Program, SiteId};
use tyche_vm::{DistValue, Effect, Machine, Value};

/// Branch points nested deeper than this on one path abort the search:
/// such a model almost surely recurses without bound (a geometric
/// recursion has infinitely many paths).
pub const MAX_DEPTH: usize = 1000;
/// Complete paths explored before giving up.
pub const MAX_PATHS: usize = 10_000_000;

struct Branch {
    machine: Machine,
    /// Values still to try, with their log probabilities.
    options: Vec<(Value, f64)>,
    next: usize,
    log_weight: f64,
}

/// Merges results as paths complete.
#[derive(Default)]
struct Results {
    index: HashMap<Value, usize>,
    values: Vec<Value>,
    log_mass: Vec<f64>,
    paths: usize,
}

impl Results {
    fn add(&mut self, v: Value, lw: f64) {
        self.paths += 1;
        match self.index.get(&v) {
            Some(&i) => self.log_mass[i] = log_sum_exp(&[self.log_mass[i], lw]),
            None => {
                self.index.insert(v.clone(), self.values.len());
                self.values.push(v);
                self.log_mass.push(lw);
            }
        }
    }
}

pub(crate) fn enumerate(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
) -> Result<InferResult, Diagnostic> {
    // Approximate inference nested inside gets its randomness here, in
    // depth-first order: deterministic.
    let mut rng = Seed(opts.seed).stream(Purpose::Enumerate, 0).rng();
    let program = &model.program;
    let mut stack: Vec<Branch> = Vec::new();
    let mut results = Results::default();
    let mut pending: Option<(Machine, Option<Value>, f64)> = Some((model.start()?, None, 0.0));
    loop {
        if let Some((mut m, resume, mut lw)) = pending.take() {
            // Run one path until it branches, dies or finishes.
            let mut effect = match resume {
                Some(v) => m.resume(v)?,
                None => m.run()?,
            };
            loop {
                effect = match effect {
                    Effect::Sample { site, dist, .. } => {
                        let options = support(program, site, &dist)?;
                        match options.len() {
                            0 => break,
                            1 => {
                                let (v, lp) = options.into_iter().next().expect("one option");
                                lw += lp;
                                m.resume(v)?
                            }
                            _ => {
                                if stack.len() >= MAX_DEPTH {
                                    return Err(too_deep(program, site));
                                }
                                stack.push(Branch {
                                    machine: m,
                                    options,
                                    next: 0,
                                    log_weight: lw,
                                });
                                break;
                            }
                        }
                    }
                    Effect::Observe { dist, value, .. } => {
                        lw += dist.log_prob(&value);
                        if lw == f64::NEG_INFINITY || lw.is_nan() {
                            break;
                        }
                        m.run()?
                    }
                    Effect::Factor { log_weight, .. } => {
                        lw += log_weight;
                        if lw == f64::NEG_INFINITY {
                            break;
                        }
                        m.run()?
                    }
                    Effect::Intervened { .. } => m.run()?,
                    Effect::Infer {
                        method,
                        model: closure,
                        span,
                    } => {
                        let posterior = ctx.infer_effect(&m, method, closure, span, &mut rng)?;
                        m.resume(posterior)?
                    }
                    Effect::Done(v) => {
                        results.add(v, lw);
                        if results.paths > MAX_PATHS {
                            return Err(Diagnostic::error(format!(
                                "Enumerate gave up after {MAX_PATHS} execution paths"
                            ))
                            .with_code("E0702")
                            .with_help("the model has too many paths to enumerate; use a sampling method such as Smc"));
                        }
                        break;
                    }
                };
            }
        }
        // Take the next child of the innermost open branch point.
        let Some(top) = stack.last_mut() else { break };
        let (v, lp) = top.options[top.next].clone();
        top.next += 1;
        let lw = top.log_weight + lp;
        let machine = if top.next == top.options.len() {
            stack.pop().expect("top exists").machine
        } else {
            top.machine.clone()
        };
        pending = Some((machine, Some(v), lw));
    }
    finish(results)
}

/// The values of a choice's support with nonzero probability, or a
/// diagnostic naming the site when there is no finite support.
fn support(
    program: &Program,
    site: SiteId,
    dist: &DistValue,
) -> Result<Vec<(Value, f64)>, Diagnostic> {
    let Some(values) = dist.support() else {
        let s = program.site(site);
        let name = program.name(s.name);
        let (what, why) = match dist {
            DistValue::Posterior(_) => (
                "choice",
                "it samples an approximate posterior, which has no exact support".to_string(),
            ),
            DistValue::Prim(d) if !d.is_discrete() => (
                "continuous choice",
                "enumeration needs finitely many values".to_string(),
            ),
            DistValue::Prim(d) => match d.support_size() {
                Some(k) => (
                    "choice",
                    format!("its support has {k} values, too many to enumerate"),
                ),
                None => ("choice", "its support is infinite".to_string()),
            },
        };
        return Err(Diagnostic::error(format!(
            "Enumerate cannot handle the {what} `{name}` ({})",
            dist.name()
        ))
        .with_code("E0703")
        .with_primary(s.span, why)
        .with_help("use a sampling method such as Smc, Importance or Mh"));
    };
    Ok(values
        .into_iter()
        .filter_map(|v| {
            let lp = dist.log_prob(&v);
            (lp > f64::NEG_INFINITY).then_some((v, lp))
        })
        .collect())
}

fn too_deep(program: &Program, site: SiteId) -> Diagnostic {
    let s = program.site(site);
    Diagnostic::error(format!(
        "Enumerate gave up: more than {MAX_DEPTH} nested random choices on one execution path"
    ))
    .with_code("E0704")
    .with_primary(
        s.span,
        format!("`{}` is still branching here", program.name(s.name)),
    )
    .with_note("a recursion without a bound on its depth has infinitely many paths")
    .with_help("use a sampling method such as Smc, Importance or Rejection")
}

fn finish(results: Results) -> Result<InferResult, Diagnostic> {
    let log_z = log_sum_exp(&results.log_mass);
    if log_z == f64::NEG_INFINITY || log_z.is_nan() {
        return Err(
            Diagnostic::error("Enumerate: every execution has probability zero")
                .with_code("E0705")
                .with_note("the conditions and observations can never all hold together"),
        );
    }
    let draws = results
        .values
        .into_iter()
        .zip(results.log_mass)
        .map(|(value, lm)| Draw {
            value,
            log_weight: lm - log_z,
            trace: Vec::new(),
        })
        .collect();
    Ok(InferResult {
        method: Method::Enumerate,
        draws,
        log_evidence: Some(log_z),
        ess: None,
        exact: true,
        mcmc: None,
        backend: crate::Backend::Interpreter,
    })
}
