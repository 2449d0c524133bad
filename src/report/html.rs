//! `OUT/index.html`: one page with, per scenario, the runs' summary rows, the statistics
//! and the charts. It fetches nothing: the charts are SVG files referenced relative to OUT
//! and the style sheet is inline, so the page reads the same from a file as from a server.
//! Every text that comes from the CSV files is escaped.

use std::fmt::Write as _;
use std::path::Path;

use super::{ChartRef, ChartsBySection, Model};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes a relative path for an `href` or `src`: each segment percent-encoded where it
/// is not a plain file-name character, so names with `@`, `=` or `,` (parameter points)
/// and anything stranger still resolve.
fn url(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}\
th,td{border:1px solid #bbb;padding:2px 6px;text-align:right;white-space:nowrap}\
th{background:#eee}td.text{text-align:left}\
.scroll{overflow-x:auto;max-width:100%}\
.charts{display:flex;flex-wrap:wrap}.charts img{max-width:100%;width:560px;margin:4px;border:1px solid #ddd}\
tr.significant td{background:#fff4d6}";

fn table(
    page: &mut String,
    class: &str,
    header: &[&str],
    rows: impl Iterator<Item = (String, Vec<String>)>,
) {
    let _ = write!(
        page,
        "<div class=\"scroll\"><table class=\"{class}\"><thead><tr>"
    );
    for h in header {
        let _ = write!(page, "<th>{}</th>", escape(h));
    }
    page.push_str("</tr></thead><tbody>\n");
    for (row_class, cells) in rows {
        let _ = write!(page, "<tr class=\"{row_class}\">");
        for cell in cells {
            // Cells are either escaped text or (for file links) built here from escaped parts.
            page.push_str(&cell);
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></div>\n");
}

fn td(text: &str) -> String {
    if text.parse::<f64>().is_ok() || text.is_empty() {
        format!("<td>{}</td>", escape(text))
    } else {
        format!("<td class=\"text\">{}</td>", escape(text))
    }
}

fn charts(page: &mut String, charts: &[ChartRef]) {
    if charts.is_empty() {
        return;
    }
    page.push_str("<div class=\"charts\">\n");
    for c in charts {
        let _ = writeln!(
            page,
            "<a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\" title=\"{1}\"></a>",
            url(&c.svg),
            escape(&c.title)
        );
    }
    page.push_str("</div>\n");
}

/// The page, from the model and the charts drawn.
pub fn page(out: &Path, model: &Model, sections: &ChartsBySection) -> String {
    let find = |key: &str| -> &[ChartRef] {
        sections
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&[][..], |(_, c)| c.as_slice())
    };
    let summary = &model.summary;
    let stats = &model.stats;
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>schedlab report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>schedlab sweep report</h1>\n"
    );
    let _ = write!(
        page,
        "<p>{} run(s). Files: <a href=\"summary.csv\">summary.csv</a>, \
         <a href=\"stats.csv\">stats.csv</a>",
        summary.rows.len()
    );
    if out.join("manifest.json").is_file() {
        page.push_str(", <a href=\"manifest.json\">manifest.json</a>");
    }
    page.push_str(
        ". Time series: mean over seeds, band from the lowest to the highest seed. \
         Bars and whiskers: mean and 95% Student's t interval over seeds (stats.csv).</p>\n",
    );

    let mut scenarios: Vec<&str> = Vec::new();
    for g in &model.groups {
        if !scenarios.contains(&g.scenario.as_str()) {
            scenarios.push(&g.scenario);
        }
    }
    if scenarios.is_empty() {
        page.push_str("<p>No run finished: summary.csv lists no runs.</p>\n");
    } else {
        page.push_str("<ul>\n");
        for (i, s) in scenarios.iter().enumerate() {
            let _ = writeln!(page, "<li><a href=\"#scenario-{i}\">{}</a></li>", escape(s));
        }
        page.push_str("</ul>\n");
    }

    let stat_cols: Vec<usize> = (0..stats.header.len()).collect();
    let scheduler_col = summary.col("scheduler").unwrap_or(1);
    let seed_col = summary.col("seed").unwrap_or(2);
    for (i, scenario) in scenarios.iter().enumerate() {
        let _ = writeln!(
            page,
            "<section id=\"scenario-{i}\">\n<h2>{}</h2>",
            escape(scenario)
        );
        charts(&mut page, find(&format!("scenario:{scenario}")));
        for g in model.groups.iter().filter(|g| g.scenario == *scenario) {
            if !g.point.is_empty() {
                let label: Vec<String> = g.point.iter().map(|(p, v)| format!("{p}={v}")).collect();
                let _ = writeln!(page, "<h3>{}</h3>", escape(&label.join(", ")));
            }
            let rows: Vec<usize> = g
                .schedulers
                .iter()
                .flat_map(|s| s.runs.iter().map(|&(_, r)| r))
                .collect();
            // Only the columns some run of this group has a value in.
            let cols: Vec<usize> = (0..summary.header.len())
                .filter(|&c| rows.iter().any(|&r| !summary.cell(r, c).is_empty()))
                .collect();
            let mut header: Vec<&str> = cols.iter().map(|&c| summary.header[c].as_str()).collect();
            header.push("files");
            page.push_str("<h4>Runs (summary.csv)</h4>\n");
            table(
                &mut page,
                "runs",
                &header,
                rows.iter().map(|&r| {
                    let mut cells: Vec<String> =
                        cols.iter().map(|&c| td(summary.cell(r, c))).collect();
                    let seed = summary.cell(r, seed_col).parse().unwrap_or(0);
                    let dir = super::run_rel(g, summary.cell(r, scheduler_col), seed);
                    let dir = dir.to_string_lossy().replace('\\', "/");
                    cells.push(format!(
                        "<td class=\"text\"><a href=\"{}\">timeseries.csv</a></td>",
                        url(&format!("{dir}/timeseries.csv"))
                    ));
                    ("run".to_string(), cells)
                }),
            );
            charts(&mut page, find(&format!("group:{}", g.dir())));
            let stat_rows: Vec<usize> = super::StatsIndex::new(model)
                .map(|idx| idx.rows(&g.scenario, &g.point).collect())
                .unwrap_or_default();
            let mean_col = stats.col("mean").ok();
            let significant_col = stats.col("significant").ok();
            let _ = writeln!(
                page,
                "<details><summary>Statistics (stats.csv): {} row(s); highlighted: \
                 differences from the baseline whose interval excludes zero</summary>",
                stat_rows.len()
            );
            let header: Vec<&str> = stat_cols
                .iter()
                .map(|&c| stats.header[c].as_str())
                .collect();
            table(
                &mut page,
                "stats",
                &header,
                stat_rows
                    .iter()
                    .filter(|&&r| mean_col.is_none_or(|c| !stats.cell(r, c).is_empty()))
                    .map(|&r| {
                        let significant = significant_col
                            .is_some_and(|c| !matches!(stats.cell(r, c), "" | "false" | "0"));
                        (
                            if significant {
                                "stat significant"
                            } else {
                                "stat"
                            }
                            .to_string(),
                            stat_cols.iter().map(|&c| td(stats.cell(r, c))).collect(),
                        )
                    }),
            );
            page.push_str("</details>\n");
        }
        page.push_str("</section>\n");
    }
    page.push_str("</body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_paths_are_escaped() {
        assert_eq!(
            escape("a <b>&amp; 'c' \"d\""),
            "a &lt;b&gt;&amp;amp; &#39;c&#39; &quot;d&quot;"
        );
        assert_eq!(
            url("charts/x_cluster.n.count_1/vs-a b#?%\"<.svg"),
            "charts/x_cluster.n.count_1/vs-a%20b%23%3F%25%22%3C.svg"
        );
    }
}
