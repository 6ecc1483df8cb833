//! A hash-consed expression DAG: what tracing builds.
//!
//! Every node is created through [`Graph::add`], which folds operations on
//! constants (with the semantics of [`Op::apply`], so folding agrees with
//! the interpreter and the JIT) and shares structurally equal nodes.
//! Node ids grow in creation order, which is a topological order.
//!
//! Folding is deliberately *shape-preserving*: an operation is folded only
//! when all its operands are constants, never by an identity that depends
//! on a constant's value (`x * 1`), and a `select` on a constant condition
//! is kept. Two loop iterations that differ only in their data therefore
//! build DAGs of the same shape, which is what loop rerolling needs; the
//! kernel builder drops the untaken arm of a constant `select` later.
//!
//! The graph also owns the tables that [`Op::Lookup`] nodes read (data
//! arrays indexed by a random integer), shared by equal contents.

use crate::ops::{Bin, Cmp, NodeId, Op, Ty, Un};
// Fx: deterministic and several times faster than SipHash on the node
// ids and ops tracing hashes (a tenth of a short SMC run was hashing).
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub ops: Vec<Op>,
    memo: HashMap<Op, NodeId>,
    /// The tables of [`Op::Lookup`] nodes.
    pub tables: Vec<Arc<[f64]>>,
    table_memo: HashMap<Vec<u64>, u32>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn op(&self, n: NodeId) -> &Op {
        &self.ops[n.index()]
    }

    /// The real constant at `n`, if it is one.
    pub fn as_const(&self, n: NodeId) -> Option<f64> {
        self.ops[n.index()].as_const()
    }

    pub fn as_bool(&self, n: NodeId) -> Option<bool> {
        match self.ops[n.index()] {
            Op::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Adds (or finds) a node, folding it when every operand is a constant.
    pub fn add(&mut self, op: Op) -> NodeId {
        if let Op::Lookup { table, index } = op {
            if let Some(x) = self.as_const(index) {
                let v = crate::ops::lookup(&self.tables[table as usize], x);
                return self.c(v);
            }
            return self.intern(op);
        }
        let args = op.args();
        if !args.is_empty() && args.iter().all(|a| self.ops[a.index()].is_const()) {
            let vals: Vec<f64> = args
                .iter()
                .map(|a| match self.ops[a.index()] {
                    Op::Const(b) => f64::from_bits(b),
                    Op::Bool(x) => {
                        if x {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    _ => unreachable!(),
                })
                .collect();
            let r = op.apply(&vals);
            return match op.ty() {
                Ty::F64 => self.c(r),
                Ty::Bool => self.boolean(r != 0.0),
            };
        }
        match op {
            Op::Select(_, a, b) if a == b => return a,
            Op::And(a, b) => match (self.as_bool(a), self.as_bool(b)) {
                (Some(true), _) => return b,
                (_, Some(true)) => return a,
                (Some(false), _) | (_, Some(false)) => return self.boolean(false),
                _ => {}
            },
            Op::Or(a, b) => match (self.as_bool(a), self.as_bool(b)) {
                (Some(false), _) => return b,
                (_, Some(false)) => return a,
                (Some(true), _) | (_, Some(true)) => return self.boolean(true),
                _ => {}
            },
            _ => {}
        }
        self.intern(op)
    }

    /// Adds a node without folding (hash-consing only).
    pub fn intern(&mut self, op: Op) -> NodeId {
        if let Some(&id) = self.memo.get(&op) {
            return id;
        }
        let id = NodeId(self.ops.len() as u32);
        self.ops.push(op);
        self.memo.insert(op, id);
        id
    }

    /// `σ(x)` as nodes, without overflow: `tyche_dist::special::sigmoid`'s
    /// formula (one `exp`).
    pub fn sigmoid(&mut self, x: NodeId) -> NodeId {
        let ax = self.un(Un::Abs, x);
        let nax = self.neg(ax);
        let e = self.un(Un::Exp, nax);
        let one = self.c(1.0);
        let zero = self.c(0.0);
        let d = self.add2(one, e);
        let pos = self.div(one, d);
        let neg = self.div(e, d);
        let ge = self.cmp(Cmp::Ge, x, zero);
        self.select(ge, pos, neg)
    }

    pub fn c(&mut self, x: f64) -> NodeId {
        self.intern(Op::constant(x))
    }
    pub fn boolean(&mut self, b: bool) -> NodeId {
        self.intern(Op::Bool(b))
    }
    pub fn param(&mut self, i: u32) -> NodeId {
        self.intern(Op::Param(i))
    }
    pub fn un(&mut self, u: Un, a: NodeId) -> NodeId {
        self.add(Op::Un(u, a))
    }
    pub fn bin(&mut self, o: Bin, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Bin(o, a, b))
    }
    pub fn cmp(&mut self, c: Cmp, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Cmp(c, a, b))
    }
    pub fn add2(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.bin(Bin::Add, a, b)
    }
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.bin(Bin::Sub, a, b)
    }
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.bin(Bin::Mul, a, b)
    }
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.bin(Bin::Div, a, b)
    }
    pub fn neg(&mut self, a: NodeId) -> NodeId {
        self.un(Un::Neg, a)
    }
    pub fn ln(&mut self, a: NodeId) -> NodeId {
        self.un(Un::Ln, a)
    }
    pub fn and(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::And(a, b))
    }
    pub fn or(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Or(a, b))
    }
    pub fn not(&mut self, a: NodeId) -> NodeId {
        self.add(Op::Not(a))
    }
    pub fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Select(c, a, b))
    }
    /// The id of a table with these values (the same id for equal tables).
    pub fn table(&mut self, values: &[f64]) -> u32 {
        let key: Vec<u64> = values.iter().map(|x| x.to_bits()).collect();
        if let Some(&t) = self.table_memo.get(&key) {
            return t;
        }
        let t = self.tables.len() as u32;
        self.tables.push(values.into());
        self.table_memo.insert(key, t);
        t
    }
    /// `table[index]` (see [`Op::Lookup`]).
    pub fn lookup(&mut self, table: u32, index: NodeId) -> NodeId {
        self.add(Op::Lookup { table, index })
    }
    /// `x.is_finite()`: `|x| < ∞` (false for NaN).
    pub fn is_finite(&mut self, x: NodeId) -> NodeId {
        let a = self.un(Un::Abs, x);
        let inf = self.c(f64::INFINITY);
        self.cmp(Cmp::Lt, a, inf)
    }
    pub fn is_nan(&mut self, x: NodeId) -> NodeId {
        self.cmp(Cmp::Uno, x, x)
    }
}
