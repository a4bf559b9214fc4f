//! The shared loop of the lab's UDP servers, and a UDP port that never answers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

/// Largest datagram a simulated UDP server reads; longer ones are cut (and then mostly ignored).
pub(crate) const MAX_DATAGRAM: usize = 9000;

/// Answers datagrams on `socket` until the lab stops: `answer(datagram, local, peer)` gives the
/// reply, if any. Each datagram gets at most one reply, so a spoofed source cannot be amplified
/// into a flood.
pub(crate) async fn serve<F>(socket: Arc<UdpSocket>, answer: F)
where
    F: Fn(&[u8], SocketAddr, SocketAddr) -> Option<Vec<u8>>,
{
    let Ok(local) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            // ICMP errors from earlier replies surface here; do not spin on them.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        if let Some(reply) = answer(&buf[..n], local, peer) {
            let _ = socket.send_to(&reply, peer).await;
        }
    }
}

/// A bound UDP port that reads and drops every datagram: the state a prober sees as no answer.
pub(crate) async fn serve_silent(socket: Arc<UdpSocket>) {
    serve(socket, |_, _, _| None).await;
}

/// The NAT-PMP (RFC 6886 section 3.2) answer to an external-address request (version 0,
/// opcode 0): result 0, seconds since start 0, `external`; nothing for anything else.
pub(crate) fn nat_pmp_answer(request: &[u8], external: [u8; 4]) -> Option<Vec<u8>> {
    if request != [0, 0] {
        return None;
    }
    let mut reply = vec![0, 128, 0, 0, 0, 0, 0, 0];
    reply.extend_from_slice(&external);
    Some(reply)
}
