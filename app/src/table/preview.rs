//! Other people's drags: each dragged token has a signal of where it is
//! now, so a drag redraws that token alone; a preview nobody renews ends
//! by itself, and the commit of the move ends it at once.

use leptos::prelude::*;
use shared::{client::Link, geometry::Point, id::TokenId, protocol::ClientMessage};

use super::Table;

impl Table {
    /// Where someone else drags `token` now, if anyone does.
    pub fn preview(&self, token: TokenId) -> ArcRwSignal<Option<Point>> {
        if let Some(found) = self
            .previews
            .with_value(|p| p.get(&token).map(|p| p.at.clone()))
        {
            return found;
        }
        let preview = Preview::default();
        let at = preview.at.clone();
        self.previews.update_value(|p| {
            p.insert(token, preview);
        });
        at
    }

    /// Shows someone's drag of `token` at `position`; it ends
    /// [`PREVIEW_LINGERS`] from now unless another one comes first.
    pub(super) fn show_preview(&self, token: TokenId, position: Point) {
        self.preview(token).set(Some(position));
        let ticket = self
            .previews
            .try_update_value(|p| {
                let heard = &mut p.entry(token).or_default().heard;
                *heard += 1;
                *heard
            })
            .unwrap_or_default();
        #[cfg(feature = "hydrate")]
        {
            let previews = self.previews;
            set_timeout(
                move || {
                    let ended = previews
                        .try_with_value(|p| p.get(&token).filter(|p| p.heard == ticket).cloned())
                        .flatten();
                    if let Some(preview) = ended {
                        preview.end();
                    }
                },
                PREVIEW_LINGERS,
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ticket;
    }

    /// Tells the others where a token I drag is now (not stored).
    pub fn drag_preview(&self, token: TokenId, position: Point) {
        if self.link.get_untracked() == Link::Live {
            self.send_all([ClientMessage::DragPreview { token, position }]);
        }
    }
}

/// Someone else's drag of a token, as the token draws it.
#[derive(Clone, Default)]
pub(super) struct Preview {
    /// Where it is dragged now; `None` when nobody drags it.
    pub(super) at: ArcRwSignal<Option<Point>>,
    /// Counts the previews heard: a timer ends the preview only if none
    /// came after the one that set it.
    pub(super) heard: u64,
}

impl Preview {
    pub(super) fn end(&self) {
        if self.at.with_untracked(Option::is_some) {
            self.at.set(None);
        }
    }
}

/// How long a drag preview nobody renews stays on screen. Previews come
/// up to 30 times a second while a token moves; a pointer held still for
/// this long shows the token where it stands until it moves again.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const PREVIEW_LINGERS: std::time::Duration = std::time::Duration::from_millis(1500);
