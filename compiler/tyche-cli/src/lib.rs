//! `tyche`: the command-line interface (LANGUAGE.md §10), as a library so
//! tests can run commands in-process.
//!
//! Maps outcomes to exit codes: 0 success, 1 a diagnosed error in the
//! program or its data, 2 bad usage.

pub mod build;
mod check;
pub mod cli;
pub mod exe;
pub mod graph;
mod guard;
mod io;
pub mod reference;
pub mod repl;
mod run;
pub mod summary;

pub use guard::enable_hard_timeout;
pub use io::{Io, DIAGNOSED, USAGE};

/// Whether `tyche run` may draw a progress bar on standard error. Only the
/// binary turns it on (when standard error is a terminal), so in-process
/// runs (tests, [`run_command`]) never draw one.
static PROGRESS_BARS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets long `tyche run`s draw a progress bar on standard error (text
/// output only). Call it only when standard error is a terminal.
pub fn enable_progress_bars() {
    PROGRESS_BARS.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn progress_bars_enabled() -> bool {
    PROGRESS_BARS.load(std::sync::atomic::Ordering::Relaxed)
}

use clap::Parser;
use std::io::Write;

/// Runs one parsed command.
pub fn dispatch(cli: cli::Cli, io: &mut Io) -> u8 {
    use cli::Command;
    match cli.command {
        Command::Run(args) => run::run(args, io),
        Command::Check(args) => check::check(args, io),
        Command::Graph(args) => graph::command(args, io),
        Command::Repl(args) => repl::main(args, io),
        Command::Build(args) => build::command(args, io),
        Command::Summary(args) => summary::command(args, io),
    }
}

/// What a command printed and its exit status.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tyche ARGS…` (without the program name) in-process with output
/// captured, on a thread with the same large stack as the binary. Used by
/// the tests and the REPL.
pub fn run_command(args: &[&str]) -> Outcome {
    let argv: Vec<String> = std::iter::once("tyche")
        .chain(args.iter().copied())
        .map(String::from)
        .collect();
    let work = move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = match cli::Cli::try_parse_from(argv) {
            Ok(cli) => dispatch(
                cli,
                &mut Io {
                    out: &mut out,
                    err: &mut err,
                    color: false,
                },
            ),
            Err(e) => {
                let _ = write!(err, "{}", e.render());
                if e.use_stderr() {
                    USAGE
                } else {
                    0
                }
            }
        };
        Outcome {
            status,
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        }
    };
    match std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(work)
        .map(|h| h.join())
    {
        Ok(Ok(outcome)) => outcome,
        _ => Outcome {
            status: 101,
            stdout: String::new(),
            stderr: "internal error (panic)".into(),
        },
    }
}
