//! Floods (issue 17): one endpoint receives, every virtual second, 10 000 INVITEs, 10 000
//! REFERs and 100 000 junk datagrams from 10 000 sources, while a legitimate peer calls it
//! and transfers it, and it places a call of its own. Checked: it answers within its limits
//! (its application rejects the flood's calls 486; REFERs get 403/481; junk gets 400 or is
//! dropped; past `max_transactions` with nothing lingering to end early, a stateless 503),
//! its heap stays under the bound its `Config` implies, the legitimate calls and the
//! transfer complete, and once the flood stops and the timers run out, the heap is back at
//! its baseline and the endpoint is empty.
//!
//! The heap is measured with a counting global allocator; this file holds a single test so
//! that nothing else allocates beside it, and the harness keeps only the legitimate
//! messages in flight (what the endpoint sends to the flood's sources is counted and
//! dropped at once).

use bytes::Bytes;
use sipxfer::msg::Uri;
use sipxfer::{
    BlindOptions, CallId, CallOptions, CallState, Config, Duration, Endpoint, Event, Instant,
    Transfer, TransferOutcome, Transport,
};
use sipxfer_tests::counting::{live, peak, reset_peak, Counting};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

#[global_allocator]
static ALLOC: Counting = Counting;

const SDP: &[u8] = b"v=0\r\no=x 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

/// The flood, per millisecond: 10 INVITEs, 10 REFERs, 100 junk datagrams.
const INVITES_PER_MS: usize = 10;
const REFERS_PER_MS: usize = 10;
const JUNK_PER_MS: usize = 100;
/// How long it lasts.
const FLOOD_MS: u64 = 3_000;
/// Distinct flood sources (10.1.x.y).
const SOURCES: usize = 10_000;

/// Heap the bound allows per transaction, per call and on top of them. A transaction keeps
/// its request (the datagram and its parsed form) and its last response: ~2.5 KiB for the
/// flood's INVITEs; a call, its dialog, INVITE and 2xx.
const PER_TRANSACTION: usize = 4 * 1024;
const PER_CALL: usize = 16 * 1024;
const FIXED: usize = 2 * 1024 * 1024;

fn source(i: usize) -> SocketAddr {
    let i = i % SOURCES;
    SocketAddr::from(([10, 1, (i / 256) as u8, (i % 256) as u8], 5060))
}

fn flood_invite(n: usize) -> Bytes {
    let s = source(n);
    Bytes::from(format!(
        "INVITE sip:e@10.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {s};branch=z9hG4bKfi{n}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:flood{n}@{s}>;tag=f{n}\r\n\
         To: <sip:e@10.0.0.1>\r\n\
         Call-ID: flood-invite-{n}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:flood@{s}>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n",
        SDP.len()
    ))
    .into_iter()
    .chain(SDP.iter().copied())
    .collect::<Vec<u8>>()
    .into()
}

