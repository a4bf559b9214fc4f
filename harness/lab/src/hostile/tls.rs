//! TLS servers that lie: each reads the client's ClientHello (bounded) and answers with
//! something no honest server sends.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::stream::hold;

/// Largest ClientHello record read (the TLS record limit plus expansion).
const MAX_RECORD: usize = 16 * 1024 + 2048;
/// How long a liar waits for a ClientHello.
const HELLO_WAIT: Duration = Duration::from_secs(10);
/// Length of the certificate message of the huge-certificate liars: just under 16 MB, the
/// most a 24-bit handshake length can announce.
const HUGE_CERTIFICATE: usize = 0xff_fff0;
/// Bytes of one record of a streamed handshake message.
const FRAGMENT: usize = 16 * 1024;
/// Pause between records of the slow huge-certificate liar.
const SLOW_RECORD_GAP: Duration = Duration::from_millis(250);
/// ClientHellos a HelloRetryRequest liar answers before it stops.
const MAX_RETRIES: usize = 64;
/// `random` of a HelloRetryRequest (RFC 8446 section 4.1.3): SHA-256 of "HelloRetryRequest".
const RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];
/// Key-share groups a HelloRetryRequest liar asks for in turn.
const RETRY_GROUPS: [u16; 4] = [0x0017, 0x0018, 0x0019, 0x001d];

/// One kind of TLS lie.
#[derive(Debug, Clone, Copy)]
pub(super) enum Lie {
    /// A handshake record of random bytes after the ClientHello.
    Garbage,
    /// A record header announcing 65535 bytes (beyond the TLS limit), then bytes without end.
    AbsurdRecord,
    /// A handshake message announcing 16 MB inside ordinary records that never end.
    AbsurdHandshake,
    /// A ServerHello and a 16 MB certificate message, streamed as fast as the client reads.
    HugeCertificateFast,
    /// A ServerHello and a 16 MB certificate message, one record every 250 ms.
    HugeCertificateSlow,
    /// A HelloRetryRequest for every ClientHello (for the first TLS 1.3 suite offered), each
    /// asking for another key-share group; no handshake ever completes.
    RetryLoop,
    /// Accepts whatever version and first cipher suite the client offers.
    AnySuite,
}

impl Lie {
    /// Every port of the TLS-liar persona.
    pub(super) const ALL: [Lie; 7] = [
        Lie::Garbage,
        Lie::AbsurdRecord,
        Lie::AbsurdHandshake,
        Lie::HugeCertificateFast,
        Lie::HugeCertificateSlow,
        Lie::RetryLoop,
        Lie::AnySuite,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            Lie::Garbage => "tls-garbage",
            Lie::AbsurdRecord => "tls-absurd-record-length",
            Lie::AbsurdHandshake => "tls-absurd-handshake-length",
            Lie::HugeCertificateFast => "tls-16mb-certificate-fast",
            Lie::HugeCertificateSlow => "tls-16mb-certificate-slow",
            Lie::RetryLoop => "tls-hello-retry-loop",
            Lie::AnySuite => "tls-any-suite",
        }
    }

    pub(super) async fn serve(self, mut stream: TcpStream) {
        let Some(hello) = read_hello(&mut stream).await else {
            return;
        };
        let _ = match self {
            Lie::Garbage => garbage(&mut stream).await,
            Lie::AbsurdRecord => absurd_record(&mut stream).await,
            Lie::AbsurdHandshake => absurd_handshake(&mut stream).await,
            Lie::HugeCertificateFast => huge_certificate(&mut stream, &hello, None).await,
            Lie::HugeCertificateSlow => {
                huge_certificate(&mut stream, &hello, Some(SLOW_RECORD_GAP)).await
            }
            Lie::RetryLoop => retry_loop(&mut stream, hello).await,
            Lie::AnySuite => any_suite(&mut stream, &hello).await,
        };
        hold(stream).await;
    }
}

/// What the liars use of a ClientHello.
struct Hello {
    version: u16,
    session_id: Vec<u8>,
    suites: Vec<u16>,
}

/// Reads one record and parses the ClientHello in it; `None` on silence, a close or anything
/// else.
async fn read_hello(stream: &mut TcpStream) -> Option<Hello> {
    let mut record = vec![0u8; 5];
    tokio::time::timeout(HELLO_WAIT, stream.read_exact(&mut record))
        .await
        .ok()?
        .ok()?;
    let length = usize::from(u16::from_be_bytes([record[3], record[4]]));
    if record[0] != 22 || length > MAX_RECORD {
        return None;
    }
    record.resize(5 + length, 0);
    tokio::time::timeout(HELLO_WAIT, stream.read_exact(&mut record[5..]))
        .await
        .ok()?
        .ok()?;
    let (_, plain) = tls_parser::parse_tls_plaintext(&record).ok()?;
    plain.msg.into_iter().find_map(|m| match m {
        tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) => {
            Some(Hello {
                version: ch.version.0,
                session_id: ch.session_id.unwrap_or_default().to_vec(),
                suites: ch.ciphers.iter().map(|c| c.0).collect(),
            })
        }
        _ => None,
    })
}

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn handshake_header(kind: u8, length: usize) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
    out
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = handshake_header(kind, body.len());
    out.extend_from_slice(body);
    out
}

