//! Cranelift code generation for kernels, written once against
//! [`cranelift_module::Module`] so the JIT ([`cranelift_jit::JITModule`])
//! and object files ([`cranelift_object::ObjectModule`]) share it.
//!
//! The generated function is `extern "C" fn(theta: *const f64) -> f64`.
//! Loop data and parameter-index tables are read-only data objects of the
//! module; special functions are imported symbols (see
//! [`special`](crate::special)).
//!
//! Shape of the code:
//! - Top-level nodes in schedule order; constants and θ loads are emitted
//!   at their uses in each block (cheap, and keeps nothing live across a
//!   loop that need not be).
//! - A loop is a single rotated block `body(k, carried…)` with a
//!   conditional back edge; its results are stored to stack slots in the
//!   exit block and reloaded where used. Both measures avoid the register
//!   allocation trap of a value live across a loop and the calls after it.
//! - A `select` whose arm owns expensive work (a call) becomes a branch
//!   when [`JitOptions::branchy_select`] is on, so guarded densities and
//!   Bernoulli observations compute only the arm they need.

use crate::kernel::{Item, Kernel};
use crate::ops::{Bin, Cmp, NodeId, Op, Un};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, BlockArg, Function, InstBuilder, MemFlagsData, StackSlot,
    StackSlotData, StackSlotKind, UserFuncName, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
// Fx: deterministic and several times faster than SipHash on the node
// ids and ops tracing hashes (a tenth of a short SMC run was hashing).
use rustc_hash::FxHashMap as HashMap;

/// Code generation settings.
#[derive(Clone, Debug)]
pub struct JitOptions {
    /// Cranelift's optimisation level: `"none"`, `"speed"` or
    /// `"speed_and_size"`. The kernel IR is already CSE'd, folded and
    /// hoisted, so `"none"` loses little and compiles faster.
    pub opt_level: &'static str,
    /// Turn `select`s with an expensive arm into branches.
    pub branchy_select: bool,
}

impl Default for JitOptions {
    fn default() -> JitOptions {
        JitOptions {
            opt_level: "speed",
            branchy_select: true,
        }
    }
}

/// Why a kernel could not be compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct JitError {
    pub message: String,
}

impl std::fmt::Display for JitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JitError {}

pub(crate) fn jerr(e: impl std::fmt::Display) -> JitError {
    JitError {
        message: e.to_string(),
    }
}

/// The native ISA with the given flags.
pub(crate) fn native_isa(
    opts: &JitOptions,
    pic: bool,
) -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
    let mut fb = settings::builder();
    fb.set("opt_level", opts.opt_level).map_err(jerr)?;
    fb.set("use_colocated_libcalls", "false").map_err(jerr)?;
    fb.set("is_pic", if pic { "true" } else { "false" })
        .map_err(jerr)?;
    let isa = cranelift_native::builder()
        .map_err(jerr)?
        .finish(settings::Flags::new(fb))
        .map_err(jerr)?;
    Ok(isa)
}

/// A kernel's function, declared in `module` (data objects defined) but
/// not yet defined: the caller prints or compiles it.
pub(crate) struct Built {
    pub func_id: FuncId,
    pub func: Function,
}

/// Builds the CLIF of `kernel` as function `name` in `module`.
pub(crate) fn build<M: Module>(
    module: &mut M,
    kernel: &Kernel,
    name: &str,
    linkage: Linkage,
    opts: &JitOptions,
) -> Result<Built, JitError> {
    kernel
        .verify()
        .map_err(|m| jerr(format!("invalid kernel: {m}")))?;
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
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
        let theta = b.block_params(entry)[0];
        let data_base = data_id.map(|d| {
            let gv = module.declare_data_in_func(d, b.func);
            b.ins().symbol_value(ptr, gv)
        });
        let tables_base = tables_id.map(|d| {
            let gv = module.declare_data_in_func(d, b.func);
            b.ins().symbol_value(ptr, gv)
        });
        let mut e = Emitter::new(module, kernel, opts, ptr, theta, data_base, tables_base);
        let r = e.emit(&mut b)?;
        b.ins().return_(&[r]);
        b.seal_all_blocks();
        b.finalize(frontend_config);
    }
    Ok(Built { func_id, func })
}

