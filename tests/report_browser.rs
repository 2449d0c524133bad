//! The report page in a real headless browser (Debian's `chromium`): it loads, every image
//! in it loads, nothing is written to the console, and its table shows a row per run. Ignored by default (it needs chromium
//! and takes seconds); `.ci/run` installs chromium when it can and runs it with
//! `cargo test --test report_browser -- --ignored`. Without chromium the test prints a
//! visible SKIP line and passes.
//!
//! The check runs in a small harness page beside the report that loads `index.html` in an
//! iframe (file URLs share an origin under `--allow-file-access-from-files`), then writes
//! what it found into its own DOM, which `--dump-dom` prints.

use std::fs;
use std::path::Path;
use std::process::Command;

const TINY: &str = "\
name: tiny
seed: 7
duration: 30m
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"2\", memory: 4Gi}}]
workloads:
  - pod: web
    count: 5
    requests: {cpu: \"1\", memory: 1Gi}
    duration: 10m
";

/// After the report has loaded: the number of run rows, of images, of images that
/// loaded, and any script error, as one line in `<pre id="result">`.
const HARNESS: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body>
<pre id="result">pending</pre>
<iframe id="report" src="index.html" width="1200" height="800"></iframe>
<script>
var errors = [];
window.addEventListener('error', function (e) { errors.push(String(e.message)); });
document.getElementById('report').addEventListener('load', function () {
  var out = document.getElementById('result');
  try {
    var doc = this.contentDocument;
    var images = Array.prototype.slice.call(doc.images);
    var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
    out.textContent = 'rows=' + doc.querySelectorAll('tr.run').length +
      ' images=' + images.length + ' loaded=' + loaded.length +
      ' errors=' + errors.length;
  } catch (e) {
    out.textContent = 'failed: ' + e;
  }
});
</script>
</body></html>
"#;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
#[ignore = "needs chromium; run by .ci/run with --ignored"]
fn the_page_loads_with_every_image_and_a_row_per_run() {
    let Some(browser) = chromium() else {
        println!("SKIP the_page_loads_with_every_image_and_a_row_per_run: no chromium on PATH");
        eprintln!("SKIP the_page_loads_with_every_image_and_a_row_per_run: no chromium on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("tiny.yaml");
    fs::write(&scenario, TINY).unwrap();
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--scheduler",
            "first-fit",
        ])
        .args(["--scheduler", "least-allocated", "--seeds", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let harness = out.join("browser-check.html");
    fs::write(&harness, HARNESS).unwrap();
    let profile = dir.path().join("profile");
    let result = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            // Console messages (errors included) go to stderr as `CONSOLE(...)` lines.
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", absolute(&harness)))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&result.stdout);
    let log = String::from_utf8_lossy(&result.stderr);
    assert!(
        dom.contains("rows=4 images=9 loaded=9 errors=0"),
        "{dom}\n{log}"
    );
    assert!(!log.contains("CONSOLE"), "console messages: {log}");
}

fn absolute(path: &Path) -> String {
    fs::canonicalize(path)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}
