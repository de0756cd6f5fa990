//! Transfer against a scripted peer, for what a simulated sipxfer peer never does: a REFER
//! challenged with 407 (RFC 3261 §22.3) whose subscription must follow the new CSeq, and a
//! transferor that never refreshes the refer subscription (RFC 6665 §4.2.1.2: the notifier
//! ends it with `reason=timeout`, the transfer call carries on).

use sipxfer::auth::Credentials;
use sipxfer::msg::{Message, Uri};
use sipxfer::{BlindOptions, CallState, Event, Instant, Transfer, TransferOutcome};
use sipxfer_tests::flows::{parse, reply, Manual};

const B: &str = "10.0.0.2:5060";
const C: &str = "10.0.0.3:5060";
const REALM: &str = "http-auth@example.org";
const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";

/// The value of header `name` as emitted.
fn header(m: &Message, name: &str) -> String {
    let text = String::from_utf8_lossy(&m.to_bytes()).to_string();
    text.split("\r\n")
        .find_map(|h| h.strip_prefix(&format!("{name}: ")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

fn msg(text: String) -> Message {
    parse(&bytes::Bytes::from(text))
}

/// A request from the scripted peer at `peer` in the dialog `invite` (from 10.0.0.1) set up,
/// the peer's tag being `bob`.
fn in_dialog(
    invite: &Message,
    peer: &str,
    method: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) -> Message {
    msg(format!(
        "{method} sip:10.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {peer};branch=z9hG4bK-{method}-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:bob@{peer}>;tag=bob\r\n\
         To: {}\r\n\
         Call-ID: {}\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:bob@{peer}>\r\n\
         {extra}\
         Content-Length: {}\r\n\r\n{body}",
        header(invite, "From"),
        header(invite, "Call-ID"),
        body.len()
    ))
}

fn notify(invite: &Message, cseq: u32, event: &str, state: &str, frag: &str) -> Message {
    in_dialog(
        invite,
        B,
        "NOTIFY",
        cseq,
        &format!(
            "Event: {event}\r\nSubscription-State: {state}\r\nContent-Type: message/sipfrag\r\n"
        ),
        &format!("{frag}\r\n"),
    )
}

/// Our endpoint as the transferor: it calls the scripted transferee at B's address, which
/// answers; returns it, the call and its INVITE. The ACK is left in its output.
fn transferor(
    seed: u8,
    config: impl FnOnce(&mut sipxfer::Config),
) -> (Manual, sipxfer::CallId, Message) {
    let mut a = Manual::new(seed, config);
    let uri = Uri::parse("sip:bob@10.0.0.2:5060").unwrap();
    let call = a.ep.call(a.now, uri, Default::default()).unwrap();
    let invite = a.sent().remove(0);
    a.recv(
        B,
        &reply(&invite, 200, "bob", Some("sip:bob@10.0.0.2:5060")),
    );
    (a, call, invite)
}

/// The transferor transfers `call` to carol without holding it first; returns the transfer
/// and the REFER it sent.
fn transfer_to_carol(a: &mut Manual, call: sipxfer::CallId) -> (sipxfer::TransferId, Message) {
    let options = BlindOptions {
        hold: false,
        ..Default::default()
    };
    let target = Uri::parse("sip:carol@10.0.0.3").unwrap();
    let t =
        a.ep.transfer(a.now, call, Transfer::Blind { target, options })
            .unwrap();
    (t, a.sent().remove(0))
}

#[test]
fn refer_challenged_407_then_accepted_keeps_the_subscription() {
    let (mut a, call, invite) = transferor(1, |c| {
        c.credentials
            .push(Credentials::new("Mufasa", "Circle of Life"));
    });
    assert_eq!(a.sent()[0].method().unwrap().as_str(), "ACK");

    let (t, refer) = transfer_to_carol(&mut a, call);
    assert_eq!(refer.cseq().unwrap().seq, 2);
    assert_eq!(header(&refer, "Refer-To"), "<sip:carol@10.0.0.3>");

    // A proxy challenges the REFER: it goes again with credentials and CSeq 3.
    let mut challenge = reply(&refer, 407, "proxy", None);
    challenge.headers.push(sipxfer::msg::Header::Raw {
        name: sipxfer::msg::HeaderName::ProxyAuthenticate,
        value: format!("Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{NONCE}\"")
            .as_str()
            .into(),
    });
    a.recv(B, &challenge);
    let out = a.sent();
    assert_eq!(out.len(), 1, "{out:?}");
    let refer2 = &out[0];
    assert_eq!(refer2.method().unwrap().as_str(), "REFER");
    assert_eq!(refer2.cseq().unwrap().seq, 3);
    assert_eq!(header(refer2, "Refer-To"), "<sip:carol@10.0.0.3>");
    assert!(header(refer2, "Proxy-Authorization").starts_with("Digest username=\"Mufasa\""));
    assert_ne!(
        refer2.top_via().unwrap().branch(),
        refer.top_via().unwrap().branch()
    );

    // The first NOTIFY overtakes the 202 (RFC 3515 §2.4.4 allows it): it names the new CSeq.
    a.recv(
        B,
        &notify(
            &invite,
            1,
            "refer;id=3",
            "active;expires=60",
            "SIP/2.0 100 Trying",
        ),
    );
    assert_eq!(a.sent()[0].status(), Some(200));
    // One for the challenged CSeq matches nothing: 481 (RFC 6665 §4.1.3).
    a.recv(
        B,
        &notify(
            &invite,
            2,
            "refer;id=2",
            "active;expires=60",
            "SIP/2.0 100 Trying",
        ),
    );
    assert_eq!(a.sent()[0].status(), Some(481));
    // Bad NOTIFYs for the live subscription get the RFC's answer and change nothing.
    let bad = [
        (
            notify(&invite, 3, "refer;id=3", "active", "no status line"),
            400,
        ),
        (
            notify(&invite, 4, "refer;id=3", "active", "SIP/2.0 2OO OK"),
            400,
        ),
        (
            notify(&invite, 5, "presence", "active", "SIP/2.0 200 OK"),
            489,
        ),
        (
            in_dialog(
                &invite,
                B,
                "NOTIFY",
                6,
                "Event: refer;id=3\r\n",
                "SIP/2.0 200 OK\r\n",
            ),
            400,
        ),
        (
            in_dialog(
                &invite,
                B,
                "NOTIFY",
                7,
                "Subscription-State: active\r\n",
                "SIP/2.0 200 OK\r\n",
            ),
            400,
        ),
    ];
    for (m, code) in bad {
        a.recv(B, &m);
        let out = a.sent();
        assert_eq!(out.len(), 1, "{m:?}");
        assert_eq!(out[0].status(), Some(code), "{m:?}");
    }
    a.recv(B, &reply(refer2, 202, "bob", None));
    assert!(a.sent().is_empty());
    a.recv(
        B,
        &notify(
            &invite,
            8,
            "refer;id=3",
            "terminated;reason=noresource",
            "SIP/2.0 200 OK",
        ),
    );
    let out = a.sent();
    assert_eq!(out[0].status(), Some(200));
    // Success: A BYEs the original call (RFC 5589 §6).
    assert_eq!(out[1].method().unwrap().as_str(), "BYE");
    assert_eq!(out[1].cseq().unwrap().seq, 4);
    a.recv(B, &reply(&out[1], 200, "bob", None));

    let events = a.events();
    let progress: Vec<u16> = events
        .iter()
        .filter_map(|e| match e {
            Event::TransferProgress {
                transfer, status, ..
            } if *transfer == t => Some(*status),
            Event::AuthFailed { .. } => panic!("{e:?}"),
            _ => None,
        })
        .collect();
    assert_eq!(progress, [100, 200]);
    let outcomes: Vec<TransferOutcome> = events
        .iter()
        .filter_map(|e| match e {
            Event::TransferOutcome { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, [TransferOutcome::Succeeded]);
    assert!(matches!(
        events.last(),
        Some(Event::CallState {
            state: CallState::Terminated { .. },
            ..
        })
    ));
    a.wait_until(a.now + sipxfer::Duration::from_secs(64));
    let s = a.ep.stats();
    assert_eq!(
        (s.transactions, s.timers, s.dialogs, s.subscriptions),
        (0, 0, 0, 0),
        "{s:?}"
    );
}

/// A request from the scripted transferor (at B's address) in the dialog `expiry-test` with
/// our endpoint, whose tag is `tag`.
fn from_a(tag: &str, method: &str, cseq: u32, extra: &str) -> Message {
    msg(format!(
        "{method} sip:10.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {B};branch=z9hG4bK-{method}-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@{B}>;tag=alice\r\n\
         To: <sip:me@10.0.0.1:5060>;tag={tag}\r\n\
         Call-ID: expiry-test\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:alice@{B}>\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    ))
}

/// The scripted transferor REFERs our endpoint (in the dialog with `tag`, CSeq `cseq`) to
/// carol; returns the transfer our endpoint reports.
fn refer_to_carol(b: &mut Manual, tag: &str, cseq: u32) -> sipxfer::TransferId {
    refer_with(b, tag, cseq, "Refer-To: <sip:carol@10.0.0.3>\r\n")
}

/// [`refer_to_carol`] with the REFER's headers `extra` (its Refer-To among them).
fn refer_with(b: &mut Manual, tag: &str, cseq: u32, extra: &str) -> sipxfer::TransferId {
    b.recv(B, &from_a(tag, "REFER", cseq, extra));
    b.events()
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingTransfer { transfer, .. } => Some(transfer),
            _ => None,
        })
        .expect("IncomingTransfer")
}

/// Our endpoint as the transferee: the scripted transferor calls it and REFERs it to
/// carol; it accepts. Returns the endpoint, its tag, the original call, the transfer, the
/// call to the target, the INVITE to the target and the first NOTIFY (not yet answered).
fn transferee() -> (
    Manual,
    String,
    sipxfer::CallId,
    sipxfer::TransferId,
    sipxfer::CallId,
    Message,
    Message,
) {
    let (mut b, tag, call) = answered(2);
    let transfer = refer_to_carol(&mut b, &tag, 2);
    let bc = b.ep.accept_transfer(b.now, transfer, None).unwrap();
    let out = b.sent();
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[0].status(), Some(202));
    let n1 = out[1].clone();
    assert_eq!(header(&n1, "Subscription-State"), "active;expires=60");
    assert_eq!(String::from_utf8_lossy(&n1.body), "SIP/2.0 100 Trying\r\n");
    let to_c = out[2].clone();
    assert_eq!(to_c.method().unwrap().as_str(), "INVITE");
    (b, tag, call, transfer, bc, to_c, n1)
}

#[test]
fn unrefreshed_subscription_expires_the_transfer_call_carries_on() {
    // Our endpoint is the transferee (10.0.0.1); the scripted transferor is at B's address
    // and never refreshes; the scripted target at C's address rings for 70 s, then answers.
    let (mut b, tag, call, transfer, bc, to_c, n1) = transferee();
    b.recv(B, &reply(&n1, 200, "alice", None));
    b.recv(
        C,
        &reply(&to_c, 180, "carol", Some("sip:carol@10.0.0.3:5060")),
    );
    let n2 = b.sent().remove(0);
    assert_eq!(header(&n2, "Subscription-State"), "active;expires=60");
    assert_eq!(String::from_utf8_lossy(&n2.body), "SIP/2.0 180 Ringing\r\n");
    b.recv(B, &reply(&n2, 200, "alice", None));

    // 60 s after the 202 and no refresh: a final NOTIFY with the current state.
    b.wait_until(Instant::from_secs(59));
    assert!(b.sent().is_empty());
    b.wait_until(Instant::from_secs(61));
    let n3 = b.sent().remove(0);
    assert_eq!(
        header(&n3, "Subscription-State"),
        "terminated;reason=timeout"
    );
    assert_eq!(String::from_utf8_lossy(&n3.body), "SIP/2.0 180 Ringing\r\n");
    b.recv(B, &reply(&n3, 200, "alice", None));
    assert_eq!(b.ep.stats().subscriptions, 0);
    // A refresh now finds no subscription: 403, as for any refer SUBSCRIBE matching none.
    b.recv(
        B,
        &from_a(&tag, "SUBSCRIBE", 3, "Event: refer;id=2\r\nExpires: 60\r\n"),
    );
    assert_eq!(b.sent()[0].status(), Some(403));
    // Only the subscription ended: both calls are up, and C answering still completes the
    // transfer at B, which ends the original call after the grace period (no NOTIFY).
    assert!(b.ep.call_is_live(call) && b.ep.call_is_live(bc));
    b.wait_until(Instant::from_secs(70));
    b.recv(
        C,
        &reply(&to_c, 200, "carol", Some("sip:carol@10.0.0.3:5060")),
    );
    let out = b.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].method().unwrap().as_str(), "ACK");
    b.wait_until(Instant::from_millis(71_900));
    assert!(b.sent().is_empty(), "the grace period is 2 s");
    b.wait_until(Instant::from_millis(72_200));
    let out = b.sent();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].method().unwrap().as_str(), "BYE");
    assert_eq!(header(&out[0], "Call-ID"), "expiry-test");
    b.recv(B, &reply(&out[0], 200, "alice", None));
    let events = b.events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::TransferOutcome { transfer: t, outcome: TransferOutcome::Succeeded } if *t == transfer
    )));
    assert!(b.ep.call_is_live(bc) && !b.ep.call_is_live(call));
}

