/**
 * The users file (`VIGIL_API_USERS_FILE`): named principals and their roles, each token
 * kept only as its scrypt hash. `main.ts add-user` makes a token, prints it once and
 * keeps its hash here; Vigil reads the file at start.
 *
 * @module
 */

import {
  AuthConfigError,
  hashToken,
  parseUsers,
  randomHex,
  USER_NAME,
  type UserEntry,
} from "./auth.ts";
import { type Role, ROLES } from "./roles.ts";

/** The users of a file (none when `path` is empty); an unusable file is an AuthConfigError. */
export async function readUsersFile(path: string): Promise<UserEntry[]> {
  if (path === "") return [];
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new AuthConfigError(`Cannot read the users file ${path} (VIGIL_API_USERS_FILE): ${why}`);
  }
  return parseUsers(text, path);
}

/**
 * Adds a user to a file (made when missing) and returns its new token, `<name>.<secret>`:
 * only its hash is written. A name already there is refused unless `replace`.
 */
export async function addUser(
  path: string,
  name: string,
  role: string,
  replace = false,
): Promise<string> {
  if (!USER_NAME.test(name)) {
    throw new AuthConfigError(
      `Cannot add user "${
        name.slice(0, 80)
      }": a name is lowercase letters, digits, "_" or "-" (up to 64)`,
    );
  }
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new AuthConfigError(`Cannot add user ${name}: --role must be one of ${ROLES.join(", ")}`);
  }
  let users: UserEntry[] = [];
  try {
    users = parseUsers(await Deno.readTextFile(path), path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (users.some((u) => u.name === name) && !replace) {
    throw new AuthConfigError(
      `User ${name} is already in ${path} (add --replace for a new token)`,
    );
  }
  const token = `${name}.${randomHex(24)}`;
  const entry: UserEntry = { name, role: role as Role, token_hash: await hashToken(token) };
  const next = [...users.filter((u) => u.name !== name), entry];
  const tmp = `${path}.tmp-${randomHex(4)}`;
  await Deno.writeTextFile(tmp, JSON.stringify({ users: next }, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, path);
  return token;
}
