//! Property tests: generated messages round-trip (emit → parse → equal model), arbitrary and
//! mutated bytes never panic, and the stream decoder is independent of chunking.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use sipxfer::msg::builder::refer_to_with_replaces;
use sipxfer::msg::*;
use sipxfer::parse::{Limits, StreamDecoder};
use sipxfer::SipStr;
use std::net::Ipv4Addr;

fn s(x: String) -> SipStr {
    SipStr::from(x)
}

fn token() -> impl Strategy<Value = SipStr> {
    "[a-zA-Z0-9][a-zA-Z0-9.!%*_+`'~-]{0,9}".prop_map(s)
}

fn host() -> impl Strategy<Value = Host<SipStr>> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9-]{0,8}){0,2}".prop_map(|d| Host::Domain(s(d))),
        any::<[u8; 4]>().prop_map(|o| Host::Ipv4(Ipv4Addr::from(o))),
        any::<[u16; 8]>().prop_map(|o| Host::Ipv6(o.into())),
    ]
}

fn gen_params() -> impl Strategy<Value = Params<SipStr>> {
    vec(
        (
            token(),
            proptest::option::of(prop_oneof![
                token(),
                "\"[a-zA-Z0-9 ,;:<>@=]{0,10}\"".prop_map(s)
            ]),
        ),
        0..3,
    )
    .prop_map(build)
}

fn uri_params() -> impl Strategy<Value = Params<SipStr>> {
    vec(
        (
            "[a-z][a-z0-9-]{0,6}".prop_map(s),
            proptest::option::of("[a-zA-Z0-9.%-]{1,8}".prop_map(s)),
        ),
        0..3,
    )
    .prop_map(build)
}

fn build(v: Vec<(SipStr, Option<SipStr>)>) -> Params<SipStr> {
    v.iter()
        .fold(Params::new(), |p, (n, v)| p.with(n, v.as_deref()))
}

fn sip_uri() -> impl Strategy<Value = SipUri<SipStr>> {
    (
        any::<bool>(),
        proptest::option::of("[a-zA-Z0-9_.!~*'()&=+$,-]{1,10}".prop_map(s)),
        host(),
        proptest::option::of(any::<u16>()),
        uri_params(),
    )
        .prop_map(|(secure, user, host, port, params)| SipUri {
            secure,
            user: user.unwrap_or_default(),
            password: None,
            host,
            port,
            params,
            headers: UriHeaders::new(),
        })
}

fn uri() -> impl Strategy<Value = Uri<SipStr>> {
    prop_oneof![
        4 => sip_uri().prop_map(Uri::Sip),
        1 => ("\\+[0-9]{3,12}".prop_map(s), uri_params()).prop_map(|(number, params)| Uri::Tel(TelUri { number, params })),
        1 => ("[a-z][a-z0-9+.-]{0,6}", "[a-zA-Z0-9/:@&=+$,._~-]{1,12}").prop_filter("not sip/sips/tel", |(sc, _)| {
            !["sip", "sips", "tel"].contains(&sc.to_ascii_lowercase().as_str())
        }).prop_map(|(scheme, opaque)| Uri::Other { scheme: s(scheme), opaque: s(opaque) }),
    ]
}

fn name_addr() -> impl Strategy<Value = NameAddr<SipStr>> {
    (
        proptest::option::of(prop_oneof![
            "\"[a-zA-Z0-9 ,;:<>@]{0,10}\"".prop_map(s),
            "[A-Za-z]{1,6}( [A-Za-z]{1,6}){0,2}".prop_map(s),
        ]),
        uri(),
        gen_params(),
    )
        .prop_map(|(display, uri, params)| NameAddr {
            display: display.unwrap_or_default(),
            uri,
            params,
        })
}

