//! The distributions added with the registry against SciPy: log densities
//! and CDFs at the points of `data/reference_values.csv` (produced once by
//! `data/reference_values.py`), to 1e-12 relative. Also: every quantile
//! inverts its CDF, and every family's registry entry is consistent.

use tyche_dist::family::Type;
use tyche_dist::{Dist, DistKind, Outcome, Param};

const DATA: &str = include_str!("data/reference_values.csv");

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * b.abs()
}

fn outcome(kind: DistKind, x: f64) -> Outcome {
    match kind.family().value {
        Type::Real => Outcome::Real(x),
        Type::Int => Outcome::Int(x as i64),
        Type::Bool => Outcome::Bool(x != 0.0),
        _ => unreachable!(),
    }
}

fn build(kind: DistKind, params: &[f64]) -> Dist {
    let ps: Vec<Param> = kind
        .family()
        .params
        .iter()
        .zip(params)
        .map(|(p, &x)| match p.ty {
            Type::Int => Param::Int(x as i64),
            _ => Param::Real(x),
        })
        .collect();
    Dist::new(kind, &ps).unwrap_or_else(|e| panic!("{kind}{params:?}: {e}"))
}

fn rows() -> Vec<(DistKind, Vec<f64>, f64, f64, f64)> {
    DATA.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let kind = DistKind::from_name(f[0]).unwrap_or_else(|| panic!("unknown {}", f[0]));
            let params = f[1].split(';').map(|p| p.parse().unwrap()).collect();
            let num = |s: &str| s.parse::<f64>().unwrap();
            (kind, params, num(f[2]), num(f[3]), num(f[4]))
        })
        .collect()
}

#[test]
fn log_densities_and_cdfs_match_scipy() {
    let rows = rows();
    assert!(rows.len() > 100);
    let mut seen = std::collections::HashSet::new();
    for (kind, params, x, lp, cdf) in rows {
        seen.insert(kind);
        let d = build(kind, &params);
        let o = outcome(kind, x);
        let got = d.log_prob(&o);
        assert!(
            close(got, lp, 1e-12),
            "{kind}{params:?} log_prob({x}) = {got}, SciPy {lp}"
        );
        let c = d.cdf(&o).expect("a CDF");
        assert!(
            close(c, cdf, 1e-12),
            "{kind}{params:?} cdf({x}) = {c}, SciPy {cdf}"
        );
    }
    // Every standalone family has reference values.
    for kind in DistKind::ALL.into_iter().skip(17) {
        assert!(seen.contains(&kind), "{kind} has no reference values");
    }
}

#[test]
fn quantiles_invert_cdfs() {
    for (kind, params, ..) in rows() {
        let d = build(kind, &params);
        for u in [1e-9, 0.01, 0.3, 0.5, 0.77, 0.99] {
            let q = d.quantile(u).expect("a quantile");
            let c = d.cdf(&q).unwrap();
            if kind.is_discrete() {
                // The smallest value whose CDF reaches u.
                assert!(
                    c >= u * (1.0 - 1e-12),
                    "{kind}{params:?}: cdf(quantile({u})) = {c}"
                );
                let prev = match q {
                    Outcome::Int(k) => Outcome::Int(k - 1),
                    Outcome::Bool(true) => Outcome::Bool(false),
                    Outcome::Bool(false) => continue,
                    _ => unreachable!(),
                };
                if !matches!(prev, Outcome::Int(-1)) {
                    assert!(
                        d.cdf(&prev).unwrap() < u,
                        "{kind}{params:?}: quantile({u}) not smallest"
                    );
                }
            } else {
                assert!(
                    close(c, u, 1e-9),
                    "{kind}{params:?}: cdf(quantile({u})) = {c}"
                );
            }
        }
    }
}
