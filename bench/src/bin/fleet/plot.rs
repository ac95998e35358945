//! The run's plot: latency against rate, one line per system and percentile, as a small
//! hand-written SVG (log-scaled latency, since the systems differ by orders of magnitude).

use std::fmt::Write as _;

/// One line of the plot: (rate msg/s, latency ms) points.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 220.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG document; `None` when no line has a point.
pub fn svg(title: &str, lines: &[Line]) -> Option<String> {
    let all: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .collect();
    if all.is_empty() {
        return None;
    }
    let max_rate = all.iter().map(|p| p.0).fold(1.0, f64::max);
    let lat = |v: f64| v.max(0.01).log10();
    let lo = all
        .iter()
        .map(|p| lat(p.1))
        .fold(f64::MAX, f64::min)
        .floor();
    let hi = all
        .iter()
        .map(|p| lat(p.1))
        .fold(f64::MIN, f64::max)
        .ceil()
        .max(lo + 1.0);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |r: f64| LEFT + r / max_rate * pw;
    let y = |ms: f64| TOP + ph - (lat(ms) - lo) / (hi - lo) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="18" font-size="13">{}</text>"#,
        escape(title)
    );
    // Axes, decades of latency, and the rates.
    let _ = writeln!(
        s,
        r#"<path d="M{LEFT} {TOP} V{} H{}" stroke="black" fill="none"/>"#,
        TOP + ph,
        LEFT + pw
    );
    let mut decade = lo;
    while decade <= hi {
        let ms = 10f64.powf(decade);
        let yy = y(ms);
        let _ = writeln!(
            s,
            r##"<path d="M{LEFT} {yy:.1} H{}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{ms} ms</text>"##,
            LEFT + pw,
            LEFT - 4.0,
            yy + 4.0
        );
        decade += 1.0;
    }
    let mut rates: Vec<f64> = all.iter().map(|p| p.0).collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    for r in rates {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}k</text>"#,
            x(r),
            TOP + ph + 16.0,
            r / 1000.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">rate (msg/s)</text>"#,
        LEFT + pw / 2.0,
        H - 10.0
    );
    for (i, line) in lines.iter().filter(|l| !l.points.is_empty()).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut points = line.points.clone();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let path: Vec<String> = points
            .iter()
            .map(|&(r, ms)| format!("{:.1},{:.1}", x(r), y(ms)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" stroke="{colour}" fill="none" stroke-width="2"/>"#,
            path.join(" ")
        );
        for &(r, ms) in &points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                x(r),
                y(ms)
            );
        }
        let ly = TOP + 14.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="3" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
            W - RIGHT + 12.0,
            ly + 4.0,
            W - RIGHT + 28.0,
            ly + 8.0,
            escape(&line.label)
        );
    }
    s.push_str("</svg>\n");
    Some(s)
}
