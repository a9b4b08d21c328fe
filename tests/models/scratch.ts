/**
 * Test helper: a models folder of its own, holding the flow classifier's v1 files and
 * variants of them (other versions, some broken on purpose).
 *
 * @module
 */

const MODELS = new URL("../../models", import.meta.url).pathname;
const FLOW = "flow_classifier";

/** Rows and the probabilities the training side computed. */
export interface Fixtures {
  rows: (number | string | null)[][];
  probabilities: number[][];
}

/** A models folder of its own holding copies of the flow classifier's v1 files. */
export async function scratch(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vigil-models-" });
  await Deno.mkdir(`${dir}/${FLOW}`);
  for (const f of ["v1.onnx", "v1.manifest.json", "v1.fixtures.json"]) {
    await Deno.copyFile(`${MODELS}/${FLOW}/${f}`, `${dir}/${FLOW}/${f}`);
  }
  return dir;
}

/** Writes version `v` of the flow classifier from v1's files, changed by `edit`. */
export async function variant(
  dir: string,
  v: string,
  edit: {
    onnx?: (b: Uint8Array) => Uint8Array;
    manifest?: (m: Record<string, unknown>) => void;
    fixtures?: (f: Fixtures) => void;
    hash?: "keep" | "match";
  } = {},
): Promise<void> {
  const base = `${dir}/${FLOW}`;
  const bytes = (edit.onnx ?? ((b) => b))(await Deno.readFile(`${base}/v1.onnx`));
  await Deno.writeFile(`${base}/v${v}.onnx`, bytes);
  const m = JSON.parse(await Deno.readTextFile(`${base}/v1.manifest.json`));
  m.version = v;
  m.file = `v${v}.onnx`;
  if (edit.hash !== "keep") {
    const d = new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
    );
    m.sha256 = [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  edit.manifest?.(m);
  await Deno.writeTextFile(`${base}/v${v}.manifest.json`, JSON.stringify(m));
  const f = JSON.parse(await Deno.readTextFile(`${base}/v1.fixtures.json`)) as Fixtures;
  edit.fixtures?.(f);
  await Deno.writeTextFile(`${base}/v${v}.fixtures.json`, JSON.stringify(f));
}
