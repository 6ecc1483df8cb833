//! [`Posterior`]: what a query returns — weighted draws of the model's
//! return value with their traces, the evidence estimate, sampler
//! diagnostics, and summaries.

use crate::error::Error;
use crate::value::{conform, FromValue, IntoValue};
use std::fmt;
use tyche_infer::{McmcStats, Method};
use tyche_ir::{Program as IrProgram, Type};
use tyche_vm::Value;

/// One draw from the (approximate) posterior.
///
/// ```
/// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); 2.0 * x }")?;
/// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(5).run()?;
/// let draw = &posterior.draws()[0];
/// let x: f64 = tyche::FromValue::from_value(draw.choice("x[0]").unwrap())?;
/// assert_eq!(draw.get::<f64>()?, 2.0 * x);
/// assert!((draw.weight() - 0.2).abs() < 1e-12); // no observations: equal weights
/// # Ok::<(), tyche::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Draw {
    value: Value,
    log_weight: f64,
    weight: f64,
    choices: Vec<(String, Value)>,
}

impl Draw {
    /// The model's return value in this draw.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.5); b }")?;
    /// let posterior = program.model("model")?.run()?; // exact: one draw per distinct value
    /// assert_eq!(posterior.draws().len(), 2);
    /// assert!(matches!(posterior.draws()[0].value(), tyche::Value::Bool(_)));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The return value converted to a Rust type.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> (Int, Bool) { (3, true) }")?;
    /// let posterior = program.model("model")?.run()?;
    /// assert_eq!(posterior.draws()[0].get::<(i64, bool)>()?, (3, true));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn get<T: FromValue>(&self) -> Result<T, Error> {
        T::from_value(&self.value)
    }

    /// The draw's log weight as the method reported it: normalised
    /// (`Σ exp = 1`) for Enumerate, Importance and SMC, 0 for the
    /// unweighted methods (Rejection, MH, PMMH).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Mh).samples(10).run()?;
    /// assert!(posterior.draws().iter().all(|d| d.log_weight() == 0.0));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn log_weight(&self) -> f64 {
        self.log_weight
    }

    /// The draw's normalised probability (the weights of all draws sum
    /// to 1).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.25); b }")?;
    /// let posterior = program.model("model")?.run()?;
    /// let total: f64 = posterior.draws().iter().map(|d| d.weight()).sum();
    /// assert!((total - 1.0).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// The random choices of the execution that produced the draw, in
    /// execution order, as (address, value): `("z[3]", true)`. Choices
    /// fixed by an intervention are included. Empty under Enumerate, which
    /// merges all executions with equal results into one draw.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Int { let a ~ Poisson(3.0); let a ~ Poisson(4.0); a }
    /// ")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(3).run()?;
    /// let names: Vec<&str> = posterior.draws()[0].choices().iter().map(|(a, _)| a.as_str()).collect();
    /// assert_eq!(names, ["a[0]", "a[1]"]);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn choices(&self) -> &[(String, Value)] {
        &self.choices
    }

    /// The value of the choice at `address` (`"z[3]"`; a bare name `"x"`
    /// means its first occurrence, `"x[0]"`), if this execution made it.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(3).run()?;
    /// let draw = &posterior.draws()[0];
    /// assert_eq!(draw.choice("x"), Some(draw.value()));
    /// assert_eq!(draw.choice("y[0]"), None);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn choice(&self, address: &str) -> Option<&Value> {
        let address = normalize_address(address);
        self.choices
            .iter()
            .find(|(a, _)| *a == address)
            .map(|(_, v)| v)
    }
}

/// `"x"` → `"x[0]"`; addresses are kept.
fn normalize_address(address: &str) -> String {
    let address = address.trim();
    if address.ends_with(']') {
        address.to_string()
    } else {
        format!("{address}[0]")
    }
}

