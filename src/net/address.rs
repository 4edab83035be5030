use std::fmt;
use std::net::IpAddr;

/// A registry as image names spell it: `HOST` or `HOST:PORT`, with IPv6 hosts in brackets.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistryAddress {
    /// A DNS name or an IP address, without brackets.
    pub host: String,
    pub port: Option<u16>,
}

/// The port a registry uses when its name has none.
pub const HTTPS_PORT: u16 = 443;

impl RegistryAddress {
    /// Parses `HOST[:PORT]`. A leading `https://` or `http://` and anything after the first `/`
    /// are dropped, so endpoint URLs from configuration files parse too.
    pub fn parse(text: &str) -> Result<RegistryAddress, String> {
        let trimmed = text.trim();
        let without_scheme = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))
            .unwrap_or(trimmed);
        let authority = without_scheme.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(format!("invalid registry {text:?}: the host is empty"));
        }

        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("invalid registry {text:?}: missing ']'"))?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(format!("invalid registry {text:?}: text after ']'")),
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (authority.to_string(), None),
            }
        };
        let port = match port {
            Some(port) => Some(port.parse::<u16>().map_err(|_| {
                format!("invalid registry {text:?}: port {port:?} is not a number from 1 to 65535")
            })?),
            None => None,
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(format!(
                "invalid registry {text:?}: the host is empty or has spaces"
            ));
        }
        Ok(RegistryAddress {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(HTTPS_PORT)
    }

    pub fn is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    /// Returns `HOST:PORT` with the port always present, as `openssl s_client -connect` takes it.
    pub fn with_port(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port_or_default())
    }

    fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

impl fmt::Display for RegistryAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.bracketed_host()),
            None => f.write_str(&self.bracketed_host()),
        }
    }
}

/// A `--resolve HOST:PORT:ADDRESS` entry: connections to HOST on PORT go to ADDRESS, while
/// certificates are still verified for HOST, as curl's option of the same name does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub address: IpAddr,
}

impl ResolveOverride {
    pub fn parse(text: &str) -> Result<ResolveOverride, String> {
        let invalid =
            |why: &str| format!("invalid --resolve {text:?}: {why}; expected HOST:PORT:ADDRESS");
        let (host, rest) = text.split_once(':').ok_or_else(|| invalid("no port"))?;
        let (port, address) = rest.split_once(':').ok_or_else(|| invalid("no address"))?;
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| invalid("the port is not a number from 1 to 65535"))?;
        let address = address
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .map_err(|_| invalid("the address is not an IP address"))?;
        Ok(ResolveOverride {
            host: host.to_ascii_lowercase(),
            port,
            address,
        })
    }

    /// Returns whether this entry applies to a URL with this host and port.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.port == port
    }

    pub fn socket_address(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.address, self.port)
    }

    /// Returns the address to connect to for `host:port`, when an override names it.
    pub fn lookup(overrides: &[ResolveOverride], host: &str, port: u16) -> Option<IpAddr> {
        overrides
            .iter()
            .find(|entry| entry.port == port && entry.host.eq_ignore_ascii_case(host))
            .map(|entry| entry.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_and_port() {
        let address = RegistryAddress::parse("Registry.Example.Test:5000").unwrap();
        assert_eq!(address.host, "registry.example.test");
        assert_eq!(address.port, Some(5000));
        assert_eq!(address.to_string(), "registry.example.test:5000");
    }

    #[test]
    fn parses_url_and_ipv6() {
        let address = RegistryAddress::parse("https://[2001:db8::1]:8443/v2").unwrap();
        assert_eq!(address.host, "2001:db8::1");
        assert_eq!(address.with_port(), "[2001:db8::1]:8443");
        let plain = RegistryAddress::parse("https://registry.example.test/v2").unwrap();
        assert_eq!(plain.port, None);
        assert_eq!(plain.with_port(), "registry.example.test:443");
    }

    #[test]
    fn rejects_bad_port() {
        assert!(RegistryAddress::parse("registry.example.test:http").is_err());
        assert!(RegistryAddress::parse("").is_err());
    }

    #[test]
    fn parses_resolve() {
        let entry = ResolveOverride::parse("registry.example.test:5000:127.0.0.1").unwrap();
        assert_eq!(entry.port, 5000);
        assert_eq!(entry.address.to_string(), "127.0.0.1");
        let v6 = ResolveOverride::parse("registry.example.test:443:[::1]").unwrap();
        assert_eq!(v6.address.to_string(), "::1");
        assert!(ResolveOverride::parse("registry.example.test:443").is_err());
        assert_eq!(
            ResolveOverride::lookup(&[entry], "REGISTRY.example.test", 5000),
            Some("127.0.0.1".parse().unwrap())
        );
    }
}
#[cfg(test)]
mod resolve_override_tests {
    use std::net::IpAddr;

    use crate::net::ResolveOverride;

    #[test]
    fn parses_ipv4_entry() {
        let entry = ResolveOverride::parse("cp.example.test:6443:127.0.0.1").unwrap();
        assert_eq!(entry.host, "cp.example.test");
        assert_eq!(entry.port, 6443);
        assert_eq!(entry.socket_address().to_string(), "127.0.0.1:6443");
        assert!(entry.matches("CP.example.test", 6443));
        assert!(!entry.matches("cp.example.test", 443));
    }

    #[test]
    fn parses_bracketed_ipv6() {
        let entry = ResolveOverride::parse("cp.example.test:6443:[::1]").unwrap();
        assert_eq!(entry.address, "::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn rejects_missing_address() {
        let error = ResolveOverride::parse("cp.example.test:6443").unwrap_err();
        assert!(error.contains("HOST:PORT:ADDRESS"), "{error}");
        assert!(ResolveOverride::parse("cp.example.test:x:127.0.0.1").is_err());
    }
}
