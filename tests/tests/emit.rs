//! `tyche check --emit …`: every intermediate form prints, and a model
//! without a static kernel says why instead of printing nothing.

use std::path::Path;

fn root(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn emit_ir_and_types() {
    let coin = root("examples/coin.ppl");
    let ir = tyche_cli::run_command(&["check", &coin, "--emit", "ir"]);
    assert_eq!(ir.status, 0, "{}", ir.stderr);
    assert!(
        ir.stdout.contains("sample site") && ir.stdout.contains("\"p\""),
        "{}",
        ir.stdout
    );
    let types = tyche_cli::run_command(&["check", &coin, "--emit", "types"]);
    assert!(
        types.stdout.contains("model : () -> Real"),
        "{}",
        types.stdout
    );
}

#[test]
fn emit_clif_for_a_static_model() {
    let out = tyche_cli::run_command(&[
        "check",
        &root("examples/eight_schools.ppl"),
        "--emit",
        "clif",
        "--data",
        &root("examples/eight_schools.data.json"),
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("function") && out.stdout.contains("block0"),
        "{}",
        out.stdout
    );
}

#[test]
fn emit_grad_prints_the_gradient_code() {
    let out = tyche_cli::run_command(&[
        "check",
        &root("examples/posteriordb/arK.ppl"),
        "--emit",
        "grad",
        "--data",
        &root("examples/posteriordb/arK.data.json"),
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    // The coordinates, the kernel, then the compiled function: three
    // pointer parameters (φ, grad, tape), a reversed loop counting down.
    let clif = out
        .stdout
        .split_once("\nfunction")
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no CLIF in:\n{}", out.stdout));
    assert!(out.stdout.contains("sigma[0] (Exponential): x = exp(φ)"));
    assert!(
        clif.contains("(i64, i64, i64) -> f64")
            && clif.contains("icmp sgt")
            && clif.contains("= -1"),
        "{clif}"
    );
}

#[test]
fn emit_clif_explains_a_model_without_a_kernel() {
    let out = tyche_cli::run_command(&["check", &root("examples/sprinkler.ppl"), "--emit", "clif"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("E0901") && out.stderr.contains("Bool-valued"),
        "{}",
        out.stderr
    );
}

#[test]
fn repl_emit_clif() {
    let out = tyche_cli::repl::run_script("fn model() -> Real { let x ~ Normal(0.0, 1.0); observe(Normal(x, 1.0), 0.5); x }\n:emit clif\n");
    assert!(out.contains("function") && out.contains("return"), "{out}");
}
