//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs` call these in one line), also
//! replayed over the seed corpus by `cargo test` so CI catches regressions without nightly.
//! Each function panics only when an invariant breaks.

use crate::msg::Message;
use crate::parse::{self, Frame, Limits, StreamDecoder};
use alloc::vec::Vec;
use bytes::Bytes;

/// Framing, the typed parse and the sipfrag parser never panic; the framed length never
/// exceeds the input.
pub fn parse_message(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(raw) = parse::RawMessage::parse(data, &limits) {
        assert!(raw.len <= data.len());
        let _ = parse::message::message_from_raw(&raw, &limits);
    }
    if let Ok(m) = parse::parse_message(data, &limits) {
        for h in &m.headers {
            check_lookups(h);
        }
    }
    let _ = parse::parse_sipfrag(data);
}

/// Lookups by name (through the parsers' parameter offsets) agree with the walk.
fn check_lookups(h: &crate::msg::Header<&str>) {
    use crate::msg::{Contact, Header, NameAddr, Params, Uri};
    fn params(p: &Params<&str>) {
        for q in p.iter() {
            let first = p
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(q.name))
                .map(|x| x.unquoted());
            assert_eq!(p.get(q.name), first, "{:?}", p.as_str());
        }
    }
    fn addr(a: &NameAddr<&str>) {
        params(&a.params);
        if let Uri::Sip(u) = &a.uri {
            params(&u.params);
        }
    }
    match h {
        Header::Via(vs) => vs.iter().for_each(|v| params(&v.params)),
        Header::From(a) | Header::To(a) | Header::ReferTo(a) | Header::ReferredBy(a) => addr(a),
        Header::Contact(Contact::Addrs(v)) | Header::Route(v) | Header::RecordRoute(v) => {
            v.iter().for_each(addr)
        }
        Header::Event(e) => params(&e.params),
        Header::SubscriptionState(s) => params(&s.params),
        _ => {}
    }
}

/// The URI parser never panics, and a parsed URI re-emits to text that parses to an equal URI.
pub fn parse_uri(data: &[u8]) {
    if let Ok(u) = parse::parse_uri(data) {
        let text = crate::msg::emit::uri_to_string(&u);
        let again = parse::parse_uri(text.as_bytes()).expect("emitted URI must parse");
        assert!(u.equivalent(&again));
        let mut own = crate::text::Share(&Bytes::new());
        assert_eq!(u.convert(&mut own), again.convert(&mut own));
    }
}

/// parse → emit → parse gives an equal model, and emitting that gives identical bytes.
pub fn roundtrip(data: &[u8]) {
    let limits = Limits {
        max_message_size: usize::MAX,
        ..Limits::default()
    };
    let buf = Bytes::copy_from_slice(data);
    let Ok(first) = Message::parse(buf, &limits) else {
        return;
    };
    let wire = first.to_bytes();
    // Emitting adds the Content-Length a datagram may omit (RFC 3261 §18.3), so a message
    // at the header limit comes back with one field more.
    let again = Limits {
        max_headers: limits.max_headers + 1,
        ..limits
    };
    let second = Message::parse(wire.clone(), &again).unwrap_or_else(|e| {
        panic!(
            "emitted message does not parse: {e}\n{}",
            alloc::string::String::from_utf8_lossy(&wire)
        )
    });
    assert_eq!(first, second);
    assert_eq!(wire, second.to_bytes());
}

/// The stream decoder yields the same messages and the same error whatever the chunking
/// (chunk sizes come from the first input byte).
pub fn stream_decoder(data: &[u8]) {
    let Some((&seed, data)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_message_size: 4096,
        ..Limits::default()
    };
    let whole = drain(data, &[data.len().max(1)], &limits);
    let sizes = [1 + (seed as usize % 7), 1 + (seed as usize / 7 % 13), 64];
    let chunked = drain(data, &sizes, &limits);
    assert_eq!(whole, chunked);
    // The frame function agrees with the decoder on the first message.
    if let Ok(Frame::Message(n)) = parse::frame_stream(data, &limits) {
        assert_eq!(whole.0.first().map(|m| m.len()), Some(n));
    }
}

type Drained = (Vec<Bytes>, Option<parse::ErrorKind>);

fn drain(data: &[u8], sizes: &[usize], limits: &Limits) -> Drained {
    let mut d = StreamDecoder::new(*limits);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut k = 0;
    while pos < data.len() {
        let n = sizes[k % sizes.len()].min(data.len() - pos);
        d.push(&data[pos..pos + n]);
        pos += n;
        k += 1;
        loop {
            match d.next_message() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e.kind)),
            }
        }
        assert!(d.buffered() <= limits.max_message_size + n);
    }
    (out, None)
}

