//! Causal inference end to end (LANGUAGE.md §9–§10, docs/causal.md):
//! interventions (`do`), conditioning (`condition`), counterfactuals, the
//! algebraic laws of surgery over every example model, the errors users
//! get for bad surgery, and `tyche graph`.
//!
//! Exact answers use `Enumerate` and are compared with hand-derived
//! numbers to 1e-12. Monte Carlo answers (`Smc`, `Importance`, `Mh`) use
//! fixed seeds and a tolerance derived from the Monte Carlo standard
//! error:
//!
//! For a probability `p` estimated by a weighted average of indicator
//! values over `n` draws with normalised weights `w_i`, the estimator's
//! variance is (to first order, delta method for the self-normalised
//! ratio) `Σ w_i² · p(1 − p) = p(1 − p) / ESS`, where `ESS = 1 / Σ w_i²`
//! is Kish's effective sample size. For equally weighted independent
//! draws (`Importance` and `Smc` on a model without observations) ESS is
//! `n`; for MH the draws are autocorrelated and the ESS is the
//! autocorrelation-corrected estimate `tyche` reports. Likewise for a
//! mean of a quantity with standard deviation `σ`: `SE = σ / √ESS`. By the
//! central limit theorem the error is approximately `Normal(0, SE²)`, so
//! `|estimate − truth| ≤ 4·SE` fails with probability ≈ 6·10⁻⁵ per
//! check; the seeds are fixed, so the tests are deterministic, and a
//! failure means a real bias (or a seed in that 6·10⁻⁵ tail, which the
//! chosen seeds are not). A floor of 1e-9 on the tolerance covers the
//! degenerate case `p ∈ {0, 1}`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tyche_core::SourceMap;
use tyche_infer::{InferResult, Method, Options};
use tyche_ir::{surgery, EditKind, FuncId, Global, GlobalId, GlobalKind, Program, Type};
use tyche_vm::Value;

// ---------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn example(name: &str) -> PathBuf {
    root().join("examples/causal").join(name)
}

/// A compiled program with its data bound.
struct Loaded {
    sources: SourceMap,
    compiled: tyche_driver::Compiled,
    data: HashMap<GlobalId, Value>,
}

fn load_text(name: &str, text: &str, data: Option<&str>) -> Result<Loaded, String> {
    let mut sources = SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, name, text)
        .map_err(|d| tyche_core::render_all(&d, &sources, false))?;
    let data_json = match data {
        None => None,
        Some(text) => Some(
            tyche_driver::parse_data_file(&mut sources, "data.json", text)
                .map_err(|d| tyche_core::render_all(&[d], &sources, false))?,
        ),
    };
    let data = tyche_driver::bind_data(
        &compiled,
        &sources,
        data_json.as_ref().map(|(f, v)| (*f, v)),
    )
    .map_err(|d| tyche_core::render_all(&d, &sources, false))?;
    Ok(Loaded {
        sources,
        compiled,
        data,
    })
}

/// Loads a program file, with `NAME.data.json` beside it when present.
fn load_file(path: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let data_path = path.with_extension("data.json");
    let data = data_path
        .exists()
        .then(|| std::fs::read_to_string(&data_path).expect("readable data file"));
    load_text(&path.display().to_string(), &text, data.as_deref())
}

impl Loaded {
    fn func(&self, name: &str) -> FuncId {
        tyche_driver::model(&self.compiled, &self.sources, name)
            .unwrap_or_else(|d| panic!("{}", tyche_core::render_all(&[d], &self.sources, false)))
    }

    /// Runs inference on `root` of `program` (this program, or a surgery
    /// of it) with extra bound globals.
    fn infer_in(
        &self,
        program: &Arc<Program>,
        root: FuncId,
        extra: &HashMap<GlobalId, Value>,
        opts: &Options,
    ) -> Result<InferResult, String> {
        let mut bound = self.data.clone();
        bound.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let globals = tyche_driver::evaluate_globals(program, &bound)
            .map_err(|d| tyche_core::render_all(&[d], &self.sources, false))?;
        let model = tyche_infer::Model::for_function(program.clone(), globals, root);
        tyche_infer::infer(&model, opts).map_err(|d| {
            let code = d.code.clone().unwrap_or_default();
            format!(
                "[{code}] {}",
                tyche_core::render_all(&[d], &self.sources, false)
            )
        })
    }

    fn infer(&self, model: &str, opts: &Options) -> InferResult {
        let f = self.func(model);
        self.infer_in(&self.compiled.ir, f, &HashMap::new(), opts)
            .unwrap_or_else(|e| panic!("{model}: {e}"))
    }
}

fn enumerate() -> Options {
    Options::for_method(Method::Enumerate, 0)
}

fn method(m: Method, n: usize, seed: u64) -> Options {
    let mut o = Options::for_method(m, n).with_seed(seed);
    o.chains = 1;
    o
}

fn b(v: bool) -> Value {
    Value::Bool(v)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol || (a.is_infinite() && a == b)
}

/// Kish's effective sample size of a result's draws.
fn ess(r: &InferResult) -> f64 {
    let ps = r.probabilities();
    1.0 / ps.iter().map(|p| p * p).sum::<f64>()
}

/// The 4-standard-error tolerance for a probability `p` (see the module
/// docs), with the effective sample size `n_eff`.
fn tol_prob(p: f64, n_eff: f64) -> f64 {
    (4.0 * (p * (1.0 - p) / n_eff).sqrt()).max(1e-9)
}

/// Runs `tyche ARGS…` in-process.
fn tyche(args: &[&str]) -> tyche_cli::Outcome {
    tyche_cli::run_command(args)
}

fn tyche_json(args: &[&str]) -> serde_json::Value {
    let out = tyche(args);
    assert_eq!(out.status, 0, "tyche {}:\n{}", args.join(" "), out.stderr);
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("tyche {}: not JSON ({e}):\n{}", args.join(" "), out.stdout))
}

/// P(result = `value`) from a JSON report's table.
fn json_prob(j: &serde_json::Value, value: serde_json::Value) -> f64 {
    j["result"]["table"]
        .as_array()
        .expect("a table")
        .iter()
        .find(|row| row["value"] == value)
        .map(|row| row["prob"].as_f64().expect("prob"))
        .unwrap_or(0.0)
}

fn json_ess(j: &serde_json::Value) -> f64 {
    j["ess"].as_f64().expect("an ESS")
}

/// A scratch file for programs written by the tests.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tyche-causal-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write scratch program");
    path
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// One surgery: its kind and its `name[index] = value` edits.
type Step<'a> = (EditKind, Vec<(&'a str, Option<u32>, Value)>);

/// A surgery as the IR transformation applies it, one step at a time
/// (`do(do(m, x = a), x = b)` is two steps): returns the new program, its
/// root, and the values of the globals the edits added.
fn surgered(
    base: &Program,
    root: FuncId,
    steps: &[Step],
) -> (Arc<Program>, FuncId, HashMap<GlobalId, Value>) {
    let mut program = base.clone();
    let choices = surgery::choices(&program, root);
    let mut bound = HashMap::new();
    let mut root = root;
    for (kind, edits) in steps {
        let mut ir_edits = Vec::new();
        for (name, index, value) in edits {
            let ty = choices
                .get(*name)
                .unwrap_or_else(|| panic!("no choice {name}"))
                .clone();
            program.globals.push(Global {
                name: format!("test {name}"),
                ty,
                kind: GlobalKind::Data { default: None },
                span: tyche_core::Span::DUMMY,
            });
            let id = GlobalId(program.globals.len() as u32 - 1);
            bound.insert(id, value.clone());
            ir_edits.push(surgery::SurgeryEdit {
                name: name.to_string(),
                index: *index,
                kind: *kind,
                value: id,
            });
        }
        let tag = if *kind == EditKind::Do {
            "do"
        } else {
            "condition"
        };
        root = surgery::apply(&mut program, root, None, &ir_edits, tag);
    }
    tyche_ir::verify(&program, "test surgery").expect("surgery keeps the IR valid");
    (Arc::new(program), root, bound)
}

