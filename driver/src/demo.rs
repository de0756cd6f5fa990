//! The three-party transfers that `sipxfer demo` runs and the adapters' tests assert, over
//! any adapter: alice calls bob, bob answers; blind (RFC 5589 §6), alice transfers bob to
//! carol; attended (§7), alice first calls carol, then transfers bob to her, and bob's call
//! replaces alice's at carol (RFC 3891). bob accepts and calls carol, carol answers; then bob
//! hangs up. Every decision is taken from the events of the three real endpoints, and the
//! [`Report`] says what each party saw.

use crate::{Captured, Direction, Events, Handle};
use bytes::Bytes;
use futures_lite::StreamExt;
use sipxfer::msg::Uri;
use sipxfer::{
    AttendedOptions, BlindOptions, CallId, CallOptions, CallState, EndReason, Event, Transfer,
    TransferId, TransferOutcome, Transport,
};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::Poll;

/// One user agent of the demo.
#[derive(Debug)]
pub struct Party {
    /// Its name (the user part of its URI).
    pub name: String,
    /// Its commands.
    pub handle: Handle,
    /// Its events.
    pub events: Events,
}

impl Party {
    /// The party's SIP URI over `transport`.
    pub fn uri(&self, transport: Transport) -> Uri<sipxfer::SipStr> {
        uri(&self.name, self.handle.local_addr(), transport)
    }
}

fn uri(user: &str, addr: SocketAddr, transport: Transport) -> Uri<sipxfer::SipStr> {
    let tp = if transport == Transport::Tcp {
        ";transport=tcp"
    } else {
        ""
    };
    Uri::parse(&format!("sip:{user}@{addr}{tp}")).expect("a URI built from an address")
}

/// A minimal audio offer/answer for `addr` (the demo sends no media).
pub fn sdp(user: &str, addr: SocketAddr) -> Bytes {
    audio_offer(user, addr, 0)
}

/// An offer for `addr` as a softphone with every codec enabled sends one: PCMU, PCMA and 31
/// dynamic formats (96–126), over 1 300 bytes with an INVITE's fields, so that the INVITE
/// goes over TCP (RFC 3261 §18.1.1, `Config::udp_request_limit`).
pub fn large_sdp(user: &str, addr: SocketAddr) -> Bytes {
    audio_offer(user, addr, 31)
}

/// One audio stream of PCMU, PCMA and `dynamic` more formats from 96 on.
fn audio_offer(user: &str, addr: SocketAddr, dynamic: u8) -> Bytes {
    let (ip, family) = match addr.ip() {
        std::net::IpAddr::V4(a) => (a.to_string(), "IP4"),
        std::net::IpAddr::V6(a) => (a.to_string(), "IP6"),
    };
    let port = addr.port().wrapping_add(1000) & !1;
    let (mut formats, mut maps) = (String::new(), String::new());
    for pt in (96u8..).take(dynamic.into()) {
        let _ = write!(formats, " {pt}");
        let _ = write!(maps, "a=rtpmap:{pt} codec{pt}/48000/2\r\n");
    }
    Bytes::from(format!(
        "v=0\r\no={user} 1 1 IN {family} {ip}\r\ns=sipxfer\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 8{formats}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         {maps}a=sendrecv\r\n"
    ))
}

/// The INVITEs among `captured` that went `direction`: the transport of each and the start
/// of its top Via (`Via: SIP/2.0/TCP`), which the endpoint writes as its first field.
pub fn invite_vias(captured: &[Captured], direction: Direction) -> Vec<(Transport, String)> {
    captured
        .iter()
        .filter(|c| c.direction == direction && c.bytes.starts_with(b"INVITE "))
        .map(|c| {
            let text = String::from_utf8_lossy(&c.bytes);
            let via = text.lines().nth(1).unwrap_or_default();
            (c.transport, via.chars().take(16).collect())
        })
        .collect()
}

