//! `tyche build FILE -o EXE` (docs/build.md): executables built from the
//! examples, each copied alone into an empty directory and run there, must
//! print byte for byte what `tyche run` prints for the same file, options
//! and seed, and exit with the same status; errors (bad options, bad data)
//! too. Kernels compiled ahead of time must be the ones used when the data
//! match, and the JIT's otherwise.
//!
//! `tyche build` runs in-process and links with the runtime library cargo
//! built for this test run: this test crate depends on `tyche-rt` (a
//! `staticlib` as well as an `rlib`), so building it writes
//! `libtyche_rt-HASH.a` into this test binary's own `deps/` directory
//! (same profile as the test). No manual step is needed.
//!
//! Linux only, as `tyche build` links with Linux's system libraries.
#![cfg(target_os = "linux")]

mod common;

use common::{diff, par_map, root, runtime_lib};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A fresh empty directory under the system temporary directory, removed
/// on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tyche-build-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn example(rel: &str) -> String {
    root().join("examples").join(rel).display().to_string()
}

/// `tyche ARGS…` in-process.
fn tyche(args: &[&str]) -> tyche_cli::Outcome {
    tyche_cli::run_command(args)
}

/// An executable built from `file` (with extra build arguments), alone in
/// its own empty directory.
struct Built {
    dir: TempDir,
    exe: PathBuf,
}

fn build(file: &str, extra: &[&str]) -> Built {
    let work = TempDir::new("out");
    let name = Path::new(file)
        .file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    let out = work.0.join(&name);
    let lib = runtime_lib().display().to_string();
    let out_s = out.display().to_string();
    let mut args = vec!["build", file, "-o", &out_s, "--runtime-lib", &lib];
    args.extend_from_slice(extra);
    let b = tyche(&args);
    assert_eq!(b.status, 0, "tyche {}:\n{}", args.join(" "), b.stderr);
    // Alone in an empty directory: nothing beside it to lean on.
    let dir = TempDir::new("run");
    let exe = dir.0.join(&name);
    std::fs::copy(&out, &exe).expect("copy the executable");
    Built { dir, exe }
}

/// What the executable printed and its exit status.
struct Ran {
    status: u8,
    stdout: String,
    stderr: String,
}

fn run_exe(built: &Built, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut cmd = Command::new(&built.exe);
    cmd.args(args)
        .current_dir(&built.dir.0)
        .env_remove("TYCHE_AOT_INFO")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    // ETXTBSY: a process another test thread forked while this file was
    // being written still holds it open until that process execs. It
    // passes; retry as Go's os/exec does.
    let mut tries = 0;
    let o = loop {
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other.expect("run the built executable"),
        }
    };
    Ran {
        status: o.status.code().map_or(255, |c| c as u8),
        stdout: String::from_utf8(o.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(o.stderr).expect("UTF-8 errors"),
    }
}

/// Runs `tyche run FILE ARGS…` and the executable with `ARGS…`, and
/// describes every difference in exit status, stdout and stderr, and an
/// exit status other than `status`.
fn compare(built: &Built, file: &str, args: &[&str], status: u8) -> Vec<String> {
    let mut run_args = vec!["run", file];
    run_args.extend_from_slice(args);
    let want = tyche(&run_args);
    let got = run_exe(built, args, &[]);
    let mut problems = Vec::new();
    let what = format!("`{}` vs `tyche run`", args.join(" "));
    if got.status != want.status || want.status != status {
        problems.push(format!(
            "{what}: exit {} vs {} (expected {status})\nexecutable stderr:\n{}\ntyche stderr:\n{}",
            got.status, want.status, got.stderr, want.stderr
        ));
    }
    if got.stdout != want.stdout {
        problems.push(format!(
            "{what}: stdout differs (- tyche run, + executable):\n{}",
            diff(&want.stdout, &got.stdout)
        ));
    }
    if got.stderr != want.stderr {
        problems.push(format!(
            "{what}: stderr differs (- tyche run, + executable):\n{}",
            diff(&want.stderr, &got.stderr)
        ));
    }
    problems
}

fn fail_on(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// An example to build and the runs to compare. Arguments are words;
/// `{data}` is the example's data file.
struct Case {
    file: &'static str,
    build: &'static str,
    runs: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        file: "coin.ppl",
        build: "",
        runs: &[
            "--seed 7 --format json",
            "--seed 7 --format json --method mh --samples 500",
            // The text report too.
            "--seed 7 --particles 200",
        ],
    },
    Case {
        file: "linear_regression.ppl",
        build: "--data {data}",
        runs: &[
            "--seed 7 --format json --data {data} --particles 200 --rejuvenate 1",
            "--seed 7 --format json --data {data} --method mh --samples 300 --chains 2",
        ],
    },
    Case {
        file: "sprinkler.ppl",
        build: "",
        runs: &[
            "--seed 7 --format json",
            "--seed 7 --format json --do sprinkler=true",
            "--seed 7 --format json --method importance --particles 300",
        ],
    },
    Case {
        file: "causal/backdoor.ppl",
        // The executable's default model.
        build: "--model recovery",
        runs: &[
            "--seed 7 --format json --do treated=true",
            "--seed 7 --format json --observe treated=true",
        ],
    },
    Case {
        file: "causal/necessity.ppl",
        build: "",
        runs: &[
            "--seed 7 --format json --model scm --observe x=true --observe y=true \
                 --counterfactual x=false",
        ],
    },
];

