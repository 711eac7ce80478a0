//! A session actor's mailbox: who waits for whom when a session is busy.
//!
//! With one bounded queue per session, whoever filled it made everybody
//! wait: a member flooding a session (or a session stalled on a slow
//! commit) blocked the sends of every other socket, the GM's included, and
//! across nodes the delivery of every session's messages. Here nobody
//! waits for room that someone else took:
//!
//! - every sender (a socket, a socket on another node, an HTTP sync) has its
//!   own [`Budget`] of [`IN_FLIGHT`] commands queued or being handled, and
//!   a sender that spent it waits for its own commands to be handled;
//! - each lane holds at most [`LANE`] commands, so the queue stays bounded
//!   however many senders there are; one member (at most
//!   [`shared::limits::MAX_SOCKETS_PER_MEMBER`] sockets) can take a small
//!   share of it;
//! - the GM's lane (GM and assistant GMs) is read before the table's, so a
//!   GM's decision never waits behind a queue of players' requests, and no
//!   player can fill it.
//!
//! A sender's lane is fixed when its budget is made (a socket's, when it
//! opens), so that one sender's commands stay in order; a role changed
//! since changes what the commands may do (checked as they are handled),
//! not where they queue.

use std::sync::Arc;

use shared::rules::Role;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};

use super::Command;

/// Commands one sender may have queued or being handled.
pub const IN_FLIGHT: usize = 32;
/// Commands one lane of a session's mailbox holds.
pub const LANE: usize = 4096;

/// Which queue a sender's commands join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// The GM and assistant GMs: read first.
    Gm,
    /// Everyone else.
    Table,
}

impl Lane {
    /// The lane of someone with `role`.
    pub fn of(role: Role) -> Self {
        match role {
            Role::Gm | Role::AssistantGm => Self::Gm,
            Role::Player | Role::Observer => Self::Table,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Gm => 0,
            Self::Table => 1,
        }
    }
}

/// One sender's allowance of commands in flight. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Budget {
    lane: Lane,
    permits: Arc<Semaphore>,
}

impl Budget {
    /// A full budget in `lane`.
    pub fn new(lane: Lane) -> Self {
        Self {
            lane,
            permits: Arc::new(Semaphore::new(IN_FLIGHT)),
        }
    }

    /// A full budget in the lane of someone with `role`.
    pub fn for_role(role: Role) -> Self {
        Self::new(Lane::of(role))
    }

    /// The lane this sender's commands join.
    pub fn lane(&self) -> Lane {
        self.lane
    }
}

/// The room a command takes in its sender's budget and in its lane, given
/// back when dropped: after the command has been handled.
#[derive(Debug)]
pub struct Held {
    _permits: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
}

/// A command as the actor receives it.
#[derive(Debug)]
pub struct Letter {
    /// What was asked.
    pub command: Command,
    /// Dropped once the command has been handled.
    pub held: Held,
}

/// Why a command was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The sender's budget or the lane is spent.
    Full,
    /// The actor stopped.
    Closed,
}

struct LaneQueue {
    queue: mpsc::UnboundedSender<Letter>,
    room: Arc<Semaphore>,
}

/// Where a session's commands are sent. Cloning is cheap; the actor's
/// inbox ends when every clone is gone.
#[derive(Clone)]
pub struct Mailbox {
    lanes: Arc<[LaneQueue; 2]>,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox").finish_non_exhaustive()
    }
}

/// A mailbox that does not keep its actor's inbox open.
#[derive(Clone)]
pub struct WeakMailbox(std::sync::Weak<[LaneQueue; 2]>);

/// The actor's end: the GM's lane first, then the table's.
pub struct Inbox {
    gm: mpsc::UnboundedReceiver<Letter>,
    table: mpsc::UnboundedReceiver<Letter>,
}

