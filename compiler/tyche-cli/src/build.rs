//! `tyche build FILE -o EXE`: a standalone native executable (see
//! `docs/build.md`).
//!
//! This module owns the build side: compiling the program (so a build
//! fails on the errors `tyche check` reports), extracting the kernels to
//! compile ahead of time (with the build-time data), writing the object
//! (`tyche_jit::object`), finding the runtime library and `cc`, and
//! linking in a temporary directory. The executable's run side is
//! [`crate::exe`].

use crate::run::{read_data, read_source, report, usage};
use crate::{Io, DIAGNOSED};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tyche_core::SourceMap;

/// The runtime static library: this crate built as a `staticlib`, which
/// cargo writes beside the `tyche` binary.
pub const RUNTIME_LIB: &str = "libtyche_cli.a";
/// Environment variable naming the runtime library explicitly.
pub const RUNTIME_LIB_ENV: &str = "TYCHE_RUNTIME_LIB";

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The program (`.ppl`).
    pub file: PathBuf,
    /// The executable to write.
    #[arg(short = 'o', long = "output", value_name = "EXE")]
    pub output: PathBuf,
    /// JSON file binding `data` items at build time: kernels are compiled ahead of time for these data (the executable still reads `--data` when it runs; other data use the JIT).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The executable's default `--model`; only its kernel is compiled ahead of time (default: `model`, and every zero-argument function's kernel).
    #[arg(long)]
    pub model: Option<String>,
    /// The runtime static library to link (default: $TYCHE_RUNTIME_LIB, else `libtyche_cli.a` beside `tyche`).
    #[arg(long, value_name = "FILE.a")]
    pub runtime_lib: Option<PathBuf>,
}

pub fn command(args: BuildArgs, io: &mut Io) -> u8 {
    match build(&args, io) {
        Ok(()) => 0,
        Err(code) => code,
    }
}

fn build(args: &BuildArgs, io: &mut Io) -> Result<(), u8> {
    let started = Instant::now();
    // The executable is linked to a temporary file beside it and renamed
    // into place at the end; it may not be the program or the data.
    let mut inputs: Vec<&Path> = vec![&args.file];
    inputs.extend(args.data.as_deref());
    let outputs = crate::guard::Outputs::prepare(&[("-o", &args.output)], &inputs)
        .map_err(|msg| usage(io, msg))?;
    // The cheap checks first: no point extracting kernels without a linker.
    let lib = runtime_lib(args, io)?;
    let cc = linker();
    let text = read_source(io, &args.file)?;
    let file_name = args.file.display().to_string();
    let mut sources = SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, &file_name, &text)
        .map_err(|d| report(io, &d, &sources))?;

    // The functions whose kernels are compiled ahead of time.
    let candidates: Vec<(String, tyche_ir::FuncId)> = match &args.model {
        Some(name) => {
            let f = tyche_driver::model(&compiled, &sources, name)
                .map_err(|d| report(io, &[d], &sources))?;
            vec![(name.clone(), f)]
        }
        None => compiled
            .ast
            .items
            .iter()
            .filter_map(|i| match i {
                tyche_syntax::ast::Item::Fn(f)
                    if f.name.span.file == compiled.file && f.params.is_empty() =>
                {
                    let id = compiled.ir.func_by_name(&f.name.name)?;
                    Some((f.name.name.clone(), id))
                }
                _ => None,
            })
            .collect(),
    };

    // Kernels are specialised to the data. Bad data given here is an
    // error, as for `tyche run`; a program that needs data it was not
    // given still builds, with every model left to the JIT or interpreter.
    let data = read_data(io, &mut sources, args.data.as_deref())?;
    let globals = tyche_driver::bind_data(&compiled, &sources, data.as_ref().map(|(f, v)| (*f, v)))
        .and_then(|bound| {
            tyche_driver::evaluate_globals(&compiled.ir, &bound).map_err(|d| vec![d])
        });
    let mut kernels: Vec<tyche_jit::Kernel> = Vec::new();
    let mut notes = Vec::new();
    match globals {
        Err(d) if args.data.is_some() => return Err(report(io, &d, &sources)),
        Err(d) => {
            let why = d
                .first()
                .map_or("the data are missing", |d| d.message.as_str());
            notes.push(format!(
                "no kernel compiled ahead of time: {why} (pass `--data` to specialise kernels to data)"
            ));
        }
        Ok(globals) => {
            for (name, func) in &candidates {
                match tyche_jit::extract(&compiled.ir, &globals, *func) {
                    Ok(k) => {
                        let dim = k.dim();
                        notes.push(format!(
                            "`{name}` compiled ahead of time ({dim} parameter{})",
                            if dim == 1 { "" } else { "s" }
                        ));
                        if !kernels.iter().any(|o| o.fingerprint() == k.fingerprint()) {
                            kernels.push(k);
                        }
                    }
                    Err(e) => notes.push(format!("`{name}` has no static kernel: {}", e.reason)),
                }
            }
        }
    }

    let model = args.model.as_deref().unwrap_or("model");
    let refs: Vec<&tyche_jit::Kernel> = kernels.iter().collect();
    let object = tyche_jit::object::executable_object(&file_name, &text, model, &refs)
        .map_err(|e| fail(io, format!("code generation failed: {e}")))?;

    let dir = TempDir::new()
        .map_err(|e| fail(io, format!("cannot create a temporary directory: {e}")))?;
    let obj_path = dir.0.join("program.o");
    std::fs::write(&obj_path, &object)
        .map_err(|e| fail(io, format!("cannot write {}: {e}", obj_path.display())))?;
    let temp = outputs.temp(&args.output).to_path_buf();
    link(io, &cc, &obj_path, &lib, &temp)?;
    outputs.commit().map_err(|msg| fail(io, msg))?;
    for note in notes {
        let _ = writeln!(io.err, "note: {note}");
    }
    let _ = writeln!(
        io.err,
        "built {} in {:.2} s",
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A diagnosed failure of the build itself (exit status 1).
fn fail(io: &mut Io, msg: impl std::fmt::Display) -> u8 {
    let _ = writeln!(io.err, "error: {msg}");
    DIAGNOSED
}

/// Finds the runtime static library: `--runtime-lib`, then
/// `$TYCHE_RUNTIME_LIB`, then beside the running `tyche` (or, for a test
/// binary in cargo's `deps/`, one directory up, where cargo puts `tyche`).
fn runtime_lib(args: &BuildArgs, io: &mut Io) -> Result<PathBuf, u8> {
    let explicit = args
        .runtime_lib
        .clone()
        .map(|p| (p, "--runtime-lib"))
        .or_else(|| std::env::var_os(RUNTIME_LIB_ENV).map(|p| (PathBuf::from(p), RUNTIME_LIB_ENV)));
    if let Some((path, from)) = explicit {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(fail(
                io,
                format!(
                    "the Tyche runtime library {} (from {from}) does not exist\n \
                     = help: `cargo build --release -p tyche-cli` writes {RUNTIME_LIB} beside the `tyche` binary",
                    path.display()
                ),
            ))
        };
    }
    let exe = std::env::current_exe().ok();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = exe.as_deref().and_then(Path::parent) {
        dirs.push(dir.to_path_buf());
        if dir.file_name().is_some_and(|n| n == "deps") {
            dirs.extend(dir.parent().map(Path::to_path_buf));
        }
    }
    if let Some(found) = dirs
        .iter()
        .map(|d| d.join(RUNTIME_LIB))
        .find(|p| p.is_file())
    {
        return Ok(found);
    }
    let looked = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(fail(
        io,
        format!(
            "the Tyche runtime library {RUNTIME_LIB} was not found (looked in: {looked})\n \
             = help: `cargo build --release -p tyche-cli` writes it beside the `tyche` binary; \
             or set {RUNTIME_LIB_ENV} to its path"
        ),
    ))
}

