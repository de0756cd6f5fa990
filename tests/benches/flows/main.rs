//! Whole flows in one process (issue 18): three endpoints — A, B, C — joined by an instant,
//! lossless in-memory wire; every datagram is emitted, parsed and handled for real. Batches of
//! `BATCH` concurrent flows; each sample runs one batch, and the table gives the median over
//! samples:
//!
//! - `call`: A calls B, B answers, A ACKs, A hangs up (INVITE/200/ACK/BYE/200: 5 datagrams);
//! - `blind`: A calls B, then transfers B to C without hold (RFC 5589 §6.1: REFER/202,
//!   NOTIFY 100/200, INVITE/200/ACK to C, NOTIFY 200/200, BYE/200: 14 datagrams);
//! - `blind_held`: the same with the hold re-INVITE first (17 datagrams);
//! - `attended`: A calls B and C, then refers B to C with `Replaces`; C's new call replaces
//!   its call with A (RFC 5589 §7);
//! - `call_pjsip`, `blind_pjsip`, `attended_pjsip`: `call`, `blind` and `attended` with A's
//!   identifiers as long as pjsip's and Asterisk's (a 46-character Call-ID, 36-character
//!   tags, 47-character branches: the wire from A lengthens them on the way to B and C, the
//!   `Replaces` in A's `Refer-To` too, and gives A its own back, see [`PJSIP`]), each datagram
//!   to or from A a copy with a buffer of its own, as a runtime reads it from its socket (with
//!   [`sipxfer_tokio::datagram::copy`], one allocation, cloned without another; the copies'
//!   allocations and time are left out of the row).
//!
//! Per row: flows per second, ns per datagram (all-in: emit, parse, transactions, dialogs,
//! transfers, timers), heap allocations per datagram (a counting allocator), and the flow's
//! floor: what parsing each of its datagrams into the owned model and emitting the message
//! it carries costs alone (the datagrams of 500 flows, recorded once; the messages emitted
//! with every field rendered, as built messages are), timed after each sample, and the
//! all-in cost over that floor (the issue asks for close to it), and the same floor with the
//! borrowed view's parse instead of the owned model's. Then the heap of
//! an established idle call at each end, what an active transfer adds (between exchanges, and
//! with 60-s subscriptions just after a refresh) and what a ringing call alone holds, and the
//! cost of one in-dialog re-INVITE exchange, with 1 000, 10 000 and 100 000 calls up.
//!
//! ```sh
//! cargo bench -p sipxfer-tests --bench flows
//! ```
//!
//! `SIPXFER_BENCH_SAMPLES` (default 11) and `SIPXFER_BENCH_BATCH` (default 2000) change the
//! sample count and the batch size; `SIPXFER_BENCH_ONLY=call,blind` runs some rows only
//! (`call,floor`: a row with its floor);
//! `SIPXFER_BENCH_CALLS=1000,5000` the numbers of calls of the memory and scale rows, and
//! `SIPXFER_BENCH_REINVITES` how many re-INVITE exchanges the scale row times (1 000).

use bytes::Bytes;
use sipxfer::msg::{Message, Uri};
use sipxfer::parse::Limits;
use sipxfer::{
    AttendedOptions, BlindOptions, CallId, CallOptions, CallState, Config, Duration, Endpoint,
    Event, Instant, Transfer, TransferOutcome, Transport,
};
use sipxfer_tests::counting::{allocations, live, Counting};
use std::collections::VecDeque;
use std::net::SocketAddr;

#[global_allocator]
static GLOBAL: Counting = Counting;

const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

/// What the applications do.
#[derive(Clone, Copy, PartialEq)]
enum Flow {
    Call,
    Blind,
    BlindHeld,
    Attended,
}

