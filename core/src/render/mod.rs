//! Pictures a supervisor would rather look at than read, made from the store's data alone (no
//! map tiles: the phones may be offline): a patrol's track over its streets with each segment
//! coloured by how much of it the patrol covered; the open issues by category and age; the
//! whole network coloured by coverage over a period; and weekly trends of issues found and
//! closed. Each is an SVG ([`svg::Canvas`]); [`png`] rasterises the same SVG with resvg, so the
//! two never disagree. Labels use a built-in stroke font ([`glyphs`]), so no font is needed.
//!
//! Each picture is drawn from plain data handed in; `facts` reads what they need from a store
//! (functions over a connection), and the entry points on a store (`Store::render_patrol_map`
//! and the others) are in `crate::api::reports`.

pub mod glyphs;
pub mod svg;

pub(crate) mod facts;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::coverage::PatrolCoverage;
use crate::domain::{FixVerdict, StoredFix};
use crate::error::{Error, Result};
use crate::geodesy::LocalProjection;
use crate::issues::Catalog;
use crate::patrol::PatrolInfo;
use crate::report::NetworkCoverage;
use crate::report::period::{DAY_MS, Period, beijing_date, beijing_time_text, week_start_ms};
use crate::report::score::num;
use crate::spatial::IndexedNetwork;
use svg::{Canvas, PALETTE, coverage_colour};

/// A rendered picture and how many of each kind of feature it drew.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Picture {
    #[serde(skip)]
    pub svg: String,
    pub width: u32,
    pub height: u32,
    /// Feature class -> count (`segment`, `track`, `issue`, `bar-found` ...).
    pub features: BTreeMap<String, usize>,
}

impl Picture {
    fn from(canvas: Canvas, features: BTreeMap<String, usize>) -> Self {
        let (width, height) = (canvas.width as u32, canvas.height as u32);
        Self {
            svg: canvas.finish(),
            width,
            height,
            features,
        }
    }

    /// The picture as PNG (the SVG rasterised by resvg).
    pub fn png(&self) -> Result<Vec<u8>> {
        png(&self.svg)
    }
}

/// Rasterises an SVG document to PNG at its own size.
pub fn png(svg_text: &str) -> Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_str(svg_text, &usvg::Options::default())
        .map_err(|e| Error::InvalidInput(format!("not a valid SVG picture: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "cannot make a {}x{} picture",
            size.width(),
            size.height()
        ))
    })?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| Error::InvalidInput(format!("cannot encode the PNG: {e}")))
}

const WIDTH: f64 = 1000.0;
const MARGIN: f64 = 30.0;
const HEADER: f64 = 60.0;
const FOOTER: f64 = 70.0;
const INK: &str = "#222222";
const STREET_GREY: &str = "#c8c8c8";

/// Maps WGS-84 to pixels: a local metric projection fitted into the drawing area, north up.
struct Frame {
    proj: LocalProjection,
    min_x: f64,
    max_y: f64,
    scale: f64,
    left: f64,
    top: f64,
}

impl Frame {
    /// A frame fitting `points` (lat, lon) with `pad_m` metres around; the picture's height
    /// follows the area's shape.
    fn fit(points: &[(f64, f64)], pad_m: f64) -> Option<(Frame, f64)> {
        let proj = LocalProjection::centred_on(points.iter().copied())?;
        let xy: Vec<(f64, f64)> = points
            .iter()
            .map(|&(la, lo)| proj.to_metres(la, lo))
            .collect();
        let min_x = xy.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) - pad_m;
        let max_x = xy.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max) + pad_m;
        let min_y = xy.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) - pad_m;
        let max_y = xy.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max) + pad_m;
        let (dx, dy) = ((max_x - min_x).max(1.0), (max_y - min_y).max(1.0));
        let inner_w = WIDTH - 2.0 * MARGIN;
        let inner_h = (inner_w * dy / dx).clamp(300.0, 900.0);
        let scale = (inner_w / dx).min(inner_h / dy);
        let height = HEADER + inner_h + FOOTER;
        let left = MARGIN + (inner_w - dx * scale) / 2.0;
        let top = HEADER + (inner_h - dy * scale) / 2.0;
        Some((
            Frame {
                proj,
                min_x,
                max_y,
                scale,
                left,
                top,
            },
            height,
        ))
    }

    fn px(&self, lat: f64, lon: f64) -> (f64, f64) {
        let (x, y) = self.proj.to_metres(lat, lon);
        (
            self.left + (x - self.min_x) * self.scale,
            self.top + (self.max_y - y) * self.scale,
        )
    }

    fn line(&self, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
        points.iter().map(|&(la, lo)| self.px(la, lo)).collect()
    }
}

