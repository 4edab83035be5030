//! Hostile YAML: an alias expansion bomb and deeply nested documents are rejected with an error
//! that says what limit was hit, by every YAML reader a snapshot from someone else can reach.

use node_doctor::kube::kubeconfig::LoadedKubeconfig;
use node_doctor::kube::kubelet_config::KubeletConfiguration;
use node_doctor::kube::static_pod::StaticPod;

/// A "billion laughs" document: nine levels of nine aliases expand to 9^9 (387,420,489) strings.
fn alias_bomb(top_key: &str) -> String {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (previous, name) = (pair[0], pair[1]);
        let refs = vec![format!("*{previous}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    text.push_str(&format!("{top_key}: *i\n"));
    text
}

/// A mapping nested `depth` levels deep in block style, and a flow sequence as deep.
fn deep_documents(top_key: &str, depth: usize) -> [String; 2] {
    let mut block = format!("{top_key}:\n");
    for level in 0..depth {
        block.push_str(&"  ".repeat(level + 1));
        block.push_str("k:\n");
    }
    let flow = format!("{top_key}: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    [block, flow]
}

/// Runs every YAML parser on `text` and returns their error messages, failing if one accepts it.
fn reject_everywhere(text: &str) -> Vec<String> {
    let mut messages = Vec::new();
    match LoadedKubeconfig::parse("/etc/kubernetes/kubelet.conf", text) {
        Ok(_) => panic!("the kubeconfig reader accepted hostile YAML"),
        Err(error) => messages.push(error.to_string()),
    }
    match KubeletConfiguration::parse(text, "/var/lib/kubelet/config.yaml") {
        Ok(_) => panic!("the kubelet config reader accepted hostile YAML"),
        Err(error) => messages.push(error.to_string()),
    }
    match StaticPod::parse(
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        "kube-apiserver",
        text,
    ) {
        Ok(_) => panic!("the static pod reader accepted hostile YAML"),
        Err(error) => messages.push(error.to_string()),
    }
    messages
}

#[test]
fn alias_bomb_is_rejected() {
    let started = std::time::Instant::now();
    for key in ["users", "spec", "evictionHard", "extra"] {
        let messages = reject_everywhere(&alias_bomb(key));
        for message in messages {
            let lower = message.to_lowercase();
            assert!(
                lower.contains("alias") || lower.contains("budget") || lower.contains("limit"),
                "the error does not name the limit: {message}"
            );
        }
    }
    assert!(
        started.elapsed().as_secs() < 5,
        "rejecting took {:?}",
        started.elapsed()
    );
}

#[test]
fn deep_nesting_is_rejected() {
    // An unknown key is parsed and ignored, so only the depth limit can reject it.
    for key in ["extra", "users", "spec"] {
        for text in deep_documents(key, 10_000) {
            for message in reject_everywhere(&text) {
                let lower = message.to_lowercase();
                if key == "extra" {
                    assert!(
                        lower.contains("depth")
                            || lower.contains("recursion")
                            || lower.contains("budget"),
                        "the error does not name the limit: {message}"
                    );
                }
            }
        }
    }
}

#[test]
fn hostile_yaml_in_snapshot_exits_cleanly() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = temp.path();
    let manifest = r#"{"format":"node-doctor-snapshot/v1","node":"node-1","capturedAt":"2026-12-04T10:00:00Z"}"#;
    std::fs::write(snapshot.join("snapshot.json"), manifest).unwrap();
    let files = [
        ("etc/kubernetes/kubelet.conf", alias_bomb("users")),
        (
            "var/lib/kubelet/config.yaml",
            deep_documents("evictionHard", 5_000)[0].clone(),
        ),
        (
            "etc/kubernetes/manifests/kube-apiserver.yaml",
            deep_documents("spec", 5_000)[1].clone(),
        ),
    ];
    for (path, text) in files {
        let real = snapshot.join("rootfs").join(path);
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(real, text).unwrap();
    }
    let output = assert_cmd::Command::cargo_bin("node-doctor")
        .unwrap()
        .args(["check", "-o", "json", "--snapshot"])
        .arg(snapshot)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "status {:?}: {stderr}",
        output.status
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["kind"], "Report");
}