/// The exact distribution of a result: value (as text) → probability.
fn table(r: &InferResult) -> BTreeMap<String, f64> {
    let mut t = BTreeMap::new();
    for (d, p) in r.draws.iter().zip(r.probabilities()) {
        *t.entry(d.value.to_string()).or_insert(0.0) += p;
    }
    t
}

fn prob(r: &InferResult, v: &Value) -> f64 {
    r.prob(v)
}

fn real(v: &Value) -> f64 {
    v.as_number()
        .unwrap_or_else(|| panic!("{v} is not a number"))
}

fn field(v: &Value, i: usize) -> Value {
    match v {
        Value::Tuple(xs) => xs[i].clone(),
        other => panic!("{other} is not a tuple"),
    }
}

// ---------------------------------------------------------------------
// Front door
// ---------------------------------------------------------------------

// The front-door model (examples/causal/frontdoor.ppl):
//   u ~ B(0.3); smoking ~ B(u ? 0.8 : 0.2); tar ~ B(smoking ? 0.95 : 0.05);
//   cancer ~ B(tar ? (u ? 0.85 : 0.3) : (u ? 0.6 : 0.1)).
// P(cancer | do(smoking)) = Σ_u P(u) Σ_t P(t | s) P(c | t, u)
//   = 0.3·(0.95·0.85 + 0.05·0.6) + 0.7·(0.95·0.3 + 0.05·0.1)
//   = 0.3·0.8375 + 0.7·0.29 = 0.45425.
// Naive: P(u | s) = 0.24 / 0.38, so P(c | s) = (0.24·0.8375 + 0.14·0.29) / 0.38 = 0.635789…
const FRONT_DOOR: f64 = 0.45425;
const FRONT_DOOR_NAIVE: f64 = (0.24 * 0.8375 + 0.14 * 0.29) / 0.38;

#[test]
fn front_door_surgery_equals_the_formula_exactly() {
    let l = load_file(&example("frontdoor.ppl")).unwrap();
    // In the program: (surgery, formula from the observational joint, naive).
    let r = l.infer("model", &enumerate());
    assert_eq!(r.draws.len(), 1, "the model is deterministic");
    let v = &r.draws[0].value;
    let (interventional, formula, naive) =
        (real(&field(v, 0)), real(&field(v, 1)), real(&field(v, 2)));
    assert!(
        close(interventional, FRONT_DOOR, 1e-12),
        "P(c | do(s)) = {interventional}"
    );
    assert!(
        close(formula, FRONT_DOOR, 1e-12),
        "front-door formula = {formula}"
    );
    assert!(close(naive, FRONT_DOOR_NAIVE, 1e-12), "P(c | s) = {naive}");

    // Independently in Rust: the formula from the Enumerate joint of the
    // observational model (u marginalised out) …
    let joint = l.infer("world", &enumerate());
    let p = |s: bool, t: bool, c: bool| prob(&joint, &Value::tuple(vec![b(s), b(t), b(c)]));
    let bools = [true, false];
    let p_s = |s: bool| {
        bools
            .iter()
            .flat_map(|&t| bools.iter().map(move |&c| (t, c)))
            .map(|(t, c)| p(s, t, c))
            .sum::<f64>()
    };
    let p_st = |s: bool, t: bool| p(s, t, true) + p(s, t, false);
    let formula_rust: f64 = bools
        .iter()
        .map(|&t| {
            p_st(true, t) / p_s(true)
                * bools
                    .iter()
                    .map(|&s2| p(s2, t, true) / p_st(s2, t) * p_s(s2))
                    .sum::<f64>()
        })
        .sum();
    assert!(close(formula_rust, FRONT_DOOR, 1e-12), "{formula_rust}");
    // … against surgery from the command line.
    let f = path_str(&example("frontdoor.ppl"));
    let j = tyche_json(&[
        "run",
        &f,
        "--model",
        "cancer",
        "--do",
        "smoking=true",
        "--method",
        "enumerate",
        "--format",
        "json",
    ]);
    assert!(
        close(json_prob(&j, true.into()), formula_rust, 1e-12),
        "{j}"
    );
    // And the same surgery in the language.
    let direct = load_text(
        "fd.ppl",
        &format!(
            "{}\nfn cancer_do() -> Bool {{ let m = do(cancer, smoking = true); m() }}",
            std::fs::read_to_string(example("frontdoor.ppl")).unwrap()
        ),
        None,
    )
    .unwrap();
    assert!(close(
        prob(&direct.infer("cancer_do", &enumerate()), &b(true)),
        FRONT_DOOR,
        1e-12
    ));
}

#[test]
fn front_door_monte_carlo() {
    let f = path_str(&example("frontdoor.ppl"));
    // No observations: every Smc/Importance draw is an independent prior
    // run of the surgically altered model (ESS = n); Mh reports its ESS.
    for (m, seed) in [("smc", "11"), ("importance", "12"), ("mh", "13")] {
        let j = tyche_json(&[
            "run",
            &f,
            "--model",
            "cancer",
            "--do",
            "smoking=true",
            "--method",
            m,
            "--particles",
            "4000",
            "--samples",
            "4000",
            "--seed",
            seed,
            "--format",
            "json",
        ]);
        let n_eff = if m == "mh" { json_ess(&j) } else { 4000.0 };
        let est = json_prob(&j, true.into());
        let tol = tol_prob(FRONT_DOOR, n_eff);
        assert!(
            close(est, FRONT_DOOR, tol),
            "{m}: P(c | do(s)) ≈ {est}, expected {FRONT_DOOR} ± {tol}"
        );
    }
}

// ---------------------------------------------------------------------
// Back door (Simpson's paradox)
// ---------------------------------------------------------------------

// examples/causal/backdoor.ppl: z ~ B(0.5); x ~ B(z ? 0.9 : 0.1);
// y ~ B((z ? 0.2 : 0.8) + (x ? 0.1 : 0)).
// P(y | do(x)) = 0.5·0.3 + 0.5·0.9 = 0.6; P(y | do(¬x)) = 0.5·0.2 + 0.5·0.8 = 0.5.
// P(z | x) = 0.9, so P(y | x) = 0.9·0.3 + 0.1·0.9 = 0.36; P(z | ¬x) = 0.1,
// so P(y | ¬x) = 0.1·0.2 + 0.9·0.8 = 0.74.
const DO_TREATED: f64 = 0.6;
const DO_UNTREATED: f64 = 0.5;
const SEEN_TREATED: f64 = 0.36;
const SEEN_UNTREATED: f64 = 0.74;

