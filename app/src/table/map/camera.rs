//! Where the map is looked at: pure geometry, tested natively.

use shared::geometry::{Point, Rect};

/// Where the map is looked at: the map point at the viewport's top-left,
/// and map pixels per screen pixel.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Camera {
    /// Map x at the left edge.
    pub x: f64,
    /// Map y at the top edge.
    pub y: f64,
    /// Screen pixels per map pixel.
    pub zoom: f64,
}

impl Default for Camera {
    fn default() -> Self {
        Self {
            x: -40.0,
            y: -40.0,
            zoom: 1.0,
        }
    }
}

impl Camera {
    /// The map point under a point of the viewport.
    pub fn to_map(self, screen: Point) -> Point {
        Point::new(self.x + screen.x / self.zoom, self.y + screen.y / self.zoom)
    }

    /// The camera zoomed by `factor` around a viewport point, which stays
    /// over the same map point.
    pub fn zoomed(self, factor: f64, around: Point) -> Self {
        let zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let anchor = self.to_map(around);
        Self {
            x: anchor.x - around.x / zoom,
            y: anchor.y - around.y / zoom,
            zoom,
        }
    }

    /// The map area a viewport of `size` shows, grown by `margin` map
    /// pixels on each side (so tokens slide in rather than pop).
    pub fn visible(self, size: (f64, f64), margin: f64) -> Rect {
        Rect::from_origin(
            Point::new(self.x - margin, self.y - margin),
            size.0 / self.zoom + 2.0 * margin,
            size.1 / self.zoom + 2.0 * margin,
        )
    }
}

pub(super) const MIN_ZOOM: f64 = 0.05;
pub(super) const MAX_ZOOM: f64 = 4.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zooming_keeps_the_point_under_the_cursor() {
        let camera = Camera {
            x: 100.0,
            y: 50.0,
            zoom: 1.0,
        };
        let cursor = Point::new(300.0, 200.0);
        let before = camera.to_map(cursor);
        let zoomed = camera.zoomed(2.0, cursor);
        assert_eq!(zoomed.zoom, 2.0);
        let after = zoomed.to_map(cursor);
        assert!((before.x - after.x).abs() < 1e-9 && (before.y - after.y).abs() < 1e-9);
        assert_eq!(camera.zoomed(1000.0, cursor).zoom, MAX_ZOOM);
    }
}
