//! The value tree of a model: typed values, each carrying a stable id.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::jsstring::JsString;

/// The id of one value inside a model (the protocol's value id, e.g. `"2:15"`).
///
/// Ids are opaque strings chosen by whoever created the value; they are unique within a model.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(Arc<str>);

impl ValueId {
    /// Wraps a string as a value id.
    pub fn new(id: impl AsRef<str>) -> Self {
        ValueId(Arc::from(id.as_ref()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the empty id, which never names a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ValueId {
    fn from(s: &str) -> Self {
        ValueId::new(s)
    }
}

impl From<String> for ValueId {
    fn from(s: String) -> Self {
        ValueId(Arc::from(s))
    }
}

impl Borrow<str> for ValueId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// One value of a model together with its id; containers hold their children.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// The value's id.
    pub id: ValueId,
    /// The typed content.
    pub data: Data,
}

/// The typed content of a [`Value`].
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// String keys (any UTF-16 code units) to child values; key order carries no meaning.
    Object(BTreeMap<JsString, Value>),
    /// An ordered list of child values.
    Array(Vec<Value>),
    /// Text: any UTF-16 code units; indices into it count code units, as JavaScript does.
    String(JsString),
    /// An IEEE double (the protocol has no integer type).
    Number(f64),
    /// A boolean.
    Boolean(bool),
    /// An instant, in milliseconds since the Unix epoch.
    Date(i64),
    /// Null.
    Null,
}

/// The kind of a value, used in error messages and type checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// An object.
    Object,
    /// An array.
    Array,
    /// A string.
    String,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// A date.
    Date,
    /// Null.
    Null,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ValueKind::Object => "object",
            ValueKind::Array => "array",
            ValueKind::String => "string",
            ValueKind::Number => "number",
            ValueKind::Boolean => "boolean",
            ValueKind::Date => "date",
            ValueKind::Null => "null",
        };
        f.write_str(s)
    }
}

impl Data {
    /// The kind of this content.
    pub fn kind(&self) -> ValueKind {
        match self {
            Data::Object(_) => ValueKind::Object,
            Data::Array(_) => ValueKind::Array,
            Data::String(_) => ValueKind::String,
            Data::Number(_) => ValueKind::Number,
            Data::Boolean(_) => ValueKind::Boolean,
            Data::Date(_) => ValueKind::Date,
            Data::Null => ValueKind::Null,
        }
    }
}

impl Value {
    /// Builds a value from an id and content.
    pub fn new(id: impl Into<ValueId>, data: Data) -> Self {
        Value {
            id: id.into(),
            data,
        }
    }

    /// Calls `f` on this value and every descendant, parents before children.
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Value)) {
        f(self);
        match &self.data {
            Data::Object(map) => map.values().for_each(|v| v.visit(f)),
            Data::Array(items) => items.iter().for_each(|v| v.visit(f)),
            _ => {}
        }
    }

    /// Every id in this subtree, parents before children.
    pub fn ids(&self) -> Vec<ValueId> {
        let mut out = Vec::new();
        self.visit(&mut |v| out.push(v.id.clone()));
        out
    }
}

/// Length of a string in UTF-16 code units (the unit of every string index in the protocol).
pub fn utf16_len(s: &str) -> i64 {
    s.chars().map(|c| c.len_utf16() as i64).sum()
}