/// Which transfer to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// RFC 5589 §6.
    #[default]
    Blind,
    /// RFC 5589 §7, with a consultation call from alice to carol.
    Attended,
}

/// What each party saw of one transfer.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Which transfer.
    pub kind: Kind,
    /// Attended: how the transferor's consultation call with the target ended (the target
    /// ends it when bob's call replaces it).
    pub transferor_consultation: Option<EndReason>,
    /// Attended: how the target's consultation call ended (`Replaced`).
    pub target_replaced: Option<EndReason>,
    /// Attended: the target's new call said which call it replaces.
    pub target_saw_replaces: bool,
    /// The sipfrag statuses the transferor's NOTIFYs reported, in order.
    pub progress: Vec<u16>,
    /// The transferor's outcome.
    pub transferor: Option<TransferOutcome>,
    /// The transferee's outcome.
    pub transferee: Option<TransferOutcome>,
    /// How the transferor's call with the transferee ended.
    pub transferor_call: Option<EndReason>,
    /// How the transferee's call with the transferor ended.
    pub transferee_call: Option<EndReason>,
    /// The transferee's call to the target was answered.
    pub transferee_new_call: bool,
    /// The target's call from the transferee was answered.
    pub target_answered: bool,
    /// The `Referred-By` the target's INVITE carried.
    pub target_referred_by: Option<String>,
}

impl Report {
    /// Every party reached the RFC 5589 §6 outcome of a successful transfer: the transferor
    /// saw the final NOTIFY report 200 and its call ended; the transferee reported success,
    /// its call with the transferor ended and its call to the target is up; the target
    /// answered a call that carried `Referred-By`.
    /// Attended, also: the target's new call replaced the consultation, which ended at both
    /// ends.
    pub fn succeeded(&self) -> bool {
        let attended = self.kind == Kind::Blind
            || (self.target_saw_replaces
                && self.target_replaced == Some(EndReason::Replaced)
                && self.transferor_consultation.is_some());
        attended
            && self.transferor == Some(TransferOutcome::Succeeded)
            && self.transferee == Some(TransferOutcome::Succeeded)
            && self.transferor_call.is_some()
            && self.transferee_call.is_some()
            && self.transferee_new_call
            && self.target_answered
            && self.target_referred_by.is_some()
    }

    /// One line per party.
    pub fn summary(&self, names: [&str; 3]) -> String {
        let [a, b, c] = names;
        let outcome = |o: Option<TransferOutcome>| match o {
            Some(o) => format!("{o:?}").to_lowercase(),
            None => "none".into(),
        };
        let ended = |r: Option<EndReason>| match r {
            Some(r) => format!("ended ({r:?})"),
            None => "still up".into(),
        };
        let statuses: Vec<String> = self.progress.iter().map(u16::to_string).collect();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "  {a} (transferor): outcome {}, NOTIFY sipfrag statuses [{}], call with {b} {}",
            outcome(self.transferor),
            statuses.join(", "),
            ended(self.transferor_call)
        );
        let _ = writeln!(
            s,
            "  {b} (transferee): outcome {}, call with {a} {}, call to {c} {}",
            outcome(self.transferee),
            ended(self.transferee_call),
            if self.transferee_new_call {
                "answered"
            } else {
                "not answered"
            }
        );
        let _ = write!(
            s,
            "  {c} (target): call from {b} {}, Referred-By: {}",
            if self.target_answered {
                "answered"
            } else {
                "not answered"
            },
            self.target_referred_by.as_deref().unwrap_or("none")
        );
        if self.kind == Kind::Attended {
            let _ = write!(
                s,
                ", it replaced the consultation with {a}: {} ({a}'s end: {})",
                ended(self.target_replaced),
                ended(self.transferor_consultation)
            );
        }
        s
    }
}

