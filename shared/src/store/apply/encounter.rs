//! An encounter's fields: name, map, turn order, log, fog of war.

use super::*;

impl Kind for Encounter {
    type Id = EncounterId;
    /// The grid size decides every token's bounds in the spatial index.
    type Keys = u64;
    const KIND: EntityKind = EntityKind::Encounter;

    fn id(&self) -> EncounterId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<EncounterId, Self> {
        &mut entities.encounters
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<EncounterId, Self> {
        &entities.encounters
    }
    fn keys(&self) -> u64 {
        self.map.grid_size.to_bits()
    }
    fn check(&self, _: &Store, path: &Path) -> Result<()> {
        not_blank(&self.name).map_err(|reason| invalid(path, reason))?;
        positive(&self.map.grid_size).map_err(|reason| invalid(path, reason))?;
        if !self.map.offset.is_finite() {
            return Err(invalid(path, "the grid offset must be finite"));
        }
        Ok(())
    }
    fn limits(&self) -> Result<()> {
        limits::text(
            "an encounter's name (characters)",
            &self.name,
            limits::MAX_ENCOUNTER_NAME_CHARS,
        )?;
        limits::between(
            "the grid size (pixels)",
            self.map.grid_size,
            limits::MIN_GRID_SIZE,
            limits::MAX_GRID_SIZE,
        )?;
        limits::between(
            "feet per cell",
            f64::from(self.map.feet_per_cell),
            1.0,
            f64::from(limits::MAX_FEET_PER_CELL),
        )?;
        coordinates("the grid offset", self.map.offset)?;
        limits::count(
            "a turn order (tokens)",
            self.initiative.order.len(),
            limits::MAX_INITIATIVE,
        )?;
        limits::count(
            "a turn order's totals",
            self.initiative.totals.len(),
            limits::MAX_INITIATIVE,
        )?;
        limits::count(
            "an encounter's revealed fog (cells)",
            self.fog.revealed.len(),
            limits::MAX_FOG_CELLS,
        )?;
        limits::count(
            "an encounter's log (lines)",
            self.log.len(),
            limits::MAX_LOG_LINES,
        )
    }
    fn room(&self, store: &Store, path: &Path) -> Result<()> {
        if store.fixed_encounters {
            return Err(invalid(
                path,
                "a live session cannot add encounters; create one from the campaign page",
            ));
        }
        limits::count(
            "a campaign's encounters",
            store.entities.encounters.len() + 1,
            limits::MAX_ENCOUNTERS,
        )
    }
    fn can_delete(&self, store: &Store, path: &Path) -> Result<()> {
        if store.fixed_encounters {
            return Err(invalid(
                path,
                "a live session cannot delete its encounter; end the session first",
            ));
        }
        if store.indices.tokens_by_encounter.contains_key(&self.id) {
            return Err(invalid(
                path,
                "the encounter still has tokens; delete them first",
            ));
        }
        if store.indices.drawings_by_encounter.contains_key(&self.id) {
            return Err(invalid(
                path,
                "the encounter still has drawings; erase them first",
            ));
        }
        if store.indices.walls_by_encounter.contains_key(&self.id) {
            return Err(invalid(
                path,
                "the encounter still has walls; remove them first",
            ));
        }
        Ok(())
    }
    fn unindex(store: &mut Store, id: EncounterId, _: &u64) {
        store.spatial.remove(&id);
    }
    fn index(store: &mut Store, id: EncounterId, _: &u64) {
        let Some(encounter) = store.entities.encounters.get(&id) else {
            return;
        };
        let tokens = store
            .indices
            .tokens_by_encounter
            .get(&id)
            .into_iter()
            .flatten();
        let index = rebuild_spatial(
            encounter,
            tokens.filter_map(|t| store.entities.tokens.get(t)).cloned(),
        );
        store.spatial.insert(id, index);
    }
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>> {
        let (name, rest) = split(field);
        match (name, rest) {
            ("name", []) => leaf(&mut self.name, op, path, not_blank),
            ("map", []) => leaf(
                &mut self.map,
                op,
                path,
                |map: &crate::encounter::MapSettings| {
                    positive(&map.grid_size)?;
                    if map.offset.is_finite() {
                        Ok(())
                    } else {
                        Err("the grid offset must be finite")
                    }
                },
            ),
            ("initiative", []) => leaf(&mut self.initiative, op, path, any),
            ("fog", []) => leaf(&mut self.fog, op, path, |fog: &crate::encounter::Fog| {
                fog_cells(fog.revealed.iter())
            }),
            ("map", [part]) => match part.as_str() {
                "grid_size" => number(&mut self.map.grid_size, op, path, positive),
                "feet_per_cell" => number(&mut self.map.feet_per_cell, op, path, any),
                "diagonals" => leaf(&mut self.map.diagonals, op, path, any),
                "grid" => leaf(&mut self.map.grid, op, path, any),
                "players_draw" => leaf(&mut self.map.players_draw, op, path, any),
                "vision" => leaf(&mut self.map.vision, op, path, any),
                "daylight" => leaf(&mut self.map.daylight, op, path, any),
                "offset" => leaf(&mut self.map.offset, op, path, |p: &Point| {
                    if p.is_finite() {
                        Ok(())
                    } else {
                        Err("must be finite")
                    }
                }),
                _ => Err(bad_path(path, "no such field")),
            },
            ("initiative", [part, index @ ..]) => match part.as_str() {
                "order" => list_of(&mut self.initiative.order, index, op, path),
                "turn" if index.is_empty() => number(&mut self.initiative.turn, op, path, any),
                "round" if index.is_empty() => number(&mut self.initiative.round, op, path, any),
                "phase" if index.is_empty() => leaf(&mut self.initiative.phase, op, path, any),
                _ => Err(bad_path(path, "no such field")),
            },
            ("fog", [part]) if part == "enabled" => leaf(&mut self.fog.enabled, op, path, any),
            ("fog", [part, cell @ ..]) if part == "revealed" => {
                reveal(&mut self.fog.revealed, cell, op, path)
            }
            ("log", []) => log(&mut self.log, op, path),
            ("log", index) => list_of(&mut self.log, index, op, path),
            _ => Err(bad_path(path, "no such field")),
        }
    }
}

/// Fog cells: `append` takes a list of cells and reveals them all (one
/// change per brush stroke, not per cell); `revealed/<x>,<y>` delete hides
/// one.
fn reveal(
    revealed: &mut BTreeSet<Cell>,
    cell: &[String],
    op: &Op,
    path: &Path,
) -> Result<Vec<Change>> {
    match (cell, op) {
        ([], Op::Append(value)) => {
            let cells: Vec<Cell> = decode(value, path)?;
            fog_cells(cells.iter()).map_err(|reason| invalid(path, reason))?;
            limits::count(
                "an encounter's revealed fog (cells)",
                revealed.len().saturating_add(cells.len()),
                limits::MAX_FOG_CELLS,
            )?;
            let mut inverse: Vec<Change> = Vec::new();
            for cell in cells {
                if revealed.insert(cell) {
                    inverse.push(Change::delete(path.child(cell.to_string())));
                }
            }
            Ok(inverse)
        }
        ([], op) => leaf(revealed, op, path, |cells: &BTreeSet<Cell>| {
            fog_cells(cells.iter())
        }),
        ([at], Op::Delete) => {
            let cell: Cell = at
                .parse()
                .map_err(|()| bad_path(path, "a cell is written <x>,<y>"))?;
            if !revealed.remove(&cell) {
                return Err(invalid(path, "that cell is not revealed"));
            }
            Ok(vec![Change::append(path.parent(), to_value(&[cell]))])
        }
        ([_], op) => Err(unsupported(op, path)),
        _ => Err(bad_path(path, "too many segments")),
    }
}

fn fog_cells<'a>(mut cells: impl Iterator<Item = &'a Cell>) -> Result<(), &'static str> {
    let range = -limits::MAX_FOG_CELL..=limits::MAX_FOG_CELL;
    if cells.all(|Cell(x, y)| range.contains(x) && range.contains(y)) {
        Ok(())
    } else {
        Err("a fog cell is out of range (at most 100000 cells from the origin)")
    }
}

