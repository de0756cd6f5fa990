//! Unit tests for each typed header: parse, check values, emit, parse back.

use super::header::typed;
use crate::msg::builder::refer_to_with_replaces;
use crate::msg::emit::header_value_to_string;
use crate::msg::*;
use crate::text::{Share, SipStr};
use alloc::vec::Vec;
use bytes::Bytes;

fn h(name: &str, value: &str) -> Header<SipStr> {
    let n = HeaderName::from_bytes(name.as_bytes());
    let v = Bytes::copy_from_slice(value.as_bytes());
    let parsed = typed(n, name.as_bytes(), &v);
    let parsed = parsed.unwrap_or_else(|at| panic!("{name}: {value:?} failed at {at:?}"));
    let owned = parsed.convert(&mut Share::new(&v));
    // Emit, parse again: same value.
    let again = header_value_to_string(&owned);
    let b = Bytes::from(again.clone().into_bytes());
    let reparsed = typed(n, name.as_bytes(), &b)
        .unwrap_or_else(|at| panic!("{name}: re-emitted {again:?} failed at {at:?}"))
        .convert(&mut Share::new(&b));
    assert_eq!(owned, reparsed, "{name}: {value:?} -> {again:?}");
    owned
}

fn bad(name: &str, value: &str) {
    let n = HeaderName::from_bytes(name.as_bytes());
    assert!(
        typed(n, name.as_bytes(), value.as_bytes()).is_err(),
        "{name}: {value:?} should be rejected"
    );
}

#[test]
fn via() {
    let Header::Via(v) = h(
        "Via",
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=192.0.2.9;rport=5070, SIP / 2.0 / TCP [2001:db8::9]:5061 ;maddr=239.255.255.1;ttl=15;rport",
    ) else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(&*v[0].transport, "UDP");
    assert_eq!(
        v[0].host,
        Host::Ipv4(core::net::Ipv4Addr::new(192, 0, 2, 1))
    );
    assert_eq!(v[0].port, Some(5060));
    assert_eq!(v[0].branch(), Some("z9hG4bK776asdhds"));
    assert!(v[0].has_magic_cookie());
    assert_eq!(v[0].received(), Some("192.0.2.9"));
    assert_eq!(v[0].rport(), Some(Some(5070)));
    assert_eq!(v[1].rport(), Some(None));
    assert!(matches!(v[1].host, Host::Ipv6(_)));
    assert_eq!(v[1].param("ttl"), Some(Some("15")));
    let Header::Via(v) = h("v", "SIP/2.0/UDP h.example.com;received=2001:db8::1") else {
        panic!()
    };
    assert_eq!(v[0].received(), Some("2001:db8::1"));
    // The usual `SIP/2.0/` (read without a scan) and every other spelling of the same
    // protocol give the same fields.
    for sent in [
        "SIP/2.0/UDP",
        "SIP/2.0/ UDP",
        "SIP /2.0/UDP",
        "SIP / 2.0 / UDP",
        "sip/2.0/udp",
    ] {
        let Header::Via(v) = h("Via", &alloc::format!("{sent} 192.0.2.1;branch=z9hG4bKx")) else {
            panic!()
        };
        assert!(v[0].protocol.eq_ignore_ascii_case("SIP"), "{sent}");
        assert_eq!(&*v[0].version, "2.0", "{sent}");
        assert!(v[0].transport.eq_ignore_ascii_case("UDP"), "{sent}");
        assert_eq!(v[0].branch(), Some("z9hG4bKx"), "{sent}");
    }
    bad("Via", "SIP/2.0/ 192.0.2.1");
    bad("Via", "SIP/2.0/");
    bad("Via", "SIP/2.0/UDP 192.0.2.15;;,;,,");
    bad("Via", "SIP/2.0/UDP");
    bad("Via", "SIP/2.0 host");
    bad("Via", "SIP/2.0/UDP host:70000");
}