struct World {
    eps: Vec<Endpoint>,
    addrs: Vec<SocketAddr>,
    now: Instant,
    wire: VecDeque<(usize, SocketAddr, Bytes)>,
    datagrams: u64,
    flow: Flow,
    /// A's calls to B that came up (the blind flows transfer them), A's calls to C (the
    /// consultations), and outcomes seen at A.
    up_ab: Vec<CallId>,
    up_ac: Vec<CallId>,
    succeeded: usize,
    /// C lets its calls ring instead of answering them (transfers then stay active).
    c_rings: bool,
    /// Every datagram delivered, when recording (the floor column).
    record: Option<Vec<Bytes>>,
    /// A writes its identifiers as pjsip does (see [`lengthen`]); the copies the wire makes
    /// for it, counted to take them out of the allocations.
    pjsip: bool,
    copies: usize,
    /// The time the wire spent making them (taken out of the row's time).
    copying: std::time::Duration,
}

/// What A's identifiers get on the way to B and C in the `_pjsip` rows, and lose on the way
/// back: 24 token characters, `_` among them (a character A's own never hold, so that taking
/// it out again gives A its identifiers back). A's 22-character Call-ID becomes 46
/// characters, its 12-character tags 36 and its branches (`z9hG4bK` + 16) 47: as long as
/// pjsip's and Asterisk's (a UUID for each, `z9hG4bKPj` + a UUID for a branch: 36, 36 and
/// 45), the longest of the common peers'.
const PJSIP: &[u8] = b"_4f0c2d9a-8e71-4b3a-9c5d";

/// A datagram from A to B or C with A's identifiers lengthened by [`PJSIP`]: the Call-ID, A's
/// tag (From in a request, To in a response), in a request the branch of the top Via, and in
/// a `Refer-To` the Call-ID and A's tag (`from-tag`, RFC 3891 §3: the tag C's dialog has for A)
/// of the `Replaces` it carries, escaped, so that the dialog it names is the one C knows. A
/// copy with a buffer of its own, as a runtime gives each datagram it reads.
fn lengthen(b: &[u8]) -> Bytes {
    let request = !b.starts_with(b"SIP/2.0 ");
    // Where to insert (an array: the harness's own allocations stay out of the count).
    let mut at = [usize::MAX; 5];
    let mut k = 0;
    let mut push = |p: Option<usize>| {
        if let Some(p) = p {
            at[k] = p;
            k += 1;
        }
    };
    let end = b
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(b.len());
    let mut via = false;
    let mut i = b.iter().position(|&c| c == b'\n').map_or(end, |p| p + 1);
    while i < end {
        let eol = i + b[i..end]
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(end - i);
        let line = &b[i..eol];
        // Where the value after `key` on this line ends: at a byte `ends` says yes to.
        let end_of = |key: &[u8], ends: fn(u8) -> bool| {
            let k = line.windows(key.len()).position(|w| w == key)? + key.len();
            let n = line[k..]
                .iter()
                .position(|&c| ends(c))
                .unwrap_or(line.len() - k);
            Some(i + k + n)
        };
        // A parameter's value, or an escaped one in a URI header (`?Replaces=<Call-ID>%3B…`).
        let value_end = |key: &[u8]| end_of(key, |c| matches!(c, b';' | b',' | b'>' | b' '));
        let escaped_end = |key: &[u8]| end_of(key, |c| matches!(c, b'%' | b'&' | b'>'));
        if line.starts_with(b"Call-ID:") {
            push(Some(eol));
        } else if line.starts_with(b"Refer-To:") && request {
            push(escaped_end(b"?Replaces="));
            push(escaped_end(b"from-tag%3D"));
        } else if line.starts_with(if request { b"From:" } else { b"To:" as &[u8] }) {
            push(value_end(b";tag="));
        } else if line.starts_with(b"Via:") && request && !via {
            via = true;
            push(value_end(b";branch="));
        }
        i = eol + 2;
    }
    at.sort_unstable();
    let mut out = Read::default();
    let mut from = 0;
    for &p in &at[..k] {
        out.push(&b[from..p]);
        out.push(PJSIP);
        from = p;
    }
    out.push(&b[from..]);
    out.bytes()
}

/// A datagram from B or C to A with [`PJSIP`] taken out wherever it is (A's identifiers as A wrote
/// them), a copy as [`lengthen`]'s.
fn shorten(b: &[u8]) -> Bytes {
    let mut out = Read::default();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(PJSIP) {
            i += PJSIP.len();
        } else {
            out.push(&b[i..i + 1]);
            i += 1;
        }
    }
    out.bytes()
}

