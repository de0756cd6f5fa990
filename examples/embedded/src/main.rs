//! sipxfer on a microcontroller: three endpoints — alice, bob, carol — in the memory of one
//! Cortex-M3, joined by an in-memory network, run the README's loop (drain the transmits and
//! events, then jump to the earliest deadline). alice calls bob and transfers him to carol,
//! blind (RFC 5589 §6), then attended (§7, with `Replaces`). The outcome at every party and
//! the heap each endpoint used at its peak are printed over semihosting, and the exit status
//! is success only if both transfers succeeded at all three parties.
//!
//! Run it with `bash run.sh` (builds with Debian's rustc-web and its std sources, boots it in
//! `qemu-system-arm -machine mps2-an385`).
#![no_std]
#![no_main]

extern crate alloc;

mod heap;

use alloc::vec::Vec;
use bytes::Bytes;
use core::mem::MaybeUninit;
use core::net::SocketAddr;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use sipxfer::msg::Uri;
use sipxfer::{
    AttendedOptions, BlindOptions, CallId, CallOptions, CallState, Config, Endpoint, EndReason,
    Event, Instant, Transfer, TransferOutcome, Transport,
};

/// The heap: 256 KiB, for three endpoints.
const HEAP_SIZE: usize = 256 * 1024;
static mut HEAP_MEM: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];

#[global_allocator]
static HEAP: heap::Counting = heap::Counting::new();

const NAMES: [&str; 3] = ["alice", "bob", "carol"];
const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

#[entry]
fn main() -> ! {
    // SAFETY: once, first thing, with a static nothing else touches.
    unsafe { HEAP.init(core::ptr::addr_of_mut!(HEAP_MEM) as usize, HEAP_SIZE) };
    let mut net = Net::new();
    let baseline: [usize; 3] = core::array::from_fn(|i| HEAP.live(i + 1));
    let blind = net.transfer(false);
    let after_blind: [usize; 3] = core::array::from_fn(|i| HEAP.live(i + 1));
    let attended = net.transfer(true);
    hprintln!("sipxfer on a Cortex-M3 (QEMU mps2-an385), {} KiB heap", HEAP_SIZE / 1024);
    for (name, r) in [("blind", &blind), ("attended", &attended)] {
        hprintln!(
            "{} transfer alice -> bob -> carol: {}",
            name,
            if r.succeeded() { "succeeded at all three parties" } else { "FAILED" }
        );
    }
    for (i, name) in NAMES.iter().enumerate() {
        hprintln!(
            "peak heap {}: {} bytes (at rest: {} new, {} after the first transfer, {} at the end)",
            name,
            HEAP.peak(i + 1),
            baseline[i],
            after_blind[i],
            HEAP.live(i + 1)
        );
    }
    hprintln!(
        "peak heap, whole image: {} bytes; live after the calls ended: {} bytes",
        HEAP.total_peak(),
        (1..heap::OWNERS).map(|o| HEAP.live(o)).sum::<usize>()
    );
    let busy = net.eps.iter().any(|ep| {
        let s = ep.stats();
        (s.transactions, s.timers, s.dialogs, s.subscriptions) != (0, 0, 0, 0)
    });
    hprintln!(
        "every endpoint empty afterwards (no transaction, timer, dialog, subscription): {}",
        !busy
    );
    let ok = blind.succeeded() && attended.succeeded() && !busy;
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    loop {}
}

/// What the parties saw of one transfer.
#[derive(Default)]
struct Report {
    transferor: Option<TransferOutcome>,
    transferee: Option<TransferOutcome>,
    target_answered: bool,
    /// Attended: carol's consultation call ended as replaced.
    replaced: bool,
    attended: bool,
}

impl Report {
    fn succeeded(&self) -> bool {
        self.transferor == Some(TransferOutcome::Succeeded)
            && self.transferee == Some(TransferOutcome::Succeeded)
            && self.target_answered
            && (!self.attended || self.replaced)
    }
}

/// Three endpoints on one in-memory network, with virtual time.
struct Net {
    eps: Vec<Endpoint>,
    addrs: [SocketAddr; 3],
    now: Instant,
}

