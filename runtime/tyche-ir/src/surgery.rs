//! Model surgery as a program transformation (LANGUAGE.md §9).
//!
//! `do(model, x = v)` and `condition(model, x = v)` become a *new* set of
//! functions: every function the model reaches is copied, and in the
//! copies each sample site named `x` becomes [`Instr::SampleEdited`], which
//! holds the value (do) or observes it (condition). The original functions
//! are untouched, so the surgically altered model and the original can be
//! used side by side, and every inference method runs the new program
//! unchanged. A later `do` takes precedence over every earlier edit of the
//! same site, and a later `condition` over earlier conditions but not over
//! an earlier `do`. That gives the laws: `do` twice equals once with the
//! later value, `do` after `condition` on a site is `do`, and `condition`
//! after `do` is still the `do`.

use crate::ids::{FuncId, GlobalId, SiteId};
use crate::instr::{Callee, Edit, EditKind, Instr};
use crate::program::{Program, SiteKind};
use crate::ty::Type;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// One `name = value` or `name[index] = value` of a surgery.
#[derive(Clone, Debug, PartialEq)]
pub struct SurgeryEdit {
    pub name: String,
    pub index: Option<u32>,
    pub kind: EditKind,
    pub value: GlobalId,
}

/// Why a surgery cannot apply.
#[derive(Clone, Debug, PartialEq)]
pub enum SurgeryError {
    /// No sample site with this name is reachable from the model.
    UnknownName { name: String, known: Vec<String> },
    /// The value's type differs from the choice's.
    WrongType {
        name: String,
        expected: Type,
        found: Type,
    },
    /// The model makes choices of this name at two types (a name's type
    /// is per model), so an edit by name is ambiguous.
    Ambiguous { name: String, types: (Type, Type) },
}

impl SurgeryError {
    /// The choice name the error is about.
    pub fn name(&self) -> &str {
        match self {
            SurgeryError::UnknownName { name, .. }
            | SurgeryError::WrongType { name, .. }
            | SurgeryError::Ambiguous { name, .. } => name,
        }
    }
}

/// Functions reachable from `root` through direct calls and closures
/// created along the way, `root` first.
pub fn reachable(program: &Program, root: FuncId) -> Vec<FuncId> {
    let mut seen = vec![false; program.funcs.len()];
    let mut order = Vec::new();
    let mut queue = VecDeque::from([root]);
    while let Some(f) = queue.pop_front() {
        if std::mem::replace(&mut seen[f.index()], true) {
            continue;
        }
        order.push(f);
        for instr in &program.func(f).code {
            match instr {
                Instr::Call {
                    callee: Callee::Direct(g),
                    ..
                }
                | Instr::Closure { func: g, .. } => queue.push_back(*g),
                _ => {}
            }
        }
    }
    order
}

/// The random choices a model can make: name → value type, sorted (the
/// first site's type where sites of one name differ: see
/// [`choice_types`]).
pub fn choices(program: &Program, root: FuncId) -> BTreeMap<String, Type> {
    choice_types(program, root)
        .into_iter()
        .map(|(n, mut ts)| (n, ts.swap_remove(0)))
        .collect()
}

/// The random choices a model can make: name → the distinct value types
/// of its sites, in the order first reached (one type but where two
/// functions the model reaches use one name at two types; a type with a
/// variable, from polymorphic code, is listed only when nothing else is).
pub fn choice_types(program: &Program, root: FuncId) -> BTreeMap<String, Vec<Type>> {
    let mut out: BTreeMap<String, Vec<Type>> = BTreeMap::new();
    for f in reachable(program, root) {
        for instr in &program.func(f).code {
            if let Instr::Sample { site, .. } | Instr::SampleEdited { site, .. } = instr {
                let s = program.site(*site);
                let ts = out.entry(program.name(s.name).to_string()).or_default();
                if !ts.contains(&s.ty) {
                    ts.push(s.ty.clone());
                }
            }
        }
    }
    for ts in out.values_mut() {
        if ts.iter().any(|t| !has_var(t)) {
            ts.retain(|t| !has_var(t));
        } else {
            ts.truncate(1);
        }
    }
    out
}

