//! Clock synchronisation, from `timedatectl show`.

use crate::check::{Code, Finding, Fix};
use crate::host::{Host, HostCommand, Source};
use crate::systemd::ShowOutput;

const TIMEDATECTL_URL: &str =
    "https://www.freedesktop.org/software/systemd/man/latest/timedatectl.html";

pub fn check(host: &dyn Host) -> Option<Finding> {
    let command = HostCommand::TimedatectlShow;
    let output = match host.run(&command) {
        Ok(output) => output,
        Err(error) => {
            tracing::debug!(%error, "clock synchronisation not checked");
            return None;
        }
    };
    let source = match host.source() {
        Source::Snapshot => command.snapshot_path(),
        Source::Live => command.display(),
    };
    let show = ShowOutput::parse(&output.stdout, &source);
    if show.get("NTPSynchronized")? != "no" {
        return None;
    }

    let mut finding = Finding::new(
        Code::JoinPreflightClockUnsynchronized,
        "the system clock is not synchronised with NTP (NTPSynchronized=no)",
    )
    .details("Certificates and bootstrap tokens are checked against the clock. A node whose clock is behind sees new certificates as not yet valid and one that is ahead sees them as expired, so `kubeadm join` and the kubelet's TLS bootstrap fail with x509 errors.")
    .evidence(&source, "NTPSynchronized", "no");
    for key in ["NTP", "CanNTP", "TimeUSec"] {
        if let Some(value) = show.get(key) {
            finding = finding.evidence(&source, key, value);
        }
    }

    let mut fix = Fix::new("turn on NTP synchronisation and wait until the clock is synchronised");
    if show.get("CanNTP") == Some("no") {
        fix = fix
            .step("No NTP service is installed: install systemd-timesyncd or chrony with the distribution's package manager first.");
    }
    fix = fix
        .step("`timedatectl set-ntp true` enables and starts the NTP service and keeps it enabled after reboots; servers are set in /etc/systemd/timesyncd.conf (NTP=) or chrony's configuration.")
        .step("When the node's network blocks NTP (UDP port 123), allow it or name a reachable server.")
        .command("timedatectl set-ntp true")
        .command("timedatectl timesync-status || chronyc tracking")
        .command("timedatectl show -p NTPSynchronized");
    Some(finding.fix(fix).reference(TIMEDATECTL_URL))
}
