//! Emit benchmark (issue 18): serializing the messages of `tests/corpus/bench/` with sipxfer
//! and with the peers that can write a message back (rsip, rsipstack, ezk-sip-types), side by
//! side in one run. Each library parses the corpus once, outside the timing, into its own
//! message type; what is timed is turning those messages into wire text — the step a stack
//! repeats for every message it sends (sipxfer writes a field it parsed back as the line it
//! came in while unchanged, as ezk-sip-types does; a third row renders every field from its
//! typed value, as for a message built or changed). Building the messages from their parts is not timed
//! (the peers' builders differ too much to compare like with like). Samples of all rows are
//! interleaved round robin; the table gives the median as ns/message.
//!
//! ```sh
//! cargo bench -p sipxfer-tests --features peers --bench emit
//! ```

use bytes::{Bytes, BytesMut};
use sipxfer::msg::Message;
use sipxfer::parse::Limits;
use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn corpus() -> Vec<(String, Bytes)> {
    sipxfer_tests::bench_corpus()
}

/// One row: serializes every message of the corpus once, returns the bytes written.
type Emit = Box<dyn FnMut() -> usize>;

struct EzkMsg {
    line: ezk_sip_types::msg::MessageLine,
    headers: ezk_sip_types::Headers,
    body: Bytes,
}

fn ezk_parse(b: &Bytes) -> EzkMsg {
    use ezk_sip_types::msg::{Line, MessageLine, PullParser};
    use ezk_sip_types::parse::Parse;
    let mut parser = PullParser::new(b, 0);
    let mut line = None;
    let mut headers = ezk_sip_types::Headers::with_capacity(16);
    for item in &mut parser {
        let l = std::str::from_utf8(item.expect("ezk frames the corpus")).unwrap();
        if line.is_none() {
            line = Some(MessageLine::parse(b)(l).expect("start line").1);
        } else {
            let (_, h) = Line::parse(b, l).expect("header line");
            headers.insert(h.name, h.value);
        }
    }
    let body = b.slice(parser.head_end()..);
    EzkMsg {
        line: line.unwrap(),
        headers,
        body,
    }
}

/// A row writing each of `ours` into one reused buffer.
fn emit_reused(ours: Vec<Message>) -> Emit {
    let mut buf = BytesMut::with_capacity(4096);
    Box::new(move || {
        ours.iter()
            .map(|m| {
                buf.clear();
                m.emit(&mut buf);
                black_box(&buf).len()
            })
            .sum()
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test" || a == "--quick");
    let corpus = corpus();
    let n = corpus.len();
    let ours: Vec<Message> = corpus
        .iter()
        .map(|(_, b)| Message::parse(b.clone(), &Limits::default()).unwrap())
        .collect();
    let rsip: Vec<rsip::SipMessage> = corpus
        .iter()
        .map(|(_, b)| rsip::SipMessage::try_from(&b[..]).unwrap())
        .collect();
    let rsipstack: Vec<rsipstack::sip::SipMessage> = corpus
        .iter()
        .map(|(_, b)| rsipstack::sip::parser::parse_message(b).unwrap())
        .collect();
    let ezk: Vec<EzkMsg> = corpus.iter().map(|(_, b)| ezk_parse(b)).collect();

    let mut rows: Vec<(&str, Emit, Vec<f64>)> = vec![
        (
            "sipxfer (to_bytes: a Bytes per message)",
            Box::new({
                let ours = ours.clone();
                move || ours.iter().map(|m| black_box(m.to_bytes()).len()).sum()
            }),
            vec![],
        ),
        (
            "sipxfer (emit into a reused buffer)",
            emit_reused(ours.clone()),
            vec![],
        ),
        (
            // Every field rendered from its typed value (the lines it was parsed from
            // forgotten): what a message built from parts, or changed, costs.
            "sipxfer (emit, every field rendered)",
            emit_reused({
                let mut ours = ours.clone();
                for m in &mut ours {
                    m.headers.forget_lines();
                }
                ours
            }),
            vec![],
        ),
        (
            "rsip (to_string)",
            Box::new(move || rsip.iter().map(|m| black_box(m.to_string()).len()).sum()),
            vec![],
        ),
        (
            "rsipstack (to_string)",
            Box::new(move || {
                rsipstack
                    .iter()
                    .map(|m| black_box(m.to_string()).len())
                    .sum()
            }),
            vec![],
        ),
        (
            "ezk-sip-types (line, headers, body into a String)",
            Box::new(move || {
                use ezk_sip_types::print::AppendCtx;
                ezk.iter()
                    .map(|m| {
                        let mut s = String::with_capacity(1024);
                        let _ = write!(s, "{}\r\n{}\r\n", m.line.default_print_ctx(), m.headers);
                        s.push_str(std::str::from_utf8(&m.body).unwrap_or(""));
                        black_box(s).len()
                    })
                    .sum()
            }),
            vec![],
        ),
    ];

    // Calibrate: corpus passes per sample so that one sample takes ~20 ms for each row.
    let target = Duration::from_millis(if quick { 1 } else { 20 });
    let passes: Vec<u32> = rows
        .iter_mut()
        .map(|(_, f, _)| {
            let t = Instant::now();
            let mut k = 0u32;
            while t.elapsed() < target / 4 || k == 0 {
                black_box(f());
                k += 1;
            }
            (k * 4).max(1)
        })
        .collect();
    let samples = if quick { 1 } else { 41 };
    for _ in 0..samples {
        for ((_, f, s), &k) in rows.iter_mut().zip(&passes) {
            let t = Instant::now();
            for _ in 0..k {
                black_box(f());
            }
            s.push(t.elapsed().as_nanos() as f64 / (k as f64 * n as f64));
        }
    }
    let bytes: Vec<usize> = rows.iter_mut().map(|(_, f, _)| f() / n).collect();
    println!(
        "corpus: {n} messages ({}); samples per row: {samples} (median shown)\n",
        corpus
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("| emitter | ns/message | bytes/message written |\n|---|---:|---:|");
    let mut medians = vec![];
    for ((name, _, s), b) in rows.iter_mut().zip(bytes) {
        s.sort_by(f64::total_cmp);
        let med = s[s.len() / 2];
        medians.push((*name, med));
        println!("| {name} | {med:.0} | {b} |");
    }
    let (peer, peer_ns) = medians
        .iter()
        .filter(|(n, _)| !n.starts_with("sipxfer"))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .copied()
        .unwrap();
    println!();
    for (name, ns) in medians.iter().filter(|(n, _)| n.starts_with("sipxfer")) {
        println!("{name} is {:.2}× the throughput of {peer}", peer_ns / ns);
    }
}
