use serde_json::json;

use super::*;
use crate::change::Change;
use crate::id::EntityKind;
use crate::{geometry::Point, testing::*};

fn gm() -> Participant {
    Participant {
        user: crate::id::UserId(uuid::Uuid::from_u128(0x6A)),
        role: Role::Gm,
    }
}
fn me() -> Participant {
    Participant {
        user: player(),
        role: Role::Player,
    }
}
fn observer() -> Participant {
    Participant {
        user: other_player(),
        role: Role::Observer,
    }
}
fn move_to(token: u128, x: f64, y: f64) -> Action {
    Action::MoveToken {
        token: tid(token),
        to: Point::new(x, y),
    }
}
fn chat() -> Action {
    Action::Chat {
        encounter: eid(1),
        text: "hi".into(),
        to: None,
        rolls: Vec::new(),
    }
}

fn forbidden(result: Result<()>) -> bool {
    matches!(result, Err(Error::Forbidden(_)))
}

fn draw(author: crate::id::UserId) -> Action {
    Action::Draw {
        drawing: Box::new(serde_json::from_value(drawing_json(9, 1, author, 0.0, 0.0)).unwrap()),
    }
}

/// Drawing is the GM's until the GM lets players draw; then a player draws
/// and erases their own drawings, never another's; an observer neither.
#[test]
fn players_draw_only_where_the_gm_allows_and_erase_only_their_own() {
    let mut store = table();
    let mine = draw(player());
    assert_eq!(authorize(&gm(), &draw(gm().user), &store), Ok(()));
    assert!(forbidden(authorize(&me(), &mine, &store)));
    store
        .apply(&Change::set(
            crate::path::Entity::Encounter(eid(1)).at(&["map", "players_draw"]),
            json!(true),
        ))
        .unwrap();
    assert_eq!(authorize(&me(), &mine, &store), Ok(()));
    assert!(forbidden(authorize(&observer(), &mine, &store)));
    assert_eq!(
        ApprovalPolicy::default().decide(&me(), &mine, &store),
        Approval::Auto,
        "a drawing where players may draw applies at once"
    );
    // Signed by whoever asks: a drawing in another's name is refused.
    assert!(draw(other_player()).changes(&store, player()).is_err());

    for (n, author) in [(1, player()), (2, other_player())] {
        store
            .apply(&set(
                &format!("drawings/{}", did(n)),
                drawing_json(n, 1, author, 0.0, 0.0),
            ))
            .unwrap();
    }
    let erase = |n: u128| Action::Erase {
        drawings: vec![did(n)],
    };
    assert_eq!(authorize(&me(), &erase(1), &store), Ok(()));
    assert!(forbidden(authorize(&me(), &erase(2), &store)));
    assert_eq!(authorize(&gm(), &erase(2), &store), Ok(()));
    assert!(matches!(
        authorize(&me(), &erase(3), &store),
        Err(Error::UnknownEntity {
            kind: EntityKind::Drawing,
            ..
        })
    ));
}

#[test]
fn the_gm_may_do_anything() {
    let store = table();
    for action in [
        move_to(3, 0.0, 0.0),
        Action::RevealFog {
            encounter: eid(1),
            cells: vec![],
        },
        Action::Edit { changes: vec![] },
    ] {
        assert_eq!(authorize(&gm(), &action, &store), Ok(()));
    }
    let assistant = Participant {
        role: Role::AssistantGm,
        ..me()
    };
    assert_eq!(authorize(&assistant, &move_to(2, 0.0, 0.0), &store), Ok(()));
    assert_eq!(may_decide(&assistant), Ok(()));
}

#[test]
fn players_move_only_their_own_tokens() {
    let store = table();
    assert_eq!(authorize(&me(), &move_to(1, 50.0, 0.0), &store), Ok(()));
    assert!(forbidden(authorize(&me(), &move_to(2, 50.0, 0.0), &store)));
    assert!(forbidden(authorize(&me(), &move_to(5, 50.0, 0.0), &store)));
}

