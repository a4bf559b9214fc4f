//! MQTT 3.1.1 and 5 control packets jcstar sends (CONNECT, SUBSCRIBE, DISCONNECT) and the
//! framing of what a broker sends back (fixed header, remaining length, CONNACK).

/// MQTT protocol levels: 4 is 3.1.1, 5 is 5.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// MQTT 3.1.1.
    V311,
    /// MQTT 5.0.
    V5,
}

/// Keep-alive announced in CONNECT, in seconds.
const KEEP_ALIVE_S: u16 = 30;

/// A CONNECT packet with a clean session; with `credential` (user, password) the user name
/// and password flags are set.
pub fn connect_packet(
    version: Version,
    client_id: &str,
    credential: Option<(&str, &str)>,
) -> Vec<u8> {
    let mut body = Vec::new();
    put_str(&mut body, "MQTT");
    body.push(match version {
        Version::V311 => 4,
        Version::V5 => 5,
    });
    let mut flags = 0x02; // clean session
    if credential.is_some() {
        flags |= 0x80 | 0x40;
    }
    body.push(flags);
    body.extend_from_slice(&KEEP_ALIVE_S.to_be_bytes());
    if version == Version::V5 {
        body.push(0); // no properties
    }
    put_str(&mut body, client_id);
    if let Some((user, password)) = credential {
        put_str(&mut body, user);
        put_str(&mut body, password);
    }
    packet(0x10, &body)
}

/// SUBSCRIBE to `#` (the whole topic tree) at QoS 0, packet id 1.
pub fn subscribe_all(version: Version) -> Vec<u8> {
    let mut body = vec![0, 1];
    if version == Version::V5 {
        body.push(0); // no properties
    }
    put_str(&mut body, "#");
    body.push(0);
    packet(0x82, &body)
}

/// DISCONNECT.
pub const DISCONNECT: [u8; 2] = [0xe0, 0x00];

/// A UTF-8 string field: two length bytes and at most 65,535 bytes.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A control packet: `header`, the remaining length (1 to 4 bytes), `body`.
pub fn packet(header: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// Most bytes a remaining length can announce (four length bytes).
pub const MAX_REMAINING: usize = 268_435_455;

/// What the start of `data` says about the next packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole packet: fixed header byte, body, and the bytes it took.
    Packet {
        /// The fixed header byte (type and flags).
        header: u8,
        /// The body (variable header and payload).
        body: &'a [u8],
        /// Bytes the packet took from `data`.
        len: usize,
    },
    /// More bytes are needed; `body_len` once the remaining length is known.
    Incomplete {
        /// The announced body length, when the length bytes are all there.
        body_len: Option<usize>,
    },
    /// Not an MQTT packet: a remaining length longer than four bytes.
    Malformed,
}

/// Frames the first packet of `data`.
pub fn frame(data: &[u8]) -> Frame<'_> {
    let Some(&header) = data.first() else {
        return Frame::Incomplete { body_len: None };
    };
    let mut len = 0usize;
    let mut at = 1;
    loop {
        let Some(&byte) = data.get(at) else {
            return Frame::Incomplete { body_len: None };
        };
        len |= usize::from(byte & 0x7f) << (7 * (at - 1));
        at += 1;
        if byte & 0x80 == 0 {
            break;
        }
        if at > 4 {
            return Frame::Malformed;
        }
    }
    match data.get(at..at + len) {
        Some(body) => Frame::Packet {
            header,
            body,
            len: at + len,
        },
        None => Frame::Incomplete {
            body_len: Some(len),
        },
    }
}

/// The return code (3.1.1) or reason code (5) of a CONNACK packet, `None` for another packet.
pub fn connack_code(header: u8, body: &[u8]) -> Option<u8> {
    (header & 0xf0 == 0x20)
        .then(|| body.get(1).copied())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn connect_packet_layout() {
        let p = connect_packet(Version::V311, "id", Some(("u", "p")));
        assert_eq!(p[0], 0x10);
        assert_eq!(usize::from(p[1]), p.len() - 2);
        assert_eq!(&p[2..10], &[0, 4, b'M', b'Q', b'T', b'T', 4, 0xc2]);
        let v5 = connect_packet(Version::V5, "id", None);
        assert_eq!(v5[8], 5);
        assert_eq!(v5[9], 0x02);
        assert_eq!(packet(0x30, &[0; 200])[1..3], [0xc8, 0x01]);
    }

    #[test]
    fn frames_and_connacks() {
        assert_eq!(
            frame(&[0x20, 2, 0, 5, 0xff]),
            Frame::Packet {
                header: 0x20,
                body: &[0, 5],
                len: 4
            }
        );
        assert_eq!(connack_code(0x20, &[0, 5]), Some(5));
        assert_eq!(connack_code(0x90, &[0, 5]), None);
        assert_eq!(frame(&[0x20]), Frame::Incomplete { body_len: None });
        assert_eq!(
            frame(&[0x30, 0xc8, 0x01, 0]),
            Frame::Incomplete {
                body_len: Some(200)
            }
        );
        assert_eq!(
            frame(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            Frame::Malformed
        );
    }

    proptest! {
        #[test]
        fn framing_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            match frame(&data) {
                Frame::Packet { body, len, .. } => {
                    prop_assert!(len <= data.len());
                    let _ = connack_code(data[0], body);
                }
                Frame::Incomplete { body_len } => {
                    prop_assert!(body_len.is_none_or(|n| n <= MAX_REMAINING));
                }
                Frame::Malformed => {}
            }
        }

        #[test]
        fn packets_frame_back(header in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..20_000)) {
            let encoded = packet(header, &body);
            prop_assert_eq!(
                frame(&encoded),
                Frame::Packet { header, body: &body, len: encoded.len() }
            );
        }

        #[test]
        fn connect_packets_frame(user in ".{0,300}", password in ".{0,300}") {
            let p = connect_packet(Version::V5, "jcstar", Some((&user, &password)));
            let framed = matches!(frame(&p), Frame::Packet { header: 0x10, .. });
            prop_assert!(framed);
        }
    }
}
