//! A UPnP device: an SSDP responder on UDP answering unicast M-SEARCH with a `LOCATION`, and
//! the HTTP server behind it with the device description and, for an Internet Gateway Device,
//! a WANIPConnection control that answers `GetExternalIPAddress` without any authentication
//! (the weakness jcstar reports under S1.1-01).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::UdpSocket;

use super::limits::{self, Limits};
use super::request::Request;

/// How a simulated UPnP device describes itself.
#[derive(Debug)]
pub(crate) struct Upnp {
    /// `manufacturer`.
    pub manufacturer: &'static str,
    /// `modelName`.
    pub model_name: &'static str,
    /// `modelNumber`.
    pub model_number: &'static str,
    /// `serialNumber`, if the description discloses one.
    pub serial: Option<&'static str>,
    /// `firmwareVersion` (a vendor extension field many devices carry).
    pub firmware: &'static str,
    /// The `SERVER` header of SSDP and HTTP answers.
    pub server: &'static str,
    /// TCP port of the description server.
    pub description_port: u16,
    /// Whether the device is an IGD whose WANIPConnection control answers without auth.
    pub igd: bool,
    /// Put `LOCATION` on this other host of the lab (last octet) instead of the device itself:
    /// a rogue answer a prober must not follow.
    pub location_host: Option<u8>,
    /// Answer from a fresh socket on an ephemeral port, as libupnp does, instead of from 1900.
    pub answer_from_new_socket: bool,
}

const DESCRIPTION_PATH: &str = "/rootDesc.xml";
const CONTROL_PATH: &str = "/ctl/IPConn";
const WAN_IP: &str = "urn:schemas-upnp-org:service:WANIPConnection:1";
/// Largest SOAP body the control reads.
const MAX_BODY: usize = 4096;

/// Answers M-SEARCH datagrams on `socket` until the lab stops, at most one answer each.
pub(crate) async fn serve_ssdp(socket: Arc<UdpSocket>, upnp: &'static Upnp) {
    if !upnp.answer_from_new_socket {
        super::udp::serve(socket, move |d, local, _| answer(d, local, upnp)).await;
        return;
    }
    let Ok(local) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; super::udp::MAX_DATAGRAM];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Some(reply) = answer(&buf[..n], local, upnp) else {
            continue;
        };
        // A fresh socket on the persona's own address and an ephemeral port.
        if let Ok(sender) = UdpSocket::bind(SocketAddr::new(local.ip(), 0)).await {
            let _ = sender.send_to(&reply, peer).await;
        }
    }
}

/// The answer to an SSDP datagram: only an `M-SEARCH` with `MAN: "ssdp:discover"`.
pub(crate) fn answer(datagram: &[u8], local: SocketAddr, upnp: &Upnp) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(datagram).ok()?;
    let mut lines = text.split("\r\n");
    if lines.next()? != "M-SEARCH * HTTP/1.1" {
        return None;
    }
    let discover = lines.take(32).any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("MAN") && value.trim() == "\"ssdp:discover\""
        })
    });
    if !discover {
        return None;
    }
    let host = match (local.ip(), upnp.location_host) {
        (IpAddr::V4(ip), Some(other)) => {
            let [a, b, c, _] = ip.octets();
            IpAddr::from([a, b, c, other])
        }
        (ip, _) => ip,
    };
    let uuid = uuid(upnp);
    Some(
        format!(
            "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\nLOCATION: http://{host}:{}{DESCRIPTION_PATH}\r\nSERVER: {}\r\nST: upnp:rootdevice\r\nUSN: uuid:{uuid}::upnp:rootdevice\r\n\r\n",
            upnp.description_port, upnp.server
        )
        .into_bytes(),
    )
}

fn uuid(upnp: &Upnp) -> String {
    let digits: String = upnp
        .model_name
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .chain(std::iter::repeat('0'))
        .take(32)
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &digits[..8],
        &digits[8..12],
        &digits[12..16],
        &digits[16..20],
        &digits[20..]
    )
}

/// The device description.
pub(crate) fn description(upnp: &Upnp) -> String {
    let serial = upnp
        .serial
        .map(|s| format!("<serialNumber>{s}</serialNumber>"))
        .unwrap_or_default();
    let (device_type, embedded) = if upnp.igd {
        (
            "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
            format!(
                "<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>\
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>\
<serviceList><service><serviceType>{WAN_IP}</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>\
<controlURL>{CONTROL_PATH}</controlURL><eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList>\
</device></deviceList></device></deviceList>"
            ),
        )
    } else {
        ("urn:schemas-upnp-org:device:Basic:1", String::new())
    };
    format!(
        "<?xml version=\"1.0\"?>\r\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\"><specVersion><major>1</major><minor>0</minor></specVersion>\
<device><deviceType>{device_type}</deviceType><friendlyName>{model}</friendlyName><manufacturer>{}</manufacturer>\
<modelName>{model}</modelName><modelNumber>{}</modelNumber>{serial}<firmwareVersion>{}</firmwareVersion>\
<UDN>uuid:{}</UDN>{embedded}</device></root>\r\n",
        upnp.manufacturer,
        upnp.model_number,
        upnp.firmware,
        uuid(upnp),
        model = upnp.model_name,
    )
}

/// Serves one HTTP connection of the description server.
pub(crate) async fn serve<S>(stream: S, upnp: &Upnp, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    let head = limits::next_head(&mut stream, limits).await;
    let Ok(Some(lines)) = head else {
        return;
    };
    let reply = match Request::parse(&lines) {
        None => reply(upnp, "400 Bad Request", "text/plain", "bad request\n"),
        Some(request) if request.method == "GET" && request.path() == DESCRIPTION_PATH => reply(
            upnp,
            "200 OK",
            "text/xml; charset=\"utf-8\"",
            &description(upnp),
        ),
        Some(request) if request.method == "POST" && request.path() == CONTROL_PATH && upnp.igd => {
            let length = request
                .header("Content-Length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
                .min(MAX_BODY);
            let mut body = vec![0u8; length];
            let read = tokio::time::timeout(limits.idle_timeout, stream.read_exact(&mut body));
            if !matches!(read.await, Ok(Ok(_))) {
                return;
            }
            let action = request.header("SOAPAction").unwrap_or("");
            if action.contains("#GetExternalIPAddress") {
                reply(
                    upnp,
                    "200 OK",
                    "text/xml; charset=\"utf-8\"",
                    &external_ip(),
                )
            } else {
                reply(upnp, "500 Internal Server Error", "text/xml", &soap_error())
            }
        }
        Some(_) => reply(upnp, "404 Not Found", "text/plain", "not found\n"),
    };
    if stream.write_all(&reply).await.is_ok() {
        limits::close_gracefully(&mut stream).await;
    }
}

fn reply(upnp: &Upnp, status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nServer: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        upnp.server,
        body.len()
    )
    .into_bytes()
}

fn external_ip() -> String {
    format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>\
<u:GetExternalIPAddressResponse xmlns:u=\"{WAN_IP}\"><NewExternalIPAddress>203.0.113.7</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>\r\n"
    )
}

fn soap_error() -> String {
    "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>\
<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>401</errorCode><errorDescription>Invalid Action</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>\r\n"
        .to_string()
}
