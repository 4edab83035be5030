//! The flag rules, one function per finding code.

use crate::check::{Code, Finding, Fix};
use crate::host::Host;
use crate::kube::static_pod::{Flag, StaticPod};

use super::flag_kinds::{
    EMPTY_ALLOWED, LIST_FLAGS, is_boolean, is_repeatable, looks_like_list_item, names_input_file,
};

const AUTHORIZATION_DOC: &str =
    "https://kubernetes.io/docs/reference/access-authn-authz/authorization/";
const CONTROL_PLANE_FLAGS_DOC: &str =
    "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/control-plane-flags/";

/// The file the fixes save the ClusterConfiguration to.
const SAVED_CONFIG: &str = "/root/kubeadm-cluster.yaml";

/// Reports an `--authorization-mode` that includes AlwaysAllow, or is unset and so defaults to it.
pub fn always_allow(pod: &StaticPod) -> Option<Finding> {
    if pod.component != "kube-apiserver" || pod.value("authorization-config").is_some() {
        return None;
    }
    let flag = pod.get("authorization-mode");
    let modes = pod.list("authorization-mode");
    let (shown, field) = match flag {
        Some(flag) if !modes.is_empty() => (modes.join(","), flag.field.clone()),
        // kube-apiserver's default for --authorization-mode is AlwaysAllow.
        _ => (
            "not set (kube-apiserver defaults to AlwaysAllow)".to_string(),
            "spec.containers[].command".to_string(),
        ),
    };
    if !modes.is_empty() && !modes.contains(&"AlwaysAllow") {
        return None;
    }

    let missing: Vec<&str> = ["Node", "RBAC"]
        .into_iter()
        .filter(|mode| !modes.contains(mode))
        .collect();
    let mut details = format!(
        "The API server runs its authorizers in order and allows a request as soon as one \
         allows it. AlwaysAllow allows everything, and RBAC and Node never deny, only abstain, \
         so with AlwaysAllow in the list ({shown}) every authenticated user, service account \
         and node can do anything, including reading every Secret."
    );
    if !missing.is_empty() {
        details.push_str(&format!(
            " {} is not set either: Node limits each kubelet to its own node's objects, and \
             RBAC enforces the roles kubeadm and add-ons bind.",
            missing.join(" and ")
        ));
    }
    let fix = Fix::new("Set --authorization-mode=Node,RBAC, as kubeadm does")
        .step(
            "Set apiServer.extraArgs authorization-mode to Node,RBAC in the kubeadm \
             ClusterConfiguration (or remove the override), so upgrades keep it.",
        )
        .step(format!(
            "Edit {} so the flag reads --authorization-mode=Node,RBAC; the kubelet restarts the \
             API server when the manifest changes.",
            pod.path
        ))
        .command(format!(
            "sed -i 's/--authorization-mode=.*/--authorization-mode=Node,RBAC/' {}",
            pod.path
        ))
        .command("kubectl auth can-i --list --as=system:anonymous");
    Some(
        Finding::new(
            Code::ControlPlaneFlagsAuthorizationAlwaysAllow,
            format!("kube-apiserver authorizes every request: --authorization-mode is {shown}"),
        )
        .details(details)
        .evidence(&pod.path, field, shown)
        .evidence(&pod.path, "--authorization-mode (expected)", "Node,RBAC")
        .fix(fix)
        .reference(AUTHORIZATION_DOC),
    )
}

/// Reports flags without a value and list items that became flags of their own.
pub fn missing_values(pod: &StaticPod) -> Vec<Finding> {
    let mut findings = Vec::new();
    for flag in &pod.flags {
        let item = looks_like_list_item(&flag.name);
        let empty = match flag.value.as_deref() {
            None => !is_boolean(&flag.name),
            Some("") => !EMPTY_ALLOWED.contains(&flag.name.as_str()),
            Some(_) => false,
        };
        if !item && !empty {
            continue;
        }
        findings.push(missing_value(pod, flag, item));
    }
    findings
}

fn missing_value(pod: &StaticPod, flag: &Flag, item: bool) -> Finding {
    let list_flag = probable_list(pod, flag);
    let summary = if item {
        format!(
            "{} has the argument {} in {}, which is not a flag but an item of a split list",
            pod.component, flag.raw, pod.path
        )
    } else {
        format!(
            "{} has {} without a value in {}",
            pod.component, flag.raw, pod.path
        )
    };
    let mut details = if item {
        format!(
            "Every {} flag is lowercase kebab-case, so {} is a list item that lost its flag: a \
             comma-separated value was split at the commas, as happens when a list is passed \
             through kubeadm's --{}-extra-args, which itself splits on commas. The component \
             stops with \"unknown flag\".",
            pod.component,
            flag.raw,
            extra_args_name(&pod.component)
        )
    } else {
        format!(
            "--{} takes a value. Without one the component stops with \"flag needs an \
             argument\", or pflag reads the next list item as the value. A comma-separated \
             value split into bare keys produces this.",
            flag.name
        )
    };
    if let Some(list) = list_flag {
        details.push_str(&format!(
            " The list it probably belonged to is {} ({}).",
            list.raw, list.field
        ));
    }
    let section = config_section(&pod.component);
    let fix = Fix::new(format!(
        "Put the whole list into the kubeadm configuration file as one {section} value and \
         regenerate the manifest"
    ))
    .step(format!(
        "In the ClusterConfiguration, set the flag under {section} with its whole \
         comma-separated value as one string, for example `enable-admission-plugins: \
         NodeRestriction,PodNodeSelector`; the configuration file does not split values."
    ))
    .step(format!(
        "Regenerate {} from that configuration; the kubelet restarts the pod when the file \
         changes.",
        pod.path
    ))
    .command(format!(
        "kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{{.data.ClusterConfiguration}}' > {SAVED_CONFIG}"
    ))
    .command(format!(
        "kubeadm init phase {} --config {SAVED_CONFIG}",
        regenerate_phase(&pod.component)
    ));
    Finding::new(Code::ControlPlaneFlagsFlagMissingValue, summary)
        .details(details)
        .evidence(&pod.path, &flag.field, &flag.raw)
        .fix(fix)
        .reference(CONTROL_PLANE_FLAGS_DOC)
}

