//! Typed header values (RFC 3261 §20 and the transfer RFCs: 3515, 3891, 3892, 4488, 4538,
//! 6665, 3326).

use super::param::{key, unquote, Params, ViaParams};
use super::uri::{Host, Uri};
use crate::text::{Convert, Text};
use alloc::borrow::Cow;
use alloc::string::String;
use smallvec::SmallVec;

/// The values of one header field line (comma-separated values); one is stored inline.
pub type Values<T> = SmallVec<[T; 1]>;

/// The option tags of `Supported`, `Require`, `Proxy-Require` and `Unsupported` (RFC 3261
/// §20.37, §20.32, §20.29, §20.40: `option-tag *(COMMA option-tag)`): up to four are stored
/// inline, so the usual `Supported: replaces, timer, 100rel` of a peer costs no allocation.
pub type Tags<T> = SmallVec<[T; 4]>;

macro_rules! methods {
    ($($var:ident => $s:literal,)*) => {
        /// A request method (RFC 3261 §7.1: case-sensitive).
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Method<S: Text> {
            $( #[doc = concat!("`", $s, "`")] $var, )*
            /// Any other method token. Boxed: almost every request is of a known method, and
            /// the room of an inline string in every request line and every CSeq was moved
            /// with every message (a `Method` is 16 bytes, not 40).
            Extension(alloc::boxed::Box<S>),
        }

        impl<S: Text> Method<S> {
            /// The method token.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Method::$var => $s, )*
                    Method::Extension(s) => (**s).as_ref(),
                }
            }

            /// Looks a known method up (case-sensitively); `None` for extension methods.
            pub fn known(token: &[u8]) -> Option<Self> {
                match token {
                    $( t if t == $s.as_bytes() => Some(Method::$var), )*
                    _ => None,
                }
            }

            /// The position of a known method in the list above; `None` for an extension.
            #[inline]
            pub(crate) fn known_index(&self) -> Option<u8> {
                let mut n = 0u8;
                $(
                    if let Method::$var = self {
                        return Some(n);
                    }
                    n += 1;
                )*
                let _ = n;
                None
            }

            /// Converts the string storage.
            pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Method<T> {
                match self {
                    $( Method::$var => Method::$var, )*
                    Method::Extension(s) => Method::Extension(alloc::boxed::Box::new(c.text(s))),
                }
            }
        }
    };
}

methods! {
    Invite => "INVITE",
    Ack => "ACK",
    Bye => "BYE",
    Cancel => "CANCEL",
    Options => "OPTIONS",
    Register => "REGISTER",
    Refer => "REFER",
    Notify => "NOTIFY",
    Subscribe => "SUBSCRIBE",
    Info => "INFO",
    Update => "UPDATE",
    Prack => "PRACK",
    Message => "MESSAGE",
    Publish => "PUBLISH",
}

impl<S: Text> Method<S> {
    /// The same method, whatever the string storage of each side: two known methods by their
    /// place in the list (no string compared: the request line's method against its CSeq's,
    /// against the methods allowed, against a transaction's), anything else by its token
    /// (an extension built with a known method's token is that method).
    #[inline]
    pub fn same(&self, other: &Method<impl Text>) -> bool {
        match (self.known_index(), other.known_index()) {
            (Some(a), Some(b)) => a == b,
            _ => self.as_str() == other.as_str(),
        }
    }
}

/// `name-addr / addr-spec` followed by header parameters: From, To, Contact, Route,
/// Record-Route, Refer-To (RFC 3515 §2.1), Referred-By (RFC 3892 §3).
///
/// ```text
/// name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
/// display-name = *(token LWS)/ quoted-string
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NameAddr<S: Text> {
    /// The display name as written (a quoted-string keeps its quotes and quoted-pairs); empty
    /// when there is none (a display name written is never empty: a token, or quotes). A
    /// string rather than an `Option`: eight bytes less in every name-addr, and so in every
    /// header field a message holds.
    pub display: S,
    /// The URI.
    pub uri: Uri<S>,
    /// Header parameters (`;tag=`, `;expires=`, ...).
    pub params: Params<S>,
}

impl<S: Text> NameAddr<S> {
    /// A name-addr with no display name and no parameters.
    pub fn new(uri: Uri<S>) -> Self {
        NameAddr {
            display: S::default(),
            uri,
            params: Params::default(),
        }
    }

