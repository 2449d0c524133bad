//! The control plane's object store: every object as Kubernetes JSON, kept in an embedded
//! transactional database (redb) and mirrored in memory for reads.
//!
//! A write is acknowledged only after its transaction commits with redb's default
//! (immediate) durability, so an object the API has answered for survives SIGKILL of the
//! control plane at any moment. Each write takes the next value of one global counter as
//! its `resourceVersion`, stored in the same transaction, as etcd's revision is in
//! Kubernetes; a watch is the stream of writes after a given version, replayed from a
//! bounded in-memory history (older versions answer 410 Gone, as the API server's watch
//! cache does).

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::Value;
use tokio::sync::broadcast;

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const REVISION: &str = "revision";
/// How many past writes a watch can resume from.
const HISTORY: usize = 4096;

/// Where an object lives: its resource (plural, as in the path), namespace ("" for
/// cluster-scoped objects) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// Plural resource name: `pods`, `nodes`, `deployments`.
    pub resource: String,
    /// Namespace, empty for cluster-scoped resources.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl Key {
    /// A key from its three parts.
    pub fn new(resource: &str, namespace: &str, name: &str) -> Key {
        Key {
            resource: resource.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    fn encode(&self) -> String {
        format!("{}/{}/{}", self.resource, self.namespace, self.name)
    }

    fn decode(s: &str) -> Option<Key> {
        let mut it = s.splitn(3, '/');
        Some(Key::new(it.next()?, it.next()?, it.next()?))
    }
}

/// What happened to an object, as a watch reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The word Kubernetes' watch protocol uses.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed write.
#[derive(Clone, Debug)]
pub struct WatchEvent {
    /// The write's resourceVersion.
    pub revision: u64,
    /// Which object.
    pub key: Key,
    /// Added, modified or deleted.
    pub kind: EventType,
    /// The object after the write (before it, for a deletion).
    pub object: Arc<Value>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Create of a name that exists.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// Read, update or delete of a name that does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Update whose resourceVersion is not the stored one.
    #[error(
        "Operation cannot be fulfilled on {0}: the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict(String),
    /// A watch asked for a version older than the history kept.
    #[error("too old resource version: {0} ({1})")]
    Gone(u64, u64),
    /// The database failed.
    #[error("storage: {0}")]
    Storage(String),
}

fn storage(e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(e.to_string())
}

struct Inner {
    objects: BTreeMap<Key, Arc<Value>>,
    revision: u64,
    history: VecDeque<Arc<WatchEvent>>,
}

/// A watch's start: the past events still held, and the receiver of those to come.
pub type WatchStart = (Vec<Arc<WatchEvent>>, broadcast::Receiver<Arc<WatchEvent>>);

/// The object store; shared by the API handlers and the controllers.
pub struct Store {
    db: Database,
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<WatchEvent>>,
}

impl Store {
    /// Opens (or creates) the database at `path` and loads every object.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::create(path).map_err(storage)?;
        let txn = db.begin_write().map_err(storage)?;
        txn.open_table(OBJECTS).map_err(storage)?;
        txn.open_table(META).map_err(storage)?;
        txn.commit().map_err(storage)?;
        let mut objects = BTreeMap::new();
        let revision;
        {
            let read = db.begin_read().map_err(storage)?;
            let table = read.open_table(OBJECTS).map_err(storage)?;
            for row in table.iter().map_err(storage)? {
                let (k, v) = row.map_err(storage)?;
                let key = Key::decode(k.value())
                    .ok_or_else(|| StoreError::Storage(format!("bad key {:?}", k.value())))?;
                let value: Value = serde_json::from_slice(v.value()).map_err(storage)?;
                objects.insert(key, Arc::new(value));
            }
            let meta = read.open_table(META).map_err(storage)?;
            revision = meta
                .get(REVISION)
                .map_err(storage)?
                .map(|g| g.value())
                .unwrap_or(0);
        }
        let (events, _) = broadcast::channel(HISTORY);
        Ok(Store {
            db,
            inner: Mutex::new(Inner {
                objects,
                revision,
                history: VecDeque::new(),
            }),
            events,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the maps consistent (they change only
        // after a commit), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current resourceVersion of the whole store.
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// One object.
    pub fn get(&self, key: &Key) -> Option<Arc<Value>> {
        self.lock().objects.get(key).cloned()
    }

    /// Every object of a resource, in one namespace or all (`None`), in name order, with
    /// the store's revision at the time of the list.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let inner = self.lock();
        let from = Key::new(resource, namespace.unwrap_or(""), "");
        let items = inner
            .objects
            .range(from..)
            .take_while(|(k, _)| {
                k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.revision)
    }

    /// Creates an object, writing the new resourceVersion into its metadata.
    pub fn create(&self, key: &Key, mut object: Value) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        if inner.objects.contains_key(key) {
            return Err(StoreError::AlreadyExists(describe(key)));
        }
        let revision = inner.revision + 1;
        set_revision(&mut object, revision);
        self.commit(&mut inner, key, Some(&object), revision)?;
        let object = Arc::new(object);
        inner.objects.insert(key.clone(), object.clone());
        self.publish(&mut inner, key, EventType::Added, object.clone(), revision);
        Ok(object)
    }

    /// Replaces an object. With `expected` set (the resourceVersion the client read), a
    /// different stored version is a conflict.
    pub fn update(
        &self,
        key: &Key,
        mut object: Value,
        expected: Option<u64>,
    ) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        let current = inner
            .objects
            .get(key)
            .ok_or_else(|| StoreError::NotFound(describe(key)))?;
        if let Some(expected) = expected
            && revision_of(current) != Some(expected)
        {
            return Err(StoreError::Conflict(describe(key)));
        }
        let revision = inner.revision + 1;
        set_revision(&mut object, revision);
        self.commit(&mut inner, key, Some(&object), revision)?;
        let object = Arc::new(object);
        inner.objects.insert(key.clone(), object.clone());
        self.publish(
            &mut inner,
            key,
            EventType::Modified,
            object.clone(),
            revision,
        );
        Ok(object)
    }

    /// Reads, changes and writes an object under the store's lock, so no other write
    /// comes between; `change` returning `None` leaves it as it is.
    pub fn modify(
        &self,
        key: &Key,
        change: impl FnOnce(&Value) -> Option<Value>,
    ) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        let current = inner
            .objects
            .get(key)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(describe(key)))?;
        let Some(mut object) = change(&current) else {
            return Ok(current);
        };
        let revision = inner.revision + 1;
        set_revision(&mut object, revision);
        self.commit(&mut inner, key, Some(&object), revision)?;
        let object = Arc::new(object);
        inner.objects.insert(key.clone(), object.clone());
        self.publish(
            &mut inner,
            key,
            EventType::Modified,
            object.clone(),
            revision,
        );
        Ok(object)
    }

    /// Removes an object and returns it as it was.
    pub fn delete(&self, key: &Key) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        if !inner.objects.contains_key(key) {
            return Err(StoreError::NotFound(describe(key)));
        }
        let revision = inner.revision + 1;
        self.commit(&mut inner, key, None, revision)?;
        let old = inner.objects.remove(key).expect("checked above");
        let mut last = (*old).clone();
        set_revision(&mut last, revision);
        let last = Arc::new(last);
        self.publish(&mut inner, key, EventType::Deleted, last.clone(), revision);
        Ok(last)
    }

    /// The writes after `revision` still in the history, and a receiver for the ones to
    /// come (taken under the same lock, so none is missed or seen twice).
    pub fn watch(&self, revision: u64) -> Result<WatchStart, StoreError> {
        let inner = self.lock();
        let oldest = inner
            .history
            .front()
            .map_or(inner.revision + 1, |e| e.revision);
        if revision + 1 < oldest && revision < inner.revision {
            return Err(StoreError::Gone(revision, oldest));
        }
        let past = inner
            .history
            .iter()
            .filter(|e| e.revision > revision)
            .cloned()
            .collect();
        Ok((past, self.events.subscribe()))
    }

    fn commit(
        &self,
        inner: &mut Inner,
        key: &Key,
        object: Option<&Value>,
        revision: u64,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(storage)?;
        {
            let mut table = txn.open_table(OBJECTS).map_err(storage)?;
            let k = key.encode();
            match object {
                Some(o) => {
                    let bytes = serde_json::to_vec(o).map_err(storage)?;
                    table
                        .insert(k.as_str(), bytes.as_slice())
                        .map_err(storage)?;
                }
                None => {
                    table.remove(k.as_str()).map_err(storage)?;
                }
            }
            let mut meta = txn.open_table(META).map_err(storage)?;
            meta.insert(REVISION, revision).map_err(storage)?;
        }
        txn.commit().map_err(storage)?;
        inner.revision = revision;
        Ok(())
    }

    fn publish(
        &self,
        inner: &mut Inner,
        key: &Key,
        kind: EventType,
        object: Arc<Value>,
        revision: u64,
    ) {
        let event = Arc::new(WatchEvent {
            revision,
            key: key.clone(),
            kind,
            object,
        });
        if inner.history.len() == HISTORY {
            inner.history.pop_front();
        }
        inner.history.push_back(event.clone());
        // No receiver is not an error: nobody watches.
        let _ = self.events.send(event);
    }
}

