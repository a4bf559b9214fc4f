//! The server's first flight (ServerHello … ServerHelloDone), parsed incrementally within a
//! byte cap. Nothing the server sends can make it panic or grow without bound.

use std::fmt;

use tls_parser::TlsMessageHandshake;

/// Most bytes read from one server flight.
pub const FLIGHT_MAX_BYTES: usize = 96 * 1024;

/// The random of a TLS 1.3 HelloRetryRequest (RFC 8446, 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What the server chose, and what it sent in the clear after that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFlight {
    /// ServerHello `version` field.
    pub legacy_version: u16,
    /// `supported_versions` extension value, when present (TLS 1.3).
    pub selected_version: Option<u16>,
    /// The chosen cipher suite.
    pub suite: u16,
    /// Whether the ServerHello is a TLS 1.3 HelloRetryRequest.
    pub retry_request: bool,
    /// The group named by a HelloRetryRequest or ServerHello `key_share`.
    pub key_share_group: Option<u16>,
    /// The certificate chain (DER, leaf first), TLS ≤ 1.2.
    pub certificates: Vec<Vec<u8>>,
    /// Raw ServerKeyExchange parameters, TLS ≤ 1.2.
    pub server_key_exchange: Option<Vec<u8>>,
}

/// How one handshake attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with a ServerHello.
    Hello(ServerFlight),
    /// The server said no: an alert, or a close or reset before any byte.
    Refused(Refusal),
    /// No decision: garbage, truncation, or the exchange around the parser failed.
    Failed(Failure),
}

/// How a server refused a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A TLS alert record.
    Alert {
        /// Alert level (1 warning, 2 fatal).
        level: u8,
        /// Alert description (RFC 8446, 6).
        description: u8,
    },
    /// An alert record too short to read.
    ShortAlert,
    /// The connection closed before any byte came back.
    ClosedSilently,
    /// The connection was reset before any byte came back.
    ResetSilently,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Alert { level, description } => {
                write!(f, "alert {} (level {level})", alert_name(*description))
            }
            Refusal::ShortAlert => f.write_str("short alert"),
            Refusal::ClosedSilently => f.write_str("closed without an answer"),
            Refusal::ResetSilently => f.write_str("connection reset without an answer"),
        }
    }
}

/// Why a flight decided nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// More than [`FLIGHT_MAX_BYTES`] before a ServerHello.
    TooLarge,
    /// Bytes that are not a TLS record; the first of them, escaped.
    NotTls(String),
    /// Application data or ChangeCipherSpec before the ServerHello.
    DataBeforeHello,
    /// A handshake message other than ServerHello came first.
    MessageBeforeHello,
    /// A handshake message tls-parser cannot read, by its type byte.
    UnparsableHandshake(u8),
    /// The server closed in the middle of a record.
    ClosedMidRecord,
    /// The exchange around the parser failed (connect, send, read, deadline or budget), as
    /// the caller words it.
    Exchange(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::TooLarge => write!(f, "more than {FLIGHT_MAX_BYTES} bytes"),
            Failure::NotTls(head) => write!(f, "not a TLS record: {head}"),
            Failure::DataBeforeHello => f.write_str("data before the ServerHello"),
            Failure::MessageBeforeHello => f.write_str("handshake message before the ServerHello"),
            Failure::UnparsableHandshake(kind) => {
                write!(f, "unparsable handshake message type {kind}")
            }
            Failure::ClosedMidRecord => f.write_str("closed in the middle of a record"),
            Failure::Exchange(why) => f.write_str(why),
        }
    }
}

/// Incremental parser of the server's records; `feed` returns once the answer is decided.
#[derive(Debug, Default)]
pub struct FlightParser {
    records: Vec<u8>,
    handshake: Vec<u8>,
    total: usize,
    hello: Option<ServerFlight>,
}

impl FlightParser {
    /// Whether a ServerHello has been read (the answer is then decided whatever follows).
    pub fn has_hello(&self) -> bool {
        self.hello.is_some()
    }

    /// Bytes fed so far.
    pub fn bytes_seen(&self) -> usize {
        self.total
    }
}

