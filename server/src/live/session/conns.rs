//! The session's sockets: who joins and leaves, how far each may fall
//! behind (flow control), and how frames reach them. Every frame goes
//! through [`SessionActor::push`], which drops a socket that cannot keep
//! up rather than buffering for it without bound.

use std::collections::BTreeSet;

use bytes::Bytes;
use shared::{
    change::Version,
    geometry::Point,
    id::{EncounterId, TokenId, UserId},
    protocol::ServerMessage,
    rules::{Participant, may_move_token},
    sight::{entities_for, preview_seen},
    template::Template,
};
use tokio::sync::{mpsc, oneshot};

use super::{ConnId, SessionActor};

/// The shortest time between two pings from one socket: more often is
/// dropped (a held mouse button is one ping, not a stream).
pub(super) const POINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A socket that joined.
pub(super) struct Conn {
    pub(super) who: Participant,
    pub(super) out: mpsc::Sender<Bytes>,
    /// The newest version queued for it (commit or snapshot).
    sent: Version,
    /// Where its window of unacknowledged commits starts: the newest
    /// version it acknowledged, or its last catch-up. `None` until its
    /// first acknowledgement (a client that never acknowledges is bounded
    /// by its send queue alone).
    acked: Option<Version>,
    /// More than the window behind: commits are held back until it
    /// acknowledges what it was sent; then it catches up in one go.
    pub(super) held: bool,
    /// When it last pointed at the map (pings are spaced out).
    last_point: Option<std::time::Instant>,
    /// Its ruler's and its template's encounter and the sockets shown
    /// each now (by [`Overlay`]): told when it goes, so nobody keeps a
    /// ruler or a template nobody shows.
    overlays: [Option<(EncounterId, BTreeSet<ConnId>)>; 2],
    /// For a GM previewing a player's view: whose explored cells it is
    /// sent as they grow.
    pub(super) previewing: Option<UserId>,
    /// Held only to be dropped with the connection.
    _kick: Option<oneshot::Sender<()>>,
}

impl Conn {
    /// Whether a commit should go to this socket now; holds it back when
    /// it falls `window` commits behind what it acknowledged.
    pub(super) fn takes(&mut self, version: Version, window: u64) -> bool {
        if self.held {
            return false;
        }
        if self
            .acked
            .is_some_and(|acked| version.saturating_sub(acked) > window)
        {
            self.held = true;
            return false;
        }
        self.sent = version;
        true
    }
}

impl SessionActor {
    /// A socket said hello: within the limits on sockets, it joins and is
    /// brought to the current version.
    pub(super) fn open(
        &mut self,
        conn: ConnId,
        who: Participant,
        resume_from: Option<Version>,
        out: mpsc::Sender<Bytes>,
        kick: Option<oneshot::Sender<()>>,
    ) {
        let theirs = self
            .conns
            .values()
            .filter(|c| c.who.user == who.user)
            .count();
        let full = shared::limits::count(
            "one member's sockets in a session",
            theirs + 1,
            shared::limits::MAX_SOCKETS_PER_MEMBER,
        )
        .and_then(|()| {
            shared::limits::count(
                "a session's sockets",
                self.conns.len() + 1,
                shared::limits::MAX_SOCKETS_PER_SESSION,
            )
        });
        if let Err(error) = full {
            // Told why, then closed: dropping `kick` ends the socket.
            let _ = out.try_send(frame(&ServerMessage::Error {
                action: None,
                error,
            }));
            return;
        }
        self.conns.insert(
            conn,
            Conn {
                who,
                out,
                sent: 0,
                acked: None,
                held: false,
                last_point: None,
                overlays: [None, None],
                previewing: None,
                _kick: kick,
            },
        );
        self.join(conn, who, resume_from);
    }

