//! Write-ahead log recovery from arbitrary bytes: the input is cut into up to four segment
//! files (the first byte gives their number, then each is preceded by a 2-byte length) and the
//! log is recovered as opening the store does. Recovery returns a typed error or the records;
//! it never panics.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, mut rest)) = data.split_first() else {
        return;
    };
    let dir = dir().path();
    for entry in std::fs::read_dir(dir).expect("list").flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    let count = 1 + usize::from(head % 4);
    // The applied number: small, near a segment's, or huge (overflow checks).
    let applied = match head / 4 % 4 {
        0 => 0,
        1 => u64::from(head),
        2 => u64::MAX - u64::from(head % 3),
        _ => 1 << 32,
    };
    for i in 0..count {
        let len = match rest {
            [a, b, tail @ ..] => {
                rest = tail;
                usize::from(u16::from_le_bytes([*a, *b])).min(rest.len())
            }
            _ => rest.len(),
        };
        let (segment, tail) = rest.split_at(if i + 1 == count { rest.len() } else { len });
        rest = tail;
        let name = format!("{:020}.wal", i + 1);
        std::fs::write(dir.join(name), segment).expect("write a segment");
    }
    let _ = tandem::fuzzing::recover_log(dir, applied);
});
