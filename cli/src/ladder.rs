//! A ladder diagram of the SIP messages among a few user agents: one column per party, one
//! arrow per message (method or status), and under it the headers that tell a transfer's
//! story.

use sipxfer::msg::Message;
use sipxfer::parse::Limits;
use sipxfer_driver::Captured;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Width of one column.
const COL: usize = 30;
/// Left margin (the time stamp).
const LEFT: usize = 9;

/// Headers shown under an arrow.
const STORY: &[&str] = &[
    "Refer-To",
    "Referred-By",
    "Replaces",
    "Refer-Sub",
    "Event",
    "Subscription-State",
    "Target-Dialog",
];

/// The parties (name, bound address) and what each sent, to a ladder.
pub fn render(parties: &[(&str, SocketAddr)], sent: &[Vec<Captured>]) -> String {
    // Every address a party used (its listener, and the local end of its TCP connections).
    let mut owner: HashMap<SocketAddr, usize> = HashMap::new();
    for (i, (_, addr)) in parties.iter().enumerate() {
        owner.insert(*addr, i);
    }
    for (i, msgs) in sent.iter().enumerate() {
        for m in msgs {
            owner.insert(m.local, i);
        }
    }
    let mut rows: Vec<(usize, &Captured)> = sent
        .iter()
        .enumerate()
        .flat_map(|(i, msgs)| msgs.iter().map(move |m| (i, m)))
        .collect();
    rows.sort_by_key(|(_, m)| m.at);
    let start = rows.first().map(|(_, m)| m.at);

    let mut out = String::new();
    let mut head = " ".repeat(LEFT);
    for (name, addr) in parties {
        let label = format!("{name} {addr}");
        let _ = write!(head, "{label:<COL$}");
    }
    out.push_str(head.trim_end());
    out.push('\n');
    for (from, m) in rows {
        let Some(&to) = owner.get(&m.remote) else {
            continue;
        };
        let t = start
            .and_then(|s| m.at.duration_since(s).ok())
            .unwrap_or_default();
        let (label, story) = describe(&m.bytes);
        let _ = writeln!(out, "{}", arrow(parties.len(), from, to, &label, t));
        for line in story {
            let _ = writeln!(out, "{}", note(parties.len(), from.min(to), &line));
        }
    }
    out
}

fn column(i: usize) -> usize {
    LEFT + i * COL
}

/// The life lines of every party.
fn lifelines(n: usize) -> Vec<char> {
    let mut line = vec![' '; column(n - 1) + 1];
    for i in 0..n {
        line[column(i)] = '|';
    }
    line
}

fn arrow(n: usize, from: usize, to: usize, label: &str, t: std::time::Duration) -> String {
    let mut line = lifelines(n);
    let stamp = format!("{:>7.3}", t.as_secs_f64());
    for (i, c) in stamp.chars().enumerate() {
        line[i] = c;
    }
    if from == to {
        let x = column(from) + 2;
        let text = format!("<-> {label}");
        put(&mut line, x, &text);
        return line.into_iter().collect::<String>().trim_end().to_string();
    }
    let (lo, hi) = (column(from.min(to)), column(from.max(to)));
    for c in line.iter_mut().take(hi).skip(lo + 1) {
        *c = '-';
    }
    if to > from {
        line[hi - 1] = '>';
    } else {
        line[lo + 1] = '<';
    }
    let text = format!(" {label} ");
    let width = hi - lo - 3;
    let shown: String = text.chars().take(width).collect();
    let at = lo + 2 + (width - shown.chars().count()) / 2;
    put(&mut line, at, &shown);
    line.into_iter().collect::<String>().trim_end().to_string()
}

fn note(n: usize, left: usize, text: &str) -> String {
    let mut line = lifelines(n);
    put(&mut line, column(left) + 3, text);
    line.into_iter().collect::<String>().trim_end().to_string()
}

fn put(line: &mut Vec<char>, at: usize, text: &str) {
    for (i, c) in text.chars().enumerate() {
        if at + i < line.len() {
            line[at + i] = c;
        } else {
            line.push(c);
        }
    }
}

/// The arrow's label (`INVITE`, `re-INVITE (hold)`, `200 OK (INVITE)`) and the story lines.
pub fn describe(bytes: &bytes::Bytes) -> (String, Vec<String>) {
    let Ok(m) = Message::parse(bytes.clone(), &Limits::default()) else {
        return ("(unparsable)".into(), Vec::new());
    };
    let label = match m.status() {
        Some(code) => {
            let reason = match &m.start {
                sipxfer::msg::StartLine::Response { reason, .. } => reason.to_string(),
                _ => String::new(),
            };
            let method = m
                .cseq()
                .map(|c| c.method.as_str().to_string())
                .unwrap_or_default();
            format!("{code} {reason} ({method})")
        }
        None => {
            let method = m
                .method()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default();
            let in_dialog = m.to().and_then(|t| t.tag()).is_some();
            let body = String::from_utf8_lossy(&m.body);
            if method == "INVITE" && in_dialog {
                let what = if body.contains("a=sendonly") || body.contains("a=inactive") {
                    " (hold)"
                } else if body.contains("a=sendrecv") {
                    " (resume)"
                } else {
                    ""
                };
                format!("re-INVITE{what}")
            } else {
                method
            }
        }
    };
    let mut story = Vec::new();
    for h in &m.headers {
        let name = h.name();
        let name = match h {
            sipxfer::msg::Header::Extension { name, .. } => name.to_string(),
            _ => name.as_str().to_string(),
        };
        if STORY.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
            story.push(format!(
                "{name}: {}",
                sipxfer::msg::emit::header_value_to_string(h)
            ));
        }
    }
    let is_frag = m.content_type().is_some_and(|t| {
        t.ty.eq_ignore_ascii_case("message") && t.subtype.eq_ignore_ascii_case("sipfrag")
    });
    if is_frag {
        if let Some(line) = String::from_utf8_lossy(&m.body).lines().next() {
            story.push(format!("sipfrag: {line}"));
        }
    }
    (label, story)
}
