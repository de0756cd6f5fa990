//! Dialogs (RFC 3261 §12): the dialog id, early and confirmed state, the route set, the remote
//! target and both CSeq spaces, and the in-dialog requests built from them.

use crate::msg::{CSeq, Header, Host, Message, Method, NameAddr, StartLine, Uri, Values};
use crate::text::{Detach, SipStr};
use crate::transport::{Destination, Transport};
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::{IpAddr, SocketAddr};

/// A dialog's identity (§12): Call-ID, local tag, remote tag.
///
/// Ordered by local tag, then remote tag, then Call-ID: tags are short and random, so a
/// comparison is almost always settled by the first one, held inline (a [`SipStr`] of up to
/// 22 bytes needs no pointer), where Call-IDs are long and often share a suffix (`@host`).
/// (The endpoint finds dialogs through keyed hash tables, not this order.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: SipStr,
    /// Our tag (From in our requests).
    pub local_tag: SipStr,
    /// The peer's tag.
    pub remote_tag: SipStr,
}

impl Ord for DialogId {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (&self.local_tag, &self.remote_tag, &self.call_id).cmp(&(
            &other.local_tag,
            &other.remote_tag,
            &other.call_id,
        ))
    }
}

/// Hashes the two tags, each closed by 0xFF (a byte no UTF-8 text holds). The Call-ID,
/// the long part, is left out: every dialog id an endpoint keeps holds a tag it drew itself
/// (§19.3: random), so ids that differ only in their Call-IDs are as rare as tags that
/// repeat, and equal ids still hash alike.
impl core::hash::Hash for DialogId {
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        DialogKey::new(&self.call_id, &self.local_tag, &self.remote_tag).hash(h);
    }
}

/// A [`DialogId`] as it lies in a received message, for looking its dialog up: hashed as the
/// id is and compared with one, without the copies a [`DialogId`] makes of strings longer than
/// 22 bytes (a pjsip or Asterisk peer's Call-ID and tags are 36 characters: two or three
/// allocations a lookup).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DialogKey<'a> {
    call_id: &'a str,
    local_tag: &'a str,
    remote_tag: &'a str,
}

impl<'a> DialogKey<'a> {
    /// [`Dialog::id_of_request`]'s id, borrowed.
    pub(crate) fn of_request(m: &'a Message) -> Option<Self> {
        Some(DialogKey {
            call_id: m.call_id()?,
            local_tag: m.to()?.tag()?,
            remote_tag: m.from()?.tag().unwrap_or(""),
        })
    }

    /// [`Dialog::id_of_response`]'s id, borrowed.
    pub(crate) fn of_response(m: &'a Message) -> Option<Self> {
        Some(DialogKey {
            call_id: m.call_id()?,
            local_tag: m.from()?.tag().unwrap_or(""),
            remote_tag: m.to()?.tag()?,
        })
    }

    /// The id of Call-ID `call_id`, our tag `local_tag` and the peer's `remote_tag`.
    pub(crate) fn new(call_id: &'a str, local_tag: &'a str, remote_tag: &'a str) -> Self {
        DialogKey {
            call_id,
            local_tag,
            remote_tag,
        }
    }

    /// Is `id` this id?
    pub(crate) fn is(&self, id: &DialogId) -> bool {
        id.local_tag.as_str() == self.local_tag
            && id.remote_tag.as_str() == self.remote_tag
            && id.call_id.as_str() == self.call_id
    }

    /// The id, owned.
    pub(crate) fn to_id(self) -> DialogId {
        DialogId {
            call_id: self.call_id.into(),
            local_tag: self.local_tag.into(),
            remote_tag: self.remote_tag.into(),
        }
    }
}

/// [`DialogId`]'s hash (which is this one's, so that the two hash alike): the two tags, each
/// closed by 0xFF.
impl core::hash::Hash for DialogKey<'_> {
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        crate::hashed::write_parts(h, &[self.local_tag.as_bytes(), self.remote_tag.as_bytes()]);
    }
}