/// RFC 6665 §4.2.2: nothing follows the NOTIFY that terminates a subscription. The
/// subscription expires and its final NOTIFY (`reason=timeout`) is in flight, unanswered, when
/// the target answers: the transferee sends the ACK, and no second final NOTIFY, neither then
/// nor when the first is answered.
#[test]
fn outcome_after_the_expiry_notify_in_flight_sends_no_second_final() {
    let (mut b, _tag, _call, transfer, bc, to_c, n1) = transferee();
    b.recv(B, &reply(&n1, 200, "alice", None));
    b.recv(
        C,
        &reply(&to_c, 180, "carol", Some("sip:carol@10.0.0.3:5060")),
    );
    let ringing = b.sent().remove(0);
    b.recv(B, &reply(&ringing, 200, "alice", None));
    b.wait_until(Instant::from_secs(61));
    let n2 = b.sent().remove(0);
    assert_eq!(
        header(&n2, "Subscription-State"),
        "terminated;reason=timeout"
    );
    assert_eq!(String::from_utf8_lossy(&n2.body), "SIP/2.0 180 Ringing\r\n");
    // Unanswered yet: the target answers.
    b.recv(
        C,
        &reply(&to_c, 200, "carol", Some("sip:carol@10.0.0.3:5060")),
    );
    let out = b.sent();
    assert_eq!(out.len(), 1, "only the ACK: {out:?}");
    assert_eq!(out[0].method().unwrap().as_str(), "ACK");
    b.recv(B, &reply(&n2, 200, "alice", None));
    let out = b.sent();
    assert!(out.is_empty(), "nothing after the final NOTIFY: {out:?}");
    assert_eq!(b.ep.stats().subscriptions, 0);
    // The transfer still completes at B: the original call ends after the grace period.
    b.wait_until(Instant::from_millis(63_200));
    let out = b.sent();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].method().unwrap().as_str(), "BYE");
    b.recv(B, &reply(&out[0], 200, "alice", None));
    assert!(b.events().iter().any(|e| matches!(
        e,
        Event::TransferOutcome { transfer: t, outcome: TransferOutcome::Succeeded } if *t == transfer
    )));
    assert!(b.ep.call_is_live(bc));
}

