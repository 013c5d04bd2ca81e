//! Planning a student CSV import, backend-neutral and pure: given a snapshot of the school's
//! roster and the parsed rows, decide every create and update (and every PIN), or list every
//! row-level problem. The store loads the snapshot and applies the plan in one transaction;
//! the API parses the file into [`ImportRow`]s and reports [`RowError`]s.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// Largest PIN: old devices show 9 digits.
pub const MAX_PIN: i64 = 999_999_999;

/// One row of a CSV import, already checked for syntax. Class and section are names.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// Line in the file (the header is row 1).
    pub row: usize,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    pub class: Option<String>,
    pub section: Option<String>,
    pub is_active: bool,
    /// A PIN of a live student updates that student; an unused PIN creates a student with it;
    /// no PIN creates a student with the next automatic PIN.
    pub pin: Option<String>,
}

/// One problem with one row of a bulk import (rows are numbered as in the file, header = 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// What the import needs to know about the school, read inside the import's transaction.
#[derive(Debug, Clone, Default)]
pub struct RosterSnapshot {
    pub next_pin: i64,
    /// (id, name)
    pub classes: Vec<(i64, String)>,
    /// (id, class_id, name)
    pub sections: Vec<(i64, Option<i64>, String)>,
    pub students: Vec<SnapshotStudent>,
}

/// A student row as the planner needs it (deleted ones included: their PINs stay reserved).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotStudent {
    pub id: i64,
    pub pin: String,
    pub rfid_card_id: Option<String>,
    pub deleted: bool,
}

/// Field values a planned create or update writes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFields {
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub is_active: bool,
}

/// Every write of an import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    /// (PIN, fields) of new students.
    pub creates: Vec<(String, PlannedFields)>,
    /// (student id, fields) of existing students.
    pub updates: Vec<(i64, PlannedFields)>,
    /// Updated students whose card changes: their old card is cleared before any write, so
    /// cards can move between students within one file.
    pub release_cards: Vec<i64>,
    /// The school's counter after the import.
    pub next_pin: i64,
}

/// The first PIN at or after `start` that `used` does not hold, within 1..=MAX_PIN.
pub fn first_free_pin(start: i64, used: &HashSet<String>) -> Option<i64> {
    (start.max(1)..=MAX_PIN).find(|n| !used.contains(&n.to_string()))
}

fn err(row: usize, field: &str, message: impl Into<String>) -> RowError {
    RowError { row, field: field.into(), message: message.into() }
}

fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Plans an import, or returns every row-level problem found.
pub fn plan_import(snapshot: &RosterSnapshot, rows: &[ImportRow]) -> Result<ImportPlan, Vec<RowError>> {
    let mut errors = Vec::new();
    let classes: HashMap<String, i64> = snapshot.classes.iter().map(|(id, name)| (key(name), *id)).collect();
    let by_pin: HashMap<&str, &SnapshotStudent> = snapshot.students.iter().map(|s| (s.pin.as_str(), s)).collect();
    let mut used_pins: HashSet<String> = snapshot.students.iter().map(|s| s.pin.clone()).collect();

    // Pass 1: resolve class, section and the row's target (update or create); collect fields.
    let mut resolved: Vec<(usize, Option<i64>, Option<String>, PlannedFields)> = Vec::new();
    let mut pins_in_file: HashMap<&str, usize> = HashMap::new();
    for row in rows {
        let mut ok = true;
        let class_id = match row.class.as_deref() {
            Some(name) => match classes.get(&key(name)) {
                Some(id) => Some(*id),
                None => {
                    errors.push(err(row.row, "class", format!("no class named {name:?} in this school")));
                    ok = false;
                    None
                }
            },
            None => None,
        };
        let section_id = match row.section.as_deref() {
            Some(name) => {
                let matches: Vec<i64> = snapshot
                    .sections
                    .iter()
                    .filter(|(_, class, n)| {
                        key(n) == key(name) && (class_id.is_none() || class.is_none() || *class == class_id)
                    })
                    .map(|(id, _, _)| *id)
                    .collect();
                match matches.as_slice() {
                    [id] => Some(*id),
                    [] => {
                        errors.push(err(
                            row.row,
                            "section",
                            format!("no section named {name:?} in this school or class"),
                        ));
                        ok = false;
                        None
                    }
                    _ => {
                        errors.push(err(
                            row.row,
                            "section",
                            format!("section name {name:?} is ambiguous: add the class"),
                        ));
                        ok = false;
                        None
                    }
                }
            }
            None => None,
        };
        let mut target = None;
        if let Some(pin) = row.pin.as_deref() {
            if let Some(first) = pins_in_file.insert(pin, row.row) {
                errors.push(err(row.row, "pin", format!("PIN {pin} is also on row {first}")));
                ok = false;
            }
            match by_pin.get(pin) {
                Some(s) if s.deleted => {
                    errors.push(err(
                        row.row,
                        "pin",
                        format!("PIN {pin} belonged to a deleted student and stays reserved"),
                    ));
                    ok = false;
                }
                Some(s) => target = Some(s.id),
                None => {}
            }
        }
        if ok {
            let fields = PlannedFields {
                full_name: row.full_name.clone(),
                rfid_card_id: row.rfid_card_id.clone(),
                class_id,
                section_id,
                is_active: row.is_active,
            };
            resolved.push((row.row, target, row.pin.clone(), fields));
        }
    }

    // Pass 2: cards. The final owner of every card must be unique among live students.
    let updated: HashSet<i64> = resolved.iter().filter_map(|(_, target, _, _)| *target).collect();
    let mut card_owner: HashMap<String, String> = snapshot
        .students
        .iter()
        .filter(|s| !s.deleted && !updated.contains(&s.id))
        .filter_map(|s| s.rfid_card_id.clone().map(|c| (c, format!("student {} (PIN {})", s.id, s.pin))))
        .collect();
    for (row, _, _, fields) in &resolved {
        if let Some(card) = &fields.rfid_card_id {
            if let Some(owner) = card_owner.insert(card.clone(), format!("row {row}")) {
                errors.push(err(*row, "rfid_card_id", format!("card {card} is already assigned to {owner}")));
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(errors);
    }

    // Pass 3: PINs for new students without one, from the school's counter, skipping used ones.
    used_pins.extend(resolved.iter().filter_map(|(_, _, pin, _)| pin.clone()));
    let old_cards: HashMap<i64, Option<&String>> =
        snapshot.students.iter().map(|s| (s.id, s.rfid_card_id.as_ref())).collect();
    let mut plan = ImportPlan { next_pin: snapshot.next_pin, ..Default::default() };
    for (row, target, pin, fields) in resolved {
        match (target, pin) {
            (Some(id), _) => {
                if old_cards.get(&id).copied().flatten() != fields.rfid_card_id.as_ref() {
                    plan.release_cards.push(id);
                }
                plan.updates.push((id, fields));
            }
            (None, Some(pin)) => plan.creates.push((pin, fields)),
            (None, None) => {
                let Some(n) = first_free_pin(plan.next_pin, &used_pins) else {
                    errors.push(err(row, "pin", "this school has no free PIN left"));
                    continue;
                };
                used_pins.insert(n.to_string());
                plan.next_pin = n + 1;
                plan.creates.push((n.to_string(), fields));
            }
        }
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: usize, name: &str, pin: Option<&str>, card: Option<&str>) -> ImportRow {
        ImportRow {
            row: n,
            full_name: name.into(),
            rfid_card_id: card.map(Into::into),
            class: None,
            section: None,
            is_active: true,
            pin: pin.map(Into::into),
        }
    }

    fn student(id: i64, pin: &str, card: Option<&str>, deleted: bool) -> SnapshotStudent {
        SnapshotStudent { id, pin: pin.into(), rfid_card_id: card.map(Into::into), deleted }
    }

    #[test]
    fn new_students_get_counter_pins_that_skip_every_used_pin() {
        let snap =
            RosterSnapshot { next_pin: 1000, students: vec![student(1, "1000", None, true)], ..Default::default() };
        let rows = [row(2, "A", None, None), row(3, "B", Some("1001"), None), row(4, "C", None, None)];
        let plan = plan_import(&snap, &rows).unwrap();
        let pins: Vec<(&str, &str)> = plan.creates.iter().map(|(p, f)| (p.as_str(), f.full_name.as_str())).collect();
        assert_eq!(pins, [("1002", "A"), ("1001", "B"), ("1003", "C")]);
        assert_eq!(plan.next_pin, 1004);
    }

    #[test]
    fn a_pin_of_a_live_student_updates_it_and_a_deleted_students_pin_is_refused() {
        let snap = RosterSnapshot {
            next_pin: 2000,
            students: vec![student(7, "1500", Some("C1"), false), student(8, "1501", None, true)],
            ..Default::default()
        };
        let plan = plan_import(&snap, &[row(2, "Renamed", Some("1500"), Some("C1"))]).unwrap();
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].0, 7);
        assert!(plan.release_cards.is_empty(), "the card did not change");
        let errors = plan_import(&snap, &[row(2, "X", Some("1501"), None)]).unwrap_err();
        assert_eq!(errors, vec![err(2, "pin", "PIN 1501 belonged to a deleted student and stays reserved")]);
    }

    #[test]
    fn every_row_problem_is_reported_not_just_the_first() {
        let snap = RosterSnapshot {
            next_pin: 1000,
            classes: vec![(1, "Grade 5".into())],
            sections: vec![(10, Some(1), "A".into()), (11, None, "B".into()), (12, Some(1), "B".into())],
            students: vec![student(1, "1000", Some("CARD"), false)],
        };
        let mut bad_class = row(2, "A", None, None);
        bad_class.class = Some("Grade 9".into());
        let mut ambiguous = row(3, "B", None, None);
        ambiguous.section = Some("b".into());
        let taken_card = row(4, "C", None, Some("CARD"));
        let dup_pin_1 = row(5, "D", Some("42"), None);
        let dup_pin_2 = row(6, "E", Some("42"), None);
        let errors = plan_import(&snap, &[bad_class, ambiguous, taken_card, dup_pin_1, dup_pin_2]).unwrap_err();
        let fields: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(fields, [(2, "class"), (3, "section"), (4, "rfid_card_id"), (6, "pin")]);
        assert!(errors[2].message.contains("student 1 (PIN 1000)"), "{}", errors[2].message);
    }

    #[test]
    fn a_section_name_is_resolved_within_the_class_given() {
        let snap = RosterSnapshot {
            next_pin: 1000,
            classes: vec![(1, "Grade 5".into()), (2, "Grade 6".into())],
            sections: vec![(10, Some(1), "A".into()), (20, Some(2), "A".into())],
            students: vec![],
        };
        let mut r = row(2, "A", None, None);
        r.class = Some("grade 6".into());
        r.section = Some(" a ".into());
        let plan = plan_import(&snap, &[r]).unwrap();
        assert_eq!((plan.creates[0].1.class_id, plan.creates[0].1.section_id), (Some(2), Some(20)));
    }

    #[test]
    fn a_card_can_move_between_two_students_in_one_file() {
        let snap = RosterSnapshot {
            next_pin: 1000,
            students: vec![student(1, "1", Some("X"), false), student(2, "2", None, false)],
            ..Default::default()
        };
        let plan = plan_import(&snap, &[row(2, "One", Some("1"), None), row(3, "Two", Some("2"), Some("X"))]).unwrap();
        assert_eq!(plan.release_cards, vec![1, 2]);
        let errors = plan_import(&snap, &[row(2, "Two", Some("2"), Some("X"))]).unwrap_err();
        assert_eq!(errors[0].field, "rfid_card_id");
    }

    #[test]
    fn first_free_pin_stops_at_nine_digits() {
        let used: HashSet<String> = [MAX_PIN.to_string()].into_iter().collect();
        assert_eq!(first_free_pin(MAX_PIN, &used), None);
        assert_eq!(first_free_pin(0, &HashSet::new()), Some(1));
    }
}
