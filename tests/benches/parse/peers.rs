//! The peer parsers, driven the way their own stacks drive them (written from their docs and
//! sources): `<crate>_frame` is the cheapest whole-message parse into start line + raw headers +
//! body; `<crate>_typed` adds the typed decode of every header the corpus uses that the crate
//! can type. Parsers that take `Bytes` are handed a clone of a shared buffer (no copy).

use std::fmt::{self, Display};

// ---------------------------------------------------------------------------------------------
// fact sink
// ---------------------------------------------------------------------------------------------

pub trait Sink {
    fn put(&mut self, key: &'static str, idx: usize, val: &dyn Display);
}

/// What the benchmark uses: nothing is formatted, nothing allocated.
pub struct Discard;
impl Sink for Discard {
    #[inline(always)]
    fn put(&mut self, _: &'static str, _: usize, _: &dyn Display) {}
}

/// Lossy UTF-8 display of bytes.
pub struct B<'a>(pub &'a [u8]);
impl Display for B<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.0))
    }
}

/// Lazily formatted value (closure runs only if the sink formats it).
pub struct L<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result>(pub F);
impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> Display for L<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}

pub type R = Result<(), String>;
fn err<E: fmt::Debug>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e:?}")
}

/// Shared helper for crates with no typed Replaces: percent-decode the `Replaces` URI-header value
/// and split it (RFC 3891 §6.1: callid *(;param)).  Emits replaces.{callid,totag,fromtag}.
fn manual_replaces<S: Sink>(raw: &str, s: &mut S) -> R {
    let mut dec = Vec::with_capacity(raw.len());
    let rb = raw.as_bytes();
    let mut i = 0;
    while i < rb.len() {
        if rb[i] == b'%' && i + 2 < rb.len() {
            let h = std::str::from_utf8(&rb[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(h) = h {
                dec.push(h);
                i += 3;
                continue;
            }
        }
        dec.push(rb[i]);
        i += 1;
    }
    let dec = String::from_utf8(dec).map_err(err("replaces utf8"))?;
    let mut parts = dec.split(';');
    s.put("replaces.callid", 0, &parts.next().unwrap_or(""));
    for p in parts {
        match p.split_once('=') {
            Some(("to-tag", v)) => s.put("replaces.totag", 0, &v),
            Some(("from-tag", v)) => s.put("replaces.fromtag", 0, &v),
            _ => {}
        }
    }
    Ok(())
}

// =============================================================================================
// rsip 0.4
// =============================================================================================

/// Frame: `SipMessage::try_from(&[u8])` — nom tokenizer, then every header becomes a
/// `Header::<Variant>(String)` (untyped, owned).  No compact-name mapping.
pub fn rsip_frame(b: &[u8]) -> bool {
    rsip::SipMessage::try_from(b).is_ok()
}

pub fn rsip_typed(b: &[u8]) -> bool {
    rsip_typed_with(b, &mut Discard).is_ok()
}

fn rsip_uri(u: &rsip::Uri) -> impl Display + '_ {
    L(move |f| {
        if let Some(a) = &u.auth {
            write!(f, "{}@", a.user)?;
        }
        write!(f, "{}", u.host_with_port.host)?;
        if let Some(p) = &u.host_with_port.port {
            write!(f, ":{}", p)?;
        }
        Ok(())
    })
}

pub fn rsip_typed_with<S: Sink>(b: &[u8], s: &mut S) -> R {
    use rsip::headers::{typed, ToTypedHeader, UntypedHeader};
    use rsip::param::Param;
    use rsip::prelude::*;
    use rsip::{Header, SipMessage};

    let m = SipMessage::try_from(b).map_err(err("frame"))?;
    match &m {
        SipMessage::Request(r) => {
            s.put("start", 0, &r.method);
            s.put("ruri", 0, &rsip_uri(&r.uri));
        }
        SipMessage::Response(r) => s.put("start", 0, &r.status_code.code()),
    }
    s.put("body.len", 0, &m.body().len());
    // mandatory headers: the HeadersExt accessors (fail => typed failure)
    m.via_header().map_err(err("Via"))?;
    let (mut nvia, mut nroute, mut nrr, mut ncontact) = (0, 0, 0, 0);
    for h in m.headers().iter() {
        match h {
            Header::Via(v) => {
                let v = v.typed().map_err(err("Via"))?;
                let i = nvia;
                nvia += 1;
                s.put("via.host#", i, &v.uri.host_with_port.host);
                if let Some(p) = &v.uri.host_with_port.port {
                    s.put("via.port#", i, p);
                }
                if let Some(br) = v.branch() {
                    s.put("via.branch#", i, br);
                }
                if let Some(rc) = v.received().map_err(err("Via received"))? {
                    s.put("via.received#", i, &rc);
                }
                for p in &v.params {
                    if let Param::Other(n, val) = p {
                        if n.value().eq_ignore_ascii_case("rport") {
                            match val {
                                Some(val) => s.put("via.rport#", i, &val.value()),
                                None => s.put("via.rport#", i, &""),
                            }
                        }
                    }
                }
            }
            Header::From(x) => {
                let x = x.typed().map_err(err("From"))?;
                if let Some(n) = &x.display_name {
                    s.put("from.name", 0, n);
                }
                s.put("from.uri", 0, &rsip_uri(&x.uri));
                if let Some(t) = x.tag() {
                    s.put("from.tag", 0, t);
                }
            }
            Header::To(x) => {
                let x = x.typed().map_err(err("To"))?;
                if let Some(n) = &x.display_name {
                    s.put("to.name", 0, n);
                }
                s.put("to.uri", 0, &rsip_uri(&x.uri));
                if let Some(t) = x.tag() {
                    s.put("to.tag", 0, t);
                }
            }
            Header::CallId(x) => s.put("callid", 0, &x.value()),
            Header::CSeq(x) => {
                let x = x.typed().map_err(err("CSeq"))?;
                s.put("cseq.seq", 0, &x.seq);
                s.put("cseq.method", 0, &x.method);
            }
            Header::MaxForwards(x) => s.put("maxfwd", 0, &x.num().map_err(err("Max-Forwards"))?),
            Header::Contact(x) => {
                let x = x.typed().map_err(err("Contact"))?;
                let i = ncontact;
                ncontact += 1;
                s.put("contact.uri#", i, &rsip_uri(&x.uri));
                for p in &x.uri.params {
                    if let Param::Transport(t) = p {
                        s.put("contact.transport#", i, t);
                    }
                }
            }
            Header::Route(x) => {
                for u in x.typed().map_err(err("Route"))?.uris() {
                    s.put("route.uri#", nroute, &rsip_uri(&u.uri));
                    nroute += 1;
                }
            }
            Header::RecordRoute(x) => {
                for u in x.typed().map_err(err("Record-Route"))?.uris() {
                    s.put("rr.uri#", nrr, &rsip_uri(&u.uri));
                    nrr += 1;
                }
            }
            Header::ContentType(x) => {
                let typed::ContentType(mt) = x.typed().map_err(err("Content-Type"))?;
                let (name, params) = match &mt {
                    typed::MediaType::Sdp(p) => ("application/sdp", p),
                    typed::MediaType::Other(n, p) => (n.as_str(), p),
                };
                s.put("ctype", 0, &name);
                for typed::media_type::MediaTypeParam(k, v) in params {
                    if k.eq_ignore_ascii_case("version") {
                        s.put("ctype.version", 0, v);
                    }
                }
            }
            Header::ContentLength(x) => {
                s.put("clen", 0, &x.length().map_err(err("Content-Length"))?)
            }
            Header::Expires(x) => s.put("expires", 0, &x.seconds().map_err(err("Expires"))?),
            Header::Allow(x) => s.put("allow.n", 0, &x.typed().map_err(err("Allow"))?.0.len()),
            // Supported/Require/Event/Subscription-State: untyped String newtypes only in rsip 0.4.
            // Refer-To / Referred-By / Replaces: not known at all (Header::Other); parse with the
            // generic name-addr parser of the typed Contact header.
            Header::Other(n, v) if n.eq_ignore_ascii_case("Refer-To") => {
                let c = rsip::headers::Contact::new(v.clone())
                    .typed()
                    .map_err(err("Refer-To"))?;
                s.put("referto.uri", 0, &rsip_uri(&c.uri));
                s.put("referto.wire", 0, &L(|f| write!(f, "<{}>", c.uri)));
                // rsip::Uri has `headers: Vec<u32>` that the tokenizer never fills
                // ("TODO: support headers in the uri"), so the Replaces is lost.
            }
            Header::Other(n, v) if n.eq_ignore_ascii_case("Referred-By") => {
                let c = rsip::headers::Contact::new(v.clone())
                    .typed()
                    .map_err(err("Referred-By"))?;
                s.put("referredby.uri", 0, &rsip_uri(&c.uri));
            }
            _ => {}
        }
    }
    s.put("via.n", 0, &nvia);
    s.put("route.n", 0, &nroute);
    s.put("rr.n", 0, &nrr);
    s.put("contact.n", 0, &ncontact);
    // the dialog-identifying headers must all be there
    m.from_header().map_err(err("From"))?;
    m.to_header().map_err(err("To"))?;
    m.call_id_header().map_err(err("Call-ID"))?;
    m.cseq_header().map_err(err("CSeq"))?;
    Ok(())
}

// =============================================================================================
// rsipstack 0.7 (own `sip` module; successor/fork of rsip's types)
// =============================================================================================

/// Frame: `rsipstack::sip::parser::parse_message(&[u8])` (what `SipMessage::try_from` calls):
/// memchr for CRLFCRLF, split lines, `make_header(name, String)` per header (compact names
/// mapped), body = `Content-Length` bytes copied into a Vec.
pub fn rsipstack_frame(b: &[u8]) -> bool {
    rsipstack::sip::parser::parse_message(b).is_ok()
}

pub fn rsipstack_typed(b: &[u8]) -> bool {
    rsipstack_typed_with(b, &mut Discard).is_ok()
}

fn rsipstack_uri(u: &rsipstack::sip::Uri) -> impl Display + '_ {
    L(move |f| {
        if let Some(a) = &u.auth {
            write!(f, "{}@", a.user)?;
        }
        write!(f, "{}", u.host_with_port.host)?;
        if let Some(p) = &u.host_with_port.port {
            write!(f, ":{}", p)?;
        }
        Ok(())
    })
}

