//! The unit tests of the client, one module's worth: longer than 500 lines
//! because they are every case of one state machine, grouped by section.

use std::collections::HashMap;

use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::{
    authority::Authority,
    protocol::Verdict,
    rules::{Approval, ApprovalPolicy, Role},
    sight::{CommitView, SeenBefore, entities_for},
    testing::{self, *},
};

fn session() -> SessionId {
    SessionId(Uuid::from_u128(0x5E55))
}

fn id(n: u128) -> ActionId {
    ActionId(Uuid::from_u128(0xAC00 + n))
}

fn gm() -> Participant {
    Participant {
        user: UserId(Uuid::from_u128(0x6A)),
        role: Role::Gm,
    }
}

fn player(user: UserId) -> Participant {
    Participant {
        user,
        role: Role::Player,
    }
}

fn move_to(token: u128, x: f64) -> Action {
    Action::MoveToken {
        token: tid(token),
        to: Point::new(x, 0.0),
    }
}

/// The server's side, reduced to what a client can observe: the
/// authority, the approval policy, first outcomes by action id, the GM's
/// queue, per-recipient filtering.
struct Server {
    authority: Authority,
    policy: ApprovalPolicy,
    outcomes: HashMap<ActionId, ServerMessage>,
    waiting: Vec<(ActionRequest, Participant)>,
}

/// Messages for one participant.
type Outbox = Vec<(UserId, ServerMessage)>;

impl Server {
    fn new() -> Self {
        Self {
            authority: Authority::new(testing::table(), 0),
            policy: ApprovalPolicy::default(),
            outcomes: HashMap::new(),
            waiting: Vec::new(),
        }
    }

    fn hello(&self, who: Participant, resume_from: Option<Version>) -> Vec<ServerMessage> {
        let version = self.authority.version();
        let mut out = vec![ServerMessage::Welcome {
            session: session(),
            you: who,
            version,
            dice: None,
        }];
        if resume_from != Some(version) {
            out.push(ServerMessage::Snapshot {
                version,
                entities: entities_for(&who, self.authority.store()),
            });
        }
        if who.role.is_gm_or_assistant() {
            out.push(self.queue());
        }
        out
    }

    fn queue(&self) -> ServerMessage {
        ServerMessage::Queue {
            pending: self
                .waiting
                .iter()
                .map(|(request, from)| QueuedRequest {
                    request: request.clone(),
                    from: *from,
                    reason: "waiting".into(),
                })
                .collect(),
        }
    }

    /// Handles a message from `who`; returns what each of `everyone`
    /// receives.
    fn handle(
        &mut self,
        who: Participant,
        message: ClientMessage,
        everyone: &[Participant],
    ) -> Outbox {
        match message {
            ClientMessage::Hello { resume_from } => self
                .hello(who, resume_from)
                .into_iter()
                .map(|m| (who.user, m))
                .collect(),
            ClientMessage::Request(request) => self.request(who, request, everyone),
            ClientMessage::Decide(decision) => self.decide(decision, everyone),
            _ => Vec::new(),
        }
    }

    fn request(
        &mut self,
        who: Participant,
        request: ActionRequest,
        everyone: &[Participant],
    ) -> Outbox {
        if let Some(first) = self.outcomes.get(&request.id) {
            return vec![(who.user, first.clone())];
        }
        if self.waiting.iter().any(|(r, _)| r.id == request.id) {
            return vec![(
                who.user,
                ServerMessage::Received {
                    action: request.id,
                    status: RequestStatus::WaitingForGm {
                        reason: "waiting".into(),
                    },
                },
            )];
        }
        let store = self.authority.store();
        let checked = rules::authorize(&who, &request.action, store)
            .and_then(|()| request.action.changes(store, who.user));
        let changes = match checked {
            Ok(changes) => changes,
            Err(refusal) => return self.reject(who.user, request.id, &refusal.to_string()),
        };
        match self.policy.decide(&who, &request.action, store) {
            Approval::Auto => self.commit(who.user, request.id, changes, everyone),
            Approval::Gm { reason } => {
                self.waiting.push((request.clone(), who));
                let mut out = vec![(
                    who.user,
                    ServerMessage::Received {
                        action: request.id,
                        status: RequestStatus::WaitingForGm { reason },
                    },
                )];
                // As the server does: one request more, not the queue again.
                let queued = ServerMessage::Queued {
                    pending: QueuedRequest {
                        request: request.clone(),
                        from: who,
                        reason: "waiting".into(),
                    },
                };
                out.extend(to_gms(everyone, &queued));
                out
            }
        }
    }

