//! Parameters: `generic-param = token [ EQUAL gen-value ]`,
//! `gen-value = token / host / quoted-string` (RFC 3261 §25.1), and URI parameters/headers.

use crate::text::{Convert, Text};
use smallvec::SmallVec;

/// One parameter. The value is kept as written: escaped in URIs, with its quotes when it is a
/// quoted-string in a header; [`Param::unquoted`] strips the quotes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param<S: Text> {
    /// The name, as written (compare case-insensitively).
    pub name: S,
    /// The value, if any, as written.
    pub value: Option<S>,
}

/// Parameters in order; two are stored inline.
pub type Params<S> = SmallVec<[Param<S>; 2]>;

impl<S: Text> Param<S> {
    /// A parameter.
    pub fn new(name: S, value: Option<S>) -> Self {
        Param { name, value }
    }

    /// The value with surrounding double quotes removed (quoted-pairs are left as written).
    pub fn unquoted(&self) -> Option<&str> {
        self.value.as_ref().map(|v| unquote(v.as_ref()))
    }
}

/// Strips one pair of surrounding double quotes.
pub fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// Finds a parameter by name (case-insensitive): `Some(None)` when it has no value.
pub fn find<'p, S: Text>(params: &'p Params<S>, name: &str) -> Option<Option<&'p str>> {
    params
        .iter()
        .find(|p| p.name.as_ref().eq_ignore_ascii_case(name))
        .map(|p| p.value.as_ref().map(|v| unquote(v.as_ref())))
}

/// Converts the string storage of a parameter list.
pub fn convert_params<S: Text, T: Text>(p: &Params<S>, c: &mut impl Convert<S, T>) -> Params<T> {
    p.iter()
        .map(|p| Param {
            name: c.text(&p.name),
            value: p.value.as_ref().map(|v| c.text(v)),
        })
        .collect()
}
