//! Header names: full and compact forms (RFC 3261 §7.3.3 and §20, RFC 3265 `o`, RFC 3515 `r`,
//! RFC 3892 `b`, RFC 4028 `x`, RFC 4474 `y`), matched case-insensitively (§7.3.1).

use core::fmt;

macro_rules! header_names {
    ($( $(#[$doc:meta])* $var:ident => $full:literal $(, $compact:literal)? ;)*) => {
        /// A header field name the stack knows; anything else is [`HeaderName::Other`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$doc])* #[doc = concat!("`", $full, "`")] $var, )*
            /// A header the stack does not know (its name is kept with the value).
            Other,
        }

        impl HeaderName {
            /// The canonical (full) name used when emitting.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( HeaderName::$var => $full, )*
                    HeaderName::Other => "",
                }
            }

            /// `Name: `, what a header line opens with when emitted (one copy where name,
            /// colon and space would be three; RFC 3261 §7.3.1 `HCOLON`, written `": "`).
            /// [`HeaderName::Other`] has no name of its own here: `": "`, as its empty
            /// [`HeaderName::as_str`] and the colon.
            pub(crate) const fn field_start(self) -> &'static str {
                match self {
                    $( HeaderName::$var => concat!($full, ": "), )*
                    HeaderName::Other => ": ",
                }
            }

            /// The compact form, if the header has one.
            pub const fn compact(self) -> Option<u8> {
                match self {
                    $( $( HeaderName::$var => Some($compact), )? )*
                    _ => None,
                }
            }

            /// Looks a name up, case-insensitively, in its full or compact form.
            pub fn from_bytes(name: &[u8]) -> HeaderName {
                if name.len() == 1 {
                    return match name[0].to_ascii_lowercase() {
                        $( $( $compact => HeaderName::$var, )? )*
                        _ => HeaderName::Other,
                    };
                }
                lookup_full(name)
            }
        }
    };
}

header_names! {
    Via => "Via", b'v';
    From => "From", b'f';
    To => "To", b't';
    CallId => "Call-ID", b'i';
    CSeq => "CSeq";
    MaxForwards => "Max-Forwards";
    Contact => "Contact", b'm';
    Route => "Route";
    RecordRoute => "Record-Route";
    ContentType => "Content-Type", b'c';
    ContentLength => "Content-Length", b'l';
    ContentEncoding => "Content-Encoding", b'e';
    Expires => "Expires";
    MinExpires => "Min-Expires";
    Require => "Require";
    ProxyRequire => "Proxy-Require";
    Supported => "Supported", b'k';
    Unsupported => "Unsupported";
    Allow => "Allow";
    Accept => "Accept";
    Event => "Event", b'o';
    AllowEvents => "Allow-Events", b'u';
    SubscriptionState => "Subscription-State";
    ReferTo => "Refer-To", b'r';
    ReferredBy => "Referred-By", b'b';
    Replaces => "Replaces";
    ReferSub => "Refer-Sub";
    TargetDialog => "Target-Dialog";
    Reason => "Reason";
    Warning => "Warning";
    RetryAfter => "Retry-After";
    Subject => "Subject", b's';
    SessionExpires => "Session-Expires", b'x';
    Identity => "Identity", b'y';
    Authorization => "Authorization";
    ProxyAuthorization => "Proxy-Authorization";
    WwwAuthenticate => "WWW-Authenticate";
    ProxyAuthenticate => "Proxy-Authenticate";
    UserAgent => "User-Agent";
    Server => "Server";
    Date => "Date";
    Timestamp => "Timestamp";
}

/// A known name prepared for a case-insensitive comparison a word at a time: three
/// (overlapping) little-endian words of `width` bytes covering the name, in lower case, and the
/// bits to set in the candidate's words first (bit 5 of each letter, so that upper and lower
/// case compare equal while every other byte must match exactly).
struct Key {
    len: usize,
    width: usize,
    at: [usize; 3],
    word: [u64; 3],
    mask: [u64; 3],
}

const fn key(name: &[u8]) -> Key {
    let len = name.len();
    let width = if len >= 8 {
        8
    } else if len >= 4 {
        4
    } else {
        2
    };
    let at = [0, if len > 2 * width { width } else { 0 }, len - width];
    let (mut word, mut mask) = ([0u64; 3], [0u64; 3]);
    let mut j = 0;
    while j < 3 {
        let mut k = 0;
        while k < width {
            let c = name[at[j] + k];
            word[j] |= (c.to_ascii_lowercase() as u64) << (8 * k);
            if c.is_ascii_alphabetic() {
                mask[j] |= 0x20 << (8 * k);
            }
            k += 1;
        }
        j += 1;
    }
    Key {
        len,
        width,
        at,
        word,
        mask,
    }
}

