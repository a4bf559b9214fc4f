//! SNMP v1/v2c over UDP: a GET of `sysDescr.0` with a community string. An agent answers only
//! a community it knows, so silence is a refusal. Hand-written BER: one request shape and a
//! defensive walk over the answer.

use std::net::SocketAddr;
use std::time::Duration;

use super::io::Bounds;
use super::udp;
use super::{ExchangeError, LoginOutcome};
use jcstar_model::Evidence;

/// `1.3.6.1.2.1.1.1.0` (sysDescr.0), BER-encoded.
pub const SYS_DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];

/// One BER tag-length-value.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
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
pub(crate) fn integer(value: u32) -> Vec<u8> {
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
    let pdu = tlv(
        0xa0,
        &[
            integer(request_id),
            integer(0),
            integer(0),
            tlv(0x30, &varbinds),
        ]
        .concat(),
    );
    tlv(
        0x30,
        &[integer(version), tlv(0x04, community.as_bytes()), pdu].concat(),
    )
}

/// Splits one BER TLV off `data`: (tag, content, rest); `None` on anything malformed.
pub(crate) fn take(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
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

/// The (BER-encoded OID, value) bindings of a GetResponse to `request_id` without error, at
/// most `max` of them; `None` when `data` is not such a response.
pub fn parse_varbinds(
    data: &[u8],
    request_id: u32,
    max: usize,
) -> Option<Vec<(Vec<u8>, SnmpValue)>> {
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
    if uint(status)? != 0 {
        return None;
    }
    let (0x02, _index, rest) = take(rest)? else {
        return None;
    };
    let (0x30, mut list, _) = take(rest)? else {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
