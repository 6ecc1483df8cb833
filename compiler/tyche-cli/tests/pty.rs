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
