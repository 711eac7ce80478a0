//! Acting on a value once it stops changing: a search typed key by key,
//! a camera being panned. Every change restarts the wait; only the value
//! that stays is acted on.

use std::time::Duration;

use leptos::prelude::*;

/// Calls `then` with what `source` reads, once it has not changed for
/// `delay` (in the browser; on the server, never).
pub fn when_still<T: 'static>(
    source: impl Fn() -> T + 'static,
    delay: Duration,
    then: impl Fn(T) + Clone + 'static,
) {
    let changes = StoredValue::new(0u64);
    Effect::new(move |_| {
        let value = source();
        changes.update_value(|n| *n += 1);
        let this = changes.get_value();
        #[cfg(feature = "hydrate")]
        {
            let then = then.clone();
            set_timeout(
                move || {
                    if changes.try_get_value() == Some(this) {
                        then(value);
                    }
                },
                delay,
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (value, this, &then, delay);
    });
}
