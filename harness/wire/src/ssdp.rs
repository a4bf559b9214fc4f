//! SSDP: the unicast M-SEARCH, the headers of its answer, and the absolute `http(s)://` URLs
//! an answer's `LOCATION` holds, followed only when they name the device's own address.

use std::net::{IpAddr, SocketAddr};

/// Most header lines read from one SSDP answer.
const MAX_HEADERS: usize = 64;

/// The unicast M-SEARCH for every root device and service (UPnP Device Architecture 1.1
/// §1.3.2; `MX` kept for UPnP 1.0 responders that ignore a search without it).
pub fn m_search(address: SocketAddr) -> Vec<u8> {
    let host = match address {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    };
    format!(
        "M-SEARCH * HTTP/1.1\r\nHOST: {host}\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\nUSER-AGENT: jcstar/0.1 UPnP/1.1 jcstar/0.1\r\n\r\n"
    )
    .into_bytes()
}

/// The headers of an SSDP search answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsdpAnswer {
    /// `LOCATION`: URL of the device description.
    pub location: Option<String>,
    /// `SERVER`: OS, UPnP version and product tokens.
    pub server: Option<String>,
    /// `ST`: the search target answered.
    pub st: Option<String>,
}

/// Parses an answer to an M-SEARCH (`HTTP/1.x 200`); `None` for anything else.
pub fn parse_answer(data: &[u8]) -> Option<SsdpAnswer> {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let status = lines.next()?;
    let mut parts = status.split_whitespace();
    if !parts.next()?.starts_with("HTTP/1.") || parts.next()? != "200" {
        return None;
    }
    let mut answer = SsdpAnswer::default();
    for line in lines.take(MAX_HEADERS) {
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = Some(jcstar_model::bounded_to(value.trim(), 512));
        match name.trim().to_ascii_lowercase().as_str() {
            "location" => answer.location = value,
            "server" => answer.server = value,
            "st" => answer.st = value,
            _ => {}
        }
    }
    Some(answer)
}

/// A parsed `http://` or `https://` URL with an IP-literal or named host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Whether the scheme is `https`.
    pub tls: bool,
    /// The host as written (without brackets).
    pub host: String,
    /// The port (80/443 when absent).
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

/// Parses an absolute `http(s)://host[:port][/path]` URL; `None` for anything else.
pub fn parse_url(url: &str) -> Option<Url> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        return None;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, p)) => (host, p.parse().ok()?),
            None => (authority, default_port),
        }
    };
    if port == 0 || path.chars().any(|c| c.is_control() || c == ' ') {
        return None;
    }
    Some(Url {
        tls,
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// The address to fetch `url` from, only when its host is the device's own address `device`
/// (an IP literal equal to it). Never a name to resolve, never another host.
pub fn location_on_device(url: &Url, device: IpAddr) -> Option<SocketAddr> {
    let ip: IpAddr = url.host.parse().ok()?;
    (ip == device).then_some(SocketAddr::new(ip, url.port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::product_tokens;
    use proptest::prelude::*;

    #[test]
    fn answer_headers_are_read_case_insensitively() {
        let data = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nst: upnp:rootdevice\r\nLocation: http://127.0.0.1:49152/rootDesc.xml\r\nServer: Linux/5.10 UPnP/1.1 MiniUPnPd/2.3.3\r\nUSN: uuid:1::upnp:rootdevice\r\n\r\n";
        let answer = parse_answer(data).expect("an answer");
        assert_eq!(
            answer.location.as_deref(),
            Some("http://127.0.0.1:49152/rootDesc.xml")
        );
        assert_eq!(answer.st.as_deref(), Some("upnp:rootdevice"));
        assert_eq!(
            product_tokens(answer.server.as_deref().unwrap_or("")),
            [
                ("Linux".to_string(), Some("5.10".to_string())),
                ("MiniUPnPd".to_string(), Some("2.3.3".to_string()))
            ]
        );
    }

    #[test]
    fn header_values_have_no_control_characters() {
        let data = b"HTTP/1.1 200 OK\r\nSERVER: evil\x1b[2J/1.0\x07 x\r\n\r\n";
        let answer = parse_answer(data).expect("an answer");
        let server = answer.server.expect("server");
        assert!(!server.chars().any(char::is_control), "{server:?}");
    }

    #[test]
    fn garbage_is_not_an_answer_and_never_panics() {
        for data in [
            &b""[..],
            b"\r\n",
            b"HTTP/1.1",
            b"HTTP/1.1 404 Not Found\r\n\r\n",
            b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n",
            b"M-SEARCH * HTTP/1.1\r\n\r\n",
            &[0xff; 4096],
        ] {
            assert_eq!(parse_answer(data), None);
        }
        let mut long = b"HTTP/1.1 200 OK\r\nLOCATION: http://".to_vec();
        long.extend(std::iter::repeat_n(b'a', 100_000));
        let answer = parse_answer(&long).expect("a (long) answer");
        assert!(answer.location.expect("location").chars().count() <= 513);
        let truncated = b"HTTP/1.1 200 OK\r\nLOCATION";
        assert_eq!(parse_answer(truncated), Some(SsdpAnswer::default()));
    }

    #[test]
    fn only_locations_on_the_device_are_followed() {
        let device: IpAddr = "127.77.60.21".parse().expect("ip");
        let on = parse_url("http://127.77.60.21:49152/desc.xml").expect("url");
        assert_eq!(
            location_on_device(&on, device),
            Some("127.77.60.21:49152".parse().expect("addr"))
        );
        for other in [
            "http://127.77.60.22:49152/desc.xml",
            "http://example.com/desc.xml",
            "http://localhost:80/",
            "http://[::1]:80/",
        ] {
            let url = parse_url(other).expect("url");
            assert_eq!(location_on_device(&url, device), None, "{other}");
        }
        for bad in [
            "ftp://127.77.60.21/x",
            "http://",
            "http://user@127.77.60.21/",
            "http://127.77.60.21:0/",
            "http://127.77.60.21:99999/",
            "http://[::1/",
            "http://127.77.60.21/a b",
        ] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
        let v6 = parse_url("https://[fe80::1]/d.xml").expect("v6");
        assert_eq!((v6.tls, v6.host.as_str(), v6.port), (true, "fe80::1", 443));
    }

    proptest! {
        /// Any datagram and any LOCATION string parse or are refused, never panic; what is
        /// read has no control characters.
        #[test]
        fn arbitrary_answers_and_urls_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..1500),
            url in "\\PC{0,200}",
        ) {
            if let Some(answer) = parse_answer(&data) {
                for value in [answer.location, answer.server, answer.st].into_iter().flatten() {
                    prop_assert!(!value.chars().any(char::is_control));
                }
            }
            let mut answer = b"HTTP/1.1 200 OK\r\n".to_vec();
            answer.extend_from_slice(&data);
            let _ = parse_answer(&answer);
            let _ = parse_url(&url).map(|u| location_on_device(&u, [127, 0, 0, 1].into()));
        }
    }
}
