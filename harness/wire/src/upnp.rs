//! UPnP device descriptions (roxmltree, no DTD, a node cap): identity and firmware-like fields
//! and the service list; and the read-only SOAP action sent to an IGD's connection service,
//! with the judgement of its answer.

use std::net::SocketAddr;

use crate::ssdp::{parse_url, Url};

/// Most `<service>` entries read from one description.
const MAX_SERVICES: usize = 32;
/// Most nodes roxmltree builds from one description.
const MAX_NODES: u32 = 20_000;
/// Longest field value kept.
const MAX_FIELD: usize = 200;

/// Element names (compared without case) whose text is a firmware or software version.
const FIRMWARE_FIELDS: &[&str] = &[
    "firmwareversion",
    "firmware",
    "fwversion",
    "softwareversion",
    "swversion",
    "softwareversionnumber",
    "firmwarerevision",
];

/// One service a description lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpnpService {
    /// `serviceType`, e.g. `urn:schemas-upnp-org:service:WANIPConnection:1`.
    pub service_type: String,
    /// `controlURL` as written.
    pub control_url: String,
}

/// What a device description shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description {
    /// `URLBase`, if given (UPnP 1.0).
    pub url_base: Option<String>,
    /// `manufacturer`.
    pub manufacturer: Option<String>,
    /// `modelName`.
    pub model_name: Option<String>,
    /// `modelNumber`.
    pub model_number: Option<String>,
    /// `serialNumber`.
    pub serial_number: Option<String>,
    /// Firmware-like fields of the root device: (element name, value).
    pub firmware: Vec<(String, String)>,
    /// Every service of the root device and its embedded devices.
    pub services: Vec<UpnpService>,
}

impl Description {
    /// The IGD connection services, whose control must not answer without authentication.
    pub fn igd_connections(&self) -> impl Iterator<Item = &UpnpService> {
        self.services.iter().filter(|s| {
            s.service_type.contains(":WANIPConnection:")
                || s.service_type.contains(":WANPPPConnection:")
        })
    }
}

fn text_of(node: roxmltree::Node<'_, '_>) -> Option<String> {
    let text = node.text()?.trim();
    (!text.is_empty()).then(|| jcstar_model::bounded_to(text, MAX_FIELD))
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Parses a UPnP device description; `None` when it is not XML with a `<root><device>`.
pub fn parse_description(xml: &str) -> Option<Description> {
    let doc = crate::xml::parse(xml, MAX_NODES)?;
    let root = doc.root_element();
    if root.tag_name().name() != "root" {
        return None;
    }
    let device = child(root, "device")?;
    let field = |name: &str| child(device, name).and_then(text_of);
    let firmware = device
        .children()
        .filter(|c| c.is_element())
        .filter(|c| FIRMWARE_FIELDS.contains(&c.tag_name().name().to_ascii_lowercase().as_str()))
        .filter_map(|c| Some((c.tag_name().name().to_string(), text_of(c)?)))
        .take(4)
        .collect();
    let services = device
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "service")
        .filter_map(|s| {
            Some(UpnpService {
                service_type: child(s, "serviceType").and_then(text_of)?,
                control_url: child(s, "controlURL").and_then(text_of).unwrap_or_default(),
            })
        })
        .take(MAX_SERVICES)
        .collect();
    Some(Description {
        url_base: child(root, "URLBase").and_then(text_of),
        manufacturer: field("manufacturer"),
        model_name: field("modelName"),
        model_number: field("modelNumber"),
        serial_number: field("serialNumber"),
        firmware,
        services,
    })
}

/// Resolves a control URL against `URLBase` or the description's own URL.
pub fn resolve(reference: &str, base: &Url) -> Option<Url> {
    if reference.starts_with("http://") || reference.starts_with("https://") {
        return parse_url(reference);
    }
    if reference.is_empty() || reference.chars().any(|c| c.is_control() || c == ' ') {
        return None;
    }
    let path = if reference.starts_with('/') {
        reference.to_string()
    } else {
        let dir = match base.path.rfind('/') {
            Some(i) => &base.path[..=i],
            None => "/",
        };
        format!("{dir}{reference}")
    };
    Some(Url {
        path,
        ..base.clone()
    })
}

