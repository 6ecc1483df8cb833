//! Where commands read and write: exit codes, [`Io`], rendering
//! diagnostics, and reading program and data files. Every command uses
//! these; none of them depends on a command.

use std::io::Write;
use tyche_core::{render_all, Diagnostic, SourceMap};
use tyche_driver::Compiled;

/// Exit status for a diagnosed error in the program or its data.
pub const DIAGNOSED: u8 = 1;
/// Exit status for bad command-line usage (clap uses it too).
pub const USAGE: u8 = 2;

/// Where a command writes: standard output and standard error, or
/// buffers in tests.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Colour diagnostics (only when stderr is a terminal).
    pub color: bool,
}

pub(crate) fn report(io: &mut Io, diags: &[Diagnostic], sources: &SourceMap) -> u8 {
    let _ = write!(io.err, "{}", render_all(diags, sources, io.color));
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 1 {
        let _ = writeln!(io.err, "error: aborting due to {errors} previous errors");
    }
    DIAGNOSED
}

pub(crate) fn usage(io: &mut Io, msg: impl std::fmt::Display) -> u8 {
    let _ = writeln!(io.err, "error: {msg}");
    USAGE
}

/// Reads and compiles a program file.
pub(crate) fn load(
    io: &mut Io,
    path: &std::path::Path,
    sources: &mut SourceMap,
) -> Result<Compiled, u8> {
    let text = read_source(io, path)?;
    tyche_driver::compile_source(sources, &path.display().to_string(), &text)
        .map_err(|d| report(io, &d, sources))
}

/// Reads a program file's text.
pub(crate) fn read_source(io: &mut Io, path: &std::path::Path) -> Result<String, u8> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            let _ = writeln!(io.err, "error: {} is not valid UTF-8 text", path.display());
            DIAGNOSED
        }),
        Err(e) => Err(usage(io, format!("cannot read {}: {e}", path.display()))),
    }
}

pub(crate) fn failed(io: &mut Io, msg: impl std::fmt::Display) -> u8 {
    let _ = writeln!(io.err, "error: {msg}");
    DIAGNOSED
}

/// Renders warnings (the command goes on).
pub(crate) fn warn(io: &mut Io, diags: &[Diagnostic], sources: &SourceMap) {
    if !diags.is_empty() {
        let _ = write!(io.err, "{}", render_all(diags, sources, io.color));
    }
}

/// Reads and parses `--data FILE.json` (adding it to `sources` so errors
/// can point into it); an unreadable file is a usage error.
pub(crate) fn read_data(
    io: &mut Io,
    sources: &mut SourceMap,
    path: Option<&std::path::Path>,
) -> Result<Option<(tyche_core::FileId, serde_json::Value)>, u8> {
    let Some(path) = path else { return Ok(None) };
    let bytes = std::fs::read(path)
        .map_err(|e| usage(io, format!("cannot read data file {}: {e}", path.display())))?;
    // Bytes that are not UTF-8 are bad data (exit 1, located), not usage.
    tyche_driver::parse_data_bytes(sources, &path.display().to_string(), bytes)
        .map(Some)
        .map_err(|d| report(io, &[d], sources))
}
