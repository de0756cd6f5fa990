//! `sipxfer demo` end to end: on both transports and both runtimes it prints the ladders of
//! a blind and an attended transfer among three user agents over real loopback sockets and
//! exits 0.

use std::process::Command;

fn demo(transport: &str, runtime: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(["demo", "--transport", transport, "--runtime", runtime])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn check_ladder(out: &str, transport: &str) {
    let tp = transport.to_uppercase();
    assert!(out.starts_with(&format!(
        "sipxfer demo: blind transfer (RFC 5589 §6) over {tp}"
    )));
    let header = out.lines().nth(2).unwrap();
    for who in ["alice 127.0.0.1:", "bob 127.0.0.1:", "carol 127.0.0.1:"] {
        assert!(header.contains(who), "{header}");
    }
    // The story, in order: call, hold, REFER with its headers, 202, NOTIFYs with their
    // sipfrag, the INVITE to carol with Referred-By, BYE.
    let story = [
        "--- INVITE ---",
        "re-INVITE (hold)",
        "--- REFER ---",
        "Refer-To: <sip:carol@127.0.0.1:",
        "Referred-By: <sip:alice@127.0.0.1:",
        "202 Accepted (REFER)",
        "sipfrag: SIP/2.0 100 Trying",
        "Referred-By: <sip:alice@127.0.0.1:",
        "Subscription-State: terminated;reason=noresource",
        "--- BYE ---",
    ];
    let mut at = 0;
    for s in story {
        let found = out[at..]
            .find(s)
            .unwrap_or_else(|| panic!("{s:?} after byte {at}:\n{out}"));
        at += found + s.len();
    }
    assert!(out.contains("blind transfer alice -> bob -> carol: succeeded at all three parties"));
    assert!(
        out.contains("NOTIFY sipfrag statuses [100, 180, 200]"),
        "{out}"
    );
    // Then the attended one: alice calls carol, REFERs bob with Replaces, bob's INVITE
    // replaces alice's call at carol, carol BYEs alice.
    let attended = &out[out
        .find(&format!(
            "sipxfer demo: attended transfer (RFC 5589 §7, RFC 3891) over {tp}"
        ))
        .expect("the attended transfer follows")..];
    let story = [
        "--- REFER ---",
        "Refer-To: <sip:127.0.0.1:",
        "?Replaces=",
        "Replaces: ",
        "<-------------------------- BYE ---------------------------|",
        "attended transfer alice -> bob -> carol: succeeded at all three parties",
        "it replaced the consultation with alice: ended (Replaced)",
    ];
    let mut at = 0;
    for s in story {
        let found = attended[at..]
            .find(s)
            .unwrap_or_else(|| panic!("{s:?} after byte {at}:\n{attended}"));
        at += found + s.len();
    }
}

#[test]
fn demo_udp_tokio() {
    check_ladder(&demo("udp", "tokio"), "udp");
}

#[test]
fn demo_tcp_tokio() {
    check_ladder(&demo("tcp", "tokio"), "tcp");
}

#[test]
fn demo_udp_async_std() {
    check_ladder(&demo("udp", "async-std"), "udp");
}

#[test]
fn demo_tcp_async_std() {
    check_ladder(&demo("tcp", "async-std"), "tcp");
}
