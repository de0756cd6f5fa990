//! RFC 5118 IPv6 torture tests: every message parsed byte-exact from disk, the verdict checked
//! against the `parse` column of EXPECTATIONS.tsv, what a UA core answers checked against its
//! `uas` column, and the IPv6 values of the valid ones checked (Request-URI host and port, Via
//! sent-by and `received`, Contact, the SDP connection addresses).

use sipxfer::msg::{Host, Message, Method, SipUri, Uri, Via};
use sipxfer::parse::{parse_message, parse_uri, ErrorKind, Limits};
use sipxfer_tests::{answer_of, expectations_of, rfc5118, status_of, uas_answer, uas_exchange};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

fn parse(file: &str) -> Result<Message<sipxfer::SipStr>, sipxfer::ParseError> {
    Message::parse(rfc5118(file).into(), &Limits::default())
}

fn v6(a: &str) -> Ipv6Addr {
    a.parse().unwrap()
}

fn host6<S: sipxfer::text::Text>(a: &str) -> Host<S> {
    Host::Ipv6(v6(a))
}

fn sip<S: sipxfer::text::Text>(u: &Uri<S>) -> &SipUri<S> {
    u.as_sip().expect("a SIP URI")
}

fn ruri(m: &Message<sipxfer::SipStr>) -> &SipUri<sipxfer::SipStr> {
    sip(m.request_uri().expect("a request"))
}

fn vias(m: &Message<sipxfer::SipStr>) -> Vec<&Via<sipxfer::SipStr>> {
    m.vias().collect()
}

/// The `c=` addresses of an SDP body, as (address type, address).
fn sdp_connections(body: &[u8]) -> Vec<(String, String)> {
    std::str::from_utf8(body)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("c=IN "))
        .map(|l| {
            let (ty, addr) = l.split_once(' ').unwrap();
            (ty.to_string(), addr.to_string())
        })
        .collect()
}

/// `bytes` with its Content-Length set to the length of the body that follows the header
/// section (nothing else changed).
fn with_true_content_length(bytes: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let head: Vec<String> = head
        .split("\r\n")
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_string()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

#[test]
fn table_covers_the_twelve_messages_of_section_4() {
    let rows = expectations_of("rfc5118");
    assert_eq!(rows.len(), 12, "RFC 5118 §4.1 to §4.10: twelve messages");
    let mut sections: Vec<&str> = rows.iter().map(|r| r.section.as_str()).collect();
    sections.dedup();
    let want: Vec<String> = (1..=10).map(|n| format!("4.{n}")).collect();
    assert_eq!(
        sections, want,
        "in section order, 4.5 and 4.10 with two messages"
    );
    let mut on_disk: Vec<String> = std::fs::read_dir(sipxfer_tests::rfc5118_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".dat"))
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = rows.iter().map(|r| r.file.clone()).collect();
    in_table.sort();
    assert_eq!(on_disk, in_table);
}

/// Every line ends in CRLF (no bare CR or LF: `.gitattributes` keeps the files byte-exact),
/// nothing is indented, and every header section is closed by an empty line.
#[test]
fn files_are_sip_messages_with_crlf_line_ends() {
    for row in expectations_of("rfc5118") {
        let b = rfc5118(&row.file);
        let crlf = b.windows(2).filter(|w| w == b"\r\n").count();
        let cr = b.iter().filter(|&&c| c == b'\r').count();
        let lf = b.iter().filter(|&&c| c == b'\n').count();
        assert_eq!((cr, lf), (crlf, crlf), "{}: bare CR or LF", row.file);
        assert!(b[0].is_ascii_uppercase(), "{}", row.file);
        assert!(
            b.windows(4).any(|w| w == b"\r\n\r\n"),
            "{}: header section not closed",
            row.file
        );
        assert!(b.ends_with(b"\r\n"), "{}", row.file);
    }
}

