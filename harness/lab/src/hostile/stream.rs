//! Hostile byte streams on plain TCP: a tarpit, byte drips and firehoses.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes one firehose write carries.
const FLOOD_CHUNK: usize = 16 * 1024;

/// Holds the connection without sending anything until the client leaves (or the
/// connection's lifetime ends); what the client sends is read and dropped.
pub(super) async fn hold(mut stream: TcpStream) {
    let mut sink = [0u8; 1024];
    while let Ok(n) = stream.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// A port that sends the few bytes naming its protocol at once, then one byte per second.
#[derive(Debug, Clone, Copy)]
pub(super) enum Drip {
    /// An HTTP status line, then a header that never ends.
    Http,
    /// `SSH-2.0-`, then the rest of the identification line.
    Ssh,
    /// `220-`, then a multi-line FTP greeting.
    Ftp,
    /// A telnet `WILL ECHO`, then a login prompt.
    Telnet,
    /// A TLS handshake record header, then its body.
    Tls,
    /// An MQTT CONNACK, then a PUBLISH packet.
    Mqtt,
    /// Text from the first byte on.
    Raw,
}

impl Drip {
    /// Every drip port of the byte-drip persona.
    pub(super) const ALL: [Drip; 7] = [
        Drip::Http,
        Drip::Ssh,
        Drip::Ftp,
        Drip::Telnet,
        Drip::Tls,
        Drip::Mqtt,
        Drip::Raw,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            Drip::Http => "drip-http",
            Drip::Ssh => "drip-ssh",
            Drip::Ftp => "drip-ftp",
            Drip::Telnet => "drip-telnet",
            Drip::Tls => "drip-tls",
            Drip::Mqtt => "drip-mqtt",
            Drip::Raw => "drip-raw",
        }
    }

    /// The bytes sent at once and the bytes dripped after them, over and over.
    fn script(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Drip::Http => (b"HTTP/1.1 200 OK\r\n", b"X-Drip: aaaaaaaa"),
            Drip::Ssh => (b"SSH-2.0-", b"drip"),
            Drip::Ftp => (b"220-", b"drip\r\n220-"),
            Drip::Telnet => (b"\xff\xfb\x01", b"login: "),
            Drip::Tls => (b"\x16\x03\x03\x40\x00\x02\x00\x3f\xfc", b"\x03\x03\x00"),
            Drip::Mqtt => (b"\x20\x02\x00\x00\x30\xff\xff\x7f", b"\x00"),
            Drip::Raw => (b"", b"drip "),
        }
    }

    pub(super) async fn serve(self, mut stream: TcpStream) {
        let (lead, tail) = self.script();
        if stream.write_all(lead).await.is_err() {
            return;
        }
        for &byte in tail.iter().cycle() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if stream.write_all(&[byte]).await.is_err() {
                return;
            }
        }
    }
}

/// A port that streams without end, as fast as the client reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Flood {
    /// `SSH-2.0-` and an identification line that never ends.
    Banner,
    /// Text without a line break, from the first byte on.
    Noise,
    /// An HTTP status line and header lines without end.
    Headers,
    /// A complete HTTP head and a chunked body without a last chunk.
    Chunked,
    /// An MQTT CONNACK and PUBLISH packets without end.
    Mqtt,
    /// An FTP multi-line greeting whose last line never comes.
    Ftp,
    /// Telnet option negotiation without end.
    TelnetOptions,
    /// A telnet subnegotiation that never ends, with a login prompt inside it.
    TelnetSubnegotiation,
}

impl Flood {
    /// Every firehose port of the firehose persona.
    pub(super) const ALL: [Flood; 8] = [
        Flood::Banner,
        Flood::Noise,
        Flood::Headers,
        Flood::Chunked,
        Flood::Mqtt,
        Flood::Ftp,
        Flood::TelnetOptions,
        Flood::TelnetSubnegotiation,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            Flood::Banner => "firehose-banner",
            Flood::Noise => "firehose-noise",
            Flood::Headers => "firehose-http-headers",
            Flood::Chunked => "firehose-http-chunked",
            Flood::Mqtt => "firehose-mqtt",
            Flood::Ftp => "firehose-ftp",
            Flood::TelnetOptions => "firehose-telnet-options",
            Flood::TelnetSubnegotiation => "firehose-telnet-subnegotiation",
        }
    }

    /// The bytes sent once, and the unit repeated after them.
    fn script(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Flood::Banner => (b"SSH-2.0-", b"firehose"),
            Flood::Noise => (b"", b"Welcome to the firehose! "),
            Flood::Headers => (b"HTTP/1.1 200 OK\r\n", b"X-Firehose: more\r\n"),
            Flood::Chunked => (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"10\r\n<b>firehose</b>!\r\n",
            ),
            Flood::Mqtt => (b"\x20\x02\x00\x00", b"\x30\x0f\x00\x05t/zoofirehose"),
            Flood::Ftp => (b"220-firehose FTP\r\n", b" still greeting\r\n"),
            Flood::TelnetOptions => (b"", b"\xff\xfb\x01\xff\xfd\x18\xff\xfb\x03\xff\xfd\x1f"),
            Flood::TelnetSubnegotiation => (b"\xff\xfa\x18\x01", b"login: password: "),
        }
    }

    pub(super) async fn serve(self, mut stream: TcpStream) {
        let (lead, unit) = self.script();
        let mut chunk = Vec::with_capacity(FLOOD_CHUNK + unit.len());
        while chunk.len() < FLOOD_CHUNK {
            chunk.extend_from_slice(unit);
        }
        if stream.write_all(lead).await.is_err() {
            return;
        }
        while stream.write_all(&chunk).await.is_ok() {}
    }
}