    fn join(&mut self, conn: ConnId, who: Participant, resume_from: Option<Version>) {
        self.send(
            conn,
            &ServerMessage::Welcome {
                session: self.id,
                you: who,
                version: self.authority.version(),
                dice: self.dice.map(|seed| seed.commitment()),
            },
        );
        self.catch_up(conn, resume_from);
        if who.role.is_gm_or_assistant() {
            self.send(conn, &self.queue());
        }
        self.send_explored(conn, who);
        // The rules close the welcome.
        self.send(
            conn,
            &ServerMessage::Rules {
                policy: self.policy.clone(),
            },
        );
        self.mirror.presence(who, true);
        let first = self
            .conns
            .values()
            .filter(|c| c.who.user == who.user)
            .count()
            == 1;
        if first {
            self.broadcast_except(
                conn,
                &ServerMessage::Presence {
                    user: who.user,
                    connected: true,
                },
            );
        }
    }

    pub(super) fn leave(&mut self, conn: ConnId) {
        let Some(gone) = self.conns.remove(&conn) else {
            return;
        };
        for overlay in Overlay::ALL {
            if let Some((encounter, shown)) = &gone.overlays[overlay as usize] {
                let cleared = overlay.gone(*encounter, gone.who.user);
                for watcher in shown {
                    self.push(*watcher, cleared.clone());
                }
            }
        }
        if !self.conns.values().any(|c| c.who.user == gone.who.user) {
            self.mirror.presence(gone.who, false);
            self.broadcast_except(
                conn,
                &ServerMessage::Presence {
                    user: gone.who.user,
                    connected: false,
                },
            );
        }
    }

    /// Welcomes a socket again under its user's new role, with what that
    /// role may see from scratch.
    pub(super) fn rejoin(&mut self, conn: ConnId, you: Participant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.who = you;
        self.send(
            conn,
            &ServerMessage::Welcome {
                session: self.id,
                you,
                version: self.authority.version(),
                dice: self.dice.map(|seed| seed.commitment()),
            },
        );
        self.catch_up(conn, None);
        if you.role.is_gm_or_assistant() {
            self.send(conn, &self.queue());
        }
        self.send_explored(conn, you);
    }

    /// Brings a socket to the current version.
    pub(super) fn catch_up(&mut self, conn: ConnId, from: Option<Version>) {
        let version = self.authority.version();
        let Some(target) = self.conns.get_mut(&conn) else {
            return;
        };
        target.sent = version;
        target.held = false;
        // The window starts afresh from what it is sent now.
        if let Some(acked) = &mut target.acked {
            *acked = version;
        }
        let who = target.who;
        for bytes in self.since(who, from) {
            self.push(conn, bytes);
        }
    }

    /// A socket applied everything up to `version`. One that was held back
    /// and has now applied all it was sent catches up in one go.
    pub(super) fn acknowledged(&mut self, conn: ConnId, version: Version) {
        let Some(target) = self.conns.get_mut(&conn) else {
            return;
        };
        // Nobody can have applied what was never sent.
        let version = version.min(target.sent);
        let acked = target.acked.map_or(version, |acked| acked.max(version));
        target.acked = Some(acked);
        if target.held && acked >= target.sent {
            self.metrics.request("caught_up");
            self.catch_up(conn, Some(acked));
        }
    }

    /// What brings `who` from `from` to the current version: nothing when
    /// current; the commits missed when they may be sent unfiltered (the
    /// GM) and are still in memory; else a snapshot of what `who` may see.
    pub(super) fn since(&self, who: Participant, from: Option<Version>) -> Vec<Bytes> {
        if from == Some(self.authority.version()) {
            return Vec::new();
        }
        let missed = from
            .filter(|_| who.role.is_gm_or_assistant())
            .and_then(|from| {
                self.authority.commits_since(from).map(|missed| {
                    missed
                        .map(|c| frame(&ServerMessage::Commit(c.clone())))
                        .collect()
                })
            });
        missed.unwrap_or_else(|| {
            vec![frame(&ServerMessage::Snapshot {
                version: self.authority.version(),
                entities: entities_for(&who, self.authority.store()),
            })]
        })
    }