#[test]
fn notify_answered_481_ends_only_the_subscription() {
    // The transferor answers the first NOTIFY 481 (it lost the subscription): no more NOTIFYs,
    // the dialog stays (RFC 5057 §5.2), and the transfer call — answered only after the
    // subscription would have expired — completes at B.
    let (mut b, tag, call, transfer, bc, to_c, n1) = transferee();
    b.recv(B, &reply(&n1, 481, "alice", None));
    assert_eq!(b.ep.stats().subscriptions, 0);
    b.recv(
        C,
        &reply(&to_c, 180, "carol", Some("sip:carol@10.0.0.3:5060")),
    );
    assert!(b.sent().is_empty(), "no NOTIFY after the 481");
    // The INVITE dialog with the transferor still answers in-dialog requests.
    b.recv(B, &from_a(&tag, "OPTIONS", 3, ""));
    assert_eq!(b.sent()[0].status(), Some(200));
    assert!(b.ep.call_is_live(call));
    // The target rings on past the subscription's 60 s: nothing changes.
    b.wait_until(Instant::from_secs(70));
    assert!(b.sent().is_empty());
    assert!(b.ep.call_is_live(call) && b.ep.call_is_live(bc));
    b.recv(
        C,
        &reply(&to_c, 200, "carol", Some("sip:carol@10.0.0.3:5060")),
    );
    let out = b.sent();
    assert_eq!(out.len(), 1, "only the ACK: {out:?}");
    assert_eq!(out[0].method().unwrap().as_str(), "ACK");
    b.wait_until(b.now + sipxfer::Duration::from_millis(2_100));
    let out = b.sent();
    assert_eq!(out[0].method().unwrap().as_str(), "BYE");
    b.recv(B, &reply(&out[0], 200, "alice", None));
    assert!(b.events().iter().any(|e| matches!(
        e,
        Event::TransferOutcome { transfer: t, outcome: TransferOutcome::Succeeded } if *t == transfer
    )));
    assert!(b.ep.call_is_live(bc) && !b.ep.call_is_live(call));
}

