//! Evaluating top-level constants and data defaults, and choosing the
//! model function.

use crate::compile::Compiled;
use std::collections::HashMap;
use std::sync::Arc;
use tyche_core::{Diagnostic, SourceMap};
use tyche_ir::{FuncId, GlobalId, GlobalKind, Type};
use tyche_vm::{Effect, Machine, Value};

/// Computes every global in dependency order. Top-level constants must be
/// deterministic: a random choice or observation in one is an error.
pub fn evaluate_globals(
    ir: &Arc<tyche_ir::Program>,
    bound: &HashMap<GlobalId, Value>,
) -> Result<Arc<Vec<Value>>, Diagnostic> {
    let mut values: Vec<Value> = vec![Value::Unit; ir.globals.len()];
    for (i, g) in ir.globals.iter().enumerate() {
        let init = match (&g.kind, bound.get(&GlobalId(i as u32))) {
            (_, Some(v)) => {
                values[i] = v.clone();
                continue;
            }
            (GlobalKind::Const { init }, None) => *init,
            (GlobalKind::Data { default: Some(d) }, None) => *d,
            (GlobalKind::Data { default: None }, None) => continue,
        };
        let mut m = Machine::for_function(Arc::clone(ir), Arc::new(values.clone()), init)?;
        values[i] = match m.run()? {
            Effect::Done(v) => v,
            Effect::Infer { span, .. } => {
                return Err(Diagnostic::error(format!(
                    "top-level constant `{}` runs inference",
                    g.name
                ))
                .with_code("E0602")
                .with_primary(span, "inference is not allowed in a top-level constant")
                .with_help("call `infer` inside a function instead"))
            }
            Effect::Sample { site, .. }
            | Effect::Observe { site, .. }
            | Effect::Factor { site, .. }
            | Effect::Intervened { site, .. } => {
                let site = ir.site(site);
                return Err(Diagnostic::error(format!(
                    "top-level constant `{}` is random",
                    g.name
                ))
                .with_code("E0602")
                .with_primary(
                    site.span,
                    format!(
                        "this {} runs when `{}` is computed",
                        site.kind.name(),
                        g.name
                    ),
                )
                .with_secondary(g.span, "constants are computed once, before inference")
                .with_help("move the random part into a function such as `model`"));
            }
        };
    }
    Ok(Arc::new(values))
}

/// Finds the zero-argument function `name` to infer.
pub fn model(compiled: &Compiled, sources: &SourceMap, name: &str) -> Result<FuncId, Diagnostic> {
    let ir = &compiled.ir;
    let user_fns: Vec<&tyche_syntax::ast::FnDef> = compiled
        .ast
        .items
        .iter()
        .filter_map(|i| match i {
            tyche_syntax::ast::Item::Fn(f) if f.name.span.file == compiled.file => Some(f),
            _ => None,
        })
        .collect();
    let Some(def) = user_fns.iter().find(|f| f.name.name == name) else {
        let file = sources.name(compiled.file);
        let mut d = Diagnostic::error(format!("no function `{name}` to infer in {file}"))
            .with_code("E0404");
        let candidates: Vec<&str> = user_fns
            .iter()
            .filter(|f| f.params.is_empty())
            .map(|f| f.name.name.as_str())
            .collect();
        if let Some(best) = tyche_core::suggest::best_match(name, candidates.iter().copied()) {
            d = d.with_help(format!("did you mean `{best}`?"));
        }
        d = if candidates.is_empty() {
            d.with_help("define a model: `fn model() { … }`")
        } else {
            d.with_note(format!(
                "zero-argument functions here: {}",
                candidates.join(", ")
            ))
            .with_help("pick one with `--model NAME`")
        };
        return Err(d);
    };
    if !def.params.is_empty() {
        return Err(Diagnostic::error(format!(
            "`{name}` takes arguments, so it cannot be a model"
        ))
        .with_code("E0405")
        .with_primary(
            def.name.span,
            match def.params.len() {
                1 => format!("`{name}` has a parameter"),
                n => format!("`{name}` has {n} parameters"),
            },
        )
        .with_help("a model is a zero-argument function; wrap it: `fn model() { f(…) }`"));
    }
    let id = ir
        .func_by_name(name)
        .expect("every user function is lowered");
    Ok(id)
}

/// The model function's result type.
pub fn result_type(program: &tyche_ir::Program, func: FuncId) -> Type {
    program.func(func).result_type()
}
