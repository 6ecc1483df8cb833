//! [`Query`]: a model with its data, its surgery and its inference
//! settings, run with [`Query::run`].
//!
//! This is the embedding's version of `tyche run` (LANGUAGE.md §10) and
//! follows the same sequence: bind data, apply `--do`, then `--observe`,
//! then `--counterfactual`, evaluate the top-level constants, run
//! inference (exact enumeration when no method is chosen and the model
//! allows it, else SMC).

use crate::error::{Error, ErrorKind};
use crate::posterior::Posterior;
use crate::program::Program;
use crate::value::{conform, IntoValue};
use crate::Backend;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tyche_core::suggest::best_match;
use tyche_core::{Diagnostic, Span};
use tyche_infer::{Method, Options, Proposal, Resampler};
use tyche_ir::surgery::{self, SurgeryEdit};
use tyche_ir::{EditKind, FuncId, Global, GlobalId, GlobalKind, SiteKind, Type};
use tyche_vm::Value;

/// A model of a [`Program`], ready to run: data bindings, model surgery
/// and inference settings, added one builder call at a time.
///
/// Data and surgery calls check names and types immediately and return
/// `Result<Query, Error>`; the settings calls cannot fail (settings are
/// validated by [`Query::run`]). A query is cheap to clone, so one set of
/// bindings can be run with several methods or seeds.
///
/// ```
/// let program = tyche::Program::from_source("coin.ppl", r#"
///     data flips: [Bool];
///     fn model() -> Real {
///         let p ~ Beta(1.0, 1.0);
///         for f in flips { observe(Bernoulli(p), f); }
///         p
///     }
/// "#)?;
/// let posterior = program
///     .model("model")?
///     .data("flips", vec![true, true, false, true])?
///     .method(tyche::Method::Smc)
///     .particles(2000)
///     .seed(7)
///     .run()?;
/// // Beta(1 + 3, 1 + 1) has mean 4/6.
/// assert!((posterior.mean().unwrap() - 4.0 / 6.0).abs() < 0.05);
/// # Ok::<(), tyche::Error>(())
/// ```
#[derive(Clone)]
pub struct Query {
    program: Program,
    model: String,
    func: FuncId,
    choices: BTreeMap<String, Type>,
    data: HashMap<GlobalId, Value>,
    edits: Vec<PendingEdit>,
    method: Option<Method>,
    opts: Options,
    particles: Option<usize>,
    samples: Option<usize>,
    backend: Backend,
    timeout: Option<std::time::Duration>,
}

/// A checked `do`/`condition`/`counterfactual` edit, applied by `run`.
#[derive(Clone)]
struct PendingEdit {
    name: String,
    index: Option<u32>,
    kind: EditKind,
    counterfactual: bool,
    value: Value,
    ty: Type,
}

impl Query {
    pub(crate) fn new(program: Program, model: &str, func: FuncId) -> Query {
        let choices = surgery::choices(&program.inner.compiled.ir, func);
        Query {
            program,
            model: model.to_string(),
            func,
            choices,
            data: HashMap::new(),
            edits: Vec::new(),
            method: None,
            opts: Options::default(),
            particles: None,
            samples: None,
            backend: Backend::Auto,
            timeout: None,
        }
    }

