//! The runtime side of executables made by `tyche build` (see
//! `docs/build.md`): the C entry point [`tyche_rt_main`] that the
//! generated `main` calls, and the `tyche_jit_*` special functions that
//! ahead-of-time kernels import. Both are `#[no_mangle]` symbols of the
//! runtime static library (`libtyche_rt.a`, the `tyche-rt` crate, a
//! `staticlib` that holds this module's objects).
//!
//! An executable runs exactly what `tyche run FILE ARGS…` runs, on the
//! source embedded in it: the arguments are `tyche run`'s own (parsed by
//! the same clap definition, without FILE), and [`run_embedded`] hands them
//! to the same code as `tyche run`, so output, exit statuses and
//! diagnostics (naming the original file) are the same.
//!
//! Unsafe code: `#[no_mangle]` (the linker resolves these names) and the
//! one call that reads `main`'s raw arguments; the reading itself is
//! `tyche_jit::object::read_entry`, next to the code that writes them.
#![allow(unsafe_code)]

use crate::cli::RunArgs;
use crate::{Io, USAGE};
use std::ffi::{c_char, c_int, OsString};
use std::io::{IsTerminal, Write};
use tyche_jit::object::{read_entry, EmbeddedProgram};

/// The entry point of a built executable; its `main` returns this.
///
/// # Safety
/// Called only by the `main` that `tyche build` generates, with `main`'s
/// own `argc`/`argv` and the object's [`EmbeddedProgram`].
#[no_mangle]
pub unsafe extern "C" fn tyche_rt_main(
    argc: c_int,
    argv: *const *const c_char,
    program: *const EmbeddedProgram,
) -> c_int {
    // SAFETY: as this function's contract.
    let embedded = match unsafe { read_entry(argc, argv, program) } {
        Ok(e) => e,
        Err(msg) => {
            eprintln!("error: {msg}");
            return c_int::from(crate::DIAGNOSED);
        }
    };
    ignore_sigpipe();
    crate::enable_hard_timeout();
    if std::io::stderr().is_terminal() {
        crate::enable_progress_bars();
    }
    // The same large stack as the `tyche` binary, for deeply nested
    // programs.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            run_embedded(
                embedded.args,
                embedded.source,
                embedded.file_name,
                embedded.model,
                &mut Io {
                    out: &mut out,
                    err: &mut err,
                    color,
                },
            )
        });
    let status = match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal error in tyche (this is a bug; please report it)");
            101
        }
    };
    // Rust's runtime, which flushes standard output at exit, did not start
    // this process: C's `main` did.
    let _ = std::io::stdout().flush();
    c_int::from(status)
}

/// What Rust's runtime does before a Rust `main` (which this process does
/// not have): ignore SIGPIPE, so output to a closed pipe is a write error
/// that the run ignores, as in `tyche run`, rather than death by signal.
#[cfg(target_os = "linux")]
fn ignore_sigpipe() {
    extern "C" {
        fn signal(signum: c_int, handler: usize) -> usize;
    }
    const SIGPIPE: c_int = 13;
    const SIG_IGN: usize = 1;
    // SAFETY: `signal` from the C library, with a valid signal number and
    // the predefined "ignore" disposition; no handler code is involved.
    unsafe { signal(SIGPIPE, SIG_IGN) };
}

#[cfg(not(target_os = "linux"))]
fn ignore_sigpipe() {}

/// Runs a built executable's command line (`args`, program name first)
/// on `source`, as `tyche run FILE_NAME ARGS…` would, with `model` as the
/// default `--model`.
pub fn run_embedded(
    args: Vec<OsString>,
    source: &str,
    file_name: &str,
    model: &'static str,
    io: &mut Io,
) -> u8 {
    match parse_args(args, file_name, model) {
        Ok(run) => {
            if std::env::var_os(AOT_INFO_ENV).is_some_and(|v| v == "1") {
                let _ = writeln!(io.err, "{}", aot_info(&run, source));
            }
            crate::run::run_source(run, Some(source), io)
        }
        Err(e) => {
            let use_stderr = e.use_stderr();
            let w = if use_stderr { &mut io.err } else { &mut io.out };
            let _ = write!(w, "{}", e.render());
            if use_stderr {
                USAGE
            } else {
                0
            }
        }
    }
}

/// Setting this environment variable to 1 makes a built executable say on
/// standard error whether its model's kernel has ahead-of-time code.
pub const AOT_INFO_ENV: &str = "TYCHE_AOT_INFO";

