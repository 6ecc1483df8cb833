//! The program corpus: `tests/corpus/invalid/*.ppl` must be rejected with
//! exactly the diagnostics in `NAME.stderr` (and exit status 1, or the
//! `// status:` directive), `tests/corpus/valid/*.ppl` must run and print
//! exactly `NAME.out` for `tyche run FILE --format json --seed 7` (the
//! snapshot holds that JSON pretty-printed, one field per line, so that a
//! difference reads as a line diff; serde_json's shortest round-trip
//! numbers make this lossless), and generated pathological inputs
//! (100,000 nested parentheses, …) must be rejected cleanly. Each family is one `#[test]` that reports every
//! mismatch at once.
//!
//! A program's leading comment lines may hold directives:
//! `// args: [run|check] EXTRA…` (the subcommand, default `check` for
//! invalid programs and `run` for valid ones, then arguments placed after
//! the file; `{dir}` is the program's directory) and `// status: N`.
//!
//! Regenerate every snapshot with
//! `UPDATE_EXPECT=1 cargo test -p tyche-tests --test corpus`, then review
//! the diff by eye: each message must make sense to a user and point at
//! the right place.
//!
//! The exact-answer programs are also checked numerically (see the
//! `exact_*` tests), so the corpus checks meaning, not only bytes.

mod common;

use common::{
    check_snapshot, directives, json_contract_problems, par_map, programs, rel, report, root, tyche,
};
use std::path::{Path, PathBuf};

fn corpus(family: &str) -> PathBuf {
    root().join("tests").join("corpus").join(family)
}

/// Snapshot files whose program is gone are errors (or are deleted when
/// updating).
fn stale_snapshots(dir: &Path, ext: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("corpus directory")
        .filter_map(Result::ok)
    {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == ext) && !p.with_extension("ppl").exists() {
            if common::updating() {
                let _ = std::fs::remove_file(&p);
            } else {
                problems.push(format!("{}: snapshot without a program", rel(&p)));
            }
        }
    }
    problems
}

#[test]
fn invalid_programs() {
    let dir = corpus("invalid");
    let files = programs(&dir);
    assert!(
        files.len() >= 45,
        "expected at least 45 invalid programs, found {}",
        files.len()
    );
    let results = par_map(&files, |path| {
        let d = directives(path);
        let mut args = vec![
            d.command.clone().unwrap_or_else(|| "check".into()),
            path.display().to_string(),
        ];
        args.extend(d.args.iter().cloned());
        let out = tyche(&args, &[]);
        let mut problems = Vec::new();
        let want = d.status.unwrap_or(1);
        if out.status != want {
            problems.push(format!("exit status {} (expected {want})", out.status));
        }
        if out.status == 1 && !out.stdout.is_empty() {
            problems.push(format!(
                "a failed command printed to stdout:\n{}",
                out.stdout
            ));
        }
        if out.stderr.is_empty() {
            problems.push("no diagnostic on stderr".into());
        }
        if let Err(e) = check_snapshot(&path.with_extension("stderr"), &out.stderr) {
            problems.push(e);
        }
        (rel(path), problems)
    });
    let mut problems: Vec<String> = results
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(name, p)| format!("── {name}\n{}", p.join("\n")))
        .collect();
    problems.extend(stale_snapshots(&dir, "stderr"));
    report("invalid-program", files.len(), problems);
}

#[test]
fn valid_programs() {
    let dir = corpus("valid");
    let files = programs(&dir);
    assert!(
        files.len() >= 25,
        "expected at least 25 valid programs, found {}",
        files.len()
    );
    let results = par_map(&files, |path| {
        let d = directives(path);
        let mut args = vec![
            d.command.clone().unwrap_or_else(|| "run".into()),
            path.display().to_string(),
            "--format".into(),
            "json".into(),
            "--seed".into(),
            "7".into(),
        ];
        args.extend(d.args.iter().cloned());
        let out = tyche(&args, &[]);
        let mut problems = Vec::new();
        if out.status != 0 {
            problems.push(format!(
                "exit status {} (expected 0); stderr:\n{}",
                out.status, out.stderr
            ));
        } else {
            problems.extend(json_contract_problems(&out.stdout));
        }
        if out.stdout.trim_end().lines().count() > 1 {
            problems.push("--format json printed more than one line".into());
        }
        if let Err(e) = check_snapshot(
            &path.with_extension("out"),
            &common::pretty_json(&out.stdout),
        ) {
            problems.push(e);
        }
        (rel(path), problems)
    });
    let mut problems: Vec<String> = results
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(name, p)| format!("── {name}\n{}", p.join("\n")))
        .collect();
    problems.extend(stale_snapshots(&dir, "out"));
    report("valid-program", files.len(), problems);
}

