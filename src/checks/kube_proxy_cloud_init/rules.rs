//! The rules of the kube-proxy-cloud-init check: each turns [`Facts`] into at most one finding.

use jiff::Timestamp;

use super::facts::{Api, Facts, UNINITIALIZED_TAINT};
use super::fixes::{
    self, CLOUD_CONTROLLER_URL, KUBEADM_TROUBLESHOOTING_URL, delete_pod_command, patch_command,
    read_ccm_log, show_node_command,
};
use super::signatures::Signal;
use crate::certs::short_human_duration;
use crate::check::{Code, Evidence, Finding, Fix};
use crate::kube::objects::{Taint, Toleration};

/// How long the uninitialized taint may stay before the fix points at the cloud controller
/// manager. It initialises a node within seconds when it works; ten minutes leaves room for
/// a slow cloud API and a CCM that restarts.
const TAINT_GRACE_SECONDS: i64 = 10 * 60;

/// Longest log line quoted in evidence.
const MAX_LINE_CHARS: usize = 300;

/// Reports kube-proxy whose log shows it started without a node IP and uses the loopback
/// address.
pub fn node_ip_unknown(facts: &Facts) -> Option<Finding> {
    let verdict = facts.logs.as_ref().filter(|verdict| verdict.fell_back)?;
    let pod = pod_label(facts);
    let internal_ips = facts
        .node
        .value()
        .map(|node| node.addresses_of("InternalIP").join(", "))
        .unwrap_or_default();
    let taint = facts.uninitialized_taint();

    let mut evidence: Vec<Evidence> = verdict
        .evidence
        .iter()
        .filter(|m| m.signal != Signal::LookupSucceeded)
        .take(4)
        .map(|m| {
            Evidence::new(
                &verdict.path,
                format!("log line at {}", m.line.time),
                quote(&m.line.text),
            )
        })
        .collect();
    evidence.extend(pod_evidence(facts));
    evidence.extend(node_evidence(facts));

    let (summary, state) = match (taint, facts.node.value()) {
        (Some(_), _) => (
            format!("kube-proxy {pod} has no node IP and uses 127.0.0.1, and the node is still not initialised by the cloud controller manager"),
            "The node still carries the node.cloudprovider.kubernetes.io/uninitialized taint, so a new kube-proxy pod would find no address either. The cloud controller manager must initialise the node first.".to_string(),
        ),
        (None, Some(_)) if !internal_ips.is_empty() => (
            format!("kube-proxy {pod} started without a node IP and uses 127.0.0.1; the node has InternalIP {internal_ips} now, so a restart fixes it"),
            format!("The node has been initialised since (InternalIP {internal_ips}), but kube-proxy reads the node IP only when it starts, so it keeps 127.0.0.1 until the pod is restarted."),
        ),
        (None, Some(_)) => (
            format!("kube-proxy {pod} has no node IP and uses 127.0.0.1, and the node has no InternalIP"),
            "The Node object lists no InternalIP, so a restarted kube-proxy would find none either. Find out why the kubelet or the cloud controller manager sets no address.".to_string(),
        ),
        (None, None) => (
            format!("kube-proxy {pod} logged that it could not find the node IP and uses 127.0.0.1"),
            "The Node object was not read, so whether the node has an address by now is unknown; check it before restarting kube-proxy.".to_string(),
        ),
    };
    let details = format!(
        "kube-proxy reads this node's IP from the Node object once, when it starts. It started before the node had an address (with an external cloud provider, before the cloud controller manager initialised the node; in older setups, before the kubelet registered the Node) and fell back to 127.0.0.1. NodePort and load-balancer traffic through this node is then handled wrongly, silently. {state}"
    );

    let fix = if taint.is_some() {
        let fix = Fix::new(
            "get the node initialised by the cloud controller manager, then restart kube-proxy",
        );
        read_ccm_log(fix, facts)
            .step(format!("When the taint {UNINITIALIZED_TAINT} is gone and the node has an InternalIP, delete the kube-proxy pod so that a new one reads the address."))
            .command(show_node_command(facts))
            .command(delete_pod_command(facts))
    } else {
        Fix::new(format!("restart kube-proxy on {}: delete its pod", facts.node_name))
            .step("Check that the node has its addresses now.")
            .step("Delete the kube-proxy pod; its DaemonSet starts a new one, which reads the node IP again.")
            .step("So that new nodes do not hit the same race, let kube-proxy tolerate only CriticalAddonsOnly and the control-plane taint, as the kubeadm troubleshooting guide does. kubeadm may restore its manifest on upgrade, so check it afterwards.")
            .command(show_node_command(facts))
            .command(delete_pod_command(facts))
            .command(patch_command(facts))
    };
    Some(
        Finding::new(Code::KubeProxyCloudInitNodeIpUnknown, summary)
            .details(details)
            .with_evidence(evidence)
            .fix(fix)
            .reference(KUBEADM_TROUBLESHOOTING_URL),
    )
}

