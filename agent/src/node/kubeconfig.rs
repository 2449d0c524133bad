//! The few fields of a kubectl kubeconfig file the agent needs: the current context's
//! cluster `server` URL with its `certificate-authority-data` (the control plane's CA,
//! the only one the agent trusts) and its user's bearer `token`. Client certificates and
//! exec plugins are not read.

use std::path::{Path, PathBuf};

/// Where the agent finds its control plane and how it authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kubeconfig {
    /// The API server's base URL, without a trailing slash.
    pub server: String,
    /// The bearer token.
    pub token: String,
    /// The CA certificate (PEM) to trust for an `https://` server.
    pub ca_pem: Option<String>,
}

/// A kubeconfig that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The YAML does not parse as a kubeconfig (the message has the line and column).
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A field is missing or names nothing.
    #[error("{}: field {field}: {message}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// The field, as a path in the file.
        field: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct File {
    clusters: Vec<Named<Cluster>>,
    users: Vec<Named<User>>,
    contexts: Vec<Named<Context>>,
    #[serde(rename = "current-context")]
    current_context: Option<String>,
}

#[derive(serde::Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    value: T,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Cluster {
    server: Option<String>,
    #[serde(rename = "certificate-authority-data")]
    certificate_authority_data: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct User {
    token: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Context {
    cluster: Option<String>,
    user: Option<String>,
}

/// Reads a kubeconfig file.
pub fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| KubeconfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_kubeconfig(&text, path)
}

/// Parses a kubeconfig's text; `path` names it in errors.
pub fn parse_kubeconfig(text: &str, path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    let file: File = serde_saphyr::from_str(text).map_err(|e| KubeconfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let field = |field: &str, message: String| KubeconfigError::Field {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    };
    // Without a current context, a file with one context (or none, and one cluster and
    // one user) is unambiguous.
    let (cluster_name, user_name) = match &file.current_context {
        Some(name) => {
            let ctx = file
                .contexts
                .iter()
                .find(|c| &c.name == name)
                .ok_or_else(|| field("current-context", format!("no context named {name:?}")))?;
            (ctx.value.cluster.clone(), ctx.value.user.clone())
        }
        None => match file.contexts.as_slice() {
            [one] => (one.value.cluster.clone(), one.value.user.clone()),
            [] => (None, None),
            _ => {
                return Err(field(
                    "current-context",
                    "missing, and the file has several contexts".into(),
                ));
            }
        },
    };
    let pick =
        |list_len: usize, wanted: Option<&String>, names: Vec<&String>, what: &str| match wanted {
            Some(w) => names
                .iter()
                .position(|n| *n == w)
                .ok_or_else(|| field(&format!("{what}s"), format!("no {what} named {w:?}"))),
            None if list_len == 1 => Ok(0),
            None => Err(field(
                &format!("{what}s"),
                format!("no context names the {what}, and there is not exactly one"),
            )),
        };
    let ci = pick(
        file.clusters.len(),
        cluster_name.as_ref(),
        file.clusters.iter().map(|c| &c.name).collect(),
        "cluster",
    )?;
    let ui = pick(
        file.users.len(),
        user_name.as_ref(),
        file.users.iter().map(|u| &u.name).collect(),
        "user",
    )?;
    let server = file.clusters[ci]
        .value
        .server
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| field(&format!("clusters[{ci}].cluster.server"), "missing".into()))?;
    if !server.starts_with("http://") && !server.starts_with("https://") {
        return Err(field(
            &format!("clusters[{ci}].cluster.server"),
            format!("{server:?}: expected an https:// (or http://) URL"),
        ));
    }
    let ca_pem = match &file.clusters[ci].value.certificate_authority_data {
        None => None,
        Some(data) => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| {
                    field(
                        &format!("clusters[{ci}].cluster.certificate-authority-data"),
                        format!("not base64: {e}"),
                    )
                })?;
            Some(String::from_utf8(bytes).map_err(|_| {
                field(
                    &format!("clusters[{ci}].cluster.certificate-authority-data"),
                    "not a PEM certificate".into(),
                )
            })?)
        }
    };
    let token = file.users[ui]
        .value
        .token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| field(&format!("users[{ui}].user.token"), "missing".into()))?;
    Ok(Kubeconfig {
        server: server.trim_end_matches('/').to_string(),
        token,
        ca_pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: 'http://10.0.0.1:1'}
- name: lab
  cluster:
    server: http://127.0.0.1:6443/
users:
- name: admin
  user: {token: abc}
- name: node
  user:
    token: s3cret
contexts:
- name: a
  context: {cluster: other, user: admin}
- name: n
  context: {cluster: lab, user: node}
current-context: n
";

    #[test]
    fn the_current_context_picks_server_and_token() {
        let k = parse_kubeconfig(FILE, Path::new("k.yaml")).unwrap();
        assert_eq!(k.server, "http://127.0.0.1:6443");
        assert_eq!(k.token, "s3cret");
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let bad = FILE.replace("current-context: n", "current-context: zz");
        let e = parse_kubeconfig(&bad, Path::new("k.yaml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "k.yaml: field current-context: no context named \"zz\""
        );
        let bad = FILE.replace("    token: s3cret", "    username: x");
        let e = parse_kubeconfig(&bad, Path::new("k.yaml")).unwrap_err();
        assert_eq!(e.to_string(), "k.yaml: field users[1].user.token: missing");
        let e = parse_kubeconfig("clusters: [", Path::new("k.yaml")).unwrap_err();
        assert!(matches!(e, KubeconfigError::Parse { .. }), "{e}");
    }
}
