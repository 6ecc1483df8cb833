//! The `tyche` binary: parse arguments and run on a thread with a large
//! stack, so deeply nested (but accepted) programs cannot overflow it.

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use tyche_cli::{cli::Cli, dispatch, Io};

fn main() -> ExitCode {
    let args = Cli::parse();
    if std::io::stderr().is_terminal() {
        tyche_cli::enable_progress_bars();
    }
    tyche_cli::enable_hard_timeout();
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            // Not locked for the whole run: other threads (inference
            // workers, the REPL's evaluation thread) may write too, e.g. `print`.
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            dispatch(
                args,
                &mut Io {
                    out: &mut out,
                    err: &mut err,
                    color,
                },
            )
        });
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        _ => {
            eprintln!("error: internal error in tyche (this is a bug; please report it)");
            ExitCode::from(101)
        }
    }
}