/// Running the same program twice with the same seed gives the same bytes.
#[test]
fn same_seed_same_output() {
    let dir = corpus("valid");
    let mut problems = Vec::new();
    for name in [
        "continuous_dists",
        "state_space",
        "mh_options",
        "sample_named",
    ] {
        let path = dir.join(format!("{name}.ppl"));
        let d = directives(&path);
        let mut args = vec![
            "run".to_string(),
            path.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(["--seed".into(), "11".into()]);
        args.extend(d.args.iter().cloned());
        let (a, b) = (tyche(&args, &[]), tyche(&args, &[]));
        if a != b {
            problems.push(format!(
                "── {name}: two runs with --seed 11 differ:\n{}",
                common::diff(&a.stdout, &b.stdout)
            ));
        }
    }
    report("determinism", 4, problems);
}

// ───────────────────────── generated inputs ─────────────────────────

/// A program generated in the test (too large to commit), checked with
/// `tyche check`.
struct Generated {
    name: &'static str,
    text: String,
    /// Compare stderr with `tests/corpus/generated/NAME.stderr`; when
    /// false, only the status and `code` are checked (the excerpt would be
    /// one enormous line).
    snapshot: bool,
    /// The diagnostic code that must appear (for status 1).
    code: &'static str,
    status: u8,
}

/// `n` copies of `unit`, broken into lines of `per_line` copies.
fn lines_of(unit: &str, n: usize, per_line: usize) -> String {
    let mut s = String::with_capacity(unit.len() * n + n / per_line.max(1) + 1);
    for i in 0..n {
        s.push_str(unit);
        if per_line > 0 && (i + 1) % per_line == 0 {
            s.push('\n');
        }
    }
    s
}

fn generated_cases() -> Vec<Generated> {
    const N: usize = 100_000;
    let body = |e: String| format!("fn model() -> Int {{\n{e}\n}}\n");
    vec![
        Generated {
            name: "deep_parens",
            text: body(format!(
                "{}1{}",
                lines_of("(", N, 100),
                lines_of(")", N, 100)
            )),
            snapshot: true,
            code: "E0203",
            status: 1,
        },
        Generated {
            name: "deep_parens_one_line",
            text: body(format!("{}1{}", "(".repeat(N), ")".repeat(N))),
            snapshot: false,
            code: "E0203",
            status: 1,
        },
        Generated {
            name: "deep_unary_minus",
            text: body(format!("{}1", lines_of("-", N, 100))),
            snapshot: true,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "deep_unary_minus_one_line",
            text: body(format!("{}1", "-".repeat(N))),
            snapshot: false,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "long_sum",
            text: body(format!("{}1", lines_of("1 + ", N - 1, 25))),
            snapshot: true,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "long_sum_one_line",
            text: body(format!("{}1", "1 + ".repeat(N - 1))),
            snapshot: false,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "deep_not",
            text: format!("fn model() -> Bool {{\n{}true\n}}\n", lines_of("!", N, 100)),
            snapshot: true,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "deep_brackets",
            text: body(format!(
                "{}1{}[0]",
                lines_of("[", N, 100),
                lines_of("]", N, 100)
            )),
            snapshot: true,
            code: "E0203",
            status: 1,
        },
        Generated {
            name: "deep_blocks",
            text: body(format!(
                "{}1{}",
                lines_of("{", N, 100),
                lines_of("}", N, 100)
            )),
            snapshot: true,
            code: "E0203",
            status: 1,
        },
        Generated {
            name: "deep_lambdas",
            text: format!(
                "fn model() -> Int {{\n{}1;\n0\n}}\n",
                lines_of("|x| ", N, 25)
            ),
            snapshot: true,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "deep_power",
            text: format!(
                "fn model() -> Real {{\n{}2.0\n}}\n",
                lines_of("2.0 ^ ", N, 20)
            ),
            snapshot: true,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "long_else_if_chain",
            text: body(format!("{}{{ 0 }}", lines_of("if false { 1 } else ", N, 4))),
            snapshot: true,
            code: "E0204",
            status: 1,
        },
        Generated {
            name: "many_syntax_errors",
            text: format!(
                "fn model() -> Int {{\n{}0\n}}\n",
                lines_of("let = ;\n", N, 0)
            ),
            snapshot: true,
            code: "E0209",
            status: 1,
        },
        Generated {
            name: "unclosed_parens",
            text: body(lines_of("(", 200, 50)),
            snapshot: true,
            code: "E0201",
            status: 1,
        },
    ]
}

#[test]
fn generated_programs() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tyche-generated");
    std::fs::create_dir_all(&tmp).expect("create temporary directory");
    let snap_dir = corpus("generated");
    let cases = generated_cases();
    let tmp_prefix = format!("{}/", tmp.display());
    let results = par_map(&cases, |case| {
        let path = tmp.join(format!("{}.ppl", case.name));
        std::fs::write(&path, &case.text).expect("write generated program");
        let started = std::time::Instant::now();
        let out = tyche(
            &["check".into(), path.display().to_string()],
            &[(tmp_prefix.as_str(), "<generated>/")],
        );
        let elapsed = started.elapsed();
        let mut problems = Vec::new();
        if out.status != case.status {
            problems.push(format!(
                "exit status {} (expected {})",
                out.status, case.status
            ));
        }
        if case.status == 1 && !out.stderr.contains(&format!("[{}]", case.code)) {
            let head: String = out.stderr.chars().take(2000).collect();
            problems.push(format!(
                "expected a diagnostic {}; stderr begins:\n{head}",
                case.code
            ));
        }
        if elapsed > std::time::Duration::from_secs(20) {
            problems.push(format!("took {elapsed:?} (more than 20 s)"));
        }
        if case.snapshot {
            if let Err(e) =
                check_snapshot(&snap_dir.join(format!("{}.stderr", case.name)), &out.stderr)
            {
                problems.push(e);
            }
        }
        (case.name, problems)
    });
    let problems: Vec<String> = results
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(name, p)| format!("── generated {name}\n{}", p.join("\n")))
        .collect();
    report("generated-program", cases.len(), problems);
}