/// The next event of any party: its index and the event (`None`: that party stopped).
async fn next_event(parties: &mut [Party; 3]) -> (usize, Option<Event>) {
    futures_lite::future::poll_fn(|cx| {
        for (i, p) in parties.iter_mut().enumerate() {
            if let Poll::Ready(e) = p.events.poll_next(cx) {
                return Poll::Ready((i, e));
            }
        }
        Poll::Pending
    })
    .await
}

/// Runs a blind transfer among `parties` (alice, bob, carol) over `transport`; returns what
/// each saw once the transfer is over at all three and the calls are hung up. Bound it in
/// time with the runtime's timeout.
pub async fn blind_transfer(
    parties: &mut [Party; 3],
    transport: Transport,
) -> Result<Report, sipxfer::Error> {
    transfer(parties, transport, Kind::Blind).await
}

/// Runs an attended transfer among `parties` (alice, bob, carol) over `transport`: alice
/// calls bob, then carol, then transfers bob to carol with `Replaces`. As
/// [`blind_transfer`] otherwise.
pub async fn attended_transfer(
    parties: &mut [Party; 3],
    transport: Transport,
) -> Result<Report, sipxfer::Error> {
    transfer(parties, transport, Kind::Attended).await
}

/// alice's options for a call to `to`: her identity and an offer.
fn options_of(p: &Party) -> CallOptions {
    CallOptions {
        from: Some(sipxfer::msg::NameAddr::new(p.uri(Transport::Udp))),
        offer: Some(sdp(&p.name, p.handle.local_addr())),
        ..Default::default()
    }
}

/// Runs one transfer of `kind`.
pub async fn transfer(
    parties: &mut [Party; 3],
    transport: Transport,
    kind: Kind,
) -> Result<Report, sipxfer::Error> {
    let [a, b, c] = [0, 1, 2];
    let bob = parties[b].uri(transport);
    let carol = parties[c].uri(transport);
    let ab = parties[a].handle.call(bob, options_of(&parties[a])).await?;
    let mut report = Report {
        kind,
        ..Report::default()
    };
    let mut transfer: Option<TransferId> = None;
    let mut ac: Option<CallId> = None;
    let mut ba: Option<CallId> = None;
    let mut bc: Option<CallId> = None;
    let mut ca: Option<CallId> = None;
    let mut cb: Option<CallId> = None;
    let mut hung_up = false;
    loop {
        let (who, e) = next_event(parties).await;
        let Some(e) = e else {
            return Err(sipxfer::Error::InvalidState);
        };
        let me = &parties[who];
        match (who, e) {
            (1, Event::IncomingCall { call, .. }) if ba.is_none() => {
                ba = Some(call);
                let answer = sdp(&me.name, me.handle.local_addr());
                me.handle.ring(call, 180).await?;
                me.handle.answer(call, Some(answer)).await?;
            }
            (
                0,
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                },
            ) if call == ab && transfer.is_none() && ac.is_none() => match kind {
                Kind::Blind => {
                    let t = Transfer::Blind {
                        target: carol.clone(),
                        options: BlindOptions::default(),
                    };
                    transfer = Some(me.handle.transfer(ab, t).await?);
                }
                // The consultation call first.
                Kind::Attended => {
                    ac = Some(me.handle.call(carol.clone(), options_of(me)).await?);
                }
            },
            (
                0,
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                },
            ) if Some(call) == ac && transfer.is_none() => {
                let t = Transfer::Attended {
                    consultation: call,
                    options: AttendedOptions::default(),
                };
                transfer = Some(me.handle.transfer(ab, t).await?);
            }
            (0, Event::TransferProgress { status, .. }) => report.progress.push(status),
            (0, Event::TransferOutcome { outcome, .. }) => report.transferor = Some(outcome),
            (
                0,
                Event::CallState {
                    call,
                    state: CallState::Terminated { reason },
                    ..
                },
            ) if call == ab => report.transferor_call = Some(reason),
            (
                0,
                Event::CallState {
                    call,
                    state: CallState::Terminated { reason },
                    ..
                },
            ) if Some(call) == ac => report.transferor_consultation = Some(reason),
            (1, Event::IncomingTransfer { transfer, .. }) => {
                bc = Some(me.handle.accept_transfer(transfer, None).await?);
            }
            (1, Event::TransferOutcome { outcome, .. }) => report.transferee = Some(outcome),
            (
                1,
                Event::CallState {
                    call,
                    state: CallState::Terminated { reason },
                    ..
                },
            ) if Some(call) == ba => report.transferee_call = Some(reason),
            (
                1,
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                },
            ) if Some(call) == bc => report.transferee_new_call = true,
            (
                2,
                Event::IncomingCall {
                    call,
                    referred_by,
                    replaces,
                    ..
                },
            ) => {
                // The consultation (attended, from alice), or bob's call (which replaces it).
                if kind == Kind::Attended && ca.is_none() && replaces.is_none() {
                    ca = Some(call);
                } else if cb.is_none() {
                    cb = Some(call);
                    report.target_referred_by = referred_by.map(|r| format!("<{}>", r.uri));
                    report.target_saw_replaces = replaces.is_some() && replaces == ca;
                }
                let answer = sdp(&me.name, me.handle.local_addr());
                me.handle.ring(call, 180).await?;
                me.handle.answer(call, Some(answer)).await?;
            }
            (
                2,
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                },
            ) if Some(call) == cb => report.target_answered = true,
            (
                2,
                Event::CallState {
                    call,
                    state: CallState::Terminated { reason },
                    ..
                },
            ) if Some(call) == ca => report.target_replaced = Some(reason),
            _ => {}
        }
        if !hung_up {
            let failed = report
                .transferor
                .is_some_and(|o| o != TransferOutcome::Succeeded)
                || report
                    .transferee
                    .is_some_and(|o| o != TransferOutcome::Succeeded);
            if report.succeeded() || failed {
                // Over at all three: bob hangs up his call to carol (and, after a
                // failure, alice her calls). One side each: no crossing BYEs.
                hung_up = true;
                for (who, call) in [(a, Some(ab)), (a, ac), (b, bc)] {
                    if let Some(call) = call {
                        let _ = parties[who].handle.hangup(call).await;
                    }
                }
            }
        }
        if hung_up
            && parties
                .iter()
                .all(|p| p.handle.with(|ep, _| ep.calls().next().is_none()))
        {
            return Ok(report);
        }
    }
}

