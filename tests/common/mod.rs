//! Helpers shared by the integration tests: snapshot copies, certificates signed by a fixture's
//! CA, kubeconfig edits and runs of the binary.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use base64::Engine as _;
use jiff::Timestamp;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// The maximum time one run of the binary may take before the test fails instead of hanging.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Returns the path of a fixture under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a snapshot directory into a new temporary directory, keeping symlinks as symlinks.
pub fn copy_snapshot(source: &Path) -> tempfile::TempDir {
    let target = tempfile::Builder::new()
        .prefix("node-doctor-test-")
        .tempdir()
        .expect("create a temporary directory");
    copy_tree(source, target.path());
    target
}

fn copy_tree(source: &Path, target: &Path) {
    fs::create_dir_all(target).expect("create directory");
    for entry in fs::read_dir(source).expect("read fixture directory") {
        let entry = entry.expect("read directory entry");
        let from = entry.path();
        let to = target.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            symlink(fs::read_link(&from).expect("read symlink"), &to).expect("copy symlink");
        } else if kind.is_dir() {
            copy_tree(&from, &to);
        } else {
            fs::copy(&from, &to).expect("copy file");
        }
    }
}

/// Returns the real path of a host path inside a snapshot, such as
/// `rootfs("/etc/kubernetes/pki/ca.crt")` under `snapshot`.
pub fn rootfs_path(snapshot: &Path, host_path: &str) -> PathBuf {
    snapshot
        .join("rootfs")
        .join(host_path.trim_start_matches('/'))
}

/// Loads a private key PEM. PKCS#1 RSA keys, as kubeadm writes them, are wrapped in PKCS#8
/// first, because rcgen with the ring backend reads only PKCS#8.
pub fn load_key_pair(key_pem: &str) -> KeyPair {
    let block = pem_body(key_pem);
    let der = if key_pem.contains("BEGIN RSA PRIVATE KEY") {
        wrap_rsa_pkcs1_in_pkcs8(&block)
    } else {
        block
    };
    KeyPair::try_from(der.as_slice()).expect("parse the private key")
}

/// Creates a self-signed CA certificate for an existing key, such as a fixture's ca.key.
pub fn make_ca(
    ca_key_path: &Path,
    subject_cn: &str,
    not_before: Timestamp,
    not_after: Timestamp,
) -> String {
    let key = load_key_pair(&fs::read_to_string(ca_key_path).expect("read CA key"));
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, subject_cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    set_validity(&mut params, not_before, not_after);
    params.self_signed(&key).expect("sign CA").pem()
}

/// Creates a certificate and a new ECDSA P-256 key, signed by the CA in `ca_cert_path` and
/// `ca_key_path`. Returns the certificate PEM and the key PEM.
pub fn make_cert(
    ca_cert_path: &Path,
    ca_key_path: &Path,
    subject_cn: &str,
    orgs: &[&str],
    not_before: Timestamp,
    not_after: Timestamp,
) -> (String, String) {
    let ca_key = load_key_pair(&fs::read_to_string(ca_key_path).expect("read CA key"));
    let ca_pem = fs::read_to_string(ca_cert_path).expect("read CA certificate");
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).expect("load CA certificate");

    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, subject_cn);
    for org in orgs {
        params
            .distinguished_name
            .push(DnType::OrganizationName, *org);
    }
    set_validity(&mut params, not_before, not_after);

    let key = KeyPair::generate().expect("generate key");
    let certificate = params.signed_by(&key, &issuer).expect("sign certificate");
    (certificate.pem(), key.serialize_pem())
}

/// Replaces the embedded client certificate and key of every user in a kubeconfig.
pub fn set_kubeconfig_client(kubeconfig: &Path, cert_pem: &str, key_pem: &str) {
    let engine = base64::engine::general_purpose::STANDARD;
    let text = fs::read_to_string(kubeconfig).expect("read kubeconfig");
    let mut out = String::new();
    for line in text.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let trimmed = line.trim_start();
        if trimmed.starts_with("client-certificate-data:") {
            out.push_str(&format!(
                "{indent}client-certificate-data: {}\n",
                engine.encode(cert_pem)
            ));
        } else if trimmed.starts_with("client-key-data:") {
            out.push_str(&format!(
                "{indent}client-key-data: {}\n",
                engine.encode(key_pem)
            ));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    fs::write(kubeconfig, out).expect("write kubeconfig");
}

/// Returns a command for the node-doctor binary with a timeout set.
pub fn node_doctor() -> Command {
    let mut command = Command::cargo_bin("node-doctor").expect("binary is built");
    command.timeout(RUN_TIMEOUT);
    command
}

/// Runs node-doctor with `args` and returns its output, whatever the exit status.
pub fn run(args: &[&str]) -> Output {
    node_doctor().args(args).output().expect("run node-doctor")
}

/// Runs node-doctor on a snapshot and returns the parsed JSON report.
pub fn run_json_report(snapshot: &Path, now: &str) -> serde_json::Value {
    let output = run(&[
        "--snapshot",
        snapshot.to_str().expect("UTF-8 path"),
        "--now",
        now,
        "-o",
        "json",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!(
            "report is not JSON ({error}); status {:?}, stderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Returns the findings of a JSON report that have `code`.
pub fn findings_with_code<'a>(
    report: &'a serde_json::Value,
    code: &str,
) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|finding| finding["code"] == code)
        .collect()
}

pub fn timestamp(text: &str) -> Timestamp {
    text.parse().expect("RFC 3339 time")
}

/// Sets the validity period. rcgen's dates are `time::OffsetDateTime`, reached here from
/// `date_time_ymd` so the tests need no direct dependency on the `time` crate.
pub fn set_validity(params: &mut CertificateParams, not_before: Timestamp, not_after: Timestamp) {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + seconds_since_epoch(not_before);
    params.not_after = epoch + seconds_since_epoch(not_after);
}

fn seconds_since_epoch(time: Timestamp) -> Duration {
    Duration::from_secs(u64::try_from(time.as_second()).expect("time after 1970"))
}

pub fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM body is base64")
}

/// Builds PKCS#8 `PrivateKeyInfo { version 0, rsaEncryption with NULL, OCTET STRING pkcs1 }`.
pub fn wrap_rsa_pkcs1_in_pkcs8(pkcs1: &[u8]) -> Vec<u8> {
    const VERSION_0: &[u8] = &[0x02, 0x01, 0x00];
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut content = Vec::new();
    content.extend_from_slice(VERSION_0);
    content.extend_from_slice(RSA_ALGORITHM);
    content.extend(der_tlv(0x04, pkcs1));
    der_tlv(0x30, &content)
}

fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = value.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|byte| *byte == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}
