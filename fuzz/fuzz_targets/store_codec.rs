//! The store's record codec: every decoder, fed arbitrary bytes, returns a typed error or a
//! record, and a decoded record re-encodes to bytes that decode to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::store::codec;

/// Decodes, and checks that a record that decodes survives a round trip.
macro_rules! round_trip {
    ($bytes:expr, $decode:path, |$r:ident, $buf:ident| $encode:expr) => {
        if let Ok($r) = $decode($bytes) {
            let mut $buf = Vec::new();
            let _ = $encode;
            let again = $decode(&$buf).expect("own encoding decodes");
            assert_eq!(
                format!("{again:?}"),
                format!("{:?}", $r),
                stringify!($decode)
            );
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 10 {
        0 => round_trip!(bytes, codec::decode_domain, |r, buf| codec::encode_domain(
            &r, &mut buf
        )),
        1 => round_trip!(bytes, codec::decode_collection, |r, buf| {
            codec::encode_collection(&r, &mut buf)
        }),
        2 => round_trip!(bytes, codec::decode_model_meta, |r, buf| {
            codec::encode_model_meta(&r, &mut buf)
        }),
        3 => round_trip!(bytes, codec::decode_op, |r, buf| codec::encode_op(
            &r, &mut buf
        )),
        4 => {
            let _ = codec::decode_op_time(bytes);
        }
        5 => round_trip!(bytes, codec::decode_snapshot, |r, buf| {
            codec::encode_snapshot(&r, &mut buf)
        }),
        6 => round_trip!(bytes, codec::decode_user, |r, buf| codec::encode_user(
            &r, &mut buf
        )),
        7 => round_trip!(
            bytes,
            codec::decode_jwt_key,
            |r, buf| codec::encode_jwt_key(&r, &mut buf)
        ),
        8 => round_trip!(bytes, codec::decode_reconnect_token, |r, buf| {
            codec::encode_reconnect_token(&r, &mut buf)
        }),
        _ => {
            // What the applier reads must never panic, whatever the bytes.
            let _ = tandem::fuzzing::decode_logged(bytes);
            if let Ok(batches) = codec::decode_batches(bytes) {
                let mut buf = Vec::new();
                for batch in &batches {
                    codec::encode_batch(batch, &mut buf).expect("a decoded batch encodes");
                }
                let again = codec::decode_batches(&buf).expect("own encoding decodes");
                assert_eq!(format!("{again:?}"), format!("{batches:?}"), "batches");
            }
        }
    }
});
