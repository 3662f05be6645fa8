/**
 * The customer's drink choice and its validation against the live menu.
 *
 * The server validates every order; this runs first so the customer sees at once, next to the field,
 * why a choice cannot be sent (a drink or milk that just sold out, a group left empty), instead of a
 * round trip and an error after tapping "Order".
 */
import type { MenuItem, ModifierGroup, SubmitDrinkRequest } from '../api/types'

export interface DrinkChoice {
  drink: string | null
  /** Chosen option per modifier group name. */
  modifiers: Record<string, string | null>
}

export interface ChoiceValidation {
  ok: boolean
  drinkError?: string
  /** Error per modifier group name. */
  modifierErrors: Record<string, string>
  /** The request to send, present when `ok`. */
  request?: SubmitDrinkRequest
}

export function findDrink(menu: MenuItem[], drink: string | null): MenuItem | undefined {
  return drink === null ? undefined : menu.find((m) => m.drink === drink)
}

/** Groups are required unless the menu says otherwise: a latte without a milk is not a latte. */
export function isRequired(group: ModifierGroup): boolean {
  return group.required !== false
}

/** A fresh choice for a drink: the first available option of each required group pre-selected. */
export function startChoice(item: MenuItem): DrinkChoice {
  const modifiers: Record<string, string | null> = {}
  for (const group of item.modifiers) {
    const first = group.options.find((o) => o.available)
    modifiers[group.name] = isRequired(group) && first ? first.name : null
  }
  return { drink: item.drink, modifiers }
}

export function validateChoice(menu: MenuItem[], choice: DrinkChoice): ChoiceValidation {
  const modifierErrors: Record<string, string> = {}
  const item = findDrink(menu, choice.drink)
  if (!choice.drink) return { ok: false, drinkError: 'Choose a drink.', modifierErrors }
  if (!item) return { ok: false, drinkError: `${choice.drink} is no longer on the menu.`, modifierErrors }
  if (!item.available) return { ok: false, drinkError: `${item.drink} is sold out. Please choose another drink.`, modifierErrors }
  const modifiers: string[] = []
  for (const group of item.modifiers) {
    const picked = choice.modifiers[group.name] ?? null
    if (picked === null) {
      if (isRequired(group)) {
        if (!group.options.some((o) => o.available)) {
          modifierErrors[group.name] = `No ${group.name.toLowerCase()} option is left.`
        } else {
          modifierErrors[group.name] = `Choose a ${group.name.toLowerCase()}.`
        }
      }
      continue
    }
    const option = group.options.find((o) => o.name === picked)
    if (!option) modifierErrors[group.name] = `${picked} is not a ${group.name.toLowerCase()} option.`
    else if (!option.available) modifierErrors[group.name] = `${picked} is sold out. Choose another ${group.name.toLowerCase()}.`
    else modifiers.push(option.name)
  }
  if (Object.keys(modifierErrors).length) return { ok: false, modifierErrors }
  return { ok: true, modifierErrors, request: { drink: item.drink, modifiers } }
}

/** Whether anything on the menu can be ordered right now. */
export function hasOrderableDrink(menu: MenuItem[]): boolean {
  return menu.some((m) => m.available && m.modifiers.every((g) => !isRequired(g) || g.options.some((o) => o.available)))
}

/** "Flat White · Oat" */
export function describeDrink(drink: { drink: string; modifiers: string[] } | undefined): string {
  if (!drink) return 'Drink not chosen yet'
  const mods = drink.modifiers.filter((m) => m && m.toLowerCase() !== 'none')
  return mods.length ? `${drink.drink} · ${mods.join(' · ')}` : drink.drink
}
