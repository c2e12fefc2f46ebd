//! Binary encoding of store records.