impl PartialOrd for DialogId {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Early (a provisional response created it) or confirmed (a 2xx did).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a 101–199 response with a To tag.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// The state of one dialog (§12.1).
#[derive(Clone, Debug)]
pub struct Dialog {
    /// Its id.
    pub id: DialogId,
    /// Early or confirmed.
    pub state: DialogState,
    /// Our URI with our tag (From of our requests).
    pub local: NameAddr<SipStr>,
    /// The peer's URI with its tag (To of our requests).
    pub remote: NameAddr<SipStr>,
    /// The CSeq of our last request in the dialog.
    pub local_seq: u32,
    /// The CSeq of the peer's last request, once one arrived.
    pub remote_seq: Option<u32>,
    /// Where requests go: the peer's Contact (§12.1.1, refreshed by target refresh requests).
    pub remote_target: Uri<SipStr>,
    /// The route set, in the order our requests carry it.
    pub route_set: Vec<NameAddr<SipStr>>,
    /// Where the dialog-creating message came from, used when no route or target names an
    /// IP address (the core does no DNS).
    pub peer: Destination,
}

fn tag(n: &NameAddr<SipStr>) -> SipStr {
    n.tag().map(SipStr::from).unwrap_or_default()
}

// What a dialog takes from a message it keeps for the call's life: detached from the
// datagram (see `text::Detach`).

fn contact(m: &Message) -> Option<Uri<SipStr>> {
    m.contacts().next().map(|c| c.uri.clone().detached())
}

fn record_routes(m: &Message) -> Vec<NameAddr<SipStr>> {
    m.record_routes().map(|r| r.clone().detached()).collect()
}

impl Dialog {
    /// The UAC side, from our request and a response with a To tag (§12.1.2): the route set is
    /// the response's Record-Route reversed, the remote target its Contact.
    pub fn uac(request: &Message, response: &Message, peer: Destination) -> Option<Dialog> {
        Dialog::uac_of(
            request.from()?,
            request.call_id()?,
            request.cseq()?.seq,
            request.request_uri(),
            response,
            peer,
        )
    }

