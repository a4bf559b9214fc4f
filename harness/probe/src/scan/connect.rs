//! One TCP connect probe: socket2 socket with SO_LINGER=0, tokio connect
//! under a deadline, outcome classified from the errno.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// What one connect attempt showed.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The handshake completed (SYN-ACK).
    Open(Duration),
    /// The host answered with RST (or ICMP port unreachable).
    Closed(Duration),
    /// No answer before the deadline.
    Filtered,
    /// We ran out of something (descriptors, buffers, source ports): says
    /// nothing about the port, so the attempt must be repeated later.
    LocalResource(io::Error),
    /// The kernel picked the destination port as our source port and the
    /// socket connected to itself; nothing was listening. Try again.
    SelfConnect,
    /// Any other failure (unreachable host or network, …).
    Error(io::Error),
}

/// Errno values meaning "we are short of a resource", per platform.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod errno {
    pub const EAGAIN: i32 = 11;
    pub const ENOMEM: i32 = 12;
    pub const ENFILE: i32 = 23;
    pub const EMFILE: i32 = 24;
    pub const ENOSPC: i32 = 28;
    pub const EADDRNOTAVAIL: i32 = 99;
    pub const ECONNABORTED: i32 = 103;
    pub const ENOBUFS: i32 = 105;
    pub const EINPROGRESS: i32 = 115;
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod errno {
    pub const EAGAIN: i32 = 35;
    pub const ENOMEM: i32 = 12;
    pub const ENFILE: i32 = 23;
    pub const EMFILE: i32 = 24;
    pub const ENOSPC: i32 = 28;
    pub const EINPROGRESS: i32 = 36;
    pub const EADDRNOTAVAIL: i32 = 49;
    pub const ECONNABORTED: i32 = 53;
    pub const ENOBUFS: i32 = 55;
}

/// True when `err` is a shortage on our side rather than an answer.
pub(crate) fn is_local_resource(err: &io::Error) -> bool {
    use errno::*;
    matches!(err.kind(), io::ErrorKind::OutOfMemory)
        || matches!(
            err.raw_os_error(),
            Some(EAGAIN | ENOMEM | ENFILE | EMFILE | ENOSPC | EADDRNOTAVAIL | ENOBUFS)
        )
}

/// A non-blocking TCP socket for `addr`'s family whose close sends RST.
fn new_socket(addr: &SocketAddr) -> io::Result<Socket> {
    let domain = Domain::for_address(*addr);
    #[cfg(target_os = "linux")]
    let socket = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
    #[cfg(not(target_os = "linux"))]
    let socket = {
        let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        s.set_nonblocking(true)?;
        s
    };
    // Linger 0: close() aborts with RST, so no TIME_WAIT piles up.
    socket.set_linger(Some(Duration::ZERO))?;
    Ok(socket)
}

/// Why [`connect`] gave no stream.
#[derive(Debug)]
pub(crate) enum ConnectFail {
    /// No answer within the deadline.
    Timeout,
    /// The OS reported an error.
    Io(io::Error),
}

/// A connect as far as it got without waiting.
#[derive(Debug)]
pub(crate) enum Begun {
    /// The SYN is out and no answer has been processed yet: wait with [`Begun::finish`].
    InProgress(TcpStream, Instant),
    /// The OS already reported an error: a RST processed inside `connect()` (loopback and
    /// very near hosts), a local shortage or an unreachable route.
    Failed(io::Error, Duration),
}

/// A socket whose last connect was refused, kept for the same host's next probe: re-arming it
/// costs one system call where a new socket costs three (socket, SO_LINGER, close), and a sweep
/// of closed ports is mostly those.
#[derive(Debug, Default)]
pub(crate) struct Spare(Option<Socket>);

impl Spare {
    /// True when a refused socket is kept.
    pub(crate) fn holds_socket(&self) -> bool {
        self.0.is_some()
    }
}

/// How far a SYN got on one socket.
enum Sent {
    /// Out, unanswered so far.
    InProgress(Socket),
    /// Answered with RST already: the socket is closed and may connect again.
    Refused(Socket, io::Error),
    /// `connect()` failed.
    Failed(io::Error, Socket),
}

