//! What a UAS answers on its own, before any dialog logic (RFC 3261 §8.2), and the answer to
//! requests that do not parse.

use super::{reply_destination, Endpoint};
use crate::config::Config;
use crate::msg::{builder::reason_phrase, Header, HeaderName, Message, Method, Uri};
use crate::parse::salvage::salvage_request;
use crate::parse::{ErrorKind, ParseError};
use crate::text::SipStr;
use crate::transport::{Source, Transmit};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use bytes::{BufMut, BytesMut};

/// The §8.2 checks, in the RFC's order, for a well-formed new request: the response code and
/// the headers it must carry, or `None` to go on.
///
/// 1. §8.2.1 method: unknown → 501, known but not handled → 405, both with `Allow`.
/// 2. §8.2.2.1 Request-URI scheme: not sip/sips → 416.
/// 3. §8.2.2.2 merged requests: `merged` (a request without a To tag whose From tag,
///    Call-ID and CSeq are those of an ongoing transaction it does not match, as the
///    transaction layer found) → 482.
/// 4. §8.2.2.3 `Require` (not for CANCEL): option tags not in [`Config::supported`] → 420
///    with `Unsupported` listing them.
/// 5. RFC 3891 §3: `Replaces` in a request other than INVITE → 400.
/// 6. §8.2.3 body: larger than [`Config::max_body_size`] → 413 (§21.4.11); a body of a type not in [`Config::accept`] → 415 with `Accept`; a body
///    without `Content-Type` (§20.15 requires one) → 400.
/// 7. §8.2.2 / §21.4.7: an INVITE whose `Accept` excludes `application/sdp` (what an answer
///    would carry) → 406.
///
/// `Max-Forwards` is not checked: it limits proxies, and a UAS processes a request that
/// reaches it with 0 (RFC 4475 §3.3.11).
pub(super) fn check(
    config: &Config,
    req: &Message,
    merged: bool,
) -> Option<(u16, Vec<Header<SipStr>>)> {
    let method = req.method()?;
    let allow = || vec![Header::Allow(config.allow.iter().cloned().collect())];
    if matches!(method, Method::Extension(_)) {
        return Some((501, allow()));
    }
    if !config.allow.iter().any(|m| m.same(method)) {
        return Some((405, allow()));
    }
    if !matches!(req.request_uri(), Some(Uri::Sip(_))) {
        return Some((416, Vec::new()));
    }
    if merged {
        return Some((482, Vec::new()));
    }
    if *method != Method::Cancel {
        let unsupported: crate::msg::Tags<SipStr> = req
            .require()
            .filter(|tag| {
                !config
                    .supported
                    .iter()
                    .any(|s| s.as_str().eq_ignore_ascii_case(tag))
            })
            .map(|t| SipStr::from(t.as_str()))
            .collect();
        if !unsupported.is_empty() {
            return Some((420, vec![Header::Unsupported(unsupported)]));
        }
    }
    // RFC 3891 §3: `Replaces` belongs in an INVITE only.
    if *method != Method::Invite && req.replaces().is_some() {
        return Some((400, Vec::new()));
    }
    if req.body.len() > config.max_body_size {
        return Some((413, Vec::new()));
    }
    if !req.body.is_empty() {
        match req.content_type() {
            None => return Some((400, Vec::new())),
            Some(ct) if !config.accept.iter().any(|a| ct.is(&a.ty, &a.subtype)) => {
                return Some((
                    415,
                    vec![Header::Accept(config.accept.iter().cloned().collect())],
                ));
            }
            Some(_) => {}
        }
    }
    if *method == Method::Invite {
        let any = req.accept().next().is_some();
        let sdp = req.accept().any(|a| {
            let ty = a.ty.as_str();
            let sub = a.subtype.as_str();
            (ty == "*" || ty.eq_ignore_ascii_case("application"))
                && (sub == "*" || sub.eq_ignore_ascii_case("sdp"))
        });
        if any && !sdp {
            return Some((406, Vec::new()));
        }
    }
    None
}

/// The headers of a 200 to OPTIONS (§11.2): Allow, Accept, Supported.
pub(super) fn capabilities(config: &Config) -> Vec<Header<SipStr>> {
    let mut h = vec![
        Header::Allow(config.allow.iter().cloned().collect()),
        Header::Accept(config.accept.iter().cloned().collect()),
    ];
    if !config.supported.is_empty() {
        h.push(Header::Supported(
            config.supported.iter().cloned().collect(),
        ));
    }
    h
}

/// A request that did not parse, answered statelessly when it can be identified (§8.2,
/// §8.2.6): 505 for another SIP version (§8.2.2... §21.5.7), 513 when larger than the limit
/// (§21.4.25 "Message Too Large"), 400 otherwise, with a `Warning: 399` naming the fault.
/// The response copies the request's Via, From, To, Call-ID and CSeq fields verbatim and adds
/// a To tag. ACKs and responses are never answered.
pub(super) fn answer_malformed(
    ep: &mut Endpoint,
    source: &Source,
    bytes: &[u8],
    e: ParseError,
) -> Option<Transmit> {
    let s = salvage_request(bytes, &ep.config.limits)?;
    if s.method == b"ACK" {
        return None;
    }
    let code = match e.kind {
        ErrorKind::UnsupportedVersion => 505,
        _ if !s.version_2_0 => 505,
        ErrorKind::TooLarge(_) => 513,
        _ => 400,
    };
    let mut out = BytesMut::with_capacity(256 + bytes.len().min(2048));
    out.put_slice(format!("SIP/2.0 {code} {}\r\n", reason_phrase(code)).as_bytes());
    let tag = ep.ids.tag();
    let rank = |n: &HeaderName| match n {
        HeaderName::Via => 0,
        HeaderName::From => 1,
        HeaderName::To => 2,
        HeaderName::CallId => 3,
        _ => 4,
    };
    // Via, From, To, Call-ID, then the rest, each in the order received: a pass per rank
    // over a handful of fields (a stable sort would cost the firmware 2.5 KB of flash).
    let ranked = (0..=4).flat_map(|r| s.fields.iter().filter(move |(n, _)| rank(n) == r));
    for (name, value) in ranked {
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value);
        if *name == HeaderName::To && !has_tag(value) {
            out.put_slice(b";tag=");
            out.put_slice(tag.as_bytes());
        }
        out.put_slice(b"\r\n");
    }
    let mut warning = String::new();
    for c in format!("{} at byte {}", e.kind, e.offset).chars() {
        if c != '"' && c != '\\' {
            warning.push(c);
        }
    }
    out.put_slice(
        format!(
            "Warning: 399 {} \"{}\"\r\nContent-Length: 0\r\n\r\n",
            ep.config.local_addr, warning
        )
        .as_bytes(),
    );
    let via = s
        .top_via
        .as_ref()
        .map(|v| v.convert(&mut crate::text::Share::copying()));
    let dest = reply_destination(source, via.as_ref());
    Some(Transmit::new(dest, Some(source.local), out.freeze()))
}

/// Does a raw To value carry a `tag` parameter (`;` LWS `tag` LWS `=`)?
fn has_tag(value: &[u8]) -> bool {
    (0..value.len()).any(|i| {
        value[i] == b';' && {
            let rest = crate::parse::frame::trim_lws(&value[i + 1..]);
            rest.len() > 3 && rest[..3].eq_ignore_ascii_case(b"tag") && {
                let r = crate::parse::frame::trim_lws(&rest[3..]);
                r.first() == Some(&b'=')
            }
        }
    })
}