#[test]
fn hidden_and_gm_only_tokens_look_like_missing_ones() {
    let store = table();
    let missing = authorize(&me(), &move_to(99, 0.0, 0.0), &store).unwrap_err();
    for hidden in [3, 4] {
        for action in [
            move_to(hidden, 0.0, 0.0),
            Action::AddCondition {
                token: tid(hidden),
                condition: "prone".into(),
            },
        ] {
            let error = authorize(&me(), &action, &store).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::UnknownEntity {
                        kind: EntityKind::Token,
                        ..
                    }
                ),
                "{error:?}"
            );
            // Same shape as for a token that does not exist.
            assert_eq!(
                std::mem::discriminant(&error),
                std::mem::discriminant(&missing)
            );
        }
    }
    // An actor only seen through a hidden token is unknown to the player.
    let mut store = store;
    store
        .apply(&set(
            &format!("tokens/{}/visibility", tid(2)),
            json!("hidden"),
        ))
        .unwrap();
    assert!(matches!(
        authorize(
            &me(),
            &Action::AdjustHp {
                actor: aid(2),
                delta: -1
            },
            &store
        ),
        Err(Error::UnknownEntity {
            kind: EntityKind::Actor,
            ..
        })
    ));
}

#[test]
fn tokens_under_fog_look_like_missing_ones_except_your_own() {
    let mut store = table();
    store
        .apply(&set(
            &format!("encounters/{}/fog/enabled", eid(1)),
            json!(true),
        ))
        .unwrap();
    let condition = |n| Action::AddCondition {
        token: tid(n),
        condition: "prone".into(),
    };
    // The monster's token 2 stands in the dark.
    assert!(matches!(
        authorize(&me(), &condition(2), &store),
        Err(Error::UnknownEntity {
            kind: EntityKind::Token,
            ..
        })
    ));
    assert!(matches!(
        authorize(
            &me(),
            &Action::AdjustHp {
                actor: aid(2),
                delta: -1
            },
            &store
        ),
        Err(Error::UnknownEntity {
            kind: EntityKind::Actor,
            ..
        })
    ));
    // My own token is always mine to act for, fog or not.
    assert_eq!(authorize(&me(), &condition(1), &store), Ok(()));
    assert_eq!(authorize(&me(), &move_to(1, 50.0, 0.0), &store), Ok(()));
    // Revealing its cell brings the monster back within reach.
    store
        .apply(&Change::append(
            path(&format!("encounters/{}/fog/revealed", eid(1))),
            json!([[0, 0]]),
        ))
        .unwrap();
    assert_eq!(authorize(&me(), &condition(2), &store), Ok(()));
}

#[test]
fn gm_tools_are_the_gms() {
    let store = table();
    for action in [
        Action::SetVisibility {
            token: tid(1),
            visibility: crate::token::Visibility::Hidden,
        },
        Action::RevealFog {
            encounter: eid(1),
            cells: vec![],
        },
        Action::SetFog {
            encounter: eid(1),
            enabled: false,
        },
        Action::StartCombat {
            encounter: eid(1),
            order: vec![],
        },
        Action::EndCombat { encounter: eid(1) },
        Action::Edit { changes: vec![] },
    ] {
        assert!(forbidden(authorize(&me(), &action, &store)), "{action:?}");
    }
    assert!(forbidden(may_decide(&me())));
}

#[test]
fn observers_only_chat() {
    let store = table();
    assert_eq!(authorize(&observer(), &chat(), &store), Ok(()));
    assert!(forbidden(authorize(
        &observer(),
        &move_to(1, 0.0, 0.0),
        &store
    )));
    assert!(forbidden(may_decide(&observer())));
}

#[test]
fn only_the_current_player_ends_a_turn() {
    let mut store = table();
    let next = Action::NextTurn { encounter: eid(1) };
    assert!(forbidden(authorize(&me(), &next, &store)));
    let start = Action::StartCombat {
        encounter: eid(1),
        order: vec![tid(1), tid(2)],
    };
    store
        .apply_all(&start.changes(&store, gm().user).unwrap())
        .unwrap();
    assert_eq!(authorize(&me(), &next, &store), Ok(()));
    store
        .apply_all(&next.changes(&store, gm().user).unwrap())
        .unwrap();
    assert!(forbidden(authorize(&me(), &next, &store)));
}

