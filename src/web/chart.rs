//! Server-side SVG charts of the dashboard, drawn with the `plotters` crate's SVG backend
//! (default features off: no font files, no bitmap code; labels are SVG `<text>` in the
//! browser's own sans-serif font). Chosen over a vendored JavaScript chart library because
//! the chart then prints, works without JavaScript and needs no code in the browser.

use plotters::prelude::*;

use crate::stats::metrics::RateRow;

/// Width of the rate chart, in CSS pixels (fits a 1366-pixel office screen with margins).
pub const WIDTH: u32 = 860;
/// Height of the rate chart, in CSS pixels.
pub const HEIGHT: u32 = 260;

const LINE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const BAR: RGBColor = RGBColor(0xc9, 0xd8, 0xea);

/// Draws the first-answer rate of `rows` (one per period, in order) as a line in percent
/// over bars of the inquiries counted in the rate (answered + escalated, right-hand scale).
/// Periods with no counted inquiry have no point. Returns the SVG document, or an SVG with
/// the drawing error as its text if plotters fails.
pub fn rate_svg(rows: &[RateRow]) -> String {
    let mut svg = String::new();
    if let Err(e) = draw(rows, &mut svg) {
        tracing::warn!(error = %e, "rate chart");
        svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"40\"><text x=\"4\" y=\"20\">chart: {}</text></svg>",
            maud::html! { (e) }.into_string()
        );
    }
    svg
}

fn draw(rows: &[RateRow], out: &mut String) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let n = rows.len().max(1);
    let labels: Vec<String> = rows.iter().map(|r| r.period.clone()).collect();
    let max_count = rows
        .iter()
        .map(|r| r.answered + r.escalated)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let root = SVGBackend::with_string(out, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let x_range = -0.5f64..(n as f64 - 0.5);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .right_y_label_area_size(44)
        .build_cartesian_2d(x_range.clone(), 0f64..100f64)
        .map_err(|x| e(&x))?
        .set_secondary_coord(x_range, 0f64..(max_count * 1.15));
    let label_at = |x: &f64| {
        let i = x.round();
        if (x - i).abs() > 0.01 || i < 0.0 {
            return String::new();
        }
        labels.get(i as usize).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(12))
        .x_label_formatter(&label_at)
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(|x| e(&x))?;
    chart
        .configure_secondary_axes()
        .y_labels(5)
        .y_label_formatter(&|y| format!("{y:.0}件"))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(|x| e(&x))?;
    chart
        .draw_secondary_series(rows.iter().enumerate().map(|(i, r)| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, (r.answered + r.escalated) as f64)],
                BAR.filled(),
            )
        }))
        .map_err(|x| e(&x))?;
    let points: Vec<(f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.rate.map(|v| (i as f64, v * 100.0)))
        .collect();
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            LINE.stroke_width(2),
        ))
        .map_err(|x| e(&x))?;
    chart
        .draw_series(points.iter().map(|p| Circle::new(*p, 3, LINE.filled())))
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: &str, answered: u64, escalated: u64) -> RateRow {
        let d = answered + escalated;
        RateRow {
            period: period.into(),
            group: None,
            answered,
            escalated,
            koucho: 0,
            transfer: 0,
            rate: (d > 0).then(|| answered as f64 / d as f64),
        }
    }

    #[test]
    fn draws_one_point_per_counted_period_and_labels_them() {
        let svg = rate_svg(&[
            row("2026-04", 3, 1),
            row("2026-05", 0, 0),
            row("2026-06", 1, 1),
        ]);
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("2026-04") && svg.contains("2026-06"));
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(svg.contains("100%") && svg.contains("0%"));
        // Inline style attributes would be blocked by the pages' CSP.
        assert!(!svg.contains("style=\""), "{svg}");
    }

    #[test]
    fn an_empty_series_still_draws_axes() {
        let svg = rate_svg(&[]);
        assert!(svg.starts_with("<svg") && !svg.contains("<circle"));
    }
}
