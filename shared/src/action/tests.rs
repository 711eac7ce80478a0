use serde_json::json;

use super::*;
use crate::id::EntityKind;
use crate::{effect::Effect, encounter::Phase, testing::*};

fn apply(store: &mut Store, action: &Action) -> Result<()> {
    let changes = action.changes(store, player())?;
    store.apply_all(&changes).map(drop)
}

#[test]
fn move_sets_the_position() {
    let mut store = table();
    apply(
        &mut store,
        &Action::MoveToken {
            token: tid(1),
            to: Point::new(100.0, 50.0),
        },
    )
    .unwrap();
    assert_eq!(
        store.token(tid(1)).unwrap().position,
        Point::new(100.0, 50.0)
    );
    assert!(matches!(
        apply(
            &mut store,
            &Action::MoveToken {
                token: tid(1),
                to: Point::new(f64::NAN, 0.0)
            }
        ),
        Err(Error::InvalidAction(_))
    ));
    assert!(matches!(
        apply(
            &mut store,
            &Action::MoveToken {
                token: tid(99),
                to: Point::new(1.0, 0.0)
            }
        ),
        Err(Error::UnknownEntity {
            kind: EntityKind::Token,
            ..
        })
    ));
}

#[test]
fn hp_and_conditions() {
    let mut store = table();
    apply(
        &mut store,
        &Action::AdjustHp {
            actor: aid(2),
            delta: -7,
        },
    )
    .unwrap();
    assert_eq!(store.actor(aid(2)).unwrap().hp.unwrap().current, 3);
    apply(
        &mut store,
        &Action::AddCondition {
            token: tid(2),
            condition: " Prone ".into(),
        },
    )
    .unwrap();
    assert!(store.token(tid(2)).unwrap().conditions.contains("prone"));
    apply(
        &mut store,
        &Action::RemoveCondition {
            token: tid(2),
            condition: "prone".into(),
        },
    )
    .unwrap();
    assert!(matches!(
        apply(
            &mut store,
            &Action::RemoveCondition {
                token: tid(2),
                condition: "prone".into()
            }
        ),
        Err(Error::InvalidAction(_))
    ));
    assert!(
        apply(
            &mut store,
            &Action::AddCondition {
                token: tid(2),
                condition: "a/b".into()
            }
        )
        .is_err()
    );
}

#[test]
fn effects_start_and_end() {
    let mut store = table();
    let effect = Effect {
        id: fid(1),
        name: "Bless".into(),
        targets: [tid(1), tid(5)].into(),
        remaining_rounds: Some(10),
        source: Some(tid(1)),
        properties: Default::default(),
    };
    apply(
        &mut store,
        &Action::ApplyEffect {
            effect: effect.clone(),
        },
    )
    .unwrap();
    assert_eq!(store.effects_on(tid(5)).count(), 1);
    assert!(apply(&mut store, &Action::ApplyEffect { effect }).is_err());
    apply(&mut store, &Action::EndEffect { effect: fid(1) }).unwrap();
    assert_eq!(store.effects_on(tid(5)).count(), 0);
}

#[test]
fn turns_advance_and_rounds_count_effects_down() {
    let mut store = table();
    let effect = |n: u128, rounds: u32| Effect {
        id: fid(n),
        name: "Haste".into(),
        targets: [tid(1)].into(),
        remaining_rounds: Some(rounds),
        source: None,
        properties: Default::default(),
    };
    apply(
        &mut store,
        &Action::ApplyEffect {
            effect: effect(1, 1),
        },
    )
    .unwrap();
    apply(
        &mut store,
        &Action::ApplyEffect {
            effect: effect(2, 3),
        },
    )
    .unwrap();
    assert!(matches!(
        apply(&mut store, &Action::NextTurn { encounter: eid(1) }),
        Err(Error::InvalidAction(_))
    ));
    start_combat(&mut store);
    assert_eq!(store_initiative(&store).phase, Phase::Combat);
    assert_eq!(store_initiative(&store).current(), Some(tid(2)));
    apply(&mut store, &Action::NextTurn { encounter: eid(1) }).unwrap();
    assert_eq!(store_initiative(&store).current(), Some(tid(1)));
    apply(&mut store, &Action::NextTurn { encounter: eid(1) }).unwrap();
    let initiative = store_initiative(&store);
    assert_eq!((initiative.turn, initiative.round), (0, 2));
    assert!(store.effect(fid(1)).is_none(), "a one-round effect ends");
    assert_eq!(store.effect(fid(2)).unwrap().remaining_rounds, Some(2));
}