    /// [`Dialog::uac`] from what our request said: From (`local`), Call-ID, CSeq number
    /// and Request-URI (the remote target when the response has no Contact).
    pub(crate) fn uac_of(
        local: &NameAddr<SipStr>,
        call_id: &str,
        seq: u32,
        uri: Option<&Uri<SipStr>>,
        response: &Message,
        peer: Destination,
    ) -> Option<Dialog> {
        let local = local.clone().detached();
        let remote = response.to()?.clone().detached();
        let mut route_set = record_routes(response);
        route_set.reverse();
        Some(Dialog {
            id: DialogId {
                call_id: call_id.into(),
                local_tag: tag(&local),
                remote_tag: tag(&remote),
            },
            state: if response.status()? >= 200 {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_seq: seq,
            remote_seq: None,
            remote_target: contact(response).or_else(|| Some(uri?.clone().detached()))?,
            route_set,
            local,
            remote,
            peer,
        })
    }

    /// The UAS side, from a request and our tag (§12.1.1): the route set is the request's
    /// Record-Route in order, the remote target its Contact; our CSeq space starts at
    /// `local_seq`.
    pub fn uas(
        request: &Message,
        local_tag: &str,
        local_seq: u32,
        peer: Destination,
    ) -> Option<Dialog> {
        let mut local = request.to()?.clone().detached();
        local.params.remove("tag");
        local.params.push("tag", Some(local_tag));
        let remote = request.from()?.clone().detached();
        Some(Dialog {
            id: DialogId {
                call_id: request.call_id()?.into(),
                local_tag: local_tag.into(),
                remote_tag: tag(&remote),
            },
            state: DialogState::Early,
            local_seq,
            remote_seq: Some(request.cseq()?.seq),
            remote_target: contact(request).or_else(|| Some(remote.uri.clone()))?,
            route_set: record_routes(request),
            local,
            remote,
            peer,
        })
    }

    /// The id of the dialog a received in-dialog request belongs to (To tag = ours).
    pub fn id_of_request(m: &Message) -> Option<DialogId> {
        DialogKey::of_request(m).map(DialogKey::to_id)
    }

    /// The id of the dialog a received response belongs to (From tag = ours).
    pub fn id_of_response(m: &Message) -> Option<DialogId> {
        DialogKey::of_response(m).map(DialogKey::to_id)
    }

    /// A request within the dialog (§12.2.1.1): Request-URI and Route from the route set and
    /// remote target (loose or strict routing), From/To/Call-ID of the dialog, CSeq one more
    /// than the last (ACK and CANCEL reuse the INVITE's number, `seq`).
    pub fn request(
        &mut self,
        method: Method<SipStr>,
        seq: Option<u32>,
        contact: Option<&NameAddr<SipStr>>,
    ) -> Message {
        // Room for what the usages add (Refer-To, Referred-By, Event, Subscription-State,
        // Content-Type...) and the top Via of the transaction: one allocation.
        self.request_in(
            method,
            seq,
            contact,
            crate::msg::Headers::with_capacity(crate::msg::pool::MIN),
        )
    }

    /// [`Dialog::request`] with its headers in `list` (empty; from the endpoint's
    /// [`crate::msg::pool`]).
    pub(crate) fn request_in(
        &mut self,
        method: Method<SipStr>,
        seq: Option<u32>,
        contact: Option<&NameAddr<SipStr>>,
        mut headers: crate::msg::Headers<SipStr>,
    ) -> Message {
        let seq = seq.unwrap_or_else(|| {
            self.local_seq = self.local_seq.wrapping_add(1);
            self.local_seq
        });
        let loose = self
            .route_set
            .first()
            .is_none_or(|r| r.uri_param("lr").is_some());
        let (uri, routes): (Uri<SipStr>, Vec<NameAddr<SipStr>>) = if loose {
            (self.remote_target.clone(), self.route_set.clone())
        } else {
            // Strict routing: the first route becomes the Request-URI, the remote target the
            // last Route.
            let mut rest: Vec<NameAddr<SipStr>> = self.route_set[1..].to_vec();
            rest.push(NameAddr::new(self.remote_target.clone()));
            (self.route_set[0].uri.clone(), rest)
        };
        headers.push(Header::MaxForwards(70));
        if !routes.is_empty() {
            headers.push(Header::Route(routes.into_iter().collect::<Values<_>>()));
        }
        headers.push(Header::From(self.local.clone()));
        headers.push(Header::To(self.remote.clone()));
        headers.push(Header::CallId(self.id.call_id.clone()));
        headers.push(Header::CSeq(CSeq {
            seq,
            method: method.clone(),
        }));
        if let Some(c) = contact {
            let mut v = Values::new();
            v.push(c.clone());
            headers.push(Header::Contact(crate::msg::Contact::Addrs(v)));
        }
        Message {
            start: StartLine::Request { method, uri },
            headers,
            body: Bytes::new(),
        }
    }

    /// Where the next request goes: the first route (loose routing) or the remote target,
    /// when it names an IP address; otherwise the address the dialog's peer used.
    pub fn destination(&self) -> Destination {
        let next = self
            .route_set
            .first()
            .map(|r| &r.uri)
            .unwrap_or(&self.remote_target);
        uri_destination(next, self.peer.transport).unwrap_or(self.peer)
    }

    /// §12.2.2: a request's CSeq must be above the last one (else 500); a target refresh
    /// (INVITE, UPDATE) replaces the remote target with its Contact.
    pub fn on_request(&mut self, m: &Message) -> Result<(), u16> {
        let seq = m.cseq().map(|c| c.seq).ok_or(400u16)?;
        let ack_or_cancel = matches!(m.method(), Some(Method::Ack | Method::Cancel));
        if !ack_or_cancel {
            if self.remote_seq.is_some_and(|last| seq <= last) {
                return Err(500);
            }
            self.remote_seq = Some(seq);
        }
        if matches!(m.method(), Some(Method::Invite | Method::Update)) {
            if let Some(c) = contact(m) {
                self.remote_target = c;
            }
        }
        Ok(())
    }
}

impl NameAddr<SipStr> {
    /// A parameter of the URI (for a SIP URI), e.g. `lr`.
    pub fn uri_param(&self, name: &str) -> Option<Option<&str>> {
        match &self.uri {
            Uri::Sip(s) => s.param(name),
            _ => None,
        }
    }
}

/// The socket address a SIP URI names when its host is an IP address (port 5060, or 5061 for
/// sips; `;transport=tcp` selects TCP). The core does no DNS (RFC 3263 is the runtime's).
pub fn uri_destination(uri: &Uri<SipStr>, default: Transport) -> Option<Destination> {
    let Uri::Sip(s) = uri else {
        return None;
    };
    let ip = match s.host {
        Host::Ipv4(a) => IpAddr::V4(a),
        Host::Ipv6(a) => IpAddr::V6(a),
        Host::Domain(_) => return None,
    };
    let transport = match s.param("transport").flatten() {
        Some(t) if t.eq_ignore_ascii_case("tcp") => Transport::Tcp,
        Some(t) if t.eq_ignore_ascii_case("tls") => Transport::Tls,
        Some(t) if t.eq_ignore_ascii_case("udp") => Transport::Udp,
        _ if s.secure => Transport::Tls,
        _ => default,
    };
    let port = s.port.unwrap_or(if s.secure { 5061 } else { 5060 });
    Some(Destination {
        transport,
        addr: SocketAddr::new(ip, port),
        conn: None,
    })
}

#[cfg(test)]
mod tests {
    use super::Dialog;
    use crate::msg::Message;
    use crate::transport::Destination;
    use alloc::format;
    use bytes::Bytes;

