//! The HTTP front: one handler that authenticates, parses the path as Kubernetes lays
//! out its REST API, authorizes, serves, and records the request in the audit log and the
//! metrics.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::audit::{AuditLog, AuditRecord};
use super::auth::{self, Access, Identity, Role, Tokens};
use super::meta::{
    field_selector_matches, field_selector_valid, label_selector_matches, new_uid, now_rfc3339,
    str_at,
};
use super::metrics::Metrics;
use super::resources::{self, Resource};
use super::status::ApiError;
use super::store::{Key, Store, StoreError, revision_of};
use super::{discovery, tables};
use crate::controllers::{NameSuffix, RandomSuffix};

/// The largest request body accepted (kube-apiserver's limit is 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Admission settings: what the server adds to objects as they are created.
#[derive(Clone, Debug)]
pub struct Admission {
    /// DefaultTolerationSeconds: how long pods tolerate `not-ready` and `unreachable`
    /// NoExecute taints unless they say otherwise (300 s upstream).
    pub default_toleration_seconds: u64,
}

impl Default for Admission {
    fn default() -> Admission {
        Admission {
            default_toleration_seconds: 300,
        }
    }
}

/// Everything a request handler reaches.
pub struct ApiState {
    /// The objects.
    pub store: Arc<Store>,
    /// Bearer tokens.
    pub tokens: Tokens,
    /// Where requests are recorded.
    pub audit: AuditLog,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// `host:port` the server listens on, for discovery.
    pub address: String,
    /// Admission defaults.
    pub admission: Admission,
    /// When each node last reported its status (the node lifecycle controller reads it:
    /// receipt time on this clock, not the node's own timestamps).
    pub heartbeats: Mutex<BTreeMap<String, Instant>>,
    /// The token file, where node credentials issued to bootstrap tokens are appended.
    pub token_file: std::path::PathBuf,
    /// Client for the node agents' log endpoints.
    pub http: reqwest::Client,
}

/// The router serving every path through [`handle`].
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// A parsed resource path.
#[derive(Debug, Default)]
struct Target {
    namespace: String,
    resource: String,
    name: String,
    subresource: String,
}

