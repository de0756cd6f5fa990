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

/// Looks a full name up case-insensitively: dispatch on the length, then compare the few names
/// of that length (a handful of byte comparisons per header, no hashing).
fn lookup_full(name: &[u8]) -> HeaderName {
    match name.len() {
        2 => {
            if name.eq_ignore_ascii_case(b"To") {
                HeaderName::To
            } else {
                HeaderName::Other
            }
        }
        3 => {
            if name.eq_ignore_ascii_case(b"Via") {
                HeaderName::Via
            } else {
                HeaderName::Other
            }
        }
        4 => {
            if name.eq_ignore_ascii_case(b"From") {
                HeaderName::From
            } else if name.eq_ignore_ascii_case(b"CSeq") {
                HeaderName::CSeq
            } else if name.eq_ignore_ascii_case(b"Date") {
                HeaderName::Date
            } else {
                HeaderName::Other
            }
        }
        5 => {
            if name.eq_ignore_ascii_case(b"Route") {
                HeaderName::Route
            } else if name.eq_ignore_ascii_case(b"Allow") {
                HeaderName::Allow
            } else if name.eq_ignore_ascii_case(b"Event") {
                HeaderName::Event
            } else {
                HeaderName::Other
            }
        }
        6 => {
            if name.eq_ignore_ascii_case(b"Accept") {
                HeaderName::Accept
            } else if name.eq_ignore_ascii_case(b"Reason") {
                HeaderName::Reason
            } else if name.eq_ignore_ascii_case(b"Server") {
                HeaderName::Server
            } else {
                HeaderName::Other
            }
        }
        7 => {
            if name.eq_ignore_ascii_case(b"Call-ID") {
                HeaderName::CallId
            } else if name.eq_ignore_ascii_case(b"Contact") {
                HeaderName::Contact
            } else if name.eq_ignore_ascii_case(b"Expires") {
                HeaderName::Expires
            } else if name.eq_ignore_ascii_case(b"Require") {
                HeaderName::Require
            } else if name.eq_ignore_ascii_case(b"Warning") {
                HeaderName::Warning
            } else if name.eq_ignore_ascii_case(b"Subject") {
                HeaderName::Subject
            } else {
                HeaderName::Other
            }
        }
        8 => {
            if name.eq_ignore_ascii_case(b"Refer-To") {
                HeaderName::ReferTo
            } else if name.eq_ignore_ascii_case(b"Replaces") {
                HeaderName::Replaces
            } else if name.eq_ignore_ascii_case(b"Identity") {
                HeaderName::Identity
            } else {
                HeaderName::Other
            }
        }
        9 => {
            if name.eq_ignore_ascii_case(b"Supported") {
                HeaderName::Supported
            } else if name.eq_ignore_ascii_case(b"Refer-Sub") {
                HeaderName::ReferSub
            } else if name.eq_ignore_ascii_case(b"Timestamp") {
                HeaderName::Timestamp
            } else {
                HeaderName::Other
            }
        }
        10 => {
            if name.eq_ignore_ascii_case(b"User-Agent") {
                HeaderName::UserAgent
            } else {
                HeaderName::Other
            }
        }
        11 => {
            if name.eq_ignore_ascii_case(b"Min-Expires") {
                HeaderName::MinExpires
            } else if name.eq_ignore_ascii_case(b"Unsupported") {
                HeaderName::Unsupported
            } else if name.eq_ignore_ascii_case(b"Referred-By") {
                HeaderName::ReferredBy
            } else if name.eq_ignore_ascii_case(b"Retry-After") {
                HeaderName::RetryAfter
            } else {
                HeaderName::Other
            }
        }
        12 => {
            if name.eq_ignore_ascii_case(b"Max-Forwards") {
                HeaderName::MaxForwards
            } else if name.eq_ignore_ascii_case(b"Record-Route") {
                HeaderName::RecordRoute
            } else if name.eq_ignore_ascii_case(b"Content-Type") {
                HeaderName::ContentType
            } else if name.eq_ignore_ascii_case(b"Allow-Events") {
                HeaderName::AllowEvents
            } else {
                HeaderName::Other
            }
        }
        13 => {
            if name.eq_ignore_ascii_case(b"Proxy-Require") {
                HeaderName::ProxyRequire
            } else if name.eq_ignore_ascii_case(b"Target-Dialog") {
                HeaderName::TargetDialog
            } else if name.eq_ignore_ascii_case(b"Authorization") {
                HeaderName::Authorization
            } else {
                HeaderName::Other
            }
        }
        14 => {
            if name.eq_ignore_ascii_case(b"Content-Length") {
                HeaderName::ContentLength
            } else {
                HeaderName::Other
            }
        }
        15 => {
            if name.eq_ignore_ascii_case(b"Session-Expires") {
                HeaderName::SessionExpires
            } else {
                HeaderName::Other
            }
        }
        16 => {
            if name.eq_ignore_ascii_case(b"Content-Encoding") {
                HeaderName::ContentEncoding
            } else if name.eq_ignore_ascii_case(b"WWW-Authenticate") {
                HeaderName::WwwAuthenticate
            } else {
                HeaderName::Other
            }
        }
        18 => {
            if name.eq_ignore_ascii_case(b"Subscription-State") {
                HeaderName::SubscriptionState
            } else if name.eq_ignore_ascii_case(b"Proxy-Authenticate") {
                HeaderName::ProxyAuthenticate
            } else {
                HeaderName::Other
            }
        }
        19 => {
            if name.eq_ignore_ascii_case(b"Proxy-Authorization") {
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
}