    fn decide(&mut self, decision: GmDecision, everyone: &[Participant]) -> Outbox {
        let Some(at) = self
            .waiting
            .iter()
            .position(|(r, _)| r.id == decision.action)
        else {
            return Vec::new();
        };
        let (request, from) = self.waiting.remove(at);
        let mut out = to_gms(everyone, &ServerMessage::Dequeued { action: request.id });
        out.extend(match decision.verdict {
            Verdict::Reject { reason, .. } => self.reject(from.user, request.id, &reason),
            Verdict::Modify { changes, .. } => {
                self.commit(from.user, request.id, changes, everyone)
            }
            Verdict::Approve => match request.action.changes(self.authority.store(), from.user) {
                Ok(changes) => self.commit(from.user, request.id, changes, everyone),
                Err(refusal) => self.reject(from.user, request.id, &refusal.to_string()),
            },
        });
        out
    }

    fn reject(&mut self, user: UserId, action: ActionId, reason: &str) -> Outbox {
        let message = ServerMessage::Rejected {
            action,
            reason: reason.into(),
            alternative: None,
        };
        self.outcomes.insert(action, message.clone());
        vec![(user, message)]
    }

    fn commit(
        &mut self,
        requester: UserId,
        action: ActionId,
        changes: Vec<Change>,
        everyone: &[Participant],
    ) -> Outbox {
        let before = SeenBefore::new(self.authority.store(), &changes);
        let (commit, _) = match self.authority.commit(Some(action), changes) {
            Ok(done) => done,
            Err(refusal) => return self.reject(requester, action, &refusal.to_string()),
        };
        let applied = ServerMessage::Received {
            action,
            status: RequestStatus::Applied {
                version: commit.version,
            },
        };
        self.outcomes.insert(action, applied.clone());
        let view = CommitView::new(&commit, &before, self.authority.store());
        let mut out: Outbox = everyone
            .iter()
            .map(|p| {
                (
                    p.user,
                    ServerMessage::Commit(view.for_participant(p).into_owned()),
                )
            })
            .collect();
        out.push((requester, applied));
        out
    }
}

/// A table of participants with their clients and whether their socket is
/// up; messages to someone offline are lost, as on a dropped socket.
struct Table {
    server: Server,
    people: Vec<(Participant, Client, bool)>,
    notices: Vec<(UserId, Notice)>,
    /// The handouts each viewer was told to open.
    handouts: Vec<(UserId, crate::media::Handout)>,
}

impl Table {
    fn new(people: &[Participant]) -> Self {
        let mut table = Self {
            server: Server::new(),
            people: people
                .iter()
                .map(|p| (*p, Client::new(session()), false))
                .collect(),
            notices: Vec::new(),
            handouts: Vec::new(),
        };
        for n in 0..people.len() {
            table.connect(n);
        }
        table
    }

    fn online(&self) -> Vec<Participant> {
        self.people
            .iter()
            .filter(|(_, _, up)| *up)
            .map(|(p, _, _)| *p)
            .collect()
    }

    fn connect(&mut self, n: usize) {
        self.people[n].2 = true;
        let hello = self.people[n].1.connected();
        self.send(n, hello);
    }

    fn disconnect(&mut self, n: usize) {
        self.people[n].2 = false;
        self.people[n].1.disconnected();
    }

