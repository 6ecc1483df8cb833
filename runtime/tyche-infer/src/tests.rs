//! Unit tests of the algorithms on hand-assembled programs.

use crate::testing::Prog;
use crate::*;
use tyche_dist::DistKind;
use tyche_vm::Value;

#[test]
fn smoke() {
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let mut b = p.body(f);
    let x = b.draw("x", DistKind::Bernoulli, &[0.3]);
    b.ret(x);
    let m = p.model(f, vec![]);
    let r = infer(&m, &Options::for_method(Method::Enumerate, 0)).unwrap();
    assert!((r.prob(&Value::Bool(true)) - 0.3).abs() < 1e-12);
}
