//! Short messages for the user: what a request became, what failed. Shown
//! a few seconds, at most five at once, announced to screen readers.

use leptos::prelude::*;

use super::Table;

/// A message for the user, shown for a few seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// Tells toasts apart.
    pub id: u64,
    /// How it reads.
    pub tone: Tone,
    /// What it says.
    pub text: String,
}

/// How a toast reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Done.
    Good,
    /// Waiting or for information.
    Info,
    /// Refused or failed.
    Bad,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "toast good",
            Tone::Info => "toast info",
            Tone::Bad => "toast bad",
        }
    }
}

impl Table {
    /// Shows a toast for five seconds.
    pub fn toast(&self, tone: Tone, text: String) {
        let id = self.next_toast.get_value();
        self.next_toast.set_value(id + 1);
        self.toasts.update(|toasts| {
            toasts.push(Toast { id, tone, text });
            // A burst of refusals should not bury the table.
            let excess = toasts.len().saturating_sub(5);
            toasts.drain(..excess);
        });
        #[cfg(feature = "hydrate")]
        {
            let toasts = self.toasts;
            set_timeout(
                move || toasts.update(|t| t.retain(|toast| toast.id != id)),
                std::time::Duration::from_secs(5),
            );
        }
    }
}

/// The toasts, newest last, announced to screen readers.
#[component]
pub(super) fn Toasts() -> impl IntoView {
    let table = expect_context::<Table>();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || table.toasts.get() key=|toast| toast.id let:toast>
                <div class=toast.tone.class() data-test="toast">
                    {toast.text}
                </div>
            </For>
        </div>
    }
    .into_any()
}