/// Half outside any dialog (403), half naming a dialog that does not exist (481).
fn flood_refer(n: usize) -> Bytes {
    let s = source(n);
    let to_tag = if n % 2 == 0 {
        String::new()
    } else {
        format!(";tag=nope{n}")
    };
    Bytes::from(format!(
        "REFER sip:e@10.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {s};branch=z9hG4bKfr{n}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:flood{n}@{s}>;tag=r{n}\r\n\
         To: <sip:e@10.0.0.1>{to_tag}\r\n\
         Call-ID: flood-refer-{n}\r\n\
         CSeq: 1 REFER\r\n\
         Contact: <sip:flood@{s}>\r\n\
         Refer-To: <sip:victim@198.51.100.1>\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

/// Junk of four kinds: random bytes, a truncated request, a request with a broken header
/// (answered 400), a response for no transaction.
fn junk(n: usize, rng: &mut u64) -> Bytes {
    let mut next = || {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng
    };
    match n % 4 {
        0 => (0..(next() % 200) as usize)
            .map(|_| next() as u8)
            .collect::<Vec<u8>>()
            .into(),
        1 => Bytes::from_static(b"OPTIONS sip:e@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.0.1;branch=z9hG4bKx\r\nCSeq: 1 OPT"),
        2 => Bytes::from(format!(
            "OPTIONS sip:e@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKj{n}\r\nFrom: <sip:j@x>;tag=1\r\nTo: <sip:e@10.0.0.1>\r\nCall-ID: j{n}\r\nCSeq: x OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            source(n)
        )),
        _ => Bytes::from(format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnone{n}\r\nFrom: <sip:e@10.0.0.1>;tag=1\r\nTo: <sip:x@x>;tag=2\r\nCall-ID: stray{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )),
    }
}

const E: usize = 0;
const L: usize = 1;
const C: usize = 2;

struct World {
    eps: Vec<Endpoint>,
    addrs: Vec<SocketAddr>,
    now: Instant,
    /// Legitimate datagrams in flight: (arrival, to, from, bytes).
    wire: VecDeque<(Instant, usize, SocketAddr, Bytes)>,
    /// What E sent to the flood's sources, by first-line status (0 for requests).
    to_flood: BTreeMap<u16, u64>,
    events: Vec<Vec<Event>>,
    /// Calls of E that are not the flood's.
    legit: Vec<CallId>,
}

impl World {
    fn pump(&mut self) {
        for i in 0..self.eps.len() {
            while let Some(t) = self.eps[i].poll_transmit() {
                if t.bytes.is_empty() {
                    continue;
                }
                match self.addrs.iter().position(|&a| a == t.to) {
                    Some(to) => self.wire.push_back((
                        self.now + Duration::from_millis(1),
                        to,
                        self.addrs[i],
                        t.bytes,
                    )),
                    None => {
                        let code = t
                            .bytes
                            .strip_prefix(b"SIP/2.0 ")
                            .and_then(|r| std::str::from_utf8(&r[..3]).ok())
                            .and_then(|c| c.parse().ok())
                            .unwrap_or(0);
                        *self.to_flood.entry(code).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Events to the applications: E answers calls from L and C and rejects the flood's
    /// 486 (transfers are accepted by the config); C answers every call. E's events about
    /// the flood's calls are not kept (the log would grow with the flood).
    fn apps(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.eps.len() {
                while let Some(e) = self.eps[i].poll_event() {
                    any = true;
                    let mut keep = true;
                    match &e {
                        Event::IncomingCall { call, source, .. } => {
                            if self.addrs.iter().any(|a| a.ip() == source.remote.ip()) {
                                self.legit.push(*call);
                                self.eps[i]
                                    .answer(self.now, *call, Some(Bytes::from_static(SDP)))
                                    .unwrap();
                            } else {
                                keep = false;
                                self.eps[i].reject(self.now, *call, 486).unwrap();
                            }
                        }
                        Event::CallState { call, .. } if i == E => {
                            keep = self.legit.contains(call);
                        }
                        _ => {}
                    }
                    if keep {
                        self.events[i].push(e);
                    }
                }
            }
            self.pump();
            if !any {
                break;
            }
        }
    }

    /// Delivers the legitimate datagrams due and fires the timers due, up to `now`.
    fn step(&mut self, now: Instant) {
        self.now = now;
        while self.wire.front().is_some_and(|w| w.0 <= now) {
            let (_, to, from, bytes) = self.wire.pop_front().unwrap();
            let local = self.addrs[to];
            self.eps[to].handle_datagram(now, Transport::Udp, from, local, bytes);
            self.pump();
            self.apps();
        }
        for i in 0..self.eps.len() {
            if self.eps[i].poll_timeout().is_some_and(|t| t <= now) {
                self.eps[i].handle_timeout(now);
            }
        }
        self.pump();
        self.apps();
    }

    fn flood(&mut self, ms: u64, rng: &mut u64) {
        let local = self.addrs[E];
        let base = ms as usize;
        for k in 0..INVITES_PER_MS {
            let n = base * INVITES_PER_MS + k;
            self.eps[E].handle_datagram(
                self.now,
                Transport::Udp,
                source(n),
                local,
                flood_invite(n),
            );
            self.pump();
            self.apps();
        }
        for k in 0..REFERS_PER_MS {
            let n = base * REFERS_PER_MS + k;
            self.eps[E].handle_datagram(self.now, Transport::Udp, source(n), local, flood_refer(n));
            self.pump();
            self.apps();
        }
        for k in 0..JUNK_PER_MS {
            let n = base * JUNK_PER_MS + k;
            self.eps[E].handle_datagram(self.now, Transport::Udp, source(n), local, junk(n, rng));
        }
        self.pump();
    }

    fn outcome(&self, i: usize) -> Vec<TransferOutcome> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::TransferOutcome { outcome, .. } => Some(*outcome),
                _ => None,
            })
            .collect()
    }

    fn confirmed(&self, i: usize) -> Vec<CallId> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                } => Some(*call),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_flood_is_answered_within_limits_and_legitimate_calls_and_transfers_complete() {
    let addrs: Vec<SocketAddr> = ["10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.3:5060"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    let config = |i: usize| {
        let mut c = Config::new(addrs[i], [i as u8 + 1; 32]);
        c.auto_accept_transfers = true;
        c
    };
    let (max_tx, max_dialogs) = {
        let c = config(E);
        (c.max_transactions, c.max_dialogs)
    };
    let mut w = World {
        eps: (0..3)
            .map(|i| Endpoint::new(config(i), Instant::ZERO))
            .collect(),
        addrs: addrs.clone(),
        now: Instant::ZERO,
        wire: VecDeque::with_capacity(64),
        to_flood: BTreeMap::new(),
        events: (0..3).map(|_| Vec::with_capacity(256)).collect(),
        legit: Vec::with_capacity(16),
    };
    for b in [0u16, 400, 403, 481, 486, 503] {
        w.to_flood.insert(b, 0);
    }
    let baseline = live();
    reset_peak();
    let bound = baseline + max_tx * PER_TRANSACTION + max_dialogs * PER_CALL + FIXED;

    let uri = |i: usize| Uri::parse(&format!("sip:u{i}@{}", addrs[i])).unwrap();
    let offer = || CallOptions {
        offer: Some(Bytes::from_static(SDP)),
        ..Default::default()
    };
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut l_call = None;
    let mut transferred = false;
    let mut e_call = None;
    let mut peak_at_cap = 0;
    for ms in 0..FLOOD_MS {
        let now = Instant::from_micros(ms * 1_000);
        w.step(now);
        w.flood(ms, &mut rng);
        match ms {
            // L calls E a second into the flood; E places a call to C half a second later.
            1_000 => l_call = Some(w.eps[L].call(now, uri(E), offer()).unwrap()),
            1_500 => {
                let call = w.eps[E].call(now, uri(C), offer()).unwrap();
                w.legit.push(call);
                e_call = Some(call);
            }
            _ => {}
        }
        // Once L's call is up, L transfers E to C (blind, held first).
        if let (Some(call), false) = (l_call, transferred) {
            if w.confirmed(L).contains(&call) {
                let t = Transfer::Blind {
                    target: uri(C),
                    options: BlindOptions::default(),
                };
                w.eps[L].transfer(now, call, t).unwrap();
                w.pump();
                transferred = true;
            }
        }
        if ms == 900 {
            // The table has long been full: the heap at its plateau.
            peak_at_cap = live();
        }
    }
    let flood_peak = peak();
    let s = w.eps[E].stats();
    eprintln!(
        "flood: baseline {baseline} B, at the cap {peak_at_cap} B, peak {flood_peak} B \
         (bound {bound} B); E sent the flood {:?}; stats {s:?}",
        w.to_flood
    );
    // Within its limits.
    assert!(s.transactions <= max_tx, "{s:?}");
    assert!(s.dialogs <= max_dialogs, "{s:?}");
    assert!(flood_peak <= bound, "peak {flood_peak} > bound {bound}");
    assert!(
        flood_peak <= peak_at_cap + peak_at_cap / 4,
        "the heap kept growing after the table was full: {peak_at_cap} → {flood_peak}"
    );
    assert!(s.overload_evictions > 0, "the cap was reached: {s:?}");
    assert!(w.to_flood[&486] > 0 && w.to_flood[&403] > 0 && w.to_flood[&481] > 0);
    assert!(w.to_flood[&400] > 0, "the broken CSeq is answered 400");
    assert!(s.malformed_dropped > 0 && s.stray_responses > 0, "{s:?}");
    // The legitimate calls and the transfer went through.
    let after = Instant::from_micros(FLOOD_MS * 1_000);
    for ms in 0..10_000 {
        w.step(after + Duration::from_millis(ms));
    }
    assert_eq!(w.outcome(L), [TransferOutcome::Succeeded], "L's transfer");
    let e_call = e_call.unwrap();
    assert!(w.confirmed(E).contains(&e_call), "E's own call to C");
    // E's transferred call to C is up too: E holds two calls with C, nothing else.
    assert_eq!(w.eps[E].calls().count(), 2);
    assert_eq!(w.eps[C].calls().count(), 2);
    // Everyone hangs up; the timers run out.
    for i in [E, C] {
        let calls: Vec<CallId> = w.eps[i].calls().collect();
        for c in calls {
            let _ = w.eps[i].hangup(w.now, c);
        }
    }
    w.pump();
    let end = w.now;
    for s in 0..120 {
        w.step(end + Duration::from_secs(s));
        let t = w.eps.iter().filter_map(|e| e.poll_timeout()).min();
        if let Some(t) = t.filter(|&t| t > w.now && t < end + Duration::from_secs(s + 1)) {
            w.step(t);
        }
    }
    for (i, ep) in w.eps.iter().enumerate() {
        let s = ep.stats();
        assert_eq!(
            (s.transactions, s.timers, s.dialogs, s.subscriptions),
            (0, 0, 0, 0),
            "endpoint {i}: {s:?}"
        );
    }
    // Back to the baseline: what is left is the harness's logs.
    drop(std::mem::take(&mut w.events));
    drop(std::mem::take(&mut w.legit));
    w.to_flood.clear();
    let rest = live();
    eprintln!("after: {rest} B (baseline {baseline} B)");
    assert!(
        rest <= baseline + 4 * 1024,
        "the heap did not return to its baseline: {rest} B vs {baseline} B"
    );
}
