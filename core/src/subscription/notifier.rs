//! The notifier's side of a `refer` subscription: the REFER's recipient, which reports the
//! progress of the request it was asked to make (RFC 3515 §2.4.4–§2.4.6, RFC 6665 §4.2).

use crate::msg::{Header, Params, SubscriptionState};
use crate::text::SipStr;
use crate::time::Instant;
use crate::transaction::TxId;
use alloc::format;
use bytes::Bytes;
use core::time::Duration;

/// A NOTIFY to send in the subscription's dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// The sipfrag body.
    pub body: Bytes,
    /// It ends the subscription (`Subscription-State: terminated`).
    pub last: bool,
    /// The `id` its `Event` carries.
    pub id: Option<u32>,
    /// Active: seconds left (RFC 6665 §4.2.2). Terminated: the reason.
    pub state: NotifyState,
}

/// The `Subscription-State` of a [`Notify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyState {
    /// `active;expires=N`.
    Active(u64),
    /// `terminated;reason=R` (`noresource` after the final report, `timeout` after expiry
    /// or an unsubscribe).
    Terminated(&'static str),
}

impl Notify {
    /// `Event`, `Subscription-State` and `Content-Type: message/sipfrag`.
    pub fn headers(&self) -> [Header<SipStr>; 3] {
        let state = match self.state {
            NotifyState::Terminated(reason) => SubscriptionState {
                state: SipStr::from_static("terminated"),
                params: Params::default().with("reason", Some(reason)),
            },
            NotifyState::Active(expires) => SubscriptionState {
                state: SipStr::from_static("active"),
                params: Params::default().with("expires", Some(&format!("{expires}"))),
            },
        };
        [
            super::event_header(self.id),
            Header::SubscriptionState(state),
            Header::ContentType(super::sipfrag_type()),
        ]
    }
}

/// What to do after a NOTIFY's transaction ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum After {
    /// Send the NOTIFY that waited for this one.
    Send(Notify),
    /// The subscription is over: the final NOTIFY was answered, or a NOTIFY got 481 or no
    /// answer (RFC 6665 §4.2.2, RFC 5057).
    End,
    /// Nothing (the subscription goes on).
    Nothing,
}

/// The answer to a SUBSCRIBE refreshing or ending the subscription (RFC 6665 §4.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribed {
    /// The `Expires` of the 200 (what is granted: never more than asked, nor than the limit).
    pub expires: u32,
    /// The NOTIFY of the current state that follows (RFC 6665 §4.2.2), unless it waits for
    /// the one in flight or the final one is already on its way.
    pub notify: Option<Notify>,
    /// An unsubscribe (`Expires: 0`, RFC 6665 §4.2.1.4): the NOTIFY is the final one.
    pub unsubscribed: bool,
    /// The subscription's new expiry, when it goes on.
    pub expires_at: Option<Instant>,
}

/// A `refer` subscription we serve.
#[derive(Clone, Debug)]
pub struct Notifier {
    id: u32,
    with_id: bool,
    active: bool,
    in_flight: Option<TxId>,
    /// A state waits for the NOTIFY in flight — the newest, `last_state` — and whether it is
    /// the final one.
    queued: Option<bool>,
    /// The newest state sent or queued (sent again after a refresh, or at expiry; once a
    /// final one is queued, that one).
    last_state: Bytes,
    expires_at: Instant,
    /// It expired or was unsubscribed: the final NOTIFY says `reason=timeout`.
    expired: bool,
    terminated: bool,
}

impl Notifier {
    /// The subscription of the REFER with CSeq `id`; its NOTIFYs carry `id` when `with_id`
    /// (every REFER of the dialog but the first, RFC 3515 §2.4.6). `active` is false when the
    /// REFER asked for none (`Refer-Sub: false`, RFC 4488): then nothing is ever sent.
    pub fn new(id: u32, with_id: bool, active: bool, now: Instant) -> Self {
        Notifier {
            id,
            with_id,
            active,
            in_flight: None,
            queued: None,
            last_state: Bytes::new(),
            expires_at: now,
            expired: false,
            terminated: false,
        }
    }