/// Deterministic noise (a linear congruential generator: nothing here needs real randomness).
fn noise(length: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    (0..length)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as u8
        })
        .collect()
}

/// A ServerHello body: `version`, `random`, the client's session id, `suite`, no compression,
/// then `extensions` (with their length) when there are any.
fn server_hello(
    version: u16,
    random: &[u8; 32],
    hello: &Hello,
    suite: u16,
    extensions: &[u8],
) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(random);
    let session = &hello.session_id[..hello.session_id.len().min(32)];
    body.push(session.len() as u8);
    body.extend_from_slice(session);
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0);
    if !extensions.is_empty() {
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
    }
    body
}

async fn garbage(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.write_all(&record(22, &noise(64, 7))).await?;
    stream.write_all(&noise(4096, 11)).await
}

async fn absurd_record(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.write_all(&[22, 3, 3, 0xff, 0xff]).await?;
    let junk = noise(FRAGMENT, 13);
    loop {
        stream.write_all(&junk).await?;
    }
}

async fn absurd_handshake(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut first = handshake_header(2, 0xff_ffff);
    first.extend(noise(FRAGMENT - first.len(), 17));
    stream.write_all(&record(22, &first)).await?;
    let more = record(22, &noise(FRAGMENT, 19));
    loop {
        stream.write_all(&more).await?;
    }
}

/// A TLS 1.2 ServerHello for the first suite offered, then a certificate message of
/// [`HUGE_CERTIFICATE`] bytes in records of [`FRAGMENT`] bytes, `gap` apart, then
/// ServerHelloDone.
async fn huge_certificate(
    stream: &mut TcpStream,
    hello: &Hello,
    gap: Option<Duration>,
) -> std::io::Result<()> {
    let suite = hello.suites.first().copied().unwrap_or(0xc02f);
    let hello_body = server_hello(0x0303, &[0x5a; 32], hello, suite, &[]);
    stream
        .write_all(&record(22, &handshake(2, &hello_body)))
        .await?;
    // Certificate: the list's length, one certificate's length, then its (junk) bytes.
    let mut message = handshake_header(11, HUGE_CERTIFICATE);
    message.extend_from_slice(&((HUGE_CERTIFICATE - 3) as u32).to_be_bytes()[1..]);
    message.extend_from_slice(&((HUGE_CERTIFICATE - 6) as u32).to_be_bytes()[1..]);
    message.extend_from_slice(&[0x30, 0x83]);
    message.extend_from_slice(&((HUGE_CERTIFICATE - 11) as u32).to_be_bytes()[1..]);
    let junk = noise(FRAGMENT, 23);
    let total = 4 + HUGE_CERTIFICATE;
    let mut sent = 0;
    while sent < total {
        let take = FRAGMENT.min(total - sent);
        let fragment = if sent < message.len() {
            let mut f = message[sent..].to_vec();
            f.extend_from_slice(&junk[..take - f.len()]);
            f
        } else {
            junk[..take].to_vec()
        };
        stream.write_all(&record(22, &fragment)).await?;
        sent += take;
        if let Some(gap) = gap {
            tokio::time::sleep(gap).await;
        }
    }
    stream.write_all(&record(22, &handshake(14, &[]))).await
}

/// A HelloRetryRequest for this ClientHello and every one after it, up to [`MAX_RETRIES`].
async fn retry_loop(stream: &mut TcpStream, first: Hello) -> std::io::Result<()> {
    let mut hello = first;
    for round in 0..MAX_RETRIES {
        let group = RETRY_GROUPS[round % RETRY_GROUPS.len()];
        let mut extensions = vec![0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02];
        extensions.extend_from_slice(&group.to_be_bytes());
        // The first TLS 1.3 suite offered, as an honest server would pick.
        let suite = hello
            .suites
            .iter()
            .copied()
            .find(|s| (0x1301..=0x1305).contains(s))
            .unwrap_or(0x1301);
        let body = server_hello(0x0303, &RETRY_RANDOM, &hello, suite, &extensions);
        stream.write_all(&record(22, &handshake(2, &body))).await?;
        match read_hello(stream).await {
            Some(next) => hello = next,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// A ServerHello at the client's own version for the first suite it offers (whatever it is:
/// a signalling value, an export suite), an empty certificate list and ServerHelloDone.
async fn any_suite(stream: &mut TcpStream, hello: &Hello) -> std::io::Result<()> {
    let Some(&suite) = hello.suites.first() else {
        return Ok(());
    };
    let body = server_hello(hello.version, &[0x3c; 32], hello, suite, &[]);
    let mut flight = handshake(2, &body);
    flight.extend(handshake(11, &[0, 0, 0]));
    flight.extend(handshake(14, &[]));
    stream.write_all(&record(22, &flight)).await
}
