//! Check `node-ip`: which address the node registers, and whether other nodes can reach it.
//!
//! Without --node-ip the kubelet picks the InternalIP itself. Some clouds put alias addresses on
//! the public interface (DigitalOcean's anchor IP, Hetzner floating IPs), and VirtualBox VMs all
//! share the NAT address 10.0.2.15, so the kubelet can pick one the API server cannot reach. The check reads the node's interfaces and routes, every source of --node-ip,
//! the registered addresses from the API and DigitalOcean's metadata, and predicts the
//! kubelet's own choice so the problem shows before `kubeadm join`.

mod facts;
mod fixes;
mod predict;
mod rules;
mod setup;

use facts::Facts;
use setup::Setup;

use crate::check::{Check, Context, Finding, Outcome};
use crate::network::{Inventory, InventoryError};

pub struct NodeIp;

impl Check for NodeIp {
    fn id(&self) -> &'static str {
        "node-ip"
    }

    fn title(&self) -> &'static str {
        "which address the node registers and whether other nodes can reach it"
    }

    fn run(&self, context: &Context) -> Outcome {
        let host = context.host.as_ref();
        tracing::debug!(node = context.node_name(), "node-ip check started");
        let inventory = match Inventory::read(host) {
            Ok(inventory) => inventory,
            Err(InventoryError::Host(error)) if error.is_unavailable() => {
                return Outcome::Skipped(format!("the node's interfaces are unknown: {error}"));
            }
            Err(error) => {
                return Outcome::Error(format!("cannot read the node's network: {error}"));
            }
        };
        let setup = Setup::read(host, context.node_name());
        let facts = Facts::gather(host, context.options.offline, setup, inventory);
        if let facts::Registered::Unknown(why) = &facts.registered {
            tracing::info!(why, "the node's registered addresses are unknown");
        }
        tracing::debug!(
            predicted = ?facts.prediction.ip,
            rule = facts.prediction.rule,
            "kubelet node IP prediction"
        );

        let mut findings: Vec<Finding> = Vec::new();
        findings.extend(rules::not_on_host(&facts));
        findings.extend(rules::anchor_selected(&facts));
        findings.extend(rules::shared_nat(&facts));
        let explained = !findings.is_empty();
        findings.extend(rules::internal_ip_mismatch(&facts));
        if !explained {
            findings.extend(rules::private_network_unused(&facts));
            findings.extend(rules::multiple_unpinned(&facts));
        }
        findings.extend(rules::no_default_route(&facts));
        Outcome::Ran(findings)
    }
}
