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
pub use jcstar_wire::upnp::*;

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
    let body = String::from_utf8_lossy(&response.body);
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
    match soap_outcome(
        response.status,
        &response.status_line,
        &response.body,
        ACTION,
    ) {
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
