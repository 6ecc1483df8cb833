//! Running `tyche run --method enumerate` for the tests that compare the
//! interpreter with native paths (`enumerate_native.rs`,
//! `enumerate_fuzz.rs`): one run's outcome, and what differs between two.

use super::{diff, pretty_json, tyche};
use std::path::{Path, PathBuf};

/// A fresh directory for one test's files (removed by the test).
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// One `tyche run --method enumerate --format json --output CSV` outcome.
#[derive(Debug, PartialEq)]
pub struct Run {
    pub status: u8,
    /// The JSON on stdout with its `"backend"` key cut out (verbatim
    /// otherwise: the comparison is of bytes, not of parsed numbers).
    pub json: String,
    /// The value of `"backend"`, if stdout had one.
    pub backend: Option<String>,
    pub stderr: String,
    /// The `--output` file (empty when the run wrote none).
    pub csv: String,
}

/// Removes `"backend":"…"` (and its separating comma) from compact JSON;
/// returns the rest and the value.
pub fn cut_backend(stdout: &str) -> (String, Option<String>) {
    const KEY: &str = "\"backend\":\"";
    let Some(start) = stdout.find(KEY) else {
        return (stdout.to_string(), None);
    };
    let value_start = start + KEY.len();
    let Some(len) = stdout[value_start..].find('"') else {
        return (stdout.to_string(), None);
    };
    let value = stdout[value_start..value_start + len].to_string();
    let mut end = value_start + len + 1;
    let mut start = start;
    if stdout[end..].starts_with(',') {
        end += 1;
    } else if stdout[..start].ends_with(',') {
        start -= 1;
    }
    (
        format!("{}{}", &stdout[..start], &stdout[end..]),
        Some(value),
    )
}

/// The arguments of `tyche run` enumerating `file` on `backend` (seed 7,
/// JSON on stdout, draws to `csv`).
pub fn enumerate_args(file: &Path, backend: &str, csv: &Path) -> Vec<String> {
    [
        "run",
        &file.display().to_string(),
        "--method",
        "enumerate",
        "--format",
        "json",
        "--seed",
        "7",
        "--backend",
        backend,
        "--output",
        &csv.display().to_string(),
    ]
    .map(String::from)
    .to_vec()
}

/// Enumerates `file` on `backend` with `extra` arguments (seed 7, JSON on
/// stdout, draws to `csv`).
pub fn enumerate(file: &Path, backend: &str, extra: &[String], csv: &Path) -> Run {
    let _ = std::fs::remove_file(csv);
    let mut args = enumerate_args(file, backend, csv);
    args.extend(extra.iter().cloned());
    let out = tyche(&args, &[]);
    let (json, backend) = cut_backend(&out.stdout);
    Run {
        status: out.status,
        json,
        backend,
        stderr: out.stderr,
        csv: std::fs::read_to_string(csv).unwrap_or_default(),
    }
}

/// Everything that differs between two runs but the backend.
pub fn disagreements(interp: &Run, native: &Run) -> Vec<String> {
    let mut out = Vec::new();
    if interp.status != native.status {
        out.push(format!(
            "exit status {} (interp) vs {} (native)",
            interp.status, native.status
        ));
    }
    if interp.stderr != native.stderr {
        out.push(format!(
            "stderr differs (- interp, + native):\n{}",
            diff(&interp.stderr, &native.stderr)
        ));
    }
    if interp.json != native.json {
        // A readable diff when the values differ; the raw text when only
        // the spelling does.
        let (a, b) = (pretty_json(&interp.json), pretty_json(&native.json));
        let shown = if a == b {
            format!("    {}\n    {}\n", interp.json, native.json)
        } else {
            diff(&a, &b)
        };
        out.push(format!("JSON differs (- interp, + native):\n{shown}"));
    }
    if interp.csv != native.csv {
        out.push(format!(
            "CSV draws differ (- interp, + native):\n{}",
            diff(&interp.csv, &native.csv)
        ));
    }
    out
}
