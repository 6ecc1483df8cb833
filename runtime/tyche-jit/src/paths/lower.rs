//! Cranelift code for native paths: every IR function reachable from the
//! model becomes one machine function `fn(ctx, env, args…) -> word` (see
//! [`super::rt`] for the representation of values).
//!
//! Registers are Cranelift variables; each instruction's code is a block,
//! so the IR's jumps and branches carry over unchanged. Effects call the
//! runtime helpers; after every call that may end the run (a helper, a
//! compiled function, a closure), the code checks `ctx.abort` and unwinds
//! at once. Arithmetic checks what the interpreter checks (integer
//! overflow, division by zero, bounds) and unwinds with `UNSUPPORTED`,
//! so that the interpreter reruns the model and reports the error.

use super::rt::{
    self, LAST_WORDS, MAX_NATIVE_DEPTH, OFF_ABORT, OFF_DEPTH, OFF_END, OFF_LAST, OFF_NEXT,
    OFF_STACK_LIMIT, UNSUPPORTED,
};
use super::types::{Ty, Types};
use super::{Desc, Descs};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, FuncRef, InstBuilder, MemFlagsData, Signature, StackSlotData,
    StackSlotKind, UserFuncName, Value as CValue,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId as CFuncId, Linkage, Module};
use std::collections::HashMap;
use tyche_ir::{BinOp, Callee, Const, FuncId, Instr, Intrinsic, Prim, Program, Reg, UnOp};

const W: types::Type = types::I64;

/// Why a model has no native paths (with the instruction's source span
/// where there is one).
pub(crate) type Refusal = crate::NotStatic;

fn refusal(reason: impl Into<String>) -> Refusal {
    crate::NotStatic {
        reason: reason.into(),
        span: None,
    }
}

/// Words of the program's globals that compiled code reads, with the
/// arrays they point to (kept alive as long as the code).
#[derive(Default)]
pub(crate) struct Statics {
    pub words: HashMap<u32, u64>,
    pub blocks: Vec<Box<[u64]>>,
}

impl Statics {
    fn word(&mut self, v: &tyche_vm::Value, ty: &Ty) -> Option<u64> {
        rt::encode(self, v, ty)
    }
}

impl rt::Place for Statics {
    fn block(&mut self, words: &[u64]) -> u64 {
        let b: Box<[u64]> = words.into();
        let p = b.as_ptr() as u64;
        self.blocks.push(b);
        p
    }

    /// Distributions live in a runner's table, not in static data.
    fn dist_handle(&mut self, _: &tyche_vm::DistValue) -> Option<u64> {
        None
    }
}

/// The compiled module and the model's entry point.
pub(crate) struct Compiled {
    pub module: JITModule,
    pub entry: *const u8,
}

pub(crate) fn compile(
    program: &Program,
    globals: &[tyche_vm::Value],
    model: FuncId,
    types: &Types,
    statics: &mut Statics,
    descs: &mut Descs,
) -> Result<Compiled, Refusal> {
    let isa = crate::codegen::native_isa(&crate::JitOptions::default(), false)
        .map_err(|e| refusal(e.to_string()))?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr) in rt::symbols() {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let helpers = Helpers::declare(&mut module)?;
    let mut funcs: Vec<FuncId> = types.regs.keys().copied().collect();
    funcs.sort_by_key(|f| f.index());
    let mut ids = HashMap::new();
    for &f in &funcs {
        let sig = signature(&module, program.func(f).params as usize);
        let id = module
            .declare_function(&format!("nx_f{}", f.index()), Linkage::Local, &sig)
            .map_err(|e| refusal(e.to_string()))?;
        ids.insert(f, id);
    }
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = module.make_context();
    let frontend = module.target_config();
    for &f in &funcs {
        ctx.func.signature = signature(&module, program.func(f).params as usize);
        ctx.func.name = UserFuncName::user(0, ids[&f].as_u32());
        {
            let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let mut l = Lower {
                program,
                globals,
                types,
                statics,
                descs,
                module: &mut module,
                helpers: &helpers,
                ids: &ids,
                f,
                b,
                vars: Vec::new(),
                blocks: Vec::new(),
                refs: HashMap::new(),
                ctx: None,
                env: None,
                ret: None,
                exit: None,
            };
            l.function()?;
            l.b.seal_all_blocks();
            l.b.finalize(frontend);
        }
        module
            .define_function(ids[&f], &mut ctx)
            .map_err(|e| refusal(format!("code generation failed: {e:?}")))?;
        module.clear_context(&mut ctx);
    }
    module
        .finalize_definitions()
        .map_err(|e| refusal(e.to_string()))?;
    let entry = module.get_finalized_function(ids[&model]);
    Ok(Compiled { module, entry })
}

