//! A busy map's tokens painted on one canvas.
//!
//! With a few hundred tokens in the DOM, what misses frames is Chromium
//! rasterizing every token's face, art, HP bar and name plate again at each
//! new zoom scale and whenever tokens enter the drawn area (measured, see
//! docs/BENCHMARKS.md); the page's own work stays under a millisecond. On a
//! busy map they are painted here instead, on one canvas that covers the
//! drawn area and moves and scales with the map layer: a pan or a zoom costs
//! the compositor one texture, and the canvas is painted again only when the
//! drawn area, a token or an actor changes, or at the new zoom once the
//! camera stops. Each art file is decoded once and cut round once, then
//! stamped onto every token that wears it.
//!
//! The painting happens on a canvas outside the page, and the visible one
//! only shows its bitmap (a `bitmaprenderer` context): a 2D canvas in the
//! page hands its pixels to the compositor again at every frame of a pan in
//! software rendering (2.7 ms a frame for the drawn area, traced), a bitmap
//! once.
//!
//! The buttons stay, transparent, over the painted tokens: the pointer,
//! focus, the keyboard and screen readers use them as on a quiet map. A token
//! being dragged, by me or by someone else, is drawn by its button, and the
//! canvas leaves it out.

use leptos::{html, prelude::*};
use shared::{geometry::Rect, id::TokenId};

use super::MapState;
use crate::table::Table;

// Painting happens in the browser only; the arithmetic is tested natively.
/// The largest side of the canvas in device pixels: browsers refuse much
/// larger canvases, and every pixel is memory.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const MAX_SIDE: f64 = 4096.0;

/// The canvas's device pixels per map pixel when it covers `area` at
/// `zoom` on a screen of `pixel_ratio`: sharp at that zoom, within
/// [`MAX_SIDE`].
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) fn resolution(area: &Rect, zoom: f64, pixel_ratio: f64) -> f64 {
    let (w, h) = (area.max.x - area.min.x, area.max.y - area.min.y);
    (zoom * pixel_ratio.max(1.0))
        .min(MAX_SIDE / w.max(1.0))
        .min(MAX_SIDE / h.max(1.0))
}