impl Net {
    fn new() -> Net {
        let addrs = [
            SocketAddr::from(([192, 0, 2, 1], 5060)),
            SocketAddr::from(([192, 0, 2, 2], 5060)),
            SocketAddr::from(([192, 0, 2, 3], 5060)),
        ];
        let eps = addrs
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                HEAP.set_owner(i + 1);
                // A device seeds this from its true random number generator.
                let mut config = Config::new(a, [i as u8 + 1; 32]);
                // Each message sent in a buffer of its own and no header lists kept for the
                // next message: the smallest heap, where a few allocations more per message
                // cost little at a device's call rate.
                config.send_block = 0;
                config.header_lists = 0;
                // A UDP stack only: no switch to TCP for a large request (RFC 3261 §18.1.1).
                config.udp_request_limit = None;
                Endpoint::new(config, Instant::ZERO)
            })
            .collect();
        HEAP.set_owner(0);
        Net {
            eps,
            addrs,
            now: Instant::ZERO,
        }
    }

    fn uri(&self, i: usize) -> Uri<sipxfer::SipStr> {
        let text = alloc::format!("sip:{}@{}", NAMES[i], self.addrs[i]);
        ok(Uri::parse(&text), "a URI")
    }

    /// Lets endpoint `i` act (its allocations are counted as its own).
    fn on<R>(&mut self, i: usize, f: impl FnOnce(&mut Endpoint, Instant) -> R) -> R {
        HEAP.set_owner(i + 1);
        let r = f(&mut self.eps[i], self.now);
        HEAP.set_owner(0);
        r
    }

    /// The README's run loop: deliver every transmit, hand every event to `app`, then jump to
    /// the earliest deadline; until nothing is left to do.
    fn run(&mut self, mut app: impl FnMut(&mut Net, usize, Event)) {
        loop {
            let mut busy = false;
            for i in 0..3 {
                while let Some(t) = self.on(i, |ep, _| ep.poll_transmit()) {
                    busy = true;
                    let Some(j) = self.addrs.iter().position(|a| *a == t.to) else {
                        continue;
                    };
                    let from = self.addrs[i];
                    self.on(j, |ep, now| {
                        ep.handle_datagram(now, Transport::Udp, from, t.to, t.bytes)
                    });
                }
                while let Some(e) = self.on(i, |ep, _| ep.poll_event()) {
                    busy = true;
                    app(self, i, e);
                }
            }
            if busy {
                continue;
            }
            let next = self.eps.iter().filter_map(Endpoint::poll_timeout).min();
            let Some(next) = next else {
                return;
            };
            self.now = self.now.max(next);
            for i in 0..3 {
                self.on(i, |ep, now| ep.handle_timeout(now));
            }
        }
    }

    /// alice calls bob; once up she transfers him to carol (attended: after calling carol);
    /// bob accepts and calls carol, who answers; at the end bob hangs up.
    fn transfer(&mut self, attended: bool) -> Report {
        let mut r = Report {
            attended,
            ..Report::default()
        };
        let bob = self.uri(1);
        let offer = CallOptions {
            offer: Some(Bytes::from_static(SDP)),
            ..Default::default()
        };
        let ab = ok(self.on(0, |ep, now| ep.call(now, bob, offer)), "call");
        let mut ac: Option<CallId> = None;
        let mut bc: Option<CallId> = None;
        let mut ca: Option<CallId> = None;
        let carol = self.uri(2);
        self.run(|net, i, e| match (i, e) {
            (1 | 2, Event::IncomingCall { call, replaces, .. }) => {
                if i == 2 && replaces.is_none() && attended {
                    ca = Some(call);
                }
                ok(
                    net.on(i, |ep, now| ep.answer(now, call, Some(Bytes::from_static(SDP)))),
                    "answer",
                );
            }
            (0, Event::CallState { call, state: CallState::Confirmed, .. }) if call == ab => {
                if attended {
                    let to = carol.clone();
                    let options = CallOptions {
                        offer: Some(Bytes::from_static(SDP)),
                        ..Default::default()
                    };
                    ac = Some(ok(net.on(0, |ep, now| ep.call(now, to, options)), "call"));
                } else {
                    let t = Transfer::Blind {
                        target: carol.clone(),
                        options: BlindOptions::default(),
                    };
                    ok(net.on(0, |ep, now| ep.transfer(now, ab, t)), "transfer");
                }
            }
            (0, Event::CallState { call, state: CallState::Confirmed, .. }) if Some(call) == ac => {
                let t = Transfer::Attended {
                    consultation: call,
                    options: AttendedOptions::default(),
                };
                ok(net.on(0, |ep, now| ep.transfer(now, ab, t)), "transfer");
            }
            (1, Event::IncomingTransfer { transfer, .. }) => {
                bc = Some(ok(
                    net.on(1, |ep, now| ep.accept_transfer(now, transfer, None)),
                    "accept",
                ));
            }
            (0, Event::TransferOutcome { outcome, .. }) => r.transferor = Some(outcome),
            (1, Event::TransferOutcome { outcome, .. }) => r.transferee = Some(outcome),
            (1, Event::CallState { call, state: CallState::Confirmed, .. }) if Some(call) == bc => {
                // The transferred call is up: done; bob hangs up.
                ok(net.on(1, |ep, now| ep.hangup(now, call)), "hangup");
            }
            (2, Event::CallState { state: CallState::Confirmed, call, .. }) if Some(call) != ca => {
                r.target_answered = true;
            }
            (
                2,
                Event::CallState {
                    call,
                    state: CallState::Terminated { reason: EndReason::Replaced },
                    ..
                },
            ) if Some(call) == ca => r.replaced = true,
            _ => {}
        });
        r
    }
}

/// `r`'s value; an error is reported with `Display` and fails the run. (`expect` would
/// format it with `Debug`, whose escaping of strings brings core's Unicode tables into the
/// image: 2.5 KB of flash.)
fn ok<T, E: core::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            hprintln!("{}: {}", what, e);
            debug::exit(debug::EXIT_FAILURE);
            loop {}
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
