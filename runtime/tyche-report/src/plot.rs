//! `--plot FILE.svg`: a figure of the posterior, drawn with `plotters`'
//! SVG backend (no bitmap backend, no system fonts: text is emitted as
//! SVG `<text>` elements and laid out by the viewer).
//!
//! One panel per scalar result component, following the result type as
//! [`summarize`] does: `Real` components get a weighted density histogram
//! (the summary's bins, height = probability / bin width), `Int`, `Bool`
//! and `String` components a bar chart of probabilities (`Int` tables with
//! many distinct values are binned like numbers instead). Arrays and
//! tuples get one panel per element, the first [`MAX_COMPONENTS`], titled
//! `result[0]`, `result.1`, … For MCMC runs, [`chain_traces`] extracts the
//! first numeric component per chain and one trace-plot panel per chain is
//! added (value against iteration, in draw order).

use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::*;
use tyche_ir::Type;
use tyche_vm::Value;

use crate::summary::{histogram_bins, table_stats, NumberSummary, Summary};
use crate::{normalized_weights, summarize, Draws, RunInfo};

/// Most component panels in one figure.
pub const MAX_COMPONENTS: usize = 12;
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
    /// A chain's values in draw order.
    Trace {
        title: String,
        values: Vec<f64>,
        chain: usize,
    },
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

/// Draws the figure as an SVG document. `traces` are per-chain values of
/// one component and its name (see [`chain_traces`]), for MCMC runs. An
/// error when nothing in the result can be plotted.
pub fn plot_svg(
    info: &RunInfo,
    ty: &Type,
    draws: &Draws,
    traces: Option<(&str, &[Vec<f64>])>,
) -> Result<String, String> {
    let summary = summarize(ty, draws);
    let mut panels = Vec::new();
    collect_panels(&summary, "result".into(), &mut Vec::new(), &mut panels);
    refine_histograms(draws, &mut panels);
    if let Some((name, chains)) = traces {
        for (c, values) in chains.iter().enumerate() {
            if values.iter().any(|x| x.is_finite()) {
                panels.push(Panel::Trace {
                    title: format!("trace of {name}, chain {}", c + 1),
                    values: values.clone(),
                    chain: c,
                });
            }
        }
    }
    if panels.is_empty() {
        return Err(match summary {
            Summary::Empty => "nothing to plot: no draw has positive weight".into(),
            _ => format!(
                "nothing to plot: a result of type {ty} has no numeric or discrete component"
            ),
        });
    }
    let cols = panels.len().min(3) as u32;
    let rows = panels.len().div_ceil(cols as usize) as u32;
    let size = (PANEL.0 * cols, PANEL.1 * rows + TITLE_HEIGHT);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let title = format!("{} — {} (seed {})", info.model, info.method, info.seed);
        let body = root.titled(&title, ("sans-serif", 20)).map_err(err)?;
        let areas = body.split_evenly((rows as usize, cols as usize));
        for (area, panel) in areas.iter().zip(&panels) {
            draw_panel(area, panel)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("cannot draw the figure: {e}")
}

/// Finer bins for the histograms of many draws: about 0.6·√n of them (12
/// to 30), where the text report uses at most 12.
fn refine_histograms(draws: &Draws, panels: &mut [Panel]) {
    let Some(weights) = normalized_weights(draws) else {
        return;
    };
    let target = (((draws.values.len() as f64).sqrt() * 0.6) as usize).clamp(12, 30);
    for panel in panels {
        let Panel::Histogram {
            n,
            path: Some(path),
            ..
        } = panel
        else {
            continue;
        };
        let (xs, ws): (Vec<f64>, Vec<f64>) = draws
            .values
            .iter()
            .zip(&weights)
            .filter(|(_, w)| **w > 0.0)
            .filter_map(|(v, w)| Some((at_path(v, path)?.as_number()?, *w)))
            .unzip();
        let total: f64 = ws.iter().sum();
        if xs.is_empty() || total <= 0.0 {
            continue;
        }
        let bins = histogram_bins(&xs, &ws, total, target);
        if bins.len() > n.histogram.len() {
            n.histogram = bins;
        }
    }
}

/// One panel per scalar leaf of `s` (at `path` in the result), at most
/// [`MAX_COMPONENTS`].
fn collect_panels(s: &Summary, title: String, path: &mut Vec<usize>, out: &mut Vec<Panel>) {
    if out.len() >= MAX_COMPONENTS {
        return;
    }
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
        Panel::Trace {
            title,
            values,
            chain,
        } => trace(area, title, values, *chain),
    }
}

/// A padded range around `lo..hi` (never empty).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi > lo {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    }
}

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
        .x_desc(title)
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

fn trace(area: &Area, title: &str, values: &[f64], chain: usize) -> Result<(), String> {
    let finite = values.iter().copied().filter(|x| x.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    let (y0, y1) = padded(lo, hi);
    let n = values.len().max(2) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n - 1.0, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("draw")
        .y_desc("value")
        .x_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(5)
        .draw()
        .map_err(err)?;
    let color = CHAIN_COLORS[chain % CHAIN_COLORS.len()];
    chart
        .draw_series(LineSeries::new(
            values
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_finite())
                .map(|(i, &x)| (i as f64, x)),
            color.stroke_width(1),
        ))
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
        assert!(svg.contains("trace of result, chain 2"));
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

    #[test]
    fn unplottable_results_are_errors() {
        let values = vec![Value::Unit; 3];
        assert!(plot_svg(&info(), &Type::Unit, &Draws::unweighted(&values), None).is_err());
    }
}
