//! Helpers shared by the end-to-end tests: locating the workspace, running
//! `tyche` in-process with stable paths, reading a program's directive
//! comments, and comparing output with snapshot files.
//!
//! Snapshots are (re)written instead of compared when the environment
//! variable `UPDATE_EXPECT=1` is set.

#![allow(dead_code)]

pub mod enumeration;

use std::path::{Path, PathBuf};
use tyche_cli::Outcome;

/// The workspace root (the parent of the `tests` crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Whether snapshots should be rewritten rather than compared.
pub fn updating() -> bool {
    std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1")
}

/// Replaces every absolute path prefix that depends on the machine by a
/// stable spelling: the workspace root becomes empty (so paths read
/// `tests/corpus/…`), and `extra` pairs are applied first.
pub fn normalise(text: &str, extra: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in extra {
        out = out.replace(from, to);
    }
    let root = root();
    let prefix = format!("{}/", root.display());
    out.replace(&prefix, "")
}

/// Runs `tyche ARGS…` in-process and normalises paths in its output.
pub fn tyche(args: &[String], extra: &[(&str, &str)]) -> Outcome {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tyche_cli::run_command(&refs);
    Outcome {
        status: out.status,
        stdout: normalise(&out.stdout, extra),
        stderr: normalise(&out.stderr, extra),
    }
}

/// Directives read from the comment lines at the top of a program:
/// `// args: [run|check] EXTRA…` and `// status: N`.
#[derive(Debug, Default, Clone)]
pub struct Directives {
    /// `run` or `check` when the args line starts with one.
    pub command: Option<String>,
    /// Extra arguments after the file, with `{dir}` replaced by the
    /// program's directory.
    pub args: Vec<String>,
    /// The expected exit status, if given.
    pub status: Option<u8>,
}

/// The arguments a program is run with under another method: its `//
/// args:` edits and its data file (`NAME.data.json` beside it, unless the
/// args name one), without the options of its own method.
#[allow(dead_code)]
pub fn args_without_method(path: &Path) -> Vec<String> {
    let d = directives(path);
    let mut args = Vec::new();
    let mut it = d.args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--method" | "--particles" | "--samples" | "--burn" | "--rejuvenate" => {
                it.next();
            }
            _ => args.push(a.clone()),
        }
    }
    let data = path.with_extension("data.json");
    if data.exists() && !args.iter().any(|a| a == "--data") {
        args.extend(["--data".into(), data.display().to_string()]);
    }
    args
}

pub fn directives(path: &Path) -> Directives {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let dir = path
        .parent()
        .expect("a file has a directory")
        .display()
        .to_string();
    let mut d = Directives::default();
    for line in text
        .lines()
        .take_while(|l| l.trim_start().starts_with("//"))
    {
        let body = line.trim_start().trim_start_matches('/').trim();
        if let Some(rest) = body.strip_prefix("args:") {
            let mut words: Vec<String> = rest
                .split_whitespace()
                .map(|w| w.replace("{dir}", &dir))
                .collect();
            if matches!(words.first().map(String::as_str), Some("run" | "check")) {
                d.command = Some(words.remove(0));
            }
            d.args = words;
        } else if let Some(rest) = body.strip_prefix("status:") {
            d.status = rest.trim().parse().ok();
        }
    }
    d
}

/// The `.ppl` files directly in `dir`, sorted by name.
pub fn programs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ppl"))
        .collect();
    v.sort();
    v
}

/// Every `.ppl` file under `dir`, recursively, sorted.
pub fn programs_recursive(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "ppl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The path relative to the workspace root, for messages.
pub fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Compares `actual` with the snapshot at `path` (or writes it when
/// updating). Returns a readable description of the mismatch.
pub fn check_snapshot(path: &Path, actual: &str) -> Result<(), String> {
    if updating() {
        let old = std::fs::read_to_string(path).ok();
        if old.as_deref() != Some(actual) {
            std::fs::write(path, actual)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
        return Ok(());
    }
    match std::fs::read_to_string(path) {
        Err(_) => Err(format!(
            "snapshot {} is missing; actual output:\n{}",
            rel(path),
            indent(actual)
        )),
        Ok(expected) if expected == actual => Ok(()),
        Ok(expected) => Err(format!(
            "snapshot {} differs (- expected, + actual):\n{}",
            rel(path),
            diff(&expected, actual)
        )),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// A line diff (longest common subsequence), with a little context.
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let (n, m) = (a.len(), b.len());
    // lcs[i][j] = LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            lines.push(('+', b[j]));
            j += 1;
        } else {
            lines.push(('-', a[i]));
            i += 1;
        }
    }
    // Keep changed lines and two lines of context around them.
    let changed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.0 != ' ')
        .map(|(k, _)| k)
        .collect();
    let keep = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= 2);
    let mut out = String::new();
    let mut skipped = false;
    for (k, (tag, line)) in lines.iter().enumerate() {
        if keep(k) {
            out.push_str(&format!("    {tag} {line}\n"));
            skipped = false;
        } else if !skipped {
            out.push_str("    …\n");
            skipped = true;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("    (the final newline differs)\n");
    }
    out
}

/// Runs `work` on every item with a few threads, keeping the input order
/// of the results.
pub fn par_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(k) else { break };
                let r = work(item);
                *results[k].lock().expect("no panics while holding the lock") = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("not poisoned")
                .expect("every item ran")
        })
        .collect()
}

