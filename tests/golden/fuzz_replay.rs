//! CI's short fuzz run: every cargo-fuzz check (`fuzz/checks/`, the very code the libFuzzer
//! targets call) over its committed corpus (`fuzz/corpus/<target>/`, seeded from the captures)
//! and then over deterministic mutations of it: bit flips, random bytes, cut and duplicated
//! ranges, splices of two seeds, and protocol tokens (tab, CR LF, `=`, NUL, 0xFF) dropped in.
//!
//! This is not coverage-guided (the libFuzzer build does not fit CI's budget, see BENCHMARKS
//! "Fuzzing"), but it runs the same invariants on ~10⁴ hostile inputs per target on every
//! push, so a parser change that panics on a near-capture input fails here first. A finding is
//! written to `target/fuzz-replay/<target>-<n>` and reproduces with
//! `cargo +nightly fuzz run <target> <that file>`. `IRONCLOCK_FUZZ_REPLAY_RUNS` sets the
//! mutations per target (default 10,000).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/mod.rs"]
#[allow(dead_code)]
mod checks;

/// Bytes the push and pull parsers treat specially.
const TOKENS: &[&[u8]] = &[b"\t", b"\r\n", b"\n", b"=", b"\0", b"\xff", b" ", b",", b"PIN=", b"~", b"\x50\x50\x82\x7d"];

/// xorshift64*: deterministic, so a failure reproduces run after run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(7) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next() as u8;
            }
            2 if len > 1 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(64)).min(len);
                input.drain(from..to);
            }
            3 if len > 1 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(64)).min(len);
                let copy = input[from..to].to_vec();
                let at = rng.below(len);
                input.splice(at..at, copy);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(input.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[rng.below(other.len() + 1)..]);
            }
            5 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, token.iter().copied());
            }
            _ => input.truncate(rng.below(len + 1)),
        }
    }
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// Runs `check` on the corpus and its mutations; on a panic saves the input and fails naming it.
fn replay(target: &str, seeds: Vec<Vec<u8>>, check: fn(&[u8])) -> usize {
    assert!(!seeds.is_empty(), "{target}: no seeds");
    let runs: usize = std::env::var("IRONCLOCK_FUZZ_REPLAY_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let mut rng =
        Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64 ^ u64::from(target.as_bytes()[target.len() - 1]) << 32);
    let mut ran = 0;
    for n in 0..seeds.len() + runs {
        let input = if n < seeds.len() {
            seeds[n].clone()
        } else {
            let mut input = seeds[rng.below(seeds.len())].clone();
            mutate(&mut rng, &seeds, &mut input);
            input
        };
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-replay");
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("{target}-{n}"));
            std::fs::write(&file, &input).unwrap();
            panic!("{target}: input {n} breaks an invariant; saved to {}", file.display());
        }
        ran += 1;
    }
    ran
}

/// Pull targets have no capture corpus: valid-looking TCP frames and record-ish buffers.
fn pull_seeds() -> Vec<Vec<u8>> {
    let mut frame = vec![0x50, 0x50, 0x82, 0x7d, 16, 0, 0, 0];
    frame.extend_from_slice(&[0xd0, 0x07, 0, 0, 0x12, 0x34, 1, 0, b'1', b'2', b'3', b'4', 0, 0, 0, 0]);
    let mut two = frame.clone();
    two.extend_from_slice(&frame);
    let users: Vec<u8> = (0..2u8).flat_map(|w| [w, 0x02].into_iter().chain((0..72).map(move |i| i ^ w))).collect();
    vec![frame, two, users, b"~SerialNumber=ABC123\0".to_vec(), vec![0; 40]]
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {$(
        #[test]
        fn $target() {
            let name = stringify!($target);
            let seeds = if name.starts_with("pull_") { pull_seeds() } else { corpus(name) };
            let ran = replay(name, seeds, checks::$target::check);
            assert!(ran > 1_000, "{name}: only {ran} inputs ran");
        }
    )*};
}

replay_tests!(
    push_attlog,
    push_operlog,
    push_devicecmd,
    push_handshake,
    push_registry,
    push_rtlog,
    push_tabledata,
    push_querydata,
    push_photo,
    pull_frame_splitter,
    pull_record_decoders,
    pull_reply_assembler,
);

/// The replay covers every libFuzzer target there is: a new target without a replay fails here.
#[test]
fn every_fuzz_target_is_replayed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut targets: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    targets.sort();
    let replayed = [
        "pull_frame_splitter",
        "pull_record_decoders",
        "pull_reply_assembler",
        "push_attlog",
        "push_devicecmd",
        "push_handshake",
        "push_operlog",
        "push_photo",
        "push_querydata",
        "push_registry",
        "push_rtlog",
        "push_tabledata",
    ];
    assert_eq!(targets, replayed);
}
