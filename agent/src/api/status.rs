//! Errors as the API answers them: Kubernetes `Status` objects with the HTTP code, the
//! reason word and a message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::store::StoreError;

/// A failed request, answered as a `Status`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub code: StatusCode,
    /// Kubernetes' `reason`: `NotFound`, `Conflict`, `Forbidden`, ...
    pub reason: &'static str,
    /// What went wrong, for a person.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 400 for a body that fails validation (Kubernetes answers 422 for field errors of
    /// a well-formed object, 400 for a body it cannot decode; both name the field here).
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 404 for a path the server does not serve.
    pub fn no_route(path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 405.
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
    }

    /// 401: no identity.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    /// 403: an identity outside its rights, worded as Kubernetes' RBAC does.
    pub fn forbidden(user: &str, verb: &str, what: &str, scope: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("{what} is forbidden: User \"{user}\" cannot {verb} resource {scope}"),
        )
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// The `Status` object.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let message = e.to_string();
        match e {
            StoreError::AlreadyExists(_) => {
                ApiError::new(StatusCode::CONFLICT, "AlreadyExists", message)
            }
            StoreError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "NotFound", message),
            StoreError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "Conflict", message),
            StoreError::Gone(..) => ApiError::new(StatusCode::GONE, "Expired", message),
            StoreError::Storage(_) => ApiError::internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code, axum::Json(self.body())).into_response()
    }
}