fn describe(key: &Key) -> String {
    format!("{} \"{}\"", key.resource, key.name)
}

/// The numeric `metadata.resourceVersion` of an object, if it has one.
pub fn revision_of(object: &Value) -> Option<u64> {
    object
        .pointer("/metadata/resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}

fn set_revision(object: &mut Value, revision: u64) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert(
            "resourceVersion".into(),
            Value::String(revision.to_string()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "a"}})
    }

    #[test]
    fn writes_survive_reopening_with_their_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        {
            let store = Store::open(&path).unwrap();
            store.create(&Key::new("pods", "a", "x"), pod("x")).unwrap();
            store.create(&Key::new("pods", "a", "y"), pod("y")).unwrap();
            store.delete(&Key::new("pods", "a", "x")).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.revision(), 3);
        let (items, _) = store.list("pods", Some("a"));
        assert_eq!(items.len(), 1);
        assert_eq!(revision_of(&items[0]), Some(2));
    }

    #[test]
    fn stale_update_is_a_conflict_and_duplicate_create_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let key = Key::new("pods", "a", "x");
        store.create(&key, pod("x")).unwrap();
        assert!(matches!(
            store.create(&key, pod("x")),
            Err(StoreError::AlreadyExists(_))
        ));
        store.update(&key, pod("x"), Some(1)).unwrap();
        assert!(matches!(
            store.update(&key, pod("x"), Some(1)),
            Err(StoreError::Conflict(_))
        ));
    }

    #[test]
    fn list_keeps_to_its_resource_and_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        store.create(&Key::new("pods", "a", "x"), pod("x")).unwrap();
        store.create(&Key::new("pods", "b", "y"), pod("y")).unwrap();
        store
            .create(&Key::new("podsx", "a", "z"), pod("z"))
            .unwrap();
        assert_eq!(store.list("pods", Some("a")).0.len(), 1);
        assert_eq!(store.list("pods", None).0.len(), 2);
    }

    #[test]
    fn watch_replays_history_after_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        for n in ["x", "y", "z"] {
            store.create(&Key::new("pods", "a", n), pod(n)).unwrap();
        }
        let (past, _) = store.watch(1).unwrap();
        let names: Vec<_> = past.iter().map(|e| e.key.name.as_str()).collect();
        assert_eq!(names, ["y", "z"]);
    }
}