/// The SOAP request for one read-only action of `service_type`.
pub fn soap_request(target: SocketAddr, path: &str, service_type: &str, action: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:{action} xmlns:u=\"{service_type}\"></u:{action}></s:Body></s:Envelope>\r\n"
    );
    format!(
        "POST {path} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: jcstar\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"{service_type}#{action}\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a SOAP control endpoint did with a request carrying no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapOutcome {
    /// The action ran: the response element and its output arguments.
    Answered(Vec<(String, String)>),
    /// HTTP 401/403, or UPnP error 606 (action not authorized).
    Refused(String),
    /// Something else (another error, not SOAP).
    Other(String),
}

/// Judges a SOAP response to `action`: its status code, status line and (de-chunked) body.
pub fn soap_outcome(status: u16, status_line: &str, body: &[u8], action: &str) -> SoapOutcome {
    if matches!(status, 401 | 403) {
        return SoapOutcome::Refused(status_line.to_string());
    }
    let body = String::from_utf8_lossy(body);
    let Some(doc) = crate::xml::parse(body.trim(), MAX_NODES) else {
        return SoapOutcome::Other(format!("{status_line} (not SOAP XML)"));
    };
    let wanted = format!("{action}Response");
    if status == 200 {
        if let Some(element) = doc
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == wanted)
        {
            let arguments = element
                .children()
                .filter(|c| c.is_element())
                .take(8)
                .map(|c| {
                    (
                        c.tag_name().name().to_string(),
                        text_of(c).unwrap_or_default(),
                    )
                })
                .collect();
            return SoapOutcome::Answered(arguments);
        }
    }
    let code = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "errorCode")
        .and_then(text_of);
    match code.as_deref() {
        Some("606") => SoapOutcome::Refused("UPnPError 606 Action not authorized".into()),
        Some(code) => SoapOutcome::Other(format!("{status_line} UPnPError {code}")),
        None => SoapOutcome::Other(status_line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const IGD: &str = r#"<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
 <specVersion><major>1</major><minor>0</minor></specVersion>
 <device>
  <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
  <friendlyName>Router</friendlyName>
  <manufacturer>JCS</manufacturer>
  <modelName>JCS-RTR-2100</modelName>
  <modelNumber>2100-A</modelNumber>
  <serialNumber>SN-0042</serialNumber>
  <firmwareVersion>3.1.4</firmwareVersion>
  <serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList>
  <deviceList><device><deviceList><device>
   <serviceList><service>
    <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
    <controlURL>/ctl/IPConn</controlURL>
   </service></serviceList>
  </device></deviceList></device></deviceList>
 </device>
</root>"#;

    #[test]
    fn description_fields_and_nested_services() {
        let d = parse_description(IGD).expect("a description");
        assert_eq!(d.model_name.as_deref(), Some("JCS-RTR-2100"));
        assert_eq!(d.model_number.as_deref(), Some("2100-A"));
        assert_eq!(d.serial_number.as_deref(), Some("SN-0042"));
        assert_eq!(d.manufacturer.as_deref(), Some("JCS"));
        assert_eq!(
            d.firmware,
            [("firmwareVersion".to_string(), "3.1.4".to_string())]
        );
        assert_eq!(d.services.len(), 2);
        let igd: Vec<_> = d.igd_connections().collect();
        assert_eq!(igd.len(), 1);
        assert_eq!(igd[0].control_url, "/ctl/IPConn");
    }

    #[test]
    fn garbage_descriptions_are_refused_without_panicking() {
        let cut_igd: Vec<String> = (0..IGD.len())
            .step_by(7)
            .map(|n| IGD[..n].to_string())
            .collect();
        for text in cut_igd.iter().map(String::as_str).chain([
            "",
            "<html><body>hi</body></html>",
            "<root/>",
            "<!DOCTYPE root [<!ENTITY a \"aaaa\">]><root><device>&a;</device></root>",
            "\u{0}\u{1}\u{2}",
        ]) {
            assert_eq!(parse_description(text), None, "{text:?}");
        }
        let many = format!("<root><device>{}</device></root>", "<x/>".repeat(30_000));
        assert_eq!(parse_description(&many), None);
        let wrong_types =
            "<root><device><modelName><b>x</b></modelName><serviceList><service/></serviceList></device></root>";
        let d = parse_description(wrong_types).expect("odd but XML");
        assert_eq!(d.model_name, None);
        assert!(d.services.is_empty());
        let long = format!(
            "<root><device><modelName>{}</modelName></device></root>",
            "M".repeat(5000)
        );
        let d = parse_description(&long).expect("long");
        assert!(d.model_name.expect("model").chars().count() <= MAX_FIELD + 1);
    }

    #[test]
    fn control_urls_resolve_against_the_location() {
        let base = parse_url("http://127.0.0.1:5000/upnp/desc.xml").expect("url");
        assert_eq!(
            resolve("/ctl/IPConn", &base).expect("abs").path,
            "/ctl/IPConn"
        );
        assert_eq!(
            resolve("ctl/IPConn", &base).expect("rel").path,
            "/upnp/ctl/IPConn"
        );
        assert_eq!(
            resolve("http://10.0.0.1/ctl", &base)
                .expect("absolute")
                .host,
            "10.0.0.1"
        );
        assert_eq!(resolve("", &base), None);
        assert_eq!(resolve("a\r\nb", &base), None);
    }

    /// `soap_outcome` of a response with `status` (e.g. `200 OK`) and `body`.
    fn judge(status: &str, body: &str) -> SoapOutcome {
        let code = status[..3].parse().expect("a status code");
        soap_outcome(
            code,
            &format!("HTTP/1.1 {status}"),
            body.as_bytes(),
            "GetExternalIPAddress",
        )
    }

    #[test]
    fn soap_outcomes() {
        let ok = String::from(
            r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>203.0.113.7</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>"#,
        );
        assert_eq!(
            soap_outcome(
                200,
                "HTTP/1.1 200 OK",
                ok.as_bytes(),
                "GetExternalIPAddress"
            ),
            SoapOutcome::Answered(vec![("NewExternalIPAddress".into(), "203.0.113.7".into())])
        );
        let denied = judge(
            "500 Internal Server Error",
            r#"<s:Envelope xmlns:s="x"><s:Body><s:Fault><detail><UPnPError><errorCode>606</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>"#,
        );
        assert!(matches!(denied, SoapOutcome::Refused(_)));
        assert!(matches!(
            judge("401 Unauthorized", ""),
            SoapOutcome::Refused(_)
        ));
        for (status, body) in [
            ("200 OK", "not xml"),
            ("200 OK", "<a><b/></a>"),
            ("500 X", "<e><errorCode>501</errorCode></e>"),
        ] {
            assert!(matches!(judge(status, body), SoapOutcome::Other(_)));
        }
    }

    /// Nesting deeper than any real description, within and past the node cap, is handled
    /// without exhausting the stack.
    #[test]
    fn deeply_nested_descriptions_are_handled() {
        for depth in [10, 5_000, 50_000] {
            let deep = format!(
                "<root><device>{}<service><serviceType>t</serviceType></service>{}</device></root>",
                "<x>".repeat(depth),
                "</x>".repeat(depth)
            );
            let parsed = parse_description(&deep);
            assert_eq!(parsed.is_some(), depth == 10, "{depth}");
            let soap = soap_outcome(
                200,
                "HTTP/1.1 200 OK",
                deep.as_bytes(),
                "GetExternalIPAddress",
            );
            assert!(matches!(soap, SoapOutcome::Other(_)));
        }
    }

    proptest! {
        /// Any text, and any damage to a real description or SOAP answer, parses or is
        /// refused without panicking.
        #[test]
        fn arbitrary_and_damaged_xml_never_panics(
            text in "\\PC{0,600}",
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            status in any::<u16>(),
        ) {
            let _ = parse_description(&text);
            let _ = soap_outcome(status, "HTTP/1.1 ? ?", text.as_bytes(), "GetExternalIPAddress");
            let mut bytes = IGD.as_bytes().to_vec();
            for (at, byte) in edits {
                let len = bytes.len();
                bytes[at % len] = byte;
            }
            let damaged = String::from_utf8_lossy(&bytes);
            if let Some(d) = parse_description(&damaged) {
                prop_assert!(d.services.len() <= MAX_SERVICES);
            }
            let _ = resolve(&text, &Url { tls: false, host: "h".into(), port: 80, path: text.clone() });
        }
    }
}
