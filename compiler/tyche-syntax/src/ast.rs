//! The abstract syntax tree: what the parser produces and the type checker
//! and lowering read.
//!
//! Every node carries a [`Span`]. Expressions also carry an [`ExprId`],
//! unique within one [`Program`], which later phases use to attach facts
//! (types, resolved names) in side tables instead of mutating the tree.

use tyche_core::Span;

/// Index of an expression within its program; dense from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
    /// One past the largest [`ExprId`] used in `items`.
    pub expr_count: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `let NAME [: T] = EXPR;`
    Let {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
        span: Span,
    },
    /// `data NAME: TYPE [= EXPR];`
    Data {
        name: Ident,
        ty: TypeExpr,
        default: Option<Expr>,
        span: Span,
    },
    /// `fn NAME(PARAM[: TYPE], …) [-> TYPE] BLOCK`
    Fn(FnDef),
}

impl Item {
    pub fn name(&self) -> &Ident {
        match self {
            Item::Let { name, .. } | Item::Data { name, .. } => name,
            Item::Fn(f) => &f.name,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Item::Let { span, .. } | Item::Data { span, .. } => *span,
            Item::Fn(f) => f.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
}

/// A type as written in source.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// `Int`, `Real`, `Bool`, `String`, or an unknown name (diagnosed later).
    Named(Ident),
    /// `()`
    Unit(Span),
    /// `[T]`
    Array(Box<TypeExpr>, Span),
    /// `(T, U, …)` with at least two elements.
    Tuple(Vec<TypeExpr>, Span),
    /// `(T, U) -> V`
    Fn(Vec<TypeExpr>, Box<TypeExpr>, Span),
    /// `Dist<T>`
    Dist(Box<TypeExpr>, Span),
    /// `{mu: Real, tau: Real}` (fields as written; at least one).
    Record(Vec<(Ident, TypeExpr)>, Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Unit(s)
            | TypeExpr::Array(_, s)
            | TypeExpr::Tuple(_, s)
            | TypeExpr::Fn(_, _, s)
            | TypeExpr::Dist(_, s)
            | TypeExpr::Record(_, s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub id: ExprId,
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Pow => "^",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

/// The three model-surgery forms of LANGUAGE.md §9.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SurgeryKind {
    /// `do(model, x = v, …)`
    Do,
    /// `condition(model, x = v, …)`
    Condition,
    /// `counterfactual(model, x = v, …)`
    Counterfactual,
}

impl SurgeryKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SurgeryKind::Do => "do",
            SurgeryKind::Condition => "condition",
            SurgeryKind::Counterfactual => "counterfactual",
        }
    }
}

/// `x = v` (every occurrence of `x`) or `z[3] = v` (one address).
#[derive(Clone, Debug, PartialEq)]
pub struct SurgeryArg {
    pub name: Ident,
    pub index: Option<(u64, Span)>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Real(f64),
    Bool(bool),
    Str(String),
    Unit,
    Var(String),
    /// `{ stmts; tail }`; `tail` is `None` when the block ends in `;` or is
    /// empty (value `()`).
    Block(Vec<Stmt>, Option<Box<Expr>>),
    /// `if c { … } else { … }`; a missing else is `()`.
    If(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    /// `for x in e { … }`
    For(Ident, Box<Expr>, Box<Expr>),
    /// `a..b` — the Ints from a to b-1, as an array.
    Range(Box<Expr>, Box<Expr>),
    /// `|x, y: Real| body`
    Lambda(Vec<Param>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    Array(Vec<Expr>),
    Tuple(Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    /// `t.0`
    Field(Box<Expr>, u32, Span),
    /// `{mu: e, tau: e}`, fields as written (at least one).
    Record(Vec<(Ident, Expr)>),
    /// `r.mu`
    Member(Box<Expr>, Ident),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    /// `do(...)`, `condition(model, ...)`, `counterfactual(...)`.
    /// (`condition(b)` with a single Bool argument is an ordinary call.)
    Surgery(SurgeryKind, Box<Expr>, Vec<SurgeryArg>),
    /// A placeholder where the parser recovered from an error.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let x [: T] = e;`
    Let {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
        span: Span,
    },
    /// `let (a, b, …) = e;`
    LetTuple {
        names: Vec<Ident>,
        value: Expr,
        span: Span,
    },
    /// `let x [: T] ~ D;` — a named random choice.
    Sample {
        name: Ident,
        ty: Option<TypeExpr>,
        dist: Expr,
        span: Span,
    },
    /// `e;` (or a block-like expression without `;`).
    Expr(Expr),
}
