//! The HTTP endpoints: /metrics, /findings, /healthz and /readyz.

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The content type of the Prometheus text exposition format 0.0.4.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The results of the last completed run, as the endpoints serve them.
#[derive(Debug, Default)]
pub struct Published {
    pub metrics: Option<String>,
    pub findings: Option<String>,
}

pub type SharedResults = Arc<RwLock<Published>>;

pub fn router(results: SharedResults) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/findings", get(findings))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(results)
}

fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "no run has completed yet\n",
    )
        .into_response()
}

async fn metrics(State(results): State<SharedResults>) -> Response {
    let published = results.read().unwrap_or_else(|e| e.into_inner());
    match &published.metrics {
        Some(text) => ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], text.clone()).into_response(),
        None => not_ready(),
    }
}

async fn findings(State(results): State<SharedResults>) -> Response {
    let published = results.read().unwrap_or_else(|e| e.into_inner());
    match &published.findings {
        Some(json) => ([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        None => not_ready(),
    }
}

/// Returns 200 while the process serves requests, whatever the checks found.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once a run has completed, so /metrics and /findings have something to serve.
async fn readyz(State(results): State<SharedResults>) -> Response {
    let published = results.read().unwrap_or_else(|e| e.into_inner());
    if published.metrics.is_some() {
        "ready\n".into_response()
    } else {
        not_ready()
    }
}
