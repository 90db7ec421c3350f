//! The HTTP query-string reader (`http::params::Params`) on arbitrary bytes: it may refuse
//! (400 `bad_parameter`), never panic, and what it accepts reads back as UTF-8 values.
#![no_main]

use kotae::http::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Params::parse(Some(raw)) {
        for key in ["q", "limit", "offset", "kind", "from", "to"] {
            let _ = p.get(key);
            let _ = p.number(key, 10);
            let _ = p.date(key);
        }
    }
});
