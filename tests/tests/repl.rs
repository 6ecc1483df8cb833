//! Scripted `tyche repl` sessions, run in-process.
//!
//! Each `tests/repl/NAME.txt` is fed to the REPL as piped standard input
//! would be; the transcript (each input echoed after `> `, continuation
//! lines after `. `, then what it printed on standard output and error)
//! must equal `tests/repl/NAME.out`. Regenerate the expected transcripts
//! with `UPDATE_EXPECT=1 cargo test -p tyche-tests --test repl` and review
//! the diff. Relative paths in sessions are from the workspace root.
//!
//! Also: every example under `examples/` loads (`:load`), and `:reload`
//! sees a file's changes.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The first differing line of two texts, for a readable failure.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (
            e.get(i).copied().unwrap_or("<end>"),
            a.get(i).copied().unwrap_or("<end>"),
        );
        if x != y {
            return format!("line {}:\n  expected: {x}\n  actual:   {y}", i + 1);
        }
    }
    "(texts differ only in trailing newlines)".into()
}

#[test]
fn scripted_sessions() {
    let dir = root().join("tests/repl");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/repl exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no sessions in {}", dir.display());
    let mut failures = Vec::new();
    for script in &scripts {
        let input = std::fs::read_to_string(script).expect("readable session");
        let actual = tyche_cli::repl::transcript(&input, Some(root()));
        let expected_path = script.with_extension("out");
        if update {
            std::fs::write(&expected_path, &actual).expect("writable expectation");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}: {}",
                script.display(),
                first_difference(&expected, &actual)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "transcripts differ (UPDATE_EXPECT=1 regenerates them):\n{}",
        failures.join("\n")
    );
}

/// Every `.ppl` file under `dir`, recursively, sorted.
fn ppl_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(ppl_files(&p));
            } else if p.extension().is_some_and(|x| x == "ppl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_loads() {
    let root = root();
    let examples = ppl_files(&root.join("examples"));
    assert!(!examples.is_empty(), "no examples found");
    for path in examples {
        let rel = path
            .strip_prefix(&root)
            .expect("under the root")
            .display()
            .to_string();
        let mut script = format!(":load {rel}\n");
        // Data for `NAME.ppl` is `NAME.data.json` (or `NAME.json`).
        let json = [
            path.with_extension("data.json"),
            path.with_extension("json"),
        ]
        .into_iter()
        .find(|p| p.exists());
        if let Some(json) = json {
            script.push_str(&format!(
                ":data {}\n",
                json.strip_prefix(&root).expect("under the root").display()
            ));
        }
        script.push_str(":emit types\n");
        let out = tyche_cli::repl::run_script_with(
            &script,
            &tyche_cli::repl::ScriptOptions {
                echo: true,
                base_dir: Some(root.clone()),
            },
        );
        assert!(
            out.contains(&format!("loaded {rel}:")),
            "{rel} did not load:\n{out}"
        );
        assert!(!out.contains("error"), "{rel}:\n{out}");
    }
}

#[test]
fn reload_sees_changes() {
    let dir = std::env::temp_dir().join(format!("tyche-repl-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("m.ppl");
    std::fs::write(&file, "fn answer() { 41 }\n").expect("write");
    let mut session = tyche_cli::repl::Session::new(None, false, None);
    let out = session.feed(&format!(":load {}\nanswer()\n", file.display()));
    assert!(out.ends_with("41 : Int\n"), "{out}");
    std::fs::write(&file, "fn answer() { 42 }\nfn extra() { true }\n").expect("write");
    let out = session.feed(":reload\nanswer()\nextra()\n");
    assert!(out.contains("42 : Int\ntrue : Bool\n"), "{out}");
    // A broken file leaves the session as it was; fixing it and reloading works.
    std::fs::write(&file, "fn answer() { 1 + true }\n").expect("write");
    let out = session.feed(":reload\nanswer()\n");
    assert!(
        out.contains("error[E0307]") || out.contains("error["),
        "{out}"
    );
    assert!(out.ends_with("42 : Int\n"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn script_output_has_no_prompts_or_colour() {
    let out = tyche_cli::repl::run_script("let x = 2;\nx * 21\n1 + true\n");
    assert!(
        out.starts_with("x = 2 : Int\n42 : Int\nerror[E0307]"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}') && !out.contains("tyche>"), "{out}");
}

/// `:graph` prints the DOT graph `tyche graph` draws, with the session's
/// surgery; only its gist is checked here, since the drawing evolves.
#[test]
fn graph_shows_surgery() {
    let out = tyche_cli::repl::run_script(
        "fn m() {\n  let a ~ Normal(0, 1);\n  let b ~ Normal(a, 1);\n  b\n}\n:graph m\n:do a=2.0\n:graph m\n:graph nope\n",
    );
    assert!(out.contains("digraph \"m\""), "{out}");
    assert!(out.contains("digraph \"do(m, a = 2.0)\""), "{out}");
    assert!(out.contains("a := 2"), "{out}");
    assert!(out.contains("error[E0404]: no function `nope`"), "{out}");
}
