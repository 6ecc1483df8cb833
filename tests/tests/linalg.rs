//! Vectors and matrices end to end (docs/language.md, "Vectors and
//! matrices"): shape errors name both shapes, `cholesky` of a matrix that
//! is not positive definite is a runtime error at its call (and a
//! divergence inside NUTS, not a failed run), a ragged `[[Real]]` in a
//! data file names its row, and compiled code agrees with the interpreter.

mod common;

use common::tyche;
use serde_json::Value as J;
use std::path::PathBuf;

/// A fresh directory under the system temporary directory.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tyche-linalg-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn run(args: &[&str]) -> tyche_cli::Outcome {
    tyche(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &[])
}

#[test]
fn a_shape_mismatch_names_both_shapes_at_the_call() {
    let dir = scratch("shape");
    let prog = write(
        &dir,
        "m.ppl",
        "fn model() -> [Real] {\n    let a = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];\n    mat_vec(a, [1.0, 2.0, 3.0])\n}\n",
    );
    let out = run(&["run", &prog]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("mat_vec: a 3×2 matrix times a vector of length 3"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("m.ppl:3:5"), "{}", out.stderr);
}

#[test]
fn cholesky_of_a_matrix_not_positive_definite_fails_at_its_call() {
    let dir = scratch("pd");
    let prog = write(
        &dir,
        "m.ppl",
        "fn model() -> [[Real]] {\n    cholesky([[1.0, 2.0], [2.0, 1.0]])\n}\n",
    );
    let out = run(&["run", &prog]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cholesky: the matrix is not positive definite"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("m.ppl:2:5"), "{}", out.stderr);
}

/// A correlation `r ~ Normal(0, 1)` makes `[[1, r], [r, 1]]` indefinite
/// for |r| ≥ 1: NUTS must reject such points as divergences (Stan's
/// behaviour) rather than stop with the interpreter's error.
#[test]
fn cholesky_not_positive_definite_inside_nuts_is_a_divergence() {
    let dir = scratch("nuts");
    let prog = write(
        &dir,
        "m.ppl",
        "fn model() -> Real {\n    let r ~ Normal(0.0, 1.0);\n    let l = cholesky([[1.0, r], [r, 1.0]]);\n    observe(Normal(l[1][1], 0.05), 0.2);\n    r\n}\n",
    );
    let out = run(&[
        "run",
        &prog,
        "--method",
        "nuts",
        "--seed",
        "3",
        "--format",
        "json",
        "--samples",
        "300",
        "--warmup",
        "300",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let j: J = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["method"], "nuts");
    // l[1][1] = sqrt(1 − r²) ≈ 0.2 puts r near ±0.98, beside the edge.
    let text = j["warnings"].to_string();
    assert!(text.contains("diverg"), "{text}");
}

#[test]
fn a_ragged_matrix_in_a_data_file_names_the_row() {
    let dir = scratch("ragged");
    let prog = write(
        &dir,
        "m.ppl",
        "data a: [[Real]];\nfn model() -> Real { a[0][0] }\n",
    );
    let data = write(
        &dir,
        "d.json",
        "{\"a\": [[1.0, 2.0],\n       [3.0, 4.0],\n       [5.0]]}\n",
    );
    let out = run(&["run", &prog, "--data", &data]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "`a` is a [[Real]], a matrix, but its row `a[2]` has length 1 and row `a[0]` length 2"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("d.json:3:8"), "{}", out.stderr);
}

/// Every built-in and `MvNormalCholesky` on random arguments, on both
/// backends: the same MH chain (compiled code computes the interpreter's
/// operations in its order).
#[test]
fn compiled_linear_algebra_agrees_with_the_interpreter() {
    let dir = scratch("backend");
    let prog = write(
        &dir,
        "m.ppl",
        "data x: [Real];
fn model() -> (Real, Real) {
    let a ~ HalfNormal(1.0);
    let b ~ Normal(0.0, 1.0);
    let k = add_diag(cov_exp_quad(x, a, 1.5), 0.1);
    let l = cholesky(k);
    let v = [b, 1.0, -b];
    let w = vec_add(mat_vec(l, v), vec_scale(b, vec_sub(v, vec_mul(v, v))));
    let m = mat_sub(mat_add(mat_mul(l, transpose(l)), diag(w)), mat_scale(a, k));
    let z = solve_lower(l, col(m, 1));
    observe(Normal(sum(z) + sum(diagonal(m)), 1.0), 2.0);
    observe(MvNormalCholesky([b, a, 0.0], l), [0.5, 1.0, -0.5]);
    factor(log_prob(MvNormalCholesky(w, l), x));
    (a, b)
}
",
    );
    let data = write(&dir, "d.json", "{\"x\": [0.0, 1.0, 2.5]}");
    let go = |backend: &str| {
        let out = run(&[
            "run",
            &prog,
            "--data",
            &data,
            "--method",
            "mh",
            "--samples",
            "300",
            "--seed",
            "2",
            "--format",
            "json",
            "--backend",
            backend,
        ]);
        assert_eq!(out.status, 0, "{backend}: {}", out.stderr);
        let mut j: J = serde_json::from_str(&out.stdout).unwrap();
        let b = j["backend"].clone();
        j.as_object_mut().unwrap().remove("backend");
        (j, b)
    };
    let (interp, _) = go("interp");
    let (jit, backend) = go("jit");
    assert_eq!(backend, "jit", "the model compiles");
    assert_eq!(interp["result"], jit["result"]);
}
