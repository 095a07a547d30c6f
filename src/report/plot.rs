//! `--plot FILE.svg`: charts drawn by plotters into an SVG string (no file here; the app writes it).
//! plotters is built without its font features: text goes out as SVG `<text>` and is laid out by
//! plotters' fixed-width estimate, so no font file is read and the output is the same everywhere.
//!
//! Each series is one `<polyline>`, each point marker a `<circle>` and the one highlighted point (the
//! pick, the first break) a `<polygon>`; legend samples are `<rect>`s, so a reader (and the tests)
//! can count them.

use plotters::prelude::*;

use super::sweep::SweepDocument;

const SIZE: (u32, u32) = (900, 560);
const THROUGHPUT: RGBColor = RGBColor(31, 119, 180);
const PER_USER: RGBColor = RGBColor(44, 160, 44);
const TTFT: RGBColor = RGBColor(214, 39, 40);
const CANDIDATE: RGBColor = RGBColor(127, 127, 127);
const FRONT: RGBColor = RGBColor(31, 119, 180);
const MARK: RGBColor = RGBColor(255, 127, 14);
const BREAK: RGBColor = RGBColor(148, 103, 189);

fn failed<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw the chart: {e:?}")
}

/// A tick label: whole numbers from 10 up, two decimals below.
fn tick(v: f64) -> String {
    let r = if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    };
    match r.contains('.') {
        true => r.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => r,
    }
}

/// A legend sample: a box filled with the series' colour.
fn legend(c: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 4), (x + 16, y + 4)], c.filled())
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The legend box at `at`, then the finished picture: the same on every chart.
fn finish<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    root: &DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    at: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(failed)?;
    root.present().map_err(failed)
}

/// The top of an axis: the largest value with headroom (a flat zero still gets an axis).
fn top(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.fold(0.0, f64::max);
    if m > 0.0 { m * 1.1 } else { 1.0 }
}

/// A sweep: output tok/s per GPU and per user against the axis (left scale), TTFT at the
/// percentile (right scale); the knee circled on the throughput curve, the first break a triangle.
/// A doubling sweep is drawn on a log₂ axis.
pub fn sweep_svg(doc: &SweepDocument) -> Result<String, String> {
    let pts = &doc.points;
    let (lo, hi) = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => (a.value, b.value),
        _ => return Err("cannot draw an empty sweep".into()),
    };
    let log = lo > 0.0 && hi / lo >= 16.0;
    let x = |v: f64| if log { v.log2() } else { v };
    let (x0, x1) = if hi > lo {
        (x(lo), x(hi))
    } else {
        (x(lo) - 1.0, x(hi) + 1.0)
    };
    let pad = (x1 - x0) * 0.03;
    let y_top = top(pts
        .iter()
        .flat_map(|p| [Some(p.tokens_per_s_per_gpu), p.tokens_per_s_per_user])
        .flatten());
    let ttft = |p: &super::sweep::SweepPoint| p.ttft_at_percentile_ms.or(p.ttft_ms);
    let t_top = top(pts.iter().filter_map(ttft));
    let pct = doc
        .percentile
        .map(crate::decide::load::percentile_label)
        .map_or("mean".to_string(), |p| p);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let title = format!(
            "{} · {} · {} on {} — prompt {}, output {} tokens",
            doc.model, doc.quant, doc.engine, doc.hardware, doc.prompt, doc.output
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .right_y_label_area_size(64)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), 0.0..y_top)
            .map_err(failed)?
            .set_secondary_coord((x0 - pad)..(x1 + pad), 0.0..t_top);
        let axis = doc.axis;
        let x_label = |v: &f64| {
            let v = if log { 2f64.powf(*v) } else { *v };
            tick(v)
        };
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(format!(
                "{} ({}{})",
                axis.id(),
                axis.unit(),
                if log { ", log scale" } else { "" }
            ))
            .y_desc("output tokens/s")
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(failed)?;
        chart
            .configure_secondary_axes()
            .y_desc(format!("TTFT {pct} (ms)"))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(failed)?;

        let series = |f: &dyn Fn(&super::sweep::SweepPoint) -> Option<f64>| -> Vec<(f64, f64)> {
            pts.iter()
                .filter_map(|p| f(p).map(|y| (x(p.value), y)))
                .collect()
        };
        let per_gpu = series(&|p| Some(p.tokens_per_s_per_gpu));
        chart
            .draw_series(LineSeries::new(per_gpu.clone(), THROUGHPUT.stroke_width(2)))
            .map_err(failed)?
            .label("output tok/s per GPU")
            .legend(legend(THROUGHPUT));
        let per_user = series(&|p| p.tokens_per_s_per_user);
        if !per_user.is_empty() {
            chart
                .draw_series(LineSeries::new(per_user, PER_USER.stroke_width(2)))
                .map_err(failed)?
                .label("tok/s per user")
                .legend(legend(PER_USER));
        }
        let latency = series(&ttft);
        if !latency.is_empty() {
            chart
                .draw_secondary_series(LineSeries::new(latency, TTFT.stroke_width(2)))
                .map_err(failed)?
                .label(format!("TTFT {pct} (right axis)"))
                .legend(legend(TTFT));
        }
        if let Some(k) = &doc.knee {
            let at = (x(pts[k.index].value), pts[k.index].tokens_per_s_per_gpu);
            chart
                .draw_series(std::iter::once(Circle::new(at, 7, MARK.stroke_width(3))))
                .map_err(failed)?
                .label(format!("knee ({})", k.label))
                .legend(legend(MARK));
        }
        if let Some(b) = &doc.first_break {
            let at = (x(pts[b.index].value), pts[b.index].tokens_per_s_per_gpu);
            chart
                .draw_series(std::iter::once(TriangleMarker::new(at, 9, BREAK.filled())))
                .map_err(failed)?
                .label(format!("first break ({})", b.label))
                .legend(legend(BREAK));
        }
        finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(svg)
}

