//! mDNS / DNS-SD asked by unicast (RFC 6762 §6.7 "legacy unicast": a query from a port other
//! than 5353 is answered directly to the asker): the service types
//! (`_services._dns-sd._udp.local`), each type's instances, and their TXT records, where
//! devices put model (`md=`, `model=`, `ty=`) and firmware (`fw=`, …) strings.

use std::net::SocketAddr;

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, QCLASS, QTYPE, TYPE};
use tokio::net::UdpSocket;

use super::{exchange_on, random_u32, Answer, Discovered, UdpBounds, UdpSettings};
use jcstar_model::observed::Sighting;
use jcstar_model::Evidence;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::MDNS;

/// The DNS-SD meta-query name listing every service type.
pub const SERVICES: &str = "_services._dns-sd._udp.local";

/// Most records read from one answer.
const MAX_RECORDS: usize = 64;
/// Most TXT attributes kept per instance.
const MAX_ATTRIBUTES: usize = 24;

/// TXT keys (lower case) that name the model.
const MODEL_KEYS: &[&str] = &[
    "md",
    "model",
    "mdl",
    "ty",
    "product",
    "usb_mdl",
    "modelname",
    "model_name",
];
/// TXT keys (lower case) that give a firmware or software version.
const FIRMWARE_KEYS: &[&str] = &[
    "fw",
    "fwver",
    "fw_ver",
    "fv",
    "firmware",
    "firmware_version",
    "fwversion",
    "sw",
    "swversion",
    "sw_version",
    "srcvers",
];

/// One instance's TXT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtRecord {
    /// Instance name, e.g. `Printer._ipp._tcp.local`.
    pub instance: String,
    /// (key, value) pairs in wire order (value empty for a key without `=`).
    pub attributes: Vec<(String, String)>,
}

/// What one answer holds that DNS-SD discovery needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MdnsAnswer {
    /// PTR targets answered for the asked name (service types, or instances).
    pub pointers: Vec<String>,
    /// TXT records anywhere in the answer.
    pub txt: Vec<TxtRecord>,
}

