//! Cranelift code for a kernel's log density *and* its gradient: the
//! reverse sweep of [`grad`](crate::grad) generated as machine code.
//!
//! The generated function is
//! `extern "C" fn(theta: *const f64, grad: *mut f64, tape: *mut f64) -> f64`;
//! `grad` must hold zeros on entry and `tape` [`GradBuilt::tape_len`]
//! `f64`s. It computes what [`Gradient::eval`](crate::grad::Gradient::eval)
//! computes, with the same adjoint rules in the same order:
//!
//! - **Forward sweep**: the kernel's own code ([`codegen::Emitter`], so
//!   the value is the compiled kernel's, bit for bit), which also stores
//!   each value the reverse sweep reads (an operand of a nonlinear rule,
//!   a `select`'s condition) on the tape: top-level values at fixed
//!   offsets, loop-body values in one row per iteration (the loop's
//!   *tape*, `count × width`). Values that can be reloaded (constants, θ,
//!   data columns, a loop's outputs) are not stored. A NaN value (the
//!   fault mark) returns at once with `grad` untouched.
//! - **Reverse sweep**: the schedule backwards. Adjoints are Cranelift
//!   variables (registers), one per node whose value depends on θ
//!   (*active*; others never carry a gradient); an adjoint known to be
//!   zero at code-generation time is not materialised, and its node is
//!   skipped (the interpreter's `g == 0` skip). A loop runs from its last
//!   iteration to its first, reading its row of the tape, passing the
//!   carried values' adjoints from `next` to `carried` as the interpreter
//!   does; outer values' adjoints accumulate in registers across
//!   iterations; `θ[base + stride·k]` and `θ[tables[o + k]]` add into
//!   `grad` in memory (scatter). A branchy `select` (an arm that owns a
//!   call, see `codegen`) branches again: its arms' nodes are
//!   differentiated inside the arm that ran.
//! - Derivatives that need special functions call them (`digamma`,
//!   `trigamma`, `exp`, `ln`, `sin`, `cos`, `pow`).
//!
//! Where the interpreter skips a product because one factor is zero
//! (`0 · ∞` would be NaN), the generated code multiplies anyway: that can
//! only turn a gradient component into NaN, never change a finite one,
//! so the caller ([`CompiledGradient`](crate::CompiledGradient)) re-runs
//! the interpreter at any point whose value is not NaN but whose gradient
//! has a NaN. Both therefore return the same numbers, up to the order in
//! which a branchy `select`'s arm adds into adjoints it shares with code
//! outside the arm.

use crate::codegen::{define_kernel_data, jerr, Arm, Emitter, JitError, JitOptions, Spill};
use crate::kernel::{Item, Kernel};
use crate::ops::{Bin, NodeId, Op, Ty, Un};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, BlockArg, Function, InstBuilder, MemFlagsData, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{FuncId, Linkage, Module};
use rustc_hash::FxHashMap as HashMap;

/// `2/√π`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// Derivative helpers the reverse sweep calls that the forward kernel
/// does not (the others are [`crate::special`]'s).
pub extern "C" fn tyche_jit_trigamma(x: f64) -> f64 {
    tyche_dist::special::trigamma(x)
}

/// Symbols a gradient may import beyond [`crate::ops::symbols`].
pub(crate) fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![(
        "tyche_jit_trigamma",
        tyche_jit_trigamma as extern "C" fn(f64) -> f64 as *const u8,
    )]
}

/// A gradient's function, declared in `module` but not yet defined.
pub(crate) struct GradBuilt {
    pub func_id: FuncId,
    pub func: Function,
    /// The `f64`s of tape the function needs.
    pub tape_len: usize,
}

/// Where a node is scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Top,
    Body(u32),
}

/// What the reverse sweep needs to know before code is generated.
struct Plan {
    /// Whether a node's value depends on θ.
    active: Vec<bool>,
    scope: Vec<Option<Scope>>,
    spill: Vec<Option<Spill>>,
    /// Per loop: its tape's offset and row width, in `f64`s.
    loop_tape: Vec<(u32, u32)>,
    tape_len: usize,
    /// Per loop, per carried value: the `LoopOut` nodes that read it.
    outs: Vec<Vec<Vec<NodeId>>>,
}

