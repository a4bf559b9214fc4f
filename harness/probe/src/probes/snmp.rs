//! SNMP v1/v2c over UDP: a GET of `sysDescr.0` with a community string. An agent answers only
//! a community it knows, so silence is a refusal. The messages are [`jcstar_wire::snmp`]'s.

use std::net::SocketAddr;
use std::time::Duration;

use super::io::Bounds;
use super::udp;
use super::{ExchangeError, LoginOutcome};
use jcstar_model::Evidence;
use jcstar_wire::snmp::{
    first_octets, get_request, get_request_for, parse_response, response_status, set_request,
    SYS_LOCATION,
};

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

/// Whether a community may write, learnt without changing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteAccess {
    /// A SET of `sysLocation.0` to the value it already held succeeded.
    Writable,
    /// The agent refused the SET with this error status (4 readOnly, 6 noAccess,
    /// 16 authorizationError, 17 notWritable, …).
    Refused(u32),
    /// No answer to the SET: read-only agents often drop it; not proof either way.
    NoAnswer,
    /// Not tested, and why (no sysLocation.0 to write back, no answer to the GET).
    NotTested(String),
}

/// Tests whether `community` (already accepted for reading) may write: reads `sysLocation.0`
/// with SNMPv2c and sets it to the very bytes it holds, so the device keeps its configuration
/// whatever the answer. Intrusive: a SET is sent. The evidence shows both exchanges.
pub async fn write_access(
    address: SocketAddr,
    community: &str,
    bounds: &Bounds,
) -> (WriteAccess, Evidence) {
    let udp_bounds = udp::UdpBounds {
        attempt: bounds.read.min(Duration::from_secs(2)),
        attempts: 1,
        max_bytes: bounds.max_bytes,
    };
    let label = format!("SNMPv2c write test with community {community:?}");
    let get_id = udp::random_u32() & 0x3fff_fff0;
    let get = get_request_for(1, community, get_id, &[SYS_LOCATION]);
    let current = match udp::exchange(address, &[get], &udp_bounds, |d| {
        response_status(d, get_id).is_some()
    })
    .await
    {
        udp::Answer::Reply(data) => first_octets(&data, get_id),
        _ => None,
    };
    let Some(current) = current else {
        let why = "no sysLocation.0 value to write back".to_string();
        return (
            WriteAccess::NotTested(why.clone()),
            Evidence::observed(label, why),
        );
    };
    let shown = jcstar_model::escape_bytes(&current);
    let set_id = get_id + 1;
    let set = set_request(1, community, set_id, SYS_LOCATION, &current);
    let answer = udp::exchange(address, &[set], &udp_bounds, |d| {
        response_status(d, set_id).is_some()
    })
    .await;
    let (access, said) = match answer {
        udp::Answer::Reply(data) => match response_status(&data, set_id) {
            Some(0) => (
                WriteAccess::Writable,
                "accepted: the community can change the device's configuration".to_string(),
            ),
            Some(status) => (
                WriteAccess::Refused(status),
                format!("refused with error status {status}: read-only"),
            ),
            None => (
                WriteAccess::NoAnswer,
                "no readable answer to the SET".to_string(),
            ),
        },
        _ => (WriteAccess::NoAnswer, "no answer to the SET".to_string()),
    };
    let evidence = Evidence::observed(
        label,
        format!("SET sysLocation.0 to its current value {shown:?} (nothing changed): {said}"),
    );
    (access, evidence)
}