/// Large but reasonable programs are accepted, and quickly.
#[test]
fn generated_large_valid_programs() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tyche-generated");
    std::fs::create_dir_all(&tmp).expect("create temporary directory");
    // 3,000 functions, each calling the previous one.
    let mut chain = String::from("fn f0(x: Int) -> Int { x }\n");
    for i in 1..3000 {
        chain.push_str(&format!("fn f{i}(x: Int) -> Int {{ f{}(x) + 1 }}\n", i - 1));
    }
    chain.push_str("fn model() -> Int { f2999(0) }\n");
    // A 900-term sum and 200 nested parentheses stay below the limits.
    let sum = format!("fn model() -> Int {{ {}1 }}\n", "1 + ".repeat(899));
    let parens = format!(
        "fn model() -> Int {{ {}1{} }}\n",
        "(".repeat(200),
        ")".repeat(200)
    );
    // A long array literal.
    let array = format!(
        "let xs = [{}];\nfn model() -> Int {{ len(xs) }}\n",
        vec!["1.5"; 20_000].join(", ")
    );
    let mut problems = Vec::new();
    for (name, text, command) in [
        ("chain", chain, "run"),
        ("sum900", sum, "run"),
        ("parens200", parens, "run"),
        ("array20000", array, "run"),
    ] {
        let path = tmp.join(format!("{name}.ppl"));
        std::fs::write(&path, text).expect("write generated program");
        let started = std::time::Instant::now();
        let out = tyche(
            &[
                command.into(),
                path.display().to_string(),
                "--format".into(),
                "json".into(),
            ],
            &[],
        );
        if out.status != 0 {
            problems.push(format!("── {name}: status {}:\n{}", out.status, out.stderr));
        } else if let Some(p) = json_contract_problems(&out.stdout).first() {
            problems.push(format!("── {name}: {p}"));
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            problems.push(format!("── {name}: took {:?}", started.elapsed()));
        }
    }
    report("large-program", 4, problems);
}

// ───────────────────────── exact answers ─────────────────────────

/// Runs a valid corpus program as the corpus does and parses its JSON.
fn run_json(name: &str) -> serde_json::Value {
    let path = corpus("valid").join(format!("{name}.ppl"));
    let d = directives(&path);
    let mut args = vec![
        "run".to_string(),
        path.display().to_string(),
        "--format".into(),
        "json".into(),
        "--seed".into(),
        "7".into(),
    ];
    args.extend(d.args.iter().cloned());
    let out = tyche(&args, &[]);
    assert_eq!(out.status, 0, "{name} failed:\n{}", out.stderr);
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: bad JSON {e}:\n{}", out.stdout))
}

