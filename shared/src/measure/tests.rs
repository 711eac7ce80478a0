use proptest::prelude::*;

use super::*;

fn cell() -> impl Strategy<Value = Cell> {
    (-40i32..40, -40i32..40).prop_map(|(x, y)| Cell(x, y))
}

#[test]
fn five_e_counts_a_diagonal_as_one_and_the_variant_alternates() {
    let path = [Cell(0, 0), Cell(3, 3)];
    assert_eq!(Diagonals::Equal.steps(&path), 3);
    // 5 + 10 + 5 ft: four cells.
    assert_eq!(Diagonals::Alternating.steps(&path), 4);
    // Two diagonals, each at a waypoint of its own: the second counts two.
    let bent = [Cell(0, 0), Cell(1, 1), Cell(2, 2)];
    assert_eq!(Diagonals::Alternating.steps(&bent), 3);
    // Straight steps are one cell under both rules.
    let straight = [Cell(2, 5), Cell(2, 1), Cell(6, 1)];
    assert_eq!(Diagonals::Equal.steps(&straight), 8);
    assert_eq!(Diagonals::Alternating.steps(&straight), 8);
    assert_eq!(Diagonals::Equal.steps(&[Cell(4, 4)]), 0);
}

#[test]
fn feet_follow_the_map_scale_from_cell_to_cell() {
    let map = MapSettings {
        grid_size: 50.0,
        feet_per_cell: 5,
        ..MapSettings::default()
    };
    // Anywhere inside a cell is that cell: 10 px and 49 px are cell 0.
    let path = [
        Point::new(10.0, 10.0),
        Point::new(160.0, 49.0),
        Point::new(160.0, 210.0),
    ];
    assert_eq!(map.feet_along(&path), 35);
    assert_eq!(map.center_of(Cell(3, 4)), Point::new(175.0, 225.0));
    assert_eq!(map.cell_at(map.center_of(Cell(-2, 7))), Cell(-2, 7));
    let variant = MapSettings {
        diagonals: Diagonals::Alternating,
        feet_per_cell: 10,
        ..map
    };
    assert_eq!(
        variant.feet_along(&[Point::new(0.0, 0.0), Point::new(120.0, 120.0)]),
        30
    );
}

#[test]
fn a_ruler_is_bounded_and_finite() {
    let points = vec![Point::new(1.0, 1.0); MAX_RULER_POINTS];
    assert!(ruler_ok(&points));
    assert!(ruler_ok(&[]));
    assert!(!ruler_ok(&vec![Point::new(1.0, 1.0); MAX_RULER_POINTS + 1]));
    assert!(!ruler_ok(&[Point::new(f64::NAN, 1.0)]));
    for rule in Diagonals::ALL {
        assert_eq!(Diagonals::from_key(rule.key()), Some(rule));
    }
}

proptest! {
    /// A waypoint never makes a path shorter than the straight line
    /// between its ends, under either rule.
    #[test]
    fn a_waypoint_never_shortens_the_way(a in cell(), b in cell(), c in cell()) {
        for rule in Diagonals::ALL {
            prop_assert!(rule.steps(&[a, b, c]) >= rule.steps(&[a, c]), "{rule:?}");
        }
    }

    /// Walked backwards a path is as long; the variant is never shorter
    /// than 5e's and never longer by more than half its diagonals.
    #[test]
    fn distance_is_symmetric_and_the_variant_bounded(path in prop::collection::vec(cell(), 0..8)) {
        let mut back = path.clone();
        back.reverse();
        for rule in Diagonals::ALL {
            prop_assert_eq!(rule.steps(&path), rule.steps(&back));
        }
        let equal = Diagonals::Equal.steps(&path);
        let variant = Diagonals::Alternating.steps(&path);
        prop_assert!(variant >= equal);
        prop_assert!(variant <= equal + equal / 2);
    }

    /// 5e's count from one cell to another is the larger of the two
    /// offsets, as the movement rule has always counted it.
    #[test]
    fn five_e_is_the_larger_offset(a in cell(), b in cell()) {
        prop_assert_eq!(Diagonals::Equal.steps(&[a, b]), u64::from(a.steps_to(b)));
    }
}
