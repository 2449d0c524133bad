//! Issue 14: authentication, authorization, validation and concurrency through the real
//! API server (in-process, over HTTPS): a missing or wrong token gets 401, a node writing
//! another node's status, a viewer writing and an editor outside its namespace get 403,
//! each recorded in the audit log; a malformed pod gets 400 naming the field with line and
//! column; a stale resourceVersion gets 409; a bootstrap token is exchanged for a node
//! credential once.

mod common;

use std::time::Duration;

use reqwest::Method;
use schedlab_agent::api::auth::Role;
use serde_json::{Value, json};

/// Asserts a Kubernetes Status object with `code` and `reason`.
fn assert_status(body: &Value, code: u16, reason: &str) {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
}

/// The audit records of `user` doing `verb` on `resource` in `namespace`, with their
/// codes.
fn audited(state: &std::path::Path, user: &str, verb: &str, resource: &str, ns: &str) -> Vec<u64> {
    common::audit(state)
        .iter()
        .filter(|r| {
            r["user"] == user
                && r["verb"] == verb
                && r["resource"] == resource
                && r["namespace"] == ns
        })
        .map(|r| {
            assert!(r["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{r}");
            r["code"].as_u64().unwrap()
        })
        .collect()
}

async fn within<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test within 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_tokens_get_401_and_are_audited_as_anonymous() {
    within(async {
        let plane = common::start(Duration::from_secs(600)).await;
        let (code, body) = plane
            .call(Method::GET, "/api/v1/namespaces/default/pods", None, None)
            .await;
        assert_eq!(code, 401);
        assert_status(&body, 401, "Unauthorized");
        let (code, body) = plane
            .call(
                Method::GET,
                "/api/v1/namespaces/default/pods",
                Some("not-a-token"),
                None,
            )
            .await;
        assert_eq!(code, 401);
        assert_status(&body, 401, "Unauthorized");
        // A path that does not exist is not revealed to a caller without a token.
        let (code, body) = plane
            .call(Method::GET, "/api/v1/nonsense", None, None)
            .await;
        assert_eq!(code, 401);
        assert_status(&body, 401, "Unauthorized");
        // The admin token gets through.
        let (code, _) = plane
            .call(
                Method::GET,
                "/api/v1/namespaces/default/pods",
                Some(&plane.admin),
                None,
            )
            .await;
        assert_eq!(code, 200);
        let records = common::audit(&plane.state());
        let anonymous: Vec<&Value> = records
            .iter()
            .filter(|r| r["user"] == "system:anonymous" && r["resource"] == "pods")
            .collect();
        assert_eq!(anonymous.len(), 2, "{records:?}");
        let unknown: Vec<&Value> = records
            .iter()
            .filter(|r| r["resource"] == "/api/v1/nonsense")
            .collect();
        assert_eq!(unknown.len(), 1, "{records:?}");
        assert_eq!(unknown[0]["code"], 401);
        assert_eq!(unknown[0]["user"], "system:anonymous");
        for r in anonymous {
            assert_eq!(r["code"], 401);
            assert_eq!(r["verb"], "list");
            assert_eq!(r["resource"], "pods");
            assert_eq!(r["namespace"], "default");
        }
        assert_eq!(
            audited(&plane.state(), "admin", "list", "pods", "default"),
            [200]
        );
        plane.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_keep_to_their_scope_and_every_refusal_is_audited() {
    within(async {
        let plane = common::start(Duration::from_secs(600)).await;
        let admin = plane.admin.clone();
        for ns in ["a", "b"] {
            let (code, body) = plane
                .call(
                    Method::POST,
                    "/api/v1/namespaces",
                    Some(&admin),
                    Some(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})),
                )
                .await;
            assert_eq!(code, 201, "{body}");
        }
        for name in ["n1", "n2"] {
            let (code, body) = plane
                .call(
                    Method::POST,
                    "/api/v1/nodes",
                    Some(&admin),
                    Some(&common::node(name, "4", "8Gi", 10)),
                )
                .await;
            assert_eq!(code, 201, "{body}");
        }

        // A node's credential writes its own status, not another node's.
        let node1 = plane.token(&Role::Node("n1".into()));
        let (_, n2) = plane
            .call(Method::GET, "/api/v1/nodes/n2", Some(&node1), None)
            .await;
        assert_eq!(n2["metadata"]["name"], "n2", "a node may read nodes");
        let (code, body) = plane
            .call(Method::PUT, "/api/v1/nodes/n2/status", Some(&node1), Some(&n2))
            .await;
        assert_eq!(code, 403);
        assert_status(&body, 403, "Forbidden");
        assert_eq!(
            body["message"],
            "nodes \"n2\" is forbidden: User \"system:node:n1\" cannot update resource \"nodes/status\" in API group \"\" at the cluster scope"
        );
        let (_, n1) = plane
            .call(Method::GET, "/api/v1/nodes/n1", Some(&node1), None)
            .await;
        let (code, body) = plane
            .call(Method::PUT, "/api/v1/nodes/n1/status", Some(&node1), Some(&n1))
            .await;
        assert_eq!(code, 200, "{body}");

        // A viewer of a reads there and writes nowhere.
        let viewer = plane.token(&Role::Viewer("a".into()));
        let (code, _) = plane
            .call(Method::GET, "/api/v1/namespaces/a/pods", Some(&viewer), None)
            .await;
        assert_eq!(code, 200);
        let (code, body) = plane
            .call(
                Method::POST,
                "/api/v1/namespaces/a/pods",
                Some(&viewer),
                Some(&common::pod("v", "100m", "64Mi")),
            )
            .await;
        assert_eq!(code, 403);
        assert_status(&body, 403, "Forbidden");
        assert_eq!(
            body["message"],
            "pods is forbidden: User \"viewer:a\" cannot create resource \"pods\" in API group \"\" in the namespace \"a\""
        );

        // An editor of a writes in a, not in b.
        let editor = plane.token(&Role::Editor("a".into()));
        let (code, body) = plane
            .call(
                Method::POST,
                "/api/v1/namespaces/b/pods",
                Some(&editor),
                Some(&common::pod("e", "100m", "64Mi")),
            )
            .await;
        assert_eq!(code, 403);
        assert_status(&body, 403, "Forbidden");
        let (code, body) = plane
            .call(
                Method::POST,
                "/api/v1/namespaces/a/pods",
                Some(&editor),
                Some(&common::pod("e", "100m", "64Mi")),
            )
            .await;
        assert_eq!(code, 201, "{body}");
        assert_eq!(body["metadata"]["namespace"], "a");
        // Nothing was created in b.
        let (_, list) = plane
            .call(Method::GET, "/api/v1/namespaces/b/pods", Some(&admin), None)
            .await;
        assert_eq!(list["items"], json!([]));

        let state = plane.state();
        assert_eq!(
            audited(&state, "system:node:n1", "update", "nodes/status", ""),
            [403, 200]
        );
        assert_eq!(audited(&state, "viewer:a", "create", "pods", "a"), [403]);
        assert_eq!(audited(&state, "viewer:a", "list", "pods", "a"), [200]);
        assert_eq!(audited(&state, "editor:a", "create", "pods", "b"), [403]);
        assert_eq!(audited(&state, "editor:a", "create", "pods", "a"), [201]);
        let refused = common::audit(&state)
            .into_iter()
            .filter(|r| r["code"] == 403)
            .count();
        assert_eq!(refused, 3);
        plane.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_quantity_gets_400_naming_the_field_line_and_column() {
    within(async {
        let plane = common::start(Duration::from_secs(600)).await;
        let yaml = "\
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
  containers:
  - name: c
    resources:
      requests:
        cpu: 2x
";
        let (code, body) = plane
            .call_text(
                Method::POST,
                "/api/v1/namespaces/default/pods",
                &plane.admin,
                "application/yaml",
                yaml,
            )
            .await;
        assert_eq!(code, 400, "{body}");
        assert_status(&body, 400, "BadRequest");
        let message = body["message"].as_str().unwrap();
        println!("{message}");
        assert!(
            message.contains("spec.containers[0].resources.requests.cpu"),
            "{message}"
        );
        // Line 10, column 14: where `2x` stands.
        assert!(message.contains(":10:14"), "{message}");
        // Not stored.
        let (code, _) = plane
            .call(
                Method::GET,
                "/api/v1/namespaces/default/pods/bad",
                Some(&plane.admin),
                None,
            )
            .await;
        assert_eq!(code, 404);
        plane.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_resource_version_gets_409() {
    within(async {
        let plane = common::start(Duration::from_secs(600)).await;
        let admin = plane.admin.clone();
        // A Namespace: no controller writes it between the test's own writes.
        let path = "/api/v1/namespaces/team";
        let (code, created) = plane
            .call(
                Method::POST,
                "/api/v1/namespaces",
                Some(&admin),
                Some(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})),
            )
            .await;
        assert_eq!(code, 201, "{created}");
        let mut first = created.clone();
        first["metadata"]["labels"] = json!({"v": "1"});
        let (code, updated) = plane.call(Method::PUT, path, Some(&admin), Some(&first)).await;
        assert_eq!(code, 200, "{updated}");
        assert_ne!(
            updated["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"]
        );
        // The same resourceVersion again: someone else's write came in between.
        let mut stale = created.clone();
        stale["metadata"]["labels"] = json!({"v": "2"});
        let (code, body) = plane.call(Method::PUT, path, Some(&admin), Some(&stale)).await;
        assert_eq!(code, 409, "{body}");
        assert_status(&body, 409, "Conflict");
        assert_eq!(
            body["message"],
            "Operation cannot be fulfilled on namespaces \"team\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let (_, now) = plane.call(Method::GET, path, Some(&admin), None).await;
        assert_eq!(now["metadata"]["labels"], json!({"v": "1"}));
        plane.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_token_gets_a_node_credential_once() {
    within(async {
        let plane = common::start(Duration::from_secs(600)).await;
        let join = plane.join.clone();
        let path = "/apis/schedlab.io/v1/nodecredentials";
        // The bootstrap token can do nothing else.
        let (code, body) = plane
            .call(Method::GET, "/api/v1/nodes", Some(&join), None)
            .await;
        assert_eq!(code, 403);
        assert_status(&body, 403, "Forbidden");
        let ask = json!({"nodeName": "n7"});
        let (code, body) = plane
            .call(Method::POST, path, Some(&join), Some(&ask))
            .await;
        assert_eq!(code, 201, "{body}");
        assert_eq!(body["nodeName"], "n7");
        let token = body["token"].as_str().unwrap().to_owned();
        assert_eq!(token.len(), 64);
        // The credential is n7's: it registers n7, not n8.
        let (code, body) = plane
            .call(
                Method::POST,
                "/api/v1/nodes",
                Some(&token),
                Some(&common::node("n8", "1", "1Gi", 10)),
            )
            .await;
        assert_eq!(code, 403, "{body}");
        let (code, body) = plane
            .call(
                Method::POST,
                "/api/v1/nodes",
                Some(&token),
                Some(&common::node("n7", "1", "1Gi", 10)),
            )
            .await;
        assert_eq!(code, 201, "{body}");
        // Once only.
        let (code, body) = plane
            .call(Method::POST, path, Some(&join), Some(&ask))
            .await;
        assert_eq!(code, 409, "{body}");
        assert_status(&body, 409, "AlreadyExists");
        let tokens = std::fs::read_to_string(plane.state().join("tokens")).unwrap();
        assert_eq!(
            tokens.lines().filter(|l| l.ends_with(",node,n7")).count(),
            1,
            "{tokens}"
        );
        plane.stop().await;
    })
    .await;
}
