//! Tree construction for the grammar's actions: spans, depth limits, and
//! the few desugarings the parser performs.
//!
//! While parsing, an expression's [`ExprId`] temporarily holds the depth of
//! its subtree (a leaf is 1). That lets every constructor refuse to build a
//! tree deeper than [`MAX_EXPR_DEPTH`] without walking it, so no tree that
//! exists during or after parsing can overflow the stack when it is
//! dropped, compared or walked recursively by later phases. Real ids are
//! assigned afterwards by [`crate::walk::renumber`].

use crate::ast::*;
use crate::lexer::Tok;
use crate::MAX_EXPR_DEPTH;
use lalrpop_util::{ErrorRecovery, ParseError};
use std::cell::Cell;
use std::rc::Rc;
use tyche_core::{Diagnostic, FileId, Span};

/// The lexer never reports errors through lalrpop (it reports diagnostics
/// itself), so the parser's user error type is uninhabited.
#[derive(Clone, Debug, PartialEq)]
pub enum NoError {}

pub type RawParseError = ParseError<usize, Tok, NoError>;

/// A type with the depth of its tree (see the module doc).
pub type Ty = (TypeExpr, u32);

/// One element of a block body before the tail is decided.
pub enum StmtPiece {
    Stmt(Stmt),
    /// `if`/`for`/`{…}` in statement position without `;`: a statement,
    /// or the block's value if it is last.
    BlockLike(Expr),
    /// A `;` on its own (also the `;` after a block-like statement).
    Empty,
}

/// A top-level declaration: an item, or one of the statement forms that
/// only the REPL accepts at top level.
pub enum TopDecl {
    Item(Item),
    Sample {
        name: Ident,
        ty: Option<TypeExpr>,
        dist: Expr,
        span: Span,
    },
    Tuple {
        names: Vec<Ident>,
        value: Expr,
        span: Span,
    },
}

/// What the start symbol produces.
pub enum Parsed {
    Program(Vec<Item>),
    Repl(crate::ReplInput),
}

/// State shared by all grammar actions of one parse.
pub struct Ctx {
    pub file: FileId,
    /// Diagnostics found while building the tree (not syntax errors).
    pub diags: Vec<Diagnostic>,
    /// Syntax errors the parser recovered from, converted after parsing.
    pub syntax_errors: Vec<RawParseError>,
    /// Shared with the token iterator, which stops feeding tokens once too
    /// many errors were found.
    pub error_count: Rc<Cell<usize>>,
    /// One "too deep" report per item is enough.
    deep_reported: bool,
    /// Integer literals above `i64::MAX`: an error unless negated (which
    /// removes the entry, for `-9223372036854775808`).
    overflowed_ints: Vec<(Span, u64)>,
    /// `y ~ D;` statements, reported once the tree shows what `y` is.
    pub tildes: Vec<crate::habits::Tilde>,
}

impl Ctx {
    pub fn new(file: FileId, error_count: Rc<Cell<usize>>) -> Ctx {
        Ctx {
            file,
            diags: Vec::new(),
            syntax_errors: Vec::new(),
            error_count,
            deep_reported: false,
            overflowed_ints: Vec::new(),
            tildes: Vec::new(),
        }
    }

    pub fn span(&self, l: usize, r: usize) -> Span {
        Span::new(self.file, l, r)
    }

    pub fn ident(&self, name: String, l: usize, r: usize) -> Ident {
        Ident {
            name,
            span: self.span(l, r),
        }
    }

    /// Records a syntax error the parser recovered from.
    pub fn recovered(&mut self, e: ErrorRecovery<usize, Tok, NoError>) {
        self.error_count.set(self.error_count.get() + 1);
        self.syntax_errors.push(e.error);
    }

    /// Called when an item is complete.
    pub fn end_item(&mut self) {
        self.deep_reported = false;
    }

    /// Reports literals that stayed too large; called after parsing.
    pub fn finish(&mut self) {
        for (span, _) in std::mem::take(&mut self.overflowed_ints) {
            self.diags.push(crate::lexer::int_too_large(span));
        }
    }

    // ---- expressions ----

    /// Builds a node, or an error node if it would be too deep.
    pub fn expr(&mut self, kind: ExprKind, span: Span) -> Expr {
        let depth = 1 + max_child_depth(&kind);
        if depth as usize > MAX_EXPR_DEPTH {
            if !self.deep_reported {
                self.deep_reported = true;
                self.diags.push(too_deep(span, "expression"));
            }
            // The children are at most MAX_EXPR_DEPTH deep, so dropping
            // them here is bounded recursion.
            drop(kind);
            return Expr {
                id: ExprId(1),
                span,
                kind: ExprKind::Error,
            };
        }
        Expr {
            id: ExprId(depth),
            span,
            kind,
        }
    }

