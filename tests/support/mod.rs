//! Helpers shared by the integration tests: fixture discovery, snapshot builders, a
//! Prometheus text parser and the private-key scan.
//!
//! Each test binary uses a different subset, so unused helpers are allowed.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64::Engine as _;

/// Returns the directory that contains every fixture the tests read.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Returns the path of the healthy kubeadm control-plane snapshot.
pub fn kubeadm_real() -> PathBuf {
    fixtures_dir().join("kubeadm-real")
}

/// Returns the `node-doctor` binary built for this test run, with logging turned off and
/// colour variables cleared so tests see the same output on every machine.
pub fn node_doctor() -> Command {
    let mut command = Command::cargo_bin("node-doctor").expect("the node-doctor binary is built");
    command.env_remove("NO_COLOR");
    command.env_remove("NODE_DOCTOR_LOG");
    command
}

/// Returns every snapshot under tests/fixtures and examples: directories with a snapshot.json
/// and .tar.gz files, sorted by path.
pub fn fixture_snapshots() -> Vec<PathBuf> {
    let mut snapshots = Vec::new();
    let mut files = walk_files(&fixtures_dir());
    files.extend(walk_files(&examples_dir()));
    for path in files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name == "snapshot.json" {
            let dir = path.parent().expect("snapshot.json has a parent");
            // A snapshot.json under another snapshot's rootfs is node data, not a snapshot.
            if !dir.components().any(|c| c.as_os_str() == "rootfs") {
                snapshots.push(dir.to_path_buf());
            }
        } else if name.ends_with(".tar.gz") {
            snapshots.push(path);
        }
    }
    snapshots.sort();
    snapshots
}

/// Lists the regular files under `dir` recursively, without following symlinks.
pub fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = fs::read_dir(&current)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", current.display()));
        for entry in entries {
            let entry = entry.expect("directory entry");
            let file_type = entry.file_type().expect("file type");
            if file_type.is_dir() {
                pending.push(entry.path());
            } else if file_type.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    files
}

/// Writes `contents` to `root/relative`, creating parent directories.
pub fn write_file(root: &Path, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(relative.trim_start_matches('/'));
    fs::create_dir_all(path.parent().expect("path has a parent")).expect("create parent");
    fs::write(&path, contents).expect("write file");
    path
}

/// Creates a symlink at `root/relative` whose target is `target`, stored verbatim.
pub fn symlink(root: &Path, relative: &str, target: impl AsRef<Path>) -> PathBuf {
    let path = root.join(relative.trim_start_matches('/'));
    fs::create_dir_all(path.parent().expect("path has a parent")).expect("create parent");
    std::os::unix::fs::symlink(target, &path).expect("create symlink");
    path
}

/// Writes a snapshot.json with the given format, node, capture time and `special` map.
pub fn write_manifest(dir: &Path, format: &str, node: &str, special: &[(&str, &str)]) {
    let special: BTreeMap<&str, &str> = special.iter().copied().collect();
    let manifest = serde_json::json!({
        "format": format,
        "node": node,
        "capturedAt": "2026-12-04T10:00:00Z",
        "special": special,
    });
    write_file(dir, "snapshot.json", manifest.to_string());
}

/// Packs `dir` into a .tar.gz at `archive`, keeping symlinks as symlinks. Entries are named
/// `prefix/...`, or sit at the top level when `prefix` is empty.
pub fn pack_tar_gz(dir: &Path, archive: &Path, prefix: &str) {
    let file = fs::File::create(archive).expect("create archive");
    let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    builder.follow_symlinks(false);
    let prefix = if prefix.is_empty() { "." } else { prefix };
    builder.append_dir_all(prefix, dir).expect("append dir");
    builder
        .into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip");
}

