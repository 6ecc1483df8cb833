//! `--plot FILE.svg`: a figure of the posterior, drawn with `plotters`'
//! SVG backend (no bitmap backend, no system fonts: text is emitted as
//! SVG `<text>` elements and laid out by the viewer).
//!
//! One panel per parameter, never capped: every scalar component of the
//! result (`result`, `result.0`, `result[3]`, …) and every scalar of every
//! recorded choice (`mu`, `eta[2]`; a choice name drawn once per run drops
//! its occurrence index), titled by that name. `Real` parameters get a
//! weighted density histogram whose range is the weighted 0.5%–99.5%
//! quantile range (the mass outside is said in the title), `Int`, `Bool`
//! and `String` ones a bar chart of probabilities (`Int` tables with many
//! distinct values are binned like numbers instead). For MCMC runs each
//! numeric parameter's row adds a trace plot (every chain, one colour
//! each, value against iteration) and a rank plot (per chain, the
//! histogram of the draws' ranks among all draws: flat when the chains
//! mix). On request ([`PlotOptions::pair`]) a scatter plot of two
//! parameters ends the figure. Panels are laid out three to a row, on as
//! many rows as needed.

use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::*;
use tyche_ir::Type;
use tyche_vm::Value;

use crate::summary::{histogram_bins, table_stats, NumberSummary, Summary};
use crate::{normalized_weights, summarize, Draws, RunInfo};

/// Formerly the most component panels in one figure; figures are no
/// longer capped (kept for API compatibility: `usize::MAX`).
pub const MAX_COMPONENTS: usize = usize::MAX;
/// Weighted quantiles bounding a histogram's range.
const HISTOGRAM_RANGE: (f64, f64) = (0.005, 0.995);
/// Most bins of a rank plot.
const RANK_BINS: usize = 20;
/// Most bars in a bar chart (the most probable values are kept).
const MAX_BARS: usize = 20;
/// Size of one panel in pixels.
const PANEL: (u32, u32) = (440, 300);
/// Height of the figure's title strip.
const TITLE_HEIGHT: u32 = 40;

const BAR_COLOR: RGBColor = RGBColor(70, 110, 180);
const CHAIN_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// What one panel shows.
enum Panel {
    /// Density histogram of a numeric component (at `path` in the result,
    /// for [`refine_histograms`]; `None` for binned `Int` tables).
    Histogram {
        title: String,
        n: NumberSummary,
        path: Option<Vec<usize>>,
    },
    /// Probabilities of discrete values.
    Bars {
        title: String,
        labels: Vec<String>,
        probs: Vec<f64>,
    },
    /// Every chain's values in draw order, one colour per chain.
    Trace {
        title: String,
        chains: Vec<Vec<f64>>,
    },
    /// Per chain, the counts of its draws' ranks (among all draws) in
    /// equal bins.
    Ranks {
        title: String,
        counts: Vec<Vec<f64>>,
    },
    /// Two parameters against each other.
    Pair {
        x: String,
        y: String,
        points: Vec<(f64, f64)>,
    },
}

/// What the figure shows besides the default panels.
#[derive(Clone, Debug, Default)]
pub struct PlotOptions {
    /// Parameter names (panel titles) for a scatter plot of one against
    /// the other.
    pub pair: Option<(String, String)>,
}

/// The per-chain values, in draw order, of the first numeric component of
/// `values` (draws of type `ty`, the chains' kept draws concatenated, as
/// MCMC methods return them) and the component's name; `None` when the
/// result has no numeric component. Chain `c` holds
/// `n / chains + (c < n % chains)` draws, earlier chains first.
pub fn chain_traces(ty: &Type, values: &[Value], chains: usize) -> Option<(String, Vec<Vec<f64>>)> {
    let (path, name) = first_numeric(ty, "result".into())?;
    let xs: Vec<f64> = values
        .iter()
        .map(|v| {
            at_path(v, &path)
                .and_then(Value::as_number)
                .unwrap_or(f64::NAN)
        })
        .collect();
    let chains = chains.max(1);
    let n = xs.len();
    let mut out = Vec::with_capacity(chains);
    let mut start = 0;
    for c in 0..chains {
        let len = n / chains + usize::from(c < n % chains);
        out.push(xs[start..start + len].to_vec());
        start += len;
    }
    Some((name, out))
}

