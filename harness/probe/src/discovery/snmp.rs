//! SNMP v2c/v1 GET of `sysDescr.0` and `sysName.0` with the profile's communities. An agent
//! answers only a community it knows, so silence with one community is not a closed port;
//! only ICMP port unreachable is.

use std::net::SocketAddr;

use super::{exchange_on, random_u32, Answer, Discovered, UdpSettings};
use jcstar_model::observed::Sighting;
use jcstar_model::Evidence;
pub use jcstar_wire::snmp::{component_of, parse_system, SystemInfo, SYS_NAME};
use jcstar_wire::snmp::{get_request_for, SYS_DESCR};

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::SNMP;

/// Probes `address` with each community of the settings until one answers.
pub async fn probe(address: SocketAddr, settings: &UdpSettings) -> Discovered {
    let socket = match super::connected_socket(address).await {
        Ok(socket) => socket,
        Err(e) => {
            return Discovered::state(
                address.port(),
                SERVICE,
                &Answer::Failed(format!("cannot open a UDP socket: {e}")),
            )
        }
    };
    let bounds = super::UdpBounds::from(settings);
    let mut last = Answer::NoAnswer;
    for community in settings.snmp_communities.iter().take(16) {
        let base = random_u32() & 0x3fff_fff0;
        let requests: Vec<Vec<u8>> = [1u32, 0]
            .iter()
            .map(|&v| get_request_for(v, community, base + v, &[SYS_DESCR, SYS_NAME]))
            .collect();
        let accept =
            |d: &[u8]| parse_system(d, base + 1).is_some() || parse_system(d, base).is_some();
        let answer = exchange_on(&socket, None, &requests, &bounds, accept).await;
        let Answer::Reply(data) = &answer else {
            if answer == Answer::Closed {
                return Discovered::state(address.port(), SERVICE, &answer);
            }
            last = answer;
            continue;
        };
        let (version, info) = match parse_system(data, base + 1) {
            Some(info) => ("v2c", info),
            None => ("v1", parse_system(data, base).unwrap_or_default()),
        };
        return answered(address, community, version, &requests[0], data, info);
    }
    Discovered::state(address.port(), SERVICE, &last)
}

fn answered(
    address: SocketAddr,
    community: &str,
    version: &str,
    request: &[u8],
    data: &[u8],
    info: SystemInfo,
) -> Discovered {
    let port = address.port();
    let descr = info.descr.clone().unwrap_or_else(|| "(none)".into());
    let name = info.name.clone().unwrap_or_else(|| "(none)".into());
    let detail =
        format!("SNMP{version} community {community:?}: sysDescr {descr:?}, sysName {name:?}");
    let mut found =
        Discovered::state(port, SERVICE, &Answer::Reply(data.to_vec())).with_detail(&detail);
    found.exchange = Some(Evidence::exchange(
        format!("{port}/udp SNMP{version} GET sysDescr.0 sysName.0 community {community:?}"),
        request,
        data,
    ));
    let mut disclosed = Vec::new();
    if let Some(descr) = &info.descr {
        disclosed.push(format!("sysDescr {descr:?}"));
        found.sightings.push(Sighting::Model {
            source: format!("{port}/udp SNMP sysDescr.0"),
            text: descr.clone(),
        });
        if let Some((name, version)) = component_of(descr) {
            found.sightings.push(Sighting::Component {
                source: format!("{port}/udp SNMP sysDescr.0"),
                name,
                version,
            });
        }
    }
    if let Some(name) = &info.name {
        disclosed.push(format!("sysName {name:?}"));
    }
    if !disclosed.is_empty() {
        found.disclosures.push(Evidence::observed(
            format!("{port}/udp SNMP readable with community {community:?}"),
            disclosed.join(", "),
        ));
    }
    found
}