/// A live endpoint fed `data` as datagrams (split at `\0`) and, all at once, as TCP bytes: it
/// never panics, everything it sends to a malformed datagram is a 4xx/5xx, and after the
/// last timer it holds no transaction and no timer.
pub fn endpoint(data: &[u8]) {
    use crate::{Config, ConnId, Endpoint, Event, Instant, Transport};
    let local = core::net::SocketAddr::from(([127, 0, 0, 1], 5060));
    let remote = core::net::SocketAddr::from(([192, 0, 2, 1], 5060));
    let mut ep = Endpoint::new(Config::new(local, [9; 32]), Instant::ZERO);
    let limits = Limits::default();
    let mut now = Instant::ZERO;
    let step = |ep: &mut Endpoint, now: Instant, valid: bool| {
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Request { tx, .. } => {
                    let r = ep.response(tx, 486).expect("live transaction");
                    ep.respond(now, tx, r).expect("first answer");
                }
                Event::IncomingCall { call, .. } => ep.reject(now, call, 486).expect("live call"),
                _ => {}
            }
        }
        while let Some(t) = ep.poll_transmit() {
            if t.bytes.is_empty() {
                continue;
            }
            let code = t
                .bytes
                .get(8..11)
                .and_then(|c| core::str::from_utf8(c).ok())
                .and_then(|c| c.parse().ok());
            assert!(
                t.bytes.starts_with(b"SIP/2.0 "),
                "the endpoint only answers"
            );
            if !valid {
                assert!(
                    matches!(code, Some(400..=599)),
                    "{code:?} to a malformed datagram"
                );
            }
        }
    };
    for d in data.split(|&c| c == 0) {
        let valid = Message::parse(Bytes::copy_from_slice(d), &limits).is_ok();
        ep.handle_datagram(
            now,
            Transport::Udp,
            remote,
            local,
            Bytes::copy_from_slice(d),
        );
        step(&mut ep, now, valid);
        now += core::time::Duration::from_millis(100);
        ep.handle_timeout(now);
        step(&mut ep, now, true);
    }
    let conn = ConnId(1);
    ep.handle_connection_opened(now, conn, Transport::Tcp, local, remote);
    ep.handle_stream_bytes(now, conn, data);
    step(&mut ep, now, true);
    ep.handle_timeout(now + core::time::Duration::from_secs(300));
    step(&mut ep, now, true);
    let s = ep.stats();
    assert_eq!((s.transactions, s.timers), (0, 0), "{s:?}");
}

/// The state [`dialog`] starts from, built once per fuzzing process and cloned per input
/// (an [`crate::Endpoint`] is `Clone`): an endpoint with two confirmed calls — it called
/// 192.0.2.1 (Call-ID and its tag generated, the peer's tag `p`) and 192.0.2.3 (the peer's tag
/// `c`) — and an attended transfer of its own under way (the first call transferred to the
/// second's peer with `Replaces`, REFER CSeq 2), set to accept incoming transfers.
#[derive(Clone, Debug)]
pub struct DialogFixture {
    ep: crate::Endpoint,
    calls: alloc::collections::BTreeSet<crate::CallId>,
    now: crate::Instant,
    /// Call-ID and our tag in the first call, then in the second.
    ids: [Bytes; 4],
}

const DIALOG_SDP: &[u8] = b"v=0\r\no=p 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const DIALOG_LOCAL: core::net::SocketAddr = core::net::SocketAddr::new(
    core::net::IpAddr::V4(core::net::Ipv4Addr::new(127, 0, 0, 1)),
    5060,
);

/// Answers what the endpoint reports as [`dialog`]'s peer would: requests get 200, incoming
/// calls are answered; transmits are dropped.
fn dialog_step(
    ep: &mut crate::Endpoint,
    now: crate::Instant,
    calls: &mut alloc::collections::BTreeSet<crate::CallId>,
) {
    use crate::Event;
    while let Some(e) = ep.poll_event() {
        match e {
            Event::Request { tx, .. } => {
                if let Ok(r) = ep.response(tx, 200) {
                    let _ = ep.respond(now, tx, r);
                }
            }
            Event::IncomingCall { call, .. } => {
                calls.insert(call);
                let _ = ep.answer(now, call, Some(Bytes::from_static(DIALOG_SDP)));
            }
            Event::CallState { call, .. } => {
                calls.insert(call);
            }
            _ => {}
        }
    }
    while ep.poll_transmit().is_some() {}
}

