//! WS-Discovery (2005/04, as ONVIF cameras and WSD printers speak it): a Probe sent unicast to
//! the device's port 3702, and the ProbeMatch it answers: types, scopes (ONVIF puts hardware
//! model and name there) and XAddrs (listed, never followed).

use std::net::SocketAddr;

use super::{exchange_any_port, random_u32, Answer, Discovered, UdpSettings};
use jcstar_model::observed::Sighting;
use jcstar_model::Evidence;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::WS_DISCOVERY;

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
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = roxmltree::Document::parse_with_options(text.trim_start_matches('\u{feff}'), options)
        .ok()?;
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

fn uuid() -> String {
    let (a, b, c, d) = (random_u32(), random_u32(), random_u32(), random_u32());
    format!(
        "{a:08x}-{:04x}-4{:03x}-{:04x}-{:04x}{c:08x}",
        b >> 16,
        b & 0x0fff,
        (d >> 16 & 0x3fff) | 0x8000,
        d & 0xffff
    )
}

/// Probe to `address`; the ProbeMatch answering our message ID.
pub async fn probe(address: SocketAddr, settings: &UdpSettings) -> Discovered {
    let id = uuid();
    let message_id = format!("urn:uuid:{id}");
    let request = probe_message(&id);
    let ours = |d: &[u8]| {
        parse_probe_match(d).is_some_and(|m| {
            m.relates_to.is_none() || m.relates_to.as_deref() == Some(message_id.as_str())
        })
    };
    let answer = exchange_any_port(
        address,
        std::slice::from_ref(&request),
        &super::UdpBounds::from(settings),
        ours,
    )
    .await;
    let Answer::Reply(data) = &answer else {
        return Discovered::state(address.port(), SERVICE, &answer);
    };
    let port = address.port();
    let matched = parse_probe_match(data).unwrap_or_default();
    let detail = format!(
        "WS-Discovery ProbeMatch: types {}; scopes {}; XAddrs {} (not followed)",
        matched.types.join(" "),
        matched.scopes.join(" "),
        matched.xaddrs.join(" ")
    );
    let mut found = Discovered::state(port, SERVICE, &answer).with_detail(&detail);
    found.exchange = Some(Evidence::exchange(
        format!("{port}/udp WS-Discovery Probe"),
        &request,
        data,
    ));
    if let Some(model) = onvif_hardware(&matched.scopes) {
        found.sightings.push(Sighting::Model {
            source: format!("{port}/udp WS-Discovery scope onvif://www.onvif.org/hardware/"),
            text: model,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(uuid().len() == 36);
    }
}
