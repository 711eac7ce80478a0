use proptest::prelude::*;

use super::*;

/// The 5e grid: 50 px cells of 5 ft.
fn map() -> MapSettings {
    MapSettings {
        grid_size: 50.0,
        feet_per_cell: 5,
        ..MapSettings::default()
    }
}

fn at_corner(cell: Cell) -> Point {
    map().cell_origin(cell)
}

#[test]
fn a_fireball_covers_the_cells_within_twenty_feet_of_its_point() {
    // From the corner between four cells, as the 5e grid rule places it.
    let fireball = Template {
        shape: Shape::Circle { radius: 20 },
        origin: at_corner(Cell(10, 10)),
        direction: 0.0,
    };
    let cells = fireball.cells(&map());
    // 4 cells a side of the corner, minus what the circle leaves out at
    // the four diagonals: 52 cells.
    assert_eq!(cells.len(), 52);
    assert!(cells.contains(&Cell(6, 9)) && cells.contains(&Cell(13, 10)));
    assert!(!cells.contains(&Cell(6, 6)), "the corner is out of reach");
    assert!(!cells.contains(&Cell(14, 10)));
}

#[test]
fn a_cone_is_as_wide_as_it_is_far_and_a_line_as_wide_as_it_says() {
    let origin = at_corner(Cell(0, 5));
    let cone = Template {
        shape: Shape::Cone { length: 15 },
        origin: Point::new(origin.x, origin.y + 25.0),
        direction: 0.0,
    };
    let cells = cone.cells(&map());
    // Three columns eastwards; the third is 12.5 ft out, 6.25 ft wide on
    // each side: its row and the row on either side.
    assert!(cells.contains(&Cell(0, 5)) && cells.contains(&Cell(2, 5)));
    assert!(cells.contains(&Cell(2, 4)) && cells.contains(&Cell(2, 6)));
    assert!(!cells.contains(&Cell(0, 4)), "2.5 ft out it is 2.5 ft wide");
    assert!(
        !cells.contains(&Cell(1, 4)),
        "7.5 ft out it is 7.5 ft wide: the next row's centre is 5 ft off its axis"
    );
    assert!(!cells.iter().any(|c| c.0 < 0 || c.0 > 2));
    let bolt = Template {
        shape: Shape::Line {
            length: 100,
            width: 5,
        },
        origin: Point::new(origin.x, origin.y + 25.0),
        direction: 0.0,
    };
    let cells = bolt.cells(&map());
    assert_eq!(cells.len(), 20);
    assert!(cells.iter().all(|c| c.1 == 5));
    // Turned south, the same line goes down a column.
    let south = Template {
        direction: 90.0,
        origin: Point::new(origin.x + 25.0, origin.y),
        ..bolt
    };
    assert!(south.cells(&map()).iter().all(|c| c.0 == 0 && c.1 >= 5));
}

#[test]
fn a_token_is_inside_when_any_cell_it_covers_is() {
    let mut store = Store::new();
    let encounter = EncounterId(uuid::Uuid::from_u128(1));
    let apply = |store: &mut Store, path: &str, value: serde_json::Value| {
        store
            .apply(&crate::change::Change::set(
                crate::path::Path::parse(path).unwrap(),
                value,
            ))
            .unwrap();
    };
    apply(
        &mut store,
        &format!("encounters/{encounter}"),
        serde_json::json!({"id": encounter, "name": "Hall", "map": {"grid_size": 50.0}}),
    );
    let token = |n: u128| TokenId(uuid::Uuid::from_u128(n));
    for (n, x, y, scale) in [
        (10, 500.0, 500.0, 1.0),
        (11, 800.0, 500.0, 1.0),
        (12, 550.0, 550.0, 3.0),
    ] {
        apply(
            &mut store,
            &format!("tokens/{}", token(n)),
            serde_json::json!({"id": token(n), "encounter": encounter, "name": "T",
                "position": {"x": x, "y": y}, "scale": scale}),
        );
    }
    let fireball = Template {
        shape: Shape::Circle { radius: 10 },
        origin: Point::new(500.0, 500.0),
        direction: 0.0,
    };
    // The first stands in the middle; the second is 30 ft away; the huge
    // one's nearest cell is 10.6 ft from the point, so it is only in the
    // wider one.
    assert_eq!(fireball.tokens(&store, encounter), [token(10)]);
    let wide = Template {
        shape: Shape::Circle { radius: 15 },
        ..fireball
    };
    assert_eq!(wide.tokens(&store, encounter), [token(10), token(12)]);
}