    /// A dialog keeps nothing of the datagrams it was made from: with a peer's tags, display
    /// name, Contact and Record-Route longer than a string holds inline (pjsip's 36-character
    /// tags), each kept string is a copy of its own, and the datagram (its SDP body with it)
    /// is freed with its message, not when the call ends.
    #[test]
    #[cfg(target_has_atomic = "ptr")]
    fn keeps_nothing_of_the_datagrams() {
        let tag = "5f0c1e0a-2e8a-4b8e-9c0a-1e2f3a4b5c6d";
        let head = format!(
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKPj{tag}\r\n\
             Record-Route: <sip:proxy-with-a-long-name.example.com;lr;ftag={tag}>\r\n\
             From: \"Alice Liddell of Wonderland\" <sip:alice-liddell@atlanta.example.com>;tag={tag}\r\n\
             To: \"Bob the Builder of Biloxi\" <sip:bob-the-builder@biloxi.example.com>\r\n\
             Call-ID: {tag}\r\n\
             Contact: <sip:alice-liddell@192.0.2.1:5060;ob;transport=udp>\r\n"
        );
        let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
        let invite = Bytes::from(format!(
            "INVITE sip:bob-the-builder@biloxi.example.com SIP/2.0\r\n{head}CSeq: 1 INVITE\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ));
        let ok = Bytes::from(format!(
            "SIP/2.0 200 OK\r\n{}CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
            head.replace(
                "<sip:bob-the-builder@biloxi.example.com>\r\n",
                &format!("<sip:bob-the-builder@biloxi.example.com>;tag={tag}-b\r\n")
            )
        ));
        let peer = Destination::udp("192.0.2.1:5060".parse().unwrap());
        let (request, response) = (
            Message::parse(invite.clone(), &Default::default()).unwrap(),
            Message::parse(ok.clone(), &Default::default()).unwrap(),
        );
        let uas = Dialog::uas(&request, "ours", 1, peer).unwrap();
        let uac = Dialog::uac(&request, &response, peer).unwrap();
        assert!(!invite.is_unique() && !ok.is_unique());
        drop((request, response));
        assert!(invite.is_unique(), "the UAS dialog keeps the INVITE");
        assert!(ok.is_unique(), "the UAC dialog keeps the 200");
        assert_eq!(uas.remote.tag(), Some(tag));
        assert_eq!(uac.remote.tag(), Some(format!("{tag}-b").as_str()));
        assert_eq!(uas.route_set.len(), 1);
        assert_eq!(
            uas.remote.display.as_str(),
            "\"Alice Liddell of Wonderland\""
        );
    }

    /// The id as it lies in a message is the id the dialog keeps: the same hash, and equal
    /// to it alone (each of its three parts told apart), for requests and responses.
    #[test]
    fn a_borrowed_id_is_the_dialogs_id() {
        use super::{DialogId, DialogKey};
        use core::hash::BuildHasher;
        let keys = crate::hashed::Keys::from_seed([3; 32]);
        let call_id = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
        let bye = Message::parse(
            Bytes::from(format!(
                "BYE sip:a@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
                 From: <sip:b@192.0.2.1>;tag=theirs-9f8e7d6c-5b4a-4392-8170\r\n\
                 To: <sip:a@192.0.2.4>;tag=ours\r\nCall-ID: {call_id}\r\nCSeq: 2 BYE\r\n\r\n"
            )),
            &Default::default(),
        )
        .unwrap();
        let ok = Message::parse(
            Bytes::from(format!(
                "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK2\r\n\
                 From: <sip:a@192.0.2.4>;tag=ours\r\n\
                 To: <sip:b@192.0.2.1>;tag=theirs-9f8e7d6c-5b4a-4392-8170\r\n\
                 Call-ID: {call_id}\r\nCSeq: 3 BYE\r\n\r\n"
            )),
            &Default::default(),
        )
        .unwrap();
        let id = Dialog::id_of_request(&bye).unwrap();
        assert_eq!(Dialog::id_of_response(&ok), Some(id.clone()));
        for key in [
            DialogKey::of_request(&bye).unwrap(),
            DialogKey::of_response(&ok).unwrap(),
        ] {
            assert!(key.is(&id));
            assert_eq!(keys.hash_one(key), keys.hash_one(&id));
            assert_eq!(key.to_id(), id);
        }
        let other = |f: fn(&mut DialogId)| {
            let mut o = id.clone();
            f(&mut o);
            o
        };
        for o in [
            other(|o| o.call_id = "another".into()),
            other(|o| o.local_tag = "theirs-9f8e7d6c-5b4a-4392-8170".into()),
            other(|o| o.remote_tag = "ours".into()),
        ] {
            assert!(!DialogKey::of_request(&bye).unwrap().is(&o));
        }
    }
}
