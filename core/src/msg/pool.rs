//! Header lists of the messages an endpoint is done with, reused by the next ones.
//!
//! Every message, parsed or built, owns one list of headers: a `Vec` of fields (a
//! [`Header`](super::Header) and its line), 240 bytes each, so ~3 KB for a dozen — the
//! largest allocation an endpoint makes, and one per message at each end. Most messages live for one input: a request until its final
//! response, a response until it is sent or read. The transaction layer gives their lists
//! back here when it lets go of them (a finished transaction sheds its request, a response
//! has been sent, a received response has been read), and the parser and the builders take
//! them from here: a message then costs no allocation for its headers while the pool has a
//! list of the right size.
//!
//! Lists come in a few sizes ([`size_class`]: at least the dozen a builder asks for, then by
//! four), so that a list given back fits the next message of about the same size. The price
//! is spare room in a message kept for long (our INVITE while it waits for its answer): a
//! list of twelve for fewer headers, at most three spare beyond. A ringing incoming call's
//! INVITE keeps a list of its own size instead (`Layer::hand_over_request`). The pool holds
//! at most [`crate::Config::header_lists`] lists of at most [`MAX_KEPT`] headers.

use super::headers::{Entry, Headers};
use super::Message;
use crate::text::SipStr;
use alloc::vec::Vec;

/// Headers of the smallest list handed out: what the response and in-dialog request builders
/// ask for (the copied headers and what the UA adds).
pub(crate) const MIN: usize = 12;

/// Longer lists are kept to a multiple of this.
const STEP: usize = 4;

/// Lists longer than this are not kept (a message that large is rare; its list is freed).
pub(crate) const MAX_KEPT: usize = 32;

/// The capacity a list for `n` headers is allocated with.
pub(crate) fn size_class(n: usize) -> usize {
    n.max(MIN).div_ceil(STEP) * STEP
}

/// Header lists given back, ready for reuse (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct HeaderPool {
    free: Vec<Vec<Entry<SipStr>>>,
    max: usize,
    /// The counted handle the last message with strings over 22 bytes made on its datagram,
    /// made again for the next such message once nothing holds it ([`crate::text::Source::reusing`]).
    pub(crate) spare: crate::text::Spare,
}

impl HeaderPool {
    /// A pool that keeps at most `max` lists (0: none, every message allocates its own).
    pub fn new(max: usize) -> Self {
        HeaderPool {
            free: Vec::new(),
            max,
            spare: Default::default(),
        }
    }

    /// At the end of an input: lets the datagram the spare handle holds go. When nothing but
    /// the pool holds the handle (the message it was made for has been dropped), the handle
    /// stays for the next message and its datagram goes; when something still does (the
    /// message went to the application in an event, or waits in a transaction), the pool
    /// lets go of the handle itself, so that the datagram lives exactly as long as what holds
    /// the message. (Kept until the next message instead, a datagram raised a firmware
    /// endpoint's peak heap by ~250 bytes.)
    pub fn let_go(&mut self) {
        #[cfg(target_has_atomic = "ptr")]
        if let Some(handle) = &mut self.spare {
            match alloc::sync::Arc::get_mut(handle) {
                Some(b) => *b = bytes::Bytes::new(),
                None => self.spare = None,
            }
        }
    }

    /// An empty list with room for `n` headers: one given back if one fits (no more than its
    /// size class), else a new one of `n`'s size class.
    pub fn take(&mut self, n: usize) -> Headers<SipStr> {
        Headers::from_entries(self.take_list(n), Default::default(), 0)
    }

    /// [`HeaderPool::take`], as the list itself.
    pub fn take_list(&mut self, n: usize) -> Vec<Entry<SipStr>> {
        let class = size_class(n);
        match self
            .free
            .iter()
            .rposition(|v| (n..=class).contains(&v.capacity()))
        {
            Some(i) => self.free.swap_remove(i),
            None => Vec::with_capacity(class),
        }
    }

    /// Takes back `list` (its headers are dropped now), unless the pool is full or the list
    /// too long to keep, or shorter than any the pool hands out (a list sized to what it
    /// holds, as a ringing call's INVITE keeps: it would only take the place of one that
    /// fits).
    pub fn give(&mut self, headers: Headers<SipStr>) {
        self.give_list(headers.into_entries());
    }

    /// [`HeaderPool::give`], the list itself.
    fn give_list(&mut self, mut list: Vec<Entry<SipStr>>) {
        let cap = list.capacity();
        if !(MIN..=MAX_KEPT).contains(&cap) || self.free.len() >= self.max {
            return;
        }
        list.clear();
        if self.free.capacity() == 0 {
            self.free.reserve_exact(self.max);
        }
        self.free.push(list);
    }

    /// A copy of `m` whose header list comes from the pool.
    pub fn clone_message(&mut self, m: &Message) -> Message {
        let mut headers = self.take(m.headers.len());
        headers.extend_kept(&m.headers, |_| true);
        Message {
            start: m.start.clone(),
            headers,
            body: m.body.clone(),
        }
    }

    /// Takes back the header list of `m`, a message nobody reads any more.
    pub fn recycle(&mut self, m: Message) {
        self.give(m.headers);
    }

    /// Gives back every list held (and the room for them).
    pub fn clear(&mut self) {
        self.free = Vec::new();
    }

    /// Lists held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_reused_within_their_size_class() {
        let mut p = HeaderPool::new(2);
        let a = p.take(5);
        assert_eq!(a.capacity(), MIN);
        let ptr = a.entries().as_ptr();
        p.give(a);
        // Any message of up to MIN headers gets it back.
        let b = p.take(12);
        assert_eq!(b.entries().as_ptr(), ptr);
        p.give(b);
        // A larger one does not fit: a new list of its class.
        let c = p.take(13);
        assert_eq!(c.capacity(), 16);
        assert_eq!(p.len(), 1);
        p.give(c);
        // A smaller message does not take a list beyond its own class.
        let d = p.take(3);
        assert_eq!(d.entries().as_ptr(), ptr);
        // Full pool: the third list is freed; over-long lists are never kept.
        p.give(d);
        p.give(Headers::with_capacity(12));
        assert_eq!(p.len(), 2);
        let mut q = HeaderPool::new(4);
        q.give(Headers::with_capacity(MAX_KEPT + 1));
        q.give(Headers::new());
        // Nor lists shorter than any it hands out (a ringing INVITE's, sized to its headers).
        q.give(Headers::with_capacity(MIN - 1));
        assert_eq!(q.len(), 0);
        // A pool of none keeps nothing.
        let mut z = HeaderPool::new(0);
        z.give(Headers::with_capacity(12));
        assert_eq!(z.len(), 0);
    }
}
