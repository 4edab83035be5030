//! The control-plane-flags check on the kubeadm-real manifests with one problem each, and on
//! manifests that are not what kubeadm writes.

mod common;
mod pkigen;

use std::path::Path;

use serde_json::Value;

use common::{copy_snapshot, fixture, run_json_report};
use pkigen::{check_result, edit, evidence_text, findings_of, fix_text, write};

const NOW: &str = "2026-12-04T19:31:40Z";
const APISERVER: &str = "/etc/kubernetes/manifests/kube-apiserver.yaml";
const CONTROLLER_MANAGER: &str = "/etc/kubernetes/manifests/kube-controller-manager.yaml";

fn report_after(change: impl FnOnce(&Path)) -> Value {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    change(snapshot.path());
    run_json_report(snapshot.path(), NOW)
}

fn flag_findings(report: &Value, code: &str) -> Vec<Value> {
    findings_of(report, "control-plane-flags")
        .into_iter()
        .filter(|f| f["code"] == code)
        .cloned()
        .collect()
}

fn codes(report: &Value) -> Vec<String> {
    findings_of(report, "control-plane-flags")
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn always_allow_is_critical() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "--authorization-mode=Node,RBAC",
            "--authorization-mode=AlwaysAllow",
        );
    });

    let found = flag_findings(&report, "control-plane-flags/authorization-always-allow");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    assert_eq!(found[0]["severity"], "critical");
    let evidence = evidence_text(&found[0]);
    assert!(
        evidence.contains(&format!(
            "{APISERVER} | spec.containers[0].command[3] | AlwaysAllow"
        )),
        "{evidence}"
    );
    assert!(
        evidence.contains("--authorization-mode (expected) | Node,RBAC"),
        "{evidence}"
    );
    let details = found[0]["details"].as_str().unwrap();
    assert!(
        details.contains("Node and RBAC is not set either"),
        "{details}"
    );
    assert!(fix_text(&found[0]).contains("--authorization-mode=Node,RBAC"));
}

#[test]
fn always_allow_after_rbac_still_allows_all() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "--authorization-mode=Node,RBAC",
            "--authorization-mode=Node,RBAC,AlwaysAllow",
        );
    });
    let found = flag_findings(&report, "control-plane-flags/authorization-always-allow");
    assert_eq!(found.len(), 1);
    assert!(
        found[0]["summary"]
            .as_str()
            .unwrap()
            .contains("Node,RBAC,AlwaysAllow")
    );
}

#[test]
fn unset_authorization_mode_defaults_to_always_allow() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "    - --authorization-mode=Node,RBAC\n",
            "",
        );
    });
    let found = flag_findings(&report, "control-plane-flags/authorization-always-allow");
    assert_eq!(found.len(), 1);
    assert!(evidence_text(&found[0]).contains("defaults to AlwaysAllow"));
}

#[test]
fn list_split_into_bare_keys() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "    - --enable-admission-plugins=NodeRestriction\n",
            "    - --PodNodeSelector=\n    - --enable-admission-plugins=NodeRestriction\n",
        );
    });

    let found = flag_findings(&report, "control-plane-flags/flag-missing-value");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    assert_eq!(found[0]["severity"], "critical");
    let details = found[0]["details"].as_str().unwrap();
    assert!(details.contains("--apiserver-extra-args"), "{details}");
    assert!(
        details.contains("--enable-admission-plugins=NodeRestriction"),
        "{details}"
    );
    let fix = fix_text(&found[0]);
    assert!(fix.contains("apiServer.extraArgs"), "{fix}");
    assert!(
        fix.contains("kubeadm init phase control-plane apiserver --config"),
        "{fix}"
    );
}

#[test]
fn flag_without_value() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            CONTROLLER_MANAGER,
            "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
            "--service-account-private-key-file",
        );
    });

    let found = flag_findings(&report, "control-plane-flags/flag-missing-value");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    let evidence = evidence_text(&found[0]);
    assert!(
        evidence.contains(&format!("{CONTROLLER_MANAGER} | spec.containers[0].command[14] | --service-account-private-key-file")),
        "{evidence}"
    );
}

#[test]
fn boolean_flag_without_value_is_fine() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "--allow-privileged=true",
            "--allow-privileged",
        );
    });
    assert_eq!(codes(&report), Vec::<String>::new());
}

#[test]
fn duplicate_flag_last_wins() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "    - --secure-port=6443\n",
            "    - --secure-port=6443\n    - --secure-port=8443\n",
        );
    });

    let found = flag_findings(&report, "control-plane-flags/duplicate-flag");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    assert_eq!(found[0]["severity"], "warning");
    assert!(
        found[0]["summary"]
            .as_str()
            .unwrap()
            .contains("the last value, 8443, wins")
    );
    let evidence = evidence_text(&found[0]);
    assert!(evidence.contains("--secure-port=6443"), "{evidence}");
    assert!(evidence.contains("--secure-port=8443"), "{evidence}");
}

#[test]
fn file_flag_names_missing_file() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "    - --enable-bootstrap-token-auth=true\n",
            "    - --enable-bootstrap-token-auth=true\n    - --encryption-provider-config=/etc/kubernetes/enc/config.yaml\n",
        );
    });

    let found = flag_findings(&report, "control-plane-flags/file-flag-missing");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    assert_eq!(found[0]["severity"], "critical");
    let evidence = evidence_text(&found[0]);
    assert!(
        evidence.contains("/etc/kubernetes/enc/config.yaml | exists | false"),
        "{evidence}"
    );
    assert!(fix_text(&found[0]).contains("ls -l /etc/kubernetes/enc"));
}

#[test]
fn manifest_not_a_pod() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
            "kind: Pod",
            "kind: Deployment",
        );
    });
    let found = flag_findings(&report, "control-plane-flags/manifest-invalid");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    assert!(evidence_text(&found[0]).contains("kind is \"Deployment\""));
    assert_ne!(
        check_result(&report, "control-plane-flags")["status"],
        "error"
    );
}

#[test]
fn manifest_with_two_containers() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "  containers:\n",
            "  containers:\n  - name: audit-shipper\n    image: busybox\n    command:\n    - sh\n    - -c\n    - --tls-cert-file\n",
        );
        edit(
            snapshot,
            APISERVER,
            "--authorization-mode=Node,RBAC",
            "--authorization-mode=AlwaysAllow",
        );
    });
    let found = flag_findings(&report, "control-plane-flags/authorization-always-allow");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    assert!(evidence_text(&found[0]).contains("spec.containers[1].command[3]"));
    assert!(flag_findings(&report, "control-plane-flags/flag-missing-value").is_empty());
}

#[test]
fn invalid_yaml_reported_without_excerpt() {
    let report = report_after(|snapshot| {
        write(
            snapshot,
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n    client-key-data: c2VjcmV0\n",
        );
    });
    let found = flag_findings(&report, "control-plane-flags/manifest-invalid");
    assert_eq!(found.len(), 1, "{:?}", codes(&report));
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("client-key-data"), "{text}");
}

#[test]
fn yaml_boolean_words_stay_values() {
    let report = report_after(|snapshot| {
        edit(
            snapshot,
            APISERVER,
            "    - --allow-privileged=true\n",
            "    - --allow-privileged\n    - yes\n",
        );
    });
    assert_eq!(codes(&report), Vec::<String>::new());
}
