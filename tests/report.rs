//! End-to-end tests of the sweep report on the real binary: `run` draws every chart as
//! well-formed SVG (and a decodable PNG) naming each scheduler; `index.html` has a row per
//! run and links only to files that exist; `schedlab report OUT` rebuilds the same bytes
//! from the CSV files; the outputs do not depend on `--jobs`; a `--set` sweep gets metric
//! against parameter charts; broken or missing CSV files are errors naming file and line.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Two nodes, five pods that do not all fit at once: done in milliseconds, and the two
/// schedulers differ in where they put the pods.
const TINY: &str = "\
name: tiny
seed: 7
duration: 30m
sampleInterval: 60s
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"2\", memory: 4Gi}}]
workloads:
  - pod: web
    count: 5
    requests: {cpu: \"1\", memory: 1Gi}
    duration: 10m
";

const SCHEDULERS: [&str; 2] = ["first-fit", "least-allocated"];

/// Runs the binary from the repository root.
fn schedlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A sweep of the tiny scenario, 2 schedulers x 2 seeds, into `dir/out`, with `jobs`
/// threads and the extra arguments.
fn sweep(dir: &Path, out: &str, jobs: &str, extra: &[&str]) -> PathBuf {
    let scenario = dir.join("tiny.yaml");
    fs::write(&scenario, TINY).unwrap();
    let out = dir.join(out);
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--scheduler",
        SCHEDULERS[0],
        "--scheduler",
        SCHEDULERS[1],
        "--seeds",
        "2",
        "--jobs",
        jobs,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let result = schedlab(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    out
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    found
}

/// Checks that `text` is well-formed XML as far as an SVG file needs: every tag closed in
/// order, attribute values quoted, only known or numeric entities; returns the text content
/// (entities decoded) for the name checks.
fn check_xml(name: &str, text: &str) -> String {
    let mut stack: Vec<String> = Vec::new();
    let mut content = String::new();
    let mut rest = text;
    let mut roots = 0;
    while let Some(lt) = rest.find('<') {
        content.push_str(&decode(name, &rest[..lt]));
        content.push(' ');
        let gt = rest[lt..]
            .find('>')
            .unwrap_or_else(|| panic!("{name}: unterminated tag"))
            + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(closing) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("{name}: stray </{closing}>"));
            assert_eq!(open, closing.trim(), "{name}: </{closing}> closes <{open}>");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let element = tag.split_whitespace().next().unwrap_or("");
        assert!(!element.is_empty(), "{name}: empty tag");
        // Attributes: name="value" pairs, values without raw `<` or stray `&`.
        let mut attrs = tag[element.len()..].trim();
        while !attrs.is_empty() {
            let eq = attrs
                .find('=')
                .unwrap_or_else(|| panic!("{name}: bad attribute in <{tag}>"));
            let quote = attrs[eq + 1..].chars().next();
            assert_eq!(quote, Some('"'), "{name}: unquoted attribute in <{tag}>");
            let end = attrs[eq + 2..].find('"').unwrap() + eq + 2;
            let value = &attrs[eq + 2..end];
            assert!(
                !value.contains('<'),
                "{name}: `<` in an attribute of <{tag}>"
            );
            decode(name, value);
            attrs = attrs[end + 1..].trim_start();
        }
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(element.to_string());
        }
    }
    content.push_str(&decode(name, rest));
    assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
    assert_eq!(roots, 1, "{name}: one root element");
    content
}

/// Decodes the entities of XML text, failing on an unknown one.
fn decode(name: &str, text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..]
            .find(';')
            .unwrap_or_else(|| panic!("{name}: bare `&` in {text:?}"))
            + amp;
        let entity = &rest[amp + 1..semi];
        out.push_str(match entity {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" | "#39" => "'",
            e if e.starts_with('#') => "?",
            e => panic!("{name}: unknown entity &{e};"),
        });
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// The value of every `attr="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let start = i + needle.len();
            &html[start..start + html[start..].find('"').unwrap()]
        })
        .collect()
}