/// The encounter's log: `append` adds a line and, at
/// [`limits::MAX_LOG_LINES`], drops the oldest (every line stays in the
/// event log); `set` replaces it. Each line's text is bounded.
fn log(lines: &mut Vec<LogEntry>, op: &Op, path: &Path) -> Result<Vec<Change>> {
    let line_limits = |line: &LogEntry| {
        limits::text(
            "a log line (characters)",
            &line.text,
            limits::MAX_LOG_LINE_CHARS,
        )?;
        limits::count(
            "readers of a private line",
            line.to.as_ref().map_or(0, Vec::len),
            limits::MAX_LINE_READERS,
        )
    };
    match op {
        Op::Append(value) => {
            let line: LogEntry = decode(value, path)?;
            line_limits(&line)?;
            if lines.len() < limits::MAX_LOG_LINES {
                lines.push(line);
                return Ok(vec![Change::delete(
                    path.child((lines.len() - 1).to_string()),
                )]);
            }
            let before = to_value(lines);
            let excess = lines.len() + 1 - limits::MAX_LOG_LINES;
            lines.drain(..excess);
            lines.push(line);
            Ok(vec![Change::set(path.clone(), before)])
        }
        Op::Set(value) => {
            let new: Vec<LogEntry> = decode(value, path)?;
            new.iter().try_for_each(line_limits)?;
            let old = std::mem::replace(lines, new);
            Ok(vec![Change::set(path.clone(), to_value(&old))])
        }
        op => Err(unsupported(op, path)),
    }
}
