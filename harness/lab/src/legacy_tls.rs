//! A legacy TLS device, hand-crafted: TLS 1.0/1.1 only, 3DES and AES-CBC with static RSA key
//! transport, an RSA-1024 SHA-1 self-signed expired certificate. It answers the ClientHello with
//! ServerHello, Certificate and ServerHelloDone, and never completes a handshake.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::limits::Limits;

/// The device's certificate (see `fixtures/README.md`).
pub(crate) const CERTIFICATE: &[u8] = include_bytes!("fixtures/legacy-rsa1024-sha1-expired.der");

/// Suites in the server's preference order.
const SUITES: [u16; 3] = [0x000a, 0x002f, 0x0035];
/// Highest version spoken: TLS 1.1.
const MAX_VERSION: u16 = 0x0302;
/// Lowest version spoken: TLS 1.0.
const MIN_VERSION: u16 = 0x0301;

fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// The server's answer to a ClientHello record: its first flight, or an alert.
pub(crate) fn answer(client_hello: &[u8]) -> Vec<u8> {
    let alert = |description: u8| record(21, MIN_VERSION, &[2, description]);
    let hello = match tls_parser::parse_tls_plaintext(client_hello) {
        Ok((_, plain)) => plain.msg.into_iter().find_map(|m| match m {
            tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) => {
                Some((
                    ch.version.0,
                    ch.ciphers.iter().map(|c| c.0).collect::<Vec<u16>>(),
                ))
            }
            _ => None,
        }),
        Err(_) => None,
    };
    let Some((offered_version, offered_suites)) = hello else {
        return alert(10);
    };
    if offered_version < MIN_VERSION {
        return alert(70);
    }
    let version = offered_version.min(MAX_VERSION);
    let Some(suite) = SUITES.into_iter().find(|s| offered_suites.contains(s)) else {
        return alert(40);
    };
    let mut server_hello = version.to_be_bytes().to_vec();
    server_hello.extend_from_slice(&[0x4a; 32]);
    server_hello.push(0);
    server_hello.extend_from_slice(&suite.to_be_bytes());
    server_hello.push(0);
    let mut certificate = Vec::with_capacity(CERTIFICATE.len() + 6);
    certificate.extend_from_slice(&((CERTIFICATE.len() + 3) as u32).to_be_bytes()[1..]);
    certificate.extend_from_slice(&(CERTIFICATE.len() as u32).to_be_bytes()[1..]);
    certificate.extend_from_slice(CERTIFICATE);
    let mut flight = handshake(2, &server_hello);
    flight.extend(handshake(11, &certificate));
    flight.extend(handshake(14, &[]));
    record(22, version, &flight)
}

/// Reads one ClientHello record (bounded), answers it, then waits for the client to leave.
pub(crate) async fn serve(mut stream: TcpStream, limits: &Limits) {
    let mut header = [0u8; 5];
    let read = tokio::time::timeout(limits.idle_timeout, stream.read_exact(&mut header)).await;
    if !matches!(read, Ok(Ok(_))) {
        return;
    }
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if header[0] != 22 || length > 16 * 1024 {
        let _ = stream.write_all(&record(21, MIN_VERSION, &[2, 10])).await;
        return;
    }
    let mut hello = header.to_vec();
    hello.resize(5 + length, 0);
    let body = tokio::time::timeout(limits.idle_timeout, stream.read_exact(&mut hello[5..])).await;
    if !matches!(body, Ok(Ok(_))) {
        return;
    }
    if stream.write_all(&answer(&hello)).await.is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    while let Ok(Ok(n)) = tokio::time::timeout(limits.idle_timeout, stream.read(&mut sink)).await {
        if n == 0 {
            break;
        }
    }
}