enum Route {
    Discovery(Value),
    Metrics,
    NodeCredential,
    Resource(Target, &'static Resource),
}

fn route(path: &str, address: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest: &[&str] = match segs.as_slice() {
        ["api"] => return Ok(Route::Discovery(discovery::core_versions(address))),
        ["apis"] => return Ok(Route::Discovery(discovery::groups())),
        ["version"] => return Ok(Route::Discovery(discovery::version())),
        ["metrics"] => return Ok(Route::Metrics),
        ["openapi", "v3"] => return Ok(Route::Discovery(discovery::openapi_root())),
        ["openapi", "v3", "api", "v1"] => {
            return discovery::openapi_group_version("")
                .map(Route::Discovery)
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["openapi", "v3", "apis", g, "v1"] => {
            return discovery::openapi_group_version(g)
                .map(Route::Discovery)
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["api", "v1"] => {
            return discovery::resources("")
                .map(Route::Discovery)
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["apis", "schedlab.io", "v1", "nodecredentials"] => return Ok(Route::NodeCredential),
        ["apis", g] => {
            return discovery::group(g)
                .map(Route::Discovery)
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["apis", g, "v1"] => {
            return discovery::resources(g)
                .map(Route::Discovery)
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["api", "v1", rest @ ..] => rest,
        ["apis", _, "v1", rest @ ..] => rest,
        _ => return Err(ApiError::no_route(path)),
    };
    let group = if segs[0] == "apis" { segs[1] } else { "" };
    let mut t = Target::default();
    let rest = match rest {
        ["namespaces", ns, res, more @ ..] => {
            t.namespace = (*ns).to_owned();
            t.resource = (*res).to_owned();
            more
        }
        [res, more @ ..] => {
            t.resource = (*res).to_owned();
            more
        }
        [] => return Err(ApiError::no_route(path)),
    };
    match rest {
        [] => {}
        [name] => t.name = (*name).to_owned(),
        [name, sub] => {
            t.name = (*name).to_owned();
            t.subresource = (*sub).to_owned();
        }
        _ => return Err(ApiError::no_route(path)),
    }
    let resource = resources::find(group, &t.resource).ok_or_else(|| ApiError::no_route(path))?;
    if !t.namespace.is_empty() && !resource.namespaced {
        return Err(ApiError::no_route(path));
    }
    if !t.subresource.is_empty() && !resource.subresources.contains(&t.subresource.as_str()) {
        return Err(ApiError::no_route(path));
    }
    Ok(Route::Resource(t, resource))
}

fn query_map(query: Option<&str>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(decode_component(k), decode_component(v));
    }
    map
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(code: StatusCode, value: &Value) -> Response {
    (code, axum::Json(value)).into_response()
}

/// Serves one request.
async fn handle(State(state): State<Arc<ApiState>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let mut record = AuditRecord {
        user: "system:anonymous".into(),
        verb: parts.method.as_str().to_lowercase(),
        resource: parts.uri.path().to_owned(),
        ..AuditRecord::default()
    };
    let response = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => serve(
            &state,
            &parts.method,
            &parts.uri,
            &parts.headers,
            bytes,
            &mut record,
        )
        .await
        .unwrap_or_else(IntoResponse::into_response),
        Err(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("request body larger than {MAX_BODY} bytes"),
        )
        .into_response(),
    };
    record.code = response.status().as_u16();
    state.audit.record(&record);
    state
        .metrics
        .api_request(&record.verb, record.code, started.elapsed());
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn serve(
    state: &Arc<ApiState>,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Bytes,
    record: &mut AuditRecord,
) -> Result<Response, ApiError> {
    let path = uri.path();
    if path == "/healthz" || path == "/livez" || path == "/readyz" {
        return Ok((StatusCode::OK, "ok").into_response());
    }
    let query = query_map(uri.query());
    // The path is read before the token is checked (as kube-apiserver's request info
    // precedes authentication), so a 401 is audited with its verb, resource and
    // namespace; an unknown path still answers 401 to a caller without a valid token.
    let routed = route(path, &state.address);
    if let Ok(Route::Resource(t, _)) = &routed {
        describe(record, method, &query, t);
    }
    let identity = bearer(headers)
        .and_then(|t| state.tokens.authenticate(t))
        .ok_or_else(ApiError::unauthorized)?;
    record.user = identity.user.clone();
    match routed? {
        Route::Discovery(doc) => {
            if identity.role == Role::Bootstrap {
                return Err(ApiError::forbidden(&identity.user, "get", "path", path));
            }
            record.verb = "get".into();
            Ok(json_response(StatusCode::OK, &doc))
        }
        Route::Metrics => {
            record.verb = "get".into();
            if identity.role == Role::Bootstrap {
                return Err(ApiError::forbidden(&identity.user, "get", "path", path));
            }
            let text = state.metrics.render(&state.store);
            Ok((
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                text,
            )
                .into_response())
        }
        Route::NodeCredential => {
            record.verb = "create".into();
            node_credential(state, &identity, method, &body)
        }
        Route::Resource(target, resource) => {
            serve_resource(
                state, &identity, method, &query, headers, body, target, resource, record,
            )
            .await
        }
    }
}

/// `POST /apis/schedlab.io/v1/nodecredentials` `{"nodeName": NAME}`: a bootstrap token
/// gets the token of node NAME, once per node name (TLS bootstrapping's outcome without
/// the certificate signing request).
fn node_credential(
    state: &ApiState,
    identity: &Identity,
    method: &Method,
    body: &Bytes,
) -> Result<Response, ApiError> {
    if method != Method::POST {
        return Err(ApiError::method_not_allowed("only POST"));
    }
    if !matches!(identity.role, Role::Bootstrap | Role::Admin) {
        return Err(ApiError::forbidden(
            &identity.user,
            "create",
            "nodecredentials",
            "\"nodecredentials\"",
        ));
    }
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
    let name = str_at(&request, "/nodeName");
    if name.is_empty() || !valid_name(name) {
        return Err(ApiError::invalid(format!(
            "nodeName: invalid node name {name:?}"
        )));
    }
    let key = Key::new("nodecredentials", "", name);
    let record = json!({"metadata": {"name": name}, "issuedAt": now_rfc3339()});
    state.store.create(&key, record).map_err(|e| match e {
        StoreError::AlreadyExists(_) => ApiError::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!(
                "a credential for node {name:?} was already issued; use the one the agent saved"
            ),
        ),
        e => e.into(),
    })?;
    let token = auth::create_token(&state.token_file, &Role::Node(name.to_owned()), None)
        .map_err(|e| ApiError::internal(format!("writing the token file: {e}")))?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"nodeName": name, "token": token}),
    ))
}

/// Whether `name` is a DNS subdomain, Kubernetes' rule for object names (the rule the
/// YAML readers check, `schedulers::yaml::names`).
fn valid_name(name: &str) -> bool {
    schedulers::yaml::names::dns_subdomain_error(name).is_none()
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

/// Kubernetes' verb for `method` on `t`, with the audit record's verb, resource,
/// namespace and name filled in from it; `None` for a method the path does not take.
fn describe(
    record: &mut AuditRecord,
    method: &Method,
    query: &BTreeMap<String, String>,
    t: &Target,
) -> Option<&'static str> {
    let watching = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = match (method.as_str(), t.name.is_empty(), t.subresource.as_str()) {
        ("GET", true, _) if watching => "watch",
        ("GET", true, _) => "list",
        ("GET", false, _) => "get",
        ("POST", true, "") => "create",
        ("POST", false, "binding") => "create",
        ("PUT", false, _) => "update",
        ("PATCH", false, _) => "patch",
        ("DELETE", false, "") => "delete",
        _ => return None,
    };
    record.verb = verb.into();
    record.resource = if t.subresource.is_empty() {
        t.resource.clone()
    } else {
        format!("{}/{}", t.resource, t.subresource)
    };
    record.namespace = t.namespace.clone();
    record.name = t.name.clone();
    Some(verb)
}

#[allow(clippy::too_many_arguments)]
async fn serve_resource(
    state: &Arc<ApiState>,
    identity: &Identity,
    method: &Method,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
    t: Target,
    resource: &'static Resource,
    record: &mut AuditRecord,
) -> Result<Response, ApiError> {
    let verb = describe(record, method, query, &t).ok_or_else(|| {
        ApiError::method_not_allowed(format!("{method} is not supported on this path"))
    })?;
    let key = Key::new(resource.plural, &t.namespace, &t.name);
    let existing = if t.name.is_empty() {
        None
    } else {
        state.store.get(&key)
    };
    let parsed = if matches!(verb, "create" | "update" | "patch") {
        Some(decode_body(headers, &body, resource, &t)?)
    } else {
        None
    };
    let access = Access {
        verb,
        resource: resource.plural,
        subresource: &t.subresource,
        namespace: &t.namespace,
        name: &t.name,
    };
    if !auth::authorize(identity, &access, existing.as_deref(), parsed.as_ref()) {
        let what = if t.name.is_empty() {
            resource.plural.to_owned()
        } else {
            format!("{} \"{}\"", resource.plural, t.name)
        };
        let scope = format!(
            "\"{}\" in API group \"{}\"{}",
            record.resource,
            resource.group,
            if t.namespace.is_empty() {
                " at the cluster scope".to_owned()
            } else {
                format!(" in the namespace \"{}\"", t.namespace)
            }
        );
        return Err(ApiError::forbidden(&identity.user, verb, &what, &scope));
    }
    match verb {
        "get" if t.subresource == "log" => pod_log(state, &key, query).await,
        "get" => {
            let object = existing.ok_or_else(|| {
                StoreError::NotFound(format!("{} \"{}\"", resource.plural, t.name))
            })?;
            if wants_table(headers) {
                let rv = revision_of(&object).unwrap_or(0);
                return Ok(json_response(
                    StatusCode::OK,
                    &tables::table(resource.plural, &[&object], rv),
                ));
            }
            Ok(json_response(StatusCode::OK, &object))
        }
        "list" => list(state, query, headers, &t, resource),
        "watch" => watch(state, query, &t, resource, wants_table(headers)),
        "create" if t.subresource == "binding" => bind(state, &key, parsed.expect("decoded above"))
            .map(|o| json_response(StatusCode::CREATED, &o)),
        "create" => create(
            state,
            &t.namespace,
            resource,
            parsed.expect("decoded above"),
        )
        .map(|o| json_response(StatusCode::CREATED, &o)),
        "update" | "patch" => {
            let current = existing.ok_or_else(|| {
                StoreError::NotFound(format!("{} \"{}\"", resource.plural, t.name))
            })?;
            let mut incoming = parsed.expect("decoded above");
            if verb == "patch" {
                let mut merged = (*current).clone();
                merge_patch(&mut merged, &incoming);
                incoming = merged;
            }
            update(
                state,
                &key,
                &t,
                resource,
                &current,
                incoming,
                verb == "patch",
            )
            .map(|o| json_response(StatusCode::OK, &o))
        }
        "delete" => delete(state, &key, query, &body).map(|o| json_response(StatusCode::OK, &o)),
        _ => unreachable!("verbs above"),
    }
}

/// Reads a request body as JSON or YAML into a JSON object.
fn decode_body(
    headers: &HeaderMap,
    body: &Bytes,
    resource: &Resource,
    t: &Target,
) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        // kubectl's typed generators (`kubectl create namespace`) send protobuf; the
        // server reads JSON and YAML only (`kubectl create -f` sends JSON).
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body's content type {content_type} is not supported: send JSON or YAML (kubectl create -f FILE)"
            ),
        ));
    }
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("request body: not UTF-8"))?;
    let source = format!("request body ({})", resource.kind);
    if t.subresource.is_empty() && crate::objects::Kind::parse(resource.kind).is_some() {
        return crate::objects::validate(resource.kind, text, &source)
            .map_err(|e| ApiError::invalid(e.to_string()));
    }
    // Kinds the reader does not model (Namespace, Event, Binding, status writes) are
    // decoded only; their handlers read the few fields they use.
    let decoded: Result<Value, String> = if content_type.contains("yaml") {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str(text).map_err(|e| e.to_string())
    };
    let value = decoded.map_err(|e| ApiError::invalid(format!("{source}: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid(format!("{source}: expected an object")));
    }
    Ok(value)
}

/// RFC 7386 JSON merge patch (strategic merge patches are applied the same way: lists
/// are replaced, not merged by key).
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn list(
    state: &ApiState,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    t: &Target,
    resource: &Resource,
) -> Result<Response, ApiError> {
    let filter = Filter::new(query)?;
    let ns = (!t.namespace.is_empty()).then_some(t.namespace.as_str());
    let (items, rv) = state.store.list(resource.plural, ns);
    let items: Vec<&Value> = items
        .iter()
        .map(|v| &**v)
        .filter(|o| filter.matches(o))
        .collect();
    if wants_table(headers) {
        return Ok(json_response(
            StatusCode::OK,
            &tables::table(resource.plural, &items, rv),
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", resource.kind),
            "apiVersion": resource.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items,
        }),
    ))
}

