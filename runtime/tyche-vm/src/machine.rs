//! The machine: frames, the instruction loop, and the effect protocol.

use crate::ops;
use crate::twin::{couple, noise_of, Coupled, Twin};
use crate::value::{Closure, DistValue, MethodSpec, Value};
use std::sync::Arc;
use tyche_core::{Diagnostic, Span};
use tyche_dist::{Dist, Param};
use tyche_ir::{Callee, EditKind, FuncId, Instr, Intrinsic, NameId, Program, Reg, SiteId};

/// Calls nested deeper than this are a diagnosed error (runaway
/// recursion), not a crash. Tail calls do not count.
pub const MAX_CALL_DEPTH: usize = 100_000;

/// The address of a site's execution: its name and its occurrence index
/// among executions of that name in this run (LANGUAGE.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub name: NameId,
    pub index: u32,
}

impl Address {
    pub fn display(&self, program: &Program) -> String {
        format!("{}[{}]", program.name(self.name), self.index)
    }
}

/// What a suspended machine asks its driver to do.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Choose a value for a random choice; resume with [`Machine::resume`].
    Sample {
        site: SiteId,
        addr: Address,
        dist: Arc<DistValue>,
    },
    /// Weight the run by `dist`'s density at `value`; resume with
    /// [`Machine::run`].
    Observe {
        site: SiteId,
        addr: Address,
        dist: Arc<DistValue>,
        value: Value,
    },
    /// Add `log_weight` to the run's log weight (`factor`, and
    /// `condition` as 0 or -inf); resume with [`Machine::run`].
    Factor {
        site: SiteId,
        addr: Address,
        log_weight: f64,
    },
    /// A choice fixed by `do`: it takes `value` and adds no weight. Reported
    /// so traces show it; resume with [`Machine::run`].
    Intervened {
        site: SiteId,
        addr: Address,
        value: Value,
    },
    /// Run inference on `model`; resume with the posterior as a
    /// `Value::Dist`.
    Infer {
        method: MethodSpec,
        model: Value,
        span: Span,
    },
    /// The run finished with this value.
    Done(Value),
}

/// Sentinel return register: the caller is a native (intrinsic) frame.
const TO_NATIVE: Reg = Reg(u32::MAX);

#[derive(Clone, Copy, Debug)]
struct CodeFrame {
    func: FuncId,
    pc: u32,
    /// Where the frame's registers start in [`Machine::regs`].
    base: u32,
    /// Register of the caller that receives the result.
    ret: Reg,
}

/// A persistent stack of collected values (cons list, newest first).
#[derive(Clone, Debug, Default)]
struct Collected {
    head: Option<Arc<Cell>>,
    len: usize,
}

#[derive(Debug)]
struct Cell {
    value: Value,
    next: Option<Arc<Cell>>,
}

impl Collected {
    fn push(&mut self, value: Value) -> Collected {
        let next = self.head.take();
        Collected {
            head: Some(Arc::new(Cell { value, next })),
            len: self.len + 1,
        }
    }

    /// The values in insertion order; unshared cells are moved, not cloned.
    fn into_vec(mut self) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.len);
        let mut cur = self.head.take();
        while let Some(cell) = cur {
            match Arc::try_unwrap(cell) {
                Ok(cell) => {
                    out.push(cell.value);
                    cur = cell.next;
                }
                Err(shared) => {
                    out.push(shared.value.clone());
                    cur = shared.next.clone();
                }
            }
        }
        out.reverse();
        out
    }
}

impl Drop for Collected {
    /// Iterative, so a long list cannot overflow the stack when dropped.
    fn drop(&mut self) {
        let mut cur = self.head.take();
        while let Some(cell) = cur {
            match Arc::try_unwrap(cell) {
                Ok(mut cell) => cur = cell.next.take(),
                Err(_) => break,
            }
        }
    }
}

/// A running intrinsic: it calls `f` once per element and collects.
#[derive(Clone, Debug)]
struct NativeFrame {
    op: Intrinsic,
    f: Value,
    xs: Arc<Vec<Value>>,
    /// Elements processed so far (or calls made, for `repeat`).
    i: usize,
    n: usize,
    acc: Value,
    /// Results so far, newest first: a persistent list, so cloning a
    /// suspended `map`/`scan` (SMC resampling) is O(1), not O(results).
    out: Collected,
    ret: Reg,
    span: Span,
}