/// Starts combat on encounter 1 with token 2 acting before token 1.
fn start_combat(store: &mut Store) {
    apply(
        store,
        &Action::StartCombat {
            encounter: eid(1),
            order: vec![tid(2), tid(1)],
        },
    )
    .unwrap();
}

fn store_initiative(store: &Store) -> crate::encounter::Initiative {
    store.encounter(eid(1)).unwrap().initiative.clone()
}

#[test]
fn initiative_is_rolled_by_the_server_and_ordered_by_total() {
    let mut store = table();
    // Token 1 stands for a nimble actor (+3), token 2 for a monster with
    // no scores (+0).
    store
        .apply(&set(
            &format!("actors/{}/stats/dexterity", aid(1)),
            json!(16),
        ))
        .unwrap();
    let mut action = Action::RollInitiative {
        encounter: eid(1),
        tokens: vec![tid(2), tid(1)],
        rolls: None,
    };
    assert!(action.rolled_by_server());
    assert!(
        matches!(apply(&mut store, &action), Err(Error::InvalidAction(_))),
        "nothing without the server's dice"
    );
    // 12 + 0 against 9 + 3: a tie goes to the higher bonus.
    let mut faces = [12, 9].into_iter();
    action.roll_dice(&Store::new(), |sides| {
        assert_eq!(sides, 20);
        faces.next().unwrap()
    });
    apply(&mut store, &action).unwrap();
    let initiative = store_initiative(&store);
    assert_eq!(initiative.order, vec![tid(1), tid(2)]);
    assert_eq!(
        initiative.totals,
        std::collections::BTreeMap::from([(tid(1), 12), (tid(2), 12)]),
        "each token's total is kept for the tracker"
    );
    assert_eq!(
        (initiative.phase, initiative.round, initiative.turn),
        (Phase::Combat, 1, 0)
    );
    // A client's own dice are refused: out of range, or one short.
    for rolls in [vec![21, 1], vec![5]] {
        let forged = Action::RollInitiative {
            encounter: eid(1),
            tokens: vec![tid(2), tid(1)],
            rolls: Some(rolls),
        };
        assert!(matches!(
            apply(&mut store, &forged),
            Err(Error::InvalidAction(_))
        ));
    }
    let twice = Action::RollInitiative {
        encounter: eid(1),
        tokens: vec![tid(1), tid(1)],
        rolls: Some(vec![3, 4]),
    };
    assert!(matches!(
        apply(&mut store, &twice),
        Err(Error::InvalidAction(_))
    ));
}

#[test]
fn combat_order_must_be_tokens_of_the_encounter() {
    let mut store = table();
    store
        .apply(&set(&format!("encounters/{}", eid(2)), encounter_json(2)))
        .unwrap();
    store
        .apply(&set(
            &format!("tokens/{}", tid(9)),
            token_json(9, 2, 0.0, 0.0),
        ))
        .unwrap();
    assert!(matches!(
        apply(
            &mut store,
            &Action::StartCombat {
                encounter: eid(1),
                order: vec![tid(1), tid(9)]
            }
        ),
        Err(Error::InvalidAction(_))
    ));
}

#[test]
fn fog_reveals_and_hides() {
    let mut store = table();
    apply(
        &mut store,
        &Action::RevealFog {
            encounter: eid(1),
            cells: vec![Cell(0, 0), Cell(1, 0)],
        },
    )
    .unwrap();
    // Hiding ignores cells that are not revealed and duplicates.
    apply(
        &mut store,
        &Action::HideFog {
            encounter: eid(1),
            cells: vec![Cell(1, 0), Cell(1, 0), Cell(7, 7)],
        },
    )
    .unwrap();
    assert_eq!(
        store
            .encounter(eid(1))
            .unwrap()
            .fog
            .revealed
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![Cell(0, 0)]
    );
}

