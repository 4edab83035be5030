//! The join-preflight check on small snapshots: one problem per test, on top of a worker that
//! passes, plus bad input and the nodes the check does not apply to.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{node_doctor, write_file};

const UNIT: &str = "lib/systemd/system/kubelet.service";
const KUBEADM_DROP_IN: &str = "etc/systemd/system/kubelet.service.d/10-kubeadm.conf";

/// Writes a joined containerd worker that join-preflight passes.
fn healthy(dir: &Path) {
    write_file(
        dir,
        "snapshot.json",
        r#"{"format":"node-doctor-snapshot/v1","node":"worker-1","capturedAt":"2026-12-04T10:00:00Z","special":{"/run/containerd/containerd.sock":"socket"}}"#,
    );

    let root = dir.join("rootfs");
    write_file(&root, UNIT, "[Service]\nExecStart=/usr/bin/kubelet\n");
    write_file(
        &root,
        KUBEADM_DROP_IN,
        "[Service]\nEnvironment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n",
    );

    write_file(
        &root,
        "var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
    );
    write_file(
        &root,
        "var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n",
    );
    write_file(
        &root,
        "etc/kubernetes/kubelet.conf",
        "apiVersion: v1\nkind: Config\n",
    );

    write_file(
        &root,
        "etc/containerd/config.toml",
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
    );
    write_file(&root, "etc/cni/net.d/10-flannel.conflist", "{}\n");
    write_file(
        &root,
        "proc/swaps",
        "Filename\tType\tSize\tUsed\tPriority\n",
    );
    write_file(&root, "proc/sys/net/ipv4/ip_forward", "1\n");
    write_file(&root, "proc/sys/net/bridge/bridge-nf-call-iptables", "1\n");
    write_file(
        dir,
        "commands/timedatectl.txt",
        "NTP=yes\nNTPSynchronized=yes\n",
    );
}

fn run(adjust: impl FnOnce(&Path)) -> Value {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("snapshot");
    healthy(&dir);
    adjust(&dir);
    let output = node_doctor()
        .args([
            "check",
            "-o",
            "json",
            "--only",
            "join-preflight",
            "--snapshot",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn only_finding(report: &Value, code: &str) -> Value {
    assert_eq!(codes(report), vec![code.to_string()], "{report}");
    report["findings"][0].clone()
}

#[test]
fn healthy_worker_passes() {
    let report = run(|_| {});
    assert_eq!(codes(&report), Vec::<String>::new());
    assert_eq!(report["checks"][0]["status"], "passed");
}

#[test]
fn ip_forward_zero_names_sysctl_file() {
    let report = run(|dir| {
        let root = dir.join("rootfs");
        write_file(&root, "proc/sys/net/ipv4/ip_forward", "0\n");
        write_file(
            &root,
            "etc/sysctl.d/99-hardening.conf",
            "# hardening\nnet.ipv4.ip_forward = 0\n",
        );
    });
    let finding = only_finding(&report, "join-preflight/ip-forward-disabled");
    assert_eq!(finding["severity"], "critical");
    let evidence = finding["evidence"].to_string();
    assert!(
        evidence.contains("/etc/sysctl.d/99-hardening.conf:2"),
        "{evidence}"
    );
    let fix = finding["fix"].to_string();
    assert!(
        fix.contains("sed -i '2s/=.*/= 1/' /etc/sysctl.d/99-hardening.conf"),
        "{fix}"
    );
    assert!(fix.contains("sysctl -w net.ipv4.ip_forward=1"), "{fix}");
}

#[test]
fn containerd_cgroupfs_against_systemd_kubelet() {
    let report = run(|dir| {
        write_file(
            &dir.join("rootfs"),
            "etc/containerd/config.toml",
            "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = false\n",
        );
    });
    let finding = only_finding(&report, "join-preflight/cgroup-driver-mismatch");
    let evidence = finding["evidence"].to_string();
    assert!(
        evidence.contains("/var/lib/kubelet/config.yaml:3"),
        "{evidence}"
    );
    assert!(
        evidence.contains("/etc/containerd/config.toml:3"),
        "{evidence}"
    );
    let fix = finding["fix"].to_string();
    assert!(
        fix.contains(
            "sed -i '3s/SystemdCgroup *= *false/SystemdCgroup = true/' /etc/containerd/config.toml"
        ),
        "{fix}"
    );
    assert!(fix.contains("systemctl restart containerd"), "{fix}");
}

#[test]
fn kubelet_cgroupfs_against_docker_systemd() {
    let report = run(|dir| {
        let root = dir.join("rootfs");
        write_file(
            &root,
            "var/lib/kubelet/kubeadm-flags.env",
            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/cri-dockerd.sock\"\n",
        );
        write_file(
            &root,
            "var/lib/kubelet/config.yaml",
            "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
        );
        write_file(
            &root,
            "etc/docker/daemon.json",
            "{\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"]\n}\n",
        );
        write_file(
            dir,
            "snapshot.json",
            r#"{"format":"node-doctor-snapshot/v1","node":"worker-1","capturedAt":"2026-12-04T10:00:00Z","special":{"/run/cri-dockerd.sock":"socket"}}"#,
        );
    });
    let finding = only_finding(&report, "join-preflight/cgroup-driver-mismatch");
    let evidence = finding["evidence"].to_string();
    assert!(evidence.contains("/etc/docker/daemon.json:2"), "{evidence}");
    let fix = finding["fix"].to_string();
    assert!(fix.contains("cgroupDriver: systemd"), "{fix}");
}

#[test]
fn missing_cni_configuration() {
    let report = run(|dir| {
        std::fs::remove_dir_all(dir.join("rootfs/etc/cni")).unwrap();
    });
    let finding = only_finding(&report, "join-preflight/cni-config-missing");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("/etc/cni/net.d does not exist")
    );
}