    pub fn mk(&mut self, kind: ExprKind, l: usize, r: usize) -> Expr {
        let span = self.span(l, r);
        self.expr(kind, span)
    }

    pub fn error_expr(&mut self, l: usize, r: usize) -> Expr {
        self.mk(ExprKind::Error, l, r)
    }

    pub fn recovered_expr(
        &mut self,
        e: ErrorRecovery<usize, Tok, NoError>,
        l: usize,
        r: usize,
    ) -> Expr {
        self.recovered(e);
        self.error_expr(l, r)
    }

    pub fn int(&mut self, v: u64, l: usize, r: usize) -> Expr {
        match i64::try_from(v) {
            Ok(i) => self.mk(ExprKind::Int(i), l, r),
            Err(_) => {
                let span = self.span(l, r);
                self.overflowed_ints.push((span, v));
                self.expr(ExprKind::Int(i64::MAX), span)
            }
        }
    }

    pub fn binary(&mut self, op: BinOp, a: Expr, b: Expr, l: usize, r: usize) -> Expr {
        self.mk(ExprKind::Binary(op, Box::new(a), Box::new(b)), l, r)
    }

    /// `-` on a numeric literal folds into the literal, so `-1` is an
    /// integer literal for the literal-to-Real rule and `i64::MIN` can be
    /// written.
    pub fn unary(&mut self, op: UnOp, e: Expr, l: usize, r: usize) -> Expr {
        if op == UnOp::Neg {
            let folded = match e.kind {
                ExprKind::Int(i) => {
                    let pos = self.overflowed_ints.iter().position(|(s, _)| *s == e.span);
                    match pos {
                        Some(p) if self.overflowed_ints[p].1 == 1u64 << 63 => {
                            self.overflowed_ints.remove(p);
                            Some(ExprKind::Int(i64::MIN))
                        }
                        Some(_) => None,
                        // `-(i64::MIN)` does not fold: the runtime reports
                        // the overflow.
                        None => i.checked_neg().map(ExprKind::Int),
                    }
                }
                ExprKind::Real(x) => Some(ExprKind::Real(-x)),
                _ => None,
            };
            if let Some(kind) = folded {
                return self.mk(kind, l, r);
            }
        }
        self.mk(ExprKind::Unary(op, Box::new(e)), l, r)
    }

    pub fn field(&mut self, e: Expr, index: u64, il: usize, ir: usize, l: usize, r: usize) -> Expr {
        let ispan = self.span(il, ir);
        let index = match u32::try_from(index) {
            Ok(i) => i,
            Err(_) => {
                self.diags.push(
                    Diagnostic::error("tuple field index is too large")
                        .with_code("E0205")
                        .with_primary(ispan, "not a field of any tuple"),
                );
                u32::MAX
            }
        };
        self.mk(ExprKind::Field(Box::new(e), index, ispan), l, r)
    }

    /// `(e, …)`: a tuple; `(e,)` is reported (there are no 1-tuples).
    pub fn tuple(&mut self, first: Expr, mut rest: Vec<Expr>, l: usize, r: usize) -> Expr {
        if rest.is_empty() {
            let span = self.span(l, r);
            self.diags.push(
                Diagnostic::error("one-element tuples are not supported")
                    .with_code("E0207")
                    .with_primary(span, "a tuple needs at least two elements")
                    .with_help("remove the `,` to write a parenthesised expression"),
            );
            return first;
        }
        rest.insert(0, first);
        self.mk(ExprKind::Tuple(rest), l, r)
    }

    pub fn block(
        &mut self,
        pieces: Vec<StmtPiece>,
        tail: Option<Expr>,
        l: usize,
        r: usize,
    ) -> Expr {
        let mut stmts = Vec::with_capacity(pieces.len());
        let mut tail = tail;
        let last_is_block_like = matches!(pieces.last(), Some(StmtPiece::BlockLike(_)));
        for piece in pieces {
            match piece {
                StmtPiece::Stmt(s) => stmts.push(s),
                StmtPiece::BlockLike(e) => stmts.push(Stmt::Expr(e)),
                StmtPiece::Empty => {}
            }
        }
        // A block-like expression last in the block, without `;`, is its
        // value (as in Rust).
        if tail.is_none() && last_is_block_like {
            if let Some(Stmt::Expr(e)) = stmts.pop() {
                tail = Some(e);
            }
        }
        self.mk(ExprKind::Block(stmts, tail.map(Box::new)), l, r)
    }

    /// `condition(b)` with one argument is the ordinary `condition`
    /// function; everything else with a surgery keyword is surgery.
    pub fn surgery(
        &mut self,
        kind: SurgeryKind,
        kw: Span,
        model: Expr,
        args: Vec<SurgeryArg>,
        l: usize,
        r: usize,
    ) -> Expr {
        if kind == SurgeryKind::Condition && args.is_empty() {
            let callee = self.expr(ExprKind::Var("condition".to_string()), kw);
            return self.mk(ExprKind::Call(Box::new(callee), vec![model]), l, r);
        }
        self.mk(ExprKind::Surgery(kind, Box::new(model), args), l, r)
    }