#[test]
fn subscription_ending_without_a_final_status_fails_the_transfer() {
    // RFC 3515 §2.4.5 / issue 5: a subscription that ends on a provisional status is a
    // failure; the transferor keeps the call.
    let (mut a, call, invite) = transferor(3, |_| {});
    a.sent();
    let (_, refer) = transfer_to_carol(&mut a, call);
    a.recv(B, &reply(&refer, 202, "bob", None));
    a.recv(
        B,
        &notify(
            &invite,
            1,
            "refer",
            "active;expires=60",
            "SIP/2.0 100 Trying",
        ),
    );
    a.recv(
        B,
        &notify(
            &invite,
            2,
            "refer",
            "active;expires=60",
            "SIP/2.0 180 Ringing",
        ),
    );
    a.recv(
        B,
        &notify(
            &invite,
            3,
            "refer",
            "terminated;reason=timeout",
            "SIP/2.0 180 Ringing",
        ),
    );
    let out = a.sent();
    assert_eq!(
        out.iter().map(|m| m.status()).collect::<Vec<_>>(),
        [Some(200), Some(200), Some(200)],
        "three 200s and no BYE"
    );
    let events = a.events();
    let outcomes: Vec<TransferOutcome> = events
        .iter()
        .filter_map(|e| match e {
            Event::TransferOutcome { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, [TransferOutcome::Failed(180)]);
    assert!(a.ep.call_is_live(call));
    // No refresh is sent for an ended subscription.
    a.wait_until(a.now + sipxfer::Duration::from_secs(120));
    assert!(a.sent().is_empty());
    assert_eq!(a.ep.stats().subscriptions, 0);
}

/// Our endpoint answers the scripted transferor's INVITE; returns it, its tag and the call.
fn answered(seed: u8) -> (Manual, String, sipxfer::CallId) {
    answered_with(seed, "")
}

/// [`answered`], the INVITE carrying the fields `extra` too.
fn answered_with(seed: u8, extra: &str) -> (Manual, String, sipxfer::CallId) {
    // Subscriptions of 60 s (the default is 600), so that the tests of their expiry run past it.
    let mut b = Manual::new(seed, |c| c.refer_expires = 60);
    let invite = msg(format!(
        "INVITE sip:me@10.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {B};branch=z9hG4bK-inv\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@{B}>;tag=alice\r\n\
         To: <sip:me@10.0.0.1:5060>\r\n\
         Call-ID: expiry-test\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@{B}>\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    ));
    b.recv(B, &invite);
    let Some(Event::IncomingCall { call, .. }) = b.events().into_iter().next() else {
        panic!("no call");
    };
    b.ep.answer(b.now, call, None).unwrap();
    let ok = b.sent().pop().unwrap();
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    b.recv(B, &from_a(&tag, "ACK", 1, ""));
    (b, tag, call)
}

#[test]
fn refer_left_unanswered_is_answered_when_the_dialog_ends() {
    // A REFER the application has not decided on yet: a SUBSCRIBE finds no subscription
    // (403, no NOTIFY), a bad `id` is 400, and a BYE ends the dialog — the REFER then gets
    // 487, so no transaction is left behind.
    let (mut b, tag, call) = answered(4);
    b.recv(
        B,
        &from_a(&tag, "REFER", 2, "Refer-To: <sip:carol@10.0.0.3>\r\n"),
    );
    assert!(
        b.sent().is_empty(),
        "nothing answered before the application decides"
    );
    b.recv(
        B,
        &from_a(&tag, "SUBSCRIBE", 3, "Event: refer\r\nExpires: 0\r\n"),
    );
    let out = b.sent();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].status(), Some(403));
    b.recv(B, &from_a(&tag, "SUBSCRIBE", 4, "Event: refer;id=abc\r\n"));
    assert_eq!(b.sent()[0].status(), Some(400));
    b.recv(B, &from_a(&tag, "BYE", 5, ""));
    let mut codes: Vec<(String, Option<u16>)> = b
        .sent()
        .iter()
        .map(|m| (header(m, "CSeq"), m.status()))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("2 REFER".to_string(), Some(487)),
            ("5 BYE".to_string(), Some(200))
        ]
    );
    assert!(!b.ep.call_is_live(call));
    b.wait_until(b.now + sipxfer::Duration::from_secs(64));
    let s = b.ep.stats();
    assert_eq!(
        (s.transactions, s.timers, s.subscriptions),
        (0, 0, 0),
        "{s:?}"
    );
}

