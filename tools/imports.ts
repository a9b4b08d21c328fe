/**
 * The import graph of the tree, and what it must not hold: a loop (a module that reaches
 * itself through its imports, type imports and worker scripts included), or a climb (a
 * module of a lower folder importing one of a higher: the detection core, `events/`,
 * `supervisors/` and `actors/`, stands on `config/` and on each other in that order only,
 * and knows nothing of I/O, the engine or the API; the engine knows nothing of the API).
 *
 * The graph is Deno's own (`deno info --json` on an entry that imports every module), with
 * the scripts of `new Worker(new URL("./x.ts", import.meta.url))` added as edges.
 *
 * `deno task imports` prints the loops and climbs found and fails if there is any.
 *
 * @module
 */

/** Module (path from the root) → the modules it imports. */
export type ImportGraph = Map<string, Set<string>>;

/** What each folder of the core may import besides itself. */
export const BELOW: Readonly<Record<string, readonly string[]>> = {
  config: [],
  events: ["config"],
  supervisors: ["config", "events"],
  actors: ["config", "events", "supervisors"],
  /** The engine wires the system; the API (`api/`) is built on it, not in it. */
  engine: ["config", "events", "supervisors", "actors", "io", "models", "sim", "geo"],
};

/** The folders whose modules make up the graph (with `main.ts`). */
const FOLDERS = [
  "actors",
  "api",
  "bench",
  "config",
  "console",
  "engine",
  "events",
  "geo",
  "io",
  "models",
  "sim",
  "supervisors",
  "tests",
  "tools",
];

/** The loops of the graph: its strongly connected components of more than one module (or one that imports itself), each sorted. */
export function loops(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative (a deep chain must not overflow the stack).
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: Iterator<string> }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: (graph.get(node) ?? new Set()).values() });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const step = top.next.next();
      if (!step.done) {
        const to = step.value;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== top.node);
        const selfLoop = component.length === 1 && graph.get(top.node)?.has(top.node);
        if (component.length > 1 || selfLoop) found.push(component.sort());
      }
    }
  }
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The folder of a module path (`""` for one at the root). */
function folderOf(path: string): string {
  const i = path.indexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** The imports from a core folder into a folder it does not stand on, as `from → to`. */
export function climbs(graph: ImportGraph, below = BELOW): string[] {
  const out: string[] = [];
  for (const [from, tos] of graph) {
    const folder = folderOf(from);
    const allowed = below[folder];
    if (!allowed) continue;
    for (const to of tos) {
      const target = folderOf(to);
      if (target !== folder && !allowed.includes(target)) out.push(`${from} → ${to}`);
    }
  }
  return out.sort();
}

const WORKER_URL = /new\s+URL\(\s*["'](\.{1,2}\/[^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g;

/** Reads the graph of the tree at `root` (a file URL ending in `/`) with `deno info`. */
export async function readGraph(root: URL): Promise<ImportGraph> {
  const files: string[] = ["main.ts"];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir, root))) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith(".d.ts")) files.push(path);
    }
  };
  for (const f of FOLDERS) await walk(f);
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(new URL(f, root).href)};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", `--config=${new URL("deno.json", root).pathname}`, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr).slice(0, 2_000)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    const local = (href: string | undefined) =>
      href?.startsWith(root.href) ? href.slice(root.href.length) : null;
    const graph: ImportGraph = new Map();
    for (const m of info.modules) {
      const from = local(m.specifier);
      if (from === null || !files.includes(from)) continue;
      const tos = new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const href of [d.code?.specifier, d.type?.specifier]) {
          const to = local(href);
          if (to !== null) tos.add(to);
        }
      }
      if (from.endsWith(".ts")) {
        const text = await Deno.readTextFile(new URL(from, root));
        for (const [, rel] of text.matchAll(WORKER_URL)) {
          const to = local(new URL(rel!, new URL(from, root)).href);
          if (to !== null && files.includes(to)) tos.add(to);
        }
      }
      graph.set(from, tos);
    }
    return graph;
  } finally {
    await Deno.remove(entry);
  }
}

if (import.meta.main) {
  const graph = await readGraph(new URL("../", import.meta.url));
  const found = loops(graph);
  const up = climbs(graph);
  for (const l of found) console.log(`loop: ${l.join(" ↔ ")}`);
  for (const c of up) console.log(`climb: ${c}`);
  const edges = [...graph.values()].reduce((n, s) => n + s.size, 0);
  console.log(
    `${graph.size} modules, ${edges} imports: ${found.length} loops, ${up.length} climbs`,
  );
  if (found.length + up.length > 0) Deno.exit(1);
}
