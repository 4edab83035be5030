//! The addresses of a Node object, as `kubectl get node NAME -o json` prints it.

use serde::Deserialize;

/// One entry of `status.addresses`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
}

#[derive(Deserialize)]
struct NodeJson {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    status: Status,
}

#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Default, Deserialize)]
struct Status {
    #[serde(default)]
    addresses: Vec<NodeAddress>,
}

/// The parts of a Node object the node-ip check reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    pub name: Option<String>,
    pub addresses: Vec<NodeAddress>,
}

impl NodeStatus {
    pub fn parse(text: &str) -> Result<NodeStatus, String> {
        let node: NodeJson = serde_json::from_str(text)
            .map_err(|error| format!("not a Node object in JSON: {error}"))?;
        Ok(NodeStatus {
            name: node.metadata.name,
            addresses: node.status.addresses,
        })
    }

    /// Returns the addresses of one type, such as `InternalIP`, in the order the API lists them.
    pub fn addresses_of(&self, kind: &str) -> Vec<&str> {
        self.addresses
            .iter()
            .filter(|address| address.kind == kind)
            .map(|address| address.address.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses() {
        let text = r#"{"kind":"Node","metadata":{"name":"worker-1"},"status":{"addresses":[{"type":"InternalIP","address":"10.19.0.57"},{"type":"Hostname","address":"worker-1"}]}}"#;
        let node = NodeStatus::parse(text).unwrap();
        assert_eq!(node.name.as_deref(), Some("worker-1"));
        assert_eq!(node.addresses_of("InternalIP"), vec!["10.19.0.57"]);
    }

    #[test]
    fn rejects_non_json() {
        assert!(NodeStatus::parse("status: {}").is_err());
    }
}