#[test]
fn a_refused_refer_still_counts_so_the_next_notifies_carry_id() {
    // RFC 3515 §2.4.6: the NOTIFYs of every REFER after the dialog's first carry `id`, even
    // when the first was refused.
    let (mut b, tag, _) = answered(4);
    b.recv(
        B,
        &from_a(
            &tag,
            "REFER",
            2,
            "Refer-To: <sip:carol@10.0.0.3>\r\nRefer-To: <sip:dave@10.0.0.3>\r\n",
        ),
    );
    assert_eq!(b.sent()[0].status(), Some(400));
    let transfer = refer_to_carol(&mut b, &tag, 3);
    b.ep.accept_transfer(b.now, transfer, None).unwrap();
    let out = b.sent();
    assert_eq!(out[0].status(), Some(202));
    assert_eq!(header(&out[1], "Event"), "refer;id=3");
}

#[test]
fn an_id_less_notify_never_matches_a_later_refer() {
    // The first REFER is cancelled before its 202; a second REFER follows. An id-less NOTIFY
    // belongs to the first REFER of the dialog (RFC 3515 §2.4.6): 481, not the second's.
    let (mut a, call, invite) = transferor(5, |_| {});
    a.sent();
    let (t1, refer1) = transfer_to_carol(&mut a, call);
    a.ep.cancel_transfer(a.now, t1).unwrap();
    let unsubscribe = a.sent().remove(0);
    assert_eq!(header(&unsubscribe, "Event"), "refer;id=2");
    assert_eq!(header(&unsubscribe, "Expires"), "0");
    let (t2, refer2) = transfer_to_carol(&mut a, call);
    assert_eq!(refer2.cseq().unwrap().seq, 4);
    a.recv(B, &reply(&refer1, 202, "bob", None));
    a.recv(B, &reply(&refer2, 202, "bob", None));
    a.sent();
    a.recv(
        B,
        &notify(
            &invite,
            1,
            "refer",
            "terminated;reason=noresource",
            "SIP/2.0 200 OK",
        ),
    );
    assert_eq!(a.sent()[0].status(), Some(481));
    a.recv(
        B,
        &notify(
            &invite,
            2,
            "refer;id=4",
            "terminated;reason=noresource",
            "SIP/2.0 486 Busy Here",
        ),
    );
    assert_eq!(a.sent()[0].status(), Some(200));
    let outcomes: Vec<(sipxfer::TransferId, TransferOutcome)> = a
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::TransferOutcome { transfer, outcome } => Some((transfer, outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (t1, TransferOutcome::Cancelled),
            (t2, TransferOutcome::Failed(486))
        ]
    );
    assert!(a.ep.call_is_live(call));
}

