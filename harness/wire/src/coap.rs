//! CoAP (RFC 7252, through coap-lite): the confirmable GET of `/.well-known/core` and its
//! answer, with the links of a link-format payload (RFC 6690).

use coap_lite::link_format::LinkFormatParser;
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};

/// Most links listed from one answer.
const MAX_LINKS: usize = 32;

/// The request: confirmable GET `/.well-known/core` with `message_id` and `token`.
pub fn request(message_id: u16, token: [u8; 4]) -> Vec<u8> {
    let mut packet = Packet::new();
    packet.header.set_version(1);
    packet.header.set_type(MessageType::Confirmable);
    packet.header.code = MessageClass::Request(RequestType::Get);
    packet.header.message_id = message_id;
    packet.set_token(token.to_vec());
    packet.add_option(CoapOption::UriPath, b".well-known".to_vec());
    packet.add_option(CoapOption::UriPath, b"core".to_vec());
    // A fixed, valid packet: encoding cannot fail.
    packet.to_bytes().unwrap_or_default()
}

/// A CoAP answer to our request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoapAnswer {
    /// The response code, e.g. `2.05`, or `reset` for a Reset message.
    pub code: String,
    /// Whether the code is 2.05 Content.
    pub content: bool,
    /// The resource paths of a link-format payload (at most 32).
    pub links: Vec<String>,
}

/// Parses `data` as the answer to `message_id`/`token`; `None` when it is not one.
pub fn parse_answer(data: &[u8], message_id: u16, token: [u8; 4]) -> Option<CoapAnswer> {
    let packet = Packet::from_bytes(data).ok()?;
    let ours = packet.header.message_id == message_id || packet.get_token() == token;
    if !ours {
        return None;
    }
    if packet.header.get_type() == MessageType::Reset {
        return Some(CoapAnswer {
            code: "reset".into(),
            content: false,
            links: Vec::new(),
        });
    }
    let MessageClass::Response(kind) = packet.header.code else {
        return None;
    };
    let content = kind == ResponseType::Content;
    let links = if content {
        links(&String::from_utf8_lossy(&packet.payload))
    } else {
        Vec::new()
    };
    Some(CoapAnswer {
        code: packet.header.get_code(),
        content,
        links,
    })
}

/// The URI references of a link-format document (RFC 6690), stopping at the first error.
pub fn links(text: &str) -> Vec<String> {
    LinkFormatParser::new(text)
        .take(MAX_LINKS)
        .map_while(Result::ok)
        .map(|(uri, _)| jcstar_model::bounded_to(uri, 120))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reply(id: u16, token: [u8; 4], code: ResponseType, payload: &[u8]) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Acknowledgement);
        p.header.code = MessageClass::Response(code);
        p.header.message_id = id;
        p.set_token(token.to_vec());
        p.payload = payload.to_vec();
        p.to_bytes().expect("encode")
    }

    #[test]
    fn content_with_links() {
        let data = reply(
            7,
            [1, 2, 3, 4],
            ResponseType::Content,
            b"</sensors/temp>;rt=\"temperature-c\";if=\"sensor\",</fw>;ct=0",
        );
        let answer = parse_answer(&data, 7, [1, 2, 3, 4]).expect("ours");
        assert_eq!(answer.code, "2.05");
        assert_eq!(answer.links, ["/sensors/temp", "/fw"]);
        assert_eq!(parse_answer(&data, 8, [9, 9, 9, 9]), None);
        let not_found = reply(7, [1, 2, 3, 4], ResponseType::NotFound, b"");
        let answer = parse_answer(&not_found, 7, [0; 4]).expect("ours by id");
        assert_eq!((answer.code.as_str(), answer.content), ("4.04", false));
    }

    #[test]
    fn request_is_a_confirmable_get_of_well_known_core() {
        let data = request(0x1234, [5, 6, 7, 8]);
        let packet = Packet::from_bytes(&data).expect("valid");
        assert_eq!(packet.header.get_type(), MessageType::Confirmable);
        assert_eq!(packet.header.code, MessageClass::Request(RequestType::Get));
        let path: Vec<_> = packet
            .get_option(CoapOption::UriPath)
            .expect("path")
            .iter()
            .cloned()
            .collect();
        assert_eq!(path, [b".well-known".to_vec(), b"core".to_vec()]);
    }

    #[test]
    fn garbage_never_panics() {
        let good = reply(1, [0; 4], ResponseType::Content, &[b'<'; 1000]);
        for end in 0..good.len().min(64) {
            let _ = parse_answer(&good[..end], 1, [0; 4]);
        }
        for data in [
            &b""[..],
            &[0xff; 4],
            &[0x40, 0x01],
            &[0x6f; 100],
            &[0x00; 1500],
        ] {
            let _ = parse_answer(data, 1, [0; 4]);
        }
        // A request is not an answer.
        assert_eq!(parse_answer(&request(1, [0; 4]), 1, [0; 4]), None);
        assert!(links("garbage<<>>;;,,").is_empty());
        assert!(links(&"</a>,".repeat(1000)).len() <= MAX_LINKS);
    }

    proptest! {
        /// Any datagram, and any link-format text, parses or is refused without panicking,
        /// within the link cap.
        #[test]
        fn arbitrary_answers_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..1500),
            text in "\\PC{0,400}",
        ) {
            let _ = parse_answer(&data, 1, [1, 2, 3, 4]);
            if data.len() >= 4 {
                let id = u16::from_be_bytes([data[2], data[3]]);
                let _ = parse_answer(&data, id, [0; 4]);
            }
            prop_assert!(links(&text).len() <= MAX_LINKS);
        }
    }
}
