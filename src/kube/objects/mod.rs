//! The few fields of Node, Pod and DaemonSet objects that checks read, as the API server and
//! `kubectl get -o json` return them.
//!
//! These are hand-written serde structs rather than k8s-openapi types: a check needs about
//! twenty fields, and every field is optional here, so a partial or older object still parses.
//! Unknown fields are ignored.

mod daemon_set;
mod meta;
mod node;
mod pod;
mod taint;

pub use daemon_set::{DaemonSet, DaemonSetList};
pub use meta::{ObjectMeta, OwnerReference};
pub use node::{Node, NodeAddress, NodeCondition};
pub use pod::{ContainerState, ContainerStatus, Pod, PodList};
pub use taint::{Taint, Toleration};

/// Parses a JSON object, naming the kind expected in the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str, kind: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|error| format!("not a {kind} in JSON: {error}"))
}