#[derive(Clone, Debug)]
enum Frame {
    Code(CodeFrame),
    /// Boxed: native frames are rare and large, and every push, pop and
    /// clone of a code frame moves a whole `Frame`.
    Native(Box<NativeFrame>),
}

/// One execution of a program, suspended or running.
#[derive(Clone)]
pub struct Machine {
    program: Arc<Program>,
    globals: Arc<Vec<Value>>,
    frames: Vec<Frame>,
    /// The registers of every code frame, stacked: a frame's are
    /// `regs[base..base + func.regs]`, and the top frame's are the tail.
    /// One buffer instead of one per frame, so a call allocates nothing
    /// and a clone (a branch in enumeration, a copy in resampling) copies
    /// one vector.
    regs: Vec<Value>,
    /// Executions so far per name, for addresses.
    counters: Vec<u32>,
    /// Where the value of a pending `Sample`/`Infer` goes.
    pending: Option<Reg>,
    /// A value returned to a native frame, not yet consumed.
    native_input: Option<Value>,
    finished: bool,
    /// Present while running a counterfactual query's twin worlds.
    twin: Option<Box<Twin>>,
}

fn err(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(message)
        .with_code("E0601")
        .with_primary(span, "")
}

impl Machine {
    /// A machine about to call `closure` with `args`.
    pub fn new(
        program: Arc<Program>,
        globals: Arc<Vec<Value>>,
        closure: &Value,
        args: Vec<Value>,
    ) -> Result<Machine, Diagnostic> {
        let counters = vec![0; program.names.len()];
        let mut m = Machine {
            program,
            globals,
            frames: Vec::new(),
            regs: Vec::new(),
            counters,
            pending: None,
            native_input: None,
            finished: false,
            twin: None,
        };
        m.regs.extend(args);
        m.push_call(closure, 0, TO_NATIVE, Span::DUMMY)?;
        Ok(m)
    }

    /// A machine about to run the zero-argument function `func`.
    pub fn for_function(
        program: Arc<Program>,
        globals: Arc<Vec<Value>>,
        func: FuncId,
    ) -> Result<Machine, Diagnostic> {
        let closure = Value::Closure(Arc::new(Closure {
            func,
            captures: Vec::new(),
        }));
        Machine::new(program, globals, &closure, Vec::new())
    }

