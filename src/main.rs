// The TLC runner is a library module; the CLI wires it in (until then it is
// only exercised by its tests).
#[allow(dead_code)]
mod tlc;

fn main() {}