#[test]
fn what_a_member_sends_is_checked() {
    let ok = Template {
        shape: Shape::Square { side: 15 },
        origin: Point::new(0.0, 0.0),
        direction: 45.0,
    };
    assert_eq!(ok.check(), Ok(()));
    for shape in [
        Shape::Circle { radius: 0 },
        Shape::Cone {
            length: MAX_TEMPLATE_FEET + 1,
        },
        Shape::Line {
            length: 30,
            width: 0,
        },
    ] {
        assert_eq!(Template { shape, ..ok }.check(), Err(TemplateError::Size));
    }
    let nan = Template {
        direction: f64::NAN,
        ..ok
    };
    assert_eq!(nan.check(), Err(TemplateError::NotFinite));
}

#[test]
fn srd_templates_read_as_shapes_the_map_draws() {
    use serde_json::json;
    let read = |t: serde_json::Value| Shape::from_srd(&t);
    assert_eq!(
        read(json!({"type": "sphere", "size": "20"})),
        Some(Shape::Circle { radius: 20 })
    );
    assert_eq!(
        read(json!({"type": "cone", "size": 15})),
        Some(Shape::Cone { length: 15 })
    );
    assert_eq!(
        read(json!({"type": "line", "size": "100", "width": "5"})),
        Some(Shape::Line {
            length: 100,
            width: 5
        })
    );
    assert_eq!(
        read(json!({"type": "wall", "size": "60"})),
        Some(Shape::Line {
            length: 60,
            width: 5
        }),
        "a line without a width is 5 ft wide"
    );
    assert_eq!(
        read(json!({"type": "cube", "size": "15"})),
        Some(Shape::Square { side: 15 })
    );
    assert_eq!(read(json!({"type": "sphere", "size": ""})), None);
    assert_eq!(read(json!({"type": "sphere", "size": "0"})), None);
    assert_eq!(read(json!({"type": "sphere", "size": "5000"})), None);
    assert_eq!(read(json!({"type": "hexagon", "size": "10"})), None);
    assert_eq!(read(json!({})), None);
    assert_eq!(
        read(json!({"type": "sphere", "size": "1", "units": "mi"})),
        None,
        "a mile is not drawn in feet"
    );
    assert_eq!(
        read(json!({"type": "sphere", "size": "20", "units": "ft"})),
        Some(Shape::Circle { radius: 20 })
    );
    assert_eq!(Shape::Circle { radius: 20 }.label(), "20-ft circle");
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        (1u32..60).prop_map(|radius| Shape::Circle { radius }),
        (1u32..60).prop_map(|length| Shape::Cone { length }),
        (1u32..120, 1u32..20).prop_map(|(length, width)| Shape::Line { length, width }),
        (1u32..60).prop_map(|side| Shape::Square { side }),
    ]
}

proptest! {
    /// Every covered cell lies within the bounds the token query uses,
    /// so no token inside is missed.
    #[test]
    fn every_covered_cell_is_within_the_bounds(
        shape in shape(),
        x in -500.0f64..500.0,
        y in -500.0f64..500.0,
        direction in -720.0f64..720.0,
    ) {
        let template = Template { shape, origin: Point::new(x, y), direction };
        for grid in crate::grid::Grid::ALL {
            let map = MapSettings { grid, ..map() };
            let bounds = template.bounds(&map);
            let span = map.span(&bounds);
            let (first, last) = (span.first, span.last);
            // A ring of cells around the bounds: none of them is covered.
            for row in first.1 - 1..=last.1 + 1 {
                for column in first.0 - 1..=last.0 + 1 {
                    let outer = row < first.1 || row > last.1 || column < first.0 || column > last.0;
                    if outer {
                        prop_assert!(!template.covers(&map, map.center_of(Cell(column, row))));
                    }
                }
            }
        }
    }

    /// A bigger template of the same shape covers at least what the
    /// smaller one does; turning a circle changes nothing.
    #[test]
    fn growing_never_uncovers_and_a_circle_has_no_direction(
        feet in 1u32..40,
        more in 0u32..40,
        x in -300.0f64..300.0,
        y in -300.0f64..300.0,
        direction in 0.0f64..360.0,
    ) {
        for (small, big) in [
            (Shape::Circle { radius: feet }, Shape::Circle { radius: feet + more }),
            (Shape::Cone { length: feet }, Shape::Cone { length: feet + more }),
            (Shape::Square { side: feet }, Shape::Square { side: feet + more }),
            (Shape::Line { length: feet, width: 5 }, Shape::Line { length: feet + more, width: 5 + more }),
        ] {
            let place = |shape| Template { shape, origin: Point::new(x, y), direction };
            let inner = place(small).cells(&map());
            let outer = place(big).cells(&map());
            prop_assert!(inner.iter().all(|cell| outer.contains(cell)), "{small:?} in {big:?}");
        }
        let circle = |direction| Template {
            shape: Shape::Circle { radius: feet },
            origin: Point::new(x, y),
            direction,
        }
        .cells(&map());
        prop_assert_eq!(circle(0.0), circle(direction));
    }
}
