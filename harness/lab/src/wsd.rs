//! A WS-Discovery target service (as ONVIF cameras run): a Probe gets a ProbeMatch relating to
//! the Probe's MessageID, with the camera's types, ONVIF scopes and device-service XAddr.

use std::net::SocketAddr;

/// How a simulated ONVIF device answers a Probe.
#[derive(Debug)]
pub(crate) struct Onvif {
    /// The ONVIF hardware scope value (percent-encoded as it goes on the wire).
    pub hardware: &'static str,
    /// The ONVIF name scope value (percent-encoded).
    pub name: &'static str,
}

/// The ProbeMatch answering a Probe datagram, if it is one.
pub(crate) fn answer(datagram: &[u8], local: SocketAddr, onvif: &Onvif) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(datagram).ok()?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 1000,
    };
    let doc = roxmltree::Document::parse_with_options(text, options).ok()?;
    let element = |name: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
    };
    element("Probe")?;
    let message_id = element("MessageID")?.text()?.trim();
    if message_id.is_empty()
        || !message_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":-.".contains(c))
    {
        return None;
    }
    Some(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\">\
<s:Header><a:MessageID>urn:uuid:6b1e5c2a-0000-4000-8000-000000002400</a:MessageID><a:RelatesTo>{message_id}</a:RelatesTo>\
<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>\
<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header>\
<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:6b1e5c2a-0000-4000-8000-000000002401</a:Address></a:EndpointReference>\
<d:Types>dn:NetworkVideoTransmitter</d:Types>\
<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/hardware/{} onvif://www.onvif.org/name/{}</d:Scopes>\
<d:XAddrs>http://{}:80/onvif/device_service</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>",
        onvif.hardware,
        onvif.name,
        local.ip(),
    ).into_bytes())
}
