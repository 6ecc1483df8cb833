//! The operations of the kernel IR and their scalar semantics.
//!
//! One definition of what each operation computes serves three places:
//! constant folding while tracing, the kernel interpreter
//! ([`Kernel::eval`](crate::Kernel::eval)) and — through the `extern "C"`
//! functions of [`special`](crate::special) for everything that is not a
//! single machine instruction — the JIT. So the three agree bit for bit.
//!
//! Values are `f64`; booleans (results of comparisons, `and`, `or`, `not`)
//! are carried as `0.0`/`1.0` by the interpreter and as `i8` by the JIT.
//!
//! [`Op::Lookup`] reads a table of the [`Graph`](crate::graph::Graph) (data
//! indexed by a random integer): it needs the tables, so the evaluators
//! that have them (the graph's folding, the step programs of
//! [`sequential`](crate::sequential), [`Exprs`](crate::exprs::Exprs))
//! evaluate it with [`lookup`]. Kernels never contain it.

use crate::special;
use std::fmt;

/// A value of the kernel IR: an index into the kernel's node arena. Its
/// `Display` is the textual form (`v12`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Unary operations on reals. `Neg`, `Abs`, `Sqrt`, `Floor`, `Ceil` are
/// machine instructions; the others are calls to [`special`] functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Un {
    Neg,
    Abs,
    Sqrt,
    Floor,
    Ceil,
    Exp,
    Ln,
    Log1p,
    Expm1,
    Lgamma,
    Digamma,
    Erf,
    Sin,
    Cos,
    Tan,
    Atan,
    Tanh,
}

impl Un {
    pub const ALL: [Un; 17] = [
        Un::Neg,
        Un::Abs,
        Un::Sqrt,
        Un::Floor,
        Un::Ceil,
        Un::Exp,
        Un::Ln,
        Un::Log1p,
        Un::Expm1,
        Un::Lgamma,
        Un::Digamma,
        Un::Erf,
        Un::Sin,
        Un::Cos,
        Un::Tan,
        Un::Atan,
        Un::Tanh,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Un::Neg => "neg",
            Un::Abs => "abs",
            Un::Sqrt => "sqrt",
            Un::Floor => "floor",
            Un::Ceil => "ceil",
            Un::Exp => "exp",
            Un::Ln => "ln",
            Un::Log1p => "log1p",
            Un::Expm1 => "expm1",
            Un::Lgamma => "lgamma",
            Un::Digamma => "digamma",
            Un::Erf => "erf",
            Un::Sin => "sin",
            Un::Cos => "cos",
            Un::Tan => "tan",
            Un::Atan => "atan",
            Un::Tanh => "tanh",
        }
    }

    /// The `extern "C"` function implementing this operation, for those
    /// the JIT calls rather than inlines.
    pub fn extern_fn(self) -> Option<(&'static str, extern "C" fn(f64) -> f64)> {
        Some(match self {
            Un::Neg | Un::Abs | Un::Sqrt | Un::Floor | Un::Ceil => return None,
            Un::Exp => ("tyche_jit_exp", special::tyche_jit_exp),
            Un::Ln => ("tyche_jit_ln", special::tyche_jit_ln),
            Un::Log1p => ("tyche_jit_log1p", special::tyche_jit_log1p),
            Un::Expm1 => ("tyche_jit_expm1", special::tyche_jit_expm1),
            Un::Lgamma => ("tyche_jit_lgamma", special::tyche_jit_lgamma),
            Un::Digamma => ("tyche_jit_digamma", special::tyche_jit_digamma),
            Un::Erf => ("tyche_jit_erf", special::tyche_jit_erf),
            Un::Sin => ("tyche_jit_sin", special::tyche_jit_sin),
            Un::Cos => ("tyche_jit_cos", special::tyche_jit_cos),
            Un::Tan => ("tyche_jit_tan", special::tyche_jit_tan),
            Un::Atan => ("tyche_jit_atan", special::tyche_jit_atan),
            Un::Tanh => ("tyche_jit_tanh", special::tyche_jit_tanh),
        })
    }

    pub fn apply(self, x: f64) -> f64 {
        match self {
            Un::Neg => -x,
            Un::Abs => x.abs(),
            Un::Sqrt => x.sqrt(),
            Un::Floor => x.floor(),
            Un::Ceil => x.ceil(),
            other => (other.extern_fn().expect("a call").1)(x),
        }
    }
}