    /// The `tag` parameter (From/To, RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params.get_key(key!("tag")).flatten()
    }

    /// A header parameter by name (case-insensitive); quotes removed.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params.get(name)
    }

    /// The display name without quotes and with quoted-pairs resolved.
    pub fn display_name(&self) -> Option<Cow<'_, str>> {
        let d: &str = self.display.as_ref();
        (!d.is_empty()).then(|| unescape_quoted(d))
    }

    /// Contact `expires` parameter (RFC 3261 §20.10).
    pub fn expires(&self) -> Option<u32> {
        self.params
            .get_key(key!("expires"))
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// Contact `q` parameter, in thousandths (`q=0.5` → 500; RFC 3261 §20.10 `qvalue`).
    pub fn q(&self) -> Option<u16> {
        let v = self.params.get_key(key!("q")).flatten()?;
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        if frac.len() > 3 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut q: u16 = match int {
            "0" => 0,
            "1" => 1000,
            _ => return None,
        };
        let mut scale = 100;
        for d in frac.bytes() {
            q += (d - b'0') as u16 * scale;
            scale /= 10;
        }
        (q <= 1000).then_some(q)
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> NameAddr<T> {
        NameAddr {
            display: c.text(&self.display),
            uri: self.uri.convert(c),
            params: self.params.convert(c),
        }
    }
}

/// Removes the quotes of a quoted-string and resolves its quoted-pairs; other text is returned
/// as is.
pub fn unescape_quoted(s: &str) -> Cow<'_, str> {
    let Some(inner) = s.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return Cow::Borrowed(s);
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// ```text
/// via-parm      = sent-protocol LWS sent-by *( SEMI via-params )   ; RFC 3261 §20.42
/// sent-protocol = protocol-name SLASH protocol-version SLASH transport
/// sent-by       = host [ COLON port ]
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Via<S: Text> {
    /// `protocol-name` (`SIP`).
    pub protocol: S,
    /// `protocol-version` (`2.0`).
    pub version: S,
    /// `transport` as written (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, or any token).
    pub transport: S,
    /// sent-by host.
    pub host: Host<S>,
    /// sent-by port.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, `maddr`, `ttl`, ...).
    pub params: ViaParams<S>,
}

impl<S: Text> Via<S> {
    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.get_key(key!("branch")).flatten()
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&str> {
        self.params.get_key(key!("received")).flatten()
    }

    /// `rport` (RFC 3581): `None` absent, `Some(None)` requested, `Some(Some(p))` filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get_key(key!("rport"))
            .map(|v| v.and_then(|v| v.parse().ok()))
    }

    /// Is `rport` there without a value (RFC 3581 §3: the client asks for the source port)?
    /// [`Self::rport`] without reading a number.
    pub(crate) fn rport_asked(&self) -> bool {
        self.params.get_key(key!("rport")) == Some(None)
    }

    /// A parameter by name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params.get(name)
    }

    /// Is the branch RFC 3261 compliant (starts with the magic cookie `z9hG4bK`, §8.1.1.7)?
    pub fn has_magic_cookie(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.starts_with(crate::rand::MAGIC_COOKIE))
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Via<T> {
        Via {
            protocol: c.text(&self.protocol),
            version: c.text(&self.version),
            transport: c.text(&self.transport),
            host: self.host.convert(c),
            port: self.port,
            params: self.params.convert(c),
        }
    }
}

/// `CSeq = "CSeq" HCOLON 1*DIGIT LWS Method` (RFC 3261 §20.16).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CSeq<S: Text> {
    /// The sequence number (32 bits).
    pub seq: u32,
    /// The method.
    pub method: Method<S>,
}

/// `Contact = ("Contact" / "m" ) HCOLON ( STAR / (contact-param *(COMMA contact-param)))`
/// (RFC 3261 §20.10).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Contact<S: Text> {
    /// `Contact: *` (REGISTER only).
    Star,
    /// One or more addresses.
    Addrs(Values<NameAddr<S>>),
}

/// `media-type = m-type SLASH m-subtype *(SEMI m-parameter)` (RFC 3261 §20.15), also an
/// Accept `media-range` where type or subtype may be `*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaType<S: Text> {
    /// Type (`application`).
    pub ty: S,
    /// Subtype (`sdp`).
    pub subtype: S,
    /// Parameters (`version=2.0`, `charset=...`).
    pub params: Params<S>,
}

impl<S: Text> MediaType<S> {
    /// Same type and subtype (case-insensitive), parameters ignored.
    pub fn is(&self, ty: &str, subtype: &str) -> bool {
        self.ty.as_ref().eq_ignore_ascii_case(ty)
            && self.subtype.as_ref().eq_ignore_ascii_case(subtype)
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> MediaType<T> {
        MediaType {
            ty: c.text(&self.ty),
            subtype: c.text(&self.subtype),
            params: self.params.convert(c),
        }
    }
}

/// `Event = ( "Event" / "o" ) HCOLON event-type *( SEMI event-param )` (RFC 6665 §8.2.1),
/// `event-param = generic-param / ( "id" EQUAL token )`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event<S: Text> {
    /// The event package (`refer`, `dialog`, ...), with any template suffix.
    pub package: S,
    /// Parameters (`id`).
    pub params: Params<S>,
}

