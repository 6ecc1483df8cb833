//! The incremental API the REPL uses: one `Checker` kept across inputs.

use tyche_core::{render_all, SourceMap};
use tyche_syntax::{parse_repl, ReplInput};
use tyche_types::{display_type, Checker};

struct Repl {
    checker: Checker,
    map: SourceMap,
    next_id: u32,
}

impl Repl {
    fn new() -> Repl {
        Repl {
            checker: Checker::new(),
            map: SourceMap::new(),
            next_id: 0,
        }
    }

    /// Feeds one line: `Ok(Some(type))` for an expression, `Ok(None)` for
    /// items, `Err(rendered diagnostics)` when the checker objects.
    fn input(&mut self, line: &str) -> Result<Option<String>, String> {
        let file = self.map.add(format!("<repl {}>", self.next_id), line);
        let (parsed, next, pd) = parse_repl(file, line, self.next_id);
        assert!(
            pd.is_empty(),
            "syntax errors:\n{}",
            render_all(&pd, &self.map, false)
        );
        self.next_id = next;
        match parsed.expect("an input") {
            ReplInput::Items(items) => {
                let d = self.checker.add_items(&items);
                if d.is_empty() {
                    Ok(None)
                } else {
                    Err(render_all(&d, &self.map, false))
                }
            }
            ReplInput::Expr(e) => {
                let (t, d) = self.checker.check_expr(&e);
                if !d.is_empty() {
                    assert!(t.is_none());
                    return Err(render_all(&d, &self.map, false));
                }
                let info = self.checker.type_info();
                Ok(Some(display_type(&t.expect("a type"), &info.numeric_vars)))
            }
        }
    }

    fn ty(&mut self, line: &str) -> String {
        match self.input(line) {
            Ok(Some(t)) => t,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn item_type(&self, name: &str) -> String {
        let info = self.checker.type_info();
        display_type(
            &self.checker.item_type(name).expect("item"),
            &info.numeric_vars,
        )
    }
}

#[test]
fn items_then_expressions() {
    let mut r = Repl::new();
    assert_eq!(r.input("fn add(a, b) { a + b }"), Ok(None));
    assert_eq!(r.item_type("add"), "('a, 'a) -> 'a where 'a: Num");
    assert_eq!(r.ty("add(1, 2)"), "Int");
    assert_eq!(r.ty("add(1.5, 2)"), "Real");
    assert_eq!(r.ty("|x| x"), "('a) -> 'a");
    assert_eq!(r.ty("Normal(0, 1)"), "Dist<Real>");
    assert_eq!(r.input("let n = add(1, 2);"), Ok(None));
    assert_eq!(r.ty("n * 2"), "Int");
}

#[test]
fn redefining_a_function_replaces_it() {
    let mut r = Repl::new();
    r.input("fn f(x) { x + 1 }").unwrap();
    assert_eq!(r.ty("f(2)"), "Int");
    r.input("fn f(b) { b && true }").unwrap();
    assert_eq!(r.ty("f(false)"), "Bool");
    let err = r.input("f(2)").unwrap_err();
    assert!(err.contains("expected `Bool`, found a number"), "{err}");
}

#[test]
fn mutual_recursion_within_one_input() {
    let mut r = Repl::new();
    r.input("fn ev(n) { if n == 0 { true } else { od(n - 1) } } fn od(n) { if n == 0 { false } else { ev(n - 1) } }")
        .unwrap();
    assert_eq!(r.ty("od(7)"), "Bool");
}

#[test]
fn random_choices_and_tuple_lets() {
    let mut r = Repl::new();
    r.input("let x ~ Normal(0, 1);").unwrap();
    assert_eq!(r.ty("x + 1"), "Real");
    assert_eq!(r.checker.type_info().choice_types["x"].to_string(), "Real");
    r.input("let (a, b) = (1, true);").unwrap();
    assert_eq!(r.ty("(a, b)"), "(Int, Bool)");
    r.input("fn model() { let y ~ Normal(x, 1); y }").unwrap();
    assert_eq!(r.ty("infer(Smc(10), do(model, y = 2))"), "Dist<Real>");
    let err = r.input("do(model, y = true)").unwrap_err();
    assert!(
        err.contains("the random choice `y` has type `Real`"),
        "{err}"
    );
}

#[test]
fn errors_do_not_poison_the_session() {
    let mut r = Repl::new();
    r.input("let normal = 2.5;").unwrap();
    let err = r.input("nromal + 1").unwrap_err();
    assert_eq!(
        err,
        "error[E0401]: cannot find `nromal` in this scope
  ┌─ <repl 1>:1:1
  │
1 │ nromal + 1
  │ ^^^^^^ not found in this scope
  │
  = help: did you mean `normal`?

"
    );
    assert_eq!(r.ty("normal + 1"), "Real");
    let err = r.input("fn g() { 1 } fn g() { 2 }").unwrap_err();
    assert!(err.contains("E0402"), "{err}");
}

#[test]
fn type_info_accumulates() {
    let mut r = Repl::new();
    r.input("fn sq(x: Real) { x * x }").unwrap();
    r.ty("sq(3)");
    let info = r.checker.type_info();
    assert_eq!(info.expr_types.len(), r.next_id as usize);
    assert!(info.expr_types.iter().all(Option::is_some));
    assert_eq!(r.checker.item_names(), ["sq"]);
}
