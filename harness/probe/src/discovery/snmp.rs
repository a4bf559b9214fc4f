//! SNMP v2c/v1 GET of `sysDescr.0` and `sysName.0` with the profile's communities. An agent
//! answers only a community it knows, so silence with one community is not a closed port;
//! only ICMP port unreachable is.

use std::net::SocketAddr;

use super::{exchange_on, random_u32, Answer, Discovered, UdpSettings};
use crate::probes::snmp::{get_request_for, parse_varbinds, SnmpValue, SYS_DESCR};
use jcstar_model::observed::Sighting;
use jcstar_model::Evidence;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::SNMP;

/// `1.3.6.1.2.1.1.5.0` (sysName.0), BER-encoded.
pub const SYS_NAME: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 5, 0];

/// What an agent told one community.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SystemInfo {
    /// `sysDescr.0`, if the agent has it.
    pub descr: Option<String>,
    /// `sysName.0`, if the agent has it.
    pub name: Option<String>,
}

/// The system group of a GetResponse to `request_id`, if `data` is one.
pub fn parse_system(data: &[u8], request_id: u32) -> Option<SystemInfo> {
    let bindings = parse_varbinds(data, request_id, 8)?;
    let mut info = SystemInfo::default();
    for (oid, value) in bindings {
        let SnmpValue::Text(text) = value else {
            continue;
        };
        if oid == SYS_DESCR {
            info.descr = Some(text);
        } else if oid == SYS_NAME {
            info.name = Some(text);
        }
    }
    Some(info)
}

/// A software component a `sysDescr` names, when it follows a shape jcstar recognises:
/// net-snmp's `Linux <host> <kernel> …`, or `… firmware|version|FW <version>`.
pub fn component_of(descr: &str) -> Option<(String, Option<String>)> {
    let words: Vec<&str> = descr.split_whitespace().take(64).collect();
    if words.first() == Some(&"Linux") && words.len() >= 3 {
        return Some(("Linux".to_string(), Some(words[2].to_string())));
    }
    let at = words.iter().position(|w| {
        let w = w.trim_end_matches(':').to_ascii_lowercase();
        w == "firmware" || w == "version" || w == "fw" || w == "ver."
    })?;
    let version = words.get(at + 1)?;
    if !version.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(("firmware".to_string(), Some(version.to_string())))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::snmp::{integer, tlv};

    fn response(id: u32, bindings: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
        let list: Vec<u8> = bindings
            .iter()
            .flat_map(|(oid, value)| tlv(0x30, &[tlv(0x06, oid), value.clone()].concat()))
            .collect();
        let pdu = tlv(
            0xa2,
            &[integer(id), integer(0), integer(0), tlv(0x30, &list)].concat(),
        );
        tlv(0x30, &[integer(1), tlv(0x04, b"public"), pdu].concat())
    }

    #[test]
    fn reads_descr_and_name_in_any_order() {
        let data = response(
            7,
            &[
                (SYS_NAME, tlv(0x04, b"router")),
                (SYS_DESCR, tlv(0x04, b"Linux router 6.1.0-18-amd64 #1 SMP")),
            ],
        );
        let info = parse_system(&data, 7).expect("a response");
        assert_eq!(info.name.as_deref(), Some("router"));
        assert_eq!(
            info.descr.as_deref(),
            Some("Linux router 6.1.0-18-amd64 #1 SMP")
        );
        assert_eq!(parse_system(&data, 8), None);
    }

    #[test]
    fn missing_objects_and_wrong_types_are_absent_not_errors() {
        let data = response(
            9,
            &[(SYS_DESCR, vec![0x80, 0]), (SYS_NAME, tlv(0x02, &[5]))],
        );
        assert_eq!(parse_system(&data, 9), Some(SystemInfo::default()));
    }

    #[test]
    fn garbage_truncated_and_oversized_never_panic() {
        let good = response(3, &[(SYS_DESCR, tlv(0x04, &[b'x'; 300]))]);
        for end in 0..good.len() {
            assert_eq!(parse_system(&good[..end], 3), None, "cut at {end}");
        }
        let mut lying = good.clone();
        lying[1] = 0x84; // a 4-byte length the parser refuses
        assert_eq!(parse_system(&lying, 3), None);
        assert_eq!(parse_system(&[0xff; 2000], 3), None);
        assert_eq!(parse_system(&[0x30, 0x82, 0xff, 0xff], 3), None);
        let info = parse_system(&good, 3).expect("long value");
        assert!(info.descr.expect("descr").len() <= jcstar_model::EVIDENCE_MAX_CHARS + 4);
    }

    #[test]
    fn components_from_known_sysdescr_shapes_only() {
        assert_eq!(
            component_of("Linux jcs-router 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC x86_64"),
            Some(("Linux".into(), Some("6.1.0-18-amd64".into())))
        );
        assert_eq!(
            component_of("JCS-NVR-1300 firmware 1.0"),
            Some(("firmware".into(), Some("1.0".into())))
        );
        assert_eq!(component_of("a printer"), None);
        assert_eq!(component_of("version unknown"), None);
        assert_eq!(component_of(""), None);
    }
}
