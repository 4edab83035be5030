use serde::Deserialize;

use super::{ObjectMeta, Toleration};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodList {
    pub items: Vec<Pod>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
    pub status: PodStatus,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    pub node_name: Option<String>,
    pub tolerations: Vec<Toleration>,
    pub containers: Vec<Container>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Container {
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    pub phase: Option<String>,
    pub start_time: Option<String>,
    pub container_statuses: Vec<ContainerStatus>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    pub restart_count: u32,
    /// `containerd://ID`, `docker://ID` or `cri-o://ID`.
    #[serde(rename = "containerID")]
    pub container_id: Option<String>,
    pub state: ContainerState,
    pub last_state: ContainerState,
}

/// The `state` or `lastState` of a container: at most one of the three is set.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContainerState {
    pub running: Option<StateTimes>,
    pub terminated: Option<StateTimes>,
    pub waiting: Option<Waiting>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StateTimes {
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    #[serde(rename = "containerID")]
    pub container_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Waiting {
    pub reason: Option<String>,
}

impl Pod {
    pub fn container_status(&self, name: &str) -> Option<&ContainerStatus> {
        self.status
            .container_statuses
            .iter()
            .find(|status| status.name == name)
    }
}

impl ContainerStatus {
    /// Returns when the current container started, when it is running.
    pub fn started_at(&self) -> Option<jiff::Timestamp> {
        let running = self.state.running.as_ref()?;
        running.started_at.as_deref()?.parse().ok()
    }

    /// Returns the runtime's ids of the current and the previous container, without the
    /// `containerd://` prefix, newest first.
    pub fn runtime_ids(&self) -> Vec<String> {
        let previous = self
            .last_state
            .terminated
            .as_ref()
            .and_then(|terminated| terminated.container_id.clone());
        [self.container_id.clone(), previous]
            .into_iter()
            .flatten()
            .filter_map(|id| id.rsplit("://").next().map(str::to_string))
            .filter(|id| !id.is_empty())
            .collect()
    }
}
