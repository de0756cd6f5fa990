//! Helpers for flow tests: requests between simulated endpoints, reading the transmit log.

use bytes::Bytes;
use sipxfer::msg::builder::RequestBuilder;
use sipxfer::msg::{builder, Message, Method, NameAddr, Uri};
use sipxfer::Limits;
use std::net::SocketAddr;

/// A request from `from` to `to` (no Via: the endpoint adds it), CSeq `cseq`.
pub fn request(
    method: Method<sipxfer::SipStr>,
    from: SocketAddr,
    to: SocketAddr,
    call_id: &str,
    cseq: u32,
) -> Message {
    let target = Uri::parse(&format!("sip:peer@{to}")).expect("uri");
    let me = Uri::parse(&format!("sip:me@{from}")).expect("uri");
    RequestBuilder::new(method, target.clone())
        .from(NameAddr::new(me), "ftag")
        .to(NameAddr::new(target))
        .call_id(call_id)
        .cseq(cseq)
        .build()
}

/// Parses logged bytes.
pub fn parse(bytes: &Bytes) -> Message {
    Message::parse(bytes.clone(), &Limits::default()).expect("the endpoint sent a valid message")
}

/// The response `code` to the request in `bytes`, with To tag `tag`, as wire bytes.
pub fn response_to(bytes: &Bytes, code: u16, tag: &str) -> Bytes {
    builder::response(&parse(bytes), code, Some(tag)).to_bytes()
}
