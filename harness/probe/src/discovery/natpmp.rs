//! NAT-PMP / PCP (RFC 6886, RFC 6887) on gateways: one read-only external-address request. An
//! answer shows a port-mapping service that any host of the LAN can use without
//! authentication, and the gateway's external address it hands out.

use std::net::SocketAddr;

use jcstar_wire::natpmp::{parse_answer, Answer as NatPmpAnswer, EXTERNAL_ADDRESS_REQUEST};

use super::{exchange, Answer, Discovered, UdpSettings};
use jcstar_model::Evidence;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::NAT_PMP;

/// Asks `address` for the gateway's external address.
pub async fn probe(address: SocketAddr, settings: &UdpSettings) -> Discovered {
    let request = EXTERNAL_ADDRESS_REQUEST.to_vec();
    let answer = exchange(
        address,
        std::slice::from_ref(&request),
        &super::UdpBounds::from(settings),
        |d| parse_answer(d).is_some(),
    )
    .await;
    let Answer::Reply(data) = &answer else {
        return Discovered::state(address.port(), SERVICE, &answer);
    };
    let port = address.port();
    let detail = match parse_answer(data) {
        Some(NatPmpAnswer::NatPmp {
            result: 0,
            external: Some(ip),
        }) => format!("NAT-PMP answers without authentication: external address {ip}"),
        Some(NatPmpAnswer::NatPmp { result, .. }) => {
            format!("NAT-PMP answers (result code {result})")
        }
        Some(NatPmpAnswer::Pcp { result }) => format!("PCP answers (result code {result})"),
        None => "NAT-PMP answer".to_string(),
    };
    let mut found = Discovered::state(port, SERVICE, &answer).with_detail(&detail);
    found.exchange = Some(Evidence::exchange(
        format!("{port}/udp NAT-PMP external-address request"),
        &request,
        data,
    ));
    found
}
