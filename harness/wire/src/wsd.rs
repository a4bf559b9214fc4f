//! WS-Discovery (2005/04): the Probe message and the ProbeMatch answer (roxmltree, no DTD,
//! a node cap), with ONVIF's hardware scope.

/// Most nodes roxmltree builds from one answer.
const MAX_NODES: u32 = 5_000;

/// A Probe with message ID `urn:uuid:<uuid>`.
pub fn probe_message(uuid: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\">\
<s:Header><a:Action s:mustUnderstand=\"1\">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>\
<a:MessageID>urn:uuid:{uuid}</a:MessageID>\
<a:To s:mustUnderstand=\"1\">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>\
<s:Body><d:Probe/></s:Body></s:Envelope>"
    )
    .into_bytes()
}

/// What a ProbeMatch shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeMatch {
    /// `RelatesTo`: the message ID answered.
    pub relates_to: Option<String>,
    /// `Types`, space-separated QNames.
    pub types: Vec<String>,
    /// `Scopes`, space-separated URIs.
    pub scopes: Vec<String>,
    /// `XAddrs`, space-separated transport addresses.
    pub xaddrs: Vec<String>,
}

fn words(node: Option<roxmltree::Node<'_, '_>>) -> Vec<String> {
    node.and_then(|n| n.text())
        .map(|t| {
            t.split_whitespace()
                .take(16)
                .map(|w| jcstar_model::bounded_to(w, 200))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a ProbeMatches message; `None` for anything else.
pub fn parse_probe_match(data: &[u8]) -> Option<ProbeMatch> {
    let text = std::str::from_utf8(data).ok()?;
    let doc = crate::xml::parse(text.trim_start_matches('\u{feff}'), MAX_NODES)?;
    let find = |name: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
    };
    let matched = find("ProbeMatch")?;
    let within = |name: &str| {
        matched
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
    };
    Some(ProbeMatch {
        relates_to: find("RelatesTo")
            .and_then(|n| n.text())
            .map(|t| jcstar_model::bounded_to(t.trim(), 200)),
        types: words(within("Types")),
        scopes: words(within("Scopes")),
        xaddrs: words(within("XAddrs")),
    })
}

/// Percent-decodes a scope segment (ONVIF scopes are URIs), keeping bad escapes as they are.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(v) = segment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    jcstar_model::bounded(&String::from_utf8_lossy(&out))
}

/// The ONVIF hardware (model) scope's value, if present.
pub fn onvif_hardware(scopes: &[String]) -> Option<String> {
    scopes.iter().find_map(|s| {
        s.strip_prefix("onvif://www.onvif.org/hardware/")
            .map(decode)
            .filter(|m| !m.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MATCH: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">
<s:Header><a:RelatesTo>urn:uuid:1</a:RelatesTo></s:Header>
<s:Body><d:ProbeMatches><d:ProbeMatch>
<a:EndpointReference><a:Address>urn:uuid:abc</a:Address></a:EndpointReference>
<d:Types>dn:NetworkVideoTransmitter</d:Types>
<d:Scopes>onvif://www.onvif.org/hardware/JCS-CAM%202300 onvif://www.onvif.org/name/cam</d:Scopes>
<d:XAddrs>http://127.0.0.1:8080/onvif/device_service</d:XAddrs>
</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"#;

    #[test]
    fn probe_match_fields_and_onvif_model() {
        let m = parse_probe_match(MATCH.as_bytes()).expect("a match");
        assert_eq!(m.relates_to.as_deref(), Some("urn:uuid:1"));
        assert_eq!(m.types, ["dn:NetworkVideoTransmitter"]);
        assert_eq!(m.xaddrs, ["http://127.0.0.1:8080/onvif/device_service"]);
        assert_eq!(onvif_hardware(&m.scopes).as_deref(), Some("JCS-CAM 2300"));
        assert_eq!(decode("a%zz%4"), "a%zz%4");
    }

    #[test]
    fn probes_and_garbage_are_not_matches() {
        assert_eq!(parse_probe_match(&probe_message("1")), None);
        for end in (0..MATCH.len()).step_by(11) {
            let _ = parse_probe_match(&MATCH.as_bytes()[..end]);
        }
        for data in [&b""[..], &[0xff; 100], b"<a>", b"<ProbeMatch/>"] {
            let _ = parse_probe_match(data);
        }
        let huge = format!("<e><ProbeMatch>{}</ProbeMatch></e>", "<x/>".repeat(10_000));
        assert_eq!(parse_probe_match(huge.as_bytes()), None);
    }

    /// Nesting past [`crate::xml::MAX_DEPTH`] is refused before roxmltree recurses into it
    /// (a datagram of a few hundred nested elements used to abort the process); ordinary
    /// nesting still parses.
    #[test]
    fn deeply_nested_answers_are_refused_not_fatal() {
        for (depth, parses) in [(8, true), (400, false), (5_000, false)] {
            let deep = format!(
                "<e>{}<ProbeMatch/>{}</e>",
                "<x>".repeat(depth),
                "</x>".repeat(depth)
            );
            assert_eq!(
                parse_probe_match(deep.as_bytes()).is_some(),
                parses,
                "{depth}"
            );
        }
    }

    proptest! {
        /// Any datagram, and any damage to a real ProbeMatch, parses or is refused.
        #[test]
        fn arbitrary_and_damaged_matches_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..1500),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        ) {
            let _ = parse_probe_match(&data);
            let mut bytes = MATCH.as_bytes().to_vec();
            for (at, byte) in edits {
                let len = bytes.len();
                bytes[at % len] = byte;
            }
            if let Some(m) = parse_probe_match(&bytes) {
                let _ = onvif_hardware(&m.scopes);
                prop_assert!(m.scopes.len() <= 16);
            }
        }
    }
}
