//! Walls on an encounter's map: segments in map pixels that stop tokens
//! and, later, sight. The GM builds them (in the editor before play, or
//! live); a door among them opens and closes during play.
//!
//! | kind | stops movement | stops sight |
//! | --- | --- | --- |
//! | wall | yes | yes |
//! | door, closed or locked | yes | yes |
//! | door, open | no | no |
//! | window | yes | no |
//! | terrain (a curtain, undergrowth, an illusion) | no | yes |
//!
//! Every member receives the walls of an encounter: the map image already
//! shows the rooms, and a browser needs the walls to refuse a move at once
//! and to draw the shadows of its own tokens' sight. What lies behind them
//! is what sight withholds.

use serde::{Deserialize, Serialize};

use crate::{
    geometry::Point,
    id::{EncounterId, WallId},
    limits::MAX_COORDINATE,
    sight::polygon::Segment,
};

/// The most wall segments one encounter's map holds.
pub const MAX_WALLS_PER_ENCOUNTER: usize = 2_000;
/// The most segments one request builds or removes: a traced cave in one
/// request, well inside a client frame (about 100 kB); "remove all" on a
/// full map is four.
pub const MAX_WALLS_PER_REQUEST: usize = 500;

/// A wall segment on an encounter's map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wall {
    /// Its id.
    pub id: WallId,
    /// The encounter whose map it is on.
    pub encounter: EncounterId,
    /// One end, in map pixels.
    pub from: Point,
    /// The other end.
    pub to: Point,
    /// What it stops.
    #[serde(default)]
    pub kind: WallKind,
    /// A door's state; present exactly when `kind` is [`WallKind::Door`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<DoorState>,
}

/// What a wall is (see the module's table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WallKind {
    /// Stops movement and sight.
    #[default]
    Wall,
    /// Stops both while closed.
    Door,
    /// Stops movement, not sight.
    Window,
    /// Stops sight, not movement.
    Terrain,
}

impl WallKind {
    /// Every kind, in the editor's order.
    pub const ALL: [WallKind; 4] = [
        WallKind::Wall,
        WallKind::Door,
        WallKind::Window,
        WallKind::Terrain,
    ];

    /// Its name as a GM reads it.
    pub fn label(self) -> &'static str {
        match self {
            WallKind::Wall => "Wall",
            WallKind::Door => "Door",
            WallKind::Window => "Window",
            WallKind::Terrain => "Terrain wall",
        }
    }
}

/// Whether a door lets anything through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorState {
    /// Lets tokens and sight through.
    Open,
    /// Stops both; anyone next to it may ask to open it.
    #[default]
    Closed,
    /// Stops both; only the GM opens it.
    Locked,
}

impl DoorState {
    /// Its name as a player reads it.
    pub fn label(self) -> &'static str {
        match self {
            DoorState::Open => "open",
            DoorState::Closed => "closed",
            DoorState::Locked => "locked",
        }
    }
}

/// Why a wall cannot be put on the map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WallError {
    /// An end that is not a number or lies off any map.
    #[error("a wall's ends lie within {MAX_COORDINATE} pixels of the map's origin")]
    OffTheMap,
    /// Both ends at the same point.
    #[error("a wall's two ends are different points")]
    NoLength,
    /// A door without a state, or a state on something that is not a door.
    #[error("a door has a state (open, closed or locked), and only a door has one")]
    DoorState,
}

impl Wall {
    /// Checks its ends and that only a door has a door's state.
    pub fn check(&self) -> Result<(), WallError> {
        let on_map =
            |p: Point| p.is_finite() && p.x.abs() <= MAX_COORDINATE && p.y.abs() <= MAX_COORDINATE;
        if !on_map(self.from) || !on_map(self.to) {
            return Err(WallError::OffTheMap);
        }
        if self.from == self.to {
            return Err(WallError::NoLength);
        }
        if self.door.is_some() != (self.kind == WallKind::Door) {
            return Err(WallError::DoorState);
        }
        Ok(())
    }

    /// Whether it stops a token now.
    pub fn blocks_movement(&self) -> bool {
        match self.kind {
            WallKind::Wall | WallKind::Window => true,
            WallKind::Door => self.door != Some(DoorState::Open),
            WallKind::Terrain => false,
        }
    }

    /// Whether it stops sight now.
    pub fn blocks_sight(&self) -> bool {
        match self.kind {
            WallKind::Wall | WallKind::Terrain => true,
            WallKind::Door => self.door != Some(DoorState::Open),
            WallKind::Window => false,
        }
    }

    /// The segment it lies on.
    pub fn segment(&self) -> Segment {
        Segment::new(self.from, self.to)
    }

    /// Its middle: where a door's handle is drawn and reached for.
    pub fn middle(&self) -> Point {
        Point::new(
            (self.from.x + self.to.x) / 2.0,
            (self.from.y + self.to.y) / 2.0,
        )
    }

    /// How far `at` is from the segment.
    pub fn distance_to(&self, at: Point) -> f64 {
        crate::drawing::segment_distance(at, self.from, self.to)
    }
}