    // ---- types ----

    fn ty(&mut self, t: TypeExpr, depth: u32) -> Ty {
        if depth as usize > MAX_EXPR_DEPTH {
            let span = t.span();
            if !self.deep_reported {
                self.deep_reported = true;
                self.diags.push(too_deep(span, "type"));
            }
            // Children are within the limit, so this drop is bounded.
            drop(t);
            return (TypeExpr::Unit(span), 1);
        }
        (t, depth)
    }

    /// `( … )` without a following `->`: unit, grouping or tuple;
    /// `(T,)` is reported (there are no 1-tuples).
    pub fn paren_type(&mut self, mut ts: Vec<Ty>, trailing_comma: bool, l: usize, r: usize) -> Ty {
        let span = self.span(l, r);
        match ts.len() {
            0 => (TypeExpr::Unit(span), 1),
            1 => {
                if trailing_comma {
                    self.diags.push(
                        Diagnostic::error("one-element tuple types are not supported")
                            .with_code("E0207")
                            .with_primary(span, "a tuple type needs at least two elements")
                            .with_help("remove the `,` to write the element type itself"),
                    );
                }
                ts.pop().expect("one element")
            }
            _ => {
                let d = 1 + ts.iter().map(|t| t.1).max().unwrap_or(0);
                let t = TypeExpr::Tuple(ts.into_iter().map(|t| t.0).collect(), span);
                self.ty(t, d)
            }
        }
    }

    pub fn fn_type(&mut self, params: Vec<Ty>, ret: Ty, l: usize, r: usize) -> Ty {
        let d = 1 + params.iter().map(|t| t.1).max().unwrap_or(0).max(ret.1);
        let t = TypeExpr::Fn(
            params.into_iter().map(|t| t.0).collect(),
            Box::new(ret.0),
            self.span(l, r),
        );
        self.ty(t, d)
    }

    pub fn array_type(&mut self, elem: Ty, l: usize, r: usize) -> Ty {
        let t = TypeExpr::Array(Box::new(elem.0), self.span(l, r));
        self.ty(t, elem.1 + 1)
    }

    /// `{a: T, b: U}`: a record type; a field named twice is E0213.
    pub fn record_type(&mut self, fields: Vec<(Ident, Ty)>, l: usize, r: usize) -> Ty {
        self.distinct_fields(fields.iter().map(|(n, _)| n));
        let depth = fields.iter().map(|(_, t)| t.1).max().unwrap_or(0) + 1;
        let fs = fields.into_iter().map(|(n, t)| (n, t.0)).collect();
        let t = TypeExpr::Record(fs, self.span(l, r));
        self.ty(t, depth)
    }

    /// `{a: e, b: e}`: a record; a field named twice is E0213.
    pub fn record(&mut self, fields: Vec<(Ident, Expr)>, l: usize, r: usize) -> Expr {
        self.distinct_fields(fields.iter().map(|(n, _)| n));
        self.mk(ExprKind::Record(fields), l, r)
    }