struct Filter {
    fields: String,
    labels: String,
}

impl Filter {
    fn new(query: &BTreeMap<String, String>) -> Result<Filter, ApiError> {
        let fields = query.get("fieldSelector").cloned().unwrap_or_default();
        let labels = query.get("labelSelector").cloned().unwrap_or_default();
        if !field_selector_valid(&fields) {
            return Err(ApiError::bad_request(format!(
                "invalid field selector {fields:?}"
            )));
        }
        if label_selector_matches(&Value::Null, &labels).is_none() {
            return Err(ApiError::bad_request(format!(
                "invalid label selector {labels:?}"
            )));
        }
        Ok(Filter { fields, labels })
    }

    fn matches(&self, o: &Value) -> bool {
        field_selector_matches(o, &self.fields)
            && label_selector_matches(o, &self.labels).unwrap_or(false)
    }
}

fn watch(
    state: &ApiState,
    query: &BTreeMap<String, String>,
    t: &Target,
    resource: &'static Resource,
    as_table: bool,
) -> Result<Response, ApiError> {
    let filter = Filter::new(query)?;
    let from = match query.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => state.store.revision(),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {v:?}")))?,
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1800u64);
    let (past, rx) = state.store.watch(from)?;
    let namespace = t.namespace.clone();
    let relevant = move |e: &super::store::WatchEvent| {
        e.key.resource == resource.plural
            && (namespace.is_empty() || e.key.namespace == namespace)
            && filter.matches(&e.object)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let past: std::collections::VecDeque<_> = past.into_iter().collect();
    let stream = futures_util::stream::unfold(
        (past, rx, relevant),
        move |(mut past, mut rx, relevant)| async move {
            loop {
                let event = match past.pop_front() {
                    Some(e) => e,
                    None => match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Ok(e)) => e,
                        // Lagged, closed or timed out: end the stream; the client lists
                        // and watches again, as it does when the API server ends one.
                        _ => return None,
                    },
                };
                if relevant(&event) {
                    // `kubectl get -w` asks for Tables: each event carries a one-row Table.
                    let object = if as_table {
                        tables::table(resource.plural, &[&*event.object], event.revision)
                    } else {
                        (*event.object).clone()
                    };
                    let line = json!({"type": event.kind.as_str(), "object": object});
                    let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
                    bytes.push(b'\n');
                    return Some((
                        Ok::<_, Infallible>(Bytes::from(bytes)),
                        (past, rx, relevant),
                    ));
                }
            }
        },
    );
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .expect("static headers"))
}

