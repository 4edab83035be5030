use serde::Deserialize;

use super::{ObjectMeta, Taint};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    pub metadata: ObjectMeta,
    pub spec: NodeSpec,
    pub status: NodeStatus,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeSpec {
    pub taints: Vec<Taint>,
    #[serde(rename = "providerID")]
    pub provider_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct NodeStatus {
    pub addresses: Vec<NodeAddress>,
    pub conditions: Vec<NodeCondition>,
}

/// One entry of `status.addresses`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeCondition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub last_transition_time: Option<String>,
}

impl Node {
    pub fn taint(&self, key: &str) -> Option<&Taint> {
        self.spec.taints.iter().find(|taint| taint.key == key)
    }

    /// Returns the addresses of one type, such as `InternalIP`, in the order the API lists them.
    pub fn addresses_of(&self, kind: &str) -> Vec<&str> {
        self.status
            .addresses
            .iter()
            .filter(|address| address.kind == kind)
            .map(|address| address.address.as_str())
            .collect()
    }

    /// Returns the status of a condition such as `Ready`: "True", "False" or "Unknown".
    pub fn condition(&self, kind: &str) -> Option<&str> {
        self.status
            .conditions
            .iter()
            .find(|condition| condition.kind == kind)
            .map(|condition| condition.status.as_str())
    }
}