fn count(features: &mut BTreeMap<String, usize>, class: &str) {
    *features.entry(class.to_owned()).or_default() += 1;
}

/// A scale bar of a round length in the footer.
fn scale_bar(c: &mut Canvas, frame: &Frame, y: f64) {
    let target_m = 150.0 / frame.scale;
    let nice = [
        10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
    ];
    let m = nice
        .iter()
        .copied()
        .rev()
        .find(|&n| n <= target_m)
        .unwrap_or(10.0);
    let w = m * frame.scale;
    let x = WIDTH - MARGIN - w;
    c.polyline(
        &[(x, y), (x, y + 6.0), (x + w, y + 6.0), (x + w, y)],
        INK,
        2.0,
        1.0,
        "scale",
        None,
    );
    let label = if m >= 1000.0 {
        format!("{} KM", num(m / 1000.0))
    } else {
        format!("{} M", num(m))
    };
    c.text_centre(x + w / 2.0, y + 12.0, 12.0, &label, INK);
}

/// The coverage ramp with its percentages.
fn coverage_legend(c: &mut Canvas, x: f64, y: f64) {
    let steps = 10;
    for i in 0..steps {
        let r = i as f64 / (steps - 1) as f64;
        c.rect(
            x + i as f64 * 20.0,
            y,
            20.0,
            12.0,
            &coverage_colour(r),
            "legend",
            None,
        );
    }
    c.text(x, y + 18.0, 11.0, "0%", INK);
    c.text_centre(x + 100.0, y + 18.0, 11.0, "50%", INK);
    c.text_right(x + 200.0, y + 18.0, 11.0, "100%", INK);
    c.text(x + 215.0, y, 12.0, "COVERED", INK);
}

/// Grey background streets within the frame.
fn background_streets(
    c: &mut Canvas,
    frame: &Frame,
    net: &IndexedNetwork,
    skip: &dyn Fn(usize) -> bool,
) {
    for (i, seg) in net.network.segments.iter().enumerate() {
        if !skip(i) {
            c.polyline(
                &frame.line(&seg.points),
                STREET_GREY,
                2.0,
                1.0,
                "street",
                None,
            );
        }
    }
}

/// A patrol's track over its streets, each segment of its assigned and visited streets
/// coloured by the share of it this patrol covered (`cov`, on `net`).
pub(crate) fn patrol_map(
    info: &PatrolInfo,
    net: &IndexedNetwork,
    cov: &PatrolCoverage,
    fixes: &[StoredFix],
) -> Result<Picture> {
    let id = info.id;
    let kept: Vec<_> = fixes
        .iter()
        .filter(|f| f.verdict == FixVerdict::Kept)
        .collect();
    let mut coloured: BTreeMap<usize, f64> = BTreeMap::new();
    for s in cov.streets.iter().chain(cov.visited_unassigned.iter()) {
        for seg in &s.segments {
            if let Some(i) = net.network.segment_index(seg.segment_id) {
                coloured.insert(
                    i,
                    if seg.length_m > 0.0 {
                        seg.covered_m / seg.length_m
                    } else {
                        0.0
                    },
                );
            }
        }
    }
    let mut pts: Vec<(f64, f64)> = kept.iter().map(|f| (f.lat, f.lon)).collect();
    for &i in coloured.keys() {
        pts.extend(net.network.segments[i].points.iter().copied());
    }
    let (frame, height) = Frame::fit(&pts, 60.0).ok_or_else(|| {
        Error::InvalidInput(format!(
            "patrol {id} has no kept fixes and no streets to draw"
        ))
    })?;
    let mut c = Canvas::new(WIDTH, height, "#f7f7f2");
    let mut features = BTreeMap::new();
    let bbox_px =
        |p: (f64, f64)| p.0 >= -50.0 && p.0 <= WIDTH + 50.0 && p.1 >= -50.0 && p.1 <= height + 50.0;
    for (i, seg) in net.network.segments.iter().enumerate() {
        if coloured.contains_key(&i) {
            continue;
        }
        let line = frame.line(&seg.points);
        if line.iter().any(|p| bbox_px(*p)) {
            c.polyline(&line, STREET_GREY, 2.0, 1.0, "street", None);
        }
    }
    for (&i, &ratio) in &coloured {
        let seg = &net.network.segments[i];
        let tip = format!(
            "{} #{}: {:.0} % covered",
            net.network.street_of(i).label(),
            seg.ordinal,
            ratio * 100.0
        );
        c.polyline(
            &frame.line(&seg.points),
            &coverage_colour(ratio),
            12.0,
            1.0,
            "segment",
            Some(&tip),
        );
        count(&mut features, "segment");
    }
    for run in kept.chunk_by(|a, b| a.segment == b.segment) {
        let line: Vec<_> = run.iter().map(|f| frame.px(f.lat, f.lon)).collect();
        if line.len() >= 2 {
            c.polyline(&line, "#1f3f8f", 1.8, 0.9, "track", None);
            count(&mut features, "track");
        }
    }
    if let (Some(first), Some(last)) = (kept.first(), kept.last()) {
        let (x, y) = frame.px(first.lat, first.lon);
        c.circle(x, y, 6.0, "#1a9850", "#ffffff", 2.0, "start", Some("start"));
        let (x, y) = frame.px(last.lat, last.lon);
        c.circle(x, y, 6.0, "#222222", "#ffffff", 2.0, "end", Some("end"));
    }
    let stats = info.summary.clone();
    let title = format!(
        "PATROL {}  {}  {}  COVERED {:.0}%",
        beijing_time_text(info.started_at_ms),
        stats
            .as_ref()
            .map(|s| format!("{} KM", num(s.distance_m / 1000.0)))
            .unwrap_or_default(),
        stats
            .as_ref()
            .map(|s| format!("{:.0} MIN", s.duration_s / 60.0))
            .unwrap_or_default(),
        cov.totals.covered_ratio * 100.0
    );
    c.title(MARGIN, 20.0, 18.0, &title, INK);
    coverage_legend(&mut c, MARGIN, height - FOOTER + 20.0);
    scale_bar(&mut c, &frame, height - FOOTER + 20.0);
    Ok(Picture::from(c, features))
}