    fn distinct_fields<'a>(&mut self, names: impl Iterator<Item = &'a Ident>) {
        let mut seen: Vec<&Ident> = Vec::new();
        for n in names {
            if let Some(first) = seen.iter().find(|s| s.name == n.name) {
                self.diags.push(
                    Diagnostic::error(format!("the field `{}` is given twice", n.name))
                        .with_code("E0213")
                        .with_primary(n.span, "given again here")
                        .with_secondary(first.span, "first given here"),
                );
            } else {
                seen.push(n);
            }
        }
    }

    /// `Name<T>`: only `Dist` takes a type argument.
    pub fn generic_type(&mut self, name: Ident, arg: Ty, l: usize, r: usize) -> Ty {
        if name.name != "Dist" {
            self.diags.push(
                Diagnostic::error(format!(
                    "type `{}` does not take a type argument",
                    name.name
                ))
                .with_code("E0208")
                .with_primary(name.span, "only `Dist<T>` has a type argument"),
            );
            return (TypeExpr::Named(name), 1);
        }
        let t = TypeExpr::Dist(Box::new(arg.0), self.span(l, r));
        self.ty(t, arg.1 + 1)
    }

    /// `TARGET ~ DIST;`, a Stan habit: recorded, and dropped from the tree.
    pub fn tilde_stmt(&mut self, target: Expr, dist: Expr, l: usize, r: usize) {
        let span = self.span(l, r);
        self.tildes
            .push(crate::habits::Tilde::new(&target, &dist, span));
    }

    pub fn nested_fn(&mut self, l: usize, r: usize) {
        let span = self.span(l, r);
        self.diags.push(
            Diagnostic::error("functions cannot be nested")
                .with_code("E0210")
                .with_primary(span, "a `fn` inside a block")
                .with_help("move it to the top level, or bind a lambda: `let f = |x| …;`"),
        );
    }

    // ---- top level ----

    /// A top-level declaration in a file: statement-only forms are
    /// reported and dropped.
    pub fn program_decl(&mut self, d: TopDecl) -> Option<Item> {
        self.end_item();
        match d {
            TopDecl::Item(i) => Some(i),
            TopDecl::Sample { span, .. } => {
                self.diags.push(
                    Diagnostic::error("random choices can only be made inside a function")
                        .with_code("E0206")
                        .with_primary(span, "`let … ~ …` at top level")
                        .with_help("move it into a function, e.g. `fn model() { … }`"),
                );
                None
            }
            TopDecl::Tuple { span, .. } => {
                self.diags.push(
                    Diagnostic::error("top-level `let` binds a single name")
                        .with_code("E0206")
                        .with_primary(span, "tuple pattern at top level")
                        .with_help("bind the tuple to a name and use `t.0`, `t.1`, …"),
                );
                None
            }
        }
    }

    /// A top-level declaration at the REPL: statements become items
    /// (`let x ~ D;` is `let x = sample("x", D);`, and `let (a, b) = e;`
    /// binds a hidden tuple and one item per field).
    pub fn repl_decl(&mut self, d: TopDecl, out: &mut Vec<Item>) {
        self.end_item();
        match d {
            TopDecl::Item(i) => out.push(i),
            TopDecl::Sample {
                name,
                ty,
                dist,
                span,
            } => {
                let callee = self.expr(ExprKind::Var("sample".to_string()), span);
                let label = self.expr(ExprKind::Str(name.name.clone()), name.span);
                let value = self.expr(ExprKind::Call(Box::new(callee), vec![label, dist]), span);
                out.push(Item::Let {
                    name,
                    ty,
                    value,
                    span,
                });
            }
            TopDecl::Tuple { names, value, span } => {
                let hidden = Ident {
                    name: format!("$tuple{}_{}", span.file.0, span.start),
                    span,
                };
                out.push(Item::Let {
                    name: hidden.clone(),
                    ty: None,
                    value,
                    span,
                });
                for (i, name) in names.into_iter().enumerate() {
                    let var = self.expr(ExprKind::Var(hidden.name.clone()), name.span);
                    let value = self.expr(
                        ExprKind::Field(Box::new(var), i as u32, name.span),
                        name.span,
                    );
                    out.push(Item::Let {
                        name,
                        ty: None,
                        value,
                        span,
                    });
                }
            }
        }
    }
}

fn too_deep(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "{what} nested too deeply (more than {MAX_EXPR_DEPTH} levels)"
    ))
    .with_code("E0204")
    .with_primary(span, "this is too deep")
    .with_help("split it into smaller parts with `let` bindings or functions")
}

/// The largest depth among a node's direct children (their ids hold their
/// depths during parsing).
fn max_child_depth(kind: &ExprKind) -> u32 {
    let d = |e: &Expr| e.id.0;
    let ds = |es: &[Expr]| es.iter().map(|e| e.id.0).max().unwrap_or(0);
    match kind {
        ExprKind::Int(_)
        | ExprKind::Real(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Var(_)
        | ExprKind::Error => 0,
        ExprKind::Block(stmts, tail) => {
            let s = stmts
                .iter()
                .map(|s| match s {
                    Stmt::Let { value, .. } | Stmt::LetTuple { value, .. } => d(value),
                    Stmt::Sample { dist, .. } => d(dist),
                    Stmt::Expr(e) => d(e),
                })
                .max()
                .unwrap_or(0);
            s.max(tail.as_deref().map_or(0, d))
        }
        ExprKind::If(c, t, e) => d(c).max(d(t)).max(e.as_deref().map_or(0, d)),
        ExprKind::For(_, a, b)
        | ExprKind::Range(a, b)
        | ExprKind::Index(a, b)
        | ExprKind::Binary(_, a, b) => d(a).max(d(b)),
        ExprKind::Lambda(_, b)
        | ExprKind::Field(b, _, _)
        | ExprKind::Member(b, _)
        | ExprKind::Unary(_, b) => d(b),
        ExprKind::Record(fs) => fs.iter().map(|(_, e)| d(e)).max().unwrap_or(0),
        ExprKind::Call(f, args) => d(f).max(ds(args)),
        ExprKind::Array(es) | ExprKind::Tuple(es) => ds(es),
        ExprKind::Surgery(_, m, args) => {
            d(m).max(args.iter().map(|a| d(&a.value)).max().unwrap_or(0))
        }
    }
}