/// Percent-decodes a relative URL.
fn percent_decode(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&url[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Every link and image of the page resolves to a file under `out`; returns the images.
fn check_links(out: &Path, html: &str) -> Vec<String> {
    assert!(
        !html.contains("http:") && !html.contains("https:"),
        "the page fetches nothing"
    );
    for target in attribute_values(html, "href")
        .into_iter()
        .chain(attribute_values(html, "src"))
    {
        if let Some(anchor) = target.strip_prefix('#') {
            let id = format!("id=\"{anchor}\"");
            assert!(html.contains(&id), "no anchor {target}");
            continue;
        }
        let path = out.join(percent_decode(target));
        assert!(
            path.is_file(),
            "index.html links to a missing {}",
            path.display()
        );
    }
    attribute_values(html, "src")
        .into_iter()
        .map(percent_decode)
        .collect()
}

/// The chart files of one scenario folder of the tiny sweep.
const GROUP_CHARTS: [&str; 9] = [
    "pending",
    "cpu_alloc",
    "mem_alloc",
    "nodes",
    "bar-pods_scheduled",
    "bar-pods_pending_at_end",
    "bar-latency_p99_s",
    "bar-cpu_alloc_mean",
    "bar-mem_alloc_mean",
];

#[test]
fn a_sweep_gets_valid_charts_and_a_page_that_report_rebuilds_identically() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(dir.path(), "out", "2", &[]);

    // Every chart: SVG and PNG, the SVG well-formed and naming both schedulers.
    let charts = files(&out.join("charts"));
    let mut expected: Vec<String> = GROUP_CHARTS
        .iter()
        .flat_map(|c| [format!("tiny/{c}.png"), format!("tiny/{c}.svg")])
        .collect();
    expected.sort();
    assert_eq!(charts.keys().cloned().collect::<Vec<_>>(), expected);
    for (name, bytes) in &charts {
        if name.ends_with(".svg") {
            let text = std::str::from_utf8(bytes).unwrap();
            assert!(text.starts_with("<svg"), "{name}");
            let content = check_xml(name, text);
            for s in SCHEDULERS {
                assert!(content.contains(s), "{name} does not name {s}");
            }
        } else {
            let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (800, 480), "{name}");
        }
    }
    // Each line's legend gives its final value: the tiny cluster has 2 nodes throughout.
    let nodes = check_xml(
        "nodes.svg",
        std::str::from_utf8(&charts["tiny/nodes.svg"]).unwrap(),
    );
    assert!(nodes.contains("first-fit: final 2"), "{nodes}");
    assert!(nodes.contains("least-allocated: final 2"), "{nodes}");
    // The two lines coincide (2 nodes throughout), and both stay visible: the first is
    // one solid polyline with circles, the second dashes (many short polylines) with
    // triangles, its markers shifted along the line away from the first's.
    let svg = std::str::from_utf8(&charts["tiny/nodes.svg"]).unwrap();
    let polylines = |colour: &str| {
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{colour}\"")))
            .count()
    };
    assert_eq!(polylines("#0072B2"), 1);
    assert!(polylines("#D55E00") > 5, "{svg}");
    let circles: Vec<&str> = svg.lines().filter(|l| l.starts_with("<circle")).collect();
    let triangles: Vec<&str> = svg
        .lines()
        .filter(|l| {
            l.starts_with("<polygon") && l.contains("#D55E00") && l.contains("opacity=\"1\"")
        })
        .collect();
    assert!(circles.len() >= 5 && triangles.len() >= 5, "{svg}");
    // Marker centres: a circle's (cx, cy); a triangle's apex is 5 pixels above its centre.
    let centres: Vec<(i32, i32)> = circles
        .iter()
        .map(|c| {
            let attr = |a: &str| -> i32 {
                c.split(&format!(" {a}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            (attr("cx"), attr("cy"))
        })
        .collect();
    for t in &triangles {
        let apex = t
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let (x, y) = apex.split_once(',').unwrap();
        let centre: (i32, i32) = (x.parse().unwrap(), y.parse::<i32>().unwrap() + 5);
        assert!(
            !centres.contains(&centre),
            "a triangle sits on a circle: {t}"
        );
    }

    // The page: a row per run, in summary.csv's order, and only links that resolve.
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    let rows: Vec<&str> = html
        .lines()
        .filter(|l| l.starts_with("<tr class=\"run\">"))
        .collect();
    assert_eq!(rows.len(), 4, "{html}");
    for (row, (scheduler, seed)) in rows.iter().zip([
        ("first-fit", 1),
        ("first-fit", 2),
        ("least-allocated", 1),
        ("least-allocated", 2),
    ]) {
        let cells = format!(
            "<td class=\"text\">tiny</td><td class=\"text\">{scheduler}</td><td>{seed}</td>"
        );
        assert!(
            row.starts_with(&format!("<tr class=\"run\">{cells}")),
            "{row}"
        );
    }
    let images = check_links(&out, &html);
    assert_eq!(images.len(), GROUP_CHARTS.len());

    // `report` rebuilds the same bytes from the CSV files alone.
    let before = files(&out);
    fs::remove_dir_all(out.join("charts")).unwrap();
    fs::remove_file(out.join("index.html")).unwrap();
    let result = schedlab(&["report", out.to_str().unwrap()]);
    assert!(result.status.success(), "{}", stderr(&result));
    assert_eq!(
        String::from_utf8_lossy(&result.stdout),
        format!(
            "report: {} (9 charts in {})\n",
            out.join("index.html").display(),
            out.join("charts").display()
        )
    );
    assert!(files(&out) == before, "report rebuilt different files");

    // And the same again with one thread.
    let serial = sweep(dir.path(), "serial", "1", &[]);
    let (mut a, mut b) = (files(&out), files(&serial));
    // The manifest records the arguments, --jobs and --out included.
    a.remove("manifest.json");
    b.remove("manifest.json");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between -j2 and -j1");
    }
}

#[test]
fn a_parameter_sweep_charts_each_metric_against_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(
        dir.path(),
        "out",
        "2",
        &["--set", "cluster.nodePools.n.count=1,2,3"],
    );
    let charts = files(&out.join("charts"));
    let against = "tiny/vs-cluster.nodePools.n.count-pods_scheduled.svg";
    let text = std::str::from_utf8(&charts[against]).unwrap();
    let content = check_xml(against, text);
    for s in SCHEDULERS {
        assert!(content.contains(s), "{against} does not name {s}");
    }
    assert!(content.contains("cluster.nodePools.n.count"), "{content}");
    // Every point has its own folder of time series and bars.
    for count in 1..=3 {
        let name = format!("tiny_cluster.nodePools.n.count_{count}/pending.svg");
        let folder = fs::read_dir(out.join("charts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .find(|f| {
                f.ends_with(&format!("count_{count}")) || f.ends_with(&format!("count={count}"))
            })
            .unwrap_or_else(|| panic!("no chart folder for count {count}: {name}"));
        assert!(
            out.join("charts")
                .join(folder)
                .join("pending.svg")
                .is_file()
        );
    }
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    check_links(&out, &html);
    assert_eq!(html.matches("<tr class=\"run\">").count(), 12);
    assert_eq!(html.matches("<h3>cluster.nodePools.n.count=").count(), 3);
}

