//! Calls that end at once (issue 18): a call's INVITE is held by its INVITE transaction
//! alone, which keeps it in the Accepted state (RFC 6026 §8.4, 64·T1 = 32 s on UDP) so that
//! the call can build a dialog from the 2xx of another fork (RFC 3261 §13.2.2.4). Once the
//! call has ended nothing reads it, so the transaction must let it go then — not 32 s later.
//! Under load (a call answered and hung up every millisecond) the difference is the INVITE of
//! every call of the last 32 s. Checked with a counting allocator: the heap the caller holds
//! per ended call while those transactions linger.
//!
//! This file holds a single test so that nothing else allocates beside it.

use sipxfer::msg::Uri;
use sipxfer::{CallOptions, CallState, Config, Endpoint, Event, Instant};
use sipxfer_tests::counting::{live, Counting};
use sipxfer_tests::sim::Sim;

#[global_allocator]
static ALLOC: Counting = Counting;

const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/// Calls.
const N: usize = 1_000;
/// What the caller may hold per ended call while its transactions linger: the INVITE
/// transaction (Accepted: key, timers), the BYE's (Completed: key, timers), the ended dialog
/// remembered for RFC 3891's 603 — measured 2.2 KB. With the INVITE still held (its parsed
/// form, 296 bytes per header slot, and the strings it shares), 5.0 KB.
const PER_CALL: usize = 3_500;

#[test]
fn an_ended_call_lets_its_invite_go_while_the_transaction_lingers() {
    let mut sim = Sim::new(3);
    let a = sim.add_endpoint("10.0.0.1:5060");
    // The callee takes every call from the one caller (by default it refuses a remote
    // address its 257th call at a time).
    let mut callee = Config::new("10.0.0.2:5060".parse().unwrap(), [2; 32]);
    callee.max_calls_per_remote = N;
    callee.max_dialogs = N;
    let b = sim.add_endpoint_with(callee);
    let target = Uri::parse("sip:bob@10.0.0.2:5060").unwrap();
    for _ in 0..N {
        let options = CallOptions {
            offer: Some(bytes::Bytes::from_static(SDP)),
            ..Default::default()
        };
        sim.ep(a)
            .call(Instant::ZERO, target.clone(), options)
            .unwrap();
    }
    let mut ended = 0;
    // Answered, confirmed, hung up by the caller at once; 2 s: long past the BYE's 200,
    // well before Timer M (32 s) ends the INVITE transactions.
    sim.run(Instant::from_secs(2), |ep, n, now, e| match (&e, n) {
        (Event::IncomingCall { call, .. }, 1) => {
            ep.answer(now, *call, Some(bytes::Bytes::from_static(SDP)))
                .unwrap();
        }
        (
            Event::CallState {
                call,
                state: CallState::Confirmed,
                ..
            },
            0,
        ) => ep.hangup(now, *call).unwrap(),
        (
            Event::CallState {
                state: CallState::Terminated { .. },
                ..
            },
            0,
        ) => ended += 1,
        _ => {}
    });
    assert_eq!(ended, N, "every call ended at the caller");
    assert_eq!(sim.ep(a).calls().count(), 0);
    assert_eq!(
        sim.ep(a).stats().transactions,
        2 * N,
        "the INVITE transactions (Accepted) and the BYEs' (Completed) linger"
    );
    assert_eq!(sim.ep(b).stats().dialogs, 0);
    // What the caller holds: what replacing it with a fresh endpoint gives back.
    let fresh = Endpoint::new(
        Config::new("10.0.0.1:5060".parse().unwrap(), [1; 32]),
        Instant::ZERO,
    );
    let before = live();
    let old = std::mem::replace(sim.ep(a), fresh);
    drop(old);
    let per_call = (before - live()) / N;
    println!("heap per ended call at the caller, its transactions lingering: {per_call} bytes");
    assert!(
        per_call <= PER_CALL,
        "{per_call} bytes per ended call (the INVITE kept past the call's end?)"
    );
}