#[test]
fn default_policy_auto_approves_short_moves_and_chat() {
    let store = table();
    let policy = ApprovalPolicy::default();
    // Speed 30 ft, 5 ft cells of 50 px: six cells.
    assert_eq!(
        policy.decide(&me(), &move_to(1, 300.0, 300.0), &store),
        Approval::Auto
    );
    assert!(matches!(
        policy.decide(&me(), &move_to(1, 350.0, 0.0), &store),
        Approval::Gm { .. }
    ));
    assert_eq!(policy.decide(&me(), &chat(), &store), Approval::Auto);
    assert!(matches!(
        policy.decide(
            &me(),
            &Action::AdjustHp {
                actor: aid(2),
                delta: -3
            },
            &store
        ),
        Approval::Gm { .. }
    ));
    // The GM's own requests never wait.
    assert_eq!(
        policy.decide(
            &gm(),
            &Action::AdjustHp {
                actor: aid(2),
                delta: -3
            },
            &store
        ),
        Approval::Auto
    );
}

#[test]
fn in_combat_moves_auto_approve_only_on_your_turn() {
    let mut store = table();
    let start = Action::StartCombat {
        encounter: eid(1),
        order: vec![tid(2), tid(1)],
    };
    store
        .apply_all(&start.changes(&store, gm().user).unwrap())
        .unwrap();
    let policy = ApprovalPolicy::default();
    let Approval::Gm { reason } = policy.decide(&me(), &move_to(1, 50.0, 0.0), &store) else {
        panic!("must wait: not my turn");
    };
    assert_eq!(reason, "it is not your turn");
    store
        .apply_all(
            &Action::NextTurn { encounter: eid(1) }
                .changes(&store, gm().user)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        policy.decide(&me(), &move_to(1, 50.0, 0.0), &store),
        Approval::Auto
    );
    // A policy without the turn rule lets the move through at any time.
    let relaxed = ApprovalPolicy {
        rules: [(
            ActionKind::MoveToken,
            AutoApprove::OwnTokenWithinSpeed { on_own_turn: false },
        )]
        .into(),
    };
    assert_eq!(
        relaxed.decide(&me(), &move_to(1, 50.0, 0.0), &store),
        Approval::Auto
    );
}

#[test]
fn policies_round_trip_as_json() {
    let policy = ApprovalPolicy::default();
    let json = serde_json::to_string(&policy).unwrap();
    assert_eq!(
        serde_json::from_str::<ApprovalPolicy>(&json).unwrap(),
        policy
    );
}

#[test]
fn role_slugs_round_trip_and_match_the_wire_names() {
    for role in [Role::Gm, Role::AssistantGm, Role::Player, Role::Observer] {
        assert_eq!(role.slug().parse::<Role>(), Ok(role));
        assert_eq!(serde_json::to_value(role).unwrap(), role.slug());
    }
    assert!("admin".parse::<Role>().is_err());
}

#[test]
fn a_sheet_is_played_by_its_player_and_the_gm_only() {
    use crate::sheet::{Ability, Check, Edge, Stat};
    let store = table();
    let roll = |actor: u128| Action::RollCheck {
        encounter: eid(1),
        actor: aid(actor),
        check: Check::Save(Ability::Dexterity),
        edge: Edge::Normal,
        rolls: None,
    };
    let set = |actor: u128| Action::SetStat {
        actor: aid(actor),
        stat: Stat::ArmorClass,
        value: 15,
    };
    let learn = |actor: u128| Action::SetProficiency {
        actor: aid(actor),
        check: Check::Save(Ability::Dexterity),
        proficient: true,
    };
    for action in [roll(1), set(1), learn(1)] {
        assert_eq!(authorize(&me(), &action, &store), Ok(()), "{action:?}");
        assert_eq!(authorize(&gm(), &action, &store), Ok(()), "{action:?}");
        assert!(
            forbidden(authorize(&observer(), &action, &store)),
            "{action:?}"
        );
    }
    // Another player's character, a monster the player sees: not theirs.
    for action in [roll(5), set(5), learn(5), roll(2), set(2)] {
        assert!(forbidden(authorize(&me(), &action, &store)), "{action:?}");
        assert_eq!(authorize(&gm(), &action, &store), Ok(()));
    }
    // An actor that does not exist reads as one.
    assert!(matches!(
        authorize(&me(), &roll(99), &store),
        Err(Error::UnknownEntity { .. })
    ));
    // Checks are dice: they apply at once; sheet changes wait for the GM
    // unless the GM's rules say otherwise.
    let policy = ApprovalPolicy::default();
    assert_eq!(policy.decide(&me(), &roll(1), &store), Approval::Auto);
    assert!(matches!(
        policy.decide(&me(), &set(1), &store),
        Approval::Gm { .. }
    ));
    let mut lenient = policy.clone();
    lenient.rules.insert(ActionKind::Sheet, AutoApprove::Always);
    assert_eq!(lenient.decide(&me(), &learn(1), &store), Approval::Auto);
}