/// The posterior of a model's return value: weighted draws, the evidence
/// estimate and diagnostics, with summaries computed on demand.
///
/// Numeric summaries ([`mean`](Posterior::mean),
/// [`quantile`](Posterior::quantile), …) apply to `Real`, `Int` and `Bool`
/// results (`Bool` as 0/1, so the mean is a probability); use
/// [`expectation`](Posterior::expectation) or
/// [`values`](Posterior::values) for others. `Display` prints the text
/// summary `tyche run` prints.
///
/// ```
/// let program = tyche::Program::from_source("dice.ppl", "
///     fn model() -> Int {
///         let a ~ DiscreteUniform(1, 6);
///         let b ~ DiscreteUniform(1, 6);
///         condition(a + b >= 10);
///         a
///     }
/// ")?;
/// let posterior = program.model("model")?.run()?; // exact enumeration
/// assert!(posterior.is_exact());
/// // (4,6) (5,5) (5,6) (6,4) (6,5) (6,6): P(a = 6) = 3/6.
/// assert!((posterior.prob(6) - 0.5).abs() < 1e-12);
/// assert!((posterior.mean().unwrap() - 32.0 / 6.0).abs() < 1e-12);
/// assert!((posterior.log_evidence().unwrap() - (6.0f64 / 36.0).ln()).abs() < 1e-12);
/// # Ok::<(), tyche::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Posterior {
    draws: Vec<Draw>,
    ty: Type,
    model: String,
    method: Method,
    seed: u64,
    log_evidence: Option<f64>,
    ess: Option<f64>,
    exact: bool,
    mcmc: Option<McmcStats>,
    backend: &'static str,
    /// The report's header as the run pipeline gives it (method, why it
    /// was chosen, backend, warnings, diagnostics): what `tyche run`
    /// prints for the same run.
    info: tyche_report::RunInfo,
    warnings: Vec<String>,
}

impl Posterior {
    pub(crate) fn new(
        run: tyche_engine::Run,
        program: &IrProgram,
        ty: Type,
        model: &str,
    ) -> Posterior {
        let info = run.info(model);
        let seed = run.options.seed;
        let warnings = run.diagnosis.warnings;
        let result = run.result;
        let values: Vec<Value> = result.draws.iter().map(|d| d.value.clone()).collect();
        let lws: Vec<f64> = result.draws.iter().map(|d| d.log_weight).collect();
        let weights =
            tyche_report::normalized_weights(&tyche_report::Draws::weighted(&values, &lws))
                .unwrap_or_else(|| vec![0.0; values.len()]);
        let draws = result
            .draws
            .into_iter()
            .zip(weights)
            .map(|(d, weight)| Draw {
                choices: d
                    .trace
                    .iter()
                    .map(|(a, v)| (a.display(program), v.clone()))
                    .collect(),
                value: d.value,
                log_weight: d.log_weight,
                weight,
            })
            .collect();
        Posterior {
            draws,
            ty,
            model: model.to_string(),
            method: result.method,
            seed,
            log_evidence: result.log_evidence,
            ess: result.ess,
            exact: result.exact,
            mcmc: result.mcmc,
            backend: result.backend.name(),
            info,
            warnings,
        }
    }

