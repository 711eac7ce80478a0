use serde_json::json;

use super::*;
use crate::{
    action::Action,
    change::{Change, Commit},
    geometry::Point,
    id::{ActionId, EncounterId, SessionId},
    rules::{Participant, Role},
    testing::*,
};

fn request() -> ActionRequest {
    ActionRequest {
        id: ActionId(uuid::Uuid::from_u128(1)),
        action: Action::MoveToken {
            token: tid(1),
            to: Point::new(10.0, 20.0),
        },
        context: RequestContext {
            note: Some("I run".into()),
            ..Default::default()
        },
        base_version: 41,
    }
}

#[test]
fn every_client_message_round_trips() {
    let messages = [
        ClientMessage::Hello {
            resume_from: Some(3),
        },
        ClientMessage::Hello { resume_from: None },
        ClientMessage::Request(request()),
        ClientMessage::Decide(GmDecision {
            action: request().id,
            verdict: Verdict::Approve,
        }),
        ClientMessage::Decide(GmDecision {
            action: request().id,
            verdict: Verdict::Modify {
                changes: vec![set("tokens/x/name", json!("y"))],
                note: None,
            },
        }),
        ClientMessage::Decide(GmDecision {
            action: request().id,
            verdict: Verdict::Reject {
                reason: "too far".into(),
                alternative: Some(request().action),
            },
        }),
        ClientMessage::Ack { version: 9 },
        ClientMessage::Resume { from: 7 },
        ClientMessage::DragPreview {
            token: tid(1),
            position: Point::new(1.5, 2.5),
        },
        ClientMessage::PointAt {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            at: Point::new(-3.5, 40.0),
        },
        ClientMessage::Measure {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            path: vec![Point::new(25.0, 25.0), Point::new(175.0, 75.0)],
        },
        ClientMessage::Measure {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            path: Vec::new(),
        },
        ClientMessage::ShowTemplate {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            template: Some(crate::template::Template {
                shape: crate::template::Shape::Line {
                    length: 60,
                    width: 5,
                },
                origin: Point::new(25.0, 50.0),
                direction: 90.0,
            }),
        },
        ClientMessage::ShowTemplate {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            template: None,
        },
        ClientMessage::EndSession,
        ClientMessage::MoveTable {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
        },
        ClientMessage::Ping { nonce: 77 },
    ];
    for message in messages {
        assert_eq!(ClientMessage::decode(&message.encode()).unwrap(), message);
        let packed = message.encode_with(Encoding::MessagePack);
        assert_eq!(
            ClientMessage::decode_with(&packed, Encoding::MessagePack).unwrap(),
            message
        );
    }
}

#[test]
fn every_server_message_round_trips() {
    let participant = Participant {
        user: player(),
        role: Role::Player,
    };
    let messages = [
        ServerMessage::Welcome {
            session: SessionId(uuid::Uuid::from_u128(5)),
            you: participant,
            version: 12,
            dice: Some(crate::fair::Seed([7; 32]).commitment()),
        },
        ServerMessage::Snapshot {
            version: 12,
            entities: sample().entities().clone(),
        },
        ServerMessage::Commit(Commit {
            version: 13,
            action: Some(request().id),
            changes: vec![Change::delete(path("tokens/x"))],
        }),
        ServerMessage::Received {
            action: request().id,
            status: RequestStatus::Applied { version: 13 },
        },
        ServerMessage::Received {
            action: request().id,
            status: RequestStatus::WaitingForGm {
                reason: "GM".into(),
            },
        },
        ServerMessage::Rejected {
            action: request().id,
            reason: "no".into(),
            alternative: None,
        },
        ServerMessage::Error {
            action: None,
            error: crate::Error::Forbidden("no".into()),
        },
        ServerMessage::Queue {
            pending: vec![QueuedRequest {
                request: request(),
                from: participant,
                reason: "GM".into(),
            }],
        },
        ServerMessage::DragPreview {
            token: tid(1),
            position: Point::new(3.0, 4.0),
            by: player(),
        },
        ServerMessage::PointedAt {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            at: Point::new(-3.5, 40.0),
            by: player(),
        },
        ServerMessage::Measured {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            path: vec![Point::new(25.0, 25.0)],
            by: player(),
        },
        ServerMessage::TemplateShown {
            encounter: EncounterId(uuid::Uuid::from_u128(12)),
            template: Some(crate::template::Template {
                shape: crate::template::Shape::Circle { radius: 20 },
                origin: Point::new(100.0, 100.0),
                direction: 0.0,
            }),
            by: player(),
        },
        ServerMessage::Presence {
            user: player(),
            connected: false,
        },
        ServerMessage::Ended {
            by: player(),
            next: None,
        },
        ServerMessage::Ended {
            by: player(),
            next: Some(SessionId(uuid::Uuid::from_u128(13))),
        },
        ServerMessage::Pong { nonce: 77 },
    ];
    for message in messages {
        assert_eq!(ServerMessage::decode(&message.encode()).unwrap(), message);
        let packed = message.encode_with(Encoding::MessagePack);
        assert_eq!(
            ServerMessage::decode_with(&packed, Encoding::MessagePack).unwrap(),
            message
        );
    }
}

