//! The subscriber's side of a `refer` subscription: the REFER's sender, which learns the
//! outcome of the request it asked for from the NOTIFYs (RFC 3515 §2.4.4–§2.4.6, RFC 6665
//! §4.1).

use crate::msg::{Header, SubState, SubscriptionState};
use crate::parse::parse_sipfrag;
use crate::text::SipStr;
use core::time::Duration;

/// What one NOTIFY reported (RFC 3515 §2.4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The sipfrag's status code.
    pub status: u16,
    /// The sipfrag's status line, as written (`SIP/2.0 180 Ringing`).
    pub status_line: SipStr,
    /// `Subscription-State: terminated`: no more NOTIFYs will come.
    pub terminated: bool,
    /// When to refresh (RFC 6665 §4.1.2.2): halfway through the `expires` of an active
    /// subscription, which leaves the SUBSCRIBE its retransmissions.
    pub refresh_after: Option<Duration>,
}

/// A `refer` subscription we hold: named by our REFER's CSeq once it is sent.
#[derive(Clone, Debug, Default)]
pub struct Subscriber {
    id: Option<u32>,
    first: bool,
    accepted: bool,
    last_status: u16,
}

impl Subscriber {
    /// A subscription for a REFER not sent yet.
    pub fn new() -> Self {
        Subscriber::default()
    }

    /// The REFER went out with CSeq `seq`: the subscription's `id`; `first` when it is the
    /// first REFER sent in its dialog — only its NOTIFYs may leave `id` out (RFC 3515 §2.4.6).
    /// Which REFER is first is decided as they go out, not as they are asked for: a REFER
    /// held back behind a hold can leave after a later one.
    pub fn refer_sent(&mut self, seq: u32, first: bool) {
        self.id = Some(seq);
        self.first = first;
    }

    /// The REFER went again (with credentials) as CSeq `seq`: the subscription follows it.
    pub fn refer_resent(&mut self, seq: u32) {
        self.id = Some(seq);
    }

    /// The subscription's `id`, once the REFER is sent.
    pub fn id(&self) -> Option<u32> {
        self.id
    }

    /// A 2xx answered the REFER: NOTIFYs may follow (and after an unsubscribe, a final
    /// one is still expected).
    pub fn accept(&mut self) {
        self.accepted = true;
    }

    /// A 2xx answered the REFER.
    pub fn is_accepted(&self) -> bool {
        self.accepted
    }

    /// The newest status a NOTIFY reported (0 before the first).
    pub fn last_status(&self) -> u16 {
        self.last_status
    }

    /// Does a NOTIFY whose `Event` has `id` (or none) belong to this subscription?
    pub fn matches(&self, id: Option<u32>) -> bool {
        match id {
            Some(id) => self.id == Some(id),
            None => self.first && self.id.is_some(),
        }
    }

    /// Reads a NOTIFY's `Subscription-State` and sipfrag body. `Err(400)`: the body is not a
    /// sipfrag that starts with a status line (RFC 3515 §2.4.5).
    pub fn read(state: &SubscriptionState<SipStr>, body: &[u8]) -> Result<Progress, u16> {
        let status = parse_sipfrag(body)
            .ok()
            .and_then(|m| m.status())
            .ok_or(400u16)?;
        let terminated = state.state() == SubState::Terminated;
        let status_line = body
            .split(|&b| b == b'\n')
            .next()
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .and_then(|l| core::str::from_utf8(l).ok())
            .unwrap_or("");
        let refresh_after = state
            .expires()
            .filter(|&s| s > 0 && !terminated)
            .map(|s| Duration::from_secs(u64::from(s).div_ceil(2)));
        Ok(Progress {
            status,
            status_line: SipStr::from(status_line),
            terminated,
            refresh_after,
        })
    }

    /// Records a reported status; `true` when it repeats the previous one (a NOTIFY after a
    /// refresh repeats the current state, RFC 6665 §4.2.2): report it once.
    pub fn record(&mut self, status: u16) -> bool {
        let repeated = self.last_status == status;
        self.last_status = status;
        repeated
    }

    /// Does this answer to a refreshing SUBSCRIBE end the subscription (RFC 6665
    /// §4.1.2.2)? Other failures leave it running to its expiry.
    pub fn refresh_ends(code: u16) -> bool {
        matches!(code, 404 | 405 | 410 | 416 | 480..=485 | 489 | 501 | 604)
    }

    /// The headers of a SUBSCRIBE refreshing (or, with 0, ending, RFC 6665 §4.1.2.3) the
    /// subscription: `Event: refer;id=<id>` and `Expires`. `None` before the REFER is sent.
    pub fn subscribe_headers(&self, expires: u32) -> Option<[Header<SipStr>; 2]> {
        let id = self.id?;
        Some([super::event_header(Some(id)), Header::Expires(expires)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Params;

    fn state(s: &str, params: &[(&str, &str)]) -> SubscriptionState<SipStr> {
        let mut p = Params::default();
        for (k, v) in params {
            p.push(k, Some(v));
        }
        SubscriptionState {
            state: SipStr::from(s),
            params: p,
        }
    }

    #[test]
    fn only_the_first_refer_matches_without_id() {
        let mut first = Subscriber::new();
        assert!(!first.matches(None), "not before the REFER is sent");
        first.refer_sent(101, true);
        assert!(first.matches(None) && first.matches(Some(101)) && !first.matches(Some(102)));
        let mut second = Subscriber::new();
        second.refer_sent(102, false);
        assert!(!second.matches(None) && second.matches(Some(102)));
        // Resent with credentials: the id follows, the first-ness stays.
        first.refer_resent(103);
        assert!(first.matches(None) && first.matches(Some(103)) && !first.matches(Some(101)));
        assert!(!second.matches(None) && second.matches(Some(102)));
    }

    #[test]
    fn reads_progress_and_when_to_refresh() {
        let p = Subscriber::read(
            &state("active", &[("expires", "59")]),
            b"SIP/2.0 180 Ringing\r\n",
        )
        .unwrap();
        assert_eq!((p.status, &*p.status_line), (180, "SIP/2.0 180 Ringing"));
        assert_eq!(p.refresh_after, Some(Duration::from_secs(30)));
        assert!(!p.terminated);
        let p = Subscriber::read(
            &state("terminated", &[("reason", "noresource")]),
            b"SIP/2.0 200 OK",
        )
        .unwrap();
        assert!(p.terminated && p.refresh_after.is_none() && p.status == 200);
        assert_eq!(
            Subscriber::read(&state("active", &[]), b"INVITE sip:x SIP/2.0\r\n"),
            Err(400)
        );
        assert_eq!(Subscriber::read(&state("active", &[]), b""), Err(400));
    }

    #[test]
    fn repeated_states_are_reported_once() {
        let mut s = Subscriber::new();
        assert!(!s.record(100));
        assert!(!s.record(180));
        assert!(s.record(180));
        assert_eq!(s.last_status(), 180);
    }

    #[test]
    fn refresh_failures_that_end_it() {
        for code in [404, 405, 410, 416, 480, 481, 485, 489, 501, 604] {
            assert!(Subscriber::refresh_ends(code), "{code}");
        }
        for code in [400, 403, 408, 500, 503] {
            assert!(!Subscriber::refresh_ends(code), "{code}");
        }
    }
}