    /// A machine about to execute instruction `pc` of `func` with these
    /// registers (extended to the function's count), as if the run had
    /// reached it: tyche-jit finishes a replay from where tracing stopped
    /// this way. Address counters start at zero, so the rest of the run
    /// must make no choice; when `func` returns, the run is done.
    pub fn at(
        program: Arc<Program>,
        globals: Arc<Vec<Value>>,
        func: FuncId,
        pc: u32,
        mut regs: Vec<Value>,
    ) -> Machine {
        regs.resize(program.func(func).regs as usize, Value::Unit);
        Machine {
            counters: vec![0; program.names.len()],
            program,
            globals,
            frames: vec![Frame::Code(CodeFrame {
                func,
                pc,
                base: 0,
                ret: TO_NATIVE,
            })],
            regs,
            pending: None,
            native_input: None,
            finished: false,
            twin: None,
        }
    }

    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    pub fn globals(&self) -> &Arc<Vec<Value>> {
        &self.globals
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The bytes its call stack (frames and registers) holds room for,
    /// in use or not: what a suspended machine costs beyond the values it
    /// shares with others.
    pub fn stack_bytes(&self) -> usize {
        self.regs.capacity() * std::mem::size_of::<Value>()
            + self.frames.capacity() * std::mem::size_of::<Frame>()
    }

    /// Makes this machine share no reference counts with its clones: the
    /// program, the globals and the values in its registers are copied
    /// (see [`Value::detached`]). A thread that works on a detached machine
    /// and its descendants never touches a counter another thread does,
    /// which on two cores made parallel enumeration no faster than one.
    pub fn detach(&mut self) {
        self.program = Arc::new(Program::clone(&self.program));
        self.globals = Arc::new(self.globals.iter().map(Value::detached).collect());
        for v in &mut self.regs {
            *v = v.detached();
        }
        for f in &mut self.frames {
            if let Frame::Native(n) = f {
                n.f = n.f.detached();
                n.acc = n.acc.detached();
            }
        }
    }

    /// Resumes after `Sample` or `Infer` with the chosen value, and runs to
    /// the next effect.
    pub fn resume(&mut self, value: Value) -> Result<Effect, Diagnostic> {
        if let Some(twin) = &mut self.twin {
            if let Some((addr, dist)) = twin.pending.take() {
                Arc::make_mut(&mut twin.tape).insert(addr, noise_of(&dist, &value));
            }
        }
        if let Some(reg) = self.pending.take() {
            self.set(reg, value);
        }
        self.run()
    }

    fn set(&mut self, reg: Reg, value: Value) {
        match self.frames.last_mut() {
            Some(Frame::Code(f)) => self.regs[f.base as usize + reg.index()] = value,
            _ => self.native_input = Some(value),
        }
    }

    /// Pushes a frame calling `callee` on the arguments `regs[args..]`
    /// (already pushed by the caller).
    fn push_call(
        &mut self,
        callee: &Value,
        args: usize,
        ret: Reg,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let func = push_captures(&mut self.regs, &self.program, callee, args, span)?;
        self.push_direct(func, args, ret, span)
    }

    /// Pushes a frame running `func` whose first registers (arguments,
    /// then captures) start at `regs[base]`.
    fn push_direct(
        &mut self,
        func: FuncId,
        base: usize,
        ret: Reg,
        span: Span,
    ) -> Result<(), Diagnostic> {
        if self.frames.len() >= MAX_CALL_DEPTH {
            return Err(err(
                span,
                format!("recursion too deep: more than {MAX_CALL_DEPTH} nested calls"),
            )
            .with_note("is there a recursive call without a base case?"));
        }
        let n = self.program.func(func).regs as usize;
        self.regs.resize(base + n, Value::Unit);
        self.frames.push(Frame::Code(CodeFrame {
            func,
            pc: 0,
            base: base as u32,
            ret,
        }));
        Ok(())
    }

    /// Pops the finished top frame and delivers its result to the caller.
    /// Returns the final value when the outermost frame returns.
    fn return_value(&mut self, value: Value) -> Option<Value> {
        let ret = match self.frames.pop() {
            Some(Frame::Code(f)) => {
                self.regs.truncate(f.base as usize);
                f.ret
            }
            Some(Frame::Native(n)) => n.ret,
            None => TO_NATIVE,
        };
        if self.frames.is_empty() {
            self.finished = true;
            return Some(value);
        }
        self.set(ret, value);
        None
    }

    /// Runs until the next effect.
    pub fn run(&mut self) -> Result<Effect, Diagnostic> {
        let effect = self.run_to_effect();
        self.trim();
        effect
    }

    /// Gives back the memory of calls that have returned: a machine
    /// suspended at an effect (an SMC particle waiting at an observation,
    /// a branch in enumeration) holds its live frames' registers, not the
    /// peak depth of its past — a model that recursed 99,990 deep before
    /// an observation kept ~23 MB per particle. Shrinks only when the
    /// buffers are mostly empty, to twice what they hold, so the copying
    /// is paid for by the growth that made the room (amortised O(1) per
    /// call), and a shallow model never reallocates.
    fn trim(&mut self) {
        const SLACK: usize = 1024;
        if self.regs.capacity() > 4 * self.regs.len() + SLACK {
            self.regs.shrink_to(2 * self.regs.len());
        }
        if self.frames.capacity() > 4 * self.frames.len() + SLACK {
            self.frames.shrink_to(2 * self.frames.len());
        }
    }

    fn run_to_effect(&mut self) -> Result<Effect, Diagnostic> {
        let program = Arc::clone(&self.program);
        loop {
            let frame = match self.frames.last_mut() {
                Some(Frame::Code(f)) => f,
                Some(Frame::Native(_)) => {
                    if let Some(done) = self.step_native()? {
                        return Ok(Effect::Done(done));
                    }
                    continue;
                }
                None => return Err(err(Span::DUMMY, "the run has already finished")),
            };
            let func = program.func(frame.func);
            let pc = frame.pc as usize;
            let base = frame.base as usize;
            let instr = &func.code[pc];
            let span = func.spans[pc];
            frame.pc += 1;
            macro_rules! r {
                ($reg:expr) => {
                    self.regs[base + $reg.index()]
                };
            }
            if exec_local(instr, &mut self.regs[base..], &self.globals).map_err(|m| err(span, m))? {
                continue;
            }
            match instr {
                Instr::Call {
                    dst,
                    callee,
                    args,
                    tail,
                } => {
                    let mut start = self.regs.len();
                    for a in args {
                        let v = r!(a).clone();
                        self.regs.push(v);
                    }
                    let func = match callee {
                        Callee::Direct(f) => *f,
                        Callee::Closure(c) => {
                            // Moved out and back rather than cloned: no
                            // reference-count traffic on the closure.
                            let at = base + c.index();
                            let closure = std::mem::replace(&mut self.regs[at], Value::Unit);
                            let func =
                                push_captures(&mut self.regs, &program, &closure, start, span);
                            self.regs[at] = closure;
                            func?
                        }
                    };
                    let ret = if *tail {
                        // The arguments slide down over the finished frame.
                        let Some(Frame::Code(f)) = self.frames.pop() else {
                            unreachable!("current frame is code")
                        };
                        self.regs.drain(f.base as usize..start);
                        start = f.base as usize;
                        f.ret
                    } else {
                        *dst
                    };
                    self.push_direct(func, start, ret, span)?;
                }
                Instr::Intrinsic { dst, op, args } => {
                    let argv: Vec<Value> = args.iter().map(|a| r!(a).clone()).collect();
                    let native = start_native(*op, argv, *dst, span)?;
                    match self.run_local_intrinsic(&native)? {
                        Some(v) => r!(dst) = v,
                        None => self.frames.push(Frame::Native(Box::new(native))),
                    }
                }
                Instr::Foreign { dst, index, args } => {
                    let argv: Vec<Value> = args.iter().map(|a| r!(a).clone()).collect();
                    r!(dst) = call_foreign(&program, *index, &argv).map_err(|m| err(span, m))?;
                }
                Instr::Jump { target } => frame.pc = *target,
                Instr::Branch {
                    cond,
                    then_to,
                    else_to,
                } => {
                    frame.pc = match r!(cond) {
                        Value::Bool(true) => *then_to,
                        Value::Bool(false) => *else_to,
                        _ => return Err(err(span, "condition is not a Bool")),
                    }
                }
                Instr::Return { value } => {
                    let v = std::mem::replace(&mut r!(value), Value::Unit);
                    if let Some(done) = self.return_value(v) {
                        return Ok(Effect::Done(done));
                    }
                }
                Instr::Sample { dst, site, dist } => {
                    let d = as_dist(&r!(dist), span)?;
                    let addr = next_address(&program, &mut self.counters, *site);
                    let (effect, fixed) = draw(self.twin.as_deref_mut(), *site, addr, d);
                    match fixed {
                        Some(v) => r!(dst) = v,
                        None => self.pending = Some(*dst),
                    }
                    return Ok(effect);
                }
                Instr::Observe { site, dist, value } => {
                    let d = as_dist(&r!(dist), span)?;
                    let value = r!(value).clone();
                    let addr = next_address(&program, &mut self.counters, *site);
                    return Ok(Effect::Observe {
                        site: *site,
                        addr,
                        dist: d,
                        value,
                    });
                }
                Instr::Factor { site, weight } => {
                    let w = match r!(weight) {
                        Value::Real(w) => w,
                        Value::Int(i) => i as f64,
                        _ => return Err(err(span, "factor needs a Real")),
                    };
                    // A weight of +∞ would make this run outweigh every
                    // other (evidence +∞, every other weight zero): like
                    // NaN, a runtime error at its site (docs/language.md).
                    if w.is_nan() {
                        return Err(err(span, "factor weight is NaN"));
                    }
                    if w == f64::INFINITY {
                        return Err(err(span, "factor weight is +inf"));
                    }
                    let addr = next_address(&program, &mut self.counters, *site);
                    return Ok(Effect::Factor {
                        site: *site,
                        addr,
                        log_weight: w,
                    });
                }
                Instr::Condition { site, cond } => {
                    let ok = matches!(r!(cond), Value::Bool(true));
                    let addr = next_address(&program, &mut self.counters, *site);
                    return Ok(Effect::Factor {
                        site: *site,
                        addr,
                        log_weight: if ok { 0.0 } else { f64::NEG_INFINITY },
                    });
                }
                Instr::Infer { dst, method, model } => {
                    let Value::Method(m) = r!(method) else {
                        return Err(err(span, "infer needs a method"));
                    };
                    let model = r!(model).clone();
                    self.pending = Some(*dst);
                    return Ok(Effect::Infer {
                        method: m,
                        model,
                        span,
                    });
                }
                Instr::SampleEdited {
                    dst,
                    site,
                    dist,
                    edits,
                } => {
                    let addr = next_address(&program, &mut self.counters, *site);
                    let edit = edits.iter().find(|e| e.matches(addr.index));
                    match edit {
                        Some(e) if e.kind == EditKind::Do => {
                            let v = self.globals[e.value.index()].clone();
                            r!(dst) = v.clone();
                            return Ok(Effect::Intervened {
                                site: *site,
                                addr,
                                value: v,
                            });
                        }
                        Some(e) => {
                            let d = as_dist(&r!(dist), span)?;
                            let v = self.globals[e.value.index()].clone();
                            r!(dst) = v.clone();
                            if let Some(twin) =
                                self.twin.as_deref_mut().filter(|t| !t.counterfactual)
                            {
                                Arc::make_mut(&mut twin.tape).insert(addr, noise_of(&d, &v));
                            }
                            return Ok(Effect::Observe {
                                site: *site,
                                addr,
                                dist: d,
                                value: v,
                            });
                        }
                        None => {
                            let d = as_dist(&r!(dist), span)?;
                            let (effect, fixed) = draw(self.twin.as_deref_mut(), *site, addr, d);
                            match fixed {
                                Some(v) => r!(dst) = v,
                                None => self.pending = Some(*dst),
                            }
                            return Ok(effect);
                        }
                    }
                }
                Instr::World { counterfactual } => {
                    if *counterfactual {
                        // Addresses restart so each counterfactual choice
                        // meets the noise of its factual twin.
                        self.counters.iter_mut().for_each(|c| *c = 0);
                    }
                    let tape = self.twin.take().map(|t| t.tape).unwrap_or_default();
                    self.twin = Some(Box::new(Twin {
                        counterfactual: *counterfactual,
                        tape,
                        pending: None,
                    }));
                }
                _ => unreachable!("register-local instructions run in exec_local"),
            }
        }
    }

    /// Runs `map`, `filter`, `fold` or `scan` to completion at once when
    /// its closure is register-local (see [`local_body`]): a loop over the
    /// elements reusing one scratch frame, with no frames pushed and no
    /// partial results kept. Nothing in such a closure can suspend the
    /// machine, so the result and any error are those of the frame-by-frame
    /// run. `None` when the closure does not qualify.
    fn run_local_intrinsic(&mut self, n: &NativeFrame) -> Result<Option<Value>, Diagnostic> {
        let Value::Closure(c) = &n.f else {
            return Ok(None);
        };
        let params = match n.op {
            Intrinsic::Map | Intrinsic::Filter => 1,
            Intrinsic::Fold | Intrinsic::Scan => 2,
            Intrinsic::Repeat => return Ok(None),
        };
        let program = Arc::clone(&self.program);
        let func = program.func(c.func);
        let Some(ret) = local_body(func).filter(|_| func.params as usize == params) else {
            return Ok(None);
        };
        let body = &func.code[..func.code.len() - 1];
        let base = self.regs.len();
        self.regs.resize(base + func.regs as usize, Value::Unit);
        let mut acc = n.acc.clone();
        let mut out = Vec::with_capacity(if n.op == Intrinsic::Filter { 0 } else { n.n });
        for x in &n.xs[..n.n] {
            let regs = &mut self.regs[base..];
            if params == 2 {
                regs[0] = std::mem::replace(&mut acc, Value::Unit);
            }
            regs[params - 1] = x.clone();
            for (k, v) in c.captures.iter().enumerate() {
                regs[params + k] = v.clone();
            }
            for (instr, &span) in body.iter().zip(&func.spans) {
                let ran = exec_local(instr, regs, &self.globals).map_err(|m| err(span, m))?;
                assert!(ran, "local_body admitted a non-local instruction");
            }
            let v = std::mem::replace(&mut regs[ret.index()], Value::Unit);
            match n.op {
                Intrinsic::Map => out.push(v),
                Intrinsic::Filter => match v {
                    Value::Bool(true) => out.push(x.clone()),
                    Value::Bool(false) => {}
                    _ => return Err(err(n.span, "filter predicate must return a Bool")),
                },
                Intrinsic::Fold => acc = v,
                Intrinsic::Scan => {
                    out.push(v.clone());
                    acc = v;
                }
                Intrinsic::Repeat => unreachable!("not register-local"),
            }
        }
        self.regs.truncate(base);
        Ok(Some(match n.op {
            Intrinsic::Fold => acc,
            _ => Value::array(out),
        }))
    }

    /// Advances the native frame on top: consume a returned value, then
    /// either call the closure again or finish.
    fn step_native(&mut self) -> Result<Option<Value>, Diagnostic> {
        let input = self.native_input.take();
        let Some(Frame::Native(n)) = self.frames.last_mut() else {
            unreachable!("top frame is native")
        };
        if let Some(v) = input {
            match n.op {
                Intrinsic::Map | Intrinsic::Repeat => n.out = n.out.push(v),
                Intrinsic::Filter => match v {
                    Value::Bool(true) => n.out = n.out.push(n.xs[n.i].clone()),
                    Value::Bool(false) => {}
                    _ => return Err(err(n.span, "filter predicate must return a Bool")),
                },
                Intrinsic::Fold => n.acc = v,
                Intrinsic::Scan => {
                    n.out = n.out.push(v.clone());
                    n.acc = v;
                }
            }
            n.i += 1;
        }
        if n.i < n.n {
            let start = self.regs.len();
            match n.op {
                Intrinsic::Map | Intrinsic::Filter => self.regs.push(n.xs[n.i].clone()),
                Intrinsic::Fold | Intrinsic::Scan => {
                    self.regs.extend([n.acc.clone(), n.xs[n.i].clone()])
                }
                Intrinsic::Repeat => {}
            }
            let span = n.span;
            let func = push_captures(&mut self.regs, &self.program, &n.f, start, span)?;
            self.push_direct(func, start, TO_NATIVE, span)?;
            return Ok(None);
        }
        let result = match n.op {
            Intrinsic::Fold => std::mem::replace(&mut n.acc, Value::Unit),
            _ => Value::array(std::mem::take(&mut n.out).into_vec()),
        };
        Ok(self.return_value(result))
    }
}

/// Checks that `callee` is a closure taking the arguments `regs[args..]`,
/// pushes its captures after them, and returns the function to run.
fn push_captures(
    regs: &mut Vec<Value>,
    program: &Program,
    callee: &Value,
    args: usize,
    span: Span,
) -> Result<FuncId, Diagnostic> {
    let Value::Closure(c) = callee else {
        return Err(err(
            span,
            format!("cannot call a value of type {}", callee.type_name()),
        ));
    };
    let func = program.func(c.func);
    let supplied = regs.len() - args;
    if func.params as usize != supplied {
        return Err(err(
            span,
            format!(
                "`{}` takes {} arguments but {} were supplied",
                func.name, func.params, supplied
            ),
        ));
    }
    regs.extend(c.captures.iter().cloned());
    Ok(c.func)
}

/// Longest closure body (in instructions) that [`local_body`] inspects.
const LOCAL_MAX: usize = 32;

/// If `func` is a short straight line of register-local instructions
/// ending in `return`, the register it returns.
fn local_body(func: &tyche_ir::Function) -> Option<Reg> {
    let (last, body) = func.code.split_last()?;
    let Instr::Return { value } = last else {
        return None;
    };
    (func.code.len() <= LOCAL_MAX && body.iter().all(Instr::is_register_local)).then_some(*value)
}

/// Runs `instr` if it is register-local ([`Instr::is_register_local`]):
/// it only reads and writes registers of the current frame (and reads
/// globals). Returns whether it did; any other instruction is left to the
/// caller. Errors are bare messages the caller places at the
/// instruction's span, so the hot path does not move a `Diagnostic`.
#[inline(always)]
fn exec_local(instr: &Instr, regs: &mut [Value], globals: &[Value]) -> Result<bool, String> {
    macro_rules! r {
        ($reg:expr) => {
            regs[$reg.index()]
        };
    }
    match instr {
        Instr::Const { dst, value } => {
            r!(dst) = match value {
                tyche_ir::Const::Unit => Value::Unit,
                tyche_ir::Const::Bool(b) => Value::Bool(*b),
                tyche_ir::Const::Int(i) => Value::Int(*i),
                tyche_ir::Const::Real(x) => Value::Real(*x),
                tyche_ir::Const::Str(s) => Value::Str(Arc::from(&**s)),
            }
        }
        Instr::Move { dst, src } => r!(dst) = r!(src).clone(),
        Instr::Global { dst, global } => r!(dst) = globals[global.index()].clone(),
        Instr::Closure {
            dst,
            func,
            captures,
        } => {
            let captures = captures.iter().map(|c| r!(c).clone()).collect();
            r!(dst) = Value::Closure(Arc::new(Closure {
                func: *func,
                captures,
            }));
        }
        Instr::Unary { dst, op, arg } => r!(dst) = ops::unary(*op, &r!(arg))?,
        Instr::Binary { dst, op, lhs, rhs } => r!(dst) = ops::binary(*op, &r!(lhs), &r!(rhs))?,
        Instr::Prim { dst, prim, args } => {
            if *prim == tyche_ir::Prim::Print {
                eprintln!("{}", r!(args[0]));
            }
            // Operands are passed in place (one) or copied to the
            // stack (two), not collected into a fresh vector.
            let v = match &args[..] {
                [a] => ops::prim(*prim, std::slice::from_ref(&r!(a))),
                [a, b] => ops::prim(*prim, &[r!(a).clone(), r!(b).clone()]),
                _ => {
                    let argv: Vec<Value> = args.iter().map(|a| r!(a).clone()).collect();
                    ops::prim(*prim, &argv)
                }
            };
            r!(dst) = v?;
        }
        Instr::MakeDist { dst, kind, args } => {
            let d = make_dist(*kind, args.iter().map(|a| &regs[a.index()]))?;
            r!(dst) = Value::Dist(Arc::new(DistValue::Prim(d)));
        }
        Instr::Array { dst, elems } => {
            r!(dst) = Value::array(elems.iter().map(|e| r!(e).clone()).collect())
        }
        Instr::Tuple { dst, elems } => {
            r!(dst) = Value::tuple(elems.iter().map(|e| r!(e).clone()).collect())
        }
        Instr::Index { dst, array, index } => {
            let v = match (&r!(array), &r!(index)) {
                (Value::Array(xs), Value::Int(i)) => {
                    match usize::try_from(*i).ok().and_then(|i| xs.get(i)) {
                        Some(v) => v.clone(),
                        None => {
                            return Err(format!(
                                "index {i} out of bounds for an array of length {}",
                                xs.len()
                            ))
                        }
                    }
                }
                (a, i) => {
                    return Err(format!(
                        "cannot index {} by {}",
                        a.type_name(),
                        i.type_name()
                    ))
                }
            };
            r!(dst) = v;
        }
        Instr::Field { dst, tuple, field } => {
            let v = match &r!(tuple) {
                Value::Tuple(xs) => xs.get(*field as usize).cloned(),
                _ => None,
            };
            r!(dst) = v.ok_or_else(|| format!("no field {field}"))?;
        }
        Instr::Nop => {}
        _ => return Ok(false),
    }
    Ok(true)
}

/// The effect of a random choice at `addr`: an ordinary draw, or — in a
/// counterfactual run — the value its shared noise determines (returned
/// for the destination register, since no one needs to choose it).
fn draw(
    twin: Option<&mut Twin>,
    site: SiteId,
    addr: Address,
    dist: Arc<DistValue>,
) -> (Effect, Option<Value>) {
    match twin
        .map(|t| choose_twin(t, addr, &dist))
        .unwrap_or(Coupled::Fresh)
    {
        Coupled::Fixed(value) => (
            Effect::Intervened {
                site,
                addr,
                value: value.clone(),
            },
            Some(value),
        ),
        Coupled::Dist(coupled) => (
            Effect::Sample {
                site,
                addr,
                dist: coupled,
            },
            None,
        ),
        Coupled::Fresh => (Effect::Sample { site, addr, dist }, None),
    }
}

/// A choice in a counterfactual run: recorded in the factual world,
/// coupled through its noise in the counterfactual one.
fn choose_twin(twin: &mut Twin, addr: Address, dist: &Arc<DistValue>) -> Coupled {
    if !twin.counterfactual {
        twin.pending = Some((addr, Arc::clone(dist)));
        return Coupled::Fresh;
    }
    match twin.tape.get(&addr) {
        Some(noise) => couple(dist, noise),
        None => Coupled::Fresh,
    }
}

/// The next address of `site`'s name in this run.
fn next_address(program: &Program, counters: &mut [u32], site: SiteId) -> Address {
    let name = program.site(site).name;
    let c = &mut counters[name.index()];
    let addr = Address { name, index: *c };
    *c += 1;
    addr
}

fn as_dist(v: &Value, span: Span) -> Result<Arc<DistValue>, Diagnostic> {
    match v {
        Value::Dist(d) => Ok(Arc::clone(d)),
        other => Err(err(
            span,
            format!("expected a distribution, found {}", other.type_name()),
        )),
    }
}

fn start_native(
    op: Intrinsic,
    mut args: Vec<Value>,
    ret: Reg,
    span: Span,
) -> Result<NativeFrame, Diagnostic> {
    let (xs, n, acc, f) = match op {
        Intrinsic::Repeat => {
            let f = args.pop().unwrap_or(Value::Unit);
            let n = match args[0] {
                Value::Int(n) if n >= 0 => n as usize,
                Value::Int(n) => {
                    return Err(err(
                        span,
                        format!("repeat count must be non-negative, got {n}"),
                    ))
                }
                _ => return Err(err(span, "repeat count must be an Int")),
            };
            (Arc::new(Vec::new()), n, Value::Unit, f)
        }
        _ => {
            let f = args.pop().unwrap_or(Value::Unit);
            let acc = if args.len() == 2 {
                args.pop().unwrap_or(Value::Unit)
            } else {
                Value::Unit
            };
            let Value::Array(xs) = args.pop().unwrap_or(Value::Unit) else {
                return Err(err(span, format!("{} needs an array", op.name())));
            };
            let n = xs.len();
            (xs, n, acc, f)
        }
    };
    Ok(NativeFrame {
        op,
        f,
        xs,
        i: 0,
        n,
        acc,
        out: Collected::default(),
        ret,
        span,
    })
}

/// Calls the host function `program.foreign[index]`.
fn call_foreign(program: &Program, index: u32, args: &[Value]) -> Result<Value, String> {
    let decl = program
        .foreign
        .get(index as usize)
        .ok_or_else(|| format!("no host function number {index}"))?;
    let f = decl
        .imp
        .as_ref()
        .and_then(crate::foreign::ForeignFn::from_native)
        .ok_or_else(|| format!("no implementation was registered for `{}`", decl.name))?;
    f.call(args)
        .map_err(|m| format!("the Rust function `{}` failed: {m}", decl.name))
}

/// Converts argument values and validates the distribution's parameters
/// (also used by `tyche-jit`'s tracer for distributions with concrete
/// parameters, so both build them the same way).
pub fn make_dist<'a>(
    kind: tyche_dist::DistKind,
    args: impl Iterator<Item = &'a Value> + Clone,
) -> Result<Dist, String> {
    // Fast path, allocation-free: up to four scalar parameters (every
    // distribution but Categorical, Dirichlet and MvNormal). This runs once
    // per sample in every particle, so it is on inference's hot path.
    let mut scalars = [Param::Real(0.0); 4];
    let mut k = 0;
    let all_scalar = args.clone().all(|v| {
        let p = match v {
            Value::Real(x) => Param::Real(*x),
            Value::Int(n) => Param::Int(*n),
            _ => return false,
        };
        if k == scalars.len() {
            return false;
        }
        scalars[k] = p;
        k += 1;
        true
    });
    if all_scalar {
        return Dist::new(kind, &scalars[..k]).map_err(|e| e.message);
    }
    let args: Vec<&Value> = args.collect();
    // Vectors and matrices are converted into owned buffers first.
    let vectors: Vec<Option<Vec<f64>>> = args
        .iter()
        .map(|v| match v {
            Value::Array(xs) if xs.iter().all(|x| x.as_number().is_some()) => Some(
                xs.iter()
                    .map(|x| x.as_number().unwrap_or(f64::NAN))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    let matrices: Vec<Option<Vec<Vec<f64>>>> = args
        .iter()
        .map(|v| match v {
            Value::Array(rows) => rows
                .iter()
                .map(|r| match r {
                    Value::Array(xs) => xs
                        .iter()
                        .map(|x| x.as_number())
                        .collect::<Option<Vec<f64>>>(),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>(),
            _ => None,
        })
        .collect();
    let mut params = Vec::with_capacity(args.len());
    for (i, v) in args.iter().enumerate() {
        params.push(match v {
            Value::Real(x) => Param::Real(*x),
            Value::Int(n) => Param::Int(*n),
            Value::Array(xs)
                if xs.iter().all(|x| matches!(x, Value::Array(_))) && !xs.is_empty() =>
            {
                Param::Matrix(
                    matrices[i]
                        .as_deref()
                        .ok_or("expected a matrix of numbers")?,
                )
            }
            Value::Array(_) => Param::Vector(
                vectors[i]
                    .as_deref()
                    .ok_or("expected an array of numbers")?,
            ),
            other => {
                return Err(format!(
                    "invalid parameter for {}: {}",
                    kind.name(),
                    other.type_name()
                ))
            }
        });
    }
    Dist::new(kind, &params).map_err(|e| e.message)
}