/// The index path and name of the first `Real`/`Int`/`Bool` component.
fn first_numeric(ty: &Type, name: String) -> Option<(Vec<usize>, String)> {
    match ty {
        Type::Real | Type::Int | Type::Bool => Some((Vec::new(), name)),
        Type::Array(t) => {
            let (mut p, n) = first_numeric(t, format!("{name}[0]"))?;
            p.insert(0, 0);
            Some((p, n))
        }
        Type::Tuple(ts) => ts.iter().enumerate().find_map(|(i, t)| {
            let (mut p, n) = first_numeric(t, format!("{name}.{i}"))?;
            p.insert(0, i);
            Some((p, n))
        }),
        _ => None,
    }
}

fn at_path<'v>(v: &'v Value, path: &[usize]) -> Option<&'v Value> {
    match path.split_first() {
        None => Some(v),
        Some((&i, rest)) => match v {
            Value::Array(xs) => at_path(xs.get(i)?, rest),
            Value::Tuple(xs) => at_path(xs.get(i)?, rest),
            _ => None,
        },
    }
}

/// Draws the figure as an SVG document. `traces` (per-chain values of
/// one component, see [`chain_traces`]) only says how many chains the
/// draws come from when `draws` does not. An error when nothing in the
/// result can be plotted.
pub fn plot_svg(
    info: &RunInfo,
    ty: &Type,
    draws: &Draws,
    traces: Option<(&str, &[Vec<f64>])>,
) -> Result<String, String> {
    let mut draws = *draws;
    if let Some((_, chains)) = traces {
        if draws.chain_count() == 1 && chains.len() > 1 {
            draws = draws.with_chains(chains.len());
        }
    }
    plot_figure(info, ty, &draws, &PlotOptions::default())
}

/// One parameter: its title and per-draw values (with the draws' log
/// weights), `None` where a draw has no value.
struct Parameter<'v> {
    title: String,
    values: Vec<Option<&'v Value>>,
}

/// The parameters of `draws`: the result's scalar components, then the
/// choices', titled as in the CSV except that a choice name drawn only once
/// per run loses its `[0]`.
fn parameters<'v>(draws: &Draws<'v>) -> Vec<Parameter<'v>> {
    let table = crate::csv::DrawTable::new(draws);
    let titles = crate::cmdstan::display_names(&table);
    titles
        .into_iter()
        .enumerate()
        .map(|(k, title)| Parameter {
            title,
            values: table.rows.iter().map(|r| r[k]).collect(),
        })
        .collect()
}

/// Names that [`PlotOptions::pair`] accepts for `draws`.
pub fn parameter_names(draws: &Draws) -> Vec<String> {
    parameters(draws).into_iter().map(|p| p.title).collect()
}

