//! SNMP v1/v2c over UDP: a GET of `sysDescr.0` with a community string. An agent answers only
//! a community it knows, so silence is a refusal. The messages are [`jcstar_wire::snmp`]'s.

use std::net::SocketAddr;
use std::time::Duration;

use super::io::Bounds;
use super::udp;
use super::{ExchangeError, LoginOutcome};
use jcstar_model::Evidence;
use jcstar_wire::snmp::{get_request, parse_response};

/// Tries `community` with v2c and v1 at once; an answer means it was accepted.
pub async fn login(address: SocketAddr, community: &str, bounds: &Bounds) -> LoginOutcome {
    let base = udp::random_u32() & 0x3fff_fff0;
    let requests: Vec<Vec<u8>> = [1u32, 0]
        .iter()
        .map(|&version| get_request(version, community, base + version))
        .collect();
    // Which version a datagram answers, and its sysDescr.
    let answer_of = |data: &[u8]| {
        [1u32, 0]
            .into_iter()
            .find_map(|version| Some((version, parse_response(data, base + version)?)))
    };
    // A refused community is silence: wait no longer than needed for a LAN answer.
    let udp_bounds = udp::UdpBounds {
        attempt: bounds.read.min(Duration::from_secs(2)),
        attempts: 1,
        max_bytes: bounds.max_bytes,
    };
    match udp::exchange(address, &requests, &udp_bounds, |d| answer_of(d).is_some()).await {
        udp::Answer::Reply(data) => match answer_of(&data) {
            Some((version, descr)) => {
                let v = if version == 1 { "v2c" } else { "v1" };
                LoginOutcome::Accepted(Evidence::observed(
                    format!("SNMP{v} GET sysDescr.0 with community {community:?}"),
                    descr,
                ))
            }
            None => ExchangeError::ProtocolError("the SNMP answer could not be read again".into())
                .into(),
        },
        udp::Answer::Closed => LoginOutcome::Unsupported("no SNMP agent (port unreachable)".into()),
        udp::Answer::NoAnswer => LoginOutcome::Rejected,
        udp::Answer::Failed(why) => ExchangeError::ProtocolError(why).into(),
    }
}
