//! Charts drawn with plotters' SVG backend: client latency (CDF and over time),
//! throughput over time, messages by kind.

use std::collections::BTreeMap;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use sim_core::result::HistoryOp;

use crate::trace::FaultWindow;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 340;
const FONT: &str = "sans-serif";
const LINE: RGBColor = RGBColor(31, 119, 180);
const FAULT_SHADE: RGBColor = RGBColor(252, 187, 161);

type Drawn = Result<(), String>;

fn error(error: impl std::fmt::Display) -> String {
    format!("drawing a chart: {error}")
}

/// Latencies of the completed operations, in milliseconds, with their invoke time (s).
fn completed(history: &[HistoryOp]) -> Vec<(f64, f64)> {
    history
        .iter()
        .filter(|op| op.status == "ok")
        .filter_map(|op| {
            let complete_us = op.complete_us?;
            Some((
                op.invoke_us as f64 / 1e6,
                complete_us.saturating_sub(op.invoke_us) as f64 / 1e3,
            ))
        })
        .collect()
}

fn render(
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(error)?;
        draw(&root)?;
        root.present().map_err(error)?;
    }
    Ok(svg)
}

/// The empirical CDF of completed operations' latency.
pub fn latency_cdf(history: &[HistoryOp]) -> Result<Option<String>, String> {
    let mut latencies: Vec<f64> = completed(history).into_iter().map(|(_, l)| l).collect();
    if latencies.is_empty() {
        return Ok(None);
    }
    latencies.sort_by(f64::total_cmp);
    let max = latencies.last().copied().unwrap_or(1.0).max(1.0) * 1.05;
    let count = latencies.len() as f64;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption("client latency CDF", (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..max, 0f64..1.0)
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc("latency (ms)")
            .y_desc("fraction of ops")
            .draw()
            .map_err(error)?;
        let mut points = vec![(0.0, 0.0)];
        for (rank, latency) in latencies.iter().enumerate() {
            points.push((*latency, rank as f64 / count));
            points.push((*latency, (rank + 1) as f64 / count));
        }
        chart
            .draw_series(LineSeries::new(points, LINE.stroke_width(2)))
            .map_err(error)?;
        Ok(())
    })
    .map(Some)
}

/// Each completed operation's latency against the time it was invoked.
pub fn latency_over_time(
    history: &[HistoryOp],
    end_time_us: u64,
    faults: &[FaultWindow],
) -> Result<Option<String>, String> {
    let points = completed(history);
    if points.is_empty() {
        return Ok(None);
    }
    let end_s = (end_time_us as f64 / 1e6).max(0.001);
    let max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.05;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption("client latency over time", (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..end_s, 0f64..max)
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc("invoked at (simulated s)")
            .y_desc("latency (ms)")
            .draw()
            .map_err(error)?;
        shade_faults(&mut chart, faults, max)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 2, LINE.mix(0.7).filled())),
            )
            .map_err(error)?;
        Ok(())
    })
    .map(Some)
}

fn shade_faults(
    chart: &mut ChartContext<
        SVGBackend,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    faults: &[FaultWindow],
    top: f64,
) -> Drawn {
    chart
        .draw_series(faults.iter().map(|window| {
            Rectangle::new(
                [
                    (window.start_us as f64 / 1e6, 0.0),
                    (window.end_us as f64 / 1e6, top),
                ],
                FAULT_SHADE.mix(0.25).filled(),
            )
        }))
        .map_err(error)?;
    Ok(())
}

