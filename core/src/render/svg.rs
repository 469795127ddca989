//! A minimal SVG canvas: shapes appended in drawing order, each with a class naming what it
//! shows (`segment`, `track`, `issue`, `bar-found` ...) so tests and styles can find them, and a
//! `<title>` where a viewer may show a tooltip. Text goes through the stroke font of
//! [`super::glyphs`].

use std::fmt::Write;

use super::glyphs::{text_path, text_width};

#[derive(Debug)]
pub struct Canvas {
    pub width: f64,
    pub height: f64,
    body: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn title(t: Option<&str>) -> String {
    t.map(|t| format!("<title>{}</title>", esc(t)))
        .unwrap_or_default()
}

impl Canvas {
    pub fn new(width: f64, height: f64, background: &str) -> Self {
        let mut c = Self {
            width,
            height,
            body: String::new(),
        };
        c.rect(0.0, 0.0, width, height, background, "background", None);
        c
    }

    /// An open line through `points` (pixels).
    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one input of the computation; a struct would only rename them"
    )]
    pub fn polyline(
        &mut self,
        points: &[(f64, f64)],
        stroke: &str,
        width: f64,
        opacity: f64,
        class: &str,
        tip: Option<&str>,
    ) {
        if points.len() < 2 {
            return;
        }
        let mut d = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x, y);
        }
        let _ = write!(
            self.body,
            r#"<path class="{class}" d="{d}" fill="none" stroke="{stroke}" stroke-width="{width:.1}" stroke-opacity="{opacity:.2}" stroke-linecap="round" stroke-linejoin="round">{}</path>"#,
            title(tip)
        );
        self.body.push('\n');
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one input of the computation; a struct would only rename them"
    )]
    pub fn circle(
        &mut self,
        x: f64,
        y: f64,
        r: f64,
        fill: &str,
        stroke: &str,
        stroke_width: f64,
        class: &str,
        tip: Option<&str>,
    ) {
        let _ = writeln!(
            self.body,
            r#"<circle class="{class}" cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{fill}" fill-opacity="0.85" stroke="{stroke}" stroke-width="{stroke_width:.1}">{}</circle>"#,
            title(tip)
        );
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one input of the computation; a struct would only rename them"
    )]
    pub fn rect(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: &str,
        class: &str,
        tip: Option<&str>,
    ) {
        let _ = writeln!(
            self.body,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}">{}</rect>"#,
            w.max(0.0),
            h.max(0.0),
            title(tip)
        );
    }

    /// Text in the stroke font, top-left at (x, y), `size` pixels tall.
    pub fn text(&mut self, x: f64, y: f64, size: f64, text: &str, color: &str) {
        let d = text_path(text, x, y, size);
        if d.is_empty() {
            return;
        }
        let _ = writeln!(
            self.body,
            r#"<path class="label" d="{d}" fill="none" stroke="{color}" stroke-width="{:.2}" stroke-linecap="round" stroke-linejoin="round"><title>{}</title></path>"#,
            (size / 8.0).max(1.0),
            esc(text)
        );
    }

    /// A title across the top, shrunk to fit the width.
    pub fn title(&mut self, x: f64, y: f64, size: f64, text: &str, color: &str) {
        let room = self.width - 2.0 * x;
        let w = text_width(text, size);
        let size = if w > room { size * room / w } else { size };
        self.text(x, y, size, text, color);
    }

    /// Text right-aligned at x.
    pub fn text_right(&mut self, x: f64, y: f64, size: f64, text: &str, color: &str) {
        self.text(x - text_width(text, size), y, size, text, color);
    }

    /// Text centred on x.
    pub fn text_centre(&mut self, x: f64, y: f64, size: f64, text: &str, color: &str) {
        self.text(x - text_width(text, size) / 2.0, y, size, text, color);
    }

    pub fn finish(self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n{}</svg>\n",
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

/// The coverage colour ramp: red (nothing) through yellow (half) to green (all).
pub fn coverage_colour(ratio: f64) -> String {
    let stops = [
        (0.0, (215, 48, 39)),
        (0.5, (254, 224, 139)),
        (1.0, (26, 152, 80)),
    ];
    let r = ratio.clamp(0.0, 1.0);
    let (a, b) = if r <= 0.5 {
        (stops[0], stops[1])
    } else {
        (stops[1], stops[2])
    };
    let t = (r - a.0) / (b.0 - a.0);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.1.0, b.1.0),
        mix(a.1.1, b.1.1),
        mix(a.1.2, b.1.2)
    )
}

/// Distinct colours for categories (colour-blind friendly, from the Okabe-Ito and Tableau sets).
pub const PALETTE: [&str; 10] = [
    "#e69f00", "#56b4e9", "#009e73", "#d55e00", "#cc79a7", "#0072b2", "#8c564b", "#f0e442",
    "#7f7f7f", "#bcbd22",
];