/// The probability of `value` in the result table.
fn table_prob(json: &serde_json::Value, value: serde_json::Value) -> f64 {
    let table = json["result"]["table"]
        .as_array()
        .unwrap_or_else(|| panic!("no result table in {json}"));
    table
        .iter()
        .find(|row| row["value"] == value)
        .map_or(0.0, |row| row["prob"].as_f64().expect("a number"))
}

fn assert_close(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual}, expected {expected} (difference {:e}, tolerance {tol:e})",
        (actual - expected).abs()
    );
}

#[test]
fn exact_sprinkler() {
    let json = run_json("sprinkler");
    assert_eq!(json["method"], "enumerate");
    // P(rain | wet) = 0.4581 / 0.6471 (summing over cloudy and sprinkler).
    let p_rain_wet: f64 =
        0.5 * (0.1 * 0.8 * 0.99 + 0.9 * 0.8 * 0.9) + 0.5 * (0.5 * 0.2 * 0.99 + 0.5 * 0.2 * 0.9);
    let p_wet: f64 = p_rain_wet + 0.5 * (0.1 * 0.2 * 0.9) + 0.5 * (0.5 * 0.8 * 0.9);
    assert_close(
        "P(rain | wet)",
        table_prob(&json, true.into()),
        p_rain_wet / p_wet,
        1e-12,
    );
    assert_close(
        "log evidence",
        json["log_evidence"].as_f64().expect("a number"),
        p_wet.ln(),
        1e-12,
    );
}

#[test]
fn exact_dice() {
    let json = run_json("dice_enumerate");
    // Pairs with d1 + d2 >= 10: (4,6) (5,5) (5,6) (6,4) (6,5) (6,6).
    for (face, count) in [(4, 1.0), (5, 2.0), (6, 3.0), (1, 0.0)] {
        assert_close(
            &format!("P(d1 = {face})"),
            table_prob(&json, face.into()),
            count / 6.0,
            1e-12,
        );
    }
    assert_close(
        "log evidence",
        json["log_evidence"].as_f64().expect("a number"),
        (6.0f64 / 36.0).ln(),
        1e-12,
    );
}

#[test]
fn exact_factor_condition() {
    let json = run_json("factor_condition");
    let z: f64 = (0..3).map(|n| (n as f64).exp()).sum();
    for n in 0..3 {
        assert_close(
            &format!("P(n = {n})"),
            table_prob(&json, n.into()),
            (n as f64).exp() / z,
            1e-12,
        );
    }
    assert_close("P(n = 3)", table_prob(&json, 3.into()), 0.0, 0.0);
}

#[test]
fn exact_if_else_grades() {
    let json = run_json("if_else");
    // Scores 65..=94 uniformly; F (65..69) is rejected: 25 scores remain,
    // C 70..79 (10), B 80..89 (10), A 90..94 (5).
    assert_close("P(A)", table_prob(&json, 2.into()), 5.0 / 25.0, 1e-12);
    assert_close("P(B)", table_prob(&json, 1.into()), 10.0 / 25.0, 1e-12);
    assert_close("P(C)", table_prob(&json, 0.into()), 10.0 / 25.0, 1e-12);
}

#[test]
fn exact_discrete_distributions() {
    let json = run_json("discrete_dists");
    assert_eq!(json["method"], "enumerate");
    // Enumerate by hand: coin, k ~ Binomial(3, .5), c ~ Categorical, u in {1, 2},
    // weight Poisson(2).pmf(k + c) * Geometric(.5).pmf(u).
    let poisson =
        |n: u32| (-2.0f64).exp() * 2f64.powi(n as i32) / (1..=n).map(f64::from).product::<f64>();
    let binom = [1.0 / 8.0, 3.0 / 8.0, 3.0 / 8.0, 1.0 / 8.0];
    let cat = [0.2, 0.5, 0.3];
    let mut by_result = std::collections::BTreeMap::<i64, f64>::new();
    let mut total = 0.0;
    for coin in [true, false] {
        let pc = if coin { 0.3 } else { 0.7 };
        for (k, pk) in binom.iter().enumerate() {
            for (c, pcat) in cat.iter().enumerate() {
                for u in 1..=2u32 {
                    let w = pc
                        * pk
                        * pcat
                        * 0.5
                        * poisson((k + c) as u32)
                        * 0.5f64.powi(u as i32)
                        * 0.5;
                    let r = if coin {
                        k as i64
                    } else {
                        (c as i64) + u as i64
                    };
                    *by_result.entry(r).or_default() += w;
                    total += w;
                }
            }
        }
    }
    for (r, w) in by_result {
        assert_close(
            &format!("P(result = {r})"),
            table_prob(&json, r.into()),
            w / total,
            1e-12,
        );
    }
    assert_close(
        "log evidence",
        json["log_evidence"].as_f64().expect("a number"),
        total.ln(),
        1e-12,
    );
}