    /// The subscription exists (it may be ending).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// It exists and its final NOTIFY has not been sent or queued yet.
    pub fn is_live(&self) -> bool {
        self.active && !self.terminated
    }

    /// Its final NOTIFY is sent or queued.
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// The NOTIFY in flight, if any.
    pub fn in_flight(&self) -> Option<TxId> {
        self.in_flight
    }

    /// Does a SUBSCRIBE whose `Event` has `id` (or none) name this subscription (RFC 3515
    /// §2.4.6)?
    pub fn matches(&self, id: Option<u32>) -> bool {
        self.active
            && match id {
                Some(id) => id == self.id,
                None => !self.with_id,
            }
    }

    /// The subscription starts now and lasts `lifetime` unless refreshed; returns when it
    /// expires.
    pub fn start(&mut self, now: Instant, lifetime: Duration) -> Instant {
        self.expires_at = now + lifetime;
        self.expires_at
    }

    /// A new state to report (`last`: the final one). Returns the NOTIFY to send now, or
    /// `None`: no subscription, the final one was already sent or is waiting (RFC 6665
    /// §4.2.2: nothing follows the NOTIFY that terminates a subscription — not even another
    /// final one, as when a subscription expired and the outcome it was waiting for comes
    /// after), or one is in flight and this one waits behind it (the newest state replaces a
    /// waiting one, and a waiting final one is never replaced).
    pub fn notify(&mut self, now: Instant, body: Bytes, last: bool) -> Option<Notify> {
        if !self.active || self.terminated {
            return None;
        }
        if self.in_flight.is_some() {
            if self.queued != Some(true) {
                self.last_state = body;
                self.queued = Some(last);
            }
            self.terminated |= last;
            return None;
        }
        self.last_state = body.clone();
        self.terminated |= last;
        Some(self.build(now, body, last))
    }

    /// The NOTIFY returned by [`Notifier::notify`] went out in transaction `tx`.
    pub fn sent(&mut self, tx: TxId) {
        self.in_flight = Some(tx);
    }

    /// The NOTIFY in flight got `code` (`None`: no answer, Timer F).
    pub fn on_response(&mut self, now: Instant, code: Option<u16>) -> After {
        self.in_flight = None;
        match code {
            // RFC 6665 §4.2.2 (as RFC 3265 §3.2.2): a NOTIFY that fails with an error
            // response ends a subscription SUBSCRIBE (or REFER) installed — 481 above all, and
            // any other final response but 2xx (this notifier never retries a NOTIFY; a
            // challenge, 401/407, is answered below it and never gets here).
            Some(300..) => After::End,
            // After no answer, a final state already waiting is still sent: it ends the
            // subscription anyway, and it is the subscriber's only way to learn the outcome.
            None if self.queued != Some(true) => After::End,
            // The state that waited (the newest, `last_state`) goes now; a final one has
            // marked the subscription terminated already.
            _ => match self.queued.take() {
                Some(last) => After::Send(self.build(now, self.last_state.clone(), last)),
                None if self.terminated => After::End,
                None => After::Nothing,
            },
        }
    }

    /// The subscription is over: nothing more is sent.
    pub fn end(&mut self) {
        self.active = false;
        self.queued = None;
    }