/// One line of Prometheus text exposition, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses Prometheus text exposition (format 0.0.4) strictly enough for the report contract:
/// every non-comment line is `name{labels} value`, and each metric has `# HELP` and `# TYPE`
/// once, before its first sample. Panics with the offending line on any violation.
pub fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut helped = BTreeSet::new();
    let mut typed = BTreeSet::new();
    let mut sampled = BTreeSet::new();
    let mut samples = Vec::new();

    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            let keyword = words.next().unwrap_or_default();
            let name = words.next().unwrap_or_default().to_string();
            let rest = words.next().unwrap_or_default();
            match keyword {
                "HELP" => {
                    assert!(is_metric_name(&name), "line {number}: bad name in {line:?}");
                    assert!(!rest.trim().is_empty(), "line {number}: empty HELP");
                    assert!(
                        !sampled.contains(&name),
                        "line {number}: HELP after samples of {name}"
                    );
                    assert!(helped.insert(name), "line {number}: second HELP: {line:?}");
                }
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest),
                        "line {number}: unknown type in {line:?}"
                    );
                    assert!(
                        !sampled.contains(&name),
                        "line {number}: TYPE after samples of {name}"
                    );
                    assert!(typed.insert(name), "line {number}: second TYPE: {line:?}");
                }
                _ => {}
            }
            continue;
        }

        let sample = parse_sample(line).unwrap_or_else(|why| panic!("line {number}: {why}"));
        assert!(
            helped.contains(&sample.name),
            "line {number}: sample of {} before its HELP",
            sample.name
        );
        assert!(
            typed.contains(&sample.name),
            "line {number}: sample of {} before its TYPE",
            sample.name
        );
        sampled.insert(sample.name.clone());
        samples.push(sample);
    }
    samples
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value in {line:?}"))?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("invalid metric name {name:?} in {line:?}"));
    }

    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(after_brace) = rest.strip_prefix('{') {
        let mut chars = after_brace.char_indices().peekable();
        loop {
            // Label name up to '=', or the closing brace.
            let start = chars.peek().map(|(i, _)| *i).ok_or("unterminated labels")?;
            if after_brace[start..].starts_with('}') {
                rest = &after_brace[start + 1..];
                break;
            }
            let equals = after_brace[start..]
                .find('=')
                .ok_or_else(|| format!("label without '=' in {line:?}"))?
                + start;
            let label = &after_brace[start..equals];
            if !is_label_name(label) {
                return Err(format!("invalid label name {label:?} in {line:?}"));
            }
            if !after_brace[equals + 1..].starts_with('"') {
                return Err(format!("unquoted value of {label} in {line:?}"));
            }
            while let Some((i, _)) = chars.peek() {
                if *i > equals + 1 {
                    break;
                }
                chars.next();
            }

            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("bad escape {other:?} in {line:?}")),
                    },
                    Some((_, '"')) => break,
                    Some((_, '\n')) | None => {
                        return Err(format!("unterminated value in {line:?}"));
                    }
                    Some((_, c)) => value.push(c),
                }
            }
            if labels.insert(label.to_string(), value).is_some() {
                return Err(format!("repeated label {label} in {line:?}"));
            }
            match chars.peek() {
                Some((_, ',')) => {
                    chars.next();
                }
                Some((_, '}')) => {}
                _ => return Err(format!("expected ',' or '}}' in {line:?}")),
            }
        }
    }

    let value_text = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before the value in {line:?}"))?;
    // An optional timestamp may follow the value; node-doctor writes none.
    let mut fields = value_text.split(' ');
    let value_field = fields.next().unwrap_or_default();
    let value = match value_field {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        other => other
            .parse::<f64>()
            .map_err(|error| format!("invalid value {other:?} in {line:?}: {error}"))?,
    };
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|error| format!("invalid timestamp {timestamp:?} in {line:?}: {error}"))?;
    }
    if fields.next().is_some() {
        return Err(format!("trailing fields in {line:?}"));
    }

    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Length of the runs of private-key base64 that [`assert_no_key_material`] looks for.
const KEY_RUN: usize = 40;

/// A private key found under tests/fixtures, as the base64 text that must never be printed.
#[derive(Clone, Debug)]
pub struct KeySecret {
    /// The fixture file and what part of it, for failure messages.
    pub origin: String,
    /// Base64 with whitespace removed.
    pub base64: String,
    /// The base64 of the key's public half (SubjectPublicKeyInfo DER) at each of the three
    /// byte alignments. A private key's DER contains its public modulus or point, which a
    /// collected snapshot carries on purpose, so runs found here are not reported.
    pub public: Vec<String>,
}

/// Collects the private keys under tests/fixtures: the PEM body of every `PRIVATE KEY` block in
/// *.key and *.pem files, and each kubeconfig `client-key-data` value together with the PEM
/// body it decodes to.
pub fn fixture_key_secrets() -> Vec<KeySecret> {
    let mut secrets = key_secrets_under(&fixtures_dir());
    secrets.extend(key_secrets_under(&examples_dir()));
    secrets
}

