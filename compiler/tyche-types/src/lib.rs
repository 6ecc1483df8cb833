//! Tyche's type checker: Hindley–Milner inference with let-polymorphism,
//! numeric type classes for `Int`/`Real` arithmetic, and the literal rule
//! of LANGUAGE.md §2 (an integer literal is a `Real` where one is expected).
//!
//! [`check_program`] checks a whole program (prelude items followed by the
//! user's) and returns a [`TypeInfo`] side table for lowering. The REPL
//! keeps a [`Checker`] instead and feeds it items and expressions one
//! input at a time.
//!
//! Error codes: E0301 mismatched types, E0302 wrong number of arguments,
//! E0303 infinite type, E0304 type annotations needed, E0305 no such tuple
//! field, E0306 call of a non-function, E0307 operator on a non-number,
//! E0308 `==` on an incomparable type, E0309 tuple pattern arity, E0310
//! choice name not a literal, E0311 one choice name at two types (in one
//! function, or in the model a surgery edits), E0312
//! cycle among constants, E0313 unknown type name, E0401 unknown name,
//! E0402 item defined twice, E0403 name bound twice in one pattern, E0805
//! a surgery value of the wrong type for the model's choice.

mod builtins;
mod check;
mod deps;
mod suggest;
mod ty;

use std::collections::{HashMap, HashSet};

use tyche_core::Diagnostic;
use tyche_syntax::ast;

pub use builtins::{builtin_doc, builtin_names, builtin_signature, is_method};
pub use check::Checker;

/// What the checker learnt about a program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TypeInfo {
    /// Type of every expression, indexed by `ExprId.0`, fully resolved
    /// after defaulting (`None` only for error nodes, expressions whose
    /// type involves an error, and ids never seen).
    ///
    /// Expressions inside a polymorphic function keep that function's
    /// quantified variables as `Type::Var(n)`; the same `n` appears in
    /// [`TypeInfo::items`].
    pub expr_types: Vec<Option<tyche_ir::Type>>,
    /// Generalised type of each top-level item (fn, let, data); quantified
    /// variables are `Type::Var`.
    pub items: HashMap<String, tyche_ir::Type>,
    /// Value type of each named random choice (`let x ~ D;`,
    /// `sample("x", D)`), by name: the first seen, where models use one
    /// name at different types (a name's type is per model; surgery
    /// checks it against the model it edits).
    pub choice_types: HashMap<String, tyche_ir::Type>,
    /// The quantified variables that stand for "`Int` or `Real`" (from
    /// `fn add(a, b) { a + b }`): values of these types are numbers whose
    /// representation is decided by the caller's arguments.
    pub numeric_vars: HashSet<u32>,
}

/// Checks a whole program. `program.items` holds the standard library's
/// items followed by the user's; they are checked as one set, in
/// dependency order. Diagnostics come out in source order.
pub fn check_program(program: &ast::Program) -> (TypeInfo, Vec<Diagnostic>) {
    let mut c = Checker::new();
    c.reserve_exprs(program.expr_count);
    let diags = c.add_items(&program.items);
    (c.type_info(), diags)
}

/// [`check_program`] with host functions in scope: each `(name, type)`
/// is declared with [`Checker::add_extern`] before the items are checked
/// (the embedding API's registered Rust functions).
pub fn check_program_with(
    program: &ast::Program,
    externs: &[(String, tyche_ir::Type)],
) -> (TypeInfo, Vec<Diagnostic>) {
    let mut c = Checker::new();
    for (name, ty) in externs {
        c.add_extern(name, ty);
    }
    c.reserve_exprs(program.expr_count);
    let diags = c.add_items(&program.items);
    (c.type_info(), diags)
}

/// Prints a type for people: variables renamed `'a`, `'b`, … in order of
/// appearance, and a `where 'a: Num` clause for those in `numeric` (from
/// [`TypeInfo::numeric_vars`]), e.g. `('a, 'a) -> 'a where 'a: Num`.
pub fn display_type(t: &tyche_ir::Type, numeric: &HashSet<u32>) -> String {
    fn rename(t: &tyche_ir::Type, map: &mut Vec<u32>) -> tyche_ir::Type {
        use tyche_ir::Type;
        match t {
            Type::Var(v) => {
                let i = map.iter().position(|x| x == v).unwrap_or_else(|| {
                    map.push(*v);
                    map.len() - 1
                });
                Type::Var(i as u32)
            }
            Type::Array(e) => Type::array(rename(e, map)),
            Type::Dist(e) => Type::dist(rename(e, map)),
            Type::Tuple(ts) => Type::Tuple(ts.iter().map(|t| rename(t, map)).collect()),
            Type::Record(fs) => Type::Record(
                fs.iter()
                    .map(|(n, t)| (n.clone(), rename(t, map)))
                    .collect(),
            ),
            Type::Fn(ps, r) => {
                let ps = ps.iter().map(|t| rename(t, map)).collect();
                Type::func(ps, rename(r, map))
            }
            t => t.clone(),
        }
    }
    let mut map = Vec::new();
    let mut s = rename(t, &mut map).to_string();
    let nums: Vec<String> = map
        .iter()
        .enumerate()
        .filter(|(_, v)| numeric.contains(v))
        .map(|(i, _)| ty::var_name(i))
        .collect();
    if !nums.is_empty() {
        s.push_str(" where ");
        s.push_str(
            &nums
                .iter()
                .map(|n| format!("{n}: Num"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    s
}
