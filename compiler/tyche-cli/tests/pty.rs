//! `tyche repl` as a person uses it: the real binary on a pseudo-terminal
//! (rexpect), typing a multi-line function, completing a name with Tab,
//! making an error and leaving with Ctrl-D. Skipped, with a message, where
//! no pseudo-terminal can be opened.
//!
//! Also checks that piped standard input gives the output of the
//! in-process `tyche_cli::repl::run_script` and the documented exit status.

use std::io::Write;
use std::process::{Command, Stdio};

/// Generous: the binary may be cold, the machine busy.
const TIMEOUT_MS: u64 = 20_000;

fn tyche() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tyche"));
    // Keep the user's history out of it, and the output plain.
    let data = std::env::temp_dir().join(format!("tyche-pty-test-{}", std::process::id()));
    cmd.arg("repl")
        .env("XDG_DATA_HOME", &data)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    cmd
}

#[cfg(unix)]
#[test]
fn interactive_session_on_a_pty() {
    let mut p = match rexpect::session::spawn_command(tyche(), Some(TIMEOUT_MS)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping the PTY test: cannot open a pseudo-terminal ({e})");
            return;
        }
    };
    let step = |what: &str, r: Result<String, rexpect::error::Error>| {
        if let Err(e) = r {
            panic!("{what}: {e}");
        }
    };
    // Typing before the editor is back in raw mode would be discarded, so
    // every input waits for its prompt.
    step("banner", p.exp_string("tyche> "));
    // A function over three lines: Enter inside the braces continues it.
    for line in ["fn twice(x) {", "  x * 2", "}"] {
        send(&mut p, &format!("{line}\r"));
    }
    step(
        "definition",
        p.exp_string("twice : ('a) -> 'a where 'a: Num"),
    );
    step("prompt", p.exp_string("tyche> "));
    // Tab completes the session's own name and a distribution constructor.
    send(&mut p, "twi");
    send(&mut p, "\t");
    send(&mut p, "(21)\r");
    step("completed call", p.exp_string("42 : Int"));
    step("prompt", p.exp_string("tyche> "));
    send(&mut p, "Norm\t");
    send(&mut p, "(0, 1)\r");
    step(
        "completed constructor",
        p.exp_string("Normal(0.0, 1.0) : Dist<Real>"),
    );
    step("prompt", p.exp_string("tyche> "));
    // An error is reported and the session goes on.
    send(&mut p, "1 + true\r");
    step("error", p.exp_string("error[E0307]"));
    step("prompt", p.exp_string("tyche> "));
    send(&mut p, "twice(2.5)\r");
    step("after the error", p.exp_string("5.0 : Real"));
    step("prompt", p.exp_string("tyche> "));
    // Ctrl-C clears a half-typed line.
    send(&mut p, "this is not code");
    step("echo", p.exp_string("not code"));
    p.send_control('c').expect("ctrl-c");
    step("prompt", p.exp_string("tyche> "));
    send(&mut p, "3 * 3\r");
    step("after ctrl-c", p.exp_string("9 : Int"));
    step("prompt", p.exp_string("tyche> "));
    // Ctrl-D leaves.
    p.send_control('d').expect("ctrl-d");
    step("exit", p.exp_eof());
}

#[cfg(unix)]
fn send(p: &mut rexpect::session::PtySession, text: &str) {
    p.send(text).expect("send");
    p.flush().expect("flush");
}