#[test]
fn clock_not_synchronised() {
    let report = run(|dir| {
        write_file(
            dir,
            "commands/timedatectl.txt",
            "NTP=no\nCanNTP=yes\nNTPSynchronized=no\n",
        );
    });
    let finding = only_finding(&report, "join-preflight/clock-unsynchronized");
    assert!(
        finding["evidence"]
            .to_string()
            .contains("commands/timedatectl.txt")
    );
    assert!(
        finding["fix"]
            .to_string()
            .contains("timedatectl set-ntp true")
    );
}

#[test]
fn runtime_socket_missing() {
    let report = run(|dir| {
        write_file(
            dir,
            "snapshot.json",
            r#"{"format":"node-doctor-snapshot/v1","node":"worker-1","capturedAt":"2026-12-04T10:00:00Z"}"#,
        );
    });
    let finding = only_finding(&report, "join-preflight/runtime-socket-missing");
    let evidence = finding["evidence"].to_string();
    assert!(
        evidence.contains("/var/lib/kubelet/kubeadm-flags.env"),
        "{evidence}"
    );
    assert!(
        finding["fix"]
            .to_string()
            .contains("systemctl enable --now containerd")
    );
}

#[test]
fn both_kubeconfigs_missing_after_kubeadm() {
    let report = run(|dir| {
        std::fs::remove_file(dir.join("rootfs/etc/kubernetes/kubelet.conf")).unwrap();
    });
    let finding = only_finding(&report, "join-preflight/kubelet-kubeconfig-missing");
    assert!(
        finding["evidence"]
            .to_string()
            .contains("10-kubeadm.conf:2")
    );
    assert!(
        finding["fix"]
            .to_string()
            .contains("kubeadm token create --print-join-command")
    );
}

#[test]
fn invalid_node_name() {
    let report = run(|dir| {
        write_file(
            dir,
            "snapshot.json",
            r#"{"format":"node-doctor-snapshot/v1","node":"worker_1","capturedAt":"2026-12-04T10:00:00Z","special":{"/run/containerd/containerd.sock":"socket"}}"#,
        );
    });
    let finding = only_finding(&report, "join-preflight/hostname-invalid");
    assert!(
        finding["fix"]
            .to_string()
            .contains("hostnamectl set-hostname worker-1")
    );
}

#[test]
fn extra_args_file_overrides_drop_in_environment() {
    // systemd.exec(5): EnvironmentFile= values override Environment= whatever the line order.
    let report = run(|dir| {
        let root = dir.join("rootfs");
        write_file(
            &root,
            "proc/swaps",
            "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1024 0 -2\n",
        );
        write_file(
            &root,
            "etc/systemd/system/kubelet.service.d/20-extra.conf",
            "[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=--fail-swap-on=false\"\n",
        );
        write_file(
            &root,
            "etc/default/kubelet",
            "KUBELET_EXTRA_ARGS=--fail-swap-on=true\n",
        );
    });
    let finding = only_finding(&report, "join-preflight/swap-enabled");
    assert_eq!(finding["severity"], "critical");
    assert!(
        finding["evidence"]
            .to_string()
            .contains("/etc/default/kubelet:1")
    );
}

#[test]
fn kubelet_config_not_valid_yaml() {
    let report = run(|dir| {
        write_file(
            &dir.join("rootfs"),
            "var/lib/kubelet/config.yaml",
            "kind: KubeletConfiguration\ncgroupDriver: systemd\nfailSwapOn: [true\n",
        );
    });
    let finding = only_finding(&report, "join-preflight/kubelet-config-invalid");
    let summary = finding["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(
            "/var/lib/kubelet/config.yaml: not a valid KubeletConfiguration: line 3 column"
        ),
        "{summary}"
    );
}

#[test]
fn containerd_config_not_valid_toml() {
    let report = run(|dir| {
        write_file(
            &dir.join("rootfs"),
            "etc/containerd/config.toml",
            "version = 2\n[plugins\n",
        );
    });
    let finding = only_finding(&report, "join-preflight/runtime-config-invalid");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("/etc/containerd/config.toml: line 2")
    );
}

#[test]
fn node_without_kubelet_or_runtime_is_skipped() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("snapshot");
    write_file(
        &dir,
        "snapshot.json",
        r#"{"format":"node-doctor-snapshot/v1","node":"plain","capturedAt":"2026-12-04T10:00:00Z"}"#,
    );
    write_file(
        &dir.join("rootfs"),
        "proc/swaps",
        "Filename Type Size Used Priority\n/swapfile file 1024 0 -2\n",
    );
    let output = node_doctor()
        .args(["check", "-o", "json", "--snapshot"])
        .arg(&dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "join-preflight")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "skipped", "{check}");
    assert_eq!(output.status.code(), Some(0));
}
