"""Reference log densities of MvNormalCholesky(mu, L), computed once with
SciPy's multivariate_normal (which factorises the covariance L Lᵀ itself:
an implementation independent of tyche-dist's forward substitution) and
stored in mv_normal_cholesky.csv, which tests/registry_reference.rs reads.

Run: python3 mv_normal_cholesky.py > mv_normal_cholesky.csv   (SciPy >= 1.10)

Columns: mu, L (row-major, upper triangle zero), x, each ';'-separated,
and the log density.
"""
import numpy as np
from scipy import stats

rng = np.random.default_rng(20261208)
print("mu,L,x,logpdf")
for k in [1, 2, 3, 5, 8]:
    for case in range(3):
        mu = rng.normal(0.0, 2.0, size=k)
        a = rng.normal(size=(k, k))
        cov = a @ a.T + (0.1 + case) * np.eye(k)
        L = np.linalg.cholesky(cov)
        for scale in [0.0, 1.0, 4.0]:
            x = mu + scale * rng.normal(size=k)
            lp = stats.multivariate_normal(mean=mu, cov=L @ L.T).logpdf(x)
            row = [";".join(repr(float(v)) for v in mu),
                   ";".join(repr(float(v)) for v in L.reshape(-1)),
                   ";".join(repr(float(v)) for v in x),
                   repr(float(lp))]
            print(",".join(row))