/// An open issue as the issues map draws it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpenIssue {
    pub id: String,
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    pub reported_at_ms: i64,
    pub due_at_ms: i64,
}

/// Open issues (newest first) as dots: colour by category (the order of `catalog`), size by
/// age at `now`, a dark ring when overdue; the street network in grey beneath.
pub(crate) fn issues_map(
    now: i64,
    issues: &[OpenIssue],
    net: Option<&IndexedNetwork>,
    catalog: &Catalog,
) -> Result<Picture> {
    let mut pts: Vec<(f64, f64)> = issues.iter().map(|i| (i.lat, i.lon)).collect();
    if let Some(n) = net {
        pts.extend(
            n.network
                .segments
                .iter()
                .flat_map(|s| s.points.iter().copied()),
        );
    }
    let (frame, height) = Frame::fit(&pts, 40.0).ok_or_else(|| {
        Error::InvalidInput("no open issues and no street network to draw".into())
    })?;
    let mut c = Canvas::new(WIDTH, height, "#f7f7f2");
    let mut features = BTreeMap::new();
    if let Some(n) = net {
        background_streets(&mut c, &frame, n, &|_| false);
    }
    let colour_of = |cat: &str| {
        let i = catalog
            .all()
            .iter()
            .position(|s| s.code == cat)
            .unwrap_or(PALETTE.len() - 1);
        PALETTE[i % PALETTE.len()]
    };
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    // Oldest last, so they are drawn on top.
    for issue in issues.iter().rev() {
        let (id, cat) = (&issue.id, &issue.category);
        let age_days = ((now - issue.reported_at_ms).max(0) as f64 / DAY_MS as f64).min(30.0);
        let r = 4.0 + age_days / 30.0 * 8.0;
        let (x, y) = frame.px(issue.lat, issue.lon);
        let overdue = issue.due_at_ms < now;
        let tip = format!(
            "{cat} {id}, {:.0} days old{}",
            age_days,
            if overdue { ", overdue" } else { "" }
        );
        c.circle(
            x,
            y,
            r,
            colour_of(cat),
            if overdue { "#000000" } else { "#ffffff" },
            if overdue { 2.0 } else { 1.0 },
            "issue",
            Some(&tip),
        );
        count(&mut features, "issue");
        *used.entry(cat.clone()).or_default() += 1;
    }
    c.title(
        MARGIN,
        20.0,
        18.0,
        &format!(
            "OPEN ISSUES: {}  AT {}",
            issues.len(),
            beijing_time_text(now)
        ),
        INK,
    );
    // Legend: categories with counts, then dot sizes by age.
    let mut x = MARGIN;
    let y = height - FOOTER + 14.0;
    for (cat, n) in &used {
        let label = format!("{} {n}", cat.replace('_', " "));
        c.circle(
            x + 6.0,
            y + 6.0,
            6.0,
            colour_of(cat),
            "#ffffff",
            1.0,
            "legend",
            None,
        );
        c.text(x + 16.0, y, 11.0, &label, INK);
        x += 16.0 + glyphs::text_width(&label, 11.0) + 18.0;
        if x > WIDTH - 200.0 {
            x = MARGIN;
        }
    }
    let y2 = height - FOOTER + 40.0;
    age_legend(&mut c, y2);
    scale_bar(&mut c, &frame, y2);
    Ok(Picture::from(c, features))
}