/// Whether the straight path from `from` to `to` meets `wall`. Touching
/// counts (a path through the point where two walls meet is stopped),
/// except at the path's start: a token standing on a wall's line may step
/// off it.
pub fn crosses(from: Point, to: Point, wall: &Segment) -> bool {
    let side = |a: Point, b: Point, p: Point| (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
    let (d1, d2) = (side(wall.a, wall.b, from), side(wall.a, wall.b, to));
    let (d3, d4) = (side(from, to, wall.a), side(from, to, wall.b));
    if d1 == 0.0 {
        // Starting on the wall's line: stopped only when ending across it
        // is impossible to tell (collinear) and the wall lies ahead.
        return d2 == 0.0 && collinear_overlap(from, to, wall) && !on_segment(from, wall);
    }
    if (d1 > 0.0) == (d2 > 0.0) && d2 != 0.0 {
        return false;
    }
    // `from` and `to` lie on different sides (or `to` on the line): the
    // wall is met when its ends are not both strictly on one side.
    !((d3 > 0.0 && d4 > 0.0) || (d3 < 0.0 && d4 < 0.0))
}

fn on_segment(p: Point, s: &Segment) -> bool {
    p.x >= s.a.x.min(s.b.x)
        && p.x <= s.a.x.max(s.b.x)
        && p.y >= s.a.y.min(s.b.y)
        && p.y <= s.a.y.max(s.b.y)
}

/// For a path on a wall's line: whether they share more than the start.
fn collinear_overlap(from: Point, to: Point, wall: &Segment) -> bool {
    let path = Segment::new(from, to);
    on_segment(wall.a, &path) || on_segment(wall.b, &path) || on_segment(to, wall)
}

/// The first wall in `walls` that stops a token moving in a straight line
/// from `from` to `to`.
pub fn blocking<'a>(
    walls: impl IntoIterator<Item = &'a Wall>,
    from: Point,
    to: Point,
) -> Option<&'a Wall> {
    walls
        .into_iter()
        .find(|wall| wall.blocks_movement() && crosses(from, to, &wall.segment()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(ax: f64, ay: f64, bx: f64, by: f64) -> Segment {
        Segment::new(Point::new(ax, ay), Point::new(bx, by))
    }

    #[test]
    fn a_path_across_a_wall_is_stopped_and_one_beside_it_is_not() {
        let wall = segment(100.0, 0.0, 100.0, 200.0);
        let p = Point::new;
        assert!(crosses(p(50.0, 100.0), p(150.0, 100.0), &wall));
        assert!(crosses(p(150.0, 100.0), p(50.0, 100.0), &wall));
        assert!(
            !crosses(p(50.0, 100.0), p(90.0, 100.0), &wall),
            "short of it"
        );
        assert!(
            !crosses(p(50.0, 250.0), p(150.0, 250.0), &wall),
            "past its end"
        );
        assert!(!crosses(p(50.0, 0.0), p(50.0, 200.0), &wall), "alongside");
        assert!(
            crosses(p(50.0, 100.0), p(100.0, 100.0), &wall),
            "ending on it"
        );
    }

    #[test]
    fn the_corner_where_two_walls_meet_is_closed() {
        // An L of walls meeting at (100, 100); a diagonal step through the
        // corner point touches both and passes neither.
        let walls = [
            segment(100.0, 0.0, 100.0, 100.0),
            segment(100.0, 100.0, 200.0, 100.0),
        ];
        let (from, to) = (Point::new(150.0, 50.0), Point::new(50.0, 150.0));
        assert!(walls.iter().any(|w| crosses(from, to, w)));
        // A step that only grazes a wall's end from outside is stopped too:
        // nothing slips between a wall and a point.
        let lone = segment(100.0, 0.0, 100.0, 100.0);
        assert!(crosses(
            Point::new(50.0, 150.0),
            Point::new(150.0, 50.0),
            &lone
        ));
    }

    #[test]
    fn a_token_on_a_walls_line_steps_off_it() {
        let wall = segment(100.0, 0.0, 100.0, 200.0);
        let on = Point::new(100.0, 100.0);
        assert!(!crosses(on, Point::new(150.0, 100.0), &wall));
        assert!(!crosses(on, Point::new(50.0, 100.0), &wall));
        // On the line beyond its end, walking into it along the line.
        assert!(crosses(
            Point::new(100.0, 300.0),
            Point::new(100.0, 150.0),
            &wall
        ));
        assert!(!crosses(
            Point::new(100.0, 300.0),
            Point::new(100.0, 250.0),
            &wall
        ));
    }

    #[test]
    fn what_each_kind_stops() {
        let wall = |kind, door| Wall {
            id: WallId(uuid::Uuid::from_u128(1)),
            encounter: EncounterId(uuid::Uuid::from_u128(2)),
            from: Point::new(0.0, 0.0),
            to: Point::new(0.0, 10.0),
            kind,
            door,
        };
        let cases = [
            (WallKind::Wall, None, true, true),
            (WallKind::Door, Some(DoorState::Closed), true, true),
            (WallKind::Door, Some(DoorState::Locked), true, true),
            (WallKind::Door, Some(DoorState::Open), false, false),
            (WallKind::Window, None, true, false),
            (WallKind::Terrain, None, false, true),
        ];
        for (kind, door, movement, sight) in cases {
            let w = wall(kind, door);
            assert_eq!(w.check(), Ok(()));
            assert_eq!(w.blocks_movement(), movement, "{kind:?} {door:?}");
            assert_eq!(w.blocks_sight(), sight, "{kind:?} {door:?}");
        }
        assert_eq!(
            wall(WallKind::Wall, Some(DoorState::Open)).check(),
            Err(WallError::DoorState)
        );
        assert_eq!(
            wall(WallKind::Door, None).check(),
            Err(WallError::DoorState)
        );
        let mut point = wall(WallKind::Wall, None);
        point.to = point.from;
        assert_eq!(point.check(), Err(WallError::NoLength));
        point.to = Point::new(f64::NAN, 0.0);
        assert_eq!(point.check(), Err(WallError::OffTheMap));
    }
}