impl<S: Text> Event<S> {
    /// The `id` parameter (RFC 3515 §2.4.6: the CSeq of the REFER).
    pub fn id(&self) -> Option<&str> {
        self.params.get_key(key!("id")).flatten()
    }
}

/// The state of a subscription (RFC 6665 §8.2.3 `substate-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubState {
    /// `active`
    Active,
    /// `pending`
    Pending,
    /// `terminated`
    Terminated,
    /// An extension value.
    Other,
}

/// ```text
/// Subscription-State = "Subscription-State" HCOLON substate-value *( SEMI subexp-params )
/// subexp-params      = ("reason" EQUAL event-reason-value) / ("expires" EQUAL delta-seconds)
///                    / ("retry-after" EQUAL delta-seconds) / generic-param
/// ```
/// (RFC 6665 §8.2.3)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionState<S: Text> {
    /// The state as written.
    pub state: S,
    /// Parameters.
    pub params: Params<S>,
}

impl<S: Text> SubscriptionState<S> {
    /// The state.
    pub fn state(&self) -> SubState {
        let s = self.state.as_ref();
        if s.eq_ignore_ascii_case("active") {
            SubState::Active
        } else if s.eq_ignore_ascii_case("pending") {
            SubState::Pending
        } else if s.eq_ignore_ascii_case("terminated") {
            SubState::Terminated
        } else {
            SubState::Other
        }
    }

    /// `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.params
            .get_key(key!("expires"))
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// `reason` parameter (`noresource`, `timeout`, `rejected`, ...).
    pub fn reason(&self) -> Option<&str> {
        self.params.get_key(key!("reason")).flatten()
    }

    /// `retry-after` parameter.
    pub fn retry_after(&self) -> Option<u32> {
        self.params
            .get_key(key!("retry-after"))
            .flatten()
            .and_then(|v| v.parse().ok())
    }
}

/// ```text
/// Replaces       = "Replaces" HCOLON callid *(SEMI replaces-param)    ; RFC 3891 §6.1
/// replaces-param = to-tag / from-tag / early-flag / generic-param
/// to-tag         = "to-tag" EQUAL token
/// from-tag       = "from-tag" EQUAL token
/// early-flag     = "early-only"
/// ```
/// "A Replaces header field MUST contain exactly one to-tag and exactly one from-tag": the
/// parser rejects any other count, so [`Replaces::to_tag`] and [`Replaces::from_tag`] are
/// non-empty on parsed values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replaces<S: Text> {
    /// Call-ID of the dialog to replace.
    pub call_id: S,
    /// Parameters (`to-tag`, `from-tag`, `early-only`, others).
    pub params: Params<S>,
}

impl<S: Text> Replaces<S> {
    /// `to-tag`.
    pub fn to_tag(&self) -> &str {
        self.params.get_key(key!("to-tag")).flatten().unwrap_or("")
    }

    /// `from-tag`.
    pub fn from_tag(&self) -> &str {
        self.params
            .get_key(key!("from-tag"))
            .flatten()
            .unwrap_or("")
    }

    /// `early-only`.
    pub fn early_only(&self) -> bool {
        self.params.get_key(key!("early-only")).is_some()
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Replaces<T> {
        Replaces {
            call_id: c.text(&self.call_id),
            params: self.params.convert(c),
        }
    }
}

impl Replaces<crate::text::SipStr> {
    /// A Replaces naming the dialog `call_id` / `to_tag` / `from_tag` (RFC 3891 §3: the tags
    /// are the To and From tags of that dialog's messages).
    pub fn new(call_id: &str, to_tag: &str, from_tag: &str, early_only: bool) -> Self {
        let mut params = Params::new()
            .with("to-tag", Some(to_tag))
            .with("from-tag", Some(from_tag));
        if early_only {
            params.push("early-only", None);
        }
        Replaces {
            call_id: call_id.into(),
            params,
        }
    }
}

/// ```text
/// Target-Dialog = "Target-Dialog" HCOLON callid *(SEMI td-param)   ; RFC 4538 §7
/// td-param      = remote-param / local-param / generic-param
/// remote-param  = "remote-tag" EQUAL token
/// local-param   = "local-tag" EQUAL token
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetDialog<S: Text> {
    /// Call-ID of the target dialog.
    pub call_id: S,
    /// Parameters (`local-tag`, `remote-tag`, others).
    pub params: Params<S>,
}

impl<S: Text> TargetDialog<S> {
    /// `local-tag` (the recipient's tag).
    pub fn local_tag(&self) -> Option<&str> {
        self.params.get_key(key!("local-tag")).flatten()
    }