/// `width` bytes of `b` from `at`, little-endian (0 if out of range).
#[inline(always)]
fn load(b: &[u8], at: usize, width: usize) -> u64 {
    match width {
        8 => b
            .get(at..at + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map_or(0, u64::from_le_bytes),
        4 => b
            .get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, |w| u32::from_le_bytes(w) as u64),
        _ => b
            .get(at..at + 2)
            .and_then(|s| <[u8; 2]>::try_from(s).ok())
            .map_or(0, |w| u16::from_le_bytes(w) as u64),
    }
}

/// `name.eq_ignore_ascii_case(k's name)`, `name.len()` being checked by the caller.
#[inline(always)]
fn eq_ci(name: &[u8], k: &Key) -> bool {
    debug_assert_eq!(name.len(), k.len);
    (load(name, k.at[0], k.width) | k.mask[0]) == k.word[0]
        && (load(name, k.at[1], k.width) | k.mask[1]) == k.word[1]
        && (load(name, k.at[2], k.width) | k.mask[2]) == k.word[2]
}

/// Looks a full name up case-insensitively: dispatch on the length, then compare the few names
/// of that length (a few word comparisons per header, no hashing).
fn lookup_full(name: &[u8]) -> HeaderName {
    match name.len() {
        2 => {
            if eq_ci(name, &const { key(b"To") }) {
                HeaderName::To
            } else {
                HeaderName::Other
            }
        }
        3 => {
            if eq_ci(name, &const { key(b"Via") }) {
                HeaderName::Via
            } else {
                HeaderName::Other
            }
        }
        4 => {
            if eq_ci(name, &const { key(b"From") }) {
                HeaderName::From
            } else if eq_ci(name, &const { key(b"CSeq") }) {
                HeaderName::CSeq
            } else if eq_ci(name, &const { key(b"Date") }) {
                HeaderName::Date
            } else {
                HeaderName::Other
            }
        }
        5 => {
            if eq_ci(name, &const { key(b"Route") }) {
                HeaderName::Route
            } else if eq_ci(name, &const { key(b"Allow") }) {
                HeaderName::Allow
            } else if eq_ci(name, &const { key(b"Event") }) {
                HeaderName::Event
            } else {
                HeaderName::Other
            }
        }
        6 => {
            if eq_ci(name, &const { key(b"Accept") }) {
                HeaderName::Accept
            } else if eq_ci(name, &const { key(b"Reason") }) {
                HeaderName::Reason
            } else if eq_ci(name, &const { key(b"Server") }) {
                HeaderName::Server
            } else {
                HeaderName::Other
            }
        }
        7 => {
            if eq_ci(name, &const { key(b"Call-ID") }) {
                HeaderName::CallId
            } else if eq_ci(name, &const { key(b"Contact") }) {
                HeaderName::Contact
            } else if eq_ci(name, &const { key(b"Expires") }) {
                HeaderName::Expires
            } else if eq_ci(name, &const { key(b"Require") }) {
                HeaderName::Require
            } else if eq_ci(name, &const { key(b"Warning") }) {
                HeaderName::Warning
            } else if eq_ci(name, &const { key(b"Subject") }) {
                HeaderName::Subject
            } else {
                HeaderName::Other
            }
        }
        8 => {
            if eq_ci(name, &const { key(b"Refer-To") }) {
                HeaderName::ReferTo
            } else if eq_ci(name, &const { key(b"Replaces") }) {
                HeaderName::Replaces
            } else if eq_ci(name, &const { key(b"Identity") }) {
                HeaderName::Identity
            } else {
                HeaderName::Other
            }
        }
        9 => {
            if eq_ci(name, &const { key(b"Supported") }) {
                HeaderName::Supported
            } else if eq_ci(name, &const { key(b"Refer-Sub") }) {
                HeaderName::ReferSub
            } else if eq_ci(name, &const { key(b"Timestamp") }) {
                HeaderName::Timestamp
            } else {
                HeaderName::Other
            }
        }
        10 => {
            if eq_ci(name, &const { key(b"User-Agent") }) {
                HeaderName::UserAgent
            } else {
                HeaderName::Other
            }
        }
        11 => {
            if eq_ci(name, &const { key(b"Min-Expires") }) {
                HeaderName::MinExpires
            } else if eq_ci(name, &const { key(b"Unsupported") }) {
                HeaderName::Unsupported
            } else if eq_ci(name, &const { key(b"Referred-By") }) {
                HeaderName::ReferredBy
            } else if eq_ci(name, &const { key(b"Retry-After") }) {
                HeaderName::RetryAfter
            } else {
                HeaderName::Other
            }
        }
        12 => {
            if eq_ci(name, &const { key(b"Max-Forwards") }) {
                HeaderName::MaxForwards
            } else if eq_ci(name, &const { key(b"Record-Route") }) {
                HeaderName::RecordRoute
            } else if eq_ci(name, &const { key(b"Content-Type") }) {
                HeaderName::ContentType
            } else if eq_ci(name, &const { key(b"Allow-Events") }) {
                HeaderName::AllowEvents
            } else {
                HeaderName::Other
            }
        }
        13 => {
            if eq_ci(name, &const { key(b"Proxy-Require") }) {
                HeaderName::ProxyRequire
            } else if eq_ci(name, &const { key(b"Target-Dialog") }) {
                HeaderName::TargetDialog
            } else if eq_ci(name, &const { key(b"Authorization") }) {
                HeaderName::Authorization
            } else {
                HeaderName::Other
            }
        }
        14 => {
            if eq_ci(name, &const { key(b"Content-Length") }) {
                HeaderName::ContentLength
            } else {
                HeaderName::Other
            }
        }
        15 => {
            if eq_ci(name, &const { key(b"Session-Expires") }) {
                HeaderName::SessionExpires
            } else {
                HeaderName::Other
            }
        }
        16 => {
            if eq_ci(name, &const { key(b"Content-Encoding") }) {
                HeaderName::ContentEncoding
            } else if eq_ci(name, &const { key(b"WWW-Authenticate") }) {
                HeaderName::WwwAuthenticate
            } else {
                HeaderName::Other
            }
        }
        18 => {
            if eq_ci(name, &const { key(b"Subscription-State") }) {
                HeaderName::SubscriptionState
            } else if eq_ci(name, &const { key(b"Proxy-Authenticate") }) {
                HeaderName::ProxyAuthenticate
            } else {
                HeaderName::Other
            }
        }
        19 => {
            if eq_ci(name, &const { key(b"Proxy-Authorization") }) {
                HeaderName::ProxyAuthorization
            } else {
                HeaderName::Other
            }
        }
        _ => HeaderName::Other,
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case() {
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"VIA"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"r"), HeaderName::ReferTo);
        assert_eq!(HeaderName::from_bytes(b"B"), HeaderName::ReferredBy);
        assert_eq!(HeaderName::from_bytes(b"o"), HeaderName::Event);
        assert_eq!(HeaderName::from_bytes(b"call-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"X-Foo"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"q"), HeaderName::Other);
        assert_eq!(HeaderName::ReferTo.compact(), Some(b'r'));
        assert_eq!(HeaderName::from_bytes(b"Call\rID"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Contacts"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b""), HeaderName::Other);
        assert_eq!(HeaderName::CSeq.compact(), None);
    }

    const ALL: [HeaderName; 42] = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::MaxForwards,
        HeaderName::Contact,
        HeaderName::Route,
        HeaderName::RecordRoute,
        HeaderName::ContentType,
        HeaderName::ContentLength,
        HeaderName::ContentEncoding,
        HeaderName::Expires,
        HeaderName::MinExpires,
        HeaderName::Require,
        HeaderName::ProxyRequire,
        HeaderName::Supported,
        HeaderName::Unsupported,
        HeaderName::Allow,
        HeaderName::Accept,
        HeaderName::Event,
        HeaderName::AllowEvents,
        HeaderName::SubscriptionState,
        HeaderName::ReferTo,
        HeaderName::ReferredBy,
        HeaderName::Replaces,
        HeaderName::ReferSub,
        HeaderName::TargetDialog,
        HeaderName::Reason,
        HeaderName::Warning,
        HeaderName::RetryAfter,
        HeaderName::Subject,
        HeaderName::SessionExpires,
        HeaderName::Identity,
        HeaderName::Authorization,
        HeaderName::ProxyAuthorization,
        HeaderName::WwwAuthenticate,
        HeaderName::ProxyAuthenticate,
        HeaderName::UserAgent,
        HeaderName::Server,
        HeaderName::Date,
        HeaderName::Timestamp,
    ];

    /// The word comparison agrees with `eq_ignore_ascii_case` on every known name with any one
    /// byte replaced by any value, in each case.
    #[test]
    fn lookup_is_eq_ignore_ascii_case() {
        let reference = |n: &[u8]| {
            ALL.iter()
                .copied()
                .find(|h| h.as_str().as_bytes().eq_ignore_ascii_case(n))
                .unwrap_or(HeaderName::Other)
        };
        for h in ALL {
            let s = h.as_str();
            for name in [
                s.as_bytes(),
                s.to_ascii_uppercase().as_bytes(),
                s.to_ascii_lowercase().as_bytes(),
            ] {
                assert_eq!(HeaderName::from_bytes(name), h);
                for i in 0..name.len() {
                    let mut m = name.to_vec();
                    for c in 0..=255u8 {
                        m[i] = c;
                        assert_eq!(HeaderName::from_bytes(&m), reference(&m), "{m:?}");
                    }
                }
            }
        }
    }
}