    /// Sends messages from person `n` and delivers everything that follows
    /// until nothing more is sent.
    fn send(&mut self, n: usize, messages: Vec<ClientMessage>) {
        let mut to_server: std::collections::VecDeque<(usize, ClientMessage)> =
            messages.into_iter().map(|m| (n, m)).collect();
        while let Some((from, message)) = to_server.pop_front() {
            if !self.people[from].2 {
                continue;
            }
            let who = self.people[from].0;
            let everyone = self.online();
            for (user, reply) in self.server.handle(who, message, &everyone) {
                let Some(to) = self
                    .people
                    .iter()
                    .position(|(p, _, up)| p.user == user && *up)
                else {
                    continue;
                };
                let changed = self.people[to].1.receive(reply);
                self.notices
                    .extend(changed.notices.iter().map(|notice| (user, notice.clone())));
                self.handouts
                    .extend(changed.handouts.into_iter().map(|handout| (user, handout)));
                to_server.extend(changed.send.into_iter().map(|m| (to, m)));
            }
        }
    }

    fn request(&mut self, n: usize, action_id: ActionId, action: Action) -> Result<()> {
        let (_, message) =
            self.people[n]
                .1
                .request(action_id, action, RequestContext::default())?;
        self.send(n, message.into_iter().collect());
        Ok(())
    }

    fn client(&self, n: usize) -> &Client {
        &self.people[n].1
    }

    /// Every connected client holds exactly its view of the server's state.
    fn assert_converged(&self) {
        for (who, client, up) in &self.people {
            if !up {
                continue;
            }
            assert!(
                client.outbox().is_empty(),
                "{who:?} still has {:?}",
                client.outbox()
            );
            assert_eq!(
                *client.view().unwrap().entities(),
                entities_for(who, self.server.authority.store()),
                "{who:?}"
            );
        }
    }
}

fn me() -> Participant {
    player(testing::player())
}

#[test]
fn a_move_shows_at_once_and_the_commit_confirms_it() {
    let mut table = Table::new(&[gm(), me()]);
    let (touched, message) = table.people[1]
        .1
        .request(id(1), move_to(1, 50.0), RequestContext::default())
        .unwrap();
    assert!(touched.tokens.contains(&tid(1)));
    assert_eq!(
        table
            .client(1)
            .view()
            .unwrap()
            .token(tid(1))
            .unwrap()
            .position
            .x,
        50.0,
        "shown before the server answers"
    );
    assert_eq!(table.client(1).outbox().len(), 1);
    table.send(1, message.into_iter().collect());
    assert!(
        table
            .notices
            .contains(&(testing::player(), Notice::Applied { action: id(1) }))
    );
    assert_eq!(
        table
            .client(0)
            .view()
            .unwrap()
            .token(tid(1))
            .unwrap()
            .position
            .x,
        50.0
    );
    table.assert_converged();
}

#[test]
fn a_rejected_request_is_taken_back_exactly_with_the_reason() {
    let mut table = Table::new(&[gm(), me()]);
    let before = table.client(1).view().unwrap().clone();
    table
        .request(
            1,
            id(1),
            Action::AdjustHp {
                actor: aid(1),
                delta: 5,
            },
        )
        .unwrap();
    assert_eq!(table.client(1).waiting().len(), 1, "waits for the GM");
    assert_eq!(table.client(0).queue().len(), 1, "the GM sees it");
    assert_eq!(
        table
            .client(1)
            .view()
            .unwrap()
            .actor(aid(1))
            .unwrap()
            .hp
            .unwrap()
            .current,
        15
    );
    let reject = table.people[0]
        .1
        .decide(GmDecision {
            action: id(1),
            verdict: Verdict::Reject {
                reason: "not yet".into(),
                alternative: None,
            },
        })
        .unwrap();
    table.send(0, vec![reject]);
    assert_eq!(
        *table.client(1).view().unwrap(),
        before,
        "exactly as before"
    );
    assert!(table.client(1).waiting().is_empty());
    assert!(
        table
            .notices
            .iter()
            .any(|(user, notice)| *user == testing::player()
                && matches!(notice, Notice::Rejected { reason, .. } if reason == "not yet"))
    );
    assert!(table.client(0).queue().is_empty());
    table.assert_converged();
}

