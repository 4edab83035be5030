//! Check `mount-propagation`: whether mounts the kubelet makes reach containers.
//!
//! `MountFlags=` in the docker, containerd or kubelet unit gives that service a private mount
//! namespace, so volume mounts made elsewhere never show up in containers. A root mount that is
//! not shared breaks Bidirectional and HostToContainer volume propagation the same way.

mod facts;
mod fixes;
mod rules;

use facts::Facts;

use crate::check::{Check, Context, Outcome};

pub struct MountPropagation;

impl Check for MountPropagation {
    fn id(&self) -> &'static str {
        "mount-propagation"
    }

    fn title(&self) -> &'static str {
        "MountFlags in the runtime and kubelet units, and the propagation of /"
    }

    fn run(&self, context: &Context) -> Outcome {
        let facts = Facts::gather(context.host.as_ref());
        if !facts.has_units() && facts.mountinfo.is_none() {
            return Outcome::Skipped(format!(
                "no {} unit and no /proc/1/mountinfo on this node",
                facts::UNITS.join(", ")
            ));
        }

        let mut findings = rules::unit_mountflags(&facts);
        match rules::root_not_shared(&facts) {
            Ok(finding) => findings.extend(finding),
            Err(reason) if findings.is_empty() && !facts.has_units() => {
                return Outcome::Error(reason);
            }
            Err(reason) => tracing::warn!(reason, "propagation of / not checked"),
        }
        Outcome::Ran(findings)
    }
}