/// Dot sizes by age (new, a week, a month or more) and the overdue ring, in a row at `y`.
fn age_legend(c: &mut Canvas, y: f64) {
    let mut x = MARGIN;
    for (days, label) in [(0.0, "NEW"), (7.0, "7 DAYS"), (30.0, "30+ DAYS")] {
        let r = 4.0 + days / 30.0 * 8.0;
        c.circle(x + r, y + 8.0, r, "#999999", "#ffffff", 1.0, "legend", None);
        c.text(x + 2.0 * r + 6.0, y + 2.0, 11.0, label, INK);
        x += 2.0 * r + 6.0 + glyphs::text_width(label, 11.0) + 24.0;
    }
    c.circle(
        x + 8.0,
        y + 8.0,
        8.0,
        "#999999",
        "#000000",
        2.0,
        "legend",
        None,
    );
    c.text(x + 22.0, y + 2.0, 11.0, "OVERDUE", INK);
}

/// The whole street network, each segment coloured by how much of it the patrols of `period`
/// (all patrols when `None`) covered together (`cov`, on `net`).
pub(crate) fn coverage_map(
    net: &IndexedNetwork,
    cov: &NetworkCoverage,
    period: Option<&Period>,
) -> Result<Picture> {
    let pts: Vec<(f64, f64)> = net
        .network
        .segments
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let (frame, height) = Frame::fit(&pts, 40.0)
        .ok_or_else(|| Error::InvalidInput("the street network is empty".into()))?;
    let mut c = Canvas::new(WIDTH, height, "#f7f7f2");
    let mut features = BTreeMap::new();
    // Uncovered first, so covered segments are drawn over them at junctions.
    let mut order: Vec<_> = cov.segments.iter().collect();
    order.sort_by(|a, b| a.covered_ratio.total_cmp(&b.covered_ratio));
    for s in order {
        let Some(seg) = net.network.segments.get(s.segment) else {
            continue;
        };
        let tip = format!(
            "{} #{}: {:.0} % covered, {} patrol(s)",
            net.network.street_of(s.segment).label(),
            seg.ordinal,
            s.covered_ratio * 100.0,
            s.patrols
        );
        c.polyline(
            &frame.line(&seg.points),
            &coverage_colour(s.covered_ratio),
            4.0,
            1.0,
            "segment",
            Some(&tip),
        );
        count(&mut features, "segment");
    }
    let label = period
        .map(|p| p.label.clone())
        .unwrap_or_else(|| "ALL TIME".into());
    c.title(
        MARGIN,
        20.0,
        18.0,
        &format!(
            "COVERAGE {label}: {} PATROLS, {:.0}% OF THE NETWORK",
            cov.patrols.len(),
            cov.covered_ratio(&net.network) * 100.0
        ),
        INK,
    );
    coverage_legend(&mut c, MARGIN, height - FOOTER + 20.0);
    scale_bar(&mut c, &frame, height - FOOTER + 20.0);
    Ok(Picture::from(c, features))
}

/// The weeks a trends picture shows (ISO weeks, Beijing): the weeks of `period`, or the 12
/// weeks up to `now`. Returns where the first week starts, where the last ends, and how many
/// there are (1 to 104).
pub(crate) fn trend_weeks(now: i64, period: Option<&Period>) -> (i64, i64, usize) {
    let (from, to) = match period {
        Some(p) => (week_start_ms(p.from_ms), p.to_ms),
        None => (
            week_start_ms(now) - 11 * 7 * DAY_MS,
            week_start_ms(now) + 7 * DAY_MS,
        ),
    };
    let weeks = (((to - from) as f64) / (7.0 * DAY_MS as f64))
        .ceil()
        .clamp(1.0, 104.0) as usize;
    (from, to, weeks)
}

