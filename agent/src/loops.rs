//! The control plane's loop: keeps the scheduler's cluster state in step with the store,
//! runs a scheduling cycle when something changed, then the controllers, and applies what
//! both decided through the same code paths the API uses.
//!
//! It runs on a thread of its own (the scheduler and the store are synchronous), waking
//! every `resync` to look at the store's revision: a pass runs when anything was written
//! since the last one, and at least once a second for the timers the controllers keep
//! (heartbeat expiry, toleration deadlines, Job back-off).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::meta::str_at;
use crate::api::resources;
use crate::api::server::{ApiState, bind_pod, create, delete_object, set_condition};
use crate::api::store::{Key, revision_of};
use crate::controllers::{self, Action, Config, RandomSuffix, Snapshot, Time};
use crate::scheduling::{Outcome, SchedulingLoop};

/// The loop's settings.
#[derive(Clone, Debug)]
pub struct LoopConfig {
    /// How often the store's revision is looked at.
    pub resync: Duration,
    /// The controllers' timings.
    pub controllers: Config,
}

/// A running loop; dropping the handle does not stop it, [`LoopHandle::stop`] does.
pub struct LoopHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LoopHandle {
    /// Stops the loop after its current pass.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the loop on its own thread.
pub fn spawn(
    state: Arc<ApiState>,
    scheduler: SchedulingLoop,
    config: LoopConfig,
) -> std::io::Result<LoopHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("control-loop".into())
        .spawn(move || {
            let mut control = Control {
                state,
                scheduler,
                config,
                synced_pods: BTreeMap::new(),
                synced_nodes: BTreeMap::new(),
                reported: BTreeMap::new(),
                started: controllers::now(),
            };
            let mut last_revision = u64::MAX;
            let mut last_pass = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let revision = control.state.store.revision();
                if revision != last_revision || last_pass.elapsed() >= Duration::from_secs(1) {
                    control.pass();
                    last_revision = control.state.store.revision();
                    last_pass = Instant::now();
                }
                std::thread::sleep(control.config.resync);
            }
        })?;
    Ok(LoopHandle {
        stop,
        thread: Some(thread),
    })
}

struct Control {
    state: Arc<ApiState>,
    scheduler: SchedulingLoop,
    config: LoopConfig,
    /// The resourceVersion of each pod (by uid) and node (by name) the scheduler has seen.
    synced_pods: BTreeMap<String, u64>,
    synced_nodes: BTreeMap<String, u64>,
    /// The last FailedScheduling message recorded per pod, so an unchanged verdict is
    /// not written again every pass.
    reported: BTreeMap<String, String>,
    /// When the loop started: nodes not heard from since count from here, so a restarted
    /// control plane does not find every node silent.
    started: Time,
}

fn list(state: &ApiState, resource: &str) -> Vec<Value> {
    state
        .store
        .list(resource, None)
        .0
        .iter()
        .map(|v| (**v).clone())
        .collect()
}

fn key_of(resource: &str, o: &Value) -> Key {
    Key::new(
        resource,
        str_at(o, "/metadata/namespace"),
        str_at(o, "/metadata/name"),
    )
}

impl Control {
    fn pass(&mut self) {
        // Pods before nodes: a pod bound to a node that joined after the listing would
        // otherwise look orphaned.
        let pods = list(&self.state, "pods");
        let nodes = list(&self.state, "nodes");
        self.sync(&pods, &nodes);
        self.schedule(&pods);
        let snapshot = Snapshot {
            pods: list(&self.state, "pods"),
            nodes,
            replicasets: list(&self.state, "replicasets"),
            deployments: list(&self.state, "deployments"),
            jobs: list(&self.state, "jobs"),
        };
        let heartbeats = self.heartbeats(&snapshot.nodes);
        let now = controllers::now();
        let actions = controllers::reconcile_all(
            &snapshot,
            &heartbeats,
            now,
            &self.config.controllers,
            &mut RandomSuffix,
        );
        for action in actions {
            self.apply(action, now);
        }
    }

