//! The errors of the endpoint's commands. Bad input from the network is never an error: it is
//! answered or dropped and counted (see [`crate::Stats`]).

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such transaction (it ended, or the id belongs to another kind of transaction).
    #[error("no such transaction")]
    UnknownTransaction,
    /// The server transaction has sent its final response already.
    #[error("the transaction has sent its final response")]
    AlreadyAnswered,
    /// The INVITE has a final response already; nothing to cancel (RFC 3261 §9.1).
    #[error("the INVITE has a final response already")]
    TooLateToCancel,
    /// [`crate::Config::max_transactions`] transactions are live.
    #[error("too many transactions")]
    TooManyTransactions,
    /// The message given is not what the command sends (a response where a request is
    /// needed, an ACK or CANCEL through `send_request`, a status outside 100–699, ...).
    #[error("invalid message for this command: {0}")]
    InvalidMessage(&'static str),
}
