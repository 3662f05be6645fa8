//! The menu of an event: drinks, their modifier groups and options, and whether each is
//! available right now; and the validation of a customer's drink against it.
//!
//! A drink order is checked synchronously, before anything is stored, and every refusal says
//! why (unknown drink, unavailable drink, unknown or sold-out option, missing or too many
//! choices). The icon and names stored with an order come from the menu, never from the client.

use crate::ids::{DrinkId, IdError, ModifierId, OptionId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Everything an event sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Menu {
    pub drinks: Vec<Drink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drink {
    pub id: DrinkId,
    /// What the customer and the barista read ("Flat White").
    pub name: String,
    /// An icon name (the apps load `<assets>/<icon>.svg`).
    pub icon: String,
    pub available: bool,
    #[serde(default)]
    pub modifiers: Vec<Modifier>,
}

/// A group of options of which the customer picks up to `max_choices` (at least one if
/// `required`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Modifier {
    pub id: ModifierId,
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default = "one")]
    pub max_choices: u8,
    pub options: Vec<ModifierOption>,
}

fn one() -> u8 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifierOption {
    pub id: OptionId,
    pub name: String,
    pub available: bool,
}

/// What a customer sends: a drink and a flat list of options, each named by id or by display
/// name (case-insensitive), as the reference's apps send it: `{"drink":"Americano",
/// "modifiers":["Oat"]}`. Other fields (the reference's `userId`, `icon`) are ignored: the user
/// comes from the token and the icon from the menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrinkRequest {
    pub drink: String,
    #[serde(default)]
    pub modifiers: Vec<String>,
}

/// A drink order that passed validation, resolved against the menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrinkOrder {
    pub drink_id: DrinkId,
    /// The drink's display name.
    pub drink: String,
    pub icon: String,
    /// The chosen options in menu order.
    pub modifiers: Vec<ChosenOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChosenOption {
    pub modifier: ModifierId,
    pub option: OptionId,
    /// The option's display name ("Oat").
    pub name: String,
}

/// Why a drink order was refused. Each variant is a reason the customer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrinkOrderError {
    #[error("there is no drink {0:?} on this event's menu")]
    UnknownDrink(String),
    #[error("{0} is not available right now")]
    DrinkUnavailable(String),
    #[error("{drink} has no modifier {modifier:?}")]
    UnknownModifier { drink: String, modifier: String },
    #[error("{drink} has no option {option:?}")]
    UnknownOption { drink: String, option: String },
    #[error(
        "{option:?} matches more than one choice of {drink}; name it by its group, e.g. {example:?}"
    )]
    AmbiguousOption {
        drink: String,
        option: String,
        example: String,
    },
    #[error("{option} is sold out")]
    OptionUnavailable { option: String },
    #[error("{option} was chosen twice")]
    DuplicateOption { option: String },
    #[error("{drink} needs a choice of {modifier}")]
    MissingChoice { drink: String, modifier: String },
    #[error("at most {max} choice(s) of {modifier} are allowed, got {got}")]
    TooManyChoices {
        modifier: String,
        max: u8,
        got: usize,
    },
}

impl DrinkOrderError {
    /// A stable machine-readable code for the HTTP problem document.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownDrink(_) => "unknown_drink",
            Self::DrinkUnavailable(_) => "drink_unavailable",
            Self::UnknownModifier { .. } => "unknown_modifier",
            Self::UnknownOption { .. } => "unknown_option",
            Self::AmbiguousOption { .. } => "ambiguous_option",
            Self::OptionUnavailable { .. } => "option_unavailable",
            Self::DuplicateOption { .. } => "duplicate_option",
            Self::MissingChoice { .. } => "missing_choice",
            Self::TooManyChoices { .. } => "too_many_choices",
        }
    }
}

