//! No secret reaches any output. Every command that reads a node runs at trace level (`-vvv`)
//! in every report format on every fixture snapshot. Standard output and standard error are
//! scanned for private key material and for every token, password and certificate key written
//! in the fixtures. A planted node then carries such secrets in the
//! places node-doctor reads and quotes: journals, kubeconfigs, registry settings and a
//! `kubeadm join` log.

mod casebuild;
mod certgen;
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use casebuild::{build_case, build_overlay_case, copy_tree, fixtures, write};
use support::{
    KeyScan, examples_dir, fixture_key_secrets, fixture_snapshots, node_doctor, walk_files,
};

const FORMATS: [&str; 3] = ["json", "text", "prometheus"];

/// Secrets in fixture text, each with a group that captures the secret part. A bootstrap
/// token's ID is public, so only its secret half counts.
static SECRET_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"\b[a-z0-9]{6}\.([a-z0-9]{16})\b",
        r"(?i)certificate-?key\W+([0-9a-f]{64})",
        r#"(?im)^\s*-?\s*"?(?:token|password)"?\s*[:=]\s*"?([^\s"]+)"#,
        r#"(?i)"(?:auth|identitytoken|password)"\s*:\s*"([^"]+)""#,
    ]
    .iter()
    .map(|pattern| Regex::new(pattern).unwrap())
    .collect()
});

/// Returns the tokens, passwords and certificate keys written in files under `roots`, skipping
/// placeholders such as `<redacted>` and `REDACTED`.
fn text_secrets_under(roots: &[PathBuf]) -> Vec<(String, String)> {
    let mut secrets = Vec::new();
    for path in roots.iter().flat_map(|root| walk_files(root)) {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        for pattern in SECRET_PATTERNS.iter() {
            for captures in pattern.captures_iter(&text) {
                let value = captures[1].to_string();
                let placeholder = value.contains(['<', '*', '$', '{'])
                    || value.to_ascii_lowercase().contains("redacted")
                    || value.len() < 6;
                if !placeholder && !secrets.iter().any(|(known, _)| known == &value) {
                    secrets.push((value, path.display().to_string()));
                }
            }
        }
    }
    secrets
}

/// Every secret the scans look for: fixture keys, and fixture tokens and passwords.
struct Secrets {
    keys: KeyScan,
    text: Vec<(String, String)>,
}

impl Secrets {
    fn of_fixtures() -> Secrets {
        Secrets {
            keys: KeyScan::new(&fixture_key_secrets()),
            text: text_secrets_under(&[fixtures(), examples_dir()]),
        }
    }

    fn assert_absent(&self, output: &str, context: &str) {
        let scan = std::panic::catch_unwind(|| self.keys.assert_clean(output));
        assert!(scan.is_ok(), "{context}: key material in the output");
        for (secret, origin) in &self.text {
            assert!(
                !output.contains(secret.as_str()),
                "{context}: the output shows {secret:?} (from {origin})"
            );
        }
    }
}

/// A node to run on, and saved logs `diagnose` reads with it.
struct Target {
    snapshot: PathBuf,
    inputs: Vec<PathBuf>,
}

/// Returns every fixture snapshot and every case built as a snapshot, each with the logs in its
/// case folder and the journals in the snapshot.
fn targets(temp: &Path) -> Vec<Target> {
    let mut targets: Vec<Target> = fixture_snapshots()
        .into_iter()
        .map(|snapshot| Target {
            inputs: logs_beside(&snapshot),
            snapshot,
        })
        .collect();

    // Logs of cases whose node the tests build in code are read against kubeadm-real.
    let mut unplaced = Vec::new();
    let mut case_dirs: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir(fixtures().join("cases")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("case.json").is_file() {
            case_dirs.push(dir);
        } else if !dir.join("snapshot").is_dir() {
            unplaced.extend(case_logs(&dir));
        }
    }
    case_dirs.sort();
    for (index, case_dir) in case_dirs.iter().enumerate() {
        let spec: Value =
            serde_json::from_str(&fs::read_to_string(case_dir.join("case.json")).unwrap()).unwrap();
        let into = temp.join(format!("case-{index}"));
        let snapshot = if spec.get("certs").is_some() {
            build_case(case_dir, &spec, &into)
        } else if case_dir.join("overlay").is_dir() {
            build_overlay_case(case_dir, &spec, &into)
        } else {
            unplaced.extend(case_logs(case_dir));
            continue;
        };
        targets.push(Target {
            snapshot,
            inputs: case_logs(case_dir),
        });
    }

    unplaced.sort();
    let kubeadm_real = targets
        .iter_mut()
        .find(|target| target.snapshot == support::kubeadm_real())
        .expect("kubeadm-real is a fixture snapshot");
    kubeadm_real.inputs.extend(unplaced);
    targets
}