#[test]
fn fog_turns_on_and_off() {
    let mut store = table();
    for enabled in [true, false, true] {
        apply(
            &mut store,
            &Action::SetFog {
                encounter: eid(1),
                enabled,
            },
        )
        .unwrap();
        assert_eq!(store.encounter(eid(1)).unwrap().fog.enabled, enabled);
    }
    assert!(matches!(
        apply(
            &mut store,
            &Action::SetFog {
                encounter: eid(9),
                enabled: false,
            },
        ),
        Err(Error::UnknownEntity { .. })
    ));
}

#[test]
fn combat_ends_back_in_exploration_and_keeps_the_order() {
    let mut store = table();
    let end = Action::EndCombat { encounter: eid(1) };
    assert!(
        matches!(apply(&mut store, &end), Err(Error::InvalidAction(_))),
        "no combat to end"
    );
    start_combat(&mut store);
    apply(&mut store, &end).unwrap();
    let initiative = store_initiative(&store);
    assert_eq!(initiative.phase, Phase::Exploration);
    assert_eq!(initiative.order, vec![tid(2), tid(1)]);
}

#[test]
fn chat_is_logged_with_its_author() {
    let mut store = table();
    apply(
        &mut store,
        &Action::Chat {
            encounter: eid(1),
            text: "  I attack!  ".into(),
            to: None,
            rolls: Vec::new(),
        },
    )
    .unwrap();
    let entry = store.encounter(eid(1)).unwrap().log.last().unwrap().clone();
    assert_eq!(
        (entry.by, entry.kind, entry.text.as_str()),
        (Some(player()), LogKind::Chat, "I attack!")
    );
    assert!(
        apply(
            &mut store,
            &Action::Chat {
                encounter: eid(1),
                text: "   ".into(),
                to: None,
                rolls: Vec::new(),
            }
        )
        .is_err()
    );
    let long = "x".repeat(MAX_CHAT_CHARS + 1);
    assert!(
        apply(
            &mut store,
            &Action::Chat {
                encounter: eid(1),
                text: long,
                to: None,
                rolls: Vec::new(),
            }
        )
        .is_err()
    );
}

#[test]
fn a_roll_needs_the_servers_dice_and_goes_to_the_log() {
    let mut store = table();
    let mut roll = Action::Roll {
        encounter: eid(1),
        dice: "2d6 + 3".into(),
        roll: None,
        secrecy: Secrecy::Open,
    };
    assert!(
        apply(&mut store, &roll).is_err(),
        "not rolled yet: nothing to log"
    );
    roll.roll_dice(&Store::new(), |sides| sides);
    apply(&mut store, &roll).unwrap();
    let entry = store.encounter(eid(1)).unwrap().log.last().unwrap().clone();
    assert_eq!(
        (entry.by, entry.kind, entry.text.as_str()),
        (Some(player()), LogKind::Roll, "2d6 + 3: 6, 6 → 15")
    );

    // A client that sends its own roll has it replaced by settle; one that
    // does not add up is refused.
    let Action::Roll {
        roll: Some(rolled), ..
    } = &mut roll
    else {
        unreachable!()
    };
    rolled.total = 99;
    assert!(apply(&mut store, &roll).is_err());
    roll.roll_dice(&Store::new(), |_| 1);
    assert!(matches!(
        &roll,
        Action::Roll { roll: Some(r), .. } if r.total == 5
    ));
    let mut nonsense = Action::Roll {
        encounter: eid(1),
        dice: "2d".into(),
        roll: None,
        secrecy: Secrecy::Open,
    };
    nonsense.roll_dice(&Store::new(), |sides| sides);
    assert!(apply(&mut store, &nonsense).is_err());
}

