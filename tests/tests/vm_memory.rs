//! A suspended machine holds its live frames, not the peak depth of its
//! past (issue 14: a model that recursed 99,990 deep before an observation
//! kept about 23.5 MB per SMC particle, and 1,000 particles aborted).

use std::collections::HashMap;
use tyche_core::SourceMap;
use tyche_vm::{Effect, Machine};

#[test]
fn a_suspended_machine_gives_back_the_stack_of_returned_calls() {
    let src = "fn depth(n: Int) -> Int { if n == 0 { 0 } else { 1 + depth(n - 1) } }\n\
               fn model() -> Real {\n\
                   let d = depth(99990);\n\
                   let x ~ Normal(real(d), 1.0);\n\
                   observe(Normal(x, 1.0), 0.5);\n\
                   x\n\
               }\n";
    let mut sources = SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, "t.ppl", src).expect("compiles");
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &HashMap::new()).expect("globals");
    let f = tyche_driver::model(&compiled, &sources, "model").expect("model");
    let mut m = Machine::for_function(compiled.ir.clone(), globals, f).expect("machine");
    // Suspended at the choice after the recursion returned.
    let Ok(Effect::Sample { .. }) = m.run() else {
        panic!("expected the choice")
    };
    let first = m.stack_bytes();
    assert!(
        first < 64 * 1024,
        "suspended at depth 1 holding {first} bytes"
    );
    // And at the observation: still small, and a clone (a resampled
    // particle) too.
    let Ok(Effect::Observe { .. }) = m.resume(tyche_vm::Value::Real(0.0)) else {
        panic!("expected the observation")
    };
    assert!(m.stack_bytes() < 64 * 1024, "{} bytes", m.stack_bytes());
    assert!(m.clone().stack_bytes() < 64 * 1024);
}
