//! Check `kube-proxy-cloud-init`: kube-proxy started before the cloud controller manager
//! initialised the node.
//!
//! With `--cloud-provider=external` a new node carries node.cloudprovider.kubernetes.io/
//! uninitialized and has no addresses until the cloud controller manager fills them in.
//! kubeadm's kube-proxy DaemonSet tolerates every taint, so kube-proxy can start first, find no
//! node IP, fall back to 127.0.0.1 and keep broken NodePort and load-balancer rules until it is
//! restarted. The check distinguishes three states: kube-proxy lost the race and needs a restart
//! (`node-ip-unknown`), the node is still not initialised (`uninitialized-taint-present`), and
//! the race can happen here (`tolerates-uninitialized`).

mod facts;
mod fixes;
mod rules;
mod signatures;

use facts::{Api, Facts};

use crate::check::{Check, Context, Finding, Outcome};

pub struct KubeProxyCloudInit;

impl Check for KubeProxyCloudInit {
    fn id(&self) -> &'static str {
        "kube-proxy-cloud-init"
    }

    fn title(&self) -> &'static str {
        "whether kube-proxy started before the cloud controller manager initialised the node"
    }

    fn run(&self, context: &Context) -> Outcome {
        let host = context.host.as_ref();
        let facts = match Facts::gather(host, context.node_name()) {
            Ok(facts) => facts,
            Err(reason) => return Outcome::Error(reason),
        };
        tracing::debug!(
            node = facts.node_name,
            pods_known = facts.pods_known,
            kube_proxy = ?facts.proxy.as_ref().map(|proxy| &proxy.pod.metadata.name),
            log_files = ?facts.log_files,
            "kube-proxy-cloud-init facts"
        );
        if let Api::Unknown(why) = &facts.node
            && facts.log_files.is_empty()
            && !facts.external_cloud()
        {
            return Outcome::Skipped(format!(
                "no kube-proxy log under /var/log/pods, no external cloud provider in the kubelet's flags, and the Node object is unknown: {why}"
            ));
        }

        let mut findings: Vec<Finding> = Vec::new();
        findings.extend(rules::node_ip_unknown(&facts));
        findings.extend(rules::taint_present(&facts));
        findings.extend(rules::tolerates(&facts));
        Outcome::Ran(findings)
    }
}