/// Binary operations on reals. `Add`, `Sub`, `Mul`, `Div`, `Min`, `Max`
/// are inlined (`Min`/`Max` with the interpreter's NaN rule); `Rem`,
/// `Pow` and `Bd0` are calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    /// `a % b` (C `fmod`).
    Rem,
    Pow,
    /// NaN if either is NaN, else `if a < b { a } else { b }`.
    Min,
    /// NaN if either is NaN, else `if a < b { b } else { a }`.
    Max,
    /// Loader's deviance term `x ln(x/m) + m − x` (`tyche_dist::special::bd0`).
    Bd0,
}

impl Bin {
    pub const ALL: [Bin; 9] = [
        Bin::Add,
        Bin::Sub,
        Bin::Mul,
        Bin::Div,
        Bin::Rem,
        Bin::Pow,
        Bin::Min,
        Bin::Max,
        Bin::Bd0,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bin::Add => "add",
            Bin::Sub => "sub",
            Bin::Mul => "mul",
            Bin::Div => "div",
            Bin::Rem => "rem",
            Bin::Pow => "pow",
            Bin::Min => "min",
            Bin::Max => "max",
            Bin::Bd0 => "bd0",
        }
    }

    pub fn extern_fn(self) -> Option<(&'static str, extern "C" fn(f64, f64) -> f64)> {
        Some(match self {
            Bin::Rem => ("tyche_jit_rem", special::tyche_jit_rem),
            Bin::Pow => ("tyche_jit_pow", special::tyche_jit_pow),
            Bin::Bd0 => ("tyche_jit_bd0", special::tyche_jit_bd0),
            _ => return None,
        })
    }

    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Bin::Add => a + b,
            Bin::Sub => a - b,
            Bin::Mul => a * b,
            Bin::Div => a / b,
            Bin::Min => {
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else if a < b {
                    a
                } else {
                    b
                }
            }
            Bin::Max => {
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else if a < b {
                    b
                } else {
                    a
                }
            }
            other => (other.extern_fn().expect("a call").1)(a, b),
        }
    }
}

/// IEEE comparisons (false when either side is NaN, except `Ne`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Unordered: either side is NaN (`is_nan(x)` is `uno x, x`).
    Uno,
}

impl Cmp {
    pub const ALL: [Cmp; 7] = [
        Cmp::Eq,
        Cmp::Ne,
        Cmp::Lt,
        Cmp::Le,
        Cmp::Gt,
        Cmp::Ge,
        Cmp::Uno,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cmp::Eq => "eq",
            Cmp::Ne => "ne",
            Cmp::Lt => "lt",
            Cmp::Le => "le",
            Cmp::Gt => "gt",
            Cmp::Ge => "ge",
            Cmp::Uno => "uno",
        }
    }

    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Uno => a.is_nan() || b.is_nan(),
        }
    }
}

