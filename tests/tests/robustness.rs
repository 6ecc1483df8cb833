//! "No input crashes or exhausts the machine" (issue 14): a generated
//! corpus of adversarial inputs — bad data files, bad flags, invalid
//! distribution parameters, oversize requests, bad output paths, runs
//! that never end — each run as its own process under a 2 GiB
//! address-space cap (`prlimit --as`, where available), asserting for
//! every input:
//!
//! - no panic (no status 101, no "panicked" / "internal error" text) and
//!   no death by signal (an allocation failure aborts with SIGABRT);
//! - exit status 1 or 2 with a diagnostic (`error…`) on standard error;
//! - no file changed: every input also runs with `--output` and `--plot`
//!   naming files that already exist, which must be byte for byte as
//!   before, with no temporary file left beside them.
//!
//! The process is this test binary itself, re-entered as the `tyche`
//! command ([`CHILD_ENV`] holds the arguments), so the test needs no
//! separately built binary and runs `tyche_cli`'s code exactly as the
//! `tyche` binary does (same argument parsing, same large stack, the
//! `--timeout` hard stop enabled). The counts of inputs and exit statuses
//! are printed (`cargo test -p tyche-tests --test robustness -- --nocapture`).
//! Linux only (prlimit, /dev/full).
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable that makes this binary act as `tyche`: the
/// arguments, separated by `\u{1f}`.
const CHILD_ENV: &str = "TYCHE_ROBUSTNESS_CHILD";

/// The address-space cap of every run.
const MEMORY_CAP: u64 = 2 << 30;

/// Not a test of its own: the entry point of the re-entered process,
/// which runs the arguments in [`CHILD_ENV`] as `tyche` and exits with its
/// status.
#[test]
#[ignore = "runs only in a child process started by adversarial_inputs_fail_cleanly"]
fn child_entry() {
    let args = std::env::var(CHILD_ENV).expect("started by adversarial_inputs_fail_cleanly");
    tyche_cli::enable_hard_timeout();
    let argv: Vec<&str> = args.split('\u{1f}').collect();
    let out = tyche_cli::run_command(&argv);
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    let _ = std::io::stdout().flush();
    std::process::exit(i32::from(out.status));
}

struct Case {
    name: String,
    args: Vec<String>,
}

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, contents).expect("write a corpus file");
    p.display().to_string()
}

/// Programs of the corpus, by name.
const PROGRAMS: &[(&str, &str)] = &[
    ("normal", "fn model() -> Real { let x ~ Normal(0.0, 1.0); observe(Normal(x, 1.0), 0.5); x }\n"),
    ("coin", "fn model() -> Bool { let c ~ Bernoulli(0.5); observe(Bernoulli(if c { 0.9 } else { 0.1 }), true); c }\n"),
    ("data", "data ys: [Real];\ndata n: Int;\ndata name: String;\ndata pairs: [(Int, Bool)];\n\
              fn model() -> Real { let mu ~ Normal(0.0, 10.0); map(ys, |y| observe(Normal(mu, 1.0), y)); mu + real(n) }\n"),
    ("neg_sigma", "fn model() -> Real { let s ~ Normal(0.0, 1.0); observe(Normal(0.0, s), 0.5); s }\n"),
    ("bad_poisson", "fn model() -> Int { let k ~ Poisson(-1.0); k }\n"),
    ("bad_gamma", "fn model() -> Real { let g ~ Gamma(1.0, -2.0); g }\n"),
    ("bad_uniform", "fn model() -> Real { let u ~ Uniform(1.0, 0.0); u }\n"),
    ("bad_bernoulli", "fn model() -> Bool { let b ~ Bernoulli(1.5); b }\n"),
    ("bad_categorical", "fn model() -> Int { let k ~ Categorical([0.5, -0.5]); k }\n"),
    ("bad_index", "fn model() -> Real { let k ~ DiscreteUniform(0, 3); let xs = [1.0, 2.0]; xs[k] }\n"),
    ("div_zero", "fn model() -> Int { let k ~ DiscreteUniform(0, 1); 10 / k }\n"),
    ("nested_huge", "fn inner() -> Real { let x ~ Normal(0.0, 1.0); x }\n\
                     fn model() -> Real { let d = infer(Importance(100000000000), inner); let y ~ d; y }\n"),
    ("nested_huge_smc", "fn inner() -> Real { let x ~ Normal(0.0, 1.0); x }\n\
                         fn model() -> Real { let d = infer(Smc(1000000000000), inner); let y ~ d; y }\n"),
    ("runaway", "fn go(n: Int) -> Int { go(n + 1) }\nfn model() -> Int { let k ~ DiscreteUniform(0, 1); go(k) }\n"),
    ("deep", "fn go(n: Int) -> Int { if n == 0 { 0 } else { 1 + go(n - 1) } }\nfn model() -> Int { let k ~ DiscreteUniform(0, 1); go(100000000 + k) }\n"),
    ("syntax", "fn model() -> Real { let x ~ Normal(0.0, 1.0) x }\n"),
    ("types", "fn model() -> Real { let x ~ Bernoulli(0.5); x + 1.0 }\n"),
    ("no_model", "fn other() -> Int { 1 }\n"),
];

