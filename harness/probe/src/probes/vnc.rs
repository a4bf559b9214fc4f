//! VNC (RFB): which security types the server offers (type 1, None, means no password at
//! all), and VNC authentication (DES of the server challenge) with a password.

use std::net::SocketAddr;

use crate::budget::Connection;
use tokio::time::Instant;

use super::io::{self, Bounds};
use super::{ExchangeError, Exposure, LoginOutcome, Phase};
use jcstar_model::Evidence;
use jcstar_wire::vnc::{self as wire, SecurityResult, SECURITY_NONE, SECURITY_VNC_AUTH};

/// Why the RFB handshake gave no security types.
enum HandshakeError {
    /// Silence, a closed connection or bytes that are not RFB.
    Exchange(ExchangeError),
    /// The server refused the connection with a reason (RFB security-type count 0).
    Refused(Vec<u8>),
}

impl HandshakeError {
    fn silent() -> Self {
        HandshakeError::Exchange(ExchangeError::NoAnswer {
            phase: Phase::Greeting,
        })
    }
}

/// After the version handshake: the offered security types and whether the client chooses one
/// (RFB 3.7 and later), or why there are none.
async fn handshake(
    stream: &mut Connection,
    bounds: &Bounds,
) -> Result<(Vec<u8>, bool), HandshakeError> {
    let deadline = Instant::now() + bounds.read;
    let version = io::read_exact(stream, wire::VERSION_LEN, deadline)
        .await
        .ok_or_else(HandshakeError::silent)?;
    let Some(rfb) = wire::handshake(&version) else {
        let what = format!("not RFB: {}", jcstar_model::escape_bytes(&version));
        return Err(HandshakeError::Exchange(ExchangeError::ProtocolError(what)));
    };
    io::send(stream, rfb.reply, deadline)
        .await
        .map_err(|e| HandshakeError::Exchange(ExchangeError::from_io(&e, Phase::Greeting)))?;
    if !rfb.client_chooses {
        let t = io::read_exact(stream, 4, deadline)
            .await
            .ok_or_else(HandshakeError::silent)?;
        return Ok((
            vec![wire::v3_3_security_type([t[0], t[1], t[2], t[3]])],
            false,
        ));
    }
    let count = io::read_exact(stream, 1, deadline)
        .await
        .ok_or_else(HandshakeError::silent)?[0];
    if count == 0 {
        let len = io::read_exact(stream, 4, deadline)
            .await
            .ok_or_else(HandshakeError::silent)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let reason = io::read_exact(stream, len.min(512), deadline)
            .await
            .unwrap_or_default();
        return Err(HandshakeError::Refused(reason));
    }
    let types = io::read_exact(stream, usize::from(count), deadline)
        .await
        .ok_or_else(HandshakeError::silent)?;
    Ok((types, true))
}

/// Whether the server offers security type None.
pub async fn exposure(address: SocketAddr, bounds: &Bounds) -> Exposure {
    let mut stream = match io::connect(address, bounds).await {
        Ok(s) => s,
        Err(e) => return Exposure::Unknown(format!("cannot connect: {e}")),
    };
    match handshake(&mut stream, bounds).await {
        Ok((types, _)) if types.contains(&SECURITY_NONE) => Exposure::Open {
            what: "VNC desktop with security type None (no password)".into(),
            evidence: Evidence::observed("RFB security types", format!("{types:?}")),
        },
        Ok((types, _)) => Exposure::Protected {
            what: format!("VNC security types {types:?}"),
        },
        Err(HandshakeError::Exchange(e)) => Exposure::Unknown(e.to_string()),
        Err(HandshakeError::Refused(reason)) => {
            Exposure::Unknown(format!("refused: {}", jcstar_model::escape_bytes(&reason)))
        }
    }
}

/// Tries VNC authentication with `password` (VNC has no user name).
pub async fn login(address: SocketAddr, password: &str, bounds: &Bounds) -> LoginOutcome {
    let mut stream = match io::connect(address, bounds).await {
        Ok(s) => s,
        Err(e) => return io::connect_error(&e).into(),
    };
    let (types, chooses) = match handshake(&mut stream, bounds).await {
        Ok(t) => t,
        // The server's own words: RealVNC and others refuse with "Too many security failures".
        Err(HandshakeError::Refused(reason)) if io::contains_ci(&reason, "too many") => {
            let said = jcstar_model::escape_bytes(&reason);
            return LoginOutcome::RateLimited(Evidence::observed("RFB refusal", said));
        }
        Err(HandshakeError::Refused(reason)) => {
            let said = format!("RFB refusal: {}", jcstar_model::escape_bytes(&reason));
            return ExchangeError::ProtocolError(said).into();
        }
        Err(HandshakeError::Exchange(e)) => return e.into(),
    };
    if !types.contains(&SECURITY_VNC_AUTH) {
        return LoginOutcome::Unsupported(format!("VNC authentication not offered ({types:?})"));
    }
    let deadline = Instant::now() + bounds.read;
    let closed = || {
        LoginOutcome::from(ExchangeError::Closed {
            phase: Phase::Greeting,
        })
    };
    let silent = |phase| LoginOutcome::from(ExchangeError::NoAnswer { phase });
    if chooses
        && io::send(&mut stream, &[SECURITY_VNC_AUTH], deadline)
            .await
            .is_err()
    {
        return closed();
    }
    let Some(challenge) = io::read_exact(&mut stream, 16, deadline).await else {
        return silent(Phase::Greeting);
    };
    let mut c = [0u8; 16];
    c.copy_from_slice(&challenge);
    if io::send(&mut stream, &wire::response(password, &c), deadline)
        .await
        .is_err()
    {
        return closed();
    }
    match io::read_exact(&mut stream, 4, deadline).await {
        Some(r) => match wire::security_result([r[0], r[1], r[2], r[3]]) {
            SecurityResult::Ok => LoginOutcome::Accepted(Evidence::observed(
                "VNC authentication",
                "SecurityResult OK",
            )),
            SecurityResult::TooMany => LoginOutcome::RateLimited(Evidence::observed(
                "VNC authentication",
                "too many attempts",
            )),
            SecurityResult::Failed => LoginOutcome::Rejected,
        },
        None => silent(Phase::Answer),
    }
}
