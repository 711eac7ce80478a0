//! What the server said, taken in: the reactive copy of the view synced
//! with what changed, the queue, presence and link updated, the outbox
//! kept in sessionStorage, and each outcome told as a toast.

use leptos::prelude::*;
use shared::{
    client::{Changed, Client, Notice},
    id::ActionId,
};

use super::{Preview, Table, Tone, board, describe, outbox_key};

impl Table {
    /// Takes in what a server message (or a connection event) changed.
    pub(super) fn apply(&self, changed: Changed) {
        if changed.everything || !changed.touched.is_empty() {
            let touched = (!changed.everything).then_some(&changed.touched);
            let board = self.board;
            // Synced while the view is borrowed: no copy of the store.
            let moved = self.client.with_value(|c| {
                c.view()
                    .is_some_and(|view| board::sync(board, view, touched))
            });
            if moved {
                self.layout.update(|n| *n += 1);
            }
            self.revision.update(|n| *n += 1);
        }
        // A commit for a dragged token ends its preview (a snapshot ends
        // them all).
        self.previews.with_value(|previews| {
            if changed.everything {
                previews.values().for_each(Preview::end);
            } else {
                for preview in changed
                    .touched
                    .tokens
                    .iter()
                    .filter_map(|t| previews.get(t))
                {
                    preview.end();
                }
            }
        });
        if let Some((token, position, by)) = changed.preview
            && Some(by) != self.me.get_untracked().map(|me| me.user)
        {
            self.show_preview(token, position);
        }
        if let Some((at, by)) = changed.pointed {
            self.show_ping(at, by);
        }
        if let Some((path, by)) = changed.measured {
            self.show_ruler(path, by);
        }
        if let Some((template, by)) = changed.template {
            self.template_shown(template, by);
        }
        // Two at once: the latest on top; the other stays in the list.
        if let Some(handout) = changed.handouts.into_iter().last() {
            self.viewing.set(Some(handout));
        }
        let (me, queue, waiting, online, link) = self.client.with_value(|c| {
            (
                c.me(),
                c.queue().to_vec(),
                c.waiting().clone(),
                c.online().clone(),
                c.link(),
            )
        });
        if self.me.get_untracked() != me {
            self.me.set(me);
        }
        if changed.queue {
            self.queue.set(queue);
        }
        if self.waiting.get_untracked() != waiting {
            self.waiting.set(waiting);
        }
        if changed.presence {
            self.online.set(online);
        }
        if changed.explored {
            self.explored.update(|n| *n += 1);
        }
        if changed.rules {
            self.rules
                .set(self.client.with_value(|c| c.rules().cloned()));
        }
        if self.link.get_untracked() != link {
            self.link.set(link);
        }
        self.refresh_counts();
        for notice in changed.notices {
            self.announce(notice);
        }
        if changed.ended {
            match self.moved_to() {
                // A new page, not a route change: a fresh socket, view and
                // outbox for the other session, as if its link was opened.
                Some(next) => {
                    self.toast(Tone::Info, "The GM moved the table; following…".into());
                    let _ = window().location().assign(&format!("/sessions/{next}"));
                }
                None => self.toast(Tone::Info, "The GM ended the session".into()),
            }
        }
        self.send_all(changed.send);
    }

    pub(super) fn refresh_counts(&self) {
        let unsent = self.client.with_value(Client::unsent);
        if self.unsent.get_untracked() != unsent {
            self.unsent.set(unsent);
        }
        self.keep_outbox();
    }

    /// Keeps the requests not settled yet in this tab's sessionStorage, so
    /// that a reload (or a crash of the page) while offline loses none of
    /// them: the next page adopts them and sends them with the same ids.
    fn keep_outbox(&self) {
        if self.replaying {
            return;
        }
        let session = self.session;
        let kept = self.kept;
        self.client.with_value(|c| {
            let ids: Vec<ActionId> = c.outbox().iter().map(|r| r.id).collect();
            if kept.with_value(|kept| *kept == ids) {
                return;
            }
            let key = outbox_key(session);
            if ids.is_empty() {
                crate::storage::session_remove(&key);
            } else {
                crate::storage::session_set(&key, &c.outbox());
            }
            kept.set_value(ids);
        });
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn announce(&self, notice: Notice) {
        // The GM's undo follows what became of each of my requests.
        if self.is_gm_or_assistant() {
            match &notice {
                Notice::Applied { action } | Notice::Approved { action, .. } => {
                    self.undo.update_value(|history| history.applied(*action));
                }
                Notice::Rejected { action, .. }
                | Notice::Failed {
                    action: Some(action),
                    ..
                } => self.undo.update_value(|history| history.refused(*action)),
                _ => {}
            }
            self.refresh_undo();
        }
        let describe = |action: ActionId| {
            self.client
                .with_value(|c| {
                    c.outbox()
                        .iter()
                        .find(|r| r.id == action)
                        .map(|r| describe::action(&r.action, c.view()))
                })
                .unwrap_or_else(|| "your request".into())
        };
        match notice {
            // A commit speaks for itself; no toast for each move the
            // rules let through.
            Notice::Applied { .. } => {}
            Notice::Approved {
                asked, modified, ..
            } => {
                let what = asked
                    .map(|a| self.client.with_value(|c| describe::action(&a, c.view())))
                    .unwrap_or_else(|| "your request".into());
                if modified {
                    self.toast(
                        Tone::Info,
                        format!("The GM changed \u{201c}{what}\u{201d} before approving it"),
                    )
                } else {
                    self.toast(Tone::Good, format!("Approved: {what}"))
                }
            }
            Notice::Waiting { action, reason } => self.toast(
                Tone::Info,
                format!("{}: {reason}", capitalized(&describe(action))),
            ),
            Notice::Rejected {
                reason,
                alternative,
                ..
            } => {
                let mut text = format!("Rejected: {reason}");
                if let Some(alternative) = alternative {
                    let suggested = self
                        .client
                        .with_value(|c| describe::action(&alternative, c.view()));
                    text.push_str(&format!(" (the GM suggests: {suggested})"));
                }
                self.toast(Tone::Bad, text)
            }
            Notice::Failed { message, .. } => self.toast(Tone::Bad, capitalized(&message)),
            Notice::Conflicted { .. } => self.toast(
                Tone::Info,
                "Someone else changed what your request touches; the GM will settle it".into(),
            ),
            Notice::Invalidated { .. } => self.toast(
                Tone::Info,
                "Your request no longer applies to the table; the GM will answer it".into(),
            ),
        }
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
