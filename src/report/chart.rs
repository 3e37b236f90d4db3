//! SVG charts for reports, drawn with plotters (which escapes the text it
//! writes): heatmaps for pivoted tables and bars with confidence-interval
//! whiskers for one-key slices. Text uses the bundled DejaVu Sans font, so
//! no system font is needed.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::Once;

// Registered under the generic family name, so that the SVG asks the
// browser for its own sans-serif while plotters measures with DejaVu Sans.
const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// A colour from white (0) to deep blue (100) for a percentage.
fn shade(v: f64) -> RGBColor {
    let t = (v / 100.0).clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(lerp(247.0, 8.0), lerp(251.0, 69.0), lerp(255.0, 148.0))
}

/// A heatmap: rows x columns of percentages, each cell with its value.
pub fn heatmap(
    rows: &[String],
    cols: &[String],
    values: &[Vec<Option<f64>>],
) -> Result<String, String> {
    register_font();
    let label_w = 12
        + 7 * rows
            .iter()
            .map(|r| clip(r, 28).chars().count())
            .max()
            .unwrap_or(4) as u32;
    let head_h = 14
        + 6 * cols
            .iter()
            .map(|c| clip(c, 24).chars().count())
            .max()
            .unwrap_or(4) as u32;
    let cell_w = 46u32;
    let cell_h = 22u32;
    let width = label_w + cell_w * cols.len() as u32 + 10;
    let height = head_h + cell_h * rows.len() as u32 + 10;
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let small = (FONT, 11).into_font();
        for (j, c) in cols.iter().enumerate() {
            let x = (label_w + cell_w * j as u32 + cell_w / 2) as i32;
            let style = small
                .clone()
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            area.draw(&Text::new(clip(c, 24), (x, head_h as i32 - 6), style))
                .map_err(|e| e.to_string())?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y = (head_h + cell_h * i as u32) as i32;
            let style = small
                .clone()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center));
            area.draw(&Text::new(
                clip(r, 28),
                (label_w as i32 - 8, y + cell_h as i32 / 2),
                style,
            ))
            .map_err(|e| e.to_string())?;
            for (j, v) in values[i].iter().enumerate() {
                let x = (label_w + cell_w * j as u32) as i32;
                let fill = v.map(shade).unwrap_or(RGBColor(235, 235, 235));
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell_w as i32 - 1, y + cell_h as i32 - 1)],
                    fill.filled(),
                ))
                .map_err(|e| e.to_string())?;
                if let Some(v) = v {
                    let ink = if *v > 55.0 { WHITE } else { BLACK };
                    let style = small
                        .clone()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    area.draw(&Text::new(
                        format!("{v:.1}"),
                        (x + cell_w as i32 / 2, y + cell_h as i32 / 2),
                        style,
                    ))
                    .map_err(|e| e.to_string())?;
                }
            }
        }
        area.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Horizontal bars of percentages with optional interval whiskers.
pub fn bars(
    labels: &[String],
    values: &[Option<f64>],
    intervals: &[Option<(f64, f64)>],
) -> Result<String, String> {
    register_font();
    let label_w = 14
        + 7 * labels
            .iter()
            .map(|r| clip(r, 30).chars().count())
            .max()
            .unwrap_or(4) as u32;
    let bar_h = 22u32;
    let plot_w = 420u32;
    let width = label_w + plot_w + 60;
    let height = 30 + bar_h * labels.len() as u32 + 24;
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let small = (FONT, 11).into_font();
        let x_of =
            |v: f64| label_w as i32 + (plot_w as f64 * v.clamp(0.0, 100.0) / 100.0).round() as i32;
        let top = 14i32;
        let bottom = top + (bar_h * labels.len() as u32) as i32;
        for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
            let x = x_of(tick);
            area.draw(&PathElement::new(
                vec![(x, top), (x, bottom)],
                RGBColor(225, 225, 225),
            ))
            .map_err(|e| e.to_string())?;
            let style = small
                .clone()
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(format!("{tick:.0}%"), (x, bottom + 4), style))
                .map_err(|e| e.to_string())?;
        }
        for (i, l) in labels.iter().enumerate() {
            let y = top + (bar_h * i as u32) as i32;
            let style = small
                .clone()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center));
            area.draw(&Text::new(
                clip(l, 30),
                (label_w as i32 - 8, y + bar_h as i32 / 2),
                style,
            ))
            .map_err(|e| e.to_string())?;
            if let Some(v) = values[i] {
                area.draw(&Rectangle::new(
                    [(x_of(0.0), y + 4), (x_of(v), y + bar_h as i32 - 4)],
                    RGBColor(66, 122, 186).filled(),
                ))
                .map_err(|e| e.to_string())?;
                let mut end = x_of(v);
                if let Some((lo, hi)) = intervals.get(i).copied().flatten() {
                    let mid = y + bar_h as i32 / 2;
                    let ink = RGBColor(30, 30, 30);
                    area.draw(&PathElement::new(
                        vec![(x_of(lo), mid), (x_of(hi), mid)],
                        ink,
                    ))
                    .map_err(|e| e.to_string())?;
                    for x in [x_of(lo), x_of(hi)] {
                        area.draw(&PathElement::new(vec![(x, mid - 5), (x, mid + 5)], ink))
                            .map_err(|e| e.to_string())?;
                    }
                    end = end.max(x_of(hi));
                }
                let style = small
                    .clone()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center));
                area.draw(&Text::new(
                    format!("{v:.2}"),
                    (end + 6, y + bar_h as i32 / 2),
                    style,
                ))
                .map_err(|e| e.to_string())?;
            }
        }
        area.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_in_svg() {
        let evil = "<script>document.body.dataset.pwned=1</script>".to_string();
        let svg = heatmap(
            std::slice::from_ref(&evil),
            &["a\"><img src=x>".into()],
            &[vec![Some(50.0)]],
        )
        .unwrap();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(!svg.contains("<img"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;") || svg.contains("&lt;script"),
            "{svg}"
        );
        let svg = bars(&[evil], &[Some(40.0)], &[Some((30.0, 50.0))]).unwrap();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.starts_with("<svg"), "{svg}");
    }
}