    /// `remote-tag` (the sender's tag).
    pub fn remote_tag(&self) -> Option<&str> {
        self.params.get_key(key!("remote-tag")).flatten()
    }
}

/// `Refer-Sub = "Refer-Sub" HCOLON refer-sub-value *(SEMI exten)`,
/// `refer-sub-value = "true" / "false"` (RFC 4488 §4).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReferSub<S: Text> {
    /// `true` or `false`.
    pub value: bool,
    /// Extension parameters.
    pub params: Params<S>,
}

/// `reason-value = protocol *(SEMI reason-params)` (RFC 3326 §2): `protocol` is `SIP`,
/// `Q.850` or a token; `cause` and `text` are parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reason<S: Text> {
    /// `SIP`, `Q.850`, ...
    pub protocol: S,
    /// Parameters.
    pub params: Params<S>,
}

impl<S: Text> Reason<S> {
    /// The `cause` parameter.
    pub fn cause(&self) -> Option<u16> {
        self.params
            .get_key(key!("cause"))
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// The `text` parameter without its quotes.
    pub fn text(&self) -> Option<&str> {
        self.params.get_key(key!("text")).flatten()
    }
}

/// `warning-value = warn-code SP warn-agent SP warn-text` (RFC 3261 §20.43).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Warning<S: Text> {
    /// Three-digit warn-code.
    pub code: u16,
    /// `hostport / pseudonym`.
    pub agent: S,
    /// The quoted warn-text, quotes included.
    pub text: S,
}

impl<S: Text> Warning<S> {
    /// The warn-text without quotes.
    pub fn text(&self) -> &str {
        unquote(self.text.as_ref())
    }
}

/// `Retry-After = "Retry-After" HCOLON delta-seconds [ comment ] *( SEMI retry-param )`
/// (RFC 3261 §20.33).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RetryAfter<S: Text> {
    /// delta-seconds.
    pub seconds: u32,
    /// The comment, parentheses included.
    pub comment: Option<S>,
    /// Parameters (`duration`).
    pub params: Params<S>,
}

impl<S: Text> RetryAfter<S> {
    /// The `duration` parameter.
    pub fn duration(&self) -> Option<u32> {
        self.params
            .get_key(key!("duration"))
            .flatten()
            .and_then(|v| v.parse().ok())
    }
}

/// Maps every value of a [`Values`] list.
pub(crate) fn convert_values<A, B>(v: &Values<A>, f: impl FnMut(&A) -> B) -> Values<B> {
    v.iter().map(f).collect()
}

/// [`convert_values`] for [`Tags`].
pub(crate) fn convert_tags<A, B>(v: &Tags<A>, f: impl FnMut(&A) -> B) -> Tags<B> {
    v.iter().map(f).collect()
}

impl crate::text::Detach for NameAddr<crate::text::SipStr> {
    #[inline]
    fn detach(&mut self) {
        self.display.detach();
        self.uri.detach();
        self.params.detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::SipStr;

    #[test]
    fn same_method_by_place_or_by_token() {
        let known = [
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "OPTIONS",
            "REGISTER",
            "REFER",
            "NOTIFY",
            "SUBSCRIBE",
            "INFO",
            "UPDATE",
            "PRACK",
            "MESSAGE",
            "PUBLISH",
        ];
        let ext = |t: &str| Method::<SipStr>::Extension(alloc::boxed::Box::new(SipStr::from(t)));
        for a in known {
            let ma = Method::<&str>::known(a.as_bytes()).unwrap();
            assert_eq!(ma.as_str(), a);
            for b in known {
                let mb = Method::<SipStr>::known(b.as_bytes()).unwrap();
                assert_eq!(ma.same(&mb), a == b, "{a} {b}");
                // An extension spelled as a known method is that method, either way round.
                assert_eq!(ma.same(&ext(b)), a == b, "{a} ext {b}");
                assert_eq!(ext(b).same(&ma), a == b, "ext {b} {a}");
            }
            assert!(!ma.same(&ext("FOO")));
            assert!(
                !ma.same(&ext(&a.to_lowercase())),
                "methods are case-sensitive"
            );
        }
        assert!(ext("FOO").same(&ext("FOO")));
        assert!(!ext("FOO").same(&ext("BAR")));
    }
}
