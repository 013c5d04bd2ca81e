//! Golden tests of the pure `push` module against the real captures in
//! `protocol/push_captures/` (01..17). Each test reads its capture file at test time,
//! extracts request bodies / acks / replies with the capture reader and checks the parsed
//! result field by field against values written from reading the capture.
//!
//! The captures are copied into `tests/golden/captures/` so a fresh clone runs these
//! tests; `copies_of_the_captures_match_the_shared_originals` catches drift.

#[path = "../support/mod.rs"]
mod support;

mod acc;
mod acc_routes;
mod att_official;
mod capture;
mod command_acks;
mod face_terminals;
mod fuzz_replay;
mod legacy_servers;

#[test]
fn all_seventeen_captures_are_present() {
    for number in 1..=17 {
        let capture = capture::load(&format!("{number:02}"));
        assert!(capture.text.starts_with("# SOURCE:"), "{}", capture.name);
    }
}

#[test]
fn copies_of_the_captures_match_the_shared_originals() {
    let shared = capture::shared_captures_dir();
    if !shared.is_dir() {
        eprintln!("shared captures not found at {}; comparing skipped", shared.display());
        return;
    }
    let copy = capture::captures_dir();
    let mut compared = 0;
    for entry in std::fs::read_dir(&shared).expect("shared dir").filter_map(Result::ok) {
        let original = std::fs::read(entry.path()).expect("read original");
        let copied = std::fs::read(copy.join(entry.file_name()))
            .unwrap_or_else(|e| panic!("missing copy of {:?}: {e}", entry.file_name()));
        assert!(original == copied, "{:?} differs from the shared original", entry.file_name());
        compared += 1;
    }
    assert_eq!(compared, 17);
}
