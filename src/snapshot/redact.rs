//! Removes secrets from what `collect` copies: private keys become their public keys, and
//! tokens, passwords and registry credentials in kubeconfigs, runtime configs and logs become
//! a placeholder. Each change is listed, so the snapshot's manifest says what was removed.

use base64::Engine as _;

use crate::kube::pem;

use super::public_key::{public_key_der, to_pem};

/// What replaces a secret value.
pub const PLACEHOLDER: &str = "REDACTED-by-node-doctor-collect";

/// The kubeconfig field that `collect` writes in place of `client-key-data`: the base64 of a
/// PEM public key. The kubeconfig reader accepts it where it expects key data.
pub const PUBLIC_KEY_DATA_FIELD: &str = "client-public-key-data";

/// Field names whose values are secrets, compared without case, quotes or leading dashes.
const SECRET_FIELDS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "auth",
    "identitytoken",
    "identity_token",
    "registrytoken",
    "id-token",
    "refresh-token",
    "access-token",
    "client-secret",
    "secret",
    "discovery-token",
    "certificate-key",
    "bearer-token",
];

/// The result of redacting one file: its new content and a line for each change.
pub struct Redacted {
    pub bytes: Vec<u8>,
    pub changes: Vec<String>,
}

/// Redacts a file's content. Text is edited line by line and JSON value by value. Content that
/// is not valid UTF-8 is dropped if it contains a PEM private key marker. Otherwise it is redacted
/// as text with each invalid sequence replaced by U+FFFD, or kept byte for byte when nothing in
/// it needs redacting.
pub fn redact(bytes: &[u8]) -> Redacted {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return redact_invalid_utf8(bytes);
    };
    redact_str(text)
}

fn redact_str(text: &str) -> Redacted {
    let mut changes = Vec::new();
    let mut text = replace_private_keys(text, &mut changes);
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text)
    {
        let before = changes.len();
        redact_json(&mut value, &mut changes);
        if changes.len() > before {
            text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
        }
    } else {
        text = redact_lines(&text, &mut changes);
    }
    text = redact_inline_tokens(&text, &mut changes);
    text = remove_leftover_key_lines(&text, &mut changes);
    Redacted {
        bytes: text.into_bytes(),
        changes,
    }
}

/// Redacts binary data, or text with a stray invalid byte such as a Latin-1 comment in a
/// kubeconfig or a corrupted log line, whose secrets the text redaction would otherwise skip.
fn redact_invalid_utf8(bytes: &[u8]) -> Redacted {
    if contains(bytes, b"PRIVATE KEY-----") {
        return Redacted {
            bytes: Vec::new(),
            changes: vec!["binary file with a private key removed".to_string()],
        };
    }
    let mut redacted = redact_str(&String::from_utf8_lossy(bytes));
    if redacted.changes.is_empty() {
        return Redacted {
            bytes: bytes.to_vec(),
            changes: Vec::new(),
        };
    }
    redacted
        .changes
        .push("invalid UTF-8 replaced by U+FFFD in a file with secrets".to_string());
    redacted
}

/// Redacts command output and API responses, which are text or JSON.
pub fn redact_text(text: &str) -> Redacted {
    redact(text.as_bytes())
}

/// Replaces each PEM private key block by a comment line and the PEM public key, or by a
/// comment alone when the public key cannot be derived (an encrypted key, say).
fn replace_private_keys(text: &str, changes: &mut Vec<String>) -> String {
    if !text.contains("PRIVATE KEY-----") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut block: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(current) = block.as_mut() {
            current.push_str(line);
            if trimmed.starts_with("-----END ") {
                out.push_str(&public_replacement(current, changes));
                block = None;
            }
            continue;
        }
        if trimmed.starts_with("-----BEGIN ") && trimmed.ends_with("PRIVATE KEY-----") {
            block = Some(line.to_string());
            continue;
        }
        out.push_str(line);
    }
    if block.is_some() {
        changes.push("unterminated private key block removed".to_string());
        out.push_str("# node-doctor collect: removed an unterminated private key block\n");
    }
    out
}

fn public_replacement(block_text: &str, changes: &mut Vec<String>) -> String {
    let derived = pem::decode_all(block_text.as_bytes())
        .map_err(|error| error.to_string())
        .and_then(|blocks| {
            let block = blocks.into_iter().next().ok_or("no PEM block")?;
            let der = public_key_der(&block).map_err(|error| error.to_string())?;
            Ok((block.label, der))
        });
    match derived {
        Ok((label, der)) => {
            let fingerprint = crate::kube::cert::sha256_hex(&der);
            changes.push(format!(
                "{label} replaced by its public key (SPKI SHA-256 {fingerprint})"
            ));
            format!(
                "# node-doctor collect: {label} replaced by its public key\n{}",
                to_pem("PUBLIC KEY", &der)
            )
        }
        Err(why) => {
            changes.push(format!("private key removed, public key unknown: {why}"));
            format!("# node-doctor collect: private key removed ({why})\n")
        }
    }
}

