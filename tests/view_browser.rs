//! The replay page (`run --view`) in a real browser: Debian's headless `chromium` driven
//! through WebDriver by Debian's `chromedriver` (package `chromium-driver`). Ignored by
//! default (it needs both and takes seconds); `.ci/run` installs them when it can and
//! runs it with `cargo test --test view_browser -- --ignored`. Where they are missing the
//! test prints a visible SKIP line and passes.
//!
//! It checks that the page loads without a script error (the page's own
//! `window.viewErrors`, filled by an `error` listener installed before anything else
//! runs), that moving the slider to a time shows on each node the pods `trace.csv` puts
//! there at that time, and that clicking a pod shows its history and kube-default's
//! verdicts; it saves a screenshot and prints its path for a person to look at.
//!
//! The WebDriver client is the few requests the test needs, sent to chromedriver on
//! localhost with ureq (plain HTTP, JSON bodies through serde_json); screenshots arrive
//! as base64, which the base64 crate decodes.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

#[path = "support/view_trace.rs"]
mod view_trace;
use view_trace::{DEMO, pods_on_nodes, run_view, trace};

/// Chromium's flags that work in containers and CI: no sandbox (root), no GPU, and
/// nothing that reaches the network on its own.
const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
];

fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// chromedriver on a free local port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
    agent: ureq::Agent,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let driver = Driver { child, port, agent };
        let started = Instant::now();
        loop {
            if let Ok(status) = driver.try_request("GET", "/status", None)
                && status["value"]["ready"] == true
            {
                return driver;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One request; the answer's JSON, whatever its HTTP status, since WebDriver reports
    /// its errors as JSON in 4xx and 5xx answers.
    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ureq::Error> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let mut answer = match (method, body) {
            ("GET", None) => self.agent.get(&url).call(),
            ("DELETE", None) => self.agent.delete(&url).call(),
            ("POST", Some(body)) => self.agent.post(&url).send_json(body),
            _ => panic!("the test sends no {method} request with body {body:?}"),
        }?;
        answer.body_mut().read_json()
    }

    /// A request whose answer must not be a WebDriver error; its `value`.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = self.try_request(method, path, body.as_ref()).unwrap();
        let value = answer["value"].clone();
        assert!(value.get("error").is_none(), "{method} {path}: {value}");
        value
    }
}

/// A WebDriver session on one page.
struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn run(&self, script: &str) -> Value {
        self.driver.request(
            "POST",
            &format!("/session/{}/execute/sync", self.id),
            Some(json!({"script": script, "args": []})),
        )
    }

    fn click(&self, css: &str) {
        let element = self.driver.request(
            "POST",
            &format!("/session/{}/element", self.id),
            Some(json!({"using": "css selector", "value": css})),
        );
        let id = element["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap();
        self.driver.request(
            "POST",
            &format!("/session/{}/element/{id}/click", self.id),
            Some(json!({})),
        );
    }

    /// Moves the slider as a person would: a new value, then its `input` event.
    fn slide_to(&self, micros: u64) {
        self.run(&format!(
            "var s = document.getElementById('time'); s.value = '{micros}'; \
             s.dispatchEvent(new Event('input'));"
        ));
    }

    /// The pods drawn in each node's box, from the DOM.
    fn pods_shown(&self) -> BTreeMap<String, Vec<String>> {
        let shown = self.run(
            "var out = {}; document.querySelectorAll('#nodes .node').forEach(function (n) { \
               out[n.dataset.node] = Array.prototype.map.call( \
                 n.querySelectorAll('.bar.cpu .pod'), function (p) { return p.dataset.pod; }); \
             }); return out;",
        );
        serde_json::from_value(shown).unwrap()
    }
}

#[test]
#[ignore = "needs chromium and chromedriver; run by .ci/run with --ignored"]
fn the_page_replays_the_trace_in_chromium() {
    if !found("chromium") || !found("chromedriver") {
        println!(
            "SKIP the_page_replays_the_trace_in_chromium: chromium or chromedriver (Debian's chromium-driver) is not on PATH"
        );
        eprintln!(
            "SKIP the_page_replays_the_trace_in_chromium: chromium or chromedriver (Debian's chromium-driver) is not on PATH"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = run_view(dir.path(), DEMO, "kube-default");
    let rows = trace(&run);
    let page = fs::canonicalize(run.join("view.html")).unwrap();

    let driver = Driver::start();
    let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
    args.push(format!(
        "--user-data-dir={}",
        dir.path().join("profile").display()
    ));
    let session = driver.request(
        "POST",
        "/session",
        Some(json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium_binary(), "args": args}
        }}})),
    );
    let session = Session {
        driver: &driver,
        id: session["sessionId"].as_str().unwrap().to_string(),
    };
    // Lesson 10: nodes the cluster autoscaler adds at 370 s and removes at 1580 s.
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/learn/10-autoscaler.yaml");
    let out = view_trace::schedlab(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--view",
            "--out",
            "autoscaled",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let autoscaled = fs::canonicalize(
        dir.path()
            .join("autoscaled/learn-10-autoscaler/kube-default/seed-1/view.html"),
    )
    .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_page(&session, &page, &rows);
        check_nodes_come_and_go(&session, &autoscaled);
    }));
    driver.request("DELETE", &format!("/session/{}", session.id), None);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Debian's chromium is a shell script around the real binary, which chromedriver wants.