fn via() -> impl Strategy<Value = Via<SipStr>> {
    (
        prop_oneof![Just("UDP"), Just("TCP"), Just("TLS"), Just("WS")],
        host(),
        proptest::option::of(any::<u16>()),
        token(),
        gen_params(),
    )
        .prop_map(|(t, host, port, branch, rest)| {
            let mut params = ViaParams::new().with("branch", Some(&format!("z9hG4bK{branch}")));
            for p in rest.iter() {
                params.push(p.name, p.value);
            }
            Via {
                protocol: SipStr::from_static("SIP"),
                version: SipStr::from_static("2.0"),
                transport: SipStr::from_static(t),
                host,
                port,
                params,
            }
        })
}

fn method() -> impl Strategy<Value = Method<SipStr>> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Ack),
        Just(Method::Bye),
        Just(Method::Refer),
        Just(Method::Notify),
        Just(Method::Subscribe),
        Just(Method::Options),
        "X[A-Z]{1,6}".prop_map(|m| Method::Extension(Box::new(s(m)))),
    ]
}

fn extra_header() -> impl Strategy<Value = Header<SipStr>> {
    prop_oneof![
        vec(name_addr(), 1..3).prop_map(|v| Header::Route(v.into_iter().collect())),
        vec(name_addr(), 1..3).prop_map(|v| Header::RecordRoute(v.into_iter().collect())),
        vec(name_addr(), 1..3)
            .prop_map(|v| Header::Contact(Contact::Addrs(v.into_iter().collect()))),
        name_addr().prop_map(Header::ReferTo),
        (
            sip_uri(),
            "[a-z0-9]{1,8}@[a-z]{1,5}",
            token(),
            token(),
            any::<bool>()
        )
            .prop_map(|(u, c, t, f, e)| {
                Header::ReferTo(refer_to_with_replaces(&u, &Replaces::new(&c, &t, &f, e)))
            }),
        name_addr().prop_map(Header::ReferredBy),
        (token(), gen_params())
            .prop_map(|(package, params)| Header::Event(Event { package, params })),
        (
            prop_oneof![Just("active"), Just("pending"), Just("terminated")],
            gen_params()
        )
            .prop_map(|(st, params)| Header::SubscriptionState(SubscriptionState {
                state: SipStr::from_static(st),
                params
            })),
        vec(token(), 0..4).prop_map(|v| Header::Supported(v.into_iter().collect())),
        vec(token(), 1..3).prop_map(|v| Header::Require(v.into_iter().collect())),
        vec(method(), 0..5).prop_map(|v| Header::Allow(v.into_iter().collect())),
        any::<u32>().prop_map(Header::Expires),
        (any::<bool>(), gen_params())
            .prop_map(|(value, params)| Header::ReferSub(ReferSub { value, params })),
        (
            "[a-z0-9]{1,8}@[a-z]{1,5}",
            token(),
            token(),
            any::<bool>(),
            gen_params()
        )
            .prop_map(|(c, t, f, e, extra)| {
                let mut r = Replaces::new(&c, &t, &f, e);
                for p in extra.iter().filter(|p| {
                    !["to-tag", "from-tag"]
                        .iter()
                        .any(|n| p.name.eq_ignore_ascii_case(n))
                }) {
                    r.params.push(p.name, p.value);
                }
                Header::Replaces(r)
            }),
        (100u16..700, token(), "\"[a-zA-Z ]{0,10}\"").prop_map(|(code, agent, text)| {
            let mut v = Values::new();
            v.push(Warning {
                code,
                agent,
                text: s(text),
            });
            Header::Warning(v)
        }),
        ("X-[A-Za-z0-9-]{1,8}", "[!-~]([ -~]{0,18}[!-~])?").prop_map(|(n, v)| Header::Extension {
            name: s(n),
            value: s(v)
        }),
        "[!-~]([ -~]{0,18}[!-~])?".prop_map(|v| Header::Raw {
            name: HeaderName::Subject,
            value: s(v)
        }),
    ]
}