/// One candidate that passed, as the Pareto chart places it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoPoint {
    pub tokens_per_s_per_gpu: f64,
    pub tokens_per_s_per_user: f64,
}

/// The passing candidates of `recommend`: per-user speed against output tok/s per GPU, each a
/// circle; the Pareto front (no other candidate is better on both) as one line; the pick a triangle.
pub fn pareto_svg(
    title: &str,
    points: &[ParetoPoint],
    pick: usize,
    pick_label: &str,
) -> Result<String, String> {
    if points.is_empty() || pick >= points.len() {
        return Err("cannot draw a chart without a candidate".into());
    }
    let x_top = top(points.iter().map(|p| p.tokens_per_s_per_gpu));
    let y_top = top(points.iter().map(|p| p.tokens_per_s_per_user));
    let front = crate::decide::pareto::front(
        &points
            .iter()
            .map(|p| (p.tokens_per_s_per_gpu, p.tokens_per_s_per_user))
            .collect::<Vec<_>>(),
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_top, 0.0..y_top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc("output tokens/s per GPU")
            .y_desc("tokens/s per user")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(failed)?;
        let xy = |p: &ParetoPoint| (p.tokens_per_s_per_gpu, p.tokens_per_s_per_user);
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new(xy(p), 4, CANDIDATE.filled())),
            )
            .map_err(failed)?
            .label(format!("{} candidates that pass", points.len()))
            .legend(legend(CANDIDATE));
        chart
            .draw_series(LineSeries::new(
                front.iter().map(|&i| xy(&points[i])),
                FRONT.stroke_width(2),
            ))
            .map_err(failed)?
            .label("Pareto front")
            .legend(legend(FRONT));
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                xy(&points[pick]),
                10,
                MARK.filled(),
            )))
            .map_err(failed)?
            .label(format!("the pick: {pick_label}"))
            .legend(legend(MARK));
        finish(&mut chart, &root, SeriesLabelPosition::LowerLeft)?;
    }
    Ok(svg)
}

/// One rate of `plan --plot`: the fleet the planner gives the chosen shape there.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetPoint {
    pub requests_per_s: f64,
    /// Spares included; what the fleet runs.
    pub replicas: u32,
    /// `None` when the GPUs have no price.
    pub usd_per_month: Option<f64>,
}

/// `plan --plot`: the monthly cost (left scale) and the replicas (right scale) of the chosen shape
/// against the request rate; the planned rate a triangle on the cost curve (on the replica curve
/// when unpriced).
pub fn fleet_svg(title: &str, points: &[FleetPoint], planned: f64) -> Result<String, String> {
    let (lo, hi) = match (points.first(), points.last()) {
        (Some(a), Some(b)) => (a.requests_per_s, b.requests_per_s),
        _ => return Err("cannot draw a fleet at no rate".into()),
    };
    let (x0, x1) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let pad = (x1 - x0) * 0.03;
    let costs: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.usd_per_month.map(|c| (p.requests_per_s, c)))
        .collect();
    let replicas: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.requests_per_s, f64::from(p.replicas)))
        .collect();
    let c_top = top(costs.iter().map(|p| p.1));
    let r_top = top(replicas.iter().map(|p| p.1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .right_y_label_area_size(64)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), 0.0..c_top)
            .map_err(failed)?
            .set_secondary_coord((x0 - pad)..(x1 + pad), 0.0..r_top);
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc("requests/s")
            .y_desc("USD per month")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(failed)?;
        chart
            .configure_secondary_axes()
            .y_desc("replicas (spares included)")
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(failed)?;
        if !costs.is_empty() {
            chart
                .draw_series(LineSeries::new(costs.clone(), THROUGHPUT.stroke_width(2)))
                .map_err(failed)?
                .label("USD per month")
                .legend(legend(THROUGHPUT));
        }
        chart
            .draw_secondary_series(LineSeries::new(replicas.clone(), PER_USER.stroke_width(2)))
            .map_err(failed)?
            .label("replicas (right axis)")
            .legend(legend(PER_USER));
        let at = |s: &[(f64, f64)]| s.iter().copied().find(|p| p.0 == planned);
        let label = format!("planned: {} requests/s", tick(planned));
        match (at(&costs), at(&replicas)) {
            (Some(c), _) => {
                chart
                    .draw_series(std::iter::once(TriangleMarker::new(c, 9, MARK.filled())))
                    .map_err(failed)?
                    .label(label)
                    .legend(legend(MARK));
            }
            (None, Some(r)) => {
                chart
                    .draw_secondary_series(std::iter::once(TriangleMarker::new(
                        r,
                        9,
                        MARK.filled(),
                    )))
                    .map_err(failed)?
                    .label(label)
                    .legend(legend(MARK));
            }
            (None, None) => {}
        }
        finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::tick;

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(256.0), "256");
        assert_eq!(tick(5.656854), "5.66");
        assert_eq!(tick(2.0), "2");
        assert_eq!(tick(0.5), "0.5");
    }
}