fn signature(module: &JITModule, params: usize) -> Signature {
    let mut sig = module.make_signature();
    for _ in 0..params + 2 {
        sig.params.push(AbiParam::new(W));
    }
    sig.returns.push(AbiParam::new(W));
    sig
}

/// The runtime helpers, declared in the module.
struct Helpers {
    ids: Vec<(&'static str, CFuncId)>,
}

impl Helpers {
    fn declare(module: &mut JITModule) -> Result<Helpers, Refusal> {
        // (name, integer parameters after ctx, a float parameter, result)
        let shapes: [(&str, usize, bool, bool); 8] = [
            ("nx_alloc", 1, false, true),
            ("nx_dist", 2, false, true),
            ("nx_sample", 1, false, true),
            ("nx_observe", 3, false, false),
            ("nx_factor", 0, true, false),
            ("nx_generic", 2, false, true),
            ("nx_concat", 2, false, true),
            ("nx_reverse", 1, false, true),
        ];
        let mut ids = Vec::new();
        for (name, ints, float, ret) in shapes {
            let mut sig = module.make_signature();
            sig.params.push(AbiParam::new(W));
            for _ in 0..ints {
                sig.params.push(AbiParam::new(W));
            }
            if float {
                sig.params.push(AbiParam::new(types::F64));
            }
            if ret {
                sig.returns.push(AbiParam::new(W));
            }
            let id = module
                .declare_function(name, Linkage::Import, &sig)
                .map_err(|e| refusal(e.to_string()))?;
            ids.push((name, id));
        }
        Ok(Helpers { ids })
    }

    fn id(&self, name: &str) -> CFuncId {
        self.ids
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .expect("declared helper")
    }
}

struct Lower<'a, 'b> {
    program: &'a Program,
    globals: &'a [tyche_vm::Value],
    types: &'a Types,
    statics: &'a mut Statics,
    descs: &'a mut Descs,
    module: &'a mut JITModule,
    helpers: &'a Helpers,
    ids: &'a HashMap<FuncId, CFuncId>,
    f: FuncId,
    b: FunctionBuilder<'b>,
    vars: Vec<Variable>,
    blocks: Vec<Block>,
    refs: HashMap<CFuncId, FuncRef>,
    ctx: Option<CValue>,
    env: Option<CValue>,
    ret: Option<Variable>,
    exit: Option<Block>,
}

impl Lower<'_, '_> {
    fn ty(&self, r: &Reg) -> &Ty {
        self.types.of(self.f, *r)
    }

    fn get(&mut self, r: &Reg) -> CValue {
        self.b.use_var(self.vars[r.index()])
    }

    fn set(&mut self, r: &Reg, v: CValue) {
        self.b.def_var(self.vars[r.index()], v);
    }

    fn ctx(&self) -> CValue {
        self.ctx.expect("entry block built")
    }

    fn func_ref(&mut self, id: CFuncId) -> FuncRef {
        if let Some(r) = self.refs.get(&id) {
            return *r;
        }
        let r = self.module.declare_func_in_func(id, self.b.func);
        self.refs.insert(id, r);
        r
    }

    fn helper(&mut self, name: &str, args: &[CValue]) -> Option<CValue> {
        let id = self.helpers.id(name);
        let r = self.func_ref(id);
        let inst = self.b.ins().call(r, args);
        self.b.inst_results(inst).first().copied()
    }