#[test]
fn from_to() {
    let Header::From(f) = h(
        "f",
        "\"Alice \\\"A\\\"\" <sip:alice@atlanta.com>;tag=88sja8x",
    ) else {
        panic!()
    };
    assert_eq!(f.display_name().as_deref(), Some("Alice \"A\""));
    assert_eq!(f.tag(), Some("88sja8x"));
    let Header::To(t) = h("To", "sip:bob@biloxi.com;tag=a6c85cf") else {
        panic!()
    };
    // Without angle brackets the parameter belongs to the header (§20.10).
    assert_eq!(t.tag(), Some("a6c85cf"));
    assert!(t.uri.as_sip().unwrap().params.is_empty());
    let Header::To(t) = h("t", "Bob Smith<sip:bob@biloxi.com;transport=tcp>") else {
        panic!()
    };
    assert_eq!(t.display, "Bob Smith");
    assert_eq!(
        t.uri.as_sip().unwrap().param("transport"),
        Some(Some("tcp"))
    );
    assert_eq!(t.tag(), None);
    bad("From", "\"unterminated <sip:a@b>");
    bad("From", "<sip:a@b");
    bad("From", "Bob <sip:a@b> junk");
    bad("To", "<sip:user@example.com >");
}

#[test]
fn call_id_cseq_max_forwards_expires() {
    assert_eq!(
        h("i", "f81d4fae-7dec@foo.bar.com"),
        Header::CallId("f81d4fae-7dec@foo.bar.com".into())
    );
    bad("Call-ID", "a@b@c");
    bad("Call-ID", "has space");
    let Header::CSeq(c) = h("CSeq", "4711 INVITE") else {
        panic!()
    };
    assert_eq!((c.seq, c.method), (4711, Method::Invite));
    let Header::CSeq(c) = h("CSeq", "1 FOO") else {
        panic!()
    };
    assert_eq!(c.method.as_str(), "FOO");
    assert_eq!(
        h("CSeq", "4294967295 ACK"),
        Header::CSeq(CSeq {
            seq: u32::MAX,
            method: Method::Ack
        })
    );
    bad("CSeq", "4294967296 INVITE");
    bad("CSeq", "-1 INVITE");
    bad("CSeq", "1INVITE");
    assert_eq!(h("Max-Forwards", "70"), Header::MaxForwards(70));
    bad("Max-Forwards", "256");
    assert_eq!(h("Expires", "3600"), Header::Expires(3600));
    bad("Expires", "4294967296");
}

#[test]
fn contact_route() {
    assert_eq!(h("m", "*"), Header::Contact(Contact::Star));
    let Header::Contact(Contact::Addrs(c)) = h(
        "Contact",
        "\"Mr. Watson\" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600, <mailto:watson@bell-telephone.com> ;q=0.1",
    ) else {
        panic!()
    };
    assert_eq!(
        (c[0].q(), c[0].expires(), c[1].q()),
        (Some(700), Some(3600), Some(100))
    );
    assert!(matches!(&c[1].uri, Uri::Other { scheme, .. } if &**scheme == "mailto"));
    let Header::RecordRoute(r) = h(
        "Record-Route",
        "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
    ) else {
        panic!()
    };
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].uri.as_sip().unwrap().param("lr"), Some(None));
    let Header::Route(r) = h("Route", "<sip:[2001:db8::1]:5080;lr;transport=tcp>") else {
        panic!()
    };
    assert_eq!(r[0].uri.as_sip().unwrap().port, Some(5080));
    bad("Contact", "\"Joe\" <sip:joe@example.org>;;;;");
    bad(
        "Contact",
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
    );
}

