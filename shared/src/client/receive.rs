//! What each message from the server changes.

use super::*;

impl Client {
    /// Takes in one message from the server.
    pub fn receive(&mut self, message: ServerMessage) -> Changed {
        let mut changed = Changed::default();
        match message {
            ServerMessage::Welcome { you, dice, .. } => {
                self.me = Some(you);
                self.dice = dice;
                self.link = Link::Live;
                self.online.insert(you.user);
                changed.presence = true;
                // The server sends what it kept, whole, after the welcome.
                self.explored.clear();
                changed.explored = true;
                // Everything unanswered goes out again, in order; the
                // server answers a request it already has with its first
                // outcome.
                changed.send = self
                    .outbox
                    .iter()
                    .cloned()
                    .map(ClientMessage::Request)
                    .collect();
                // A new socket previews nobody until asked again.
                if you.role.is_gm_or_assistant() && self.previewing.is_some() {
                    changed.send.push(ClientMessage::PreviewExplored {
                        player: self.previewing,
                    });
                }
            }
            ServerMessage::Snapshot { version, entities } => match Store::from_entities(entities) {
                Ok(store) => {
                    changed.everything = true;
                    match &mut self.state {
                        Some(state) => {
                            let disturbed = state.reset(store, version);
                            changed
                                .notices
                                .extend(disturbed.into_iter().map(notice_for));
                        }
                        None => {
                            self.state = Some(Optimistic::new(store, version));
                            // Requests adopted before the table loaded.
                            self.show_outbox();
                        }
                    }
                    // Acknowledged from here on.
                    self.acked = self.acked.min(version);
                }
                Err(error) => changed.notices.push(Notice::Failed {
                    action: None,
                    message: format!("the table could not be loaded: {error}"),
                }),
            },
            ServerMessage::Commit(commit) => {
                let Some(state) = &mut self.state else {
                    return changed;
                };
                let before = state.version();
                // Whether the commit differs from what I asked for (the
                // GM modified it), known only while it is pending.
                let modified = commit.action.and_then(|id| {
                    state
                        .pending()
                        .iter()
                        .find(|p| p.id == id)
                        .map(|p| p.changes != commit.changes)
                });
                let logs_before = log_ends(state.view(), &commit.changes, self.me);
                match state.commit(&commit) {
                    Ok(outcome) => {
                        if commit.version > before {
                            if let Some(me) = self.me {
                                changed.handouts = shown_handouts(state.view(), &logs_before, me);
                            }
                            changed.touched.add(&commit.changes);
                            keep_recent(&mut self.recent, self.me, &commit);
                            for pending in state.pending() {
                                changed.touched.add(&pending.changes);
                            }
                        }
                        if let Some(confirmed) = outcome.confirmed
                            && self.waiting.remove(&confirmed).is_some()
                        {
                            changed.notices.push(Notice::Approved {
                                action: confirmed,
                                asked: self.asked(confirmed),
                                modified: modified.unwrap_or(false),
                            });
                        }
                        changed
                            .notices
                            .extend(outcome.disturbed.into_iter().map(notice_for));
                    }
                    Err(Error::VersionGap { .. }) => changed.send.push(ClientMessage::Resume {
                        from: state.version(),
                    }),
                    // This copy no longer matches the server's: start over
                    // from a snapshot (pending requests stay and re-apply).
                    Err(_) => changed
                        .send
                        .push(ClientMessage::Hello { resume_from: None }),
                }
            }
            ServerMessage::Received { action, status } => match status {
                RequestStatus::Applied { version } => {
                    // Approved while this copy was away (the commit came
                    // in a snapshot): still a decision to tell.
                    if self.waiting.remove(&action).is_some() {
                        changed.notices.push(Notice::Approved {
                            action,
                            asked: self.asked(action),
                            modified: false,
                        });
                    }
                    self.outbox.retain(|r| r.id != action);
                    // Applied while this copy was away: the snapshot since
                    // holds it, so it is no longer mine to show on top.
                    let held = self.state.as_ref().is_some_and(|state| {
                        version <= state.version() && state.pending().iter().any(|p| p.id == action)
                    });
                    if held {
                        changed.touched = self.forget(action);
                    }
                    changed.notices.push(Notice::Applied { action });
                }
                RequestStatus::WaitingForGm { reason } => {
                    let known = self.waiting.insert(action, reason.clone()).is_some();
                    if !known {
                        changed.notices.push(Notice::Waiting { action, reason });
                    }
                }
            },
            ServerMessage::Rejected {
                action,
                reason,
                alternative,
            } => {
                changed.touched = self.forget(action);
                changed.notices.push(Notice::Rejected {
                    action,
                    reason,
                    alternative,
                });
            }
            ServerMessage::Error { action, error } => {
                if let Some(action) = action {
                    changed.touched = self.forget(action);
                }
                changed.notices.push(Notice::Failed {
                    action,
                    message: error.to_string(),
                });
            }
            ServerMessage::Queue { pending } => {
                self.queue = pending;
                changed.queue = true;
            }
            ServerMessage::Queued { pending } => {
                self.queue.retain(|q| q.request.id != pending.request.id);
                self.queue.push(pending);
                changed.queue = true;
            }
            ServerMessage::Dequeued { action } => {
                self.queue.retain(|q| q.request.id != action);
                changed.queue = true;
            }
            ServerMessage::DragPreview {
                token,
                position,
                by,
            } => changed.preview = Some((token, position, by)),
            ServerMessage::PointedAt { at, by, .. } => changed.pointed = Some((at, by)),
            ServerMessage::Measured { path, by, .. } => changed.measured = Some((path, by)),
            ServerMessage::TemplateShown { template, by, .. } => {
                changed.template = Some((template, by));
            }
            ServerMessage::Presence { user, connected } => {
                if connected {
                    self.online.insert(user);
                } else {
                    self.online.remove(&user);
                }
                changed.presence = true;
            }
            ServerMessage::Rules { policy } => {
                self.rules = Some(policy);
                changed.rules = true;
            }
            ServerMessage::Ended { next, .. } => {
                // What was still unsettled will not be: the server refused
                // what waited for the GM, and takes nothing more.
                let unsettled: Vec<ActionId> = self.outbox.iter().map(|r| r.id).collect();
                for action in unsettled {
                    changed.touched.add_all(self.forget(action));
                }
                self.link = Link::Ended;
                self.moved_to = next;
                self.online.clear();
                changed.ended = true;
                changed.presence = true;
            }
            ServerMessage::Explored {
                encounter,
                cells,
                whole,
            } => {
                let known = self.explored.entry(encounter).or_default();
                if whole {
                    *known = cells;
                } else {
                    known.extend(cells);
                }
                changed.explored = true;
            }
            ServerMessage::Pong { .. } => {}
        }
        changed
    }

