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
    /// No such transfer (it ended, or never existed), or not one in this role.
    #[error("no such transfer")]
    UnknownTransfer,
    /// No such call (it ended, or never existed).
    #[error("no such call")]
    UnknownCall,
    /// The command does not fit the call's state (answering an outgoing call, ...).
    #[error("the call is not in a state that allows this")]
    InvalidState,
    /// [`crate::Config::max_dialogs`] calls are live.
    #[error("too many dialogs")]
    TooManyDialogs,
    /// The target names no address the core can send to (it does no DNS): give
    /// `CallOptions::dest`.
    #[error("no destination for the target (the core does no DNS)")]
    NoRoute,
    /// The transfer asked for cannot be made (an attended transfer whose consultation is the
    /// call being transferred, ...).
    #[error("invalid transfer: {0}")]
    InvalidTransfer(&'static str),
    /// The message given is not what the command sends (a response where a request is
    /// needed, an ACK or CANCEL through `send_request`, a status outside 100–699, ...).
    #[error("invalid message for this command: {0}")]
    InvalidMessage(&'static str),
}
