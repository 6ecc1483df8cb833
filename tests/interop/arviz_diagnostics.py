#!/usr/bin/env python3
"""Reference values for Tyche's MCMC diagnostics, computed by ArviZ.

Not run in CI. Generates the fixed draw sets that
`runtime/tyche-infer/src/stats.rs` (test `diagnostics_match_arviz`) builds
with the same generator, computes ArviZ's rank-normalised R-hat, bulk and
tail ESS, ESS of the mean, MCSE of the mean and sd, and quantiles, and
prints them as Rust literals to paste into that test.

    python3 -m venv /tmp/az && /tmp/az/bin/pip install arviz
    /tmp/az/bin/python tests/interop/arviz_diagnostics.py

The generator (splitmix64, uniforms from the top 53 bits, a normal-like
variate as the sum of 12 uniforms minus 6, AR(1) recursions) uses only
exactly-rounded IEEE operations, so Python and Rust produce bit-identical
draws.
"""
import arviz as az
import numpy as np
from arviz.stats.diagnostics import _rhat, _split_chains, _z_scale

MASK = (1 << 64) - 1


class SplitMix:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def normalish(self):
        s = 0.0
        for _ in range(12):
            s += self.uniform()
        return s - 6.0


def ar1(seed, n, phi, offset):
    g = SplitMix(seed)
    x = 0.0
    out = []
    for _ in range(n):
        x = phi * x + g.normalish()
        out.append(x + offset)
    return out


def draw_sets():
    """The same sets as `draw_sets()` in stats.rs."""
    sets = {}
    sets["mixed"] = [ar1(100 + k, 500, 0.5, 0.0) for k in range(4)]
    sets["stuck"] = [ar1(200 + k, 501, 0.9, 0.3 * k) for k in range(4)]
    sets["heavy"] = [[x * x * x for x in ar1(300, 201, 0.3, 0.0)]]
    sets["ties"] = [[float(np.floor(2.0 * x)) for x in ar1(400 + k, 300, 0.7, 0.0)] for k in range(2)]
    return sets


def rhat_one_or_more(ary):
    # ArviZ needs two chains for R-hat; Tyche, like Stan, splits one chain.
    if ary.shape[0] >= 2:
        return float(az.rhat(ary, method="rank"))
    split = _split_chains(ary)
    bulk = _rhat(_z_scale(split))
    folded = np.abs(split - np.median(split))
    return float(max(bulk, _rhat(_z_scale(folded))))


def main():
    for name, chains in draw_sets().items():
        ary = np.array(chains)
        vals = {
            "rhat": rhat_one_or_more(ary),
            "ess_bulk": float(az.ess(ary, method="bulk")),
            "ess_tail": float(az.ess(ary, method="tail")),
            "ess_mean": float(az.ess(ary, method="mean")),
            "mcse_mean": float(az.mcse(ary, method="mean")),
            "mcse_sd": float(az.mcse(ary, method="sd")),
            "mean": float(ary.mean()),
            "sd": float(ary.std(ddof=1)),
            "q5": float(np.quantile(ary, 0.05)),
            "q50": float(np.quantile(ary, 0.5)),
            "q95": float(np.quantile(ary, 0.95)),
        }
        fields = ", ".join(f"{k}: {v!r}" for k, v in vals.items())
        print(f'("{name}", Expected {{ {fields} }}),')
        # az.summary agrees with the functions above (for even lengths).
        if ary.shape[0] >= 2 and ary.shape[1] % 2 == 0:
            s = az.summary(az.convert_to_dataset(ary), round_to="none")
            row = s.iloc[0]
            for key, col in [("ess_bulk", "ess_bulk"), ("ess_tail", "ess_tail"), ("rhat", "r_hat"),
                             ("mcse_mean", "mcse_mean"), ("mcse_sd", "mcse_sd"), ("mean", "mean"), ("sd", "sd")]:
                assert abs(row[col] - vals[key]) <= 1e-9 * max(1.0, abs(vals[key])), (name, key, row[col], vals[key])
        print(f"//   first draws of {name}: {chains[0][:3]!r}")


if __name__ == "__main__":
    main()