#[test]
fn the_requester_hears_of_an_approval_and_of_a_modification() {
    let mut table = Table::new(&[gm(), me()]);
    let heal = |delta| Action::AdjustHp {
        actor: aid(1),
        delta,
    };
    table.request(1, id(1), heal(5)).unwrap();
    table.request(1, id(2), heal(5)).unwrap();
    assert_eq!(table.client(0).queue().len(), 2);
    let approve = table.people[0]
        .1
        .decide(GmDecision {
            action: id(1),
            verdict: Verdict::Approve,
        })
        .unwrap();
    table.send(0, vec![approve]);
    let modified = table.client(0).view().unwrap();
    let changes = heal(2).changes(modified, testing::player()).unwrap();
    let modify = table.people[0]
        .1
        .decide(GmDecision {
            action: id(2),
            verdict: Verdict::Modify {
                changes,
                note: None,
            },
        })
        .unwrap();
    table.send(0, vec![modify]);
    let approvals: Vec<_> = table
        .notices
        .iter()
        .filter_map(|(user, notice)| match notice {
            Notice::Approved {
                action,
                asked,
                modified,
            } if *user == testing::player() => Some((*action, asked.clone(), *modified)),
            _ => None,
        })
        .collect();
    assert_eq!(
        approvals,
        vec![(id(1), Some(heal(5)), false), (id(2), Some(heal(5)), true)],
        "one notice per decision, the second one modified"
    );
    assert_eq!(
        table
            .client(1)
            .view()
            .unwrap()
            .actor(aid(1))
            .unwrap()
            .hp
            .unwrap()
            .current,
        17,
        "10 + 5 approved + 2 instead of 5"
    );
    table.assert_converged();
}

#[test]
fn requests_made_offline_go_out_once_on_reconnect() {
    let mut table = Table::new(&[gm(), me()]);
    table.disconnect(1);
    assert_eq!(table.client(1).link(), Link::Offline);
    // The GM moves on meanwhile.
    table.request(0, id(1), move_to(2, 100.0)).unwrap();
    table.request(1, id(2), move_to(1, 50.0)).unwrap();
    table.request(1, id(3), move_to(1, 100.0)).unwrap();
    assert_eq!(table.client(1).outbox().len(), 2, "queued, not sent");
    assert_eq!(
        table
            .client(1)
            .view()
            .unwrap()
            .token(tid(1))
            .unwrap()
            .position
            .x,
        100.0
    );
    table.connect(1);
    assert_eq!(table.client(1).link(), Link::Live);
    assert_eq!(table.server.authority.version(), 3, "both applied once");
    // Resending what the server already has changes nothing.
    let again = ClientMessage::Request(ActionRequest {
        id: id(2),
        action: move_to(1, 50.0),
        context: RequestContext::default(),
        base_version: 0,
    });
    table.send(1, vec![again]);
    assert_eq!(table.server.authority.version(), 3);
    table.assert_converged();
    assert_eq!(
        table
            .client(1)
            .view()
            .unwrap()
            .token(tid(2))
            .unwrap()
            .position
            .x,
        100.0
    );
}

#[test]
fn requests_kept_across_a_reload_are_shown_again_and_applied_once() {
    let mut table = Table::new(&[gm(), me()]);
    let heal = Action::AdjustHp {
        actor: aid(1),
        delta: 5,
    };
    // Asked while live: the heal waits for the GM.
    table.request(1, id(1), heal).unwrap();
    table.disconnect(1);
    // Asked offline: the move waits in the outbox.
    table.request(1, id(2), move_to(1, 50.0)).unwrap();
    let kept = table.client(1).outbox().to_vec();
    assert_eq!(kept.len(), 2);
    // The page reloads: a new client takes them back before it connects
    // (twice, as a page might: nothing doubles).
    table.people[1].1 = Client::new(session());
    table.people[1].1.adopt(kept.clone());
    table.people[1].1.adopt(kept);
    assert_eq!(table.client(1).outbox().len(), 2);
    assert!(table.client(1).view().is_none(), "nothing to show yet");
    table.connect(1);
    let view = table.client(1).view().unwrap();
    assert_eq!(view.token(tid(1)).unwrap().position.x, 50.0);
    assert_eq!(
        view.actor(aid(1)).unwrap().hp.unwrap().current,
        15,
        "shown, pending"
    );
    assert_eq!(table.server.authority.version(), 1, "the move, once");
    assert_eq!(table.client(0).queue().len(), 1, "the heal, once");
    assert_eq!(table.client(1).waiting().len(), 1);
    let approve = table.people[0]
        .1
        .decide(GmDecision {
            action: id(1),
            verdict: Verdict::Approve,
        })
        .unwrap();
    table.send(0, vec![approve]);
    assert_eq!(table.server.authority.version(), 2);
    assert!(table.client(1).outbox().is_empty());
    assert_eq!(
        table
            .client(1)
            .view()
            .unwrap()
            .actor(aid(1))
            .unwrap()
            .hp
            .unwrap()
            .current,
        15
    );
    table.assert_converged();
}