#[test]
fn inline_rolls_in_chat_are_the_servers_and_read_in_place() {
    let mut store = table();
    let mut said = Action::Chat {
        encounter: eid(1),
        text: " I swing [[1d20+5]] and hit for [[2d6 + 3 slashing]]! ".into(),
        to: None,
        rolls: Vec::new(),
    };
    assert!(said.rolled_by_server());
    assert!(apply(&mut store, &said).is_err(), "not rolled yet");
    let mut faces = [12, 4, 2].into_iter();
    said.roll_dice(&Store::new(), |_| faces.next().unwrap_or(1));
    apply(&mut store, &said).unwrap();
    let entry = store.encounter(eid(1)).unwrap().log.last().unwrap().clone();
    assert_eq!(
        (entry.kind, entry.text.as_str()),
        (
            LogKind::Chat,
            "I swing [1d20 + 5: 12 → 17] and hit for [2d6 + 3 slashing: 4, 2 → 9]!"
        )
    );

    // A roll that does not belong to its expression, or one too many, is
    // refused; the server's rolls replace whatever the client sent.
    let Action::Chat { rolls, .. } = &mut said else {
        unreachable!()
    };
    rolls[0].total += 1;
    assert!(apply(&mut store, &said).is_err());
    said.roll_dice(&Store::new(), |_| 1);
    assert!(apply(&mut store, &said).is_ok());
    let Action::Chat { rolls, .. } = &mut said else {
        unreachable!()
    };
    rolls.push(rolls[0].clone());
    assert!(apply(&mut store, &said).is_err());

    // Plain words are not the server's to roll; a bad expression is refused
    // with its own error; at most five inline rolls.
    let plain = Action::Chat {
        encounter: eid(1),
        text: "no dice [here]".into(),
        to: None,
        rolls: Vec::new(),
    };
    assert!(!plain.rolled_by_server());
    let mut bad = Action::Chat {
        encounter: eid(1),
        text: "oops [[2d]]".into(),
        to: None,
        rolls: Vec::new(),
    };
    bad.roll_dice(&Store::new(), |_| 1);
    assert!(apply(&mut store, &bad).is_err());
    let mut many = Action::Chat {
        encounter: eid(1),
        text: "[[1d4]] ".repeat(crate::dice::MAX_INLINE_ROLLS + 1),
        to: None,
        rolls: Vec::new(),
    };
    many.roll_dice(&Store::new(), |_| 1);
    assert!(apply(&mut store, &many).is_err());
}

#[test]
fn actions_serialize_with_a_kind_tag() {
    let action = Action::MoveToken {
        token: tid(1),
        to: Point::new(1.0, 2.0),
    };
    let json = serde_json::to_value(&action).unwrap();
    assert_eq!(
        json,
        json!({"kind": "move_token", "token": tid(1), "to": {"x": 1.0, "y": 2.0}})
    );
    assert_eq!(serde_json::from_value::<Action>(json).unwrap(), action);
}

#[test]
fn a_check_from_the_sheet_adds_the_live_actors_bonus_and_is_logged() {
    use crate::sheet::{Ability, Check, Edge, Stat};
    let mut store = table();
    for (stat, value) in [
        (Stat::Ability(Ability::Dexterity), 16),
        (Stat::ProficiencyBonus, 3),
    ] {
        let set = Action::SetStat {
            actor: aid(1),
            stat,
            value,
        };
        apply(&mut store, &set).unwrap();
    }
    let learn = Action::SetProficiency {
        actor: aid(1),
        check: "skill:stealth".parse().unwrap(),
        proficient: true,
    };
    apply(&mut store, &learn).unwrap();
    assert!(
        learn.changes(&store, player()).unwrap().is_empty(),
        "already proficient: nothing changes"
    );
    let mut roll = Action::RollCheck {
        encounter: eid(1),
        actor: aid(1),
        check: "skill:stealth".parse().unwrap(),
        edge: Edge::Advantage,
        rolls: Some(vec![20, 20, 20]),
    };
    assert!(apply(&mut store, &roll).is_err(), "three dice for one edge");
    let mut faces = [4, 11].into_iter();
    roll.roll_dice(&Store::new(), |sides| {
        assert_eq!(sides, 20);
        faces.next().unwrap()
    });
    apply(&mut store, &roll).unwrap();
    let entry = store.encounter(eid(1)).unwrap().log.last().unwrap().clone();
    assert_eq!(
        (entry.kind, entry.text.as_str()),
        (
            LogKind::Roll,
            "Actor 1: Stealth with advantage: 4, 11 + 6 → 17"
        )
    );

    // Out of range, a check that takes no proficiency, an unknown actor:
    // refused, nothing changed.
    let before = store.actor(aid(1)).unwrap().clone();
    for bad in [
        Action::SetStat {
            actor: aid(1),
            stat: Stat::ArmorClass,
            value: 0,
        },
        Action::SetProficiency {
            actor: aid(1),
            check: Check::Ability(Ability::Strength),
            proficient: true,
        },
        Action::SetStat {
            actor: aid(99),
            stat: Stat::Speed,
            value: 30,
        },
    ] {
        assert!(apply(&mut store, &bad).is_err(), "{bad:?}");
    }
    assert_eq!(store.actor(aid(1)).unwrap(), &before);

    // Speed and hit points have fields of their own.
    for (stat, value) in [(Stat::Speed, 25), (Stat::HpMax, 12), (Stat::HpTemp, 5)] {
        let set = Action::SetStat {
            actor: aid(1),
            stat,
            value,
        };
        apply(&mut store, &set).unwrap();
        assert_eq!(stat.value(store.actor(aid(1)).unwrap()), Some(value));
    }
    let forget = Action::SetProficiency {
        actor: aid(1),
        check: "skill:stealth".parse().unwrap(),
        proficient: false,
    };
    apply(&mut store, &forget).unwrap();
    assert!(store.actor(aid(1)).unwrap().proficiencies.is_empty());
    let wire = serde_json::to_value(&forget).unwrap();
    assert_eq!(wire["check"], json!("skill:stealth"));
}

