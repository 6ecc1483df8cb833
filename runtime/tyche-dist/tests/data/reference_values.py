"""Reference values for the distributions added with the registry, computed
once with SciPy (an implementation independent of tyche-dist) and stored in
reference_values.csv, which tests/registry_reference.rs reads.

Run: python3 reference_values.py > reference_values.csv   (SciPy >= 1.10)

Columns: family, parameters (';'-separated, in Tyche's order), value, log
density or mass, CDF. Tyche's parameterisations map onto SciPy's as noted.
"""
import numpy as np
from scipy import stats
from scipy.special import expit

rows = []


def add(name, params, x, logp, cdf):
    rows.append((name, ";".join(repr(float(p)) for p in params), repr(float(x)),
                 repr(float(logp)), repr(float(cdf))))


for sigma in [0.3, 1.0, 2.5]:
    d = stats.halfnorm(scale=sigma)
    for x in [0.0, 0.01, 0.7, 1.9, 6.0]:
        add("HalfNormal", [sigma], x, d.logpdf(x), d.cdf(x))

for scale in [0.5, 1.0, 5.0]:
    d = stats.halfcauchy(scale=scale)
    for x in [0.0, 0.2, 1.3, 40.0]:
        add("HalfCauchy", [scale], x, d.logpdf(x), d.cdf(x))

for mu, b in [(0.0, 1.0), (-2.0, 0.4), (3.5, 2.0)]:
    d = stats.laplace(loc=mu, scale=b)
    for x in [-4.0, -0.3, 0.0, 1.1, 5.0]:
        add("Laplace", [mu, b], x, d.logpdf(x), d.cdf(x))

for mu, s in [(0.0, 1.0), (1.5, 0.3), (-2.0, 4.0)]:
    d = stats.logistic(loc=mu, scale=s)
    for x in [-6.0, -0.5, 0.0, 1.4, 9.0]:
        add("Logistic", [mu, s], x, d.logpdf(x), d.cdf(x))

# Stan's neg_binomial_2(mu, phi) is SciPy's nbinom(n = phi, p = phi/(mu+phi)).
for mu, phi in [(3.0, 2.0), (0.5, 0.7), (20.0, 50.0), (7.5, 1.0)]:
    d = stats.nbinom(phi, phi / (mu + phi))
    for k in [0, 1, 4, 13, 40]:
        add("NegativeBinomial", [mu, phi], k, d.logpmf(k), d.cdf(k))

for alpha in [-3.0, -0.2, 0.0, 1.7, 8.0]:
    p = expit(alpha)
    for b in [0, 1]:
        d = stats.bernoulli(p)
        add("BernoulliLogit", [alpha], b, d.logpmf(b), d.cdf(b))

for alpha in [-1.0, 0.3, 2.2, 5.0]:
    d = stats.poisson(np.exp(alpha))
    for k in [0, 1, 3, 9, 150]:
        add("PoissonLog", [alpha], k, d.logpmf(k), d.cdf(k))

for n, alpha in [(10, 0.4), (1, -1.3), (50, 2.0), (200, -0.7)]:
    d = stats.binom(n, expit(alpha))
    for k in sorted({0, 1, n // 3, n // 2, n}):
        add("BinomialLogit", [n, alpha], k, d.logpmf(k), d.cdf(k))

for k, lam in [(0.7, 1.0), (1.5, 10.0), (3.0, 0.5)]:
    d = stats.weibull_min(k, scale=lam)
    for x in [0.05, 0.4, 1.0, 7.0, 15.0]:
        add("Weibull", [k, lam], x, d.logpdf(x), d.cdf(x))

# HalfStudentT(nu, sigma): twice the Student-t density on [0, ∞).
for nu, sigma in [(1.0, 1.0), (3.0, 2.5), (30.0, 0.4), (0.6, 1.0)]:
    d = stats.t(nu, loc=0.0, scale=sigma)
    for x in [0.0, 0.3, 1.0, 4.0, 50.0]:
        add("HalfStudentT", [nu, sigma], x, np.log(2.0) + d.logpdf(x), 2.0 * d.cdf(x) - 1.0)

print("family,params,x,log_density,cdf")
for r in rows:
    print(",".join(r))
