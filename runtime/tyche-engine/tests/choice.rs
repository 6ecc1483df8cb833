//! The automatic method choice, as data: which method ran, and each
//! refusal before it as a typed reason.

use std::sync::Arc;
use tyche_engine::{Backend, Choice, NoGradient, Spec};
use tyche_infer::{EnumerationRefusal, Method, Model, Options};

fn model(source: &str) -> Model {
    let mut sources = tyche_core::SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, "m.ppl", source)
        .unwrap_or_else(|d| panic!("{}", tyche_core::render_all(&d, &sources, false)));
    let bound = tyche_driver::bind_data(&compiled, &sources, None).unwrap();
    let func = tyche_driver::model(&compiled, &sources, "model").unwrap();
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &bound).unwrap();
    Model::for_function(Arc::clone(&compiled.ir), globals, func)
}

fn small() -> Options {
    Options {
        samples: 100,
        particles: 100,
        warmup: 100,
        traces: false,
        ..Options::default()
    }
}

#[test]
fn finite_models_are_enumerated() {
    let m = model("fn model() -> Bool { let b ~ Bernoulli(0.3); b }");
    let run = tyche_engine::run(Spec::new(&m, small())).unwrap();
    assert_eq!(run.choice, Some(Choice::Enumerate));
    assert_eq!(run.method(), Method::Enumerate);
    assert!(run.result.exact);
    assert_eq!(run.extra()["method_reason"], run.reason().unwrap().as_str());
}

#[test]
fn continuous_static_models_get_nuts_and_why() {
    let m = model("fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 0.5); x }");
    let run = tyche_engine::run(Spec::new(&m, small())).unwrap();
    match &run.choice {
        Some(Choice::Nuts {
            coordinates: 1,
            not_exact,
        }) => assert_eq!(not_exact.refusal, EnumerationRefusal::NotFinite),
        other => panic!("{other:?}"),
    }
    assert_eq!(run.method(), Method::Nuts);
    assert_eq!(run.backend(), "jit");
    assert!(run
        .reason()
        .unwrap()
        .starts_with("nuts: every choice is continuous"));
}

#[test]
fn without_native_code_the_choice_is_smc_with_rejuvenation() {
    let m = model("fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 0.5); x }");
    let run = tyche_engine::run(Spec::new(&m, small()).backend(Backend::Interpreter)).unwrap();
    match &run.choice {
        Some(Choice::Smc {
            rejuvenate: 2,
            not_nuts: NoGradient::InterpreterAsked,
            not_exact,
        }) => assert_eq!(not_exact.refusal, EnumerationRefusal::NotFinite),
        other => panic!("{other:?}"),
    }
    assert_eq!(run.options.rejuvenate, 2);
    assert!(run
        .reason()
        .unwrap()
        .contains("gradients need native code (`--backend interp` was asked)"));
}

#[test]
fn a_given_method_has_no_reason_and_other_errors_are_not_refusals() {
    let m = model("fn model() -> Bool { let b ~ Bernoulli(0.3); b }");
    let run = tyche_engine::run(Spec::new(&m, small()).method(Some(Method::Importance))).unwrap();
    assert_eq!(run.choice, None);
    assert!(!run.extra().contains_key("method_reason"));
    // No possible execution is the answer, not a reason to move on.
    let impossible = model("fn model() -> Bool { let b ~ Bernoulli(0.3); condition(b && !b); b }");
    let e = tyche_engine::run(Spec::new(&impossible, small())).unwrap_err();
    assert_eq!(e.code.as_deref(), Some("E0705"), "{}", e.message);
}

#[test]
fn a_cancelled_spec_stops_with_e0773() {
    let m = model("fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 0.5); x }");
    let cancel = tyche_engine::Stop::new();
    cancel.cancel();
    let mut spec = Spec::new(&m, small()).method(Some(Method::Smc));
    spec.cancel = Some(cancel);
    let e = tyche_engine::run(spec).unwrap_err();
    assert_eq!(e.code.as_deref(), Some("E0773"));
}