/// A datagram as a runtime reads it: into a buffer of the socket's (here on the stack), then
/// copied into a [`Bytes`] of its own as the driver does ([`sipxfer_tokio::datagram::copy`]:
/// one allocation, cloned without another).
struct Read {
    buf: [u8; 4096],
    len: usize,
}

impl Default for Read {
    fn default() -> Self {
        Read {
            buf: [0; 4096],
            len: 0,
        }
    }
}

impl Read {
    fn push(&mut self, b: &[u8]) {
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }

    fn bytes(&self) -> Bytes {
        sipxfer_tokio::datagram::copy(&self.buf[..self.len])
    }
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1 + i as u8], 5060))
}

/// The URI of endpoint `i` (parsed once: the harness's own allocations stay out of the
/// per-datagram count).
fn uri(i: usize) -> Uri<sipxfer::SipStr> {
    static URIS: std::sync::OnceLock<Vec<Uri<sipxfer::SipStr>>> = std::sync::OnceLock::new();
    URIS.get_or_init(|| {
        (0..3)
            .map(|i| Uri::parse(&format!("sip:u{i}@{}", addr(i))).unwrap())
            .collect()
    })[i]
        .clone()
}

impl World {
    fn new(flow: Flow) -> World {
        World::tuned(flow, |_| {})
    }

    /// [`World::new`] with each endpoint's config adjusted by `tune`.
    fn tuned(flow: Flow, tune: fn(&mut Config)) -> World {
        let eps = (0..3)
            .map(|i| {
                let mut c = Config::new(addr(i), [i as u8 + 1; 32]);
                c.auto_accept_transfers = true;
                c.max_transactions = 1 << 20;
                c.max_dialogs = 1 << 20;
                c.max_calls_per_remote = 1 << 20;
                tune(&mut c);
                Endpoint::new(c, Instant::ZERO)
            })
            .collect();
        World {
            eps,
            addrs: (0..3).map(addr).collect(),
            now: Instant::ZERO,
            wire: VecDeque::new(),
            datagrams: 0,
            flow,
            up_ab: Vec::new(),
            up_ac: Vec::new(),
            succeeded: 0,
            c_rings: false,
            record: None,
            pjsip: false,
            copies: 0,
            copying: std::time::Duration::ZERO,
        }
    }

    fn collect(&mut self, i: usize) {
        while let Some(t) = self.eps[i].poll_transmit() {
            if t.bytes.is_empty() {
                continue;
            }
            let to = self.addrs.iter().position(|&a| a == t.to).expect("a node");
            self.wire.push_back((to, self.addrs[i], t.bytes));
        }
    }

    fn events(&mut self, i: usize) {
        while let Some(e) = self.eps[i].poll_event() {
            match e {
                Event::IncomingCall { call, .. } if i == C && self.c_rings => {
                    self.eps[i].ring(self.now, call, 180).unwrap();
                }
                Event::IncomingCall { call, .. } => {
                    self.eps[i]
                        .answer(self.now, call, Some(Bytes::from_static(SDP)))
                        .unwrap();
                }
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                } if i == A => {
                    let to_c = self.eps[A]
                        .dialog(call)
                        .is_some_and(|d| d.peer.addr == self.addrs[C]);
                    if to_c {
                        self.up_ac.push(call);
                    } else {
                        self.up_ab.push(call);
                    }
                }
                Event::TransferOutcome {
                    outcome: TransferOutcome::Succeeded,
                    ..
                } if i == A => self.succeeded += 1,
                _ => {}
            }
        }
        self.collect(i);
    }

    /// Delivers until the wire is quiet.
    fn run(&mut self) {
        for i in 0..3 {
            self.events(i);
        }
        while let Some((to, from, bytes)) = self.wire.pop_front() {
            self.datagrams += 1;
            let bytes = match (self.pjsip, from == self.addrs[A], to) {
                (true, true, B | C) => self.copy(|| lengthen(&bytes)),
                (true, false, A) => self.copy(|| shorten(&bytes)),
                _ => bytes,
            };
            if let Some(r) = &mut self.record {
                r.push(bytes.clone());
            }
            let local = self.addrs[to];
            self.eps[to].handle_datagram(self.now, Transport::Udp, from, local, bytes);
            self.events(to);
        }
    }

    /// A copy the wire makes (the `_pjsip` rows), counted and timed.
    fn copy(&mut self, f: impl FnOnce() -> Bytes) -> Bytes {
        let t0 = std::time::Instant::now();
        let b = f();
        self.copying += t0.elapsed();
        self.copies += 1;
        b
    }

    /// Lets the transactions' and dialogs' timers run out (not timed).
    fn drain_timers(&mut self) {
        self.now += Duration::from_secs(600);
        for i in 0..3 {
            self.eps[i].handle_timeout(self.now);
            self.events(i);
        }
        self.run();
    }

    fn hang_up_all(&mut self) {
        for i in 0..3 {
            let calls: Vec<CallId> = self.eps[i].calls().collect();
            for c in calls {
                let _ = self.eps[i].hangup(self.now, c);
            }
            self.collect(i);
        }
        self.run();
    }
}