fn has_var(t: &Type) -> bool {
    match t {
        Type::Var(_) => true,
        Type::Array(t) | Type::Dist(t) => has_var(t),
        Type::Tuple(ts) => ts.iter().any(has_var),
        Type::Fn(ps, r) => ps.iter().any(has_var) || has_var(r),
        _ => false,
    }
}

/// Checks `edits` against the model rooted at `root`: names must exist
/// and values (of the given types) must match the choices' types.
pub fn check(program: &Program, root: FuncId, edits: &[(SurgeryEdit, Type)]) -> Vec<SurgeryError> {
    let known = choice_types(program, root);
    let mut errors = Vec::new();
    for (edit, ty) in edits {
        match known.get(&edit.name).map(|ts| ts.as_slice()) {
            None | Some([]) => errors.push(SurgeryError::UnknownName {
                name: edit.name.clone(),
                known: known.keys().cloned().collect(),
            }),
            Some([a, b, ..]) => errors.push(SurgeryError::Ambiguous {
                name: edit.name.clone(),
                types: (a.clone(), b.clone()),
            }),
            Some([expected]) if expected != ty && !has_var(expected) && !has_var(ty) => errors
                .push(SurgeryError::WrongType {
                    name: edit.name.clone(),
                    expected: expected.clone(),
                    found: ty.clone(),
                }),
            Some(_) => {}
        }
    }
    errors
}

/// Applies `edits` to a copy of everything reachable from `root` and
/// returns the copy of `root`. When `into` is given, the copy of `root` is
/// written there (a function id reserved earlier, e.g. by lowering, so code
/// could refer to the result before it existed). Names are assumed checked.
pub fn apply(
    program: &mut Program,
    root: FuncId,
    into: Option<FuncId>,
    edits: &[SurgeryEdit],
    tag: &str,
) -> FuncId {
    let funcs = reachable(program, root);
    let mut map: HashMap<FuncId, FuncId> = HashMap::new();
    for &f in &funcs {
        let new = match (f == root, into) {
            (true, Some(slot)) => slot,
            _ => {
                program.funcs.push(program.func(f).clone());
                FuncId(program.funcs.len() as u32 - 1)
            }
        };
        map.insert(f, new);
    }
    for &f in &funcs {
        let new = map[&f];
        let mut func = program.func(f).clone();
        func.name = format!("{}${tag}", func.name);
        for instr in &mut func.code {
            match instr {
                Instr::Call {
                    callee: Callee::Direct(g),
                    ..
                }
                | Instr::Closure { func: g, .. } => *g = map[g],
                _ => {}
            }
            // Each copied site gets its own entry, owned by the copy.
            if let Some(site) = instr.site() {
                let mut info = program.site(site).clone();
                info.func = new;
                program.sites.push(info);
                let copy = SiteId(program.sites.len() as u32 - 1);
                set_site(instr, copy);
            }
            let (dst, site, dist, mut existing) = match instr {
                Instr::Sample { dst, site, dist } => (*dst, *site, *dist, Vec::new()),
                Instr::SampleEdited {
                    dst,
                    site,
                    dist,
                    edits,
                } => (*dst, *site, *dist, std::mem::take(edits)),
                _ => continue,
            };
            let name = program.name(program.site(site).name);
            let mut new_edits: Vec<Edit> = edits
                .iter()
                .rev()
                .filter(|e| e.name == name)
                .map(|e| Edit {
                    index: e.index,
                    kind: e.kind,
                    value: e.value,
                })
                .collect();
            if new_edits.is_empty() && existing.is_empty() {
                *instr = Instr::Sample { dst, site, dist };
                continue;
            }
            // Precedence: a `do` beats everything before it; a `condition`
            // beats earlier conditions but not an earlier `do` (observing
            // a value that was set by intervention changes nothing).
            let (mut new_do, mut new_obs): (Vec<Edit>, Vec<Edit>) =
                new_edits.drain(..).partition(|e| e.kind == EditKind::Do);
            let (mut old_do, mut old_obs): (Vec<Edit>, Vec<Edit>) =
                existing.drain(..).partition(|e| e.kind == EditKind::Do);
            new_edits.append(&mut new_do);
            new_edits.append(&mut old_do);
            new_edits.append(&mut new_obs);
            new_edits.append(&mut old_obs);
            *instr = Instr::SampleEdited {
                dst,
                site,
                dist,
                edits: new_edits,
            };
        }
        program.funcs[new.index()] = func;
    }
    map[&root]
}