pub fn rsipstack_typed_with<S: Sink>(b: &[u8], s: &mut S) -> R {
    use rsipstack::sip::param::*;
    use rsipstack::sip::prelude::*;
    use rsipstack::sip::uri::Param;
    use rsipstack::sip::{typed, Header, SipMessage};

    let m = rsipstack::sip::parser::parse_message(b).map_err(err("frame"))?;
    match &m {
        SipMessage::Request(r) => {
            s.put("start", 0, &r.method);
            s.put("ruri", 0, &rsipstack_uri(&r.uri));
        }
        SipMessage::Response(r) => s.put("start", 0, &r.status_code.code()),
    }
    let body = match &m {
        SipMessage::Request(r) => &r.body,
        SipMessage::Response(r) => &r.body,
    };
    s.put("body.len", 0, &body.len());
    let (mut nvia, mut nroute, mut nrr, mut ncontact) = (0, 0, 0, 0);
    for h in m.headers().iter() {
        match h {
            Header::Via(v) => {
                let v = v.typed().map_err(err("Via"))?;
                let i = nvia;
                nvia += 1;
                s.put("via.host#", i, &v.uri.host_with_port.host);
                if let Some(p) = &v.uri.host_with_port.port {
                    s.put("via.port#", i, p);
                }
                for p in &v.params {
                    match p {
                        Param::Branch(Branch(x)) => s.put("via.branch#", i, x),
                        Param::Received(Received(x)) => s.put("via.received#", i, x),
                        Param::Rport(Some(x)) => s.put("via.rport#", i, x),
                        Param::Rport(None) => s.put("via.rport#", i, &""),
                        _ => {}
                    }
                }
            }
            Header::From(x) => {
                let x = x.typed().map_err(err("From"))?;
                if let Some(n) = &x.display_name {
                    s.put("from.name", 0, n);
                }
                s.put("from.uri", 0, &rsipstack_uri(&x.uri));
                if let Some(t) = x.tag() {
                    s.put("from.tag", 0, t);
                }
            }
            Header::To(x) => {
                let x = x.typed().map_err(err("To"))?;
                if let Some(n) = &x.display_name {
                    s.put("to.name", 0, n);
                }
                s.put("to.uri", 0, &rsipstack_uri(&x.uri));
                if let Some(t) = x.tag() {
                    s.put("to.tag", 0, t);
                }
            }
            Header::CallId(x) => s.put("callid", 0, &x.value()),
            Header::CSeq(x) => {
                let x = x.typed().map_err(err("CSeq"))?;
                s.put("cseq.seq", 0, &x.seq);
                s.put("cseq.method", 0, &x.method);
            }
            // Max-Forwards / Content-Length / Expires: untyped String newtypes, no accessor.
            Header::MaxForwards(x) => s.put(
                "maxfwd",
                0,
                &x.value()
                    .trim()
                    .parse::<u32>()
                    .map_err(err("Max-Forwards"))?,
            ),
            Header::ContentLength(x) => s.put(
                "clen",
                0,
                &x.value()
                    .trim()
                    .parse::<u32>()
                    .map_err(err("Content-Length"))?,
            ),
            Header::Expires(x) => s.put(
                "expires",
                0,
                &x.value().trim().parse::<u32>().map_err(err("Expires"))?,
            ),
            Header::Contact(x) => {
                for c in typed::Contact::parse_header_list(x.value()).map_err(err("Contact"))? {
                    s.put("contact.uri#", ncontact, &rsipstack_uri(&c.uri));
                    for p in &c.uri.params {
                        if let Param::Transport(t) = p {
                            s.put("contact.transport#", ncontact, t);
                        }
                    }
                    ncontact += 1;
                }
            }
            Header::Route(x) => {
                for r in typed::Route::parse_header_list(x.value()).map_err(err("Route"))? {
                    s.put("route.uri#", nroute, &rsipstack_uri(&r.uri));
                    nroute += 1;
                }
            }
            Header::RecordRoute(x) => {
                for r in
                    typed::RecordRoute::parse_header_list(x.value()).map_err(err("Record-Route"))?
                {
                    s.put("rr.uri#", nrr, &rsipstack_uri(&r.uri));
                    nrr += 1;
                }
            }
            Header::Allow(x) => s.put(
                "allow.n",
                0,
                &typed::Allow::parse(x.value())
                    .map_err(err("Allow"))?
                    .methods
                    .len(),
            ),
            // Content-Type, Supported, Require, Event, Subscription-State, Referred-By, Replaces:
            // untyped String newtypes only (recognised by name, no parser).
            Header::ReferTo(x) => {
                // no typed Refer-To; the typed Route parser is a generic name-addr parser that
                // keeps URI headers (typed::Contact::parse would clear them).
                let r = typed::Route::parse(x.value()).map_err(err("Refer-To"))?;
                s.put("referto.uri", 0, &rsipstack_uri(&r.uri));
                s.put("referto.wire", 0, &L(|f| write!(f, "<{}>", r.uri)));
                for (k, v) in &r.uri.headers {
                    if k.eq_ignore_ascii_case("Replaces") {
                        manual_replaces(v, s)?;
                    }
                }
            }
            Header::ReferredBy(x) => {
                let r = typed::Route::parse(x.value()).map_err(err("Referred-By"))?;
                s.put("referredby.uri", 0, &rsipstack_uri(&r.uri));
            }
            _ => {}
        }
    }
    s.put("via.n", 0, &nvia);
    s.put("route.n", 0, &nroute);
    s.put("rr.n", 0, &nrr);
    s.put("contact.n", 0, &ncontact);
    m.via_header().map_err(err("Via"))?;
    m.from_header().map_err(err("From"))?;
    m.to_header().map_err(err("To"))?;
    m.call_id_header().map_err(err("Call-ID"))?;
    m.cseq_header().map_err(err("CSeq"))?;
    Ok(())
}

