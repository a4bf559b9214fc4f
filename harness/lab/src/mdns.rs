//! An mDNS responder answering unicast (legacy, RFC 6762 §6.7) DNS-SD queries: the service
//! type list, each type's instance with its TXT (and SRV) record, and TXT queries. Multicast is
//! never sent: the responder only answers the asker.

use simple_dns::rdata::{RData, PTR, SRV, TXT};
use simple_dns::{Name, Packet, PacketFlag, ResourceRecord, CLASS, QTYPE, TYPE};

/// One advertised service instance.
#[derive(Debug)]
pub(crate) struct MdnsService {
    /// Service type, e.g. `_http._tcp.local`.
    pub service_type: &'static str,
    /// Instance name, e.g. `JCS-HUB-2200._http._tcp.local`.
    pub instance: &'static str,
    /// Port the SRV record names.
    pub port: u16,
    /// TXT strings (`key=value`).
    pub txt: &'static [&'static str],
}

const SERVICES: &str = "_services._dns-sd._udp.local";
const TTL: u32 = 120;

fn name(text: &str) -> Name<'_> {
    Name::new_unchecked(text)
}

fn txt_record(service: &MdnsService) -> Option<ResourceRecord<'static>> {
    let mut txt = TXT::new();
    for s in service.txt {
        txt.add_string(s).ok()?;
    }
    Some(ResourceRecord::new(
        name(service.instance),
        CLASS::IN,
        TTL,
        RData::TXT(txt),
    ))
}

/// The reply to one datagram, if it is a query for something the responder has.
pub(crate) fn answer(datagram: &[u8], services: &[MdnsService], host: &str) -> Option<Vec<u8>> {
    let query = Packet::parse(datagram).ok()?;
    if query.has_flags(PacketFlag::RESPONSE) {
        return None;
    }
    let mut reply = Packet::new_reply(query.id());
    reply.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    for question in query.questions.iter().take(4) {
        let asked = question.qname.to_string();
        let qtype = question.qtype;
        let mut answered = false;
        for service in services {
            if asked.eq_ignore_ascii_case(SERVICES) && matches!(qtype, QTYPE::TYPE(TYPE::PTR)) {
                reply.answers.push(ResourceRecord::new(
                    name(SERVICES),
                    CLASS::IN,
                    TTL,
                    RData::PTR(PTR(name(service.service_type))),
                ));
                answered = true;
            } else if asked.eq_ignore_ascii_case(service.service_type)
                && matches!(qtype, QTYPE::TYPE(TYPE::PTR))
            {
                reply.answers.push(ResourceRecord::new(
                    name(service.service_type),
                    CLASS::IN,
                    TTL,
                    RData::PTR(PTR(name(service.instance))),
                ));
                reply.additional_records.extend(txt_record(service));
                reply.additional_records.push(ResourceRecord::new(
                    name(service.instance),
                    CLASS::IN,
                    TTL,
                    RData::SRV(SRV {
                        priority: 0,
                        weight: 0,
                        port: service.port,
                        target: name(host),
                    }),
                ));
                answered = true;
            } else if asked.eq_ignore_ascii_case(service.instance)
                && matches!(qtype, QTYPE::TYPE(TYPE::TXT))
            {
                reply.answers.extend(txt_record(service));
                answered = true;
            }
        }
        if answered {
            // Legacy unicast answers repeat the question.
            reply.questions.push(question.clone());
        }
    }
    if reply.answers.is_empty() {
        return None;
    }
    reply.build_bytes_vec().ok()
}