/// Reports the taint node.cloudprovider.kubernetes.io/uninitialized still on the node.
pub fn taint_present(facts: &Facts) -> Option<Finding> {
    let taint = facts.uninitialized_taint()?;
    let node = facts.node.value()?;
    let since = taint
        .time_added
        .as_deref()
        .and_then(|time| time.parse::<Timestamp>().ok())
        .or_else(|| node.metadata.created());
    let age = since.map(|since| (facts.now - since).get_seconds());
    let overdue = age.is_none_or(|age| age > TAINT_GRACE_SECONDS);
    let age_text = age
        .map(|age| format!(" for {}", short_human_duration(age)))
        .unwrap_or_default();

    let mut evidence = vec![Evidence::new(
        facts.node_source(),
        "spec.taints",
        taint.describe(),
    )];
    evidence.extend(node_evidence(facts));
    if let Some(ip) = node
        .metadata
        .annotations
        .get("alpha.kubernetes.io/provided-node-ip")
    {
        evidence.push(Evidence::new(
            facts.node_source(),
            "metadata.annotations alpha.kubernetes.io/provided-node-ip",
            ip,
        ));
    }
    if let Some(flag) = &facts.cloud_provider {
        evidence.push(Evidence::new(&flag.source, "--cloud-provider", &flag.value));
    }
    for pod in &facts.ccm_pods {
        let phase = pod.status.phase.as_deref().unwrap_or("unknown");
        evidence.push(Evidence::new(
            &facts.pods_source,
            format!("pod {}/{}", pod.metadata.namespace, pod.metadata.name),
            phase,
        ));
    }

    let summary = format!(
        "node {} has carried {}{age_text}: the cloud controller manager has not initialised it",
        facts.node_name,
        taint.describe()
    );
    let mut details = "With --cloud-provider=external the kubelet registers the node with this taint and without cloud addresses; the cloud controller manager sets the addresses and removes the taint. Until then ordinary pods stay Pending, and anything that tolerates the taint, such as kubeadm's kube-proxy, starts without a node IP.".to_string();
    if overdue {
        details.push_str(" It usually takes seconds, so the cloud controller manager is failing for this node: it is not running, cannot reach the cloud API, or cannot match the node to a server (for example when the kubelet's --node-ip, shown in the provided-node-ip annotation, is a private address the cloud controller manager does not know).");
    }
    details.push_str(" Do not make kube-proxy or the CNI tolerate this taint to get past it: they depend on the addresses it waits for. The cloud controller manager itself must be able to run first, on the host network and tolerating node.kubernetes.io/not-ready and this taint.");

    let mut fix = Fix::new(if overdue {
        "find out from the cloud controller manager's log why it does not initialise this node"
    } else {
        "wait for the cloud controller manager to initialise the node, and check that it runs"
    });
    fix = read_ccm_log(fix, facts)
        .step("Check that the cloud controller manager runs with hostNetwork and tolerates node.kubernetes.io/not-ready and node.cloudprovider.kubernetes.io/uninitialized, so it can start before the CNI.")
        .command(show_node_command(facts));
    Some(
        Finding::new(Code::KubeProxyCloudInitUninitializedTaintPresent, summary)
            .details(details)
            .with_evidence(evidence)
            .fix(fix)
            .reference(CLOUD_CONTROLLER_URL)
            .reference(KUBEADM_TROUBLESHOOTING_URL),
    )
}

/// Reports kube-proxy tolerating the uninitialized taint while the kubelet uses an external
/// cloud provider, so it can start on a node before the node has addresses.
pub fn tolerates(facts: &Facts) -> Option<Finding> {
    if !facts.external_cloud() {
        return None;
    }
    let (toleration, source, field) = tolerating(facts)?;
    let whom = match &facts.proxy {
        Some(proxy) => format!("kube-proxy (pod {})", proxy.pod.metadata.name),
        None => format!("kube-proxy (DaemonSet {})", fixes::daemon_set_name(facts)),
    };
    let mut evidence = vec![Evidence::new(source, field, toleration.describe())];
    if let Some(flag) = &facts.cloud_provider {
        evidence.push(Evidence::new(&flag.source, "--cloud-provider", &flag.value));
    }
    if let Some(taint) = facts.uninitialized_taint() {
        evidence.push(Evidence::new(
            facts.node_source(),
            "spec.taints",
            taint.describe(),
        ));
    }
    let how = if toleration.tolerates_everything() {
        "tolerates every taint"
    } else {
        "tolerates node.cloudprovider.kubernetes.io/uninitialized"
    };
    let summary = format!(
        "{whom} {how} while the kubelet uses an external cloud provider, so it can start before the node has an IP"
    );
    let details = "kubeadm's kube-proxy DaemonSet tolerates every taint, so on a new node it starts as soon as the kubelet registers the node, which with an external cloud provider is before the cloud controller manager has set the node's addresses. kube-proxy then falls back to 127.0.0.1 and keeps it until restarted. Nothing is broken on this node now; the race can happen whenever a node joins or re-registers.";
    let fix = Fix::new("let kube-proxy tolerate only CriticalAddonsOnly and the control-plane taint")
        .step("Patch kube-proxy's DaemonSet as the kubeadm troubleshooting guide gives it: it then still runs on control-plane nodes, but waits on new nodes until the cloud controller manager removes the uninitialized taint.")
        .step("kubeadm may restore its manifest on `kubeadm init` or upgrade, so check the tolerations afterwards. Control-plane nodes that still carry the older node-role.kubernetes.io/master taint (set by kubeadm before 1.24) need a toleration for that key as well.")
        .command(patch_command(facts));
    Some(
        Finding::new(Code::KubeProxyCloudInitToleratesUninitialized, summary)
            .details(details)
            .with_evidence(evidence)
            .fix(fix)
            .reference(KUBEADM_TROUBLESHOOTING_URL),
    )
}

