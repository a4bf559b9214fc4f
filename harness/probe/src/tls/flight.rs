//! Sends a ClientHello and reads the server's first flight within a deadline; the parsing is
//! [`jcstar_wire::tls::flight`]'s.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use jcstar_wire::tls::flight::*;

/// Sends `hello` to `addr` and reads the answer within `deadline`.
pub async fn exchange(addr: SocketAddr, hello: &[u8], deadline: Duration) -> Outcome {
    match crate::budget::timeout(deadline, exchange_inner(addr, hello)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Failed(Failure::Exchange(format!(
            "no complete answer within {} ms",
            deadline.as_millis()
        ))),
    }
}

async fn exchange_inner(addr: SocketAddr, hello: &[u8]) -> Outcome {
    let mut stream = match crate::budget::connect(addr, None).await {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(Failure::Exchange(format!("connect: {e}"))),
    };
    let _ = stream.set_nodelay(true);
    if let Err(e) = stream.write_all(hello).await {
        return Outcome::Failed(Failure::Exchange(format!("send: {e}")));
    }
    let mut parser = FlightParser::default();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(n) => n,
            Err(e) if parser.has_hello() => {
                tracing::trace!(error = %e, "read after ServerHello failed");
                0
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionReset && parser.bytes_seen() == 0 =>
            {
                return Outcome::Refused(Refusal::ResetSilently)
            }
            Err(e) => return Outcome::Failed(Failure::Exchange(format!("read: {e}"))),
        };
        if n == 0 {
            return parser.finish_on_close();
        }
        if let Some(outcome) = parser.feed(&buf[..n]) {
            return outcome;
        }
    }
}