#[test]
fn frames_carry_the_version_and_a_type_tag() {
    let frame: serde_json::Value =
        serde_json::from_slice(&ClientMessage::Ping { nonce: 1 }.encode()).unwrap();
    assert_eq!(
        frame,
        json!({"v": PROTOCOL_VERSION, "msg": {"type": "ping", "nonce": 1}})
    );
}

#[test]
fn oversize_frames_are_refused_before_parsing() {
    let huge = vec![b'x'; MAX_CLIENT_FRAME + 1];
    assert_eq!(
        ClientMessage::decode(&huge),
        Err(crate::Error::MessageTooLarge {
            len: MAX_CLIENT_FRAME + 1,
            max: MAX_CLIENT_FRAME
        })
    );
}

#[test]
fn other_versions_are_named_and_garbage_is_malformed() {
    let newer = br#"{"v": 2, "msg": {"type": "teleport"}}"#;
    assert_eq!(
        ClientMessage::decode(newer),
        Err(crate::Error::UnsupportedProtocol {
            got: 2,
            supported: PROTOCOL_VERSION
        })
    );
    for garbage in [
        &b"not json"[..],
        b"{}",
        br#"{"v": 1}"#,
        br#"{"v": 1, "msg": {"type": "teleport"}}"#,
        br#"{"v":1,"msg":{"type":"ping","nonce":-1}}"#,
    ] {
        assert!(
            matches!(
                ClientMessage::decode(garbage),
                Err(crate::Error::MalformedMessage(_))
            ),
            "{garbage:?}"
        );
    }
}

#[test]
fn deeply_nested_input_is_refused_not_overflowed() {
    let mut deep = String::from(
        r#"{"v":1,"msg":{"type":"request","id":"00000000-0000-0000-0000-000000000001","base_version":1,"action":{"kind":"edit","changes":[{"path":"a/b","op":"set","value":"#,
    );
    deep.push_str(&"[".repeat(10_000));
    assert!(matches!(
        ClientMessage::decode(deep.as_bytes()),
        Err(crate::Error::MalformedMessage(_))
    ));
}

#[test]
fn message_pack_is_smaller_and_refuses_garbage_and_other_versions() {
    let commit = ServerMessage::Commit(Commit {
        version: 13,
        action: Some(request().id),
        changes: vec![set(
            &format!("tokens/{}/position", tid(1)),
            json!({"x": 350.0, "y": 420.0}),
        )],
    });
    let json = commit.encode();
    let packed = commit.encode_with(Encoding::MessagePack);
    assert!(
        packed.len() < json.len(),
        "{} vs {}",
        packed.len(),
        json.len()
    );
    assert!(matches!(
        ClientMessage::decode_with(b"\xc1\xc1", Encoding::MessagePack),
        Err(crate::Error::MalformedMessage(_))
    ));
    let future =
        rmp_serde::to_vec_named(&json!({"v": 9, "msg": {"type": "ping", "nonce": 1}})).unwrap();
    assert!(matches!(
        ClientMessage::decode_with(&future, Encoding::MessagePack),
        Err(crate::Error::UnsupportedProtocol { got: 9, .. })
    ));
}

#[test]
fn a_borrowed_commit_encodes_as_its_message() {
    let commit = crate::change::Commit {
        version: 12,
        action: Some(crate::id::ActionId(uuid::Uuid::from_u128(5))),
        changes: vec![crate::change::Change::set(
            crate::path::Path::parse("tokens/a/position").unwrap(),
            serde_json::json!({"x": 1.5, "y": 2.0}),
        )],
    };
    let bytes = encode_commit(&commit);
    assert_eq!(bytes, ServerMessage::Commit(commit.clone()).encode());
    assert_eq!(
        ServerMessage::decode(&bytes).unwrap(),
        ServerMessage::Commit(commit)
    );
}

#[test]
fn text_the_database_cannot_store_is_refused_when_parsed() {
    let chat = |text: &str| {
        ClientMessage::Request(ActionRequest {
            action: Action::Chat {
                encounter: eid(1),
                text: text.into(),
                to: None,
                rolls: Vec::new(),
            },
            ..request()
        })
    };
    for encoding in [Encoding::Json, Encoding::MessagePack] {
        let poisoned = chat("hi\u{0}there").encode_with(encoding);
        assert_eq!(
            ClientMessage::decode_with(&poisoned, encoding),
            Err(Error::UnstorableText {
                what: "the message".into()
            }),
            "{encoding:?}"
        );
        // An escaped backslash followed by u0000 is text, not a NUL.
        let clean = chat("C:\\u0000 and 0 bytes").encode_with(encoding);
        assert_eq!(
            ClientMessage::decode_with(&clean, encoding).unwrap(),
            chat("C:\\u0000 and 0 bytes")
        );
    }
    // The raw JSON escape, as a hand-written frame would carry it.
    let raw = String::from_utf8(chat("hi_there").encode())
        .unwrap()
        .replace("hi_there", "hi\\u0000there");
    assert!(matches!(
        ClientMessage::decode(raw.as_bytes()),
        Err(Error::UnstorableText { .. })
    ));
}
