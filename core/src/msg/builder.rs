//! Builders: requests (RFC 3261 §8.1.1), responses from a request (§8.2.6), the `Refer-To`
//! of an attended transfer (RFC 3891 §5, RFC 5589 §7) and sipfrag bodies (RFC 3515 §2.4.5).

use super::header::{CSeq, Method, NameAddr, Replaces, Values, Via};
use super::headers::{Entry, Headers, Span};
use super::param::ViaParams;
use super::uri::{is_hvalue_char, SipUri, Uri};
use super::{Header, HeaderName, MediaType, Message, StartLine};
use crate::parse::{ErrorKind, ParseError};
use crate::text::{Share, SipStr, Text};
use alloc::string::String;
use bytes::Bytes;

/// The default Reason-Phrase for a status code (RFC 3261 §21, RFC 3265, RFC 3515, RFC 4412).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match code / 100 {
            1 => "Trying",
            2 => "OK",
            3 => "Redirect",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

/// Builds a request (RFC 3261 §8.1.1): set the mandatory headers, add others, then `build`.
///
/// ```
/// use sipxfer::msg::builder::RequestBuilder;
/// use sipxfer::msg::{Method, NameAddr};
/// use sipxfer::parse::parse_uri;
/// let to = parse_uri(b"sip:bob@example.com").unwrap().convert(&mut sipxfer::text::Share::copying());
/// let req = RequestBuilder::new(Method::Options, to.clone())
///     .via("UDP", "192.0.2.1", Some(5060), "z9hG4bK776asdhds")
///     .from(NameAddr::new(to.clone()), "1928301774")
///     .to(NameAddr::new(to))
///     .call_id("a84b4c76e66710@192.0.2.1")
///     .cseq(1)
///     .build();
/// assert!(req.to_bytes().starts_with(b"OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"));
/// ```
#[derive(Clone, Debug)]
pub struct RequestBuilder {
    method: Method<SipStr>,
    uri: Uri<SipStr>,
    headers: Headers<SipStr>,
    cseq: u32,
    max_forwards: u8,
    body: Bytes,
}

impl RequestBuilder {
    /// A request for `method` to `uri`, Max-Forwards 70 (§8.1.1.6), CSeq 1.
    pub fn new(method: Method<SipStr>, uri: Uri<SipStr>) -> Self {
        // Room for what a UA adds to a request, and for the Max-Forwards, CSeq and top Via
        // added when it is built and sent: one allocation, which the request keeps.
        Self::new_in(method, uri, Headers::with_capacity(super::pool::MIN))
    }

    /// [`RequestBuilder::new`] with its headers in `headers` (empty; from the endpoint's
    /// [`super::pool`]).
    pub(crate) fn new_in(
        method: Method<SipStr>,
        uri: Uri<SipStr>,
        headers: Headers<SipStr>,
    ) -> Self {
        RequestBuilder {
            method,
            uri,
            headers,
            cseq: 1,
            max_forwards: 70,
            body: Bytes::new(),
        }
    }

    /// Adds a Via (§8.1.1.7): `SIP/2.0/<transport> <host>[:port];branch=<branch>;rport`.
    pub fn via(mut self, transport: &str, host: &str, port: Option<u16>, branch: &str) -> Self {
        let b = host.as_bytes();
        let host = match crate::parse::uri::host(crate::parse::ctx::View::new(b), b) {
            Ok(([], h)) => h.convert(&mut Share::copying()),
            _ => super::Host::Domain(SipStr::from(host)),
        };
        let mut v = Values::new();
        v.push(Via::new(transport, host, port, branch));
        self.headers.push(Header::Via(v));
        self
    }

    /// From with its tag (§8.1.1.3).
    pub fn from(mut self, mut from: NameAddr<SipStr>, tag: &str) -> Self {
        from.params.remove("tag");
        from.params.push("tag", Some(tag));
        self.headers.push(Header::From(from));
        self
    }

    /// To (§8.1.1.2).
    pub fn to(mut self, to: NameAddr<SipStr>) -> Self {
        self.headers.push(Header::To(to));
        self
    }

    /// Call-ID (§8.1.1.4).
    pub fn call_id(mut self, id: &str) -> Self {
        self.headers.push(Header::CallId(id.into()));
        self
    }

    /// CSeq number (§8.1.1.5); the method is the request's.
    pub fn cseq(mut self, seq: u32) -> Self {
        self.cseq = seq;
        self
    }

    /// Max-Forwards (§8.1.1.6).
    pub fn max_forwards(mut self, n: u8) -> Self {
        self.max_forwards = n;
        self
    }

    /// Any other header.
    pub fn header(mut self, h: Header<SipStr>) -> Self {
        self.headers.push(h);
        self
    }

    /// A body and its Content-Type.
    pub fn body(mut self, ty: MediaType<SipStr>, body: Bytes) -> Self {
        self.headers.push(Header::ContentType(ty));
        self.body = body;
        self
    }

