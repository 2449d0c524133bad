//! Placeholder until the validating reader lands: decodes JSON or YAML into JSON.

use serde_json::Value;

/// Decodes a request body.
pub fn validate(_kind: &str, body: &str, content_type: &str) -> Result<Value, String> {
    if content_type.contains("yaml") {
        serde_saphyr::from_str(body).map_err(|e| e.to_string())
    } else {
        serde_json::from_str(body).map_err(|e| e.to_string())
    }
}
