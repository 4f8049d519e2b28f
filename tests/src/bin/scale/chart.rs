//! The harness's figures as a picture: each run with `--chart DIR` keeps
//! its barred ratios in `DIR/<yardstick>-<users>.json`, then draws every
//! run kept there into `DIR/scale.svg`, one panel per run (yardstick and
//! size), one bar per operation: roster's ratio against the yardstick on a
//! logarithmic axis, with the bar it must reach marked. A run at another
//! size or on the other backend adds its panel; a run again replaces its
//! own.
//!
//! The SVG is written here, as text: a fixed layout of labelled bars needs
//! no plotting library.

use super::{Failure, Line};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// Keeps the run's barred lines beside the others in `dir`, then redraws
/// `dir/scale.svg` from all of them.
pub fn record(dir: &Path, n: u64, other: &str, lines: &[Line]) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)?;
    let bars: Vec<Value> = lines
        .iter()
        .filter_map(|l| {
            let (name, at_least) = l.bar?;
            Some(json!({"operation": name, "ratio": l.ratio(), "bar": at_least}))
        })
        .collect();
    let slug: String = other
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let run = json!({"yardstick": other, "users": n, "bars": bars});
    std::fs::write(
        dir.join(format!("{slug}-{n}.json")),
        serde_json::to_string_pretty(&run)?,
    )?;
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            runs.push(serde_json::from_str::<Value>(&std::fs::read_to_string(
                &path,
            )?)?);
        }
    }
    runs.sort_by_key(|r| {
        (
            r["yardstick"].as_str().map(str::to_owned),
            r["users"].as_u64(),
        )
    });
    let svg = draw(&runs);
    std::fs::write(dir.join("scale.svg"), svg)?;
    eprintln!("[scale] chart: {}", dir.join("scale.svg").display());
    Ok(())
}

/// Axis: ratios from 1/100 to 100, logarithmic.
const LOW: f64 = -2.0;
const HIGH: f64 = 2.0;
const LABEL_W: f64 = 150.0;
const PLOT_W: f64 = 420.0;
const ROW_H: f64 = 18.0;
const PANEL_GAP: f64 = 46.0;

/// The x position of `ratio` on the axis (clamped to it).
fn x(ratio: f64) -> f64 {
    let l = ratio.max(1e-9).log10().clamp(LOW, HIGH);
    LABEL_W + (l - LOW) / (HIGH - LOW) * PLOT_W
}

/// Text safe inside SVG.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The picture of `runs` (each as [`record`] keeps it).
fn draw(runs: &[Value]) -> String {
    let mut body = String::new();
    let mut y = 30.0;
    for run in runs {
        let yardstick = run["yardstick"].as_str().unwrap_or("?");
        let users = run["users"].as_u64().unwrap_or(0);
        let bars = run["bars"].as_array().cloned().unwrap_or_default();
        let _ = writeln!(
            body,
            r#"<text x="4" y="{y}" font-weight="bold">roster against {}, {users} users</text>"#,
            escape(yardstick)
        );
        y += 10.0;
        let top = y;
        for bar in &bars {
            let name = bar["operation"].as_str().unwrap_or("?");
            let at_least = bar["bar"].as_f64().unwrap_or(1.0);
            let text_y = y + ROW_H * 0.7;
            let _ = writeln!(
                body,
                r#"<text x="{}" y="{text_y}" text-anchor="end">{}</text>"#,
                LABEL_W - 6.0,
                escape(name)
            );
            match bar["ratio"].as_f64() {
                Some(ratio) => {
                    let (from, to) = (x(1.0).min(x(ratio)), x(1.0).max(x(ratio)));
                    let colour = if ratio >= at_least {
                        "#2e7d32"
                    } else {
                        "#c62828"
                    };
                    let _ = writeln!(
                        body,
                        r#"<rect x="{from:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} ratio {ratio:.2}, bar {at_least}</title></rect>"#,
                        y + 3.0,
                        (to - from).max(1.0),
                        ROW_H - 6.0,
                        escape(name)
                    );
                    let _ = writeln!(
                        body,
                        r#"<text x="{:.1}" y="{text_y}" font-size="10">{ratio:.2}</text>"#,
                        x(ratio).max(x(1.0)) + 4.0
                    );
                }
                None => {
                    let _ = writeln!(
                        body,
                        r#"<text x="{:.1}" y="{text_y}" font-size="10">not measured</text>"#,
                        x(1.0) + 4.0
                    );
                }
            }
            // The bar to reach.
            let _ = writeln!(
                body,
                r#"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}" stroke="black" stroke-width="2"/>"#,
                x(at_least),
                y + 1.0,
                y + ROW_H - 1.0
            );
            y += ROW_H;
        }
        // The axis: ticks at 1/100 … 100, the line of equal cost at 1.
        for (tick, label) in [
            (0.01, "0.01"),
            (0.1, "0.1"),
            (1.0, "1"),
            (10.0, "10"),
            (100.0, "100"),
        ] {
            let _ = writeln!(
                body,
                r##"<line x1="{0:.1}" x2="{0:.1}" y1="{top:.1}" y2="{y:.1}" stroke="{1}" stroke-dasharray="{2}"/>"##,
                x(tick),
                if tick == 1.0 { "#000" } else { "#bbb" },
                if tick == 1.0 { "none" } else { "3,3" }
            );
            let _ = writeln!(
                body,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{label}</text>"#,
                x(tick),
                y + 12.0
            );
        }
        y += PANEL_GAP;
    }
    let width = LABEL_W + PLOT_W + 60.0;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="4" y="14" font-size="11">ratio = the yardstick's cost / roster's (log scale; right of 1: roster is faster or smaller); black mark: the bar; green: met, red: missed</text>
{body}</svg>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_draws_one_bar_per_barred_operation_and_replaces_its_own_file() {
        let dir = tempfile::tempdir().expect("dir");
        let lines = vec![
            super::super::line("get by id p50 (µs)", 10.0, Some(20.0)).bar("id", 1.0),
            super::super::line("get by id p99 (µs)", 10.0, Some(20.0)),
            super::super::line("purge <all> (ms)", 40.0, Some(10.0)).bar("purge & co", 0.5),
        ];
        record(dir.path(), 1000, "SQLite", &lines).expect("record");
        record(dir.path(), 1000, "SQLite", &lines).expect("again");
        record(dir.path(), 500, "native SQL", &lines[..1]).expect("other");
        let svg = std::fs::read_to_string(dir.path().join("scale.svg")).expect("svg");
        assert_eq!(svg.matches("<rect x=").count(), 3, "{svg}");
        assert!(svg.contains("roster against SQLite, 1000 users"));
        assert!(svg.contains("roster against native SQL, 500 users"));
        assert!(
            svg.contains("purge &amp; co ratio 0.25"),
            "escaped, with its ratio"
        );
        assert!(
            svg.contains("#2e7d32") && svg.contains("#c62828"),
            "one met, one missed"
        );
        let kept = std::fs::read_dir(dir.path()).expect("read").count();
        assert_eq!(kept, 3, "two runs' files and the chart");
    }
}