/// The values node `n`'s reverse rule reads (besides its adjoint), given
/// which operands carry a gradient.
fn rule_reads(op: &Op, n: NodeId, active: &[bool], out: &mut Vec<NodeId>) {
    match *op {
        Op::Un(u, a) if active[a.index()] => match u {
            Un::Neg | Un::Floor | Un::Ceil => {}
            Un::Sqrt | Un::Exp | Un::Expm1 | Un::Tan | Un::Tanh => out.push(n),
            _ => out.push(a),
        },
        Op::Bin(o, a, b) => {
            let (aa, ab) = (active[a.index()], active[b.index()]);
            if !(aa || ab) {
                return;
            }
            match o {
                Bin::Add | Bin::Sub => {}
                Bin::Mul => {
                    if aa {
                        out.push(b);
                    }
                    if ab {
                        out.push(a);
                    }
                }
                Bin::Div => {
                    out.push(b);
                    if ab {
                        out.push(n);
                    }
                }
                Bin::Rem => {
                    if ab {
                        out.extend([a, b]);
                    }
                }
                Bin::Pow => out.extend([a, b, n]),
                Bin::Min | Bin::Max => out.extend([n, a]),
                Bin::Bd0 => out.extend([a, b]),
            }
        }
        Op::Select(c, a, b) if active[a.index()] || active[b.index()] => out.push(c),
        _ => {}
    }
}

fn plan(k: &Kernel) -> Plan {
    let n = k.nodes.len();
    let mut active = vec![false; n];
    let mut scope = vec![None; n];
    let node_active = |op: &Op, active: &[bool], k: &Kernel| -> bool {
        match *op {
            Op::Param(_) | Op::ParamAt { .. } | Op::ParamIdx(_) => true,
            Op::LoopOut { lp, index } => {
                active[k.loops[lp as usize].carried[index as usize].phi.index()]
            }
            Op::Un(_, a) => active[a.index()],
            Op::Bin(_, a, b) => active[a.index()] || active[b.index()],
            Op::Select(_, a, b) => active[a.index()] || active[b.index()],
            // Constants, data, booleans; `carried` is set by its loop.
            _ => false,
        }
    };
    for item in &k.top {
        match *item {
            Item::Node(x) => {
                scope[x.index()] = Some(Scope::Top);
                active[x.index()] = node_active(k.op(x), &active, k);
            }
            Item::Loop(l) => {
                let lp = &k.loops[l as usize];
                for c in &lp.carried {
                    scope[c.phi.index()] = Some(Scope::Body(l));
                    active[c.phi.index()] = active[c.init.index()];
                }
                for &x in &lp.body {
                    scope[x.index()] = Some(Scope::Body(l));
                }
                // A carried value is active when its start or any
                // iteration's update is: iterate to the fixed point.
                loop {
                    for &x in &lp.body {
                        active[x.index()] = node_active(k.op(x), &active, k);
                    }
                    let mut changed = false;
                    for c in &lp.carried {
                        if active[c.next.index()] && !active[c.phi.index()] {
                            active[c.phi.index()] = true;
                            changed = true;
                        }
                    }
                    if !changed {
                        break;
                    }
                }
            }
        }
    }
    // What the reverse rules read.
    let mut reads = Vec::new();
    for (i, op) in k.nodes.iter().enumerate() {
        if active[i] {
            rule_reads(op, NodeId(i as u32), &active, &mut reads);
        }
    }
    let mut spill = vec![None; n];
    let mut top_len = 0u32;
    let mut widths = vec![0u32; k.loops.len()];
    // Deterministic layout: in node order.
    reads.sort_unstable();
    reads.dedup();
    for &x in &reads {
        let reloadable = matches!(
            k.op(x),
            Op::Const(_)
                | Op::Bool(_)
                | Op::Param(_)
                | Op::ParamAt { .. }
                | Op::ParamIdx(_)
                | Op::Data(_)
                | Op::LoopOut { .. }
        );
        if reloadable {
            continue;
        }
        match scope[x.index()] {
            Some(Scope::Top) => {
                spill[x.index()] = Some(Spill { offset: top_len });
                top_len += 1;
            }
            Some(Scope::Body(l)) => {
                spill[x.index()] = Some(Spill {
                    offset: widths[l as usize],
                });
                widths[l as usize] += 1;
            }
            None => {}
        }
    }
    let mut loop_tape = Vec::with_capacity(k.loops.len());
    let mut len = top_len as usize;
    for (lp, &w) in k.loops.iter().zip(&widths) {
        loop_tape.push((len as u32, w));
        len += lp.count as usize * w as usize;
    }
    let mut outs: Vec<Vec<Vec<NodeId>>> = k
        .loops
        .iter()
        .map(|lp| vec![Vec::new(); lp.carried.len()])
        .collect();
    for item in &k.top {
        if let Item::Node(x) = *item {
            if let Op::LoopOut { lp, index } = *k.op(x) {
                outs[lp as usize][index as usize].push(x);
            }
        }
    }
    Plan {
        active,
        scope,
        spill,
        loop_tape,
        tape_len: len,
        outs,
    }
}