#[test]
fn an_ended_session_takes_nothing_more_and_is_not_rejoined() {
    let mut table = Table::new(&[gm(), me()]);
    table.disconnect(1);
    table.request(1, id(1), move_to(1, 50.0)).unwrap();
    assert_eq!(
        table.client(0).end_session(),
        Some(ClientMessage::EndSession),
        "the GM may end it"
    );
    assert_eq!(table.client(1).end_session(), None, "a player may not");
    let client = &mut table.people[1].1;
    let changed = client.receive(ServerMessage::Ended {
        by: gm().user,
        next: None,
    });
    assert!(changed.ended);
    assert!(
        changed.touched.tokens.contains(&tid(1)),
        "the pending move is taken back"
    );
    assert_eq!(client.link(), Link::Ended);
    assert!(client.outbox().is_empty());
    assert_eq!(
        client.view().unwrap().token(tid(1)).unwrap().position.x,
        0.0
    );
    assert!(
        client
            .request(id(2), move_to(1, 70.0), RequestContext::default())
            .is_err()
    );
    assert!(client.connected().is_empty(), "no hello: nothing to rejoin");
    client.disconnected();
    assert_eq!(client.link(), Link::Ended);
    assert_eq!(client.end_session(), None);
    assert_eq!(client.moved_to(), None, "ended, not moved");
}

#[test]
fn the_gm_moves_the_table_elsewhere_and_every_client_learns_where() {
    let mut table = Table::new(&[gm(), me()]);
    let here = testing::table()
        .entities()
        .encounters
        .keys()
        .next()
        .copied()
        .unwrap();
    let elsewhere = EncounterId(uuid::Uuid::from_u128(999));
    assert_eq!(
        table.client(0).move_table(elsewhere),
        Some(ClientMessage::MoveTable {
            encounter: elsewhere
        })
    );
    assert_eq!(
        table.client(0).move_table(here),
        None,
        "the table is on it already"
    );
    assert_eq!(
        table.client(1).move_table(elsewhere),
        None,
        "a player may not"
    );
    let next = SessionId(uuid::Uuid::from_u128(1000));
    let client = &mut table.people[1].1;
    let changed = client.receive(ServerMessage::Ended {
        by: gm().user,
        next: Some(next),
    });
    assert!(changed.ended);
    assert_eq!(client.link(), Link::Ended);
    assert_eq!(client.moved_to(), Some(next));
}

#[test]
fn a_gap_asks_for_what_was_missed_and_a_diverged_copy_for_a_snapshot() {
    let mut client = Client::new(session());
    client.connected();
    client.receive(ServerMessage::Welcome {
        session: session(),
        you: me(),
        version: 3,
        dice: None,
    });
    client.receive(ServerMessage::Snapshot {
        version: 3,
        entities: testing::table().entities().clone(),
    });
    let ahead = crate::change::Commit {
        version: 5,
        action: None,
        changes: Vec::new(),
    };
    assert_eq!(
        client.receive(ServerMessage::Commit(ahead)).send,
        [ClientMessage::Resume { from: 3 }]
    );
    let broken = crate::change::Commit {
        version: 4,
        action: None,
        changes: vec![set(&format!("tokens/{}/scale", tid(99)), json!(2.0))],
    };
    assert_eq!(
        client.receive(ServerMessage::Commit(broken)).send,
        [ClientMessage::Hello { resume_from: None }]
    );
    assert_eq!(client.version(), Some(3), "nothing applied");
}