fn offer() -> CallOptions {
    CallOptions {
        offer: Some(Bytes::from_static(SDP)),
        ..Default::default()
    }
}

/// One batch of `n` flows: (seconds, datagrams, allocations), timed from the first INVITE
/// to the last datagram of the flows (set-up and clean-up of the batch not included).
fn batch(w: &mut World, n: usize) -> (f64, u64, usize) {
    w.up_ab.clear();
    w.up_ac.clear();
    w.succeeded = 0;
    let d0 = w.datagrams;
    let (c0, k0) = (w.copies, w.copying);
    let a0 = allocations();
    let t0 = std::time::Instant::now();
    timed(w, n);
    let secs = (t0.elapsed() - (w.copying - k0)).as_secs_f64();
    let allocs = allocations() - a0 - (w.copies - c0);
    if w.flow != Flow::Call {
        assert_eq!(w.succeeded, n, "every transfer succeeded");
    }
    let datagrams = w.datagrams - d0;
    let recorded = w.record.as_ref().map(Vec::len);
    // Not timed: the calls left up are hung up, the timers run out.
    w.hang_up_all();
    w.drain_timers();
    if let (Some(r), Some(k)) = (&mut w.record, recorded) {
        r.truncate(k);
    }
    (secs, datagrams, allocs)
}

/// The timed part of [`batch`]: `n` flows from their first INVITE to their last datagram (out
/// of line, so that a profile gives its instructions alone: `flows::timed`).
#[inline(never)]
fn timed(w: &mut World, n: usize) {
    for _ in 0..n {
        w.eps[A].call(w.now, uri(B), offer()).unwrap();
        if w.flow == Flow::Attended {
            w.eps[A].call(w.now, uri(C), offer()).unwrap();
        }
    }
    w.collect(A);
    w.run();
    match w.flow {
        Flow::Call => {
            let calls = std::mem::take(&mut w.up_ab);
            for c in calls {
                w.eps[A].hangup(w.now, c).unwrap();
            }
        }
        Flow::Blind | Flow::BlindHeld => {
            let calls = std::mem::take(&mut w.up_ab);
            let hold = w.flow == Flow::BlindHeld;
            for c in calls {
                let t = Transfer::Blind {
                    target: uri(C),
                    options: BlindOptions {
                        hold,
                        ..Default::default()
                    },
                };
                w.eps[A].transfer(w.now, c, t).unwrap();
            }
        }
        Flow::Attended => {
            let calls = std::mem::take(&mut w.up_ab);
            let consultations = std::mem::take(&mut w.up_ac);
            assert_eq!(calls.len(), consultations.len());
            for (c, k) in calls.into_iter().zip(consultations) {
                let t = Transfer::Attended {
                    consultation: k,
                    options: AttendedOptions {
                        hold: false,
                        ..Default::default()
                    },
                };
                w.eps[A].transfer(w.now, c, t).unwrap();
            }
        }
    }
    w.collect(A);
    w.run();
}

