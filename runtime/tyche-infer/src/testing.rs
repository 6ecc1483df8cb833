//! A small assembler for IR programs, so the unit tests can build models
//! without the compiler front end (which sits above this crate).
#![allow(dead_code)] // a toolkit: not every test uses every instruction

use crate::Model;
use std::sync::Arc;
use tyche_core::{FileId, Span};
use tyche_dist::DistKind;
use tyche_ir::{
    BinOp, Callee, Const, Edit, EditKind, FuncId, Function, Global, GlobalId, GlobalKind, Instr,
    Intrinsic, Prim, Program, Reg, Site, SiteId, SiteKind, Type,
};
use tyche_vm::Value;

/// A program under construction.
#[derive(Default)]
pub struct Prog {
    pub program: Program,
    next_span: u32,
}

/// A jump target inside one function.
#[derive(Clone, Copy)]
pub struct Label(u32);

/// A function body under construction.
pub struct Fb<'a> {
    prog: &'a mut Prog,
    func: FuncId,
    code: Vec<Instr>,
    regs: u32,
    labels: Vec<Option<u32>>,
}

impl Prog {
    pub fn new() -> Prog {
        Prog::default()
    }

    fn span(&mut self) -> Span {
        self.next_span += 10;
        Span::new(
            FileId(0),
            self.next_span as usize,
            self.next_span as usize + 5,
        )
    }

    /// Reserves a function (its body comes later, so calls can refer to it).
    pub fn declare(&mut self, name: &str, params: u32, captures: u32) -> FuncId {
        let span = self.span();
        self.program.funcs.push(Function {
            name: name.to_string(),
            params,
            captures,
            regs: params + captures,
            code: vec![],
            spans: vec![],
            span,
            ty: Type::Unit,
        });
        FuncId(self.program.funcs.len() as u32 - 1)
    }

    pub fn body(&mut self, func: FuncId) -> Fb<'_> {
        let f = &self.program.funcs[func.index()];
        let regs = f.params + f.captures;
        Fb {
            prog: self,
            func,
            code: vec![],
            regs,
            labels: vec![],
        }
    }

    /// A `data` global; its value is supplied to [`Prog::model`].
    pub fn data(&mut self, name: &str) -> GlobalId {
        let span = self.span();
        self.program.globals.push(Global {
            name: name.into(),
            ty: Type::Unit,
            kind: GlobalKind::Data { default: None },
            span,
        });
        GlobalId(self.program.globals.len() as u32 - 1)
    }

    pub fn site(&mut self, kind: SiteKind, name: &str, func: FuncId) -> SiteId {
        let name = self.program.intern(name);
        let span = self.span();
        self.program.sites.push(Site {
            kind,
            name,
            func,
            ty: Type::Unit,
            span,
        });
        SiteId(self.program.sites.len() as u32 - 1)
    }

    pub fn model(self, entry: FuncId, globals: Vec<Value>) -> Model {
        if let Err(e) = tyche_ir::verify(&self.program, "test builder") {
            panic!("{e}");
        }
        Model::for_function(Arc::new(self.program), Arc::new(globals), entry)
    }
}