    /// The program this query runs.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() { 1 }")?;
    /// assert_eq!(program.model("model")?.program().name(), "m.ppl");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The model's name.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn prior() { 1 }")?;
    /// assert_eq!(program.model("prior")?.model_name(), "prior");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn model_name(&self) -> &str {
        &self.model
    }

    /// The named random choices the model can make (what surgery can
    /// edit), with their value types, sorted by name.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real { let b ~ Bernoulli(0.5); let x ~ Normal(0, 1); x }
    /// ")?;
    /// let choices = program.model("model")?.choices();
    /// assert_eq!(choices[0], ("b".to_string(), tyche::Type::Bool));
    /// assert_eq!(choices[1], ("x".to_string(), tyche::Type::Real));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn choices(&self) -> Vec<(String, Type)> {
        self.choices
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect()
    }

    // ----- data -------------------------------------------------------------

    /// Binds the `data` item `name` to a Rust value, checked against the
    /// item's declared type (integers convert to `Real` where one is
    /// declared). Binding an item twice keeps the later value.
    ///
    /// Errors ([`ErrorKind::Data`]): no such item (with a did-you-mean), or
    /// a value of the wrong type (naming the offending element).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     data ys: [Real];
    ///     fn model() -> Real { let mu ~ Normal(0, 10); for y in ys { observe(Normal(mu, 1), y); } mu }
    /// ")?;
    /// let query = program.model("model")?.data("ys", vec![1, 2, 3])?; // Ints become Reals
    ///
    /// let err = program.model("model")?.data("y", vec![1.0]).unwrap_err();
    /// assert!(err.to_string().contains("did you mean `ys`?"));
    /// let err = program.model("model")?.data("ys", vec![true]).unwrap_err();
    /// assert!(err.to_string().contains("`ys[0]` should be Real, found a Bool `true`"));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn data(mut self, name: &str, value: impl IntoValue) -> Result<Query, Error> {
        let (id, global) = self.data_item(name)?;
        match conform(&global.ty, value.into_value(), name) {
            Ok(v) => {
                self.data.insert(id, v);
                Ok(self)
            }
            Err(msg) => Err(self
                .program
                .error(ErrorKind::Data, vec![ill_typed(&global, msg)])),
        }
    }

    /// Binds the `data` item `name` to any [`serde::Serialize`] value,
    /// converted through JSON and then the item's declared type, as a
    /// `--data` file would be: numbers become `Int` or `Real` as declared,
    /// sequences and tuples become arrays or tuples. (Structs serialize to
    /// JSON objects, which match no Tyche type: serialize them as tuples,
    /// or implement [`IntoValue`] and use [`Query::data`].)
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     data obs: [(Int, Real)];
    ///     fn model() -> Int { len(obs) }
    /// ")?;
    /// let obs: Vec<(u64, f32)> = vec![(1, 0.5), (2, 1.5)];
    /// let posterior = program.model("model")?.data_serde("obs", &obs)?.run()?;
    /// assert_eq!(posterior.mean(), Some(2.0));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn data_serde<T: serde::Serialize + ?Sized>(
        mut self,
        name: &str,
        value: &T,
    ) -> Result<Query, Error> {
        let (id, global) = self.data_item(name)?;
        let json = serde_json::to_value(value).map_err(|e| {
            self.program.error(
                ErrorKind::Data,
                vec![ill_typed(
                    &global,
                    format!("cannot serialize the value: {e}"),
                )],
            )
        })?;
        match tyche_driver::value_from_json(&global.ty, &json, name) {
            Ok(v) => {
                self.data.insert(id, v);
                Ok(self)
            }
            Err(msg) => Err(self
                .program
                .error(ErrorKind::Data, vec![ill_typed(&global, msg)])),
        }
    }

    /// Binds data items from a JSON object whose keys are item names, as
    /// `tyche run --data FILE.json` does. Every problem is reported at
    /// once.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     data n: Int;
    ///     data ps: [Real];
    ///     fn model() -> Int { let k ~ Binomial(n, ps[0]); k }
    /// ")?;
    /// let posterior = program
    ///     .model("model")?
    ///     .data_json(&serde_json::json!({"n": 4, "ps": [0.5]}))?
    ///     .run()?;
    /// assert!((posterior.mean().unwrap() - 2.0).abs() < 1e-12);
    ///
    /// let err = program.model("model")?.data_json(&serde_json::json!({"n": 1.5, "qs": []})).unwrap_err();
    /// assert_eq!(err.diagnostics().len(), 2);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn data_json(mut self, data: &serde_json::Value) -> Result<Query, Error> {
        let serde_json::Value::Object(object) = data else {
            return Err(self.program.error(
                ErrorKind::Data,
                vec![Diagnostic::error("data must be a JSON object")
                    .with_code("E0501")
                    .with_help("pass an object whose keys are the program's `data` items: {\"ys\": [1.0, 2.0]}")],
            ));
        };
        let mut diags = Vec::new();
        for (key, json) in object {
            match self.data_item(key) {
                Ok((id, global)) => match tyche_driver::value_from_json(&global.ty, json, key) {
                    Ok(v) => {
                        self.data.insert(id, v);
                    }
                    Err(msg) => diags.push(ill_typed(&global, msg)),
                },
                Err(e) => diags.extend(e.diagnostics().iter().cloned()),
            }
        }
        if diags.is_empty() {
            Ok(self)
        } else {
            Err(self.program.error(ErrorKind::Data, diags))
        }
    }

    fn data_item(&self, name: &str) -> Result<(GlobalId, Global), Error> {
        let ir = &self.program.inner.compiled.ir;
        let found = ir
            .globals
            .iter()
            .enumerate()
            .find(|(_, g)| g.name == name && matches!(g.kind, GlobalKind::Data { .. }));
        if let Some((i, g)) = found {
            return Ok((GlobalId(i as u32), g.clone()));
        }
        let known: Vec<String> = self
            .program
            .data_items()
            .into_iter()
            .map(|d| d.name)
            .collect();
        let mut d = Diagnostic::error(format!(
            "no `data` item named `{name}` in {}",
            self.program.name()
        ))
        .with_code("E0505");
        d = if let Some(best) = best_match(name, known.iter().map(|s| s.as_str())) {
            d.with_help(format!("did you mean `{best}`?"))
        } else if known.is_empty() {
            d.with_help(format!("declare it in the program: `data {name}: TYPE;`"))
        } else {
            d.with_note(format!(
                "the program's data items are: {}",
                known.join(", ")
            ))
        };
        Err(self.program.error(ErrorKind::Data, vec![d]))
    }

    // ----- surgery ----------------------------------------------------------

    /// Intervenes on a choice, as `do(model, name = value)` (LANGUAGE.md
    /// §9): the choice no longer draws from its distribution but takes
    /// `value`, adds nothing to the weight, and everything downstream sees
    /// it. `name` is a choice name (every occurrence) or an address such
    /// as `"z[3]"` (one occurrence).
    ///
    /// Errors ([`ErrorKind::Surgery`]): no choice of that name (with a
    /// did-you-mean), or a value of the wrong type.
    ///
    /// ```
    /// let program = tyche::Program::from_source("sprinkler.ppl", "
    ///     fn model() -> Bool {
    ///         let rain ~ Bernoulli(0.2);
    ///         let sprinkler ~ Bernoulli(if rain { 0.01 } else { 0.4 });
    ///         let wet ~ Bernoulli(if rain || sprinkler { 0.9 } else { 0.0 });
    ///         rain
    ///     }
    /// ")?;
    /// // Seeing the grass wet raises P(rain); making it wet does not.
    /// let seen = program.model("model")?.condition("wet", true)?.run()?;
    /// let done = program.model("model")?.intervene("wet", true)?.run()?;
    /// assert!(seen.mean().unwrap() > 0.3);
    /// assert!((done.mean().unwrap() - 0.2).abs() < 1e-12);
    ///
    /// let err = program.model("model")?.intervene("sprinkle", true).unwrap_err();
    /// assert!(err.to_string().contains("did you mean `sprinkler`?"));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn intervene(self, name: &str, value: impl IntoValue) -> Result<Query, Error> {
        self.edit(
            ".intervene",
            name,
            None,
            EditKind::Do,
            false,
            value.into_value(),
        )
    }

    /// Intervenes on one occurrence of a choice: `intervene_at("z", 3, v)`
    /// is `do(model, z[3] = v)`.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Int { sum(map(range(0, 3), |i| { let z ~ Bernoulli(0.5); if z { 1 } else { 0 } })) }
    /// ")?;
    /// let posterior = program.model("model")?.intervene_at("z", 1, true)?.run()?;
    /// assert!((posterior.mean().unwrap() - 2.0).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn intervene_at(
        self,
        name: &str,
        index: u32,
        value: impl IntoValue,
    ) -> Result<Query, Error> {
        self.edit(
            ".intervene_at",
            name,
            Some(index),
            EditKind::Do,
            false,
            value.into_value(),
        )
    }

    /// Conditions on a choice, as `condition(model, name = value)`: the
    /// choice is observed at `value` instead of drawn. `name` may be an
    /// address (`"y[2]"`).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Bool { let a ~ Bernoulli(0.5); let b ~ Bernoulli(if a { 0.9 } else { 0.1 }); a }
    /// ")?;
    /// let posterior = program.model("model")?.condition("b", true)?.run()?;
    /// assert!((posterior.mean().unwrap() - 0.9).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn condition(self, name: &str, value: impl IntoValue) -> Result<Query, Error> {
        self.edit(
            ".condition",
            name,
            None,
            EditKind::Observe,
            false,
            value.into_value(),
        )
    }

    /// Conditions on one occurrence of a choice (`condition(model, z[3] = v)`).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real { let p ~ Beta(1.0, 1.0); let a ~ Bernoulli(p); let a ~ Bernoulli(p); p }
    /// ")?;
    /// // Observing the second flip (a[1]) only.
    /// let posterior = program.model("model")?.condition_at("a", 1, true)?.method(tyche::Method::Importance).samples(4000).run()?;
    /// assert!((posterior.mean().unwrap() - 2.0 / 3.0).abs() < 0.05);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn condition_at(
        self,
        name: &str,
        index: u32,
        value: impl IntoValue,
    ) -> Result<Query, Error> {
        self.edit(
            ".condition_at",
            name,
            Some(index),
            EditKind::Observe,
            false,
            value.into_value(),
        )
    }

    /// Asks a counterfactual question of the model as edited so far:
    /// `counterfactual(m, name = value)` (LANGUAGE.md §9) — what would the
    /// model have returned had the choice been `value`, given everything it
    /// observed. Interventions and conditions of this query are applied
    /// first, counterfactual edits last, as on the command line.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real {
    ///         let x ~ Normal(0, 1);
    ///         let z ~ Normal(0, 1);
    ///         let y ~ Normal(2.0 * x + 3.0 * z, 1);
    ///         y
    ///     }
    /// ")?;
    /// // With x observed at 1 and y at 5, under x = 0 the outcome y is exactly 3.
    /// let posterior = program
    ///     .model("model")?
    ///     .condition("x", 1.0)?
    ///     .condition("y", 5.0)?
    ///     .counterfactual("x", 0.0)?
    ///     .method(tyche::Method::Importance)
    ///     .samples(200)
    ///     .run()?;
    /// assert!((posterior.mean().unwrap() - 3.0).abs() < 1e-9);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn counterfactual(self, name: &str, value: impl IntoValue) -> Result<Query, Error> {
        self.edit(
            ".counterfactual",
            name,
            None,
            EditKind::Do,
            true,
            value.into_value(),
        )
    }

    /// A counterfactual intervention on one occurrence (`z[3]`).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Int {
    ///         let n = sum(map(range(0, 2), |i| { let z ~ Bernoulli(0.5); if z { 1 } else { 0 } }));
    ///         n
    ///     }
    /// ")?;
    /// let posterior = program.model("model")?
    ///     .condition_at("z", 0, false)?
    ///     .counterfactual_at("z", 0, true)?
    ///     .run()?;
    /// assert!((posterior.mean().unwrap() - 1.5).abs() < 1e-12);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn counterfactual_at(
        self,
        name: &str,
        index: u32,
        value: impl IntoValue,
    ) -> Result<Query, Error> {
        self.edit(
            ".counterfactual_at",
            name,
            Some(index),
            EditKind::Do,
            true,
            value.into_value(),
        )
    }

    fn edit(
        mut self,
        call: &str,
        target: &str,
        index: Option<u32>,
        kind: EditKind,
        counterfactual: bool,
        value: Value,
    ) -> Result<Query, Error> {
        let (name, index) = match (parse_target(target), index) {
            (Ok((name, None)), index) => (name, index),
            (Ok((name, Some(i))), None) => (name, Some(i)),
            (Ok((_, Some(_))), Some(_)) => {
                return Err(self.program.error(
                    ErrorKind::Surgery,
                    vec![Diagnostic::error(format!(
                        "`{call}` takes a choice name and an index, not an address `{target}`"
                    ))
                    .with_code("E0804")],
                ))
            }
            (Err(msg), _) => {
                return Err(self.program.error(
                    ErrorKind::Surgery,
                    vec![Diagnostic::error(msg).with_code("E0804")],
                ))
            }
        };
        // A name's type is per model; one this model makes at two types
        // cannot be edited by name.
        let ir = &self.program.inner.compiled.ir;
        if let Some([t1, t2, ..]) = surgery::choice_types(ir, self.func)
            .get(&name)
            .map(|ts| ts.as_slice())
        {
            let model = &self.model;
            let d = Diagnostic::error(format!(
                "the random choice `{name}` has two different types in `{model}`"
            ))
            .with_code("E0311")
            .with_note(format!(
                "in `{call}(\"{name}\", …)`: `{name}` is {t1} in one place and {t2} in another"
            ))
            .with_help(format!(
                "rename one of them: a choice name has one type in each model, and `{model}` reaches both"
            ));
            return Err(self.program.error(ErrorKind::Surgery, vec![d]));
        }
        let Some(ty) = self.choices.get(&name).cloned() else {
            let d = self.unknown_choice(&name, call);
            return Err(self.program.error(ErrorKind::Surgery, vec![d]));
        };
        let shown = match index {
            Some(i) => format!("{name}[{i}]"),
            None => name.clone(),
        };
        let value = match conform(&ty, value, &shown) {
            Ok(v) => v,
            Err(msg) => {
                let mut d =
                    Diagnostic::error(format!("mismatched types in `{call}(\"{shown}\", …)`"))
                        .with_code("E0805");
                if let Some(span) = self.choice_span(&name) {
                    d = d.with_primary(span, format!("`{name}` is drawn here as {ty}"));
                }
                return Err(self
                    .program
                    .error(ErrorKind::Surgery, vec![d.with_note(msg)]));
            }
        };
        self.edits.push(PendingEdit {
            name,
            index,
            kind,
            counterfactual,
            value,
            ty,
        });
        Ok(self)
    }

    fn unknown_choice(&self, name: &str, call: &str) -> Diagnostic {
        let model = &self.model;
        let mut d = Diagnostic::error(format!("no random choice named `{name}` in `{model}`"))
            .with_code("E0804");
        let ir = &self.program.inner.compiled.ir;
        if let Some(f) = ir.func_by_name(model) {
            d = d.with_primary(ir.func(f).span, format!("`{model}` defined here"));
        }
        if let Some(best) = best_match(name, self.choices.keys().map(|s| s.as_str())) {
            d = d.with_help(format!("did you mean `{best}`?"));
        } else if self.choices.is_empty() {
            d = d.with_note(format!("`{model}` makes no random choices"));
        } else {
            let known: Vec<&str> = self.choices.keys().map(|s| s.as_str()).collect();
            d = d.with_note(format!(
                "the choices of `{model}` are: {}",
                known.join(", ")
            ));
        }
        d.with_note(format!("in `{call}(\"{name}\", …)`"))
    }

    /// Where a choice of this name is drawn (its first sample site).
    fn choice_span(&self, name: &str) -> Option<Span> {
        let ir = &self.program.inner.compiled.ir;
        ir.sites
            .iter()
            .find(|s| s.kind == SiteKind::Sample && ir.name(s.name) == name)
            .map(|s| s.span)
    }

    // ----- inference settings ----------------------------------------------

    /// The inference method. Without one, the query runs exact enumeration
    /// when the model allows it (all choices finite-discrete, few enough
    /// paths) and SMC otherwise, as `tyche run` does.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(1, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Mh).samples(500).burn(100).run()?;
    /// assert_eq!(posterior.method(), tyche::Method::Mh);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn method(mut self, method: Method) -> Query {
        self.method = Some(method);
        self
    }

    /// SMC particles (also the number of runs for Importance and
    /// Rejection, unless [`samples`](Query::samples) says otherwise).
    /// Default 1000.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Smc).particles(64).run()?;
    /// assert_eq!(posterior.draws().len(), 64);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn particles(mut self, n: usize) -> Query {
        self.particles = Some(n);
        self
    }

    /// Draws to produce: accepted runs (Rejection), prior runs
    /// (Importance), kept states over all chains (MH, PMMH). Default 1000.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(10).run()?;
    /// assert_eq!(posterior.draws().len(), 10);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn samples(mut self, n: usize) -> Query {
        self.samples = Some(n);
        self
    }

    /// MCMC iterations discarded at the start of each chain. Default 500.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Mh).burn(0).samples(100).run()?;
    /// assert_eq!(posterior.draws().len(), 100);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn burn(mut self, n: usize) -> Query {
        self.opts.burn = n;
        self
    }

    /// Independent MCMC chains, run in parallel. Default 4.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Mh).chains(2).samples(100).run()?;
    /// assert_eq!(posterior.chains(), Some(2));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn chains(mut self, n: usize) -> Query {
        self.opts.chains = n;
        self
    }

    /// NUTS and HMC: warm-up iterations per chain (step size and metric
    /// adaptation; not kept), as `tyche run --warmup` (default 1000).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Nuts).warmup(100).samples(50).run()?;
    /// assert_eq!(posterior.draws().len(), 4 * 50);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn warmup(mut self, n: usize) -> Query {
        self.opts.warmup = n;
        self
    }

    /// Keep every `n`-th MCMC state (1, the default, keeps all).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Mh).thin(5).samples(40).run()?;
    /// assert_eq!(posterior.draws().len(), 40);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn thin(mut self, n: usize) -> Query {
        self.opts.thin = n;
        self
    }

    /// The random seed (default 0). The same seed gives the same posterior,
    /// bit for bit, whatever the number of threads.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let q = program.model("model")?.method(tyche::Method::Smc).particles(100);
    /// let a = q.clone().seed(42).run()?;
    /// let b = q.clone().seed(42).run()?;
    /// let c = q.seed(43).run()?;
    /// assert_eq!(a.mean(), b.mean());
    /// assert_ne!(a.mean(), c.mean());
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Query {
        self.opts.seed = seed;
        self
    }

    /// Where densities are computed (default [`Backend::Auto`]: compiled
    /// code for MH and SMC when the model's choices are fixed by its data,
    /// else the interpreter). Results are the same for a seed either way;
    /// [`Backend::Jit`] makes a model that cannot be compiled an error.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 0.5); x }
    /// ")?;
    /// let q = program.model("model")?.method(tyche::Method::Smc).particles(200);
    /// let native = q.clone().backend(tyche::Backend::Jit).run()?;
    /// let interpreted = q.backend(tyche::Backend::Interpreter).run()?;
    /// assert_eq!(native.backend(), "jit");
    /// assert_eq!(interpreted.backend(), "interpreter");
    /// assert_eq!(native.mean(), interpreted.mean());
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn backend(mut self, backend: Backend) -> Query {
        self.backend = backend;
        self
    }

    /// How SMC resamples (default systematic).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 0.5); x }
    /// ")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Smc)
    ///     .resampler(tyche::Resampler::Stratified).run()?;
    /// assert!(posterior.mean().is_some());
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn resampler(mut self, resampler: Resampler) -> Query {
        self.opts.resampler = resampler;
        self
    }

    /// SMC resamples only when the effective sample size falls below
    /// `threshold × particles` (`Some(0.5)` is common); `None`, the default,
    /// resamples after every observation.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 0.5); x }
    /// ")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Smc).ess_threshold(Some(0.5)).run()?;
    /// assert!(posterior.ess().unwrap() > 0.0);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn ess_threshold(mut self, threshold: Option<f64>) -> Query {
        self.opts.ess_threshold = threshold;
        self
    }

    /// SMC: MH moves applied to every particle after each resampling
    /// (resample-move SMC). Default 0, a plain particle filter.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 0.5); x }
    /// ")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Smc).rejuvenate(2).particles(200).run()?;
    /// assert!((posterior.mean().unwrap() - 0.25).abs() < 0.3);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn rejuvenate(mut self, moves: usize) -> Query {
        self.opts.rejuvenate = moves;
        self
    }

    /// The MH proposal (default: `Proposal::Adaptive`, a random walk per
    /// continuous choice tuned during burn-in; see `docs/inference.md`).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Mh)
    ///     .proposal(tyche::Proposal::Drift { scale: 0.5 }).samples(200).run()?;
    /// assert!(posterior.acceptance_rate().unwrap() > 0.0);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn proposal(mut self, proposal: Proposal) -> Query {
        self.opts.proposal = proposal;
        self
    }

    /// Whether draws keep the traces of their executions (default `true`):
    /// [`Draw::choices`](crate::Draw::choices),
    /// [`Posterior::values_at`](crate::Posterior::values_at) and the CSV
    /// choice columns need them. Turning them off saves time and memory
    /// when only the return value matters.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let posterior = program.model("model")?.method(tyche::Method::Smc).traces(false).run()?;
    /// assert!(posterior.draws()[0].choices().is_empty());
    /// assert!(posterior.mean().is_some());
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn traces(mut self, on: bool) -> Query {
        self.opts.traces = on;
        self
    }

    /// Calls `f(done, total)` as a long run progresses (SMC: once per
    /// observation step, `total` 0 as it is not known in advance; MH:
    /// iterations over all chains, about 200 times). It may be called from
    /// several threads at once, and never changes the results.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let seen = Arc::new(AtomicU64::new(0));
    /// let counter = Arc::clone(&seen);
    /// program.model("model")?.method(tyche::Method::Mh).samples(1000)
    ///     .progress(move |done, _total| { counter.fetch_max(done, Ordering::Relaxed); })
    ///     .run()?;
    /// assert!(seen.load(Ordering::Relaxed) > 0);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Query {
        self.opts.progress = Some(tyche_infer::Progress::new(f));
        self
    }

    /// Stops [`run`](Query::run) with an [`ErrorKind::Run`] error (E0770)
    /// when inference takes longer than `limit` (as `tyche run --timeout`).
    /// The limit is checked between model runs, MCMC iterations and SMC
    /// steps: one model run that never ends (a loop in the model) is not
    /// interrupted.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); x }")?;
    /// let e = program.model("model")?.method(tyche::Method::Mh).samples(10).burn(1 << 40)
    ///     .timeout(std::time::Duration::from_millis(200)).run().unwrap_err();
    /// assert!(e.to_string().contains("time limit"), "{e}");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn timeout(mut self, limit: std::time::Duration) -> Query {
        self.timeout = Some(limit);
        self
    }

    // ----- running ----------------------------------------------------------

    /// Runs inference and returns the posterior of the model's return value.
    ///
    /// Errors: [`ErrorKind::Options`] for zero particles, samples, chains or
    /// thinning; [`ErrorKind::Data`] for a `data` item without a value and
    /// without a default; [`ErrorKind::Run`] for a runtime fault (in a
    /// constant, the model, or a registered function) or a method that
    /// cannot handle the model (`Enumerate` on a continuous choice).
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     data n: Int;
    ///     fn model() -> Real { let x ~ Normal(0, 1); x }
    /// ")?;
    /// let err = program.model("model")?.run().unwrap_err();
    /// assert_eq!(err.kind(), tyche::ErrorKind::Data);
    /// assert!(err.to_string().contains("missing value for data item `n: Int`"));
    ///
    /// let err = program.model("model")?.data("n", 1)?.method(tyche::Method::Enumerate).run().unwrap_err();
    /// assert_eq!(err.kind(), tyche::ErrorKind::Run);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn run(&self) -> Result<Posterior, Error> {
        let opts = self.options()?;
        let compiled = &self.program.inner.compiled;
        let mut bound = self.data.clone();
        let missing: Vec<Diagnostic> = compiled
            .ir
            .globals
            .iter()
            .enumerate()
            .filter(|(i, g)| {
                matches!(g.kind, GlobalKind::Data { default: None })
                    && !bound.contains_key(&GlobalId(*i as u32))
            })
            .map(|(_, g)| {
                Diagnostic::error(format!(
                    "missing value for data item `{}: {}`",
                    g.name, g.ty
                ))
                .with_code("E0504")
                .with_primary(g.span, "declared here without a default")
                .with_help(format!(
                    "bind it with `.data(\"{}\", …)` or `.data_json(…)`",
                    g.name
                ))
            })
            .collect();
        if !missing.is_empty() {
            return Err(self.program.error(ErrorKind::Data, missing));
        }
        let (program, func) = if self.edits.is_empty() {
            (Arc::clone(&compiled.ir), self.func)
        } else {
            let (program, func) = self.apply_surgery(&mut bound)?;
            (Arc::new(program), func)
        };
        let globals = tyche_driver::evaluate_globals(&program, &bound)
            .map_err(|d| self.program.error(ErrorKind::Run, vec![d]))?;
        self.check_reached(&program, &globals, func)?;
        let model = tyche_infer::Model::for_function(Arc::clone(&program), globals, func);
        let progress = opts.progress.clone();
        let run = tyche_engine::run(tyche_engine::Spec {
            model: &model,
            method: self.method,
            options: opts,
            backend: self.backend,
            timeout: self.timeout,
            cancel: None,
            progress,
        })
        .map_err(|d| self.program.error(ErrorKind::Run, vec![d]))?;
        let ty = tyche_driver::result_type(&program, func);
        Ok(Posterior::new(run, &program, ty, &self.model))
    }

    /// Edits of an address (`z[7]`) that no run of the model reaches
    /// would silently change nothing: like `tyche run`, report them
    /// (checked on 200 forward runs from the prior; a best effort that
    /// never flags an address some run reached).
    fn check_reached(
        &self,
        program: &Arc<tyche_ir::Program>,
        globals: &Arc<Vec<Value>>,
        func: FuncId,
    ) -> Result<(), Error> {
        let edits: Vec<tyche_driver::CliEdit> = self
            .edits
            .iter()
            .filter(|e| e.index.is_some())
            .map(|e| tyche_driver::CliEdit {
                name: e.name.clone(),
                index: e.index,
                value: serde_json::Value::Null,
                kind: e.kind,
                counterfactual: e.counterfactual,
            })
            .collect();
        if edits.is_empty() {
            return Ok(());
        }
        // As `tyche run` decides it: prior runs with a fixed seed (the
        // query's seed never changes the verdict), and a refusal only where
        // every run draws the same addresses, so that an unreached address
        // is never drawn; elsewhere a rare address is accepted.
        let unreached = tyche_driver::unreached_addresses(program, globals, func, &edits, 200, 0);
        if unreached.is_empty() {
            return Ok(());
        }
        let limits = tyche_jit::Limits {
            max_steps: 20_000_000,
            ..Default::default()
        };
        if tyche_jit::trace::trace_with(program, globals, func, limits, true).is_err() {
            return Ok(());
        }
        let ir = &self.program.inner.compiled.ir;
        let model_span = ir.func_by_name(&self.model).map(|f| ir.func(f).span);
        let diags = unreached
            .iter()
            .map(|a| {
                let mut d = Diagnostic::error(format!(
                    "no run of `{}` reached the address `{a}`",
                    self.model
                ))
                .with_code("E0807");
                if let Some(span) = model_span {
                    d = d.with_primary(span, format!("`{a}` is never drawn in this model"));
                }
                d.with_note(format!(
                    "every run of the model draws the same addresses: the edit of `{a}` would change nothing"
                ))
                .with_help("occurrences are counted from 0 per name: `z[0]` is the first `z` drawn")
            })
            .collect();
        Err(self.program.error(ErrorKind::Surgery, diags))
    }

    /// The options `run` uses, validated.
    fn options(&self) -> Result<Options, Error> {
        let mut opts = self.opts.clone();
        opts.method = self.method.unwrap_or(Method::Enumerate);
        let bad = |what: &str| {
            Err(Error::plain(
                ErrorKind::Options,
                format!("{what} must be positive"),
            ))
        };
        if self.particles == Some(0) {
            return bad("the number of particles");
        }
        if self.samples == Some(0) {
            return bad("the number of samples");
        }
        if opts.chains == 0 {
            return bad("the number of chains");
        }
        if opts.thin == 0 {
            return bad("the thinning interval");
        }
        if let Some(t) = opts.ess_threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::plain(
                    ErrorKind::Options,
                    format!("the ESS threshold must be between 0 and 1, not {t}"),
                ));
            }
        }
        if let Proposal::Drift { scale } = opts.proposal {
            if !(scale > 0.0 && scale.is_finite()) {
                return Err(Error::plain(
                    ErrorKind::Options,
                    format!("the drift proposal's scale must be positive and finite, not {scale}"),
                ));
            }
        }
        if let Some(n) = self.particles {
            opts.particles = n;
            // For Importance and Rejection, particles and samples are the
            // same number of runs (as on the command line).
            opts.samples = n;
        }
        if let Some(n) = self.samples {
            opts.samples = n;
        }
        Ok(opts)
    }

    /// The edited program and its new root; adds the edits' values to
    /// `bound`. Do edits apply first, then conditions, then the
    /// counterfactual question (LANGUAGE.md §10).
    fn apply_surgery(
        &self,
        bound: &mut HashMap<GlobalId, Value>,
    ) -> Result<(tyche_ir::Program, FuncId), Error> {
        let mut program: tyche_ir::Program = (*self.program.inner.compiled.ir).clone();
        let mut ir_edits = Vec::new();
        for e in &self.edits {
            program.globals.push(Global {
                name: format!("edit {}", e.name),
                ty: e.ty.clone(),
                kind: GlobalKind::Data { default: None },
                span: Span::DUMMY,
            });
            let id = GlobalId(program.globals.len() as u32 - 1);
            bound.insert(id, e.value.clone());
            ir_edits.push((
                e.counterfactual,
                SurgeryEdit {
                    name: e.name.clone(),
                    index: e.index,
                    kind: e.kind,
                    value: id,
                },
            ));
        }
        let mut root = self.func;
        for (kind, tag) in [(EditKind::Do, "do"), (EditKind::Observe, "condition")] {
            let these: Vec<SurgeryEdit> = ir_edits
                .iter()
                .filter(|(cf, e)| !cf && e.kind == kind)
                .map(|(_, e)| e.clone())
                .collect();
            if !these.is_empty() {
                root = surgery::apply(&mut program, root, None, &these, tag);
            }
        }
        let question: Vec<SurgeryEdit> = ir_edits
            .iter()
            .filter(|(cf, _)| *cf)
            .map(|(_, e)| e.clone())
            .collect();
        if !question.is_empty() {
            root = surgery::counterfactual(&mut program, root, None, &question);
        }
        if let Err(msg) = tyche_ir::verify(&program, "embedding surgery") {
            return Err(Error::plain(
                ErrorKind::Surgery,
                format!("internal compiler error: {msg}"),
            ));
        }
        Ok((program, root))
    }
}