fn set_site(instr: &mut Instr, new: SiteId) {
    match instr {
        Instr::Sample { site, .. }
        | Instr::Observe { site, .. }
        | Instr::Factor { site, .. }
        | Instr::Condition { site, .. }
        | Instr::SampleEdited { site, .. } => *site = new,
        _ => {}
    }
}

/// Whether a site kind is a random choice (the only kind surgery edits).
pub fn is_choice(kind: SiteKind) -> bool {
    kind == SiteKind::Sample
}

/// Builds the twin-network model of `counterfactual(root, edits)` (§9):
/// a function that runs the factual world (`root` unchanged, recording the
/// noise of every choice), then the counterfactual world: a copy of
/// `root` in which observations add no weight, conditioned choices are
/// recomputed from their noise, and `edits` are applied as interventions.
/// Returns the new model function (written to `into` when given).
pub fn counterfactual(
    program: &mut Program,
    root: FuncId,
    into: Option<FuncId>,
    edits: &[SurgeryEdit],
) -> FuncId {
    // The counterfactual world: copy, strip evidence, then intervene.
    let world = apply(program, root, None, &[], "world");
    for f in reachable(program, world) {
        for instr in &mut program.funcs[f.index()].code {
            match instr {
                Instr::Observe { .. } | Instr::Factor { .. } | Instr::Condition { .. } => {
                    *instr = Instr::Nop
                }
                Instr::SampleEdited {
                    dst,
                    site,
                    dist,
                    edits,
                } => {
                    edits.retain(|e| e.kind == EditKind::Do);
                    if edits.is_empty() {
                        *instr = Instr::Sample {
                            dst: *dst,
                            site: *site,
                            dist: *dist,
                        };
                    }
                }
                _ => {}
            }
        }
    }
    let world = apply(program, world, None, edits, "do");
    let base = program.func(root).clone();
    let c = base.captures;
    let captures: Vec<crate::Reg> = (0..c).map(crate::Reg).collect();
    let (factual_fn, factual_val, world_fn) = (crate::Reg(c), crate::Reg(c + 1), crate::Reg(c + 2));
    let code = vec![
        Instr::World {
            counterfactual: false,
        },
        Instr::Closure {
            dst: factual_fn,
            func: root,
            captures: captures.clone(),
        },
        Instr::Call {
            dst: factual_val,
            callee: Callee::Closure(factual_fn),
            args: vec![],
            tail: false,
        },
        Instr::World {
            counterfactual: true,
        },
        Instr::Closure {
            dst: world_fn,
            func: world,
            captures,
        },
        Instr::Call {
            dst: world_fn,
            callee: Callee::Closure(world_fn),
            args: vec![],
            tail: true,
        },
    ];
    let func = crate::Function {
        name: format!("{}$counterfactual", base.name),
        params: 0,
        captures: c,
        regs: c + 3,
        spans: vec![base.span; code.len()],
        code,
        span: base.span,
        ty: base.ty,
    };
    match into {
        Some(slot) => {
            program.funcs[slot.index()] = func;
            slot
        }
        None => {
            program.funcs.push(func);
            FuncId(program.funcs.len() as u32 - 1)
        }
    }
}