/// The datagrams of `n` flows, each with the message it carries parsed and its fields'
/// lines forgotten (so that emitting it renders every field, as for a message built to be
/// sent).
fn recorded(flow: Flow, pjsip: bool, n: usize) -> (Vec<Bytes>, Vec<Message>) {
    let mut w = World::new(flow);
    w.pjsip = pjsip;
    w.record = Some(Vec::new());
    batch(&mut w, n);
    let datagrams = w.record.take().unwrap_or_default();
    let messages = datagrams
        .iter()
        .map(|b| {
            let mut m = Message::parse(b.clone(), &Limits::default()).expect("a flow's message");
            m.headers.forget_lines();
            m
        })
        .collect();
    (datagrams, messages)
}

/// The floor of a flow: ns per datagram to parse it and to emit its message (as the endpoint
/// does on sending), nothing else. The parse builds the owned model, as the endpoint does on
/// receipt, or (`view`) only the borrowed view `parse_message` gives, what a receive path typed
/// at the view's cost would pay.
#[inline(never)]
fn floor(datagrams: &[Bytes], messages: &[Message], view: bool) -> f64 {
    if datagrams.is_empty() {
        return 0.0;
    }
    let limits = Limits::default();
    let t0 = std::time::Instant::now();
    for (b, m) in datagrams.iter().zip(messages) {
        if view {
            let parsed = sipxfer::parse::parse_message(b, &limits);
            std::hint::black_box(&parsed);
        } else {
            let parsed = Message::parse(b.clone(), &limits);
            std::hint::black_box(&parsed);
        }
        std::hint::black_box(m.to_bytes());
    }
    t0.elapsed().as_secs_f64() * 1e9 / datagrams.len() as f64
}

