//! The redaction `collect` applies to every file: it must never let a private key marker or
//! `client-key-data` through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::snapshot::redact;

fuzz_target!(|data: &[u8]| {
    let redacted = redact::redact(data);
    let text = String::from_utf8_lossy(&redacted.bytes);
    assert!(!text.contains("PRIVATE KEY-----"), "a private key marker survived");
    assert!(!text.contains("client-key-data"), "client-key-data survived");
});
