//! The pictures of the hand-computed district (`patrol_tests::district`): each SVG parses (the
//! PNG is rasterised from it by resvg, which refuses a broken SVG), holds the expected number
//! of features, and the PNG decodes to the SVG's size with the colours the data call for.
//! `PATROL_WRITE_SAMPLES=DIR` also writes the pictures there (how docs/ got its samples).

use patrol_core::render::Picture;
use patrol_core::report::Period;
use patrol_tests::district;

fn count(svg: &str, class: &str) -> usize {
    svg.matches(&format!("class=\"{class}\"")).count()
}

/// Decodes the PNG and returns how many pixels are close to `rgb`.
fn pixels_like(png: &[u8], rgb: [u8; 3]) -> (u32, u32, usize) {
    let img = image::load_from_memory(png).expect("a PNG").to_rgb8();
    let n = img
        .pixels()
        .filter(|p| {
            p.0.iter()
                .zip(rgb)
                .all(|(a, b)| (*a as i32 - b as i32).abs() <= 12)
        })
        .count();
    (img.width(), img.height(), n)
}

fn save(name: &str, p: &Picture, png: &[u8]) {
    if let Some(dir) = std::env::var_os("PATROL_WRITE_SAMPLES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.svg")), &p.svg).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

#[test]
fn patrol_map_colours_each_segment_and_draws_the_track() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let p = d.supervisor.render_patrol_map(d.first_patrol).unwrap();
    // A's assigned streets: 东街 (2 segments) and 西街 (1), all walked end to end.
    assert_eq!(count(&p.svg, "segment"), 3);
    assert_eq!(p.features["segment"], 3);
    assert_eq!(count(&p.svg, "track"), 1);
    assert_eq!(
        count(&p.svg, "street"),
        1,
        "南路 in grey; 北巷, 300 m east, is outside the frame"
    );
    let png = p.png().unwrap();
    save("patrol", &p, &png);
    let (w, h, green) = pixels_like(&png, [26, 152, 80]);
    assert_eq!((w, h), (p.width, p.height));
    assert!(
        green > 500,
        "fully covered segments are green: {green} pixels"
    );
}

#[test]
fn coverage_map_draws_every_segment_of_the_network() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let week = Period::parse("2024-W49").unwrap();
    let p = d.supervisor.render_coverage_map(Some(&week), 0.5).unwrap();
    assert_eq!(count(&p.svg, "segment"), 6);
    let png = p.png().unwrap();
    save("coverage", &p, &png);
    let (_, _, green) = pixels_like(&png, [26, 152, 80]);
    assert!(green > 500, "{green}");
    // A month with no patrols: every segment red, none green.
    let empty = d
        .supervisor
        .render_coverage_map(Some(&Period::parse("2025-01").unwrap()), 0.5)
        .unwrap();
    assert_eq!(count(&empty.svg, "segment"), 6);
    let png = empty.png().unwrap();
    let (_, _, green) = pixels_like(&png, [26, 152, 80]);
    let (_, _, red) = pixels_like(&png, [215, 48, 39]);
    assert!(
        red > 500 && green <= 240,
        "red {red}, green {green} (the legend's green swatch is 240 pixels)"
    );
    // All time equals the union of every patrol.
    let all = d.supervisor.network_coverage(None, 0.5).unwrap();
    assert_eq!(all.patrols.len(), 8, "A 4, B 3, the steward 1");
}

#[test]
fn issues_map_shows_the_open_issues() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let p = d.supervisor.render_issues_map(None).unwrap();
    // Open now: I3 (reopened), I5 (never assigned), I6 (the week before, never assigned).
    assert_eq!(count(&p.svg, "issue"), 3);
    let png = p.png().unwrap();
    save("issues", &p, &png);
    let week = d
        .supervisor
        .render_issues_map(Some(&Period::parse("2024-W49").unwrap()))
        .unwrap();
    assert_eq!(count(&week.svg, "issue"), 2);
}

#[test]
fn trends_count_found_and_closed_per_week() {
    let tmp = tempfile::tempdir().unwrap();
    let d = district::build(tmp.path());
    let p = d
        .supervisor
        .render_trends(Some(&Period::parse("2024-11-25..2024-12-15").unwrap()))
        .unwrap();
    // Three weeks: W48 (I6 found), W49 (I1-I5 found; I1, I2, I3 verified), W50 (I4 verified).
    assert_eq!(count(&p.svg, "bar-found"), 3);
    assert_eq!(count(&p.svg, "bar-closed"), 3);
    assert!(
        p.svg.contains("<title>2024-W48: 1 found</title>"),
        "{}",
        p.svg
    );
    assert!(p.svg.contains("<title>2024-W49: 5 found</title>"));
    assert!(p.svg.contains("<title>2024-W49: 3 closed</title>"));
    assert!(p.svg.contains("<title>2024-W50: 1 closed</title>"));
    let png = p.png().unwrap();
    save("trends", &p, &png);
    let (_, _, blue) = pixels_like(&png, [69, 117, 180]);
    assert!(blue > 200, "{blue}");
}

#[test]
fn a_broken_svg_is_refused_not_rendered() {
    let e = patrol_core::render::png("<svg><not closed")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a valid SVG"), "{e}");
}