#[test]
fn the_rules_refuse_at_once_what_the_server_would_refuse() {
    let mut table = Table::new(&[gm(), me()]);
    let other = table.people[1]
        .1
        .request(id(1), move_to(5, 50.0), RequestContext::default());
    assert!(matches!(other, Err(Error::Forbidden(_))), "{other:?}");
    let hidden = table.people[1]
        .1
        .request(id(2), move_to(3, 50.0), RequestContext::default());
    assert!(
        matches!(hidden, Err(Error::UnknownEntity { .. })),
        "{hidden:?}"
    );
    assert!(table.client(1).outbox().is_empty());
}

#[test]
fn acknowledgements_follow_the_version() {
    let mut table = Table::new(&[gm(), me()]);
    assert_eq!(
        table.people[1].1.acknowledge(),
        None,
        "nothing new since the snapshot at 0"
    );
    table.request(0, id(1), move_to(2, 100.0)).unwrap();
    assert_eq!(
        table.people[1].1.acknowledge(),
        Some(ClientMessage::Ack { version: 1 })
    );
    assert_eq!(table.people[1].1.acknowledge(), None);
}

/// Random requests, decisions and dropped connections at a table of a GM
/// and two players: once everyone is back and everything delivered, every
/// client holds exactly its view of the server's state, and every request
/// was answered.
#[test]
fn any_history_of_requests_and_dropped_sockets_converges() {
    for seed in 0..200u64 {
        let mut table = Table::new(&[gm(), me(), player(other_player())]);
        let mut r = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        for step in 0..40u128 {
            let roll = next();
            let who = (roll % 3) as usize;
            let action = match (roll >> 8) % 6 {
                0 | 1 => move_to([1, 5, 2][who], ((roll >> 16) % 5) as f64 * 50.0),
                2 => Action::AdjustHp {
                    actor: aid([2, 1, 5][who]),
                    delta: -1,
                },
                3 => Action::AddCondition {
                    token: tid([2, 1, 5][who]),
                    condition: "prone".into(),
                },
                4 => {
                    if table.people[who].2 {
                        table.disconnect(who);
                    } else {
                        table.connect(who);
                    }
                    continue;
                }
                _ => {
                    if let Some(waiting) = table.client(0).queue().first() {
                        let verdict = if roll % 2 == 0 {
                            Verdict::Approve
                        } else {
                            Verdict::Reject {
                                reason: "no".into(),
                                alternative: None,
                            }
                        };
                        let action = waiting.request.id;
                        if let Some(decide) =
                            table.people[0].1.decide(GmDecision { action, verdict })
                        {
                            table.send(0, vec![decide]);
                        }
                    }
                    continue;
                }
            };
            // Refused on the spot is fine (not your turn, out of reach):
            // nothing was sent.
            let _ = table.request(who, id(step + u128::from(seed) * 1000), action);
        }
        for n in 0..3 {
            if !table.people[n].2 {
                table.connect(n);
            }
        }
        // The GM answers whatever still waits, so nothing is pending.
        while let Some(waiting) = table.client(0).queue().first() {
            let decision = GmDecision {
                action: waiting.request.id,
                verdict: Verdict::Approve,
            };
            let decide = table.people[0].1.decide(decision).unwrap();
            table.send(0, vec![decide]);
        }
        for n in 0..3 {
            assert!(table.client(n).waiting().is_empty(), "seed {seed}");
        }
        table.assert_converged();
    }
}

/// The same message for every GM of `everyone`.
fn to_gms(everyone: &[Participant], message: &ServerMessage) -> Outbox {
    everyone
        .iter()
        .filter(|p| p.role.is_gm_or_assistant())
        .map(|p| (p.user, message.clone()))
        .collect()
}

