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
    use crate::msg::{Contact, Header, NameAddr, Params, Uri, ViaParams};
    macro_rules! check {
        ($p:expr) => {{
            let p = $p;
            for q in p.iter() {
                let first = p
                    .iter()
                    .find(|x| x.name.eq_ignore_ascii_case(q.name))
                    .map(|x| x.unquoted());
                assert_eq!(p.get(q.name), first, "{:?}", p.as_str());
            }
        }};
    }
    fn params(p: &Params<&str>) {
        check!(p)
    }
    fn via_params(p: &ViaParams<&str>) {
        check!(p)
    }
    fn addr(a: &NameAddr<&str>) {
        params(&a.params);
        if let Uri::Sip(u) = &a.uri {
            params(&u.params);
        }
    }
    match h {
        Header::Via(vs) => vs.iter().for_each(|v| via_params(&v.params)),
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
        let mut own = crate::text::Share::copying();
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
    // Up to 20 minutes of virtual time, a minute at a step, stopping once no timer is armed
    // (the check below is the same either way).
    for _ in 0..20 {
        if ep.poll_timeout().is_none() {
            break;
        }
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

/// Three endpoints in memory — A (10.0.0.1), B (10.0.0.2), C (10.0.0.3) — with two calls up
/// (A called B, A called C), the state [`endpoint_ops`] starts from (cloned per input).
#[derive(Clone, Debug)]
pub struct OpsFixture {
    eps: [crate::Endpoint; 3],
    now: crate::Instant,
    /// Datagrams in flight: (from, to, bytes).
    wire: Vec<(usize, usize, Bytes)>,
    /// Per endpoint: its calls (as the application knows them) and the transfers offered
    /// to it, not answered yet.
    calls: [Vec<crate::CallId>; 3],
    offered: [Vec<crate::TransferId>; 3],
    /// The transfer outcomes reported so far: (endpoint, outcome).
    outcomes: Vec<(usize, crate::TransferOutcome)>,
}

/// Most datagrams kept in flight (older ones are lost), and most ops per input.
const OPS_WIRE: usize = 64;
const OPS_MAX: usize = 256;

fn ops_addr(i: usize) -> core::net::SocketAddr {
    core::net::SocketAddr::from(([10, 0, 0, 1 + i as u8], 5060))
}

impl OpsFixture {
    /// Builds the fixture: A calls B and C, both answer, every message delivered.
    pub fn new() -> Self {
        use crate::msg::Uri;
        use crate::{CallOptions, Config, Endpoint, Instant};
        let ep =
            |i: usize| Endpoint::new(Config::new(ops_addr(i), [i as u8 + 1; 32]), Instant::ZERO);
        let mut f = OpsFixture {
            eps: [ep(0), ep(1), ep(2)],
            now: Instant::ZERO,
            wire: Vec::new(),
            calls: Default::default(),
            offered: Default::default(),
            outcomes: Vec::new(),
        };
        for to in [1, 2] {
            let uri = Uri::parse(&alloc::format!("sip:u{to}@{}", ops_addr(to))).expect("uri");
            let options = CallOptions {
                offer: Some(Bytes::from_static(DIALOG_SDP)),
                ..Default::default()
            };
            if let Ok(call) = f.eps[0].call(f.now, uri, options) {
                f.calls[0].push(call);
            }
            f.settle_wire();
            if let Some(&call) = f.calls[to].last() {
                let _ = f.eps[to].answer(f.now, call, Some(Bytes::from_static(DIALOG_SDP)));
            }
            f.settle_wire();
        }
        f
    }

    /// Moves transmits onto the wire and answers events as a plain application would:
    /// incoming calls and transfers are remembered for the ops to act on.
    fn pump(&mut self) {
        use crate::Event;
        for i in 0..3 {
            while let Some(e) = self.eps[i].poll_event() {
                match e {
                    Event::IncomingCall { call, .. } => {
                        if self.calls[i].len() < 8 {
                            self.calls[i].push(call);
                        } else {
                            let _ = self.eps[i].reject(self.now, call, 486);
                        }
                    }
                    Event::IncomingTransfer { transfer, .. } => self.offered[i].push(transfer),
                    Event::TransferOutcome { outcome, .. } if self.outcomes.len() < 64 => {
                        self.outcomes.push((i, outcome));
                    }
                    Event::Request { tx, .. } => {
                        if let Ok(r) = self.eps[i].response(tx, 200) {
                            let _ = self.eps[i].respond(self.now, tx, r);
                        }
                    }
                    Event::CallState {
                        call,
                        state: crate::CallState::Terminated { .. },
                        ..
                    } => self.calls[i].retain(|&c| c != call),
                    _ => {}
                }
            }
            while let Some(t) = self.eps[i].poll_transmit() {
                let Some(to) = (0..3).find(|&j| ops_addr(j) == t.to) else {
                    continue;
                };
                if !t.bytes.is_empty() {
                    if self.wire.len() >= OPS_WIRE {
                        self.wire.remove(0);
                    }
                    self.wire.push((i, to, t.bytes));
                }
            }
        }
    }

    fn deliver(&mut self, k: usize, bytes: Option<Bytes>) {
        if self.wire.is_empty() {
            return;
        }
        let (from, to, original) = self.wire.remove(k % self.wire.len());
        let bytes = bytes.unwrap_or(original);
        let now = self.now;
        self.eps[to].handle_datagram(
            now,
            crate::Transport::Udp,
            ops_addr(from),
            ops_addr(to),
            bytes,
        );
        self.pump();
    }

    fn advance(&mut self, d: core::time::Duration) {
        self.now += d;
        for i in 0..3 {
            self.eps[i].handle_timeout(self.now);
        }
        self.pump();
    }

    /// Delivers everything in order, firing timers, until the wire is quiet (bounded).
    fn settle_wire(&mut self) {
        self.pump();
        for _ in 0..10_000 {
            if self.wire.is_empty() {
                let next = self.eps.iter().filter_map(|e| e.poll_timeout()).min();
                match next {
                    Some(t) if t <= self.now + core::time::Duration::from_secs(1) => {
                        self.now = self.now.max(t);
                        self.advance(core::time::Duration::ZERO);
                    }
                    _ => return,
                }
            } else {
                self.deliver(0, None);
            }
        }
    }

    /// An application command at endpoint `i`, chosen by `op` and `arg`.
    fn command(&mut self, i: usize, op: u8, arg: u8) {
        use crate::msg::Uri;
        use crate::{AttendedOptions, BlindOptions, CallOptions, Transfer};
        let now = self.now;
        let pick = |v: &[crate::CallId], a: u8| v.get(a as usize % v.len().max(1)).copied();
        let call = pick(&self.calls[i], arg);
        let other = (i + 1 + (arg as usize >> 1) % 2) % 3;
        let uri = Uri::parse(&alloc::format!("sip:u{other}@{}", ops_addr(other))).expect("uri");
        let sdp = Some(Bytes::from_static(DIALOG_SDP));
        let ep = &mut self.eps[i];
        let _ = match (op % 12, call) {
            (0, _) if self.calls[i].len() < 8 => {
                // Without an offer when the argument's top bit says so: the callee offers in
                // its 2xx, and the ACK waits for an answer (op 1) or a hang-up (op 4).
                let options = CallOptions {
                    offer: if arg & 0x80 == 0 { sdp } else { None },
                    ..Default::default()
                };
                ep.call(now, uri, options).map(|c| self.calls[i].push(c))
            }
            (1, Some(c)) => ep.answer(now, c, sdp),
            (2, Some(c)) => ep.ring(now, c, 180),
            // Or redirected to the other endpoint (RFC 3261 §8.3), which the caller follows.
            (3, Some(c)) if arg & 0x80 != 0 => {
                ep.redirect_call(now, c, 302, alloc::vec![crate::msg::NameAddr::new(uri)])
            }
            (3, Some(c)) => ep.reject(now, c, 486),
            (4, Some(c)) => ep.hangup(now, c),
            (5, Some(c)) => ep.hold(now, c),
            (6, Some(c)) => ep.resume(now, c),
            (7, Some(c)) => {
                let options = BlindOptions {
                    hold: arg & 0x80 != 0,
                    no_subscription: arg & 0x40 != 0,
                    ..Default::default()
                };
                ep.transfer(
                    now,
                    c,
                    Transfer::Blind {
                        target: uri,
                        options,
                    },
                )
                .map(drop)
            }
            (8, Some(c)) => match pick(&self.calls[i], arg.wrapping_add(1)) {
                Some(k) => {
                    let options = AttendedOptions {
                        hold: arg & 0x80 != 0,
                        ..Default::default()
                    };
                    ep.transfer(
                        now,
                        c,
                        Transfer::Attended {
                            consultation: k,
                            options,
                        },
                    )
                    .map(drop)
                }
                None => Ok(()),
            },
            (9, _) => match self.offered[i].pop() {
                Some(t) => ep.accept_transfer(now, t, sdp).map(drop),
                None => Ok(()),
            },
            (10, _) => match self.offered[i].pop() {
                Some(t) => ep.reject_transfer(now, t, 603),
                None => Ok(()),
            },
            (11, _) => {
                // Transfer ids are small numbers: try one.
                let t = crate::TransferId(u64::from(arg % 8) + 1);
                ep.cancel_transfer(now, t)
            }
            _ => Ok(()),
        };
        self.pump();
    }
}

impl Default for OpsFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// [`endpoint_ops_from`] on a fresh [`OpsFixture`].
pub fn endpoint_ops(data: &[u8]) {
    endpoint_ops_from(OpsFixture::new(), data)
}

/// The endpoints of an [`OpsFixture`] run the ops `data` spells, one byte of opcode and its
/// arguments each: deliver, lose (and maybe report unreachable) or duplicate a datagram in
/// flight; deliver one mutated (bytes flipped, cut, spliced, a header line dropped or
/// doubled: real transfer-flow messages gone wrong); a raw datagram or TCP bytes from the
/// input; a jump in time; an application command at one endpoint (call, with an offer or
/// without, answer — an incoming call, or the offer of a 2xx —, ring, reject or redirect,
/// hang up, hold, resume, blind or attended transfer, accept or refuse one, cancel one).
/// Whatever the ops, nothing panics, and once every call is hung up and the timers have run
/// out every endpoint holds no transaction, timer, dialog, subscription or call.
pub fn endpoint_ops_from(f: OpsFixture, data: &[u8]) {
    let _ = ops_run(f, data);
}

/// The transfer outcomes (endpoint, outcome) [`endpoint_ops`] saw for `data`: how the seeds
/// are checked to reach whole transfers.
pub fn endpoint_ops_outcomes(data: &[u8]) -> Vec<(usize, crate::TransferOutcome)> {
    ops_run(OpsFixture::new(), data)
}

fn ops_run(mut f: OpsFixture, data: &[u8]) -> Vec<(usize, crate::TransferOutcome)> {
    use core::time::Duration;
    let mut it = data.iter().copied();
    let mut byte = move || it.next();
    for _ in 0..OPS_MAX {
        let Some(op) = byte() else { break };
        let a = byte().unwrap_or(0);
        match op % 10 {
            0..=2 => f.deliver(a as usize, None),
            3 => {
                if !f.wire.is_empty() {
                    let k = a as usize % f.wire.len();
                    let (from, to, _) = f.wire.remove(k);
                    if a & 0x80 != 0 {
                        // Lost for good: the sender's runtime reports the destination
                        // unreachable (an ICMP error, a refused connection).
                        let now = f.now;
                        f.eps[from].handle_unreachable(now, crate::Transport::Udp, ops_addr(to));
                        f.pump();
                    }
                }
            }
            4 => {
                if let Some(w) = f.wire.get(a as usize % f.wire.len().max(1)).cloned() {
                    f.wire.push(w);
                }
            }
            5 => {
                let (b, c) = (byte().unwrap_or(0), byte().unwrap_or(0));
                if let Some((_, _, m)) = f.wire.get(a as usize % f.wire.len().max(1)) {
                    let m = mutate(m, b, c);
                    f.deliver(a as usize, Some(m));
                }
            }
            6 => {
                // A raw datagram: the next `a % 64` bytes, to endpoint `a % 3`.
                let n = a as usize % 64;
                let bytes: Vec<u8> = (0..n).map_while(|_| byte()).collect();
                let to = a as usize % 3;
                let from = core::net::SocketAddr::from(([192, 0, 2, 7], 5060));
                let now = f.now;
                f.eps[to].handle_datagram(
                    now,
                    crate::Transport::Udp,
                    from,
                    ops_addr(to),
                    Bytes::from(bytes),
                );
                f.pump();
            }
            7 => {
                // TCP bytes from a fourth party, on connection `a % 2`.
                let n = byte().unwrap_or(0) as usize % 128;
                let bytes: Vec<u8> = (0..n).map_while(|_| byte()).collect();
                let conn = crate::ConnId(u64::from(a % 2) + 100);
                let to = a as usize % 3;
                let remote =
                    core::net::SocketAddr::from(([192, 0, 2, 8], 40000 + u16::from(a % 2)));
                let now = f.now;
                f.eps[to].handle_connection_opened(
                    now,
                    conn,
                    crate::Transport::Tcp,
                    ops_addr(to),
                    remote,
                );
                f.eps[to].handle_stream_bytes(now, conn, &bytes);
                f.pump();
            }
            8 => f.advance(Duration::from_millis(1u64 << (a % 18))),
            _ => {
                let b = byte().unwrap_or(0);
                f.command(a as usize % 3, a / 3, b);
            }
        }
    }
    // The end: every call hung up, everything delivered, the clock jumping from deadline to
    // deadline until none is left (calls that come up meanwhile are hung up in turn).
    for _ in 0..8 {
        for i in 0..3 {
            let calls: Vec<crate::CallId> = f.eps[i].calls().collect();
            for c in calls {
                let _ = f.eps[i].hangup(f.now, c);
            }
        }
        f.pump();
        for _ in 0..100_000 {
            if !f.wire.is_empty() {
                f.deliver(0, None);
                continue;
            }
            match f.eps.iter().filter_map(|e| e.poll_timeout()).min() {
                Some(t) => {
                    f.now = f.now.max(t);
                    f.advance(Duration::ZERO);
                }
                None => break,
            }
        }
        if f.eps.iter().all(|e| e.calls().next().is_none()) {
            break;
        }
    }
    for (i, ep) in f.eps.iter().enumerate() {
        let s = ep.stats();
        assert_eq!(
            (s.transactions, s.timers, s.dialogs, s.subscriptions),
            (0, 0, 0, 0),
            "endpoint {i}: {s:?}"
        );
        assert_eq!(ep.calls().count(), 0, "endpoint {i} still has calls");
    }
    f.outcomes
}

/// A datagram gone wrong, `how` choosing the damage and `at` where: a byte flipped, the tail
/// cut, a span repeated, a header line dropped, a header line doubled.
fn mutate(m: &Bytes, how: u8, at: u8) -> Bytes {
    let mut v = m.to_vec();
    if v.is_empty() {
        return m.clone();
    }
    let pos = (usize::from(at) * v.len()) / 256;
    let lines: Vec<(usize, usize)> = {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, w) in v.windows(2).enumerate() {
            if w == b"\r\n" {
                out.push((start, i + 2));
                start = i + 2;
            }
        }
        out
    };
    match how % 5 {
        0 => v[pos] ^= how | 1,
        1 => v.truncate(pos.max(1)),
        2 => {
            let end = (pos + 16).min(v.len());
            let span = v[pos..end].to_vec();
            v.splice(pos..pos, span);
        }
        3 | 4 if lines.len() > 2 => {
            // Header lines only (not the start line, not the blank line).
            let k = 1 + usize::from(at) % (lines.len() - 2);
            let (s, e) = lines[k];
            if how % 5 == 3 {
                v.drain(s..e);
            } else {
                let line = v[s..e].to_vec();
                v.splice(s..s, line);
            }
        }
        _ => {}
    }
    Bytes::from(v)
}
