//! Parse → check → lower → verify.

use std::collections::HashSet;
use std::sync::Arc;
use tyche_core::{Diagnostic, FileId, SourceMap};
use tyche_syntax::ast::{self, Item};
use tyche_types::TypeInfo;

/// The standard-library prelude, compiled into every program.
pub const PRELUDE: &str = include_str!("../../../stdlib/prelude.ppl");
pub const PRELUDE_NAME: &str = "<prelude>";

/// A program that passed every front-end phase.
pub struct Compiled {
    pub ast: ast::Program,
    pub types: TypeInfo,
    pub ir: Arc<tyche_ir::Program>,
    /// The user's file (the prelude is another file of the same map).
    pub file: FileId,
}

/// Compiles `text` as a file named `name`, adding it (and the prelude) to
/// `sources`. On failure returns every diagnostic found.
pub fn compile_source(
    sources: &mut SourceMap,
    name: &str,
    text: &str,
) -> Result<Compiled, Vec<Diagnostic>> {
    let file = sources.add(name, text);
    compile(sources, file)
}

/// [`compile_source`] with host functions (the embedding API's registered
/// Rust functions) in scope: the type checker knows their types, calls
/// become `Instr::Foreign`, and the program's `foreign` table is `foreign`.
pub fn compile_source_with(
    sources: &mut SourceMap,
    name: &str,
    text: &str,
    foreign: &[tyche_ir::Foreign],
) -> Result<Compiled, Vec<Diagnostic>> {
    let file = sources.add(name, text);
    compile_with(sources, file, foreign)
}

/// Compiles an already-added file.
pub fn compile(sources: &mut SourceMap, file: FileId) -> Result<Compiled, Vec<Diagnostic>> {
    compile_with(sources, file, &[])
}

/// Compiles an already-added file with host functions in scope (see
/// [`compile_source_with`]).
pub fn compile_with(
    sources: &mut SourceMap,
    file: FileId,
    foreign: &[tyche_ir::Foreign],
) -> Result<Compiled, Vec<Diagnostic>> {
    let existing = sources
        .files()
        .find(|(_, f)| f.name == PRELUDE_NAME)
        .map(|(id, _)| id);
    let prelude_file = existing.unwrap_or_else(|| sources.add(PRELUDE_NAME, PRELUDE));
    let (prelude, mut diags) = tyche_syntax::parse_program(prelude_file, PRELUDE, 0);
    let text = sources.text(file).to_string();
    let (user, user_diags) = tyche_syntax::parse_program(file, &text, prelude.expr_count);
    diags.extend(user_diags);
    if diags.iter().any(|d| d.is_error()) {
        return Err(diags);
    }
    // A user definition, or a host function, replaces a prelude function
    // of the same name.
    let user_names: HashSet<&str> = user
        .items
        .iter()
        .map(|i| i.name().name.as_str())
        .chain(foreign.iter().map(|f| f.name.as_str()))
        .collect();
    let mut items: Vec<Item> = prelude
        .items
        .iter()
        .filter(|i| !user_names.contains(i.name().name.as_str()))
        .cloned()
        .collect();
    items.extend(user.items.iter().cloned());
    let program = ast::Program {
        items,
        expr_count: user.expr_count,
    };

    let externs: Vec<(String, tyche_ir::Type)> = foreign
        .iter()
        .map(|f| (f.name.clone(), f.ty.clone()))
        .collect();
    let (types, type_diags) = tyche_types::check_program_with(&program, &externs);
    if type_diags.iter().any(|d| d.is_error()) {
        return Err(type_diags);
    }
    let (ir, lower_diags) = tyche_lower::lower_with(&program, &types, sources, foreign);
    if lower_diags.iter().any(|d| d.is_error()) {
        return Err(lower_diags);
    }
    if let Err(msg) = tyche_ir::verify(&ir, "lowering") {
        return Err(vec![Diagnostic::error(format!(
            "internal compiler error: {msg}"
        ))
        .with_note(
            "this is a bug in Tyche; please report it with the program",
        )]);
    }
    Ok(Compiled {
        ast: program,
        types,
        ir: Arc::new(ir),
        file,
    })
}
