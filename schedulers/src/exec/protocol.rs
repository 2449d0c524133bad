//! The messages of `schedlab-exec/1`: writing schedlab's, reading the program's.
//! docs/exec-protocol.md is the specification; this file follows it field by field.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;

use crate::cluster::ClusterState;
use crate::labels::{Labels, NodeSelectorTerm, SelectorRequirement};
use crate::node::{Node, NodeId};
use crate::pod::{Pod, PodId};
use crate::resources::{ResourceNames, Resources};
use crate::taints::Toleration;

/// The protocol version schedlab speaks. A program must answer the hello with exactly
/// this string.
pub const PROTOCOL: &str = "schedlab-exec/1";

/// The first message: who we are and the protocol version.
pub(crate) fn hello(scheduler: &str, cluster: &ClusterState) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(br#"{"type":"hello","protocol":"#);
    string(&mut out, PROTOCOL);
    out.extend_from_slice(br#","seq":0,"scheduler":"#);
    string(&mut out, scheduler);
    out.extend_from_slice(br#","resources":["#);
    let names = cluster.resource_names();
    for (i, kind) in names.kinds().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(&mut out, names.name(kind));
    }
    out.extend_from_slice(b"]}\n");
    out
}

/// One cycle's message: the time, the nodes the program has not seen in their current
/// state (all of them when `full`), the nodes that left, and the pending pods. Updates
/// `sent` (the generation last sent per node id) and `known` (the program's nodes by
/// name). Returns the line and how many nodes were sent and removed.
pub(crate) fn cycle_message(
    seq: u64,
    now_micros: u64,
    full: bool,
    cluster: &ClusterState,
    pending: &[PodId],
    sent: &mut Vec<Option<u64>>,
    known: &mut BTreeMap<String, NodeId>,
) -> (Vec<u8>, usize, usize) {
    let names = cluster.resource_names();
    let generations = cluster.generations();
    sent.resize(cluster.nodes().len(), None);
    let mut out = Vec::with_capacity(1024);
    let _ = write!(
        out,
        r#"{{"type":"cycle","seq":{seq},"time_us":{now_micros},"full":{full},"nodes":["#
    );
    let mut changed = 0;
    for (i, node) in cluster.nodes().iter().enumerate() {
        let generation = generations.get(i).copied().unwrap_or(0);
        if node.ready && sent[i] != Some(generation) {
            if changed > 0 {
                out.push(b',');
            }
            changed += 1;
            write_node(&mut out, i, node, &cluster.rows()[i].free, names);
            if sent[i].is_none() {
                known
                    .entry(node.name().to_string())
                    .or_insert(NodeId(i as u32));
            }
            sent[i] = Some(generation);
        }
    }
    out.extend_from_slice(br#"],"removed":["#);
    let mut removed = 0;
    for (i, node) in cluster.nodes().iter().enumerate() {
        if !node.ready && sent[i].is_some() {
            if removed > 0 {
                out.push(b',');
            }
            removed += 1;
            string(&mut out, node.name());
            sent[i] = None;
            if known.get(node.name()) == Some(&NodeId(i as u32)) {
                known.remove(node.name());
            }
        }
    }
    out.extend_from_slice(br#"],"pending":["#);
    let mut first = true;
    for &id in pending {
        let Some(pod) = cluster.pod(id) else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        write_pod(&mut out, pod, names);
    }
    out.extend_from_slice(b"]}\n");
    (out, changed, removed)
}

fn write_node(out: &mut Vec<u8>, id: usize, node: &Node, free: &Resources, names: &ResourceNames) {
    let _ = write!(out, r#"{{"id":{id},"name":"#);
    string(out, node.name());
    out.extend_from_slice(br#","labels":"#);
    labels(out, &node.spec.labels);
    out.extend_from_slice(br#","taints":["#);
    for (i, taint) in node.spec.taints.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"key":"#);
        string(out, &taint.key);
        out.extend_from_slice(br#","value":"#);
        string(out, &taint.value);
        out.extend_from_slice(br#","effect":"#);
        string(out, taint.effect.name());
        out.push(b'}');
    }
    let _ = write!(
        out,
        r#"],"unschedulable":{},"allocatable":"#,
        node.spec.unschedulable
    );
    resources(out, &node.spec.allocatable, names, true);
    out.extend_from_slice(br#","requested":"#);
    resources(out, &node.requested, names, true);
    out.extend_from_slice(br#","free":"#);
    resources(out, free, names, true);
    out.push(b'}');
}

fn write_pod(out: &mut Vec<u8>, pod: &Pod, names: &ResourceNames) {
    let t = &pod.template;
    out.extend_from_slice(br#"{"name":"#);
    string(out, &pod.name().to_string());
    out.extend_from_slice(br#","namespace":"#);
    string(out, &t.namespace);
    let _ = write!(out, r#","priority":{},"requests":"#, t.priority);
    resources(out, &pod.requests, names, false);
    out.extend_from_slice(br#","labels":"#);
    labels(out, &t.labels);
    out.extend_from_slice(br#","node_selector":"#);
    labels(out, &t.node_selector);
    out.extend_from_slice(br#","node_affinity":"#);
    match t.node_affinity.as_ref().and_then(|a| a.required.as_ref()) {
        None => out.extend_from_slice(b"null"),
        Some(terms) => {
            out.push(b'[');
            for (i, term) in terms.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                selector_term(out, term);
            }
            out.push(b']');
        }
    }
    out.extend_from_slice(br#","tolerations":["#);
    for (i, toleration) in t.tolerations.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_toleration(out, toleration);
    }
    out.extend_from_slice(br#"],"node_name":"#);
    match &t.node_name {
        Some(name) => string(out, name),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn selector_term(out: &mut Vec<u8>, term: &NodeSelectorTerm) {
    out.extend_from_slice(br#"{"match_expressions":"#);
    requirements(out, &term.match_expressions);
    out.extend_from_slice(br#","match_fields":"#);
    requirements(out, &term.match_fields);
    out.push(b'}');
}

fn requirements(out: &mut Vec<u8>, list: &[SelectorRequirement]) {
    out.push(b'[');
    for (i, r) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"key":"#);
        string(out, &r.key);
        out.extend_from_slice(br#","operator":"#);
        string(out, r.operator.name());
        out.extend_from_slice(br#","values":["#);
        for (j, v) in r.values.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            string(out, v);
        }
        out.extend_from_slice(b"]}");
    }
    out.push(b']');
}

fn write_toleration(out: &mut Vec<u8>, t: &Toleration) {
    out.extend_from_slice(br#"{"key":"#);
    string(out, &t.key);
    out.extend_from_slice(br#","operator":"#);
    string(out, t.operator.name());
    out.extend_from_slice(br#","value":"#);
    string(out, &t.value);
    out.extend_from_slice(br#","effect":"#);
    match t.effect {
        Some(e) => string(out, e.name()),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// `{"cpu":2000,"memory":4294967296,...}`: every kind in use when `all`, else only the
/// kinds that are not zero (a pod's requests: a kind it does not request never rejects a
/// node).
fn resources(out: &mut Vec<u8>, r: &Resources, names: &ResourceNames, all: bool) {
    out.push(b'{');
    let mut first = true;
    for kind in names.kinds() {
        let amount = r.get(kind);
        if !all && amount == 0 {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        string(out, names.name(kind));
        let _ = write!(out, ":{amount}");
    }
    out.push(b'}');
}

fn labels(out: &mut Vec<u8>, labels: &Labels) {
    out.push(b'{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, v);
    }
    out.push(b'}');
}

/// A JSON string, escaped by serde_json.
fn string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail, and a &str always serializes.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Checks the program's hello: `{"type":"hello","protocol":"schedlab-exec/1",...}`.
pub(crate) fn parse_hello(line: &str) -> Result<(), String> {
    let value = parse(line)?;
    let object = value
        .as_object()
        .ok_or("expected a JSON object".to_string())?;
    match object.get("type").and_then(Value::as_str) {
        Some("hello") => {}
        Some(other) => return Err(format!("\"type\" is \"{other}\", expected \"hello\"")),
        None => return Err("\"type\" (a string, \"hello\") is missing".to_string()),
    }
    match object.get("protocol") {
        Some(Value::String(p)) if p == PROTOCOL => Ok(()),
        Some(Value::String(p)) => Err(format!(
            "the program speaks protocol \"{p}\", schedlab speaks \"{PROTOCOL}\""
        )),
        Some(_) => Err("\"protocol\" must be a string".to_string()),
        None => Err(format!(
            "\"protocol\" is missing; schedlab speaks \"{PROTOCOL}\""
        )),
    }
}

/// One decision of the program's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedDecision {
    /// The pod's name.
    pub pod: String,
    /// What to do with it.
    pub outcome: Outcome,
}

/// Bind to a node by name, or leave pending with reasons and node counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Bind to the node with this name.
    Node(String),
    /// Unschedulable: reason and how many nodes failed for it.
    Unschedulable(Vec<(String, u32)>),
}

/// Reads `{"type":"decisions","seq":N,"decisions":[...]}`, the answer to message `seq`.
pub(crate) fn parse_decisions(line: &str, seq: u64) -> Result<Vec<ParsedDecision>, String> {
    let value = parse(line)?;
    let object = value
        .as_object()
        .ok_or("expected a JSON object".to_string())?;
    match object.get("type").and_then(Value::as_str) {
        Some("decisions") => {}
        Some(other) => return Err(format!("\"type\" is \"{other}\", expected \"decisions\"")),
        None => return Err("\"type\" (a string, \"decisions\") is missing".to_string()),
    }
    match object.get("seq").map(|s| (s, s.as_u64())) {
        Some((_, Some(n))) if n == seq => {}
        Some((_, Some(n))) => {
            return Err(format!("\"seq\" is {n}, but this answers message #{seq}"));
        }
        Some((s, None)) => return Err(format!("\"seq\" must be an integer, got {s}")),
        None => return Err(format!("\"seq\" is missing (expected {seq})")),
    }
    let list = match object.get("decisions") {
        Some(Value::Array(list)) => list,
        Some(_) => return Err("\"decisions\" must be an array".to_string()),
        None => return Err("\"decisions\" is missing".to_string()),
    };
    let mut decisions = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let at = |e: &str| format!("decisions[{i}]: {e}");
        let item = item.as_object().ok_or_else(|| at("expected an object"))?;
        let pod = match item.get("pod") {
            Some(Value::String(p)) => p.clone(),
            _ => return Err(at("\"pod\" (the pod's name, a string) is missing")),
        };
        let outcome = match (item.get("node"), item.get("unschedulable")) {
            (Some(Value::String(node)), None) => Outcome::Node(node.clone()),
            (Some(_), None) => return Err(at("\"node\" must be a string (a node's name)")),
            (None, Some(Value::Object(reasons))) => {
                let mut parsed = Vec::with_capacity(reasons.len());
                for (reason, count) in reasons {
                    let count = count
                        .as_u64()
                        .and_then(|c| u32::try_from(c).ok())
                        .ok_or_else(|| {
                            at(&format!(
                                "\"unschedulable\": the count for \"{reason}\" must be a whole number of nodes, got {count}"
                            ))
                        })?;
                    parsed.push((reason.clone(), count));
                }
                Outcome::Unschedulable(parsed)
            }
            (None, Some(_)) => {
                return Err(at(
                    "\"unschedulable\" must be an object of reason -> number of nodes",
                ));
            }
            (Some(_), Some(_)) => return Err(at("give \"node\" or \"unschedulable\", not both")),
            (None, None) => return Err(at("give \"node\" or \"unschedulable\"")),
        };
        decisions.push(ParsedDecision { pod, outcome });
    }
    Ok(decisions)
}

/// Parses one line of JSON; the error gives serde_json's position in the line.
fn parse(line: &str) -> Result<Value, String> {
    serde_json::from_str(line).map_err(|e| format!("not valid JSON ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_must_name_our_version() {
        assert!(parse_hello(r#"{"type":"hello","protocol":"schedlab-exec/1","x":1}"#).is_ok());
        let e = parse_hello(r#"{"type":"hello","protocol":"schedlab-exec/2"}"#).unwrap_err();
        assert_eq!(
            e,
            "the program speaks protocol \"schedlab-exec/2\", schedlab speaks \"schedlab-exec/1\""
        );
        let e = parse_hello(r#"{"type":"decisions"}"#).unwrap_err();
        assert!(e.contains("expected \"hello\""), "{e}");
        let e = parse_hello("hello").unwrap_err();
        assert!(
            e.starts_with("not valid JSON (expected value at line 1 column 1"),
            "{e}"
        );
    }

    #[test]
    fn decisions_are_read_in_order() {
        let d = parse_decisions(
            r#"{"type":"decisions","seq":4,"decisions":[{"pod":"a","node":"n1"},{"pod":"b","unschedulable":{"Insufficient cpu":3}}]}"#,
            4,
        )
        .unwrap();
        assert_eq!(
            d,
            vec![
                ParsedDecision {
                    pod: "a".into(),
                    outcome: Outcome::Node("n1".into())
                },
                ParsedDecision {
                    pod: "b".into(),
                    outcome: Outcome::Unschedulable(vec![("Insufficient cpu".into(), 3)])
                },
            ]
        );
    }

    #[test]
    fn malformed_decisions_are_named() {
        let cases = [
            (
                r#"{"type":"decisions","seq":3,"decisions":[]}"#,
                "\"seq\" is 3, but this answers message #4",
            ),
            (
                r#"{"type":"decisions","decisions":[]}"#,
                "\"seq\" is missing (expected 4)",
            ),
            (
                r#"{"type":"decisions","seq":4}"#,
                "\"decisions\" is missing",
            ),
            (
                r#"{"type":"decisions","seq":4,"decisions":[{"pod":"a"}]}"#,
                "decisions[0]: give \"node\" or \"unschedulable\"",
            ),
            (
                r#"{"type":"decisions","seq":4,"decisions":[{"node":"a"}]}"#,
                "decisions[0]: \"pod\" (the pod's name, a string) is missing",
            ),
            (
                r#"{"type":"decisions","seq":4,"decisions":[{"pod":"a","unschedulable":{"x":-1}}]}"#,
                "decisions[0]: \"unschedulable\": the count for \"x\" must be a whole number of nodes, got -1",
            ),
            (
                r#"{"type":"decisions","seq":4,"decisions":[{"pod":"a","node":"n","unschedulable":{}}]}"#,
                "decisions[0]: give \"node\" or \"unschedulable\", not both",
            ),
            (r#"[1,2]"#, "expected a JSON object"),
            (
                r#"{"type":"decisions","seq":4,"decisions":[] "#,
                "not valid JSON (EOF while parsing an object at line 1 column 43)",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse_decisions(line, 4).unwrap_err(), want, "{line}");
        }
    }
}
