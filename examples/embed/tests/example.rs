//! Runs the embedding example's logic (with fewer particles) so CI checks
//! that it compiles, runs and finds what it should.

use tyche_embed_example::{run, sensor, Size};

#[test]
fn the_example_runs_and_recovers_the_line() {
    let report = run(Size::Quick).expect("the example runs");
    // The data come from y = 2x + 1 with noise of sd 0.5 at 12 inputs in
    // [0, 8): the posterior of the slope is concentrated near 2 (its sd is
    // about 0.06), so 0.3 is a loose bound for either method.
    for (method, (slope, intercept)) in [("smc", report.smc), ("mh", report.mh)] {
        assert!((slope - 2.0).abs() < 0.3, "{method} slope {slope}");
        assert!(
            (intercept - 1.0).abs() < 1.0,
            "{method} intercept {intercept}"
        );
    }
    // do(x = 10): the reading is sensor(2 * 10 + 1) plus noise of sd 1.
    assert!(
        (report.at_ten - sensor(21.0)).abs() < 1.5,
        "{}",
        report.at_ten
    );
    // A reading of 15 = sensor(v) means v ≈ 15.8, so x ≈ (15.8 - 1) / 2 =
    // 7.4 from the likelihood alone; the N(5, 2) prior pulls it to ≈ 7.2.
    assert!(
        report.explained_input > 6.0 && report.explained_input < 8.5,
        "{}",
        report.explained_input
    );
    assert!(report.text.contains("SMC"));
    assert!(report.text.contains("do(x = 10)"));
}
