use std::collections::BTreeMap;

use serde::Deserialize;

/// `metadata` of any object.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// RFC 3339, such as `2026-12-04T10:00:00Z`.
    pub creation_timestamp: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub owner_references: Vec<OwnerReference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct OwnerReference {
    pub kind: String,
    pub name: String,
}

impl ObjectMeta {
    /// Returns the creation time, when it is set and valid.
    pub fn created(&self) -> Option<jiff::Timestamp> {
        self.creation_timestamp.as_deref()?.parse().ok()
    }

    /// Returns the name of the owner of this kind, such as the DaemonSet of a pod.
    pub fn owner(&self, kind: &str) -> Option<&str> {
        self.owner_references
            .iter()
            .find(|owner| owner.kind == kind)
            .map(|owner| owner.name.as_str())
    }
}