#[test]
fn content_type_accept_lists() {
    let Header::ContentType(m) = h("c", "message/sipfrag;version=2.0") else {
        panic!()
    };
    assert!(m.is("message", "sipfrag"));
    assert_eq!(m.params.get("version"), Some(Some("2.0")));
    let Header::Accept(a) = h("Accept", "application/sdp;level=1, application/*, */*") else {
        panic!()
    };
    assert_eq!(a.len(), 3);
    assert_eq!(h("Accept", ""), Header::Accept(Values::new()));
    let Header::Allow(a) = h(
        "Allow",
        "INVITE, ACK, OPTIONS, CANCEL, BYE, REFER, NOTIFY, FOO",
    ) else {
        panic!()
    };
    assert_eq!(a.len(), 8);
    assert_eq!(a[5], Method::Refer);
    let Header::Supported(s) = h("k", "replaces, norefersub,tdialog") else {
        panic!()
    };
    assert_eq!(
        s.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["replaces", "norefersub", "tdialog"]
    );
    assert_eq!(
        h("Supported", ""),
        Header::Supported(crate::msg::Tags::new())
    );
    let Header::Require(r) = h("Require", "100rel") else {
        panic!()
    };
    assert_eq!(&*r[0], "100rel");
    bad("Require", "");
    let Header::Unsupported(u) = h("Unsupported", "foo") else {
        panic!()
    };
    assert_eq!(u.len(), 1);
    let Header::ProxyRequire(u) = h("Proxy-Require", "foo, bar") else {
        panic!()
    };
    assert_eq!(u.len(), 2);
    bad("Content-Type", "application");
}

#[test]
fn event_subscription_state() {
    let Header::Event(e) = h("o", "refer;id=93809824") else {
        panic!()
    };
    assert_eq!((&*e.package, e.id()), ("refer", Some("93809824")));
    let Header::AllowEvents(a) = h("u", "refer, dialog, presence.winfo") else {
        panic!()
    };
    assert_eq!(a.len(), 3);
    let Header::SubscriptionState(s) = h("Subscription-State", "active;expires=60") else {
        panic!()
    };
    assert_eq!((s.state(), s.expires()), (SubState::Active, Some(60)));
    let Header::SubscriptionState(s) = h(
        "Subscription-State",
        "terminated;reason=noresource;retry-after=30",
    ) else {
        panic!()
    };
    assert_eq!(
        (s.state(), s.reason(), s.retry_after()),
        (SubState::Terminated, Some("noresource"), Some(30))
    );
    bad("Event", ";id=1");
    // linphone 5.1's final NOTIFY: a value holding `=` is accepted as written.
    let Header::SubscriptionState(s) =
        h("Subscription-State", "terminated;reason=reason=noresource")
    else {
        panic!()
    };
    assert_eq!(
        (s.state(), s.reason()),
        (SubState::Terminated, Some("reason=noresource"))
    );
    let Header::Via(v) = h("v", "SIP/2.0/UDP h;branch=z9hG4bK1;x=a=b;rport") else {
        panic!()
    };
    assert_eq!(
        (v[0].branch(), v[0].rport()),
        (Some("z9hG4bK1"), Some(None))
    );
    assert_eq!(v[0].params.get("x"), Some(Some("a=b")));
    // But a value still starts with a token character.
    bad("Subscription-State", "terminated;reason==x");
}

#[test]
fn refer_to_referred_by() {
    let Header::ReferTo(r) = h(
        "Refer-To",
        "<sip:carol@cleveland.example.org?Replaces=d28f%40pc.example.org%3Bto-tag%3D5f35a3%3Bfrom-tag%3D8675309&Accept-Contact=*>",
    ) else {
        panic!()
    };
    let rep = r.embedded_replaces().unwrap().unwrap();
    assert_eq!(
        (
            &*rep.call_id,
            rep.to_tag(),
            rep.from_tag(),
            rep.early_only()
        ),
        ("d28f@pc.example.org", "5f35a3", "8675309", false)
    );
    assert_eq!(r.uri.as_sip().unwrap().header("accept-contact"), Some("*"));
    let Header::ReferTo(r) = h("r", "sip:carol@example.org") else {
        panic!()
    };
    assert_eq!(r.embedded_replaces(), Ok(None));
    let Header::ReferredBy(b) = h(
        "b",
        "<sip:referrer@referrer.example>;cid=\"20398823.2UWQFN309shb3@referrer.example\"",
    ) else {
        panic!()
    };
    assert_eq!(
        b.param("cid"),
        Some(Some("20398823.2UWQFN309shb3@referrer.example"))
    );
}

