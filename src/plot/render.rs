//! Pictures of a slice (PNG or SVG by extension, via `plotters`; text is drawn with the embedded
//! DejaVu Sans font, so no system font library is needed): each region filled with its own colour,
//! boundaries drawn, the centre marked, the disk (or square) outlined, and a legend.

use super::slice::{clip_to_disk, Slice};
use crate::domain::Norm;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;

/// What the legend says.
#[derive(Clone, Debug)]
pub struct Legend {
    /// First line (e.g. the plane).
    pub title: String,
    /// Regions in the whole ball, and whether that count is complete.
    pub ball_regions: Option<(usize, bool)>,
}

/// `n` colours, pairwise distinct as RGB bytes (golden-ratio hues, alternating lightness).
pub fn region_colours(n: usize) -> Vec<RGBColor> {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = Vec::with_capacity(n);
    let mut k = 0u64;
    while out.len() < n {
        let hue = (k as f64 * 0.618_033_988_75).fract();
        let light = [0.55, 0.7, 0.4, 0.8][(k / 7 % 4) as usize];
        let sat = [0.75, 0.5, 0.95][(k / 29 % 3) as usize];
        let c = hsl(hue, sat, light);
        if seen.insert((c.0, c.1, c.2)) && c != RGBColor(0, 0, 0) && c != RGBColor(255, 255, 255) {
            out.push(c);
        }
        k += 1;
    }
    out
}

fn hsl(h: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h * 6.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h * 6.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(byte(r), byte(g), byte(b))
}

/// Writes the picture to `path` (`.png` or `.svg`).
pub fn render(slice: &Slice, path: &Path, legend: &Legend) -> Result<()> {
    static FONT: std::sync::Once = std::sync::Once::new();
    FONT.call_once(|| {
        let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
    let size = (800, 880);
    let fail = |message: String| Error::Output {
        path: path.to_owned(),
        message: format!("cannot draw: {message}"),
        source: None,
    };
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw(&root, slice, legend).map_err(|e| fail(e.to_string()))?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        Some("svg") => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, slice, legend).map_err(|e| fail(e.to_string()))?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        _ => Err(fail("the output must end in .png or .svg".into())),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    slice: &Slice,
    legend: &Legend,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (plot, text) = root.split_vertically(800);
    let r = slice.radius;
    let mut chart = ChartBuilder::on(&plot)
        .margin(20)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(-r..r, -r..r)?;
    chart.configure_mesh().disable_mesh().x_desc("s").y_desc("t").draw()?;
    let shape = |poly: &[[f64; 2]]| -> Vec<(f64, f64)> {
        let clipped = if slice.norm == Norm::L2 { clip_to_disk(poly, r) } else { poly.to_vec() };
        clipped.iter().map(|p| (p[0], p[1])).collect()
    };
    let colours = region_colours(slice.polygons.len());
    for (p, colour) in slice.polygons.iter().zip(&colours) {
        let pts = shape(&p.vertices);
        if pts.len() >= 3 {
            chart.draw_series(std::iter::once(Polygon::new(pts.clone(), colour.filled())))?;
            let mut closed = pts.clone();
            closed.push(pts[0]);
            chart.draw_series(std::iter::once(PathElement::new(closed, BLACK.stroke_width(1))))?;
        }
    }
    let outline: Vec<(f64, f64)> = if slice.norm == Norm::L2 {
        (0..=720).map(|k| std::f64::consts::TAU * k as f64 / 720.0).map(|a| (r * a.cos(), r * a.sin())).collect()
    } else {
        vec![(-r, -r), (r, -r), (r, r), (-r, r), (-r, -r)]
    };
    chart.draw_series(std::iter::once(PathElement::new(outline, BLACK.stroke_width(2))))?;
    chart.draw_series(std::iter::once(Cross::new((0.0, 0.0), 6, BLACK.stroke_width(2))))?;
    let font = ("sans-serif", 20).into_font();
    text.draw(&Text::new(legend.title.clone(), (20, 15), font.clone()))?;
    let ball = match legend.ball_regions {
        Some((n, true)) => format!("; {n} in the whole ball"),
        Some((n, false)) => format!("; at least {n} in the whole ball"),
        None => String::new(),
    };
    text.draw(&Text::new(format!("{} regions in this slice{ball}", slice.polygons.len()), (20, 45), font))?;
    Ok(())
}