#[test]
fn an_attack_rolls_to_hit_and_damage_with_the_live_actors_bonuses() {
    use crate::sheet::{Attack, Edge};
    let mut store = table();
    let longsword = Attack {
        name: "Longsword".into(),
        damage: "1d8".into(),
        damage_type: "slashing".into(),
        finesse: false,
        ranged: false,
        bonus: 1,
        spell: None,
        area: None,
    };
    let set = Action::Edit {
        changes: vec![
            Change::set(Entity::Actor(aid(1)).at(&["attacks"]), json!([longsword])),
            Change::set(Entity::Actor(aid(1)).at(&["stats", "strength"]), json!(16)),
        ],
    };
    apply(&mut store, &set).unwrap();
    let attack = |edge| Action::RollAttack {
        encounter: eid(1),
        actor: aid(1),
        attack: 0,
        edge,
        rolls: None,
    };
    // Strength 16 (+3), proficiency +2 (no stat), a +1 sword.
    let mut hit = attack(Edge::Normal);
    let mut faces = [12, 5].into_iter();
    hit.roll_dice(&store, |_| faces.next().unwrap());
    // The log lists them in the order thrown: the fair-dice check relies
    // on it (crate::fair).
    let throw = |sides, face| crate::fair::Throw { sides, face };
    assert_eq!(hit.thrown(), [throw(20, 12), throw(8, 5)]);
    apply(&mut store, &hit).unwrap();
    let line = |store: &Store| {
        store
            .encounter(eid(1))
            .unwrap()
            .log
            .last()
            .unwrap()
            .text
            .clone()
    };
    assert_eq!(
        line(&store),
        "Actor 1: Longsword: to hit 12 + 6 → 18; damage 1d8 + 4: 5 → 9 slashing"
    );
    // A natural 20 (the higher of two, with advantage) doubles the dice.
    let mut critical = attack(Edge::Advantage);
    let mut faces = [3, 20, 8, 2].into_iter();
    critical.roll_dice(&store, |_| faces.next().unwrap());
    apply(&mut store, &critical).unwrap();
    assert_eq!(
        line(&store),
        "Actor 1: Longsword with advantage: to hit 3, 20 + 6 → 26 (critical hit); \
         damage 1d8 + 1d8 + 4: 8, 2 → 14 slashing"
    );
    // Damage that does not belong to the dice, an attack the sheet does
    // not have, no roll at all: refused.
    let Action::RollAttack {
        rolls: Some(rolled),
        ..
    } = &mut hit
    else {
        unreachable!()
    };
    rolled.damage.total += 10;
    assert!(apply(&mut store, &hit).is_err());
    let mut missing = Action::RollAttack {
        encounter: eid(1),
        actor: aid(1),
        attack: 7,
        edge: Edge::Normal,
        rolls: None,
    };
    missing.roll_dice(&store, |_| 10);
    assert!(apply(&mut store, &missing).is_err());
    assert!(apply(&mut store, &attack(Edge::Normal)).is_err());
}

