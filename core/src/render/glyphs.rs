//! A small stroke font (capitals, digits, a little punctuation) drawn as SVG paths, so every
//! label renders the same in any SVG viewer and in the PNG rasteriser with no font installed:
//! phones may have no fonts for the renderer and the maps must work offline. Lowercase letters
//! are drawn as capitals; characters the font lacks (Chinese names) are skipped, which is why
//! pictures label with codes and numbers, not street names.

/// Glyphs on a 4 x 6 grid (y down), strokes separated by `|`, points by spaces.
fn glyph(c: char) -> Option<&'static str> {
    Some(match c {
        '0' => "0,0 4,0 4,6 0,6 0,0|0,6 4,0",
        '1' => "1,1 2,0 2,6|1,6 3,6",
        '2' => "0,1 1,0 3,0 4,1 4,2 0,6 4,6",
        '3' => "0,0 4,0 2,2 3,2 4,3 4,5 3,6 1,6 0,5",
        '4' => "3,6 3,0 0,4 4,4",
        '5' => "4,0 0,0 0,2 3,2 4,3 4,5 3,6 0,6",
        '6' => "4,0 1,0 0,1 0,5 1,6 3,6 4,5 4,4 3,3 0,3",
        '7' => "0,0 4,0 1,6",
        '8' => "1,0 3,0 4,1 4,2 3,3 1,3 0,2 0,1 1,0|1,3 0,4 0,5 1,6 3,6 4,5 4,4 3,3",
        '9' => "4,3 1,3 0,2 0,1 1,0 3,0 4,1 4,5 3,6 0,6",
        'A' => "0,6 0,2 2,0 4,2 4,6|0,4 4,4",
        'B' => "0,3 0,0 3,0 4,1 4,2 3,3 0,3 0,6 3,6 4,5 4,4 3,3",
        'C' => "4,0 1,0 0,1 0,5 1,6 4,6",
        'D' => "0,0 0,6 2,6 4,4 4,2 2,0 0,0",
        'E' => "4,0 0,0 0,6 4,6|0,3 3,3",
        'F' => "4,0 0,0 0,6|0,3 3,3",
        'G' => "4,1 3,0 1,0 0,1 0,5 1,6 3,6 4,5 4,3 2,3",
        'H' => "0,0 0,6|4,0 4,6|0,3 4,3",
        'I' => "1,0 3,0|2,0 2,6|1,6 3,6",
        'J' => "4,0 4,5 3,6 1,6 0,5",
        'K' => "0,0 0,6|4,0 0,4|1,3 4,6",
        'L' => "0,0 0,6 4,6",
        'M' => "0,6 0,0 2,3 4,0 4,6",
        'N' => "0,6 0,0 4,6 4,0",
        'O' => "1,0 3,0 4,1 4,5 3,6 1,6 0,5 0,1 1,0",
        'P' => "0,6 0,0 3,0 4,1 4,2 3,3 0,3",
        'Q' => "1,0 3,0 4,1 4,5 3,6 1,6 0,5 0,1 1,0|2,4 4,6",
        'R' => "0,6 0,0 3,0 4,1 4,2 3,3 0,3|2,3 4,6",
        'S' => "4,1 3,0 1,0 0,1 0,2 1,3 3,3 4,4 4,5 3,6 1,6 0,5",
        'T' => "0,0 4,0|2,0 2,6",
        'U' => "0,0 0,5 1,6 3,6 4,5 4,0",
        'V' => "0,0 2,6 4,0",
        'W' => "0,0 1,6 2,3 3,6 4,0",
        'X' => "0,0 4,6|4,0 0,6",
        'Y' => "0,0 2,3 4,0|2,3 2,6",
        'Z' => "0,0 4,0 0,6 4,6",
        '.' => "2,5.6 2,6",
        ',' => "2,5 1.5,6.6",
        ':' => "2,1.6 2,2|2,4.6 2,5",
        '-' => "1,3 3,3",
        '+' => "0,3 4,3|2,1 2,5",
        '%' => {
            "0,6 4,0|0.5,0.5 1.2,0.5 1.2,1.2 0.5,1.2 0.5,0.5|2.8,4.8 3.5,4.8 3.5,5.5 2.8,5.5 2.8,4.8"
        }
        '/' => "0,6 4,0",
        '(' => "3,0 2,1 2,5 3,6",
        ')' => "1,0 2,1 2,5 1,6",
        '<' => "4,0 0,3 4,6",
        '>' => "0,0 4,3 0,6",
        '=' => "0,2 4,2|0,4 4,4",
        '#' => "1,0 1,6|3,0 3,6|0,2 4,2|0,4 4,4",
        '_' => "0,6 4,6",
        '?' => "0,1 1,0 3,0 4,1 4,2 2,3 2,4|2,5.6 2,6",
        _ => return None,
    })
}

/// Width of a character cell in grid units (glyph 4 plus spacing 2).
const ADVANCE: f64 = 6.0;

/// The path data (`d`) of `text` with its top-left at (x, y) and capitals `size` pixels tall.
pub fn text_path(text: &str, x: f64, y: f64, size: f64) -> String {
    let k = size / 6.0;
    let mut d = String::new();
    for (i, c) in text.chars().flat_map(char::to_uppercase).enumerate() {
        let Some(g) = glyph(c) else { continue };
        let ox = x + i as f64 * ADVANCE * k;
        for stroke in g.split('|') {
            for (j, p) in stroke.split(' ').enumerate() {
                let Some((gx, gy)) = p.split_once(',') else {
                    continue;
                };
                let (gx, gy) = (
                    gx.parse::<f64>().unwrap_or(0.0),
                    gy.parse::<f64>().unwrap_or(0.0),
                );
                d.push_str(&format!(
                    "{}{:.1},{:.1}",
                    if j == 0 { "M" } else { "L" },
                    ox + gx * k,
                    y + gy * k
                ));
            }
        }
    }
    d
}

/// Width in pixels of `text` at `size`.
pub fn text_width(text: &str, size: f64) -> f64 {
    let n = text.chars().count() as f64;
    if n == 0.0 {
        0.0
    } else {
        (n * ADVANCE - 2.0) * size / 6.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_glyph_parses_on_its_grid() {
        for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:-+%/()<>=#_?".chars() {
            let g = glyph(c).unwrap_or_else(|| panic!("{c} has no glyph"));
            for stroke in g.split('|') {
                let pts: Vec<_> = stroke.split(' ').collect();
                assert!(pts.len() >= 2, "{c}: a stroke needs two points");
                for p in pts {
                    let (x, y) = p.split_once(',').unwrap();
                    let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                    assert!(
                        (0.0..=4.0).contains(&x) && (0.0..=7.0).contains(&y),
                        "{c}: {p}"
                    );
                }
            }
        }
        assert!(text_path("Ab 1", 0.0, 0.0, 12.0).starts_with("M0.0,12.0"));
        assert_eq!(
            text_path("八角", 0.0, 0.0, 12.0),
            "",
            "no glyphs for Chinese: nothing drawn"
        );
        assert_eq!(text_width("AB", 6.0), 10.0);
    }
}