/// Runs the binary with `script` on standard input.
fn piped(script: &str) -> (i32, String, String) {
    let mut child = tyche()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn piped_input_matches_run_script() {
    let script = "fn f(a) {\n  a + 1\n}\nf(41)\nlet xs = [1.0, 2.0];\nsum(xs)\n:type f\n";
    let (status, stdout, stderr) = piped(script);
    assert_eq!(status, 0, "stderr: {stderr}");
    assert_eq!(stderr, "");
    assert!(!stdout.contains("tyche>"), "no prompt when piped: {stdout}");
    assert_eq!(stdout, tyche_cli::repl::run_script(script));
}

#[test]
fn piped_errors_set_the_exit_status() {
    let (status, stdout, stderr) = piped("1 + true\n2 + 2\n");
    assert_eq!(status, 1);
    assert_eq!(stdout, "4 : Int\n");
    assert!(stderr.starts_with("error[E0307]"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour when piped: {stderr}");
}

/// The process whose environment holds `entry`.
#[cfg(target_os = "linux")]
fn tagged_process(entry: &str) -> i32 {
    for _ in 0..100 {
        for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            if env.split(|&b| b == 0).any(|v| v == entry.as_bytes()) {
                return pid;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no process with {entry} in its environment");
}

/// The resident memory of process `pid` in bytes (Linux: `VmRSS` of
/// `/proc/PID/status`).
#[cfg(target_os = "linux")]
fn rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .expect("a VmRSS line")
        * 1024
}

/// Ctrl-C during a long `:infer` cancels it: the prompt is back within a
/// second, the run's memory is given back, and the session goes on. Once
/// for each kind of loop: interpreted SMC (a check per particle) and
/// compiled SMC (a check per batch of particles).
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_cancels_a_long_infer() {
    use std::time::{Duration, Instant};
    // Tagged, to find its process id in /proc (rexpect does not say it).
    let tag = format!("ctrl-c-{}", std::process::id());
    let mut cmd = tyche();
    cmd.env("TYCHE_PTY_TEST_TAG", &tag);
    let mut p = match rexpect::session::spawn_command(cmd, Some(TIMEOUT_MS)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping the PTY test: cannot open a pseudo-terminal ({e})");
            return;
        }
    };
    let pid = tagged_process(&format!("TYCHE_PTY_TEST_TAG={tag}"));
    let step = |what: &str, r: Result<String, rexpect::error::Error>| {
        if let Err(e) = r {
            panic!("{what}: {e}");
        }
    };
    step("banner", p.exp_string("tyche> "));
    // A state-space model: 40 observation steps, each one a pass over
    // every particle.
    let ys: Vec<String> = (0..40)
        .map(|i| format!("{:.1}", (i % 7) as f64 / 10.0))
        .collect();
    send(
        &mut p,
        &format!(
            "fn model() -> Real {{ fold([{}], 0.0, |xp, y| {{ let x ~ Normal(0.9 * xp, 1.0); \
             observe(Normal(x, 0.5), y); x }}) }}\r",
            ys.join(", ")
        ),
    );
    step("definition", p.exp_string("model : () -> Real"));
    step("prompt", p.exp_string("tyche> "));
    for (backend, particles) in [("interp", 1_000_000), ("jit", 20_000_000)] {
        let before = rss(pid);
        send(
            &mut p,
            &format!(":infer --method smc --particles {particles} --backend {backend}\r"),
        );
        // Wait until the run holds memory (its particles), then interrupt.
        let grown = 200 << 20;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut peak = before;
        while peak < before + grown {
            assert!(
                Instant::now() < deadline,
                "{backend}: the run never grew past {} MiB (RSS {} MiB)",
                (before + grown) >> 20,
                peak >> 20
            );
            std::thread::sleep(Duration::from_millis(50));
            peak = peak.max(rss(pid));
        }
        std::thread::sleep(Duration::from_millis(300));
        peak = peak.max(rss(pid));
        let interrupted = Instant::now();
        p.send_control('c').expect("ctrl-c");
        step("interrupted", p.exp_string("interrupted"));
        step("prompt", p.exp_string("tyche> "));
        let took = interrupted.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "{backend}: Ctrl-C took {took:?} to return to the prompt"
        );
        // The particles are freed: RSS falls back to within a quarter of
        // what the run added.
        let limit = before + (peak - before) / 4;
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut now = rss(pid);
        while now > limit && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            now = rss(pid);
        }
        assert!(
            now <= limit,
            "{backend}: RSS {} MiB after Ctrl-C; {} MiB before the run, {} MiB at its peak",
            now >> 20,
            before >> 20,
            peak >> 20
        );
        eprintln!(
            "{backend}: prompt back {took:?} after Ctrl-C; RSS {} MiB before, {} MiB at the \
             interrupt, {} MiB after",
            before >> 20,
            peak >> 20,
            now >> 20
        );
        // The session goes on.
        send(&mut p, "1 + 1\r");
        step("after ctrl-c", p.exp_string("2 : Int"));
        step("prompt", p.exp_string("tyche> "));
    }
    p.send_control('d').expect("ctrl-d");
    step("exit", p.exp_eof());
}