#[test]
fn examples_run_the_same_as_tyche_run() {
    let problems = par_map(CASES, |case| {
        let file = example(case.file);
        let data = example(&case.file.replace(".ppl", ".data.json"));
        let words = |s: &str| -> Vec<String> {
            s.split_whitespace()
                .map(|w| w.replace("{data}", &data))
                .collect()
        };
        let build_args = words(case.build);
        let built = build(
            &file,
            &build_args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let mut problems = Vec::new();
        for run in case.runs {
            let args = words(run);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let got = run_exe(&built, &args, &[]);
            let mut run_args = vec!["run", file.as_str()];
            run_args.extend_from_slice(&args);
            // `tyche build --model M` makes M the executable's default;
            // `tyche run` needs it spelled out.
            if let Some(i) = build_args.iter().position(|a| a == "--model") {
                run_args.extend(["--model", build_args[i + 1].as_str()]);
            }
            let want = tyche(&run_args);
            if want.status != 0 {
                problems.push(format!("{}: tyche run failed:\n{}", case.file, want.stderr));
            }
            if got.status != want.status || got.stdout != want.stdout {
                problems.push(format!(
                    "{} {}: exit {} vs {}; stdout (- tyche run, + executable):\n{}{}",
                    case.file,
                    run_args[2..].join(" "),
                    got.status,
                    want.status,
                    diff(&want.stdout, &got.stdout),
                    got.stderr
                ));
            }
        }
        problems
    });
    fail_on(problems.into_iter().flatten().collect());
}

#[test]
fn errors_are_the_same_as_tyche_run() {
    let file = example("linear_regression.ppl");
    let built = build(&file, &[]);
    let work = TempDir::new("data");
    let bad = work.0.join("bad.json");
    std::fs::write(&bad, "{\"xs\": [1.0, 2.0], \"ys\": \"not a list\"}\n").unwrap();
    let broken = work.0.join("broken.json");
    std::fs::write(&broken, "{\"xs\": [1.0,\n").unwrap();
    let (bad, broken) = (bad.display().to_string(), broken.display().to_string());
    let missing = work.0.join("missing.json").display().to_string();
    let mut problems = Vec::new();
    // Diagnosed errors (exit 1): the same messages, naming the same files.
    problems.extend(compare(&built, &file, &["--data", &bad], 1));
    problems.extend(compare(&built, &file, &["--data", &broken], 1));
    // No data at all: the program's own diagnostic.
    problems.extend(compare(&built, &file, &["--seed", "1"], 1));
    // Unreadable data file, bad values: usage errors (exit 2).
    problems.extend(compare(&built, &file, &["--data", &missing], 2));
    let data = example("linear_regression.data.json");
    problems.extend(compare(
        &built,
        &file,
        &["--data", &data, "--particles", "0"],
        2,
    ));
    // A surgery naming no choice.
    problems.extend(compare(
        &built,
        &file,
        &["--data", &data, "--do", "slop=1.0"],
        1,
    ));
    // Unknown option: exit 2 from the argument parser for both (the usage
    // line names the executable instead of `tyche run`).
    let got = run_exe(&built, &["--sed", "7"], &[]);
    let want = tyche(&["run", &file, "--sed", "7"]);
    assert_eq!((got.status, want.status), (2, 2), "{}", got.stderr);
    assert_eq!(
        got.stderr.lines().next(),
        want.stderr.lines().next(),
        "{}",
        got.stderr
    );
    assert!(
        got.stderr.contains("Usage: linear_regression [OPTIONS]\n"),
        "{}",
        got.stderr
    );
    // A FILE argument is not an option of the executable.
    let got = run_exe(&built, &["other.ppl"], &[]);
    assert_eq!(got.status, 2, "{}", got.stderr);
    // --help: exit 0 on stdout, `tyche run`'s options without FILE.
    let help = run_exe(&built, &["--help"], &[]);
    assert_eq!(help.status, 0);
    for opt in [
        "--model",
        "--method",
        "--particles",
        "--samples",
        "--burn",
        "--chains",
        "--seed",
        "--data",
        "--do",
        "--observe",
        "--counterfactual",
        "--format",
        "--output",
    ] {
        assert!(
            help.stdout.contains(opt),
            "--help lacks {opt}:\n{}",
            help.stdout
        );
    }
    assert!(!help.stdout.contains("<FILE>"), "{}", help.stdout);
    fail_on(problems);
}

/// The ahead-of-time kernel is found by fingerprint when the run's data
/// are the build's, and the JIT compiles another kernel for other data;
/// either way the output is `tyche run`'s.
#[test]
fn ahead_of_time_kernels_match_by_fingerprint() {
    let file = example("linear_regression.ppl");
    let data = example("linear_regression.data.json");
    let built = build(&file, &["--data", &data]);
    let info = [("TYCHE_AOT_INFO", "1")];
    let mh = [
        "--method",
        "mh",
        "--samples",
        "200",
        "--seed",
        "3",
        "--format",
        "json",
    ];

    let mut args = vec!["--data", data.as_str()];
    args.extend(mh);
    let got = run_exe(&built, &args, &info);
    assert_eq!(got.status, 0, "{}", got.stderr);
    assert!(
        got.stderr.contains("kernel of `model`: ahead-of-time code"),
        "{}",
        got.stderr
    );
    let mut problems = compare(&built, &file, &args, 0);

    let work = TempDir::new("other-data");
    let other = work.0.join("other.json");
    std::fs::write(&other, "{\"xs\": [0.0, 1.0, 2.0], \"ys\": [0.5, 2.5, 4.4]}").unwrap();
    let other = other.display().to_string();
    let mut args = vec!["--data", other.as_str()];
    args.extend(mh);
    let got = run_exe(&built, &args, &info);
    assert_eq!(got.status, 0, "{}", got.stderr);
    assert!(
        got.stderr.contains("no ahead-of-time code") && got.stderr.contains("the JIT compiles it"),
        "{}",
        got.stderr
    );
    problems.extend(compare(&built, &file, &args, 0));
    fail_on(problems);
}

#[test]
fn build_errors_are_diagnosed() {
    let work = TempDir::new("errors");
    let out = work.0.join("exe").display().to_string();
    let coin = example("coin.ppl");
    // No runtime library.
    let missing = work.0.join("nowhere.a").display().to_string();
    let r = tyche(&["build", &coin, "-o", &out, "--runtime-lib", &missing]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("runtime library")
            && r.stderr.contains("cargo build --release -p tyche-rt"),
        "{}",
        r.stderr
    );
    // A program with a type error: `tyche check`'s diagnostics.
    let bad = work.0.join("bad.ppl");
    std::fs::write(
        &bad,
        "fn model() -> Real { let x ~ Normal(0.0, 1.0); x + true }\n",
    )
    .unwrap();
    let bad = bad.display().to_string();
    let lib = runtime_lib().display().to_string();
    let r = tyche(&["build", &bad, "-o", &out, "--runtime-lib", &lib]);
    let check = tyche(&["check", &bad]);
    assert_eq!((r.status, check.status), (1, 1), "{}", r.stderr);
    assert_eq!(r.stderr, check.stderr);
    // A model that does not exist.
    let r = tyche(&[
        "build",
        &coin,
        "--model",
        "nope",
        "-o",
        &out,
        "--runtime-lib",
        &lib,
    ]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no function `nope`"), "{}", r.stderr);
    // Bad build-time data: `tyche run`'s diagnostic.
    let data = work.0.join("bad.json");
    std::fs::write(&data, "{\"xs\": true}").unwrap();
    let data = data.display().to_string();
    let lr = example("linear_regression.ppl");
    let r = tyche(&[
        "build",
        &lr,
        "--data",
        &data,
        "-o",
        &out,
        "--runtime-lib",
        &lib,
    ]);
    let run = tyche(&["run", &lr, "--data", &data]);
    assert_eq!((r.status, run.status), (1, 1), "{}", r.stderr);
    assert_eq!(r.stderr, run.stderr);
    // Unreadable program, output is a directory: usage errors.
    let r = tyche(&["build", "no/such.ppl", "-o", &out, "--runtime-lib", &lib]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    let dir = work.0.display().to_string();
    let r = tyche(&["build", &coin, "-o", &dir, "--runtime-lib", &lib]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    let nowhere = work.0.join("no/such/dir/exe").display().to_string();
    let r = tyche(&["build", &coin, "-o", &nowhere, "--runtime-lib", &lib]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(!Path::new(&out).exists(), "nothing is written on error");
}

/// Startup: the wall time of a built executable on a tiny model (best of
/// several runs), printed for the record. The goal is under 10 ms in a
/// release build; this debug-or-release test only guards against gross
/// regressions.
#[test]
fn startup_is_fast() {
    let work = TempDir::new("startup");
    let file = work.0.join("tiny.ppl");
    std::fs::write(
        &file,
        "// tiny\nfn model() -> Bool {\n    let b ~ Bernoulli(0.3);\n    b\n}\n",
    )
    .unwrap();
    let built = build(&file.display().to_string(), &[]);
    let mut best = Duration::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        let r = run_exe(&built, &["--format", "json"], &[]);
        best = best.min(start.elapsed());
        assert_eq!(r.status, 0, "{}", r.stderr);
    }
    let size = std::fs::metadata(&built.exe).map(|m| m.len()).unwrap_or(0);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!(
        "startup of a built executable ({profile}): {:.2} ms (best of 7); size {:.1} MB",
        best.as_secs_f64() * 1e3,
        size as f64 / 1e6
    );
    assert!(best < Duration::from_secs(2), "startup took {best:?}");
}
