//! A run whose own diagnostics say its answer may be wrong says so
//! (LANGUAGE.md §8): each warning of `tyche_infer::diagnose` is provoked by
//! a run that really is unreliable, and shows in the JSON `"warnings"` and
//! as a `warning:` line of the text report.

mod common;
use common::{root, tyche};
use serde_json::Value as J;

fn write(name: &str, src: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tyche-diagnostics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, src).unwrap();
    path.display().to_string()
}

fn run(file: &str, extra: &[&str]) -> (J, String) {
    let mut args: Vec<String> = vec!["run".into(), file.into(), "--seed".into(), "3".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut json = args.clone();
    json.extend(["--format".into(), "json".into()]);
    let out = tyche(&json, &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let text = tyche(&args, &[]);
    (serde_json::from_str(&out.stdout).unwrap(), text.stdout)
}

fn warnings(j: &J) -> Vec<String> {
    j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

fn has(ws: &[String], needle: &str) -> bool {
    ws.iter().any(|w| w.contains(needle))
}

/// The original defect: SMC without moves on a continuous regression
/// collapses onto a handful of particles. It must say so, and its ESS must
/// not claim the population size.
#[test]
fn a_collapsed_smc_population_is_reported() {
    let ex = root().join("examples/linear_regression.ppl");
    let data = root().join("examples/linear_regression.data.json");
    let (j, text) = run(
        &ex.display().to_string(),
        &["--data", &data.display().to_string(), "--method", "smc"],
    );
    let ws = warnings(&j);
    assert!(has(&ws, "particles are distinct"), "{ws:?}");
    let distinct: f64 = ws
        .iter()
        .find_map(|w| w.strip_prefix("only ")?.split(' ').next()?.parse().ok())
        .unwrap();
    assert!(
        j["ess"].as_f64().unwrap() <= distinct,
        "ESS {} above {distinct} distinct particles",
        j["ess"]
    );
    assert!(text.contains("warning: only"), "{text}");
    // The automatic choice on the same model is NUTS, and it is clean.
    let (auto, _) = run(
        &ex.display().to_string(),
        &["--data", &data.display().to_string()],
    );
    assert_eq!(auto["method"], "nuts");
    assert_eq!(warnings(&auto), Vec::<String>::new());
}

/// The centred eight schools: a funnel NUTS cannot follow at tau near 0.
#[test]
fn divergences_are_reported() {
    let f = write(
        "centred.ppl",
        "data J: Int; data y: [Real]; data sigma: [Real];
         fn model() -> Real {
             let mu ~ Normal(0.0, 5.0);
             let tau ~ Exponential(0.2);
             for j in 0..len(y) {
                 let theta ~ Normal(mu, tau);
                 observe(Normal(theta, sigma[j]), y[j]);
             }
             tau
         }",
    );
    let data = root().join("examples/posteriordb/eight_schools_noncentered.data.json");
    let (j, _) = run(
        &f,
        &["--data", &data.display().to_string(), "--method", "nuts"],
    );
    let ws = warnings(&j);
    assert!(has(&ws, "divergent"), "{ws:?}");
}

#[test]
fn saturated_trees_and_poor_mixing_are_reported() {
    // A strongly correlated Gaussian: depth 1 cannot cross it.
    let f = write(
        "correlated.ppl",
        "fn model() -> Real {
             let a ~ Normal(0.0, 10.0);
             let b ~ Normal(a, 0.05);
             b
         }",
    );
    let (j, text) = run(
        &f,
        &[
            "--method",
            "nuts",
            "--max-depth",
            "1",
            "--samples",
            "200",
            "--warmup",
            "200",
        ],
    );
    let ws = warnings(&j);
    assert!(has(&ws, "maximum tree depth"), "{ws:?}");
    assert!(has(&ws, "bulk ESS is below"), "{ws:?}");
    assert!(text.contains("R-hat"), "{text}");
}

#[test]
fn mh_that_cannot_move_is_reported() {
    let ex = root().join("examples/linear_regression.ppl");
    let data = root().join("examples/linear_regression.data.json");
    let (j, _) = run(
        &ex.display().to_string(),
        &[
            "--data",
            &data.display().to_string(),
            "--method",
            "mh",
            "--chains",
            "4",
            "--samples",
            "200",
            "--burn",
            "100",
        ],
    );
    let ws = warnings(&j);
    assert!(
        has(&ws, "R-hat is above") || has(&ws, "acceptance rate"),
        "{ws:?}"
    );
}