// =============================================================================================
// ezk-sip-types 0.6
// =============================================================================================

/// ezk-sip-types has no one-call message parser; this is the loop ezk-sip-core's transport runs
/// (`transport/parse.rs`): `PullParser` over the lines, `MessageLine::parse` for the start line,
/// `Line::parse` + `Headers::insert` per header (name resolved to `Name`, compact forms mapped,
/// value kept as a `BytesStr` slice of the shared buffer), body sliced by `ContentLength`.
pub struct EzkMsg {
    pub line: ezk_sip_types::msg::MessageLine,
    pub headers: ezk_sip_types::Headers,
    pub body: bytes::Bytes,
}

pub fn ezk_parse(b: &bytes::Bytes) -> Result<EzkMsg, String> {
    use ezk_sip_types::header::typed::ContentLength;
    use ezk_sip_types::msg::{Line, MessageLine, PullParser};
    use ezk_sip_types::parse::Parse;
    use ezk_sip_types::Headers;

    let buf = b.clone();
    let mut parser = PullParser::new(&buf, 0);
    let mut line = None;
    let mut headers = Headers::with_capacity(16);
    for item in &mut parser {
        let l = item.map_err(err("incomplete"))?;
        let l = std::str::from_utf8(l).map_err(err("utf8"))?;
        if line.is_none() {
            let (_, ml) = MessageLine::parse(&buf)(l).map_err(err("start line"))?;
            line = Some(ml);
        } else {
            let (_, h) = Line::parse(&buf, l).map_err(err("header line"))?;
            headers.insert(h.name, h.value);
        }
    }
    let head_end = parser.head_end();
    let body = match headers.get_named::<ContentLength>() {
        Ok(ContentLength(0)) => bytes::Bytes::new(),
        Ok(ContentLength(n)) if buf.len() >= head_end + n => buf.slice(head_end..head_end + n),
        Ok(_) => return Err("body truncated".into()),
        Err(_) => buf.slice(head_end..),
    };
    Ok(EzkMsg {
        line: line.ok_or("no start line")?,
        headers,
        body,
    })
}