#[test]
fn a_spell_the_target_saves_against_rolls_damage_and_no_d20() {
    use crate::sheet::{Ability, Attack, Edge, Spell};
    let mut store = table();
    let fireball = Attack {
        name: "Fireball".into(),
        damage: "8d6".into(),
        damage_type: "fire".into(),
        finesse: false,
        ranged: false,
        bonus: 0,
        spell: Some(Spell::Save {
            ability: Ability::Dexterity,
            half: true,
        }),
        area: Some(crate::template::Shape::Circle { radius: 20 }),
    };
    let set = Action::Edit {
        changes: vec![
            Change::set(Entity::Actor(aid(1)).at(&["attacks"]), json!([fireball])),
            Change::set(
                Entity::Actor(aid(1)).at(&["stats", "intelligence"]),
                json!(16),
            ),
        ],
    };
    apply(&mut store, &set).unwrap();
    let mut cast = Action::RollAttack {
        encounter: eid(1),
        actor: aid(1),
        attack: 0,
        edge: Edge::Advantage,
        rolls: None,
    };
    cast.roll_dice(&store, |_| 3);
    let Action::RollAttack {
        rolls: Some(rolled),
        ..
    } = &cast
    else {
        unreachable!()
    };
    assert!(rolled.d20.is_empty(), "advantage or not, no d20");
    apply(&mut store, &cast).unwrap();
    let line = store
        .encounter(eid(1))
        .unwrap()
        .log
        .last()
        .unwrap()
        .text
        .clone();
    assert_eq!(
        line,
        "Actor 1: Fireball: DC 13 Dexterity save, half on a success; \
         damage 8d6: 3, 3, 3, 3, 3, 3, 3, 3 → 24 fire"
    );
    // A d20 slipped into a save spell's roll is refused.
    let Action::RollAttack {
        rolls: Some(rolled),
        ..
    } = &mut cast
    else {
        unreachable!()
    };
    rolled.d20.push(20);
    assert!(apply(&mut store, &cast).is_err());
}

#[test]
fn a_token_joins_the_fight_at_its_own_roll_and_the_turn_stays_put() {
    let mut store = table();
    let join = |token: u128, roll: u32| Action::JoinInitiative {
        encounter: eid(1),
        token: tid(token),
        roll: Some(roll),
    };
    assert!(
        apply(&mut store, &join(5, 12)).is_err(),
        "no fight to join before combat"
    );
    let start = Action::RollInitiative {
        encounter: eid(1),
        tokens: vec![tid(1), tid(2)],
        rolls: Some(vec![15, 10]),
    };
    apply(&mut store, &start).unwrap();
    apply(&mut store, &Action::NextTurn { encounter: eid(1) }).unwrap();
    assert_eq!(store_initiative(&store).current(), Some(tid(2)));

    let mut late = Action::JoinInitiative {
        encounter: eid(1),
        token: tid(5),
        roll: None,
    };
    assert!(apply(&mut store, &late).is_err(), "not rolled yet");
    late.roll_dice(&Store::new(), |_| 12);
    apply(&mut store, &late).unwrap();
    let initiative = store_initiative(&store);
    assert_eq!(
        initiative.order,
        vec![tid(1), tid(5), tid(2)],
        "12 between 15 and 10"
    );
    assert_eq!(initiative.totals.get(&tid(5)), Some(&12));
    assert_eq!(initiative.current(), Some(tid(2)), "still token 2's turn");
    let line = store.encounter(eid(1)).unwrap().log.last().unwrap().clone();
    assert_eq!(line.text, "Token 5 rolls initiative: 12 + 0 → 12");

    // At the top, before the one acting: the turn moves with it.
    apply(&mut store, &join(3, 20)).unwrap();
    let initiative = store_initiative(&store);
    assert_eq!(initiative.order[0], tid(3));
    assert_eq!(initiative.current(), Some(tid(2)));
    // Once in the order, a token does not roll again; a die is a d20.
    assert!(apply(&mut store, &join(5, 19)).is_err());
    assert!(apply(&mut store, &join(4, 21)).is_err());
}

