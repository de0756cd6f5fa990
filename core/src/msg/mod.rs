//! The message model: a request or response with typed headers, generic over its string
//! storage ([`Text`]): `Message<&str>` is a zero-copy view of a received buffer, `Message`
//! (= `Message<SipStr>`) the owned model whose strings are stored inline when short and
//! otherwise share a [`bytes::Bytes`] buffer.

pub mod builder;
pub mod emit;
pub mod header;
pub mod headers;
mod name;
pub mod param;
pub(crate) mod pool;
mod received;
pub mod uri;

pub use header::{
    CSeq, Contact, Event, MediaType, Method, NameAddr, Reason, ReferSub, Replaces, RetryAfter,
    SubState, SubscriptionState, Tags, TargetDialog, Values, Via, Warning,
};
pub use headers::Headers;
pub use name::HeaderName;
pub use param::{Param, Params, UriHeaders, ViaParams};
pub use received::Received;
pub use uri::{Host, SipUri, TelUri, Uri};

use crate::parse::{Limits, ParseError};
use crate::text::{Convert, Share, SipStr, Text};
use alloc::vec::Vec;
use bytes::Bytes;
use header::{convert_tags, convert_values};

/// The first line of a message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StartLine<S: Text> {
    /// `Request-Line = Method SP Request-URI SP SIP-Version CRLF` (always SIP/2.0).
    Request {
        /// The method.
        method: Method<S>,
        /// The Request-URI.
        uri: Uri<S>,
    },
    /// `Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF` (always SIP/2.0).
    Response {
        /// The status code (100–699).
        code: u16,
        /// The reason phrase, as written.
        reason: S,
    },
}

/// One header field line with its typed value(s).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Header<S: Text> {
    /// `Via` (RFC 3261 §20.42).
    Via(Values<Via<S>>),
    /// `From` (§20.20).
    From(NameAddr<S>),
    /// `To` (§20.39).
    To(NameAddr<S>),
    /// `Call-ID` (§20.8).
    CallId(S),
    /// `CSeq` (§20.16).
    CSeq(CSeq<S>),
    /// `Max-Forwards` (§20.22).
    MaxForwards(u8),
    /// `Contact` (§20.10).
    Contact(Contact<S>),
    /// `Route` (§20.34).
    Route(Values<NameAddr<S>>),
    /// `Record-Route` (§20.30).
    RecordRoute(Values<NameAddr<S>>),
    /// `Content-Type` (§20.15).
    ContentType(MediaType<S>),
    /// `Expires` (§20.19).
    Expires(u32),
    /// `Require` (§20.32).
    Require(Tags<S>),
    /// `Proxy-Require` (§20.29).
    ProxyRequire(Tags<S>),
    /// `Supported` (§20.37).
    Supported(Tags<S>),
    /// `Unsupported` (§20.40).
    Unsupported(Tags<S>),
    /// `Allow` (§20.5).
    Allow(Values<Method<S>>),
    /// `Accept` (§20.1).
    Accept(Values<MediaType<S>>),
    /// `Event` (RFC 6665 §8.2.1).
    Event(Event<S>),
    /// `Allow-Events` (RFC 6665 §8.2.2).
    AllowEvents(Values<S>),
    /// `Subscription-State` (RFC 6665 §8.2.3).
    SubscriptionState(SubscriptionState<S>),
    /// `Refer-To` (RFC 3515 §2.1).
    ReferTo(NameAddr<S>),
    /// `Referred-By` (RFC 3892 §3).
    ReferredBy(NameAddr<S>),
    /// `Replaces` (RFC 3891 §6.1).
    Replaces(Replaces<S>),
    /// `Refer-Sub` (RFC 4488 §4).
    ReferSub(ReferSub<S>),
    /// `Target-Dialog` (RFC 4538 §7).
    TargetDialog(TargetDialog<S>),
    /// `Reason` (RFC 3326 §2).
    Reason(Values<Reason<S>>),
    /// `Warning` (§20.43).
    Warning(Values<Warning<S>>),
    /// `Retry-After` (§20.33).
    RetryAfter(RetryAfter<S>),
    /// A header the stack knows by name but keeps untyped (Subject, User-Agent, ...).
    Raw {
        /// Its name.
        name: HeaderName,
        /// Its value, verbatim.
        value: S,
    },
    /// A header the stack does not know, kept verbatim.
    Extension {
        /// Its name, as written.
        name: S,
        /// Its value, verbatim.
        value: S,
    },
}

