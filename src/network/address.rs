//! Address classes, with the meanings Go's `net.IP` methods give them, because the kubelet
//! decides with those.

use std::net::IpAddr;

/// Returns whether the kubelet would treat `ip` as a usable node address: Go's
/// `IsGlobalUnicast`, which includes private ranges and excludes loopback, link-local,
/// multicast, unspecified and the IPv4 broadcast address.
pub fn is_global_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
            !(v6.is_unspecified() || v6.is_loopback() || v6.is_multicast() || link_local)
        }
    }
}

/// Returns whether `ip` is in a private range: RFC 1918 for IPv4, unique local fc00::/7 for
/// IPv6.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Returns whether `a` and `b` share the first `prefix_len` bits.
pub fn same_subnet(a: IpAddr, b: IpAddr, prefix_len: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix_len.min(32)))
                .unwrap_or(0);
            (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix_len.min(128)))
                .unwrap_or(0);
            (u128::from(a) & mask) == (u128::from(b) & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn global_unicast_follows_go() {
        assert!(is_global_unicast(ip("10.19.0.57")));
        assert!(is_global_unicast(ip("2001:db8::5")));
        assert!(!is_global_unicast(ip("127.0.1.1")));
        assert!(!is_global_unicast(ip("169.254.1.1")));
        assert!(!is_global_unicast(ip("fe80::1")));
        assert!(!is_global_unicast(ip("0.0.0.0")));
    }

    #[test]
    fn private_ranges() {
        assert!(is_private(ip("192.168.0.26")));
        assert!(is_private(ip("fd00::1")));
        assert!(!is_private(ip("203.0.113.24")));
    }

    #[test]
    fn subnet_match() {
        assert!(same_subnet(ip("10.0.2.15"), ip("10.0.2.2"), 24));
        assert!(!same_subnet(ip("10.0.2.15"), ip("10.0.3.2"), 24));
        assert!(same_subnet(ip("10.0.2.15"), ip("192.0.2.1"), 0));
    }
}
