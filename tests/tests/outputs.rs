//! Draws out of `tyche run` and back in: the `--output` CSV layout
//! (`chain`, `draw`, `log_weight`, LANGUAGE.md §10) and the
//! `--output-format cmdstan` layout against golden files
//! (`tests/tests/golden/`), chain and draw numbering for MCMC, `--format
//! json --draws`, and `tyche summary` reading both layouts. (That ArviZ
//! and cmdstanpy read the CmdStan files and agree with `tyche summary` is
//! checked by `tests/interop/cmdstan_interop.py`, outside CI.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tyche-outputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tyche(args: &[&str]) -> tyche_cli::Outcome {
    tyche_cli::run_command(args)
}

fn ok(args: &[&str]) -> String {
    let r = tyche(args);
    assert_eq!(r.status, 0, "tyche {args:?} failed:\n{}", r.stderr);
    r.stdout
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/tests/golden").join(name)).unwrap()
}

/// Lines that depend on the machine (timing, backend choice) masked.
fn masked(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.contains(" seconds (") {
                "# <elapsed>"
            } else if l.starts_with("# tyche_backend") || l.starts_with("# tyche_version") {
                "# <backend>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn tyche_csv_layout_matches_the_golden_file() {
    let dir = tmp_dir("golden");
    let model = root().join("tests/tests/golden/outputs.ppl");
    let out = dir.join("outputs.csv");
    ok(&[
        "run",
        model.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        golden("outputs.csv")
    );

    // The CmdStan layout: one file (enumeration has no chains), `_1`.
    ok(&[
        "run",
        model.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--output-format",
        "cmdstan",
    ]);
    let written = std::fs::read_to_string(dir.join("outputs_1.csv")).unwrap();
    assert_eq!(masked(&written), masked(&golden("outputs_cmdstan.csv")));
    assert!(!dir.join("outputs_2.csv").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mcmc_chains_are_numbered_and_written_one_file_each() {
    let dir = tmp_dir("mcmc");
    let coin = root().join("examples/coin.ppl");
    let csv = dir.join("coin.csv");
    let common = [
        "--method",
        "mh",
        "--chains",
        "3",
        "--samples",
        "60",
        "--seed",
        "5",
    ];
    let mut argv = vec![
        "run",
        coin.to_str().unwrap(),
        "--output",
        csv.to_str().unwrap(),
    ];
    argv.extend(common);
    ok(&argv);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("chain,draw,log_weight,result,p[0]"));
    let ids: Vec<(usize, usize)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap())
        })
        .collect();
    let per = ids.len() / 3;
    assert!(per > 0 && ids.len() == 3 * per);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(*id, (i / per, i % per));
    }

    argv.extend(["--output-format", "cmdstan"]);
    ok(&argv);
    let mut files = Vec::new();
    for c in 1..=3 {
        let f = dir.join(format!("coin_{c}.csv"));
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains(&format!("\n# id = {c}\n")), "{text}");
        assert!(text.contains("\n#     algorithm = fixed_param\n"));
        assert!(text.contains("\n# tyche_method = mh\n"));
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rows[0], "lp__,accept_stat__,result,p");
        assert_eq!(rows.len() - 1, per);
        files.push(f.to_str().unwrap().to_string());
    }
    assert!(!dir.join("coin_4.csv").exists());

    // `tyche summary` reads both layouts to the same numbers.
    let from_tyche: serde_json::Value =
        serde_json::from_str(&ok(&["summary", "--format", "json", csv.to_str().unwrap()])).unwrap();
    let mut args = vec!["summary", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let from_cmdstan: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let a = &from_tyche["parameters"][0];
    let b = &from_cmdstan["parameters"][0];
    assert_eq!(
        (a["name"].as_str(), b["name"].as_str()),
        (Some("result"), Some("result"))
    );
    for key in ["mean", "sd", "mcse", "ess_bulk", "ess_tail", "rhat"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(a["chains"], 3);
    assert!(a["rhat"].as_f64().unwrap() > 0.9);
    // The text table has a row per parameter.
    let text = ok(&["summary", csv.to_str().unwrap()]);
    assert!(text.lines().any(|l| l.starts_with("result ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("p[0] ")), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn json_draws_hold_every_draw() {
    let coin = root().join("examples/coin.ppl");
    let args = [
        "run",
        coin.to_str().unwrap(),
        "--method",
        "mh",
        "--chains",
        "2",
        "--samples",
        "10",
        "--format",
        "json",
    ];
    let without: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    assert!(without.get("draw_table").is_none());
    let mut with_draws = args.to_vec();
    with_draws.push("--draws");
    let v: serde_json::Value = serde_json::from_str(&ok(&with_draws)).unwrap();
    let t = &v["draw_table"];
    let n = v["draws"].as_u64().unwrap() as usize;
    for key in ["chain", "draw", "log_weight", "result"] {
        assert_eq!(t[key].as_array().unwrap().len(), n, "{key}");
    }
    assert_eq!(t["chain"][n - 1], 1);
    assert_eq!(t["draw"][n - 1], n / 2 - 1);
    // The summary's mean is the mean of the listed draws.
    let xs: Vec<f64> = t["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    assert!((mean - v["result"]["mean"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn summary_of_missing_or_foreign_files_is_an_error() {
    let r = tyche(&["summary", "/nonexistent/draws.csv"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    let dir = tmp_dir("foreign");
    let f = dir.join("x.csv");
    std::fs::write(&f, "a,b\n1,2\n").unwrap();
    let r = tyche(&["summary", f.to_str().unwrap()]);
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("x.csv"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

/// A model returning a record (issue 16): its summaries, CSV columns, JSON
/// statistics, diagnostics and plot panels are named by field, sorted by
/// name (`result.mu`, `result.theta[1]`), never by position.
#[test]
fn record_results_are_named_by_field() {
    let dir = tmp_dir("record");
    let model = dir.join("record.ppl");
    std::fs::write(
        &model,
        "fn model() -> {theta: [Real], mu: Real} {\n    let mu ~ Normal(0.0, 1.0);\n    let theta = map([1.0, 2.0], |s| { let t ~ Normal(mu, s); t });\n    {theta: theta, mu: mu}\n}\n",
    )
    .unwrap();
    let (csv, svg) = (dir.join("draws.csv"), dir.join("plot.svg"));
    let m = model.display().to_string();
    let json = ok(&[
        "run",
        &m,
        "--method",
        "mh",
        "--samples",
        "200",
        "--chains",
        "2",
        "--seed",
        "3",
        "--format",
        "json",
        "--output",
        &csv.display().to_string(),
        "--plot",
        &svg.display().to_string(),
    ]);
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["result"]["type"], "{mu: Real, theta: [Real]}");
    assert!(j["result"]["mean"]["mu"].is_number(), "{}", j["result"]);
    assert_eq!(
        j["result"]["mean"]["theta"].as_array().map(Vec::len),
        Some(2)
    );
    let names: Vec<&str> = j["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["name"].as_str())
        .collect();
    assert!(
        names.starts_with(&["result.mu", "result.theta[0]", "result.theta[1]"]),
        "{names:?}"
    );
    let header = std::fs::read_to_string(&csv).unwrap();
    let header = header.lines().next().unwrap();
    assert!(
        header.starts_with("chain,draw,log_weight,result.mu,result.theta[0],result.theta[1],mu"),
        "{header}"
    );
    let svg = std::fs::read_to_string(&svg).unwrap();
    for title in ["result.mu", "result.theta[1]"] {
        assert!(svg.contains(title), "no panel titled {title}");
    }
    let text = ok(&["run", &m, "--method", "importance", "--seed", "3"]);
    assert!(text.contains("  result.mu: Real\n"), "{text}");
    assert!(!text.contains("result.0"), "{text}");
}

/// `--params all` summarises every choice by address, and its statistics
/// are exactly those `tyche summary` computes from the `--output` CSV of
/// the same run: two paths over the same draws (MCMC chains here).
#[test]
fn params_all_agrees_with_tyche_summary_of_the_csv() {
    let dir = tmp_dir("params-all");
    let csv = dir.join("draws.csv");
    let schools = root().join("examples/eight_schools.ppl");
    let data = root().join("examples/eight_schools.data.json");
    let json = ok(&[
        "run",
        schools.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--method",
        "mh",
        "--chains",
        "2",
        "--samples",
        "300",
        "--params",
        "all",
        "--output",
        csv.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let run: serde_json::Value = serde_json::from_str(&json).unwrap();
    let params = run["parameters"].as_array().expect("a parameters list");
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut expected = vec!["result.mu", "result.tau", "mu[0]", "tau[0]"];
    let etas: Vec<String> = (0..8).map(|j| format!("eta[{j}]")).collect();
    expected.extend(etas.iter().map(String::as_str));
    assert_eq!(names, expected);
    let summary: serde_json::Value =
        serde_json::from_str(&ok(&["summary", csv.to_str().unwrap(), "--format", "json"])).unwrap();
    assert_eq!(run["parameters"], summary["parameters"]);
    // Without the flag nothing is added.
    let plain: serde_json::Value = serde_json::from_str(&ok(&[
        "run",
        schools.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--method",
        "mh",
        "--samples",
        "10",
        "--format",
        "json",
    ]))
    .unwrap();
    assert!(plain.get("parameters").is_none());
    let _ = std::fs::remove_dir_all(dir);
}

/// Under exact enumeration the table is exact: the choice `rain` is the
/// result, so their rows agree with the result's exact probability, and
/// no Monte Carlo error or ESS is claimed.
#[test]
fn params_all_under_enumeration_is_exact() {
    let sprinkler = root().join("examples/sprinkler.ppl");
    let s = sprinkler.to_str().unwrap();
    let run: serde_json::Value =
        serde_json::from_str(&ok(&["run", s, "--params", "all", "--format", "json"])).unwrap();
    assert_eq!(run["exact"], true);
    let params = run["parameters"].as_array().unwrap();
    let rain = params.iter().find(|p| p["name"] == "rain[0]").unwrap();
    let p_rain = run["result"]["mean"].as_f64().unwrap();
    assert!((rain["mean"].as_f64().unwrap() - p_rain).abs() < 1e-12);
    for p in params {
        assert!(p["mcse"].is_null() && p["ess_bulk"].is_null(), "{p}");
    }
    let text = ok(&["run", s, "--params", "all"]);
    assert!(text.contains("Exact: "), "{text}");
}