#[test]
fn a_handout_opens_for_its_readers_alone() {
    let mut table = Table::new(&[gm(), me(), player(other_player())]);
    let map = crate::media::Handout {
        media: crate::id::MediaId(Uuid::from_u128(0x3ED1A)),
        name: crate::media::DisplayFileName::sanitize("../crypt map.png"),
        format: crate::media::HandoutFormat::Image,
    };
    let show = |to: Option<Vec<UserId>>| Action::ShowHandout {
        encounter: eid(1),
        handout: map.clone(),
        to,
    };
    table
        .request(1, id(1), show(None))
        .expect_err("a player shows no handouts");
    table
        .request(0, id(2), show(Some(vec![testing::player()])))
        .unwrap();
    assert_eq!(
        table.handouts,
        vec![(testing::player(), map.clone())],
        "to the one it was shown to; not to the other player, nor back to the GM"
    );
    table.request(0, id(3), show(None)).unwrap();
    let mut opened: Vec<UserId> = table.handouts[1..].iter().map(|(u, _)| *u).collect();
    opened.sort();
    let mut players = vec![testing::player(), other_player()];
    players.sort();
    assert_eq!(opened, players, "to the whole table");
    let line = table
        .client(1)
        .view()
        .unwrap()
        .encounter(eid(1))
        .unwrap()
        .log
        .last()
        .cloned()
        .unwrap();
    assert_eq!(line.kind, crate::encounter::LogKind::Handout);
    assert_eq!(line.text, "shows crypt map.png");
    table.assert_converged();
}

#[test]
fn the_gm_lists_anyones_latest_changes_to_take_back_and_a_player_none() {
    let mut table = Table::new(&[gm(), me()]);
    table.request(1, id(1), move_to(1, 50.0)).unwrap();
    table.request(0, id(2), move_to(3, 80.0)).unwrap();
    let listed: Vec<(ActionId, Version)> = table
        .client(0)
        .recent()
        .map(|r| (r.action, r.version))
        .collect();
    assert_eq!(
        listed,
        vec![(id(2), 2), (id(1), 1)],
        "newest first, the player's too"
    );
    assert_eq!(table.client(1).recent().count(), 0);
    for n in 4..(4 + RECENT_CHANGES as u128) {
        table.request(0, id(n), move_to(3, n as f64)).unwrap();
    }
    assert_eq!(table.client(0).recent().count(), RECENT_CHANGES);
    assert_eq!(
        table.client(0).recent().last().map(|r| r.action),
        Some(id(4)),
        "only the latest are kept"
    );
}

#[test]
fn a_handout_opens_at_the_logs_cap_when_the_log_comes_whole() {
    let mut table = Table::new(&[gm(), me(), player(other_player())]);
    let say = |text: String, to: Option<Vec<UserId>>| Action::Chat {
        encounter: eid(1),
        text,
        to,
        rolls: Vec::new(),
    };
    // A private line, then enough lines that the oldest are dropped: a
    // player's log now comes whole with each commit, not line by line.
    for n in 0..crate::limits::MAX_LOG_LINES as u128 {
        table
            .request(0, id(2 + n), say(format!("line {n}"), None))
            .unwrap();
    }
    table
        .request(0, id(1), say("psst".into(), Some(vec![other_player()])))
        .unwrap();
    let map = crate::media::Handout {
        media: crate::id::MediaId(Uuid::from_u128(0x3ED1B)),
        name: crate::media::DisplayFileName::sanitize("map.png"),
        format: crate::media::HandoutFormat::Image,
    };
    table
        .request(
            0,
            id(1_000),
            Action::ShowHandout {
                encounter: eid(1),
                handout: map.clone(),
                to: None,
            },
        )
        .unwrap();
    let mut opened: Vec<UserId> = table.handouts.iter().map(|(u, _)| *u).collect();
    opened.sort();
    let mut players = vec![testing::player(), other_player()];
    players.sort();
    assert_eq!(opened, players);
    table.assert_converged();
}