impl Fb<'_> {
    pub fn param(&self, i: u32) -> Reg {
        Reg(i)
    }

    pub fn capture(&self, i: u32) -> Reg {
        Reg(self.prog.program.funcs[self.func.index()].params + i)
    }

    pub fn reg(&mut self) -> Reg {
        self.regs += 1;
        Reg(self.regs - 1)
    }

    fn emit(&mut self, i: Instr) {
        self.code.push(i);
    }

    pub fn konst(&mut self, value: Const) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Const { dst, value });
        dst
    }

    pub fn real(&mut self, x: f64) -> Reg {
        self.konst(Const::Real(x))
    }

    pub fn int(&mut self, i: i64) -> Reg {
        self.konst(Const::Int(i))
    }

    pub fn bool(&mut self, b: bool) -> Reg {
        self.konst(Const::Bool(b))
    }

    pub fn bin(&mut self, op: BinOp, lhs: Reg, rhs: Reg) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Binary { dst, op, lhs, rhs });
        dst
    }

    pub fn mov(&mut self, dst: Reg, src: Reg) {
        self.emit(Instr::Move { dst, src });
    }

    pub fn prim(&mut self, prim: Prim, args: &[Reg]) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Prim {
            dst,
            prim,
            args: args.to_vec(),
        });
        dst
    }

    pub fn dist(&mut self, kind: DistKind, args: &[Reg]) -> Reg {
        let dst = self.reg();
        self.emit(Instr::MakeDist {
            dst,
            kind,
            args: args.to_vec(),
        });
        dst
    }

    /// `let name ~ kind(params…)` with constant real parameters.
    pub fn draw(&mut self, name: &str, kind: DistKind, params: &[f64]) -> Reg {
        let args: Vec<Reg> = params.iter().map(|&p| self.real(p)).collect();
        let d = self.dist(kind, &args);
        self.sample(name, d)
    }

    pub fn sample(&mut self, name: &str, dist: Reg) -> Reg {
        let site = self.prog.site(SiteKind::Sample, name, self.func);
        let dst = self.reg();
        self.emit(Instr::Sample { dst, site, dist });
        dst
    }

    pub fn observe(&mut self, name: &str, dist: Reg, value: Reg) {
        let site = self.prog.site(SiteKind::Observe, name, self.func);
        self.emit(Instr::Observe { site, dist, value });
    }

    pub fn factor(&mut self, weight: Reg) {
        let site = self.prog.site(SiteKind::Factor, "factor", self.func);
        self.emit(Instr::Factor { site, weight });
    }

    pub fn condition(&mut self, cond: Reg) {
        let site = self.prog.site(SiteKind::Condition, "condition", self.func);
        self.emit(Instr::Condition { site, cond });
    }

    /// A sample site edited by surgery: `do` (kind `Do`) or `condition`
    /// (kind `Observe`) with the value of `global`, at occurrence `index`
    /// or every occurrence.
    pub fn sample_edited(
        &mut self,
        name: &str,
        dist: Reg,
        kind: EditKind,
        global: GlobalId,
        index: Option<u32>,
    ) -> Reg {
        let site = self.prog.site(SiteKind::Sample, name, self.func);
        let dst = self.reg();
        self.emit(Instr::SampleEdited {
            dst,
            site,
            dist,
            edits: vec![Edit {
                index,
                kind,
                value: global,
            }],
        });
        dst
    }

    pub fn call(&mut self, f: FuncId, args: &[Reg]) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Call {
            dst,
            callee: Callee::Direct(f),
            args: args.to_vec(),
            tail: false,
        });
        dst
    }

    pub fn closure(&mut self, func: FuncId, captures: &[Reg]) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Closure {
            dst,
            func,
            captures: captures.to_vec(),
        });
        dst
    }

    pub fn intrinsic(&mut self, op: Intrinsic, args: &[Reg]) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Intrinsic {
            dst,
            op,
            args: args.to_vec(),
        });
        dst
    }

    pub fn array(&mut self, elems: &[Reg]) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Array {
            dst,
            elems: elems.to_vec(),
        });
        dst
    }

    pub fn tuple(&mut self, elems: &[Reg]) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Tuple {
            dst,
            elems: elems.to_vec(),
        });
        dst
    }

    pub fn index(&mut self, array: Reg, index: Reg) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Index { dst, array, index });
        dst
    }

    pub fn global(&mut self, global: GlobalId) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Global { dst, global });
        dst
    }

    pub fn infer(&mut self, method: Reg, model: Reg) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Infer { dst, method, model });
        dst
    }

    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() as u32 - 1)
    }

    pub fn place(&mut self, l: Label) {
        self.labels[l.0 as usize] = Some(self.code.len() as u32);
    }

    pub fn jump(&mut self, l: Label) {
        self.emit(Instr::Jump { target: l.0 });
    }

    pub fn branch(&mut self, cond: Reg, then_to: Label, else_to: Label) {
        self.emit(Instr::Branch {
            cond,
            then_to: then_to.0,
            else_to: else_to.0,
        });
    }

    /// A `return value` in the middle of the body.
    pub fn early_return(&mut self, value: Reg) {
        self.emit(Instr::Return { value });
    }

    /// `return value`, and installs the body.
    pub fn ret(mut self, value: Reg) {
        self.emit(Instr::Return { value });
        let labels = self.labels;
        let resolve = |l: u32| labels[l as usize].expect("label placed");
        for i in &mut self.code {
            match i {
                Instr::Jump { target } => *target = resolve(*target),
                Instr::Branch {
                    then_to, else_to, ..
                } => {
                    *then_to = resolve(*then_to);
                    *else_to = resolve(*else_to);
                }
                _ => {}
            }
        }
        let f = &mut self.prog.program.funcs[self.func.index()];
        f.spans = self.code.iter().map(|_| Span::DUMMY).collect();
        f.code = self.code;
        f.regs = self.regs;
    }
}
