//! The implicit subscription a REFER creates (RFC 3515 §2.4.4), as RFC 6665 defines
//! subscriptions, for the `refer` event package: the [`Subscriber`] (the REFER's sender,
//! which receives NOTIFYs) and the [`Notifier`] (the REFER's recipient, which sends them).
//!
//! Both are pure state machines over values: they never build a dialog request or touch a
//! transaction, so they are tested here without an endpoint. The transfer roles own one each
//! and do the sending.
//!
//! What they implement:
//! - RFC 3515 §2.4.6: the subscription is named by the REFER's CSeq (`Event: refer;id=N`);
//!   only the dialog's first REFER may have NOTIFYs without `id`.
//! - RFC 3515 §2.4.5 / RFC 3420: each NOTIFY carries a `message/sipfrag` whose status line
//!   is the progress; a body that is not one is refused 400.
//! - RFC 6665 §4.1.2.2 (subscriber): refresh before expiry (halfway); a refresh answered
//!   404, 405, 410, 416, 480–485, 489, 501 or 604 ends the subscription.
//! - RFC 6665 §4.2.1.2 / §4.2.2 (notifier): a refresh may shorten, never lengthen, the
//!   duration; one NOTIFY in flight at a time, the newest state replacing a queued one and a
//!   final one never dropped; a refresh is followed by a NOTIFY of the current state; an
//!   unsubscribe (Expires 0, §4.2.1.4) and expiry (`reason=timeout`) end it with a final
//!   NOTIFY; a NOTIFY answered 481 or not at all ends it (RFC 5057).

mod notifier;
mod subscriber;

pub use notifier::{After, Notifier, Notify, NotifyState, Subscribed};
pub use subscriber::{Progress, Subscriber};

use crate::msg::{Event, Header, MediaType, Message, Params};
use crate::text::SipStr;
use alloc::format;

/// The event package of a REFER's subscription (RFC 3515 §3).
pub const PACKAGE: &str = "refer";

/// `Event: refer` with `id` when given (RFC 3515 §2.4.6).
pub fn event_header(id: Option<u32>) -> Header<SipStr> {
    let mut params = Params::default();
    if let Some(id) = id {
        params.push("id", Some(&format!("{id}")));
    }
    Header::Event(Event {
        package: SipStr::from_static(PACKAGE),
        params,
    })
}

/// `message/sipfrag` (RFC 3420), the body of every NOTIFY of the package (RFC 3515 §2.4.5).
pub fn sipfrag_type() -> MediaType<SipStr> {
    MediaType {
        ty: SipStr::from_static("message"),
        subtype: SipStr::from_static("sipfrag"),
        params: Params::default(),
    }
}

/// Which `refer` subscription a NOTIFY or SUBSCRIBE names: its `id` (`None`: no `id`, the
/// dialog's first REFER's). `Err` is the status to answer: 400 without an `Event` header
/// (RFC 6665 §8.2.1) or with an `id` that is no CSeq number, 489 Bad Event for another
/// package (RFC 6665 §8.3.2).
pub fn target(request: &Message) -> Result<Option<u32>, u16> {
    let event = request.event().ok_or(400u16)?;
    if !event.package.as_str().eq_ignore_ascii_case(PACKAGE) {
        return Err(489);
    }
    match event.id() {
        Some(s) => s.parse::<u32>().map(Some).map_err(|_| 400),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Limits;

    fn request(event: &str) -> Message {
        let text = alloc::format!(
            "NOTIFY sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\n\
From: <sip:b@192.0.2.2>;tag=1\r\nTo: <sip:a@192.0.2.1>;tag=2\r\nCall-ID: c\r\n\
CSeq: 5 NOTIFY\r\n{event}Content-Length: 0\r\n\r\n"
        );
        Message::parse(bytes::Bytes::from(text), &Limits::default()).unwrap()
    }

    #[test]
    fn target_reads_the_refer_id() {
        assert_eq!(
            target(&request("Event: refer;id=93809824\r\n")),
            Ok(Some(93809824))
        );
        assert_eq!(target(&request("o: REFER\r\n")), Ok(None));
        assert_eq!(target(&request("Event: refer;id=x1\r\n")), Err(400));
        assert_eq!(target(&request("Event: presence\r\n")), Err(489));
        assert_eq!(target(&request("")), Err(400));
    }

    #[test]
    fn event_header_carries_the_id_when_given() {
        let mut m = request("");
        m.headers.push(event_header(Some(7)));
        assert_eq!(m.event().unwrap().id(), Some("7"));
        m.headers.pop();
        m.headers.push(event_header(None));
        assert_eq!(m.event().unwrap().id(), None);
    }
}
