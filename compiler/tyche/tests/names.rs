//! Misspelt names — models, data items, choices, program names — are
//! error values with a "did you mean" suggestion and a rendered location.

use tyche::{ErrorKind, Program};

const SRC: &str = "
data observations: [Bool];

fn prior() -> Real { let bias ~ Beta(2.0, 2.0); bias }

fn model() -> Real {
    let bias = prior();
    for o in observations { observe(Bernoulli(bias), o); }
    let smoking ~ Bernoulli(0.3);
    bias
}
";

fn program() -> Program {
    Program::from_source("names.ppl", SRC).unwrap()
}

#[test]
fn model_names() {
    let err = program().model("modle").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Model);
    assert_eq!(err.code(), Some("E0404"));
    let text = err.to_string();
    assert!(
        text.contains("no function `modle` to infer in names.ppl"),
        "{text}"
    );
    assert!(text.contains("did you mean `model`?"), "{text}");
    assert!(
        text.contains("zero-argument functions here: prior, model"),
        "{text}"
    );
    assert!(!text.contains("--model"), "no command-line advice: {text}");
    // Nothing close: the list only.
    let err = program().model("zzzzzzzz").unwrap_err();
    assert!(!err.to_string().contains("did you mean"), "{err}");
}

#[test]
fn data_names() {
    let err = program()
        .model("model")
        .unwrap()
        .data("observation", vec![true])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(
        err.to_string().contains("did you mean `observations`?"),
        "{err}"
    );
}

#[test]
fn choice_names() {
    let q = program().model("model").unwrap();
    for call in [
        q.clone().intervene("smokng", true),
        q.clone().condition("smokng", true),
        q.clone().counterfactual("smokng", true),
        q.clone().intervene_at("smokng", 0, true),
    ] {
        let err = call.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Surgery);
        assert_eq!(err.code(), Some("E0804"));
        let text = err.to_string();
        assert!(
            text.contains("no random choice named `smokng` in `model`"),
            "{text}"
        );
        assert!(text.contains("did you mean `smoking`?"), "{text}");
        assert!(text.contains("names.ppl:6:"), "points at the model: {text}");
    }
    // Choices made in called functions count.
    assert!(q.clone().intervene("bias", 0.5).is_ok());
    let err = q.intervene("xyz", 1.0).unwrap_err();
    assert!(
        err.to_string()
            .contains("the choices of `model` are: bias, smoking"),
        "{err}"
    );
}

#[test]
fn names_in_programs() {
    let err = Program::from_source("t.ppl", "fn model() { let total = 1; totl + 1 }").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile);
    assert_eq!(err.code(), Some("E0401"));
    let text = err.to_string();
    assert!(text.contains("cannot find `totl` in this scope"), "{text}");
    assert!(text.contains("did you mean `total`?"), "{text}");
    assert!(text.contains("t.ppl:1:"), "{text}");
    assert!(text.contains("totl + 1"), "shows the source line: {text}");
}
