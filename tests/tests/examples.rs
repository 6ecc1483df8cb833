//! Every example under `examples/` (found by walking the directory, so new
//! examples are covered automatically) must run:
//! `tyche run FILE --seed 1 --format json` plus the arguments of a leading
//! `// args: …` comment, plus `--data NAME.data.json` when that file sits
//! beside the example and the args do not name a data file. The command
//! must exit 0 and print one JSON object with the keys of LANGUAGE.md §10.
//! Every example must also pass `tyche check`.

mod common;

use common::{
    directives, json_contract_problems, par_map, programs_recursive, rel, report, root, tyche,
};

#[test]
fn every_example_runs() {
    // The posteriordb models have a test of their own against reference
    // posteriors (tests/tests/posteriordb.rs), with these same arguments.
    let posteriordb = root().join("examples/posteriordb");
    let files: Vec<_> = programs_recursive(&root().join("examples"))
        .into_iter()
        .filter(|p| !p.starts_with(&posteriordb))
        .collect();
    assert!(!files.is_empty(), "no examples found under examples/");
    let results = par_map(&files, |path| {
        let d = directives(path);
        let mut problems = Vec::new();

        let check = tyche(&["check".into(), path.display().to_string()], &[]);
        if check.status != 0 {
            problems.push(format!(
                "`tyche check` exited {}:\n{}",
                check.status, check.stderr
            ));
        }

        let mut args = vec![
            d.command.clone().unwrap_or_else(|| "run".into()),
            path.display().to_string(),
            "--seed".into(),
            "1".into(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(d.args.iter().cloned());
        let data = path.with_extension("data.json");
        if data.exists() && !d.args.iter().any(|a| a == "--data") {
            args.extend(["--data".into(), data.display().to_string()]);
        }
        let started = std::time::Instant::now();
        let out = tyche(&args, &[]);
        let elapsed = started.elapsed();
        if out.status != 0 {
            problems.push(format!(
                "`tyche {}` exited {}:\n{}",
                args.join(" "),
                out.status,
                out.stderr
            ));
        } else {
            problems.extend(json_contract_problems(&out.stdout));
        }
        if elapsed > std::time::Duration::from_secs(30) {
            problems.push(format!("took {elapsed:?}; keep examples quick to run"));
        }
        (rel(path), problems)
    });
    let problems: Vec<String> = results
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(name, p)| format!("── {name}\n{}", p.join("\n")))
        .collect();
    report("example", files.len(), problems);
}

/// Every example starts with a header comment saying what it shows.
#[test]
fn every_example_has_a_header() {
    let mut problems = Vec::new();
    for path in programs_recursive(&root().join("examples")) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let header = text
            .lines()
            .take_while(|l| l.trim_start().starts_with("//"))
            .count();
        if header == 0 {
            problems.push(format!("── {}: no header comment", rel(&path)));
        }
    }
    report("example-header", problems.len(), problems);
}

/// Runs an example as `every_example_runs` does and parses the JSON.
fn run_example(name: &str) -> serde_json::Value {
    let path = root().join("examples").join(format!("{name}.ppl"));
    let d = directives(&path);
    let mut args = vec![
        "run".to_string(),
        path.display().to_string(),
        "--seed".into(),
        "1".into(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(d.args.iter().cloned());
    let data = path.with_extension("data.json");
    if data.exists() {
        args.extend(["--data".into(), data.display().to_string()]);
    }
    let out = tyche(&args, &[]);
    assert_eq!(out.status, 0, "{name}:\n{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("JSON")
}

fn component_means(json: &serde_json::Value) -> Vec<f64> {
    json["result"]["mean"]
        .as_array()
        .expect("a tuple result")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

/// The examples' answers are right, not only well-formed.
#[test]
fn examples_give_sensible_answers() {
    let sprinkler = run_example("sprinkler");
    let p_true = sprinkler["result"]["table"]
        .as_array()
        .and_then(|t| t.iter().find(|r| r["value"] == true))
        .and_then(|r| r["prob"].as_f64())
        .expect("a table row for true");
    assert!(
        (p_true - 0.4581 / 0.6471).abs() < 1e-9,
        "sprinkler: P(rain | wet) = {p_true}"
    );

    // posteriordb's reference: mu 4.41 (sd 3.31), tau 3.60 (sd 3.20).
    let schools = run_example("eight_schools");
    let schools = [
        schools["result"]["mean"]["mu"]
            .as_f64()
            .expect("a record result"),
        schools["result"]["mean"]["tau"]
            .as_f64()
            .expect("a record result"),
    ];
    assert!(
        (schools[0] - 4.41).abs() < 1.5,
        "eight schools: mu mean {}",
        schools[0]
    );
    assert!(
        (schools[1] - 3.60).abs() < 1.5,
        "eight schools: tau mean {}",
        schools[1]
    );

    // Least squares on the data: slope 1.98, intercept 1.08.
    let lr = component_means(&run_example("linear_regression"));
    assert!(
        (lr[0] - 1.98).abs() < 0.2,
        "linear regression: slope {}",
        lr[0]
    );
    assert!(
        (lr[1] - 1.08).abs() < 0.6,
        "linear regression: intercept {}",
        lr[1]
    );

    // The two clusters sit near -2.06 and 2.02.
    let gm = component_means(&run_example("gaussian_mixture"));
    assert!(
        (gm[0] + 2.06).abs() < 0.5 && (gm[1] - 2.02).abs() < 0.5,
        "mixture means {gm:?}"
    );
}
