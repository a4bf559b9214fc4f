//! A minimal SNMP v1/v2c agent on UDP: answers a GetRequest only for its community, with
//! `sysDescr.0`, `sysName.0`, `sysLocation.0` or, for any other object, noSuchObject; a
//! SetRequest succeeds (nothing is stored) when the community may write, else gets noAccess.
//! Wrong communities get silence, as from real agents.
//!
//! Public so that tests elsewhere can start an agent of their own on a socket they bound.

use std::sync::Arc;

use tokio::net::UdpSocket;

use super::ber::{element as tlv, split as take};

/// What a simulated agent answers.
#[derive(Debug)]
pub struct Agent {
    /// The one community string that reads; [`ANY_COMMUNITY`] reads with any.
    pub community: &'static str,
    /// The `sysDescr.0` value.
    pub descr: &'static str,
    /// The `sysName.0` value.
    pub sys_name: &'static str,
    /// Whether the community may write (SetRequest).
    pub writable: bool,
}

/// An [`Agent::community`] that accepts every community, as misconfigured agents do.
pub const ANY_COMMUNITY: &str = "*";

/// `1.3.6.1.2.1.1.1.0`, BER-encoded.
const SYS_DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];
/// `1.3.6.1.2.1.1.5.0`, BER-encoded.
const SYS_NAME: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 5, 0];
/// `1.3.6.1.2.1.1.6.0`, BER-encoded.
const SYS_LOCATION: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 6, 0];
/// The `sysLocation.0` every agent reports.
const LOCATION: &[u8] = b"lab rack 1";
/// Most variable bindings answered in one response.
const MAX_VARBINDS: usize = 16;

/// Answers datagrams on `socket` until the lab stops (each datagram is at most 1500 bytes).
pub async fn serve(socket: Arc<UdpSocket>, agent: &Agent) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        };
        if let Some(reply) = answer(&buf[..n], agent) {
            let _ = socket.send_to(&reply, peer).await;
        }
    }
}

/// The GetResponse to `request`, if it is a v1/v2c GetRequest with the right community.
fn answer(request: &[u8], agent: &Agent) -> Option<Vec<u8>> {
    let (0x30, message, _) = take(request)? else {
        return None;
    };
    let (0x02, version, rest) = take(message)? else {
        return None;
    };
    if version != [0] && version != [1] {
        return None;
    }
    let (0x04, community, rest) = take(rest)? else {
        return None;
    };
    if agent.community != ANY_COMMUNITY && community != agent.community.as_bytes() {
        return None;
    }
    let (kind @ (0xa0 | 0xa3), pdu, _) = take(rest)? else {
        return None;
    };
    let set = kind == 0xa3;
    let (0x02, id, rest) = take(pdu)? else {
        return None;
    };
    let (_, _, rest) = take(rest)?; // error status
    let (_, _, rest) = take(rest)?; // error index
    let (0x30, mut list, _) = take(rest)? else {
        return None;
    };
    let mut varbinds = Vec::new();
    for _ in 0..MAX_VARBINDS {
        if list.is_empty() {
            break;
        }
        let (0x30, varbind, rest) = take(list)? else {
            return None;
        };
        list = rest;
        let (0x06, oid, _) = take(varbind)? else {
            return None;
        };
        let value = if set {
            // A SET answers with the values it was given.
            let (_, _, rest) = take(varbind)?;
            let (tag, value, _) = take(rest)?;
            tlv(tag, value)
        } else if oid == SYS_DESCR {
            tlv(0x04, agent.descr.as_bytes())
        } else if oid == SYS_NAME {
            tlv(0x04, agent.sys_name.as_bytes())
        } else if oid == SYS_LOCATION {
            tlv(0x04, LOCATION)
        } else {
            vec![0x80, 0]
        };
        varbinds.extend(tlv(0x30, &[tlv(0x06, oid), value].concat()));
    }
    // noError, or noAccess (6) at the first binding for a SET the community may not make.
    let status = if set && !agent.writable {
        vec![2, 1, 6, 2, 1, 1]
    } else {
        vec![2, 1, 0, 2, 1, 0]
    };
    let pdu = tlv(
        0xa2,
        &[tlv(0x02, id), status, tlv(0x30, &varbinds)].concat(),
    );
    Some(tlv(
        0x30,
        &[tlv(0x02, version), tlv(0x04, community), pdu].concat(),
    ))
}
