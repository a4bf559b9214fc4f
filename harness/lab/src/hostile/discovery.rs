//! Hostile discovery services: SSDP answers pointing at UPnP descriptions nested thousands
//! deep or megabytes long, and an mDNS responder whose answers hold name-compression loops.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::stream::hold;

/// The SSDP port the personas answer M-SEARCH on.
pub(super) const SSDP_PORT: u16 = 1900;
/// The mDNS port the DNS-loop persona answers on.
pub(super) const MDNS_PORT: u16 = 5353;
/// Largest datagram read.
const MAX_DATAGRAM: usize = 9000;
/// Largest HTTP request head read before the description is sent anyway.
const MAX_HEAD: usize = 8 * 1024;
/// How long the description server waits for the request.
const REQUEST_WAIT: Duration = Duration::from_secs(10);
/// Nesting depth of the deep description (a recursive XML walk overflowed its stack at ~4000).
const DEEP_LEVELS: usize = 8000;
/// Bytes of the huge description.
const HUGE_BYTES: usize = 8 * 1024 * 1024;
/// Nesting depth at the start of the huge description.
const HUGE_LEVELS: usize = 5000;

/// Which description the HTTP server behind the SSDP answer serves.
#[derive(Debug, Clone, Copy)]
pub(super) enum Description {
    /// Well-formed, [`DEEP_LEVELS`] elements deep, small enough for any description size cap.
    Deep,
    /// Well-formed, [`HUGE_BYTES`] long, [`HUGE_LEVELS`] deep at its start.
    Huge,
}

impl Description {
    pub(super) fn label(self) -> &'static str {
        match self {
            Description::Deep => "upnp-description-deep",
            Description::Huge => "upnp-description-huge",
        }
    }

    fn document(self) -> Vec<u8> {
        let (levels, padding) = match self {
            Description::Deep => (DEEP_LEVELS, 0),
            Description::Huge => (HUGE_LEVELS, HUGE_BYTES),
        };
        let mut doc = Vec::with_capacity(levels * 7 + padding + 512);
        doc.extend_from_slice(
            b"<?xml version=\"1.0\"?>\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device>\
              <deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>\
              <modelName>Zoo Hostile</modelName><friendlyName>",
        );
        doc.resize(doc.len() + padding, b'x');
        doc.extend_from_slice(b"</friendlyName><deviceList>");
        for _ in 0..levels {
            doc.extend_from_slice(b"<a>");
        }
        for _ in 0..levels {
            doc.extend_from_slice(b"</a>");
        }
        doc.extend_from_slice(b"</deviceList></device></root>\n");
        doc
    }

    /// Reads the request head (bounded) and answers any request with the description.
    pub(super) async fn serve(self, mut stream: TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            match tokio::time::timeout(REQUEST_WAIT, stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                _ => return,
            }
        }
        let body = self.document();
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_ok()
            && stream.write_all(&body).await.is_ok()
        {
            hold(stream).await;
        }
    }
}

/// Answers every M-SEARCH on `socket` with a `LOCATION` at `description_port` of the same
/// address, one answer per datagram.
pub(super) async fn serve_ssdp(socket: UdpSocket, description_port: u16) {
    let Ok(local) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        if !buf[..n].starts_with(b"M-SEARCH") {
            continue;
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\nLOCATION: http://{}/rootDesc.xml\r\nSERVER: Zoo/1.0 UPnP/1.0 Hostile/1.0\r\nST: upnp:rootdevice\r\nUSN: uuid:00000000-0000-0000-0000-00000000700e::upnp:rootdevice\r\n\r\n",
            SocketAddr::new(local.ip(), description_port)
        );
        let _ = socket.send_to(answer.as_bytes(), peer).await;
    }
}

/// Answers every DNS query on `socket` with a response that echoes the question and carries
/// answers whose names loop through compression pointers, a different loop each time.
pub(super) async fn serve_mdns(socket: UdpSocket) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut round = 0usize;
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        if let Some(answer) = looping_answer(&buf[..n], round) {
            let _ = socket.send_to(&answer, peer).await;
        }
        round = round.wrapping_add(1);
    }
}

/// A DNS response to `query`: its id and question, then two PTR answers built to loop.
/// Variant `round % 3`: the answer's data points at itself; two names point at each other;
/// the answer's owner name is a label followed by a pointer back to that label.
fn looping_answer(query: &[u8], round: usize) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return None;
    }
    // The question: the name's labels, then type and class.
    let mut end = 12;
    loop {
        let length = usize::from(*query.get(end)?);
        if length == 0 {
            end += 1;
            break;
        }
        if length & 0xc0 != 0 {
            return None;
        }
        end += 1 + length;
    }
    end += 4;
    let question = query.get(12..end)?;
    let mut out = query[..2].to_vec();
    out.extend_from_slice(&[0x84, 0x00, 0, 1, 0, 2, 0, 0, 0, 0]);
    out.extend_from_slice(question);
    let pointer = |offset: usize| [0xc0 | (offset >> 8) as u8, offset as u8];
    for _ in 0..2 {
        let owner_at = out.len();
        match round % 3 {
            // Owner: the question's name. Data: a pointer to the data itself.
            0 => {
                out.extend_from_slice(&pointer(12));
                out.extend_from_slice(&[0, 12, 0, 1, 0, 0, 0, 120, 0, 2]);
                let data_at = out.len();
                out.extend_from_slice(&pointer(data_at));
            }
            // Owner points at the data; the data points at the owner.
            1 => {
                let data_at = owner_at + 2 + 10;
                out.extend_from_slice(&pointer(data_at));
                out.extend_from_slice(&[0, 12, 0, 1, 0, 0, 0, 120, 0, 2]);
                out.extend_from_slice(&pointer(owner_at));
            }
            // Owner: the label `zoo`, then a pointer back to that label.
            _ => {
                out.extend_from_slice(b"\x03zoo");
                out.extend_from_slice(&pointer(owner_at));
                out.extend_from_slice(&[0, 12, 0, 1, 0, 0, 0, 120, 0, 2]);
                out.extend_from_slice(&pointer(owner_at));
            }
        }
    }
    Some(out)
}