/// The canvas under the token buttons of a busy map.
///
/// `busy` says whether the map is busy; `area` is where tokens are drawn
/// (larger than the view), `ids` the tokens in it; the canvas is painted at
/// `settled`, the zoom once the camera stops, or at the zoom of the moment
/// when the area changes; `far` leaves out the name plates and condition
/// marks, as on a quiet map.
#[component]
pub(super) fn PaintedTokens(
    busy: Memo<bool>,
    area: Memo<Rect>,
    ids: Memo<Vec<TokenId>>,
    settled: RwSignal<f64>,
    far: Memo<bool>,
) -> impl IntoView {
    let table = expect_context::<Table>();
    let map = expect_context::<MapState>();
    let canvas = NodeRef::<html::Canvas>::new();
    // Where the canvas stands on the map, once painted.
    let placed = RwSignal::new(None::<Rect>);
    #[cfg(feature = "hydrate")]
    let sprites = draw::Sprites::new();
    // The canvas painted on, outside the page, and the count of paints.
    #[cfg(feature = "hydrate")]
    let work = draw::work_canvas();
    #[cfg(feature = "hydrate")]
    let painting = StoredValue::new(0u64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if !busy.get() {
            // A paint still under way is not shown either.
            painting.update_value(|n| *n += 1);
            placed.set(None);
            return;
        }
        settled.track();
        sprites.track();
        let area = area.get();
        let far = far.get();
        let grid = map.grid.get();
        let dragged = map.dragging.get().map(|(token, _)| token);
        let tokens = ids.with(|ids| draw::gather(table, ids, dragged, grid.grid_size));
        let Some(shown) = canvas.get() else { return };
        let zoom = map.camera.get_untracked().zoom;
        let k = resolution(&area, zoom, window().device_pixel_ratio());
        let Some(bitmap) = draw::paint(&work, &sprites, &tokens, &area, k, far) else {
            return;
        };
        // Several paints may be under way: only the latest is shown.
        let this = painting.get_value() + 1;
        painting.set_value(this);
        leptos::task::spawn_local(async move {
            let Ok(bitmap) = wasm_bindgen_futures::JsFuture::from(bitmap).await else {
                return;
            };
            if painting.try_get_value() != Some(this) {
                return;
            }
            draw::show(&shown, bitmap);
            placed.try_set(Some(area));
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (table, map, busy, area, ids, settled, far);
    let style = move || match placed.get() {
        Some(area) => format!(
            "transform: translate({}px, {}px); width: {}px; height: {}px;",
            area.min.x,
            area.min.y,
            area.max.x - area.min.x,
            area.max.y - area.min.y
        ),
        None => "display: none;".to_string(),
    };
    view! { <canvas class="token-canvas" node_ref=canvas aria-hidden="true" style=style></canvas> }
}

#[cfg(feature = "hydrate")]
mod draw {
    use std::collections::HashMap;

    use leptos::prelude::*;
    use shared::{
        geometry::{Point, Rect},
        id::{MediaId, TokenId},
        token::Visibility,
    };
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{
        CanvasRenderingContext2d, HtmlCanvasElement, HtmlImageElement, ImageBitmap,
        ImageBitmapRenderingContext,
    };

    use crate::table::Table;

    /// The largest side of an art file's round cut-out, in pixels.
    const SPRITE_SIDE: u32 = 256;
    /// Text smaller than this on the canvas, in device pixels, is not
    /// drawn: nobody can read it.
    const SMALLEST_TEXT: f64 = 5.0;
    const FONT: &str = "system-ui, sans-serif";

    /// What the canvas draws of one token.
    pub(super) struct Painted {
        at: Point,
        side: f64,
        rotation: f64,
        visibility: Visibility,
        initials: String,
        name: String,
        marks: Vec<char>,
        art: Option<MediaId>,
        /// The HP bar's filled share and colour, for whoever may read it.
        hp: Option<(f64, &'static str)>,
    }

    /// Reads the tokens to paint (and so wakes the painter when one of
    /// them, or its actor, changes).
    pub(super) fn gather(
        table: Table,
        ids: &[TokenId],
        dragged: Option<TokenId>,
        grid_size: f64,
    ) -> Vec<Painted> {
        ids.iter()
            .filter_map(|&id| {
                // Read before the short-circuit: a drag preview that ends
                // must bring the token back onto the canvas.
                let previewed = table.preview(id).with(Option::is_some);
                if previewed || dragged == Some(id) {
                    return None;
                }
                let (mut painted, actor) = table.with_token(id, |t| {
                    let painted = Painted {
                        at: t.position,
                        side: t.scale * grid_size,
                        rotation: t.rotation,
                        visibility: t.visibility,
                        initials: t.name.chars().take(2).collect(),
                        name: t.name.clone(),
                        marks: t
                            .conditions
                            .iter()
                            .take(4)
                            .map(|c| c.chars().next().unwrap_or('?').to_ascii_uppercase())
                            .collect(),
                        art: None,
                        hp: None,
                    };
                    (painted, t.actor)
                })?;
                if let Some((portrait, hp)) =
                    actor.and_then(|a| table.with_actor(a, |a| (a.portrait, a.hp)))
                {
                    painted.art = portrait;
                    // The colours of `.token-hp-fill`'s tones.
                    painted.hp = hp.map(|hp| {
                        let (percent, tone) = crate::table::map::token::hp_fill(&hp);
                        let colour = match tone {
                            "high" => "#3fb950",
                            "mid" => "#d29922",
                            _ => "#f85149",
                        };
                        (percent / 100.0, colour)
                    });
                }
                Some(painted)
            })
            .collect()
    }

    /// An art file, once loaded: cut round, ready to stamp.
    #[derive(Clone)]
    enum Sprite {
        Loading,
        Ready(HtmlCanvasElement),
        Failed,
    }

    /// A stamp's look and size: its visibility, its art, its side and
    /// border in device pixels (the border in tenths).
    type StampKey = (u8, Option<MediaId>, u32, u32);

    /// Stamps kept at most: a few sizes of a few looks; a new zoom makes
    /// new ones, and the old ones go when there are too many.
    const STAMPS: usize = 256;

    /// Each art file of the map, loaded and cut round once, and the faces
    /// stamped with them.
    #[derive(Clone, Copy)]
    pub(super) struct Sprites {
        all: StoredValue<HashMap<MediaId, Sprite>, LocalStorage>,
        stamps: StoredValue<HashMap<StampKey, HtmlCanvasElement>, LocalStorage>,
        /// Counts the files loaded, so the painter paints them.
        loaded: RwSignal<u32>,
    }

    impl Sprites {
        pub(super) fn new() -> Self {
            Self {
                all: StoredValue::new_local(HashMap::new()),
                stamps: StoredValue::new_local(HashMap::new()),
                loaded: RwSignal::new(0),
            }
        }

        pub(super) fn track(&self) {
            self.loaded.track();
        }

        /// The file's round cut-out, or `None` while it loads (or if it
        /// cannot: the token shows its initials, as on a quiet map).
        fn get(&self, id: MediaId) -> Option<HtmlCanvasElement> {
            match self.all.with_value(|all| all.get(&id).cloned()) {
                Some(Sprite::Ready(sprite)) => Some(sprite),
                Some(Sprite::Loading | Sprite::Failed) => None,
                None => {
                    self.load(id);
                    None
                }
            }
        }

        /// The stamp of a face of this look and size, made the first time.
        fn stamp(
            &self,
            visibility: Visibility,
            art: Option<&(MediaId, HtmlCanvasElement)>,
            side: u32,
            border: f64,
        ) -> Option<HtmlCanvasElement> {
            let look = match visibility {
                Visibility::Visible => 0,
                Visibility::GmOnly => 1,
                Visibility::Hidden => 2,
            };
            let key = (
                look,
                art.map(|(id, _)| *id),
                side,
                (border * 10.0).round() as u32,
            );
            if let Some(found) = self.stamps.with_value(|s| s.get(&key).cloned()) {
                return Some(found);
            }
            let made = make_stamp(visibility, art.map(|(_, a)| a), side, border)?;
            self.stamps.update_value(|stamps| {
                if stamps.len() >= STAMPS {
                    stamps.clear();
                }
                stamps.insert(key, made.clone());
            });
            Some(made)
        }

        fn load(&self, id: MediaId) {
            let Ok(image) = HtmlImageElement::new() else {
                return;
            };
            self.all.update_value(|all| {
                all.insert(id, Sprite::Loading);
            });
            let (all, loaded) = (self.all, self.loaded);
            let done = {
                let image = image.clone();
                Closure::once_into_js(move || {
                    let sprite = cut_round(&image).map_or(Sprite::Failed, Sprite::Ready);
                    all.try_update_value(|all| all.insert(id, sprite));
                    loaded.try_update(|n| *n += 1);
                })
            };
            let failed = Closure::once_into_js(move || {
                all.try_update_value(|all| all.insert(id, Sprite::Failed));
            });
            image.set_onload(Some(done.unchecked_ref()));
            image.set_onerror(Some(failed.unchecked_ref()));
            image.set_src(&format!("/media/{id}"));
        }
    }

    /// The middle square of `image`, cut round, on a canvas of its own.
    fn cut_round(image: &HtmlImageElement) -> Option<HtmlCanvasElement> {
        let (w, h) = (image.natural_width(), image.natural_height());
        let crop = w.min(h);
        if crop == 0 {
            return None;
        }
        let side = crop.min(SPRITE_SIDE);
        let sprite = square_canvas(side)?;
        let g = context(&sprite)?;
        let half = f64::from(side) / 2.0;
        g.begin_path();
        g.arc(half, half, half, 0.0, std::f64::consts::TAU).ok()?;
        g.clip();
        g.draw_image_with_html_image_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            image,
            f64::from(w - crop) / 2.0,
            f64::from(h - crop) / 2.0,
            f64::from(crop),
            f64::from(crop),
            0.0,
            0.0,
            f64::from(side),
            f64::from(side),
        )
        .ok()?;
        Some(sprite)
    }

    fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
        canvas.get_context("2d").ok()??.dyn_into().ok()
    }

    /// A canvas outside the page, `side` pixels square.
    fn square_canvas(side: u32) -> Option<HtmlCanvasElement> {
        let canvas: HtmlCanvasElement =
            document().create_element("canvas").ok()?.dyn_into().ok()?;
        canvas.set_width(side);
        canvas.set_height(side);
        Some(canvas)
    }

    /// The canvas the tokens are painted on, outside the page (sized at
    /// each paint).
    pub(super) fn work_canvas() -> StoredValue<Option<HtmlCanvasElement>, LocalStorage> {
        StoredValue::new_local(square_canvas(1))
    }

    /// Shows a painted bitmap on the page's canvas (its size is the
    /// bitmap's).
    pub(super) fn show(shown: &HtmlCanvasElement, bitmap: wasm_bindgen::JsValue) {
        let Ok(bitmap) = bitmap.dyn_into::<ImageBitmap>() else {
            return;
        };
        let Ok(Some(renderer)) = shown.get_context("bitmaprenderer") else {
            return;
        };
        if let Ok(renderer) = renderer.dyn_into::<ImageBitmapRenderingContext>() {
            renderer.transfer_from_image_bitmap(&bitmap);
        }
    }

    /// Paints `tokens` on the work canvas, made to cover `area` at `k`
    /// device pixels per map pixel; returns the promise of its bitmap.
    pub(super) fn paint(
        work: &StoredValue<Option<HtmlCanvasElement>, LocalStorage>,
        sprites: &Sprites,
        tokens: &[Painted],
        area: &Rect,
        k: f64,
        far: bool,
    ) -> Option<js_sys::Promise> {
        let canvas = work.with_value(Clone::clone)?;
        let width = ((area.max.x - area.min.x) * k).ceil().max(1.0) as u32;
        let height = ((area.max.y - area.min.y) * k).ceil().max(1.0) as u32;
        // Resizing clears and reallocates the canvas: only when it changed.
        if canvas.width() != width || canvas.height() != height {
            canvas.set_width(width);
            canvas.set_height(height);
        }
        let g = context(&canvas)?;
        g.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok();
        g.clear_rect(0.0, 0.0, f64::from(width), f64::from(height));
        // Map pixels from here on; the text is sized in them too.
        g.set_transform(k, 0.0, 0.0, k, -area.min.x * k, -area.min.y * k)
            .ok();
        let text = 12.8 * k >= SMALLEST_TEXT;
        let plates = !far && 10.9 * k >= SMALLEST_TEXT;
        g.set_text_align("center");
        g.set_text_baseline("middle");
        for token in tokens {
            g.set_global_alpha(if token.visibility == Visibility::Hidden {
                0.6
            } else {
                1.0
            });
            face(&g, sprites, token, text, area, k);
            if let Some((share, tone)) = token.hp {
                hp_bar(&g, token, share, tone);
            }
            if plates {
                name_plate(&g, token);
                marks(&g, token);
            }
        }
        g.set_global_alpha(1.0);
        window()
            .create_image_bitmap_with_html_canvas_element(&canvas)
            .ok()
    }

    /// The round face: its colour, its art or initials, its border; turned
    /// with the token. The circle, the art and the border come from a
    /// stamp made once per look and size, copied pixel for pixel (drawing
    /// the border's arc for each token was a third of a paint, traced).
    fn face(
        g: &CanvasRenderingContext2d,
        sprites: &Sprites,
        token: &Painted,
        text: bool,
        area: &Rect,
        k: f64,
    ) {
        let art = token
            .art
            .and_then(|id| sprites.get(id).map(|art| (id, art)));
        let side = (token.side * k).round().max(1.0) as u32;
        let r = token.side / 2.0;
        let (cx, cy) = (token.at.x + r, token.at.y + r);
        if let Some(stamp) = sprites.stamp(token.visibility, art.as_ref(), side, 3.0 * k) {
            if token.rotation == 0.0 {
                // In device pixels, on whole ones: a copy, not a resampling.
                g.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok();
                g.draw_image_with_html_canvas_element(
                    &stamp,
                    ((token.at.x - area.min.x) * k).round(),
                    ((token.at.y - area.min.y) * k).round(),
                )
                .ok();
                g.set_transform(k, 0.0, 0.0, k, -area.min.x * k, -area.min.y * k)
                    .ok();
            } else {
                g.save();
                g.translate(cx, cy).ok();
                g.rotate(token.rotation.to_radians()).ok();
                g.draw_image_with_html_canvas_element_and_dw_and_dh(
                    &stamp, -r, -r, token.side, token.side,
                )
                .ok();
                g.restore();
            }
        }
        if art.is_none() && text {
            g.set_fill_style_str("#fff");
            g.set_font(&format!("700 12.8px {FONT}"));
            g.fill_text(&token.initials, cx, cy).ok();
        }
    }

    /// A face's stamp: its circle in the colour of its visibility, its art,
    /// its border (`border` device pixels wide), `side` device pixels wide.
    fn make_stamp(
        visibility: Visibility,
        art: Option<&HtmlCanvasElement>,
        side: u32,
        border: f64,
    ) -> Option<HtmlCanvasElement> {
        let (fill, dash): (&str, &[f64]) = match visibility {
            Visibility::Visible => ("#8a2d1c", &[]),
            Visibility::GmOnly => ("#4b3f72", &[6.0, 4.0]),
            Visibility::Hidden => ("#444", &[2.0, 3.0]),
        };
        let stamp = square_canvas(side)?;
        let g = context(&stamp)?;
        let s = f64::from(side);
        let r = s / 2.0;
        g.begin_path();
        g.arc(r, r, r, 0.0, std::f64::consts::TAU).ok()?;
        g.set_fill_style_str(fill);
        g.fill();
        if let Some(art) = art {
            g.draw_image_with_html_canvas_element_and_dw_and_dh(art, 0.0, 0.0, s, s)
                .ok()?;
        }
        // The border, inside the face as the button's is.
        g.begin_path();
        g.arc(
            r,
            r,
            (r - border / 2.0).max(0.0),
            0.0,
            std::f64::consts::TAU,
        )
        .ok()?;
        g.set_line_width(border);
        g.set_stroke_style_str("#f4e9d8");
        let per_pixel = border / 3.0;
        let dash = js_sys::Array::from_iter(
            dash.iter()
                .map(|&d| wasm_bindgen::JsValue::from(d * per_pixel)),
        );
        g.set_line_dash(&dash).ok()?;
        g.stroke();
        Some(stamp)
    }

    /// The HP bar under the face, as `.token-hp` draws it.
    fn hp_bar(g: &CanvasRenderingContext2d, token: &Painted, share: f64, tone: &str) {
        let x = token.at.x + token.side * 0.08;
        let width = token.side * 0.84;
        let y = token.at.y + token.side - 2.0;
        g.set_fill_style_str("rgba(0, 0, 0, 0.65)");
        g.fill_rect(x, y, width, 5.0);
        g.set_fill_style_str(tone);
        g.fill_rect(x, y, width * share, 5.0);
    }

    /// The name plate under the token, as `.token-name` draws it.
    fn name_plate(g: &CanvasRenderingContext2d, token: &Painted) {
        if token.name.is_empty() {
            return;
        }
        g.set_font(&format!("600 10.9px {FONT}"));
        let width = g.measure_text(&token.name).map_or(0.0, |m| m.width()) + 9.6;
        let cx = token.at.x + token.side / 2.0;
        let top = token.at.y + token.side + 4.0;
        g.set_fill_style_str("rgba(0, 0, 0, 0.7)");
        g.fill_rect(cx - width / 2.0, top, width, 14.2);
        g.set_fill_style_str("#fff");
        g.fill_text(&token.name, cx, top + 7.3).ok();
    }

    /// Up to four condition marks at the top right, as `.token-mark`.
    fn marks(g: &CanvasRenderingContext2d, token: &Painted) {
        let n = token.marks.len() as f64;
        let right = token.at.x + token.side + 7.2;
        let cy = token.at.y - 7.2 + 8.0;
        g.set_font(&format!("700 9.6px {FONT}"));
        for (i, mark) in token.marks.iter().enumerate() {
            let cx = right - (n - i as f64) * 17.0 + 8.5;
            g.begin_path();
            g.arc(cx, cy, 7.5, 0.0, std::f64::consts::TAU).ok();
            g.set_fill_style_str("#ffd34d");
            g.fill();
            g.set_line_width(1.0);
            g.set_stroke_style_str("#222");
            g.stroke();
            g.set_fill_style_str("#222");
            g.fill_text(&mark.to_string(), cx, cy).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use shared::geometry::Point;

    use super::*;

    fn area(w: f64, h: f64) -> Rect {
        Rect {
            min: Point::new(-100.0, -50.0),
            max: Point::new(w - 100.0, h - 50.0),
        }
    }

    #[test]
    fn the_canvas_is_as_sharp_as_the_zoom_on_the_screen() {
        assert_eq!(resolution(&area(2400.0, 1500.0), 1.0, 1.0), 1.0);
        assert_eq!(resolution(&area(2400.0, 1500.0), 0.6, 1.0), 0.6);
        assert_eq!(resolution(&area(1200.0, 750.0), 1.5, 2.0), 3.0);
        // A screen reporting less than one device pixel per CSS pixel
        // still gets one.
        assert_eq!(resolution(&area(2400.0, 1500.0), 1.0, 0.5), 1.0);
    }

    #[test]
    fn the_canvas_never_grows_past_the_largest_side() {
        for (w, h, zoom, ratio) in [
            (20_000.0, 1_000.0, 1.0, 1.0),
            (1_000.0, 50_000.0, 4.0, 3.0),
            (3_000.0, 3_000.0, 2.0, 2.0),
        ] {
            let k = resolution(&area(w, h), zoom, ratio);
            assert!(w * k <= MAX_SIDE && h * k <= MAX_SIDE, "{w} x {h} at {k}");
            assert!(k > 0.0);
        }
    }
}