fn meta_mut(o: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !o.get("metadata").is_some_and(Value::is_object) {
        o["metadata"] = json!({});
    }
    o["metadata"].as_object_mut().expect("made an object above")
}

/// Creates an object: names, uid, timestamps, namespace, admission defaults. The
/// controllers create through here too, so their objects are admitted like a client's.
pub fn create(
    state: &ApiState,
    namespace: &str,
    resource: &Resource,
    mut object: Value,
) -> Result<Value, ApiError> {
    let ns = namespace.to_owned();
    let meta = meta_mut(&mut object);
    let body_ns = meta
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if resource.namespaced {
        if !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(format!(
                "metadata.namespace: the namespace of the provided object ({body_ns}) does not match the namespace sent on the request ({ns})"
            )));
        }
        meta.insert("namespace".into(), json!(ns));
    }
    let mut name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if name.is_empty() {
        let prefix = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                "metadata.name: Required value: name or generateName is required",
            ));
        }
        name = format!("{prefix}{}", RandomSuffix.suffix());
    }
    if !valid_name(&name) {
        return Err(ApiError::invalid(format!(
            "metadata.name: Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        )));
    }
    meta.insert("name".into(), json!(name));
    meta.insert("uid".into(), json!(new_uid()));
    meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
    meta.insert("generation".into(), json!(1));
    meta.remove("resourceVersion");
    meta.remove("deletionTimestamp");
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind);
    if resource.namespaced
        && !ns.is_empty()
        && state.store.get(&Key::new("namespaces", "", &ns)).is_none()
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("namespaces \"{ns}\" not found"),
        ));
    }
    admit(state, resource, &mut object);
    let key = Key::new(resource.plural, &ns, &name);
    Ok((*state.store.create(&key, object)?).clone())
}

