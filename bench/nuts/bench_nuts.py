"""NUTS on four posteriordb posteriors: Stan (pystan), NumPyro and Tyche in one run.

For each model and tool: compile time, sampling time, min bulk ESS over the
reference's parameters (ArviZ on every tool's draws), min bulk ESS per
second of sampling, time to a first posterior (compile + sampling), and the
worst distance of a posterior mean from the posteriordb reference, in
reference sds (must be at most 0.1). See README.md for what each number
means and how it is measured.

Run by run.sh, which sets up the virtualenv; by hand:
    .venv/bin/python bench_nuts.py --tyche ../../target/release/tyche [--models a,b] [--tools stan,numpyro,tyche]
"""

import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import warnings

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)

# NumPyro runs its 4 chains in parallel on 4 host "devices"; this must be set
# before jax is imported.
import numpyro

numpyro.set_host_device_count(4)
# Double precision, as Stan and Tyche compute.
numpyro.enable_x64()

import arviz as az  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from numpyro.infer import MCMC, NUTS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "examples", "posteriordb")

CHAINS = 4
WARMUP = 1000
DRAWS = 1000
MODELS = ["eight_schools_noncentered", "kidscore_momiq", "arK", "hmm_example"]
# The data items each Stan program declares (the data files hold extra keys).
STAN_DATA = {
    "eight_schools_noncentered": ["J", "y", "sigma"],
    "kidscore_momiq": ["N", "kid_score", "mom_iq"],
    "arK": ["K", "T", "y"],
    "hmm_example": ["N", "K", "y"],
}


# ---------------------------------------------------------------- NumPyro models
# Written to define the same posteriors as the Stan programs in stan/.


def np_eight_schools_noncentered(J, y, sigma):
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("J", J):
        theta_trans = numpyro.sample("theta_trans", dist.Normal(0.0, 1.0))
        theta = numpyro.deterministic("theta", mu + tau * theta_trans)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def np_kidscore_momiq(N, kid_score, mom_iq):
    # Flat priors on beta, as in Stan.
    beta = numpyro.sample("beta", dist.ImproperUniform(dist.constraints.real, (), (2,)))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
    with numpyro.plate("N", N):
        numpyro.sample("kid_score", dist.Normal(beta[0] + beta[1] * mom_iq, sigma), obs=kid_score)