#[test]
fn a_token_turns_and_its_angle_stays_within_a_circle() {
    let mut store = table();
    for (degrees, kept) in [(90.0, 90.0), (-45.0, 315.0), (720.0 + 30.0, 30.0)] {
        let turn = Action::RotateToken {
            token: tid(1),
            degrees,
        };
        apply(&mut store, &turn).unwrap();
        assert_eq!(store.token(tid(1)).unwrap().rotation, kept, "{degrees}");
    }
    let nonsense = Action::RotateToken {
        token: tid(1),
        degrees: f64::INFINITY,
    };
    assert!(apply(&mut store, &nonsense).is_err());
    assert_eq!(store.token(tid(1)).unwrap().rotation, 30.0, "unchanged");
}

fn group(moves: &[(u128, f64, f64)]) -> Action {
    Action::MoveTokens {
        moves: moves
            .iter()
            .map(|(n, x, y)| TokenMove {
                token: tid(*n),
                to: Point::new(*x, *y),
            })
            .collect(),
    }
}

#[test]
fn a_group_move_moves_every_token_named_or_none() {
    let mut store = table();
    apply(&mut store, &group(&[(1, 50.0, 0.0), (2, 100.0, 50.0)])).unwrap();
    assert_eq!(store.token(tid(1)).unwrap().position, Point::new(50.0, 0.0));
    assert_eq!(
        store.token(tid(2)).unwrap().position,
        Point::new(100.0, 50.0)
    );
    for refused in [
        group(&[]),
        group(&[(1, 0.0, 0.0), (1, 50.0, 0.0)]),
        group(&[(1, 0.0, 0.0), (2, f64::INFINITY, 0.0)]),
        Action::MoveTokens {
            moves: vec![
                TokenMove {
                    token: tid(1),
                    to: Point::new(0.0, 0.0),
                };
                MAX_GROUP_MOVE + 1
            ],
        },
    ] {
        assert!(
            matches!(
                apply(&mut store, &refused),
                Err(Error::InvalidAction(_) | Error::OverLimit { .. })
            ),
            "{:?}",
            refused.kind()
        );
    }
    assert!(matches!(
        apply(&mut store, &group(&[(1, 0.0, 0.0), (99, 0.0, 0.0)])),
        Err(Error::UnknownEntity { .. })
    ));
    assert_eq!(
        store.token(tid(1)).unwrap().position,
        Point::new(50.0, 0.0),
        "nothing moved"
    );
}

#[test]
fn a_token_placed_live_brings_its_new_actor_and_a_removed_one_leaves_the_turn_order() {
    let mut store = table();
    let mut goblin: crate::actor::Actor = serde_json::from_value(actor_json(7, "monster")).unwrap();
    let token: Token = serde_json::from_value(json!({
        "id": tid(7), "encounter": eid(1), "actor": aid(7), "name": "Goblin 2",
        "position": {"x": 100.0, "y": 100.0}
    }))
    .unwrap();
    let place = |actor: Option<crate::actor::Actor>, token: Token| Action::PlaceToken {
        token: Box::new(token),
        actor: actor.map(Box::new),
    };
    apply(&mut store, &place(Some(goblin.clone()), token.clone())).unwrap();
    assert_eq!(store.actor(aid(7)).unwrap().name, "Actor 7");
    assert_eq!(store.token(tid(7)).unwrap().actor, Some(aid(7)));
    // Not twice; not with someone else's actor; not an actor unknown.
    assert!(matches!(
        apply(&mut store, &place(None, token.clone())),
        Err(Error::InvalidAction(_))
    ));
    let copy = Token {
        id: tid(8),
        ..token.clone()
    };
    assert!(matches!(
        apply(
            &mut store,
            &place(
                Some(crate::actor::Actor {
                    id: aid(9),
                    ..goblin.clone()
                }),
                copy.clone()
            )
        ),
        Err(Error::InvalidAction(_))
    ));
    let stray = Token {
        id: tid(9),
        actor: Some(aid(42)),
        ..token.clone()
    };
    assert!(matches!(
        apply(&mut store, &place(None, stray)),
        Err(Error::UnknownEntity { .. })
    ));
    goblin.hp = None;
    let unknown_hp = Token {
        id: tid(10),
        actor: Some(aid(10)),
        ..token.clone()
    };
    let blank = crate::actor::Actor {
        id: aid(10),
        ..goblin
    };
    assert!(matches!(
        apply(&mut store, &place(Some(blank), unknown_hp)),
        Err(Error::InvalidAction(_))
    ));
    // A copy of a token on the table needs no actor.
    apply(&mut store, &place(None, copy)).unwrap();
    assert_eq!(store.tokens_of(aid(7)).count(), 2);

    // In combat, removing a token before the one acting keeps that turn.
    store
        .apply(&set(
            &format!("encounters/{}/initiative", eid(1)),
            json!({"order": [tid(7), tid(1), tid(2)], "turn": 1, "round": 1, "phase": "combat",
                   "totals": {tid(7).to_string(): 15, tid(1).to_string(): 12, tid(2).to_string(): 3}}),
        ))
        .unwrap();
    apply(&mut store, &Action::RemoveToken { token: tid(7) }).unwrap();
    assert!(store.token(tid(7)).is_none());
    let initiative = &store.encounter(eid(1)).unwrap().initiative;
    assert_eq!(initiative.order, [tid(1), tid(2)]);
    assert_eq!(initiative.current(), Some(tid(1)), "still Aria's turn");
    assert!(!initiative.totals.contains_key(&tid(7)));
    assert!(matches!(
        apply(&mut store, &Action::RemoveToken { token: tid(7) }),
        Err(Error::UnknownEntity { .. })
    ));
}

