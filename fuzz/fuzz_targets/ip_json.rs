//! The JSON of `ip -j addr show` and `ip -j route show`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::network;

fuzz_target!(|text: &str| {
    let _ = network::parse_addresses(text);
    let _ = network::parse_routes(text);
});
