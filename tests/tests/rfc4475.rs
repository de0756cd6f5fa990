//! RFC 4475 torture tests: every message parsed byte-exact from disk, the verdict checked
//! against the `parse` column of EXPECTATIONS.tsv, and the values of the valid ones checked.

use sipxfer::msg::{Header, Host, Message, Method, Uri};
use sipxfer::parse::{parse_message, ErrorKind, Limits};
use sipxfer_tests::{expectations, rfc4475};

fn parse(file: &str) -> Result<Message<sipxfer::SipStr>, sipxfer::ParseError> {
    Message::parse(rfc4475(file).into(), &Limits::default())
}

#[test]
fn verdicts_match_expectations() {
    let rows = expectations();
    assert_eq!(rows.len(), 49, "49 RFC 4475 messages");
    let mut failures = Vec::new();
    for row in &rows {
        let bytes = rfc4475(&row.file);
        let got = parse_message(&bytes, &Limits::default());
        let ok = match row.parse.as_str() {
            "ok" => got.is_ok(),
            "error" => got.is_err(),
            "either" => true,
            other => panic!("unknown verdict {other}"),
        };
        if !ok {
            failures.push(format!(
                "{} ({}): expected {}, got {:?}",
                row.file,
                row.section,
                row.parse,
                got.err()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn wsinv_values() {
    let m = parse("wsinv.dat").unwrap();
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, &cseq.method), (9, &Method::Invite));
    assert_eq!(m.max_forwards(), Some(68));
    let vias: Vec<_> = m.vias().collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(
        (&*vias[1].transport, vias[1].branch()),
        ("TCP", Some("z9hG4bK9ikj8"))
    );
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(m.call_id(), Some("wsinv.ndaksdj@192.0.2.1"));
    assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
    let from = m.from().unwrap();
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(from.display_name().as_deref(), Some("J Rosenberg \\\""));
    let contact = m.contacts().next().unwrap();
    assert_eq!(
        contact.display_name().as_deref(),
        Some("Quoted string \"\"")
    );
    assert_eq!(contact.q(), Some(330));
    assert_eq!(contact.param("newparam"), Some(Some("newvalue")));
    assert!(m
        .routes()
        .next()
        .unwrap()
        .uri
        .as_sip()
        .unwrap()
        .param("lr")
        .is_some());
    assert_eq!(
        m.raw_header("NewFangledHeader"),
        Some("newfangled value\r\n continued newfangled value")
    );
    assert_eq!(
        m.raw_header("UnknownHeaderWithUnusualValue"),
        Some(";;,,;;,;")
    );
    assert_eq!(m.body.len(), 150);
}

#[test]
fn esc01_user_decodes() {
    let m = parse("esc01.dat").unwrap();
    let Some(Uri::Sip(u)) = m.request_uri() else {
        panic!()
    };
    assert_eq!(u.user_decoded().as_deref(), Some("sips:user@example.com"));
    assert_eq!(u.host, Host::Domain("example.net".into()));
    let Uri::Sip(to) = &m.to().unwrap().uri else {
        panic!()
    };
    assert_eq!(to.user_decoded().as_deref(), Some("user"));
}

#[test]
fn dblreq_only_register() {
    let bytes = rfc4475("dblreq.dat");
    let m = parse_message(&bytes, &Limits::default()).unwrap();
    assert_eq!(m.method(), Some(&Method::Register));
    assert!(m.body.is_empty());
    assert!(
        bytes.windows(6).any(|w| w == b"INVITE"),
        "the INVITE is in the datagram"
    );
}

#[test]
fn semantics_of_error_files() {
    let kind = |f: &str| parse(f).unwrap_err().kind;
    assert_eq!(kind("badvers.dat"), ErrorKind::UnsupportedVersion);
    assert_eq!(kind("mismatch01.dat"), ErrorKind::CSeqMismatch);
    assert_eq!(kind("clerr.dat"), ErrorKind::BodyTruncated);
    assert_eq!(kind("ncl.dat"), ErrorKind::BadContentLength);
    assert_eq!(kind("bigcode.dat"), ErrorKind::BadStatusCode);
    assert_eq!(kind("lwsruri.dat"), ErrorKind::BadRequestUri);
    assert!(matches!(kind("multi01.dat"), ErrorKind::DuplicateHeader(_)));
    assert!(matches!(kind("mcl01.dat"), ErrorKind::DuplicateHeader(_)));
    assert!(matches!(kind("insuf.dat"), ErrorKind::MissingHeader(_)));
}

#[test]
fn valid_values() {
    // unreason: UTF-8 reason phrase kept intact.
    let m = parse("unreason.dat").unwrap();
    assert!(
        matches!(&m.start, sipxfer::msg::StartLine::Response { code: 200, reason } if reason.contains("простое"))
    );
    // noreason: empty reason phrase.
    let m = parse("noreason.dat").unwrap();
    assert_eq!(m.status(), Some(100));
    // transports: unknown Via transports kept.
    let m = parse("transports.dat").unwrap();
    let transports: Vec<&str> = m.vias().map(|v| &*v.transport).collect();
    assert_eq!(transports, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    // longreq: 34 Vias including the folded/odd-case names, long values kept.
    let m = parse("longreq.dat").unwrap();
    assert_eq!(m.vias().count(), 34);
    assert_eq!(m.body.len(), 150);
    // unkscm / novelsc: non-SIP Request-URIs kept opaque.
    let m = parse("unkscm.dat").unwrap();
    assert!(
        matches!(m.request_uri(), Some(Uri::Other { scheme, .. }) if &**scheme == "nobodyKnowsThisScheme")
    );
    // zeromf: Max-Forwards 0.
    assert_eq!(parse("zeromf.dat").unwrap().max_forwards(), Some(0));
    // bext01: Require with unknown option tags.
    let m = parse("bext01.dat").unwrap();
    let tags: Vec<&str> = m.require().map(|t| &**t).collect();
    assert_eq!(tags, ["nothingSupportsThis", "nothingSupportsThisEither"]);
    // inv2543: no Max-Forwards, no branch, no Content-Length.
    let m = parse("inv2543.dat").unwrap();
    assert!(m.max_forwards().is_none());
    assert!(!m.top_via().unwrap().has_magic_cookie());
    // intmeth: unknown method kept.
    let m = parse("intmeth.dat").unwrap();
    assert!(matches!(m.method(), Some(Method::Extension(_))));
    // mpart01: multipart body delivered whole.
    let m = parse("mpart01.dat").unwrap();
    assert!(m.content_type().unwrap().is("multipart", "mixed"));
    // escnull: %00 does not truncate anything.
    let m = parse("escnull.dat").unwrap();
    let Uri::Sip(to) = &m.to().unwrap().uri else {
        panic!()
    };
    assert_eq!(&*to.user, "null-%00-null");
    assert!(m.headers.iter().any(|h| matches!(h, Header::Contact(_))));
}
