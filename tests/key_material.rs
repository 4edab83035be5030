//! The private-key scan itself, and key data written where a kubeconfig expects a file path.
//! tests/secret_leak.rs runs the scan over every command, format and fixture snapshot.

mod common;
mod support;

use std::fs;

use base64::Engine as _;
use support::{
    KeySecret, assert_no_key_material, assert_no_key_material_in, fixture_key_secrets, node_doctor,
};

#[test]
fn fixture_keys_are_found() {
    let secrets = fixture_key_secrets();
    let origins: Vec<&str> = secrets.iter().map(|s| s.origin.as_str()).collect();

    assert!(
        origins
            .iter()
            .any(|o| o.ends_with("pki/ca.key (key block)")),
        "{origins:?}"
    );
    assert!(
        origins.iter().any(|o| o.contains(".pem (key block)")),
        "{origins:?}"
    );
    assert!(
        origins
            .iter()
            .any(|o| o.contains("admin.conf (client-key-data)")),
        "{origins:?}"
    );
    assert!(
        origins
            .iter()
            .any(|o| o.contains("admin.conf (client-key-data, decoded key)")),
        "{origins:?}"
    );
    assert!(secrets.iter().all(|s| s.base64.len() > 100));
}

#[test]
fn scan_catches_planted_key() {
    let secrets = fixture_key_secrets();
    let body = &secrets[0].base64;
    let cases = [
        "-----BEGIN PRIVATE KEY-----".to_string(),
        "user:\n  client-key-data: xyz".to_string(),
        // Runs from the private exponent, past the public modulus at the start of the key.
        format!("evidence: {}", &body[600..640]),
        // Re-wrapped across a JSON line break.
        format!("\"value\": \"{}\\n{}\"", &body[700..720], &body[720..740]),
    ];

    for planted in cases {
        let caught = std::panic::catch_unwind(|| assert_no_key_material_in(&planted, &secrets));
        assert!(caught.is_err(), "the scan missed {planted:?}");
    }
    assert_no_key_material_in("a harmless report", &secrets);
}

/// Puts `value` in kubelet.conf's `client-key` line, where a file path belongs.
fn set_client_key_path(snapshot: &std::path::Path, value: &str) {
    let kubeconfig = common::rootfs_path(snapshot, "/etc/kubernetes/kubelet.conf");
    let text = fs::read_to_string(&kubeconfig).unwrap();
    let edited: Vec<String> = text
        .lines()
        .map(|line| match line.split_once("client-key:") {
            Some((indent, _)) => format!("{indent}client-key: {value}"),
            None => line.to_string(),
        })
        .collect();
    assert_ne!(edited.join("\n"), text.trim_end(), "no client-key line");
    fs::write(&kubeconfig, edited.join("\n") + "\n").unwrap();
}

#[test]
fn key_data_in_client_key_path() {
    let source = common::fixture("kubeadm-real");
    let key_pem = fs::read(common::rootfs_path(
        &source,
        "/etc/kubernetes/pki/apiserver-kubelet-client.key",
    ))
    .unwrap();
    let key_base64 = base64::engine::general_purpose::STANDARD.encode(&key_pem);
    let key_text = String::from_utf8(key_pem).unwrap();
    let one_line_pem = format!("\"{}\"", key_text.trim_end().replace('\n', "\\n"));
    let secrets = vec![KeySecret {
        origin: "the key written into client-key".to_string(),
        base64: key_base64.clone(),
        public: Vec::new(),
    }];

    // The base64 that belongs in client-key-data, and the PEM text itself.
    for value in [key_base64.as_str(), one_line_pem.as_str()] {
        let snapshot = common::copy_snapshot(&source);
        set_client_key_path(snapshot.path(), value);

        for format in ["json", "text", "prometheus"] {
            let output = node_doctor()
                .args(["check", "-vvv", "--output", format, "--snapshot"])
                .arg(snapshot.path())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);

            assert_eq!(output.status.code(), Some(1), "{format}: {stderr}");
            assert_no_key_material_in(&stdout, &secrets);
            assert_no_key_material_in(&stderr, &secrets);
            assert_no_key_material(&stdout);
            if format == "text" {
                assert!(
                    stdout.contains("contains key data instead of a file path"),
                    "the report does not say what is wrong: {stdout}"
                );
            }
        }
    }
}