    /// The request. Headers come in the order Via, Max-Forwards, then as added with CSeq after
    /// Call-ID.
    pub fn build(self) -> Message {
        // Ordered in place: the list the headers were added to is the request's (built with
        // room for what is inserted here and for the Via a transaction user adds).
        let mut headers = self.headers;
        let mut vias = 0;
        for i in 0..headers.len() {
            if matches!(headers[i], Header::Via(_)) {
                headers.entries_mut()[vias..=i].rotate_right(1);
                vias += 1;
            }
        }
        headers.insert(vias, Header::MaxForwards(self.max_forwards));
        let cseq = |m: &Method<SipStr>| {
            Header::CSeq(CSeq {
                seq: self.cseq,
                method: m.clone(),
            })
        };
        let mut i = vias + 1;
        while i < headers.len() {
            if matches!(headers[i], Header::CallId(_)) {
                headers.insert(i + 1, cseq(&self.method));
                i += 1;
            }
            i += 1;
        }
        if !headers.iter().any(|h| matches!(h, Header::CSeq(_))) {
            headers.push(cseq(&self.method));
        }
        Message {
            start: StartLine::Request {
                method: self.method,
                uri: self.uri,
            },
            headers,
            body: self.body,
        }
    }
}

/// Builds a response to `req` (RFC 3261 §8.2.6): the Via values (in order), From, Call-ID,
/// CSeq and To are copied; `to_tag` is added to To when To has no tag (§8.2.6.2); a 100 Trying
/// also copies Timestamp (§8.2.6.1). Add Contact, Allow, body etc. with `headers.push`.
///
/// ```
/// use sipxfer::msg::{builder::response, Message};
/// let req = Message::parse(bytes::Bytes::from_static(b"REFER sip:b@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP p.example.com;branch=z9hG4bK0\r\n\
///     From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 7 REFER\r\n\
///     Refer-To: <sip:c@example.com>\r\n\r\n"), &Default::default()).unwrap();
/// let resp = response(&req, 202, Some("b-tag"));
/// assert_eq!(resp.status(), Some(202));
/// assert_eq!(resp.vias().count(), 2);
/// assert_eq!(resp.to().unwrap().tag(), Some("b-tag"));
/// ```
pub fn response<S: Text>(req: &Message<S>, code: u16, to_tag: Option<&str>) -> Message
where
    for<'x> Share<'x>: crate::text::Convert<S, SipStr>,
{
    let mut c = Share::copying();
    // The copied headers and what a UAS adds (Contact, Record-Route, Server, Supported,
    // Allow, Content-Type...): one allocation.
    let mut headers = Headers::with_capacity(super::pool::MIN);
    let lines = headers.set_text(req.headers.text(), &mut c);
    for e in req.headers.entries() {
        if copied_to_response(&e.header, code) {
            headers.push_entry(Entry {
                header: e.header.convert(&mut c),
                line: if lines { e.line } else { Span::NONE },
            });
        }
    }
    response_of(headers, code, to_tag)
}

/// [`response`] to a request of the owned model, its headers in `headers` (empty; from the
/// endpoint's [`super::pool`]): the headers are cloned (a string sharing the request's
/// buffer is shared again, not copied).
pub(crate) fn response_in(
    req: &Message,
    code: u16,
    to_tag: Option<&str>,
    mut headers: Headers<SipStr>,
) -> Message {
    headers.extend_kept(&req.headers, |h| copied_to_response(h, code));
    response_of(headers, code, to_tag)
}

/// Is `h` copied from a request into its response with status `code` (§8.2.6)?
pub(crate) fn copied_to_response<S: Text>(h: &Header<S>, code: u16) -> bool {
    match h {
        Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) | Header::To(_) => {
            true
        }
        Header::Raw {
            name: HeaderName::Timestamp,
            ..
        } => code == 100,
        _ => false,
    }
}

/// The response with `headers` (copied from its request): the To tag added where To has
/// none (§8.2.6.2).
fn response_of(mut headers: Headers<SipStr>, code: u16, to_tag: Option<&str>) -> Message {
    if let Some(tag) = to_tag {
        // Only the To that gets its tag changes: the other copies keep their lines.
        let untagged = headers
            .iter()
            .position(|h| matches!(h, Header::To(to) if to.tag().is_none()));
        if let Some(i) = untagged {
            headers.edit(i, |h| {
                if let Header::To(to) = h {
                    to.params.push("tag", Some(tag));
                }
            });
        }
    }
    Message {
        start: StartLine::Response {
            code,
            reason: SipStr::from_static(reason_phrase(code)),
        },
        headers,
        body: Bytes::new(),
    }
}