/// Redacts `key: value`, `key = value` and `--key=value` lines whose key names a secret, and
/// turns `client-key-data` into [`PUBLIC_KEY_DATA_FIELD`].
fn redact_lines(text: &str, changes: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        match redact_line(body, changes) {
            Some(edited) => {
                out.push_str(&edited);
                out.push_str(ending);
            }
            None => out.push_str(line),
        }
    }
    out
}

fn redact_line(line: &str, changes: &mut Vec<String>) -> Option<String> {
    let separator = line.find([':', '='])?;
    let (raw_key, rest) = line.split_at(separator);
    let value = rest[1..].trim();
    let key = normalise_key(raw_key);
    if value.is_empty() || value == "\"\"" || value == "''" {
        return None;
    }

    if key == "client-key-data" {
        let indent = &raw_key[..raw_key.len() - raw_key.trim_start().len()];
        let (replacement, change) = public_key_data(value.trim_matches(['"', '\'']));
        changes.push(change);
        return Some(match replacement {
            Some(data) => format!("{indent}{PUBLIC_KEY_DATA_FIELD}: {data}"),
            None => format!("{indent}# node-doctor collect: embedded client key removed"),
        });
    }
    if key == "client-key" && crate::kube::kubeconfig::is_inline_data(value.trim_matches('"')) {
        changes.push("key data in client-key removed".to_string());
        return Some(format!("{raw_key}{}\"{PLACEHOLDER}\"", &rest[..1]));
    }
    if SECRET_FIELDS.contains(&key.as_str()) && !value.starts_with(['{', '[']) {
        changes.push(format!("value of {key} removed"));
        let quote = if rest.starts_with(':') { " " } else { "" };
        return Some(format!("{raw_key}{}{quote}\"{PLACEHOLDER}\"", &rest[..1]));
    }
    None
}

/// Removes every line that still contains a PEM private key marker or `client-key-data` after
/// the other passes. Such a line can hold key material in a form that those passes do not read,
/// such as a PEM block in a JSON string with escaped line breaks, or `client-key-data` in a YAML
/// flow mapping or in invalid JSON. Removing a line from a JSON file breaks its structure.
fn remove_leftover_key_lines(text: &str, changes: &mut Vec<String>) -> String {
    if !text.contains("PRIVATE KEY-----") && !text.contains("client-key-data") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.contains("PRIVATE KEY-----") || line.contains("client-key-data") {
            changes.push("line with a private key marker or client key data removed".to_string());
            out.push_str(
                "# node-doctor collect: line with a private key marker or client key data removed",
            );
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

fn normalise_key(raw: &str) -> String {
    raw.trim()
        .trim_start_matches(['-', ' '])
        .trim_matches(['"', '\''])
        .to_ascii_lowercase()
}

/// Turns base64 key data into base64 of the PEM public key, with a line for the manifest.
fn public_key_data(value: &str) -> (Option<String>, String) {
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim());
    let Ok(pem_bytes) = decoded else {
        return (None, "client-key-data (not base64) removed".to_string());
    };
    let derived = pem::decode_all(&pem_bytes)
        .map_err(|error| error.to_string())
        .and_then(|blocks| {
            let block = blocks
                .into_iter()
                .find(|block| block.is_private_key())
                .ok_or("no private key block")?;
            public_key_der(&block).map_err(|error| error.to_string())
        });
    match derived {
        Ok(der) => {
            let pem = to_pem("PUBLIC KEY", &der);
            let data = base64::engine::general_purpose::STANDARD.encode(pem);
            let fingerprint = crate::kube::cert::sha256_hex(&der);
            let change = format!(
                "embedded client key replaced by its public key in {PUBLIC_KEY_DATA_FIELD} (SPKI SHA-256 {fingerprint})"
            );
            (Some(data), change)
        }
        Err(why) => (
            None,
            format!("embedded client key removed, public key unknown: {why}"),
        ),
    }
}

fn redact_json(value: &mut serde_json::Value, changes: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(data) = map.remove("client-key-data") {
                let text = data.as_str().unwrap_or_default().to_string();
                let (replacement, change) = public_key_data(&text);
                changes.push(change);
                if let Some(public) = replacement {
                    map.insert(PUBLIC_KEY_DATA_FIELD.to_string(), public.into());
                }
            }
            for (key, child) in map.iter_mut() {
                let name = normalise_key(key);
                if SECRET_FIELDS.contains(&name.as_str()) && child.is_string() {
                    changes.push(format!("value of {key} removed"));
                    *child = PLACEHOLDER.into();
                } else {
                    redact_json(child, changes);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                redact_json(item, changes);
            }
        }
        _ => {}
    }
}

