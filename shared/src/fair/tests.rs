use proptest::prelude::*;

use super::*;
use crate::{
    id::{EncounterId, TokenId},
    rules::Role,
    sheet::{Ability, Check, Edge},
    store::Store,
};

fn seed() -> Seed {
    Seed(std::array::from_fn(|i| i as u8))
}

fn action_id(n: u128) -> ActionId {
    ActionId(uuid::Uuid::from_u128(
        0x6c2f3b9e_0000_4000_8000_000000000000 | n,
    ))
}

/// Computed outside Rust (Python's hashlib, the formula in the module's
/// documentation): a reader can re-derive the evening's dice without our
/// code.
#[test]
fn the_faces_follow_the_published_formula() {
    assert_eq!(
        seed().commitment().to_string(),
        "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"
    );
    let mut d20 = seed().dice(action_id(1));
    let faces: Vec<u32> = (0..8).map(|_| d20.face(20)).collect();
    assert_eq!(faces, [6, 13, 5, 6, 3, 5, 15, 17]);
    let mut d6 = seed().dice(action_id(1));
    let faces: Vec<u32> = (0..8).map(|_| d6.face(6)).collect();
    assert_eq!(faces, [6, 5, 5, 6, 5, 5, 5, 1]);
}

#[test]
fn every_face_comes_up_about_as_often() {
    for sides in [2, 3, 6, 20, 100] {
        let mut counts = vec![0u32; sides as usize];
        for n in 0..200 {
            let mut dice = seed().dice(action_id(n));
            for _ in 0..60 * sides {
                let face = dice.face(sides);
                assert!((1..=sides).contains(&face), "d{sides} showed {face}");
                counts[face as usize - 1] += 1;
            }
        }
        // 12,000 throws a face: a fair die stays within 5 %.
        let expected = 200.0 * 60.0;
        for (face, &count) in counts.iter().enumerate() {
            let off = (f64::from(count) - expected).abs() / expected;
            assert!(off < 0.05, "d{sides}: face {} came {count} times", face + 1);
        }
    }
}

#[test]
fn a_seed_reads_back_from_its_hex_and_never_prints_by_accident() {
    let text = seed().to_string();
    assert_eq!(text.parse::<Seed>().unwrap(), seed());
    assert_eq!(
        serde_json::to_value(seed()).unwrap(),
        serde_json::json!(text)
    );
    assert_eq!(format!("{:?}", seed()), "Seed(..)");
    assert!("abc".parse::<Seed>().is_err());
    assert!(serde_json::from_str::<Commitment>("\"zz\"").is_err());
}

#[test]
fn only_a_secret_rolls_readers_may_check_it() {
    let roller = UserId(uuid::Uuid::from_u128(1));
    let other = UserId(uuid::Uuid::from_u128(2));
    let player = |user| Participant {
        user,
        role: Role::Player,
    };
    let gm = Participant {
        user: UserId(uuid::Uuid::from_u128(3)),
        role: Role::Gm,
    };
    let roll = |secrecy| Action::Roll {
        encounter: EncounterId(uuid::Uuid::from_u128(9)),
        dice: "1d20".into(),
        roll: None,
        secrecy,
    };
    for (secrecy, roller_sees, other_sees) in [
        (Secrecy::Open, true, true),
        (Secrecy::Gm, true, false),
        (Secrecy::Blind, false, false),
    ] {
        let action = roll(secrecy);
        assert_eq!(action.dice_seen_by(roller, player(roller)), roller_sees);
        assert_eq!(action.dice_seen_by(roller, player(other)), other_sees);
        assert!(action.dice_seen_by(roller, gm));
    }
    let whisper = Action::Chat {
        encounter: EncounterId(uuid::Uuid::from_u128(9)),
        text: "[[1d6]]".into(),
        to: Some(vec![other]),
        rolls: Vec::new(),
    };
    assert!(whisper.dice_seen_by(roller, player(other)));
    assert!(!whisper.dice_seen_by(roller, player(UserId(uuid::Uuid::from_u128(4)))));
}

const EXPRESSIONS: &[&str] = &[
    "1d20 + 5",
    "4d6kh3",
    "2d20kl1 - 1",
    "adv + 3",
    "3d6! + 2",
    "4d6r1",
    "2d8ro<3",
    "1d20 + 5 to hit, 2d6 + 3 slashing",
    "1d100",
];

