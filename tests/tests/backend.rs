//! `--backend interp|jit|auto`: MH on compiled density kernels, and SMC on
//! the model cut at its observations, must give the same results as on the
//! interpreter for the same seed.
//!
//! The native paths draw the same random numbers in the same order as the
//! interpreted ones, so MH chains are equal as long as no accept decision
//! falls within the rounding difference of the two densities (~1e-13
//! relative), and SMC populations are equal with weights equal to
//! rounding: we require every number of the JSON output to agree to 1e-9
//! relative, acceptance rates and ESS included.

mod common;

use common::{args_without_method, par_map, programs_recursive, rel, report, root, tyche};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// `tyche run` with `method` (`mh` or `smc`) on `path` (with its data file
/// and the `// args:` edits), on the given backend; the JSON output, or
/// the failure.
fn run_method(path: &Path, method: &str, backend: &str, extra: &[&str]) -> Result<Json, String> {
    let mut args: Vec<String> = vec![
        "run".into(),
        path.display().to_string(),
        "--seed".into(),
        "5".into(),
        "--format".into(),
        "json".into(),
        "--backend".into(),
        backend.into(),
    ];
    // Keep the model's own edits and data; replace the method.
    args.extend(args_without_method(path));
    let size = if method == "smc" {
        "--particles"
    } else {
        "--samples"
    };
    args.extend(["--method", method, size, "400"].map(String::from));
    if method == "mh" {
        args.extend(["--burn", "50"].map(String::from));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = tyche(&args, &[]);
    if out.status != 0 {
        return Err(format!("exit {}: {}", out.status, out.stderr));
    }
    serde_json::from_str(&out.stdout).map_err(|e| format!("bad JSON ({e}): {}", out.stdout))
}

/// Where two JSON outputs differ (numbers compared to 1e-9 relative),
/// ignoring the `backend` key.
fn differences(path: &str, a: &Json, b: &Json, out: &mut Vec<String>) {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            if (x - y).abs() > 1e-9 * x.abs().max(1.0) {
                out.push(format!("{path}: {x} vs {y}"));
            }
        }
        (Json::Object(x), Json::Object(y)) => {
            for (k, v) in x {
                if k == "backend" {
                    continue;
                }
                match y.get(k) {
                    Some(w) => differences(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} vs {b}")),
    }
}

/// Every example and valid corpus program that compiles runs MH with the
/// same result on both backends; `auto` picks the JIT for them.
#[test]
fn jit_and_interpreter_chains_agree_on_every_static_program() {
    agree_on_every_static_program("mh");
}

/// The same for SMC.
#[test]
fn jit_and_interpreter_populations_agree_on_every_static_program() {
    agree_on_every_static_program("smc");
}

fn agree_on_every_static_program(method: &str) {
    let mut files = programs_recursive(&root().join("examples"));
    files.extend(programs_recursive(&root().join("tests/corpus/valid")));
    let results = par_map(&files, |path| {
        let Ok(auto) = run_method(path, method, "auto", &[]) else {
            // Programs MH cannot run at all (no Real choice to move, a
            // discrete-only model) are other tests' business.
            return (rel(path), None, Vec::new());
        };
        if auto["backend"] != "jit" {
            return (rel(path), None, Vec::new());
        }
        let mut problems = Vec::new();
        match (
            run_method(path, method, "interp", &[]),
            run_method(path, method, "jit", &[]),
        ) {
            (Ok(interp), Ok(jit)) => {
                if interp["backend"] != "interpreter" || jit["backend"] != "jit" {
                    problems.push(format!(
                        "backends reported: {} and {}",
                        interp["backend"], jit["backend"]
                    ));
                }
                differences("", &interp, &jit, &mut problems);
                differences("", &jit, &auto, &mut problems);
            }
            (a, b) => problems.push(format!("{:?} / {:?}", a.err(), b.err())),
        }
        (rel(path), Some(()), problems)
    });
    let compiled: Vec<String> = results
        .iter()
        .filter(|(_, c, _)| c.is_some())
        .map(|(p, _, _)| p.clone())
        .collect();
    // linear_regression, eight_schools, state_space, causal/linear_gaussian,
    // mh_options, … : if fewer compile, extraction has regressed.
    assert!(
        compiled.len() >= 5,
        "only {} programs ran on the JIT: {compiled:?}",
        compiled.len()
    );
    // Discrete choices run in SMC's step programs and in MH's expression
    // programs (their supports cannot change: rows of positive tables).
    let discrete: &[&str] = match method {
        "smc" => &["hmm_discrete.ppl", "dice_enumerate.ppl"],
        _ => &["hmm_discrete.ppl"],
    };
    {
        for p in discrete {
            assert!(
                compiled.iter().any(|c| c.ends_with(p)),
                "{p} did not run on the JIT: {compiled:?}"
            );
        }
    }
    let problems: Vec<String> = results
        .into_iter()
        .flat_map(|(p, _, probs)| probs.into_iter().map(move |m| format!("{p}: {m}")))
        .collect();
    report(&format!("{method} backend"), compiled.len(), problems);
}

/// A fresh directory for one test's files (removed by the test).
fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `src` under `method` with `extra` arguments and per-draw traces
/// (`--output`, in `dir`) on the interpreter and on `native` (`jit` or
/// `auto`), and requires the same JSON (but for the backend, which must
/// be `"jit"` for the native run) and the same CSV draws.
fn assert_backends_agree(dir: &Path, src: &Path, method: &str, native: &str, extra: &[&str]) {
    let mut outs = Vec::new();
    for backend in ["interp", native] {
        let csv = dir.join(format!("{backend}.csv"));
        let csv_arg = csv.display().to_string();
        let mut args = extra.to_vec();
        args.extend(["--output", csv_arg.as_str()]);
        let json = run_method(src, method, backend, &args)
            .unwrap_or_else(|e| panic!("{backend} {extra:?}: {e}"));
        outs.push((json, std::fs::read_to_string(&csv).expect("csv")));
    }
    assert_eq!(outs[0].0["backend"], "interpreter", "{extra:?}");
    assert_eq!(outs[1].0["backend"], "jit", "{extra:?}");
    let mut problems = Vec::new();
    differences("", &outs[0].0, &outs[1].0, &mut problems);
    assert!(problems.is_empty(), "{extra:?}: {problems:?}");
    assert_eq!(outs[0].1, outs[1].1, "{extra:?}: CSV draws differ");
    assert!(outs[0].1.lines().count() > 100, "{extra:?}: too few draws");
}

/// Several chains, per-draw traces in the CSV, and `--do`/`--observe`
/// surgery: the same on both backends.
#[test]
fn chains_traces_and_surgery_agree() {
    let dir = scratch_dir("tyche-backend");
    let src = dir.join("m.ppl");
    std::fs::write(
        &src,
        "fn m() -> (Real, Real) {\n  let mu ~ Normal(0.0, 2.0);\n  let s ~ Gamma(2.0, 2.0);\n  let z ~ Normal(mu, s);\n  observe(Normal(z, 0.5), 1.3);\n  observe(Normal(mu, 1.0), 0.4);\n  (mu, z)\n}\n",
    )
    .expect("write");
    for (method, extra) in [
        ("mh", vec!["--model", "m", "--chains", "3"]),
        ("mh", vec!["--model", "m", "--do", "s=0.7"]),
        ("mh", vec!["--model", "m", "--observe", "z=1.0"]),
        ("smc", vec!["--model", "m"]),
        ("smc", vec!["--model", "m", "--resampler", "residual"]),
        ("smc", vec!["--model", "m", "--ess-threshold", "0.5"]),
        ("smc", vec!["--model", "m", "--observe", "z=1.0"]),
        ("smc", vec!["--model", "m", "--do", "s=0.7"]),
    ] {
        assert_backends_agree(&dir, &src, method, "jit", &extra);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A static density whose return value cannot be traced (a sort by
/// `filter` on random comparisons, as `bench/models/gmm.ppl`): MH runs on
/// the kernel under `auto` and replays each kept state's value on the
/// interpreter, with the interpreter's chains, draws and traces; SMC keeps
/// the interpreter (and `--backend jit` says why).
#[test]
fn mh_replays_a_return_value_it_cannot_trace() {
    let dir = scratch_dir("tyche-backend-sort");
    let src = dir.join("gmm.ppl");
    std::fs::write(
        &src,
        "fn insert(xs: [Real], v: Real) -> [Real] {\n  let below = filter(xs, |u| u <= v);\n  let above = filter(xs, |u| u > v);\n  concat(concat(below, [v]), above)\n}\n\
         fn model() -> [Real] {\n  let mus = repeat(3, || sample(Normal(0.0, 10.0)));\n  for y in [-4.1, -3.7, -4.4, 0.2, -0.3, 0.5, 3.9, 4.2, 4.6] {\n    factor(log_sum_exp(map(range(0, 3), |k| log(1.0 / 3.0) + log_prob(Normal(mus[k], 1.0), y))));\n  }\n  fold(mus, [], |acc, v| insert(acc, v))\n}\n",
    )
    .expect("write");
    for extra in [vec![], vec!["--chains", "3"], vec!["--thin", "3"]] {
        assert_backends_agree(&dir, &src, "mh", "auto", &extra);
    }
    let smc = run_method(&src, "smc", "auto", &[]).expect("smc");
    assert_eq!(smc["backend"], "interpreter");
    let refused = run_method(&src, "smc", "jit", &[]).expect_err("refused");
    assert!(refused.contains("E0751"), "{refused}");
    assert!(refused.contains("filter predicate"), "{refused}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--backend jit` where the JIT cannot serve is an error with a reason;
/// `auto` interprets instead.
#[test]
fn jit_refusals_are_diagnostics() {
    let examples = root().join("examples");
    let arg = |p: &str| examples.join(p).display().to_string();
    // Importance sampling does not run on kernels yet.
    let smc = tyche(
        &[
            "run".into(),
            arg("coin.ppl"),
            "--method".into(),
            "importance".into(),
            "--backend".into(),
            "jit".into(),
        ],
        &[],
    );
    assert_eq!(smc.status, 1, "{}", smc.stderr);
    assert!(smc.stderr.contains("E0750"), "{}", smc.stderr);
    assert!(smc.stderr.contains("coin.ppl:"), "{}", smc.stderr);
    // The sprinkler network's `if cloudy { 0.1 } else { 0.5 }` is traced as
    // a select, but then a Bernoulli's parameter depends on another choice,
    // whose support MH on native code cannot yet prove fixed: refused.
    let mh = |backend: &str| {
        tyche(
            &[
                "run".into(),
                arg("sprinkler.ppl"),
                "--method".into(),
                "mh".into(),
                "--samples".into(),
                "100".into(),
                "--format".into(),
                "json".into(),
                "--backend".into(),
                backend.into(),
            ],
            &[],
        )
    };
    let refused = mh("jit");
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("E0751"), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("the support of this Bernoulli choice can change"),
        "{}",
        refused.stderr
    );
    let auto = mh("auto");
    assert_eq!(auto.status, 0, "{}", auto.stderr);
    assert!(
        auto.stdout.contains("\"backend\":\"interpreter\""),
        "{}",
        auto.stdout
    );
}

/// MH on discrete choices runs natively when no choice's support can
/// change (rows of a table of positive weights) — the same chain, draws
/// and traces as the interpreter's — and keeps the interpreter when one can
/// (a zero weight: moving `z0` can leave `z1` with probability zero, and
/// the interpreted kernel would redraw it).
#[test]
fn mh_on_discrete_choices_runs_natively_only_with_fixed_supports() {
    let dir = scratch_dir("tyche-backend-discrete");
    let model = |trans: &str| {
        format!(
            "let trans = {trans};\n\
             fn model() -> (Int, Bool) {{\n  let z0 ~ Categorical([0.5, 0.3, 0.2]);\n  let z1 ~ Categorical(trans[z0]);\n  \
             let b ~ Bernoulli([0.2, 0.7, 0.4][z1]);\n  let k ~ Poisson([1.0, 2.5, 4.0][z1]);\n  \
             observe(Normal(real(z1) + real(k), 1.0), 3.2);\n  observe(Bernoulli(0.9), b);\n  (z1 + k, b)\n}}\n"
        )
    };
    let fixed = dir.join("fixed.ppl");
    std::fs::write(
        &fixed,
        model("[[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]"),
    )
    .expect("write");
    assert_backends_agree(&dir, &fixed, "mh", "auto", &[]);

    let shrinking = dir.join("shrinking.ppl");
    std::fs::write(
        &shrinking,
        model("[[0.6, 0.4, 0.0], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]"),
    )
    .expect("write");
    let auto = run_method(&shrinking, "mh", "auto", &[]).expect("auto");
    assert_eq!(auto["backend"], "interpreter");
    let refused = run_method(&shrinking, "mh", "jit", &[]).expect_err("refused");
    assert!(refused.contains("E0751"), "{refused}");
    assert!(
        refused.contains("support of this Categorical choice"),
        "{refused}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A model returning its whole path (the `scan` output): native SMC moves
/// each state to the particles' shared histories once no later step reads
/// it, so a particle carries two values however long the path, and the
/// populations, draws and traces are the interpreter's.
#[test]
fn smc_on_a_returned_path_keeps_histories_out_of_the_state() {
    let dir = scratch_dir("tyche-backend-path");
    let src = dir.join("path.ppl");
    let ys: Vec<String> = (0..40)
        .map(|t| format!("{:.2}", ((t * 7) % 11) as f64 / 4.0 - 1.2))
        .collect();
    std::fs::write(
        &src,
        format!(
            "let ys = [{}];\nlet trans = [[0.1, 0.4, 0.5], [0.2, 0.6, 0.2], [0.15, 0.7, 0.15]];\n\
             fn model() -> [Int] {{\n  let z0 ~ Categorical([0.3, 0.3, 0.4]);\n  \
             scan(ys, z0, |z, y| {{\n    let zn ~ Categorical(trans[z]);\n    \
             observe(Normal([-1.0, 1.0, 0.0][zn], 1.0), y);\n    zn\n  }})\n}}\n",
            ys.join(", ")
        ),
    )
    .expect("write");
    let steps = tyche(
        &[
            "check".into(),
            src.display().to_string(),
            "--emit".into(),
            "steps".into(),
        ],
        &[],
    );
    assert_eq!(steps.status, 0, "{}", steps.stderr);
    assert!(
        steps
            .stdout
            .starts_with("steps(41 segments; state: 2 slots; history: 40;"),
        "{}",
        steps.stdout.lines().next().unwrap_or_default()
    );
    for extra in [vec![], vec!["--resampler", "multinomial"]] {
        assert_backends_agree(&dir, &src, "smc", "jit", &extra);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