/// One node of the kernel IR. Nodes are pure: a node's value depends only
/// on its operands (and, inside a loop, on the iteration index `k`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A real constant, stored by bit pattern (so nodes can be hashed).
    Const(u64),
    /// A boolean constant.
    Bool(bool),
    /// `θ[i]`.
    Param(u32),
    /// Loop bodies only: `θ[base + stride·k]`.
    ParamAt {
        base: u32,
        stride: i32,
    },
    /// Loop bodies only: `θ[tables[offset + k]]`.
    ParamIdx(u32),
    /// Loop bodies only: `data[offset + k]`.
    Data(u32),
    /// Loop bodies only: the loop's carried value number `i` at the start
    /// of this iteration.
    Carried(u32),
    /// After a loop: its carried value number `i` after the last iteration.
    LoopOut {
        lp: u32,
        index: u32,
    },
    Un(Un, NodeId),
    Bin(Bin, NodeId, NodeId),
    Cmp(Cmp, NodeId, NodeId),
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    Not(NodeId),
    /// `if c { a } else { b }` on reals (the JIT may branch when an arm is
    /// expensive; the value is the same).
    Select(NodeId, NodeId, NodeId),
    /// `tables[table][index]` for an integer-valued `index` (see
    /// [`lookup`]); NaN when the index is out of range (the tracer guards
    /// indices that can be, so a run never uses that NaN).
    Lookup {
        table: u32,
        index: NodeId,
    },
}

/// The value of [`Op::Lookup`] at index `x`: `table[x]` when `x` is in
/// `0..table.len()`, else NaN.
#[inline]
pub fn lookup(table: &[f64], x: f64) -> f64 {
    if x >= 0.0 && x < table.len() as f64 {
        table[x as usize]
    } else {
        f64::NAN
    }
}

/// The type of a node's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    F64,
    Bool,
}

impl Op {
    pub fn constant(x: f64) -> Op {
        Op::Const(x.to_bits())
    }

    /// The real constant, if this is one.
    pub fn as_const(&self) -> Option<f64> {
        match *self {
            Op::Const(b) => Some(f64::from_bits(b)),
            _ => None,
        }
    }

    pub fn ty(&self) -> Ty {
        match self {
            Op::Bool(_) | Op::Cmp(..) | Op::And(..) | Op::Or(..) | Op::Not(_) => Ty::Bool,
            _ => Ty::F64,
        }
    }

    /// The operands, in order.
    pub fn args(&self) -> Vec<NodeId> {
        let (args, n) = self.operands();
        args[..n].to_vec()
    }

    /// [`Op::args`] without allocating: the operands and their count.
    pub fn operands(&self) -> ([NodeId; 3], usize) {
        let z = NodeId(0);
        match *self {
            Op::Un(_, a) | Op::Not(a) | Op::Lookup { index: a, .. } => ([a, z, z], 1),
            Op::Bin(_, a, b) | Op::Cmp(_, a, b) | Op::And(a, b) | Op::Or(a, b) => ([a, b, z], 2),
            Op::Select(c, a, b) => ([c, a, b], 3),
            _ => ([z; 3], 0),
        }
    }

    /// The same operation on other operands (same count as [`Op::args`]).
    pub fn with_args(&self, args: &[NodeId]) -> Op {
        match *self {
            Op::Un(u, _) => Op::Un(u, args[0]),
            Op::Not(_) => Op::Not(args[0]),
            Op::Bin(b, _, _) => Op::Bin(b, args[0], args[1]),
            Op::Cmp(c, _, _) => Op::Cmp(c, args[0], args[1]),
            Op::And(_, _) => Op::And(args[0], args[1]),
            Op::Or(_, _) => Op::Or(args[0], args[1]),
            Op::Select(_, _, _) => Op::Select(args[0], args[1], args[2]),
            Op::Lookup { table, .. } => Op::Lookup {
                table,
                index: args[0],
            },
            other => other,
        }
    }

    /// Whether this is a leaf whose value is fixed (a constant).
    pub fn is_const(&self) -> bool {
        matches!(self, Op::Const(_) | Op::Bool(_))
    }

