//! Regression tests for issue 14's crashes, resource limits, files and
//! flags (items 4, 6, 7, 10–18), run in-process through `tyche`'s own
//! command code. `robustness.rs` runs a generated corpus of such inputs
//! against the binary itself, under a memory cap.

mod common;

use std::path::{Path, PathBuf};
use tyche_cli::{run_command, Outcome};

/// A fresh directory under the system temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tyche-robust-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, contents).expect("write a test file");
        p.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    /// The names of the files in the directory, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Outcome {
    run_command(args)
}

fn json(out: &Outcome) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

const NORMAL: &str =
    "fn model() -> Real { let x ~ Normal(0.0, 1.0); observe(Normal(x, 1.0), 0.5); x }\n";

/// Item 4: a `String` result of 70,000 characters (from data) panicked
/// the text report.
#[test]
fn long_string_results_are_reported() {
    let dir = TempDir::new("string");
    let prog = dir.file("s.ppl", "data s: String;\nfn model() -> String { s }\n");
    let data = dir.file("s.json", format!("{{\"s\": \"{}\"}}", "y".repeat(70_000)));
    let out = run(&["run", &prog, "--data", &data]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(out.stdout.contains("yyy…"), "{}", out.stdout);
    assert!(out.stdout.lines().all(|l| l.chars().count() < 200));
}

/// Item 6: sizes that cannot fit are refused before running (exit 1,
/// E0771, how much memory and what to lower), at the top level and in
/// nested inference.
#[test]
fn impossible_sizes_are_refused() {
    let dir = TempDir::new("sizes");
    let prog = dir.file("m.ppl", NORMAL);
    for (args, flag) in [
        (
            &["--method", "smc", "--particles", "1000000000000"][..],
            "--particles",
        ),
        (
            &["--method", "importance", "--samples", "1000000000000"][..],
            "--samples",
        ),
        (
            &["--method", "mh", "--samples", "1000000000"][..],
            "--samples",
        ),
        (
            &[
                "--method",
                "mh",
                "--chains",
                "1000000000000",
                "--samples",
                "1",
            ][..],
            "--chains",
        ),
        (&["--particles", "1000000000000"][..], "--particles"),
    ] {
        let mut argv = vec!["run", prog.as_str()];
        argv.extend(args);
        let out = run(&argv);
        assert_eq!(out.status, 1, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("error[E0771]"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("of memory"), "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("lower {flag}")),
            "{args:?}: {}",
            out.stderr
        );
    }
    let nested = dir.file(
        "n.ppl",
        "fn inner() -> Real { let x ~ Normal(0.0, 1.0); x }\n\
         fn model() -> Real { let d = infer(Importance(100000000000), inner); let y ~ d; y }\n",
    );
    let out = run(&["run", &nested, "--method", "importance", "--samples", "2"]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("error[E0771]: Importance(100000000000) needs about"),
        "{}",
        out.stderr
    );
}

/// Item 7: `--plot` of a result spanning ±1e308 looped forever.
#[test]
fn plots_of_huge_results_finish() {
    let dir = TempDir::new("plot");
    let prog = dir.file(
        "m.ppl",
        "fn model() -> Real { let x ~ Uniform(-1.0, 1.0); x * 1e308 }\n",
    );
    let svg = dir.path("f.svg");
    let (tx, rx) = std::sync::mpsc::channel();
    let args = [
        "run".to_string(),
        prog,
        "--method".into(),
        "importance".into(),
        "--plot".into(),
        svg.clone(),
    ];
    std::thread::spawn(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = tx.send(run(&refs));
    });
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the run finishes");
    assert_eq!(out.status, 0, "{out:?}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

/// Item 10: `--timeout` stops inference with E0770 (in-process: the
/// cooperative check; the binary's hard stop is in robustness.rs).
#[test]
fn timeouts_stop_inference() {
    let dir = TempDir::new("timeout");
    let prog = dir.file("m.ppl", NORMAL);
    for backend in ["interp", "jit"] {
        let started = std::time::Instant::now();
        let out = run(&[
            "run",
            &prog,
            "--method",
            "mh",
            "--samples",
            "10",
            "--burn",
            "1000000000000",
            "--timeout",
            "0.5",
            "--backend",
            backend,
        ]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(out.status, 1, "{out:?}");
        assert!(
            out.stderr
                .contains("error[E0770]: inference stopped: the time limit of 0.500 s was reached"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("m.ppl:1:4"), "{}", out.stderr);
        assert!(took < 10.0, "took {took} s");
    }
    // NUTS checks it between transitions too.
    let out = run(&[
        "run",
        &prog,
        "--method",
        "nuts",
        "--warmup",
        "100000000",
        "--samples",
        "10",
        "--timeout",
        "0.5",
    ]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(out.stderr.contains("error[E0770]"), "{}", out.stderr);
    for method in ["smc", "importance"] {
        let out = run(&[
            "run",
            &prog,
            "--method",
            method,
            "--particles",
            "100",
            "--timeout",
            "30",
        ]);
        assert_eq!(out.status, 0, "{out:?}");
    }
    let out = run(&["run", &prog, "--timeout", "0"]);
    assert_eq!(out.status, 2, "{out:?}");
}

/// Item 11: outputs go through temporary files: a run that fails after
/// the CSV was written (its figure cannot be drawn: `--plot-pair` names no
/// parameter) leaves both old files as they were and no temporary file; a
/// successful run replaces them.
#[test]
fn failed_runs_leave_outputs_unchanged() {
    let dir = TempDir::new("outputs");
    let prog = dir.file("m.ppl", NORMAL);
    let csv = dir.file("out.csv", "previous csv");
    let svg = dir.file("out.svg", "previous svg");
    let out = run(&[
        "run",
        &prog,
        "--method",
        "importance",
        "--output",
        &csv,
        "--plot",
        &svg,
        "--plot-pair",
        "x,nosuch",
    ]);
    assert_ne!(out.status, 0, "{out:?}");
    assert!(out.stderr.contains("nosuch"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "previous csv");
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), "previous svg");
    assert_eq!(dir.listing(), ["m.ppl", "out.csv", "out.svg"]);
    let out = run(&[
        "run",
        &prog,
        "--method",
        "importance",
        "--output",
        &csv,
        "--plot",
        &svg,
    ]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(std::fs::read_to_string(&csv).unwrap().contains("result"));
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert_eq!(dir.listing(), ["m.ppl", "out.csv", "out.svg"]);
}

/// Item 11 for CmdStan output: its file per chain is written through a
/// temporary file too, so a run failing after it leaves the previous
/// chain files as they were, and a run that succeeds replaces them.
#[test]
fn failed_runs_leave_cmdstan_chain_files_unchanged() {
    let dir = TempDir::new("cmdstan");
    let prog = dir.file("m.ppl", NORMAL);
    let base = dir.path("fit.csv");
    let chain1 = dir.file("fit_1.csv", "previous chain 1");
    let chain2 = dir.file("fit_2.csv", "previous chain 2");
    let svg = dir.file("out.svg", "previous svg");
    let common = [
        "run",
        prog.as_str(),
        "--method",
        "mh",
        "--chains",
        "2",
        "--samples",
        "20",
    ];
    let mut failing = common.to_vec();
    failing.extend([
        "--output",
        &base,
        "--output-format",
        "cmdstan",
        "--plot",
        &svg,
        "--plot-pair",
        "x,nosuch",
    ]);
    let out = run(&failing);
    assert_ne!(out.status, 0, "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&chain1).unwrap(),
        "previous chain 1"
    );
    assert_eq!(
        std::fs::read_to_string(&chain2).unwrap(),
        "previous chain 2"
    );
    assert_eq!(
        dir.listing(),
        ["fit_1.csv", "fit_2.csv", "m.ppl", "out.svg"]
    );
    let mut ok = common.to_vec();
    ok.extend(["--output", &base, "--output-format", "cmdstan"]);
    let out = run(&ok);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(std::fs::read_to_string(&chain2)
        .unwrap()
        .starts_with("# model"));
    assert_eq!(
        dir.listing(),
        ["fit_1.csv", "fit_2.csv", "m.ppl", "out.svg"]
    );
}

/// Items 12 and 17: bad output paths are refused before running (exit 2,
/// the program untouched); a write that fails is exit 1 with the path and
/// the system's reason.
#[test]
fn bad_output_paths_are_refused_before_running() {
    let dir = TempDir::new("paths");
    let prog = dir.file("m.ppl", NORMAL);
    let data = dir.file("d.json", "{}");
    let missing = dir.path("no/such/out.csv");
    let same = dir.path("same.csv");
    for (args, says) in [
        (vec!["--output", missing.as_str()], "does not exist"),
        (vec!["--plot", prog.as_str()], "is the input file"),
        (
            vec!["--output", data.as_str(), "--data", data.as_str()],
            "is the input file",
        ),
        (
            vec!["--output", same.as_str(), "--plot", same.as_str()],
            "also the file of --output",
        ),
        (vec!["--output", dir.0.to_str().unwrap()], "is a directory"),
    ] {
        let mut argv = vec!["run", prog.as_str(), "--timeout", "0.001"];
        argv.extend(&args);
        let out = run(&argv);
        assert_eq!(out.status, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert_eq!(std::fs::read_to_string(&prog).unwrap(), NORMAL);
    assert_eq!(dir.listing(), ["d.json", "m.ppl"]);
    if Path::new("/dev/full").exists() {
        let out = run(&["run", &prog, "--output", "/dev/full"]);
        assert_eq!(out.status, 1, "{out:?}");
        assert!(
            out.stderr.contains("cannot write /dev/full: No space left"),
            "{}",
            out.stderr
        );
    }
    // `tyche build x.ppl -o x.ppl` replaced the source with an executable.
    let out = run(&["build", &prog, "-o", &prog]);
    assert_eq!(out.status, 2, "{out:?}");
    assert!(out.stderr.contains("is the input file"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&prog).unwrap(), NORMAL);
}

/// Item 13: an address drawn with probability 2⁻¹⁰ by a recursive model
/// was refused (E0807) or not depending on `--seed`; now every seed
/// accepts it, with at most a warning that is the same for every seed.
/// A model whose runs all draw the same addresses still refuses.
#[test]
fn rare_addresses_are_accepted_whatever_the_seed() {
    let dir = TempDir::new("rare");
    let prog = dir.file(
        "g.ppl",
        "fn flips(k: Int) -> Int {\n    let b ~ Bernoulli(0.5);\n    if b { flips(k + 1) } else { k }\n}\n\
         fn model() -> Int { flips(0) }\n",
    );
    for edit in [["--observe", "b[8]=true"], ["--do", "b[10]=true"]] {
        let mut warnings = Vec::new();
        for seed in ["0", "1", "2", "3", "4", "5", "6", "7"] {
            let out = run(&[
                "run",
                &prog,
                "--method",
                "smc",
                "--particles",
                "50",
                "--seed",
                seed,
                edit[0],
                edit[1],
            ]);
            assert_eq!(out.status, 0, "seed {seed}: {out:?}");
            assert!(!out.stderr.contains("error"), "{}", out.stderr);
            warnings.push(out.stderr.clone());
        }
        assert!(warnings.iter().all(|w| *w == warnings[0]), "{warnings:?}");
    }
    let out = run(&["run", &prog, "--method", "smc", "--do", "b[40]=true"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("warning[E0807]: `b[40]` was not reached in 200 prior runs"),
        "{}",
        out.stderr
    );
    let fixed = dir.file(
        "f.ppl",
        "fn model() -> Real { let z ~ Normal(0.0, 1.0); z }\n",
    );
    let out = run(&["run", &fixed, "--do", "z[3]=1.0"]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(out.stderr.contains("error[E0807]"), "{}", out.stderr);
}

/// Item 14: `--burn` or `--thin` of 2⁶⁴ − 1 wrapped the schedule and
/// returned zero draws at once.
#[test]
fn schedules_that_overflow_are_refused() {
    let dir = TempDir::new("burn");
    let prog = dir.file("m.ppl", NORMAL);
    for flag in ["--burn", "--thin"] {
        for method in ["mh", "pmmh"] {
            let out = run(&[
                "run",
                &prog,
                "--method",
                method,
                flag,
                "18446744073709551615",
            ]);
            assert_eq!(out.status, 2, "{flag} {method}: {out:?}");
            assert!(
                out.stderr.contains("more iterations than can be counted"),
                "{}",
                out.stderr
            );
        }
    }
}

/// Item 15: `--ess-threshold` must be in (0, 1] (a negative value is a
/// value, not a flag); `--samples` counts draws per chain; options a
/// method does not use are warned about.
#[test]
fn flags_are_validated_and_samples_count_per_chain() {
    let dir = TempDir::new("flags");
    let prog = dir.file("m.ppl", NORMAL);
    for bad in ["NaN", "inf", "2.0", "0", "-0.5"] {
        let out = run(&["run", &prog, "--method", "smc", "--ess-threshold", bad]);
        assert_eq!(out.status, 2, "{bad}: {out:?}");
        assert!(
            out.stderr.contains("must be a fraction in (0, 1]"),
            "{bad}: {}",
            out.stderr
        );
    }
    let out = run(&["run", &prog, "--method", "smc", "--ess-threshold", "0.5"]);
    assert_eq!(out.status, 0, "{out:?}");
    for (method, draws) in [("mh", 300), ("pmmh", 300), ("importance", 100)] {
        let out = run(&[
            "run",
            &prog,
            "--method",
            method,
            "--samples",
            "100",
            "--chains",
            "3",
            "--format",
            "json",
        ]);
        assert_eq!(out.status, 0, "{out:?}");
        assert_eq!(json(&out)["draws"], draws, "{method}");
    }
    let out = run(&[
        "run",
        &prog,
        "--method",
        "mh",
        "--particles",
        "10",
        "--format",
        "json",
    ]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("warning: --particles does not apply to --method mh"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "run",
        &prog,
        "--method",
        "smc",
        "--samples",
        "10",
        "--burn",
        "5",
    ]);
    assert!(
        out.stderr
            .contains("warning: --samples does not apply to --method smc"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("warning: --burn does not apply"),
        "{}",
        out.stderr
    );
    // Without --method, after the run, for the method chosen.
    let coin = dir.file(
        "c.ppl",
        "fn model() -> Bool { let c ~ Bernoulli(0.3); c }\n",
    );
    let out = run(&["run", &coin, "--samples", "10"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("warning: --samples does not apply to --method enumerate"),
        "{}",
        out.stderr
    );
}

/// Item 16: a one-line data file of 10⁶ elements with one bad element
/// echoed the whole line and pointed at the key; now an excerpt around
/// the element, at its real column.
#[test]
fn data_errors_point_at_the_element_in_an_excerpt() {
    let dir = TempDir::new("excerpt");
    let prog = dir.file("m.ppl", "data ys: [Real];\nfn model() -> Real { ys[0] }\n");
    let mut text = String::from("{\"ys\": [");
    for i in 0..1_000_000 {
        text.push_str(if i == 700_000 { "\"oops\", " } else { "0.25, " });
    }
    text.push_str("1.0]}");
    let at = text.find("\"oops\"").unwrap();
    let data = dir.file("d.json", &text);
    let out = run(&["run", &prog, "--data", &data]);
    assert_eq!(
        out.status,
        1,
        "{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );
    assert!(
        out.stderr.len() < 3_000,
        "{} bytes of diagnostics",
        out.stderr.len()
    );
    assert!(
        out.stderr.contains(&format!("d.json:1:{}", at + 1)),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("`ys[700000]` should be Real, found the string \"oops\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("│ …") && out.stderr.contains("0.25, \"oops\", 0.25"),
        "{}",
        out.stderr
    );
}

/// Item 17: data that is not UTF-8 is exit 1 at a byte offset; duplicate
/// keys are an error; an Int beyond i64 says so.
#[test]
fn bad_data_files_are_diagnosed() {
    let dir = TempDir::new("data");
    let prog = dir.file("m.ppl", "data n: Int;\nfn model() -> Int { n }\n");
    let latin1 = dir.file("l.json", b"{\"n\": 1, \"s\": \"caf\xe9\"}");
    let out = run(&["run", &prog, "--data", &latin1]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(out.stderr.contains("is not UTF-8 text"), "{}", out.stderr);
    assert!(
        out.stderr.contains("byte 0xE9 at offset 18"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("l.json:1:19"), "{}", out.stderr);
    let dup = dir.file("dup.json", "{\"n\": 1,\n \"n\": 2}");
    let out = run(&["run", &prog, "--data", &dup]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stderr.contains("error[E0506]") && out.stderr.contains("dup.json:2:2"),
        "{}",
        out.stderr
    );
    let big = dir.file("big.json", "{\"n\": 1e20}");
    let out = run(&["run", &prog, "--data", &big]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stderr.contains("1e+20 is beyond the range of Int"),
        "{}",
        out.stderr
    );
}

/// Item 18: enumeration's CSV has a row per execution path with a column
/// per choice (LANGUAGE.md §10), whose weights sum to one.
#[test]
fn enumeration_csv_has_choice_columns() {
    let dir = TempDir::new("enum");
    let prog = dir.file(
        "c.ppl",
        "fn model() -> Int {\n    let a ~ Bernoulli(0.3);\n    let b ~ Bernoulli(0.6);\n    \
         condition(a || b);\n    (if a { 1 } else { 0 }) + (if b { 1 } else { 0 })\n}\n",
    );
    let csv = dir.path("e.csv");
    for backend in ["interp", "jit", "auto"] {
        let out = run(&[
            "run",
            &prog,
            "--method",
            "enumerate",
            "--output",
            &csv,
            "--backend",
            backend,
        ]);
        assert_eq!(out.status, 0, "{out:?}");
        let text = std::fs::read_to_string(&csv).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert!(
            header.contains(&"a[0]") && header.contains(&"b[0]"),
            "{text}"
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        // Paths (a, b): (T, T), (T, F), (F, T); (F, F) is conditioned away.
        assert_eq!(rows.len(), 3, "{text}");
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let w = header.iter().position(|h| h.contains("weight")).unwrap();
        let total: f64 = rows
            .iter()
            .map(|r| r[w].parse::<f64>().unwrap().exp())
            .sum();
        assert!((total - 1.0).abs() < 1e-12, "{text}");
        let z = 1.0 - 0.7 * 0.4;
        for r in &rows {
            let (a, b) = (r[col("a[0]")] == "true", r[col("b[0]")] == "true");
            let p = if a { 0.3 } else { 0.7 } * if b { 0.6 } else { 0.4 } / z;
            assert!(
                (r[w].parse::<f64>().unwrap() - f64::ln(p)).abs() < 1e-12,
                "{text}"
            );
        }
    }
}
