//! Parser benchmark: sipxfer side by side with rsip, rsipstack, ezk-sip-types and sipx-sip, in
//! one run, over `tests/corpus/bench/` (INVITE with ~900 B SDP, 180, 200 with SDP, ACK, REFER
//! with escaped Replaces + Referred-By, 202, NOTIFY with sipfrag, compact-form BYE).
//!
//! Two levels: (a) `frame` — framing + header index; (b) `typed` — the full typed parse of the
//! headers the transfer stack needs. Each sample parses the whole corpus many times; samples
//! of all parsers are interleaved (round robin) so machine load hits them alike; the table gives
//! the median over samples as ns/message and MB/s.
//!
//! ```sh
//! cargo bench -p sipxfer-tests --features peers --bench parse
//! ```

mod peers;

use bytes::Bytes;
use sipxfer::msg::{Message, Received};
use sipxfer::parse::{parse_message, Limits, RawMessage};
use std::hint::black_box;
use std::time::{Duration, Instant};

type Parse = fn(&Bytes) -> bool;

fn sipxfer_frame(b: &Bytes) -> bool {
    RawMessage::parse(b, &Limits::default()).is_ok()
}

/// The owned model (short strings inline, longer ones slices of the shared buffer), then the
/// values a UA reads.
fn sipxfer_typed(b: &Bytes) -> bool {
    let Ok(m) = Message::parse(b.clone(), &Limits::default()) else {
        return false;
    };
    read_typed(&m)
}

/// The owned received message (`Received`: the buffer and the view into it), then the values a
/// UA reads.
fn sipxfer_received(b: &Bytes) -> bool {
    let Ok(m) = Received::parse(b.clone(), &Limits::default()) else {
        return false;
    };
    read_typed(m.get())
}

/// The zero-copy view (`Message<&str>`), then the values a UA reads.
fn sipxfer_view(b: &Bytes) -> bool {
    let Ok(m) = parse_message(b, &Limits::default()) else {
        return false;
    };
    read_typed(&m)
}

fn read_typed<S: sipxfer::text::Text>(m: &Message<S>) -> bool {
    for v in m.vias() {
        black_box((v.branch(), v.received(), v.rport(), &v.host, v.port));
    }
    black_box((
        m.from().and_then(|f| f.tag()),
        m.to().and_then(|t| t.tag()),
        m.call_id(),
    ));
    black_box((
        m.cseq(),
        m.max_forwards(),
        m.contacts().count(),
        m.routes().count(),
    ));
    black_box((
        m.record_routes().count(),
        m.content_type(),
        m.expires(),
        m.supported().count(),
    ));
    black_box((
        m.event().and_then(|e| e.id()),
        m.subscription_state().map(|s| s.state()),
    ));
    if let Some(r) = m.refer_to() {
        // Decode the embedded Replaces, as the transferee must.
        if r.embedded_replaces().is_err() {
            return false;
        }
    }
    black_box(m.referred_by());
    true
}

fn corpus() -> Vec<(String, Bytes)> {
    sipxfer_tests::bench_corpus()
}

struct Row {
    level: &'static str,
    name: &'static str,
    f: Parse,
    samples: Vec<f64>,
    failed: Vec<String>,
}

fn main() {
    // `cargo test --benches` / `--bench parse -- --test` style invocations: run once, quickly.
    let quick = std::env::args().any(|a| a == "--test" || a == "--quick");
    let corpus = corpus();
    let total_bytes: usize = corpus.iter().map(|(_, b)| b.len()).sum();
    let mut rows: Vec<Row> = [
        ("frame", "sipxfer", sipxfer_frame as Parse),
        ("frame", "rsip", |b: &Bytes| peers::rsip_frame(b)),
        ("frame", "rsipstack", |b: &Bytes| peers::rsipstack_frame(b)),
        ("frame", "ezk-sip-types", peers::ezk_frame),
        ("frame", "sipx-sip", peers::sipx_frame),
        ("typed", "sipxfer (owned Message)", sipxfer_typed),
        ("typed", "sipxfer (owned Received)", sipxfer_received),
        ("typed", "sipxfer (borrowed view)", sipxfer_view),
        ("typed", "rsip", |b: &Bytes| peers::rsip_typed(b)),
        ("typed", "rsipstack", |b: &Bytes| peers::rsipstack_typed(b)),
        ("typed", "ezk-sip-types", peers::ezk_typed),
        ("typed", "sipx-sip", peers::sipx_typed),
    ]
    .into_iter()
    // SIPXFER_BENCH_ONLY=typed/sipxfer runs one row (for profilers).
    .filter(|(level, name, _)| {
        std::env::var("SIPXFER_BENCH_ONLY").map_or(true, |o| o == format!("{level}/{name}"))
    })
    .map(|(level, name, f)| Row {
        level,
        name,
        f,
        samples: Vec::new(),
        failed: corpus
            .iter()
            .filter(|(_, b)| !f(b))
            .map(|(n, _)| n.clone())
            .collect(),
    })
    .collect();

    // Calibrate: corpus passes per sample so that one sample takes ~20 ms for each parser.
    let target = Duration::from_millis(if quick { 1 } else { 20 });
    let passes: Vec<u32> = rows
        .iter()
        .map(|r| {
            let t = Instant::now();
            let mut n = 0u32;
            while t.elapsed() < target / 4 || n == 0 {
                for (_, b) in &corpus {
                    black_box((r.f)(black_box(b)));
                }
                n += 1;
            }
            (n * 4).max(1)
        })
        .collect();
    let samples = if quick { 1 } else { 41 };
    for _ in 0..samples {
        for (r, &n) in rows.iter_mut().zip(&passes) {
            let t = Instant::now();
            for _ in 0..n {
                for (_, b) in &corpus {
                    black_box((r.f)(black_box(b)));
                }
            }
            let ns = t.elapsed().as_nanos() as f64 / (n as f64 * corpus.len() as f64);
            r.samples.push(ns);
        }
    }

    println!(
        "corpus: {} messages, {} bytes ({})",
        corpus.len(),
        total_bytes,
        corpus
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("samples per parser: {samples} (median shown)\n");
    println!("| level | parser | ns/message | MB/s | time vs sipxfer | rejects |");
    println!("|---|---|---:|---:|---:|---|");
    let mut best = std::collections::HashMap::new();
    let mut medians = Vec::new();
    for r in &mut rows {
        r.samples.sort_by(f64::total_cmp);
        let med = r.samples[r.samples.len() / 2];
        medians.push((r.level, r.name, med));
        let ours = *best.entry(r.level).or_insert(med);
        let mbps = total_bytes as f64 / corpus.len() as f64 / med * 1000.0;
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.1}× | {} |",
            r.level,
            r.name,
            med,
            mbps,
            med / ours,
            if r.failed.is_empty() {
                "—".to_string()
            } else {
                r.failed.join(", ")
            }
        );
    }

    // Throughput over the fastest peer, per sipxfer row.
    println!();
    for level in ["frame", "typed"] {
        let fastest_peer = medians
            .iter()
            .filter(|(l, n, _)| *l == level && !n.starts_with("sipxfer"))
            .min_by(|a, b| a.2.total_cmp(&b.2));
        let Some(&(_, peer, peer_ns)) = fastest_peer else {
            continue;
        };
        for (_, name, ns) in medians
            .iter()
            .filter(|(l, n, _)| *l == level && n.starts_with("sipxfer"))
        {
            println!(
                "{level}: {name} is {:.2}× the throughput of {peer}",
                peer_ns / ns
            );
        }
    }
}