/// The corpus: every input a name and `tyche` arguments (`{dir}` is the
/// case's files' directory).
fn corpus(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, args: Vec<String>| {
        cases.push(Case {
            name: name.to_string(),
            args,
        })
    };
    let prog: BTreeMap<&str, String> = PROGRAMS
        .iter()
        .map(|(n, text)| (*n, write(dir, &format!("{n}.ppl"), text)))
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let run = |p: &str, extra: &[&str]| {
        let mut a = s(&["run", &prog[p]]);
        a.extend(s(extra));
        a
    };

    // Bad data files for the `data` program.
    let good = r#"{"ys": [1.0, 2.0], "n": 3, "name": "x", "pairs": [[1, true]]}"#;
    let mut long_bad = String::from(r#"{"n": 1, "name": "x", "pairs": [], "ys": ["#);
    for i in 0..300_000 {
        long_bad.push_str(if i == 200_000 { "null, " } else { "1.5, " });
    }
    long_bad.push_str("1.0]}");
    let data_files: Vec<(&str, Vec<u8>)> = vec![
        (
            "not_utf8",
            b"{\"ys\": [1.0], \"n\": 1, \"name\": \"caf\xe9\", \"pairs\": []}".to_vec(),
        ),
        ("utf16", b"\xff\xfe{\x00}\x00".to_vec()),
        ("empty", Vec::new()),
        ("truncated", br#"{"ys": [1.0, 2.0"#.to_vec()),
        ("array_top", b"[1, 2, 3]".to_vec()),
        (
            "duplicate_key",
            br#"{"ys": [1.0], "n": 1, "n": 2, "name": "x", "pairs": []}"#.to_vec(),
        ),
        (
            "int_too_big",
            br#"{"ys": [1.0], "n": 1e20, "name": "x", "pairs": []}"#.to_vec(),
        ),
        (
            "int_u64",
            br#"{"ys": [1.0], "n": 18446744073709551615, "name": "x", "pairs": []}"#.to_vec(),
        ),
        (
            "int_fraction",
            br#"{"ys": [1.0], "n": 1.5, "name": "x", "pairs": []}"#.to_vec(),
        ),
        (
            "wrong_element",
            br#"{"ys": [1.0, "2"], "n": 1, "name": "x", "pairs": []}"#.to_vec(),
        ),
        (
            "wrong_tuple",
            br#"{"ys": [], "n": 1, "name": "x", "pairs": [[1, 2, 3]]}"#.to_vec(),
        ),
        (
            "nested_object",
            br#"{"ys": [{"a": 1}], "n": 1, "name": "x", "pairs": []}"#.to_vec(),
        ),
        (
            "unknown_key",
            br#"{"ys": [], "n": 1, "name": "x", "pairs": [], "zz": 1}"#.to_vec(),
        ),
        ("missing_key", br#"{"ys": []}"#.to_vec()),
        (
            "deep_nesting",
            format!("{{\"ys\": {}1{}}}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        ),
        (
            "huge_number",
            br#"{"ys": [1e999], "n": 1, "name": "x", "pairs": []}"#.to_vec(),
        ),
        (
            "nan_literal",
            br#"{"ys": [NaN], "n": 1, "name": "x", "pairs": []}"#.to_vec(),
        ),
        ("long_line_bad_element", long_bad.into_bytes()),
        ("trailing_garbage", format!("{good} x").into_bytes()),
    ];
    for (name, bytes) in &data_files {
        let file = write(dir, &format!("{name}.json"), bytes);
        add(&format!("data/{name}"), run("data", &["--data", &file]));
    }
    add(
        "data/missing_file",
        run("data", &["--data", &format!("{}/nope.json", dir.display())]),
    );
    add(
        "data/directory",
        run("data", &["--data", &dir.display().to_string()]),
    );

    // Bad flags.
    let flags: &[(&str, &[&str])] = &[
        ("ess_nan", &["--method", "smc", "--ess-threshold", "NaN"]),
        ("ess_inf", &["--method", "smc", "--ess-threshold", "inf"]),
        ("ess_two", &["--method", "smc", "--ess-threshold", "2.0"]),
        ("ess_zero", &["--method", "smc", "--ess-threshold", "0"]),
        (
            "ess_negative",
            &["--method", "smc", "--ess-threshold", "-0.5"],
        ),
        ("particles_zero", &["--particles", "0"]),
        ("particles_negative", &["--particles", "-5"]),
        ("particles_text", &["--particles", "many"]),
        ("samples_zero", &["--method", "mh", "--samples", "0"]),
        ("samples_float", &["--method", "mh", "--samples", "1e9"]),
        ("chains_zero", &["--method", "mh", "--chains", "0"]),
        ("thin_zero", &["--method", "mh", "--thin", "0"]),
        (
            "burn_max",
            &["--method", "mh", "--burn", "18446744073709551615"],
        ),
        (
            "thin_max",
            &["--method", "mh", "--thin", "18446744073709551615"],
        ),
        (
            "burn_overflow",
            &["--method", "mh", "--burn", "18446744073709551616"],
        ),
        (
            "pmmh_burn_max",
            &["--method", "pmmh", "--burn", "18446744073709551615"],
        ),
        (
            "samples_chains_overflow",
            &[
                "--method",
                "mh",
                "--samples",
                "9223372036854775807",
                "--chains",
                "4",
            ],
        ),
        ("timeout_zero", &["--timeout", "0"]),
        ("timeout_negative", &["--timeout", "-1"]),
        ("timeout_nan", &["--timeout", "NaN"]),
        ("timeout_huge", &["--timeout", "1e300"]),
        ("method_unknown", &["--method", "magic"]),
        ("backend_unknown", &["--backend", "gpu"]),
        ("seed_negative", &["--seed", "-1"]),
        ("format_unknown", &["--format", "xml"]),
        ("model_unknown", &["--model", "nosuch"]),
        ("do_syntax", &["--do", "x=="]),
        ("do_unknown_name", &["--do", "nosuch=1.0"]),
        ("do_wrong_type", &["--do", "x=true"]),
        ("observe_unreached", &["--observe", "x[5]=1.0"]),
        ("counterfactual_syntax", &["--counterfactual", "[=]"]),
        ("unknown_flag", &["--frobnicate"]),
        (
            "resampler_unknown",
            &["--method", "smc", "--resampler", "lucky"],
        ),
    ];
    for (name, extra) in flags {
        add(&format!("flags/{name}"), run("normal", extra));
    }
    add(
        "flags/file_missing",
        s(&["run", &format!("{}/nope.ppl", dir.display())]),
    );
    add(
        "flags/file_not_utf8",
        s(&[
            "run",
            &write(dir, "latin1.ppl", b"fn model() -> Int { 1 } // caf\xe9\n"),
        ]),
    );

    // Invalid parameters and runtime faults, on the interpreter (compiled
    // code's agreement with it is tests/tests/backend.rs's subject).
    for p in [
        "neg_sigma",
        "bad_poisson",
        "bad_gamma",
        "bad_uniform",
        "bad_bernoulli",
        "bad_categorical",
        "bad_index",
        "div_zero",
    ] {
        for method in ["smc", "importance", "mh"] {
            add(
                &format!("params/{p}/{method}"),
                run(
                    p,
                    &[
                        "--method",
                        method,
                        "--backend",
                        "interp",
                        "--particles",
                        "100",
                        "--samples",
                        "100",
                    ],
                ),
            );
        }
    }
    for p in ["syntax", "types", "no_model"] {
        add(&format!("program/{p}"), run(p, &[]));
    }

    // Oversize requests.
    let oversize: &[(&str, &str, &[&str])] = &[
        (
            "particles",
            "normal",
            &["--method", "smc", "--particles", "1000000000000"],
        ),
        (
            "particles_default_method",
            "normal",
            &["--particles", "1000000000000"],
        ),
        (
            "importance",
            "normal",
            &["--method", "importance", "--samples", "1000000000000"],
        ),
        (
            "rejection",
            "normal",
            &["--method", "rejection", "--samples", "1000000000000"],
        ),
        (
            "mh_samples",
            "normal",
            &["--method", "mh", "--samples", "1000000000"],
        ),
        (
            "mh_chains",
            "normal",
            &[
                "--method",
                "mh",
                "--chains",
                "1000000000000",
                "--samples",
                "1",
            ],
        ),
        (
            "pmmh",
            "normal",
            &["--method", "pmmh", "--particles", "100000000000"],
        ),
        (
            "mh_output",
            "normal",
            &[
                "--method",
                "mh",
                "--samples",
                "100000000",
                "--output",
                "{dir}/o.csv",
            ],
        ),
        (
            "nested_importance",
            "nested_huge",
            &["--method", "importance", "--samples", "2"],
        ),
        (
            "nested_smc",
            "nested_huge_smc",
            &["--method", "smc", "--particles", "2"],
        ),
        (
            "deep_recursion",
            "deep",
            &["--method", "importance", "--samples", "2"],
        ),
    ];
    for (name, p, extra) in oversize {
        let extra: Vec<String> = extra
            .iter()
            .map(|a| a.replace("{dir}", &dir.display().to_string()))
            .collect();
        let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
        add(&format!("oversize/{name}"), run(p, &refs));
    }
    // Runs that never end, bounded by `--timeout` (the hard stop: the
    // loop is inside one model run).
    add(
        "timeout/runaway_smc",
        run("runaway", &["--method", "smc", "--timeout", "0.3"]),
    );
    add(
        "timeout/runaway_enumerate",
        run("runaway", &["--method", "enumerate", "--timeout", "0.3"]),
    );
    add(
        "timeout/long_mh",
        run(
            "normal",
            &[
                "--method",
                "mh",
                "--burn",
                "1000000000000",
                "--samples",
                "10",
                "--timeout",
                "0.3",
            ],
        ),
    );

    // Bad output paths.
    let missing = format!("{}/no/such/dir/out.csv", dir.display());
    add(
        "paths/missing_folder",
        run("normal", &["--output", &missing]),
    );
    add(
        "paths/output_is_program",
        run("normal", &["--output", &prog["normal"]]),
    );
    add(
        "paths/plot_is_program",
        run("normal", &["--plot", &prog["normal"]]),
    );
    let good_data = write(dir, "good.json", good);
    add(
        "paths/output_is_data",
        run("data", &["--data", &good_data, "--output", &good_data]),
    );
    let same = format!("{}/same.out", dir.display());
    add(
        "paths/plot_is_output",
        run("normal", &["--output", &same, "--plot", &same]),
    );
    add(
        "paths/output_is_folder",
        run("normal", &["--output", &dir.display().to_string()]),
    );
    add("paths/dev_full", run("normal", &["--output", "/dev/full"]));
    add(
        "paths/build_over_source",
        s(&["build", &prog["normal"], "-o", &prog["normal"]]),
    );
    cases
}

/// What one run did.
struct Ran {
    status: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    seconds: f64,
}

fn run_child(args: &[String], dir: &Path, capped: bool) -> Ran {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = if capped {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={MEMORY_CAP}")).arg("--").arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args([
        "--exact",
        "child_entry",
        "--ignored",
        "--nocapture",
        "--test-threads",
        "1",
        "-q",
    ])
    .env(CHILD_ENV, args.join("\u{1f}"))
    .env("NO_COLOR", "1")
    .env("RUST_BACKTRACE", "0")
    .current_dir(dir)
    .stdin(std::process::Stdio::null());
    let started = std::time::Instant::now();
    let out = cmd.output().expect("run the child");
    Ran {
        status: out.status.code(),
        signal: out.status.signal(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

#[test]
fn adversarial_inputs_fail_cleanly() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("tyche-robustness-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let capped = Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let cases = corpus(&dir.0);
    // Every input twice: as is, and with `--output`/`--plot` naming files
    // that exist (for `run`s without output flags of their own).
    let mut jobs: Vec<(String, Vec<String>, bool)> = Vec::new();
    for c in &cases {
        jobs.push((c.name.clone(), c.args.clone(), false));
        let has_outputs = c
            .args
            .iter()
            .any(|a| a == "--output" || a == "--plot" || a == "-o");
        if c.args.first().is_some_and(|a| a == "run") && !has_outputs {
            jobs.push((format!("{} +outputs", c.name), c.args.clone(), true));
        }
    }
    let outcomes: Vec<(String, Result<Ran, String>)> = {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for worker in 0..2 {
                let (jobs, next, results, root) = (&jobs, &next, &results, &dir.0);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((name, args, outputs)) = jobs.get(i) else {
                        break;
                    };
                    let work = root.join(format!("w{worker}-{i}"));
                    std::fs::create_dir_all(&work).unwrap();
                    let mut args = args.clone();
                    let (csv, svg) = (work.join("prev.csv"), work.join("prev.svg"));
                    if *outputs {
                        std::fs::write(&csv, "previous csv\n").unwrap();
                        std::fs::write(&svg, "previous svg\n").unwrap();
                        args.extend([
                            "--output".to_string(),
                            csv.display().to_string(),
                            "--plot".to_string(),
                            svg.display().to_string(),
                        ]);
                    }
                    let ran = run_child(&args, &work, capped);
                    let mut problem = None;
                    if *outputs {
                        let unchanged = std::fs::read_to_string(&csv).ok().as_deref()
                            == Some("previous csv\n")
                            && std::fs::read_to_string(&svg).ok().as_deref()
                                == Some("previous svg\n");
                        let files = std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0);
                        if !unchanged {
                            problem =
                                Some("a failed run changed an existing output file".to_string());
                        } else if files != 2 {
                            problem = Some(format!(
                                "{files} files left in the output folder (2 expected)"
                            ));
                        }
                    }
                    let verdict = match problem {
                        Some(p) => Err(p),
                        None => Ok(ran),
                    };
                    results.lock().unwrap().push((i, name.clone(), verdict));
                });
            }
        });
        let mut r = results.into_inner().unwrap();
        r.sort_by_key(|(i, ..)| *i);
        r.into_iter().map(|(_, n, v)| (n, v)).collect()
    };

    let mut failures = Vec::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest = (0.0f64, String::new());
    for (name, verdict) in &outcomes {
        let ran = match verdict {
            Ok(r) => r,
            Err(p) => {
                failures.push(format!("{name}: {p}"));
                continue;
            }
        };
        if ran.seconds > slowest.0 {
            slowest = (ran.seconds, name.clone());
        }
        let key = match (ran.status, ran.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "unknown".into(),
        };
        *statuses.entry(key).or_default() += 1;
        let head: String = ran.stderr.chars().take(600).collect();
        if ran.signal.is_some() {
            failures.push(format!("{name}: killed by signal {:?}\n{head}", ran.signal));
        } else if !matches!(ran.status, Some(1 | 2)) {
            failures.push(format!(
                "{name}: exit status {:?} (1 or 2 expected)\n{head}",
                ran.status
            ));
        } else if ran.stderr.contains("panicked") || ran.stderr.contains("internal error") {
            failures.push(format!("{name}: a panic\n{head}"));
        } else if !ran.stderr.lines().any(|l| l.starts_with("error")) {
            failures.push(format!("{name}: no diagnostic on stderr\n{head}"));
        } else if ran.stderr.len() > 20_000 {
            failures.push(format!("{name}: {} bytes on stderr", ran.stderr.len()));
        }
    }
    println!(
        "robustness corpus: {} inputs, {} runs (memory cap: {}); statuses: {statuses:?}; slowest: {} ({:.2} s)",
        cases.len(),
        outcomes.len(),
        if capped { "2 GiB address space" } else { "none, prlimit missing" },
        slowest.1,
        slowest.0
    );
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n\n")
    );
}