    /// A token dragged and not yet dropped: shown to whoever would see it
    /// at the drop (never logged, never committed).
    pub(super) fn drag_preview(
        &mut self,
        conn: ConnId,
        who: Participant,
        token: TokenId,
        position: Point,
    ) {
        let store = self.authority.store();
        if !may_move_token(&who, store, token) {
            return;
        }
        let bytes = frame(&ServerMessage::DragPreview {
            token,
            position,
            by: who.user,
        });
        // Players watch only what they would see at the drop.
        let watchers: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| {
                **id != conn
                    && (c.who.role.is_gm_or_assistant()
                        || preview_seen(store, c.who.user, token, position))
            })
            .map(|(id, _)| *id)
            .collect();
        for watcher in watchers {
            self.push(watcher, bytes.clone());
        }
    }

    /// A ping on the map: shown to whoever sees that place (the GM and
    /// assistants always; players where the fog is off or lifted), at most
    /// one per socket every [`POINT_EVERY`] (never logged, never committed).
    pub(super) fn point_at(
        &mut self,
        conn: ConnId,
        who: Participant,
        encounter: EncounterId,
        at: Point,
    ) {
        let store = self.authority.store();
        if !at.is_finite() || store.encounter(encounter).is_none() {
            return;
        }
        let now = std::time::Instant::now();
        let Some(pointer) = self.conns.get_mut(&conn) else {
            return;
        };
        if pointer
            .last_point
            .is_some_and(|last| now.duration_since(last) < POINT_EVERY)
        {
            return;
        }
        pointer.last_point = Some(now);
        let bytes = frame(&ServerMessage::PointedAt {
            encounter,
            at,
            by: who.user,
        });
        let watchers: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| {
                **id != conn
                    && (c.who.role.is_gm_or_assistant()
                        || shared::sight::point_seen(store, c.who.user, encounter, at))
            })
            .map(|(id, _)| *id)
            .collect();
        for watcher in watchers {
            self.push(watcher, bytes.clone());
        }
    }

    /// A ruler on the map, drawn now: relayed to whoever sees every point
    /// of it (the GM and assistants always; players where the fog is off
    /// or lifted), never logged. An empty path takes it away.
    pub(super) fn measure(
        &mut self,
        conn: ConnId,
        who: Participant,
        encounter: EncounterId,
        path: Vec<Point>,
    ) {
        let store = self.authority.store();
        if !shared::measure::ruler_ok(&path) || store.encounter(encounter).is_none() {
            return;
        }
        let seen = self.seers(|user| {
            path.iter()
                .all(|at| shared::sight::point_seen(store, user, encounter, *at))
        });
        let drawn = (!path.is_empty()).then(|| {
            frame(&ServerMessage::Measured {
                encounter,
                path,
                by: who.user,
            })
        });
        self.relay(conn, Overlay::Ruler, encounter, seen, drawn);
    }

    /// An area template on the map, placed or turned now: relayed to
    /// whoever sees its origin, never logged; none takes it away. One that
    /// cannot be drawn is answered with why.
    pub(super) fn show_template(
        &mut self,
        conn: ConnId,
        who: Participant,
        encounter: EncounterId,
        template: Option<Template>,
    ) {
        let store = self.authority.store();
        if store.encounter(encounter).is_none() {
            return;
        }
        if let Some(Err(error)) = template.map(|t| t.check()) {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: None,
                    error: shared::Error::InvalidAction(error.to_string()),
                },
            );
            return;
        }
        let seen = self.seers(|user| {
            template.is_none_or(|t| shared::sight::point_seen(store, user, encounter, t.origin))
        });
        let drawn = template.map(|template| {
            frame(&ServerMessage::TemplateShown {
                encounter,
                template: Some(template),
                by: who.user,
            })
        });
        self.relay(conn, Overlay::Template, encounter, seen, drawn);
    }

    /// The players on this session who see an overlay, as `sees` decides
    /// for each (asked once per player, however many sockets they have
    /// open).
    fn seers(&self, sees: impl Fn(UserId) -> bool) -> BTreeSet<UserId> {
        let players: BTreeSet<UserId> = self
            .conns
            .values()
            .filter(|c| !c.who.role.is_gm_or_assistant())
            .map(|c| c.who.user)
            .collect();
        players.into_iter().filter(|user| sees(*user)).collect()
    }

    /// Shows `conn`'s overlay (`drawn`) to the GM and assistants, and to
    /// the players who see it (`seen`); with nothing drawn, takes it
    /// away. A watcher who was shown it and may not see the new one is
    /// sent the overlay's removal, so it disappears rather than stops where
    /// it was last seen.
    fn relay(
        &mut self,
        conn: ConnId,
        overlay: Overlay,
        encounter: EncounterId,
        seen: BTreeSet<UserId>,
        drawn: Option<Bytes>,
    ) {
        let Some((before, by)) = self
            .conns
            .get_mut(&conn)
            .map(|c| (c.overlays[overlay as usize].take(), c.who.user))
        else {
            return;
        };
        let shown_before = before.map(|(_, shown)| shown).unwrap_or_default();
        // Encoded only if someone loses sight of it.
        let mut cleared = None;
        let mut shown = BTreeSet::new();
        let mut sends = Vec::new();
        for (id, c) in &self.conns {
            if *id == conn {
                continue;
            }
            match &drawn {
                Some(drawn) if c.who.role.is_gm_or_assistant() || seen.contains(&c.who.user) => {
                    shown.insert(*id);
                    sends.push((*id, drawn.clone()));
                }
                _ if shown_before.contains(id) => {
                    let gone = cleared.get_or_insert_with(|| overlay.gone(encounter, by));
                    sends.push((*id, gone.clone()));
                }
                _ => {}
            }
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.overlays[overlay as usize] = (!shown.is_empty()).then_some((encounter, shown));
        }
        for (watcher, bytes) in sends {
            self.push(watcher, bytes);
        }
    }

    pub(super) fn send(&mut self, conn: ConnId, message: &ServerMessage) {
        self.push(conn, frame(message));
    }

    pub(super) fn send_to_user(&mut self, user: UserId, message: &ServerMessage) {
        self.push_where(&frame(message), |_, c| c.who.user == user);
    }

    fn broadcast_except(&mut self, except: ConnId, message: &ServerMessage) {
        self.push_where(&frame(message), |id, _| id != except);
    }

    /// Queues the same frame for every socket `pick` chooses.
    pub(super) fn push_where(&mut self, bytes: &Bytes, pick: impl Fn(ConnId, &Conn) -> bool) {
        let targets: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| pick(**id, c))
            .map(|(id, _)| *id)
            .collect();
        for conn in targets {
            self.push(conn, bytes.clone());
        }
    }

    /// Queues a frame for a socket. A socket whose queue is full cannot
    /// keep up: it is dropped (its socket closes) rather than buffered
    /// without bound, and it resumes from its last version on reconnect.
    pub(super) fn push(&mut self, conn: ConnId, bytes: Bytes) {
        let Some(target) = self.conns.get(&conn) else {
            return;
        };
        if target.out.try_send(bytes).is_err() {
            tracing::warn!(session = %self.id, %conn, "socket too slow or gone; dropping it");
            self.conns.remove(&conn);
        }
    }
}

/// A message as every socket is sent it (JSON, encoded once).
pub(super) fn frame(message: &ServerMessage) -> Bytes {
    Bytes::from(message.encode())
}

/// What a socket shows on the map while it is there: relayed past the
/// sight filter, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overlay {
    Ruler = 0,
    Template = 1,
}

impl Overlay {
    const ALL: [Overlay; 2] = [Overlay::Ruler, Overlay::Template];

    /// The frame that takes `by`'s overlay off a watcher's map.
    fn gone(self, encounter: EncounterId, by: UserId) -> Bytes {
        frame(&match self {
            Overlay::Ruler => ServerMessage::Measured {
                encounter,
                path: Vec::new(),
                by,
            },
            Overlay::Template => ServerMessage::TemplateShown {
                encounter,
                template: None,
                by,
            },
        })
    }
}
