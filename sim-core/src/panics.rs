//! Protocol panics are failures of one seed, not of the process: while a simulation
//! runs on this thread, a panic hook records the message (with its location) for the
//! run's `detail` instead of printing it. Outside runs, panics print as usual.

use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static IN_RUN: Cell<bool> = const { Cell::new(false) };
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