#[test]
fn back_door_adjustment_and_simpsons_paradox_exactly() {
    let l = load_file(&example("backdoor.ppl")).unwrap();
    let r = l.infer("model", &enumerate());
    let v = &r.draws[0].value;
    let (observational, interventional, backdoor) =
        (real(&field(v, 0)), real(&field(v, 1)), real(&field(v, 2)));
    assert!(
        close(observational, SEEN_TREATED - SEEN_UNTREATED, 1e-12),
        "{observational}"
    );
    assert!(
        close(interventional, DO_TREATED - DO_UNTREATED, 1e-12),
        "{interventional}"
    );
    assert!(
        close(backdoor, DO_TREATED - DO_UNTREATED, 1e-12),
        "{backdoor}"
    );
    assert!(
        observational < 0.0 && interventional > 0.0,
        "the paradox: opposite signs"
    );

    // The adjustment in Rust from the observational joint.
    let joint = l.infer("patient", &enumerate());
    let p = |z: bool, x: bool, y: bool| prob(&joint, &Value::tuple(vec![b(z), b(x), b(y)]));
    let adjusted = |x: bool| -> f64 {
        [true, false]
            .iter()
            .map(|&z| {
                let p_z: f64 = [true, false]
                    .iter()
                    .map(|&x2| p(z, x2, true) + p(z, x2, false))
                    .sum();
                p(z, x, true) / (p(z, x, true) + p(z, x, false)) * p_z
            })
            .sum()
    };
    let f = path_str(&example("backdoor.ppl"));
    for (x, expected) in [(true, DO_TREATED), (false, DO_UNTREATED)] {
        assert!(close(adjusted(x), expected, 1e-12));
        let j = tyche_json(&[
            "run",
            &f,
            "--model",
            "recovery",
            "--do",
            &format!("treated={x}"),
            "--method",
            "enumerate",
            "--format",
            "json",
        ]);
        assert!(close(json_prob(&j, true.into()), adjusted(x), 1e-12), "{j}");
    }
    for (x, expected) in [(true, SEEN_TREATED), (false, SEEN_UNTREATED)] {
        let j = tyche_json(&[
            "run",
            &f,
            "--model",
            "recovery",
            "--observe",
            &format!("treated={x}"),
            "--format",
            "json",
        ]);
        assert!(close(json_prob(&j, true.into()), expected, 1e-12), "{j}");
    }
}

#[test]
fn back_door_monte_carlo() {
    let f = path_str(&example("backdoor.ppl"));
    let mut seed = 20;
    for m in ["smc", "importance", "mh"] {
        for (flag, x, expected) in [
            ("--do", true, DO_TREATED),
            ("--do", false, DO_UNTREATED),
            ("--observe", true, SEEN_TREATED),
            ("--observe", false, SEEN_UNTREATED),
        ] {
            seed += 1;
            let s = seed.to_string();
            let edit = format!("treated={x}");
            let j = tyche_json(&[
                "run",
                &f,
                "--model",
                "recovery",
                flag,
                &edit,
                "--method",
                m,
                "--particles",
                "4000",
                "--samples",
                "4000",
                "--seed",
                &s,
                "--format",
                "json",
            ]);
            // Kish's ESS for the weighted methods (equal to n after `do`:
            // nothing is observed), the autocorrelation ESS for Mh.
            let n_eff = json_ess(&j);
            let est = json_prob(&j, true.into());
            let tol = tol_prob(expected, n_eff);
            assert!(
                close(est, expected, tol),
                "{m} {flag} {edit}: {est}, expected {expected} ± {tol} (ESS {n_eff})"
            );
        }
    }
}

// ---------------------------------------------------------------------
// Addresses: one instance versus every instance; recursion
// ---------------------------------------------------------------------

const MAPPED: &str = r#"
// Three coins drawn inside `map`: z[0], z[1], z[2].
fn coins() -> Int {
    let zs = map([0, 1, 2], |i| { let z ~ Bernoulli(0.5); z });
    count(zs, |c| c)
}
fn one() -> Int { let m = do(coins, z[1] = true); m() }
fn every() -> Int { let m = do(coins, z = true); m() }
"#;

#[test]
fn intervening_on_one_instance_versus_all_instances_in_a_map() {
    let l = load_text("mapped.ppl", MAPPED, None).unwrap();
    // do(z[1]): heads = 1 + Binomial(2, 1/2): P(1) = 1/4, P(2) = 1/2, P(3) = 1/4.
    let one = table(&l.infer("one", &enumerate()));
    let expect_one = BTreeMap::from([
        ("1".to_string(), 0.25),
        ("2".to_string(), 0.5),
        ("3".to_string(), 0.25),
    ]);
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        expect_one.keys().collect::<Vec<_>>()
    );
    for (k, p) in &expect_one {
        assert!(close(one[k], *p, 1e-12), "do(z[1]): {one:?}");
    }
    // do(z): every coin is heads.
    let every = table(&l.infer("every", &enumerate()));
    assert_eq!(every.len(), 1);
    assert!(close(every["3"], 1.0, 1e-12), "do(z): {every:?}");

    // The same from the command line, and in the traces: z[1] is the
    // constant in every draw, z[0] and z[2] still vary.
    let f = scratch("mapped.ppl", MAPPED);
    let f = path_str(&f);
    let j = tyche_json(&[
        "run",
        &f,
        "--model",
        "coins",
        "--do",
        "z[1]=true",
        "--method",
        "enumerate",
        "--format",
        "json",
    ]);
    assert!(
        close(json_prob(&j, 2.into()), 0.5, 1e-12) && close(json_prob(&j, 0.into()), 0.0, 1e-12),
        "{j}"
    );
    let j = tyche_json(&[
        "run",
        &f,
        "--model",
        "coins",
        "--do",
        "z=true",
        "--method",
        "enumerate",
        "--format",
        "json",
    ]);
    assert!(close(json_prob(&j, 3.into()), 1.0, 1e-12), "{j}");

    let r = l.infer("one", &method(Method::Importance, 200, 5));
    let mut seen = [BTreeMap::new(), BTreeMap::new(), BTreeMap::new()];
    for d in &r.draws {
        for (addr, v) in &d.trace {
            if l.compiled.ir.name(addr.name) == "z" {
                *seen[addr.index as usize].entry(v.to_string()).or_insert(0) += 1;
            }
        }
    }
    assert_eq!(
        seen[1].keys().collect::<Vec<_>>(),
        vec!["true"],
        "z[1] is fixed: {seen:?}"
    );
    assert_eq!(seen[0].len(), 2, "z[0] still varies: {seen:?}");
    assert_eq!(seen[2].len(), 2, "z[2] still varies: {seen:?}");
}

const RECURSION: &str = r#"
// Keep flipping while the coin says so: returns the number of heads
// before the first tails (Geometric(1/2), unbounded).
fn flips(n: Int) -> Int {
    let again ~ Bernoulli(0.5);
    if again { flips(n + 1) } else { n }
}
fn model() -> Int { flips(0) }
fn never() -> Int { let m = do(model, again = false); m() }
fn third() -> Int { let m = do(model, again[2] = false); m() }
"#;

#[test]
fn intervention_inside_recursion_truncates_it() {
    let l = load_text("recursion.ppl", RECURSION, None).unwrap();
    // do(again = false): the recursion never starts.
    let never = table(&l.infer("never", &enumerate()));
    assert_eq!(never.len(), 1);
    assert!(close(never["0"], 1.0, 1e-12), "{never:?}");
    // do(again[2] = false): the third coin is tails, so at most 2 heads:
    // P(0) = 1/2, P(1) = 1/4, P(2) = 1/4 — and the (otherwise unbounded)
    // model becomes finite, so Enumerate can solve it.
    let third = table(&l.infer("third", &enumerate()));
    let expect = BTreeMap::from([
        ("0".to_string(), 0.5),
        ("1".to_string(), 0.25),
        ("2".to_string(), 0.25),
    ]);
    assert_eq!(
        third.keys().collect::<Vec<_>>(),
        expect.keys().collect::<Vec<_>>(),
        "{third:?}"
    );
    for (k, p) in &expect {
        assert!(close(third[k], *p, 1e-12), "{third:?}");
    }
    // The same from the command line.
    let f = path_str(&scratch("recursion.ppl", RECURSION));
    let j = tyche_json(&[
        "run",
        &f,
        "--do",
        "again[2]=false",
        "--method",
        "enumerate",
        "--format",
        "json",
    ]);
    assert!(close(json_prob(&j, 2.into()), 0.25, 1e-12), "{j}");
    let j = tyche_json(&[
        "run",
        &f,
        "--do",
        "again=false",
        "--method",
        "smc",
        "--format",
        "json",
    ]);
    assert!(close(json_prob(&j, 0.into()), 1.0, 1e-12), "{j}");
}