/// Why a menu cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MenuError {
    #[error("a menu needs at least one drink")]
    Empty,
    #[error("a menu holds at most {max} drinks")]
    TooManyDrinks { max: usize },
    #[error("drink id {0} appears twice")]
    DuplicateDrink(DrinkId),
    #[error("modifier {modifier} appears twice on {drink}")]
    DuplicateModifier {
        drink: DrinkId,
        modifier: ModifierId,
    },
    #[error("option {option} appears twice in {modifier}")]
    DuplicateOption {
        modifier: ModifierId,
        option: OptionId,
    },
    #[error("{what} needs a name of 1 to {max} characters")]
    BadName { what: String, max: usize },
    #[error("{what} needs an icon name of 1 to {max} characters without '/' or spaces")]
    BadIcon { what: String, max: usize },
    #[error("modifier {modifier} has no options")]
    NoOptions { modifier: ModifierId },
    #[error(
        "modifier {modifier} allows {max} choices but has {options} options; max must be 1..=options"
    )]
    BadMaxChoices {
        modifier: ModifierId,
        max: u8,
        options: usize,
    },
    #[error(transparent)]
    Id(#[from] IdError),
}

impl Menu {
    pub const MAX_DRINKS: usize = 100;
    pub const MAX_NAME_CHARS: usize = 64;
    /// More options than this in one request are refused before any lookup.
    pub const MAX_REQUESTED_OPTIONS: usize = 16;

    pub fn drink(&self, id: &DrinkId) -> Option<&Drink> {
        self.drinks.iter().find(|d| &d.id == id)
    }

    /// Checks the structure of a menu an operator stores: unique ids, names, icons, bounds.
    pub fn validate(&self) -> Result<(), MenuError> {
        if self.drinks.is_empty() {
            return Err(MenuError::Empty);
        }
        if self.drinks.len() > Self::MAX_DRINKS {
            return Err(MenuError::TooManyDrinks {
                max: Self::MAX_DRINKS,
            });
        }
        let mut drink_ids = BTreeSet::new();
        for drink in &self.drinks {
            if !drink_ids.insert(&drink.id) {
                return Err(MenuError::DuplicateDrink(drink.id.clone()));
            }
            check_name(&drink.name, || format!("drink {}", drink.id))?;
            let icon_ok = !drink.icon.is_empty()
                && drink.icon.chars().count() <= 128
                && !drink
                    .icon
                    .chars()
                    .any(|c| c == '/' || c.is_whitespace() || c.is_control());
            if !icon_ok {
                return Err(MenuError::BadIcon {
                    what: format!("drink {}", drink.id),
                    max: 128,
                });
            }
            let mut modifier_ids = BTreeSet::new();
            for m in &drink.modifiers {
                if !modifier_ids.insert(&m.id) {
                    return Err(MenuError::DuplicateModifier {
                        drink: drink.id.clone(),
                        modifier: m.id.clone(),
                    });
                }
                check_name(&m.name, || format!("modifier {}", m.id))?;
                if m.options.is_empty() {
                    return Err(MenuError::NoOptions {
                        modifier: m.id.clone(),
                    });
                }
                if m.max_choices == 0 || usize::from(m.max_choices) > m.options.len() {
                    return Err(MenuError::BadMaxChoices {
                        modifier: m.id.clone(),
                        max: m.max_choices,
                        options: m.options.len(),
                    });
                }
                let mut option_ids = BTreeSet::new();
                for o in &m.options {
                    if !option_ids.insert(&o.id) {
                        return Err(MenuError::DuplicateOption {
                            modifier: m.id.clone(),
                            option: o.id.clone(),
                        });
                    }
                    check_name(&o.name, || format!("option {}", o.id))?;
                }
            }
        }
        Ok(())
    }

    /// Marks a drink available or not. Returns false when the menu has no such drink.
    pub fn set_drink_available(&mut self, id: &DrinkId, available: bool) -> bool {
        match self.drinks.iter_mut().find(|d| &d.id == id) {
            Some(d) => {
                d.available = available;
                true
            }
            None => false,
        }
    }

    /// Marks an option available or not in every group that offers it. Returns false when no
    /// drink offers it.
    pub fn set_option_available(&mut self, id: &OptionId, available: bool) -> bool {
        let mut found = false;
        for o in self
            .drinks
            .iter_mut()
            .flat_map(|d| d.modifiers.iter_mut())
            .flat_map(|m| m.options.iter_mut())
            .filter(|o| &o.id == id)
        {
            o.available = available;
            found = true;
        }
        found
    }

