//! The pure operational-transformation core: values with ids, operations, validated apply,
//! transformation of concurrent operations and of references. No IO, no clocks, no sessions.

mod document;
mod error;
pub mod json;
mod json_text;
mod jsstring;
mod limits;
mod operation;
mod reference;
mod text;
mod transform;
mod undo;
mod value;

pub use document::{Document, PathSegment, ScalarPrefix, WalkStep};
pub use error::{ApplyError, TransformError};
pub use jsstring::{
    code_points, is_high_surrogate, is_low_surrogate, write_wtf8, wtf8_len, CodePoint, JsString,
    Wtf8Error,
};
pub use limits::{height, weight, DocLimits};
pub use operation::{AppliedOp, AppliedOperation, DiscreteOp, OpKind, OpType, Operation, Undo};
pub use reference::{transform_reference, update_reference_on_apply, ReferenceValues};
pub use transform::{
    transform, transform_discrete, transform_discrete_in_place, transform_in_place,
};
pub use undo::{
    inverse, refresh_ids, InverseError, SkipReason, Skipped, UndoBatch, UndoPlan, Undoing,
};
pub use value::{utf16_len, Data, Value, ValueId, ValueKind};