/// linphone 5.1 as transferee: NOTIFYs without `id` and a final `Subscription-State:
/// terminated;reason=reason=noresource` (a value the grammar does not allow). Liberal in what
/// it accepts, the transferor answers it 200 and the transfer succeeds.
#[test]
fn a_final_notify_with_a_malformed_reason_still_ends_the_transfer() {
    let (mut a, call, invite) = transferor(7, |_| {});
    a.sent();
    let (t, refer) = transfer_to_carol(&mut a, call);
    a.recv(B, &reply(&refer, 202, "bob", None));
    a.recv(
        B,
        &notify(&invite, 1, "refer", "active", "SIP/2.0 100 Trying"),
    );
    let last = notify(
        &invite,
        2,
        "refer",
        "terminated;reason=reason=noresource",
        "SIP/2.0 200 Ok",
    );
    a.recv(B, &last);
    let out = a.sent();
    let answers: Vec<_> = out.iter().filter_map(|m| m.status()).collect();
    assert_eq!(answers, [200, 200], "both NOTIFYs answered 200");
    assert_eq!(out.last().unwrap().method().unwrap().as_str(), "BYE");
    let outcome = a.events().into_iter().find_map(|e| match e {
        Event::TransferOutcome { transfer, outcome } if transfer == t => Some(outcome),
        _ => None,
    });
    assert_eq!(outcome, Some(TransferOutcome::Succeeded));
}

/// The transferee accepted a REFER whose transferor then hangs up (RFC 5589 §6.1 allows the
/// BYE right after the 202) while nothing is subscribed — `Refer-Sub: false` (RFC 4488), or a
/// subscription a 481 ended: the call to the target goes on, and its outcome still reaches
/// the application as one `TransferOutcome` (it was dropped with the original call).
#[test]
fn transferee_outcome_reported_after_the_original_call_ends_without_a_subscription() {
    for (case, no_sub) in [("Refer-Sub: false", true), ("481 to the NOTIFY", false)] {
        for answered_by_c in [true, false] {
            let (mut b, tag, call) = answered(6);
            let extra = if no_sub {
                "Refer-To: <sip:carol@10.0.0.3>\r\nRefer-Sub: false\r\n"
            } else {
                "Refer-To: <sip:carol@10.0.0.3>\r\n"
            };
            let transfer = refer_with(&mut b, &tag, 2, extra);
            let bc = b.ep.accept_transfer(b.now, transfer, None).unwrap();
            let out = b.sent();
            assert_eq!(out[0].status(), Some(202), "{case}");
            let to_c = out
                .iter()
                .find(|m| m.method().is_some_and(|m| m.as_str() == "INVITE"))
                .expect("the INVITE to the target")
                .clone();
            if no_sub {
                assert_eq!(header(&out[0], "Refer-Sub"), "false", "{case}");
                assert_eq!(out.len(), 2, "{case}: no NOTIFY: {out:?}");
            } else {
                let n1 = out
                    .iter()
                    .find(|m| m.method().is_some_and(|m| m.as_str() == "NOTIFY"))
                    .expect("the first NOTIFY");
                b.recv(B, &reply(n1, 481, "alice", None));
                assert_eq!(b.ep.stats().subscriptions, 0, "{case}");
            }
            b.recv(
                C,
                &reply(&to_c, 180, "carol", Some("sip:carol@10.0.0.3:5060")),
            );
            assert!(b.sent().is_empty(), "{case}: nothing to report to");
            // The transferor hangs up.
            b.recv(B, &from_a(&tag, "BYE", 3, ""));
            let out = b.sent();
            assert_eq!(out[0].status(), Some(200), "{case}");
            assert!(!b.ep.call_is_live(call));
            let events = b.events();
            assert!(
                !events
                    .iter()
                    .any(|e| matches!(e, Event::TransferOutcome { .. })),
                "{case}: not yet: {events:?}"
            );
            let code = if answered_by_c { 200 } else { 486 };
            b.recv(
                C,
                &reply(&to_c, code, "carol", Some("sip:carol@10.0.0.3:5060")),
            );
            let out = b.sent();
            assert_eq!(out.len(), 1, "{case}: only the ACK: {out:?}");
            assert_eq!(out[0].method().unwrap().as_str(), "ACK", "{case}");
            let outcome = if answered_by_c {
                TransferOutcome::Succeeded
            } else {
                TransferOutcome::Failed(486)
            };
            let events = b.events();
            let outcomes: Vec<_> = events
                .iter()
                .filter_map(|e| match e {
                    Event::TransferOutcome {
                        transfer: t,
                        outcome,
                    } if *t == transfer => Some(*outcome),
                    _ => None,
                })
                .collect();
            assert_eq!(outcomes, [outcome], "{case}: {events:?}");
            assert_eq!(b.ep.call_is_live(bc), answered_by_c, "{case}");
            // Nothing is left of the transfer once the grace period is over (no BYE: the
            // original call is gone already).
            let later = b.now + std::time::Duration::from_secs(3);
            b.wait_until(later);
            let out = b.sent();
            assert!(
                out.iter()
                    .all(|m| m.method().is_none_or(|m| m.as_str() != "BYE")),
                "{case}: {out:?}"
            );
            assert_eq!(b.ep.stats().subscriptions, 0, "{case}");
        }
    }
}

