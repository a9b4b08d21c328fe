/**
 * Test helper: hostile input, shared by the tests that feed it to Vigil.
 *
 * @module
 */

/** Every name `Object.prototype` has, and `__proto__` (an own key once JSON.parse made it). */
export const PROTOTYPE_NAMES: readonly string[] = [
  ...new Set([...Object.getOwnPropertyNames(Object.prototype), "__proto__"]),
];
