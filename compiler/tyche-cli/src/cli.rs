//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "tyche",
    version,
    about = "Tyche: a typed probabilistic programming language"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run inference on a model and summarise its posterior.
    Run(RunArgs),
    /// Parse and type check a program; print diagnostics.
    Check(CheckArgs),
    /// Draw a model's dependency structure (random choices, observations, return value) as Graphviz DOT.
    Graph(GraphArgs),
    /// Interactive modelling: definitions, expressions and `:` commands.
    Repl(ReplArgs),
    /// Compile a program to a standalone native executable that takes `tyche run`'s options.
    Build(BuildArgs),
    /// Summarise draws saved by `tyche run --output` (Tyche or CmdStan CSV): mean, MCSE, sd, quantiles, bulk and tail ESS, R-hat per parameter.
    Summary(SummaryArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One CSV: `chain`, `draw`, `log_weight`, the result's and the choices' columns.
    Tyche,
    /// One CSV per chain in CmdStan's layout (FILE_1.csv, FILE_2.csv, …), for ArviZ, cmdstanpy and posterior.
    Cmdstan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Interp,
    Jit,
    Auto,
}

impl From<BackendArg> for tyche_engine::Backend {
    fn from(b: BackendArg) -> tyche_engine::Backend {
        match b {
            BackendArg::Interp => tyche_engine::Backend::Interpreter,
            BackendArg::Jit => tyche_engine::Backend::Jit,
            BackendArg::Auto => tyche_engine::Backend::Auto,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    Enumerate,
    Rejection,
    Importance,
    Smc,
    Mh,
    Pmmh,
    Hmc,
    Nuts,
}

impl MethodArg {
    /// The inference method the flag names.
    pub fn method(self) -> tyche_infer::Method {
        use tyche_infer::Method;
        match self {
            MethodArg::Enumerate => Method::Enumerate,
            MethodArg::Rejection => Method::Rejection,
            MethodArg::Importance => Method::Importance,
            MethodArg::Smc => Method::Smc,
            MethodArg::Mh => Method::Mh,
            MethodArg::Pmmh => Method::Pmmh,
            MethodArg::Hmc => Method::Hmc,
            MethodArg::Nuts => Method::Nuts,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The syntax tree.
    Ast,
    /// The Cranelift IR of the model's log-density kernel.
    Clif,
    /// The model cut at its observations: the step programs SMC runs.
    Steps,
    /// The log density on unconstrained coordinates that NUTS and HMC differentiate (reverse mode), with each coordinate's transform.
    Grad,
    /// The type of every top-level item.
    Types,
    /// The intermediate representation.
    Ir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ResamplerArg {
    Systematic,
    Multinomial,
    Stratified,
    Residual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProposalArg {
    /// A random walk per continuous choice, its scale tuned during burn-in.
    Adaptive,
    /// Redraw the picked choice from its prior.
    Prior,
    /// A random walk with the fixed scale --drift-scale.
    Drift,
}

/// `--params`: which quantities the report summarises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ParamsArg {
    /// The model's return value.
    Result,
    /// The return value and every choice, by address.
    All,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The program (`.ppl`).
    pub file: PathBuf,
    /// The zero-argument function to infer.
    #[arg(long, default_value = "model")]
    pub model: String,
    /// Inference method (default: enumerate when every choice is finite and discrete; nuts when every choice is continuous, or discrete with local influence and summed out, and the model's structure is fixed by its data; else smc with rejuvenation moves).
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Particles for smc (and pmmh's inner smc); runs for importance and rejection.
    #[arg(long)]
    pub particles: Option<usize>,
    /// Kept draws per chain for mh, pmmh, nuts and hmc (default 1000); runs for importance and rejection.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Burn-in steps per chain for mh and pmmh.
    #[arg(long)]
    pub burn: Option<usize>,
    /// Keep every k-th mh sample.
    #[arg(long, default_value_t = 1)]
    pub thin: usize,
    /// Independent MCMC chains, run in parallel (default: 4 for nuts and hmc, 1 for mh and pmmh).
    #[arg(long)]
    pub chains: Option<usize>,
    /// Warm-up iterations per chain for nuts and hmc (step size and metric adaptation; not kept).
    #[arg(long)]
    pub warmup: Option<usize>,
    /// The mean acceptance statistic nuts and hmc adapt their step size toward, in (0, 1).
    #[arg(long, default_value_t = 0.8)]
    pub target_accept: f64,
    /// The maximum tree depth of nuts (at most 2^D leapfrog steps per iteration).
    #[arg(long, default_value_t = 10)]
    pub max_depth: u32,
    /// Random seed; the same seed gives the same output.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Resampling scheme for smc.
    #[arg(long, value_enum, default_value = "systematic")]
    pub resampler: ResamplerArg,
    /// Resample only when ESS/N falls below this fraction, in (0, 1] (default: after every observation).
    #[arg(long, allow_negative_numbers = true, value_parser = crate::guard::parse_fraction)]
    pub ess_threshold: Option<f64>,
    /// MH rejuvenation moves per particle after each resampling (resample-move SMC).
    #[arg(long, default_value_t = 0)]
    pub rejuvenate: usize,
    /// How mh proposes a continuous choice (discrete ones are redrawn from their prior); smc's rejuvenation and pmmh use the prior unless drift is asked for.
    #[arg(long, value_enum, default_value = "adaptive")]
    pub proposal: ProposalArg,
    /// The random-walk scale of --proposal drift.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub drift_scale: f64,
    /// JSON file binding the program's `data` items.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Intervene: `NAME=VALUE` or `NAME[i]=VALUE`.
    #[arg(long = "do", value_name = "NAME=VALUE")]
    pub interventions: Vec<String>,
    /// Condition a choice on a value.
    #[arg(long = "observe", value_name = "NAME=VALUE")]
    pub observations: Vec<String>,
    /// Ask the counterfactual question with this intervention.
    #[arg(long = "counterfactual", value_name = "NAME=VALUE")]
    pub counterfactuals: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// What gets a summary table row: `result` (the model's return value, the default) or `all` (also every choice, by address: mean, MCSE, sd, quantiles, ESS, R-hat — as Stan lists every parameter).
    #[arg(long, value_enum, default_value = "result")]
    pub params: ParamsArg,
    /// Write one CSV row per draw to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Layout of `--output`.
    #[arg(long, value_enum, default_value = "tyche")]
    pub output_format: OutputFormat,
    /// With `--format json`: include every draw (`"draw_table"`, the `--output` CSV's columns).
    #[arg(long)]
    pub draws: bool,
    /// Write a figure to this SVG file: a histogram or bar chart per parameter (result components and choices), and trace and rank plots for MCMC chains.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// With `--plot`: add a scatter plot of two parameters, named as the figure's panels (`mu,tau`, `result.0,eta[2]`).
    #[arg(long, value_name = "A,B")]
    pub plot_pair: Option<String>,
    /// What runs the model: `jit` native code (MH and SMC on the compiled density of a static model, enumeration on the whole model compiled) or an error saying why not, `interp` the interpreter, `auto` native code where it can and pays.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// Stop with an error when the run takes longer than this many seconds.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = crate::guard::parse_timeout)]
    pub timeout: Option<f64>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The program (`.ppl`).
    pub file: PathBuf,
    /// Print an intermediate form after checking.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// The model whose kernel `--emit clif` prints.
    #[arg(long, default_value = "model")]
    pub model: String,
    /// JSON file binding `data` items (for `--emit clif`, whose kernel is
    /// specialised to the data).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ReplArgs {
    /// A program to load at the start (as `:load FILE`).
    pub file: Option<PathBuf>,
    /// JSON file binding the program's `data` items (as `:data FILE.json`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed of evaluations and `:infer` (as `:seed N`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The program (`.ppl`).
    pub file: PathBuf,
    /// The executable to write.
    #[arg(short = 'o', long = "output", value_name = "EXE")]
    pub output: PathBuf,
    /// JSON file binding `data` items at build time: kernels are compiled ahead of time for these data (the executable still reads `--data` when it runs; other data use the JIT).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The executable's default `--model`; only its kernel is compiled ahead of time (default: `model`, and every zero-argument function's kernel).
    #[arg(long)]
    pub model: Option<String>,
    /// The runtime static library to link (default: $TYCHE_RUNTIME_LIB, else `libtyche_rt.a` beside `tyche` or in the user cache, built once from Tyche's source if missing).
    #[arg(long, value_name = "FILE.a")]
    pub runtime_lib: Option<PathBuf>,
}

/// `tyche graph FILE [--model NAME] [--do NAME=VALUE]… [--observe NAME=VALUE]… [--counterfactual NAME=VALUE]… [-o OUT.dot]`
#[derive(Args, Debug)]
pub struct GraphArgs {
    /// The program (`.ppl`).
    pub file: PathBuf,
    /// The zero-argument function whose structure to draw.
    #[arg(long, default_value = "model")]
    pub model: String,
    /// Intervene before drawing: `NAME=VALUE` or `NAME[i]=VALUE`.
    #[arg(long = "do", value_name = "NAME=VALUE")]
    pub interventions: Vec<String>,
    /// Condition a choice on a value before drawing.
    #[arg(long = "observe", value_name = "NAME=VALUE")]
    pub observations: Vec<String>,
    /// Draw the twin network of this counterfactual question.
    #[arg(long = "counterfactual", value_name = "NAME=VALUE")]
    pub counterfactuals: Vec<String>,
    /// JSON file binding the program's `data` items (only used to print
    /// the values of interventions that depend on data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Write the graph here instead of standard output, in the format of
    /// the extension: `.dot`/`.gv` DOT text, `.svg`, `.png` or `.pdf`
    /// rendered by Graphviz's `dot` (an error if it is missing or fails).
    #[arg(short = 'o', long = "output", value_name = "OUT.dot|svg|png|pdf")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// CSV files written by `tyche run --output` (Tyche's layout or `--output-format cmdstan`) or by CmdStan.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}