/// The BYE among what `m` sent.
fn sent_bye(m: &mut Manual) -> Message {
    m.sent()
        .into_iter()
        .find(|m| m.method().is_some_and(|m| m.as_str() == "BYE"))
        .expect("the BYE")
}

/// Forty proxies' Record-Route values: a route set whose Route field does not fit the stack
/// buffer the requests within a dialog are written in.
fn proxies() -> Vec<String> {
    (0..40)
        .map(|k| format!("<sip:proxy{k}.example.com;lr>"))
        .collect()
}

/// Requests within a dialog whose head is too long to be written straight from the dialog
/// (RFC 3261 §12.2.1.1 with a long route set) are built instead, and go out whole: the
/// transferee's NOTIFY and BYE (Route in the Record-Route's order, §12.1.1), the
/// transferor's REFER and BYE (in reverse order, §12.1.2), each with its own fields, body and
/// CSeq.
#[test]
fn requests_too_long_to_write_from_the_dialog_are_built() {
    let routes = proxies();
    let record_route: String = routes
        .iter()
        .map(|r| format!("Record-Route: {r}\r\n"))
        .collect();

    // Our endpoint as the transferee (UAS of the call).
    let (mut b, tag, call) = answered_with(9, &record_route);
    let transfer = refer_to_carol(&mut b, &tag, 2);
    b.ep.accept_transfer(b.now, transfer, None).unwrap();
    let out = b.sent();
    assert_eq!(out[0].status(), Some(202));
    let n1 = &out[1];
    assert!(n1.to_bytes().len() > 1024, "not a head too long to write");
    assert_eq!(n1.method().unwrap().as_str(), "NOTIFY");
    assert_eq!(header(n1, "Route"), routes.join(", "));
    let seq = n1.cseq().unwrap().seq;
    assert_eq!(header(n1, "CSeq"), format!("{seq} NOTIFY"));
    assert_eq!(header(n1, "Event"), "refer");
    assert_eq!(header(n1, "Subscription-State"), "active;expires=60");
    assert_eq!(header(n1, "Contact"), "<sip:10.0.0.1:5060>");
    assert_eq!(String::from_utf8_lossy(&n1.body), "SIP/2.0 100 Trying\r\n");
    assert_eq!(
        n1.request_uri().unwrap().to_string(),
        format!("sip:alice@{B}")
    );
    b.recv(B, &reply(n1, 200, "alice", None));
    b.ep.hangup(b.now, call).unwrap();
    let bye = sent_bye(&mut b);
    assert_eq!(header(&bye, "Route"), routes.join(", "));
    assert_eq!(header(&bye, "CSeq"), format!("{} BYE", seq + 1));

    // Our endpoint as the transferor (UAC of the call): the 2xx's Record-Route.
    let mut a = Manual::new(10, |_| {});
    let uri = Uri::parse("sip:bob@10.0.0.2:5060").unwrap();
    let call = a.ep.call(a.now, uri, Default::default()).unwrap();
    let invite = a.sent().remove(0);
    let ok = reply(&invite, 200, "bob", Some("sip:bob@10.0.0.2:5060"));
    let ok = String::from_utf8(ok.to_bytes().to_vec()).unwrap();
    a.recv(
        B,
        &msg(ok.replacen(
            "Content-Length:",
            &format!("{record_route}Content-Length:"),
            1,
        )),
    );
    let reversed: Vec<String> = routes.iter().rev().cloned().collect();
    assert_eq!(header(&a.sent()[0], "Route"), reversed.join(", "));
    let (_, refer) = transfer_to_carol(&mut a, call);
    assert!(
        refer.to_bytes().len() > 1024,
        "not a head too long to write"
    );
    assert_eq!(refer.method().unwrap().as_str(), "REFER");
    assert_eq!(header(&refer, "Route"), reversed.join(", "));
    assert_eq!(header(&refer, "CSeq"), "2 REFER");
    assert_eq!(header(&refer, "Refer-To"), "<sip:carol@10.0.0.3>");
    assert!(header(&refer, "Referred-By").starts_with("<sip:"));
    assert_eq!(header(&refer, "Contact"), "<sip:10.0.0.1:5060>");
    a.recv(B, &reply(&refer, 202, "bob", None));
    a.ep.hangup(a.now, call).unwrap();
    let bye = sent_bye(&mut a);
    assert_eq!(header(&bye, "Route"), reversed.join(", "));
    assert_eq!(header(&bye, "CSeq"), "3 BYE");
}

