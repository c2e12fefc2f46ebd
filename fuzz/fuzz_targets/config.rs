//! Configuration parsing: `EngineConfig` from TOML (as the server host reads its file) and
//! from JSON (as the C ABI does). Any text gives a typed error or a configuration that passes
//! its own validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::api::EngineConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = EngineConfig::from_json(text) {
        c.validate().expect("a parsed configuration is valid");
        let json = serde_json::to_string(&c).expect("serialises");
        EngineConfig::from_json(&json).expect("its own JSON parses");
    }
    if let Ok(c) = toml::from_str::<EngineConfig>(text) {
        let _ = c.validate();
    }
});