/// Defaults applied at creation, as kube-apiserver's defaulting and admission plugins do.
fn admit(state: &ApiState, resource: &Resource, object: &mut Value) {
    match resource.plural {
        "pods" => {
            let spec = &mut object["spec"];
            if !spec.is_object() {
                *spec = json!({});
            }
            for (field, value) in [
                ("restartPolicy", json!("Always")),
                ("terminationGracePeriodSeconds", json!(30)),
                ("schedulerName", json!("default-scheduler")),
                ("priority", json!(0)),
            ] {
                if spec.get(field).is_none_or(Value::is_null) {
                    spec[field] = value;
                }
            }
            let seconds = state.admission.default_toleration_seconds;
            let tolerations = spec
                .as_object_mut()
                .expect("made an object above")
                .entry("tolerations")
                .or_insert_with(|| json!([]));
            if let Some(list) = tolerations.as_array_mut() {
                for taint in [
                    "node.kubernetes.io/not-ready",
                    "node.kubernetes.io/unreachable",
                ] {
                    let has = list.iter().any(|t| {
                        let key = str_at(t, "/key");
                        (key == taint || (key.is_empty() && str_at(t, "/operator") == "Exists"))
                            && matches!(str_at(t, "/effect"), "NoExecute" | "")
                    });
                    if !has {
                        list.push(json!({"key": taint, "operator": "Exists",
                                         "effect": "NoExecute", "tolerationSeconds": seconds}));
                    }
                }
            }
            let qos = qos_class(&object["spec"]);
            object["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
        "namespaces" => object["status"] = json!({"phase": "Active"}),
        "nodes" if object.get("status").is_none() => object["status"] = json!({}),
        "events" => {
            let now = now_rfc3339();
            for f in ["firstTimestamp", "lastTimestamp"] {
                if object.get(f).is_none_or(Value::is_null) {
                    object[f] = json!(now);
                }
            }
            if object.get("count").is_none() {
                object["count"] = json!(1);
            }
        }
        _ => {}
    }
}

/// The pod's QoS class (upstream's `GetPodQOS`, on cpu and memory): Guaranteed when every
/// container limits both and requests equal limits, BestEffort when nothing is requested
/// or limited, Burstable otherwise.
fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|f| spec.get(*f).and_then(Value::as_array))
        .flatten()
        .collect();
    let (mut any, mut guaranteed) = (false, !containers.is_empty());
    for c in containers {
        for r in ["cpu", "memory"] {
            let req = c.pointer(&format!("/resources/requests/{r}"));
            let lim = c.pointer(&format!("/resources/limits/{r}"));
            any |= req.is_some() || lim.is_some();
            // A missing request defaults to the limit.
            guaranteed &= lim.is_some() && (req.is_none() || req == lim);
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// Replaces an object, keeping what the client cannot change (uid, creation time) and
/// honouring the status subresource: a write to the object keeps the stored status, a
/// write to `/status` keeps the stored spec.
fn update(
    state: &ApiState,
    key: &Key,
    t: &Target,
    resource: &Resource,
    current: &Value,
    mut incoming: Value,
    patched: bool,
) -> Result<Value, ApiError> {
    let expected = if patched {
        None
    } else {
        match incoming
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
        {
            None | Some("") => None,
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                ApiError::invalid(format!("metadata.resourceVersion: Invalid value: {v:?}"))
            })?),
        }
    };
    let name = str_at(&incoming, "/metadata/name");
    if !name.is_empty() && name != t.name {
        return Err(ApiError::bad_request(format!(
            "metadata.name: the name of the object ({name}) does not match the name on the URL ({})",
            t.name
        )));
    }
    {
        let meta = meta_mut(&mut incoming);
        for field in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match current.pointer(&format!("/metadata/{field}")) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
    }
    incoming["apiVersion"] = json!(resource.api_version());
    incoming["kind"] = json!(resource.kind);
    if t.subresource == "status" {
        let status = incoming.get("status").cloned().unwrap_or(json!({}));
        let mut kept = current.clone();
        kept["status"] = status;
        kept["metadata"] = incoming["metadata"].clone();
        incoming = kept;
        if resource.plural == "nodes"
            && let Ok(mut beats) = state.heartbeats.lock()
        {
            beats.insert(t.name.clone(), Instant::now());
        }
        if resource.plural == "nodes" {
            state.metrics.heartbeat();
        }
    } else if resource.plural != "nodes" || current.get("status").is_some() {
        // Nodes written whole (`kubectl apply`, the agent's registration) keep status too.
        if let Some(status) = current.get("status") {
            incoming["status"] = status.clone();
        }
        let generation = current
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let spec_changed = current.get("spec") != incoming.get("spec");
        incoming["metadata"]["generation"] = json!(if spec_changed {
            generation + 1
        } else {
            generation
        });
        if resource.plural == "pods" && current.get("spec") != incoming.get("spec") {
            let before = current.pointer("/spec/nodeName").cloned();
            if incoming.pointer("/spec/nodeName").cloned() != before && before.is_some() {
                return Err(ApiError::invalid(
                    "spec.nodeName: Forbidden: pod updates may not change the node of a bound pod",
                ));
            }
        }
    }
    Ok((*state.store.update(key, incoming, expected)?).clone())
}