    /// What I asked for under `action`, while it is in the outbox.
    fn asked(&self, action: ActionId) -> Option<Action> {
        self.outbox
            .iter()
            .find(|r| r.id == action)
            .map(|r| r.action.clone())
    }

    /// Drops a request the server will not apply: out of the outbox and
    /// the waiting list, its effect taken back. Returns what that touched.
    fn forget(&mut self, action: ActionId) -> Touched {
        self.outbox.retain(|r| r.id != action);
        self.waiting.remove(&action);
        let mut touched = Touched::default();
        if let Some(state) = &mut self.state {
            if let Some(pending) = state.pending().iter().find(|p| p.id == action) {
                touched.add(&pending.changes);
            }
            if state.reject(action).is_ok() {
                for pending in state.pending() {
                    touched.add(&pending.changes);
                }
            }
        }
        touched
    }
}

fn notice_for((action, status): (ActionId, PendingStatus)) -> Notice {
    match status {
        PendingStatus::Conflicted => Notice::Conflicted { action },
        PendingStatus::Invalidated | PendingStatus::Shown => Notice::Invalidated { action },
    }
}

/// Keeps a commit of an action in the GM's list of recent changes
/// (players take nothing back, and their commits are filtered).
fn keep_recent(
    recent: &mut std::collections::VecDeque<RecentChange>,
    me: Option<Participant>,
    commit: &crate::change::Commit,
) {
    let (Some(action), true) = (
        commit.action,
        me.is_some_and(|me| me.role.is_gm_or_assistant()),
    ) else {
        return;
    };
    if commit.changes.is_empty() {
        return;
    }
    recent.push_back(RecentChange {
        version: commit.version,
        action,
        changes: commit.changes.clone(),
    });
    while recent.len() > RECENT_CHANGES {
        recent.pop_front();
    }
}

/// The last line not mine of each log `changes` touch, as it stands
/// before they apply (`None`: none). Not mine, because my pending lines
/// stay last in my view whatever the commit adds before them.
fn log_ends(
    view: &Store,
    changes: &[Change],
    me: Option<Participant>,
) -> Vec<(crate::id::EncounterId, Option<crate::encounter::LogEntry>)> {
    let mut ends: Vec<(crate::id::EncounterId, Option<crate::encounter::LogEntry>)> = Vec::new();
    for change in changes {
        let Some(Entity::Encounter(id)) = change.path.entity() else {
            continue;
        };
        if change.path.segments().get(2).map(String::as_str) != Some("log")
            || ends.iter().any(|(known, _)| *known == id)
        {
            continue;
        }
        let mine =
            |line: &&crate::encounter::LogEntry| me.is_some_and(|me| line.by == Some(me.user));
        let last = view
            .encounter(id)
            .and_then(|e| e.log.iter().rev().find(|line| !mine(line)).cloned());
        ends.push((id, last));
    }
    ends
}

/// The handouts someone else just showed `me`: the handout lines each
/// touched log gained after the line it ended with. A log reaches a player
/// as appended lines, or (with private lines, at its cap) as the whole log
/// again, so the lines are told by what came after the old end, not by
/// how they came.
fn shown_handouts(
    view: &Store,
    logs_before: &[(crate::id::EncounterId, Option<crate::encounter::LogEntry>)],
    me: Participant,
) -> Vec<crate::media::Handout> {
    let mut shown = Vec::new();
    for (encounter, last) in logs_before {
        let Some(log) = view.encounter(*encounter).map(|e| &e.log) else {
            continue;
        };
        let added = match last {
            None => &log[..],
            // Gone (taken back, or dropped for room): nothing was added.
            Some(last) => log
                .iter()
                .rposition(|line| line == last)
                .map_or(&[][..], |at| &log[at + 1..]),
        };
        shown.extend(
            added
                .iter()
                .filter(|line| line.by != Some(me.user) && line.read_by_player(me.user))
                .filter_map(|line| line.handout.clone()),
        );
    }
    shown
}