/// A mailbox and its inbox.
pub fn channel() -> (Mailbox, Inbox) {
    let (gm_queue, gm) = mpsc::unbounded_channel();
    let (table_queue, table) = mpsc::unbounded_channel();
    let lane = |queue| LaneQueue {
        queue,
        room: Arc::new(Semaphore::new(LANE)),
    };
    let mailbox = Mailbox {
        lanes: Arc::new([lane(gm_queue), lane(table_queue)]),
    };
    (mailbox, Inbox { gm, table })
}

impl Mailbox {
    /// Queues a command, waiting (if at all) only for the sender's own
    /// budget or for its lane to have room. A command the actor stopped
    /// before taking comes back, to be sent where the session runs now.
    pub async fn send(&self, command: Command, budget: &Budget) -> Result<(), Box<Command>> {
        let lane = &self.lanes[budget.lane.index()];
        let Ok(own) = budget.permits.clone().acquire_owned().await else {
            return Err(Box::new(command));
        };
        let Ok(room) = lane.room.clone().acquire_owned().await else {
            return Err(Box::new(command));
        };
        self.queue(
            command,
            budget.lane,
            Held {
                _permits: Some((own, room)),
            },
        )
    }

    /// Queues a command if the sender's budget and its lane have room now;
    /// never waits (for the cluster's listener, which serves every session).
    pub fn try_send(&self, command: Command, budget: &Budget) -> Result<(), Refused> {
        let lane = &self.lanes[budget.lane.index()];
        let permits = budget
            .permits
            .clone()
            .try_acquire_owned()
            .and_then(|own| Ok((own, lane.room.clone().try_acquire_owned()?)));
        match permits {
            Ok(permits) => self
                .queue(
                    command,
                    budget.lane,
                    Held {
                        _permits: Some(permits),
                    },
                )
                .map_err(|_| Refused::Closed),
            Err(TryAcquireError::NoPermits) => Err(Refused::Full),
            Err(TryAcquireError::Closed) => Err(Refused::Closed),
        }
    }

    /// Queues a command that each sender sends a bounded number of times
    /// (a socket leaving, a role change) without taking room, so that it
    /// is never refused for lack of it; in `lane`, after what the sender
    /// queued before.
    pub fn post(&self, command: Command, lane: Lane) -> Result<(), Refused> {
        self.queue(command, lane, Held { _permits: None })
            .map_err(|_| Refused::Closed)
    }

    fn queue(&self, command: Command, lane: Lane, held: Held) -> Result<(), Box<Command>> {
        self.lanes[lane.index()]
            .queue
            .send(Letter { command, held })
            .map_err(|mpsc::error::SendError(letter)| Box::new(letter.command))
    }

    /// Whether the actor stopped taking commands.
    pub fn is_closed(&self) -> bool {
        self.lanes[Lane::Table.index()].queue.is_closed()
    }

    /// Whether both are the same actor's.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.lanes, &other.lanes)
    }

    /// A handle that does not keep the actor's inbox open.
    pub fn downgrade(&self) -> WeakMailbox {
        WeakMailbox(Arc::downgrade(&self.lanes))
    }
}

impl WeakMailbox {
    /// The mailbox, while anyone still holds one.
    pub fn upgrade(&self) -> Option<Mailbox> {
        self.0.upgrade().map(|lanes| Mailbox { lanes })
    }
}

impl Inbox {
    /// The next command, the GM's lane first; `None` once every mailbox is
    /// gone (or the inbox closed) and nothing is left.
    pub async fn recv(&mut self) -> Option<Letter> {
        tokio::select! {
            biased;
            Some(letter) = self.gm.recv() => Some(letter),
            Some(letter) = self.table.recv() => Some(letter),
            else => None,
        }
    }

    /// A command already queued, the GM's lane first.
    pub fn try_recv(&mut self) -> Option<Letter> {
        self.gm
            .try_recv()
            .ok()
            .or_else(|| self.table.try_recv().ok())
    }

