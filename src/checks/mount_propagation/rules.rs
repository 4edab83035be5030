//! The rules of the mount-propagation check.

use super::facts::{Facts, MOUNTINFO, UnitFacts};
use super::fixes::{self, DOCKER_1809_NOTES_URL, PROPAGATION_URL, SYSTEMD_EXEC_URL};
use crate::check::{Code, Finding};
use crate::kernel::mountinfo::Propagation;
use crate::systemd::{Assignment, MountPropagation};

pub fn unit_mountflags(facts: &Facts) -> Vec<Finding> {
    facts.units.iter().filter_map(unit_finding).collect()
}

fn unit_finding(facts: &UnitFacts) -> Option<Finding> {
    let unit = &facts.unit;
    let name = &unit.name;
    let from_files = unit
        .setting("Service", "MountFlags")
        .and_then(|assignment| {
            match MountPropagation::parse(&assignment.value) {
                Ok(propagation) => propagation.map(|p| (p, assignment)),
                Err(error) => {
                    // systemd ignores an invalid value and logs it, so the service runs without.
                    tracing::debug!(
                        location = assignment.location(),
                        error,
                        "MountFlags ignored"
                    );
                    None
                }
            }
        });
    let raw_shown = facts.show.as_ref().and_then(|show| show.get("MountFlags"));
    let from_show = raw_shown.and_then(|value| MountPropagation::parse(value).ok().flatten());
    let propagation = from_files.map(|(p, _)| p).or(from_show)?;

    let history = unit.history("Service", "MountFlags");
    // The assignments that make the setting take effect: those after the last reset.
    let reset = history.iter().rposition(|a| a.value.is_empty());
    let setters: Vec<&Assignment> = history[reset.map_or(0, |r| r + 1)..].to_vec();

    let location = match from_files {
        Some((_, assignment)) => assignment.location(),
        None => facts
            .show
            .as_ref()
            .map(|show| show.source.clone())
            .unwrap_or_default(),
    };
    let mut finding = Finding::new(
        Code::MountPropagationUnitMountflags,
        format!("{name} runs with MountFlags={propagation} (set at {location})"),
    )
    .details(details(name, propagation));

    for assignment in &history {
        let value = if assignment.value.is_empty() {
            "(empty: resets the setting)".to_string()
        } else {
            assignment.text()
        };
        finding = finding.evidence(assignment.location(), "MountFlags", value);
    }
    if let (Some(show), Some(raw)) = (&facts.show, raw_shown) {
        let shown = if raw.trim().is_empty() {
            "(empty)".to_string()
        } else {
            MountPropagation::describe_raw(raw)
        };
        finding = finding.evidence(&show.source, "MountFlags", shown);
        if from_files.is_none() {
            finding = finding.evidence(
                &show.source,
                "note",
                "the running systemd still has MountFlags set although no unit file sets it now; systemctl daemon-reload has not run since the files changed",
            );
        } else if from_show.is_none() {
            finding = finding.evidence(
                &show.source,
                "note",
                "the unit files set MountFlags but the running systemd has not loaded them yet; it applies after the next systemctl daemon-reload and restart",
            );
        }
    }

    let fix = fixes::reset_mountflags(name, &setters);
    finding = finding.fix(fix).reference(SYSTEMD_EXEC_URL);
    if name == "docker.service" || name == "containerd.service" {
        finding = finding.reference(DOCKER_1809_NOTES_URL);
    }
    Some(finding.reference(PROPAGATION_URL))
}

fn details(unit: &str, propagation: MountPropagation) -> String {
    let mut text = format!(
        "MountFlags={propagation} makes systemd start {unit} in a mount namespace of its own with {propagation} propagation. Mounts the kubelet makes later, such as secret and service-account token volumes, do not reach the containers it starts, so pods crash on missing /var/run/secrets/kubernetes.io/serviceaccount files or fail with \"is mounted on / but it is not a shared mount\"."
    );
    if unit == "docker.service" || unit == "containerd.service" {
        text.push_str(" Since Docker 18.09 dockerd and containerd run as separate services, so a mount namespace around either hides the container root file system from the other and containers fail to start.");
    }
    text
}

/// Returns a finding when / is not shared in PID 1's namespace, or the reason it could not be
/// decided.
pub fn root_not_shared(facts: &Facts) -> Result<Option<Finding>, String> {
    let info = match &facts.mountinfo {
        None => return Ok(None),
        Some(Err(error)) => return Err(format!("cannot read {MOUNTINFO}: {error}")),
        Some(Ok(info)) => info,
    };
    let Some(root) = info.root() else {
        let mut reason = format!("{MOUNTINFO} lists no mount at /");
        if !info.errors.is_empty() {
            reason.push_str(&format!("; skipped lines: {}", info.errors.join("; ")));
        }
        return Err(reason);
    };
    let propagation = root.propagation();
    if matches!(propagation, Propagation::Shared { .. }) {
        return Ok(None);
    }
    let location = format!("{MOUNTINFO}:{}", root.line);
    Ok(Some(
        Finding::new(
            Code::MountPropagationRootNotShared,
            format!("/ is {propagation}, not shared ({location})"),
        )
        .details("Volumes with mountPropagation Bidirectional or HostToContainer, and CSI drivers that publish mounts to pods, need / to be shared in the host mount namespace. Docker reports \"is mounted on / but it is not a shared mount\" and the pod fails to start.")
        .evidence(&location, "optional fields", root.optional_text())
        .evidence(&location, "propagation", propagation.to_string())
        .fix(fixes::make_root_shared())
        .reference(PROPAGATION_URL),
    ))
}
