//! `tyche`: the command-line interface (LANGUAGE.md §10).
//!
//! Parses arguments with clap, runs the driver, and maps outcomes to exit
//! codes: 0 success, 1 a diagnosed error in the program or its data, 2 bad
//! usage. All work runs on a thread with a large stack so that deeply
//! nested (but accepted) programs cannot overflow it.

mod cli;
mod run;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // Front-end passes recurse over the syntax tree; give them room.
    let worker = std::thread::Builder::new().stack_size(256 << 20).spawn(move || run::dispatch(args));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal error in tyche (this is a bug; please report it)");
            ExitCode::from(101)
        }
    }
}