    /// Validates a customer's drink against the menu and its availability.
    pub fn check_order(&self, request: &DrinkRequest) -> Result<DrinkOrder, DrinkOrderError> {
        let wanted = request.drink.trim();
        let drink = self
            .drinks
            .iter()
            .find(|d| d.id.as_str() == wanted)
            .or_else(|| {
                self.drinks
                    .iter()
                    .find(|d| d.name.eq_ignore_ascii_case(wanted))
            })
            .ok_or_else(|| DrinkOrderError::UnknownDrink(clip(wanted)))?;
        if !drink.available {
            return Err(DrinkOrderError::DrinkUnavailable(drink.name.clone()));
        }

        if request.modifiers.len() > Self::MAX_REQUESTED_OPTIONS {
            return Err(DrinkOrderError::TooManyChoices {
                modifier: "all modifiers".to_owned(),
                max: Self::MAX_REQUESTED_OPTIONS as u8,
                got: request.modifiers.len(),
            });
        }
        // Resolve each requested option to (group index, option index).
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        for raw in &request.modifiers {
            let (mi, oi) = resolve_option(drink, raw.trim())?;
            if chosen.contains(&(mi, oi)) {
                return Err(DrinkOrderError::DuplicateOption {
                    option: drink.modifiers[mi].options[oi].name.clone(),
                });
            }
            chosen.push((mi, oi));
        }

        for (mi, m) in drink.modifiers.iter().enumerate() {
            let count = chosen.iter().filter(|(g, _)| *g == mi).count();
            if count > usize::from(m.max_choices) {
                return Err(DrinkOrderError::TooManyChoices {
                    modifier: m.name.clone(),
                    max: m.max_choices,
                    got: count,
                });
            }
            if m.required && count == 0 {
                return Err(DrinkOrderError::MissingChoice {
                    drink: drink.name.clone(),
                    modifier: m.name.clone(),
                });
            }
        }
        for &(mi, oi) in &chosen {
            let o = &drink.modifiers[mi].options[oi];
            if !o.available {
                return Err(DrinkOrderError::OptionUnavailable {
                    option: o.name.clone(),
                });
            }
        }

        chosen.sort_unstable();
        Ok(DrinkOrder {
            drink_id: drink.id.clone(),
            drink: drink.name.clone(),
            icon: drink.icon.clone(),
            modifiers: chosen
                .into_iter()
                .map(|(mi, oi)| {
                    let m = &drink.modifiers[mi];
                    let o = &m.options[oi];
                    ChosenOption {
                        modifier: m.id.clone(),
                        option: o.id.clone(),
                        name: o.name.clone(),
                    }
                })
                .collect(),
        })
    }

    /// The menu the reference seeds (its typo "Singe Espresso" fixed), used for the `default`
    /// event on first start. Cappuccino starts unavailable, as in the reference's seed.
    pub fn reference_default() -> Self {
        let milk = |required: bool| Modifier {
            id: mid("milk"),
            name: "Milk".to_owned(),
            required,
            max_choices: 1,
            options: vec![
                ModifierOption {
                    id: oid("regular"),
                    name: "Regular".to_owned(),
                    available: true,
                },
                ModifierOption {
                    id: oid("oat"),
                    name: "Oat".to_owned(),
                    available: true,
                },
            ],
        };
        let drink = |id: &str, name: &str, icon: &str, available: bool, modifiers| Drink {
            id: did(id),
            name: name.to_owned(),
            icon: icon.to_owned(),
            available,
            modifiers,
        };
        Menu {
            drinks: vec![
                drink(
                    "americano",
                    "Americano",
                    "barista-icons_americano-alternative",
                    true,
                    vec![milk(false)],
                ),
                drink(
                    "flat-white",
                    "Flat White",
                    "barista-icons_flat-white-alternative@2x",
                    true,
                    vec![milk(true)],
                ),
                drink(
                    "cappuccino",
                    "Cappuccino",
                    "barista-icons_cappuccino",
                    false,
                    vec![milk(true)],
                ),
                drink(
                    "single-espresso",
                    "Single Espresso",
                    "barista-icons_espresso-alternative",
                    true,
                    vec![],
                ),
                drink(
                    "double-espresso",
                    "Double Espresso",
                    "barista-icons_espresso-alternative",
                    true,
                    vec![],
                ),
            ],
        }
    }
}

