/// Fuzz body: must never panic on any input.
pub fn run(_data: &[u8]) {}
