#!/usr/bin/env python3
"""Tyche's `--output-format cmdstan` files read by ArviZ and cmdstanpy.

Not run in CI (it needs ArviZ and cmdstanpy from PyPI):

    python3 -m venv /tmp/az && /tmp/az/bin/pip install arviz cmdstanpy
    cargo build --release -p tyche-cli
    /tmp/az/bin/python tests/interop/cmdstan_interop.py [path/to/tyche]

Runs examples/eight_schools.ppl with 4-chain MH, with SMC and with 4-chain
NUTS (whose files carry CmdStan's NUTS sampler columns), writes CmdStan
CSV files, loads them with `arviz.from_cmdstan` and `cmdstanpy.from_csv`,
and compares `az.summary` with `tyche summary --format json`: means to
1e-9 (relative), bulk/tail ESS and R-hat to 1%. Exits 1 on a mismatch.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import arviz as az
import cmdstanpy
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TYCHE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "tyche")
RUNS = {
    "mh": ["--method", "mh", "--chains", "4", "--samples", "4000", "--burn", "2000", "--seed", "1"],
    "smc": ["--method", "smc", "--particles", "2000", "--seed", "1"],
    "nuts": ["--method", "nuts", "--seed", "1"],
}


def arviz_name(tyche_name):
    """`eta.3` (CmdStan, 1-based) -> `eta[2]` (az.summary, 0-based)."""
    base, *idx = tyche_name.split(".")
    if not idx:
        return base
    return f"{base}[{', '.join(str(int(i) - 1) for i in idx)}]"


def close(a, b, rel):
    if a is None or b is None or (isinstance(b, float) and np.isnan(b)):
        return a is None or b is None or np.isnan(b)
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, flags in RUNS.items():
            out = os.path.join(tmp, f"{name}.csv")
            subprocess.run(
                [TYCHE, "run", os.path.join(ROOT, "examples/eight_schools.ppl"),
                 "--data", os.path.join(ROOT, "examples/eight_schools.data.json"),
                 "--output", out, "--output-format", "cmdstan", *flags],
                check=True, stdout=subprocess.DEVNULL)
            files = sorted(glob.glob(os.path.join(tmp, f"{name}_*.csv")))
            idata = az.from_cmdstan(posterior=files)
            fit = cmdstanpy.from_csv(files)
            summary = az.summary(idata, round_to="none")
            tyche = json.loads(subprocess.run([TYCHE, "summary", "--format", "json", *files],
                                              check=True, capture_output=True, text=True).stdout)
            if name == "nuts":
                # The sampler columns reach both readers.
                assert "diverging" in idata.sample_stats and "tree_depth" in idata.sample_stats
                assert fit.method_variables()["divergent__"].shape == fit.draws().shape[:2]
            print(f"{name}: {len(files)} file(s); cmdstanpy read {fit.draws().shape} "
                  f"(draws, chains, columns); ArviZ {dict(idata.posterior.sizes)}")
            worst = {"mean": 0.0, "ess_bulk": 0.0, "ess_tail": 0.0, "r_hat": 0.0}
            for p in tyche["parameters"]:
                row = summary.loc[arviz_name(p["name"])]
                checks = [("mean", p["mean"], row["mean"], 1e-9),
                          ("ess_bulk", p["ess_bulk"], row["ess_bulk"], 0.01),
                          ("ess_tail", p["ess_tail"], row["ess_tail"], 0.01),
                          ("r_hat", p["rhat"], row["r_hat"], 0.01)]
                # ArviZ gives no R-hat for one chain (SMC); Tyche splits it.
                for key, t, a, rel in checks:
                    if key == "r_hat" and np.isnan(a):
                        continue
                    if not close(t, float(a), rel):
                        failures += 1
                        print(f"  MISMATCH {p['name']} {key}: tyche {t} arviz {a}")
                    elif t is not None:
                        worst[key] = max(worst[key], abs(t - a) / max(abs(a), 1e-300))
                # cmdstanpy knows the variable (`result:1` is a tuple's field).
                assert re.split(r"[.:]", p["name"])[0] in fit.stan_variables()
            print(f"  largest relative differences: " +
                  ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    print("OK" if failures == 0 else f"{failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