/// Fails with every problem at once, or passes when there are none.
pub fn report(family: &str, total: usize, problems: Vec<String>) {
    if problems.is_empty() {
        return;
    }
    let hint = "(run with UPDATE_EXPECT=1 to accept the new output as the snapshots, then review the diff)";
    panic!(
        "{} of {total} {family} cases failed {hint}:\n\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// `tyche run --format json` output as it is kept in snapshots: the same
/// JSON value pretty-printed one field per line, so a mismatch shows as a
/// readable line diff. serde_json prints every number in its shortest
/// round-trip form, so nothing is lost. Output that is not JSON is kept
/// as it is.
pub fn pretty_json(stdout: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(stdout) {
        Ok(v) => serde_json::to_string_pretty(&v).expect("a JSON value prints") + "\n",
        Err(_) => stdout.to_string(),
    }
}

/// The keys of `tyche run --format json` output that LANGUAGE.md §10
/// fixes. Returns what is missing or malformed.
pub fn json_contract_problems(stdout: &str) -> Vec<String> {
    let v: serde_json::Value = match serde_json::from_str(stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("stdout is not one JSON object: {e}")],
    };
    let mut problems = Vec::new();
    let Some(obj) = v.as_object() else {
        return vec!["stdout is JSON but not an object".into()];
    };
    for key in ["model", "method", "seed", "log_evidence", "result", "draws"] {
        if !obj.contains_key(key) {
            problems.push(format!("missing key `{key}`"));
        }
    }
    if !obj
        .get("log_evidence")
        .is_some_and(|x| x.is_number() || x.is_null())
    {
        problems.push("`log_evidence` must be a number or null".into());
    }
    if !obj.get("draws").is_some_and(serde_json::Value::is_number) {
        problems.push("`draws` must be a number".into());
    }
    match obj.get("result").and_then(|r| r.as_object()) {
        None => problems.push("`result` must be an object".into()),
        Some(r) => {
            let ty = r.get("type").and_then(|t| t.as_str()).unwrap_or("");
            if !r.contains_key("type") {
                problems.push("missing key `result.type`".into());
            }
            // A String result has no mean; every other result has one.
            if ty != "String" {
                for key in ["mean", "sd", "quantiles"] {
                    if !r.contains_key(key) {
                        problems.push(format!("missing key `result.{key}`"));
                    }
                }
            }
            if (ty == "Bool" || ty == "Int") && !r.contains_key("table") {
                problems.push(format!("missing key `result.table` for a {ty} result"));
            }
            if let Some(q) = r.get("quantiles").and_then(|q| q.as_object()) {
                for key in ["0.05", "0.5", "0.95"] {
                    if !q.contains_key(key) {
                        problems.push(format!("missing key `result.quantiles.{key}`"));
                    }
                }
            }
        }
    }
    problems
}

/// The runtime library built with this test: the newest
/// `libtyche_rt*.a` beside this test binary (in `target/PROFILE/deps`) or
/// one directory up (where a `cargo build` of `tyche-rt` puts it). The
/// newest is the one this `cargo test` built or found up to date.
#[cfg(target_os = "linux")]
pub fn runtime_lib() -> &'static Path {
    static LIB: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LIB.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let deps = exe.parent().expect("a directory");
        let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for dir in [deps, deps.parent().unwrap_or(deps)] {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("libtyche_rt") && name.ends_with(".a") {
                    if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                        found.push((t, e.path()));
                    }
                }
            }
        }
        found.sort();
        found.pop().map(|(_, p)| p).unwrap_or_else(|| {
            panic!(
                "no libtyche_rt*.a in {} or its parent: does tyche-tests depend on \
                 tyche-rt, a staticlib?",
                deps.display()
            )
        })
    })
}
