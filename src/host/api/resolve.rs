//! `--resolve HOST:PORT:ADDR`: connect to ADDR when a URL names HOST:PORT, as curl's option of
//! the same name does. The URL keeps its host name, so TLS still sends and verifies that name.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// One `HOST:PORT:ADDR` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub address: IpAddr,
}

impl ResolveOverride {
    /// Returns whether this entry applies to a URL with this host and port.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.port == port
    }

    pub fn socket_address(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }
}

impl FromStr for ResolveOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<ResolveOverride, String> {
        let invalid = |why: &str| {
            format!(
                "invalid --resolve {text:?}: {why}; expected HOST:PORT:ADDRESS, such as cp.example.test:6443:127.0.0.1"
            )
        };
        let mut parts = text.splitn(3, ':');
        let (Some(host), Some(port), Some(address)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("it has fewer than three parts"));
        };
        if host.is_empty() {
            return Err(invalid("the host name is empty"));
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| invalid("the port is not a number from 0 to 65535"))?;
        let address = address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map_err(|_| invalid("the address is not an IP address"))?;
        Ok(ResolveOverride {
            host: host.to_string(),
            port,
            address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_entry() {
        let entry: ResolveOverride = "cp.example.test:6443:127.0.0.1".parse().unwrap();
        assert_eq!(entry.host, "cp.example.test");
        assert_eq!(entry.port, 6443);
        assert_eq!(entry.socket_address().to_string(), "127.0.0.1:6443");
        assert!(entry.matches("CP.example.test", 6443));
        assert!(!entry.matches("cp.example.test", 443));
    }

    #[test]
    fn parses_bracketed_ipv6() {
        let entry: ResolveOverride = "cp.example.test:6443:[::1]".parse().unwrap();
        assert_eq!(entry.address, "::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn rejects_missing_address() {
        let error = "cp.example.test:6443"
            .parse::<ResolveOverride>()
            .unwrap_err();
        assert!(error.contains("HOST:PORT:ADDRESS"), "{error}");
        assert!(
            "cp.example.test:x:127.0.0.1"
                .parse::<ResolveOverride>()
                .is_err()
        );
    }
}
