//! mDNS / DNS-SD asked by unicast (RFC 6762 §6.7 "legacy unicast": a query from a port other
//! than 5353 is answered directly to the asker): the service types
//! (`_services._dns-sd._udp.local`), each type's instances, and their TXT records, where
//! devices put model (`md=`, `model=`, `ty=`) and firmware (`fw=`, …) strings.

use std::net::SocketAddr;

use simple_dns::TYPE;
use tokio::net::UdpSocket;

use super::{exchange_on, random_u32, Answer, Discovered, UdpBounds, UdpSettings};
use jcstar_model::observed::Sighting;
use jcstar_model::Evidence;

/// Service name in reports.
pub const SERVICE: &str = jcstar_model::profile::udp::service::MDNS;

pub use jcstar_wire::mdns::*;

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