/// The C compiler driver used as the linker: `$CC`, else `cc`.
fn linker() -> std::ffi::OsString {
    std::env::var_os("CC")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "cc".into())
}

/// The system libraries Rust's standard library needs, and dead-code
/// elimination (shared/CRATES.md).
#[cfg(target_os = "linux")]
const LINK_ARGS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
    "-Wl,--gc-sections",
    // The runtime library's debug information is most of its size (69 of
    // 79 MB from a release build); symbols stay for backtraces.
    "-Wl,--strip-debug",
];

#[cfg(not(target_os = "linux"))]
const LINK_ARGS: &[&str] = &[];

/// `cc OBJ LIB <system libraries> -o OUT`.
fn link(io: &mut Io, cc: &std::ffi::OsStr, obj: &Path, lib: &Path, out: &Path) -> Result<(), u8> {
    if !cfg!(target_os = "linux") {
        return Err(fail(
            io,
            "tyche build links executables on Linux only so far",
        ));
    }
    let result = std::process::Command::new(cc)
        .arg(obj)
        .arg(lib)
        .args(LINK_ARGS)
        .arg("-o")
        .arg(out)
        .stdin(std::process::Stdio::null())
        .output();
    let cc_name = Path::new(cc).display().to_string();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(fail(
            io,
            format!(
                "no C compiler `{cc_name}` to link with\n \
                 = help: install one (gcc or clang; it is only used as the linker), or set CC to its path"
            ),
        )),
        Err(e) => Err(fail(io, format!("cannot run `{cc_name}`: {e}"))),
        Ok(o) if !o.status.success() => Err(fail(
            io,
            format!(
                "linking {} failed (`{cc_name}` {}):\n{}",
                out.display(),
                o.status,
                String::from_utf8_lossy(&o.stderr).trim_end()
            ),
        )),
        Ok(_) => Ok(()),
    }
}

/// A directory under the system temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut last = None;
        for attempt in 0..16u32 {
            let dir = base.join(format!(
                "tyche-build-{}-{nanos:x}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no attempt made")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
