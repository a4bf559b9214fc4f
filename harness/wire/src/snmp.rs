//! SNMP v1/v2c messages: GetRequests for system objects and a defensive walk over the
//! GetResponse. Hand-written BER for the one request shape jcstar sends; every length is
//! checked against the bytes that are there.

/// `1.3.6.1.2.1.1.1.0` (sysDescr.0), BER-encoded.
pub const SYS_DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];

/// One BER tag-length-value.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 128 {
        out.push(len as u8);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// A BER INTEGER.
pub fn integer(value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take(3).take_while(|&&b| b == 0).count();
    let mut content = bytes[skip..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

/// A GetRequest for sysDescr.0; `version` 0 is v1, 1 is v2c.
pub fn get_request(version: u32, community: &str, request_id: u32) -> Vec<u8> {
    get_request_for(version, community, request_id, &[SYS_DESCR])
}

/// A GetRequest for several objects (BER-encoded OIDs, e.g. [`SYS_DESCR`]); `version` 0 is
/// v1, 1 is v2c.
pub fn get_request_for(version: u32, community: &str, request_id: u32, oids: &[&[u8]]) -> Vec<u8> {
    let varbinds: Vec<u8> = oids
        .iter()
        .flat_map(|oid| tlv(0x30, &[tlv(0x06, oid), vec![0x05, 0x00]].concat()))
        .collect();
    message(version, community, 0xa0, request_id, &varbinds)
}

/// A v1/v2c message: `version`, `community` and a PDU of `kind` (0xa0 Get, 0xa3 Set) with
/// `request_id`, no error, and the encoded variable bindings `varbinds`.
fn message(version: u32, community: &str, kind: u8, request_id: u32, varbinds: &[u8]) -> Vec<u8> {
    let pdu = tlv(
        kind,
        &[
            integer(request_id),
            integer(0),
            integer(0),
            tlv(0x30, varbinds),
        ]
        .concat(),
    );
    tlv(
        0x30,
        &[integer(version), tlv(0x04, community.as_bytes()), pdu].concat(),
    )
}

/// Splits one BER TLV off `data`: (tag, content, rest); `None` on anything malformed.
pub fn take(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    let first = *data.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*data.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let content = data.get(header..header.checked_add(len)?)?;
    Some((tag, content, &data[header + len..]))
}

fn uint(content: &[u8]) -> Option<u32> {
    if content.is_empty() || content.len() > 5 {
        return None;
    }
    Some(
        content
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)),
    )
}

/// The sysDescr value of a GetResponse to `request_id` without error, if that is what `data` is.
pub fn parse_response(data: &[u8], request_id: u32) -> Option<String> {
    let bindings = parse_varbinds(data, request_id, 1)?;
    match bindings.into_iter().next()?.1 {
        SnmpValue::Text(text) => Some(text),
        // The community worked; the object is missing.
        SnmpValue::Missing => Some("(no sysDescr)".into()),
        SnmpValue::Other(_) => None,
    }
}

/// One value of a GetResponse variable binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnmpValue {
    /// An OCTET STRING, escaped and bounded.
    Text(String),
    /// noSuchObject, noSuchInstance or endOfMibView: the object is not there.
    Missing,
    /// Any other type, by its BER tag.
    Other(u8),
}

/// The error status and variable-binding list of a GetResponse to `request_id`; `None` when
/// `data` is not such a response.
fn response_pdu(data: &[u8], request_id: u32) -> Option<(u32, &[u8])> {
    let (0x30, message, _) = take(data)? else {
        return None;
    };
    let (0x02, _version, rest) = take(message)? else {
        return None;
    };
    let (0x04, _community, rest) = take(rest)? else {
        return None;
    };
    let (0xa2, pdu, _) = take(rest)? else {
        return None;
    };
    let (0x02, id, rest) = take(pdu)? else {
        return None;
    };
    if uint(id)? != request_id {
        return None;
    }
    let (0x02, status, rest) = take(rest)? else {
        return None;
    };
    let status = uint(status)?;
    let (0x02, _index, rest) = take(rest)? else {
        return None;
    };
    let (0x30, list, _) = take(rest)? else {
        return None;
    };
    Some((status, list))
}

/// The error status of a GetResponse to `request_id` (0: noError, 4: readOnly, 6: noAccess,
/// 16: authorizationError, 17: notWritable, …); `None` when `data` is not such a response.
pub fn response_status(data: &[u8], request_id: u32) -> Option<u32> {
    response_pdu(data, request_id).map(|(status, _)| status)
}

/// The raw bytes of the first binding's OCTET STRING in a GetResponse to `request_id`
/// without error (what a SET must send back to leave the object as it was).
pub fn first_octets(data: &[u8], request_id: u32) -> Option<Vec<u8>> {
    let (0, list) = response_pdu(data, request_id)? else {
        return None;
    };
    let (0x30, varbind, _) = take(list)? else {
        return None;
    };
    let (0x06, _oid, rest) = take(varbind)? else {
        return None;
    };
    let (0x04, value, _) = take(rest)? else {
        return None;
    };
    Some(value.to_vec())
}