#[test]
fn exact_nested_inference() {
    let json = run_json("nested_infer");
    let mean = json["result"]["mean"].as_array().expect("a tuple mean");
    // P(fair | heads) = 0.25 / (0.25 + 0.45) = 5/14.
    assert_close(
        "prob(posterior, true)",
        mean[0].as_f64().expect("a number"),
        5.0 / 14.0,
        1e-12,
    );
    assert_close(
        "mean of DiscreteUniform(1, 3)",
        mean[1].as_f64().expect("a number"),
        2.0,
        1e-12,
    );
    // The outer model samples the posterior: exact enumeration over it.
    assert_close(
        "P(sample(posterior))",
        mean[2].as_f64().expect("a number"),
        5.0 / 14.0,
        1e-12,
    );
}

#[test]
fn exact_log_prob_and_mean() {
    let json = run_json("log_prob_mean");
    let got: Vec<f64> = json["result"]["mean"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect();
    let expected = [
        -0.5 * (2.0 * std::f64::consts::PI).ln(),
        0.25f64.ln(),
        -3.0 + 9.0f64.ln() - 2.0f64.ln(),
        0.25f64.ln(),
        3.0,
        0.5,
        0.25,
        3.0,
    ];
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_close(&format!("element {i}"), *g, e, 1e-12);
    }
}

#[test]
fn exact_model_flag() {
    let json = run_json("model_flag");
    assert_eq!(json["model"], "posterior_of_bias");
    // P(fair | heads ~ Binomial(10, p), observed from Binomial(10, .5)):
    // sum over heads of Binomial(10,p_fair).pmf(h) * Binomial(10,.5).pmf(h).
    let choose = |n: u64, k: u64| (1..=k).fold(1.0, |acc, i| acc * (n - k + i) as f64 / i as f64);
    let pmf = |p: f64, h: u64| choose(10, h) * p.powi(h as i32) * (1.0 - p).powi(10 - h as i32);
    let lik = |p: f64| (0..=10).map(|h| pmf(p, h) * pmf(0.5, h)).sum::<f64>();
    let (a, b) = (0.8 * lik(0.5), 0.2 * lik(0.8));
    assert_close(
        "P(fair | data)",
        table_prob(&json, true.into()),
        a / (a + b),
        1e-12,
    );
}

#[test]
fn exact_surgery() {
    let json = run_json("surgery_do_condition");
    let mean: Vec<f64> = json["result"]["mean"]
        .as_array()
        .expect("a tuple")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect();
    // P(cancer | smoking) = 0.9·0.6 + 0.1·0.1 = 0.55; P(cancer | ¬smoking) = 0.15.
    let observational = 0.3 * 0.55 / (0.3 * 0.55 + 0.7 * 0.15);
    assert_close("P(smoking | cancer)", mean[0], observational, 1e-12);
    assert_close("P(cancer | do(smoking))", mean[1], 0.55, 1e-12);
    assert_close("P(cancer | do(tar = false))", mean[2], 0.1, 1e-12);
    // With tar fixed, cancer says nothing about smoking.
    assert_close("P(smoking | do(tar), cancer)", mean[3], 0.3, 1e-12);

    let cli = run_json("surgery_cli");
    // rain is fixed, so wet no longer depends on cloudy: the prior remains.
    assert_close(
        "P(cloudy | do(rain), wet)",
        table_prob(&cli, true.into()),
        0.5,
        1e-12,
    );
    assert_close(
        "log evidence",
        cli["log_evidence"].as_f64().expect("a number"),
        0.9f64.ln(),
        1e-12,
    );
}

#[test]
fn exact_counterfactual() {
    // LANGUAGE.md §9: the counterfactual y under x = 0 is exactly 3.
    let json = run_json("surgery_counterfactual");
    assert_close(
        "counterfactual y",
        json["result"]["mean"].as_f64().expect("a number"),
        3.0,
        1e-9,
    );
}

#[test]
fn exact_repeat_and_power() {
    let json = run_json("repeat_and_int_power");
    for (value, p) in [
        (1, 1.0 / 8.0),
        (2, 3.0 / 8.0),
        (4, 3.0 / 8.0),
        (8, 1.0 / 8.0),
    ] {
        assert_close(
            &format!("P({value})"),
            table_prob(&json, value.into()),
            p,
            1e-12,
        );
    }
}