impl<S: Text> Header<S> {
    /// The header's name ([`HeaderName::Other`] for extension headers).
    pub fn name(&self) -> HeaderName {
        match self {
            Header::Via(_) => HeaderName::Via,
            Header::From(_) => HeaderName::From,
            Header::To(_) => HeaderName::To,
            Header::CallId(_) => HeaderName::CallId,
            Header::CSeq(_) => HeaderName::CSeq,
            Header::MaxForwards(_) => HeaderName::MaxForwards,
            Header::Contact(_) => HeaderName::Contact,
            Header::Route(_) => HeaderName::Route,
            Header::RecordRoute(_) => HeaderName::RecordRoute,
            Header::ContentType(_) => HeaderName::ContentType,
            Header::Expires(_) => HeaderName::Expires,
            Header::Require(_) => HeaderName::Require,
            Header::ProxyRequire(_) => HeaderName::ProxyRequire,
            Header::Supported(_) => HeaderName::Supported,
            Header::Unsupported(_) => HeaderName::Unsupported,
            Header::Allow(_) => HeaderName::Allow,
            Header::Accept(_) => HeaderName::Accept,
            Header::Event(_) => HeaderName::Event,
            Header::AllowEvents(_) => HeaderName::AllowEvents,
            Header::SubscriptionState(_) => HeaderName::SubscriptionState,
            Header::ReferTo(_) => HeaderName::ReferTo,
            Header::ReferredBy(_) => HeaderName::ReferredBy,
            Header::Replaces(_) => HeaderName::Replaces,
            Header::ReferSub(_) => HeaderName::ReferSub,
            Header::TargetDialog(_) => HeaderName::TargetDialog,
            Header::Reason(_) => HeaderName::Reason,
            Header::Warning(_) => HeaderName::Warning,
            Header::RetryAfter(_) => HeaderName::RetryAfter,
            Header::Raw { name, .. } => *name,
            Header::Extension { .. } => HeaderName::Other,
        }
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Header<T> {
        match self {
            Header::Via(v) => Header::Via(convert_values(v, |x| x.convert(c))),
            Header::From(a) => Header::From(a.convert(c)),
            Header::To(a) => Header::To(a.convert(c)),
            Header::CallId(s) => Header::CallId(c.text(s)),
            Header::CSeq(cs) => Header::CSeq(CSeq {
                seq: cs.seq,
                method: cs.method.convert(c),
            }),
            Header::MaxForwards(n) => Header::MaxForwards(*n),
            Header::Contact(Contact::Star) => Header::Contact(Contact::Star),
            Header::Contact(Contact::Addrs(v)) => {
                Header::Contact(Contact::Addrs(convert_values(v, |x| x.convert(c))))
            }
            Header::Route(v) => Header::Route(convert_values(v, |x| x.convert(c))),
            Header::RecordRoute(v) => Header::RecordRoute(convert_values(v, |x| x.convert(c))),
            Header::ContentType(m) => Header::ContentType(m.convert(c)),
            Header::Expires(n) => Header::Expires(*n),
            Header::Require(v) => Header::Require(convert_tags(v, |x| c.text(x))),
            Header::ProxyRequire(v) => Header::ProxyRequire(convert_tags(v, |x| c.text(x))),
            Header::Supported(v) => Header::Supported(convert_tags(v, |x| c.text(x))),
            Header::Unsupported(v) => Header::Unsupported(convert_tags(v, |x| c.text(x))),
            Header::Allow(v) => Header::Allow(convert_values(v, |x| x.convert(c))),
            Header::Accept(v) => Header::Accept(convert_values(v, |x| x.convert(c))),
            Header::Event(e) => Header::Event(Event {
                package: c.text(&e.package),
                params: e.params.convert(c),
            }),
            Header::AllowEvents(v) => Header::AllowEvents(convert_values(v, |x| c.text(x))),
            Header::SubscriptionState(s) => Header::SubscriptionState(SubscriptionState {
                state: c.text(&s.state),
                params: s.params.convert(c),
            }),
            Header::ReferTo(a) => Header::ReferTo(a.convert(c)),
            Header::ReferredBy(a) => Header::ReferredBy(a.convert(c)),
            Header::Replaces(r) => Header::Replaces(r.convert(c)),
            Header::ReferSub(r) => Header::ReferSub(ReferSub {
                value: r.value,
                params: r.params.convert(c),
            }),
            Header::TargetDialog(t) => Header::TargetDialog(TargetDialog {
                call_id: c.text(&t.call_id),
                params: t.params.convert(c),
            }),
            Header::Reason(v) => Header::Reason(convert_values(v, |r| Reason {
                protocol: c.text(&r.protocol),
                params: r.params.convert(c),
            })),
            Header::Warning(v) => Header::Warning(convert_values(v, |w| Warning {
                code: w.code,
                agent: c.text(&w.agent),
                text: c.text(&w.text),
            })),
            Header::RetryAfter(r) => Header::RetryAfter(RetryAfter {
                seconds: r.seconds,
                comment: r.comment.as_ref().map(|x| c.text(x)),
                params: r.params.convert(c),
            }),
            Header::Raw { name, value } => Header::Raw {
                name: *name,
                value: c.text(value),
            },
            Header::Extension { name, value } => Header::Extension {
                name: c.text(name),
                value: c.text(value),
            },
        }
    }
}

/// A SIP request or response (RFC 3261 §7). Content-Length is not stored: it is checked when
/// parsing and always written from the body when emitting.
///
/// ```
/// use sipxfer::msg::{Message, Method};
/// let m = Message::parse(bytes::Bytes::from_static(
///     b"BYE sip:bob@192.0.2.4 SIP/2.0\r\nv: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds7\r\n\
///       f: <sip:alice@example.com>;tag=1928301774\r\nt: <sip:bob@example.com>;tag=a6c85cf\r\n\
///       i: a84b4c76e66710\r\nCSeq: 231 BYE\r\nMax-Forwards: 70\r\nl: 0\r\n\r\n"),
///     &Default::default()).unwrap();
/// assert_eq!(m.method(), Some(&Method::Bye));
/// assert_eq!(m.cseq().unwrap().seq, 231);
/// assert_eq!(m.from().unwrap().tag(), Some("1928301774"));
/// assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKnashds7"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message<S: Text = SipStr> {
    /// The start line.
    pub start: StartLine<S>,
    /// Header fields in order (Content-Length excluded), each with the line it was parsed
    /// from while unchanged ([`Headers`]).
    pub headers: Headers<S>,
    /// The body.
    pub body: S::Bytes,
}

