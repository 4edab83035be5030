//! Fixes for mount propagation problems, with the unit names and files filled in.

use crate::check::Fix;
use crate::systemd::Assignment;

pub const DOCKER_1809_NOTES_URL: &str = "https://docs.docker.com/engine/release-notes/18.09/#18091";
pub const PROPAGATION_URL: &str =
    "https://kubernetes.io/docs/concepts/storage/volumes/#mount-propagation";
pub const SYSTEMD_EXEC_URL: &str =
    "https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html#MountFlags=";

/// Returns the path of a drop-in that resets MountFlags set by a file outside
/// /etc/systemd/system, which a package upgrade would rewrite. The name sorts after every
/// drop-in that sets MountFlags, because the last assignment wins.
fn reset_drop_in(unit: &str, setters: &[&Assignment]) -> String {
    let candidate = "99-reset-mountflags.conf";
    let later = setters.iter().any(|a| {
        a.file
            .rsplit('/')
            .next()
            .is_some_and(|name| name.ends_with(".conf") && name >= candidate)
    });
    let name = if later {
        "zz-reset-mountflags.conf"
    } else {
        candidate
    };
    format!("/etc/systemd/system/{unit}.d/{name}")
}

/// Removes MountFlags from the unit: edits the files under /etc/systemd/system that set it, or
/// adds a drop-in that resets it when a vendor file sets it.
pub fn reset_mountflags(unit: &str, setters: &[&Assignment]) -> Fix {
    let all_local = !setters.is_empty()
        && setters
            .iter()
            .all(|a| a.file.starts_with("/etc/systemd/system/"));
    let mut fix;
    if all_local {
        let mut files: Vec<&str> = setters.iter().map(|a| a.file.as_str()).collect();
        files.dedup();
        fix = Fix::new(format!(
            "delete the MountFlags= line from {} and restart {unit}",
            files.join(" and ")
        ));
        for assignment in setters {
            fix = fix.step(format!(
                "Delete line {} of {} ({}).",
                assignment.line,
                assignment.file,
                assignment.text()
            ));
        }
        for file in &files {
            fix = fix.command(format!("sed -i '/^[[:space:]]*MountFlags=/d' {file}"));
        }
    } else {
        let drop_in = reset_drop_in(unit, setters);
        let dir = drop_in.rsplit_once('/').map_or("", |(dir, _)| dir);
        fix = Fix::new(format!(
            "reset MountFlags for {unit} in the drop-in {drop_in}"
        ))
        .step(format!(
            "Create {drop_in} with a [Service] section and an empty MountFlags= line; an empty assignment resets the setting, and a drop-in under /etc survives package upgrades, unlike an edit of the vendor unit."
        ))
        .command(format!("mkdir -p {dir}"))
        .command(format!("printf '[Service]\\nMountFlags=\\n' > {drop_in}"));
    }
    fix.step(format!(
        "Reload systemd and restart {unit}, then check that systemctl shows an empty MountFlags=."
    ))
    .command(format!(
        "systemctl daemon-reload && systemctl restart {unit}"
    ))
    .command(format!("systemctl show -p MountFlags {unit}"))
}

/// Makes / a shared mount now and at every boot.
pub fn make_root_shared() -> Fix {
    let unit = "/etc/systemd/system/make-root-rshared.service";
    Fix::new("make / a shared mount now and at every boot")
        .step("Run `mount --make-rshared /` to make / and every mount below it shared now.")
        .step(format!(
            "systemd makes / shared at boot, so something on this node changes it afterwards; find it (an rc.local line, a container entrypoint, a tool that runs `mount --make-private`). Until then, {unit} runs the mount command at every boot."
        ))
        .step("Restart the kubelet and the container runtime so their mount namespaces pick up the change.")
        .command("mount --make-rshared /")
        .command(format!(
            "printf '[Unit]\\nDescription=Make / a shared mount for Kubernetes volume propagation\\nDefaultDependencies=no\\nAfter=local-fs.target\\nBefore=containerd.service docker.service kubelet.service\\n\\n[Service]\\nType=oneshot\\nExecStart=/bin/mount --make-rshared /\\n\\n[Install]\\nWantedBy=local-fs.target\\n' > {unit}"
        ))
        .command("systemctl daemon-reload && systemctl enable make-root-rshared.service")
        .command("findmnt -o TARGET,PROPAGATION /")
}
