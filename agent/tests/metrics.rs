//! Issue 14: `/metrics` in the Prometheus text format. After a 401, a 404, a scheduled pod
//! and a node status report, the families are there with the values those requests must
//! have left, and `promtool check metrics` (Debian's prometheus package) accepts the text
//! where promtool is installed.

mod common;

use std::time::Duration;

use reqwest::Method;
/// The value of the sample named exactly `name{labels}` (labels as the text writes them).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

fn promtool() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("promtool"))
            .find(|p| p.is_file())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_attempts_phases_and_heartbeats() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let plane = common::start(Duration::from_secs(600)).await;
        let admin = plane.admin.clone();
        let (code, _) = plane.call(Method::GET, "/api/v1/pods", None, None).await;
        assert_eq!(code, 401);
        let (code, _) = plane
            .call(
                Method::GET,
                "/api/v1/namespaces/default/pods/nope",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(code, 404);
        let node = common::node("n1", "4", "8Gi", 10);
        let (code, body) = plane
            .call(Method::POST, "/api/v1/nodes", Some(&admin), Some(&node))
            .await;
        assert_eq!(code, 201, "{body}");
        let pod = common::pod("p1", "500m", "256Mi");
        let (code, body) = plane
            .call(
                Method::POST,
                "/api/v1/namespaces/default/pods",
                Some(&admin),
                Some(&pod),
            )
            .await;
        assert_eq!(code, 201, "{body}");
        plane
            .wait_for(
                "/api/v1/namespaces/default/pods/p1",
                Duration::from_secs(20),
                "p1 bound",
                |p| p["spec"]["nodeName"] == "n1",
            )
            .await;
        // A node status report, as the agent's heartbeat sends it.
        let (_, stored) = plane
            .call(Method::GET, "/api/v1/nodes/n1", Some(&admin), None)
            .await;
        let (code, body) = plane
            .call(
                Method::PUT,
                "/api/v1/nodes/n1/status",
                Some(&admin),
                Some(&stored),
            )
            .await;
        assert_eq!(code, 200, "{body}");

        let answer = plane
            .client
            .get(format!("{}/metrics", plane.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = answer.text().await.unwrap();
        println!("{text}");
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );

        let requests = |verb: &str, code: &str| {
            sample(
                &text,
                &format!("schedlab_apiserver_requests_total{{verb=\"{verb}\",code=\"{code}\"}}"),
            )
        };
        assert_eq!(requests("list", "401"), Some(1.0));
        // The one 404: p1 is read only after its create was answered.
        assert_eq!(requests("get", "404"), Some(1.0));
        assert_eq!(requests("create", "201"), Some(2.0));
        assert_eq!(requests("update", "200"), Some(1.0));
        assert!(requests("get", "200").unwrap_or(0.0) >= 2.0);
        assert_eq!(
            sample(
                &text,
                "schedlab_scheduler_schedule_attempts_total{result=\"scheduled\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                "schedlab_scheduler_scheduling_attempt_duration_seconds_count"
            ),
            Some(1.0)
        );
        // Bound but no agent runs it: still Pending.
        assert_eq!(sample(&text, "schedlab_pods{phase=\"Pending\"}"), Some(1.0));
        assert_eq!(sample(&text, "schedlab_pods{phase=\"Running\"}"), Some(0.0));
        assert_eq!(sample(&text, "schedlab_node_heartbeats_total"), Some(1.0));
        let create_count = sample(
            &text,
            "schedlab_apiserver_request_duration_seconds_count{verb=\"create\"}",
        );
        assert_eq!(create_count, Some(2.0));
        let inf = sample(
            &text,
            "schedlab_apiserver_request_duration_seconds_bucket{le=\"+Inf\",verb=\"create\"}",
        )
        .or_else(|| {
            sample(
                &text,
                "schedlab_apiserver_request_duration_seconds_bucket{verb=\"create\",le=\"+Inf\"}",
            )
        });
        assert_eq!(inf, Some(2.0));

        match promtool() {
            None => println!("SKIP promtool check metrics: promtool is not on PATH"),
            Some(tool) => {
                use std::io::Write;
                let mut child = std::process::Command::new(&tool)
                    .args(["check", "metrics"])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("promtool starts");
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
                let out = child.wait_with_output().unwrap();
                let said = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                println!("promtool check metrics: {} {said}", out.status);
                assert!(out.status.success(), "promtool check metrics: {said}");
                assert!(said.trim().is_empty(), "promtool had remarks: {said}");
            }
        }
        plane.stop().await;
    })
    .await
    .expect("metrics test within 60 s");
}