// ---------------------------------------------------------------------
// Evidence downstream of a cut does not flow upstream
// ---------------------------------------------------------------------

const CHAIN: &str = r#"
// a → x → y, all Bernoulli.
fn chain() -> Bool {
    let a ~ Bernoulli(0.3);
    let x ~ Bernoulli(if a { 0.9 } else { 0.2 });
    let y ~ Bernoulli(if x { 0.8 } else { 0.1 });
    observe(Bernoulli(if x { 0.7 } else { 0.4 }), true);   // another child of x
    a
}
fn cut() -> Bool { let m = condition(do(chain, x = true), y = true); m() }
fn seen() -> Bool { let m = condition(chain, y = true); m() }
"#;

#[test]
fn evidence_below_an_intervention_does_not_reach_above_it() {
    let l = load_text("chain.ppl", CHAIN, None).unwrap();
    // After do(x), the children y (conditioned) and the observe statement
    // weigh every run equally: the posterior of a is its prior, 0.3.
    let cut = l.infer("cut", &enumerate());
    assert!(close(prob(&cut, &b(true)), 0.3, 1e-12), "{:?}", table(&cut));
    // Without the cut the evidence does move a (a sanity check):
    // P(a | y, obs) ∝ Σ_x P(a) P(x | a) P(y | x) P(obs | x).
    let w = |a: bool| {
        let pa = if a { 0.3 } else { 0.7 };
        let px = if a { 0.9 } else { 0.2 };
        pa * (px * 0.8 * 0.7 + (1.0 - px) * 0.1 * 0.4)
    };
    let seen = l.infer("seen", &enumerate());
    assert!(close(
        prob(&seen, &b(true)),
        w(true) / (w(true) + w(false)),
        1e-12
    ));
    assert!(prob(&seen, &b(true)) > 0.5);
}

const GAUSS_CHAIN: &str = r#"
// a → x → y, linear-Gaussian; y is observed far from a's prior mean.
fn chain() -> Real {
    let a ~ Normal(0.0, 1.0);
    let x ~ Normal(a, 1.0);
    let y ~ Normal(x, 0.5);
    observe(Normal(x, 0.5), 3.0);
    a
}
"#;

#[test]
fn evidence_below_an_intervention_does_not_reach_above_it_monte_carlo() {
    // With do(x = 0) and y observed at 3, the posterior of a is its prior
    // Normal(0, 1): mean 0, sd 1, so SE = 1/√ESS. (Without the cut the
    // posterior mean would be 3·(1/(1+1+0.125)) ≈ 1.4 — far outside.)
    let f = path_str(&scratch("gauss_chain.ppl", GAUSS_CHAIN));
    for (m, seed) in [("smc", "31"), ("importance", "32"), ("mh", "33")] {
        let j = tyche_json(&[
            "run",
            &f,
            "--model",
            "chain",
            "--do",
            "x=0.0",
            "--observe",
            "y=3.0",
            "--method",
            m,
            "--particles",
            "4000",
            "--samples",
            "4000",
            "--seed",
            seed,
            "--format",
            "json",
        ]);
        let n_eff = json_ess(&j);
        let mean = j["result"]["mean"].as_f64().expect("mean");
        let sd = j["result"]["sd"].as_f64().expect("sd");
        let tol = 4.0 / n_eff.sqrt();
        assert!(
            close(mean, 0.0, tol),
            "{m}: posterior mean of a {mean} ± {tol} (ESS {n_eff})"
        );
        // The sample sd of 4000 (effective) draws from Normal(0, 1) has
        // SE ≈ 1/√(2·ESS).
        let tol_sd = 4.0 / (2.0 * n_eff).sqrt();
        assert!(
            close(sd, 1.0, tol_sd),
            "{m}: posterior sd of a {sd} ± {tol_sd}"
        );
    }
}

// ---------------------------------------------------------------------
// Counterfactuals
// ---------------------------------------------------------------------

// The twin network for Y := (X ∧ U1) ∨ U2 with U1 ~ B(q1), U2 ~ B(q2),
// X ~ B(px) independent. Given X = 1, Y = 1 the evidence is U1 ∨ U2; under
// X := 0, Y = U2. So P(Y_{X=0} = 1 | X = 1, Y = 1) = P(U2 | U1 ∨ U2)
//   = q2 / (q1 + q2 − q1·q2).
// We want 5/19. Choosing q2 = 0.2 gives 0.2 / (0.8·q1 + 0.2) = 5/19, i.e.
// 3.8 = 4·q1 + 1, q1 = 0.7; check: 0.7 + 0.2 − 0.14 = 0.76 and
// 0.2 / 0.76 = 5/19. X's prior does not matter (X is independent of the
// noise); px = 0.5. These are the numbers of examples/causal/necessity.ppl
// (whose `model` returns the probability of necessity, 1 − 5/19 = 14/19).
const FIVE_NINETEENTHS: f64 = 5.0 / 19.0;

#[test]
fn twin_network_counterfactual_is_five_nineteenths() {
    let l = load_file(&example("necessity.ppl")).unwrap();
    let r = l.infer("y_had_x_been_false", &enumerate());
    assert!(
        close(prob(&r, &b(true)), FIVE_NINETEENTHS, 1e-12),
        "{:?}",
        table(&r)
    );
    // The evidence: P(X = 1, Y = 1) = 0.5 · 0.76.
    assert!(close(
        r.log_evidence.expect("exact evidence"),
        (0.5f64 * 0.76).ln(),
        1e-12
    ));
    let pn = l.infer("model", &enumerate());
    assert!(close(prob(&pn, &b(true)), 14.0 / 19.0, 1e-12));

    // From the command line.
    let f = path_str(&example("necessity.ppl"));
    let j = tyche_json(&[
        "run",
        &f,
        "--model",
        "scm",
        "--observe",
        "x=true",
        "--observe",
        "y=true",
        "--counterfactual",
        "x=false",
        "--method",
        "enumerate",
        "--format",
        "json",
    ]);
    assert!(
        close(json_prob(&j, true.into()), FIVE_NINETEENTHS, 1e-12),
        "{j}"
    );

    // Monte Carlo: factual runs are weighted by P(X = 1) P(Y = 1 | …).
    for (m, seed) in [
        (Method::Smc, 41),
        (Method::Importance, 42),
        (Method::Mh, 43),
    ] {
        let r = l.infer("y_had_x_been_false", &method(m, 4000, seed));
        let n_eff = match m {
            Method::Mh => r
                .mcmc
                .as_ref()
                .and_then(|s| s.ess)
                .expect("Mh reports an ESS"),
            _ => ess(&r),
        };
        let est = prob(&r, &b(true));
        let tol = tol_prob(FIVE_NINETEENTHS, n_eff);
        assert!(
            close(est, FIVE_NINETEENTHS, tol),
            "{m:?}: {est} vs 5/19 ± {tol}"
        );
    }
}

