//! Arbitrary bytes through decode, validation and apply: no panic, no
//! unbounded allocation, and the store's invariants hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| shared::check::decode_validate_apply(data));