/// Builds the CLIF of `kernel`'s gradient as function `name` in `module`.
pub(crate) fn build_gradient<M: Module>(
    module: &mut M,
    kernel: &Kernel,
    name: &str,
    linkage: Linkage,
    opts: &JitOptions,
) -> Result<GradBuilt, JitError> {
    kernel
        .verify()
        .map_err(|m| jerr(format!("invalid kernel: {m}")))?;
    let p = plan(kernel);
    if p.tape_len > u32::MAX as usize / 8 {
        return Err(jerr("the gradient's tape would be too large"));
    }
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    for _ in 0..3 {
        sig.params.push(AbiParam::new(ptr));
    }
    sig.returns.push(AbiParam::new(types::F64));
    let func_id = module.declare_function(name, linkage, &sig).map_err(jerr)?;
    let (data_id, tables_id) = define_kernel_data(module, kernel, name)?;

    let mut func = Function::with_name_signature(UserFuncName::user(0, func_id.as_u32()), sig);
    let mut fctx = FunctionBuilderContext::new();
    let frontend_config = module.target_config();
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (theta, grad, tape) = {
            let ps = b.block_params(entry);
            (ps[0], ps[1], ps[2])
        };
        let data_base = data_id.map(|d| {
            let gv = module.declare_data_in_func(d, b.func);
            b.ins().symbol_value(ptr, gv)
        });
        let tables_base = tables_id.map(|d| {
            let gv = module.declare_data_in_func(d, b.func);
            b.ins().symbol_value(ptr, gv)
        });
        let mut e = Emitter::new(module, kernel, opts, ptr, theta, data_base, tables_base);
        e.spill = p.spill.clone();
        e.tape = Some(tape);
        e.loop_tape = p.loop_tape.clone();
        let value = e.emit(&mut b)?;

        // The fault mark: no gradient.
        let done = b.create_block();
        let ret = b.append_block_param(done, types::F64);
        let reverse = b.create_block();
        let nan = b.ins().fcmp(FloatCC::Unordered, value, value);
        b.ins()
            .brif(nan, done, &[BlockArg::from(value)], reverse, &[]);
        b.switch_to_block(reverse);
        let mut r = Rev {
            plan: &p,
            grad,
            tape,
            vars: vec![None; kernel.nodes.len()],
            zero: vec![true; kernel.nodes.len()],
            cache: HashMap::default(),
            outer: HashMap::default(),
            recips: HashMap::default(),
            lp: None,
            k: None,
            row: None,
            k_data: None,
            k_tables: None,
        };
        r.sweep(&mut e, &mut b)?;
        b.ins().jump(done, &[BlockArg::from(value)]);
        b.switch_to_block(done);
        b.ins().return_(&[ret]);
        b.seal_all_blocks();
        b.finalize(frontend_config);
    }
    Ok(GradBuilt {
        func_id,
        func,
        tape_len: p.tape_len,
    })
}

/// The reverse sweep's code generator.
struct Rev<'p> {
    plan: &'p Plan,
    grad: Value,
    tape: Value,
    /// Each active node's adjoint.
    vars: Vec<Option<Variable>>,
    /// Adjoints known to be zero here (no code holds them yet).
    zero: Vec<bool>,
    /// Forward values reloaded, per block.
    cache: HashMap<(Block, NodeId), Value>,
    /// In a loop: forward values of outer nodes, loaded before it, and
    /// the reciprocals of outer divisors.
    outer: HashMap<NodeId, Value>,
    recips: HashMap<NodeId, Value>,
    /// The loop being reversed, its iteration index, tape row and
    /// per-iteration data and table addresses.
    lp: Option<u32>,
    k: Option<Value>,
    row: Option<Value>,
    k_data: Option<Value>,
    k_tables: Option<Value>,
}