    /// Evaluates a computing node given its operands' values (booleans as
    /// 0/1). Leaves are not handled here, nor is [`Op::Lookup`] (NaN: it
    /// needs its table, see [`lookup`]).
    pub fn apply(&self, a: &[f64]) -> f64 {
        let b = |x: bool| if x { 1.0 } else { 0.0 };
        match *self {
            Op::Const(bits) => f64::from_bits(bits),
            Op::Bool(x) => b(x),
            Op::Un(u, _) => u.apply(a[0]),
            Op::Bin(o, _, _) => o.apply(a[0], a[1]),
            Op::Cmp(c, _, _) => b(c.apply(a[0], a[1])),
            Op::And(..) => b(a[0] != 0.0 && a[1] != 0.0),
            Op::Or(..) => b(a[0] != 0.0 || a[1] != 0.0),
            Op::Not(_) => b(a[0] == 0.0),
            Op::Select(..) => {
                if a[0] != 0.0 {
                    a[1]
                } else {
                    a[2]
                }
            }
            Op::Lookup { .. } => f64::NAN,
            Op::Param(_)
            | Op::ParamAt { .. }
            | Op::ParamIdx(_)
            | Op::Data(_)
            | Op::Carried(_)
            | Op::LoopOut { .. } => unreachable!("leaves are evaluated by their context"),
        }
    }

    /// A shape key: the operation without its operands and without the
    /// value of a constant or the index of a parameter. Loop rerolling
    /// compares these.
    pub fn shape(&self) -> u64 {
        let (tag, sub): (u64, u64) = match *self {
            Op::Const(_) => (1, 0),
            Op::Bool(_) => (2, 0),
            Op::Param(_) => (3, 0),
            Op::ParamAt { .. } => (4, 0),
            Op::ParamIdx(_) => (5, 0),
            Op::Data(_) => (6, 0),
            Op::Carried(i) => (7, i as u64),
            Op::LoopOut { lp, index } => (8, ((lp as u64) << 32) | index as u64),
            Op::Un(u, _) => (9, u as u64),
            Op::Bin(o, _, _) => (10, o as u64),
            Op::Cmp(c, _, _) => (11, c as u64),
            Op::And(..) => (12, 0),
            Op::Or(..) => (13, 0),
            Op::Not(_) => (14, 0),
            Op::Select(..) => (15, 0),
            Op::Lookup { table, .. } => (16, table as u64),
        };
        (tag << 56) ^ sub
    }
}

/// Formats a real as the textual IR writes it (round-trippable).
pub(crate) fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Const(b) => write!(f, "const {}", fmt_f64(f64::from_bits(b))),
            Op::Bool(x) => write!(f, "bool {x}"),
            Op::Param(i) => write!(f, "param {i}"),
            Op::ParamAt { base, stride } => write!(f, "param_at {base} + {stride}*k"),
            Op::ParamIdx(o) => write!(f, "param_idx tables[{o} + k]"),
            Op::Data(o) => write!(f, "data[{o} + k]"),
            Op::Carried(i) => write!(f, "carried {i}"),
            Op::LoopOut { lp, index } => write!(f, "loop_out L{lp}.{index}"),
            Op::Un(u, a) => write!(f, "{} {a}", u.name()),
            Op::Bin(o, a, b) => write!(f, "{} {a}, {b}", o.name()),
            Op::Cmp(c, a, b) => write!(f, "{} {a}, {b}", c.name()),
            Op::And(a, b) => write!(f, "and {a}, {b}"),
            Op::Or(a, b) => write!(f, "or {a}, {b}"),
            Op::Not(a) => write!(f, "not {a}"),
            Op::Select(c, a, b) => write!(f, "select {c}, {a}, {b}"),
            Op::Lookup { table, index } => write!(f, "lookup T{table}[{index}]"),
        }
    }
}

/// Every symbol a kernel may import, with its address.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    let mut v: Vec<(&'static str, *const u8)> = Vec::new();
    for u in Un::ALL {
        if let Some((name, f)) = u.extern_fn() {
            v.push((name, f as *const u8));
        }
    }
    for b in Bin::ALL {
        if let Some((name, f)) = b.extern_fn() {
            v.push((name, f as *const u8));
        }
    }
    v
}