    /// Refuses every later command and drops what is queued, so that its
    /// senders get their room back at once (and, sending again, find the
    /// mailbox closed and ask the hub for the session anew).
    pub fn close(&mut self) {
        self.gm.close();
        self.table.close();
        while self.try_recv().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leave() -> Command {
        Command::Leave {
            conn: uuid::Uuid::new_v4(),
        }
    }

    #[tokio::test]
    async fn a_spent_budget_holds_up_only_its_own_sender() {
        let (mailbox, mut inbox) = channel();
        let (flooder, other) = (Budget::new(Lane::Table), Budget::new(Lane::Table));
        for _ in 0..IN_FLIGHT {
            mailbox.send(leave(), &flooder).await.unwrap();
        }
        assert!(matches!(
            mailbox.try_send(leave(), &flooder),
            Err(Refused::Full)
        ));
        // Someone else's command goes straight in, and a departure is
        // never refused.
        mailbox.try_send(leave(), &other).unwrap();
        mailbox.post(leave(), Lane::Table).unwrap();
        // Handling one of the flooder's commands gives its room back.
        let handled = inbox.recv().await.unwrap();
        assert!(matches!(
            mailbox.try_send(leave(), &flooder),
            Err(Refused::Full)
        ));
        drop(handled);
        mailbox.try_send(leave(), &flooder).unwrap();
    }

    #[tokio::test]
    async fn the_gms_lane_is_read_first_and_order_is_kept_within_a_lane() {
        let (mailbox, mut inbox) = channel();
        let (player, gm) = (
            Budget::new(Lane::Table),
            Budget::new(Lane::of(Role::AssistantGm)),
        );
        let conns: Vec<_> = (0..4).map(|_| uuid::Uuid::new_v4()).collect();
        for &conn in &conns[..3] {
            mailbox
                .send(Command::Leave { conn }, &player)
                .await
                .unwrap();
        }
        mailbox
            .send(Command::Leave { conn: conns[3] }, &gm)
            .await
            .unwrap();
        let mut order = Vec::new();
        while let Some(letter) = inbox.try_recv() {
            if let Command::Leave { conn } = letter.command {
                order.push(conn);
            }
        }
        assert_eq!(order, [conns[3], conns[0], conns[1], conns[2]]);
    }

    #[tokio::test]
    async fn a_full_lane_refuses_its_senders_and_not_the_other_lane() {
        let (mailbox, _inbox) = channel();
        let mut kept = 0;
        while kept < LANE {
            let budget = Budget::new(Lane::Table);
            for _ in 0..IN_FLIGHT.min(LANE - kept) {
                mailbox.try_send(leave(), &budget).unwrap();
                kept += 1;
            }
        }
        assert!(matches!(
            mailbox.try_send(leave(), &Budget::new(Lane::Table)),
            Err(Refused::Full)
        ));
        mailbox.try_send(leave(), &Budget::new(Lane::Gm)).unwrap();
    }

    #[tokio::test]
    async fn a_closed_inbox_gives_the_room_back_and_refuses() {
        let (mailbox, mut inbox) = channel();
        let budget = Budget::new(Lane::Table);
        for _ in 0..IN_FLIGHT {
            mailbox.send(leave(), &budget).await.unwrap();
        }
        inbox.close();
        assert!(mailbox.is_closed());
        // Not stuck waiting for room that closed letters held.
        assert!(matches!(
            mailbox.try_send(leave(), &budget),
            Err(Refused::Closed)
        ));
        assert!(mailbox.send(leave(), &budget).await.is_err());
        assert!(inbox.recv().await.is_none());
    }

    #[tokio::test]
    async fn the_inbox_ends_once_every_mailbox_is_gone() {
        let (mailbox, mut inbox) = channel();
        let weak = mailbox.downgrade();
        mailbox.post(leave(), Lane::Gm).unwrap();
        drop(mailbox);
        assert!(
            inbox.recv().await.is_some(),
            "what was queued is read first"
        );
        assert!(inbox.recv().await.is_none());
        assert!(weak.upgrade().is_none());
    }
}