/// Sends a SYN for `addr` on `socket` and reads any answer already processed.
fn send_syn(socket: Socket, addr: &SocketAddr) -> Sent {
    let result = match socket.connect(&(*addr).into()) {
        Err(e) if e.raw_os_error() == Some(errno::EINPROGRESS) => socket.take_error(),
        Ok(()) => socket.take_error(),
        Err(e) => Ok(Some(e)),
    };
    match result {
        Ok(None) => Sent::InProgress(socket),
        Ok(Some(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Sent::Refused(socket, e),
        Ok(Some(e)) | Err(e) => Sent::Failed(e, socket),
    }
}

/// Sends the SYN for `addr` without waiting, on a new socket. See [`begin_on`].
pub(crate) fn begin(addr: SocketAddr) -> Begun {
    begin_on(addr, &mut Spare::default())
}

/// Sends the SYN for `addr` without waiting, on `spare`'s socket if it holds one. On loopback
/// and near hosts the answer (often a RST) has already been processed inside `connect()`; it is
/// settled here without touching the reactor or a timer, and a refused socket goes back to
/// `spare`.
pub(crate) fn begin_on(addr: SocketAddr, spare: &mut Spare) -> Begun {
    let start = Instant::now();
    let reused = spare.0.take().map(|socket| {
        // A connect refused after EINPROGRESS leaves the socket "connecting": Linux answers the
        // next connect() with ECONNABORTED, sending nothing, and resets it. A kernel that
        // reconnects at once starts the probe instead.
        match send_syn(socket, &addr) {
            Sent::Failed(e, socket) if e.raw_os_error() == Some(errno::ECONNABORTED) => {
                send_syn(socket, &addr)
            }
            sent => sent,
        }
    });
    let sent = match reused {
        Some(sent @ (Sent::InProgress(_) | Sent::Refused(..))) => sent,
        // Any other failure of a reused socket says nothing sure about the port.
        _ => match new_socket(&addr) {
            Ok(socket) => send_syn(socket, &addr),
            Err(e) => return Begun::Failed(e, start.elapsed()),
        },
    };
    match sent {
        Sent::InProgress(socket) => match TcpStream::from_std(socket.into()) {
            Ok(stream) => Begun::InProgress(stream, start),
            Err(e) => Begun::Failed(e, start.elapsed()),
        },
        Sent::Refused(socket, e) => {
            if cfg!(target_os = "linux") {
                spare.0 = Some(socket);
            }
            Begun::Failed(e, start.elapsed())
        }
        Sent::Failed(e, _) => Begun::Failed(e, start.elapsed()),
    }
}

impl Begun {
    /// Waits for the handshake to end, until `deadline` after [`begin`]; returns the stream
    /// and the handshake round trip.
    pub(crate) async fn finish(
        self,
        deadline: Duration,
    ) -> Result<(TcpStream, Duration), ConnectFail> {
        let (stream, start) = match self {
            Begun::InProgress(stream, start) => (stream, start),
            Begun::Failed(e, _) => return Err(ConnectFail::Io(e)),
        };
        let remaining = deadline.saturating_sub(start.elapsed());
        match tokio::time::timeout(remaining, wait_connected(&stream)).await {
            Ok(Ok(())) => Ok((stream, start.elapsed())),
            Ok(Err(e)) => Err(ConnectFail::Io(e)),
            Err(_) => Err(ConnectFail::Timeout),
        }
    }

    /// The outcome already known without waiting, or `self` back when it needs the wait.
    pub(crate) fn settled(self) -> Result<Outcome, Begun> {
        match self {
            Begun::Failed(e, rtt) => Ok(classify_error(e, rtt)),
            begun @ Begun::InProgress(..) => Err(begun),
        }
    }

    /// Waits for the answer to the probe of `addr` (at most `deadline` after [`begin`]) and
    /// classifies it; the socket is closed with RST.
    pub(crate) async fn outcome(self, addr: SocketAddr, deadline: Duration) -> Outcome {
        let start = match self {
            Begun::Failed(e, rtt) => return classify_error(e, rtt),
            Begun::InProgress(_, start) => start,
        };
        match self.finish(deadline).await {
            Ok((stream, rtt)) => match stream.local_addr() {
                Ok(local) if local == addr => Outcome::SelfConnect,
                _ => Outcome::Open(rtt),
            },
            Err(ConnectFail::Timeout) => Outcome::Filtered,
            Err(ConnectFail::Io(e)) => classify_error(e, start.elapsed()),
        }
    }
}

/// Connects to `addr` within `deadline`; returns the stream and the handshake
/// round trip.
pub(crate) async fn connect(
    addr: SocketAddr,
    deadline: Duration,
) -> Result<(TcpStream, Duration), ConnectFail> {
    begin(addr).finish(deadline).await
}

/// Waits until a connect in progress has succeeded or failed.
async fn wait_connected(stream: &TcpStream) -> io::Result<()> {
    loop {
        stream.writable().await?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        match stream.peer_addr() {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                // Spurious readiness: clear it and wait again.
                let _ = stream.try_io(Interest::WRITABLE, || {
                    Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
                });
            }
            Err(e) => return Err(e),
        }
    }
}

fn classify_error(e: io::Error, rtt: Duration) -> Outcome {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        return Outcome::Closed(rtt);
    }
    if is_local_resource(&e) {
        return Outcome::LocalResource(e);
    }
    Outcome::Error(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Probes one port: connect, classify, close with RST.
    async fn probe(addr: SocketAddr, deadline: Duration) -> Outcome {
        begin(addr).outcome(addr, deadline).await
    }

    #[test]
    fn resource_errors_are_recognised() {
        for code in [
            errno::EMFILE,
            errno::ENFILE,
            errno::ENOBUFS,
            errno::EADDRNOTAVAIL,
        ] {
            let e = io::Error::from_raw_os_error(code);
            assert!(is_local_resource(&e), "{e}");
            assert!(matches!(
                classify_error(e, Duration::ZERO),
                Outcome::LocalResource(_)
            ));
        }
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            classify_error(refused, Duration::ZERO),
            Outcome::Closed(_)
        ));
        let other = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(matches!(
            classify_error(other, Duration::ZERO),
            Outcome::Error(_)
        ));
    }

    /// A listener, its address, and a loopback address nothing listens on.
    fn open_and_closed_ports() -> (std::net::TcpListener, SocketAddr, SocketAddr) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        (listener, open, closed)
    }

    #[tokio::test]
    async fn probe_open_and_closed_on_loopback() {
        let (_listener, open, closed) = open_and_closed_ports();
        let d = Duration::from_secs(5);
        assert!(matches!(probe(open, d).await, Outcome::Open(_)));
        // A self-connect (source port chosen == closed port) is possible, if rare.
        let mut outcome = probe(closed, d).await;
        for _ in 0..3 {
            if !matches!(outcome, Outcome::SelfConnect) {
                break;
            }
            outcome = probe(closed, d).await;
        }
        assert!(matches!(outcome, Outcome::Closed(_)), "{outcome:?}");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_refused_socket_is_armed_again_for_the_next_port() {
        let (listener, open, closed) = open_and_closed_ports();
        let mut spare = Spare::default();
        let mut refusals = 0;
        for _ in 0..5 {
            match begin_on(closed, &mut spare).settled() {
                Ok(Outcome::Closed(_)) => {
                    refusals += 1;
                    assert!(spare.0.is_some(), "a refused socket is kept");
                }
                // A self-connect (source port == the closed port) is possible, if rare.
                Err(begun) => drop(begun),
                Ok(other) => panic!("closed port: {other:?}"),
            }
        }
        assert!(
            refusals >= 4,
            "loopback refuses inside connect(): {refusals} of 5"
        );
        let begun = begin_on(open, &mut spare);
        assert!(spare.0.is_none(), "the kept socket carries the next probe");
        let outcome = begun
            .settled()
            .unwrap_err()
            .outcome(open, Duration::from_secs(5))
            .await;
        assert!(matches!(outcome, Outcome::Open(_)), "{outcome:?}");
        listener.accept().expect("the listener saw the connection");
    }
}