/// The transferee's call to the target is redirected (RFC 3261 §8.1.3.4): the target's 302
/// names dave, who answers. The transferor hears the progress of the call that succeeds —
/// 100, then dave's 180 and 200 — and nothing of the 302, which ended no attempt of the
/// transfer: the call to the target went on (RFC 3515 §2.4.5: the NOTIFYs report the
/// referenced request's progress).
#[test]
fn the_transferees_call_follows_the_targets_302() {
    let (mut b, _tag, call, transfer, bc, to_c, n1) = transferee();
    b.recv(B, &reply(&n1, 200, "alice", None));
    let mut moved = reply(&to_c, 302, "carol", None);
    moved
        .headers
        .push(sipxfer::msg::Header::Contact(sipxfer::msg::Contact::Addrs(
            [sipxfer::msg::NameAddr::new(
                Uri::parse("sip:dave@10.0.0.4:5060").unwrap(),
            )]
            .into_iter()
            .collect(),
        )));
    b.recv(C, &moved);
    let out = b.sent();
    let what: Vec<_> = out
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m.method().unwrap().as_str(),
                m.request_uri().unwrap()
            )
        })
        .collect();
    assert_eq!(
        what,
        ["ACK sip:carol@10.0.0.3", "INVITE sip:dave@10.0.0.4:5060"]
    );
    let to_d = out[1].clone();
    // The same INVITE but for its Request-URI, Via (a new branch) and CSeq.
    let rest = |m: &Message| {
        let text = String::from_utf8_lossy(&m.to_bytes()).to_string();
        text.split("\r\n")
            .skip(1)
            .filter(|l| !l.starts_with("Via:") && !l.starts_with("CSeq:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(rest(&to_d), rest(&to_c));
    assert_eq!(header(&to_d, "CSeq"), "2 INVITE");
    let d = "10.0.0.4:5060";
    b.recv(
        d,
        &reply(&to_d, 180, "dave", Some("sip:dave@10.0.0.4:5060")),
    );
    let n2 = b.sent().remove(0);
    assert_eq!(String::from_utf8_lossy(&n2.body), "SIP/2.0 180 Ringing\r\n");
    b.recv(B, &reply(&n2, 200, "alice", None));
    b.recv(
        d,
        &reply(&to_d, 200, "dave", Some("sip:dave@10.0.0.4:5060")),
    );
    let out = b.sent();
    assert_eq!(out[0].method().unwrap().as_str(), "ACK");
    assert_eq!(
        header(&out[1], "Subscription-State"),
        "terminated;reason=noresource"
    );
    assert_eq!(String::from_utf8_lossy(&out[1].body), "SIP/2.0 200 OK\r\n");
    let events = b.events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::CallRedirected { call: c, status: 302, .. } if *c == bc
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::TransferOutcome { transfer: t, outcome: TransferOutcome::Succeeded } if *t == transfer
    )));
    assert!(b.ep.call_is_live(bc) && b.ep.call_is_live(call));
    assert_eq!(b.ep.dialog(bc).unwrap().id.remote_tag.as_str(), "dave");
}

/// The transferee BYEs the original call before its final NOTIFY (Twinkle 1.10.2 does, seen
/// in tests/interop). The refer subscription outlives the invite usage (RFC 5057 §5.1): a
/// final NOTIFY with a CSeq above the BYE's completes the transfer. One below it — Twinkle
/// sends its NOTIFY 4 after its BYE 5 — "is out of order and MUST be rejected with a 500"
/// (RFC 3261 §12.2.2), and the transfer's outcome then waits for
/// [`sipxfer::Config::transfer_timeout`].
#[test]
fn a_final_notify_after_the_transferees_bye() {
    for (seq, answered) in [(6, 200), (4, 500)] {
        let (mut a, call, invite) = transferor(20, |_| {});
        let (t, refer) = transfer_to_carol(&mut a, call);
        a.sent();
        a.recv(B, &reply(&refer, 202, "bob", None));
        a.recv(
            B,
            &notify(
                &invite,
                2,
                "refer",
                "active;expires=60",
                "SIP/2.0 100 Trying",
            ),
        );
        a.recv(
            B,
            &notify(
                &invite,
                3,
                "refer",
                "active;expires=60",
                "SIP/2.0 180 Ringing",
            ),
        );
        assert_eq!(a.sent().len(), 2);
        a.recv(B, &in_dialog(&invite, B, "BYE", 5, "", ""));
        assert_eq!(a.sent()[0].status(), Some(200));
        a.recv(
            B,
            &notify(
                &invite,
                seq,
                "refer",
                "terminated;reason=noresource",
                "SIP/2.0 200 OK",
            ),
        );
        let out = a.sent();
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].status(), Some(answered), "NOTIFY {seq}");
        let outcome = |a: &mut Manual| {
            a.events().into_iter().find_map(|e| match e {
                Event::TransferOutcome { transfer, outcome } if transfer == t => Some(outcome),
                _ => None,
            })
        };
        if answered == 200 {
            assert_eq!(outcome(&mut a), Some(TransferOutcome::Succeeded));
        } else {
            assert_eq!(outcome(&mut a), None);
            a.wait_until(a.now + sipxfer::Duration::from_secs(121));
            let sent: Vec<_> = a
                .sent()
                .iter()
                .map(|m| m.method().map(|m| m.as_str().to_string()))
                .collect();
            assert_eq!(outcome(&mut a), Some(TransferOutcome::TimedOut), "{sent:?}");
        }
        a.wait_until(a.now + sipxfer::Duration::from_secs(400));
        let s = a.ep.stats();
        assert_eq!(
            (s.transactions, s.timers, s.dialogs, s.subscriptions),
            (0, 0, 0, 0),
            "NOTIFY {seq}: {s:?}"
        );
    }
}
