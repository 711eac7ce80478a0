//! Arbitrary rooms through the visibility polygon: no panic, every vertex
//! in the room and seen from the eye, and an eye clear of the walls sees
//! something.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| shared::check::visibility(data));