/// The module's data objects for a kernel's columns and index tables.
pub(crate) fn define_kernel_data<M: Module>(
    module: &mut M,
    kernel: &Kernel,
    name: &str,
) -> Result<(Option<DataId>, Option<DataId>), JitError> {
    let data_id = if kernel.data.is_empty() {
        None
    } else {
        let bytes: Vec<u8> = kernel.data.iter().flat_map(|x| x.to_le_bytes()).collect();
        Some(define_data(module, &format!("{name}__data"), bytes)?)
    };
    let tables_id = if kernel.tables.is_empty() {
        None
    } else {
        let bytes: Vec<u8> = kernel.tables.iter().flat_map(|x| x.to_le_bytes()).collect();
        Some(define_data(module, &format!("{name}__tables"), bytes)?)
    };
    Ok((data_id, tables_id))
}

fn define_data<M: Module>(module: &mut M, name: &str, bytes: Vec<u8>) -> Result<DataId, JitError> {
    let id = module
        .declare_data(name, Linkage::Local, false, false)
        .map_err(jerr)?;
    let mut desc = DataDescription::new();
    desc.define(bytes.into_boxed_slice());
    desc.set_align(8);
    module.define_data(id, &desc).map_err(jerr)?;
    Ok(id)
}

/// Which `select` arm, if any, a node is computed in (for branchy selects).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Arm {
    pub select: NodeId,
    pub then: bool,
}

/// Where the gradient's forward sweep keeps a value for the reverse
/// sweep (see `gradgen`): `tape + 8·offset` at the top level, `row +
/// 8·offset` (the current iteration's row of the loop's tape) in a body.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spill {
    pub offset: u32,
}

/// The forward code generator. `gradgen` drives it for the forward
/// sweep of a gradient, with `spill` set.
pub(crate) struct Emitter<'a, M: Module> {
    pub module: &'a mut M,
    pub kernel: &'a Kernel,
    pub opts: &'a JitOptions,
    pub ptr: types::Type,
    pub theta: Value,
    pub data_base: Option<Value>,
    pub tables_base: Option<Value>,
    pub vals: Vec<Option<Value>>,
    /// Constants and θ loads per block.
    block_cache: HashMap<(Block, NodeId), Value>,
    funcs: HashMap<&'static str, cranelift_codegen::ir::FuncRef>,
    pub slots: HashMap<(u32, u32), StackSlot>,
    /// Real constants and θ loads used by the current loop body, computed
    /// once in its preheader.
    loop_consts: HashMap<NodeId, Value>,
    /// The iteration index in the current loop body.
    k: Option<Value>,
    /// `data + 8k` and `tables + 4k` in the current loop body.
    k_data: Option<Value>,
    k_tables: Option<Value>,
    /// The arm each node is computed in (None: unconditionally).
    pub owner: Vec<Option<Arm>>,
    /// Nodes owned by each arm, in schedule order.
    pub owned: HashMap<Arm, Vec<NodeId>>,
    /// Gradients only: values the reverse sweep reads, stored where they
    /// are computed (empty for a plain kernel).
    pub spill: Vec<Option<Spill>>,
    /// Gradients only: the tape (top-level values, then each loop's
    /// rows), and per loop its offset and row width in `f64`s.
    pub tape: Option<Value>,
    pub loop_tape: Vec<(u32, u32)>,
    /// The current iteration's row of the loop's tape.
    row: Option<Value>,
}

