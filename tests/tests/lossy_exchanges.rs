//! 10 000 seeded request/response exchanges over links with 30 % loss, duplication and
//! reordering: every client transaction ends exactly once — with the right final response,
//! or with a timeout at exactly 64·T1 after it started — the server sees each request at most
//! once, and afterwards both endpoints hold zero transactions and zero timers.

use sipxfer::msg::Method;
use sipxfer::{Destination, Event, Instant, TxId};
use sipxfer_tests::flows::request;
use sipxfer_tests::sim::{Link, Sim};
use std::collections::BTreeMap;

const SEEDS: u64 = 100;
const PER_SEED: usize = 100;

#[derive(Default)]
struct Tally {
    completed: usize,
    timed_out: usize,
    server_saw: usize,
}

/// One seed's exchanges, both endpoints cutting the final responses they repeat from blocks
/// of `block` bytes (`Config::send_block`); what went on the wire.
fn run_seed(seed: u64, tally: &mut Tally, block: usize) -> Vec<sipxfer_tests::sim::Logged> {
    let mut sim = Sim::new(seed);
    sim.set_default_link(Link::lossy(0.3));
    let a = sim.add_endpoint_tuned("10.0.0.1:5060", |c| c.send_block = block);
    // The server's application answers requests outside dialogs itself, REFER included
    // (by default the core refuses an out-of-dialog REFER without Target-Dialog, RFC 4538).
    let mut config = sipxfer::Config::new("10.0.0.2:5060".parse().unwrap(), [seed as u8; 32]);
    config.refer_outside_dialog = true;
    config.send_block = block;
    let b = sim.add_endpoint_with(config);
    let (aa, ba) = (sim.nodes[a].addr, sim.nodes[b].addr);

    // Client side: tx → (call-id, expected final, start time).
    let mut sent: BTreeMap<TxId, (String, u16, Instant)> = BTreeMap::new();
    let mut outcome: BTreeMap<TxId, Vec<(u16, Instant)>> = BTreeMap::new();
    // Server side: call-id → Request events.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();

    let app = |ep: &mut sipxfer::Endpoint,
               node: usize,
               now: Instant,
               e: Event,
               outcome: &mut BTreeMap<TxId, Vec<(u16, Instant)>>,
               seen: &mut BTreeMap<String, usize>| {
        match e {
            Event::Request { tx, request, .. } if node == b => {
                *seen
                    .entry(request.call_id().unwrap().to_string())
                    .or_default() += 1;
                let r = ep.response(tx, 200).unwrap();
                ep.respond(now, tx, r).unwrap();
            }
            Event::IncomingCall { call, request, .. } if node == b => {
                *seen
                    .entry(request.call_id().unwrap().to_string())
                    .or_default() += 1;
                ep.reject(now, call, 486).unwrap();
            }
            Event::Response { tx, response } if node == a => {
                let code = response.status().unwrap();
                if code >= 200 {
                    outcome.entry(tx).or_default().push((code, now));
                }
            }
            Event::Timeout { tx } if node == a => outcome.entry(tx).or_default().push((408, now)),
            _ => {}
        }
    };

    for j in 0..PER_SEED {
        let at = Instant::from_millis(j as u64 * 7);
        sim.run(at, |ep, n, now, e| {
            app(ep, n, now, e, &mut outcome, &mut seen)
        });
        let (method, expect) = match j % 3 {
            0 => (Method::Options, 200),
            1 => (Method::Refer, 200),
            _ => (Method::Invite, 486),
        };
        let call_id = format!("s{seed}-{j}");
        let tx = sim
            .ep(a)
            .send_request(
                at,
                Destination::udp(ba),
                request(method, aa, ba, &call_id, 1),
            )
            .unwrap();
        sent.insert(tx, (call_id, expect, at));
    }
    sim.run_to_end(|ep, n, now, e| app(ep, n, now, e, &mut outcome, &mut seen));

    for (tx, (call_id, expect, start)) in &sent {
        let o = outcome.get(tx).map(Vec::as_slice).unwrap_or(&[]);
        assert_eq!(o.len(), 1, "seed {seed} {call_id}: one outcome, got {o:?}");
        let (code, at) = o[0];
        let saw = seen.get(call_id).copied().unwrap_or(0);
        assert!(
            saw <= 1,
            "seed {seed} {call_id}: server saw the request {saw} times"
        );
        tally.server_saw += saw;
        if code == 408 {
            // Timer B / F: exactly 64·T1 after the request left.
            assert_eq!(
                at,
                *start + sipxfer::Duration::from_secs(32),
                "seed {seed} {call_id}"
            );
            tally.timed_out += 1;
        } else {
            assert_eq!(code, *expect, "seed {seed} {call_id}");
            tally.completed += 1;
        }
        // A request the server application never saw cannot have been answered by it.
        if saw == 0 && *expect == 486 {
            assert_eq!(code, 408, "seed {seed} {call_id}");
        }
    }
    for n in [a, b] {
        let s = sim.ep(n).stats();
        assert_eq!(
            (s.transactions, s.timers),
            (0, 0),
            "seed {seed} node {n}: {s:?}"
        );
        assert_eq!(sim.ep(n).poll_timeout(), None);
    }
    core::mem::take(&mut sim.log)
}

/// Shared blocks change no byte on the wire, retransmissions included: the same seeds with
/// every message in a buffer of its own, with the default 8 KiB blocks, and with blocks so
/// small that most messages get their own buffer and the rest change blocks every time.
#[test]
fn send_blocks_change_no_byte_on_the_wire() {
    for seed in 0..10 {
        let wire = |block| {
            run_seed(seed, &mut Tally::default(), block)
                .into_iter()
                .map(|l| (l.at, l.from, l.to, l.bytes))
                .collect::<Vec<_>>()
        };
        let own = wire(0);
        assert!(own.len() > 200, "seed {seed}: {} datagrams", own.len());
        assert!(own == wire(8 * 1024), "seed {seed}: 8 KiB blocks");
        assert!(own == wire(700), "seed {seed}: 700-byte blocks");
    }
}

#[test]
fn ten_thousand_exchanges_under_30_percent_loss() {
    let mut tally = Tally::default();
    for seed in 0..SEEDS {
        run_seed(
            seed,
            &mut tally,
            sipxfer::Config::new("0.0.0.0:0".parse().unwrap(), [0; 32]).send_block,
        );
    }
    let total = (SEEDS as usize) * PER_SEED;
    assert_eq!(tally.completed + tally.timed_out, total);
    // With 11 (non-INVITE) or 7 (INVITE) tries at 30 % loss almost all complete.
    assert!(
        tally.completed > total * 97 / 100,
        "completed {} of {total}",
        tally.completed
    );
    eprintln!(
        "{total} exchanges: {} completed, {} timed out, server saw {}",
        tally.completed, tally.timed_out, tally.server_saw
    );
}