    /// A SUBSCRIBE for this subscription asked for `requested` seconds (`None`: no
    /// `Expires`); `limit` is the most we grant (RFC 6665 §4.2.1.2).
    pub fn on_subscribe(&mut self, now: Instant, requested: Option<u32>, limit: u32) -> Subscribed {
        if self.terminated {
            // The final NOTIFY is on its way: nothing left to refresh.
            return Subscribed {
                expires: 0,
                notify: None,
                unsubscribed: false,
                expires_at: None,
            };
        }
        let expires = requested.unwrap_or(limit).min(limit);
        self.expires_at = now + Duration::from_secs(expires.into());
        let state = self.last_state.clone();
        if expires == 0 {
            // RFC 6665 §4.2.1.4: the final NOTIFY carries the current state.
            self.queued = None;
            self.expired = true;
            Subscribed {
                expires,
                notify: self.notify(now, state, true),
                unsubscribed: true,
                expires_at: None,
            }
        } else {
            Subscribed {
                expires,
                notify: self.notify(now, state, false),
                unsubscribed: false,
                expires_at: Some(self.expires_at),
            }
        }
    }

    /// The subscription was not refreshed in time (RFC 6665 §4.2.1.2): the final NOTIFY,
    /// with the current state and `reason=timeout` — unless the final one is already out.
    pub fn expire(&mut self, now: Instant) -> Option<Notify> {
        if !self.active || self.terminated {
            return None;
        }
        self.expired = true;
        let state = self.last_state.clone();
        self.notify(now, state, true)
    }