/// A [`crate::Tap`] that keeps every message a party sent.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Captured>>>);

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Recorder").field(&self.sent().len()).finish()
    }
}

impl Recorder {
    /// The tap to give [`crate::Builder::tap`].
    pub fn tap(&self) -> impl Fn(&Captured) + Send + Sync + 'static {
        let sent = self.0.clone();
        move |c: &Captured| {
            if c.direction == Direction::Sent {
                sent.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(c.clone());
            }
        }
    }

    /// What was sent so far, in order.
    pub fn sent(&self) -> Vec<Captured> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The messages party `i` sent over `transport` whose text starts with `start`.
fn sent_texts(sent: [&[Captured]; 3], i: usize, transport: Transport, start: &str) -> Vec<String> {
    sent[i]
        .iter()
        .filter(|c| c.transport == transport)
        .map(|c| String::from_utf8_lossy(&c.bytes).into_owned())
        .filter(|m| m.starts_with(start))
        .collect()
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

/// What every transfer sends, blind or attended: alice's hold re-INVITE (`a=sendonly`), one
/// REFER with a `Referred-By` and a BYE to bob; bob's NOTIFYs from `100 Trying` to a final
/// `200 OK` with `Subscription-State: terminated`, and one INVITE to carol carrying
/// `Referred-By`; carol's 180 and 200. Returns alice's REFER and bob's INVITE to carol.
fn check_common(sent: [&[Captured]; 3], transport: Transport) -> Result<(String, String), String> {
    let texts = |i, start| sent_texts(sent, i, transport, start);
    let refer = texts(0, "REFER ");
    expect(refer.len() == 1, "alice sends one REFER")?;
    expect(
        refer[0].contains("\r\nReferred-By: "),
        "the REFER carries Referred-By",
    )?;
    expect(
        texts(0, "INVITE ").iter().any(|m| m.contains("a=sendonly")),
        "alice holds bob (re-INVITE a=sendonly) before the REFER",
    )?;
    expect(
        !texts(0, "BYE ").is_empty(),
        "alice ends her call with bob on success",
    )?;
    let notifies = texts(1, "NOTIFY ");
    expect(
        notifies
            .iter()
            .any(|m| m.ends_with("SIP/2.0 100 Trying\r\n")),
        "bob NOTIFYs 100 Trying",
    )?;
    expect(
        notifies.iter().any(|m| {
            m.contains("\r\nSubscription-State: terminated") && m.ends_with("SIP/2.0 200 OK\r\n")
        }),
        "bob's final NOTIFY reports 200 OK and terminates the subscription",
    )?;
    let invite = texts(1, "INVITE sip:");
    let invite: Vec<String> = invite
        .into_iter()
        .filter(|m| m.contains("\r\nReferred-By: "))
        .collect();
    expect(
        invite.len() == 1,
        "bob sends one INVITE to carol, with Referred-By",
    )?;
    expect(!texts(2, "SIP/2.0 180 ").is_empty(), "carol rings")?;
    expect(!texts(2, "SIP/2.0 200 ").is_empty(), "carol answers")?;
    Ok((refer[0].clone(), invite[0].clone()))
}

/// Checks on the wire what RFC 5589 §6 says a blind transfer sends, from the messages each
/// party sent over `transport` (alice, bob, carol): what every transfer sends (alice's hold
/// re-INVITE, one REFER with `Referred-By`, the BYE to bob; bob's NOTIFYs up to a final
/// `200 OK` with `Subscription-State: terminated`, his INVITE to carol with `Referred-By`;
/// carol's 180 and 200), with a `Refer-To` naming carol and no `Replaces` anywhere.
pub fn check_blind_wire(sent: [&[Captured]; 3], transport: Transport) -> Result<(), String> {
    let (refer, invite) = check_common(sent, transport)?;
    expect(
        refer.contains("\r\nRefer-To: <sip:carol@") && !refer.contains("Replaces"),
        "the REFER's Refer-To names carol, without Replaces",
    )?;
    expect(
        invite.starts_with("INVITE sip:carol@"),
        "bob's INVITE goes to carol",
    )?;
    expect(
        !invite.contains("\r\nReplaces: "),
        "bob's INVITE replaces nothing",
    )
}

/// Checks on the wire what RFC 5589 §7 and RFC 3891 say an attended transfer sends: what
/// every transfer sends (as for [`check_blind_wire`]), with a `Refer-To` carrying an escaped
/// `Replaces`, bob's INVITE carrying it as a `Replaces` header, and carol ending the replaced
/// call with a BYE.
pub fn check_attended_wire(sent: [&[Captured]; 3], transport: Transport) -> Result<(), String> {
    let (refer, invite) = check_common(sent, transport)?;
    expect(
        refer.contains("?Replaces="),
        "the REFER's Refer-To carries the consultation dialog (?Replaces=)",
    )?;
    expect(
        invite.contains("\r\nReplaces: "),
        "bob's INVITE to carol carries Replaces",
    )?;
    expect(
        !sent_texts(sent, 2, transport, "BYE ").is_empty(),
        "carol ends the replaced consultation call with BYE",
    )
}

/// Shuts every party down (hang-ups, then the drivers stop).
pub async fn shutdown(parties: &[Party], grace: std::time::Duration) {
    for p in parties {
        p.handle.shutdown(grace).await;
    }
}