/// A SetRequest of one OCTET STRING object (BER-encoded OID) to `value`; `version` 0 is v1,
/// 1 is v2c.
pub fn set_request(
    version: u32,
    community: &str,
    request_id: u32,
    oid: &[u8],
    value: &[u8],
) -> Vec<u8> {
    let varbind = tlv(0x30, &[tlv(0x06, oid), tlv(0x04, value)].concat());
    message(version, community, 0xa3, request_id, &varbind)
}

/// The (BER-encoded OID, value) bindings of a GetResponse to `request_id` without error, at
/// most `max` of them; `None` when `data` is not such a response.
pub fn parse_varbinds(
    data: &[u8],
    request_id: u32,
    max: usize,
) -> Option<Vec<(Vec<u8>, SnmpValue)>> {
    let (0, mut list) = response_pdu(data, request_id)? else {
        return None;
    };
    let mut out = Vec::new();
    while !list.is_empty() && out.len() < max {
        let (0x30, varbind, rest) = take(list)? else {
            return None;
        };
        list = rest;
        let (0x06, oid, rest) = take(varbind)? else {
            return None;
        };
        let (tag, value, _) = take(rest)?;
        let value = match tag {
            0x04 => SnmpValue::Text(jcstar_model::escape_bytes(value)),
            0x80..=0x82 => SnmpValue::Missing,
            other => SnmpValue::Other(other),
        };
        out.push((oid.to_vec(), value));
    }
    Some(out)
}

/// `1.3.6.1.2.1.1.5.0` (sysName.0), BER-encoded.
pub const SYS_NAME: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 5, 0];

/// `1.3.6.1.2.1.1.6.0` (sysLocation.0), BER-encoded: writable on an agent that grants write
/// access, and harmless to set to the value it already holds.
pub const SYS_LOCATION: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 6, 0];

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_round_trips_through_the_parser_shape() {
        let req = get_request(1, "public", 0x1234);
        assert_eq!(&req[..2], &[0x30, req.len() as u8 - 2]);
        // Turn the request into a response carrying a value.
        let varbind = tlv(
            0x30,
            &[tlv(0x06, SYS_DESCR), tlv(0x04, b"LAB-RTR-1 router")].concat(),
        );
        let pdu = tlv(
            0xa2,
            &[integer(0x1234), integer(0), integer(0), tlv(0x30, &varbind)].concat(),
        );
        let resp = tlv(0x30, &[integer(1), tlv(0x04, b"public"), pdu].concat());
        assert_eq!(
            parse_response(&resp, 0x1234).as_deref(),
            Some("LAB-RTR-1 router")
        );
        assert_eq!(parse_response(&resp, 0x1235), None);
    }

    #[test]
    fn garbage_is_not_an_answer() {
        for data in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x02\x02\x00",
            &[0xff; 64],
        ] {
            assert_eq!(parse_response(data, 1), None);
        }
    }

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

    proptest! {
        /// Any bytes, and any damage to a real response, parse to something or to `None`.
        #[test]
        fn arbitrary_and_damaged_responses_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        ) {
            let _ = parse_varbinds(&data, 1, 8);
            let _ = take(&data);
            let mut good = response(3, &[(SYS_DESCR, tlv(0x04, b"Linux r 6.1 x")), (SYS_NAME, tlv(0x04, b"r"))]);
            for (at, byte) in edits {
                let len = good.len();
                good[at % len] = byte;
            }
            let _ = parse_system(&good, 3);
            let _ = component_of(&String::from_utf8_lossy(&data));
        }

        /// A GetRequest for any community and id carries both, readable by the same walker.
        #[test]
        fn requests_carry_community_and_id(community in "[ -~]{0,200}", id in any::<u32>()) {
            let request = get_request(1, &community, id);
            let (tag, message, rest) = take(&request).expect("one TLV");
            prop_assert_eq!(tag, 0x30);
            prop_assert!(rest.is_empty());
            let (_, _, after_version) = take(message).expect("version");
            let (_, sent, _) = take(after_version).expect("community");
            prop_assert_eq!(sent, community.as_bytes());
        }
    }

    #[test]
    fn set_requests_and_their_answers() {
        let set = set_request(1, "private", 77, SYS_LOCATION, b"lab rack 3");
        let (0x30, message, _) = take(&set).expect("tlv") else {
            panic!("not a sequence")
        };
        let (_, _, rest) = take(message).expect("version");
        let (_, _, rest) = take(rest).expect("community");
        let (tag, _, _) = take(rest).expect("pdu");
        assert_eq!(tag, 0xa3);
        let answer = response(77, &[(SYS_LOCATION, tlv(0x04, b"lab rack 3"))]);
        assert_eq!(
            first_octets(&answer, 77).as_deref(),
            Some(&b"lab rack 3"[..])
        );
        assert_eq!(response_status(&answer, 77), Some(0));
        assert_eq!(response_status(&answer, 78), None);
        let varbind = tlv(0x30, &[tlv(0x06, SYS_LOCATION), vec![0x05, 0]].concat());
        let pdu = tlv(
            0xa2,
            &[integer(77), integer(17), integer(1), tlv(0x30, &varbind)].concat(),
        );
        let refused = tlv(0x30, &[integer(1), tlv(0x04, b"public"), pdu].concat());
        assert_eq!(response_status(&refused, 77), Some(17));
        assert_eq!(first_octets(&refused, 77), None);
    }
}