    fn build(&self, now: Instant, body: Bytes, last: bool) -> Notify {
        let state = if last {
            NotifyState::Terminated(if self.expired {
                "timeout"
            } else {
                "noresource"
            })
        } else {
            // What is left of the subscription, rounded up (RFC 6665 §4.2.2).
            let left = self.expires_at.saturating_duration_since(now);
            NotifyState::Active(left.as_secs() + u64::from(left.subsec_nanos() > 0))
        };
        Notify {
            body,
            last,
            id: self.with_id.then_some(self.id),
            state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::emit::header_value_to_string;

    const T0: Instant = Instant::ZERO;

    fn frag(code: u16) -> Bytes {
        crate::msg::builder::sipfrag_status(code, crate::msg::builder::reason_phrase(code))
    }

    fn state_of(n: &Notify) -> alloc::string::String {
        header_value_to_string(&n.headers()[1])
    }

    fn started() -> Notifier {
        let mut n = Notifier::new(7, false, true, T0);
        n.start(T0, Duration::from_secs(60));
        n
    }

    #[test]
    fn one_notify_in_flight_newest_state_waits_final_never_replaced() {
        let mut n = started();
        let first = n.notify(T0, frag(100), false).unwrap();
        assert_eq!(state_of(&first), "active;expires=60");
        assert_eq!(header_value_to_string(&first.headers()[0]), "refer");
        n.sent(TxId(1));
        assert_eq!(n.notify(T0, frag(180), false), None, "waits");
        assert_eq!(
            n.notify(T0, frag(200), true),
            None,
            "waits, replaces the 180"
        );
        assert_eq!(
            n.notify(T0, frag(183), false),
            None,
            "after the final: dropped"
        );
        let later = T0 + Duration::from_millis(1500);
        match n.on_response(later, Some(200)) {
            After::Send(f) => {
                assert!(f.last && f.body == frag(200));
                assert_eq!(state_of(&f), "terminated;reason=noresource");
            }
            other => panic!("{other:?}"),
        }
        n.sent(TxId(2));
        assert_eq!(n.on_response(later, Some(200)), After::End);
    }

    #[test]
    fn expires_counts_down_and_rounds_up() {
        let mut n = started();
        let at = T0 + Duration::from_millis(10_500);
        assert_eq!(
            state_of(&n.notify(at, frag(180), false).unwrap()),
            "active;expires=50"
        );
    }

    /// A subscription that expired sent its final NOTIFY (`reason=timeout`); the outcome it
    /// was waiting for, coming while that NOTIFY is in flight or after it was answered, sends
    /// nothing more (RFC 6665 §4.2.2: nothing follows the terminating NOTIFY).
    #[test]
    fn nothing_follows_a_final_notify_not_even_another_final() {
        let mut n = started();
        let f = n.expire(T0 + Duration::from_secs(60)).unwrap();
        assert_eq!(state_of(&f), "terminated;reason=timeout");
        n.sent(TxId(1));
        assert!(n.notify(T0, frag(200), true).is_none());
        assert!(n.notify(T0, frag(180), false).is_none());
        assert_eq!(n.on_response(T0, Some(200)), After::End);
        assert!(n.notify(T0, frag(200), true).is_none());
        // A final sent at once and answered: the same.
        let mut n = started();
        n.notify(T0, frag(200), true).unwrap();
        n.sent(TxId(2));
        assert_eq!(n.on_response(T0, Some(200)), After::End);
        assert!(n.notify(T0, frag(503), true).is_none());
    }

    #[test]
    fn a_481_or_silence_ends_it_but_a_waiting_final_still_goes() {
        let mut n = started();
        n.notify(T0, frag(100), false).unwrap();
        n.sent(TxId(1));
        assert_eq!(n.on_response(T0, Some(481)), After::End);
        // Any other error response too (RFC 6665 §4.2.2), a waiting state or not.
        for code in [404, 405, 480, 489, 500, 603] {
            let mut n = started();
            n.notify(T0, frag(100), false).unwrap();
            n.sent(TxId(1));
            n.notify(T0, frag(180), false);
            assert_eq!(n.on_response(T0, Some(code)), After::End, "{code}");
        }
        let mut n = started();
        n.notify(T0, frag(100), false).unwrap();
        n.sent(TxId(1));
        assert_eq!(n.on_response(T0, None), After::End);
        let mut n = started();
        n.notify(T0, frag(100), false).unwrap();
        n.sent(TxId(1));
        n.notify(T0, frag(486), true);
        assert!(matches!(n.on_response(T0, None), After::Send(f) if f.last));
    }

    #[test]
    fn refresh_shortens_never_lengthens_and_notifies_the_current_state() {
        let mut n = started();
        n.notify(T0, frag(180), false).unwrap();
        n.sent(TxId(1));
        assert_eq!(n.on_response(T0, Some(200)), After::Nothing);
        let s = n.on_subscribe(T0, Some(3600), 60);
        assert_eq!(s.expires, 60);
        assert_eq!(s.expires_at, Some(T0 + Duration::from_secs(60)));
        assert_eq!(s.notify.unwrap().body, frag(180));
        let s = n.on_subscribe(T0, Some(10), 60);
        assert_eq!(s.expires, 10);
    }

    #[test]
    fn unsubscribe_and_expiry_end_it_with_reason_timeout() {
        let mut n = started();
        n.notify(T0, frag(180), false).unwrap();
        n.sent(TxId(1));
        n.on_response(T0, Some(200));
        let s = n.on_subscribe(T0, Some(0), 60);
        assert!(s.unsubscribed && s.expires == 0);
        let f = s.notify.unwrap();
        assert!(f.last && f.body == frag(180));
        assert_eq!(state_of(&f), "terminated;reason=timeout");
        assert!(!n.is_live());

        let mut n = started();
        n.notify(T0, frag(100), false).unwrap();
        n.sent(TxId(1));
        n.on_response(T0, Some(200));
        let f = n.expire(T0 + Duration::from_secs(60)).unwrap();
        assert_eq!(
            (f.last, state_of(&f).as_str()),
            (true, "terminated;reason=timeout")
        );
        assert_eq!(n.expire(T0 + Duration::from_secs(61)), None, "once");
    }

    #[test]
    fn matching_and_no_subscription() {
        let n = Notifier::new(7, true, true, T0);
        assert!(n.matches(Some(7)) && !n.matches(None) && !n.matches(Some(8)));
        let mut off = Notifier::new(7, false, false, T0);
        assert!(!off.matches(None));
        assert_eq!(
            off.notify(T0, frag(100), false),
            None,
            "Refer-Sub: false: nothing sent"
        );
        let with_id = Notifier::new(9, true, true, T0).build(T0, frag(100), false);
        assert_eq!(header_value_to_string(&with_id.headers()[0]), "refer;id=9");
    }
}
