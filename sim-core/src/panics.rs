//! Protocol panics are failures of one seed, not of the process: a quiet panic hook
//! records the message (with its location) for the run's `detail`.

use std::cell::RefCell;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replace the default hook (which prints to stderr) with one that records the
/// message for `take_message`. Call once at start-up; later calls are harmless.
pub fn install_quiet_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = match info.payload().downcast_ref::<&str>() {
            Some(text) => text.to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "(non-text panic)".to_string()),
        };
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(format!("{message}{location}")));
    }));
}

/// The message of this thread's last panic, if the quiet hook recorded one.
pub fn take_message() -> Option<String> {
    LAST_PANIC.with(|last| last.borrow_mut().take())
}

/// The text of a panic payload, when no hook recorded it.
pub fn payload_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast_ref::<&str>() {
        Some(text) => text.to_string(),
        None => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "(non-text panic)".to_string()),
    }
}
