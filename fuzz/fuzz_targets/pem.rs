//! PEM decoding, X.509 certificate loading and private-to-public key conversion.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::kube::{cert, keys, pem};
use node_doctor::snapshot::public_key;

fuzz_target!(|data: &[u8]| {
    let _ = cert::parse_pem_certificates(data);
    let _ = cert::Certificate::from_der(data);
    if let Ok(blocks) = pem::decode_all(data) {
        for block in blocks {
            let _ = keys::public_key_of(&block);
            if let Ok(der) = public_key::public_key_der(&block) {
                // The public key written in a private key's place must read back as the same key.
                let text = public_key::to_pem("PUBLIC KEY", &der);
                let public = pem::decode_all(text.as_bytes()).expect("own PEM decodes");
                assert_eq!(
                    keys::public_key_of(&public[0]).ok(),
                    keys::public_key_of(&block).ok()
                );
            }
        }
    }
});