/// A query for `name` of type `qtype` with DNS ID `id`.
pub fn query(id: u16, name: &str, qtype: TYPE) -> Option<Vec<u8>> {
    let mut packet = Packet::new_query(id);
    packet.questions.push(Question::new(
        Name::new(name).ok()?,
        QTYPE::TYPE(qtype),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    packet.build_bytes_vec().ok()
}

/// Parses `data` as the answer to query `id` for `name`; `None` when it is not one.
pub fn parse_answer(data: &[u8], id: u16, name: &str) -> Option<MdnsAnswer> {
    let packet = Packet::parse(data).ok()?;
    if !packet.has_flags(PacketFlag::RESPONSE) || packet.id() != id {
        return None;
    }
    let mut answer = MdnsAnswer::default();
    for record in packet
        .answers
        .iter()
        .chain(&packet.additional_records)
        .take(MAX_RECORDS)
    {
        let owner = record.name.to_string();
        match &record.rdata {
            RData::PTR(ptr) if owner.eq_ignore_ascii_case(name) => {
                let target = jcstar_model::bounded_to(&ptr.0.to_string(), 255);
                if !answer.pointers.contains(&target) {
                    answer.pointers.push(target);
                }
            }
            RData::TXT(txt) => {
                let attributes = txt
                    .iter_raw()
                    .take(MAX_ATTRIBUTES)
                    .map(|(k, v)| {
                        (
                            jcstar_model::escape_bytes(k),
                            v.map(|v| {
                                jcstar_model::bounded_to(&jcstar_model::escape_bytes(v), 200)
                            })
                            .unwrap_or_default(),
                        )
                    })
                    .collect();
                answer.txt.push(TxtRecord {
                    instance: jcstar_model::bounded_to(&owner, 255),
                    attributes,
                });
            }
            _ => {}
        }
    }
    Some(answer)
}

/// One unicast query on `socket`, answered or not.
async fn ask(
    socket: &UdpSocket,
    name: &str,
    qtype: TYPE,
    bounds: &UdpBounds,
) -> (Answer, Option<MdnsAnswer>, Vec<u8>) {
    let id = (random_u32() as u16).max(1);
    let Some(request) = query(id, name, qtype) else {
        return (
            Answer::Failed(format!("cannot encode a query for {name:?}")),
            None,
            Vec::new(),
        );
    };
    let answer = exchange_on(socket, None, std::slice::from_ref(&request), bounds, |d| {
        parse_answer(d, id, name).is_some()
    })
    .await;
    let parsed = match &answer {
        Answer::Reply(data) => parse_answer(data, id, name),
        _ => None,
    };
    (answer, parsed, request)
}

/// Service types, their instances and TXT records from the responder at `address`.
pub async fn probe(address: SocketAddr, settings: &UdpSettings) -> Discovered {
    let port = address.port();
    let socket = match super::connected_socket(address).await {
        Ok(socket) => socket,
        Err(e) => {
            return Discovered::state(
                port,
                SERVICE,
                &Answer::Failed(format!("cannot open a UDP socket: {e}")),
            )
        }
    };
    let bounds = UdpBounds::from(settings);
    let (answer, first, request) = ask(&socket, SERVICES, TYPE::PTR, &bounds).await;
    let Answer::Reply(data) = &answer else {
        return Discovered::state(port, SERVICE, &answer);
    };
    let mut found = Discovered::state(port, SERVICE, &answer);
    found.exchange = Some(Evidence::exchange(
        format!("{port}/udp mDNS unicast query PTR {SERVICES}"),
        &request,
        data,
    ));
    let types: Vec<String> = first
        .map(|a| a.pointers)
        .unwrap_or_default()
        .into_iter()
        .take(settings.mdns_max_services)
        .collect();
    // Follow-up queries get one attempt each: the responder has shown it answers.
    let follow = UdpBounds {
        attempts: 1,
        ..bounds
    };
    // All follow-up queries together get the time of the first query's attempts, twice.
    let budget = bounds.attempt * bounds.attempts.max(1) * 2;
    let stop = tokio::time::Instant::now() + budget;
    let mut records: Vec<TxtRecord> = Vec::new();
    for service_type in &types {
        if tokio::time::Instant::now() >= stop {
            found.notes.push(format!(
                "mDNS follow-up queries stopped after {} ms",
                budget.as_millis()
            ));
            break;
        }
        let (_, instances, _) = ask(&socket, service_type, TYPE::PTR, &follow).await;
        let Some(instances) = instances else {
            continue;
        };
        records.extend(instances.txt);
        for instance in instances.pointers.iter().take(4) {
            if tokio::time::Instant::now() >= stop {
                break;
            }
            if records
                .iter()
                .any(|r| r.instance.eq_ignore_ascii_case(instance))
            {
                continue;
            }
            if let (_, Some(txt), _) = ask(&socket, instance, TYPE::TXT, &follow).await {
                records.extend(txt.txt);
            }
        }
    }
    records.dedup_by(|a, b| a.instance.eq_ignore_ascii_case(&b.instance));
    let mut detail = format!(
        "mDNS services: {}",
        if types.is_empty() {
            "(none listed)".to_string()
        } else {
            types.join(" ")
        }
    );
    for record in records.iter().take(8) {
        let pairs: Vec<String> = record
            .attributes
            .iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                MODEL_KEYS.contains(&k.as_str()) || FIRMWARE_KEYS.contains(&k.as_str())
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !pairs.is_empty() {
            detail.push_str(&format!("; {} TXT {}", record.instance, pairs.join(" ")));
        }
        for (key, value) in &record.attributes {
            let lower = key.to_ascii_lowercase();
            let source = format!("{port}/udp mDNS TXT {} {key}", record.instance);
            if value.is_empty() {
                continue;
            }
            if MODEL_KEYS.contains(&lower.as_str()) {
                found.sightings.push(Sighting::Model {
                    source,
                    text: value.clone(),
                });
            } else if FIRMWARE_KEYS.contains(&lower.as_str()) {
                found.sightings.push(Sighting::Component {
                    source,
                    name: "firmware".to_string(),
                    version: Some(value.clone()),
                });
            }
        }
    }
    found.with_detail(&detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_dns::rdata::{PTR, TXT};
    use simple_dns::ResourceRecord;

    fn reply(id: u16, owner: &str, targets: &[&str], txt: Option<(&str, &[&str])>) -> Vec<u8> {
        let mut packet = Packet::new_reply(id);
        for target in targets {
            packet.answers.push(ResourceRecord::new(
                Name::new_unchecked(owner),
                CLASS::IN,
                10,
                RData::PTR(PTR(Name::new_unchecked(target))),
            ));
        }
        if let Some((instance, strings)) = txt {
            let mut record = TXT::new();
            for s in strings {
                record.add_string(s).expect("txt");
            }
            packet.additional_records.push(ResourceRecord::new(
                Name::new_unchecked(instance),
                CLASS::IN,
                10,
                RData::TXT(record),
            ));
        }
        packet.build_bytes_vec().expect("encode")
    }

    #[test]
    fn service_types_and_txt() {
        let data = reply(
            5,
            SERVICES,
            &["_http._tcp.local", "_ipp._tcp.local"],
            Some((
                "Cam._http._tcp.local",
                &["md=JCS-CAM-2200", "fw=2.2.0", "flag"],
            )),
        );
        let answer = parse_answer(&data, 5, SERVICES).expect("ours");
        assert_eq!(answer.pointers, ["_http._tcp.local", "_ipp._tcp.local"]);
        assert_eq!(answer.txt.len(), 1);
        assert_eq!(answer.txt[0].instance, "Cam._http._tcp.local");
        assert_eq!(
            answer.txt[0].attributes,
            [
                ("md".to_string(), "JCS-CAM-2200".to_string()),
                ("fw".to_string(), "2.2.0".to_string()),
                ("flag".to_string(), String::new())
            ]
        );
        assert_eq!(parse_answer(&data, 6, SERVICES), None);
        // PTRs for another name are not the answer's pointers.
        let other = parse_answer(&data, 5, "_x._tcp.local").expect("ours");
        assert!(other.pointers.is_empty());
    }

    #[test]
    fn queries_are_not_answers_and_garbage_never_panics() {
        let q = query(9, SERVICES, TYPE::PTR).expect("query");
        assert_eq!(parse_answer(&q, 9, SERVICES), None);
        let good = reply(
            1,
            SERVICES,
            &["_a._tcp.local"],
            Some(("x.local", &["md=a"])),
        );
        for end in 0..good.len() {
            let _ = parse_answer(&good[..end], 1, SERVICES);
        }
        for data in [&b""[..], &[0xff; 12], &[0x00; 512], &[0xc0; 100]] {
            let _ = parse_answer(data, 1, SERVICES);
        }
        // A compression pointer loop.
        let mut looped = vec![0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        looped.extend([0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 10, 0, 2, 0xc0, 12]);
        let _ = parse_answer(&looped, 1, SERVICES);
    }
}
