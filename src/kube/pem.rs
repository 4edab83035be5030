//! PEM decoding with errors that say what is wrong with the file.
//!
//! Kubernetes reads certificates and keys only as PEM. A DER file, an empty file or a block with
//! broken base64 each get their own message, so an operator knows what to regenerate.

use base64::Engine as _;

/// One decoded PEM block.
#[derive(Clone)]
pub struct PemBlock {
    /// The label between `BEGIN` and the dashes, such as `CERTIFICATE` or `RSA PRIVATE KEY`.
    pub label: String,
    pub der: Vec<u8>,
    /// Set when an RFC 1421 header says `Proc-Type: 4,ENCRYPTED`, as in a key written by
    /// `openssl ec -aes128` (OpenSSL 3.0). The data is then ciphertext, not DER.
    pub encrypted: bool,
}

impl std::fmt::Debug for PemBlock {
    // Key blocks carry secrets, so only the label and size are ever printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PemBlock({}, {} bytes)", self.label, self.der.len())
    }
}

impl PemBlock {
    pub fn is_private_key(&self) -> bool {
        self.label.ends_with("PRIVATE KEY")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PemError {
    #[error("file is empty")]
    Empty,
    #[error(
        "file is binary DER, not PEM; convert it with `openssl x509 -inform der -in FILE -out FILE.pem`"
    )]
    Der,
    #[error("no PEM block found (expected a line like -----BEGIN CERTIFICATE-----)")]
    NoBlock,
    #[error("PEM block {label} starting at line {line} has no END line (the file is truncated)")]
    Unterminated { label: String, line: usize },
    #[error("PEM block {label} starting at line {line} has invalid base64 data")]
    InvalidBase64 { label: String, line: usize },
    #[error("PEM block {label} at line {line} ends with a different label: {end}")]
    MismatchedEnd {
        label: String,
        end: String,
        line: usize,
    },
}

/// Decodes every PEM block in `data`. Text outside blocks is ignored, as Go's `pem.Decode` does.
pub fn decode_all(data: &[u8]) -> Result<Vec<PemBlock>, PemError> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(PemError::Empty);
    }
    if data.first() == Some(&0x30) && !contains(data, b"-----BEGIN ") {
        return Err(PemError::Der);
    }

    let text = String::from_utf8_lossy(data);
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    let mut encrypted = false;

    for (index, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        let number = index + 1;
        match open.take() {
            None => {
                if let Some(label) = marker(line, "-----BEGIN ") {
                    open = Some((label.to_string(), number, String::new()));
                    encrypted = false;
                }
            }
            Some((label, start, mut body)) => {
                if let Some(end) = marker(line, "-----END ") {
                    if end != label {
                        let end = end.to_string();
                        return Err(PemError::MismatchedEnd {
                            label,
                            end,
                            line: number,
                        });
                    }
                    let der = decode_body(&body).ok_or_else(|| PemError::InvalidBase64 {
                        label: label.clone(),
                        line: start,
                    })?;
                    blocks.push(PemBlock {
                        label,
                        der,
                        encrypted,
                    });
                } else if line.contains(':') && body.is_empty() {
                    // RFC 1421 headers such as Proc-Type in encrypted keys: not part of the data.
                    if let Some(value) = line.strip_prefix("Proc-Type:") {
                        encrypted |= value.contains("ENCRYPTED");
                    }
                    open = Some((label, start, body));
                } else {
                    body.push_str(line);
                    open = Some((label, start, body));
                }
            }
        }
    }

    if let Some((label, line, _)) = open {
        return Err(PemError::Unterminated { label, line });
    }
    if blocks.is_empty() {
        return Err(PemError::NoBlock);
    }
    Ok(blocks)
}

fn marker<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix("-----")
}

fn decode_body(body: &str) -> Option<Vec<u8>> {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
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
    fn empty_file_is_reported() {
        assert_eq!(decode_all(b"  \n").unwrap_err(), PemError::Empty);
    }

    #[test]
    fn der_file_is_reported() {
        assert_eq!(
            decode_all(&[0x30, 0x82, 0x01, 0x0a]).unwrap_err(),
            PemError::Der
        );
    }

    #[test]
    fn truncated_block_is_reported() {
        let error = decode_all(b"-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap_err();
        assert!(matches!(error, PemError::Unterminated { line: 1, .. }));
    }

    #[test]
    fn garbage_base64_is_reported() {
        let data = b"-----BEGIN CERTIFICATE-----\n@@@###\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            decode_all(data).unwrap_err(),
            PemError::InvalidBase64 { .. }
        ));
    }

    #[test]
    fn encrypted_header_is_recorded() {
        let data = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAEC\n-----END RSA PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
        let blocks = decode_all(data).unwrap();

        assert!(blocks[0].encrypted);
        assert!(!blocks[1].encrypted);
    }

    #[test]
    fn text_around_blocks_is_ignored() {
        let data =
            b"subject=CN = x\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
        let blocks = decode_all(data).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].der, vec![0, 1, 2]);
    }
}
