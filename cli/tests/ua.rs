//! `sipxfer ua` end to end: three processes on loopback perform a blind transfer driven by
//! stdin lines, every event checked in the JSON output; user mistakes give one clear line
//! (or an `error` event), never a backtrace.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

struct Ua {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
    addr: String,
    seen: Vec<Value>,
    unmatched: Vec<Value>,
}

impl Ua {
    fn start(args: &[&str]) -> Ua {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
            .args([
                "ua",
                "--bind",
                "127.0.0.1:0",
                "--json",
                "--exit-after",
                "30",
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not one JSON object per line: {line:?}: {e}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut ua = Ua {
            child,
            stdin,
            events,
            addr: String::new(),
            seen: Vec::new(),
            unmatched: Vec::new(),
        };
        let ready = ua.wait(|e| e["event"] == "ready");
        ua.addr = ready["address"].as_str().unwrap().to_string();
        ua
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The first event not matched yet that satisfies `f` (events of different calls may
    /// come in either order).
    fn wait(&mut self, f: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.unmatched.iter().position(&f) {
            return self.unmatched.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = self
                .events
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no such event; seen: {:#?}", self.seen));
            self.seen.push(e.clone());
            if f(&e) {
                return e;
            }
            self.unmatched.push(e);
        }
    }

    fn quit(mut self) -> Vec<Value> {
        self.send("quit");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success());
                break;
            }
            assert!(Instant::now() < deadline, "ua did not quit");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.seen.extend(self.events.try_iter());
        self.seen
    }
}

fn is(e: &Value, event: &str, call: u64, state: &str) -> bool {
    e["event"] == event && e["call"] == call && (state.is_empty() || e["state"] == state)
}

#[test]
fn blind_transfer_among_three_processes() {
    let mut bob = Ua::start(&["--user", "bob", "--auto-answer", "--accept-transfers"]);
    let mut carol = Ua::start(&["--user", "carol", "--auto-answer"]);
    let mut alice = Ua::start(&["--user", "alice"]);
    alice.send(&format!("call sip:bob@{}", bob.addr));
    let incoming = bob.wait(|e| e["event"] == "incoming_call");
    assert_eq!(incoming["call"], 1);
    assert_eq!(incoming["from"], format!("sip:alice@{}", alice.addr));
    alice.wait(|e| is(e, "call_state", 1, "confirmed"));
    alice.send(&format!("transfer 1 sip:carol@{}", carol.addr));
    alice.wait(|e| is(e, "call_state", 1, "held"));
    let t = bob.wait(|e| e["event"] == "incoming_transfer");
    assert_eq!(t["call"], 1);
    assert_eq!(t["target"], format!("sip:carol@{}", carol.addr));
    assert_eq!(t["referred_by"], format!("sip:alice@{}", alice.addr));
    assert_eq!(
        (t["action"].as_str(), t["new_call"].as_u64()),
        (Some("accepted"), Some(2))
    );
    let c = carol.wait(|e| e["event"] == "incoming_call");
    assert_eq!(c["referred_by"], format!("sip:alice@{}", alice.addr));
    carol.wait(|e| is(e, "call_state", 1, "confirmed"));
    let p = alice.wait(|e| e["event"] == "transfer_progress");
    assert_eq!(
        (p["call"].as_u64(), p["status"].as_u64()),
        (Some(1), Some(100))
    );
    let o = alice.wait(|e| e["event"] == "transfer_outcome");
    assert_eq!(
        (o["call"].as_u64(), o["outcome"].as_str()),
        (Some(1), Some("succeeded"))
    );
    let end = alice.wait(|e| is(e, "call_state", 1, "terminated"));
    assert_eq!(end["reason"], "local_hangup");
    bob.wait(|e| is(e, "transfer_outcome", 1, "") && e["outcome"] == "succeeded");
    bob.wait(|e| is(e, "call_state", 1, "terminated") && e["reason"] == "remote_hangup");
    bob.wait(|e| is(e, "call_state", 2, "confirmed"));
    bob.send("hangup 2");
    carol.wait(|e| is(e, "call_state", 1, "terminated") && e["reason"] == "remote_hangup");
    // Progress never goes backwards at the transferor.
    let statuses: Vec<u64> = alice
        .quit()
        .iter()
        .filter(|e| e["event"] == "transfer_progress")
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert!(
        statuses.windows(2).all(|w| w[0] <= w[1]) && statuses.last() == Some(&200),
        "{statuses:?}"
    );
    bob.quit();
    carol.quit();
}

#[test]
fn reject_transfers_and_bad_commands() {
    let mut bob = Ua::start(&["--auto-answer", "--reject-transfers", "603"]);
    let mut alice = Ua::start(&[]);
    alice.send("hangup 7");
    let e = alice.wait(|e| e["event"] == "error");
    assert_eq!(
        (e["command"].as_str(), e["message"].as_str()),
        (Some("hangup 7"), Some("unknown call 7"))
    );
    alice.send("call not-a-uri");
    assert_eq!(
        alice.wait(|e| e["event"] == "error")["command"],
        "call not-a-uri"
    );
    alice.send("dance");
    alice.wait(|e| {
        e["event"] == "error"
            && e["message"]
                .as_str()
                .unwrap()
                .starts_with("unknown command")
    });
    alice.send(&format!("call sip:bob@{}", bob.addr));
    alice.wait(|e| is(e, "call_state", 1, "confirmed"));
    alice.send("transfer 1 sip:carol@127.0.0.1:9");
    let t = bob.wait(|e| e["event"] == "incoming_transfer");
    assert_eq!(t["action"], "rejected");
    let o = alice.wait(|e| e["event"] == "transfer_outcome");
    assert_eq!(
        (o["outcome"].as_str(), o["status"].as_u64()),
        (Some("rejected"), Some(603))
    );
    // The call carries on (resumed after the hold), then ends.
    alice.wait(|e| is(e, "call_state", 1, "confirmed") && e["resumed"] == true);
    alice.send("hangup");
    bob.wait(|e| is(e, "call_state", 1, "terminated"));
    alice.quit();
    bob.quit();
}

#[test]
fn user_mistakes_are_one_line() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["ua", "--bind", "not-an-address"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("invalid value 'not-an-address' for '--bind <BIND>'"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    // A port in use.
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, err) = run(&["ua", "--bind", &addr, "--exit-after", "1"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err.trim(),
        format!("sipxfer ua: cannot bind {addr} (udp): Address already in use (os error 98)")
    );
    let (code, err) = run(&[
        "ua",
        "--bind",
        "127.0.0.1:0",
        "--pcap",
        "/nonexistent/dir/x.pcap",
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, err) = run(&[
        "ua",
        "--bind",
        "127.0.0.1:0",
        "--offer",
        "/nonexistent/offer.sdp",
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err.trim(),
        "sipxfer ua: cannot read /nonexistent/offer.sdp: No such file or directory (os error 2)"
    );
    // The TCP port beside a UDP ua's is taken: over UDP the ua listens on TCP too, on the
    // same port (RFC 3261 §18.2.1).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    if std::net::UdpSocket::bind(&addr).is_ok() {
        let (code, err) = run(&["ua", "--bind", &addr, "--exit-after", "1"]);
        assert_eq!(code, Some(1));
        assert_eq!(
            err.trim(),
            format!("sipxfer ua: cannot bind {addr} (tcp): Address already in use (os error 98)")
        );
    }
}

#[test]
fn attended_transfer_among_three_processes() {
    let mut bob = Ua::start(&["--user", "bob", "--auto-answer"]);
    let mut carol = Ua::start(&["--user", "carol", "--auto-answer"]);
    let mut alice = Ua::start(&["--user", "alice"]);
    alice.send(&format!("call sip:bob@{}", bob.addr));
    alice.wait(|e| is(e, "call_state", 1, "confirmed"));
    alice.send(&format!("call sip:carol@{}", carol.addr));
    alice.wait(|e| is(e, "call_state", 2, "confirmed"));
    alice.send("attended 1 1");
    let e = alice.wait(|e| e["event"] == "error");
    assert!(
        e["message"].as_str().unwrap().contains("consultation"),
        "{e}"
    );
    alice.send("attended 1 2");
    let t = bob.wait(|e| e["event"] == "incoming_transfer");
    assert_eq!(t["action"], "accepted");
    assert!(
        t["replaces"].is_string(),
        "the Refer-To names alice's call with carol: {t}"
    );
    let c = carol.wait(|e| e["event"] == "incoming_call" && e["call"] == 2);
    assert_eq!(
        c["replaces_call"], 1,
        "bob's call replaces carol's call 1: {c}"
    );
    carol.wait(|e| is(e, "call_state", 2, "confirmed"));
    carol.wait(|e| is(e, "call_state", 1, "terminated") && e["reason"] == "replaced");
    let o = alice.wait(|e| e["event"] == "transfer_outcome");
    assert_eq!(
        (o["call"].as_u64(), o["outcome"].as_str()),
        (Some(1), Some("succeeded"))
    );
    alice.wait(|e| is(e, "call_state", 2, "terminated") && e["reason"] == "remote_hangup");
    alice.wait(|e| is(e, "call_state", 1, "terminated") && e["reason"] == "local_hangup");
    bob.wait(|e| is(e, "call_state", 2, "confirmed"));
    bob.send("hangup 2");
    carol.wait(|e| is(e, "call_state", 2, "terminated"));
    alice.quit();
    bob.quit();
    carol.quit();
}

#[test]
fn a_call_without_an_offer_between_two_processes() {
    let mut bob = Ua::start(&["--user", "bob", "--auto-answer"]);
    let mut alice = Ua::start(&["--user", "alice", "--no-offer"]);
    alice.send(&format!("call sip:bob@{}", bob.addr));
    // Bob offers in its 200 (RFC 3261 §13.2.1); alice answers in the ACK (§13.2.2.4).
    let offer = alice.wait(|e| e["event"] == "remote_sdp");
    assert_eq!(
        (
            offer["call"].as_u64(),
            offer["kind"].as_str(),
            offer["status"].as_u64()
        ),
        (Some(1), Some("offer"), Some(200))
    );
    assert!(
        offer["media"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{offer}"
    );
    alice.wait(|e| is(e, "call_state", 1, "confirmed"));
    let answer = bob.wait(|e| e["event"] == "remote_sdp");
    assert_eq!(
        (
            answer["call"].as_u64(),
            answer["kind"].as_str(),
            answer.get("status")
        ),
        (Some(1), Some("answer"), None)
    );
    assert_eq!(answer["direction"], "sendrecv");
    bob.wait(|e| is(e, "call_state", 1, "confirmed"));
    // The answer came before the state it confirmed.
    let seen = &bob.seen;
    let at = |f: &dyn Fn(&Value) -> bool| seen.iter().position(f).unwrap();
    assert!(at(&|e| e["event"] == "remote_sdp") < at(&|e| is(e, "call_state", 1, "confirmed")));
    alice.send("hangup 1");
    bob.wait(|e| is(e, "call_state", 1, "terminated") && e["reason"] == "remote_hangup");
    alice.quit();
    bob.quit();
}
