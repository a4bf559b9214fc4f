//! mDNS / DNS-SD messages (through simple-dns): queries, and the PTR and TXT records of an
//! answer, capped in records and attributes, with the TXT keys that name a model or firmware.

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, QCLASS, QTYPE, TYPE};

/// The DNS-SD meta-query name listing every service type.
pub const SERVICES: &str = "_services._dns-sd._udp.local";

/// Most records read from one answer.
const MAX_RECORDS: usize = 64;
/// Most TXT attributes kept per instance.
const MAX_ATTRIBUTES: usize = 24;

/// TXT keys (lower case) that name the model.
pub const MODEL_KEYS: &[&str] = &[
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
pub const FIRMWARE_KEYS: &[&str] = &[
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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

    /// A name whose compression pointer points at itself, or two that point at each other,
    /// is refused rather than followed for ever.
    #[test]
    fn compression_pointer_loops_are_refused() {
        let header = [0x12, 0x34, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
        let mut self_loop = header.to_vec();
        self_loop.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 10, 0, 0]);
        assert_eq!(parse_answer(&self_loop, 0x1234, SERVICES), None);
        let mut pair = header.to_vec();
        pair.extend_from_slice(&[1, b'a', 0xc0, 16, 1, b'b', 0xc0, 12]);
        pair.extend_from_slice(&[0, 12, 0, 1, 0, 0, 0, 10, 0, 0]);
        assert_eq!(parse_answer(&pair, 0x1234, SERVICES), None);
    }

    proptest! {
        /// Any datagram, and any damage to a real answer, parses or is refused, never panics,
        /// within the record and attribute caps.
        #[test]
        fn arbitrary_and_damaged_answers_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..1500),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        ) {
            let _ = parse_answer(&data, 0, SERVICES);
            let mut packet = simple_dns::Packet::new_reply(7);
            let name = Name::new_unchecked(SERVICES);
            let target = Name::new_unchecked("_ipp._tcp.local");
            packet.answers.push(simple_dns::ResourceRecord::new(
                name,
                CLASS::IN,
                120,
                RData::PTR(simple_dns::rdata::PTR(target)),
            ));
            let mut bytes = packet.build_bytes_vec().expect("builds");
            for (at, byte) in edits {
                let len = bytes.len();
                bytes[at % len] = byte;
            }
            if let Some(answer) = parse_answer(&bytes, 7, SERVICES) {
                prop_assert!(answer.pointers.len() <= MAX_RECORDS);
                prop_assert!(answer.txt.iter().all(|t| t.attributes.len() <= MAX_ATTRIBUTES));
            }
        }
    }
}
