//! Operation records already encoded: a model's sequencer encodes each record as it applies
//! the operation, on its own thread, and the store copies the bytes into its log and database
//! (the records are never built, moved to the writer and freed there).

use super::codec::{self, OpFields};
use super::{OpRecord, StoreResult};

/// Operation records of one model, in version order, each encoded as
/// [`codec::encode_op`] encodes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncodedOps {
    bytes: Vec<u8>,
    /// Each record's version and the end of its bytes.
    records: Vec<(u64, usize)>,
}

impl EncodedOps {
    /// No records.
    pub fn new() -> Self {
        Self::default()
    }

    /// Encodes and appends one record from its fields. Fails (appending nothing) only for
    /// value trees deeper than [`codec::MAX_VALUE_DEPTH`].
    pub fn push(&mut self, fields: &OpFields<'_>) -> StoreResult<()> {
        self.push_fields(fields)
    }

    /// Encodes and appends a record.
    pub fn push_record(&mut self, r: &OpRecord) -> StoreResult<()> {
        self.push_fields(&OpFields::of(r))
    }

    fn push_fields(&mut self, fields: &OpFields<'_>) -> StoreResult<()> {
        let start = self.bytes.len();
        if let Err(e) = codec::encode_op_fields(fields, &mut self.bytes) {
            self.bytes.truncate(start);
            return Err(e);
        }
        self.records.push((fields.version, self.bytes.len()));
        Ok(())
    }

    /// Encodes records.
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a OpRecord>) -> StoreResult<Self> {
        let mut out = Self::new();
        for r in records {
            out.push_record(r)?;
        }
        Ok(out)
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Each record's version and bytes, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        let mut start = 0;
        self.records.iter().map(move |&(version, end)| {
            let bytes = &self.bytes[start..end];
            start = end;
            (version, bytes)
        })
    }

    /// The records, decoded.
    pub fn decode(&self) -> StoreResult<Vec<OpRecord>> {
        self.iter()
            .map(|(_, bytes)| codec::decode_op(bytes))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::{JsString, OpKind};
    use crate::store::test_records::op;

    fn splice(version: u64, text: &str) -> OpRecord {
        op(
            version,
            OpKind::StringSplice {
                index: 0,
                delete_count: 0,
                insert: JsString::from(text),
            },
        )
    }

    #[test]
    fn records_come_back_as_they_went_in() {
        let records = vec![splice(2, "a"), splice(3, "\u{1F600}b"), splice(4, "")];
        let encoded = EncodedOps::from_records(&records).unwrap();
        assert_eq!(encoded.len(), 3);
        assert_eq!(encoded.decode().unwrap(), records);
        let versions: Vec<u64> = encoded.iter().map(|(v, _)| v).collect();
        assert_eq!(versions, [2, 3, 4]);
        for ((_, bytes), r) in encoded.iter().zip(&records) {
            let mut one = Vec::new();
            codec::encode_op(r, &mut one).unwrap();
            assert_eq!(bytes, one.as_slice());
        }
        assert!(EncodedOps::new().is_empty());
    }

    #[test]
    fn a_record_too_deep_to_store_is_refused_and_leaves_the_others_intact() {
        // Building and dropping a tree this deep recurses: a thread with room for it.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(too_deep)
            .unwrap()
            .join()
            .unwrap();
    }

    fn too_deep() {
        use crate::ot::{Data, Value, ValueId};
        let mut value = Value {
            id: ValueId::new("1:d"),
            data: Data::Null,
        };
        for _ in 0..codec::MAX_VALUE_DEPTH + 1 {
            value = Value {
                id: ValueId::new("1:d"),
                data: Data::Array(vec![value]),
            };
        }
        let deep = op(3, OpKind::ArrayInsert { index: 0, value });
        let mut encoded = EncodedOps::from_records(&[splice(2, "a")]).unwrap();
        let before = encoded.clone();
        assert!(encoded.push_record(&deep).is_err());
        assert_eq!(encoded, before, "a refused record appends nothing");
        encoded.push_record(&splice(3, "b")).unwrap();
        assert_eq!(
            encoded.decode().unwrap(),
            vec![splice(2, "a"), splice(3, "b")]
        );
    }
}