impl FlightParser {
    /// Feeds bytes; `Some` once the flight is complete or the answer is decided.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<Outcome> {
        self.total += bytes.len();
        if self.total > FLIGHT_MAX_BYTES {
            return Some(match self.hello.take() {
                Some(flight) => Outcome::Hello(flight),
                None => Outcome::Failed(Failure::TooLarge),
            });
        }
        self.records.extend_from_slice(bytes);
        loop {
            if self.records.len() < 5 {
                return None;
            }
            let content_type = self.records[0];
            let major = self.records[1];
            let length = usize::from(u16::from_be_bytes([self.records[3], self.records[4]]));
            if !(20..=24).contains(&content_type) || major != 3 || length > (1 << 14) + 2048 {
                return Some(self.garbage());
            }
            if self.records.len() < 5 + length {
                return None;
            }
            let fragment: Vec<u8> = self.records[5..5 + length].to_vec();
            self.records.drain(..5 + length);
            match content_type {
                21 => return Some(self.alert(&fragment)),
                22 => {
                    self.handshake.extend_from_slice(&fragment);
                    if let Some(outcome) = self.handshake_messages() {
                        return Some(outcome);
                    }
                }
                // ChangeCipherSpec or encrypted data: nothing more in the clear.
                _ if self.hello.is_some() => return self.hello.take().map(Outcome::Hello),
                _ => return Some(Outcome::Failed(Failure::DataBeforeHello)),
            }
        }
    }

    /// The outcome when the server closes the connection.
    pub fn finish_on_close(&mut self) -> Outcome {
        match self.hello.take() {
            Some(flight) => Outcome::Hello(flight),
            None if self.total == 0 => Outcome::Refused(Refusal::ClosedSilently),
            None => Outcome::Failed(Failure::ClosedMidRecord),
        }
    }

    fn garbage(&mut self) -> Outcome {
        if let Some(flight) = self.hello.take() {
            return Outcome::Hello(flight);
        }
        let head: Vec<u8> = self.records.iter().copied().take(16).collect();
        Outcome::Failed(Failure::NotTls(jcstar_model::escape_bytes(&head)))
    }

    fn alert(&mut self, fragment: &[u8]) -> Outcome {
        if let Some(flight) = self.hello.take() {
            return Outcome::Hello(flight);
        }
        match fragment {
            [level, description, ..] => Outcome::Refused(Refusal::Alert {
                level: *level,
                description: *description,
            }),
            _ => Outcome::Refused(Refusal::ShortAlert),
        }
    }

    /// Parses every complete handshake message buffered so far.
    fn handshake_messages(&mut self) -> Option<Outcome> {
        loop {
            if self.handshake.len() < 4 {
                return None;
            }
            let length = (usize::from(self.handshake[1]) << 16)
                | (usize::from(self.handshake[2]) << 8)
                | usize::from(self.handshake[3]);
            if length > FLIGHT_MAX_BYTES {
                return Some(self.garbage());
            }
            if self.handshake.len() < 4 + length {
                return None;
            }
            let message: Vec<u8> = self.handshake.drain(..4 + length).collect();
            if let Some(outcome) = self.message(&message) {
                return Some(outcome);
            }
        }
    }

    fn message(&mut self, message: &[u8]) -> Option<Outcome> {
        let parsed = match tls_parser::parse_tls_message_handshake(message) {
            Ok((_, tls_parser::TlsMessage::Handshake(m))) => m,
            _ => {
                return Some(match self.hello.take() {
                    Some(flight) => Outcome::Hello(flight),
                    None => Outcome::Failed(Failure::UnparsableHandshake(
                        message.first().copied().unwrap_or(0),
                    )),
                })
            }
        };
        match (parsed, self.hello.as_mut()) {
            (TlsMessageHandshake::ServerHello(sh), None) => {
                let mut flight = ServerFlight {
                    legacy_version: sh.version.0,
                    suite: sh.cipher.0,
                    retry_request: sh.random == HRR_RANDOM,
                    ..ServerFlight::default()
                };
                for (kind, data) in extensions(sh.ext.unwrap_or(&[])) {
                    match (kind, data) {
                        (0x002b, [a, b]) => {
                            flight.selected_version = Some(u16::from_be_bytes([*a, *b]))
                        }
                        (0x0033, [a, b, ..]) => {
                            flight.key_share_group = Some(u16::from_be_bytes([*a, *b]))
                        }
                        _ => {}
                    }
                }
                let tls13 = flight.selected_version.is_some();
                self.hello = Some(flight);
                if tls13 {
                    return self.hello.take().map(Outcome::Hello);
                }
                None
            }
            (TlsMessageHandshake::Certificate(c), Some(flight)) => {
                flight.certificates = c.cert_chain.iter().map(|c| c.data.to_vec()).collect();
                None
            }
            (TlsMessageHandshake::ServerKeyExchange(ske), Some(flight)) => {
                flight.server_key_exchange = Some(ske.parameters.to_vec());
                None
            }
            (TlsMessageHandshake::ServerDone(_), Some(_)) => self.hello.take().map(Outcome::Hello),
            (_, Some(_)) => None,
            (_, None) => Some(Outcome::Failed(Failure::MessageBeforeHello)),
        }
    }
}