/// Lists the journals in a snapshot and, for a snapshot stored in a case folder, the case's logs.
fn logs_beside(snapshot: &Path) -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    let journal = snapshot.join("commands/journal");
    if journal.is_dir() {
        inputs.extend(
            walk_files(&journal)
                .into_iter()
                .filter(|path| path.extension().is_some_and(|e| e == "log")),
        );
    }
    if snapshot.file_name().is_some_and(|name| name == "snapshot")
        && let Some(case_dir) = snapshot.parent()
    {
        inputs.extend(case_logs(case_dir));
    }
    inputs
}

/// Lists the .txt and .log files at the top of a case folder: join output, journals, events.
fn case_logs(case_dir: &Path) -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = fs::read_dir(case_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .filter(|path| path.extension().is_some_and(|e| e == "txt" || e == "log"))
        .collect();
    logs.sort();
    logs
}

/// Runs node-doctor at trace level and returns standard output and standard error together.
fn run(args: &[&std::ffi::OsStr]) -> String {
    let output = node_doctor().arg("-vvv").args(args).output().unwrap();
    let context = format!("{args:?}");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{context}: status {:?}, stderr {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.stdout.is_empty(), "{context}: no report");
    assert!(
        !output.stderr.is_empty(),
        "{context}: no log lines at -vvv, so the scan saw none"
    );
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs check, certs and diagnose on one node in every format and scans everything printed.
fn scan_target(target: &Target, secrets: &Secrets) -> usize {
    let snapshot = target.snapshot.as_os_str();
    let mut runs = 0;
    for format in FORMATS {
        for command in ["check", "certs"] {
            let output = run(&[
                command.as_ref(),
                "--output".as_ref(),
                format.as_ref(),
                "--snapshot".as_ref(),
                snapshot,
            ]);
            let context = format!("{command} -o {format} on {}", target.snapshot.display());
            secrets.assert_absent(&output, &context);
            runs += 1;
        }
        for input in &target.inputs {
            let output = run(&[
                "diagnose".as_ref(),
                "--output".as_ref(),
                format.as_ref(),
                "--snapshot".as_ref(),
                snapshot,
                input.as_os_str(),
            ]);
            let context = format!("diagnose {} -o {format}", input.display());
            secrets.assert_absent(&output, &context);
            runs += 1;
        }
    }
    runs
}

#[test]
fn fixture_secrets_are_found() {
    let secrets = Secrets::of_fixtures();
    let values: Vec<&str> = secrets.text.iter().map(|(v, _)| v.as_str()).collect();

    // The token secret from the join logs of the bootstrap-token cases.
    assert!(values.contains(&"0123456789abcdef"), "{values:?}");
    assert!(!values.iter().any(|v| v.contains("REDACTED")), "{values:?}");
}

#[test]
fn no_secret_in_any_output_at_trace_level() {
    let secrets = Secrets::of_fixtures();
    let temp = tempfile::tempdir().unwrap();
    let targets = targets(temp.path());
    assert!(targets.len() >= 28, "only {} nodes to scan", targets.len());

    // Two workers: each run is a separate process, and CI machines have few cores.
    let (left, right) = targets.split_at(targets.len() / 2);
    let runs: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = [left, right]
            .into_iter()
            .map(|half| {
                let secrets = &secrets;
                scope.spawn(move || half.iter().map(|t| scan_target(t, secrets)).sum::<usize>())
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert!(runs > 300, "only {runs} runs scanned");
}

/// Secrets planted in the planted node, as written.
const PLANTED_TOKEN: &str = "abcdef.a1b2c3d4e5f60718";
const PLANTED_CERTIFICATE_KEY: &str =
    "f8902e114ef118304e561c3ecd4d0b543adc226b7a07f675f56564185ffe0c07";
const PLANTED_PASSWORD: &str = "planted-Passw0rd-9731";
const PLANTED_BEARER: &str = "eyJhbGciOiJSUzI1NiJ9.cGxhbnRlZC1wYXlsb2Fk.c2lnbmF0dXJl";
const PLANTED_AUTH: &str = "cm9ib3Q6cGxhbnRlZC1QYXNzdzByZC05NzMx";

/// Builds the broken-node example with secrets in a bootstrap kubeconfig, containerd's
/// registry auth, a k3s registries.yaml, kubelet's image credentials, and journal lines that
/// the checks quote as evidence. Its kubelet client certificate has expired, so
/// kubelet-client-cert quotes the kubelet's own journal line about it too.
fn planted_node(temp: &Path) -> (PathBuf, PathBuf) {
    let snapshot = temp.join("planted");
    copy_tree(&examples_dir().join("broken-node"), &snapshot);
    let rootfs = snapshot.join("rootfs");

    write(
        &rootfs.join("etc/kubernetes/bootstrap-kubelet.conf"),
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kubernetes\n  cluster:\n    \
             server: https://127.0.0.1:6443\ncontexts:\n- name: tls-bootstrap-token-user@kubernetes\n  \
             context:\n    cluster: kubernetes\n    user: tls-bootstrap-token-user\n\
             current-context: tls-bootstrap-token-user@kubernetes\nusers:\n\
             - name: tls-bootstrap-token-user\n  user:\n    token: {PLANTED_TOKEN}\n"
        ),
    );
    let containerd = rootfs.join("etc/containerd/config.toml");
    let mut config = fs::read_to_string(&containerd).unwrap_or_default();
    config.push_str(&format!(
        "\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"registry.example.test\".auth]\n  \
         username = \"robot\"\n  password = \"{PLANTED_PASSWORD}\"\n  auth = \"{PLANTED_AUTH}\"\n"
    ));
    write(&containerd, &config);
    write(
        &rootfs.join("etc/rancher/k3s/registries.yaml"),
        &format!(
            "configs:\n  registry.example.test:\n    auth:\n      username: robot\n      \
             password: {PLANTED_PASSWORD}\n"
        ),
    );
    write(
        &rootfs.join("var/lib/kubelet/config.json"),
        &format!("{{\"auths\":{{\"registry.example.test\":{{\"auth\":\"{PLANTED_AUTH}\"}}}}}}\n"),
    );

    let lines = planted_log_lines();
    let journal = snapshot.join("commands/journal/kubelet.log");
    let mut text = fs::read_to_string(&journal).unwrap_or_default();
    text.push_str(&lines.join("\n"));
    text.push('\n');
    write(&journal, &text);
    let join_log = temp.join("kubeadm-join.txt");
    write(&join_log, &lines.join("\n"));
    (snapshot, join_log)
}

/// Log lines that match log signatures and carry a secret each.
fn planted_log_lines() -> Vec<String> {
    let time = "2026-12-04T19:00:00+0000 node-1 kubelet[812]:";
    vec![
        format!(
            "{time} I1204 19:00:00.000000  812 join.go:1] kubeadm join 10.0.0.1:6443 --token \
             {PLANTED_TOKEN} --control-plane --certificate-key {PLANTED_CERTIFICATE_KEY}"
        ),
        format!(
            "{time} E1204 19:00:01.000000  812 token.go:1] token id \"abcdef\" is invalid for \
             this cluster or it has expired (joining with --token {PLANTED_TOKEN} \
             --certificate-key={PLANTED_CERTIFICATE_KEY})"
        ),
        format!(
            "{time} E1204 19:00:02.000000  812 log.go:32] \"PullImage from image service \
             failed\" err=\"failed to pull image \\\"registry.example.test/app:1\\\": Head \
             \\\"https://robot:{PLANTED_PASSWORD}@registry.example.test/v2/app/manifests/1\\\": \
             401 Unauthorized (Authorization: Bearer {PLANTED_BEARER}, password={PLANTED_PASSWORD})\""
        ),
        format!(
            "{time} E1204 19:00:03.000000  812 kubelet.go:2] \"Unable to authenticate the \
             request\" err=\"x509: certificate has expired or is not yet valid\" \
             auth=\"{PLANTED_AUTH}\" token=\"{PLANTED_BEARER}\""
        ),
        format!(
            "{time} E1204 19:00:04.000000  812 bootstrap.go:265] part of the existing bootstrap \
             client certificate in /etc/kubernetes/kubelet.conf is expired: 2026-11-20 08:00:00 \
             +0000 UTC kubeadm join 192.0.2.10:6443 --token {PLANTED_TOKEN} --control-plane \
             --certificate-key {PLANTED_CERTIFICATE_KEY}"
        ),
    ]
}

#[test]
fn planted_secrets_stay_hidden() {
    let temp = tempfile::tempdir().unwrap();
    let (snapshot, join_log) = planted_node(temp.path());
    let planted_token_secret = PLANTED_TOKEN.split_once('.').unwrap().1;
    let planted = [
        planted_token_secret,
        PLANTED_CERTIFICATE_KEY,
        PLANTED_PASSWORD,
        PLANTED_BEARER,
        PLANTED_AUTH,
    ];
    let secrets = Secrets {
        keys: KeyScan::new(&fixture_key_secrets()),
        text: planted
            .iter()
            .map(|s| (s.to_string(), "the planted node".to_string()))
            .collect(),
    };

    let target = Target {
        snapshot: snapshot.clone(),
        inputs: vec![
            join_log.clone(),
            snapshot.join("commands/journal/kubelet.log"),
        ],
    };
    scan_target(&target, &secrets);

    // The planted lines are quoted, so the scan looked at text that held the secrets.
    let report = run(&[
        "diagnose".as_ref(),
        "--output".as_ref(),
        "json".as_ref(),
        "--snapshot".as_ref(),
        snapshot.as_os_str(),
        join_log.as_os_str(),
    ]);
    assert!(report.contains("<redacted>"), "{report}");
    assert!(report.contains("abcdef.<redacted>"), "{report}");

    // kubelet-client-cert quotes the journal itself, not through the log signatures.
    let check = run(&[
        "check".as_ref(),
        "--only".as_ref(),
        "kubelet-client-cert".as_ref(),
        "--output".as_ref(),
        "json".as_ref(),
        "--snapshot".as_ref(),
        snapshot.as_os_str(),
    ]);
    assert!(
        check.contains("--certificate-key <redacted>"),
        "the journal line is not quoted: {check}"
    );
}