def np_arK(K, T, y):
    alpha = numpyro.sample("alpha", dist.Normal(0.0, 10.0))
    beta = numpyro.sample("beta", dist.Normal(0.0, 10.0).expand([K]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
    # lags[t - K, k] = y[t - k - 1] for t = K .. T-1 (0-based).
    lags = jnp.stack([y[K - k - 1 : T - k - 1] for k in range(K)], axis=1)
    mu = alpha + lags @ beta
    numpyro.sample("y", dist.Normal(mu, sigma).to_event(1), obs=y[K:])


def np_hmm_example(N, K, y):
    theta1 = numpyro.sample("theta1", dist.Dirichlet(jnp.ones(K)))
    theta2 = numpyro.sample("theta2", dist.Dirichlet(jnp.ones(K)))
    mu = numpyro.sample(
        "mu", dist.ImproperUniform(dist.constraints.positive_ordered_vector, (), (K,))
    )
    numpyro.factor("mu_prior", dist.Normal(3.0, 1.0).log_prob(mu[0]) + dist.Normal(10.0, 1.0).log_prob(mu[1]))
    log_theta = jnp.log(jnp.stack([theta1, theta2]))  # [from, to]
    emit = dist.Normal(mu[None, :], 1.0).log_prob(y[:, None])  # [t, state]

    def step(gamma, e):
        return jax.nn.logsumexp(gamma[:, None] + log_theta, axis=0) + e, None

    gamma, _ = jax.lax.scan(step, emit[0], emit[1:])
    numpyro.factor("forward", jax.nn.logsumexp(gamma))


NUMPYRO_MODELS = {
    "eight_schools_noncentered": np_eight_schools_noncentered,
    "kidscore_momiq": np_kidscore_momiq,
    "arK": np_arK,
    "hmm_example": np_hmm_example,
}


# ---------------------------------------------------------------- draws → reference names
# Every tool's draws become {reference name: array [chain, draw]}, over the
# reference summary's parameters, so min ESS is taken over the same set.


def from_arrays(named, ref_names):
    """named: {stan-style base name: array [chain, draw, *dims]} → {"theta[1]": [chain, draw], ...}."""
    out = {}
    for ref in ref_names:
        if "[" in ref:
            base, idx = ref[:-1].split("[")
            out[ref] = np.asarray(named[base])[:, :, int(idx) - 1]
        else:
            out[ref] = np.asarray(named[ref])
    return out


def tyche_names(model, cols):
    """Reference name → [chain, draw] array, from the CmdStan columns of the
    model's result tuple (`result:I` and `result:I.J`, 1-based)."""

    def r(i, j=None):
        return cols[f"result:{i}" if j is None else f"result:{i}.{j}"]

    if model == "eight_schools_noncentered":
        m = {"mu": r(1), "tau": r(2)}
        for j in range(1, 9):
            m[f"theta[{j}]"] = r(3, j)
        return m
    if model == "kidscore_momiq":
        return {"beta[1]": r(1), "beta[2]": r(2), "sigma": r(3)}
    if model == "arK":
        m = {"alpha": r(1), "sigma": r(3)}
        for k in range(1, 6):
            m[f"beta[{k}]"] = r(2, k)
        return m
    if model == "hmm_example":
        return {
            "theta1[1]": r(1),
            "theta1[2]": 1.0 - r(1),
            "theta2[1]": r(2),
            "theta2[2]": 1.0 - r(2),
            "mu[1]": r(3),
            "mu[2]": r(4),
        }
    raise KeyError(model)


# ---------------------------------------------------------------- tools


class OutputToFile:
    """Sends file descriptors 1 and 2 to a file: pystan's messages and the
    C++ compiler's warnings (printed by a child process) go to a log, not
    the table."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.log = open(self.path, "w")
        self.saved = (os.dup(1), os.dup(2))
        os.dup2(self.log.fileno(), 1)
        os.dup2(self.log.fileno(), 2)

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        os.close(self.saved[0])
        os.close(self.saved[1])
        self.log.close()


def run_stan(model, data, delta, seed, workdir):
    import stan

    code = open(os.path.join(HERE, "stan", model + ".stan")).read()
    sdata = {k: data[k] for k in STAN_DATA[model]}
    # httpstan compiles in a build/ folder under the current directory.
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        with OutputToFile(os.path.join(workdir, model + ".stan.log")):
            t0 = time.perf_counter()
            posterior = stan.build(code, data=sdata, random_seed=seed)
            t1 = time.perf_counter()
            fit = posterior.sample(num_chains=CHAINS, num_warmup=WARMUP, num_samples=DRAWS, delta=delta)
            t2 = time.perf_counter()
    finally:
        os.chdir(cwd)
    named = {}
    for name, dims in zip(fit.param_names, fit.dims):
        # fit[name] is [*dims, draws * chains], draw-major (index draw * chains + chain).
        a = np.moveaxis(np.asarray(fit[name]), -1, 0)
        a = a.reshape((DRAWS, CHAINS) + tuple(dims)).swapaxes(0, 1)
        named[name] = a
    divergent = int(np.sum(fit["divergent__"]))
    steps = float(np.mean(fit["n_leapfrog__"]))
    return t1 - t0, t2 - t1, named, divergent, steps


class CompileClock:
    """Wall time JAX spends compiling: tracing, lowering to MLIR, XLA compilation.

    JAX reports each of these as a duration when it ends; the callback turns
    each into an interval [end - duration, end], and the union of intervals is
    the compile time (nested traces are counted once)."""

    def __init__(self):
        self.spans = []
        jax.monitoring.register_event_duration_secs_listener(self._on)

    def _on(self, event, duration, **_):
        if event.startswith("/jax/core/compile/"):
            end = time.perf_counter()
            self.spans.append((end - duration, end))

    def total(self, since):
        spans = sorted((max(a, since), b) for a, b in self.spans if b > since)
        tot, cur_a, cur_b = 0.0, None, None
        for a, b in spans:
            if cur_b is None or a > cur_b:
                if cur_b is not None:
                    tot += cur_b - cur_a
                cur_a, cur_b = a, b
            else:
                cur_b = max(cur_b, b)
        if cur_b is not None:
            tot += cur_b - cur_a
        return tot


COMPILE_CLOCK = None


def run_numpyro(model, data, delta, seed):
    global COMPILE_CLOCK
    if COMPILE_CLOCK is None:
        COMPILE_CLOCK = CompileClock()
    fn = NUMPYRO_MODELS[model]
    args = {k: (jnp.asarray(v, dtype=jnp.float64) if isinstance(v, list) else v) for k, v in data.items() if k in STAN_DATA[model]}
    kernel = NUTS(fn, target_accept_prob=delta)
    mcmc = MCMC(kernel, num_warmup=WARMUP, num_samples=DRAWS, num_chains=CHAINS, chain_method="parallel", progress_bar=False)
    # First run: compilation + sampling. Second run (same MCMC object, new
    # key). With chain_method="parallel" NumPyro wraps each run in a fresh
    # pmap, so the second run compiles again, and "first minus second" is
    # about 0: the compile time is what JAX reports (CompileClock), and the
    # sampling time is the second run's wall time minus its compile time.
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), **args, extra_fields=("diverging", "num_steps"))
    jax.block_until_ready(mcmc.get_samples())
    t1 = time.perf_counter()
    comp1 = COMPILE_CLOCK.total(t0)
    mcmc.run(jax.random.PRNGKey(seed + 1), **args, extra_fields=("diverging", "num_steps"))
    jax.block_until_ready(mcmc.get_samples())
    t2 = time.perf_counter()
    comp2 = COMPILE_CLOCK.total(t1)
    first, second = t1 - t0, t2 - t1
    samples = mcmc.get_samples(group_by_chain=True)
    named = {k: np.asarray(v, dtype=np.float64) for k, v in samples.items()}
    divergent = int(np.sum(mcmc.get_extra_fields()["diverging"]))
    steps = float(np.mean(mcmc.get_extra_fields()["num_steps"]))
    note = (f"numpyro runs: first {first:.2f} s (compile {comp1:.2f}), second {second:.2f} s (compile {comp2:.2f}); "
            f"first - second = {first - second:.2f} s")
    return comp1, second - comp2, named, divergent, steps, note


def run_tyche(tyche, model, delta, seed, workdir):
    ppl = os.path.join(EXAMPLES, model + ".ppl")
    data = os.path.join(EXAMPLES, model + ".data.json")
    base = [tyche, "run", ppl, "--data", data, "--method", "nuts", "--chains", str(CHAINS),
            "--target-accept", str(delta), "--seed", str(seed)]
    # Start-up: the same command with 1 warm-up iteration and 1 draw (process
    # start, parse, type check, lowering, native code generation, data binding).
    t0 = time.perf_counter()
    subprocess.run(base + ["--warmup", "1", "--samples", "1"], check=True, stdout=subprocess.DEVNULL)
    t1 = time.perf_counter()
    prefix = os.path.join(workdir, model + ".csv")
    t2 = time.perf_counter()
    subprocess.run(base + ["--warmup", str(WARMUP), "--samples", str(DRAWS), "--output-format", "cmdstan",
                           "--output", prefix], check=True, stdout=subprocess.DEVNULL)
    t3 = time.perf_counter()
    startup, total = t1 - t0, t3 - t2
    # One CmdStan CSV per chain: PREFIX_1.csv … PREFIX_4.csv.
    chains = []
    for c in range(1, CHAINS + 1):
        with open(os.path.join(workdir, f"{model}_{c}.csv")) as f:
            rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
        assert len(rows) == DRAWS, f"chain {c}: {len(rows)} draws"
        chains.append({k: np.array([float(r[k]) for r in rows]) for k in rows[0].keys()})
    cols = {k: np.stack([ch[k] for ch in chains]) for k in chains[0]}
    divergent = int(np.sum(cols["divergent__"]))
    steps = float(np.mean(cols["n_leapfrog__"]))
    return startup, max(total - startup, 0.0), cols, divergent, steps


# ---------------------------------------------------------------- diagnostics


def summarise(draws, ref):
    """draws: {ref name: [chain, draw]} → (min bulk ESS, its parameter, worst |mean − ref| / sd, its parameter)."""
    idata = az.from_dict(posterior={k: v for k, v in draws.items()})
    ess = az.ess(idata, method="bulk")
    ess_by = {k: float(ess[k].values) for k in draws}
    worst_ess = min(ess_by, key=ess_by.get)
    dev = {k: abs(float(np.mean(v)) - ref[k]["mean"]) / ref[k]["sd"] for k, v in draws.items()}
    worst_dev = max(dev, key=dev.get)
    return ess_by[worst_ess], worst_ess, dev[worst_dev], worst_dev


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tyche", default=os.path.join(ROOT, "target", "release", "tyche"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--tools", default="stan,numpyro,tyche")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tools = args.tools.split(",")
    workdir = tempfile.mkdtemp(prefix="tyche-nutsbench-")
    print(f"work directory (draws, logs): {workdir}")
    print(f"chains {CHAINS}, warm-up {WARMUP}, draws {DRAWS} per chain; seed {args.seed}")
    print("versions: " + ", ".join(f"{m} {__import__(m).__version__}" for m in ("stan", "httpstan", "numpyro", "jax", "arviz")
                                   if _importable(m)))
    header = f"{'model':<26} {'tool':<8} {'compile_s':>9} {'sample_s':>9} {'first_s':>8} {'min_ess':>8} {'ess/s':>8} {'worst_mean_dev':>14}  {'min_ess_param':<12} {'mean_dev_param':<12} {'div':>4} {'steps':>6} mean_ok"
    rows = {}
    for model in args.models.split(","):
        data = json.load(open(os.path.join(EXAMPLES, model + ".data.json")))
        refj = json.load(open(os.path.join(EXAMPLES, model + ".reference.json")))
        ref = refj["params"]
        delta = refj["reference_method"]["method_arguments"].get("control", {}).get("adapt_delta", 0.8)
        print(f"\n== {model} (adapt_delta / target acceptance {delta})", flush=True)
        print(header)
        for tool in tools:
            try:
                if tool == "stan":
                    comp, samp, named, div, steps = run_stan(model, data, delta, args.seed, workdir)
                    draws = from_arrays(named, ref.keys())
                elif tool == "numpyro":
                    comp, samp, named, div, steps, note = run_numpyro(model, data, delta, args.seed)
                    print("  " + note, flush=True)
                    draws = from_arrays(named, ref.keys())
                elif tool == "tyche":
                    comp, samp, cols, div, steps = run_tyche(args.tyche, model, delta, args.seed, workdir)
                    draws = tyche_names(model, cols)
                else:
                    raise SystemExit(f"unknown tool {tool}")
            except Exception as e:  # report and go on with the other tools
                print(f"{model:<26} {tool:<8} FAILED: {type(e).__name__}: {e}", flush=True)
                continue
            ess, ess_p, dev, dev_p = summarise(draws, ref)
            r = dict(compile=comp, sample=samp, first=comp + samp, ess=ess, ess_s=ess / samp, dev=dev)
            rows[(model, tool)] = r
            divs = str(div)
            print(f"{model:<26} {tool:<8} {comp:9.3f} {samp:9.2f} {comp + samp:8.2f} {ess:8.0f} {ess / samp:8.0f} {dev:14.3f}  {ess_p:<12} {dev_p:<12} {divs:>4} {steps:6.1f} {'ok' if dev <= 0.1 else 'MISS'}", flush=True)

    print("\n== ratios, Tyche / other (ESS/s: above 1 means Tyche is better; first posterior: below 1 means Tyche is faster)")
    print(f"{'model':<26} {'vs':<8} {'ess/s ratio':>11} {'target':>7} {'first_s ratio':>13} {'target':>7}")
    for model in args.models.split(","):
        t = rows.get((model, "tyche"))
        for other, ess_target in (("stan", 2.0), ("numpyro", 1.0)):
            o = rows.get((model, other))
            if not t or not o:
                continue
            er = t["ess_s"] / o["ess_s"]
            fr = t["first"] / o["first"]
            print(f"{model:<26} {other:<8} {er:11.2f} {'>=' + str(ess_target):>7} {fr:13.3f} {'<=0.1':>7}  "
                  f"{'met' if er >= ess_target else 'not met'} / {'met' if fr <= 0.1 else 'not met'}")


def _importable(m):
    try:
        __import__(m)
        return True
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(main())