/// The figure with options; see the module docs.
pub fn plot_figure(
    info: &RunInfo,
    ty: &Type,
    draws: &Draws,
    options: &PlotOptions,
) -> Result<String, String> {
    let summary = summarize(ty, draws);
    let weights = normalized_weights(draws);
    let params = parameters(draws);
    let chains = draws.chain_count();
    let mcmc = chains > 1 || matches!(info.method.as_str(), "mh" | "pmmh" | "nuts" | "hmc");
    let per_chain = draws.values.len() / chains.max(1);
    let mut rows: Vec<Vec<Panel>> = Vec::new();
    for p in &params {
        let (vals, ws): (Vec<Value>, Vec<f64>) = p
            .values
            .iter()
            .zip(weights.iter().flatten())
            .filter_map(|(v, w)| Some(((*v)?.clone(), *w)))
            .filter(|(_, w)| *w > 0.0)
            .unzip();
        if vals.is_empty() {
            continue;
        }
        let lws: Vec<f64> = ws.iter().map(|w| w.ln()).collect();
        let column = Draws::weighted(&vals, &lws);
        let s = summarize(&Type::Var(0), &column);
        let mut row = Vec::new();
        collect_panels(&s, p.title.clone(), &mut Vec::new(), &mut row);
        if row.is_empty() {
            continue;
        }
        for panel in &mut row {
            if let Panel::Histogram {
                title,
                n,
                path: Some(_),
            } = panel
            {
                let xs: Vec<f64> = vals.iter().filter_map(Value::as_number).collect();
                if xs.len() == vals.len() {
                    *title = quantile_histogram(title, n, &xs, &ws);
                }
            }
        }
        let numeric: Option<Vec<f64>> = p
            .values
            .iter()
            .map(|v| v.map_or(Some(f64::NAN), Value::as_number))
            .collect();
        if let (true, Some(xs)) = (mcmc && per_chain >= 2, numeric) {
            if xs.iter().any(|x| x.is_finite()) {
                let cs: Vec<Vec<f64>> = xs.chunks(per_chain).map(<[f64]>::to_vec).collect();
                row.push(Panel::Trace {
                    title: format!("trace of {}", p.title),
                    chains: cs.clone(),
                });
                row.push(Panel::Ranks {
                    title: format!("ranks of {}", p.title),
                    counts: rank_counts(&cs),
                });
            }
        }
        rows.push(row);
    }
    if let Some((a, b)) = &options.pair {
        let find = |name: &str| {
            params.iter().find(|p| p.title == name).ok_or_else(|| {
                let names: Vec<&str> = params.iter().map(|p| p.title.as_str()).collect();
                format!(
                    "--plot-pair: no parameter named `{name}` (the parameters are: {})",
                    names.join(", ")
                )
            })
        };
        let (pa, pb) = (find(a)?, find(b)?);
        let points: Vec<(f64, f64)> = pa
            .values
            .iter()
            .zip(&pb.values)
            .zip(weights.iter().flatten())
            .filter(|(_, w)| **w > 0.0)
            .filter_map(|((x, y), _)| Some(((*x)?.as_number()?, (*y)?.as_number()?)))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        if points.is_empty() {
            return Err(format!(
                "--plot-pair: `{a}` and `{b}` have no numeric draws in common"
            ));
        }
        rows.push(vec![Panel::Pair {
            x: a.clone(),
            y: b.clone(),
            points,
        }]);
    }
    if rows.is_empty() {
        return Err(match summary {
            Summary::Empty => "nothing to plot: no draw has positive weight".into(),
            _ => format!(
                "nothing to plot: a result of type {ty} has no numeric or discrete component"
            ),
        });
    }
    // MCMC: a row per parameter (distribution, trace, ranks); otherwise
    // the panels flow three to a row.
    let cols = 3usize;
    let grid: Vec<Option<Panel>> = if mcmc {
        rows.into_iter()
            .flat_map(|r| {
                let mut r: Vec<Option<Panel>> = r.into_iter().map(Some).collect();
                let pad = (cols - r.len() % cols) % cols;
                r.extend((0..pad).map(|_| None));
                r
            })
            .collect()
    } else {
        rows.into_iter().flatten().map(Some).collect()
    };
    let cols = grid.len().min(cols) as u32;
    let nrows = grid.len().div_ceil(cols as usize) as u32;
    let size = (PANEL.0 * cols, PANEL.1 * nrows + TITLE_HEIGHT);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let title = format!("{} — {} (seed {})", info.model, info.method, info.seed);
        let body = root.titled(&title, ("sans-serif", 20)).map_err(err)?;
        let areas = body.split_evenly((nrows as usize, cols as usize));
        for (area, panel) in areas.iter().zip(&grid) {
            if let Some(panel) = panel {
                draw_panel(area, panel)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Re-bins a histogram over the weighted 0.5%–99.5% quantile range of its
/// draws (about 0.6·√n bins, 12 to 30), so that a few extreme draws do not
/// squeeze the rest into one bin; returns the title, which says how much
/// mass lies outside the range.
fn quantile_histogram(title: &str, n: &mut NumberSummary, xs: &[f64], ws: &[f64]) -> String {
    let total: f64 = ws.iter().sum();
    if xs.is_empty() || total <= 0.0 {
        return title.to_string();
    }
    let mut order: Vec<usize> = (0..xs.len()).filter(|&i| xs[i].is_finite()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let quantile = |p: f64| {
        let mut cum = 0.0;
        for &i in &order {
            cum += ws[i] / total;
            if cum >= p - 1e-12 {
                return xs[i];
            }
        }
        order.last().map_or(f64::NAN, |&i| xs[i])
    };
    let (lo, hi) = (quantile(HISTOGRAM_RANGE.0), quantile(HISTOGRAM_RANGE.1));
    let (inner_x, inner_w): (Vec<f64>, Vec<f64>) = xs
        .iter()
        .zip(ws)
        .filter(|(x, _)| **x >= lo && **x <= hi)
        .map(|(x, w)| (*x, *w))
        .unzip();
    let target = (((xs.len() as f64).sqrt() * 0.6) as usize).clamp(12, 30);
    // Probabilities stay fractions of all the mass: densities are right.
    let bins = histogram_bins(&inner_x, &inner_w, total, target);
    if !bins.is_empty() {
        n.histogram = bins;
    }
    let outside = 1.0 - inner_w.iter().sum::<f64>() / total;
    if outside > 1e-9 {
        format!("{title} ({:.1}% of mass outside)", 100.0 * outside)
    } else {
        title.to_string()
    }
}

/// Per chain, counts of its draws' ranks among all draws (average ranks
/// for ties) in equal bins.
fn rank_counts(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let all: Vec<(usize, f64)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, xs)| xs.iter().map(move |&x| (c, x)))
        .collect();
    let n = all.len();
    let per = chains.first().map_or(0, Vec::len);
    let bins = RANK_BINS.min((per / 5).max(2));
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| all[a].1.total_cmp(&all[b].1));
    let mut counts = vec![vec![0.0; bins]; chains.len()];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[order[j + 1]].1.total_cmp(&all[order[i]].1).is_eq() {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0; // from 0
        let bin = ((rank / n as f64 * bins as f64) as usize).min(bins - 1);
        for &k in &order[i..=j] {
            counts[all[k].0][bin] += 1.0;
        }
        i = j + 1;
    }
    counts
}

fn err(e: impl std::fmt::Display) -> String {
    format!("cannot draw the figure: {e}")
}

/// One panel per scalar leaf of `s` (at `path` in the result).
fn collect_panels(s: &Summary, title: String, path: &mut Vec<usize>, out: &mut Vec<Panel>) {
    match s {
        Summary::Number(n) => out.push(Panel::Histogram {
            title,
            n: n.clone(),
            path: Some(path.clone()),
        }),
        Summary::Table(t) => {
            let int = matches!(t.first(), Some((Value::Int(_), _)));
            if int && t.len() > MAX_BARS {
                if let Some(n) = table_stats(t) {
                    out.push(Panel::Histogram {
                        title,
                        n,
                        path: None,
                    });
                }
                return;
            }
            let mut shown: Vec<&(Value, f64)> = t.iter().collect();
            if shown.len() > MAX_BARS {
                shown.sort_by(|a, b| b.1.total_cmp(&a.1));
                shown.truncate(MAX_BARS);
                shown.sort_by(|a, b| crate::summary::cmp_values(&a.0, &b.0));
            }
            let labels = shown
                .iter()
                .map(|(v, _)| match v {
                    Value::Str(s) => format!("{:?}", &**s),
                    other => other.to_string(),
                })
                .collect();
            let probs = shown.iter().map(|e| e.1).collect();
            out.push(Panel::Bars {
                title,
                labels,
                probs,
            });
        }
        Summary::Array(xs) | Summary::Tuple(xs) => {
            let array = matches!(s, Summary::Array(_));
            for (i, x) in xs.iter().enumerate() {
                let t = if array {
                    format!("{title}[{i}]")
                } else {
                    format!("{title}.{i}")
                };
                path.push(i);
                collect_panels(x, t, path, out);
                path.pop();
            }
        }
        Summary::Unit | Summary::Opaque | Summary::Empty => {}
    }
}

type Area<'a, 'b> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw_panel(area: &Area, panel: &Panel) -> Result<(), String> {
    match panel {
        Panel::Histogram { title, n, .. } => histogram(area, title, n),
        Panel::Bars {
            title,
            labels,
            probs,
        } => bars(area, title, labels, probs),
        Panel::Trace { title, chains } => trace(area, title, chains),
        Panel::Ranks { title, counts } => ranks(area, title, counts),
        Panel::Pair { x, y, points } => pair(area, x, y, points),
    }
}

/// A padded range around `lo..hi` (never empty), whose ends and width are
/// finite: plotters never finishes placing the ticks of an axis whose
/// width overflows to infinity (a result spanning ±1e308), so ends are
/// kept within ±[`AXIS_LIMIT`] (draws beyond are clipped by the figure).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let (lo, hi) = (
        lo.clamp(-AXIS_LIMIT, AXIS_LIMIT),
        hi.clamp(-AXIS_LIMIT, AXIS_LIMIT),
    );
    let (a, b) = if hi > lo {
        // Halves first: `hi - lo` itself may overflow.
        let pad = (hi * 0.5 - lo * 0.5) * 0.1;
        (lo - pad, hi + pad)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    };
    (a.max(-AXIS_LIMIT), b.min(AXIS_LIMIT))
}

