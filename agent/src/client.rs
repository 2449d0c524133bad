//! A small blocking client of the control plane for the command line (`schedlab logs`):
//! one request, the kubeconfig's CA trusted and its token sent.

use crate::node::kubeconfig::Kubeconfig;

/// A request that failed: the transport, or the server's Status message.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Could not reach the server or read its answer.
    #[error("{server}: {message}")]
    Transport {
        /// The server URL.
        server: String,
        /// What failed.
        message: String,
    },
    /// The server answered with an error.
    #[error("{code}: {message}")]
    Status {
        /// HTTP status.
        code: u16,
        /// The Status object's message.
        message: String,
    },
}

/// `GET path` and the body as text, with a 30 s limit.
pub fn get_text(config: &Kubeconfig, path: &str) -> Result<String, ClientError> {
    BlockingClient::new(config.clone(), std::time::Duration::from_secs(30))?.get_text(path)
}

/// A blocking client holding its own runtime, for programs and tests without one.
pub struct BlockingClient {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    config: Kubeconfig,
}

impl BlockingClient {
    /// A client for the server, CA and token of `config`, each request bounded by
    /// `timeout`.
    pub fn new(
        config: Kubeconfig,
        timeout: std::time::Duration,
    ) -> Result<BlockingClient, ClientError> {
        let transport = |e: &dyn std::fmt::Display| ClientError::Transport {
            server: config.server.clone(),
            message: e.to_string(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| transport(&e))?;
        let builder = match &config.ca_pem {
            Some(ca) => crate::tls::client_builder(ca).map_err(|e| transport(&e))?,
            None => reqwest::Client::builder(),
        }
        .timeout(timeout);
        let client = builder.build().map_err(|e| transport(&e))?;
        Ok(BlockingClient {
            runtime,
            client,
            config,
        })
    }

    /// `GET path` and the body as text; an error answer is its Status message.
    pub fn get_text(&self, path: &str) -> Result<String, ClientError> {
        self.runtime.block_on(async {
            let transport = |e: reqwest::Error| ClientError::Transport {
                server: self.config.server.clone(),
                message: e.to_string(),
            };
            let reply = self
                .client
                .get(format!("{}{path}", self.config.server))
                .bearer_auth(&self.config.token)
                .send()
                .await
                .map_err(transport)?;
            let code = reply.status().as_u16();
            let text = reply.text().await.map_err(transport)?;
            if code >= 300 {
                let message = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["message"].as_str().map(str::to_owned))
                    .unwrap_or(text);
                return Err(ClientError::Status { code, message });
            }
            Ok(text)
        })
    }

    /// Sends `method path` with an optional JSON body; the status code and the JSON
    /// answer (Null when it is not JSON).
    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        self.runtime.block_on(async {
            let mut request = self
                .client
                .request(method, format!("{}{path}", self.config.server))
                .bearer_auth(&self.config.token);
            if let Some(b) = body {
                request = request.json(b);
            }
            let transport = |e: reqwest::Error| ClientError::Transport {
                server: self.config.server.clone(),
                message: e.to_string(),
            };
            let reply = request.send().await.map_err(transport)?;
            let code = reply.status().as_u16();
            let bytes = reply.bytes().await.map_err(transport)?;
            Ok((
                code,
                serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            ))
        })
    }
}
pub use reqwest::Method;
