//! TCP connections from the live host, bounded by a deadline that covers name resolution too.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{HostError, HostErrorKind};

/// Resolves `host` and connects to the first address that accepts, all within `timeout`.
///
/// `getaddrinfo` has no timeout of its own, so resolution runs on a helper thread that is
/// abandoned when the deadline passes.
pub fn connect_tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, HostError> {
    let target = format!("{host}:{port}");
    let deadline = Instant::now() + timeout;
    let addresses = resolve(host, port, timeout).map_err(|why| {
        tracing::debug!(target, why, "name resolution failed");
        HostError::new(&target, HostErrorKind::CommandFailed(why))
    })?;

    let mut last_error = format!("{host} resolved to no address");
    for address in addresses {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            last_error = format!("connection timed out after {}s", timeout.as_secs_f64());
            break;
        }
        tracing::debug!(target, %address, "connecting");
        match TcpStream::connect_timeout(&address, remaining) {
            Ok(stream) => return Ok(stream),
            Err(error) => last_error = format!("{address}: {error}"),
        }
    }
    Err(HostError::new(
        target,
        HostErrorKind::CommandFailed(last_error),
    ))
}

fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (sender, receiver) = mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("resolve".to_string())
        .spawn(move || {
            let result = (name.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>)
                .map_err(|error| error.to_string());
            let _ = sender.send(result);
        })
        .map_err(|error| format!("cannot start a resolver thread: {error}"))?;
    match receiver.recv_timeout(timeout) {
        Ok(result) => result.map_err(|error| format!("cannot resolve {host}: {error}")),
        Err(_) => Err(format!(
            "resolving {host} timed out after {}s",
            timeout.as_secs_f64()
        )),
    }
}