impl Message<SipStr> {
    /// Parses a datagram into the owned model; strings longer than 22 bytes and the body share
    /// `buf`, shorter strings are stored inline.
    pub fn parse(buf: Bytes, limits: &Limits) -> Result<Self, ParseError> {
        Self::parse_in(&buf, limits, None)
    }

    /// [`Message::parse`], its header list from `pool` (else exactly as long as needed).
    pub(crate) fn parse_in(
        buf: &Bytes,
        limits: &Limits,
        pool: Option<&mut pool::HeaderPool>,
    ) -> Result<Self, ParseError> {
        Self::parse_as(buf, limits, crate::parse::message::Mode::Strict, pool)
    }

    /// A request of ours read back from the bytes it was sent as (a client transaction keeps
    /// only those): no limit of a peer's messages and none of the checks of a received
    /// message apply, and a field our parser refuses (put there by the application) is kept
    /// as [`Header::Raw`], as written. `None` for what does not parse even so: bytes that do
    /// not frame, or a start line the parser refuses (a Request-URI of the application's
    /// that is not one, say).
    pub(crate) fn parse_sent(buf: &Bytes, pool: &mut pool::HeaderPool) -> Option<Self> {
        let limits = Limits {
            max_message_size: usize::MAX,
            max_headers: usize::MAX,
            max_header_len: usize::MAX,
            max_vias: usize::MAX,
        };
        let mode = crate::parse::message::Mode::Sent;
        Self::parse_as(buf, &limits, mode, Some(pool)).ok()
    }

    fn parse_as(
        buf: &Bytes,
        limits: &Limits,
        mode: crate::parse::message::Mode,
        pool: Option<&mut pool::HeaderPool>,
    ) -> Result<Self, ParseError> {
        let mut pool = pool;
        // Built directly (no intermediate view): strings are slices of `buf`, under the
        // pool's spare handle when it is free.
        let spare = pool.as_deref_mut().map(|p| core::mem::take(&mut p.spare));
        let src = crate::text::Source::reusing(buf, spare.unwrap_or_default());
        let m = Self::parse_from(&src, limits, mode, pool.as_deref_mut());
        if let Some(p) = pool {
            p.spare = src.into_spare();
        }
        m
    }

