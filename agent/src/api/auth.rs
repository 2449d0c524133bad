//! Authentication by bearer token and authorization by role, in the spirit of Kubernetes'
//! static token file and RBAC with least privilege.
//!
//! The tokens live in one owner-only file, `DIR/tokens`, one `token,user,role,scope` line
//! each (like kube-apiserver's `--token-auth-file`); the server re-reads it when it changes,
//! so `schedlab token create` works while the control plane runs. Roles:
//! - `admin`: everything;
//! - `editor` of a namespace: every verb on namespaced resources there (Kubernetes' `edit`
//!   ClusterRole bound in that namespace), nothing cluster-scoped;
//! - `viewer` of a namespace: get, list and watch there (`view`);
//! - `node` NAME: reads nodes and pods, writes its own Node and the status of the pods
//!   bound to it, deletes those pods, creates events (the Node authorizer and the
//!   NodeRestriction admission plugin, simplified);
//! - `bootstrap`: only exchanges itself for a node's credential (a bootstrap token,
//!   without the CSR).
//!
//! Discovery, `/version` and `/metrics` are open to every authenticated identity.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::Value;

/// What an identity may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// Every verb on namespaced resources of one namespace.
    Editor(String),
    /// Read-only in one namespace.
    Viewer(String),
    /// One node's agent.
    Node(String),
    /// May only ask for a node credential.
    Bootstrap,
}

impl Role {
    /// Parses `admin`, `editor` + namespace, `viewer` + namespace, `node` + node name,
    /// `bootstrap`.
    pub fn parse(role: &str, scope: &str) -> Result<Role, String> {
        let need = |what: &str| {
            if scope.is_empty() {
                Err(format!("role {role} needs a {what}"))
            } else {
                Ok(scope.to_owned())
            }
        };
        match role {
            "admin" => Ok(Role::Admin),
            "editor" => need("namespace").map(Role::Editor),
            "viewer" => need("namespace").map(Role::Viewer),
            "node" => need("node name").map(Role::Node),
            "bootstrap" => Ok(Role::Bootstrap),
            _ => Err(format!(
                "unknown role {role:?} (expected admin, editor, viewer, node or bootstrap)"
            )),
        }
    }

    fn words(&self) -> (&'static str, &str) {
        match self {
            Role::Admin => ("admin", ""),
            Role::Editor(ns) => ("editor", ns),
            Role::Viewer(ns) => ("viewer", ns),
            Role::Node(n) => ("node", n),
            Role::Bootstrap => ("bootstrap", ""),
        }
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The user name, as the audit log and 403 messages show it.
    pub user: String,
    /// What it may do.
    pub role: Role,
}

/// The user name a role's tokens get unless one is given.
pub fn default_user(role: &Role) -> String {
    match role {
        Role::Admin => "admin".into(),
        Role::Editor(ns) => format!("editor:{ns}"),
        Role::Viewer(ns) => format!("viewer:{ns}"),
        Role::Node(n) => format!("system:node:{n}"),
        Role::Bootstrap => "system:bootstrap".into(),
    }
}

/// A new random token: 32 bytes from the operating system, hex.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Appends a new token for `role` to the token file (created owner-only) and returns it.
pub fn create_token(path: &Path, role: &Role, user: Option<&str>) -> std::io::Result<String> {
    let token = new_token()?;
    let user = user.map_or_else(|| default_user(role), str::to_owned);
    if user.contains([',', '\n']) {
        return Err(std::io::Error::other(
            "a user name cannot hold ',' or a newline",
        ));
    }
    let (word, scope) = role.words();
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{token},{user},{word},{scope}")?;
    file.sync_all()?;
    Ok(token)
}

/// The token file, read again whenever it changes.
pub struct Tokens {
    path: PathBuf,
    cache: Mutex<(Option<SystemTime>, BTreeMap<String, Identity>)>,
}

impl Tokens {
    /// Reads the token file at `path`.
    pub fn open(path: &Path) -> std::io::Result<Tokens> {
        let tokens = Tokens {
            path: path.to_owned(),
            cache: Mutex::new((None, BTreeMap::new())),
        };
        tokens.reload()?;
        Ok(tokens)
    }

    fn reload(&self) -> std::io::Result<()> {
        let modified = std::fs::metadata(&self.path)?.modified().ok();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0.is_some() && cache.0 == modified {
            return Ok(());
        }
        let text = std::fs::read_to_string(&self.path)?;
        let mut map = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split(',').collect();
            let [token, user, role, scope] = parts[..] else {
                eprintln!(
                    "{}:{}: expected token,user,role,scope; line skipped",
                    self.path.display(),
                    i + 1
                );
                continue;
            };
            match Role::parse(role, scope) {
                Ok(role) => {
                    map.insert(
                        token.to_owned(),
                        Identity {
                            user: user.to_owned(),
                            role,
                        },
                    );
                }
                Err(e) => eprintln!("{}:{}: {e}; line skipped", self.path.display(), i + 1),
            }
        }
        *cache = (modified, map);
        Ok(())
    }

