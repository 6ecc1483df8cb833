//! Helpers shared by the checker's integration tests: parse source text,
//! check it, and render diagnostics exactly as `tyche check` would.

#![allow(dead_code)]

use tyche_core::{render_all, Diagnostic, SourceMap};
use tyche_syntax::ast::{Expr, ExprKind, Item, Program, Stmt};
use tyche_types::{check_program, display_type, TypeInfo};

pub struct Checked {
    pub program: Program,
    pub info: TypeInfo,
    pub diags: Vec<Diagnostic>,
    pub map: SourceMap,
}

impl Checked {
    pub fn rendered(&self) -> String {
        render_all(&self.diags, &self.map, false)
    }

    /// An item's type as people read it.
    pub fn item(&self, name: &str) -> String {
        let t = self
            .info
            .items
            .get(name)
            .unwrap_or_else(|| panic!("no item `{name}`"));
        display_type(t, &self.info.numeric_vars)
    }

    pub fn choice(&self, name: &str) -> String {
        self.info
            .choice_types
            .get(name)
            .unwrap_or_else(|| panic!("no choice `{name}`"))
            .to_string()
    }

    pub fn codes(&self) -> Vec<String> {
        self.diags
            .iter()
            .map(|d| d.code.clone().unwrap_or_default())
            .collect()
    }

    /// Types recorded for every expression matching `pred`, in source order.
    pub fn types_of(&self, pred: impl Fn(&Expr) -> bool) -> Vec<String> {
        let mut found = Vec::new();
        for item in &self.program.items {
            match item {
                Item::Let { value, .. } => walk(value, &mut found),
                Item::Data {
                    default: Some(d), ..
                } => walk(d, &mut found),
                Item::Data { .. } => {}
                Item::Fn(f) => walk(&f.body, &mut found),
            }
        }
        found.retain(|e| pred(e));
        found.sort_by_key(|e| e.span.start);
        found
            .iter()
            .map(|e| match &self.info.expr_types[e.id.0 as usize] {
                Some(t) => display_type(t, &self.info.numeric_vars),
                None => "<none>".to_string(),
            })
            .collect()
    }
}

fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    out.push(e);
    let mut go = |x: &'a Expr| walk(x, out);
    match &e.kind {
        ExprKind::Block(stmts, tail) => {
            for s in stmts {
                match s {
                    Stmt::Let { value, .. } | Stmt::LetTuple { value, .. } => go(value),
                    Stmt::Sample { dist, .. } => go(dist),
                    Stmt::Expr(x) => go(x),
                }
            }
            if let Some(t) = tail {
                go(t)
            }
        }
        ExprKind::If(c, t, f) => {
            go(c);
            go(t);
            if let Some(f) = f {
                go(f)
            }
        }
        ExprKind::For(_, a, b)
        | ExprKind::Range(a, b)
        | ExprKind::Index(a, b)
        | ExprKind::Binary(_, a, b) => {
            go(a);
            go(b)
        }
        ExprKind::Lambda(_, b) | ExprKind::Field(b, _, _) | ExprKind::Unary(_, b) => go(b),
        ExprKind::Call(f, args) => {
            go(f);
            args.iter().for_each(go)
        }
        ExprKind::Array(es) | ExprKind::Tuple(es) => es.iter().for_each(go),
        ExprKind::Surgery(_, m, args) => {
            go(m);
            args.iter().for_each(|a| go(&a.value))
        }
        _ => {}
    }
}

/// Parses (asserting no syntax errors) and checks a user program.
pub fn check(src: &str) -> Checked {
    let mut map = SourceMap::new();
    let file = map.add("test.ppl", src);
    let (program, pd) = tyche_syntax::parse_program(file, src, 0);
    assert!(
        pd.is_empty(),
        "syntax errors:\n{}",
        render_all(&pd, &map, false)
    );
    let (info, diags) = check_program(&program);
    assert_eq!(info.expr_types.len(), program.expr_count as usize);
    Checked {
        program,
        info,
        diags,
        map,
    }
}

/// Checks a program that must have no diagnostics.
pub fn ok(src: &str) -> Checked {
    let c = check(src);
    assert!(
        c.diags.is_empty(),
        "unexpected diagnostics:\n{}",
        c.rendered()
    );
    c
}

/// The rendered diagnostics of a program that must have some.
pub fn errors(src: &str) -> String {
    let c = check(src);
    assert!(!c.diags.is_empty(), "expected diagnostics");
    c.rendered()
}

pub fn is_int_literal(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Int(_))
}
