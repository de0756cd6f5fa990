//! Finished transactions (issue 18): after its final response a UDP transaction lingers
//! 64·T1 = 32 s to absorb retransmissions (RFC 3261 §17.2.2 Timer J, §17.1.1.2 Timer D,
//! RFC 6026 Timers L and M), so under load most live transactions are finished ones. Such a
//! transaction keeps only what it still needs — its key, its timers and the response it
//! repeats — not the request it answered. Checked here with a counting allocator: the heap
//! each lingering transaction holds, that a retransmitted request still gets the very same
//! response, and that the heap returns to its baseline once Timer J has run.
//!
//! This file holds a single test so that nothing else allocates beside it.

use bytes::Bytes;
use sipxfer::{Config, Duration, Endpoint, Instant, Transport};
use sipxfer_tests::counting::{live, Counting};
use std::net::SocketAddr;

#[global_allocator]
static ALLOC: Counting = Counting;

/// Transactions per kind.
const N: usize = 2_000;
/// What a lingering transaction may hold: its response (~300–600 bytes here), its key
/// (in the transaction and in the index), timers and map entries — 1.9 KB measured. The
/// request it answered (its datagram and parsed form) is not among them: with it, 6.6 KB.
const PER_TRANSACTION: usize = 2_048;

/// A BYE for a dialog the endpoint does not know (answered 481, §12.2.2) or an OPTIONS
/// (answered 200 with the endpoint's capabilities, §11.2), as a softphone writes them.
fn request(method: &str, n: usize, to: SocketAddr) -> Bytes {
    let tag = if method == "BYE" { ";tag=b7c1f0e2" } else { "" };
    Bytes::from(format!(
        "{method} sip:bob@{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK{n:08x}{method};rport\r\n\
         Max-Forwards: 70\r\n\
         From: \"Alice Liddell\" <sip:alice@example.com>;tag=a{n:08x}\r\n\
         To: <sip:bob@{to}>{tag}\r\n\
         Call-ID: {n:08x}-4f1c-11ef-9a3b-0242ac120002@10.0.0.2\r\n\
         CSeq: 2 {method}\r\n\
         Contact: <sip:alice@10.0.0.2:5060;transport=udp>\r\n\
         User-Agent: Example Softphone 4.2.1 (Linux)\r\n\
         Allow: INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, OPTIONS, INFO, UPDATE\r\n\
         Supported: replaces, norefersub, timer\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

#[test]
fn finished_transactions_keep_their_response_not_their_request() {
    let me: SocketAddr = "10.0.0.1:5060".parse().unwrap();
    let peer: SocketAddr = "10.0.0.2:5060".parse().unwrap();
    let mut ep = Endpoint::new(Config::new(me, [7; 32]), Instant::ZERO);
    let drain = |ep: &mut Endpoint| {
        let mut sent = Vec::new();
        while let Some(t) = ep.poll_transmit() {
            sent.push(t.bytes);
        }
        while ep.poll_event().is_some() {}
        sent
    };
    // Warm up the maps and the queues, then take the baseline.
    for m in ["BYE", "OPTIONS"] {
        ep.handle_datagram(
            Instant::ZERO,
            Transport::Udp,
            peer,
            me,
            request(m, N * 2, me),
        );
    }
    drain(&mut ep);
    ep.handle_timeout(Instant::from_secs(40));
    drain(&mut ep);
    assert_eq!(ep.stats().transactions, 0);
    let base = live();

    let t0 = Instant::from_secs(50);
    let mut first = Vec::new();
    for n in 0..N {
        for m in ["BYE", "OPTIONS"] {
            ep.handle_datagram(t0, Transport::Udp, peer, me, request(m, n, me));
            let sent = drain(&mut ep);
            assert_eq!(sent.len(), 1, "one answer to {m}");
            if n == 0 {
                first.push(sent[0].clone());
            }
        }
    }
    assert!(first[0].starts_with(b"SIP/2.0 481 "), "{:?}", first[0]);
    assert!(first[1].starts_with(b"SIP/2.0 200 "), "{:?}", first[1]);
    assert_eq!(ep.stats().transactions, 2 * N);
    let per = (live() - base) / (2 * N);
    println!("heap per lingering transaction: {per} bytes");
    assert!(
        per <= PER_TRANSACTION,
        "{per} bytes per lingering transaction"
    );

    // Retransmissions meet their transactions and get the same bytes again (§17.2.2).
    let t1 = t0 + Duration::from_secs(10);
    for (i, m) in ["BYE", "OPTIONS"].into_iter().enumerate() {
        ep.handle_datagram(t1, Transport::Udp, peer, me, request(m, 0, me));
        assert_eq!(drain(&mut ep), [first[i].clone()], "{m} retransmitted");
    }
    assert_eq!(ep.stats().transactions, 2 * N);

    // Timer J (64·T1) ends them all; the heap is back where it started.
    ep.handle_timeout(t0 + Duration::from_secs(33));
    drain(&mut ep);
    assert_eq!(ep.stats().transactions, 0);
    // The answers kept above would keep the block they were cut from (Config::send_block).
    drop(first);
    let after = live();
    assert!(
        after <= base + 4096,
        "heap {after} bytes after the transactions ended, {base} before"
    );
}