impl Rev<'_> {
    fn var(&mut self, b: &mut FunctionBuilder, x: NodeId) -> Variable {
        match self.vars[x.index()] {
            Some(v) => v,
            None => {
                let v = b.declare_var(types::F64);
                self.vars[x.index()] = Some(v);
                v
            }
        }
    }

    /// Node `x`'s adjoint, or None where it is known to be zero.
    fn adj(&mut self, b: &mut FunctionBuilder, x: NodeId) -> Option<Value> {
        if self.zero[x.index()] {
            return None;
        }
        let v = self.var(b, x);
        Some(b.use_var(v))
    }

    /// Gives `x`'s adjoint a register value (zero) if it has none, before
    /// control flow that may add to it on one path only.
    fn materialize(&mut self, b: &mut FunctionBuilder, x: NodeId) {
        if self.plan.active[x.index()] && self.zero[x.index()] {
            let v = self.var(b, x);
            let z = b.ins().f64const(0.0);
            b.def_var(v, z);
            self.zero[x.index()] = false;
        }
    }

    /// `adj[x] += c` (or `-= c`).
    fn add(&mut self, b: &mut FunctionBuilder, x: NodeId, c: Value, sub: bool) {
        if !self.plan.active[x.index()] {
            return;
        }
        let v = self.var(b, x);
        let new = if self.zero[x.index()] {
            self.zero[x.index()] = false;
            if sub {
                b.ins().fneg(c)
            } else {
                c
            }
        } else {
            let cur = b.use_var(v);
            if sub {
                b.ins().fsub(cur, c)
            } else {
                b.ins().fadd(cur, c)
            }
        };
        b.def_var(v, new);
    }

    /// `adj[x] += g` where `cond` is `when` (a select's arm).
    fn add_if(&mut self, b: &mut FunctionBuilder, x: NodeId, cond: Value, when: bool, g: Value) {
        if !self.plan.active[x.index()] {
            return;
        }
        let v = self.var(b, x);
        let cur = if self.zero[x.index()] {
            b.ins().f64const(0.0)
        } else {
            b.use_var(v)
        };
        let sum = b.ins().fadd(cur, g);
        let new = if when {
            b.ins().select(cond, sum, cur)
        } else {
            b.ins().select(cond, cur, sum)
        };
        b.def_var(v, new);
        self.zero[x.index()] = false;
    }

    /// `adj[x] += g · d`.
    fn add_product(&mut self, b: &mut FunctionBuilder, x: NodeId, g: Value, d: Value) {
        if self.plan.active[x.index()] {
            let c = b.ins().fmul(g, d);
            self.add(b, x, c, false);
        }
    }

    /// `grad[index] += g` (index an i64 value or a constant).
    fn scatter(&mut self, b: &mut FunctionBuilder, index: Result<Value, u32>, g: Value) {
        let flags = MemFlagsData::trusted();
        let (addr, off) = match index {
            Ok(i) => {
                let off = b.ins().ishl_imm_u(i, 3);
                (b.ins().iadd(self.grad, off), 0)
            }
            Err(i) => (self.grad, (i as i32) * 8),
        };
        let cur = b.ins().load(types::F64, flags, addr, off);
        let new = b.ins().fadd(cur, g);
        b.ins().store(flags, new, addr, off);
    }

    /// Node `n`'s forward value, here.
    fn val<M: Module>(
        &mut self,
        e: &mut Emitter<'_, M>,
        b: &mut FunctionBuilder,
        n: NodeId,
    ) -> Result<Value, JitError> {
        if let Some(&v) = self.outer.get(&n) {
            return Ok(v);
        }
        let blk = b.current_block().expect("inside a block");
        if let Some(&v) = self.cache.get(&(blk, n)) {
            return Ok(v);
        }
        let flags = MemFlagsData::trusted().with_readonly();
        let op = *e.kernel.op(n);
        let ty = match op.ty() {
            Ty::F64 => types::F64,
            Ty::Bool => types::I8,
        };
        let v = match op {
            Op::Const(bits) => b.ins().f64const(f64::from_bits(bits)),
            Op::Bool(x) => b.ins().iconst(types::I8, x as i64),
            Op::Param(i) => b.ins().load(types::F64, flags, e.theta, (i * 8) as i32),
            Op::LoopOut { lp, index } => {
                let slot = e.slots[&(lp, index)];
                b.ins().stack_load(e.ptr, types::F64, slot, 0)
            }
            Op::Data(o) => {
                let addr = self.k_data.ok_or_else(|| jerr("data outside a loop"))?;
                let o = i32::try_from(o as u64 * 8).map_err(|_| jerr("data too large"))?;
                b.ins().load(types::F64, flags, addr, o)
            }
            Op::ParamAt { base, stride } => {
                let k = self.k.ok_or_else(|| jerr("param_at outside a loop"))?;
                let off = b.ins().imul_imm_s(k, stride as i64 * 8);
                let addr = b.ins().iadd(e.theta, off);
                b.ins().load(types::F64, flags, addr, (base * 8) as i32)
            }
            Op::ParamIdx(o) => {
                let idx = self.table_index(b, o)?;
                let boff = b.ins().ishl_imm_u(idx, 3);
                let paddr = b.ins().iadd(e.theta, boff);
                b.ins().load(types::F64, flags, paddr, 0)
            }
            _ => {
                let s = self.plan.spill[n.index()]
                    .ok_or_else(|| jerr(format!("internal error: {n} was not kept")))?;
                let base = match self.plan.scope[n.index()] {
                    Some(Scope::Body(l)) if Some(l) == self.lp => self
                        .row
                        .ok_or_else(|| jerr("internal error: no tape row"))?,
                    Some(Scope::Top) => self.tape,
                    _ => return Err(jerr(format!("internal error: {n} is out of scope"))),
                };
                b.ins()
                    .load(ty, MemFlagsData::trusted(), base, (s.offset * 8) as i32)
            }
        };
        self.cache.insert((blk, n), v);
        Ok(v)
    }

    /// `1 / y` of node `y`'s value: computed before the loop when `y` is
    /// outside the loop being reversed.
    fn reciprocal<M: Module>(
        &mut self,
        e: &mut Emitter<'_, M>,
        b: &mut FunctionBuilder,
        y: NodeId,
    ) -> Result<Value, JitError> {
        if let Some(&r) = self.recips.get(&y) {
            return Ok(r);
        }
        let v = self.val(e, b, y)?;
        let one = b.ins().f64const(1.0);
        let r = b.ins().fdiv(one, v);
        Ok(r)
    }

    /// `tables[o + k]`, widened to i64.
    fn table_index(&mut self, b: &mut FunctionBuilder, o: u32) -> Result<Value, JitError> {
        let addr = self
            .k_tables
            .ok_or_else(|| jerr("param_idx outside a loop"))?;
        let o = i32::try_from(o as u64 * 4).map_err(|_| jerr("tables too large"))?;
        let flags = MemFlagsData::trusted().with_readonly();
        Ok(b.ins().uload32(flags, addr, o))
    }

    fn sweep<M: Module>(
        &mut self,
        e: &mut Emitter<'_, M>,
        b: &mut FunctionBuilder,
    ) -> Result<(), JitError> {
        let k = e.kernel;
        let result = k.result;
        if self.plan.active[result.index()] {
            let one = b.ins().f64const(1.0);
            let v = self.var(b, result);
            b.def_var(v, one);
            self.zero[result.index()] = false;
        }
        for item in k.top.iter().rev() {
            match *item {
                Item::Node(n) => {
                    if e.owner.get(n.index()).copied().flatten().is_none() {
                        self.node(e, b, n)?;
                    }
                }
                Item::Loop(l) => self.reverse_loop(e, b, l)?,
            }
        }
        Ok(())
    }

    /// The nodes computed in `arm`, nested arms included.
    fn arm_nodes<M: Module>(e: &Emitter<'_, M>, arm: Arm, out: &mut Vec<NodeId>) {
        if let Some(ns) = e.owned.get(&arm) {
            for &m in ns {
                out.push(m);
                if matches!(e.kernel.op(m), Op::Select(..)) {
                    for then in [true, false] {
                        Self::arm_nodes(e, Arm { select: m, then }, out);
                    }
                }
            }
        }
    }

    /// Adds node `n`'s adjoint into its operands' (or θ's) adjoints.
    fn node<M: Module>(
        &mut self,
        e: &mut Emitter<'_, M>,
        b: &mut FunctionBuilder,
        n: NodeId,
    ) -> Result<(), JitError> {
        if !self.plan.active[n.index()] {
            return Ok(());
        }
        let op = *e.kernel.op(n);
        let active = |x: NodeId| self.plan.active[x.index()];
        match op {
            Op::Param(i) => {
                if let Some(g) = self.adj(b, n) {
                    self.scatter(b, Err(i), g);
                }
            }
            Op::ParamAt { base, stride } => {
                if let Some(g) = self.adj(b, n) {
                    let k = self.k.ok_or_else(|| jerr("param_at outside a loop"))?;
                    let s = b.ins().imul_imm_s(k, stride as i64);
                    let i = b.ins().iadd_imm_s(s, base as i64);
                    self.scatter(b, Ok(i), g);
                }
            }
            Op::ParamIdx(o) => {
                if let Some(g) = self.adj(b, n) {
                    let i = self.table_index(b, o)?;
                    self.scatter(b, Ok(i), g);
                }
            }
            Op::Un(u, a) => {
                let Some(g) = self.adj(b, n) else {
                    return Ok(());
                };
                if !active(a) {
                    return Ok(());
                }
                let d = match u {
                    Un::Neg => {
                        let c = b.ins().fneg(g);
                        self.add(b, a, c, false);
                        return Ok(());
                    }
                    Un::Floor | Un::Ceil => return Ok(()),
                    Un::Abs => {
                        let x = self.val(e, b, a)?;
                        let zero = b.ins().f64const(0.0);
                        let pos = b.ins().fcmp(FloatCC::GreaterThan, x, zero);
                        let neg = b.ins().fcmp(FloatCC::LessThan, x, zero);
                        let ng = b.ins().fneg(g);
                        let c = b.ins().select(neg, ng, zero);
                        let c = b.ins().select(pos, g, c);
                        self.add(b, a, c, false);
                        return Ok(());
                    }
                    Un::Sqrt => {
                        let y = self.val(e, b, n)?;
                        let h = b.ins().f64const(0.5);
                        b.ins().fdiv(h, y)
                    }
                    Un::Exp => self.val(e, b, n)?,
                    Un::Ln => {
                        let x = self.val(e, b, a)?;
                        let one = b.ins().f64const(1.0);
                        b.ins().fdiv(one, x)
                    }
                    Un::Log1p => {
                        let x = self.val(e, b, a)?;
                        let one = b.ins().f64const(1.0);
                        let s = b.ins().fadd(one, x);
                        b.ins().fdiv(one, s)
                    }
                    Un::Expm1 => {
                        let y = self.val(e, b, n)?;
                        let one = b.ins().f64const(1.0);
                        b.ins().fadd(y, one)
                    }
                    Un::Lgamma => {
                        let x = self.val(e, b, a)?;
                        e.call(b, "tyche_jit_digamma", &[x])?
                    }
                    Un::Digamma => {
                        let x = self.val(e, b, a)?;
                        e.call(b, "tyche_jit_trigamma", &[x])?
                    }
                    Un::Erf => {
                        let x = self.val(e, b, a)?;
                        let nx = b.ins().fneg(x);
                        let sq = b.ins().fmul(nx, x);
                        let ex = e.call(b, "tyche_jit_exp", &[sq])?;
                        let c = b.ins().f64const(TWO_OVER_SQRT_PI);
                        b.ins().fmul(c, ex)
                    }
                    Un::Sin => {
                        let x = self.val(e, b, a)?;
                        e.call(b, "tyche_jit_cos", &[x])?
                    }
                    Un::Cos => {
                        let x = self.val(e, b, a)?;
                        let s = e.call(b, "tyche_jit_sin", &[x])?;
                        b.ins().fneg(s)
                    }
                    Un::Tan => {
                        let y = self.val(e, b, n)?;
                        let one = b.ins().f64const(1.0);
                        let yy = b.ins().fmul(y, y);
                        b.ins().fadd(one, yy)
                    }
                    Un::Atan => {
                        let x = self.val(e, b, a)?;
                        let one = b.ins().f64const(1.0);
                        let xx = b.ins().fmul(x, x);
                        let s = b.ins().fadd(one, xx);
                        b.ins().fdiv(one, s)
                    }
                    Un::Tanh => {
                        let y = self.val(e, b, n)?;
                        let one = b.ins().f64const(1.0);
                        let yy = b.ins().fmul(y, y);
                        b.ins().fsub(one, yy)
                    }
                };
                self.add_product(b, a, g, d);
            }
            Op::Bin(o, a, c) => {
                let Some(g) = self.adj(b, n) else {
                    return Ok(());
                };
                match o {
                    Bin::Add => {
                        self.add(b, a, g, false);
                        self.add(b, c, g, false);
                    }
                    Bin::Sub => {
                        self.add(b, a, g, false);
                        self.add(b, c, g, true);
                    }
                    Bin::Mul => {
                        if active(a) {
                            let y = self.val(e, b, c)?;
                            self.add_product(b, a, g, y);
                        }
                        if active(c) {
                            let x = self.val(e, b, a)?;
                            self.add_product(b, c, g, x);
                        }
                    }
                    Bin::Div => {
                        // (1/y, −q/y): the reciprocal once per loop when y
                        // is invariant.
                        let r = self.reciprocal(e, b, c)?;
                        self.add_product(b, a, g, r);
                        if active(c) {
                            let (q, y) = (self.val(e, b, n)?, self.val(e, b, c)?);
                            let nq = b.ins().fneg(q);
                            let d = b.ins().fdiv(nq, y);
                            self.add_product(b, c, g, d);
                        }
                    }
                    Bin::Rem => {
                        // ∂/∂a = 1: `g · 1` is `g`.
                        self.add(b, a, g, false);
                        if active(c) {
                            let (x, y) = (self.val(e, b, a)?, self.val(e, b, c)?);
                            let q = b.ins().fdiv(x, y);
                            let t = b.ins().trunc(q);
                            let d = b.ins().fneg(t);
                            self.add_product(b, c, g, d);
                        }
                    }
                    Bin::Pow => {
                        let (x, y) = (self.val(e, b, a)?, self.val(e, b, c)?);
                        let zero = b.ins().f64const(0.0);
                        if active(a) {
                            // b == 0 ? 0 : b · a^(b − 1)
                            let one = b.ins().f64const(1.0);
                            let y1 = b.ins().fsub(y, one);
                            let p = e.call(b, "tyche_jit_pow", &[x, y1])?;
                            let t = b.ins().fmul(y, p);
                            let is0 = b.ins().fcmp(FloatCC::Equal, y, zero);
                            let d = b.ins().select(is0, zero, t);
                            self.add_product(b, a, g, d);
                        }
                        if active(c) {
                            // a > 0 ? y · ln a : 0
                            let r = self.val(e, b, n)?;
                            let l = e.call(b, "tyche_jit_ln", &[x])?;
                            let t = b.ins().fmul(r, l);
                            let pos = b.ins().fcmp(FloatCC::GreaterThan, x, zero);
                            let d = b.ins().select(pos, t, zero);
                            self.add_product(b, c, g, d);
                        }
                    }
                    Bin::Min | Bin::Max => {
                        if a == c {
                            self.add(b, a, g, false);
                        } else {
                            // The operand the value came from (bit for bit).
                            let (r, x) = (self.val(e, b, n)?, self.val(e, b, a)?);
                            let rb = b.ins().bitcast(types::I64, MemFlagsData::new(), r);
                            let xb = b.ins().bitcast(types::I64, MemFlagsData::new(), x);
                            let first = b.ins().icmp(IntCC::Equal, rb, xb);
                            self.add_if(b, a, first, true, g);
                            self.add_if(b, c, first, false, g);
                        }
                    }
                    Bin::Bd0 => {
                        let (x, y) = (self.val(e, b, a)?, self.val(e, b, c)?);
                        let q = b.ins().fdiv(x, y);
                        if active(a) {
                            let d = e.call(b, "tyche_jit_ln", &[q])?;
                            self.add_product(b, a, g, d);
                        }
                        if active(c) {
                            let one = b.ins().f64const(1.0);
                            let d = b.ins().fsub(one, q);
                            self.add_product(b, c, g, d);
                        }
                    }
                }
            }
            Op::Select(cond, x, y) => {
                let Some(g) = self.adj(b, n) else {
                    return Ok(());
                };
                let arms = [
                    Arm {
                        select: n,
                        then: true,
                    },
                    Arm {
                        select: n,
                        then: false,
                    },
                ];
                let branchy = arms.iter().any(|a| e.owned.contains_key(a));
                let c = self.val(e, b, cond)?;
                if branchy {
                    let mut inside = Vec::new();
                    for &arm in &arms {
                        Self::arm_nodes(e, arm, &mut inside);
                    }
                    let mut touched = vec![x, y];
                    for &m in &inside {
                        touched.extend(e.kernel.op(m).args());
                    }
                    for t in touched {
                        if !inside.contains(&t) {
                            self.materialize(b, t);
                        }
                    }
                    let tb = b.create_block();
                    let eb = b.create_block();
                    let join = b.create_block();
                    b.ins().brif(c, tb, &[], eb, &[]);
                    for (blk, arm, v) in [(tb, arms[0], x), (eb, arms[1], y)] {
                        b.switch_to_block(blk);
                        self.add(b, v, g, false);
                        let nodes = e.owned.get(&arm).cloned().unwrap_or_default();
                        for &m in nodes.iter().rev() {
                            self.node(e, b, m)?;
                        }
                        b.ins().jump(join, &[]);
                    }
                    b.switch_to_block(join);
                } else if x == y {
                    self.add(b, x, g, false);
                } else {
                    self.add_if(b, x, c, true, g);
                    self.add_if(b, y, c, false, g);
                }
            }
            // No adjoint flows through comparisons and booleans; a loop
            // reads its outputs' adjoints itself.
            _ => {}
        }
        Ok(())
    }

    /// Reverses loop `l`: iterations from last to first.
    fn reverse_loop<M: Module>(
        &mut self,
        e: &mut Emitter<'_, M>,
        b: &mut FunctionBuilder,
        l: u32,
    ) -> Result<(), JitError> {
        let kernel = e.kernel;
        let lp = &kernel.loops[l as usize];
        let plan = self.plan;
        // The carried values' adjoints after the last iteration: the sum
        // of their outputs' adjoints.
        let mut carry: Vec<Option<Variable>> = Vec::new();
        for (j, c) in lp.carried.iter().enumerate() {
            if !plan.active[c.phi.index()] {
                carry.push(None);
                continue;
            }
            let mut sum: Option<Value> = None;
            for &o in &plan.outs[l as usize][j] {
                if let Some(a) = self.adj(b, o) {
                    sum = Some(match sum {
                        None => a,
                        Some(s) => b.ins().fadd(s, a),
                    });
                }
            }
            let v = b.declare_var(types::F64);
            let s = match sum {
                Some(s) => s,
                None => b.ins().f64const(0.0),
            };
            b.def_var(v, s);
            carry.push(Some(v));
        }
        if carry.iter().all(Option::is_none) && lp.body.iter().all(|x| !plan.active[x.index()]) {
            return Ok(());
        }
        // Outer adjoints the body adds to, given registers before the loop;
        // outer values the rules read, loaded once.
        let body: std::collections::HashSet<NodeId> = lp
            .body
            .iter()
            .copied()
            .chain(lp.carried.iter().map(|c| c.phi))
            .collect();
        let mut reads = Vec::new();
        for &x in &lp.body {
            if plan.active[x.index()] {
                for a in kernel.op(x).args() {
                    if !body.contains(&a) {
                        self.materialize(b, a);
                    }
                }
                rule_reads(kernel.op(x), x, &plan.active, &mut reads);
            }
        }
        for c in &lp.carried {
            if !body.contains(&c.next) && plan.active[c.phi.index()] {
                self.materialize(b, c.next);
            }
        }
        self.outer.clear();
        self.recips.clear();
        for x in reads {
            if !body.contains(&x) && !self.outer.contains_key(&x) {
                let v = self.val(e, b, x)?;
                self.outer.insert(x, v);
            }
        }
        for &x in &lp.body {
            if let Op::Bin(Bin::Div, _, y) = *kernel.op(x) {
                if plan.active[x.index()] && !body.contains(&y) && !self.recips.contains_key(&y) {
                    let r = self.reciprocal(e, b, y)?;
                    self.recips.insert(y, r);
                }
            }
        }
        let rb = b.create_block();
        let exit = b.create_block();
        let k = b.append_block_param(rb, types::I64);
        let last = b.ins().iconst(types::I64, i64::from(lp.count) - 1);
        b.ins().jump(rb, &[BlockArg::from(last)]);
        b.switch_to_block(rb);
        self.lp = Some(l);
        self.k = Some(k);
        self.k_data = e.data_base.map(|base| {
            let off = b.ins().ishl_imm_u(k, 3);
            b.ins().iadd(base, off)
        });
        self.k_tables = e.tables_base.map(|base| {
            let off = b.ins().ishl_imm_u(k, 2);
            b.ins().iadd(base, off)
        });
        let (offset, width) = plan.loop_tape[l as usize];
        self.row = if width > 0 {
            let off = b.ins().imul_imm_s(k, i64::from(width) * 8);
            let base = b.ins().iadd(self.tape, off);
            Some(b.ins().iadd_imm_s(base, i64::from(offset) * 8))
        } else {
            None
        };
        for &x in &body {
            self.zero[x.index()] = true;
        }
        for (c, v) in lp.carried.iter().zip(&carry) {
            if let Some(v) = *v {
                let a = b.use_var(v);
                self.add(b, c.next, a, false);
            }
        }
        for &x in lp.body.iter().rev() {
            if e.owner.get(x.index()).copied().flatten().is_none() {
                self.node(e, b, x)?;
            }
        }
        for (c, v) in lp.carried.iter().zip(&carry) {
            if let Some(v) = *v {
                let a = match self.adj(b, c.phi) {
                    Some(a) => a,
                    None => b.ins().f64const(0.0),
                };
                b.def_var(v, a);
            }
        }
        let more = b.ins().icmp_imm_s(IntCC::SignedGreaterThan, k, 0);
        let k1 = b.ins().iadd_imm_s(k, -1);
        b.ins().brif(more, rb, &[BlockArg::from(k1)], exit, &[]);
        b.switch_to_block(exit);
        self.lp = None;
        self.k = None;
        self.row = None;
        self.k_data = None;
        self.k_tables = None;
        self.outer.clear();
        self.recips.clear();
        for (c, v) in lp.carried.iter().zip(&carry) {
            if let Some(v) = *v {
                let a = b.use_var(v);
                self.add(b, c.init, a, false);
            }
        }
        Ok(())
    }
}
