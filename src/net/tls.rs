//! A TLS handshake that records the certificate chain the server sends.
//!
//! The client accepts any chain, so the handshake gets far enough to see what the server
//! presents, and the caller judges the chain against the trust a container runtime would use.
//! Handshake signatures are still verified with the ring provider, so the chain recorded is the
//! one the peer holds the key for.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

use crate::host::Host;

use super::RegistryAddress;

/// What a server sent during the handshake.
#[derive(Clone, Debug)]
pub struct ServedChain {
    /// DER certificates in the order the server sent them, leaf first.
    pub certificates: Vec<Vec<u8>>,
    /// The address connected to, such as `127.0.0.1:5000`.
    pub connected_to: String,
    /// Set when the handshake failed after the chain arrived, for example because the server
    /// requires a client certificate.
    pub later_error: Option<String>,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("no TLS handshake with {target} within {seconds}s: {stage}")]
    TimedOut {
        target: String,
        seconds: f64,
        stage: &'static str,
    },
    #[error("TLS handshake with {target} failed: {message}")]
    Tls { target: String, message: String },
}

/// Connects to `registry` (or to `connect_to` in its place, keeping the registry's name for
/// SNI) and runs a TLS handshake, all within `timeout`.
pub fn handshake(
    host: &dyn Host,
    registry: &RegistryAddress,
    connect_to: Option<IpAddr>,
    timeout: Duration,
) -> Result<ServedChain, HandshakeError> {
    let deadline = Instant::now() + timeout;
    let port = registry.port_or_default();
    let dial_host = connect_to.map_or_else(|| registry.host.clone(), |ip| ip.to_string());
    let target = match connect_to {
        Some(ip) => format!("{registry} (at {ip})"),
        None => registry.to_string(),
    };

    let stream = host
        .connect_tcp(&dial_host, port, timeout)
        .map_err(|error| HandshakeError::Connect {
            target: target.clone(),
            message: error.kind.to_string(),
        })?;
    let connected_to = stream.peer_addr().map_or_else(
        |_| format!("{dial_host}:{port}"),
        |address| address.to_string(),
    );

    let recorder = Arc::new(ChainRecorder::new());
    let config = client_config(Arc::clone(&recorder)).map_err(|message| HandshakeError::Tls {
        target: target.clone(),
        message,
    })?;
    let server_name =
        ServerName::try_from(registry.host.clone()).map_err(|error| HandshakeError::Tls {
            target: target.clone(),
            message: format!("{:?} is not a valid server name: {error}", registry.host),
        })?;
    let mut connection = ClientConnection::new(Arc::new(config), server_name).map_err(|error| {
        HandshakeError::Tls {
            target: target.clone(),
            message: error.to_string(),
        }
    })?;

    let outcome = drive(&mut connection, stream, deadline, timeout, &target);
    let recorded = recorder.take();
    match (outcome, recorded) {
        (Ok(()), Some(certificates)) => Ok(ServedChain {
            certificates,
            connected_to,
            later_error: None,
        }),
        (Err(error), Some(certificates)) => {
            tracing::debug!(%error, "handshake failed after the server sent its certificates");
            Ok(ServedChain {
                certificates,
                connected_to,
                later_error: Some(error.to_string()),
            })
        }
        (Err(error), None) => Err(error),
        (Ok(()), None) => Err(HandshakeError::Tls {
            target,
            message: "the server sent no certificate".to_string(),
        }),
    }
}

fn client_config(recorder: Arc<ChainRecorder>) -> Result<ClientConfig, String> {
    let provider = Arc::clone(&recorder.provider);
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder)
        .with_no_client_auth();
    Ok(config)
}

/// Moves handshake bytes until the handshake ends, setting each socket read and write to time
/// out at the deadline.
fn drive(
    connection: &mut ClientConnection,
    mut stream: TcpStream,
    deadline: Instant,
    timeout: Duration,
    target: &str,
) -> Result<(), HandshakeError> {
    let timed_out = |stage| HandshakeError::TimedOut {
        target: target.to_string(),
        seconds: timeout.as_secs_f64(),
        stage,
    };
    let tls_error = |message: String| HandshakeError::Tls {
        target: target.to_string(),
        message,
    };

    while connection.is_handshaking() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out("the server did not finish the handshake"));
        }
        let _ = stream.set_read_timeout(Some(remaining));
        let _ = stream.set_write_timeout(Some(remaining));

        if connection.wants_write() {
            let mut writer = TimedStream(&mut stream);
            connection
                .write_tls(&mut writer)
                .map_err(|error| match error.kind() {
                    ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                        timed_out("sending to the server")
                    }
                    _ => tls_error(error.to_string()),
                })?;
            continue;
        }
        if connection.wants_read() {
            let read = connection
                .read_tls(&mut TimedStream(&mut stream))
                .map_err(|error| match error.kind() {
                    ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                        timed_out("the server sent no TLS answer")
                    }
                    _ => tls_error(error.to_string()),
                })?;
            if read == 0 {
                return Err(tls_error(
                    "the server closed the connection during the handshake".to_string(),
                ));
            }
            connection
                .process_new_packets()
                .map_err(|error| tls_error(error.to_string()))?;
        }
    }
    Ok(())
}

/// A TCP stream viewed through `Read` and `Write`, so rustls can use it by reference.
struct TimedStream<'a>(&'a mut TcpStream);

impl Read for TimedStream<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buffer)
    }
}

impl Write for TimedStream<'_> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0.write(buffer)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A certificate verifier that keeps the server's chain and accepts it, leaving the judgement
/// to the caller.
#[derive(Debug)]
struct ChainRecorder {
    provider: Arc<CryptoProvider>,
    chain: Mutex<Option<Vec<Vec<u8>>>>,
}

impl ChainRecorder {
    // rustls 0.23.48 deprecates the ring provider because it lacks post-quantum key exchange.
    // A probe that only records the chain does not need that, and ring keeps aws-lc-rs out of
    // the build.
    #[allow(deprecated)]
    fn new() -> ChainRecorder {
        ChainRecorder {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            chain: Mutex::new(None),
        }
    }

    fn take(&self) -> Option<Vec<Vec<u8>>> {
        self.chain.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl ServerCertVerifier for ChainRecorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.as_ref().to_vec()];
        chain.extend(intermediates.iter().map(|c| c.as_ref().to_vec()));
        *self.chain.lock().unwrap_or_else(|e| e.into_inner()) = Some(chain);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
