//! 100 000 random and mutated datagrams into a live endpoint: no panic, every answer to a
//! datagram that does not parse is a 4xx/5xx, and once its timers have run out the endpoint
//! holds nothing and the heap is back at its baseline.

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sipxfer::{Config, Endpoint, Event, Instant, Limits, Message, Transport};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicIsize, Ordering};

/// Counts live heap bytes (this test binary holds one test, so nothing else allocates).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const DATAGRAMS: usize = 100_000;
const WARM_UP: usize = 2_000;

fn seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = sipxfer_tests::expectations()
        .iter()
        .map(|e| sipxfer_tests::rfc4475(&e.file))
        .collect();
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/bench");
    for f in std::fs::read_dir(corpus).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "sip") {
            v.push(std::fs::read(p).unwrap());
        }
    }
    v
}

fn mutate(rng: &mut ChaCha8Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let r = rng.next_u64();
    if r % 10 == 0 {
        // Pure noise.
        let n = (rng.next_u64() % 600) as usize;
        return (0..n).map(|_| rng.next_u64() as u8).collect();
    }
    let mut m = seeds[(rng.next_u64() % seeds.len() as u64) as usize].clone();
    let edits = 1 + rng.next_u64() % 8;
    for _ in 0..edits {
        if m.is_empty() {
            break;
        }
        let at = (rng.next_u64() % m.len() as u64) as usize;
        match rng.next_u64() % 7 {
            0 => m[at] = rng.next_u64() as u8,
            1 => m[at] ^= 1 << (rng.next_u64() % 8),
            2 => {
                m.remove(at);
            }
            3 => m.insert(at, b"\r\n:;,<>\"%@ \t=?"[(rng.next_u64() % 14) as usize]),
            4 => m.truncate(at),
            5 => {
                // Duplicate a slice (repeated headers, long values).
                let end = (at + (rng.next_u64() % 64) as usize).min(m.len());
                let piece = m[at..end].to_vec();
                m.splice(at..at, piece);
            }
            _ => {
                // Digits where numbers are.
                let s = b"0 4294967296 -1 99999999999 1.5 ";
                let i = (rng.next_u64() % (s.len() as u64 - 4)) as usize;
                m.splice(at..at, s[i..i + 4].iter().copied());
            }
        }
    }
    m
}

#[test]
fn hundred_thousand_bad_datagrams() {
    let seeds = seeds();
    let mut rng = ChaCha8Rng::seed_from_u64(4475);
    let inputs: Vec<Vec<u8>> = (0..DATAGRAMS).map(|_| mutate(&mut rng, &seeds)).collect();

    let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let remote: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let mut ep = Endpoint::new(Config::new(local, [3; 32]), Instant::ZERO);
    let mut baseline = LIVE.load(Ordering::Relaxed);

    let mut answered = 0usize;
    let mut skip = 0u64;
    let mut parsed = 0usize;
    for (i, input) in inputs.iter().enumerate() {
        let mut now = Instant::from_millis(i as u64 + skip);
        if i == WARM_UP {
            skip = 100_000;
            now = Instant::from_millis(i as u64 + skip);
            // The baseline: the endpoint after a first burst has ended (its maps and queues
            // have their first nodes), with nothing live.
            ep.handle_timeout(now);
            while ep.poll_transmit().is_some() {}
            while ep.poll_event().is_some() {}
            assert_eq!(ep.stats().transactions, 0);
            baseline = LIVE.load(Ordering::Relaxed);
        }
        let valid = Message::parse(Bytes::copy_from_slice(input), &Limits::default())
            .is_ok_and(|m| m.is_request());
        parsed += valid as usize;
        ep.handle_datagram(
            now,
            Transport::Udp,
            remote,
            local,
            Bytes::copy_from_slice(input),
        );
        ep.handle_timeout(now.max(ep.now()));
        while let Some(e) = ep.poll_event() {
            // The application refuses whatever reaches it.
            match e {
                Event::Request { tx, .. } => {
                    let r = ep.response(tx, 403).unwrap();
                    ep.respond(now, tx, r).unwrap();
                }
                Event::IncomingCall { call, .. } => ep.reject(now, call, 403).unwrap(),
                _ => {}
            }
        }
        while let Some(t) = ep.poll_transmit() {
            let code: u16 = std::str::from_utf8(&t.bytes[8..11])
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                t.bytes.starts_with(b"SIP/2.0 "),
                "the endpoint only answers"
            );
            if !valid {
                answered += 1;
                assert!(
                    (400..600).contains(&code),
                    "input {i}: {code} to a malformed datagram"
                );
            } else {
                assert!(
                    code == 100 || code == 200 || code >= 400,
                    "input {i}: {code}"
                );
            }
        }
    }
    // Let every timer run out.
    let end = Instant::from_secs(DATAGRAMS as u64 / 1000 + 200);
    ep.handle_timeout(end);
    while ep.poll_transmit().is_some() {}
    while ep.poll_event().is_some() {}
    let s = ep.stats();
    assert_eq!(
        (s.transactions, s.timers, s.connections),
        (0, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.messages_in as usize, DATAGRAMS);
    assert!(s.parse_errors as usize >= DATAGRAMS / 3, "{s:?}");
    assert!(
        answered > 1000 && parsed > 1000,
        "answered {answered}, parsed {parsed}"
    );
    let live = LIVE.load(Ordering::Relaxed);
    assert!(
        live - baseline < 1024,
        "heap grew by {} bytes after everything ended",
        live - baseline
    );
    eprintln!("{DATAGRAMS} datagrams: {parsed} parsed as requests, {answered} malformed answered, stats {s:?}, heap delta {} B", live - baseline);
    drop(inputs);
}