#[test]
fn what_a_player_explores_goes_out_once_in_frames_the_server_takes() {
    use crate::geometry::Cell;
    let encounter = EncounterId(Uuid::from_u128(0xE1));
    // Far cells: the longest numbers a frame carries.
    let cells = |from: i32, to: i32| -> BTreeSet<Cell> {
        (from..to)
            .map(|i| Cell(-99_000 - i % 300, -99_000 - i / 300))
            .collect()
    };
    let mut client = Client::new(session());
    assert!(
        client.explore(encounter, cells(0, 10)).is_empty(),
        "nothing before the welcome"
    );
    client.receive(ServerMessage::Welcome {
        session: session(),
        you: me(),
        version: 0,
        dice: None,
    });
    let changed = client.receive(ServerMessage::Explored {
        encounter,
        cells: cells(0, 5),
        whole: true,
    });
    assert!(changed.explored);

    let told = client.explore(encounter, cells(0, 25_000));
    assert_eq!(told.len(), 3, "24,995 new cells in three messages");
    let mut sent = BTreeSet::new();
    for message in &told {
        let frame = message.encode();
        assert!(
            ClientMessage::decode(&frame).is_ok(),
            "{} bytes",
            frame.len()
        );
        match message {
            ClientMessage::Explore { cells, .. } => sent.extend(cells.iter().copied()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sent, cells(5, 25_000), "only what the server had not told");
    assert!(client.explore(encounter, cells(10, 20)).is_empty(), "once");
    assert_eq!(client.explored(encounter).map(BTreeSet::len), Some(25_000));

    // Past the limit, nothing goes (the server would refuse it all).
    let over = crate::limits::MAX_EXPLORED_CELLS as i32 + 1;
    assert!(client.explore(encounter, cells(0, over)).is_empty());
    // Another browser's cells are added; the GM's word makes it forget.
    client.receive(ServerMessage::Explored {
        encounter,
        cells: BTreeSet::from([Cell(0, 0)]),
        whole: false,
    });
    assert_eq!(client.explored(encounter).map(BTreeSet::len), Some(25_001));
    client.receive(ServerMessage::Explored {
        encounter,
        cells: BTreeSet::new(),
        whole: true,
    });
    assert_eq!(client.explored(encounter).map(BTreeSet::len), Some(0));

    // The GM explores nothing.
    let mut gm_client = Client::new(session());
    gm_client.receive(ServerMessage::Welcome {
        session: session(),
        you: gm(),
        version: 0,
        dice: None,
    });
    assert!(gm_client.explore(encounter, cells(0, 3)).is_empty());
    assert!(gm_client.forget_explored().is_some() && client.forget_explored().is_none());
}

#[test]
fn the_gm_previews_a_players_explored_map_and_asks_again_after_a_welcome() {
    use crate::geometry::Cell;
    let encounter = EncounterId(Uuid::from_u128(9));
    let welcome = |you| ServerMessage::Welcome {
        session: session(),
        you,
        version: 0,
        dice: None,
    };
    let her = me().user;
    let mut client = Client::new(session());
    assert_eq!(client.preview_explored(Some(her)), None, "nobody yet");
    let changed = client.receive(welcome(gm()));
    assert!(
        !changed
            .send
            .iter()
            .any(|m| matches!(m, ClientMessage::PreviewExplored { .. })),
        "nothing previewed, nothing asked"
    );
    assert_eq!(
        client.preview_explored(Some(her)),
        Some(ClientMessage::PreviewExplored { player: Some(her) })
    );
    client.receive(ServerMessage::Explored {
        encounter,
        cells: BTreeSet::from([Cell(1, 1), Cell(1, 2)]),
        whole: true,
    });
    client.receive(ServerMessage::Explored {
        encounter,
        cells: BTreeSet::from([Cell(1, 3)]),
        whole: false,
    });
    assert_eq!(client.explored(encounter).map(BTreeSet::len), Some(3));

    // A new socket previews nobody: the welcome asks for hers again.
    let changed = client.receive(welcome(gm()));
    assert!(
        changed
            .send
            .contains(&ClientMessage::PreviewExplored { player: Some(her) })
    );
    // Another choice drops what was held of hers at once.
    assert_eq!(
        client.preview_explored(None),
        Some(ClientMessage::PreviewExplored { player: None })
    );
    assert_eq!(client.explored(encounter), None);
    assert_eq!(
        client.preview_explored(None),
        None,
        "no change, nothing asked"
    );
    let changed = client.receive(welcome(gm()));
    assert!(changed.send.is_empty());

    // A player previews nobody.
    let mut player = Client::new(session());
    player.receive(welcome(me()));
    assert_eq!(player.preview_explored(Some(her)), None);
}