/// Operations completed per simulated second, in quarter-second bins.
pub fn throughput(
    history: &[HistoryOp],
    end_time_us: u64,
    faults: &[FaultWindow],
) -> Result<Option<String>, String> {
    const BIN_US: u64 = 250_000;
    let end_us = end_time_us.max(1);
    let bins = end_us.div_ceil(BIN_US) as usize;
    let mut counts = vec![0u64; bins.max(1)];
    let mut any = false;
    for op in history.iter().filter(|op| op.status == "ok") {
        if let Some(complete_us) = op.complete_us {
            let bin = ((complete_us / BIN_US) as usize).min(counts.len() - 1);
            counts[bin] += 1;
            any = true;
        }
    }
    if !any {
        return Ok(None);
    }
    // Ops per second in each bin; the last bin may be shorter than the others.
    let rates: Vec<f64> = counts
        .iter()
        .enumerate()
        .map(|(bin, count)| {
            let start_us = bin as u64 * BIN_US;
            let width_us = (start_us + BIN_US).min(end_us) - start_us;
            *count as f64 * 1e6 / width_us.max(1) as f64
        })
        .collect();
    let max = rates.iter().copied().fold(1.0, f64::max) * 1.1;
    let end_s = end_us as f64 / 1e6;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "throughput (completed ops per simulated second)",
                (FONT, 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..end_s, 0f64..max)
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc("simulated time (s)")
            .y_desc("ops/s")
            .draw()
            .map_err(error)?;
        shade_faults(&mut chart, faults, max)?;
        chart
            .draw_series(rates.iter().enumerate().map(|(bin, rate)| {
                let start = (bin as u64 * BIN_US) as f64 / 1e6;
                let end = (((bin + 1) as u64 * BIN_US).min(end_us)) as f64 / 1e6;
                Rectangle::new([(start, 0.0), (end, *rate)], LINE.mix(0.8).filled())
            }))
            .map_err(error)?;
        Ok(())
    })
    .map(Some)
}

/// A horizontal bar per kind (of message, of fault), labelled with its count.
pub fn bars_by_kind(
    by_kind: &BTreeMap<String, u64>,
    caption: &str,
    axis: &str,
) -> Result<Option<String>, String> {
    if by_kind.is_empty() {
        return Ok(None);
    }
    let names: Vec<&String> = by_kind.keys().collect();
    let max = by_kind.values().copied().max().unwrap_or(1);
    let label_width = names.iter().map(|n| n.len()).max().unwrap_or(8) as u32 * 7 + 10;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            // A discrete range includes its end: 0..n-1 is n segments.
            .build_cartesian_2d(
                0u64..max + max / 6 + 1,
                (0..names.len() - 1).into_segmented(),
            )
            .map_err(error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(names.len())
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(index) => {
                    names.get(*index).map(|n| n.to_string()).unwrap_or_default()
                }
                _ => String::new(),
            })
            .x_desc(axis)
            .draw()
            .map_err(error)?;
        chart
            .draw_series(
                Histogram::horizontal(&chart)
                    .style(LINE.mix(0.85).filled())
                    .margin(6)
                    .data(by_kind.values().enumerate().map(|(i, count)| (i, *count))),
            )
            .map_err(error)?;
        chart
            .draw_series(by_kind.values().enumerate().map(|(i, count)| {
                Text::new(
                    count.to_string(),
                    (*count + max / 80, SegmentValue::CenterOf(i)),
                    (FONT, 13).into_font(),
                )
            }))
            .map_err(error)?;
        Ok(())
    })
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(invoke_us: u64, complete_us: Option<u64>, status: &str) -> HistoryOp {
        HistoryOp {
            client: 0,
            request: invoke_us,
            invoke_us,
            complete_us,
            status: status.into(),
            key: None,
            op: serde_json::Value::Null,
            reply: None,
            output: None,
            draw: 0,
            fire_and_forget: false,
        }
    }

    #[test]
    fn charts_are_svg_with_data() {
        let history = vec![
            op(0, Some(20_000), "ok"),
            op(100_000, Some(150_000), "ok"),
            op(900_000, None, "info"),
        ];
        for svg in [
            latency_cdf(&history).unwrap().unwrap(),
            latency_over_time(&history, 1_000_000, &[])
                .unwrap()
                .unwrap(),
            throughput(&history, 1_000_000, &[]).unwrap().unwrap(),
        ] {
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            assert!(svg.len() > 1000);
        }
        let kinds = BTreeMap::from([("ping".to_string(), 10), ("pong".to_string(), 7)]);
        let bars = bars_by_kind(&kinds, "messages", "messages")
            .unwrap()
            .unwrap();
        assert!(bars.contains("ping"), "{bars}");
        assert!(bars.contains(">10<") || bars.contains(">\n10\n<"), "{bars}");
    }

    #[test]
    fn no_data_no_chart() {
        assert!(latency_cdf(&[]).unwrap().is_none());
        assert!(throughput(&[op(0, None, "info")], 10, &[])
            .unwrap()
            .is_none());
        assert!(bars_by_kind(&BTreeMap::new(), "messages", "messages")
            .unwrap()
            .is_none());
    }
}