#[test]
fn verdicts_match_expectations() {
    let mut failures = Vec::new();
    for row in expectations_of("rfc5118") {
        let bytes = rfc5118(&row.file);
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

/// The `uas` column: what a UA core answering over UDP sends, obtained as `sipxfer check
/// --respond` obtains it (a fresh endpoint, the datagram, an application answering 480).
#[test]
fn uas_column() {
    let mut wrong = Vec::new();
    for row in expectations_of("rfc5118") {
        let answer = uas_answer(&rfc5118(&row.file));
        if !row.allows(&answer) {
            wrong.push(format!(
                "{} ({}): answered {answer}, expected {}",
                row.file, row.section, row.uas
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The same answers when the endpoint and its peer are on IPv6, as RFC 5118 §3 has them; the
/// answer goes back over IPv6 to the datagram's source at the top Via's sent-by port (RFC 3261
/// §18.2.2), `received` stamped with the source when the sent-by is another address (§18.2.1).
#[test]
fn uas_answers_over_ipv6() {
    let local: SocketAddr = "[2001:db8::10]:5060".parse().unwrap();
    let elsewhere = IpAddr::V6(v6("2001:db8::99"));
    for row in expectations_of("rfc5118") {
        let bytes = rfc5118(&row.file);
        let request = parse_message(&bytes, &Limits::default()).ok();
        // The datagram comes from the top Via's address when it is one, at port 5060; the
        // answer goes to that address at the sent-by port.
        let top = request.as_ref().and_then(|m| m.top_via());
        let from = match top.map(|v| &v.host) {
            Some(Host::Ipv6(a)) => IpAddr::V6(*a),
            _ => elsewhere,
        };
        let port = top.and_then(|v| v.port).unwrap_or(5060);
        let sent = uas_exchange(local, SocketAddr::new(from, 5060), &bytes);
        let answer = answer_of(&sent);
        assert!(row.allows(&answer), "{}: {answer} over IPv6", row.file);
        for t in sent.iter().filter(|t| status_of(t).is_some()) {
            assert_eq!(t.to, SocketAddr::new(from, port), "{}", row.file);
            let r = parse_message(&t.bytes, &Limits::default()).unwrap();
            if let Some(req) = &request {
                assert_eq!(r.top_via().unwrap().host, req.top_via().unwrap().host);
                assert_eq!(r.vias().count(), req.vias().count(), "{}", row.file);
            }
        }
    }
    // A source other than the sent-by: `received` holds the source (replacing the one the
    // §4.5 message carries) and the answer goes there.
    let bytes = rfc5118("via-received-param-no-delim.dat");
    let source: SocketAddr = "[2001:db8::9:7]:5099".parse().unwrap();
    let sent = uas_exchange(local, source, &bytes);
    assert_eq!(answer_of(&sent), "200");
    let t = sent.iter().find(|t| status_of(t) == Some(200)).unwrap();
    assert_eq!(t.to, "[2001:db8::9:7]:5060".parse().unwrap());
    let r = parse_message(&t.bytes, &Limits::default()).unwrap();
    assert_eq!(r.top_via().unwrap().received(), Some("2001:db8::9:7"));
    assert_eq!(r.top_via().unwrap().host, host6("2001:db8::9:1"));
}

/// §4.1: IPv6 references in the Request-URI, the Via sent-by and the Contact.
#[test]
fn ipv6_good_values() {
    let m = parse("ipv6-good.dat").unwrap();
    assert_eq!(m.method(), Some(&Method::Register));
    let u = ruri(&m);
    assert_eq!(
        (&u.host, u.port, Some(&*u.user).filter(|u| !u.is_empty())),
        (&host6("2001:db8::10"), None, None)
    );
    let v = vias(&m);
    assert_eq!(v.len(), 1);
    assert_eq!((&v[0].host, v[0].port), (&host6("2001:db8::9:1"), None));
    assert_eq!(&*v[0].transport, "UDP");
    assert_eq!(v[0].branch(), Some("z9hG4bKas3-111"));
    let c = m.contacts().next().unwrap();
    assert_eq!(c.display_name().as_deref(), Some("Caller"));
    let cu = sip(&c.uri);
    assert_eq!(
        (Some(&*cu.user).filter(|u| !u.is_empty()), &cu.host, cu.port),
        (Some("caller"), &host6("2001:db8::1"), None)
    );
    assert_eq!(m.call_id(), Some("SSG9559905523997077@hlau_4100"));
    assert_eq!(m.cseq().unwrap().seq, 98176);
}

/// §4.2: the same REGISTER with the Request-URI's brackets missing is a malformed Request-URI
/// (400), and nothing else in it is at fault.
#[test]
fn ipv6_bad_is_a_bad_request_uri() {
    let e = parse("ipv6-bad.dat").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequestUri);
    assert_eq!(e.offset, "REGISTER sip:".len(), "at the host");
    let bytes = rfc5118("ipv6-bad.dat");
    let good = String::from_utf8(rfc5118("ipv6-good.dat")).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        good.replace("sip:[2001:db8::10]", "sip:2001:db8::10")
    );
}

/// §4.3 and §4.4: inside the brackets everything is address; a port comes after the "]".
#[test]
fn port_ambiguous_and_unambiguous() {
    let m = parse("port-ambiguous.dat").unwrap();
    let u = ruri(&m);
    assert_eq!((&u.host, u.port), (&host6("2001:db8::10:5070"), None));
    assert_eq!(v6("2001:db8::10:5070").segments()[7], 0x5070);

    let m = parse("port-unambiguous.dat").unwrap();
    let u = ruri(&m);
    assert_eq!((&u.host, u.port), (&host6("2001:db8::10"), Some(5070)));
    // The rest of both messages is §4.1's.
    for m in [parse("port-ambiguous.dat").unwrap(), m] {
        assert_eq!(vias(&m)[0].host, host6("2001:db8::9:1"));
        assert_eq!(
            sip(&m.contacts().next().unwrap().uri).host,
            host6("2001:db8::1")
        );
    }
}

/// §4.5: `received` with and without the brackets; both parse, the top Via is usable.
#[test]
fn via_received_with_and_without_brackets() {
    let m = parse("via-received-param-with-delim.dat").unwrap();
    assert_eq!(m.method(), Some(&Method::Bye));
    assert_eq!(ruri(&m).host, host6("2001:db8::10"));
    let v = vias(&m);
    assert_eq!(v.len(), 1);
    assert_eq!((&v[0].host, v[0].port), (&host6("2001:db8::9:1"), None));
    assert_eq!(v[0].received(), Some("[2001:db8::9:255]"));
    assert_eq!(v[0].branch(), Some("z9hG4bKas3-111"));
    let received = v[0].received().unwrap();
    assert_eq!(
        received
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<Ipv6Addr>(),
        Ok(v6("2001:db8::9:255"))
    );
    assert_eq!(m.to().unwrap().tag(), Some("bd76ya"));

    let m = parse("via-received-param-no-delim.dat").unwrap();
    assert_eq!(m.method(), Some(&Method::Options));
    assert_eq!(ruri(&m).host, host6("2001:db8::10"));
    let v = vias(&m);
    assert_eq!((&v[0].host, v[0].port), (&host6("2001:db8::9:1"), None));
    assert_eq!(v[0].received(), Some("2001:db8::9:255"));
    assert_eq!(
        v[0].received().unwrap().parse::<Ipv6Addr>(),
        Ok(v6("2001:db8::9:255"))
    );
    assert_eq!(v[0].branch(), Some("z9hG4bKas3"));
    assert_eq!(
        sip(&m.contacts().next().unwrap().uri).host,
        host6("2001:db8::9:1")
    );
}

/// §4.6: as the RFC gives it, its Content-Length (268) is larger than its body, which over UDP
/// is an error (RFC 3261 §18.3); with the length corrected it parses, and the IPv6 addresses are
/// bracketed in SIP and bare in the SDP.
#[test]
fn ipv6_in_sdp() {
    let bytes = rfc5118("ipv6-in-sdp.dat");
    let e = parse("ipv6-in-sdp.dat").unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::BodyTruncated, bytes.len()));
    let body_len = bytes.len() - (bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4);
    assert_eq!(body_len, 251);
    assert!(String::from_utf8_lossy(&bytes).contains("Content-Length: 268\r\n"));

    let fixed = with_true_content_length(&bytes);
    assert_eq!(fixed.len(), bytes.len(), "268 and 251 have as many digits");
    let m = Message::parse(fixed.into(), &Limits::default()).unwrap();
    assert_eq!(m.method(), Some(&Method::Invite));
    let u = ruri(&m);
    assert_eq!(
        (Some(&*u.user).filter(|u| !u.is_empty()), &u.host),
        (Some("user"), &host6("2001:db8::10"))
    );
    assert_eq!(sip(&m.to().unwrap().uri).host, host6("2001:db8::10"));
    assert_eq!(vias(&m)[0].host, host6("2001:db8::20"));
    assert_eq!(
        sip(&m.contacts().next().unwrap().uri).host,
        host6("2001:db8::20")
    );
    assert!(m.content_type().unwrap().is("application", "sdp"));
    assert_eq!(m.body.len(), 251);
    assert_eq!(
        sdp_connections(&m.body),
        [("IP6".to_string(), "2001:db8::20".to_string())]
    );
    assert!(String::from_utf8_lossy(&m.body)
        .contains("o=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\n"));
    // And the endpoint takes it to the application (which answers 480) instead of a 400.
    assert_eq!(uas_answer(&with_true_content_length(&bytes)), "480");
}

/// §4.7: a Via list mixing IPv6 references (one with a port) and an IPv4 address.
#[test]
fn mult_ip_in_header_values() {
    let m = parse("mult-ip-in-header.dat").unwrap();
    assert_eq!(m.method(), Some(&Method::Bye));
    assert_eq!(ruri(&m).host, Host::Domain("host.example.net".into()));
    let v = vias(&m);
    assert_eq!(v.len(), 3);
    assert_eq!(
        (&*v[0].transport, &v[0].host, v[0].port, v[0].branch()),
        (
            "UDP",
            &host6("2001:db8::9:1"),
            Some(6050),
            Some("z9hG4bKas3-111")
        )
    );
    assert_eq!(
        (&*v[1].transport, &v[1].host, v[1].port),
        ("UDP", &Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)), None)
    );
    assert_eq!(v[1].branch(), Some("z9hG4bKjhja8781hjuaij65144"));
    assert_eq!(
        (&*v[2].transport, &v[2].host, v[2].port),
        ("TCP", &host6("2001:db8::9:255"), None)
    );
    assert_eq!(v[2].received(), Some("192.0.2.200"));
    assert_eq!(v[2].branch(), Some("z9hG4bK451jj"));
    assert_eq!(m.to().unwrap().tag(), Some("9817--94"));
}

/// §4.8: one stream on IPv4, one on IPv6. The RFC's Content-Length (181) is 8 octets short of
/// the body: those 8 are ignored (RFC 3261 §18.3), and both `c=` lines are before them.
#[test]
fn mult_ip_in_sdp_values() {
    let m = parse("mult-ip-in-sdp.dat").unwrap();
    assert_eq!(ruri(&m).host, host6("2001:db8::10"));
    assert_eq!(sip(&m.to().unwrap().uri).host, host6("2001:db8::10"));
    assert_eq!(vias(&m)[0].host, host6("2001:db8::9:1"));
    assert_eq!(
        sip(&m.contacts().next().unwrap().uri).host,
        host6("2001:db8::9:1")
    );
    assert_eq!(m.body.len(), 181);
    assert!(m.body.ends_with(b"a=rtpmap:107 H263-1998"));
    assert_eq!(
        sdp_connections(&m.body),
        [
            ("IP4".to_string(), "192.0.2.1".to_string()),
            ("IP6".to_string(), "2001:db8::1".to_string())
        ]
    );
    let addr: Ipv6Addr = sdp_connections(&m.body)[1].1.parse().unwrap();
    assert_eq!(addr, v6("2001:db8::1"));
}

/// §4.9: IPv4-mapped IPv6 addresses in the Vias (the top one with a port after the "]"), the
/// Contact and the SDP.
#[test]
fn ipv4_mapped_ipv6_values() {
    let m = parse("ipv4-mapped-ipv6.dat").unwrap();
    assert_eq!(ruri(&m).host, Host::Domain("example.com".into()));
    let v = vias(&m);
    assert_eq!(v.len(), 2);
    let mapped = |a: [u8; 4]| Host::Ipv6(Ipv4Addr::from(a).to_ipv6_mapped());
    assert_eq!(
        (&v[0].host, v[0].port),
        (&mapped([192, 0, 2, 10]), Some(19823))
    );
    assert_eq!(v[0].branch(), Some("z9hG4bKbh19"));
    assert_eq!((&v[1].host, v[1].port), (&mapped([192, 0, 2, 2]), None));
    let c = m.contacts().next().unwrap();
    assert_eq!(c.display_name().as_deref(), Some("T. desk phone"));
    assert_eq!(sip(&c.uri).host, mapped([192, 0, 2, 2]));
    assert_eq!(Some(&*sip(&c.uri).user), Some("ted"));
    // Content-Length 236 of a 245-octet body: the last 9 octets are ignored.
    assert_eq!(m.body.len(), 236);
    assert_eq!(
        sdp_connections(&m.body),
        [("IP6".to_string(), "::ffff:192.0.2.2".to_string())]
    );
    let sdp_addr: Ipv6Addr = sdp_connections(&m.body)[0].1.parse().unwrap();
    assert_eq!(sdp_addr.to_ipv4_mapped(), Some(Ipv4Addr::new(192, 0, 2, 2)));
}

/// §4.10: the three-colon reference RFC 3261's ABNF derives is tolerated and names the same
/// address as the correct two-colon one, in the Request-URI and in To.
#[test]
fn abnf_bug_three_colons_is_tolerated() {
    let want = host6("2001:db8::192.0.2.1");
    for file in [
        "ipv6-bug-abnf-3-colons.dat",
        "ipv6-correct-abnf-2-colons.dat",
    ] {
        let m = parse(file).unwrap();
        assert_eq!(m.method(), Some(&Method::Options), "{file}");
        let u = ruri(&m);
        assert_eq!(
            (Some(&*u.user).filter(|u| !u.is_empty()), &u.host, u.port),
            (Some("user"), &want, None),
            "{file}"
        );
        assert_eq!(sip(&m.to().unwrap().uri).host, want, "{file}");
        assert_eq!(
            vias(&m)[0].host,
            Host::Domain("lab1.east.example.com".into())
        );
    }
    let three = String::from_utf8(rfc5118("ipv6-bug-abnf-3-colons.dat")).unwrap();
    let two = String::from_utf8(rfc5118("ipv6-correct-abnf-2-colons.dat")).unwrap();
    assert_eq!(
        three.replace(":::", "::"),
        two,
        "the pair differs only by the extra colons"
    );
}

/// The tolerance is only for what RFC 3261's `IPv6address = hexpart [ ":" IPv4address ]`
/// derives: `::` then `:` then a trailing IPv4 address. Every other `:::` is still an error, as
/// is a Request-URI without brackets (§4.2).
#[test]
fn three_colons_only_before_an_ipv4_address() {
    let host = |u: &str| match parse_uri(u.as_bytes()) {
        Ok(Uri::Sip(s)) => Some(format!("{:?}", s.host)),
        _ => None,
    };
    let h = |a: &str| Some(format!("{:?}", host6::<&str>(a)));
    assert_eq!(host("sip:[2001:db8:::192.0.2.1]"), h("2001:db8::192.0.2.1"));
    assert_eq!(
        host("sip:u@[2001:db8:::192.0.2.1]:5070"),
        h("2001:db8::192.0.2.1")
    );
    assert_eq!(host("sip:[:::192.0.2.1]"), h("::192.0.2.1"));
    assert_eq!(host("sip:[::ffff:192.0.2.1]"), h("::ffff:192.0.2.1"));
    for bad in [
        "sip:[2001:db8:::1]",
        "sip:[2001:db8:::]",
        "sip:[:::1]",
        "sip:[2001:db8::1:::192.0.2.1]",
        "sip:[2001:db8::::192.0.2.1]",
        "sip:[2001:db8:::192.0.2]",
        "sip:[2001:db8:::192.0.2.1:5]",
        "sip:[1:2:3:4:5:6:7:::192.0.2.1]",
        "sip:2001:db8::10",
    ] {
        assert_eq!(host(bad), None, "{bad}");
    }
}
