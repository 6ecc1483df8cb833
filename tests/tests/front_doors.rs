//! One run pipeline, four front doors: for every example under
//! `examples/*.ppl`, `tyche run --format json`, the REPL's `:infer
//! --format json`, the embedding API's `Posterior::summary_json` and a
//! `tyche build` executable print the same JSON for the same seed and
//! options — every key, `"backend"`, `"method_reason"`, `"warnings"` and
//! `"diagnostics"` included. Each runs its method automatically (as a
//! user who gives none), with small sizes so the test stays quick.
//!
//! The executables link with the runtime library cargo built for this
//! test run (see `tests/tests/build.rs`); Linux only, as `tyche build`
//! links with Linux's system libraries.

mod common;

use common::{directives, programs, root, runtime_lib};
use std::path::{Path, PathBuf};

/// Sizes small enough for CI, large enough to exercise every method.
const SEED: u64 = 7;
const SIZE: usize = 150;

/// The examples' options: the sizes, the seed, JSON, and the example's
/// own `// args:` (`--rejuvenate 2`).
fn options(path: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--seed",
        &SEED.to_string(),
        "--format",
        "json",
        "--particles",
        &SIZE.to_string(),
        "--samples",
        &SIZE.to_string(),
        "--warmup",
        &SIZE.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(directives(path).args);
    args
}

/// `NAME.data.json` beside the example, if there is one.
fn data_file(path: &Path) -> Option<PathBuf> {
    let data = path.with_extension("data.json");
    data.exists().then_some(data)
}

/// The JSON line of `text`, as printed (compared as text: parsing floats
/// back may be off by an ulp).
fn parse(what: &str, text: &str) -> String {
    text.lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("{what} printed no JSON:\n{text}"))
        .to_string()
}

fn cli(path: &Path) -> String {
    let mut args = vec!["run".to_string(), path.display().to_string()];
    args.extend(options(path));
    if let Some(d) = data_file(path) {
        args.extend(["--data".into(), d.display().to_string()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tyche_cli::run_command(&refs);
    assert_eq!(out.status, 0, "tyche {}:\n{}", args.join(" "), out.stderr);
    parse("tyche run", &out.stdout)
}

fn repl(path: &Path) -> String {
    let mut infer = format!(":infer {}", options(path).join(" "));
    if let Some(d) = data_file(path) {
        infer.push_str(&format!(" --data {}", d.display()));
    }
    let script = format!(":load {}\n{infer}\n", path.display());
    let transcript = tyche_cli::repl::transcript(&script, Some(root()));
    parse("the REPL's :infer", &transcript)
}

fn embedding(path: &Path) -> String {
    let program =
        tyche::Program::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut query = program
        .model("model")
        .unwrap()
        .seed(SEED)
        .particles(SIZE)
        .samples(SIZE)
        .warmup(SIZE)
        // `tyche run` records traces only for --output and --plot.
        .traces(false);
    let args = directives(path).args;
    if let Some(i) = args.iter().position(|a| a == "--rejuvenate") {
        query = query.rejuvenate(args[i + 1].parse().unwrap());
    }
    if let Some(d) = data_file(path) {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&d).unwrap()).unwrap();
        query = query.data_json(&json).unwrap();
    }
    let posterior = query
        .run()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // As `tyche run` prints it.
    posterior.summary_json().to_string()
}

#[cfg(target_os = "linux")]
fn built(path: &Path) -> String {
    let dir = std::env::temp_dir().join(format!(
        "tyche-front-doors-{}-{}",
        std::process::id(),
        path.file_stem().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("model");
    let lib = runtime_lib().display().to_string();
    let (file, exe_s) = (path.display().to_string(), exe.display().to_string());
    let b = tyche_cli::run_command(&["build", &file, "-o", &exe_s, "--runtime-lib", &lib]);
    assert_eq!(b.status, 0, "tyche build {file}:\n{}", b.stderr);
    let mut args = options(path);
    if let Some(d) = data_file(path) {
        args.extend(["--data".into(), d.display().to_string()]);
    }
    let o = std::process::Command::new(&exe)
        .args(&args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the built executable");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        o.status.success(),
        "{} {}:\n{}",
        exe.display(),
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    parse("the built executable", &String::from_utf8_lossy(&o.stdout))
}

/// Every key path where two JSON values differ.
fn differences(a: &serde_json::Value, b: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => differences(u, v, &format!("{at}.{k}"), out),
                    (u, v) => out.push(format!("{at}.{k}: {u:?} vs {v:?}")),
                }
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                differences(u, v, &format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a} vs {b}")),
        _ => {}
    }
}

#[test]
fn every_front_door_prints_the_same_json() {
    let examples = programs(&root().join("examples"));
    assert!(examples.len() >= 5, "examples/*.ppl: {examples:?}");
    let mut problems = Vec::new();
    for path in &examples {
        let want = cli(path);
        let want_json: serde_json::Value = serde_json::from_str(&want).unwrap();
        for key in ["backend", "warnings", "method_reason"] {
            assert!(
                want_json.get(key).is_some(),
                "{}: no {key:?} in {want}",
                path.display()
            );
        }
        let mut doors = vec![
            ("the REPL's :infer", repl(path)),
            ("the embedding API", embedding(path)),
        ];
        #[cfg(target_os = "linux")]
        doors.push(("a `tyche build` executable", built(path)));
        for (door, got) in doors {
            if got == want {
                continue;
            }
            let got_json: serde_json::Value = serde_json::from_str(&got).unwrap();
            let mut diffs = Vec::new();
            differences(&want_json, &got_json, "", &mut diffs);
            if diffs.is_empty() {
                diffs.push(format!("as text:\n  {want}\n  {got}"));
            }
            problems.push(format!(
                "{}: {door} differs from `tyche run`:\n  {}",
                path.display(),
                diffs.join("\n  ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
