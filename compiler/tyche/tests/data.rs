//! Data binding from Rust: conversions, and every mistake reported as an
//! error value (never a panic) naming the item.

use serde::Serialize;
use tyche::{ErrorKind, IntoValue, Program};

const SRC: &str = "
data ys: [Real];
data n: Int;
data pairs: [(Int, Bool)];
data label: String = \"none\";

fn model() -> Real { sum(ys) + real(n) + real(len(pairs)) }
";

fn program() -> Program {
    Program::from_source("data.ppl", SRC).unwrap()
}

#[test]
fn binding_from_rust_values() {
    let posterior = program()
        .model("model")
        .unwrap()
        .data("ys", vec![1.0, 2.0])
        .unwrap()
        .data("n", 3)
        .unwrap()
        .data("pairs", vec![(1, true), (2, false)])
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(posterior.mean(), Some(8.0));
}

#[test]
fn integers_convert_to_reals_but_not_back() {
    let q = program().model("model").unwrap();
    assert!(q.clone().data("ys", vec![1, 2]).is_ok());
    assert!(q.clone().data("ys", vec![1u8, 2u8]).is_ok());
    let err = q.data("n", 3.0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert_eq!(err.code(), Some("E0503"));
    assert!(
        err.to_string()
            .contains("`n` should be Int, found a Real `3.0`"),
        "{err}"
    );
}

#[test]
fn ill_typed_values_name_the_element_and_point_at_the_declaration() {
    let err = program()
        .model("model")
        .unwrap()
        .data("pairs", vec![(1, true).into_value(), (2, 3).into_value()])
        .unwrap_err();
    assert_eq!(err.code(), Some("E0503"));
    let text = err.to_string();
    assert!(
        text.contains("ill-typed value for data item `pairs`"),
        "{text}"
    );
    assert!(
        text.contains("`pairs[1].1` should be Bool, found an Int `3`"),
        "{text}"
    );
    assert!(text.contains("data.ppl:4:"), "{text}");
    assert!(text.contains("declared as [(Int, Bool)] here"), "{text}");
    let err = program()
        .model("model")
        .unwrap()
        .data("pairs", vec![(1, true, 2)])
        .unwrap_err();
    assert!(err.to_string().contains("2-tuple"), "{err}");
}

#[test]
fn unknown_items_suggest_the_closest() {
    let err = program()
        .model("model")
        .unwrap()
        .data("yss", vec![1.0])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert_eq!(err.code(), Some("E0505"));
    assert!(err.to_string().contains("did you mean `ys`?"), "{err}");
    let err = program()
        .model("model")
        .unwrap()
        .data("zzzzzz", 1)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the program's data items are: ys, n, pairs, label"),
        "{err}"
    );
    let none = Program::from_source("m.ppl", "fn model() { 1 }").unwrap();
    let err = none.model("model").unwrap().data("k", 1).unwrap_err();
    assert!(err.to_string().contains("data k: TYPE;"), "{err}");
}

#[test]
fn missing_items_are_reported_at_run_all_at_once() {
    let err = program()
        .model("model")
        .unwrap()
        .data("n", 1)
        .unwrap()
        .run()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert_eq!(err.code(), Some("E0504"));
    assert_eq!(err.diagnostics().len(), 2);
    let text = err.to_string();
    assert!(
        text.contains("missing value for data item `ys: [Real]`"),
        "{text}"
    );
    assert!(
        text.contains("missing value for data item `pairs: [(Int, Bool)]`"),
        "{text}"
    );
    assert!(text.contains(".data(\"ys\", …)"), "{text}");
    assert!(!text.contains("label"), "defaults need no value: {text}");
}

#[test]
fn json_binding_reports_every_problem() {
    let q = program().model("model").unwrap();
    let ok = q
        .clone()
        .data_json(&serde_json::json!({"ys": [1, 2.5], "n": 2, "pairs": [[0, true]], "label": "x"}))
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(ok.mean(), Some(6.5));
    let err = q
        .clone()
        .data_json(&serde_json::json!({"ys": "no", "n": 1.5, "pair": []}))
        .unwrap_err();
    assert_eq!(err.diagnostics().len(), 3);
    let text = err.to_string();
    assert!(text.contains("did you mean `pairs`?"), "{text}");
    assert!(text.contains("`n` should be Int"), "{text}");
    let err = q.data_json(&serde_json::json!([1, 2])).unwrap_err();
    assert_eq!(err.code(), Some("E0501"));
}

#[derive(Serialize)]
struct Observation(i32, bool);

#[derive(Serialize)]
struct Named {
    k: i32,
}

#[test]
fn serde_values_go_through_the_declared_type() {
    let q = program().model("model").unwrap();
    let obs = vec![
        Observation(1, true),
        Observation(2, false),
        Observation(3, true),
    ];
    let posterior = q
        .clone()
        .data_serde("pairs", &obs)
        .unwrap()
        .data_serde("ys", &[0.5f32, 0.5])
        .unwrap()
        .data_serde("n", &0u64)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(posterior.mean(), Some(4.0));
    // A struct with named fields is a JSON object: no Tyche type matches.
    let err = q.data_serde("pairs", &vec![Named { k: 1 }]).unwrap_err();
    assert_eq!(err.code(), Some("E0503"));
    assert!(err.to_string().contains("found an object"), "{err}");
}

#[test]
fn later_bindings_replace_earlier_ones() {
    let posterior = program()
        .model("model")
        .unwrap()
        .data("ys", vec![100.0])
        .unwrap()
        .data("ys", vec![1.0])
        .unwrap()
        .data("n", 0)
        .unwrap()
        .data("pairs", Vec::<(i64, bool)>::new())
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(posterior.mean(), Some(1.0));
}