impl DialogFixture {
    /// Builds the fixture (two calls set up, the attended REFER sent).
    pub fn new() -> Self {
        use crate::msg::{Contact, Header, MediaType, NameAddr, Params, Uri, Values};
        use crate::{AttendedOptions, CallOptions, Config, Endpoint, Instant, Transfer, Transport};
        let local = DIALOG_LOCAL;
        let mut config = Config::new(local, [9; 32]);
        config.auto_accept_transfers = true;
        let mut ep = Endpoint::new(config, Instant::ZERO);
        let limits = Limits::default();
        let now = Instant::ZERO;
        let mut calls = alloc::collections::BTreeSet::new();
        // A call to `to`, answered by its peer with tag `their_tag`: the call, its Call-ID
        // and our tag.
        let mut up = |ep: &mut Endpoint, to: &str, their_tag: &str| {
            let uri = Uri::parse(to).expect("uri");
            let options = CallOptions {
                offer: Some(Bytes::from_static(DIALOG_SDP)),
                ..Default::default()
            };
            let call = ep.call(now, uri.clone(), options).expect("call");
            calls.insert(call);
            let (invite, dest) = ep
                .poll_transmit()
                .and_then(|t| Some((Message::parse(t.bytes, &limits).ok()?, t.to)))
                .expect("INVITE");
            let call_id = Bytes::copy_from_slice(invite.call_id().expect("Call-ID").as_bytes());
            let tag = invite
                .from()
                .and_then(|f| f.tag())
                .map(|t| Bytes::copy_from_slice(t.as_bytes()))
                .expect("tag");
            let mut ok = crate::msg::builder::response(&invite, 200, Some(their_tag));
            let mut contact = Values::new();
            contact.push(NameAddr::new(uri));
            ok.headers.push(Header::Contact(Contact::Addrs(contact)));
            ok.headers.push(Header::ContentType(MediaType {
                ty: "application".into(),
                subtype: "sdp".into(),
                params: Params::default(),
            }));
            ok.body = Bytes::from_static(DIALOG_SDP);
            ep.handle_datagram(now, Transport::Udp, dest, local, ok.to_bytes());
            dialog_step(ep, now, &mut calls);
            (call, call_id, tag)
        };
        let (call, call_id, tag) = up(&mut ep, "sip:p@192.0.2.1:5060", "p");
        let (consultation, call_id2, tag2) = up(&mut ep, "sip:c@192.0.2.3:5060", "c");
        let options = AttendedOptions {
            hold: false,
            ..Default::default()
        };
        let attended = Transfer::Attended {
            consultation,
            options,
        };
        ep.transfer(now, call, attended).expect("both calls are up");
        dialog_step(&mut ep, now, &mut calls);
        DialogFixture {
            ep,
            calls,
            now,
            ids: [call_id, tag, call_id2, tag2],
        }
    }
}

impl Default for DialogFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// [`dialog_from`] on a fresh [`DialogFixture`].
pub fn dialog(data: &[u8]) {
    dialog_from(DialogFixture::new(), data)
}

/// The endpoint of a [`DialogFixture`] is fed `data` as datagrams from the first peer
/// (split at `\0`). `%C` in a datagram stands for the first call's Call-ID and `%T` for the
/// endpoint's tag in it, `%D` and `%U` for the second call's, so the seeds reach both
/// dialogs: REFER, NOTIFY, SUBSCRIBE, re-INVITE, BYE, and INVITEs whose `Replaces` names the
/// second call (RFC 3891 §3). It never panics, and once every call is hung up and the timers
/// have run out it holds no transaction, no timer, no subscription.
pub fn dialog_from(fixture: DialogFixture, data: &[u8]) {
    use crate::Transport;
    let local = DIALOG_LOCAL;
    let peer = core::net::SocketAddr::from(([192, 0, 2, 1], 5060));
    let DialogFixture {
        mut ep,
        mut calls,
        mut now,
        ids: [call_id, tag, call_id2, tag2],
    } = fixture;
    for d in data.split(|&c| c == 0) {
        let mut bytes = Vec::with_capacity(d.len() + 64);
        let mut i = 0;
        while i < d.len() {
            match (d[i], d.get(i + 1)) {
                (b'%', Some(b'C')) => bytes.extend_from_slice(&call_id),
                (b'%', Some(b'T')) => bytes.extend_from_slice(&tag),
                (b'%', Some(b'D')) => bytes.extend_from_slice(&call_id2),
                (b'%', Some(b'U')) => bytes.extend_from_slice(&tag2),
                (c, _) => {
                    bytes.push(c);
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        ep.handle_datagram(now, Transport::Udp, peer, local, Bytes::from(bytes));
        dialog_step(&mut ep, now, &mut calls);
        now += core::time::Duration::from_millis(100);
        ep.handle_timeout(now);
        dialog_step(&mut ep, now, &mut calls);
    }
    for &c in &calls {
        if ep.call_is_live(c) {
            let _ = ep.hangup(now, c);
        }
    }
    dialog_step(&mut ep, now, &mut calls);
    for _ in 0..20 {
        now += core::time::Duration::from_secs(60);
        ep.handle_timeout(now);
        dialog_step(&mut ep, now, &mut calls);
    }
    let s = ep.stats();
    assert_eq!(
        (s.transactions, s.timers, s.subscriptions, s.dialogs),
        (0, 0, 0, 0),
        "{s:?}"
    );
}