#[test]
fn refer_to_replaces_both_directions() {
    // Build the Refer-To from a dialog id, emit it, parse it back: same call-id and tags.
    let target = match crate::parse::parse_uri(b"sip:carol@192.0.2.30:5062;transport=tcp").unwrap()
    {
        Uri::Sip(u) => u.convert(&mut Share::copying()),
        _ => panic!(),
    };
    for (call_id, to_tag, from_tag, early) in [
        (
            "a84b4c76e66710@pc33.atlanta.com",
            "314159",
            "a6c85cf",
            false,
        ),
        ("odd%chars?<x>/{y}@[2001:db8::1]", "t-1.~", "f!2%*", true),
    ] {
        let dialog = Replaces::new(call_id, to_tag, from_tag, early);
        let refer_to = refer_to_with_replaces(&target, &dialog);
        let wire = header_value_to_string(&Header::ReferTo(refer_to));
        assert!(
            !wire[wire.find('?').unwrap()..].contains(';'),
            "escaped: {wire}"
        );
        let Header::ReferTo(parsed) = h("Refer-To", &wire) else {
            panic!()
        };
        let back = parsed.embedded_replaces().unwrap().unwrap();
        assert_eq!(back, dialog, "{wire}");
        assert_eq!(
            parsed.uri.as_sip().unwrap().param("transport"),
            Some(Some("tcp"))
        );
    }
    let expected = "<sip:carol@192.0.2.30:5062;transport=tcp?Replaces=a84b4c76e66710%40pc33.atlanta.com%3Bto-tag%3D314159%3Bfrom-tag%3Da6c85cf>";
    let d = Replaces::new(
        "a84b4c76e66710@pc33.atlanta.com",
        "314159",
        "a6c85cf",
        false,
    );
    assert_eq!(
        header_value_to_string(&Header::ReferTo(refer_to_with_replaces(&target, &d))),
        expected
    );
    // What other stacks send decodes to the same dialog: lower-case hex, a literal `@`,
    // `=` left unescaped, parameters in another order.
    for wire in [
        "<sip:carol@h?Replaces=a84b4c76e66710%40pc33.atlanta.com%3bto-tag%3d314159%3bfrom-tag%3da6c85cf>",
        "<sip:carol@h?Replaces=a84b4c76e66710@pc33.atlanta.com%3Bto-tag%3D314159%3Bfrom-tag%3Da6c85cf>",
        "<sip:carol@h?Replaces=a84b4c76e66710%40pc33.atlanta.com%3Bfrom-tag=a6c85cf%3Bto-tag=314159>",
    ] {
        let Header::ReferTo(parsed) = h("Refer-To", wire) else {
            panic!()
        };
        let r = parsed.embedded_replaces().unwrap().unwrap();
        assert_eq!(
            (&*r.call_id, r.to_tag(), r.from_tag(), r.early_only()),
            ("a84b4c76e66710@pc33.atlanta.com", "314159", "a6c85cf", false),
            "{wire}"
        );
    }
}

#[test]
fn replaces_refer_sub_target_dialog() {
    let Header::Replaces(r) = h(
        "Replaces",
        "98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only",
    ) else {
        panic!()
    };
    assert_eq!(
        (&*r.call_id, r.to_tag(), r.from_tag(), r.early_only()),
        ("98732@sip.example.com", "ff87ff", "r33th4x0r", true)
    );
    bad("Replaces", "98732@sip.example.com;to-tag=a");
    bad(
        "Replaces",
        "98732@sip.example.com;to-tag=a;from-tag=b;to-tag=c",
    );
    assert_eq!(
        h("Refer-Sub", "false"),
        Header::ReferSub(ReferSub {
            value: false,
            params: Params::new()
        })
    );
    assert!(matches!(
        h("Refer-Sub", "TRUE;x=1"),
        Header::ReferSub(ReferSub { value: true, .. })
    ));
    bad("Refer-Sub", "maybe");
    let Header::TargetDialog(t) = h(
        "Target-Dialog",
        "fa77as7dad8-sd98ajzz@host.example.com;local-tag=1;remote-tag=2",
    ) else {
        panic!()
    };
    assert_eq!((t.local_tag(), t.remote_tag()), (Some("1"), Some("2")));
}