/// Splits an extensions block into (type, data) pairs, stopping at the first malformed one.
pub fn extensions(mut block: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while block.len() >= 4 {
        let kind = u16::from_be_bytes([block[0], block[1]]);
        let length = usize::from(u16::from_be_bytes([block[2], block[3]]));
        let Some(data) = block.get(4..4 + length) else {
            break;
        };
        out.push((kind, data));
        block = &block[4 + length..];
    }
    out
}

fn alert_name(description: u8) -> String {
    match description {
        0 => "close_notify".into(),
        10 => "unexpected_message".into(),
        40 => "handshake_failure".into(),
        47 => "illegal_parameter".into(),
        50 => "decode_error".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        86 => "inappropriate_fallback".into(),
        109 => "missing_extension".into(),
        112 => "unrecognized_name".into(),
        other => format!("#{other}"),
    }
}

/// Key exchange facts from a ServerKeyExchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchange {
    /// ECDHE over a named group.
    NamedGroup(u16),
    /// Finite-field DHE with a prime of this many bits.
    DhPrimeBits(u32),
}

/// Reads the group or DH prime size from ServerKeyExchange parameters; `dhe` tells which
/// layout the chosen suite implies.
pub fn key_exchange(parameters: &[u8], dhe: bool) -> Option<KeyExchange> {
    if dhe {
        let (_, params) = tls_parser::parse_dh_params(parameters).ok()?;
        let p = params.dh_p;
        let leading = p.iter().position(|&b| b != 0)?;
        let bits = (p.len() - leading) as u32 * 8 - p[leading].leading_zeros();
        Some(KeyExchange::DhPrimeBits(bits))
    } else {
        match parameters {
            [3, a, b, ..] => Some(KeyExchange::NamedGroup(u16::from_be_bytes([*a, *b]))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn server_hello(version: u16, suite: u16, ext: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[7u8; 32]);
        body.push(0);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        if !ext.is_empty() {
            body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
            body.extend_from_slice(ext);
        }
        let mut msg = vec![2, 0, (body.len() >> 8) as u8, body.len() as u8];
        msg.extend_from_slice(&body);
        msg
    }

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 1, (payload.len() >> 8) as u8, payload.len() as u8];
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn server_hello_split_across_records_then_done() {
        let mut flight = server_hello(0x0301, 0x000a, &[]);
        flight.extend_from_slice(&[0x0e, 0, 0, 0]);
        let (a, b) = flight.split_at(10);
        let mut bytes = record(22, a);
        bytes.extend(record(22, b));
        let mut parser = FlightParser::default();
        let mut outcome = None;
        for chunk in bytes.chunks(3) {
            outcome = parser.feed(chunk);
            if outcome.is_some() {
                break;
            }
        }
        let Some(Outcome::Hello(f)) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!((f.legacy_version, f.suite), (0x0301, 0x000a));
    }

    #[test]
    fn tls13_hello_retry_request_names_the_group() {
        let ext = [0x00, 0x2b, 0, 2, 3, 4, 0x00, 0x33, 0, 2, 0x00, 0x17];
        let mut msg = server_hello(0x0303, 0x1301, &ext);
        msg[6..38].copy_from_slice(&HRR_RANDOM);
        let mut parser = FlightParser::default();
        let Some(Outcome::Hello(f)) = parser.feed(&record(22, &msg)) else {
            panic!()
        };
        assert!(f.retry_request);
        assert_eq!(f.selected_version, Some(0x0304));
        assert_eq!(f.key_share_group, Some(0x0017));
    }

    #[test]
    fn alert_is_a_refusal() {
        let mut parser = FlightParser::default();
        let outcome = parser.feed(&record(21, &[2, 70]));
        assert_eq!(
            outcome,
            Some(Outcome::Refused(Refusal::Alert {
                level: 2,
                description: 70
            }))
        );
    }

    #[test]
    fn garbage_and_truncation_never_panic() {
        let mut seed = 0x1234_5678u32;
        for round in 0..2000 {
            let len = (round % 97) + 1;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect();
            let mut parser = FlightParser::default();
            let _ = parser.feed(&bytes);
            let _ = parser.finish_on_close();
            let mut framed = FlightParser::default();
            let _ = framed.feed(&record(22, &bytes));
            let _ = framed.finish_on_close();
            let _ = key_exchange(&bytes, true);
            let _ = key_exchange(&bytes, false);
            let _ = extensions(&bytes);
        }
        let valid = record(22, &server_hello(0x0303, 0xc02f, &[]));
        for cut in 0..valid.len() {
            let mut parser = FlightParser::default();
            assert!(parser.feed(&valid[..cut]).is_none());
        }
        let mut parser = FlightParser::default();
        assert!(matches!(
            parser.feed(b"HTTP/1.1 400 Bad Request\r\n"),
            Some(Outcome::Failed(_))
        ));
    }

    #[test]
    fn dh_prime_bits_are_counted() {
        let mut params = vec![0x01, 0x01, 0x00];
        params.extend(vec![0xffu8; 256]);
        params.extend([0, 1, 2, 0, 1, 5]);
        let params = &params[1..];
        assert_eq!(
            key_exchange(params, true),
            Some(KeyExchange::DhPrimeBits(2048))
        );
        assert_eq!(
            key_exchange(&[3, 0, 0x1d, 32], false),
            Some(KeyExchange::NamedGroup(0x1d))
        );
    }

    /// A ServerHello, Certificate and ServerHelloDone flight in one handshake record.
    fn tls12_flight() -> Vec<u8> {
        let mut msgs = server_hello(0x0303, 0xc02f, &[0xff, 0x01, 0, 1, 0]);
        let cert = [0x30u8, 0x03, 0x02, 0x01, 0x05];
        let chain_len = cert.len() + 3;
        let body_len = chain_len + 3;
        msgs.extend_from_slice(&[11, 0, 0, body_len as u8, 0, 0, chain_len as u8]);
        msgs.extend_from_slice(&[0, 0, cert.len() as u8]);
        msgs.extend_from_slice(&cert);
        msgs.extend_from_slice(&[0x0e, 0, 0, 0]);
        record(22, &msgs)
    }

    fn feed_in_chunks(bytes: &[u8], cuts: &[usize]) -> Outcome {
        let mut parser = FlightParser::default();
        let mut at = 0;
        for &cut in cuts {
            let end = (at + cut).min(bytes.len());
            if let Some(outcome) = parser.feed(&bytes[at..end]) {
                return outcome;
            }
            at = end;
        }
        parser
            .feed(&bytes[at..])
            .unwrap_or_else(|| parser.finish_on_close())
    }

    proptest! {
        /// Any bytes, fed whole or in pieces, end in some outcome without panicking.
        #[test]
        fn arbitrary_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..2048),
            cuts in proptest::collection::vec(1usize..64, 0..16),
        ) {
            let _ = feed_in_chunks(&data, &cuts);
            let mut framed = data.clone();
            framed.splice(0..0, [22, 3, 3, (data.len() >> 8) as u8, data.len() as u8]);
            let _ = feed_in_chunks(&framed, &cuts);
            let _ = key_exchange(&data, true);
            let _ = key_exchange(&data, false);
            let _ = extensions(&data);
        }

        /// A valid flight decides the same way however the network splits it.
        #[test]
        fn split_reads_decide_like_one(cuts in proptest::collection::vec(1usize..40, 0..20)) {
            let whole = feed_in_chunks(&tls12_flight(), &[]);
            let Outcome::Hello(flight) = &whole else {
                panic!("{whole:?}");
            };
            prop_assert_eq!(flight.suite, 0xc02f);
            prop_assert_eq!(flight.certificates.len(), 1);
            prop_assert_eq!(feed_in_chunks(&tls12_flight(), &cuts), whole);
        }
    }
}
