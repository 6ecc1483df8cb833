//! Lowering: the checked AST becomes the register-machine IR.
//!
//! Lowering resolves every name (local register, capture, top-level
//! function, global, or built-in), turns each `~`, `sample`, `observe`,
//! `factor` and `condition` into an explicit site of the IR's site table,
//! computes closure captures, marks tail calls, and orders globals so each
//! initialiser only reads earlier ones. It assumes the program type checks;
//! it reports only what the checker cannot see.

mod builder;
mod free_vars;

pub use free_vars::free_vars;

pub use builder::surgery_diagnostic;
use builder::Lowerer;
use tyche_core::{Diagnostic, SourceMap};
use tyche_syntax::ast;
use tyche_types::TypeInfo;

/// Lowers a checked program. The result passes [`tyche_ir::verify`].
pub fn lower(
    program: &ast::Program,
    types: &TypeInfo,
    sources: &SourceMap,
) -> (tyche_ir::Program, Vec<Diagnostic>) {
    Lowerer::new(program, types, sources).run()
}

/// [`lower`] with host functions: calls to their names become
/// [`tyche_ir::Instr::Foreign`], and the result's `foreign` table is
/// `foreign` (the checker must have been told their types).
pub fn lower_with(
    program: &ast::Program,
    types: &TypeInfo,
    sources: &SourceMap,
    foreign: &[tyche_ir::Foreign],
) -> (tyche_ir::Program, Vec<Diagnostic>) {
    Lowerer::new(program, types, sources)
        .with_foreign(foreign)
        .run()
}