#[test]
fn gaussian_counterfactual_is_exactly_three() {
    // y ~ Normal(2x + 3z, 1) observed at 5 with x observed at 1: under
    // x = 0 the counterfactual y is 2·0 + 3z + (5 − 2 − 3z) = 3 for every
    // z, so every draw is 3 (up to rounding), whatever the method.
    let l = load_file(&example("linear_gaussian.ppl")).unwrap();
    for (m, seed) in [
        (Method::Smc, 51),
        (Method::Importance, 52),
        (Method::Mh, 53),
    ] {
        let r = l.infer("model", &method(m, 1000, seed));
        assert!(!r.draws.is_empty());
        for d in &r.draws {
            let y = real(&d.value);
            assert!(close(y, 3.0, 1e-9), "{m:?}: a counterfactual draw is {y}");
        }
    }
    let f = path_str(&example("linear_gaussian.ppl"));
    for m in ["smc", "importance", "mh"] {
        let j = tyche_json(&[
            "run",
            &f,
            "--model",
            "structural",
            "--observe",
            "x=1.0",
            "--observe",
            "y=5.0",
            "--counterfactual",
            "x=0.0",
            "--method",
            m,
            "--seed",
            "7",
            "--format",
            "json",
        ]);
        for key in ["min", "max", "mean"] {
            let v = j["result"][key].as_f64().expect("number");
            assert!(close(v, 3.0, 1e-9), "{m}: {key} = {v}");
        }
    }
}