/// Replaces the secret half of kubeadm bootstrap tokens (`[a-z0-9]{6}.[a-z0-9]{16}`) and the
/// credential after `Bearer ` anywhere in the text, such as in a logged `kubeadm join` line.
fn redact_inline_tokens(text: &str, changes: &mut Vec<String>) -> String {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut index = 0;
    let mut tokens = 0;
    while index < bytes.len() {
        if let Some(end) = bootstrap_token_at(bytes, index) {
            out.extend_from_slice(&bytes[index..index + 7]);
            out.extend_from_slice(b"xxxxxxxxxxxxxxxx");
            index = end;
            tokens += 1;
            continue;
        }
        if bytes[index..].starts_with(b"Bearer ") {
            let start = index + 7;
            let end = start
                + bytes[start..]
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b','))
                    .unwrap_or(bytes.len() - start);
            if end > start && bytes[start..end] != *PLACEHOLDER.as_bytes() {
                out.extend_from_slice(b"Bearer ");
                out.extend_from_slice(PLACEHOLDER.as_bytes());
                index = end;
                tokens += 1;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    if tokens > 0 {
        changes.push(format!("{tokens} bootstrap or bearer token(s) removed"));
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Returns the end of a bootstrap token that starts at `start`, if one does.
fn bootstrap_token_at(bytes: &[u8], start: usize) -> Option<usize> {
    let is_token_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if start > 0 && is_token_char(bytes[start - 1]) {
        return None;
    }
    let end = start + 23;
    let candidate = bytes.get(start..end)?;
    let shaped = candidate[..6].iter().all(|&b| is_token_char(b))
        && candidate[6] == b'.'
        && candidate[7..].iter().all(|&b| is_token_char(b));
    let bounded = bytes.get(end).is_none_or(|&b| !is_token_char(b));
    // A hostname or version such as `abcdef.0123456789abcdef` is a token in shape, so the
    // secret half must hold a digit, as generated tokens almost always do.
    let has_digit = candidate[7..].iter().any(u8::is_ascii_digit);
    (shaped && bounded && has_digit).then_some(end)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_token_is_removed() {
        let text = "users:\n- name: admin\n  user:\n    token: abc.def\n    password: \"p@ss\"\n";
        let redacted = redact(text.as_bytes());
        let out = String::from_utf8(redacted.bytes).unwrap();
        assert!(!out.contains("abc.def"), "{out}");
        assert!(!out.contains("p@ss"), "{out}");
        assert!(out.contains(&format!("token: \"{PLACEHOLDER}\"")), "{out}");
        assert_eq!(redacted.changes.len(), 2);
    }

    #[test]
    fn toml_registry_auth_is_removed() {
        let text = "[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r\".auth]\n  username = \"bob\"\n  password = \"hunter2\"\n";
        let out = String::from_utf8(redact(text.as_bytes()).bytes).unwrap();
        assert!(out.contains("username = \"bob\""), "{out}");
        assert!(!out.contains("hunter2"), "{out}");
        assert!(toml::from_str::<toml::Value>(&out).is_ok(), "{out}");
    }

    #[test]
    fn docker_config_json_auth_is_removed() {
        let text = r#"{"auths":{"r.example":{"auth":"Ym9iOmh1bnRlcjI="}}}"#;
        let out = String::from_utf8(redact(text.as_bytes()).bytes).unwrap();
        assert!(!out.contains("Ym9iOmh1bnRlcjI="), "{out}");
    }

    #[test]
    fn bootstrap_token_and_bearer_are_removed() {
        let text = "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef\nAuthorization: Bearer eyJhbGciOi.x.y\n";
        let out = String::from_utf8(redact(text.as_bytes()).bytes).unwrap();
        assert!(!out.contains("0123456789abcdef"), "{out}");
        assert!(!out.contains("eyJhbGciOi"), "{out}");
        assert!(out.contains("abcdef.xxxxxxxxxxxxxxxx"), "{out}");
    }

    #[test]
    fn client_key_data_in_invalid_utf8_is_replaced() {
        let text =
            b"# caf\xe9\nusers:\n- name: admin\n  user:\n    client-key-data: bm90IGEga2V5\n";
        let redacted = redact(text);
        let out = String::from_utf8(redacted.bytes).unwrap();
        assert!(!out.contains("client-key-data"), "{out}");
        assert!(!out.contains("bm90IGEga2V5"), "{out}");
        assert!(out.contains("# caf\u{fffd}\n"), "{out}");
    }

    #[test]
    fn invalid_utf8_without_secrets_is_kept() {
        let bytes = b"\x00\xff\xfe binary \x80";
        let redacted = redact(bytes);
        assert_eq!(redacted.bytes, bytes);
        assert!(redacted.changes.is_empty());
    }

    #[test]
    fn leftover_key_markers_are_removed() {
        let text = "{\"key\": \"-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----\"}\nuser: {client-key-data: bm90IGEga2V5}\nkept: yes\n";
        let out = String::from_utf8(redact(text.as_bytes()).bytes).unwrap();
        assert!(!out.contains("PRIVATE KEY-----"), "{out}");
        assert!(!out.contains("MIIB"), "{out}");
        assert!(!out.contains("bm90IGEga2V5"), "{out}");
        assert!(out.contains("kept: yes\n"), "{out}");
    }

    #[test]
    fn flag_token_is_removed() {
        let text = "    - --token=s3cret\n    - --token-auth-file=/etc/tokens.csv\n";
        let out = String::from_utf8(redact(text.as_bytes()).bytes).unwrap();
        assert!(!out.contains("s3cret"), "{out}");
        assert!(out.contains("--token-auth-file=/etc/tokens.csv"), "{out}");
    }
}
