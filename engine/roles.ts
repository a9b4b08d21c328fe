/**
 * The principals: three roles, each allowed what the one below is and more, and the
 * users a users file names. What each route needs is the API's (`api/roles.ts`).
 *
 * @module
 */

/** The roles, from the least to the most allowed. */
export const ROLES = ["viewer", "analyst", "admin"] as const;
export type Role = typeof ROLES[number];

/** Whether `role` may do what `needed` may. */
export function allows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** A principal of the users file. */
export interface UserEntry {
  name: string;
  role: Role;
  /** `scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>` (`hashToken` in `api/auth.ts`). */
  token_hash: string;
}
