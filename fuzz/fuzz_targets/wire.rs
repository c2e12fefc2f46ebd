//! Every wire message: the protobuf envelope, then the protocol's conversion of what it
//! carries (operations, values, references) to engine types. Whatever the bytes, decoding
//! returns a typed error or a message, and what converts re-encodes and converts back to the
//! same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::protocol::codec::{self, Body};
use tandem::protocol::convert;
use tandem::protocol::wire::proto::model as pm;

fn operation(op: Option<&pm::OperationData>) {
    let Some(op) = op else { return };
    if let Ok(parsed) = convert::operation_from_wire(op) {
        let again = convert::operation_from_wire(&convert::operation_to_wire(&parsed))
            .expect("an operation the server sends converts back");
        assert_eq!(
            format!("{again:?}"),
            format!("{parsed:?}"),
            "operation round trip"
        );
    }
}

fn object(o: Option<&pm::ObjectValue>) {
    let Some(o) = o else { return };
    if let Ok(v) = convert::object_from_wire(o) {
        let again = convert::object_from_wire(&convert::object_to_wire(&v))
            .expect("a value the server sends converts back");
        assert_eq!(format!("{again:?}"), format!("{v:?}"), "value round trip");
    }
}

fn references(r: Option<&pm::ReferenceValues>) {
    let Some(r) = r else { return };
    if let Ok(v) = convert::references_from_wire(r) {
        let again = convert::references_from_wire(&convert::references_to_wire(&v))
            .expect("references the server sends convert back");
        assert_eq!(
            format!("{again:?}"),
            format!("{v:?}"),
            "references round trip"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = codec::decode(data) else { return };
    let _ = codec::check_ids(&msg);
    // What the server encodes, it decodes to the same message.
    // What the server encodes, it decodes to the same message (compared as bytes: a NaN
    // double is not equal to itself).
    let bytes = codec::encode(&msg);
    let again = codec::decode(&bytes).expect("own encoding decodes");
    assert_eq!(codec::encode(&again), bytes, "envelope round trip");
    match &msg.body {
        Some(Body::OperationSubmission(s)) => operation(s.operation.as_ref()),
        Some(Body::RemoteOperation(r)) => operation(r.operation.as_ref()),
        Some(Body::CreateRealTimeModelRequest(c)) => object(c.data.as_ref()),
        Some(Body::OpenRealTimeModelResponse(o)) => object(o.data.as_ref()),
        Some(Body::HistoricalDataResponse(h)) => object(h.data.as_ref()),
        Some(Body::ShareReference(s)) => references(s.references.as_ref()),
        Some(Body::SetReference(s)) => references(s.references.as_ref()),
        Some(Body::ReferenceShared(s)) => references(s.references.as_ref()),
        Some(Body::ReferenceSet(s)) => references(s.references.as_ref()),
        Some(Body::ModelAutoCreateConfigResponse(a)) => object(a.data.as_ref()),
        _ => {}
    }
});
