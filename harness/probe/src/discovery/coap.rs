//! CoAP (RFC 7252): a confirmable GET of `/.well-known/core` (RFC 6690 resource discovery).
//! Any CoAP message matching our message ID or token (a 2.05 with links, an error code, even a
//! Reset) shows a CoAP endpoint: the port is open.

use std::net::SocketAddr;

use super::{exchange, random_u32, Answer, Discovered, UdpSettings};
use jcstar_model::Evidence;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::COAP;

pub use jcstar_wire::coap::*;

/// GET `/.well-known/core` on `address`.
pub async fn probe(address: SocketAddr, settings: &UdpSettings) -> Discovered {
    let random = random_u32();
    let message_id = (random >> 16) as u16;
    let token = random.to_be_bytes();
    let request = request(message_id, token);
    let answer = exchange(
        address,
        std::slice::from_ref(&request),
        &super::UdpBounds::from(settings),
        |d| parse_answer(d, message_id, token).is_some(),
    )
    .await;
    let Answer::Reply(data) = &answer else {
        return Discovered::state(address.port(), SERVICE, &answer);
    };
    let port = address.port();
    let coap = parse_answer(data, message_id, token);
    let detail = match &coap {
        Some(a) if a.content => format!(
            "CoAP GET /.well-known/core: {} without authentication, resources: {}",
            a.code,
            if a.links.is_empty() {
                "(none)".to_string()
            } else {
                a.links.join(" ")
            }
        ),
        Some(a) => format!("CoAP GET /.well-known/core answered {}", a.code),
        None => "CoAP answer".to_string(),
    };
    let mut found = Discovered::state(port, SERVICE, &answer).with_detail(&detail);
    found.exchange = Some(Evidence::exchange(
        format!("{port}/udp CoAP GET /.well-known/core"),
        &request,
        data,
    ));
    if let Some(a) = coap.filter(|a| a.content && !a.links.is_empty()) {
        found.disclosures.push(Evidence::observed(
            format!("{port}/udp CoAP resource list, no authentication"),
            a.links.join(" "),
        ));
    }
    found
}