#[test]
fn reason_warning_retry_after() {
    let Header::Reason(r) = h(
        "Reason",
        "SIP ;cause=200 ;text=\"Call completed elsewhere\", Q.850;cause=16",
    ) else {
        panic!()
    };
    assert_eq!(
        (&*r[0].protocol, r[0].cause(), r[0].text()),
        ("SIP", Some(200), Some("Call completed elsewhere"))
    );
    assert_eq!((&*r[1].protocol, r[1].cause()), ("Q.850", Some(16)));
    let Header::Warning(w) = h(
        "Warning",
        "307 isi.edu \"Session parameter 'foo' not understood\", 301 [2001:db8::1]:5060 \"x\"",
    ) else {
        panic!()
    };
    assert_eq!(
        (w[0].code, &*w[0].agent, w[0].text()),
        (307, "isi.edu", "Session parameter 'foo' not understood")
    );
    bad("Warning", "1812 overture \"In Progress\"");
    let Header::RetryAfter(r) = h("Retry-After", "18000;duration=3600") else {
        panic!()
    };
    assert_eq!((r.seconds, r.duration()), (18000, Some(3600)));
    let Header::RetryAfter(r) = h("Retry-After", "120 (I'm in a (long) meeting)") else {
        panic!()
    };
    assert_eq!(r.comment.as_deref(), Some("(I'm in a (long) meeting)"));
    bad("Retry-After", "4294967296");
    bad("Retry-After", "10 (unbalanced");
}

#[test]
fn untyped_and_unknown_kept_verbatim() {
    assert_eq!(
        h("s", "Need more boxes"),
        Header::Raw {
            name: HeaderName::Subject,
            value: "Need more boxes".into()
        }
    );
    assert_eq!(
        h("User-Agent", "softphone/1.0"),
        Header::Raw {
            name: HeaderName::UserAgent,
            value: "softphone/1.0".into()
        }
    );
    assert_eq!(
        h("X-Custom", ";;,,"),
        Header::Extension {
            name: "X-Custom".into(),
            value: ";;,,".into()
        }
    );
}

#[test]
fn sipfrag_forms() {
    use crate::parse::parse_sipfrag;
    // Status line alone, with or without its CRLF (RFC 3515 §2.4.5 bodies).
    for body in [
        &b"SIP/2.0 100 Trying"[..],
        b"SIP/2.0 100 Trying\r\n",
        b"SIP/2.0 100 Trying\r\n\r\n",
    ] {
        let f = parse_sipfrag(body).unwrap();
        assert_eq!(
            (f.status(), f.headers.len(), f.body.len()),
            (Some(100), 0, 0)
        );
    }
    // With headers, the last one unterminated.
    let f = parse_sipfrag(
        b"SIP/2.0 486 Busy Here\r\nRetry-After: 60\r\nWarning: 399 c.example.com \"busy\"",
    )
    .unwrap();
    assert_eq!(
        (f.status(), f.retry_after().map(|r| r.seconds)),
        (Some(486), Some(60))
    );
    assert_eq!(f.warnings().count(), 1);
    // With a body after the empty line.
    let f =
        parse_sipfrag(b"INVITE sip:c@example.com SIP/2.0\r\nContent-Type: text/plain\r\n\r\nhi")
            .unwrap();
    assert_eq!((f.method(), f.body), (Some(&Method::Invite), &b"hi"[..]));
    // Not a fragment.
    for bad in [
        &b""[..],
        b"hello",
        b"SIP/2.0 1000 x",
        b"SIP/2.0 200 OK\r\nno colon",
        b"SIP/2.0 200 OK\r\nCSeq: x",
    ] {
        assert_eq!(
            parse_sipfrag(bad).unwrap_err().kind,
            crate::parse::ErrorKind::BadSipfrag,
            "{bad:?}"
        );
    }
}