/// The numbers of calls up for the memory and scale rows: 1 000, 10 000, 100 000, or
/// `SIPXFER_BENCH_CALLS` (comma-separated).
fn sizes() -> Vec<usize> {
    std::env::var("SIPXFER_BENCH_CALLS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000])
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Heap per call at A, B and C with `n` calls A→B up and idle, and — with `transfer` — each
/// of them being transferred (blind, without the hold re-INVITE) to C, which lets the transferee's call ring:
/// A holds the transfer and its refer subscription, B the subscription it serves and its
/// ringing call to C, C that incoming call. Measured 33 s after the exchange (its
/// transactions have ended, the subscriptions have not), as what dropping each endpoint gives
/// back, over `n`; the endpoints' configs adjusted by `tune` (with subscriptions of 60 s, A
/// refreshes them at 30 s: the measure then falls 3 s after that exchange); with `pjsip`, A's
/// identifiers reach B as long as pjsip's (see [`PJSIP`]).
fn heap_per_call(n: usize, transfer: bool, tune: fn(&mut Config), pjsip: bool) -> [f64; 3] {
    let mut w = World::tuned(Flow::Call, tune);
    w.c_rings = true;
    w.pjsip = pjsip;
    for _ in 0..n {
        w.eps[A].call(w.now, uri(B), offer()).unwrap();
    }
    w.collect(A);
    w.run();
    assert_eq!(w.up_ab.len(), n);
    if transfer {
        for c in std::mem::take(&mut w.up_ab) {
            let t = Transfer::Blind {
                target: uri(C),
                options: BlindOptions {
                    hold: false,
                    ..Default::default()
                },
            };
            w.eps[A].transfer(w.now, c, t).unwrap();
        }
        w.collect(A);
        w.run();
        assert_eq!(
            w.eps[C].calls().count(),
            n,
            "every transferee rings the target"
        );
    }
    heap_after_33s(w, n)
}

/// 33 s after the last message (the exchanges' transactions have ended, the calls and
/// subscriptions have not), what dropping each endpoint gives back, over the `n` calls A
/// still has.
fn heap_after_33s(mut w: World, n: usize) -> [f64; 3] {
    w.now += Duration::from_secs(33);
    for i in 0..3 {
        w.eps[i].handle_timeout(w.now);
        w.events(i);
    }
    w.run();
    assert_eq!(w.eps[A].calls().count(), n);
    let mut heap = [0.0; 3];
    for (i, ep) in std::mem::take(&mut w.eps).into_iter().enumerate() {
        let before = live();
        drop(ep);
        heap[i] = (before - live()) as f64 / n as f64;
    }
    heap
}

/// Heap per ringing call at the caller (A) and the callee (C), with `n` calls A→C ringing
/// (180, never answered), 33 s after the last message: what the transferee's and the
/// target's figures of an active transfer hold for the call to the target alone. Each call
/// offers an SDP of its own on the heap, as the transferee's call to the target does (its
/// offer is made from its call's: `sdp::reoffer`), where the other rows share one static.
fn heap_per_ringing_call(n: usize) -> [f64; 3] {
    let mut w = World::new(Flow::Call);
    w.c_rings = true;
    for _ in 0..n {
        let options = CallOptions {
            offer: Some(Bytes::copy_from_slice(SDP)),
            ..Default::default()
        };
        w.eps[A].call(w.now, uri(C), options).unwrap();
    }
    w.collect(A);
    w.run();
    assert_eq!(w.eps[C].calls().count(), n, "every call rings");
    heap_after_33s(w, n)
}

/// ns per datagram of re-INVITE exchanges (hold: INVITE/200/ACK) on calls picked across `n`
/// calls up, `k` exchanges.
fn reinvite_cost(n: usize, k: usize) -> f64 {
    let mut w = World::new(Flow::Call);
    for _ in 0..n {
        w.eps[A].call(w.now, uri(B), offer()).unwrap();
    }
    w.collect(A);
    w.run();
    w.now += Duration::from_secs(64);
    for i in 0..3 {
        w.eps[i].handle_timeout(w.now);
        w.events(i);
    }
    w.run();
    let calls: Vec<CallId> = w.eps[A].calls().collect();
    let step = (calls.len() / k).max(1);
    // Untimed warm-up: as many exchanges first, on other calls where there are enough (the
    // first burst after the set-up's mass of frees pays the allocator's one-off
    // consolidation). With too few calls for two disjoint sets, the warm-up holds the calls
    // and the timed exchanges take them off hold.
    let disjoint = step >= 2;
    let warm = calls.iter().skip(if disjoint { step / 2 } else { 0 });
    for c in warm.step_by(step).take(k) {
        w.eps[A].hold(w.now, *c).unwrap();
        w.collect(A);
        w.run();
    }
    let d0 = w.datagrams;
    let t0 = std::time::Instant::now();
    for c in calls.iter().step_by(step).take(k) {
        if disjoint {
            w.eps[A].hold(w.now, *c).unwrap();
        } else {
            w.eps[A].resume(w.now, *c).unwrap();
        }
        w.collect(A);
        w.run();
    }
    let ns = t0.elapsed().as_nanos() as f64;
    ns / (w.datagrams - d0) as f64
}

fn main() {
    let samples = env("SIPXFER_BENCH_SAMPLES", 11);
    let n = env("SIPXFER_BENCH_BATCH", 2000);
    let only = std::env::var("SIPXFER_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
    let rows = [
        "call",
        "blind",
        "blind_held",
        "attended",
        "call_pjsip",
        "blind_pjsip",
        "attended_pjsip",
    ];
    if rows.iter().any(|r| wanted(r)) {
        println!("flows: batches of {n}, median of {samples} samples");
        println!(
            "| flow | flows/s | datagrams/flow | ns/datagram | allocations/datagram | floor: parse + emit, ns/datagram | × floor | floor with the view's parse |\n|---|---:|---:|---:|---:|---:|---:|---:|"
        );
    }
    for (name, flow, pjsip) in [
        ("call", Flow::Call, false),
        ("blind", Flow::Blind, false),
        ("blind_held", Flow::BlindHeld, false),
        ("attended", Flow::Attended, false),
        ("call_pjsip", Flow::Call, true),
        ("blind_pjsip", Flow::Blind, true),
        ("attended_pjsip", Flow::Attended, true),
    ] {
        if !wanted(name) {
            continue;
        }
        let mut w = World::new(flow);
        w.pjsip = pjsip;
        batch(&mut w, n.min(200)); // warm-up
                                   // The floor is measured when `SIPXFER_BENCH_ONLY` is empty or names `floor` (so that
                                   // a profile of one row counts that row's instructions only).
        let (datagrams, messages) = if wanted("floor") {
            recorded(flow, pjsip, n.min(500))
        } else {
            (Vec::new(), Vec::new())
        };
        floor(&datagrams, &messages, false); // warm-up
        let (mut rates, mut per_dgram, mut allocs) = (vec![], vec![], vec![]);
        let (mut floors, mut view_floors) = (vec![], vec![]);
        let mut per_flow = 0.0;
        for _ in 0..samples {
            let (secs, d, a) = batch(&mut w, n);
            rates.push(n as f64 / secs);
            per_dgram.push(secs * 1e9 / d as f64);
            allocs.push(a as f64 / d as f64);
            per_flow = d as f64 / n as f64;
            if !datagrams.is_empty() {
                floors.push(floor(&datagrams, &messages, false));
                view_floors.push(floor(&datagrams, &messages, true));
            }
        }
        let ns = median(&mut per_dgram);
        let floor = if floors.is_empty() {
            "— | — | —".to_string()
        } else {
            let f = median(&mut floors);
            let v = median(&mut view_floors);
            format!("{f:.0} | {:.2} | {v:.0}", ns / f)
        };
        println!(
            "| {name} | {:.0} | {per_flow:.1} | {ns:.0} | {:.2} | {floor} |",
            median(&mut rates),
            median(&mut allocs),
        );
    }
    if wanted("memory") {
        println!(
            "\n| calls up | heap per idle call at A (caller) | at B (callee) | more per active transfer at A (transferor) | at B (transferee, with its call to C) | at C (target, ringing) | a ringing call alone, at its caller | at its callee |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for calls in sizes() {
            let idle = heap_per_call(calls, false, |_| {}, false);
            let xfer = heap_per_call(calls, true, |_| {}, false);
            let ringing = heap_per_ringing_call(calls);
            println!(
                "| {calls} | {:.0} B | {:.0} B | {:.0} B | {:.0} B | {:.0} B | {:.0} B | {:.0} B |",
                idle[A],
                idle[B],
                xfer[A] - idle[A],
                xfer[B] - idle[B],
                xfer[C] - idle[C],
                ringing[A],
                ringing[C]
            );
        }
        // The same transfers with subscriptions of 60 s, as `Config::refer_expires` was
        // before 600: A refreshes them at 30 s, and at 33 s the transactions of that
        // exchange linger at A and B (RFC 3261 §17: Timers J and K).
        println!(
            "\n| calls up | more per active transfer at A, 3 s after a refresh (60-s subscriptions) | at B | at C |\n|---:|---:|---:|---:|"
        );
        for calls in sizes() {
            let idle = heap_per_call(calls, false, |_| {}, false);
            let xfer = heap_per_call(calls, true, |c| c.refer_expires = 60, false);
            println!(
                "| {calls} | {:.0} B | {:.0} B | {:.0} B |",
                xfer[A] - idle[A],
                xfer[B] - idle[B],
                xfer[C] - idle[C]
            );
        }
        // The callee of a caller whose identifiers are as long as pjsip's: the dialog's own
        // copies of its Call-ID, the caller's tag and From.
        println!(
            "\n| calls up | heap per idle call at B (callee) of a caller with pjsip's identifiers | more per active transfer at B (transferee) |\n|---:|---:|---:|"
        );
        for calls in sizes() {
            let idle = heap_per_call(calls, false, |_| {}, true);
            let xfer = heap_per_call(calls, true, |_| {}, true);
            println!(
                "| {calls} | {:.0} B | {:.0} B |",
                idle[B],
                xfer[B] - idle[B]
            );
        }
    }
    if wanted("scale") {
        println!("\n| calls up | ns per datagram of a re-INVITE exchange |\n|---:|---:|");
        for calls in sizes() {
            let k = env("SIPXFER_BENCH_REINVITES", 1_000);
            let mut v: Vec<f64> = (0..5).map(|_| reinvite_cost(calls, k)).collect();
            println!("| {calls} | {:.0} |", median(&mut v));
        }
    }
}
