use serde::Deserialize;

use super::{ObjectMeta, Toleration};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DaemonSetList {
    pub items: Vec<DaemonSet>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DaemonSet {
    pub metadata: ObjectMeta,
    pub spec: DaemonSetSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DaemonSetSpec {
    pub template: PodTemplate,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodTemplate {
    pub spec: TemplateSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TemplateSpec {
    pub tolerations: Vec<Toleration>,
}

impl DaemonSet {
    pub fn tolerations(&self) -> &[Toleration] {
        &self.spec.template.spec.tolerations
    }
}