    /// [`Message::parse_as`] from `src`, its header list from `pool`.
    fn parse_from(
        src: &crate::text::Source<'_>,
        limits: &Limits,
        mode: crate::parse::message::Mode,
        pool: Option<&mut pool::HeaderPool>,
    ) -> Result<Self, ParseError> {
        let mut raw = crate::parse::RawMessage::empty(src.bytes());
        raw.fill(limits)?;
        let head = crate::parse::message::head(&raw).len();
        let list = pool.map_or_else(Vec::new, |p| p.take_list(raw.headers.len()));
        crate::parse::message::message_as(
            crate::parse::ctx::Own::new(src, head),
            &raw,
            limits,
            mode,
            list,
        )
    }
}

impl Message<&str> {
    /// Converts a view borrowed from `buf` into the owned model (longer strings become slices of
    /// `buf`; at most 22 bytes are copied per string).
    pub fn to_shared(&self, buf: &Bytes) -> Message<SipStr> {
        self.convert(&mut Share::new(buf))
    }
}

macro_rules! first {
    ($(#[$doc:meta])* $fn:ident, $var:ident, $ty:ty) => {
        $(#[$doc])*
        pub fn $fn(&self) -> Option<&$ty> {
            self.headers.iter_for(HeaderName::$var).find_map(|h| match h {
                Header::$var(v) => Some(v),
                _ => None,
            })
        }
    };
}

macro_rules! all {
    ($(#[$doc:meta])* $fn:ident, $var:ident, $ty:ty) => {
        $(#[$doc])*
        pub fn $fn(&self) -> impl Iterator<Item = &$ty> + '_ {
            self.headers
                .iter_for(HeaderName::$var)
                .filter_map(|h| match h {
                    Header::$var(v) => Some(v.iter()),
                    _ => None,
                })
                .flatten()
        }
    };
}

impl<S: Text> Message<S> {
    /// Is this a request?
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method.
    pub fn method(&self) -> Option<&Method<S>> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI.
    pub fn request_uri(&self) -> Option<&Uri<S>> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The response status code.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    all!(
        /// Every Via value, top first.
        vias, Via, Via<S>
    );

    /// The topmost Via.
    pub fn top_via(&self) -> Option<&Via<S>> {
        self.vias().next()
    }

    first!(
        /// From.
        from, From, NameAddr<S>
    );
    first!(
        /// To.
        to, To, NameAddr<S>
    );
    first!(
        /// CSeq.
        cseq, CSeq, CSeq<S>
    );
    first!(
        /// Content-Type.
        content_type, ContentType, MediaType<S>
    );
    first!(
        /// Event.
        event, Event, Event<S>
    );
    first!(
        /// Subscription-State.
        subscription_state, SubscriptionState, SubscriptionState<S>
    );
    first!(
        /// The first Refer-To (a REFER must carry exactly one: see [`Message::refer_tos`]).
        refer_to, ReferTo, NameAddr<S>
    );
    first!(
        /// Referred-By.
        referred_by, ReferredBy, NameAddr<S>
    );
    first!(
        /// Replaces.
        replaces, Replaces, Replaces<S>
    );
    first!(
        /// Refer-Sub.
        refer_sub, ReferSub, ReferSub<S>
    );
    first!(
        /// Target-Dialog.
        target_dialog, TargetDialog, TargetDialog<S>
    );
    first!(
        /// Retry-After.
        retry_after, RetryAfter, RetryAfter<S>
    );
    all!(
        /// Route values in order.
        routes, Route, NameAddr<S>
    );
    all!(
        /// Record-Route values in order.
        record_routes, RecordRoute, NameAddr<S>
    );
    all!(
        /// Require option tags.
        require, Require, S
    );
    all!(
        /// Proxy-Require option tags.
        proxy_require, ProxyRequire, S
    );
    all!(
        /// Supported option tags.
        supported, Supported, S
    );
    all!(
        /// Unsupported option tags.
        unsupported, Unsupported, S
    );
    all!(
        /// Allowed methods.
        allow, Allow, Method<S>
    );
    all!(
        /// Accepted media ranges.
        accept, Accept, MediaType<S>
    );
    all!(
        /// Allow-Events packages.
        allow_events, AllowEvents, S
    );
    all!(
        /// Reason values.
        reasons, Reason, Reason<S>
    );
    all!(
        /// Warning values.
        warnings, Warning, Warning<S>
    );

    /// Every Refer-To header (RFC 3515 §2.4.1: a REFER with zero or several gets a 400).
    pub fn refer_tos(&self) -> impl Iterator<Item = &NameAddr<S>> + '_ {
        self.headers
            .iter_for(HeaderName::ReferTo)
            .filter_map(|h| match h {
                Header::ReferTo(v) => Some(v),
                _ => None,
            })
    }

    /// Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.headers
            .iter_for(HeaderName::CallId)
            .find_map(|h| match h {
                Header::CallId(v) => Some(v.as_ref()),
                _ => None,
            })
    }

    /// Max-Forwards.
    pub fn max_forwards(&self) -> Option<u8> {
        self.headers
            .iter_for(HeaderName::MaxForwards)
            .find_map(|h| match h {
                Header::MaxForwards(v) => Some(*v),
                _ => None,
            })
    }

    /// Expires.
    pub fn expires(&self) -> Option<u32> {
        self.headers
            .iter_for(HeaderName::Expires)
            .find_map(|h| match h {
                Header::Expires(v) => Some(*v),
                _ => None,
            })
    }

    /// The Contact header (`*` or addresses), the first line only.
    pub fn contact(&self) -> Option<&Contact<S>> {
        self.headers
            .iter_for(HeaderName::Contact)
            .find_map(|h| match h {
                Header::Contact(v) => Some(v),
                _ => None,
            })
    }

    /// Every Contact address, across all Contact lines.
    pub fn contacts(&self) -> impl Iterator<Item = &NameAddr<S>> + '_ {
        self.headers
            .iter_for(HeaderName::Contact)
            .filter_map(|h| match h {
                Header::Contact(Contact::Addrs(v)) => Some(v.iter()),
                _ => None,
            })
            .flatten()
    }

    /// The raw value of the first untyped or extension header with this name
    /// (case-insensitive).
    pub fn raw_header(&self, name: &str) -> Option<&str> {
        let known = HeaderName::from_bytes(name.as_bytes());
        self.headers.iter_for(known).find_map(|h| match h {
            Header::Raw { name: n, value } if *n == known && known != HeaderName::Other => {
                Some(value.as_ref())
            }
            Header::Extension { name: n, value } if n.as_ref().eq_ignore_ascii_case(name) => {
                Some(value.as_ref())
            }
            _ => None,
        })
    }

    /// Converts the string storage of the whole message.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Message<T> {
        Message {
            start: match &self.start {
                StartLine::Request { method, uri } => StartLine::Request {
                    method: method.convert(c),
                    uri: uri.convert(c),
                },
                StartLine::Response { code, reason } => StartLine::Response {
                    code: *code,
                    reason: c.text(reason),
                },
            },
            headers: self.headers.convert(c),
            body: c.bytes(&self.body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Header, HeaderName, Message};
    use bytes::Bytes;

    /// A request of ours read back keeps what a peer's would be refused for: a field that
    /// does not parse (as [`Header::Raw`], as written) and a singleton twice; a peer's is
    /// refused for either.
    #[test]
    fn a_request_read_back_keeps_what_a_peers_would_be_refused_for() {
        let bytes = Bytes::from_static(
            b"INVITE sip:b@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
              Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>\r\n\
              Call-ID: c\r\nCSeq: 1 INVITE\r\nExpires: soon\r\nMax-Forwards: 69\r\n\
              Content-Length: 0\r\n\r\n",
        );
        assert!(Message::parse(bytes.clone(), &Default::default()).is_err());
        let mut pool = super::pool::HeaderPool::new(4);
        let m = Message::parse_sent(&bytes, &mut pool).expect("read back");
        assert!(m.headers.iter().any(|h| matches!(
            h,
            Header::Raw { name: HeaderName::Expires, value } if value.as_str() == "soon"
        )));
        assert_eq!(m.cseq().map(|c| c.seq), Some(1));
        assert_eq!(m.to_bytes(), bytes);
    }
}
