//! Which top-level names a definition or expression reads: the REPL
//! uses it to know which cached constants a redefinition invalidates and
//! which code needs a data item that has no value yet. The walk itself is
//! lowering's (`tyche_lower::free_vars`), so both agree on scoping.

use tyche_syntax::ast::{Expr, Item};

/// Names used in `e` but not bound inside it, in first-use order.
pub(crate) fn free_vars(e: &Expr) -> Vec<String> {
    tyche_lower::free_vars(e)
}

/// Names an item's body reads that it does not bind itself.
pub(crate) fn item_uses(item: &Item) -> Vec<String> {
    match item {
        Item::Let { value, .. } => free_vars(value),
        Item::Data { default, .. } => default.as_ref().map(free_vars).unwrap_or_default(),
        Item::Fn(f) => free_vars(&f.body)
            .into_iter()
            .filter(|n| !f.params.iter().any(|p| &p.name.name == n))
            .collect(),
    }
}