/// Whether the model's kernel for these data (before `--do`/`--observe`
/// edits, which make another kernel) matches one compiled ahead of time:
/// one line, for [`AOT_INFO_ENV`]. Errors are left to the run itself.
fn aot_info(run: &RunArgs, source: &str) -> String {
    let (mut out, mut err) = (std::io::sink(), std::io::sink());
    let io = &mut Io {
        out: &mut out,
        err: &mut err,
        color: false,
    };
    let mut sources = tyche_core::SourceMap::new();
    let name = run.file.display().to_string();
    let kernel = (|| {
        let compiled = tyche_driver::compile_source(&mut sources, &name, source).ok()?;
        let data = crate::io::read_data(io, &mut sources, run.data.as_deref()).ok()?;
        let bound =
            tyche_driver::bind_data(&compiled, &sources, data.as_ref().map(|(f, v)| (*f, v)))
                .ok()?;
        let func = tyche_driver::model(&compiled, &sources, &run.model).ok()?;
        let globals = tyche_driver::evaluate_globals(&compiled.ir, &bound).ok()?;
        Some(tyche_jit::extract(&compiled.ir, &globals, func))
    })();
    let what = match kernel {
        None => "not checked (the run reports why)".to_string(),
        Some(Err(e)) => format!("none (not static: {})", e.reason),
        Some(Ok(k)) => match tyche_jit::aot::native(&k) {
            Ok(c) if c.is_ahead_of_time() => {
                format!("ahead-of-time code (fingerprint {:016x})", k.fingerprint())
            }
            Ok(_) => format!(
                "no ahead-of-time code for fingerprint {:016x}: the JIT compiles it",
                k.fingerprint()
            ),
            Err(e) => format!("code generation failed: {e}"),
        },
    };
    format!("{AOT_INFO_ENV}: kernel of `{}`: {what}", run.model)
}

/// `tyche run`'s options (every one, so the two cannot drift apart),
/// without the FILE argument: FILE is supplied here and hidden.
fn parse_args(
    args: Vec<OsString>,
    file_name: &str,
    model: &'static str,
) -> Result<RunArgs, clap::Error> {
    use clap::{Args, FromArgMatches};
    let mut args = args.into_iter();
    let program = args
        .next()
        .unwrap_or_else(|| OsString::from("tyche-program"));
    let bin = std::path::Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tyche-program".into());
    let command = RunArgs::augment_args(clap::Command::new("tyche-program"))
        .about(format!(
            "{file_name}, compiled by `tyche build`: runs inference on its model and \
             summarises the posterior, as `tyche run {file_name}` does."
        ))
        // FILE is the embedded program: hidden, and left out of the usage.
        .override_usage(format!("{bin} [OPTIONS]"))
        .mut_arg("file", |a| a.hide(true))
        .mut_arg("model", |a| a.default_value(model));
    let argv = [program, OsString::from(file_name)].into_iter().chain(args);
    let matches = command.try_get_matches_from(argv)?;
    RunArgs::from_arg_matches(&matches)
}

/// Defines `#[no_mangle]` wrappers of `tyche_jit::special`, the names
/// ahead-of-time kernels import (the runtime library must define them all;
/// a test checks the list against `tyche_jit::special::SYMBOLS`).
macro_rules! export_special {
    ($($name:ident($($arg:ident),+);)*) => {
        $(
            #[no_mangle]
            pub extern "C" fn $name($($arg: f64),+) -> f64 {
                tyche_jit::special::$name($($arg),+)
            }
        )*
        /// The special functions this library exports.
        pub const EXPORTED_SPECIAL: &[&str] = &[$(stringify!($name)),*];
    };
}

export_special! {
    tyche_jit_exp(x);
    tyche_jit_ln(x);
    tyche_jit_log1p(x);
    tyche_jit_expm1(x);
    tyche_jit_lgamma(x);
    tyche_jit_digamma(x);
    tyche_jit_erf(x);
    tyche_jit_sin(x);
    tyche_jit_cos(x);
    tyche_jit_tan(x);
    tyche_jit_atan(x);
    tyche_jit_tanh(x);
    tyche_jit_rem(a, b);
    tyche_jit_pow(a, b);
    tyche_jit_bd0(x, m);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_function_is_exported() {
        let mut exported: Vec<&str> = EXPORTED_SPECIAL.to_vec();
        let mut needed: Vec<&str> = tyche_jit::special::SYMBOLS.to_vec();
        needed.extend(tyche_jit::ops::symbols().iter().map(|(n, _)| *n));
        needed.sort_unstable();
        needed.dedup();
        exported.sort_unstable();
        assert_eq!(exported, needed);
    }

    #[test]
    fn options_are_tyche_runs_without_file() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let run = parse_args(args(&["./coin", "--seed", "7"]), "coin.ppl", "model").unwrap();
        assert_eq!(run.file, std::path::PathBuf::from("coin.ppl"));
        assert_eq!((run.seed, run.model.as_str()), (7, "model"));
        let run = parse_args(args(&["./s"]), "s.ppl", "sprinkler").unwrap();
        assert_eq!(run.model, "sprinkler");
        // A FILE argument is not accepted.
        let e = parse_args(args(&["./coin", "other.ppl"]), "coin.ppl", "model").unwrap_err();
        assert!(e.use_stderr());
        let help = parse_args(args(&["./coin", "--help"]), "coin.ppl", "model").unwrap_err();
        let text = help.render().to_string();
        assert!(!help.use_stderr());
        assert!(
            text.contains("--seed") && !text.contains("<FILE>"),
            "{text}"
        );
    }
}
