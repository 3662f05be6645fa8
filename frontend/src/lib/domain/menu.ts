/**
 * The customer's drink choice and its validation against the live menu.
 *
 * The server validates every order; this runs first so the customer sees at once, next to the field,
 * why a choice cannot be sent (a drink or milk that just sold out, a group left empty, too many
 * options), instead of a round trip and an error after tapping "Place order". The same rules as the
 * server's: a required group needs one option, no group more than `maxChoices`, nothing sold out.
 */
import type { Drink, DrinkRequest, Modifier } from '../api/types'

export interface DrinkChoice {
  /** Drink id. */
  drink: string | null
  /** Chosen option ids per modifier id. */
  options: Record<string, string[]>
}

export interface ChoiceValidation {
  ok: boolean
  drinkError?: string
  /** Error per modifier id. */
  modifierErrors: Record<string, string>
  /** The request to send (ids, options in menu order), present when `ok`. */
  request?: DrinkRequest
}

export function findDrink(drinks: Drink[], id: string | null): Drink | undefined {
  return id === null ? undefined : drinks.find((d) => d.id === id)
}

/** A fresh choice for a drink: the first available option of each required group pre-selected. */
export function startChoice(drink: Drink): DrinkChoice {
  const options: Record<string, string[]> = {}
  for (const group of drink.modifiers) {
    const first = group.options.find((o) => o.available)
    options[group.id] = group.required && first ? [first.id] : []
  }
  return { drink: drink.id, options }
}

/** Picks or unpicks an option: one-choice groups swap, others toggle up to `maxChoices`. */
export function toggleOption(choice: DrinkChoice, group: Modifier, optionId: string): DrinkChoice {
  const current = choice.options[group.id] ?? []
  let next: string[]
  if (current.includes(optionId)) {
    next = group.required && group.maxChoices <= 1 ? current : current.filter((o) => o !== optionId)
  } else if (group.maxChoices <= 1) {
    next = [optionId]
  } else {
    next = [...current, optionId].slice(-group.maxChoices)
  }
  return { ...choice, options: { ...choice.options, [group.id]: next } }
}

export function validateChoice(drinks: Drink[], choice: DrinkChoice): ChoiceValidation {
  const modifierErrors: Record<string, string> = {}
  if (!choice.drink) return { ok: false, drinkError: 'Choose a drink.', modifierErrors }
  const drink = findDrink(drinks, choice.drink)
  if (!drink) return { ok: false, drinkError: 'That drink is no longer on the menu.', modifierErrors }
  if (!drink.available) return { ok: false, drinkError: `${drink.name} is sold out. Please choose another drink.`, modifierErrors }
  const picked: string[] = []
  for (const group of drink.modifiers) {
    const label = group.name.toLowerCase()
    const ids = [...new Set(choice.options[group.id] ?? [])]
    if (ids.length === 0) {
      if (group.required) {
        modifierErrors[group.id] = group.options.some((o) => o.available) ? `Choose a ${label}.` : `No ${label} option is left.`
      }
      continue
    }
    if (ids.length > Math.max(1, group.maxChoices)) {
      modifierErrors[group.id] = `Choose at most ${group.maxChoices} ${label} options.`
      continue
    }
    for (const id of ids) {
      const option = group.options.find((o) => o.id === id)
      if (!option) modifierErrors[group.id] = `That ${label} option is no longer on the menu.`
      else if (!option.available) modifierErrors[group.id] = `${option.name} is sold out. Choose another ${label}.`
    }
    // Options go out in menu order, as the server stores them.
    for (const option of group.options) if (ids.includes(option.id)) picked.push(option.id)
  }
  if (Object.keys(modifierErrors).length) return { ok: false, modifierErrors }
  return { ok: true, modifierErrors, request: { drink: drink.id, modifiers: picked } }
}

/** Whether anything on the menu can be ordered right now. */
export function hasOrderableDrink(drinks: Drink[]): boolean {
  return drinks.some((d) => d.available && d.modifiers.every((g) => !g.required || g.options.some((o) => o.available)))
}

/** "Flat White · Oat" for an order or a choice (option names, or objects with a name). */
export function describeDrink(drink: { drink: string; modifiers: Array<string | { name: string }> } | undefined): string {
  if (!drink) return 'Drink not chosen yet'
  const mods = drink.modifiers.map((m) => (typeof m === 'string' ? m : m.name)).filter((m) => m && m.toLowerCase() !== 'none')
  return mods.length ? `${drink.drink} · ${mods.join(' · ')}` : drink.drink
}

/** The names of a choice, for the basket line before it is sent. */
export function describeChoice(drinks: Drink[], choice: DrinkChoice): string {
  const drink = findDrink(drinks, choice.drink)
  if (!drink) return 'Nothing chosen yet'
  const names: string[] = []
  for (const group of drink.modifiers) {
    for (const option of group.options) if ((choice.options[group.id] ?? []).includes(option.id)) names.push(option.name)
  }
  return describeDrink({ drink: drink.name, modifiers: names })
}
