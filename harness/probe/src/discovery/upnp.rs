//! The UPnP device description an SSDP answer points to: identity fields, firmware-like
//! fields and the service list; and, for an Internet Gateway Device's WANIPConnection or
//! WANPPPConnection, one read-only SOAP action sent without credentials (S1.1-01). Nothing is
//! ever modified: only `GetExternalIPAddress` is sent.

use std::net::SocketAddr;

use super::ssdp::{location_on_device, parse_url, Url};
use super::{Discovered, Exposed, UdpSettings};
use crate::probes::http::{self, Response};
use crate::probes::io::{self, Bounds};
use jcstar_model::observed::Sighting;
use jcstar_model::outcome::ExchangeError;
use jcstar_model::Evidence;

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
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = roxmltree::Document::parse_with_options(xml, options).ok()?;
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

/// The body of a response (the HTTP layer has already de-chunked it).
pub fn body_of(response: &Response) -> Vec<u8> {
    response.body.clone()
}

/// Joins the chunks of a chunked body (see [`jcstar_wire::http::dechunk`]).
pub fn dechunk(data: &[u8]) -> Vec<u8> {
    jcstar_wire::http::dechunk(data)
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

/// Fetches the description at `url` (on `target`, the device itself) and records what it shows.
pub async fn describe(
    found: &mut Discovered,
    target: SocketAddr,
    url: &Url,
    settings: &UdpSettings,
) {
    let bounds = super::http_bounds(settings);
    let shown = format!(
        "{}://{}{}",
        if url.tls { "https" } else { "http" },
        target,
        url.path
    );
    let response = match http::get(target, url.tls, &url.path, None, &bounds).await {
        Ok(r) => r,
        Err(e) => {
            found.notes.push(format!(
                "UPnP description {shown}: {}",
                jcstar_model::bounded_to(&e.to_string(), 200)
            ));
            return;
        }
    };
    if response.status != 200 {
        found.notes.push(format!(
            "UPnP description {shown}: {}",
            jcstar_model::bounded_to(&response.status_line, 120)
        ));
        return;
    }
    let body = body_of(&response);
    let body = String::from_utf8_lossy(&body);
    let Some(description) = parse_description(&body) else {
        found.notes.push(format!(
            "UPnP description {shown} is not a device description (or was cut at {} bytes)",
            bounds.max_bytes
        ));
        return;
    };
    record(found, &shown, &description);
    let base = description
        .url_base
        .as_deref()
        .and_then(parse_url)
        .unwrap_or_else(|| url.clone());
    for service in description.igd_connections().take(4) {
        let Some(control) = resolve(&service.control_url, &base) else {
            found.notes.push(format!(
                "IGD {} has no usable controlURL {:?}",
                service.service_type, service.control_url
            ));
            continue;
        };
        let Some(control_target) = location_on_device(&control, target.ip()) else {
            found.notes.push(format!(
                "IGD {} control {:?} is not on the device's address; not queried",
                service.service_type, service.control_url
            ));
            continue;
        };
        query_igd(found, control_target, &control, service, &bounds).await;
    }
}

/// Records identity, firmware, serial number and services from a description.
fn record(found: &mut Discovered, shown: &str, d: &Description) {
    let port = found.port.port;
    let source = |field: &str| format!("{port}/udp UPnP description {shown} {field}");
    for (field, value) in [
        ("modelName", &d.model_name),
        ("modelNumber", &d.model_number),
    ] {
        if let Some(text) = value {
            found.sightings.push(Sighting::Model {
                source: source(field),
                text: text.clone(),
            });
        }
    }
    for (field, version) in &d.firmware {
        found.sightings.push(Sighting::Component {
            source: source(field),
            name: match &d.model_name {
                Some(model) => format!("{model} firmware"),
                None => "firmware".to_string(),
            },
            version: Some(version.clone()),
        });
    }
    if let Some(serial) = &d.serial_number {
        found.disclosures.push(Evidence::observed(
            format!("{port}/udp UPnP serialNumber, no authentication ({shown})"),
            serial,
        ));
    }
    let short = |t: &str| {
        t.rsplit_once(":service:")
            .map(|(_, s)| s.to_string())
            .unwrap_or(t.to_string())
    };
    let services: Vec<String> = d.services.iter().map(|s| short(&s.service_type)).collect();
    let mut detail = format!("{}; description {shown}", found.port.detail);
    for (label, value) in [
        ("manufacturer", &d.manufacturer),
        ("modelName", &d.model_name),
        ("modelNumber", &d.model_number),
        ("serialNumber", &d.serial_number),
    ] {
        if let Some(v) = value {
            detail.push_str(&format!(", {label} {v:?}"));
        }
    }
    for (field, v) in &d.firmware {
        detail.push_str(&format!(", {field} {v:?}"));
    }
    if !services.is_empty() {
        detail.push_str(&format!(", services: {}", services.join(" ")));
    }
    found.port.detail = jcstar_model::bounded(&detail);
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

/// Judges a SOAP response to `action`.
pub fn soap_outcome(response: &Response, action: &str) -> SoapOutcome {
    if matches!(response.status, 401 | 403) {
        return SoapOutcome::Refused(response.status_line.clone());
    }
    let body = body_of(response);
    let body = String::from_utf8_lossy(&body);
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let Ok(doc) = roxmltree::Document::parse_with_options(body.trim(), options) else {
        return SoapOutcome::Other(format!("{} (not SOAP XML)", response.status_line));
    };
    let wanted = format!("{action}Response");
    if response.status == 200 {
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
        Some(code) => SoapOutcome::Other(format!("{} UPnPError {code}", response.status_line)),
        None => SoapOutcome::Other(response.status_line.clone()),
    }
}

async fn query_igd(
    found: &mut Discovered,
    target: SocketAddr,
    control: &Url,
    service: &UpnpService,
    bounds: &Bounds,
) {
    const ACTION: &str = "GetExternalIPAddress";
    let shown = format!(
        "{}://{}{}",
        if control.tls { "https" } else { "http" },
        target,
        control.path
    );
    let request = soap_request(target, &control.path, &service.service_type, ACTION);
    let response = match post(target, control.tls, &request, bounds).await {
        Ok(r) => r,
        Err(e) => {
            found.notes.push(format!(
                "IGD control {shown}: {}",
                jcstar_model::bounded_to(&e.to_string(), 200)
            ));
            return;
        }
    };
    let label = format!(
        "UPnP IGD {} control {shown}, no credentials",
        service.service_type
    );
    let evidence = Evidence::exchange(label, &request, &response.raw);
    match soap_outcome(&response, ACTION) {
        SoapOutcome::Answered(arguments) => {
            let returned = arguments
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
            found.unauthenticated.push(Exposed {
                what: format!("UPnP IGD {} control at {shown}", service.service_type),
                returned: format!(
                    "{ACTION} answered {}",
                    if returned.is_empty() {
                        "(no arguments)".into()
                    } else {
                        returned
                    }
                ),
                evidence,
            });
        }
        SoapOutcome::Refused(why) => found.protected.push(Evidence {
            label: format!("{} refused {ACTION} without credentials", evidence.label),
            sent: evidence.sent,
            received: Some(jcstar_model::bounded(&why)),
        }),
        SoapOutcome::Other(what) => found.notes.push(format!(
            "IGD control {shown} {ACTION}: {}",
            jcstar_model::bounded_to(&what, 200)
        )),
    }
}

/// Sends one complete request on a fresh connection and reads the response within the bounds.
async fn post(
    target: SocketAddr,
    tls: bool,
    request: &[u8],
    bounds: &Bounds,
) -> Result<Response, ExchangeError> {
    let mut stream = io::open(target, tls, bounds)
        .await
        .map_err(|e| io::connect_error(&e))?;
    http::round_trip(
        &mut stream,
        request,
        "HTTP",
        bounds,
        http::response_complete,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn chunked_bodies_are_joined_and_garbage_is_cut() {
        assert_eq!(
            dechunk(b"5\r\n<root\r\n2;x=y\r\n/>\r\n0\r\n\r\n"),
            b"<root/>"
        );
        assert_eq!(dechunk(b"zz\r\nabc"), b"");
        assert_eq!(dechunk(b"ffffffffffffffffffff\r\nabc"), b"");
        assert_eq!(dechunk(b"3\r\nab"), b"ab");
        assert_eq!(dechunk(b""), b"");
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n<root>\r\n7\r\n</root>\r\n0\r\n\r\n";
        let r = http::parse_response(raw.as_bytes(), "HTTP").expect("response");
        assert_eq!(body_of(&r), b"<root></root>");
    }

    fn response(status: &str, body: &str) -> Response {
        let raw = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        http::parse_response(raw.as_bytes(), "HTTP").expect("response")
    }

    #[test]
    fn soap_outcomes() {
        let ok = response(
            "200 OK",
            r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>203.0.113.7</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>"#,
        );
        assert_eq!(
            soap_outcome(&ok, "GetExternalIPAddress"),
            SoapOutcome::Answered(vec![("NewExternalIPAddress".into(), "203.0.113.7".into())])
        );
        let denied = response(
            "500 Internal Server Error",
            r#"<s:Envelope xmlns:s="x"><s:Body><s:Fault><detail><UPnPError><errorCode>606</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>"#,
        );
        assert!(matches!(
            soap_outcome(&denied, "GetExternalIPAddress"),
            SoapOutcome::Refused(_)
        ));
        assert!(matches!(
            soap_outcome(&response("401 Unauthorized", ""), "GetExternalIPAddress"),
            SoapOutcome::Refused(_)
        ));
        for (status, body) in [
            ("200 OK", "not xml"),
            ("200 OK", "<a><b/></a>"),
            ("500 X", "<e><errorCode>501</errorCode></e>"),
        ] {
            assert!(matches!(
                soap_outcome(&response(status, body), "GetExternalIPAddress"),
                SoapOutcome::Other(_)
            ));
        }
    }
}