/// Returns kube-proxy's toleration that matches the uninitialized taint: the pod's, else the
/// DaemonSet's.
fn tolerating(facts: &Facts) -> Option<(&Toleration, String, &'static str)> {
    let taint = Taint {
        key: UNINITIALIZED_TAINT.to_string(),
        value: Some("true".to_string()),
        effect: "NoSchedule".to_string(),
        time_added: None,
    };
    if let Some(proxy) = &facts.proxy {
        let found = proxy
            .pod
            .spec
            .tolerations
            .iter()
            .find(|t| t.tolerates(&taint))?;
        return Some((found, proxy.source.clone(), "spec.tolerations"));
    }
    let Api::Read { value, source } = &facts.daemon_set else {
        return None;
    };
    let found = value.tolerations().iter().find(|t| t.tolerates(&taint))?;
    Some((found, source.clone(), "spec.template.spec.tolerations"))
}

fn pod_label(facts: &Facts) -> String {
    match &facts.proxy {
        Some(proxy) => proxy.pod.metadata.name.clone(),
        None => facts
            .logs
            .as_ref()
            .and_then(|verdict| pod_of_log_path(&verdict.path))
            .unwrap_or("on this node")
            .to_string(),
    }
}

/// Returns the pod name in /var/log/pods/NS_POD_UID/... or /var/log/containers/POD_NS_C-ID.log.
fn pod_of_log_path(path: &str) -> Option<&str> {
    if let Some(rest) = path.strip_prefix("/var/log/pods/") {
        return rest.split('/').next()?.split('_').nth(1);
    }
    let name = path.strip_prefix("/var/log/containers/")?;
    name.split('_').next()
}

/// Returns the kube-proxy pod's start, restarts and its start relative to the Node's creation.
fn pod_evidence(facts: &Facts) -> Vec<Evidence> {
    let Some(proxy) = &facts.proxy else {
        return Vec::new();
    };
    let mut evidence = Vec::new();
    let source = &proxy.source;
    let name = &proxy.pod.metadata.name;
    if let Some(start) = &proxy.pod.status.start_time {
        evidence.push(Evidence::new(
            source,
            format!("pod {name} status.startTime"),
            start,
        ));
    }
    if let Some(status) = proxy.pod.container_status(&proxy.container) {
        evidence.push(Evidence::new(
            source,
            format!("container {} restartCount", status.name),
            status.restart_count.to_string(),
        ));
        let created = facts.node.value().and_then(|node| node.metadata.created());
        if let (Some(started), Some(created)) = (status.started_at(), created) {
            let seconds = (started - created).get_seconds();
            evidence.push(Evidence::new(
                source,
                format!("container {} started", status.name),
                format!(
                    "{started}, {} after the Node was created",
                    short_human_duration(seconds)
                ),
            ));
        }
    }
    evidence
}

fn node_evidence(facts: &Facts) -> Vec<Evidence> {
    let Some(node) = facts.node.value() else {
        return Vec::new();
    };
    let source = facts.node_source();
    let addresses: Vec<String> = node
        .status
        .addresses
        .iter()
        .map(|address| format!("{} {}", address.kind, address.address))
        .collect();
    let shown = if addresses.is_empty() {
        "none".to_string()
    } else {
        addresses.join(", ")
    };
    let mut evidence = vec![Evidence::new(source, "status.addresses", shown)];
    if let Some(created) = &node.metadata.creation_timestamp {
        evidence.push(Evidence::new(source, "metadata.creationTimestamp", created));
    }
    evidence
}

/// Returns a log line for evidence: control characters replaced, cut to [`MAX_LINE_CHARS`].
fn quote(text: &str) -> String {
    let mut quoted: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_LINE_CHARS)
        .collect();
    if text.chars().count() > MAX_LINE_CHARS {
        quoted.push_str("...");
    }
    quoted
}