/// An action of each kind that throws dice, from a number.
fn any_action(kind: u8, expression: usize, count: usize) -> Action {
    let encounter = EncounterId(uuid::Uuid::from_u128(9));
    let token = TokenId(uuid::Uuid::from_u128(10));
    let dice = EXPRESSIONS[expression % EXPRESSIONS.len()].to_owned();
    match kind % 5 {
        0 => Action::Roll {
            encounter,
            dice,
            roll: None,
            secrecy: Secrecy::Open,
        },
        1 => Action::Chat {
            encounter,
            text: (0..=count % 3)
                .map(|n| {
                    format!(
                        "hit {n}: [[{}]]",
                        EXPRESSIONS[(expression + n) % EXPRESSIONS.len()]
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
            to: None,
            rolls: Vec::new(),
        },
        2 => Action::RollInitiative {
            encounter,
            tokens: vec![token; 1 + count % 6],
            rolls: None,
        },
        3 => Action::RollCheck {
            encounter,
            actor: crate::id::ActorId(uuid::Uuid::from_u128(11)),
            check: Check::Ability(Ability::Dexterity),
            edge: [Edge::Normal, Edge::Advantage, Edge::Disadvantage][count % 3],
            rolls: None,
        },
        _ => Action::JoinInitiative {
            encounter,
            token,
            roll: None,
        },
    }
}

/// What the server does: the action's dice from the seed.
fn rolled(seed: &Seed, id: ActionId, mut action: Action) -> (Action, Vec<Throw>) {
    let mut dice = seed.dice(id);
    let mut thrown = Vec::new();
    action.roll_dice(&Store::new(), |sides| {
        let face = dice.face(sides);
        thrown.push(Throw { sides, face });
        face
    });
    (action, thrown)
}

proptest! {
    /// The log lists every die in the order the server threw it, so the
    /// check re-derives the same stream.
    #[test]
    fn an_actions_dice_read_back_in_the_order_thrown(
        bytes in any::<[u8; 32]>(), id in any::<u128>(), kind in any::<u8>(),
        expression in any::<usize>(), count in any::<usize>(),
    ) {
        let seed = Seed(bytes);
        let (action, thrown) = rolled(&seed, ActionId(uuid::Uuid::from_u128(id)), any_action(kind, expression, count));
        prop_assert!(!thrown.is_empty());
        prop_assert_eq!(action.thrown(), thrown);
    }

    /// An evening checks with its seed, and fails when the seed or any one
    /// die of it is altered.
    #[test]
    fn the_check_fails_if_any_roll_or_the_seed_is_altered(
        bytes in any::<[u8; 32]>(),
        actions in prop::collection::vec((any::<u128>(), any::<u8>(), any::<usize>(), any::<usize>()), 1..12),
        altered in any::<usize>(), by in 1u32..100, flipped in 0usize..256,
    ) {
        let seed = Seed(bytes);
        let commitment = seed.commitment();
        let evening: Vec<RecordedRoll> = actions
            .iter()
            .map(|&(id, kind, expression, count)| {
                let id = ActionId(uuid::Uuid::from_u128(id));
                RecordedRoll { id, action: rolled(&seed, id, any_action(kind, expression, count)).0 }
            })
            .collect();
        let dice: usize = evening.iter().map(|r| r.action.thrown().len()).sum();
        prop_assert_eq!(verify(commitment, &seed, &evening), Ok(Verified { rolls: evening.len(), dice }));

        let mut other = seed;
        other.0[flipped / 8] ^= 1 << (flipped % 8);
        prop_assert_eq!(verify(commitment, &other, &evening), Err(Mismatch::Seed));
        // A seed that matches its own commitment still fails on the dice
        // (one d20 may come up the same under both: a few dozen may not).
        if dice >= 16 {
            prop_assert!(verify(other.commitment(), &other, &evening).is_err());
        }

        let mut forged = evening.clone();
        let target = altered % dice;
        let mut seen = 0;
        for recorded in &mut forged {
            let len = recorded.action.thrown().len();
            if target < seen + len {
                alter_die(&mut recorded.action, target - seen, by);
                break;
            }
            seen += len;
        }
        prop_assert!(verify(commitment, &seed, &forged).is_err());
    }
}

/// Turns die `index` of an action to another face of the same die.
fn alter_die(action: &mut Action, index: usize, by: u32) {
    let other = |face: &mut u32, sides: u32| *face = (*face + by % (sides - 1).max(1)) % sides + 1;
    let mut index = index;
    let d20s = |faces: &mut [u32], index: &mut usize| -> bool {
        if let Some(face) = faces.get_mut(*index) {
            other(face, 20);
            return true;
        }
        *index -= faces.len();
        false
    };
    let roll_die = |roll: &mut Roll, index: &mut usize| -> bool {
        if let Some(die) = roll.dice.get_mut(*index) {
            let sides = die.sides;
            other(&mut die.face, sides);
            return true;
        }
        *index -= roll.dice.len();
        false
    };
    match action {
        Action::Roll {
            roll: Some(roll), ..
        } => {
            roll_die(roll, &mut index);
        }
        Action::Chat { rolls, .. } => {
            for roll in rolls {
                if roll_die(roll, &mut index) {
                    break;
                }
            }
        }
        Action::RollInitiative {
            rolls: Some(rolls), ..
        }
        | Action::RollCheck {
            rolls: Some(rolls), ..
        } => {
            d20s(rolls, &mut index);
        }
        Action::JoinInitiative {
            roll: Some(roll), ..
        } => other(roll, 20),
        _ => {}
    }
}
