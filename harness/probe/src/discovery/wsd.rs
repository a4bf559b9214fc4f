//! WS-Discovery (2005/04, as ONVIF cameras and WSD printers speak it): a Probe sent unicast to
//! the device's port 3702, and the ProbeMatch it answers: types, scopes (ONVIF puts hardware
//! model and name there) and XAddrs (listed, never followed).

use std::net::SocketAddr;

use super::{exchange_any_port, random_u32, Answer, Discovered, UdpSettings};
use jcstar_model::observed::Sighting;
use jcstar_model::Evidence;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::WS_DISCOVERY;

pub use jcstar_wire::wsd::*;

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
    /// Message IDs are fresh version-4 UUIDs.
    #[test]
    fn uuids_are_fresh_version_4() {
        let (a, b) = (super::uuid(), super::uuid());
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{a}");
        assert_ne!(a, b);
    }
}