pub fn ezk_frame(b: &bytes::Bytes) -> bool {
    ezk_parse(b).is_ok()
}

pub fn ezk_typed(b: &bytes::Bytes) -> bool {
    ezk_typed_with(b, &mut Discard).is_ok()
}

fn ezk_uri(u: &ezk_sip_types::uri::SipUri) -> impl Display + '_ {
    use ezk_sip_types::uri::SipUriUserPart;
    L(move |f| {
        match &u.user_part {
            SipUriUserPart::Empty => {}
            SipUriUserPart::User(x) => write!(f, "{}@", x)?,
            SipUriUserPart::UserPw(x) => write!(f, "{}@", x.user)?,
        }
        write!(f, "{}", u.host_port.host)?;
        if let Some(p) = u.host_port.port {
            write!(f, ":{}", p)?;
        }
        Ok(())
    })
}

pub fn ezk_typed_with<S: Sink>(b: &bytes::Bytes, s: &mut S) -> R {
    use ezk_sip_types::header::typed::*;
    use ezk_sip_types::msg::MessageLine;
    use ezk_sip_types::print::AppendCtx;
    use ezk_sip_types::Name;

    let m = ezk_parse(b)?;
    let h = &m.headers;
    match &m.line {
        MessageLine::Request(r) => {
            s.put("start", 0, &r.method);
            s.put("ruri", 0, &ezk_uri(&r.uri));
        }
        MessageLine::Response(r) => s.put("start", 0, &r.code.into_u16()),
    }
    s.put("body.len", 0, &m.body.len());

    let vias: Vec<Via> = h.get_named().map_err(err("Via"))?;
    for (i, v) in vias.iter().enumerate() {
        s.put("via.host#", i, &v.sent_by.host);
        if let Some(p) = v.sent_by.port {
            s.put("via.port#", i, &p);
        }
        if let Some(x) = v.params.get_val("branch") {
            s.put("via.branch#", i, x);
        }
        if let Some(x) = v.params.get_val("received") {
            s.put("via.received#", i, x);
        }
        if let Some(p) = v.params.get("rport") {
            match &p.value {
                Some(x) => s.put("via.rport#", i, x),
                None => s.put("via.rport#", i, &""),
            }
        }
    }
    s.put("via.n", 0, &vias.len());
    for (key, name) in [("from", Name::FROM), ("to", Name::TO)] {
        let x: FromTo = h.get(name).map_err(err("From/To"))?;
        if let Some(n) = &x.uri.name {
            s.put(
                if key == "from" {
                    "from.name"
                } else {
                    "to.name"
                },
                0,
                n,
            );
        }
        s.put(
            if key == "from" { "from.uri" } else { "to.uri" },
            0,
            &ezk_uri(&x.uri.uri),
        );
        if let Some(t) = &x.tag {
            s.put(if key == "from" { "from.tag" } else { "to.tag" }, 0, t);
        }
    }
    let CallID(cid) = h.get_named().map_err(err("Call-ID"))?;
    s.put("callid", 0, &cid);
    let cseq: CSeq = h.get_named().map_err(err("CSeq"))?;
    s.put("cseq.seq", 0, &cseq.cseq);
    s.put("cseq.method", 0, &cseq.method);
    if let Some(x) = h.try_get_named::<MaxForwards>() {
        s.put("maxfwd", 0, &x.map_err(err("Max-Forwards"))?.0);
    }
    if let Some(x) = h.try_get_named::<Vec<Contact>>() {
        let x = x.map_err(err("Contact"))?;
        for (i, c) in x.iter().enumerate() {
            s.put("contact.uri#", i, &ezk_uri(&c.uri.uri));
            if let Some(t) = c.uri.uri.uri_params.get_val("transport") {
                s.put("contact.transport#", i, t);
            }
        }
        s.put("contact.n", 0, &x.len());
    } else {
        s.put("contact.n", 0, &0);
    }
    let routes: Vec<Routing> = h
        .try_get(Name::ROUTE)
        .transpose()
        .map_err(err("Route"))?
        .unwrap_or_default();
    for (i, r) in routes.iter().enumerate() {
        s.put("route.uri#", i, &ezk_uri(&r.uri.uri));
    }
    s.put("route.n", 0, &routes.len());
    let rrs: Vec<Routing> = h
        .try_get(Name::RECORD_ROUTE)
        .transpose()
        .map_err(err("Record-Route"))?
        .unwrap_or_default();
    for (i, r) in rrs.iter().enumerate() {
        s.put("rr.uri#", i, &ezk_uri(&r.uri.uri));
    }
    s.put("rr.n", 0, &rrs.len());
    if let Some(x) = h.try_get_named::<ContentType>() {
        // ContentType is an opaque BytesStr (no media-type/params split)
        let ContentType(ct) = x.map_err(err("Content-Type"))?;
        s.put("ctype", 0, &ct);
    }
    if let Some(x) = h.try_get_named::<ContentLength>() {
        s.put("clen", 0, &x.map_err(err("Content-Length"))?.0);
    }
    if let Some(x) = h.try_get_named::<Expires>() {
        s.put("expires", 0, &x.map_err(err("Expires"))?.0);
    }
    if let Some(x) = h.try_get_named::<Vec<Supported>>() {
        let x = x.map_err(err("Supported"))?;
        s.put(
            "supported",
            0,
            &L(|f| {
                for (i, Supported(t)) in x.iter().enumerate() {
                    write!(f, "{}{}", if i > 0 { "," } else { "" }, t)?;
                }
                Ok(())
            }),
        );
    }
    if let Some(x) = h.try_get_named::<Vec<Require>>() {
        s.put("require.n", 0, &x.map_err(err("Require"))?.len());
    }
    if let Some(x) = h.try_get_named::<Vec<Allow>>() {
        s.put("allow.n", 0, &x.map_err(err("Allow"))?.len());
    }
    if let Some(x) = h.try_get_named::<Event>() {
        let Event(e) = x.map_err(err("Event"))?;
        s.put("event", 0, &e);
    }
    if let Some(x) = h.try_get_named::<SubscriptionState>() {
        let x = x.map_err(err("Subscription-State"))?;
        s.put("substate", 0, &L(|f| write!(f, "{:?}", x.state)));
        if let Some(e) = x.expires {
            s.put("substate.expires", 0, &e);
        }
    }
    if let Some(x) = h.try_get_named::<ReferTo>() {
        let x = x.map_err(err("Refer-To"))?;
        s.put("referto.uri", 0, &ezk_uri(&x.uri.uri));
        s.put(
            "referto.wire",
            0,
            &L(|f| write!(f, "{}", x.uri.default_print_ctx())),
        );
        if let Some(v) = x.uri.uri.header_params.get_val("Replaces") {
            // header params are percent-decoded by the Params parser; the typed Replaces parser
            // then takes the decoded value.
            let rp = ezk_sip_types::header::HeaderParse::parse(v.as_ref(), v.as_str());
            let (_, rp): (_, Replaces) = rp.map_err(err("Replaces"))?;
            s.put("replaces.callid", 0, &rp.call_id);
            s.put("replaces.totag", 0, &rp.to_tag);
            s.put("replaces.fromtag", 0, &rp.from_tag);
        }
    }
    // Referred-By: no Name constant / type in ezk-sip-types; look it up with a custom Name and
    // parse it with the generic name-addr+params `Routing` type.
    const REFERRED_BY: Name = Name::custom("Referred-By", &["referred-by", "b"]);
    if let Some(x) = h.try_get::<Routing>(REFERRED_BY) {
        let x = x.map_err(err("Referred-By"))?;
        s.put("referredby.uri", 0, &ezk_uri(&x.uri.uri));
    }
    Ok(())
}