/// `POST pods/NAME/binding`: sets the node of an unbound pod, as the scheduler binds.
fn bind(state: &ApiState, key: &Key, binding: Value) -> Result<Value, ApiError> {
    let node = str_at(&binding, "/target/name").to_owned();
    if node.is_empty() {
        return Err(ApiError::invalid("target.name: Required value"));
    }
    bind_pod(&state.store, key, &node)?;
    Ok(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    )
}

/// Binds a pod to a node in the store: `spec.nodeName` and the PodScheduled condition.
pub fn bind_pod(store: &Store, key: &Key, node: &str) -> Result<Arc<Value>, ApiError> {
    let mut refused = None;
    let result = store.modify(key, |pod| {
        if !str_at(pod, "/spec/nodeName").is_empty() {
            refused = Some(format!(
                "pod {} is already assigned to node \"{}\"",
                key.name,
                str_at(pod, "/spec/nodeName")
            ));
            return None;
        }
        let mut pod = pod.clone();
        pod["spec"]["nodeName"] = json!(node);
        set_condition(&mut pod, "PodScheduled", "True", "", "");
        Some(pod)
    })?;
    match refused {
        Some(message) => Err(ApiError::new(StatusCode::CONFLICT, "Conflict", message)),
        None => Ok(result),
    }
}