/// Counts of times (ms) per week from `from`: `weeks` counts, times outside them left out.
pub(crate) fn per_week(from: i64, weeks: usize, times: &[i64]) -> Vec<u64> {
    let mut out = vec![0u64; weeks];
    for &t in times {
        let w = (t - from).div_euclid(7 * DAY_MS);
        if let Some(n) = usize::try_from(w).ok().and_then(|w| out.get_mut(w)) {
            *n += 1;
        }
    }
    out
}

/// Issues found (reported) and closed (verified, cancelled or marked duplicate) per week from
/// `from`, as paired bars (see [`trend_weeks`]); `found` and `closed` have one count a week.
pub(crate) fn trends(period: Option<&Period>, from: i64, found: &[u64], closed: &[u64]) -> Picture {
    let weeks = found.len().min(closed.len()).max(1);
    let height = 520.0;
    let mut c = Canvas::new(WIDTH, height, "#ffffff");
    let mut features = BTreeMap::new();
    let (left, right, top, bottom) = (70.0, WIDTH - MARGIN, HEADER + 20.0, height - 80.0);
    let max = found
        .iter()
        .chain(closed.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(max);
    let top_value = (max as f64 / step).ceil() * step;
    let y_of = |v: f64| bottom - (bottom - top) * v / top_value;
    let mut v = 0.0;
    while v <= top_value + 1e-9 {
        c.polyline(
            &[(left, y_of(v)), (right, y_of(v))],
            "#e0e0e0",
            1.0,
            1.0,
            "grid",
            None,
        );
        c.text_right(left - 8.0, y_of(v) - 5.0, 11.0, &num(v), INK);
        v += step;
    }
    let slot = (right - left) / weeks as f64;
    let bar = (slot * 0.38).min(40.0);
    for w in 0..weeks {
        let x = left + slot * w as f64 + slot / 2.0;
        let start = from + w as i64 * 7 * DAY_MS;
        let d = beijing_date(start);
        let (iso_year, iso_week, _) = d.to_iso_week_date();
        for (k, (vals, colour, class)) in [
            (found, "#4575b4", "bar-found"),
            (closed, "#1a9850", "bar-closed"),
        ]
        .into_iter()
        .enumerate()
        {
            let count_of_week = vals.get(w).copied().unwrap_or(0);
            let val = count_of_week as f64;
            let bx = x - bar + k as f64 * bar;
            let tip = format!(
                "{iso_year}-W{iso_week:02}: {} {}",
                count_of_week,
                if k == 0 { "found" } else { "closed" }
            );
            c.rect(
                bx,
                y_of(val),
                bar - 2.0,
                bottom - y_of(val),
                colour,
                class,
                Some(&tip),
            );
            count(&mut features, class);
        }
        if weeks <= 26 || w % 2 == 0 {
            c.text_centre(x, bottom + 8.0, 11.0, &format!("W{iso_week:02}"), INK);
        }
    }
    c.polyline(
        &[(left, top - 10.0), (left, bottom), (right, bottom)],
        INK,
        1.5,
        1.0,
        "axis",
        None,
    );
    let label = period
        .map(|p| p.label.clone())
        .unwrap_or_else(|| "LAST 12 WEEKS".into());
    c.title(
        MARGIN,
        20.0,
        18.0,
        &format!(
            "ISSUES PER WEEK {label}: {} FOUND, {} CLOSED",
            found.iter().sum::<u64>(),
            closed.iter().sum::<u64>()
        ),
        INK,
    );
    c.rect(left, height - 40.0, 14.0, 14.0, "#4575b4", "legend", None);
    c.text(left + 20.0, height - 39.0, 12.0, "FOUND (REPORTED)", INK);
    c.rect(
        left + 220.0,
        height - 40.0,
        14.0,
        14.0,
        "#1a9850",
        "legend",
        None,
    );
    c.text(
        left + 240.0,
        height - 39.0,
        12.0,
        "CLOSED (VERIFIED, CANCELLED, DUPLICATE)",
        INK,
    );
    Picture::from(c, features)
}

/// A round step for an axis up to `max` with about five lines.
fn nice_step(max: u64) -> f64 {
    let raw = max as f64 / 5.0;
    let mag = 10f64.powf(raw.log10().floor()).max(1.0);
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}
