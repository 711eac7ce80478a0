//! What each player has explored of the table's map
//! (`shared::sight::explored`): told by her browser, which already works
//! out her view to draw the darkness; kept here, sent to her other
//! browsers and after each welcome, and written to the encounter once a
//! second while it grows and when the session ends.
//!
//! It is the map alone, never what stands on it (the filter still sends
//! only what her tokens see now), so it is hers to report: a player who
//! claims every cell sees the map image her browser already has. What
//! she may grow is bounded ([`shared::limits::MAX_EXPLORED_CELLS`]).

use std::collections::BTreeSet;

use shared::{
    Error as Refusal,
    geometry::Cell,
    id::{EncounterId, EntityKind, UserId},
    protocol::ServerMessage,
    rules::Participant,
};

use super::{ConnId, SessionActor, conns::frame};
use crate::{Result, encounter::explored};

impl SessionActor {
    /// A player's browser saw `cells` of the table's map: the new ones are
    /// added to what she explored and sent to her other browsers. Refused,
    /// with nothing kept, for a GM, another encounter, or past the limits.
    pub(super) fn explore(
        &mut self,
        conn: ConnId,
        who: Participant,
        encounter: EncounterId,
        cells: BTreeSet<Cell>,
    ) {
        let new = match self.unexplored(who, encounter, &cells) {
            Ok(new) => new,
            Err(error) => {
                self.send(
                    conn,
                    &ServerMessage::Error {
                        action: None,
                        error,
                    },
                );
                return;
            }
        };
        if new.is_empty() {
            return;
        }
        self.explored
            .entry(who.user)
            .or_default()
            .extend(new.iter().copied());
        self.explored_changed.insert(who.user);
        let bytes = frame(&ServerMessage::Explored {
            encounter,
            cells: new,
            whole: false,
        });
        // Her other browsers, and a GM previewing her view.
        self.push_where(&bytes, |id, c| {
            id != conn
                && (c.who.user == who.user
                    || (c.previewing == Some(who.user) && c.who.role.is_gm_or_assistant()))
        });
    }

    /// A GM previews `player`'s view (or nobody's): her explored cells go
    /// to this socket whole now, then as she explores more.
    pub(super) fn preview_explored(
        &mut self,
        conn: ConnId,
        who: Participant,
        player: Option<UserId>,
    ) {
        let Some(encounter) = self.encounter.filter(|_| who.role.is_gm_or_assistant()) else {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: None,
                    error: Refusal::Forbidden("only the GM previews what a player explored".into()),
                },
            );
            return;
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.previewing = player;
        self.send_whole_explored(conn, encounter, player);
    }

    /// The cells of `cells` that `who` had not explored, or why she may
    /// not add them.
    fn unexplored(
        &self,
        who: Participant,
        encounter: EncounterId,
        cells: &BTreeSet<Cell>,
    ) -> shared::Result<BTreeSet<Cell>> {
        if who.role.is_gm_or_assistant() {
            return Err(Refusal::Forbidden(
                "the GM sees the whole map; only players explore it".into(),
            ));
        }
        if self.encounter != Some(encounter) {
            return Err(Refusal::UnknownEntity {
                kind: EntityKind::Encounter,
                id: encounter.to_string(),
            });
        }
        shared::sight::check_explored(cells)?;
        let none = BTreeSet::new();
        let known = self.explored.get(&who.user).unwrap_or(&none);
        let new: BTreeSet<Cell> = cells.difference(known).copied().collect();
        shared::limits::count(
            "explored cells on one map",
            known.len() + new.len(),
            shared::limits::MAX_EXPLORED_CELLS,
        )?;
        Ok(new)
    }

    /// The GM (or an assistant GM) makes every player forget what they
    /// explored of the table's map: forgotten in PostgreSQL, then every
    /// player's browser is told.
    pub(super) async fn forget_explored(&mut self, conn: ConnId, who: Participant) -> Result<()> {
        let Some(encounter) = self.encounter.filter(|_| who.role.is_gm_or_assistant()) else {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: None,
                    error: Refusal::Forbidden(
                        "only the GM makes the players forget the map".into(),
                    ),
                },
            );
            return Ok(());
        };
        explored::forget(&self.db, self.campaign, encounter).await?;
        self.explored.clear();
        self.explored_changed.clear();
        tracing::info!(session = %self.id, %encounter, by = %who.user, "the players forgot what they explored");
        let bytes = frame(&ServerMessage::Explored {
            encounter,
            cells: BTreeSet::new(),
            whole: true,
        });
        self.push_where(&bytes, |_, c| {
            !c.who.role.is_gm_or_assistant() || c.previewing.is_some()
        });
        Ok(())
    }

    /// After a welcome: what a player explored of the table's map, whole.
    pub(super) fn send_explored(&mut self, conn: ConnId, who: Participant) {
        let Some(encounter) = self.encounter else {
            return;
        };
        if who.role.is_gm_or_assistant() {
            return;
        }
        self.send_whole_explored(conn, encounter, Some(who.user));
    }

    /// All that `player` explored of the map (nothing for nobody), to `conn`.
    fn send_whole_explored(
        &mut self,
        conn: ConnId,
        encounter: EncounterId,
        player: Option<UserId>,
    ) {
        let cells = player
            .and_then(|player| self.explored.get(&player).cloned())
            .unwrap_or_default();
        self.send(
            conn,
            &ServerMessage::Explored {
                encounter,
                cells,
                whole: true,
            },
        );
    }

    /// Writes what players explored since the last write, in `tx` (the
    /// session's end) or on its own.
    pub(super) async fn keep_explored(&mut self, tx: &mut sqlx::PgConnection) -> Result<()> {
        let Some(encounter) = self.encounter else {
            return Ok(());
        };
        for user in &self.explored_changed {
            if let Some(cells) = self.explored.get(user) {
                explored::save(tx, self.campaign, encounter, *user, cells).await?;
            }
        }
        Ok(())
    }

    /// The once-a-second write of what players explored, when it grew.
    /// A failure is logged and tried again next second: the memory is a
    /// convenience, and the table goes on.
    pub(super) async fn keep_explored_now(&mut self) {
        if self.explored_changed.is_empty() {
            return;
        }
        let kept = match self.db.acquire().await {
            Ok(mut db) => self.keep_explored(&mut db).await,
            Err(error) => Err(error.into()),
        };
        match kept {
            Ok(()) => self.explored_changed.clear(),
            Err(error) => {
                tracing::warn!(session = %self.id, %error, "keeping what players explored failed; trying again")
            }
        }
    }
}