/// The largest magnitude of an axis end: two of them apart is still a
/// finite width.
const AXIS_LIMIT: f64 = f64::MAX / 4.0;

fn histogram(area: &Area, title: &str, n: &NumberSummary) -> Result<(), String> {
    // A single value (or a degenerate bin) is drawn as a narrow bar.
    let bins: Vec<(f64, f64, f64)> = if n.histogram.is_empty() {
        let w = padded(n.min, n.max);
        let half = (w.1 - w.0) * 0.02;
        vec![(n.min - half, n.min + half, 1.0)]
    } else {
        n.histogram.iter().map(|b| (b.lo, b.hi, b.prob)).collect()
    };
    let dens: Vec<(f64, f64, f64)> = bins
        .iter()
        .map(|&(lo, hi, p)| {
            let w = hi - lo;
            (lo, hi, if w > 0.0 { p / w } else { p })
        })
        .collect();
    let lo = dens.iter().map(|b| b.0).fold(f64::INFINITY, f64::min);
    let hi = dens.iter().map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1) = padded(lo, hi);
    let top = dens.iter().map(|b| b.2).fold(0.0, f64::max);
    let top = if top > 0.0 && top.is_finite() {
        top * 1.08
    } else {
        1.0
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        // The axis is the parameter; the caption may add a note.
        .x_desc(title.split(" (").next().unwrap_or(title))
        .y_desc("density")
        .x_labels(6)
        .y_labels(5)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            dens.iter().filter(|b| b.2 > 0.0).map(|&(lo, hi, d)| {
                Rectangle::new([(lo, 0.0), (hi, d)], BAR_COLOR.mix(0.75).filled())
            }),
        )
        .map_err(err)?;
    // The posterior mean.
    chart
        .draw_series(LineSeries::new(
            [(n.mean, 0.0), (n.mean, top)],
            BLACK.mix(0.6).stroke_width(1),
        ))
        .map_err(err)?;
    Ok(())
}

