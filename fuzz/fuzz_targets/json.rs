//! JSON to value conversion: model data (`ot::json`) and host-side changes (`api`'s change
//! list). Whatever the text, conversion gives a typed error or a value, and a converted value
//! written back as JSON converts to the same value again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;
use tandem::api::changes_from_str;
use tandem::ot::json::{root_from_json, value_from_json, value_to_json, IdGenerator};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = changes_from_str(text);
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        return;
    };
    let _ = root_from_json(&json, &mut IdGenerator::new("r", 0));
    let Ok(value) = value_from_json(&json, &mut IdGenerator::new("v", 0)) else {
        return;
    };
    let written = value_to_json(&value);
    let again = value_from_json(&written, &mut IdGenerator::new("v", 0))
        .expect("JSON the engine writes converts back");
    assert_eq!(
        format!("{:?}", value_to_json(&again)),
        format!("{written:?}"),
        "value round trip"
    );
});