    fn heartbeats(&self, nodes: &[Value]) -> BTreeMap<String, Time> {
        let beats = self
            .state
            .heartbeats
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default();
        let now = controllers::now();
        nodes
            .iter()
            .map(|n| {
                let name = str_at(n, "/metadata/name").to_owned();
                let at = beats.get(&name).map_or(self.started, |i| {
                    now - i64::try_from(i.elapsed().as_micros()).unwrap_or(i64::MAX / 2)
                });
                (name, at.max(self.started))
            })
            .collect()
    }

    /// Brings the scheduler's cluster state up to the store's.
    fn sync(&mut self, pods: &[Value], nodes: &[Value]) {
        let names: std::collections::BTreeSet<&str> =
            nodes.iter().map(|n| str_at(n, "/metadata/name")).collect();
        let gone: Vec<String> = self
            .synced_nodes
            .keys()
            .filter(|n| !names.contains(n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            self.scheduler.remove_node(&name);
            self.synced_nodes.remove(&name);
        }
        for node in nodes {
            let name = str_at(node, "/metadata/name");
            let rv = revision_of(node).unwrap_or(0);
            if self.synced_nodes.get(name) == Some(&rv) {
                continue;
            }
            if let Err(e) = self.scheduler.upsert_node(node) {
                eprintln!("schedlab control-plane: node {name}: {e}");
            }
            self.synced_nodes.insert(name.to_owned(), rv);
        }
        let mut live = std::collections::BTreeSet::new();
        for pod in pods {
            let uid = str_at(pod, "/metadata/uid");
            let finished = matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed");
            if finished {
                continue;
            }
            live.insert(uid.to_owned());
            let rv = revision_of(pod).unwrap_or(0);
            if self.synced_pods.get(uid) == Some(&rv) {
                continue;
            }
            if let Err(e) = self.scheduler.upsert_pod(pod) {
                eprintln!(
                    "schedlab control-plane: pod {}/{}: {e}",
                    str_at(pod, "/metadata/namespace"),
                    str_at(pod, "/metadata/name")
                );
            }
            self.synced_pods.insert(uid.to_owned(), rv);
        }
        let gone: Vec<String> = self
            .synced_pods
            .keys()
            .filter(|u| !live.contains(*u))
            .cloned()
            .collect();
        for uid in gone {
            self.scheduler.remove_pod(&uid);
            self.synced_pods.remove(&uid);
            self.reported.remove(&uid);
        }
    }

    fn schedule(&mut self, pods: &[Value]) {
        let pending = pods.iter().any(|p| {
            str_at(p, "/spec/nodeName").is_empty()
                && p.pointer("/metadata/deletionTimestamp").is_none()
        });
        if !pending {
            return;
        }
        let by_uid: BTreeMap<&str, &Value> = pods
            .iter()
            .map(|p| (str_at(p, "/metadata/uid"), p))
            .collect();
        let started = Instant::now();
        let now_micros = u64::try_from(controllers::now()).unwrap_or(0);
        let outcomes = self.scheduler.schedule(now_micros);
        let per_pod = started.elapsed() / u32::try_from(outcomes.len().max(1)).unwrap_or(1);
        for outcome in outcomes {
            match outcome {
                Outcome::Bound { uid, node } => {
                    self.state.metrics.attempt("scheduled", per_pod);
                    let Some(pod) = by_uid.get(uid.as_str()) else {
                        continue;
                    };
                    let key = key_of("pods", pod);
                    match bind_pod(&self.state.store, &key, &node) {
                        Ok(_) => {
                            self.reported.remove(&uid);
                            self.event(
                                pod,
                                "Normal",
                                "Scheduled",
                                &format!(
                                    "Successfully assigned {}/{} to {node}",
                                    key.namespace, key.name
                                ),
                            );
                        }
                        Err(e) => {
                            // Deleted or bound meanwhile: the next pass sees the truth.
                            self.scheduler.unbind(&uid);
                            self.synced_pods.remove(&uid);
                            eprintln!(
                                "schedlab control-plane: binding {}: {}",
                                key.name, e.message
                            );
                        }
                    }
                }
                Outcome::Unschedulable { uid, message } => {
                    self.state.metrics.attempt("unschedulable", per_pod);
                    let Some(pod) = by_uid.get(uid.as_str()) else {
                        continue;
                    };
                    if self.reported.get(&uid) == Some(&message) {
                        continue;
                    }
                    let key = key_of("pods", pod);
                    let condition_message = message.clone();
                    let _ = self.state.store.modify(&key, |p| {
                        let mut p = p.clone();
                        set_condition(
                            &mut p,
                            "PodScheduled",
                            "False",
                            "Unschedulable",
                            &condition_message,
                        );
                        Some(p)
                    });
                    self.event(pod, "Warning", "FailedScheduling", &message);
                    self.reported.insert(uid, message);
                }
                Outcome::Preempt { uid, node, victims } => {
                    self.state.metrics.attempt("preempted", per_pod);
                    let Some(pod) = by_uid.get(uid.as_str()) else {
                        continue;
                    };
                    let key = key_of("pods", pod);
                    let _ = self.state.store.modify(&key, |p| {
                        let mut p = p.clone();
                        p["status"]["nominatedNodeName"] = json!(node);
                        Some(p)
                    });
                    for victim in victims {
                        if let Some(v) = by_uid.get(victim.as_str()) {
                            self.event(
                                v,
                                "Normal",
                                "Preempted",
                                &format!(
                                    "Preempted by pod {} on node {node}",
                                    str_at(pod, "/metadata/uid")
                                ),
                            );
                            let _ = delete_object(&self.state, &key_of("pods", v), None);
                        }
                    }
                }
            }
        }
    }

    fn event(&self, about: &Value, kind: &str, reason: &str, message: &str) {
        let event = controllers::Event {
            involved: controllers::object_ref(about),
            type_: if kind == "Warning" {
                controllers::EventType::Warning
            } else {
                controllers::EventType::Normal
            },
            reason: reason.to_owned(),
            message: message.to_owned(),
            component: "default-scheduler",
        };
        self.apply(Action::Event(event), controllers::now());
    }

    fn apply(&self, action: Action, now: Time) {
        let result = match action {
            Action::Create { object } => {
                let kind = str_at(&object, "/kind").to_owned();
                let ns = str_at(&object, "/metadata/namespace").to_owned();
                match resources::by_kind(&kind) {
                    Some(r) => create(&self.state, &ns, r, object).map(|_| ()),
                    None => Ok(()),
                }
            }
            Action::Update { object } | Action::UpdateStatus { object } => {
                let kind = str_at(&object, "/kind").to_owned();
                match resources::by_kind(&kind) {
                    Some(r) => {
                        let key = key_of(r.plural, &object);
                        let expected = revision_of(&object);
                        self.state
                            .store
                            .update(&key, object, expected)
                            .map(|_| ())
                            .map_err(Into::into)
                    }
                    None => Ok(()),
                }
            }
            Action::Delete {
                kind,
                namespace,
                name,
                grace,
            } => match resources::by_kind(&kind) {
                Some(r) => {
                    let key = Key::new(r.plural, namespace.as_deref().unwrap_or(""), &name);
                    delete_object(
                        &self.state,
                        &key,
                        grace.map(|g| i64::try_from(g).unwrap_or(i64::MAX)),
                    )
                    .map(|_| ())
                }
                None => Ok(()),
            },
            Action::Event(event) => {
                let object = event.to_object(now, &mut RandomSuffix);
                let ns = str_at(&object, "/metadata/namespace").to_owned();
                let r = resources::by_kind("Event").expect("events are served");
                create(&self.state, &ns, r, object).map(|_| ())
            }
        };
        // Conflicts and vanished objects are normal for level-triggered controllers: the
        // next pass recomputes from fresh objects.
        if let Err(e) = result
            && !matches!(e.code.as_u16(), 404 | 409)
        {
            eprintln!(
                "schedlab control-plane: controller write failed: {}",
                e.message
            );
        }
    }
}