fn bars(area: &Area, title: &str, labels: &[String], probs: &[f64]) -> Result<(), String> {
    let k = labels.len() as i32;
    let top = probs.iter().copied().fold(0.0, f64::max);
    let top = if top > 0.0 { (top * 1.1).min(1.0) } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d((0..k).into_segmented(), 0.0..top)
        .map_err(err)?;
    let label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            labels.get(*i as usize).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(title)
        .y_desc("probability")
        .x_labels(labels.len() + 1)
        .x_label_formatter(&label)
        .y_labels(5)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            probs
                .iter()
                .enumerate()
                .filter(|(_, p)| **p > 0.0)
                .map(|(i, &p)| {
                    let i = i as i32;
                    let mut r = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (SegmentValue::Exact(i + 1), p),
                        ],
                        BAR_COLOR.mix(0.75).filled(),
                    );
                    r.set_margin(0, 0, 6, 6);
                    r
                }),
        )
        .map_err(err)?;
    Ok(())
}

fn trace(area: &Area, title: &str, chains: &[Vec<f64>]) -> Result<(), String> {
    let finite = chains.iter().flatten().copied().filter(|x| x.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    let (y0, y1) = padded(lo, hi);
    let n = chains.iter().map(Vec::len).max().unwrap_or(0).max(2) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n - 1.0, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("value")
        .x_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(5)
        .draw()
        .map_err(err)?;
    for (c, values) in chains.iter().enumerate() {
        let color = CHAIN_COLORS[c % CHAIN_COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_finite())
                    .map(|(i, &x)| (i as f64, x)),
                color.mix(0.7).stroke_width(1),
            ))
            .map_err(err)?
            .label(format!("chain {}", c + 1));
    }
    Ok(())
}