/// A `message/sipfrag` body holding only a status line, as a refer NOTIFY carries
/// (RFC 3515 §2.4.5): `SIP/2.0 <code> <reason>\r\n`.
pub fn sipfrag_status(code: u16, reason: &str) -> Bytes {
    // The status lines a transfer reports most, shared rather than written per NOTIFY.
    if reason == reason_phrase(code) {
        let line: &'static [u8] = match code {
            100 => b"SIP/2.0 100 Trying\r\n",
            180 => b"SIP/2.0 180 Ringing\r\n",
            183 => b"SIP/2.0 183 Session Progress\r\n",
            200 => b"SIP/2.0 200 OK\r\n",
            408 => b"SIP/2.0 408 Request Timeout\r\n",
            480 => b"SIP/2.0 480 Temporarily Unavailable\r\n",
            486 => b"SIP/2.0 486 Busy Here\r\n",
            487 => b"SIP/2.0 487 Request Terminated\r\n",
            503 => b"SIP/2.0 503 Service Unavailable\r\n",
            603 => b"SIP/2.0 603 Decline\r\n",
            _ => b"",
        };
        if !line.is_empty() {
            return Bytes::from_static(line);
        }
    }
    let mut s = String::with_capacity(16 + reason.len());
    s.push_str("SIP/2.0 ");
    let _ = core::fmt::Write::write_fmt(&mut s, format_args!("{code} {reason}\r\n"));
    Bytes::from(s.into_bytes())
}

/// The `Refer-To` of an attended transfer (RFC 5589 §7, RFC 3891 §5): `target` with the
/// dialog to replace as an escaped `Replaces` URI header,
/// e.g. `<sip:carol@example.com?Replaces=abc%40h%3Bto-tag%3D5%3Bfrom-tag%3D7>`.
pub fn refer_to_with_replaces(
    target: &SipUri<SipStr>,
    replaces: &Replaces<impl Text>,
) -> NameAddr<SipStr> {
    // Written and escaped on the stack: the URI's header list is the one copy.
    let mut raw: smallvec::SmallVec<[u8; 128]> = smallvec::SmallVec::new();
    raw.extend_from_slice(replaces.call_id.as_ref().as_bytes());
    replaces
        .params
        .write_canonical(&mut |x| raw.extend_from_slice(x.as_bytes()));
    let mut value: smallvec::SmallVec<[u8; 256]> = smallvec::SmallVec::new();
    super::uri::encode_each(&raw, is_hvalue_char, |c| value.push(c));
    let mut uri = target.clone();
    uri.headers.remove("Replaces");
    // `encode_each` writes ASCII only.
    let value = core::str::from_utf8(&value).unwrap_or_default();
    uri.headers.push("Replaces", Some(value));
    NameAddr::new(Uri::Sip(uri))
}

impl<S: Text> NameAddr<S> {
    /// The `Replaces` embedded in this address's URI (`?Replaces=...`, RFC 3891 §5), decoded
    /// and parsed. `Ok(None)` when there is none.
    pub fn embedded_replaces(&self) -> Result<Option<Replaces<SipStr>>, ParseError> {
        let Some(v) = self.uri.as_sip().and_then(|u| u.header("Replaces")) else {
            return Ok(None);
        };
        let decoded = super::uri::decode(v);
        let decoded: &[u8] = &decoded;
        let parsed = crate::parse::header::typed(HeaderName::Replaces, b"Replaces", decoded);
        // Copied out of the decoded text (inline when short): no buffer shared, none kept.
        match parsed {
            Ok(Header::Replaces(r)) => Ok(Some(r.convert(&mut Share::copying()))),
            Ok(_) => Err(ParseError::new(
                ErrorKind::BadHeader(HeaderName::Replaces),
                0,
            )),
            Err(at) => Err(ParseError::new(
                ErrorKind::BadHeader(HeaderName::Replaces),
                crate::parse::offset_in(decoded, at),
            )),
        }
    }
}

impl Via<SipStr> {
    /// `SIP/2.0/<transport> <host>[:port];branch=<branch>;rport` (RFC 3261 §8.1.1.7, RFC 3581).
    pub fn new(
        transport: &str,
        host: super::Host<SipStr>,
        port: Option<u16>,
        branch: &str,
    ) -> Self {
        Via {
            protocol: SipStr::from_static("SIP"),
            version: SipStr::from_static("2.0"),
            transport: transport.into(),
            host,
            port,
            params: ViaParams::branch_rport(branch),
        }
    }
}

impl Uri<SipStr> {
    /// Parses a URI from text into the owned model (RFC 3261 §19.1, §25.1).
    ///
    /// ```
    /// let uri = sipxfer::msg::Uri::parse("sip:bob@192.0.2.4:5062;transport=tcp").unwrap();
    /// assert!(matches!(uri, sipxfer::msg::Uri::Sip(ref s) if s.port == Some(5062)));
    /// ```
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let buf = Bytes::copy_from_slice(text.as_bytes());
        let view = crate::parse::parse_uri(&buf)?;
        Ok(view.convert(&mut Share::new(&buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared status lines are exactly what the general path writes.
    #[test]
    fn sipfrag_status_lines_shared_or_written_are_the_same() {
        for code in 100..700 {
            let reason = reason_phrase(code);
            let expected = alloc::format!("SIP/2.0 {code} {reason}\r\n");
            assert_eq!(
                &sipfrag_status(code, reason)[..],
                expected.as_bytes(),
                "{code}"
            );
        }
        assert_eq!(&sipfrag_status(200, "Fine")[..], b"SIP/2.0 200 Fine\r\n");
    }
}
