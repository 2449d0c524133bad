//! Request bodies checked as Kubernetes objects: errors at line, column and field, the
//! object kept whole, and stored objects turned into the model.

use schedlab_agent::objects::{node_ready, node_spec, pod_template, validate};
use schedulers::{ResourceKind, ResourceNames, TaintEffect};
use serde_json::json;

const POD_YAML: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  initContainers:
  - name: init
    image: busybox
    resources:
      requests: {cpu: \"2\"}
  containers:
  - name: main
    image: nginx:1.27
    env: [{name: A, value: b}]
    resources:
      requests: {cpu: 500m, memory: 1Gi, example.com/foo: 1}
      limits: {cpu: \"1\"}
    ports: [{containerPort: 80, hostPort: 8080}]
  - name: side
    resources:
      requests: {cpu: 250m}
  overhead: {cpu: 100m}
  priority: 7
  nodeSelector: {disk: ssd}
  tolerations: [{key: k, operator: Exists}]
  schedulerName: default-scheduler
";

#[test]
fn a_pod_is_kept_whole_and_becomes_its_template() {
    let v = validate("Pod", POD_YAML, "POST /api/v1/namespaces/shop/pods").unwrap();
    // Fields schedlab does not read are kept as sent.
    assert_eq!(v["spec"]["schedulerName"], "default-scheduler");
    assert_eq!(v["spec"]["containers"][0]["env"][0]["value"], "b");
    let mut names = ResourceNames::default();
    let t = pod_template(&v, &mut names).unwrap();
    assert_eq!((t.name.as_str(), t.namespace.as_str()), ("web", "shop"));
    assert_eq!(t.priority, 7);
    // Upstream's effective request: max(init 2000m, app 500m + 250m) + overhead 100m.
    let r = t.effective_requests();
    assert_eq!(r.cpu(), 2100);
    assert_eq!(r.memory(), 1 << 30);
    assert_eq!(r.get(names.lookup("example.com/foo").unwrap()), 1);
    assert_eq!(t.containers[0].limits.get(ResourceKind::CPU), 1000);
    assert_eq!(t.host_ports().map(|p| p.port).collect::<Vec<_>>(), [8080]);
    assert_eq!(t.node_selector.get("disk"), Some("ssd"));
    assert_eq!(t.labels.get("app"), Some("web"));
    assert_eq!(t.tolerations.len(), 1);
    assert_eq!(t.images, ["busybox:latest", "nginx:1.27"]);
}

#[test]
fn json_bodies_are_read_too() {
    let body = r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"zone":"a"}},
"spec":{"taints":[{"key":"k","value":"v","effect":"NoExecute"}],"unschedulable":true},
"status":{"allocatable":{"cpu":"4","memory":"8Gi"},"conditions":[{"type":"Ready","status":"False"}],"nodeInfo":{"osImage":"x"}}}"#;
    let v = validate("Node", body, "POST /api/v1/nodes").unwrap();
    assert_eq!(v["status"]["nodeInfo"]["osImage"], "x");
    let n = node_spec(&v, &mut ResourceNames::default()).unwrap();
    assert_eq!(n.name, "n1");
    assert_eq!(n.allocatable.cpu(), 4000);
    assert_eq!(n.allocatable.memory(), 8 << 30);
    // Kubelet's default of 110 pods when allocatable leaves it out.
    assert_eq!(n.allocatable.get(ResourceKind::PODS), 110);
    assert!(n.unschedulable);
    assert_eq!(n.taints.len(), 1);
    assert_eq!(n.taints[0].effect, TaintEffect::NoExecute);
    assert!(!node_ready(&v));
    assert!(node_ready(&json!({"metadata": {"name": "x"}})));
}

#[test]
fn a_bad_quantity_names_line_column_and_field() {
    let body = POD_YAML.replace("cpu: 500m", "cpu: 5x00m");
    let e = validate("Pod", &body, "POST /api/v1/namespaces/shop/pods").unwrap_err();
    assert_eq!(e.path, "POST /api/v1/namespaces/shop/pods");
    assert_eq!((e.line, e.column), (Some(18), Some(23)), "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("spec.containers[0].resources.requests.cpu")
    );
    assert!(e.message.starts_with("invalid quantity \"5x00m\""), "{e}");
}

#[test]
fn json_errors_are_located_too() {
    let body = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"p\"},\n \"spec\": {\"containers\": [{\"name\": \"c\", \"resources\": {\"requests\": {\"memory\": \"-1Gi\"}}}]}}";
    let e = validate("Pod", body, "body").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("spec.containers[0].resources.requests.memory")
    );
}

#[test]
fn the_shape_is_checked_where_it_is_wrong() {
    // A toleration with a field Kubernetes does not have: the located types refuse it.
    let body = POD_YAML.replace("{key: k, operator: Exists}", "{key: k, operater: Exists}");
    let e = validate("Pod", &body, "b").unwrap_err();
    assert_eq!((e.line, e.column), (Some(27), Some(26)), "{e}");
    assert!(e.to_string().contains("operater"), "{e}");
    // A kind other than the path's.
    let e = validate("Node", POD_YAML, "b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "b:2:7: kind: expected kind \"Node\" here, got \"Pod\""
    );
    // No name.
    let e = validate("Pod", "kind: Pod\nspec: {containers: [{name: c}]}\n", "b").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("metadata.name"));
    // No containers.
    let e = validate(
        "Pod",
        "kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n",
        "b",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "b:3:20: spec.containers: expected at least one container"
    );
}

#[test]
fn controllers_check_their_pod_template() {
    let body = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        resources: {requests: {cpu: lots}}
";
    let e = validate("Deployment", body, "b").unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (
            Some(12),
            Some("spec.template.spec.containers[0].resources.requests.cpu")
        ),
        "{e}"
    );
    let good = body.replace("cpu: lots", "cpu: 100m");
    let v = validate("Deployment", &good, "b").unwrap();
    assert_eq!(v["spec"]["replicas"], 3);
    let bad_replicas = good.replace("replicas: 3", "replicas: -1");
    let e = validate("Deployment", &bad_replicas, "b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "b:5:13: spec.replicas: expected a non-negative 32-bit integer, got -1"
    );
    let job = good
        .replace("apps/v1", "batch/v1")
        .replace("kind: Deployment", "kind: Job")
        .replace("  replicas: 3\n", "")
        .replace("    spec:\n", "    spec:\n      restartPolicy: Always\n");
    let e = validate("Job", &job, "b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "b:9:22: spec.template.spec.restartPolicy: a Job's pods need restartPolicy Never or OnFailure, got \"Always\""
    );
    assert!(validate("Job", &job.replace("Always", "Never"), "b").is_ok());
    assert!(validate("ReplicaSet", &good.replace("Deployment", "ReplicaSet"), "b").is_ok());
}