/// Two models in one file with the same choice names at different types
/// (issue 16: a choice's type belongs to its model). The derivations are in
/// the header of examples/causal/two_models.ppl: the Boolean twin network
/// gives P(y_{x=false} | x, y) = 0.3 / 0.72 = 5/12 with evidence 0.36, and
/// the Gaussian counterfactual is exactly 3 in every draw.
#[test]
fn two_models_with_the_same_choice_names() {
    let path = example("two_models.ppl");
    let l = load_file(&path).unwrap();
    let r = l.infer("treated_recovery", &enumerate());
    assert!(
        close(prob(&r, &b(true)), 5.0 / 12.0, 1e-12),
        "{:?}",
        table(&r)
    );
    assert!(close(
        r.log_evidence.expect("exact evidence"),
        0.36f64.ln(),
        1e-12
    ));
    for (m, seed) in [
        (Method::Importance, 61),
        (Method::Smc, 62),
        (Method::Mh, 63),
    ] {
        let r = l.infer("model", &method(m, 500, seed));
        assert!(!r.draws.is_empty());
        for d in &r.draws {
            let y = real(&d.value);
            assert!(close(y, 3.0, 1e-9), "{m:?}: a counterfactual draw is {y}");
        }
    }
    // The same questions from the command line, each checked against the
    // model it edits: `x=true` for `twin`, `x=1.0` for `gauss`.
    let f = path_str(&path);
    let j = tyche_json(&[
        "run",
        &f,
        "--model",
        "twin",
        "--observe",
        "x=true",
        "--observe",
        "y=true",
        "--counterfactual",
        "x=false",
        "--method",
        "enumerate",
        "--format",
        "json",
    ]);
    assert!(close(json_prob(&j, true.into()), 5.0 / 12.0, 1e-12), "{j}");
    let j = tyche_json(&[
        "run",
        &f,
        "--model",
        "gauss",
        "--observe",
        "x=1.0",
        "--observe",
        "y=5.0",
        "--counterfactual",
        "x=0.0",
        "--method",
        "importance",
        "--seed",
        "7",
        "--format",
        "json",
    ]);
    for key in ["min", "max", "mean"] {
        let v = j["result"][key].as_f64().expect("number");
        assert!(close(v, 3.0, 1e-9), "{key} = {v}");
    }
    // A value of the other model's type is refused, naming the model.
    let out = tyche(&["run", &f, "--model", "gauss", "--observe", "x=true"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("the random choice `x` of `gauss` is Real"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------
// The laws of surgery, over every example model
// ---------------------------------------------------------------------

/// Every `.ppl` file under `dir`, sorted.
fn programs_recursive(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ppl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// What a run produced, for comparing two runs.
#[derive(Debug)]
enum Outcome {
    /// Exact: value → probability, and the log evidence.
    Exact(BTreeMap<String, f64>, Option<f64>),
    /// Seeded Monte Carlo: every draw (value, log weight bits, trace).
    Draws(Vec<(String, u64, String)>, Option<u64>),
    Failed(String),
}

fn outcome(r: Result<InferResult, String>) -> Outcome {
    match r {
        Err(e) => Outcome::Failed(e),
        Ok(r) if r.exact => Outcome::Exact(table(&r), r.log_evidence),
        Ok(r) => Outcome::Draws(
            r.draws
                .iter()
                .map(|d| {
                    let trace: Vec<String> = d
                        .trace
                        .iter()
                        .map(|(a, v)| format!("{}.{}={v}", a.name.0, a.index))
                        .collect();
                    (d.value.to_string(), d.log_weight.to_bits(), trace.join(","))
                })
                .collect(),
            r.log_evidence.map(f64::to_bits),
        ),
    }
}

fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Exact(ta, ea), Outcome::Exact(tb, eb)) => {
            ta.keys().eq(tb.keys())
                && ta.iter().all(|(k, p)| close(*p, tb[k], 1e-12))
                && match (ea, eb) {
                    (Some(x), Some(y)) => close(*x, *y, 1e-9),
                    (x, y) => x == y,
                }
        }
        (Outcome::Draws(da, ea), Outcome::Draws(db, eb)) => da == db && ea == eb,
        // The same error (rendered identically, e.g. every run rejected).
        (Outcome::Failed(x), Outcome::Failed(y)) => x == y,
        _ => false,
    }
}

/// Two values per choice to intervene with: values the model itself drew
/// in prior runs (so they are in the support and of the right shape), or
/// defaults for its type when it never drew the choice at top level.
fn values_for(
    l: &Loaded,
    root: FuncId,
    choices: &BTreeMap<String, Type>,
) -> BTreeMap<String, (Value, Value)> {
    let mut seen: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    if let Ok(r) = l.infer_in(
        &l.compiled.ir,
        root,
        &HashMap::new(),
        &method(Method::Importance, 24, 3),
    ) {
        for d in &r.draws {
            for (addr, v) in &d.trace {
                let vs = seen
                    .entry(l.compiled.ir.name(addr.name).to_string())
                    .or_default();
                if !vs.contains(v) {
                    vs.push(v.clone());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for (name, ty) in choices {
        let pair = match seen.get(name).map(|v| v.as_slice()) {
            Some([a, b, ..]) => Some((a.clone(), b.clone())),
            Some([a]) => Some((a.clone(), a.clone())),
            _ => match ty {
                Type::Bool => Some((b(true), b(false))),
                Type::Int => Some((Value::Int(0), Value::Int(1))),
                Type::Real => Some((Value::Real(0.5), Value::Real(1.5))),
                _ => None,
            },
        };
        if let Some(p) = pair {
            out.insert(name.clone(), p);
        }
    }
    out
}

#[test]
fn surgery_laws_hold_for_every_example_model() {
    let files = programs_recursive(&root().join("examples"));
    assert!(!files.is_empty());
    let results: Vec<(String, usize, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|path| {
                std::thread::Builder::new()
                    .stack_size(256 << 20)
                    .spawn_scoped(scope, move || check_laws(path))
                    .expect("spawn")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    let mut problems = Vec::new();
    let mut checks = 0;
    for (file, n, ps) in results {
        eprintln!("  {file}: {n} checks");
        checks += n;
        for p in ps {
            problems.push(format!("{file}: {p}"));
        }
    }
    eprintln!("{checks} law checks over {} example files", files.len());
    assert!(checks > 0, "no law was checked");
    assert!(
        problems.is_empty(),
        "{} of {checks} law checks failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Checks the laws for every model of one file and every choice:
/// `do(do(m, x = a), x = b) = do(m, x = b)`;
/// `do(do(m, x = a), y = c) = do(do(m, y = c), x = a)` for x ≠ y;
/// `do(condition(m, x = a), x = b) = do(m, x = b)`;
/// `condition(do(m, x = b), x = a) = do(m, x = b)`.
/// Returns the file, the number of checks, and the failures.
fn check_laws(path: &Path) -> (String, usize, Vec<String>) {
    let file = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    let l = match load_file(path) {
        Ok(l) => l,
        Err(e) => return (file, 0, vec![format!("does not load:\n{e}")]),
    };
    let ir = &l.compiled.ir;
    // The file's own zero-argument functions (not the prelude's, not
    // lambdas or surgery copies, whose names contain `$`).
    let models: Vec<String> = ir
        .funcs
        .iter()
        .filter(|f| {
            f.span.file == l.compiled.file
                && f.params == 0
                && f.captures == 0
                && !f.name.contains('$')
        })
        .map(|f| f.name.clone())
        .collect();
    let mut checks = 0;
    let mut problems = Vec::new();
    for model in models {
        let root = l.func(&model);
        let choices = surgery::choices(ir, root);
        if choices.is_empty() {
            continue;
        }
        // Exact enumeration where the model allows it, else seeded SMC.
        let opts = match l.infer_in(ir, root, &HashMap::new(), &enumerate()) {
            Err(e)
                if e.starts_with("[E0702]")
                    || e.starts_with("[E0703]")
                    || e.starts_with("[E0704]") =>
            {
                method(Method::Smc, 64, 17)
            }
            _ => enumerate(),
        };
        let run = |steps: &[Step]| {
            let (p, r, bound) = surgered(ir, root, steps);
            outcome(l.infer_in(&p, r, &bound, &opts))
        };
        let values = values_for(&l, root, &choices);
        for (x, (a, bv)) in &values {
            let once = run(&[(EditKind::Do, vec![(x, None, bv.clone())])]);
            if let Outcome::Failed(e) = &once {
                // Failing the same way on both sides would satisfy the laws
                // vacuously; a surgery of an example should run.
                problems.push(format!("{model}: do({x} = {bv}) fails:\n{e}"));
            }
            let twice = run(&[
                (EditKind::Do, vec![(x, None, a.clone())]),
                (EditKind::Do, vec![(x, None, bv.clone())]),
            ]);
            checks += 1;
            if !same(&once, &twice) {
                problems.push(format!("{model}: do twice on `{x}` ≠ do once with the later value:\n{twice:?}\nvs\n{once:?}"));
            }
            let cond_then_do = run(&[
                (EditKind::Observe, vec![(x, None, a.clone())]),
                (EditKind::Do, vec![(x, None, bv.clone())]),
            ]);
            checks += 1;
            if !same(&once, &cond_then_do) {
                problems.push(format!(
                    "{model}: condition then do on `{x}` ≠ do:\n{cond_then_do:?}\nvs\n{once:?}"
                ));
            }
            let do_then_cond = run(&[
                (EditKind::Do, vec![(x, None, bv.clone())]),
                (EditKind::Observe, vec![(x, None, a.clone())]),
            ]);
            checks += 1;
            if !same(&once, &do_then_cond) {
                problems.push(format!(
                    "{model}: do then condition on `{x}` ≠ do:\n{do_then_cond:?}\nvs\n{once:?}"
                ));
            }
            for (y, (c, _)) in values.range::<String, _>((
                std::ops::Bound::Excluded(x.clone()),
                std::ops::Bound::Unbounded,
            )) {
                let xy = run(&[
                    (EditKind::Do, vec![(x, None, a.clone())]),
                    (EditKind::Do, vec![(y, None, c.clone())]),
                ]);
                let yx = run(&[
                    (EditKind::Do, vec![(y, None, c.clone())]),
                    (EditKind::Do, vec![(x, None, a.clone())]),
                ]);
                checks += 1;
                if !same(&xy, &yx) {
                    problems.push(format!(
                        "{model}: do on `{x}` and `{y}` do not commute:\n{xy:?}\nvs\n{yx:?}"
                    ));
                }
            }
        }
    }
    (file, checks, problems)
}

#[test]
fn laws_in_the_language() {
    // The same laws written as nested surgery in source, where lowering
    // applies the inner surgery first.
    let src = r#"
fn m() -> (Bool, Bool) {
    let a ~ Bernoulli(0.3);
    let x ~ Bernoulli(if a { 0.9 } else { 0.2 });
    let y ~ Bernoulli(if x { 0.8 } else { 0.1 });
    (a, y)
}
fn twice() -> (Bool, Bool) { let f = do(do(m, x = true), x = false); f() }
fn once() -> (Bool, Bool) { let f = do(m, x = false); f() }
fn xy() -> (Bool, Bool) { let f = do(do(m, x = true), a = false); f() }
fn yx() -> (Bool, Bool) { let f = do(do(m, a = false), x = true); f() }
fn both() -> (Bool, Bool) { let f = do(m, a = false, x = true); f() }
fn cond_do() -> (Bool, Bool) { let f = do(condition(m, x = true), x = false); f() }
fn do_cond() -> (Bool, Bool) { let f = condition(do(m, x = false), x = true); f() }
"#;
    let l = load_text("laws.ppl", src, None).unwrap();
    let t = |m: &str| outcome(Ok(l.infer(m, &enumerate())));
    assert!(
        same(&t("twice"), &t("once")),
        "{:?} vs {:?}",
        t("twice"),
        t("once")
    );
    assert!(same(&t("xy"), &t("yx")));
    assert!(same(&t("xy"), &t("both")));
    assert!(same(&t("cond_do"), &t("once")));
    // And the laws change something: do(x = false) is not the prior.
    let prior = outcome(Ok(l.infer("m", &enumerate())));
    assert!(!same(&prior, &t("once")));
}

#[test]
fn condition_after_do_keeps_the_do() {
    // docs/language.md: "`do` then `condition` on the same site keeps the
    // `do`" — the intervened choice holds its constant and adds no weight
    // (LANGUAGE.md §9), whatever is conditioned on it afterwards. The same
    // for `--do x=… --observe x=…`, which apply `do` then `condition`.
    let src = r#"
fn m() -> Bool {
    let a ~ Bernoulli(0.3);
    let x ~ Bernoulli(if a { 0.9 } else { 0.2 });
    a
}
fn do_cond() -> Bool { let f = condition(do(m, x = false), x = true); f() }
fn once() -> Bool { let f = do(m, x = false); f() }
"#;
    let l = load_text("do_cond.ppl", src, None).unwrap();
    let t = |m: &str| outcome(Ok(l.infer(m, &enumerate())));
    assert!(
        same(&t("do_cond"), &t("once")),
        "{:?} vs {:?}",
        t("do_cond"),
        t("once")
    );
    let f = path_str(&scratch("do_cond.ppl", src));
    let j = tyche_json(&[
        "run",
        &f,
        "--model",
        "m",
        "--do",
        "x=false",
        "--observe",
        "x=true",
        "--format",
        "json",
    ]);
    assert!(close(json_prob(&j, true.into()), 0.3, 1e-12), "{j}");
}

#[test]
fn surgery_of_a_model_that_contains_a_later_surgery() {
    // `outer` (lowered first) intervenes on `user`, which itself runs
    // `do(model, …)`: the inner surgery must exist before the outer one
    // copies `user` (applying them in source order used to copy an empty
    // function and fail with an internal compiler error).
    let src = r#"
fn model() -> Bool { let x ~ Bernoulli(0.5); x }
fn outer() -> Real { let m = do(user, y = true); prob(infer(Enumerate, m), true) }
fn user() -> Bool {
    let y ~ Bernoulli(0.5);
    let d = infer(Enumerate, do(model, x = true));
    y && sample(d)
}
"#;
    let l = load_text("order.ppl", src, None).unwrap_or_else(|e| panic!("{e}"));
    let r = l.infer("outer", &enumerate());
    assert!(close(real(&r.draws[0].value), 1.0, 1e-12));
}

#[test]
fn surgery_of_a_model_inside_itself_does_not_panic() {
    // A surgery reachable from its own model has no finite copy to make:
    // it is a diagnosed error (E0806), not a panic (this used to crash
    // `tyche_ir::surgery::apply`).
    let src = r#"
fn model() -> Real {
    let x ~ Bernoulli(0.5);
    if x { prob(infer(Enumerate, do(model, x = false)), 1.0) } else { 0.0 }
}
"#;
    let f = path_str(&scratch("self_surgery.ppl", src));
    let out = tyche(&["run", &f]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stderr.contains("E0806") && out.stderr.contains("surgery of itself"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------

const SMOKING: &str = r#"
fn model() -> Bool {
    let smoking ~ Bernoulli(0.3);
    let cancer ~ Bernoulli(if smoking { 0.2 } else { 0.05 });
    cancer
}
"#;

#[test]
fn unknown_names_and_wrong_types_are_diagnosed_in_the_language() {
    let cases = [
        (
            "do(model, smokng = true)",
            "no random choice named `smokng` in `model`",
            Some("did you mean `smoking`?"),
        ),
        (
            "condition(model, smokng = true)",
            "no random choice named `smokng` in `model`",
            Some("did you mean `smoking`?"),
        ),
        (
            "counterfactual(model, smokng = true)",
            "no random choice named `smokng` in `model`",
            Some("did you mean `smoking`?"),
        ),
        ("do(model, smoking = 1.0)", "mismatched types", None),
        ("condition(model, cancer = 3)", "mismatched types", None),
        (
            "counterfactual(model, smoking = 0.5)",
            "mismatched types",
            None,
        ),
        ("do(model, smoking[2] = 1.5)", "mismatched types", None),
    ];
    for (i, (surgery, message, help)) in cases.iter().enumerate() {
        let src = format!("{SMOKING}\nfn query() -> Bool {{ let m = {surgery}; m() }}\n");
        let f = path_str(&scratch(&format!("bad_surgery_{i}.ppl"), &src));
        for cmd in ["check", "run"] {
            let out = tyche(&[cmd, &f]);
            assert_eq!(out.status, 1, "tyche {cmd} with {surgery}: {out:?}");
            assert!(out.stderr.contains(message), "{surgery}: {}", out.stderr);
            assert!(
                out.stderr.contains(&f),
                "{surgery}: the message names the file:\n{}",
                out.stderr
            );
            if let Some(h) = help {
                assert!(out.stderr.contains(h), "{surgery}: {}", out.stderr);
            }
            assert!(!out.stderr.contains("panic"), "{}", out.stderr);
        }
    }
}

#[test]
fn unknown_names_and_wrong_types_are_diagnosed_on_the_command_line() {
    let f = path_str(&scratch("smoking.ppl", SMOKING));
    let cases: [(&str, &str, &str); 8] = [
        ("--do", "smokng=true", "no random choice named `smokng`"),
        (
            "--observe",
            "smokng=true",
            "no random choice named `smokng`",
        ),
        (
            "--counterfactual",
            "smokng=true",
            "no random choice named `smokng`",
        ),
        ("--do", "smoking=1.5", "mismatched types"),
        ("--observe", "cancer=3", "mismatched types"),
        ("--counterfactual", "smoking=\"yes\"", "mismatched types"),
        ("--do", "smoking[1]=[true]", "mismatched types"),
        ("--do", "cancr[0]=true", "did you mean `cancer`?"),
    ];
    for (flag, edit, message) in cases {
        for cmd in ["run", "graph"] {
            let out = tyche(&[cmd, &f, flag, edit]);
            assert_eq!(out.status, 1, "tyche {cmd} {flag} {edit}: {out:?}");
            assert!(
                out.stderr.contains(message),
                "tyche {cmd} {flag} {edit}:\n{}",
                out.stderr
            );
        }
    }
    // Malformed arguments are usage errors (exit 2), not diagnosed ones.
    for edit in ["smoking", "smoking[x]=true", "1x=true", "smoking=maybe"] {
        let out = tyche(&["run", &f, "--do", edit]);
        assert_eq!(out.status, 2, "--do {edit}: {out:?}");
    }
}

// ---------------------------------------------------------------------
// tyche graph
// ---------------------------------------------------------------------

/// A parsed DOT graph: node id → label and attributes; edges with their
/// style.
struct Dot {
    nodes: BTreeMap<String, (String, String)>,
    edges: Vec<(String, String, bool)>,
}

impl Dot {
    fn parse(text: &str) -> Dot {
        let mut nodes = BTreeMap::new();
        let mut edges = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some((lhs, rest)) = line.split_once(" -> ") {
                let (to, attrs) = rest
                    .split_once(' ')
                    .unwrap_or((rest.trim_end_matches(';'), ""));
                edges.push((
                    lhs.to_string(),
                    to.trim_end_matches(';').to_string(),
                    attrs.contains("dashed"),
                ));
            } else if let Some((id, rest)) = line.split_once(" [label=\"") {
                let (label, attrs) = rest.split_once("\", ").expect("label then attributes");
                nodes.insert(
                    id.to_string(),
                    (label.replace("\\n", "\n"), attrs.to_string()),
                );
            }
        }
        Dot { nodes, edges }
    }

    fn id(&self, label: &str) -> &str {
        self.nodes
            .iter()
            .find(|(_, (l, _))| l == label || l.split('\n').next() == Some(label))
            .map(|(id, _)| id.as_str())
            .unwrap_or_else(|| panic!("no node labelled {label}: {:?}", self.nodes))
    }

    fn label(&self, id: &str) -> String {
        self.nodes[id].0.clone()
    }

    /// The parents of a node: the first line of their labels, and
    /// whether the edge is a control (dashed) one.
    fn parents(&self, label: &str) -> Vec<(String, bool)> {
        let id = self.id(label);
        let first = |l: String| l.split('\n').next().unwrap_or("").to_string();
        let mut v: Vec<(String, bool)> = self
            .edges
            .iter()
            .filter(|e| e.1 == id)
            .map(|e| (first(self.label(&e.0)), e.2))
            .collect();
        v.sort();
        v
    }
}

fn graph(args: &[&str]) -> Dot {
    let mut all = vec!["graph"];
    all.extend_from_slice(args);
    let out = tyche(&all);
    assert_eq!(out.status, 0, "tyche {}: {}", all.join(" "), out.stderr);
    assert!(out.stdout.starts_with("digraph "), "{}", out.stdout);
    Dot::parse(&out.stdout)
}

#[test]
fn graph_shows_the_structure_and_the_cut() {
    let f = path_str(&example("frontdoor.ppl"));
    let g = graph(&[&f, "--model", "cancer"]);
    let p = |g: &Dot, n: &str| g.parents(n).into_iter().map(|(l, _)| l).collect::<Vec<_>>();
    assert_eq!(p(&g, "smoking"), vec!["u"]);
    assert_eq!(p(&g, "tar"), vec!["smoking"]);
    assert_eq!(p(&g, "cancer"), vec!["tar", "u"]);
    assert_eq!(p(&g, "return"), vec!["cancer"]);
    assert!(g.nodes[g.id("u")].1.contains("ellipse"));

    // do(smoking): a box holding the value, the wire from u is cut, its
    // child still depends on it.
    let g = graph(&[&f, "--model", "cancer", "--do", "smoking=true"]);
    let id = g.id("smoking := true");
    assert!(g.nodes[id].1.contains("shape=box"), "{:?}", g.nodes[id]);
    assert!(g.parents("smoking := true").is_empty());
    assert_eq!(p(&g, "tar"), vec!["smoking := true"]);
    assert_eq!(p(&g, "cancer"), vec!["tar", "u"]);

    // condition(tar): shaded, keeps its parents.
    let g = graph(&[&f, "--model", "cancer", "--observe", "tar=false"]);
    let id = g.id("tar = false");
    assert!(g.nodes[id].1.contains("filled"), "{:?}", g.nodes[id]);
    assert_eq!(p(&g, "tar = false"), vec!["smoking"]);

    // Nested inference is a cluster of its own.
    let out = tyche(&["graph", &f]);
    assert_eq!(out.status, 0);
    assert!(
        out.stdout.contains("subgraph cluster_1") && out.stdout.contains("infer(do(cancer))"),
        "{}",
        out.stdout
    );
}

#[test]
fn graph_shows_control_dependence_and_per_instance_edits() {
    let f = path_str(&scratch("recursion_graph.ppl", RECURSION));
    // The coin decides whether the next coin is tossed: a dashed self-edge.
    let g = graph(&[&f]);
    assert_eq!(g.parents("again"), vec![("again".to_string(), true)]);
    assert_eq!(g.parents("return"), vec![("again".to_string(), false)]);
    // do(again) cuts it.
    let g = graph(&[&f, "--do", "again=false"]);
    assert!(g.parents("again := false").is_empty());
    // do(again[2]) is a partial edit: the node keeps its edges.
    let g = graph(&[&f, "--do", "again[2]=false"]);
    let label = g.label(g.id("again"));
    assert!(label.contains("[2] := false"), "{label}");
    assert_eq!(g.parents("again"), vec![("again".to_string(), true)]);

    // Data flow through map, captures and an observation.
    let src = r#"
fn model() -> Int {
    let w ~ Normal(0.0, 1.0);
    let zs = map([1.0, 2.0], |s| { let z ~ Normal(w * s, 1.0); z });
    let k = if w > 0.0 { 1 } else { 2 };
    observe(Normal(zs[0], 1.0), 0.5);
    if w > 1.0 { let q ~ Normal(0.0, 1.0); q; }
    k
}
"#;
    let f = path_str(&scratch("flow_graph.ppl", src));
    let g = graph(&[&f]);
    assert_eq!(g.parents("z"), vec![("w".to_string(), false)]);
    let obs = g
        .nodes
        .values()
        .find(|(l, _)| l.starts_with("observe@"))
        .expect("an observe node")
        .0
        .clone();
    assert_eq!(g.parents(&obs), vec![("z".to_string(), false)]);
    assert_eq!(g.parents("q"), vec![("w".to_string(), true)]);
    assert_eq!(g.parents("return"), vec![("w".to_string(), false)]);

    // -o writes the format its extension names: DOT text for `.dot`;
    // `.svg`/`.png` through Graphviz, whose absence or failure is an
    // error (exit 1) that leaves no file.
    let out_path =
        std::env::temp_dir().join(format!("tyche-causal-graph-{}.dot", std::process::id()));
    let o = path_str(&out_path);
    let out = tyche(&["graph", &f, "-o", &o]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let written = std::fs::read_to_string(&out_path).expect("the DOT file");
    assert!(written.starts_with("digraph "));
    assert!(out.stdout.is_empty());
    assert!(!out_path.with_extension("svg").exists());
    let has_dot = std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    for ext in ["svg", "png"] {
        let picture = out_path.with_extension(ext);
        let out = tyche(&["graph", &f, "-o", &path_str(&picture)]);
        if has_dot {
            assert_eq!(out.status, 0, "{}", out.stderr);
            let bytes = std::fs::read(&picture).expect("the rendered file");
            if ext == "svg" {
                assert!(String::from_utf8_lossy(&bytes).contains("<svg"));
            } else {
                assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
            }
        } else {
            assert_eq!(out.status, 1, "{}", out.stderr);
            assert!(out.stderr.contains("Graphviz"), "{}", out.stderr);
            assert!(!picture.exists());
        }
        let _ = std::fs::remove_file(&picture);
    }
    // An extension that names no format is a usage error.
    let out = tyche(&[
        "graph",
        &f,
        "-o",
        &path_str(&out_path.with_extension("txt")),
    ]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    let _ = std::fs::remove_file(&out_path);
}

#[test]
fn graph_of_a_counterfactual_is_a_twin_network() {
    let f = path_str(&example("linear_gaussian.ppl"));
    let out = tyche(&["graph", &f]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("label=\"counterfactual world\""),
        "{}",
        out.stdout
    );
    let g = Dot::parse(&out.stdout);
    // The factual world: x and y observed (shaded), z latent.
    assert!(g.nodes[g.id("x = 1.0")].1.contains("filled"));
    assert_eq!(
        g.parents("y = 5.0"),
        vec![("x = 1.0".to_string(), false), ("z".to_string(), false)]
    );
    // The counterfactual world: x := 0 cut, y from x and its z; the
    // return value is the counterfactual y; choices share their noise
    // with their factual twins (dotted edges), except the intervened x.
    assert!(g.parents("x := 0.0").is_empty());
    let ret = g.id("return");
    let cf_y = g
        .edges
        .iter()
        .find(|e| e.1 == ret)
        .map(|e| e.0.clone())
        .expect("an edge into return");
    assert_eq!(g.label(&cf_y), "y");
    let noise: Vec<(String, String)> = out
        .stdout
        .lines()
        .filter(|l| l.contains("style=dotted"))
        .filter_map(|l| {
            l.trim()
                .split_once(" -> ")
                .map(|(a, b)| (g.label(a), g.label(b.split(' ').next().unwrap_or(""))))
        })
        .collect();
    assert_eq!(noise.len(), 2, "{noise:?}");
    assert!(
        noise.contains(&("y = 5.0".to_string(), "y".to_string()))
            && noise.contains(&("z".to_string(), "z".to_string())),
        "{noise:?}"
    );
    // The same question from the command line draws the same graph.
    let cli = tyche(&[
        "graph",
        &f,
        "--model",
        "structural",
        "--observe",
        "x=1.0",
        "--observe",
        "y=5.0",
        "--counterfactual",
        "x=0.0",
    ]);
    assert_eq!(cli.status, 0, "{}", cli.stderr);
    let strip = |t: &str| {
        t.lines()
            .filter(|l| !l.contains("digraph") && !l.contains("label=\"dependencies"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&cli.stdout), strip(&out.stdout));
}

#[test]
fn graph_of_every_example_builds() {
    for path in programs_recursive(&root().join("examples")) {
        let f = path_str(&path);
        let mut args = vec!["graph", &f];
        let data = path.with_extension("data.json");
        let d = path_str(&data);
        if data.exists() {
            args.extend(["--data", &d]);
        }
        let out = tyche(&args);
        assert_eq!(out.status, 0, "tyche graph {f}: {}", out.stderr);
        let g = Dot::parse(&out.stdout);
        assert!(
            g.nodes.values().any(|(l, _)| l == "return"),
            "{f}:\n{}",
            out.stdout
        );
    }
}