// =============================================================================================
// sipx-sip 1.0
// =============================================================================================

/// Frame: `parse_datagram(Bytes, &Limits)` — header index of (name, raw value span) over one
/// shared `Bytes`, body a slice of it; no header value is parsed.  Needs an owned `Bytes`, so
/// from `&[u8]` it costs one copy (a caller holding `Bytes` passes a refcount clone).
pub fn sipx_frame(b: &bytes::Bytes) -> bool {
    sipx_sip::parse_datagram(b.clone(), &sipx_sip::Limits::datagram()).is_ok()
}

pub fn sipx_typed(b: &bytes::Bytes) -> bool {
    sipx_typed_with(b, &mut Discard).is_ok()
}

fn sipx_uri(u: &sipx_sip::Uri) -> impl Display + '_ {
    L(move |f| {
        if let Some(x) = u.user() {
            write!(f, "{}@", B(x))?;
        }
        if let Some(h) = u.host() {
            write!(f, "{}", h)?;
        }
        if let Some(p) = u.port() {
            write!(f, ":{}", p)?;
        }
        Ok(())
    })
}

pub fn sipx_typed_with<S: Sink>(b: &bytes::Bytes, s: &mut S) -> R {
    use sipx_sip::headers::{self as hd, Address};
    use sipx_sip::{HeaderName, Message};

    let m =
        sipx_sip::parse_datagram(b.clone(), &sipx_sip::Limits::datagram()).map_err(err("frame"))?;
    match &m {
        Message::Request(r) => {
            s.put("start", 0, &r.method);
            s.put("ruri", 0, &sipx_uri(&r.uri));
        }
        Message::Response(r) => s.put("start", 0, &r.status.code()),
    }
    s.put("body.len", 0, &m.body().len());
    let h = m.headers();
    let mut n = 0;
    for v in h.typed_all::<hd::Via>() {
        let v = v.map_err(err("Via"))?;
        s.put("via.host#", n, &v.host);
        if let Some(p) = v.port {
            s.put("via.port#", n, &p);
        }
        if let Some(x) = v.branch() {
            s.put("via.branch#", n, &B(x));
        }
        if let Some(x) = v.received() {
            s.put("via.received#", n, &B(x));
        }
        if let Some(x) = v.rport() {
            s.put("via.rport#", n, &B(x.unwrap_or(b"")));
        }
        n += 1;
    }
    if n == 0 {
        return Err("Via: missing".into());
    }
    s.put("via.n", 0, &n);
    let from = h
        .typed::<hd::From>()
        .ok_or("From: missing")?
        .map_err(err("From"))?;
    let to = h
        .typed::<hd::To>()
        .ok_or("To: missing")?
        .map_err(err("To"))?;
    for (k, a) in [("from", &from.0), ("to", &to.0)] {
        let f = k == "from";
        if let Some(d) = &a.display_name {
            s.put(if f { "from.name" } else { "to.name" }, 0, &B(d));
        }
        s.put(if f { "from.uri" } else { "to.uri" }, 0, &sipx_uri(&a.uri));
        if let Some(t) = a.tag() {
            s.put(if f { "from.tag" } else { "to.tag" }, 0, &B(t));
        }
    }
    let cid = h
        .typed::<hd::CallId>()
        .ok_or("Call-ID: missing")?
        .map_err(err("Call-ID"))?;
    s.put("callid", 0, &B(&cid.0));
    let cseq = h
        .typed::<hd::CSeq>()
        .ok_or("CSeq: missing")?
        .map_err(err("CSeq"))?;
    s.put("cseq.seq", 0, &cseq.sequence);
    s.put("cseq.method", 0, &cseq.method);
    if let Some(x) = h.typed::<hd::MaxForwards>() {
        s.put("maxfwd", 0, &x.map_err(err("Max-Forwards"))?.0);
    }
    let mut n = 0;
    for c in h.typed_all::<hd::Contact>() {
        let c = c.map_err(err("Contact"))?;
        s.put("contact.uri#", n, &sipx_uri(&c.uri));
        if let Some(t) = c.uri.transport() {
            s.put("contact.transport#", n, &B(t));
        }
        n += 1;
    }
    s.put("contact.n", 0, &n);
    let mut n = 0;
    for r in h.typed_all::<hd::Route>() {
        s.put("route.uri#", n, &sipx_uri(&r.map_err(err("Route"))?.uri));
        n += 1;
    }
    s.put("route.n", 0, &n);
    let mut n = 0;
    for r in h.typed_all::<hd::RecordRoute>() {
        s.put(
            "rr.uri#",
            n,
            &sipx_uri(&r.map_err(err("Record-Route"))?.uri),
        );
        n += 1;
    }
    s.put("rr.n", 0, &n);
    if let Some(x) = h.typed::<hd::ContentType>() {
        let x = x.map_err(err("Content-Type"))?;
        s.put(
            "ctype",
            0,
            &L(|f| write!(f, "{}/{}", B(&x.media_type), B(&x.subtype))),
        );
        if let Some(v) = x.param("version") {
            s.put("ctype.version", 0, &B(v));
        }
    }
    if let Some(x) = h.typed::<hd::ContentLength>() {
        s.put("clen", 0, &x.map_err(err("Content-Length"))?.0);
    }
    if let Some(x) = h.typed::<hd::Expires>() {
        s.put("expires", 0, &x.map_err(err("Expires"))?.0);
    }
    if h.get(&HeaderName::Supported).is_some() {
        let mut toks: Vec<Vec<u8>> = Vec::new();
        for x in h.typed_all::<hd::Supported>() {
            toks.extend(x.map_err(err("Supported"))?.0 .0);
        }
        s.put(
            "supported",
            0,
            &L(|f| {
                for (i, t) in toks.iter().enumerate() {
                    write!(f, "{}{}", if i > 0 { "," } else { "" }, B(t))?;
                }
                Ok(())
            }),
        );
    }
    if let Some(x) = h.typed::<hd::Require>() {
        s.put("require.n", 0, &x.map_err(err("Require"))?.0 .0.len());
    }
    if h.get(&HeaderName::Allow).is_some() {
        let mut n = 0;
        for x in h.typed_all::<hd::Allow>() {
            n += x.map_err(err("Allow"))?.0 .0.len();
        }
        s.put("allow.n", 0, &n);
    }
    // Event: recognised name (compact `o`), no typed value -> raw value only.
    if let Some(v) = h.value(&HeaderName::Event) {
        let v = &v[..];
        let tok = v.split(|&c| c == b';').next().unwrap_or(v);
        s.put("event", 0, &B(tok.trim_ascii()));
    }
    if let Some(v) = h.value(&HeaderName::SubscriptionState) {
        let st = sipx_sip::event::Subscription::parse(&v).ok_or("Subscription-State: syntax")?;
        s.put("substate", 0, &st.state.as_str());
        if let Some(e) = st.expires {
            s.put("substate.expires", 0, &e.as_secs());
        }
    }
    // Refer-To / Referred-By / Replaces: names known (compact r/b), no typed header; the public
    // `Address` name-addr parser does the job.
    if let Some(v) = h.value(&HeaderName::ReferTo) {
        let a = Address::parse(&v, "Refer-To").map_err(err("Refer-To"))?;
        s.put("referto.uri", 0, &sipx_uri(&a.uri));
        s.put("referto.wire", 0, &L(|f| write!(f, "<{}>", a.uri)));
        if let Some(p) = a
            .uri
            .headers()
            .and_then(|hs| hs.iter().find(|p| p.has_name("Replaces")))
        {
            manual_replaces(&String::from_utf8_lossy(p.value().unwrap_or(b"")), s)?;
        }
    }
    if let Some(v) = h.value(&HeaderName::ReferredBy) {
        let a = Address::parse(&v, "Referred-By").map_err(err("Referred-By"))?;
        s.put("referredby.uri", 0, &sipx_uri(&a.uri));
    }
    Ok(())
}

// =============================================================================================
// conformance run
// =============================================================================================