#[test]
fn a_player_rolls_initiative_only_for_their_own_visible_token() {
    let store = table();
    let join = |token: u128| Action::JoinInitiative {
        encounter: eid(1),
        token: tid(token),
        roll: None,
    };
    assert_eq!(authorize(&me(), &join(1), &store), Ok(()));
    assert!(
        forbidden(authorize(&me(), &join(5), &store)),
        "another player's"
    );
    assert!(
        forbidden(authorize(&me(), &join(2), &store)),
        "the GM's monster"
    );
    assert!(matches!(
        authorize(&me(), &join(3), &store),
        Err(Error::UnknownEntity { .. })
    ));
    assert!(forbidden(authorize(&observer(), &join(1), &store)));
    assert_eq!(authorize(&gm(), &join(3), &store), Ok(()));
}

#[test]
fn a_player_turns_their_own_token_freely_and_nobody_elses() {
    let store = table();
    let turn = |token: u128| Action::RotateToken {
        token: tid(token),
        degrees: 90.0,
    };
    assert_eq!(authorize(&me(), &turn(1), &store), Ok(()));
    assert!(forbidden(authorize(&me(), &turn(2), &store)));
    assert!(forbidden(authorize(&observer(), &turn(1), &store)));
    let policy = ApprovalPolicy::default();
    assert_eq!(policy.decide(&me(), &turn(1), &store), Approval::Auto);
    let strict = ApprovalPolicy {
        rules: BTreeMap::from([(ActionKind::MoveToken, AutoApprove::Never)]),
    };
    assert!(matches!(
        strict.decide(&me(), &turn(1), &store),
        Approval::Gm { .. }
    ));
}

#[test]
fn a_group_move_is_a_players_when_every_token_is_and_waits_unless_each_move_would_not() {
    let store = table();
    let group = |moves: &[(u128, f64)]| Action::MoveTokens {
        moves: moves
            .iter()
            .map(|(n, x)| crate::action::TokenMove {
                token: tid(*n),
                to: Point::new(*x, 0.0),
            })
            .collect(),
    };
    assert_eq!(authorize(&me(), &group(&[(1, 50.0)]), &store), Ok(()));
    assert!(forbidden(authorize(
        &me(),
        &group(&[(1, 50.0), (5, 50.0)]),
        &store
    )));
    // A token she cannot see is not there at all.
    assert!(matches!(
        authorize(&me(), &group(&[(1, 50.0), (3, 50.0)]), &store),
        Err(Error::UnknownEntity { .. })
    ));
    let policy = ApprovalPolicy::default();
    assert_eq!(
        policy.decide(&me(), &group(&[(1, 50.0)]), &store),
        Approval::Auto
    );
    assert!(matches!(
        policy.decide(&me(), &group(&[(1, 1000.0)]), &store),
        Approval::Gm { .. }
    ));
}

#[test]
fn only_the_gm_places_and_removes_tokens_on_the_running_map() {
    let store = table();
    let token: crate::token::Token = serde_json::from_value(json!({
        "id": tid(7), "encounter": eid(1), "name": "Crate", "position": {"x": 0.0, "y": 0.0}
    }))
    .unwrap();
    for action in [
        Action::PlaceToken {
            token: Box::new(token),
            actor: None,
        },
        Action::RemoveToken { token: tid(2) },
    ] {
        assert_eq!(authorize(&gm(), &action, &store), Ok(()));
        assert!(forbidden(authorize(&me(), &action, &store)), "{action:?}");
        assert!(forbidden(authorize(&observer(), &action, &store)));
    }
}

/// [`table`] with a wall of `kind` across x = 100 (from the top to y = 500)
/// on encounter 1, built by the GM.
fn walled(kind: crate::wall::WallKind) -> Store {
    let mut store = table();
    let build = Action::BuildWalls {
        walls: vec![wall(1, kind, (100.0, 0.0), (100.0, 500.0))],
    };
    assert_eq!(authorize(&gm(), &build, &store), Ok(()));
    let changes = build.changes(&store, gm().user).unwrap();
    store.apply_all(&changes).unwrap();
    store
}

