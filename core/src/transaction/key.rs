//! Transaction matching keys: §17.1.3 for responses, §17.2.3 for requests.

use crate::msg::{emit::uri_to_string, Header, Host, Message, Method, Values, Via};
use crate::text::Text;
use alloc::format;
use alloc::string::{String, ToString};

/// §17.1.3: a response matches a client transaction when the branch of its top Via equals
/// the request's and its CSeq method equals the request's method (so a CANCEL has its own
/// transaction, distinct from the INVITE's with the same branch).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ClientKey {
    pub branch: String,
    pub method: String,
}

impl ClientKey {
    /// The key of a response (or of the request a client sends).
    pub fn of<S: Text>(m: &Message<S>) -> Option<Self> {
        let branch = m.top_via()?.branch()?;
        let method = m.cseq()?.method.as_str();
        Some(ClientKey {
            branch: branch.into(),
            method: method.into(),
        })
    }
}

/// §17.2.3: the request side. With an RFC 3261 branch (magic cookie) the key is branch,
/// sent-by and method, an ACK standing for the INVITE it acknowledges. Without one, the RFC
/// 2543 rule: Request-URI, From tag, Call-ID, CSeq number and top Via (To tags are checked by
/// the layer, because the ACK's To tag is the one of the response).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ServerKey {
    Rfc3261 {
        branch: String,
        host: String,
        port: Option<u16>,
        method: String,
    },
    Rfc2543 {
        uri: String,
        from_tag: String,
        call_id: String,
        cseq: u32,
        via: String,
        method: String,
    },
}

/// The method a request matches under: ACK matches the INVITE transaction.
fn match_method<S: Text>(m: &Method<S>) -> String {
    match m {
        Method::Ack => "INVITE".into(),
        m => m.as_str().into(),
    }
}

fn host_key<S: Text>(h: &Host<S>) -> String {
    match h {
        Host::Domain(d) => d.as_ref().to_ascii_lowercase(),
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6(a) => format!("[{a}]"),
    }
}

impl ServerKey {
    /// The key of a request; `method` overrides the request's own (to find the INVITE a
    /// CANCEL targets, §9.2).
    pub fn of<S: Text>(m: &Message<S>, method: Option<&str>) -> Option<Self> {
        let via = m.top_via()?;
        let method = match method {
            Some(x) => x.into(),
            None => match_method(m.method()?),
        };
        if via.has_magic_cookie() {
            return Some(ServerKey::Rfc3261 {
                branch: via.branch()?.into(),
                host: host_key(&via.host),
                port: via.port,
                method,
            });
        }
        let mut one: Values<Via<S>> = Values::new();
        one.push(via.clone());
        Some(ServerKey::Rfc2543 {
            uri: uri_to_string(m.request_uri()?),
            from_tag: m.from()?.tag().unwrap_or("").into(),
            call_id: m.call_id()?.into(),
            cseq: m.cseq()?.seq,
            via: crate::msg::emit::header_value_to_string(&Header::Via(one)),
            method,
        })
    }

    pub fn is_rfc2543(&self) -> bool {
        matches!(self, ServerKey::Rfc2543 { .. })
    }
}