prop_compose! {
    fn message()(
        request in any::<bool>(),
        m in method(),
        ruri in uri(),
        code in 100u16..700,
        reason in "[A-Za-z ]{0,12}",
        vias in vec(via(), 1..4),
        from in name_addr(),
        to in name_addr(),
        call_id in "[a-zA-Z0-9.!%*_+`'~()<>:/?{}-]{1,16}(@[a-z0-9.]{1,10})?",
        seq in any::<u32>(),
        mf in proptest::option::of(any::<u8>()),
        extra in vec(extra_header(), 0..6),
        body in vec(any::<u8>(), 0..64),
        ct in any::<bool>(),
    ) -> Message {
        let mut headers = vec![
            Header::Via(vias.into_iter().collect()),
            Header::From(from),
            Header::To(to),
            Header::CallId(s(call_id)),
            Header::CSeq(CSeq { seq, method: m.clone() }),
        ];
        if let Some(mf) = mf {
            headers.push(Header::MaxForwards(mf));
        }
        // Singletons at most once.
        let mut seen = std::collections::HashSet::new();
        for h in extra {
            let single = matches!(h.name(), HeaderName::Event | HeaderName::SubscriptionState | HeaderName::ReferredBy
                | HeaderName::Expires | HeaderName::ReferSub | HeaderName::Replaces);
            if !single || seen.insert(h.name()) {
                headers.push(h);
            }
        }
        if ct && !body.is_empty() {
            headers.push(Header::ContentType(MediaType {
                ty: SipStr::from_static("application"),
                subtype: SipStr::from_static("sdp"),
                params: Params::new(),
            }));
        }
        let start = if request {
            StartLine::Request { method: m, uri: ruri }
        } else {
            StartLine::Response { code, reason: s(reason) }
        };
        Message { start, headers: headers.into(), body: Bytes::from(body) }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn generated_messages_roundtrip(m in message()) {
        let wire = m.to_bytes();
        let parsed = Message::parse(wire.clone(), &Limits::default());
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.as_ref().err(), String::from_utf8_lossy(&wire));
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &m, "{}", String::from_utf8_lossy(&wire));
        prop_assert_eq!(parsed.to_bytes(), wire);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..2048)) {
        sipxfer::fuzzing::parse_message(&data);
        sipxfer::fuzzing::parse_uri(&data);
        sipxfer::fuzzing::roundtrip(&data);
        sipxfer::fuzzing::stream_decoder(&data);
    }

    #[test]
    fn mutated_valid_messages_never_panic(
        m in message(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut data = m.to_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(data.len() + 1);
            match op {
                0 if i < data.len() => data[i] = byte,
                1 => data.insert(i, byte),
                _ if i < data.len() => { data.remove(i); }
                _ => {}
            }
        }
        sipxfer::fuzzing::parse_message(&data);
        sipxfer::fuzzing::roundtrip(&data);
        let mut seeded = vec![data.len() as u8];
        seeded.extend_from_slice(&data);
        sipxfer::fuzzing::stream_decoder(&seeded);
    }

    #[test]
    fn stream_chunking_does_not_matter(
        msgs in vec(message(), 1..4),
        keepalive in any::<bool>(),
        cuts in vec(1usize..200, 1..20),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for m in &msgs {
            if keepalive {
                stream.extend_from_slice(b"\r\n\r\n");
            }
            let w = m.to_bytes();
            expected.push(w.clone());
            stream.extend_from_slice(&w);
        }
        let mut d = StreamDecoder::new(Limits::default());
        let mut got = Vec::new();
        let mut pos = 0;
        let mut k = 0;
        while pos < stream.len() {
            let n = cuts[k % cuts.len()].min(stream.len() - pos);
            d.push(&stream[pos..pos + n]);
            pos += n;
            k += 1;
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        prop_assert_eq!(got, expected);
        prop_assert_eq!(d.buffered(), 0);
    }
}