fn blocked(result: Result<()>) -> bool {
    matches!(result, Err(Error::Blocked(_)))
}

/// A player's token stops at walls, closed doors and windows, not at
/// terrain walls or open doors; the GM's moves go anywhere; a move that
/// stays on one side passes.
#[test]
fn walls_stop_a_players_moves_through_them_and_not_the_gms() {
    use crate::wall::{DoorState, WallKind};
    for (kind, stops) in [
        (WallKind::Wall, true),
        (WallKind::Door, true),
        (WallKind::Window, true),
        (WallKind::Terrain, false),
    ] {
        let store = walled(kind);
        // Token 1 stands at the origin, its centre at (25, 25).
        let across = move_to(1, 150.0, 0.0);
        assert_eq!(
            blocked(authorize(&me(), &across, &store)),
            stops,
            "{kind:?}"
        );
        assert_eq!(authorize(&me(), &move_to(1, 50.0, 200.0), &store), Ok(()));
        assert_eq!(authorize(&gm(), &across, &store), Ok(()), "the GM's move");
        let group = Action::MoveTokens {
            moves: vec![crate::action::TokenMove {
                token: tid(1),
                to: Point::new(150.0, 0.0),
            }],
        };
        assert_eq!(
            blocked(authorize(&me(), &group, &store)),
            stops,
            "{kind:?} together"
        );
    }
    // Past the wall's end, around it.
    let store = walled(WallKind::Wall);
    assert_eq!(authorize(&me(), &move_to(1, 150.0, 1200.0), &store), Ok(()));
    // An opened door lets the token through.
    let mut store = walled(WallKind::Door);
    let open = Action::SetDoor {
        wall: wid(1),
        state: DoorState::Open,
    };
    store
        .apply_all(&open.changes(&store, gm().user).unwrap())
        .unwrap();
    assert_eq!(authorize(&me(), &move_to(1, 150.0, 0.0), &store), Ok(()));
}

/// A player opens and closes a door next to their own token, without the
/// GM by default; never a locked one, never locks one, never one far off;
/// an observer never; the GM any, locks included.
#[test]
fn a_player_opens_a_door_beside_their_token_and_the_gm_any() {
    use crate::wall::{DoorState, WallKind};
    let door = |state| Action::SetDoor {
        wall: wid(1),
        state,
    };
    let mut store = walled(WallKind::Door);
    // Token 1's centre is 75 px from the door: its edge is 50 px off, one
    // cell of this 50 px grid.
    assert_eq!(authorize(&me(), &door(DoorState::Open), &store), Ok(()));
    assert_eq!(
        ApprovalPolicy::default().decide(&me(), &door(DoorState::Open), &store),
        Approval::Auto
    );
    assert!(forbidden(authorize(
        &me(),
        &door(DoorState::Locked),
        &store
    )));
    assert!(forbidden(authorize(
        &observer(),
        &door(DoorState::Open),
        &store
    )));
    let other = Participant {
        user: other_player(),
        role: Role::Player,
    };
    store
        .apply(&Change::set(
            crate::path::Entity::Token(tid(5)).at(&["position"]),
            json!({"x": 400.0, "y": 400.0}),
        ))
        .unwrap();
    assert!(
        forbidden(authorize(&other, &door(DoorState::Open), &store)),
        "a token three cells away"
    );
    store
        .apply_all(&door(DoorState::Locked).changes(&store, gm().user).unwrap())
        .unwrap();
    assert_eq!(store.wall(wid(1)).unwrap().door, Some(DoorState::Locked));
    let refused = authorize(&me(), &door(DoorState::Open), &store);
    assert_eq!(refused, Err(Error::Forbidden("the door is locked".into())));
    assert_eq!(authorize(&gm(), &door(DoorState::Open), &store), Ok(()));
    // Only doors open; walls are the GM's to build and remove.
    let mut plain = walled(WallKind::Wall);
    assert!(matches!(
        door(DoorState::Open).changes(&plain, gm().user),
        Err(Error::InvalidAction(_))
    ));
    let remove = Action::RemoveWalls {
        walls: vec![wid(1)],
    };
    assert!(forbidden(authorize(&me(), &remove, &plain)));
    plain
        .apply_all(&remove.changes(&plain, gm().user).unwrap())
        .unwrap();
    assert_eq!(plain.walls_in(eid(1)).count(), 0);
}
