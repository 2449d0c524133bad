//! The audit log: one JSON line per request (time, identity, verb, resource, namespace,
//! name, HTTP code), appended and flushed before the response leaves, in the spirit of
//! Kubernetes' audit backend at the `Metadata` level.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde_json::json;

/// One request as the log records it.
#[derive(Debug, Default, Clone)]
pub struct AuditRecord {
    /// Who asked (`system:anonymous` without a valid token).
    pub user: String,
    /// Kubernetes' verb: get, list, watch, create, update, patch, delete.
    pub verb: String,
    /// Resource (with `/subresource`), or the non-resource path.
    pub resource: String,
    /// Namespace, if any.
    pub namespace: String,
    /// Object name, if any.
    pub name: String,
    /// The HTTP status answered.
    pub code: u16,
}

/// The append-only log file.
pub struct AuditLog {
    file: Mutex<File>,
}

impl AuditLog {
    /// Opens `path` for appending, creating it owner-only.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(AuditLog {
            file: Mutex::new(options.open(path)?),
        })
    }

    /// Appends one record. A failed write is reported on stderr, not to the client: the
    /// request has already been served.
    pub fn record(&self, r: &AuditRecord) {
        let now = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
        let line = json!({
            "time": now,
            "user": r.user,
            "verb": r.verb,
            "resource": r.resource,
            "namespace": r.namespace,
            "name": r.name,
            "code": r.code,
        });
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = writeln!(file, "{line}") {
            eprintln!("schedlab control-plane: audit log write failed: {e}");
        }
    }
}