/// Guesses the list a split item came from: a `Name=true` item is a feature gate, other
/// CamelCase items are most often admission plugins; LIST_FLAGS is in that order of likelihood.
fn probable_list<'a>(pod: &'a StaticPod, item: &Flag) -> Option<&'a Flag> {
    let gate = matches!(item.value.as_deref(), Some("true" | "false"));
    let mut order: Vec<&str> = LIST_FLAGS.to_vec();
    if gate {
        order.retain(|name| *name != "feature-gates");
        order.insert(0, "feature-gates");
    }
    order
        .iter()
        .find_map(|name| pod.get(name).filter(|f| f.value.is_some()))
}

/// Reports single-value flags set twice, because the last one silently wins.
pub fn duplicates(pod: &StaticPod) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for flag in &pod.flags {
        let name = flag.name.as_str();
        if seen.contains(&name) || is_repeatable(name) || looks_like_list_item(name) {
            continue;
        }
        let occurrences: Vec<&Flag> = pod.all(name).collect();
        if occurrences.len() < 2 {
            continue;
        }
        seen.push(name);
        let last = occurrences[occurrences.len() - 1];
        let values: Vec<String> = occurrences
            .iter()
            .map(|f| f.value.clone().unwrap_or_default())
            .collect();
        let distinct = values.windows(2).any(|pair| pair[0] != pair[1]);
        let mut finding = Finding::new(
            Code::ControlPlaneFlagsDuplicateFlag,
            format!(
                "--{name} is set {} times in {}; the last value, {}, wins",
                occurrences.len(),
                pod.path,
                last.value.as_deref().unwrap_or("(none)")
            ),
        )
        .details(if distinct {
            format!(
                "{} applies flags in order, so only the last --{name} takes effect and the \
                 earlier values are silently ignored. Whoever set an earlier one expects it to \
                 be in force.",
                pod.component
            )
        } else {
            "The values are the same, so nothing changes today, but the next edit of one copy \
             will be silently overridden by the other."
                .to_string()
        });
        for occurrence in &occurrences {
            finding = finding.evidence(&pod.path, &occurrence.field, &occurrence.raw);
        }
        findings.push(
            finding
                .fix(
                    Fix::new(format!("Keep one --{name} in {}", pod.path))
                        .step(format!(
                            "Decide which value is intended and delete the other lines, in the \
                             manifest and in the {} extraArgs of the kubeadm configuration.",
                            config_section(&pod.component)
                        ))
                        .command(format!("grep -n -- '--{name}' {}", pod.path)),
                )
                .reference(CONTROL_PLANE_FLAGS_DOC),
        );
    }
    findings
}

/// Reports flags that name a file that is not on the node.
pub fn missing_files(host: &dyn Host, pod: &StaticPod) -> Vec<Finding> {
    let mut findings = Vec::new();
    for flag in &pod.flags {
        if !names_input_file(&flag.name) {
            continue;
        }
        let Some(path) = flag.value.as_deref().filter(|v| !v.is_empty()) else {
            continue;
        };
        if !path.starts_with('/') {
            tracing::debug!(path, "relative path in a manifest, not checked");
            continue;
        }
        if host.exists(path) {
            continue;
        }
        findings.push(
            Finding::new(
                Code::ControlPlaneFlagsFileFlagMissing,
                format!(
                    "{} --{} names {path}, which does not exist",
                    pod.component, flag.name
                ),
            )
            .details(format!(
                "{} reads {path} at start and exits when it is missing, so the static pod \
                 crash-loops. The hostPath volumes of the manifest mount host paths, so the file \
                 must exist on the node.",
                pod.component
            ))
            .evidence(&pod.path, &flag.field, &flag.raw)
            .evidence(path, "exists", "false")
            .fix(
                Fix::new(format!("Restore {path} or point --{} at the right file", flag.name))
                    .step(format!(
                        "Restore {path} from a backup or another control-plane node, or \
                         generate it again with kubeadm if it is one of its files (see `node-doctor \
                         explain cert-expiry/missing`)."
                    ))
                    .step(format!(
                        "If the path is wrong, correct --{} in {}.",
                        flag.name, pod.path
                    ))
                    .command(format!("ls -l {}", parent(path))),
            )
            .reference(CONTROL_PLANE_FLAGS_DOC),
        );
    }
    findings
}

fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((dir, _)) => dir,
        None => path,
    }
}

/// Returns the ClusterConfiguration field that contains a component's extra flags.
fn config_section(component: &str) -> &'static str {
    match component {
        "kube-apiserver" => "apiServer.extraArgs",
        "kube-controller-manager" => "controllerManager.extraArgs",
        "kube-scheduler" => "scheduler.extraArgs",
        _ => "etcd.local.extraArgs",
    }
}

fn extra_args_name(component: &str) -> &'static str {
    match component {
        "kube-apiserver" => "apiserver",
        "kube-controller-manager" => "controller-manager",
        "kube-scheduler" => "scheduler",
        _ => "etcd",
    }
}

fn regenerate_phase(component: &str) -> &'static str {
    match component {
        "kube-apiserver" => "control-plane apiserver",
        "kube-controller-manager" => "control-plane controller-manager",
        "kube-scheduler" => "control-plane scheduler",
        _ => "etcd local",
    }
}