fn is_leaf(op: &Op) -> bool {
    matches!(
        op,
        Op::Const(_)
            | Op::Bool(_)
            | Op::Param(_)
            | Op::ParamAt { .. }
            | Op::ParamIdx(_)
            | Op::Data(_)
            | Op::Carried(_)
            | Op::LoopOut { .. }
    )
}

fn is_call(op: &Op) -> bool {
    match op {
        Op::Un(u, _) => u.extern_fn().is_some(),
        Op::Bin(b, _, _) => b.extern_fn().is_some(),
        _ => false,
    }
}

impl<'a, M: Module> Emitter<'a, M> {
    pub fn new(
        module: &'a mut M,
        kernel: &'a Kernel,
        opts: &'a JitOptions,
        ptr: types::Type,
        theta: Value,
        data_base: Option<Value>,
        tables_base: Option<Value>,
    ) -> Emitter<'a, M> {
        Emitter {
            module,
            kernel,
            opts,
            ptr,
            theta,
            data_base,
            tables_base,
            vals: vec![None; kernel.nodes.len()],
            block_cache: HashMap::default(),
            funcs: HashMap::default(),
            slots: HashMap::default(),
            loop_consts: HashMap::default(),
            k: None,
            k_data: None,
            k_tables: None,
            owner: Vec::new(),
            owned: HashMap::default(),
            spill: Vec::new(),
            tape: None,
            loop_tape: Vec::new(),
            row: None,
        }
    }

    /// For one schedule (top level or a loop body), decides which nodes are
    /// computed only inside a `select` arm: a node is owned by an arm when
    /// every use of it is in that arm, and the arm is worth a branch when
    /// it owns a call.
    pub fn plan_arms(&mut self, sched: &[NodeId], is_top: bool) {
        let n = self.kernel.nodes.len();
        if self.owner.len() != n {
            self.owner = vec![None; n];
        }
        if !self.opts.branchy_select {
            return;
        }
        // Users within this schedule.
        let pos: HashMap<NodeId, usize> = sched.iter().enumerate().map(|(i, &x)| (x, i)).collect();
        let mut users: Vec<Vec<(NodeId, Option<bool>)>> = vec![Vec::new(); sched.len()];
        let mut escapes = vec![false; sched.len()];
        for &u in sched {
            let op = self.kernel.nodes[u.index()];
            match op {
                Op::Select(c, a, b) => {
                    for (x, arm) in [(c, None), (a, Some(true)), (b, Some(false))] {
                        if let Some(&i) = pos.get(&x) {
                            users[i].push((u, arm));
                        }
                    }
                }
                _ => {
                    for x in op.args() {
                        if let Some(&i) = pos.get(&x) {
                            users[i].push((u, None));
                        }
                    }
                }
            }
        }
        // Values read outside the schedule (loop `next`, result, later
        // items) must be computed unconditionally.
        for (i, &x) in sched.iter().enumerate() {
            if x == self.kernel.result {
                escapes[i] = true;
            }
        }
        for lp in self.kernel.loops.iter().filter(|_| is_top) {
            for &x in &lp.body {
                for a in self.kernel.nodes[x.index()].args() {
                    if let Some(&i) = pos.get(&a) {
                        escapes[i] = true;
                    }
                }
            }
            for c in &lp.carried {
                if let Some(&i) = pos.get(&c.next) {
                    escapes[i] = true;
                }
                if let Some(&i) = pos.get(&c.init) {
                    escapes[i] = true;
                }
            }
        }
        // Reverse schedule order: users are decided before their operands.
        for (i, &x) in sched.iter().enumerate().rev() {
            let op = self.kernel.nodes[x.index()];
            if is_leaf(&op) || escapes[i] || users[i].is_empty() {
                continue;
            }
            let mut owner: Option<Arm> = None;
            let mut ok = true;
            for &(u, arm) in &users[i] {
                let o = match arm {
                    Some(then) => Some(Arm { select: u, then }),
                    None => self.owner[u.index()],
                };
                match (o, owner) {
                    (None, _) => {
                        ok = false;
                        break;
                    }
                    (Some(o), None) => owner = Some(o),
                    (Some(o), Some(w)) if o == w => {}
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                self.owner[x.index()] = owner;
            }
        }
        // Keep only arms that own a call; others are cheaper as a select.
        // An arm is expensive when it owns a call, directly or through a
        // nested select's arm (schedule order: inner arms are decided
        // before the select that owns them).
        let mut has_call: HashMap<Arm, bool> = HashMap::default();
        for &x in sched {
            if let Some(a) = self.owner[x.index()] {
                let op = self.kernel.nodes[x.index()];
                let nested = matches!(op, Op::Select(..))
                    && [true, false].iter().any(|&then| {
                        has_call
                            .get(&Arm { select: x, then })
                            .copied()
                            .unwrap_or(false)
                    });
                *has_call.entry(a).or_default() |= is_call(&op) || nested;
            }
        }
        // A node owned by a cheap arm falls back to that arm's select's own
        // owner (computed wherever the select is).
        for &x in sched.iter().rev() {
            let mut o = self.owner[x.index()];
            while let Some(a) = o {
                if has_call.get(&a).copied().unwrap_or(false) {
                    break;
                }
                o = self.owner[a.select.index()];
            }
            self.owner[x.index()] = o;
        }
        for &x in sched {
            if let Some(a) = self.owner[x.index()] {
                self.owned.entry(a).or_default().push(x);
            }
        }
    }

    /// Emits the schedule; returns the log density's value.
    pub fn emit(&mut self, b: &mut FunctionBuilder) -> Result<Value, JitError> {
        let top: Vec<NodeId> = self
            .kernel
            .top
            .iter()
            .filter_map(|i| match i {
                Item::Node(n) => Some(*n),
                Item::Loop(_) => None,
            })
            .collect();
        self.plan_arms(&top, true);
        for item in &self.kernel.top {
            match *item {
                Item::Node(n) => {
                    if self.owner[n.index()].is_none() {
                        self.emit_node(b, n)?;
                    }
                }
                Item::Loop(l) => self.emit_loop(b, l)?,
            }
        }
        self.get(b, self.kernel.result)
    }

    /// Stores `v`, node `n`'s value, where the reverse sweep reads it.
    fn spill_value(&mut self, b: &mut FunctionBuilder, n: NodeId, v: Value) {
        let Some(Some(s)) = self.spill.get(n.index()).copied() else {
            return;
        };
        let base = match (self.k, self.row, self.tape) {
            (Some(_), Some(row), _) => row,
            (None, _, Some(tape)) => tape,
            _ => return,
        };
        b.ins()
            .store(MemFlagsData::trusted(), v, base, (s.offset * 8) as i32);
    }

    fn emit_loop(&mut self, b: &mut FunctionBuilder, l: u32) -> Result<(), JitError> {
        let lp = &self.kernel.loops[l as usize];
        self.plan_arms(&lp.body, false);
        let inits: Vec<Value> = lp
            .carried
            .iter()
            .map(|c| self.get(b, c.init))
            .collect::<Result<_, _>>()?;
        // Loop-invariant leaves, once, in the preheader.
        let mut leaves: Vec<NodeId> = Vec::new();
        for &n in lp.body.iter().chain(lp.carried.iter().map(|c| &c.next)) {
            let op = self.kernel.nodes[n.index()];
            let args = if lp.body.contains(&n) {
                op.args()
            } else {
                vec![n]
            };
            for a in args {
                if matches!(self.kernel.nodes[a.index()], Op::Const(_) | Op::Param(_))
                    && !leaves.contains(&a)
                {
                    leaves.push(a);
                }
            }
        }
        // Loaded afresh right before the loop: a value loaded earlier in
        // this block may be live across calls, and the register
        // allocator then reloads it from the stack in every iteration.
        let mut hoisted = HashMap::default();
        let pre = b.current_block().expect("inside a block");
        for a in leaves {
            self.block_cache.remove(&(pre, a));
            hoisted.insert(a, self.get(b, a)?);
        }
        let body = b.create_block();
        let exit = b.create_block();
        let k = b.append_block_param(body, types::I64);
        let mut phis = Vec::new();
        for _ in &lp.carried {
            phis.push(b.append_block_param(body, types::F64));
        }
        let mut outs = Vec::new();
        for _ in &lp.carried {
            outs.push(b.append_block_param(exit, types::F64));
        }
        let zero = b.ins().iconst(types::I64, 0);
        let mut args: Vec<BlockArg> = vec![zero.into()];
        args.extend(inits.iter().map(|&v| BlockArg::from(v)));
        b.ins().jump(body, &args);

        b.switch_to_block(body);
        self.loop_consts = hoisted;
        self.k = Some(k);
        self.k_data = match self.data_base {
            Some(base) => {
                let off = b.ins().ishl_imm_u(k, 3);
                Some(b.ins().iadd(base, off))
            }
            None => None,
        };
        self.k_tables = match self.tables_base {
            Some(base) => {
                let off = b.ins().ishl_imm_u(k, 2);
                Some(b.ins().iadd(base, off))
            }
            None => None,
        };
        self.row = match (self.tape, self.loop_tape.get(l as usize)) {
            (Some(tape), Some(&(offset, width))) if width > 0 => {
                let off = b.ins().imul_imm_s(k, i64::from(width) * 8);
                let base = b.ins().iadd(tape, off);
                Some(b.ins().iadd_imm_s(base, i64::from(offset) * 8))
            }
            _ => None,
        };
        for (c, &p) in lp.carried.iter().zip(&phis) {
            self.vals[c.phi.index()] = Some(p);
            self.spill_value(b, c.phi, p);
        }
        for &n in &lp.body {
            if self.owner[n.index()].is_none() {
                self.emit_node(b, n)?;
            }
        }
        let nexts: Vec<Value> = lp
            .carried
            .iter()
            .map(|c| self.get(b, c.next))
            .collect::<Result<_, _>>()?;
        let k1 = b.ins().iadd_imm_s(k, 1);
        let more = b
            .ins()
            .icmp_imm_s(IntCC::SignedLessThan, k1, lp.count as i64);
        let mut back: Vec<BlockArg> = vec![k1.into()];
        back.extend(nexts.iter().map(|&v| BlockArg::from(v)));
        let out: Vec<BlockArg> = nexts.iter().map(|&v| BlockArg::from(v)).collect();
        b.ins().brif(more, body, &back, exit, &out);

        b.switch_to_block(exit);
        self.loop_consts.clear();
        self.k = None;
        self.row = None;
        self.k_data = None;
        self.k_tables = None;
        let ptr_ty = self.ptr;
        for (i, &o) in outs.iter().enumerate() {
            let slot =
                b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3));
            b.ins().stack_store(ptr_ty, o, slot, 0);
            self.slots.insert((l, i as u32), slot);
        }
        // Body values are out of scope now.
        for &n in &lp.body {
            self.vals[n.index()] = None;
        }
        for c in &lp.carried {
            self.vals[c.phi.index()] = None;
        }
        Ok(())
    }

    pub fn func_ref(
        &mut self,
        b: &mut FunctionBuilder,
        name: &'static str,
        arity: usize,
    ) -> Result<cranelift_codegen::ir::FuncRef, JitError> {
        if let Some(&f) = self.funcs.get(name) {
            return Ok(f);
        }
        let mut sig = self.module.make_signature();
        for _ in 0..arity {
            sig.params.push(AbiParam::new(types::F64));
        }
        sig.returns.push(AbiParam::new(types::F64));
        let id = self
            .module
            .declare_function(name, Linkage::Import, &sig)
            .map_err(jerr)?;
        let f = self.module.declare_func_in_func(id, b.func);
        self.funcs.insert(name, f);
        Ok(f)
    }

    /// The value of node `n` in the current block.
    fn get(&mut self, b: &mut FunctionBuilder, n: NodeId) -> Result<Value, JitError> {
        let op = self.kernel.nodes[n.index()];
        let blk = b.current_block().expect("inside a block");
        match op {
            Op::Const(_) | Op::Bool(_) | Op::Param(_) | Op::LoopOut { .. } => {
                if let Some(&v) = self.loop_consts.get(&n) {
                    return Ok(v);
                }
                if let Some(&v) = self.block_cache.get(&(blk, n)) {
                    return Ok(v);
                }
                let flags = MemFlagsData::trusted().with_readonly();
                let v = match op {
                    Op::Const(bits) => b.ins().f64const(f64::from_bits(bits)),
                    Op::Bool(x) => b.ins().iconst(types::I8, x as i64),
                    Op::Param(i) => b.ins().load(types::F64, flags, self.theta, (i * 8) as i32),
                    Op::LoopOut { lp, index } => {
                        let slot = self.slots[&(lp, index)];
                        b.ins().stack_load(self.ptr, types::F64, slot, 0)
                    }
                    _ => unreachable!(),
                };
                self.block_cache.insert((blk, n), v);
                Ok(v)
            }
            _ => match self.vals[n.index()] {
                Some(v) => Ok(v),
                None => Err(jerr(format!(
                    "internal error: {n} used before it was computed"
                ))),
            },
        }
    }

    pub fn call(
        &mut self,
        b: &mut FunctionBuilder,
        name: &'static str,
        args: &[Value],
    ) -> Result<Value, JitError> {
        let f = self.func_ref(b, name, args.len())?;
        let inst = b.ins().call(f, args);
        Ok(b.inst_results(inst)[0])
    }

    fn emit_node(&mut self, b: &mut FunctionBuilder, n: NodeId) -> Result<(), JitError> {
        let op = self.kernel.nodes[n.index()];
        let flags = MemFlagsData::trusted().with_readonly();
        let v = match op {
            Op::Const(_) | Op::Bool(_) | Op::Param(_) | Op::LoopOut { .. } => return Ok(()),
            Op::Carried(_) => return Ok(()),
            Op::ParamAt { base, stride } => {
                let k = self.k.ok_or_else(|| jerr("param_at outside a loop"))?;
                let off = b.ins().imul_imm_s(k, stride as i64 * 8);
                let addr = b.ins().iadd(self.theta, off);
                b.ins().load(types::F64, flags, addr, (base * 8) as i32)
            }
            Op::Data(o) => {
                let addr = self.k_data.ok_or_else(|| jerr("data outside a loop"))?;
                let o = i32::try_from(o as u64 * 8).map_err(|_| jerr("data too large"))?;
                b.ins().load(types::F64, flags, addr, o)
            }
            Op::ParamIdx(o) => {
                let addr = self
                    .k_tables
                    .ok_or_else(|| jerr("param_idx outside a loop"))?;
                let o = i32::try_from(o as u64 * 4).map_err(|_| jerr("tables too large"))?;
                let idx = b.ins().uload32(flags, addr, o);
                let boff = b.ins().ishl_imm_u(idx, 3);
                let paddr = b.ins().iadd(self.theta, boff);
                b.ins().load(types::F64, flags, paddr, 0)
            }
            Op::Un(u, a) => {
                let x = self.get(b, a)?;
                match u {
                    Un::Neg => b.ins().fneg(x),
                    Un::Abs => b.ins().fabs(x),
                    Un::Sqrt => b.ins().sqrt(x),
                    Un::Floor => b.ins().floor(x),
                    Un::Ceil => b.ins().ceil(x),
                    other => {
                        let (name, _) = other.extern_fn().expect("a call");
                        self.call(b, name, &[x])?
                    }
                }
            }
            Op::Bin(o, x, y) => {
                let (x, y) = (self.get(b, x)?, self.get(b, y)?);
                match o {
                    Bin::Add => b.ins().fadd(x, y),
                    Bin::Sub => b.ins().fsub(x, y),
                    Bin::Mul => b.ins().fmul(x, y),
                    Bin::Div => b.ins().fdiv(x, y),
                    Bin::Min | Bin::Max => {
                        let nan = b.ins().fcmp(FloatCC::Unordered, x, y);
                        let lt = b.ins().fcmp(FloatCC::LessThan, x, y);
                        let r = if o == Bin::Min {
                            b.ins().select(lt, x, y)
                        } else {
                            b.ins().select(lt, y, x)
                        };
                        let qnan = b.ins().f64const(f64::NAN);
                        b.ins().select(nan, qnan, r)
                    }
                    other => {
                        let (name, _) = other.extern_fn().expect("a call");
                        self.call(b, name, &[x, y])?
                    }
                }
            }
            Op::Lookup { .. } => return Err(jerr("table lookups are not compiled")),
            Op::Cmp(c, x, y) => {
                let (x, y) = (self.get(b, x)?, self.get(b, y)?);
                let cc = match c {
                    Cmp::Eq => FloatCC::Equal,
                    Cmp::Ne => FloatCC::NotEqual,
                    Cmp::Lt => FloatCC::LessThan,
                    Cmp::Le => FloatCC::LessThanOrEqual,
                    Cmp::Gt => FloatCC::GreaterThan,
                    Cmp::Ge => FloatCC::GreaterThanOrEqual,
                    Cmp::Uno => FloatCC::Unordered,
                };
                b.ins().fcmp(cc, x, y)
            }
            Op::And(x, y) => {
                let (x, y) = (self.get(b, x)?, self.get(b, y)?);
                b.ins().band(x, y)
            }
            Op::Or(x, y) => {
                let (x, y) = (self.get(b, x)?, self.get(b, y)?);
                b.ins().bor(x, y)
            }
            Op::Not(x) => {
                let x = self.get(b, x)?;
                b.ins().bxor_imm_u(x, 1)
            }
            Op::Select(c, x, y) => {
                let then_arm = Arm {
                    select: n,
                    then: true,
                };
                let else_arm = Arm {
                    select: n,
                    then: false,
                };
                let branchy =
                    self.owned.contains_key(&then_arm) || self.owned.contains_key(&else_arm);
                let c = self.get(b, c)?;
                if branchy {
                    let tb = b.create_block();
                    let eb = b.create_block();
                    let join = b.create_block();
                    let r = b.append_block_param(join, types::F64);
                    b.ins().brif(c, tb, &[], eb, &[]);
                    for (blk, arm, val) in [(tb, then_arm, x), (eb, else_arm, y)] {
                        b.switch_to_block(blk);
                        let nodes = self.owned.get(&arm).cloned().unwrap_or_default();
                        for &m in &nodes {
                            self.emit_node(b, m)?;
                        }
                        let v = self.get(b, val)?;
                        b.ins().jump(join, &[BlockArg::from(v)]);
                        for &m in &nodes {
                            self.vals[m.index()] = None;
                        }
                    }
                    b.switch_to_block(join);
                    r
                } else {
                    let (x, y) = (self.get(b, x)?, self.get(b, y)?);
                    b.ins().select(c, x, y)
                }
            }
        };
        self.vals[n.index()] = Some(v);
        self.spill_value(b, n, v);
        Ok(())
    }
}

/// The native ISA's name (for reports).
pub fn host_triple() -> String {
    match native_isa(&JitOptions::default(), false) {
        Ok(isa) => isa.triple().to_string(),
        Err(e) => format!("unsupported: {e}"),
    }
}