    /// Unwinds when `ctx.abort` is set; code continues in a new block.
    fn check_abort(&mut self) {
        let ctx = self.ctx();
        let a = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), ctx, OFF_ABORT);
        let cont = self.b.create_block();
        let zero = self.b.ins().iconst(W, 0);
        let ret = self.ret.expect("return variable");
        self.b.def_var(ret, zero);
        self.b
            .ins()
            .brif(a, self.exit.expect("exit block"), &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Unwinds with `UNSUPPORTED` when `bad` is nonzero.
    fn fail_if(&mut self, bad: CValue) {
        let fail = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(bad, fail, &[], cont, &[]);
        self.b.switch_to_block(fail);
        let ctx = self.ctx();
        let code = self.b.ins().iconst(W, UNSUPPORTED as i64);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), code, ctx, OFF_ABORT);
        let zero = self.b.ins().iconst(W, 0);
        let ret = self.ret.expect("return variable");
        self.b.def_var(ret, zero);
        self.b.ins().jump(self.exit.expect("exit block"), &[]);
        self.b.switch_to_block(cont);
    }

    /// `words` words of arena memory: a bump of `ctx.next`, or the helper
    /// when the chunk is full.
    fn alloc(&mut self, words: CValue) -> CValue {
        let ctx = self.ctx();
        let next = self.b.ins().load(W, MemFlagsData::trusted(), ctx, OFF_NEXT);
        let end = self.b.ins().load(W, MemFlagsData::trusted(), ctx, OFF_END);
        let bytes = self.b.ins().ishl_imm_u(words, 3);
        let after = self.b.ins().iadd(next, bytes);
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, after, end);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let out = self.b.declare_var(W);
        self.b.ins().brif(fits, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), after, ctx, OFF_NEXT);
        self.b.def_var(out, next);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(slow);
        let p = self.helper("nx_alloc", &[ctx, words]).expect("pointer");
        self.b.def_var(out, p);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
        self.b.use_var(out)
    }

    fn alloc_const(&mut self, words: usize) -> CValue {
        let n = self.b.ins().iconst(W, words as i64);
        self.alloc(n)
    }

    fn store(&mut self, v: CValue, base: CValue, word: i32) {
        self.b
            .ins()
            .store(MemFlagsData::trusted(), v, base, 8 * word);
    }

    fn load(&mut self, base: CValue, word: i32) -> CValue {
        self.b
            .ins()
            .load(W, MemFlagsData::trusted(), base, 8 * word)
    }

    /// The address of element `i` of the array at `xs`.
    fn elem_addr(&mut self, xs: CValue, i: CValue) -> CValue {
        let off = self.b.ins().ishl_imm_u(i, 3);
        let p = self.b.ins().iadd(xs, off);
        self.b.ins().iadd_imm_s(p, 8)
    }

    /// Writes `vals` to a fresh stack slot and returns its address.
    fn spill(&mut self, vals: &[CValue]) -> CValue {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * vals.len().max(1) as u32,
            3,
        ));
        for (i, &v) in vals.iter().enumerate() {
            self.b.ins().stack_store(W, v, slot, 8 * i as i32);
        }
        self.b.ins().stack_addr(W, slot, 0)
    }

    fn desc(&mut self, d: Desc) -> CValue {
        self.descs.0.push(d);
        self.b.ins().iconst(W, (self.descs.0.len() - 1) as i64)
    }

    /// The distribution of descriptor `d` with parameters `vals`, from
    /// the helper.
    fn make_dist(&mut self, d: CValue, vals: &[CValue]) -> CValue {
        let argv = self.spill(vals);
        let ctx = self.ctx();
        let h = self.helper("nx_dist", &[ctx, d, argv]).expect("handle");
        self.check_abort();
        h
    }

    /// [`Lower::make_dist`] for scalar parameters: the handle the site
    /// built last (`Ctx::last`) when the parameters are the same, without
    /// a call.
    fn make_dist_cached(&mut self, d: CValue, vals: &[CValue]) -> CValue {
        let index = self.descs.0.len() - 1;
        let ctx = self.ctx();
        let base = self.b.ins().load(W, MemFlagsData::trusted(), ctx, OFF_LAST);
        let off = (8 * LAST_WORDS * index) as i32;
        let set = self.b.ins().load(W, MemFlagsData::trusted(), base, off);
        let mut same = self.b.ins().icmp_imm_s(IntCC::Equal, set, 1);
        for (i, &v) in vals.iter().enumerate() {
            let w = self
                .b
                .ins()
                .load(W, MemFlagsData::trusted(), base, off + 8 * (1 + i as i32));
            let eq = self.b.ins().icmp(IntCC::Equal, w, v);
            same = self.b.ins().band(same, eq);
        }
        let hit = self.b.create_block();
        let miss = self.b.create_block();
        let join = self.b.create_block();
        let out = self.b.declare_var(W);
        self.b.ins().brif(same, hit, &[], miss, &[]);
        self.b.switch_to_block(hit);
        let h = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), base, off + 40);
        self.b.def_var(out, h);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(miss);
        let h = self.make_dist(d, vals);
        self.b.def_var(out, h);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
        self.b.use_var(out)
    }

    fn call_closure(&mut self, closure: CValue, args: &[CValue]) -> CValue {
        let sig = signature(self.module, args.len());
        let sigref = self.b.import_signature(sig);
        let code = self.load(closure, 0);
        let mut all = vec![self.ctx(), closure];
        all.extend_from_slice(args);
        let inst = self.b.ins().call_indirect(sigref, code, &all);
        let v = self.b.inst_results(inst)[0];
        self.check_abort();
        v
    }

    fn as_float(&mut self, v: CValue, ty: &Ty) -> CValue {
        match ty {
            Ty::Int => self.b.ins().fcvt_from_sint(types::F64, v),
            _ => self.b.ins().bitcast(types::F64, MemFlagsData::new(), v),
        }
    }

    fn float_word(&mut self, v: CValue) -> CValue {
        self.b.ins().bitcast(W, MemFlagsData::new(), v)
    }

    fn bool_word(&mut self, c: CValue) -> CValue {
        self.b.ins().uextend(W, c)
    }

    fn function(&mut self) -> Result<(), Refusal> {
        let func = self.program.func(self.f);
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        self.ctx = Some(params[0]);
        self.env = Some(params[1]);
        let zero = self.b.ins().iconst(W, 0);
        for _ in 0..func.regs {
            let v = self.b.declare_var(W);
            self.b.def_var(v, zero);
            self.vars.push(v);
        }
        let ret = self.b.declare_var(W);
        self.b.def_var(ret, zero);
        self.ret = Some(ret);
        let exit = self.b.create_block();
        self.exit = Some(exit);
        for i in 0..func.params as usize {
            self.b.def_var(self.vars[i], params[2 + i]);
        }
        for i in 0..func.captures as usize {
            let env = self.env.expect("env");
            let c = self.load(env, 1 + i as i32);
            self.b.def_var(self.vars[func.params as usize + i], c);
        }
        // Depth: one more compiled frame.
        let ctx = self.ctx();
        let d = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), ctx, OFF_DEPTH);
        let d1 = self.b.ins().iadd_imm_s(d, 1);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), d1, ctx, OFF_DEPTH);
        let deep = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, d1, MAX_NATIVE_DEPTH as i64);
        self.fail_if(deep);
        let sp = self.b.ins().get_stack_pointer(W);
        let limit = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), ctx, OFF_STACK_LIMIT);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.fail_if(low);
        self.blocks = (0..func.code.len())
            .map(|_| self.b.create_block())
            .collect();
        self.b.ins().jump(self.blocks[0], &[]);
        for pc in 0..func.code.len() {
            self.b.switch_to_block(self.blocks[pc]);
            let falls_through = self.instr(pc)?;
            if falls_through {
                match self.blocks.get(pc + 1) {
                    Some(&next) => {
                        self.b.ins().jump(next, &[]);
                    }
                    None => return Err(refusal(format!("`{}` runs off its end", func.name))),
                }
            }
        }
        self.b.switch_to_block(exit);
        let d = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), ctx, OFF_DEPTH);
        let d0 = self.b.ins().iadd_imm_s(d, -1);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), d0, ctx, OFF_DEPTH);
        let v = self.b.use_var(ret);
        self.b.ins().return_(&[v]);
        Ok(())
    }

    fn refuse(&self, pc: usize, what: &str) -> Refusal {
        let func = self.program.func(self.f);
        crate::NotStatic {
            reason: format!("{what} (in `{}`)", func.name),
            span: func.spans.get(pc).copied(),
        }
    }

    /// Lowers instruction `pc`; whether control falls through to `pc + 1`.
    fn instr(&mut self, pc: usize) -> Result<bool, Refusal> {
        let program = self.program;
        let instr = &program.func(self.f).code[pc];
        match instr {
            Instr::Const { dst, value } => {
                let w = match value {
                    Const::Unit => 0,
                    Const::Bool(b) => *b as i64,
                    Const::Int(i) => *i,
                    Const::Real(x) => x.to_bits() as i64,
                    Const::Str(_) => return Err(self.refuse(pc, "a string")),
                };
                let v = self.b.ins().iconst(W, w);
                self.set(dst, v);
            }
            Instr::Move { dst, src } => {
                let v = self.get(src);
                self.set(dst, v);
            }
            Instr::Nop => {}
            Instr::Global { dst, global } => {
                let g = global.index();
                let w = match self.statics.words.get(&(g as u32)) {
                    Some(&w) => w,
                    None => {
                        let ty = Ty::from_ir(&program.globals[g].ty);
                        let w = self
                            .statics
                            .word(&self.globals[g], &ty)
                            .ok_or_else(|| self.refuse(pc, "a global that is not data"))?;
                        self.statics.words.insert(g as u32, w);
                        w
                    }
                };
                let v = self.b.ins().iconst(W, w as i64);
                self.set(dst, v);
            }
            Instr::Closure {
                dst,
                func,
                captures,
            } => {
                let p = self.alloc_const(1 + captures.len());
                let r = self.func_ref(self.ids[func]);
                let code = self.b.ins().func_addr(W, r);
                self.store(code, p, 0);
                for (i, c) in captures.iter().enumerate() {
                    let v = self.get(c);
                    self.store(v, p, 1 + i as i32);
                }
                self.set(dst, p);
            }
            Instr::Unary { dst, op, arg } => {
                let x = self.get(arg);
                let v = match (op, self.ty(arg).clone()) {
                    (UnOp::Not, _) => self.b.ins().bxor_imm_u(x, 1),
                    (UnOp::Neg, Ty::Int) => {
                        let min = self.b.ins().icmp_imm_s(IntCC::Equal, x, i64::MIN);
                        self.fail_if(min);
                        self.b.ins().ineg(x)
                    }
                    (UnOp::Neg, Ty::Real) => {
                        let f = self.as_float(x, &Ty::Real);
                        let n = self.b.ins().fneg(f);
                        self.float_word(n)
                    }
                    _ => return Err(self.refuse(pc, "a negation of a value of polymorphic type")),
                };
                self.set(dst, v);
            }
            Instr::Binary { dst, op, lhs, rhs } => {
                let v = self.binary(pc, *op, lhs, rhs)?;
                self.set(dst, v);
            }
            Instr::Prim { dst, prim, args } => {
                let v = self.prim(pc, *prim, args, dst)?;
                self.set(dst, v);
            }
            Instr::MakeDist { dst, kind, args } => {
                let tys: Vec<Ty> = args.iter().map(|a| self.ty(a).clone()).collect();
                if !tys.iter().all(Ty::is_data) {
                    return Err(self.refuse(pc, "a distribution parameter of polymorphic type"));
                }
                let vals: Vec<CValue> = args.iter().map(|a| self.get(a)).collect();
                let scalar = vals.len() <= 4
                    && tys
                        .iter()
                        .all(|t| matches!(t, Ty::Int | Ty::Real | Ty::Bool));
                let d = self.desc(Desc::Dist {
                    kind: *kind,
                    args: tys,
                });
                let h = if scalar {
                    self.make_dist_cached(d, &vals)
                } else {
                    self.make_dist(d, &vals)
                };
                self.set(dst, h);
            }
            Instr::Array { dst, elems } => {
                let p = self.alloc_const(1 + elems.len());
                let n = self.b.ins().iconst(W, elems.len() as i64);
                self.store(n, p, 0);
                for (i, e) in elems.iter().enumerate() {
                    let v = self.get(e);
                    self.store(v, p, 1 + i as i32);
                }
                self.set(dst, p);
            }
            Instr::Tuple { dst, elems } => {
                let p = self.alloc_const(elems.len());
                for (i, e) in elems.iter().enumerate() {
                    let v = self.get(e);
                    self.store(v, p, i as i32);
                }
                self.set(dst, p);
            }
            Instr::Index { dst, array, index } => {
                let xs = self.get(array);
                let i = self.get(index);
                let n = self.load(xs, 0);
                // Unsigned: a negative index is out of bounds too.
                let out = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i, n);
                self.fail_if(out);
                let a = self.elem_addr(xs, i);
                let v = self.load(a, 0);
                self.set(dst, v);
            }
            Instr::Field { dst, tuple, field } => {
                let t = self.get(tuple);
                let v = self.load(t, *field as i32);
                self.set(dst, v);
            }
            Instr::Call {
                dst,
                callee,
                args,
                tail,
            } => {
                let vals: Vec<CValue> = args.iter().map(|a| self.get(a)).collect();
                if *tail && *callee == Callee::Direct(self.f) {
                    // Self tail call: a loop, in constant stack space as
                    // on the interpreter.
                    for (i, v) in vals.into_iter().enumerate() {
                        self.b.def_var(self.vars[i], v);
                    }
                    self.b.ins().jump(self.blocks[0], &[]);
                    return Ok(false);
                }
                let v = match callee {
                    Callee::Direct(g) => {
                        let r = self.func_ref(self.ids[g]);
                        let zero = self.b.ins().iconst(W, 0);
                        let mut all = vec![self.ctx(), zero];
                        all.extend(vals);
                        let inst = self.b.ins().call(r, &all);
                        let v = self.b.inst_results(inst)[0];
                        self.check_abort();
                        v
                    }
                    Callee::Closure(c) => {
                        let c = self.get(c);
                        self.call_closure(c, &vals)
                    }
                };
                if *tail {
                    let ret = self.ret.expect("return variable");
                    self.b.def_var(ret, v);
                    self.b.ins().jump(self.exit.expect("exit"), &[]);
                    return Ok(false);
                }
                self.set(dst, v);
            }
            Instr::Intrinsic { dst, op, args } => {
                let v = self.intrinsic(pc, *op, args)?;
                self.set(dst, v);
            }
            Instr::Jump { target } => {
                self.b.ins().jump(self.blocks[*target as usize], &[]);
                return Ok(false);
            }
            Instr::Branch {
                cond,
                then_to,
                else_to,
            } => {
                let c = self.get(cond);
                let (t, e) = (
                    self.blocks[*then_to as usize],
                    self.blocks[*else_to as usize],
                );
                self.b.ins().brif(c, t, &[], e, &[]);
                return Ok(false);
            }
            Instr::Return { value } => {
                let v = self.get(value);
                let ret = self.ret.expect("return variable");
                self.b.def_var(ret, v);
                self.b.ins().jump(self.exit.expect("exit"), &[]);
                return Ok(false);
            }
            Instr::Sample { dst, dist, .. } => {
                let h = self.get(dist);
                let ctx = self.ctx();
                let v = self.helper("nx_sample", &[ctx, h]).expect("value");
                self.check_abort();
                self.set(dst, v);
            }
            Instr::Observe { dist, value, .. } => {
                let ty = self.ty(value).clone();
                if !matches!(ty, Ty::Int | Ty::Real | Ty::Bool) {
                    return Err(self.refuse(pc, "an observation of a compound value"));
                }
                let h = self.get(dist);
                let x = self.get(value);
                let d = self.desc(Desc::Observe { value: ty });
                let ctx = self.ctx();
                self.helper("nx_observe", &[ctx, d, h, x]);
                self.check_abort();
            }
            Instr::Factor { weight, .. } => {
                let w = self.get(weight);
                let ty = self.ty(weight).clone();
                let f = self.as_float(w, &ty);
                let ctx = self.ctx();
                self.helper("nx_factor", &[ctx, f]);
                self.check_abort();
            }
            Instr::Condition { cond, .. } => {
                let c = self.get(cond);
                let zero = self.b.ins().f64const(0.0);
                let inf = self.b.ins().f64const(f64::NEG_INFINITY);
                let w = self.b.ins().select(c, zero, inf);
                let ctx = self.ctx();
                self.helper("nx_factor", &[ctx, w]);
                self.check_abort();
            }
            Instr::Infer { .. } => return Err(self.refuse(pc, "nested inference")),
            Instr::SampleEdited { .. } | Instr::World { .. } => {
                return Err(self.refuse(pc, "an intervention"))
            }
            Instr::Foreign { .. } => return Err(self.refuse(pc, "a host function")),
        }
        Ok(true)
    }

    fn binary(&mut self, pc: usize, op: BinOp, lhs: &Reg, rhs: &Reg) -> Result<CValue, Refusal> {
        let (lt, rt) = (self.ty(lhs).clone(), self.ty(rhs).clone());
        let (a, b) = (self.get(lhs), self.get(rhs));
        let cmp = matches!(
            op,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        );
        Ok(match (&lt, &rt) {
            (Ty::Int, Ty::Int) if op != BinOp::Pow => {
                if cmp {
                    let cc = match op {
                        BinOp::Eq => IntCC::Equal,
                        BinOp::Ne => IntCC::NotEqual,
                        BinOp::Lt => IntCC::SignedLessThan,
                        BinOp::Le => IntCC::SignedLessThanOrEqual,
                        BinOp::Gt => IntCC::SignedGreaterThan,
                        _ => IntCC::SignedGreaterThanOrEqual,
                    };
                    let c = self.b.ins().icmp(cc, a, b);
                    return Ok(self.bool_word(c));
                }
                match op {
                    BinOp::Add | BinOp::Sub | BinOp::Mul => {
                        let (v, of) = match op {
                            BinOp::Add => self.b.ins().sadd_overflow(a, b),
                            BinOp::Sub => self.b.ins().ssub_overflow(a, b),
                            _ => self.b.ins().smul_overflow(a, b),
                        };
                        self.fail_if(of);
                        v
                    }
                    _ => {
                        // Division by zero, and MIN / -1, are errors.
                        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
                        self.fail_if(zero);
                        let min = self.b.ins().icmp_imm_s(IntCC::Equal, a, i64::MIN);
                        let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                        let both = self.b.ins().band(min, m1);
                        self.fail_if(both);
                        if op == BinOp::Div {
                            self.b.ins().sdiv(a, b)
                        } else {
                            self.b.ins().srem(a, b)
                        }
                    }
                }
            }
            (Ty::Int | Ty::Real, Ty::Int | Ty::Real) if !matches!(op, BinOp::Rem | BinOp::Pow) => {
                let x = self.as_float(a, &lt);
                let y = self.as_float(b, &rt);
                if cmp {
                    let cc = match op {
                        BinOp::Eq => FloatCC::Equal,
                        BinOp::Ne => FloatCC::NotEqual,
                        BinOp::Lt => FloatCC::LessThan,
                        BinOp::Le => FloatCC::LessThanOrEqual,
                        BinOp::Gt => FloatCC::GreaterThan,
                        _ => FloatCC::GreaterThanOrEqual,
                    };
                    let c = self.b.ins().fcmp(cc, x, y);
                    return Ok(self.bool_word(c));
                }
                let r = match op {
                    BinOp::Add => self.b.ins().fadd(x, y),
                    BinOp::Sub => self.b.ins().fsub(x, y),
                    BinOp::Mul => self.b.ins().fmul(x, y),
                    _ => self.b.ins().fdiv(x, y),
                };
                self.float_word(r)
            }
            (Ty::Bool, Ty::Bool) if matches!(op, BinOp::Eq | BinOp::Ne) => {
                let cc = if op == BinOp::Eq {
                    IntCC::Equal
                } else {
                    IntCC::NotEqual
                };
                let c = self.b.ins().icmp(cc, a, b);
                self.bool_word(c)
            }
            _ if lt.is_data() && rt.is_data() => {
                let ret = if cmp {
                    Ty::Bool
                } else {
                    self.types.of(self.f, self.dst_of(pc)).clone()
                };
                if !ret.is_data() {
                    return Err(self.refuse(pc, "an operation whose result has a polymorphic type"));
                }
                let argv = self.spill(&[a, b]);
                let d = self.desc(Desc::Binary {
                    op,
                    lhs: lt,
                    rhs: rt,
                    ret,
                });
                let ctx = self.ctx();
                let v = self.helper("nx_generic", &[ctx, d, argv]).expect("value");
                self.check_abort();
                v
            }
            _ => return Err(self.refuse(pc, "an operation on a value of polymorphic type")),
        })
    }

    fn dst_of(&self, pc: usize) -> Reg {
        match &self.program.func(self.f).code[pc] {
            Instr::Binary { dst, .. } | Instr::Prim { dst, .. } => *dst,
            _ => unreachable!("only binary and prim instructions ask"),
        }
    }

    fn prim(&mut self, pc: usize, prim: Prim, args: &[Reg], dst: &Reg) -> Result<CValue, Refusal> {
        let vals: Vec<CValue> = args.iter().map(|a| self.get(a)).collect();
        let tys: Vec<Ty> = args.iter().map(|a| self.ty(a).clone()).collect();
        let ctx = self.ctx();
        Ok(match prim {
            Prim::Len => self.load(vals[0], 0),
            Prim::Concat => self
                .helper("nx_concat", &[ctx, vals[0], vals[1]])
                .expect("array"),
            Prim::Reverse => self.helper("nx_reverse", &[ctx, vals[0]]).expect("array"),
            Prim::Sum | Prim::Product if matches!(&tys[0], Ty::Array(e) if matches!(**e, Ty::Int | Ty::Real)) =>
            {
                let real = matches!(&tys[0], Ty::Array(e) if **e == Ty::Real);
                self.numeric_fold(prim == Prim::Sum, real, vals[0])
            }
            Prim::Real if matches!(tys[0], Ty::Int) => {
                let f = self.as_float(vals[0], &Ty::Int);
                self.float_word(f)
            }
            Prim::Real if matches!(tys[0], Ty::Real) => vals[0],
            // Effects, and values native paths do not represent.
            Prim::Print => return Err(self.refuse(pc, "`print`")),
            Prim::Enumerate
            | Prim::Rejection
            | Prim::Importance
            | Prim::Smc
            | Prim::Mh
            | Prim::Hmc
            | Prim::Nuts => return Err(self.refuse(pc, "nested inference")),
            _ => {
                let ret = self.ty(dst).clone();
                if !tys.iter().all(|t| t.is_data() || matches!(t, Ty::Dist(_))) || !ret.is_data() {
                    return Err(self.refuse(pc, &format!("`{}` on these types", prim.name())));
                }
                let argv = self.spill(&vals);
                let d = self.desc(Desc::Prim {
                    prim,
                    args: tys,
                    ret,
                });
                let v = self.helper("nx_generic", &[ctx, d, argv]).expect("value");
                self.check_abort();
                v
            }
        })
    }

    /// `sum` (or `product`) of an array of Ints (checked, as the
    /// interpreter) or Reals, in order from 0 (or 1). An empty array of
    /// Reals gives the Real 0.0 where the interpreter's `sum` gives the Int
    /// 0; the lowering follows every Real `sum` with `real`, which makes
    /// them the same.
    fn numeric_fold(&mut self, sum: bool, real: bool, xs: CValue) -> CValue {
        let n = self.load(xs, 0);
        let i = self.b.declare_var(W);
        let acc = self.b.declare_var(W);
        let zero = self.b.ins().iconst(W, 0);
        self.b.def_var(i, zero);
        let unit = match (sum, real) {
            (true, false) => zero,
            (false, false) => self.b.ins().iconst(W, 1),
            (true, true) => self.b.ins().iconst(W, 0f64.to_bits() as i64),
            (false, true) => self.b.ins().iconst(W, 1f64.to_bits() as i64),
        };
        self.b.def_var(acc, unit);
        let head = self.b.create_block();
        let body = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(head);
        let iv = self.b.use_var(i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, iv, n);
        self.b.ins().brif(more, body, &[], done, &[]);
        self.b.switch_to_block(body);
        let a = self.elem_addr(xs, iv);
        let x = self.load(a, 0);
        let a0 = self.b.use_var(acc);
        let a1 = if real {
            let (p, q) = (self.as_float(a0, &Ty::Real), self.as_float(x, &Ty::Real));
            let r = if sum {
                self.b.ins().fadd(p, q)
            } else {
                self.b.ins().fmul(p, q)
            };
            self.float_word(r)
        } else {
            let (v, of) = if sum {
                self.b.ins().sadd_overflow(a0, x)
            } else {
                self.b.ins().smul_overflow(a0, x)
            };
            self.fail_if(of);
            v
        };
        self.b.def_var(acc, a1);
        let i1 = self.b.ins().iadd_imm_s(iv, 1);
        self.b.def_var(i, i1);
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(done);
        self.b.use_var(acc)
    }

    /// `map`, `filter`, `fold`, `scan` and `repeat` as loops calling the
    /// closure.
    fn intrinsic(&mut self, pc: usize, op: Intrinsic, args: &[Reg]) -> Result<CValue, Refusal> {
        let vals: Vec<CValue> = args.iter().map(|a| self.get(a)).collect();
        let (n, xs) = if op == Intrinsic::Repeat {
            let n = vals[0];
            // The interpreter's errors: a negative count, or one too large.
            let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, n, 0);
            self.fail_if(neg);
            let huge = self
                .b
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThan, n, 100_000_000);
            self.fail_if(huge);
            (n, None)
        } else {
            (self.load(vals[0], 0), Some(vals[0]))
        };
        let f = match op {
            Intrinsic::Fold | Intrinsic::Scan => vals[2],
            _ => vals[1],
        };
        let out = match op {
            Intrinsic::Fold => None,
            _ => {
                let words = self.b.ins().iadd_imm_s(n, 1);
                let p = self.alloc(words);
                self.store(n, p, 0);
                Some(p)
            }
        };
        let i = self.b.declare_var(W);
        let k = self.b.declare_var(W);
        let acc = self.b.declare_var(W);
        let zero = self.b.ins().iconst(W, 0);
        self.b.def_var(i, zero);
        self.b.def_var(k, zero);
        let init = if matches!(op, Intrinsic::Fold | Intrinsic::Scan) {
            vals[1]
        } else {
            zero
        };
        self.b.def_var(acc, init);
        let head = self.b.create_block();
        let body = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(head);
        let iv = self.b.use_var(i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, iv, n);
        self.b.ins().brif(more, body, &[], done, &[]);
        self.b.switch_to_block(body);
        let x = xs.map(|xs| {
            let a = self.elem_addr(xs, iv);
            self.load(a, 0)
        });
        match op {
            Intrinsic::Map | Intrinsic::Repeat => {
                let y = match x {
                    Some(x) => self.call_closure(f, &[x]),
                    None => self.call_closure(f, &[]),
                };
                let out = out.expect("result array");
                let a = self.elem_addr(out, iv);
                self.store(y, a, 0);
            }
            Intrinsic::Filter => {
                let x = x.expect("element");
                let keep = self.call_closure(f, &[x]);
                let put = self.b.create_block();
                let next = self.b.create_block();
                self.b.ins().brif(keep, put, &[], next, &[]);
                self.b.switch_to_block(put);
                let kv = self.b.use_var(k);
                let out = out.expect("result array");
                let a = self.elem_addr(out, kv);
                self.store(x, a, 0);
                let k1 = self.b.ins().iadd_imm_s(kv, 1);
                self.b.def_var(k, k1);
                self.b.ins().jump(next, &[]);
                self.b.switch_to_block(next);
            }
            Intrinsic::Fold | Intrinsic::Scan => {
                let x = x.expect("element");
                let a0 = self.b.use_var(acc);
                let a1 = self.call_closure(f, &[a0, x]);
                self.b.def_var(acc, a1);
                if let Some(out) = out {
                    let a = self.elem_addr(out, iv);
                    self.store(a1, a, 0);
                }
            }
        }
        let iv = self.b.use_var(i);
        let i1 = self.b.ins().iadd_imm_s(iv, 1);
        self.b.def_var(i, i1);
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(done);
        let _ = pc;
        Ok(match op {
            Intrinsic::Fold => self.b.use_var(acc),
            Intrinsic::Filter => {
                let out = out.expect("result array");
                let kv = self.b.use_var(k);
                self.store(kv, out, 0);
                out
            }
            _ => out.expect("result array"),
        })
    }
}