    /// Why the method was chosen, when it was chosen automatically (no
    /// [`Query::method`](crate::Query::method)): `"method_reason"` of
    /// `tyche run --format json`.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.25); b }")?;
    /// let why = program.model("model")?.run()?.method_reason().unwrap().to_string();
    /// assert!(why.starts_with("enumerate: every choice is finite"), "{why}");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn method_reason(&self) -> Option<&str> {
        self.info
            .extra
            .get("method_reason")
            .and_then(|r| r.as_str())
    }

    /// What the method's own diagnostics doubt (R-hat, ESS, divergences,
    /// …), as `tyche run` warns; empty when nothing is in doubt.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.25); b }")?;
    /// // Exact enumeration has nothing to doubt.
    /// assert!(program.model("model")?.run()?.warnings().is_empty());
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The draws, in the order the method produced them.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Smc).particles(50).run()?;
    /// assert_eq!(posterior.draws().len(), 50);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn draws(&self) -> &[Draw] {
        &self.draws
    }

    /// The draws' normalised probabilities, in draw order (summing to 1,
    /// or all 0 when no draw has positive weight).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 2.0); x }
    /// ")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(100).run()?;
    /// let w = posterior.weights();
    /// assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    /// assert!(w.iter().any(|&x| x != w[0])); // likelihood weighting
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn weights(&self) -> Vec<f64> {
        self.draws.iter().map(|d| d.weight).collect()
    }

    /// Every draw's return value converted to a Rust type (pair them with
    /// [`weights`](Posterior::weights) for weighted methods).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> [Real] { let a ~ Normal(0, 1); [a, a + 1.0] }
    /// ")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(4).run()?;
    /// let xs: Vec<Vec<f64>> = posterior.values()?;
    /// assert!(xs.iter().all(|x| x[1] - x[0] == 1.0));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn values<T: FromValue>(&self) -> Result<Vec<T>, Error> {
        self.draws.iter().map(|d| T::from_value(&d.value)).collect()
    }

    /// The posterior mean of a numeric result (`Bool` counts as 0/1);
    /// `None` for other results or when no draw has positive weight.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.3); b }")?;
    /// assert!((program.model("model")?.run()?.mean().unwrap() - 0.3).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn mean(&self) -> Option<f64> {
        self.expectation(|v| v.as_number())
    }

    /// The posterior variance of a numeric result (the weighted population
    /// variance of the draws).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.3); b }")?;
    /// assert!((program.model("model")?.run()?.variance().unwrap() - 0.21).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn variance(&self) -> Option<f64> {
        let m = self.mean()?;
        self.expectation(|v| v.as_number().map(|x| (x - m) * (x - m)))
    }

    /// The posterior standard deviation of a numeric result.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Int { let k ~ DiscreteUniform(0, 1); k }")?;
    /// assert!((program.model("model")?.run()?.sd().unwrap() - 0.5).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn sd(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// The posterior expectation of `f(result)`: `None` if `f` is `None`
    /// on some draw of positive weight, or no draw has positive weight.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> (Bool, Int) { let b ~ Bernoulli(0.5); let k ~ DiscreteUniform(1, 3); (b, k) }
    /// ")?;
    /// let posterior = program.model("model")?.run()?;
    /// let e_k = posterior.expectation(|v| {
    ///     let (_, k): (bool, i64) = tyche::FromValue::from_value(v).ok()?;
    ///     Some(k as f64)
    /// });
    /// assert!((e_k.unwrap() - 2.0).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn expectation(&self, f: impl Fn(&Value) -> Option<f64>) -> Option<f64> {
        let mut total = 0.0;
        let mut mass = 0.0;
        for d in self.draws.iter().filter(|d| d.weight > 0.0) {
            total += d.weight * f(&d.value)?;
            mass += d.weight;
        }
        (mass > 0.0).then_some(total)
    }

    /// The weighted quantile of a numeric result at probability `p` in
    /// [0, 1]: the smallest drawn value whose cumulative weight reaches
    /// `p` (the definition `tyche run` reports). `None` for non-numeric
    /// results, `p` outside [0, 1], or no positively weighted draw.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Int { let k ~ DiscreteUniform(1, 4); k }")?;
    /// let posterior = program.model("model")?.run()?;
    /// assert_eq!(posterior.quantile(0.5), Some(2.0));
    /// assert_eq!(posterior.quantile(0.51), Some(3.0));
    /// assert_eq!(posterior.quantile(1.0), Some(4.0));
    /// assert_eq!(posterior.quantile(1.5), None);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn quantile(&self, p: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&p) {
            return None;
        }
        let mut xs: Vec<(f64, f64)> = self
            .draws
            .iter()
            .filter(|d| d.weight > 0.0)
            .map(|d| Some((d.value.as_number()?, d.weight)))
            .collect::<Option<_>>()?;
        xs.retain(|(x, _)| !x.is_nan());
        xs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut acc = 0.0;
        for &(x, w) in &xs {
            acc += w;
            if acc >= p - 1e-12 {
                return Some(x);
            }
        }
        xs.last().map(|&(x, _)| x)
    }

    /// The posterior probability that the result equals `value` (checked
    /// against the result type first, so `prob(1)` works for a `Real`
    /// result; a value of another type has probability 0).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Int { let k ~ Binomial(2, 0.5); k }")?;
    /// let posterior = program.model("model")?.run()?;
    /// assert!((posterior.prob(1) - 0.5).abs() < 1e-12);
    /// assert_eq!(posterior.prob("one"), 0.0);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn prob(&self, value: impl IntoValue) -> f64 {
        let Ok(v) = conform(&self.ty, value.into_value(), "value") else {
            return 0.0;
        };
        self.draws
            .iter()
            .filter(|d| d.value == v)
            .map(|d| d.weight)
            .sum()
    }

    /// The distinct results with their probabilities (equal results
    /// merged), sorted by value for `Int`, `Real`, `Bool` and `String`
    /// results, else in order of first appearance.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Int { let k ~ Binomial(2, 0.5); k }")?;
    /// let table = program.model("model")?.run()?.table();
    /// let probs: Vec<f64> = table.iter().map(|(_, p)| *p).collect();
    /// assert_eq!(table[0].0, tyche::Value::Int(0));
    /// assert!((probs[0] - 0.25).abs() < 1e-12 && (probs[1] - 0.5).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn table(&self) -> Vec<(Value, f64)> {
        let mut out: Vec<(Value, f64)> = Vec::new();
        let mut index: std::collections::HashMap<Value, usize> = std::collections::HashMap::new();
        for d in &self.draws {
            match index.get(&d.value) {
                Some(&i) => out[i].1 += d.weight,
                None => {
                    index.insert(d.value.clone(), out.len());
                    out.push((d.value.clone(), d.weight));
                }
            }
        }
        if out.iter().all(|(v, _)| v.as_number().is_some()) {
            out.sort_by(|a, b| {
                let (x, y) = (a.0.as_number(), b.0.as_number());
                x.unwrap_or(f64::NAN).total_cmp(&y.unwrap_or(f64::NAN))
            });
        } else if out.iter().all(|(v, _)| matches!(v, Value::Str(_))) {
            out.sort_by_key(|(v, _)| v.to_string());
        }
        out
    }

    /// The values of the choice at `address` (`"z[3]"`; a bare name `"x"`
    /// means `"x[0]"`) in every draw whose execution made it, each with the
    /// draw's weight. The weights sum to the posterior probability that
    /// the choice was made (1 when every execution makes it).
    ///
    /// Traces are recorded by every method but Enumerate, which merges
    /// executions with equal results; under it this is empty (return the
    /// choice from the model to see its exact posterior).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     data ys: [Real];
    ///     fn model() -> Real {
    ///         fold(ys, 0.0, |x_prev, y| {
    ///             let x ~ Normal(0.9 * x_prev, 1.0);
    ///             observe(Normal(x, 0.5), y);
    ///             x
    ///         })
    ///     }
    /// ")?;
    /// let posterior = program.model("model")?.data("ys", vec![0.5, 1.0, 1.5])?
    ///     .method(tyche::Method::Smc).particles(500).run()?;
    /// let x1 = posterior.values_at("x[1]");
    /// assert_eq!(x1.len(), 500);
    /// assert!((x1.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-9);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn values_at(&self, address: &str) -> Vec<(Value, f64)> {
        let address = normalize_address(address);
        self.draws
            .iter()
            .filter_map(|d| {
                d.choices
                    .iter()
                    .find(|(a, _)| *a == address)
                    .map(|(_, v)| (v.clone(), d.weight))
            })
            .collect()
    }

    /// The posterior mean of a numeric choice at `address`, given that the
    /// execution made it; `None` if no draw made it (or under Enumerate,
    /// see [`values_at`](Posterior::values_at)).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Bool { let mu ~ Normal(0, 1); observe(Normal(mu, 1), 2.0); mu > 0.0 }
    /// ")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Smc).particles(4000).seed(1).run()?;
    /// // Normal-normal conjugacy: the posterior of mu is N(1, 1/2).
    /// assert!((posterior.mean_at("mu").unwrap() - 1.0).abs() < 0.1);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn mean_at(&self, address: &str) -> Option<f64> {
        let pairs = self.values_at(address);
        let mass: f64 = pairs.iter().map(|(_, w)| w).sum();
        if mass <= 0.0 {
            return None;
        }
        let mut total = 0.0;
        for (v, w) in &pairs {
            if *w > 0.0 {
                total += w * v.as_number()?;
            }
        }
        Some(total / mass)
    }

    /// The estimate of `log p(observations)`: exact for Enumerate, unbiased
    /// on the natural scale for Importance, SMC and Rejection; `None` for
    /// MCMC.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Bool { let b ~ Bernoulli(0.5); observe(Bernoulli(if b { 0.8 } else { 0.4 }), true); b }
    /// ")?;
    /// let posterior = program.model("model")?.run()?;
    /// assert!((posterior.log_evidence().unwrap() - 0.6f64.ln()).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn log_evidence(&self) -> Option<f64> {
        self.log_evidence
    }

    /// The effective sample size: Kish's for weighted draws, the MCMC
    /// estimate for MH and PMMH; `None` for Enumerate.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(100).run()?;
    /// assert!((posterior.ess().unwrap() - 100.0).abs() < 1e-6);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn ess(&self) -> Option<f64> {
        self.ess
    }

    /// True when the draws are the exact posterior (Enumerate).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.5); b }")?;
    /// assert!(program.model("model")?.run()?.is_exact());
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// The method that ran (with no method chosen: Enumerate when every
    /// choice is finite, NUTS for a static continuous model, else SMC).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// assert_eq!(program.model("model")?.run()?.method(), tyche::Method::Nuts);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn method(&self) -> Method {
        self.method
    }

    /// What ran the model: `"jit"` (compiled code), `"interpreter"`, or
    /// `"mixed"` (see [`Query::backend`](crate::Query::backend)).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.5); b }")?;
    /// // A tree this small is enumerated on the interpreter …
    /// assert_eq!(program.model("model")?.run()?.backend(), "interpreter");
    /// // … unless compiled code is asked for.
    /// let native = program.model("model")?.backend(tyche::Backend::Jit).run()?;
    /// assert_eq!(native.backend(), "jit");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The seed the run used.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() { 1 }")?;
    /// assert_eq!(program.model("model")?.seed(9).run()?.seed(), 9);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The model's name.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() { 1 }")?;
    /// assert_eq!(program.model("model")?.run()?.model_name(), "model");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn model_name(&self) -> &str {
        &self.model
    }

    /// The type of the model's return value.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() { (1, [true]) }")?;
    /// assert_eq!(program.model("model")?.run()?.result_type().to_string(), "(Int, [Bool])");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn result_type(&self) -> &Type {
        &self.ty
    }

    /// MCMC: accepted / proposed transitions after burn-in, over all chains.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let mh = program.model("model")?.method(tyche::Method::Mh).samples(100).run()?;
    /// assert!(mh.acceptance_rate().is_some());
    /// let smc = program.model("model")?.method(tyche::Method::Smc).run()?;
    /// assert!(smc.acceptance_rate().is_none());
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn acceptance_rate(&self) -> Option<f64> {
        self.mcmc.as_ref().map(|s| s.acceptance_rate)
    }

    /// MCMC: split R-hat of a numeric result (needs at least 4 draws per
    /// chain).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let mh = program.model("model")?.method(tyche::Method::Mh).samples(400).run()?;
    /// assert!(mh.rhat().unwrap() < 1.2);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn rhat(&self) -> Option<f64> {
        self.mcmc.as_ref().and_then(|s| s.rhat)
    }

    /// MCMC: the number of chains.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// assert_eq!(program.model("model")?.method(tyche::Method::Mh).samples(40).run()?.chains(), Some(4));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn chains(&self) -> Option<usize> {
        self.mcmc.as_ref().map(|s| s.chains)
    }

    fn report_parts(&self) -> ReportParts {
        let info = self.info.clone();
        let values = self.draws.iter().map(|d| d.value.clone()).collect();
        let lws = self.draws.iter().map(|d| d.log_weight).collect();
        let traces = self.draws.iter().map(|d| d.choices.clone()).collect();
        ReportParts {
            info,
            values,
            lws,
            traces,
            chains: self.mcmc.as_ref().map_or(1, |m| m.chains),
        }
    }

    /// The summary as the JSON object of `tyche run --format json`
    /// (LANGUAGE.md §10): `model`, `method`, `seed`, `log_evidence`,
    /// `result` (`type`, `mean`, `sd`, `quantiles`, `table`, …), `draws`,
    /// `ess`, and method-specific keys.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.25); b }")?;
    /// let json = program.model("model")?.run()?.summary_json();
    /// assert_eq!(json["method"], "enumerate");
    /// assert_eq!(json["result"]["type"], "Bool");
    /// assert_eq!(json["result"]["table"][1]["prob"], 0.25);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn summary_json(&self) -> serde_json::Value {
        let parts = self.report_parts();
        tyche_report::to_json(&parts.info, &self.ty, &parts.draws(&self.ty))
    }

    /// The human-readable summary `tyche run` prints (mean, sd, quantiles,
    /// a histogram or a probability table).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.25); b }")?;
    /// let text = program.model("model")?.run()?.summary_text();
    /// assert!(text.contains("true"));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn summary_text(&self) -> String {
        let parts = self.report_parts();
        tyche_report::to_text(&parts.info, &self.ty, &parts.draws(&self.ty), 60)
    }

    /// The draws as the CSV table of `tyche run --output FILE.csv`: a
    /// `weight` column, the result column(s), one column per choice address.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(3).run()?;
    /// let mut csv = Vec::new();
    /// posterior.write_csv(&mut csv).unwrap();
    /// let csv = String::from_utf8(csv).unwrap();
    /// assert!(csv.lines().next().unwrap().contains("x[0]"));
    /// assert_eq!(csv.lines().count(), 4);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn write_csv(&self, out: impl std::io::Write) -> std::io::Result<()> {
        tyche_report::write_csv(out, &self.report_parts().draws(&self.ty))
    }
}

/// What the report functions take, owned.
struct ReportParts {
    info: tyche_report::RunInfo,
    values: Vec<Value>,
    lws: Vec<f64>,
    traces: Vec<Vec<(String, Value)>>,
    chains: usize,
}

impl ReportParts {
    /// The draws, their columns named by the result type `ty` (a
    /// record's fields).
    fn draws<'a>(&'a self, ty: &'a Type) -> tyche_report::Draws<'a> {
        tyche_report::Draws::weighted(&self.values, &self.lws)
            .with_traces(&self.traces)
            .with_chains(self.chains)
            .with_result_type(ty)
    }
}

/// The text summary ([`Posterior::summary_text`]).
impl fmt::Display for Posterior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary_text())
    }
}