#[test]
fn broken_or_missing_files_are_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(dir.path(), "out", "2", &[]);
    let out_arg = out.to_str().unwrap();

    // A seed that is not a number, on the third line of summary.csv.
    let summary = out.join("summary.csv");
    let original = fs::read_to_string(&summary).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen(",first-fit,2,", ",first-fit,two,", 1);
    fs::write(&summary, lines.join("\n") + "\n").unwrap();
    let result = schedlab(&["report", out_arg]);
    assert_eq!(result.status.code(), Some(1));
    let message = stderr(&result);
    assert!(
        message.contains(&format!(
            "{}: line 3: column `seed`: `two` is not a seed",
            summary.display()
        )),
        "{message}"
    );

    // A record with a field too few.
    lines[2] = original
        .lines()
        .nth(2)
        .unwrap()
        .rsplit_once(',')
        .unwrap()
        .0
        .to_string();
    fs::write(&summary, lines.join("\n") + "\n").unwrap();
    let message = stderr(&schedlab(&["report", out_arg]));
    let header = original.lines().next().unwrap().split(',').count();
    assert!(
        message.contains(&format!(
            "{}: line 3: {} field(s), but the header has {header}",
            summary.display(),
            header - 1
        )),
        "{message}"
    );

    // A run's time series that is gone.
    fs::write(&summary, &original).unwrap();
    let series = out.join("tiny/least-allocated/seed-2/timeseries.csv");
    fs::remove_file(&series).unwrap();
    let result = schedlab(&["report", out_arg]);
    assert_eq!(result.status.code(), Some(1));
    assert!(
        stderr(&result).contains(&series.display().to_string()),
        "{}",
        stderr(&result)
    );

    // A number that is not one, in a time series.
    fs::write(
        &series,
        "time_s,pending,running,nodes,cpu_requested_cores,cpu_allocatable_cores,mem_requested_gib,mem_allocatable_gib,cpu_alloc,mem_alloc,fragmentation\n0.000000,x,0,2,0,4,0,8,0,0,0\n",
    )
    .unwrap();
    let message = stderr(&schedlab(&["report", out_arg]));
    assert!(
        message.contains(&format!(
            "{}: line 2: column `pending`: `x` is not a number",
            series.display()
        )),
        "{message}"
    );
    // A failed report leaves no staging folder behind.
    assert!(!out.join(".charts.tmp").exists());

    // No sweep at all.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let message = stderr(&schedlab(&["report", empty.to_str().unwrap()]));
    assert!(
        message.contains(&empty.join("summary.csv").display().to_string()),
        "{message}"
    );
}

