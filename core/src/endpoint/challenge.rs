//! Answering digest challenges to the requests the endpoint sends on its own behalf
//! (RFC 3261 §22.2–§22.3, RFC 8760): a 401 or 407 to an INVITE, re-INVITE, BYE (and the
//! refer layer's REFER, NOTIFY, SUBSCRIBE) is retried once per challenge with credentials
//! from [`crate::Config::credentials`]; a second challenge with the same nonce (wrong
//! credentials), a challenge with no credentials for its realm or an algorithm we do not
//! support fails the request with [`Event::AuthFailed`].

use super::{Endpoint, Event};
use crate::auth::Challenge;
use crate::msg::{CSeq, Header, HeaderName, Message};
use crate::text::SipStr;
use crate::transaction::TxId;
use crate::transport::Destination;
use alloc::vec::Vec;

/// Most challenges one request chain answers (new nonces each time) before giving up.
const MAX_ROUNDS: usize = 3;

/// Most realms whose nonce counts are remembered.
const MAX_NONCES: usize = 32;

/// The nonces a request (and its retries) has answered.
#[derive(Clone, Debug, Default)]
pub(super) struct Trail {
    nonces: Vec<SipStr>,
}

impl Endpoint {
    /// A 401/407 to `tx`. `true` when the request was sent again with credentials (the
    /// response is then consumed); `false` when it could not be, after reporting
    /// [`Event::AuthFailed`].
    pub(super) fn on_challenge(&mut self, tx: TxId, response: &Message) -> bool {
        let owned = self.tx_calls.contains_key(&tx)
            || self.quiet.contains_key(&tx)
            || self.tx_transfers.contains_key(&tx);
        if !owned {
            return false;
        }
        let status = response.status().unwrap_or(401);
        let Some(dest) = self.layer.get(tx).map(|t| t.bound_for()) else {
            return false;
        };
        let Some(request) = self.layer.request_copy(tx) else {
            return false;
        };
        let method = request.method().cloned();
        let (challenge_name, credentials_name) = if status == 407 {
            (
                HeaderName::ProxyAuthenticate,
                HeaderName::ProxyAuthorization,
            )
        } else {
            (HeaderName::WwwAuthenticate, HeaderName::Authorization)
        };
        let values = response.headers.iter().filter_map(|h| match h {
            Header::Raw { name, value } if *name == challenge_name => Some(value.as_str()),
            _ => None,
        });
        let challenge = Challenge::best(values);
        let mut trail = self.auth_trails.remove(&tx).unwrap_or_default();
        let usable = challenge.as_ref().and_then(|c| {
            let again = trail.nonces.contains(&c.nonce) && !c.stale;
            let creds = self.config.credentials.iter().find(|k| {
                k.realm
                    .as_ref()
                    .is_none_or(|r| r.as_str() == c.realm.as_str())
            });
            creds.filter(|_| !again && trail.nonces.len() < MAX_ROUNDS)
        });
        let (Some(c), Some(creds)) = (challenge.clone(), usable.cloned()) else {
            let call = self
                .tx_calls
                .get(&tx)
                .copied()
                .or_else(|| self.transfer_call_of(tx));
            if let Some(method) = method {
                self.events.push_back(Event::AuthFailed {
                    call,
                    method,
                    status,
                    realm: challenge.map(|c| c.realm),
                });
            }
            return false;
        };
        // RFC 7616 §3.4: the nonce count is how many requests this client sent with the
        // nonce, this one included.
        let nc = match self.nonce_counts.get_mut(&c.realm) {
            Some((nonce, n)) if *nonce == c.nonce => {
                *n += 1;
                *n
            }
            _ => {
                if self.nonce_counts.len() >= MAX_NONCES {
                    self.nonce_counts.clear();
                }
                self.nonce_counts
                    .insert(c.realm.clone(), (c.nonce.clone(), 1));
                1
            }
        };
        let cnonce = self.ids.local_call_id();
        let uri = request
            .request_uri()
            .map(crate::msg::emit::uri_to_string)
            .unwrap_or_default();
        let method_str = request.method().map(|m| m.as_str()).unwrap_or("");
        let value = c.authorization(
            &creds.username,
            &creds.password,
            method_str,
            &uri,
            nc,
            &cnonce,
        );
        let mut retry = request.clone();
        // Earlier credentials of this kind are replaced; CSeq moves on (§22.2: "the same
        // Call-ID, a CSeq one higher").
        retry
            .headers
            .retain(|h| !matches!(h, Header::Raw { name, .. } if *name == credentials_name));
        retry.headers.push(Header::Raw {
            name: credentials_name,
            value: SipStr::from(value.as_str()),
        });
        let old = request.cseq().map_or(0, |c| c.seq);
        let seq = self.next_seq_for(tx, old);
        let new = self.send_again(dest, retry, seq);
        trail.nonces.push(c.nonce);
        self.auth_trails.insert(new, trail);
        if let Some(q) = self.quiet.remove(&tx) {
            self.quiet_moved(tx, new, q);
        }
        self.transfer_request_retried(tx, new, seq);
        if let Some(call) = self.tx_calls.remove(&tx) {
            self.tx_calls.insert(new, call);
            self.call_request_retried(call, tx, new, seq);
        }
        true
    }

