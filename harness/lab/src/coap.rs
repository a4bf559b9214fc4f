//! A CoAP server (RFC 7252) answering a GET of `/.well-known/core` with its link-format
//! resource list, and 4.04 for any other path. Anything that is not a CoAP request is ignored.

use coap_lite::{
    CoapOption, ContentFormat, MessageClass, MessageType, Packet, RequestType, ResponseType,
};

/// The answer to one datagram, if it is a CoAP GET.
pub(crate) fn answer(datagram: &[u8], links: &str) -> Option<Vec<u8>> {
    let request = Packet::from_bytes(datagram).ok()?;
    if request.header.code != MessageClass::Request(RequestType::Get) {
        return None;
    }
    let path: Vec<Vec<u8>> = request
        .get_option(CoapOption::UriPath)
        .map(|segments| segments.iter().cloned().collect())
        .unwrap_or_default();
    let mut reply = Packet::new();
    reply.header.set_type(match request.header.get_type() {
        MessageType::Confirmable => MessageType::Acknowledgement,
        _ => MessageType::NonConfirmable,
    });
    reply.header.message_id = request.header.message_id;
    reply.set_token(request.get_token().to_vec());
    if path == [b".well-known".to_vec(), b"core".to_vec()] {
        reply.header.code = MessageClass::Response(ResponseType::Content);
        reply.set_content_format(ContentFormat::ApplicationLinkFormat);
        reply.payload = links.as_bytes().to_vec();
    } else {
        reply.header.code = MessageClass::Response(ResponseType::NotFound);
    }
    reply.to_bytes().ok()
}
