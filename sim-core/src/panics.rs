//! Protocol panics are failures of one seed, not of the process: while a simulation
//! runs on this thread, a panic hook records the message (with its location) for the
//! run's `detail` instead of printing it. Outside runs, panics print as usual.
//!
//! Whose fault a panic is matters: one inside the protocol's code (its step, start,
//! recovery or checker, run through `protocol_code`) is the protocol's verdict; any other
//! panic in a run is the simulator's own bug, an internal error.

use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static IN_RUN: Cell<bool> = const { Cell::new(false) };
    static IN_PROTOCOL: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC_IN_PROTOCOL: Cell<bool> = const { Cell::new(false) };
}

static INSTALL: Once = Once::new();

/// Install the hook (once per process; later calls do nothing).
pub fn install_quiet_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_RUN.with(Cell::get) {
                return previous(info);
            }
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let message = payload_text(info.payload());
            LAST_PANIC_IN_PROTOCOL.with(|last| last.set(IN_PROTOCOL.with(Cell::get)));
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(format!("{message}{location}")));
        }));
    });
}

/// Run `body` as a simulation: its panics are recorded quietly for `take_message`.
pub fn quietly<T>(body: impl FnOnce() -> T) -> T {
    let was = IN_RUN.with(|flag| flag.replace(true));
    let result = body();
    IN_RUN.with(|flag| flag.set(was));
    result
}

/// Run `body`, code of the protocol's own (its step, start, recovery or checker): a panic
/// in it is the protocol's, not the simulator's (`last_panic_was_protocol`).
pub fn protocol_code<T>(body: impl FnOnce() -> T) -> T {
    /// Restores the flag however `body` ends, unwinding included.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_PROTOCOL.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(IN_PROTOCOL.with(|flag| flag.replace(true)));
    body()
}

/// Whether this thread's last recorded panic happened inside `protocol_code`.
pub fn last_panic_was_protocol() -> bool {
    LAST_PANIC_IN_PROTOCOL.with(Cell::get)
}

/// The message of this thread's last recorded panic.
pub fn take_message() -> Option<String> {
    LAST_PANIC.with(|last| last.borrow_mut().take())
}

/// The text of a panic payload.
pub fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    match payload.downcast_ref::<&str>() {
        Some(text) => text.to_string(),
        None => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "(non-text panic)".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_the_protocols_only_inside_protocol_code() {
        install_quiet_hook();
        let blame = |in_protocol: bool| {
            let outcome = quietly(|| {
                std::panic::catch_unwind(|| {
                    if in_protocol {
                        protocol_code(|| panic!("the protocol's assertion"));
                    } else {
                        panic!("the simulator's assertion");
                    }
                })
            });
            assert!(outcome.is_err());
            (
                last_panic_was_protocol(),
                take_message().unwrap_or_default(),
            )
        };
        let (protocol, message) = blame(true);
        assert!(
            protocol && message.contains("the protocol's assertion"),
            "{message}"
        );
        let (protocol, message) = blame(false);
        assert!(
            !protocol && message.contains("the simulator's assertion"),
            "{message}"
        );
        // The flag is restored by unwinding: code after a protocol panic is not blamed on it.
        assert!(!IN_PROTOCOL.with(Cell::get));
    }
}