/// Shows the model, the bound data items, the edits and the settings.
impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ir = &self.program.inner.compiled.ir;
        let mut data: Vec<&str> = self
            .data
            .keys()
            .map(|g| ir.global(*g).name.as_str())
            .collect();
        data.sort_unstable();
        let edits: Vec<String> = self
            .edits
            .iter()
            .map(|e| {
                let what = match (e.counterfactual, e.kind) {
                    (true, _) => "counterfactual",
                    (false, EditKind::Do) => "do",
                    (false, EditKind::Observe) => "condition",
                };
                let at = e.index.map(|i| format!("[{i}]")).unwrap_or_default();
                format!("{what} {}{at} = {}", e.name, e.value)
            })
            .collect();
        f.debug_struct("Query")
            .field("program", &self.program.name())
            .field("model", &self.model)
            .field("data", &data)
            .field("edits", &edits)
            .field("method", &self.method)
            .field("seed", &self.opts.seed)
            .finish_non_exhaustive()
    }
}

/// The E0503 diagnostic for a data value of the wrong type.
fn ill_typed(global: &Global, msg: String) -> Diagnostic {
    Diagnostic::error(format!("ill-typed value for data item `{}`", global.name))
        .with_code("E0503")
        .with_primary(global.span, format!("declared as {} here", global.ty))
        .with_note(msg)
}

/// Splits `"z[3]"` into `("z", Some(3))` and `"z"` into `("z", None)`.
fn parse_target(target: &str) -> Result<(String, Option<u32>), String> {
    tyche_driver::parse_address(target)
}

#[cfg(test)]
mod tests {
    use super::parse_target;

    #[test]
    fn targets() {
        assert_eq!(parse_target("z").unwrap(), ("z".into(), None));
        assert_eq!(parse_target("z[3]").unwrap(), ("z".into(), Some(3)));
        assert!(parse_target("z[x]").is_err());
        assert!(parse_target("z[3").is_err());
        assert!(parse_target("").is_err());
    }
}