    /// `request`, one of ours as sent before, in a new client transaction with CSeq `seq`:
    /// our Via goes and a new one (a new branch) comes (§8.1.1.7, §17.1.3: a new
    /// transaction). Its id.
    pub(super) fn send_again(&mut self, dest: Destination, mut request: Message, seq: u32) -> TxId {
        if let Some(i) = request
            .headers
            .iter()
            .position(|h| matches!(h, Header::Via(_)))
        {
            if let Header::Via(v) = &mut request.headers[i] {
                if v.len() > 1 {
                    v.remove(0);
                } else {
                    request.headers.remove(i);
                }
            }
        }
        for h in &mut request.headers {
            if let Header::CSeq(cs) = h {
                *cs = CSeq {
                    seq,
                    method: cs.method.clone(),
                };
            }
        }
        self.push_via(&mut request, dest.transport);
        self.layer
            .start_client(self.now, dest, request, None, false, &mut self.out)
    }

    /// The CSeq of a retried request: one more than the dialog's last when it belongs to a
    /// call's dialog (for our BYE of an ended call: the dialog while it lingers, and above
    /// what it sent before it went, `Endpoint::bye_answered`), else one more than `old`.
    pub(super) fn next_seq_for(&mut self, tx: TxId, old: u32) -> u32 {
        let bye = self.quiet.get(&tx).copied().flatten();
        let old = bye.map_or(old, |b| old.max(b.seq));
        let dialog = match (bye, self.transfer_call_of(tx)) {
            (Some(b), _) => self.call_dialog(b.call),
            (None, Some(call)) => self.call_dialog(call),
            (None, None) => self
                .tx_calls
                .get(&tx)
                .copied()
                .and_then(|call| self.call_dialog_mut(call, tx)),
        };
        let seq = match dialog {
            Some(d) => {
                d.local_seq = d.local_seq.max(old).wrapping_add(1);
                d.local_seq
            }
            None => old.wrapping_add(1),
        };
        if let Some(Some(b)) = self.quiet.get_mut(&tx) {
            b.seq = seq;
        }
        seq
    }

    /// `new` sends again what the quiet transaction `tx` sent: it is quiet in its place,
    /// with what it carries (`q`), and a BYE's lingering dialog now raises its CSeq.
    pub(super) fn quiet_moved(&mut self, tx: TxId, new: TxId, q: Option<super::calls::Bye>) {
        if let Some(b) = &q {
            if self.lingering_byes.get(&b.call) == Some(&tx) {
                self.lingering_byes.insert(b.call, new);
            }
        }
        self.quiet.insert(new, q);
    }
}
