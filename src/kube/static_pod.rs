//! Static pod manifests of the control plane, reduced to the container's command-line flags.
//!
//! kubeadm writes one Pod per component to /etc/kubernetes/manifests, with the program and its
//! flags in `spec.containers[0].command`. A manifest may also carry flags in `args`, and may
//! have sidecar containers, so the component's container is picked by name.

use serde::Deserialize;

use crate::host::{Host, HostError, MAX_CONFIG_BYTES};

use super::MANIFESTS_DIR;

/// The static pods kubeadm writes on a control-plane node, by file stem.
pub const CONTROL_PLANE_COMPONENTS: [&str; 4] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
];

/// Returns the host path of a component's manifest, such as
/// /etc/kubernetes/manifests/kube-apiserver.yaml.
pub fn manifest_path(component: &str) -> String {
    format!("{MANIFESTS_DIR}/{component}.yaml")
}

/// One static pod: its file and the flags of the component's container.
#[derive(Clone, Debug)]
pub struct StaticPod {
    pub path: String,
    pub component: String,
    /// The index of the component's container in `spec.containers`.
    pub container_index: usize,
    pub container_count: usize,
    pub image: Option<String>,
    pub flags: Vec<Flag>,
}

/// One command-line flag as written in the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The name without leading dashes, such as `authorization-mode`.
    pub name: String,
    /// The value after `=` or in the next list item, or `None` for a bare `--name`.
    pub value: Option<String>,
    /// The field path, such as `spec.containers[0].command[3]`.
    pub field: String,
    /// The list item as written, such as `--authorization-mode=Node,RBAC`.
    pub raw: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(transparent)]
    Read(#[from] HostError),
    #[error("{path}: not valid YAML: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: kind is {kind:?}, but a static pod manifest must be kind Pod")]
    NotAPod { path: String, kind: String },
    #[error("{path}: the Pod has no containers")]
    NoContainers { path: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodDocument {
    kind: Option<String>,
    spec: Option<PodSpec>,
}

#[derive(Deserialize)]
struct PodSpec {
    #[serde(default)]
    containers: Vec<ContainerDocument>,
}

#[derive(Deserialize)]
struct ContainerDocument {
    name: Option<String>,
    image: Option<String>,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
}

impl StaticPod {
    /// Reads and parses a component's manifest from /etc/kubernetes/manifests.
    pub fn read(host: &dyn Host, component: &str) -> Result<StaticPod, ManifestError> {
        let path = manifest_path(component);
        let text = host.read_text(&path, MAX_CONFIG_BYTES)?;
        StaticPod::parse(&path, component, &text)
    }

    /// Reads a component's manifest once per run: the pki and control-plane-flags checks both
    /// need it, and parsing YAML costs more than every other step of those checks.
    pub fn read_cached(
        context: &crate::check::Context,
        component: &str,
    ) -> std::sync::Arc<Result<StaticPod, ManifestError>> {
        context.cached(&format!("static-pod:{component}"), || {
            StaticPod::read(context.host.as_ref(), component)
        })
    }

    pub fn parse(path: &str, component: &str, text: &str) -> Result<StaticPod, ManifestError> {
        // Typed String fields keep `no`, `on` and `0755` as written; only untyped values would
        // turn into booleans or numbers.
        let document: PodDocument =
            serde_saphyr::from_str_with_options(text, super::yaml_options()).map_err(|error| {
                ManifestError::Invalid {
                    path: path.to_string(),
                    message: super::yaml_error_message(&error),
                }
            })?;

        let kind = document.kind.unwrap_or_default();
        if kind != "Pod" {
            return Err(ManifestError::NotAPod {
                path: path.to_string(),
                kind,
            });
        }
        let containers = document
            .spec
            .map(|spec| spec.containers)
            .unwrap_or_default();
        if containers.is_empty() {
            return Err(ManifestError::NoContainers {
                path: path.to_string(),
            });
        }

        let index = component_container(&containers, component);
        if containers.len() > 1 {
            tracing::debug!(
                path,
                containers = containers.len(),
                chosen = index,
                "manifest has several containers"
            );
        }
        let container = &containers[index];
        let flags = parse_flags(index, &container.command, &container.args);
        Ok(StaticPod {
            path: path.to_string(),
            component: component.to_string(),
            container_index: index,
            container_count: containers.len(),
            image: container.image.clone(),
            flags,
        })
    }

    /// Returns every occurrence of a flag, in order.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &Flag> {
        self.flags.iter().filter(move |flag| flag.name == name)
    }

    /// Returns the flag that takes effect: the last occurrence, as pflag applies them.
    pub fn get(&self, name: &str) -> Option<&Flag> {
        self.all(name).last()
    }

    /// Returns the value of the last occurrence of a flag.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|flag| flag.value.as_deref())
    }

    /// Returns the values of a list flag such as `--authorization-mode=Node,RBAC`.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.value(name)
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Picks the container named after the component, else the one running the component's
/// program, else the first.
fn component_container(containers: &[ContainerDocument], component: &str) -> usize {
    if let Some(index) = containers
        .iter()
        .position(|c| c.name.as_deref() == Some(component))
    {
        return index;
    }
    containers
        .iter()
        .position(|c| {
            c.command
                .first()
                .is_some_and(|program| program.rsplit('/').next() == Some(component))
        })
        .unwrap_or(0)
}

/// Splits the command after the program name, then the args, into flags. `--name=value` and
/// `--name value` both set a value; a bare `--name` followed by another flag has none.
fn parse_flags(container: usize, command: &[String], args: &[String]) -> Vec<Flag> {
    let mut items: Vec<(String, &str)> = Vec::new();
    for (index, item) in command.iter().enumerate().skip(1) {
        items.push((
            format!("spec.containers[{container}].command[{index}]"),
            item,
        ));
    }
    for (index, item) in args.iter().enumerate() {
        items.push((format!("spec.containers[{container}].args[{index}]"), item));
    }

    let mut flags = Vec::new();
    let mut position = 0;
    while position < items.len() {
        let (field, raw) = &items[position];
        position += 1;
        let Some(stripped) = raw.strip_prefix("--").or_else(|| raw.strip_prefix('-')) else {
            tracing::debug!(field, "argument is not a flag");
            continue;
        };
        let (name, value) = match stripped.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => {
                let next = items.get(position).map(|(_, item)| *item);
                match next {
                    Some(next) if !next.starts_with('-') => {
                        position += 1;
                        (stripped.to_string(), Some(next.to_string()))
                    }
                    _ => (stripped.to_string(), None),
                }
            }
        };
        flags.push(Flag {
            name,
            value,
            field: field.clone(),
            raw: raw.to_string(),
        });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --advertise-address=192.0.2.10\n    - --allow-privileged\n    - --authorization-mode=Node,RBAC\n    - --secure-port\n    - \"6443\"\n    image: registry.k8s.io/kube-apiserver:v1.22.3\n    name: kube-apiserver\n";

    #[test]
    fn flags_keep_values_and_positions() {
        let pod = StaticPod::parse("/m/kube-apiserver.yaml", "kube-apiserver", MANIFEST).unwrap();
        assert_eq!(pod.value("advertise-address"), Some("192.0.2.10"));
        assert_eq!(pod.get("allow-privileged").unwrap().value, None);
        assert_eq!(pod.list("authorization-mode"), ["Node", "RBAC"]);
        assert_eq!(pod.value("secure-port"), Some("6443"));
        assert_eq!(
            pod.get("authorization-mode").unwrap().field,
            "spec.containers[0].command[3]"
        );
    }

    #[test]
    fn yaml_boolean_words_stay_strings() {
        let text = MANIFEST.replace("- --allow-privileged", "- --allow-privileged\n    - no");
        let pod = StaticPod::parse("/m/kube-apiserver.yaml", "kube-apiserver", &text).unwrap();
        assert_eq!(pod.value("allow-privileged"), Some("no"));
    }

    #[test]
    fn deployment_is_not_a_pod() {
        let text = MANIFEST.replace("kind: Pod", "kind: Deployment");
        let error = StaticPod::parse("/m/x.yaml", "kube-apiserver", &text).unwrap_err();
        assert!(matches!(error, ManifestError::NotAPod { .. }), "{error}");
    }

    #[test]
    fn component_container_chosen_by_name() {
        let text = MANIFEST.replace(
            "  containers:\n",
            "  containers:\n  - name: log-shipper\n    image: busybox\n    command: [sh, -c, --verbose]\n",
        );
        let pod = StaticPod::parse("/m/kube-apiserver.yaml", "kube-apiserver", &text).unwrap();
        assert_eq!(pod.container_index, 1);
        assert_eq!(pod.container_count, 2);
        assert_eq!(pod.value("advertise-address"), Some("192.0.2.10"));
    }
}