#[test]
fn names_with_markup_are_escaped_in_the_page_and_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("markup.yaml");
    fs::write(
        &scenario,
        TINY.replace("name: tiny", "name: \"a <b>&amp; 'c' \\\"d\\\"\""),
    )
    .unwrap();
    let out = dir.path().join("out");
    let result = schedlab(&[
        "run",
        scenario.to_str().unwrap(),
        "--scheduler",
        "first-fit",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", stderr(&result));
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("<h2>a &lt;b&gt;&amp;amp; &#39;c&#39; &quot;d&quot;</h2>"),
        "{html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    check_links(&out, &html);
    for (name, bytes) in files(&out.join("charts")) {
        if name.ends_with(".svg") {
            let content = check_xml(&name, std::str::from_utf8(&bytes).unwrap());
            assert!(
                content.contains("a <b>&amp; 'c' \"d\""),
                "{name}: {content}"
            );
        }
    }
}

#[test]
fn with_a_trace_the_latency_cdf_and_the_node_timelines_are_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(dir.path(), "out", "2", &["--trace"]);
    let svg = fs::read_to_string(out.join("charts/tiny/latency-cdf.svg")).unwrap();
    let content = check_xml("latency-cdf.svg", &svg);
    // Four pods fit the two nodes at once; the fifth waits for one to finish. Pooled over
    // two seeds: ten pods per scheduler, and the legend's p99 is summary.csv's.
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let p99 = header.iter().position(|h| *h == "latency_p99_s").unwrap();
    for (k, s) in SCHEDULERS.iter().enumerate() {
        let row: Vec<&str> = summary.lines().nth(1 + 2 * k).unwrap().split(',').collect();
        let value: f64 = row[p99].parse().unwrap();
        let expected = format!("{s}: p50 0 s, p99 {} s (10 pods)", value);
        assert!(content.contains(&expected), "{expected} not in {content}");
    }
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("charts/tiny/latency-cdf.svg"));
    // And a per-node timeline per scheduler (first seed), naming the nodes the trace
    // bound pods to and the one workload.
    for s in SCHEDULERS {
        let name = format!("tiny/gantt-{s}.svg");
        let trace = fs::read_to_string(out.join(format!("tiny/{s}/seed-1/trace.csv"))).unwrap();
        let mut nodes: Vec<&str> = trace
            .lines()
            .filter_map(|l| l.split_once(",bound,").map(|(_, node)| node))
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        assert_eq!(nodes.len(), 2, "{trace}");
        let content = check_xml(
            &name,
            &fs::read_to_string(out.join("charts").join(&name)).unwrap(),
        );
        assert!(
            content.contains(&format!("pods per node, {s} seed 1")),
            "{content}"
        );
        assert!(content.split_whitespace().any(|w| w == "web"), "{content}");
        for node in nodes {
            assert!(
                content.contains(node),
                "{name} does not name {node}: {content}"
            );
        }
        assert!(html.contains(&format!("charts/tiny/gantt-{s}.svg")));
    }
    // And nodes.csv, each node's requests at each tick, with a heat map per scheduler:
    // at 0 s the four 1-CPU pods fill both 2-CPU nodes (half their memory); at 30 min,
    // every pod has finished.
    for s in SCHEDULERS {
        let csv = fs::read_to_string(out.join(format!("tiny/{s}/seed-1/nodes.csv"))).unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "time_s,node,cpu_requested_cores,cpu_allocatable_cores,mem_requested_gib,\
                 mem_allocatable_gib,cpu_alloc,mem_alloc"
            )
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        let at = |t: &str| -> Vec<Vec<&str>> {
            rows.iter()
                .filter(|r| r[0] == t)
                .map(|r| r[2..].to_vec())
                .collect()
        };
        let full = vec![
            "2.000000", "2.000000", "2.000000", "4.000000", "1.000000", "0.500000",
        ];
        assert_eq!(at("0.000000"), vec![full.clone(), full], "{csv}");
        let idle = vec![
            "0.000000", "2.000000", "0.000000", "4.000000", "0.000000", "0.000000",
        ];
        assert_eq!(at("1800.000000"), vec![idle.clone(), idle], "{csv}");
        let name = format!("tiny/heat-{s}.svg");
        let content = check_xml(
            &name,
            &fs::read_to_string(out.join("charts").join(&name)).unwrap(),
        );
        assert!(
            content.contains(&format!("CPU requested per node, {s} seed 1")),
            "{content}"
        );
        for row in rows.iter().take(2) {
            assert!(content.contains(row[1]), "{name} does not name {}", row[1]);
        }
        assert!(html.contains(&format!("charts/tiny/heat-{s}.svg")));
    }
    // Without --trace there is no CDF and no nodes.csv (see the first test's exact lists).
}