    /// The identity of a bearer token, if the file holds it.
    pub fn authenticate(&self, token: &str) -> Option<Identity> {
        if let Err(e) = self.reload() {
            eprintln!(
                "schedlab control-plane: reading {}: {e}",
                self.path.display()
            );
        }
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.1.get(token).cloned()
    }
}

/// What a request asks to do, for authorization.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// get, list, watch, create, update, patch, delete.
    pub verb: &'a str,
    /// Plural resource.
    pub resource: &'a str,
    /// `status`, `binding`, `log` or empty.
    pub subresource: &'a str,
    /// Namespace, empty for cluster-scoped.
    pub namespace: &'a str,
    /// Object name, empty for collections.
    pub name: &'a str,
}

fn is_read(verb: &str) -> bool {
    matches!(verb, "get" | "list" | "watch")
}

/// Whether `id` may do `access`. `existing` is the stored object a write would change (a
/// node may touch only its own pods), `body` the object sent.
pub fn authorize(
    id: &Identity,
    access: &Access<'_>,
    existing: Option<&Value>,
    body: Option<&Value>,
) -> bool {
    match &id.role {
        Role::Admin => true,
        Role::Bootstrap => false,
        Role::Editor(ns) => !access.namespace.is_empty() && access.namespace == ns,
        Role::Viewer(ns) => {
            !access.namespace.is_empty() && access.namespace == ns && is_read(access.verb)
        }
        Role::Node(me) => node_may(me, access, existing, body),
    }
}

fn node_may(me: &str, a: &Access<'_>, existing: Option<&Value>, body: Option<&Value>) -> bool {
    if is_read(a.verb) {
        return matches!(a.resource, "nodes" | "pods" | "namespaces");
    }
    let bound_here = |o: Option<&Value>| {
        o.and_then(|o| o.pointer("/spec/nodeName"))
            .and_then(Value::as_str)
            == Some(me)
    };
    match (a.resource, a.verb) {
        ("nodes", "create") => {
            body.and_then(|b| b.pointer("/metadata/name"))
                .and_then(Value::as_str)
                == Some(me)
        }
        ("nodes", "update" | "patch") => a.name == me,
        ("pods", "update" | "patch") => a.subresource == "status" && bound_here(existing),
        ("pods", "delete") => bound_here(existing),
        ("events", "create") => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(role: Role) -> Identity {
        Identity {
            user: default_user(&role),
            role,
        }
    }

    fn access<'a>(
        verb: &'a str,
        resource: &'a str,
        sub: &'a str,
        ns: &'a str,
        name: &'a str,
    ) -> Access<'a> {
        Access {
            verb,
            resource,
            subresource: sub,
            namespace: ns,
            name,
        }
    }

    #[test]
    fn roles_keep_to_their_scope() {
        let editor = id(Role::Editor("a".into()));
        assert!(authorize(
            &editor,
            &access("create", "pods", "", "a", ""),
            None,
            None
        ));
        assert!(!authorize(
            &editor,
            &access("create", "pods", "", "b", ""),
            None,
            None
        ));
        assert!(!authorize(
            &editor,
            &access("list", "nodes", "", "", ""),
            None,
            None
        ));
        let viewer = id(Role::Viewer("a".into()));
        assert!(authorize(
            &viewer,
            &access("list", "pods", "", "a", ""),
            None,
            None
        ));
        assert!(!authorize(
            &viewer,
            &access("delete", "pods", "", "a", "x"),
            None,
            None
        ));
        assert!(!authorize(
            &id(Role::Bootstrap),
            &access("get", "pods", "", "a", "x"),
            None,
            None
        ));
    }

    #[test]
    fn a_node_writes_only_its_own_node_and_pods() {
        let node = id(Role::Node("n1".into()));
        assert!(authorize(
            &node,
            &access("update", "nodes", "status", "", "n1"),
            None,
            None
        ));
        assert!(!authorize(
            &node,
            &access("update", "nodes", "status", "", "n2"),
            None,
            None
        ));
        let mine = json!({"spec": {"nodeName": "n1"}});
        let theirs = json!({"spec": {"nodeName": "n2"}});
        let status = access("update", "pods", "status", "a", "p");
        assert!(authorize(&node, &status, Some(&mine), None));
        assert!(!authorize(&node, &status, Some(&theirs), None));
        assert!(!authorize(
            &node,
            &access("update", "pods", "", "a", "p"),
            Some(&mine),
            None
        ));
        assert!(!authorize(
            &node,
            &access("create", "pods", "", "a", ""),
            None,
            None
        ));
    }

    #[test]
    fn token_file_round_trip_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let admin = create_token(&path, &Role::Admin, None).unwrap();
        let tokens = Tokens::open(&path).unwrap();
        assert_eq!(tokens.authenticate(&admin).unwrap().role, Role::Admin);
        assert!(tokens.authenticate("nope").is_none());
        // A token added while the server runs is seen (mtime granularity aside, force it).
        std::thread::sleep(std::time::Duration::from_millis(20));
        let viewer = create_token(&path, &Role::Viewer("a".into()), None).unwrap();
        let file = std::fs::File::options().append(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(tokens.authenticate(&viewer).unwrap().user, "viewer:a");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