fn chromium_binary() -> String {
    ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("chromium")
        .to_string()
}

fn check_page(session: &Session<'_>, page: &Path, rows: &[(u64, String, String, String)]) {
    session.driver.request(
        "POST",
        &format!("/session/{}/url", session.id),
        Some(json!({"url": format!("file://{}", page.display())})),
    );
    assert_eq!(session.run("return document.readyState;"), "complete");
    assert_eq!(
        session.run("return window.viewErrors;"),
        json!([]),
        "script errors"
    );

    // At each of these times the boxes show what the trace says; 1199 s is after n1 has
    // been emptied and n3 drained.
    for seconds in [0, 60, 400, 660, 720, 1199] {
        let t = seconds * 1_000_000;
        session.slide_to(t);
        let mut expected = pods_on_nodes(rows, t);
        let shown = session.pods_shown();
        // Nodes without pods are drawn empty; the trace names only nodes with pods.
        for node in shown.keys() {
            expected.entry(node.clone()).or_default();
        }
        assert_eq!(shown, expected, "at {seconds} s");
    }
    assert_eq!(
        session.pods_shown().keys().collect::<Vec<_>>(),
        ["n1", "n2", "n3"],
        "n1 is still in the cluster, NotReady"
    );
    assert_eq!(
        session.run("return document.querySelector('.node[data-node=n1]').className;"),
        "node down"
    );
    assert_eq!(
        session.run("return document.querySelector('.node[data-node=n3]').className;"),
        "node cordoned"
    );

    // The pending pod: its history gives kube-scheduler's reason, its verdicts the
    // filter that rejected each node.
    session.slide_to(60_000_000);
    session.click("#queue .qpod[data-pod=big]");
    let history = session.run("return document.getElementById('history').innerText;");
    let history = history.as_str().unwrap();
    assert!(
        history.contains("attempt failed: 0/3 nodes are available: 3 Insufficient cpu."),
        "{history}"
    );
    let verdicts = session.run("return document.getElementById('verdicts').innerText;");
    assert_eq!(
        verdicts
            .as_str()
            .unwrap()
            .matches("NodeResourcesFit: Insufficient cpu")
            .count(),
        3,
        "{verdicts}"
    );
    // A bound pod: its node marked as kube-default's choice.
    session.click("#nodes .node[data-node=n1] .bar.cpu .pod[data-pod=web-1]");
    let history = session.run("return document.getElementById('history').innerText;");
    assert!(
        history.as_str().unwrap().contains("bound to n1"),
        "{history}"
    );
    let chosen = session.run("return document.querySelector('#verdicts tr.sel').innerText;");
    assert!(chosen.as_str().unwrap().starts_with("* n1"), "{chosen}");
    assert_eq!(
        session.run(
            "return Array.prototype.map.call(document.querySelectorAll('#verdicts th'), \
             function (h) { return h.textContent; });"
        ),
        json!(["node", "filters", "TT", "NRF", "NRBA", "total"])
    );
    assert_eq!(
        session.run("return window.viewErrors;"),
        json!([]),
        "script errors"
    );

    let png = base64::engine::general_purpose::STANDARD
        .decode(
            session
                .driver
                .request("GET", &format!("/session/{}/screenshot", session.id), None)
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("view-screenshot.png");
    fs::write(&shot, &png).unwrap();
    println!(
        "screenshot of the page at 60 s, pod web-1 selected: {}",
        shot.display()
    );
}

fn check_nodes_come_and_go(session: &Session<'_>, page: &Path) {
    session.driver.request(
        "POST",
        &format!("/session/{}/url", session.id),
        Some(json!({"url": format!("file://{}", page.display())})),
    );
    let extra = |seconds: u64| -> Vec<String> {
        session.slide_to(seconds * 1_000_000);
        session
            .pods_shown()
            .into_keys()
            .filter(|n| n.starts_with("extra-"))
            .collect()
    };
    assert!(extra(369).is_empty());
    assert_eq!(extra(370), ["extra-0", "extra-1"]);
    assert_eq!(extra(1579), ["extra-0", "extra-1"]);
    assert!(extra(1580).is_empty());
    assert_eq!(
        session.run("return window.viewErrors;"),
        json!([]),
        "script errors"
    );
}