/// Returns the examples folder, whose demo snapshots the README runs.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Collects the private keys under `root` the way [`fixture_key_secrets`] does.
pub fn key_secrets_under(root: &Path) -> Vec<KeySecret> {
    let mut secrets = Vec::new();
    for path in walk_files(root) {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let relative_name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let name = relative_name.as_str();

        if name.ends_with(".key") || name.ends_with(".pem") {
            for (label, body) in private_key_bodies(&text) {
                secrets.push(KeySecret {
                    origin: format!("{name} (key block)"),
                    public: public_alignments(&label, &body),
                    base64: body,
                });
            }
        }

        for line in text.lines() {
            let Some(value) = line.trim().strip_prefix("client-key-data:") else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_string();
            if value.is_empty() {
                continue;
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&value)
                .unwrap_or_else(|error| panic!("{name}: client-key-data is not base64: {error}"));
            secrets.push(KeySecret {
                origin: format!("{name} (client-key-data)"),
                base64: value,
                public: Vec::new(),
            });
            for (label, body) in private_key_bodies(&String::from_utf8_lossy(&decoded)) {
                secrets.push(KeySecret {
                    origin: format!("{name} (client-key-data, decoded key)"),
                    public: public_alignments(&label, &body),
                    base64: body,
                });
            }
        }
    }
    secrets
}

/// Returns the base64 of a private key's public half at byte offsets 0, 1 and 2, or nothing
/// when the public half cannot be derived.
fn public_alignments(label: &str, body: &str) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let Ok(der) = engine.decode(body) else {
        return Vec::new();
    };
    let block = node_doctor::kube::pem::PemBlock {
        label: label.to_string(),
        der,
        encrypted: false,
    };
    let Ok(public) = node_doctor::snapshot::public_key::public_key_der(&block) else {
        return Vec::new();
    };
    (0..3).map(|skip| engine.encode(&public[skip..])).collect()
}

/// Returns the label and base64 body of every PEM block whose label ends in `PRIVATE KEY`,
/// whitespace removed.
fn private_key_bodies(text: &str) -> Vec<(String, String)> {
    let mut bodies = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN ") && line.ends_with("PRIVATE KEY-----") {
            let label = line
                .trim_start_matches("-----BEGIN ")
                .trim_end_matches("-----")
                .to_string();
            current = Some((label, String::new()));
        } else if line.starts_with("-----END ") {
            if let Some(body) = current.take() {
                bodies.push(body);
            }
        } else if let Some((_, body)) = current.as_mut() {
            // Skips PEM headers such as `Proc-Type:` in legacy encrypted keys.
            if !line.contains(':') {
                body.push_str(line);
            }
        }
    }
    bodies
}

/// Fails when `output` contains a private-key marker, `client-key-data`, or any
/// [`KEY_RUN`]-character run of a fixture private key's base64 that is not also part of its
/// public key. The runs are also looked for in
/// `output` with whitespace and JSON `\n` escapes removed, so a key re-wrapped at other line
/// lengths is still caught.
pub fn assert_no_key_material(output: &str) {
    assert_no_key_material_in(output, &fixture_key_secrets());
}

/// [`assert_no_key_material`] against a given list of secrets.
pub fn assert_no_key_material_in(output: &str, secrets: &[KeySecret]) {
    KeyScan::new(secrets).assert_clean(output);
}

/// The private-key runs to look for, indexed once so that scanning long outputs (trace logs)
/// costs one hash lookup per output position.
pub struct KeyScan {
    /// Each forbidden run, with the key it comes from and its offset there.
    runs: std::collections::HashMap<String, (String, usize)>,
}

impl KeyScan {
    pub fn new(secrets: &[KeySecret]) -> KeyScan {
        let mut runs = std::collections::HashMap::new();
        for secret in secrets {
            let bytes = secret.base64.as_bytes();
            if bytes.len() < KEY_RUN {
                continue;
            }
            for start in 0..=bytes.len() - KEY_RUN {
                let run = &secret.base64[start..start + KEY_RUN];
                if secret.public.iter().any(|public| public.contains(run)) {
                    continue;
                }
                runs.entry(run.to_string())
                    .or_insert_with(|| (secret.origin.clone(), start));
            }
        }
        KeyScan { runs }
    }

    /// Fails as [`assert_no_key_material`] describes.
    pub fn assert_clean(&self, output: &str) {
        assert!(
            !output.contains("PRIVATE KEY-----"),
            "output contains a private key PEM marker"
        );
        assert!(
            !output.contains("client-key-data"),
            "output contains client-key-data"
        );

        let squeezed: Vec<u8> = output
            .replace("\\n", "")
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        for window in squeezed.windows(KEY_RUN) {
            let Ok(run) = std::str::from_utf8(window) else {
                continue;
            };
            if let Some((origin, start)) = self.runs.get(run) {
                panic!(
                    "output contains private key material from {origin} (offset {start}): {run}"
                );
            }
        }
    }
}