fn ranks(area: &Area, title: &str, counts: &[Vec<f64>]) -> Result<(), String> {
    let bins = counts.first().map_or(1, Vec::len);
    let top = counts
        .iter()
        .flatten()
        .copied()
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("rank (fraction of all draws)")
        .y_desc("draws per bin")
        .x_labels(6)
        .y_labels(5)
        .draw()
        .map_err(err)?;
    // Uniform ranks: every chain puts n/bins draws in each bin.
    let expected = counts.first().map_or(0.0, |c| c.iter().sum::<f64>()) / bins as f64;
    chart
        .draw_series(LineSeries::new(
            [(0.0, expected), (1.0, expected)],
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(err)?;
    for (c, cs) in counts.iter().enumerate() {
        let color = CHAIN_COLORS[c % CHAIN_COLORS.len()];
        let w = 1.0 / bins as f64;
        let steps: Vec<(f64, f64)> = cs
            .iter()
            .enumerate()
            .flat_map(|(b, &k)| [(b as f64 * w, k), ((b + 1) as f64 * w, k)])
            .collect();
        chart
            .draw_series(LineSeries::new(steps, color.stroke_width(2)))
            .map_err(err)?;
    }
    Ok(())
}

fn pair(area: &Area, x: &str, y: &str, points: &[(f64, f64)]) -> Result<(), String> {
    let fold = |f: fn(&(f64, f64)) -> f64| {
        let lo = points.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = points.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        padded(lo, hi)
    };
    let (x0, x1) = fold(|p| p.0);
    let (y0, y1) = fold(|p| p.1);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{y} against {x}"), ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x)
        .y_desc(y)
        .x_labels(6)
        .y_labels(5)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 2, BAR_COLOR.mix(0.35).filled())),
        )
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RunInfo {
        RunInfo {
            model: "model".into(),
            method: "mh".into(),
            seed: 1,
            ..RunInfo::default()
        }
    }

    #[test]
    fn real_results_get_a_histogram_and_traces() {
        let values: Vec<Value> = (0..200)
            .map(|i| Value::Real((i % 17) as f64 / 17.0))
            .collect();
        let (name, chains) = chain_traces(&Type::Real, &values, 2).unwrap();
        assert_eq!(name, "result");
        assert_eq!(chains.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100]);
        let traces = Some((name.as_str(), &chains[..]));
        let svg = plot_svg(&info(), &Type::Real, &Draws::unweighted(&values), traces).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("trace of result"));
        assert!(svg.contains("ranks of result"));
        assert!(svg.matches("<rect").count() > 5);
        assert!(svg.contains("<polyline"));
    }

    #[test]
    fn tuples_and_bools_get_one_panel_per_component() {
        let ty = Type::Tuple(vec![Type::Bool, Type::Array(Box::new(Type::Int))]);
        let values: Vec<Value> = (0..50)
            .map(|i| {
                Value::tuple(vec![
                    Value::Bool(i % 3 == 0),
                    Value::array(vec![Value::Int(i % 4), Value::Int(i % 5)]),
                ])
            })
            .collect();
        let svg = plot_svg(&info(), &ty, &Draws::unweighted(&values), None).unwrap();
        for t in ["result.0", "result.1[0]", "result.1[1]"] {
            assert!(svg.contains(&format!("\n{t}\n")), "{t} missing");
        }
        let (name, _) = chain_traces(&ty, &values, 1).unwrap();
        assert_eq!(name, "result.0");
    }

    /// Issue 14 item 7: a result spanning ±1e308 (`x * 1e308` for `x ~
    /// Uniform(-1, 1)`) made `--plot` loop forever; now the figure is drawn
    /// (on a thread, so a regression fails instead of hanging).
    #[test]
    fn results_near_the_largest_real_are_plotted() {
        for scale in [1e308, f64::MAX] {
            let values: Vec<Value> = (0..100)
                .map(|i| Value::Real((i as f64 / 49.5 - 1.0) * scale))
                .collect();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let (name, chains) = chain_traces(&Type::Real, &values, 2).unwrap();
                let traces = Some((name.as_str(), &chains[..]));
                let _ = tx.send(plot_svg(
                    &info(),
                    &Type::Real,
                    &Draws::unweighted(&values),
                    traces,
                ));
            });
            let svg = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("plotting finishes")
                .expect("the figure is drawn");
            assert!(svg.starts_with("<svg"));
        }
    }

    #[test]
    fn histogram_ranges_come_from_weighted_quantiles() {
        // 998 draws in [0, 1) and two far away: the bins cover the bulk.
        let mut xs: Vec<f64> = (0..998).map(|i| i as f64 / 998.0).collect();
        xs.extend([1e6, -1e6]);
        let values: Vec<Value> = xs.iter().map(|&x| Value::Real(x)).collect();
        let draws = Draws::unweighted(&values);
        let mut n = match summarize(&Type::Real, &draws) {
            Summary::Number(n) => n,
            _ => unreachable!(),
        };
        let ws = vec![1.0 / 1000.0; 1000];
        let title = quantile_histogram("x", &mut n, &xs, &ws);
        assert!(n.histogram.len() >= 8, "{:?}", n.histogram);
        assert!(n.histogram[0].lo >= -0.1 && n.histogram.last().unwrap().hi <= 1.1);
        // The five draws below the 0.5% quantile and the four above the
        // 99.5% one (of 1000) lie outside.
        assert!(
            title.starts_with("x (") && title.contains("% of mass outside"),
            "{title}"
        );
        // Densities use all the mass: the bins hold the 99.1% inside.
        let inside: f64 = n.histogram.iter().map(|b| b.prob).sum();
        assert!((inside - 0.991).abs() < 1e-9, "{inside}");
    }

    #[test]
    fn rank_counts_are_flat_for_mixed_chains() {
        let chains = vec![
            (0..100).map(|i| (i * 2) as f64).collect::<Vec<_>>(),
            (0..100).map(|i| (i * 2 + 1) as f64).collect(),
        ];
        let counts = rank_counts(&chains);
        assert_eq!(counts.len(), 2);
        assert!(counts.iter().flatten().all(|&c| c == 5.0), "{counts:?}");
        // Separated chains put all their draws at one end.
        let apart = vec![vec![0.0; 50], vec![1.0; 50]];
        let c = rank_counts(&apart);
        assert_eq!(c[0].iter().sum::<f64>(), 50.0);
        assert_eq!(c[0][c[0].len() - 1], 0.0);
    }

    #[test]
    fn unplottable_results_are_errors() {
        let values = vec![Value::Unit; 3];
        assert!(plot_svg(&info(), &Type::Unit, &Draws::unweighted(&values), None).is_err());
    }
}
