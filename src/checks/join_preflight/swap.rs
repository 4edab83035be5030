//! Swap: on or off, what turns it on at boot, and whether the kubelet tolerates it.

use super::setup::Setup;
use crate::check::{Code, Finding, Fix, Severity};
use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::kernel::swaps::{FSTAB, PROC_SWAPS, SwapArea, fstab_swap_lines, parse_proc_swaps};

const SWAP_URL: &str = "https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory";
const DPHYS_CONFIG: &str = "/etc/dphys-swapfile";

pub fn check(host: &dyn Host, setup: &Setup) -> Option<Finding> {
    let text = match host.read_text(PROC_SWAPS, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(error) => {
            tracing::debug!(%error, "swap not checked");
            return None;
        }
    };
    let areas = parse_proc_swaps(&text);
    if areas.is_empty() {
        return None;
    }

    let fail_swap_on = setup.fail_swap_on();
    let names: Vec<&str> = areas.iter().map(|a| a.filename.as_str()).collect();
    let (severity, summary) = if fail_swap_on.value {
        (
            Severity::Critical,
            format!(
                "swap is on ({}) and the kubelet refuses to start with swap ({} is true, {})",
                names.join(", "),
                fail_swap_on.field,
                fail_swap_on.source
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "swap is on ({}); the kubelet tolerates it ({} false in {}) but kubeadm's preflight still reports it",
                names.join(", "),
                fail_swap_on.field,
                fail_swap_on.source
            ),
        )
    };

    let mut finding = Finding::new(Code::JoinPreflightSwapEnabled, summary)
        .severity(severity)
        .details(
            "The kubelet checks /proc/swaps at start and exits with \"running with swap on is not supported\" unless failSwapOn is false. kubeadm's own Swap preflight check is separate from the kubelet setting: older kubeadm releases stop with [ERROR Swap] even when the kubelet tolerates swap, current ones warn.",
        );
    for area in &areas {
        finding = finding.evidence(
            format!("{PROC_SWAPS}:{}", area.line),
            "swap area",
            format!("{} ({}, {} KiB)", area.filename, area.kind, area.size_kib),
        );
    }
    let fstab = host
        .read_text(FSTAB, MAX_CONFIG_BYTES)
        .map(|text| fstab_swap_lines(&text))
        .unwrap_or_default();
    for line in &fstab {
        finding = finding.evidence(format!("{FSTAB}:{}", line.line), "swap entry", &line.text);
    }
    finding = finding.evidence(
        &fail_swap_on.source,
        &fail_swap_on.field,
        fail_swap_on.value.to_string(),
    );
    if let Some(config) = setup.loaded_config()
        && let Some(behavior) = config
            .config
            .memory_swap
            .as_ref()
            .and_then(|m| m.swap_behavior.clone())
    {
        finding = finding.evidence(
            config.location("memorySwap.swapBehavior"),
            "memorySwap.swapBehavior",
            behavior,
        );
    }

    let dphys = host.exists(DPHYS_CONFIG);
    Some(
        finding
            .fix(turn_off(&areas, &fstab, dphys, fail_swap_on.value))
            .reference(SWAP_URL),
    )
}

fn turn_off(
    areas: &[SwapArea],
    fstab: &[crate::kernel::swaps::FstabSwap],
    dphys: bool,
    kubelet_refuses: bool,
) -> Fix {
    let mut fix = Fix::new("turn swap off now and remove what turns it on at boot")
        .step("Turn every swap area off now.")
        .command("swapoff -a");

    if !fstab.is_empty() {
        let lines: Vec<String> = fstab.iter().map(|l| l.line.to_string()).collect();
        fix = fix.step(format!(
            "Comment out the swap line{} {} of {FSTAB} so swap stays off after a reboot.",
            if fstab.len() > 1 { "s" } else { "" },
            lines.join(", ")
        ));
        let edits: Vec<String> = fstab
            .iter()
            .map(|l| format!("-e '{}s/^/# /'", l.line))
            .collect();
        fix = fix.command(format!("sed -i.bak {} {FSTAB}", edits.join(" ")));
    }
    if dphys {
        fix = fix
            .step(format!("dphys-swapfile ({DPHYS_CONFIG}) creates and enables the swap file at boot: uninstall it and disable its service."))
            .command("dphys-swapfile swapoff && dphys-swapfile uninstall && systemctl disable dphys-swapfile");
    }
    let listed: Vec<&str> = fstab.iter().map(|l| l.device.as_str()).collect();
    for area in areas {
        if listed.contains(&area.filename.as_str()) || (dphys && area.filename == "/var/swap") {
            continue;
        }
        let unit = swap_unit_name(&area.filename);
        fix = fix
            .step(format!(
                "No fstab line enables {}; a systemd swap unit or generator (zram-generator, a cloud image's swap service) does. Mask its unit so it stays off.",
                area.filename
            ))
            .command(format!("systemctl mask {unit}"));
    }
    if !kubelet_refuses {
        fix = fix.step("To keep swap instead, leave failSwapOn false, set memorySwap.swapBehavior: LimitedSwap (cgroup v2 only) and pass --ignore-preflight-errors=Swap to kubeadm releases that treat swap as an error.");
    } else {
        fix = fix.step("To keep swap instead, set failSwapOn: false and memorySwap.swapBehavior: LimitedSwap in the kubelet configuration (cgroup v2 only) and restart the kubelet.");
    }
    fix.command("swapon --show")
}

/// Returns the swap unit systemd names after a path, as `systemd-escape --path --suffix=swap`
/// does: `/dev/zram0` becomes `dev-zram0.swap`.
fn swap_unit_name(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    let mut name = String::new();
    for (index, byte) in trimmed.bytes().enumerate() {
        match byte {
            b'/' => name.push('-'),
            b'.' if index == 0 => name.push_str("\\x2e"),
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' => name.push(b as char),
            b => name.push_str(&format!("\\x{b:02x}")),
        }
    }
    format!("{name}.swap")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_swap_unit_names() {
        assert_eq!(swap_unit_name("/dev/zram0"), "dev-zram0.swap");
        assert_eq!(swap_unit_name("/swap.img"), "swap.img.swap");
        assert_eq!(swap_unit_name("/var/my-swap"), "var-my\\x2dswap.swap");
    }
}
