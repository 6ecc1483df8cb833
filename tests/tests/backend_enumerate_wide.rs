//! Native enumeration stays linear in the number of paths when one branch
//! point is wide (issue 14: `DiscreteUniform(0, 19999)` took 10.8 s
//! natively against the interpreter's 0.17 s, `Categorical(repeat(20000,
//! || 1.0))` 24 s: every subtree re-computed the branch's options). The
//! bounds are ~10× the time these take now and far below the quadratic
//! times; the answers must be the interpreter's.

mod common;

use common::tyche;
use std::time::{Duration, Instant};

fn enumerate(src: &str, name: &str, backend: &str) -> (String, Duration) {
    let dir = std::env::temp_dir().join(format!("tyche-enum-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.ppl"));
    std::fs::write(&path, src).expect("write");
    let args: Vec<String> = [
        "run",
        &path.display().to_string(),
        "--method",
        "enumerate",
        "--backend",
        backend,
        "--format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let start = Instant::now();
    let out = tyche(&args, &[]);
    let took = start.elapsed();
    assert_eq!(out.status, 0, "{name} {backend}: {}", out.stderr);
    let mut json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    json.as_object_mut().expect("object").remove("backend");
    (json.to_string(), took)
}

#[test]
fn one_wide_branch_is_linear() {
    for (name, src) in [
        (
            "discrete_uniform",
            "fn model() -> Int { let a ~ DiscreteUniform(0, 39999); a }",
        ),
        (
            "categorical_of_a_computed_vector",
            "fn model() -> Int { let a ~ Categorical(repeat(20000, || 1.0)); a }",
        ),
    ] {
        let (native, took) = enumerate(src, name, "auto");
        assert!(
            took < Duration::from_secs(5),
            "{name}: {took:?} (quadratic in the width?)"
        );
        let (interp, _) = enumerate(src, name, "interp");
        assert_eq!(native, interp, "{name}");
    }
}