/// A build names new walls, each once, on an encounter that exists, with
/// a door's state exactly on doors; a removal names existing walls once;
/// both within the per-request limit, and the map's limit holds.
#[test]
fn wall_builds_and_removals_are_checked() {
    use crate::wall::{MAX_WALLS_PER_REQUEST, WallKind};
    let store = table();
    let gm = crate::id::UserId(uuid::Uuid::from_u128(0x6A));
    let build = |walls| Action::BuildWalls { walls };
    let invalid = |action: Action, store: &Store| {
        matches!(action.changes(store, gm), Err(Error::InvalidAction(_)))
    };
    let one = wall(1, WallKind::Wall, (0.0, 0.0), (100.0, 0.0));
    assert!(invalid(build(Vec::new()), &store));
    assert!(
        invalid(build(vec![one.clone(), one.clone()]), &store),
        "the same id twice"
    );
    let mut doorless = wall(2, WallKind::Door, (0.0, 0.0), (0.0, 50.0));
    doorless.door = None;
    assert!(invalid(build(vec![doorless]), &store));
    let mut nowhere = one.clone();
    nowhere.encounter = eid(99);
    assert!(matches!(
        build(vec![nowhere]).changes(&store, gm),
        Err(Error::UnknownEntity { .. })
    ));
    let too_many: Vec<_> = (0..=MAX_WALLS_PER_REQUEST as u128)
        .map(|n| wall(n, WallKind::Wall, (0.0, n as f64), (10.0, n as f64)))
        .collect();
    assert!(matches!(
        build(too_many).changes(&store, gm),
        Err(Error::OverLimit { .. })
    ));

    let mut store = table();
    store
        .apply_all(&build(vec![one.clone()]).changes(&store, gm).unwrap())
        .unwrap();
    assert_eq!(store.wall(wid(1)), Some(&one));
    assert!(invalid(build(vec![one]), &store), "an id already built");
    let remove = |walls| Action::RemoveWalls { walls };
    assert!(invalid(remove(vec![wid(1), wid(1)]), &store));
    assert!(matches!(
        remove(vec![wid(7)]).changes(&store, gm),
        Err(Error::UnknownEntity { .. })
    ));
    // The map's own limit: the store refuses a wall past it.
    let mut full = table();
    let per = MAX_WALLS_PER_REQUEST as u128;
    for batch in 0..(crate::wall::MAX_WALLS_PER_ENCOUNTER as u128 / per) {
        let walls = (0..per)
            .map(|n| {
                let n = batch * per + n;
                wall(n, WallKind::Wall, (0.0, n as f64), (10.0, n as f64))
            })
            .collect();
        full.apply_all(&build(walls).changes(&full, gm).unwrap())
            .unwrap();
    }
    let extra = build(vec![wall(99_999, WallKind::Wall, (0.0, -5.0), (9.0, -5.0))]);
    let changes = extra.changes(&full, gm).unwrap();
    assert!(matches!(
        full.apply_all(&changes),
        Err(Error::OverLimit { .. })
    ));
}
