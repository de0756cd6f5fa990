//! The benchmark corpus parses to the right values (so the benchmark times correct work).

use bytes::Bytes;
use sipxfer::msg::{Message, Method};
use sipxfer::parse::{parse_sipfrag, Limits};

fn load(name: &str) -> Message {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/bench")
        .join(name);
    Message::parse(Bytes::from(std::fs::read(p).unwrap()), &Limits::default()).unwrap()
}

#[test]
fn values() {
    let m = load("invite.sip");
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(m.body.len(), 930);
    assert_eq!(m.allow().count(), 11);
    assert_eq!(
        m.contacts()
            .next()
            .unwrap()
            .uri
            .as_sip()
            .unwrap()
            .param("transport"),
        Some(Some("udp"))
    );
    assert_eq!(m.from().unwrap().display_name().as_deref(), Some("Alice"));

    let m = load("ringing.sip");
    assert_eq!(
        (m.status(), m.vias().count(), m.record_routes().count()),
        (Some(180), 2, 2)
    );
    let v: Vec<_> = m.vias().collect();
    assert_eq!(
        (v[1].rport(), v[1].received()),
        (Some(Some(5060)), Some("192.0.2.101"))
    );

    let m = load("ok_sdp.sip");
    assert_eq!(
        (m.status(), m.body.len(), m.record_routes().count()),
        (Some(200), 391, 2)
    );

    let m = load("ack.sip");
    assert_eq!((m.method(), m.routes().count()), (Some(&Method::Ack), 2));

    let m = load("refer.sip");
    let r = m.refer_to().unwrap().embedded_replaces().unwrap().unwrap();
    assert_eq!(
        (&*r.call_id, r.to_tag(), r.from_tag()),
        ("abc123@pc33.example.com", "5678", "1234")
    );
    assert_eq!(
        m.referred_by().unwrap().uri.as_sip().unwrap().user.as_ref(),
        "alice"
    );

    let m = load("accepted.sip");
    assert_eq!(
        (m.status(), m.cseq().unwrap().method.as_str()),
        (Some(202), "REFER")
    );

    let m = load("notify.sip");
    assert_eq!(m.event().unwrap().package.as_str(), "refer");
    assert_eq!(m.subscription_state().unwrap().expires(), Some(60));
    assert!(m.content_type().unwrap().is("message", "sipfrag"));
    assert_eq!(parse_sipfrag(&m.body).unwrap().status(), Some(100));

    let m = load("bye_compact.sip");
    assert_eq!(
        (m.method(), m.call_id()),
        (Some(&Method::Bye), Some("abc123@pc33.example.com"))
    );
    assert_eq!(m.to().unwrap().tag(), Some("1234"));
    assert_eq!(m.supported().count(), 1);
}
