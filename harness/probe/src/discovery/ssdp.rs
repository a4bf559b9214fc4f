//! SSDP: an M-SEARCH sent unicast to the device's SSDP port, and the answer's headers
//! (`LOCATION`, `SERVER`, `ST`). The UPnP description at `LOCATION` is fetched only when
//! it is on the device's own address ([`location_on_device`]); see [`super::upnp`].

use std::net::SocketAddr;

use super::{exchange_any_port, upnp, Answer, Discovered, UdpSettings};
use jcstar_model::observed::Sighting;
use jcstar_model::Evidence;
use jcstar_wire::product::product_tokens;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::SSDP;

pub use jcstar_wire::ssdp::*;

/// M-SEARCH to `address`, then the description and IGD control at its `LOCATION`.
pub async fn probe(address: SocketAddr, settings: &UdpSettings) -> Discovered {
    let request = m_search(address);
    let answer = exchange_any_port(
        address,
        std::slice::from_ref(&request),
        &super::UdpBounds::from(settings),
        |d| parse_answer(d).is_some(),
    )
    .await;
    let Answer::Reply(data) = &answer else {
        return Discovered::state(address.port(), SERVICE, &answer);
    };
    let ssdp = parse_answer(data).unwrap_or_default();
    let port = address.port();
    let detail = format!(
        "SSDP: SERVER {:?}, LOCATION {:?}",
        ssdp.server.as_deref().unwrap_or("(none)"),
        ssdp.location.as_deref().unwrap_or("(none)")
    );
    let mut found = Discovered::state(port, SERVICE, &answer).with_detail(&detail);
    found.exchange = Some(Evidence::exchange(
        format!("{port}/udp SSDP M-SEARCH (unicast)"),
        &request,
        data,
    ));
    if let Some(server) = &ssdp.server {
        for (name, version) in product_tokens(server) {
            found.sightings.push(Sighting::Component {
                source: format!("{port}/udp SSDP SERVER header"),
                name,
                version,
            });
        }
    }
    let Some(location) = &ssdp.location else {
        found.notes.push("the SSDP answer names no LOCATION".into());
        return found;
    };
    let Some(url) = parse_url(location) else {
        found.notes.push(format!(
            "LOCATION {location:?} is not an http(s) URL; not fetched"
        ));
        return found;
    };
    let Some(target) = location_on_device(&url, address.ip()) else {
        found.notes.push(format!(
            "LOCATION {location:?} is not on the device's address {}; not followed",
            address.ip()
        ));
        return found;
    };
    upnp::describe(&mut found, target, &url, settings).await;
    found
}