fn did(s: &str) -> DrinkId {
    DrinkId::from_const(s)
}
fn mid(s: &str) -> ModifierId {
    ModifierId::from_const(s)
}
fn oid(s: &str) -> OptionId {
    OptionId::from_const(s)
}

fn check_name(name: &str, what: impl FnOnce() -> String) -> Result<(), MenuError> {
    let n = name.trim().chars().count();
    if n == 0 || n > Menu::MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(MenuError::BadName {
            what: what(),
            max: Menu::MAX_NAME_CHARS,
        });
    }
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Finds an option of `drink` by `group:option` id, by option id, or by option name.
fn resolve_option(drink: &Drink, raw: &str) -> Result<(usize, usize), DrinkOrderError> {
    if let Some((group, option)) = raw.split_once(':') {
        let known_group = drink
            .modifiers
            .iter()
            .any(|m| m.id.as_str() == group || m.name.eq_ignore_ascii_case(group));
        if !known_group {
            return Err(DrinkOrderError::UnknownModifier {
                drink: drink.name.clone(),
                modifier: clip(group),
            });
        }
        for (mi, m) in drink.modifiers.iter().enumerate() {
            let group_hit = m.id.as_str() == group || m.name.eq_ignore_ascii_case(group);
            if group_hit
                && let Some(oi) = m
                    .options
                    .iter()
                    .position(|o| o.id.as_str() == option || o.name.eq_ignore_ascii_case(option))
            {
                return Ok((mi, oi));
            }
        }
        return Err(DrinkOrderError::UnknownOption {
            drink: drink.name.clone(),
            option: clip(raw),
        });
    }
    // An exact id wins over display names, which are matched case-insensitively.
    let find = |by_id: bool| -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for (mi, m) in drink.modifiers.iter().enumerate() {
            for (oi, o) in m.options.iter().enumerate() {
                let hit = if by_id {
                    o.id.as_str() == raw
                } else {
                    o.name.eq_ignore_ascii_case(raw)
                };
                if hit {
                    found.push((mi, oi));
                }
            }
        }
        found
    };
    let mut matches = find(true);
    if matches.is_empty() {
        matches = find(false);
    }
    match matches.as_slice() {
        [] => Err(DrinkOrderError::UnknownOption {
            drink: drink.name.clone(),
            option: clip(raw),
        }),
        [one] => Ok(*one),
        [(mi, oi), ..] => Err(DrinkOrderError::AmbiguousOption {
            drink: drink.name.clone(),
            option: clip(raw),
            example: format!(
                "{}:{}",
                drink.modifiers[*mi].id, drink.modifiers[*mi].options[*oi].id
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(drink: &str, modifiers: &[&str]) -> DrinkRequest {
        DrinkRequest {
            drink: drink.to_owned(),
            modifiers: modifiers.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn menu_with_syrups() -> Menu {
        let mut menu = Menu::reference_default();
        menu.drinks[0].modifiers.push(Modifier {
            id: mid("syrup"),
            name: "Syrup".to_owned(),
            required: false,
            max_choices: 2,
            options: vec![
                ModifierOption {
                    id: oid("vanilla"),
                    name: "Vanilla".to_owned(),
                    available: true,
                },
                ModifierOption {
                    id: oid("caramel"),
                    name: "Caramel".to_owned(),
                    available: true,
                },
                ModifierOption {
                    id: oid("hazelnut"),
                    name: "Hazelnut".to_owned(),
                    available: true,
                },
                // Same display name as a milk option, to exercise ambiguity.
                ModifierOption {
                    id: oid("oat-syrup"),
                    name: "Oat".to_owned(),
                    available: true,
                },
            ],
        });
        menu
    }

    #[test]
    fn the_reference_menu_is_valid() {
        assert_eq!(Menu::reference_default().validate(), Ok(()));
    }

    #[test]
    fn a_reference_shaped_request_resolves_names_and_takes_the_icon_from_the_menu() {
        let order = Menu::reference_default()
            .check_order(&req("Americano", &["Oat"]))
            .unwrap();
        assert_eq!(order.drink_id.as_str(), "americano");
        assert_eq!(order.icon, "barista-icons_americano-alternative");
        assert_eq!(order.modifiers.len(), 1);
        assert_eq!(order.modifiers[0].option.as_str(), "oat");
        assert_eq!(order.modifiers[0].modifier.as_str(), "milk");
    }

    #[test]
    fn drink_and_options_may_be_named_by_id() {
        let order = Menu::reference_default()
            .check_order(&req("flat-white", &["milk:regular"]))
            .unwrap();
        assert_eq!(order.drink, "Flat White");
    }

    #[test]
    fn invalid_drink_orders_are_refused_with_a_reason() {
        let menu = menu_with_syrups();
        let cases: Vec<(DrinkRequest, &str)> = vec![
            (req("Mocha", &[]), "unknown_drink"),
            (req("Cappuccino", &["Oat"]), "drink_unavailable"),
            (req("Americano", &["Soy"]), "unknown_option"),
            (req("Americano", &["milk:soy"]), "unknown_option"),
            (req("Americano", &["nope:oat"]), "unknown_modifier"),
            (req("Americano", &["Oat"]), "ambiguous_option"),
            (req("Americano", &["oat", "oat"]), "duplicate_option"),
            (req("Americano", &["regular", "oat"]), "too_many_choices"),
            (
                req("Americano", &["vanilla", "caramel", "hazelnut"]),
                "too_many_choices",
            ),
            (req("Flat White", &[]), "missing_choice"),
            (req("Americano", &["oat"; 17]), "too_many_choices"),
            (req("Single Espresso", &["Oat"]), "unknown_option"),
        ];
        for (request, code) in cases {
            let err = menu.check_order(&request).unwrap_err();
            assert_eq!(err.code(), code, "{request:?}: {err}");
        }
    }

    #[test]
    fn a_sold_out_option_is_refused_on_every_drink_that_offers_it() {
        let mut menu = Menu::reference_default();
        assert!(menu.set_option_available(&oid("oat"), false));
        for drink in ["Americano", "Flat White"] {
            assert_eq!(
                menu.check_order(&req(drink, &["Oat"])),
                Err(DrinkOrderError::OptionUnavailable {
                    option: "Oat".to_owned()
                })
            );
        }
        assert!(menu.check_order(&req("Flat White", &["Regular"])).is_ok());
    }

    #[test]
    fn two_choices_are_accepted_where_the_group_allows_two() {
        let order = menu_with_syrups()
            .check_order(&req("Americano", &["caramel", "vanilla", "milk:oat"]))
            .unwrap();
        let ids: Vec<&str> = order.modifiers.iter().map(|m| m.option.as_str()).collect();
        assert_eq!(ids, ["oat", "vanilla", "caramel"], "menu order");
    }

    #[test]
    fn menus_with_duplicates_or_bad_bounds_are_refused() {
        let mut dup = Menu::reference_default();
        dup.drinks.push(dup.drinks[0].clone());
        assert!(matches!(dup.validate(), Err(MenuError::DuplicateDrink(_))));

        let mut bad_max = Menu::reference_default();
        bad_max.drinks[0].modifiers[0].max_choices = 3;
        assert!(matches!(
            bad_max.validate(),
            Err(MenuError::BadMaxChoices { .. })
        ));

        let mut bad_icon = Menu::reference_default();
        bad_icon.drinks[0].icon = "../etc".to_owned();
        assert!(matches!(
            bad_icon.validate(),
            Err(MenuError::BadIcon { .. })
        ));

        assert_eq!(Menu { drinks: vec![] }.validate(), Err(MenuError::Empty));
    }
}