/// Sets one of a pod's `status.conditions`.
pub fn set_condition(pod: &mut Value, kind: &str, status: &str, reason: &str, message: &str) {
    if !pod.get("status").is_some_and(Value::is_object) {
        pod["status"] = json!({});
    }
    let now = now_rfc3339();
    let conditions = pod["status"]
        .as_object_mut()
        .expect("made an object above")
        .entry("conditions")
        .or_insert_with(|| json!([]));
    let Some(list) = conditions.as_array_mut() else {
        return;
    };
    let mut condition =
        json!({"type": kind, "status": status, "lastTransitionTime": now, "lastProbeTime": null});
    if !reason.is_empty() {
        condition["reason"] = json!(reason);
        condition["message"] = json!(message);
    }
    match list.iter_mut().find(|c| str_at(c, "/type") == kind) {
        Some(c) => *c = condition,
        None => list.push(condition),
    }
}

/// Deletes an object. A pod bound to a node is deleted gracefully: it gets a
/// deletionTimestamp and stays until its node's agent has stopped it and deletes it
/// with grace 0, as the kubelet does.
fn delete(
    state: &ApiState,
    key: &Key,
    query: &BTreeMap<String, String>,
    body: &Bytes,
) -> Result<Value, ApiError> {
    let options: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("DeleteOptions: {e}")))?
    };
    let grace = query
        .get("gracePeriodSeconds")
        .and_then(|g| g.parse::<i64>().ok())
        .or_else(|| options.get("gracePeriodSeconds").and_then(Value::as_i64));
    delete_object(state, key, grace)
}

/// Deletes an object, gracefully for a running pod on a node (see [`delete`]).
pub fn delete_object(state: &ApiState, key: &Key, grace: Option<i64>) -> Result<Value, ApiError> {
    let current = state
        .store
        .get(key)
        .ok_or_else(|| StoreError::NotFound(format!("{} \"{}\"", key.resource, key.name)))?;
    let bound = !str_at(&current, "/spec/nodeName").is_empty();
    let finished = matches!(str_at(&current, "/status/phase"), "Succeeded" | "Failed");
    if key.resource == "pods" && bound && !finished && grace != Some(0) {
        let grace = grace
            .or_else(|| {
                current
                    .pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(30);
        let updated = state.store.modify(key, |pod| {
            if pod.pointer("/metadata/deletionTimestamp").is_some() {
                return None;
            }
            let mut pod = pod.clone();
            pod["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
            pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            Some(pod)
        })?;
        return Ok((*updated).clone());
    }
    Ok((*state.store.delete(key)?).clone())
}

async fn pod_log(
    state: &ApiState,
    key: &Key,
    query: &BTreeMap<String, String>,
) -> Result<Response, ApiError> {
    let pod = state
        .store
        .get(key)
        .ok_or_else(|| StoreError::NotFound(format!("pods \"{}\"", key.name)))?;
    let node_name = str_at(&pod, "/spec/nodeName");
    if node_name.is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {} is not scheduled yet",
            key.name
        )));
    }
    let container = match query.get("container") {
        Some(c) => c.clone(),
        None => str_at(&pod, "/spec/containers/0/name").to_owned(),
    };
    let node = state
        .store
        .get(&Key::new("nodes", "", node_name))
        .ok_or_else(|| StoreError::NotFound(format!("nodes \"{node_name}\"")))?;
    let ip = node
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|x| str_at(x, "/type") == "InternalIP"))
        .map_or("127.0.0.1", |x| str_at(x, "/address"));
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "node {node_name} serves no logs (no kubelet endpoint)"
            ))
        })?;
    let url = format!(
        "http://{ip}:{port}/containerLogs/{}/{}/{container}",
        key.namespace, key.name
    );
    let answer = state
        .http
        .get(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| ApiError::internal(format!("reaching node {node_name}'s agent: {e}")))?;
    let code = answer.status().as_u16();
    let text = answer
        .bytes()
        .await
        .map_err(|e| ApiError::internal(format!("reading node {node_name}'s answer: {e}")))?;
    if code != 200 {
        return Err(ApiError::new(
            StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY),
            "NotFound",
            String::from_utf8_lossy(&text).into_owned(),
        ));
    }
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], text).into_response())
}
