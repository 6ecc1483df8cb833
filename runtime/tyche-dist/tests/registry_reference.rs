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
    // Every standalone family has reference values (the vector-valued
    // ones in files of their own, below).
    for kind in DistKind::ALL
        .into_iter()
        .skip(17)
        .filter(|k| k.family().value != Type::RealArray)
    {
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

/// `MvNormalCholesky` against SciPy's `multivariate_normal` on `L Lᵀ`
/// (`data/mv_normal_cholesky.py`), dimensions 1 to 8, to 1e-12 relative.
#[test]
fn mv_normal_cholesky_matches_scipy() {
    let data = include_str!("data/mv_normal_cholesky.csv");
    let reals = |s: &str| -> Vec<f64> { s.split(';').map(|x| x.parse().unwrap()).collect() };
    let mut n = 0;
    for line in data.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (mu, l, x) = (reals(f[0]), reals(f[1]), reals(f[2]));
        let lp: f64 = f[3].parse().unwrap();
        let k = mu.len();
        let rows: Vec<Vec<f64>> = l.chunks(k).map(<[f64]>::to_vec).collect();
        let d = Dist::new(
            DistKind::MvNormalCholesky,
            &[Param::Vector(&mu), Param::Matrix(&rows)],
        )
        .unwrap();
        let got = d.log_prob(&Outcome::Vector(x.clone()));
        assert!(
            close(got, lp, 1e-12),
            "k = {k}, x = {x:?}: {got} vs SciPy {lp}"
        );
        n += 1;
    }
    assert_eq!(n, 45);
    // Invalid factors are refused with the parameter named.
    let e = Dist::new(
        DistKind::MvNormalCholesky,
        &[
            Param::Vector(&[0.0, 0.0]),
            Param::Matrix(&[vec![1.0, 0.0], vec![0.5, 0.0]]),
        ],
    )
    .unwrap_err();
    assert!(e.to_string().contains("L[1][1] = 0"), "{e}");
}

/// `MvNormalCholesky` draws have mean `mu` and covariance `L Lᵀ`, each
/// moment within 5 of its standard errors at 40,000 draws (for a normal:
/// SE of a mean √(Σᵢᵢ/n), of a covariance √((ΣᵢᵢΣⱼⱼ + Σᵢⱼ²)/n)).
#[test]
fn mv_normal_cholesky_samples_have_its_moments() {
    use rand::SeedableRng;
    let mu = [1.0, -2.0];
    // The upper entry is not read.
    let l = [vec![2.0, 99.0], vec![1.0, 0.5]];
    let d = Dist::new(
        DistKind::MvNormalCholesky,
        &[Param::Vector(&mu), Param::Matrix(&l)],
    )
    .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let n = 40_000;
    let draws: Vec<Vec<f64>> = (0..n)
        .map(|_| match d.sample(&mut rng) {
            Outcome::Vector(v) => v,
            other => panic!("{other:?}"),
        })
        .collect();
    // L Lᵀ.
    let sigma = [[4.0, 2.0], [2.0, 1.25]];
    let nf = n as f64;
    let means: Vec<f64> = (0..2)
        .map(|i| draws.iter().map(|x| x[i]).sum::<f64>() / nf)
        .collect();
    for i in 0..2 {
        let se = (sigma[i][i] / nf).sqrt();
        assert!(
            (means[i] - mu[i]).abs() < 5.0 * se,
            "mean {i}: {}",
            means[i]
        );
        for j in 0..2 {
            let c = draws
                .iter()
                .map(|x| (x[i] - means[i]) * (x[j] - means[j]))
                .sum::<f64>()
                / (nf - 1.0);
            let se = ((sigma[i][i] * sigma[j][j] + sigma[i][j] * sigma[i][j]) / nf).sqrt();
            assert!((c - sigma[i][j]).abs() < 5.0 * se, "cov {i}{j}: {c}");
        }
    }
}
